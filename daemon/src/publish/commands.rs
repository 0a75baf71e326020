//! The hand-over of a validated command to the engine thread. The command grammar (parsing,
//! limits, result documents) is `shelfd_core::commands`.

use serde_json::{Map, Value};
use shelfd_core::commands::{Command, CommandError};

/// A command the publisher hands to the engine thread (the sole owner of engine and store),
/// with where to send the outcome: the detail of an ok result, or the rejection. The engine
/// thread replies only after the change is committed and flushed.
#[derive(Debug)]
pub struct EngineCommand {
    /// The validated command.
    pub command: Command,
    /// Where the outcome goes.
    pub reply: tokio::sync::oneshot::Sender<Result<Map<String, Value>, CommandError>>,
}
