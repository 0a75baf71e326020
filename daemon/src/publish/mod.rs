//! MQTT publishing: the presence document ([`status`]), commands and their results
//! ([`commands`]), GS1 EPCIS 2.0 documents derived from typed events ([`epcis`]), connection
//! options with TLS and the persistent MQTT 5 session ([`connect`]), why a connection ended
//! and when to reconnect ([`session`]),
//! packet-id ↔ outbox-seq bookkeeping ([`inflight`]) and the single publisher task
//! ([`task::run_publisher`]) that owns the broker connection.
//!
//! The publisher never touches the store: it asks the store's owner (the engine thread) for
//! outbox entries and tells it which ones the broker acknowledged, through [`OutboxRequest`]s.
//! It learns about new events, outbox health and the end of the engine through
//! [`crate::health::PipelineState`], and about changed retained snapshots through the [`SnapshotBoard`].
//!
//! An event's topic comes from the kind stored with its outbox entry
//! ([`crate::store::OutboxEntry::kind`]), never from the payload's bytes.

pub mod commands;
pub mod connect;
pub mod epcis;
pub mod inflight;
pub mod session;
pub mod status;
pub mod task;

use crate::store::OutboxEntry;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use tokio::sync::{Notify, oneshot};

/// What the publisher asks of the store's owner. Handled in the order sent, so an `Ack` sent
/// before a `Fetch` is applied before the fetch reads.
#[derive(Debug)]
pub enum OutboxRequest {
    /// The broker acknowledged these seqs: delete them from the outbox.
    Ack(Vec<u64>),
    /// Send back up to `limit` outbox entries with a seq above `after`, oldest first.
    Fetch {
        /// Exclusive lower bound.
        after: u64,
        /// Most entries to return.
        limit: usize,
        /// Where the entries go.
        reply: oneshot::Sender<Vec<OutboxEntry>>,
    },
}

/// The latest retained `stock.snapshot` payload of every location, and which ones changed
/// since the publisher last looked. Written by the engine thread, read by the publisher.
#[derive(Debug, Default)]
pub struct SnapshotBoard {
    inner: Mutex<BoardInner>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct BoardInner {
    payloads: BTreeMap<String, String>,
    dirty: BTreeSet<String>,
}

impl SnapshotBoard {
    /// Records the newest snapshot payload of `location` and wakes the publisher.
    pub fn update(&self, location: &str, payload: String) {
        {
            let mut inner = self.lock();
            inner.payloads.insert(location.to_owned(), payload);
            inner.dirty.insert(location.to_owned());
        }
        self.changed.notify_one();
    }

    /// Waits until a snapshot changed (returns at once if one changed since the last call).
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// Takes the snapshots changed since the last call, as (location, payload).
    pub fn take_changed(&self) -> Vec<(String, String)> {
        let mut inner = self.lock();
        let dirty = std::mem::take(&mut inner.dirty);
        dirty
            .into_iter()
            .filter_map(|loc| inner.payloads.get(&loc).map(|p| (loc.clone(), p.clone())))
            .collect()
    }

    /// Every snapshot (a reconnect or a `resync` republishes them all); clears the changed set.
    pub fn take_all(&self) -> Vec<(String, String)> {
        let mut inner = self.lock();
        inner.dirty.clear();
        inner
            .payloads
            .iter()
            .map(|(l, p)| (l.clone(), p.clone()))
            .collect()
    }

    /// Number of locations with a snapshot.
    pub fn len(&self) -> usize {
        self.lock().payloads.len()
    }

    /// True when no location has a snapshot yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BoardInner> {
        // A panic while holding this lock cannot leave the maps half-updated in a way that
        // matters (each update is one insert pair), so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
