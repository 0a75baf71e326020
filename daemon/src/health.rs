//! The live figures a running pipeline shares between its parts: what the engine thread
//! reports to the publisher and to operators ([`PipelineState`], [`OutboxHealth`]), why broker
//! connections end ([`DisconnectCause`], read from rumqttc by `publish::session`) and the
//! reader drivers' counters ([`ReaderHealths`]). Plain shared data: the producers (engine
//! thread, publisher, drivers) write it, `ops` reads it; this module depends on neither side.

use serde::{Deserialize, Serialize};
use shelfd_readers::{ReaderHealth, ReaderHealthSnapshot};
use std::sync::{Arc, Mutex, PoisonError};

/// What the engine side tells the publisher (a `tokio::sync::watch` value).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PipelineState {
    /// The highest seq committed to the outbox so far (0 before the first event).
    pub last_seq: u64,
    /// Outbox figures after the last commit.
    pub outbox: OutboxHealth,
    /// The engine made its final commit and flushed: no new events will come.
    pub engine_done: bool,
}

/// Outbox figures reported in `status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxHealth {
    /// Events waiting for their PUBACK.
    pub entries: u64,
    /// Their payload bytes.
    pub bytes: u64,
    /// Events dropped because the outbox was full, since the state dir was created.
    pub dropped: u64,
    /// The last seq assigned (0 before the first event).
    pub last_seq: u64,
}

/// The live counters of a run's serial readers ([`ReaderHealth`]), in the order their drivers
/// started; cheap to clone (every clone sees the same list).
#[derive(Debug, Clone, Default)]
pub struct ReaderHealths(Arc<Mutex<Vec<Arc<ReaderHealth>>>>);

impl ReaderHealths {
    /// Adds the counters of one reader.
    pub fn register(&self, health: Arc<ReaderHealth>) {
        self.lock().push(health);
    }

    /// A copy of every registered reader's counters.
    pub fn snapshots(&self) -> Vec<ReaderHealthSnapshot> {
        self.lock().iter().map(|h| h.snapshot()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<ReaderHealth>>> {
        // Each update is one push: a poisoned list is still whole.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Why a broker connection ended (or never came up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectCause {
    /// The broker closed the connection because another client connected with our client id
    /// (said by reason code, or inferred from repeated closes soon after CONNACK).
    TakenOver,
    /// The broker closed an accepted connection without saying why.
    Closed,
    /// The broker sent a packet over the maximum packet size we announced.
    Oversize,
    /// The broker refused the connection (bad credentials, not authorized, …).
    Refused,
    /// The network or the broker went away (or any other protocol error).
    Lost,
}

impl DisconnectCause {
    /// Every cause, in metric order.
    pub const ALL: [DisconnectCause; 5] = [
        DisconnectCause::TakenOver,
        DisconnectCause::Closed,
        DisconnectCause::Oversize,
        DisconnectCause::Refused,
        DisconnectCause::Lost,
    ];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectCause::TakenOver => "taken_over",
            DisconnectCause::Closed => "closed",
            DisconnectCause::Oversize => "oversize",
            DisconnectCause::Refused => "refused",
            DisconnectCause::Lost => "lost",
        }
    }

    /// Position in [`DisconnectCause::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}
