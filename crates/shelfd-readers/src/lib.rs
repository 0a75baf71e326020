//! # shelfd-readers
//!
//! The reader side of shelfd: every wire protocol's codec and simulator, and the one link
//! lifecycle that drives them. Depends on `shelfd-core` (the read-log records it produces, the
//! backoff) and never on the daemon: the daemon builds this crate's settings types
//! ([`ReaderSettings`], [`shelf_link::BusSettings`], [`replay::ReplaySettings`]) from its config.
//!
//! ## Layout
//! - Protocols, all with the same small shape (a [`frame::FrameDecoder`] that cuts checked
//!   frames out of bytes, [`frame::HostCommands`] that say what the host sends and when, and a
//!   [`frame::ReaderSimulator`] that speaks the reader's side byte for byte): [`mercury`],
//!   [`magicrf`], [`r2000`], [`line`](mod@line); [`wire`] picks a protocol's parts. [`gen2`] holds the
//!   Gen2 bits they share.
//! - [`shelf_link`]: the odd one out: the gateway is the bus master of shelf nodes, so it has
//!   its own session (a poll loop), on the same lifecycle.
//! - [`link`]: the one lifecycle (open → session → backoff, watchdog, link records, counters)
//!   over a [`link::Connector`] (serial port, TCP socket) and sessions over any
//!   `AsyncRead + AsyncWrite`.
//! - [`session`]: the session of the framed protocols; [`replay`]: a read-log file played as a
//!   reader, on the same lifecycle.
//! - [`kinds`]: the reader vocabulary the config names ([`Protocol`], [`MagicRfFraming`], baud
//!   rates). [`decode`]: `shelfd decode`'s library part (captured bytes → decoded items).
//! - [`pty_sim`]: simulated readers on PTY pairs (tests, demo, benchmarks).
//!
//! Decoders never panic on any input and never trust a length they have not bound-checked;
//! nothing here touches the engine's state.

pub mod decode;
pub mod frame;
pub mod gen2;
pub mod kinds;
pub mod line;
pub mod link;
pub mod llrp;
pub mod magicrf;
pub mod mercury;
pub mod pty_sim;
pub mod r2000;
pub mod replay;
pub(crate) mod scan;
pub mod session;
pub mod shelf_link;
pub mod wire;

pub use frame::{
    Decoded, DecoderStats, FrameDecoder, FrameRole, HostCommands, ReaderSimulator, TagReport,
};
pub use kinds::{DEFAULT_BAUD, MagicRfFraming, Protocol, STANDARD_BAUD_RATES, SearchMode};
pub use link::{ReaderHealth, ReaderHealthSnapshot, ReaderIdentity};
pub use session::{ReaderSettings, ReaderSetupError, run_reader, run_serial_reader};
pub use wire::WireOptions;
