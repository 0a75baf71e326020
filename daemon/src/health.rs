//! The live figures a running pipeline shares between its parts: what the engine thread
//! reports to the publisher and to operators ([`PipelineState`], [`OutboxHealth`]) and the
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
