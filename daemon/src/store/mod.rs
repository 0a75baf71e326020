//! The durable store: engine state, the outbox of events to publish, and meta, behind the small
//! [`Store`] trait so sled can be replaced (redb is the fallback) without touching its callers.
//!
//! Owns the [`Store`] contract, the [`Commit`] unit of work and the rules both implementations
//! share (seq continuity, reserved keys, the outbox cap policy, [`kept_when_full`]). An outbox
//! entry carries its [`EventKind`] beside its payload, so routing and the cap never look inside a
//! payload. It must never interpret a value (tag, location, reader and snapshot records and
//! event payloads are opaque bytes written by the engine's codecs; the one exception is reading
//! the kind of an outbox entry written before kinds were stored, see [`outbox_value`]), never
//! assign seqs on its own (the engine numbers events, the store only checks that they continue),
//! and never be called from an async runtime worker.
//!
//! # Blocking
//! Every method blocks on disk I/O ([`SledStore::flush`] waits for the log to be written). The
//! store has a single owner: run it on a dedicated thread fed by a channel, or call it through
//! `spawn_blocking`. That is the caller's job; the store itself spawns nothing.
//!
//! # Layout
//! - [`keys`]: the key layout of the one tree (`a/`, `d/`, `m/`, `t/`, `l/`, `r/`, `s/`, `o/<u64 BE>`).
//! - [`outbox_value`]: the bytes of an outbox value (kind, then payload) and how values written
//!   before the kind was stored are read.
//! - [`SledStore`]: sled 0.34, one tree, every multi-key update through one `apply_batch`.
//! - [`MemoryStore`]: the same semantics in memory, for engine tests and benchmarks.
//! - [`state_reset`]: `shelfd state check|reset`: read every record; move a damaged store aside.
//! - `sled_guard`: sled's panics on damaged files become errors (never a crash).
//! - [`StoreError`]: errors naming the path, key or seq involved; a damaged store's error says
//!   how to recover (`shelfd state reset`).

mod error;
pub mod keys;
mod memory;
pub mod outbox_value;
mod sled_guard;
mod sled_store;
pub mod state_reset;

#[cfg(test)]
mod tests;

pub use error::StoreError;
pub use keys::{Key, KeySpace};
pub use memory::MemoryStore;
pub use outbox_value::OutboxValueError;
pub use sled_store::{DEFAULT_CACHE_BYTES, SledStore};

use shelfd_core::events::EventKind;

/// One event waiting in the outbox to be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The event's seq: per gateway, from 1, contiguous, never reused.
    pub seq: u64,
    /// The event's kind: its topic and its fate when the outbox is full come from here.
    pub kind: EventKind,
    /// The event as published (JSON bytes); opaque to the store.
    pub payload: Vec<u8>,
}

/// The outbox cap policy: whether entries of `kind` are kept while older entries of other kinds
/// can be dropped instead ([`Store::outbox_drop_oldest`]).
///
/// `tag.*` events go first: the retained `stock.snapshot`s and `stock.changed` carry the counts
/// they changed. Stock changes, alerts, reader status and dock receipts are kept. The match is
/// exhaustive, so a new kind has to be placed here.
///
/// ```
/// use shelfd::store::kept_when_full;
/// use shelfd_core::events::EventKind;
/// assert!(!kept_when_full(EventKind::TagMoved));
/// assert!(kept_when_full(EventKind::DockReceipt));
/// ```
pub fn kept_when_full(kind: EventKind) -> bool {
    match kind {
        EventKind::TagArrived
        | EventKind::TagMoved
        | EventKind::TagDeparted
        | EventKind::TagSold
        | EventKind::TagReturned => false,
        EventKind::StockChanged
        | EventKind::AlertExit
        | EventKind::AlertLowStock
        | EventKind::AlertMisplaced
        | EventKind::AlertStockoutForecast
        | EventKind::ReaderStatus
        | EventKind::DockReceipt => true,
    }
}

/// What the outbox currently buffers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Number of entries.
    pub entries: u64,
    /// Sum of the payload lengths in bytes (keys, the stored kinds and sled overhead not
    /// counted).
    pub bytes: u64,
}

/// One atomic step: state changes plus the outbox entries they caused.
///
/// Applied all or nothing. Puts are applied in order, then deletes, so a key that is both put
/// and deleted in one commit ends up deleted, and of two puts of one key the last wins.
#[derive(Debug, Default, Clone)]
pub struct Commit {
    /// Keys to set, with their new values.
    pub puts: Vec<(Key, Vec<u8>)>,
    /// Keys to remove (removing a missing key is not an error).
    pub deletes: Vec<Key>,
    /// New outbox entries. Their seqs must start at [`Store::next_seq`] and grow by exactly 1,
    /// otherwise the commit fails with [`StoreError::SeqGap`] and writes nothing.
    pub events: Vec<OutboxEntry>,
}

impl Commit {
    /// Whether the commit changes nothing.
    pub fn is_empty(&self) -> bool {
        self.puts.is_empty() && self.deletes.is_empty() && self.events.is_empty()
    }
}

/// The durable store: state key spaces plus the outbox, updated atomically.
///
/// All methods block (see the [module docs](self)). `m/next_seq` belongs to the store: commits
/// may not put or delete it, [`Store::get`] refuses it and [`Store::scan`] leaves it out; read it
/// through [`Store::next_seq`].
pub trait Store: Send {
    /// The seq the next event must carry: 1 on an empty store, one past the last seq ever
    /// committed otherwise (acknowledging entries does not lower it, restarts keep it).
    fn next_seq(&self) -> u64;

    /// Applies `commit` atomically: its puts, deletes, outbox entries and the new `m/next_seq`
    /// land together or not at all. An empty commit writes nothing.
    ///
    /// Durable once [`Store::flush`] returns (or after the periodic flush, about 500 ms).
    fn commit(&mut self, commit: Commit) -> Result<(), StoreError>;

    /// Everything in one key space, in key order (used at start-up to restore the engine).
    fn scan(&self, space: KeySpace) -> Result<Vec<(Key, Vec<u8>)>, StoreError>;

    /// The value of one key, if present.
    fn get(&self, key: &Key) -> Result<Option<Vec<u8>>, StoreError>;

    /// The oldest `limit` outbox entries, in ascending seq.
    fn outbox_first(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Up to `limit` outbox entries with a seq greater than `seq`, in ascending seq.
    fn outbox_after(&self, seq: u64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Deletes acknowledged entries in one batch. Seqs that are not in the outbox (already
    /// acknowledged, dropped, duplicated in `seqs`) are ignored, so a repeated PUBACK is harmless.
    fn outbox_ack(&mut self, seqs: &[u64]) -> Result<(), StoreError>;

    /// Entries and payload bytes currently in the outbox. Kept in memory: O(1), no I/O.
    fn outbox_stats(&self) -> OutboxStats;

    /// Enforces the outbox cap: afterwards the outbox holds at most `max_entries` entries and at
    /// most `max_bytes` payload bytes. Returns how many entries were dropped.
    ///
    /// Policy when full, in this order:
    /// 1. Entries for which `keep(kind)` is false go first, oldest first, until the outbox is
    ///    within both bounds. Meant for events a later event or a retained snapshot supersedes
    ///    ([`kept_when_full`]), so that the ones nothing replaces (receipts, alerts) survive.
    /// 2. If every such entry is gone and the outbox is still over a bound, the oldest remaining
    ///    entries go, whatever `keep` says: the cap is a hard limit on disk use.
    ///
    /// Dropped entries are deleted in one batch and never published: a consumer sees a gap in
    /// `seq`, and the caller must raise an alert naming the count. `next_seq` is unchanged. When
    /// the outbox is already within bounds this reads nothing and returns 0.
    fn outbox_drop_oldest(
        &mut self,
        max_entries: u64,
        max_bytes: u64,
        keep: &dyn Fn(EventKind) -> bool,
    ) -> Result<u64, StoreError>;

    /// Writes everything committed so far to disk and waits for it (sled `flush`). On Linux,
    /// sled 0.34 uses `sync_file_range` here, not a full `fsync` (see DEPENDENCIES.md, Q1).
    fn flush(&self) -> Result<(), StoreError>;

    /// Bytes the store occupies on disk (0 when unknown or in memory).
    fn size_on_disk(&self) -> u64;
}

/// Checks a commit against the store's next seq; returns the next seq after it.
/// Shared by both implementations so their validation cannot drift apart.
pub(crate) fn check_commit(commit: &Commit, next_seq: u64) -> Result<u64, StoreError> {
    let written = commit
        .puts
        .iter()
        .map(|(key, _)| key)
        .chain(&commit.deletes);
    if let Some(key) = written.into_iter().find(|key| key.is_reserved()) {
        return Err(StoreError::ReservedKey { key: key.clone() });
    }
    let exhausted = || StoreError::SeqExhausted {
        next_seq,
        events: commit.events.len(),
    };
    let mut expected = next_seq;
    for entry in &commit.events {
        if entry.seq != expected {
            return Err(StoreError::SeqGap {
                got: entry.seq,
                expected,
            });
        }
        expected = expected.checked_add(1).ok_or_else(exhausted)?;
    }
    Ok(expected)
}

/// The entries [`Store::outbox_drop_oldest`] deletes.
#[derive(Debug, Default)]
pub(crate) struct DropPlan {
    /// Seqs to delete.
    pub(crate) seqs: Vec<u64>,
    /// Their payload bytes.
    pub(crate) bytes: u64,
}

/// Applies the policy of [`Store::outbox_drop_oldest`] to the outbox in ascending seq, given as
/// (seq, kind, payload length). Reads no further than it must; only the kept entries it passed
/// are remembered (seq, size).
pub(crate) fn plan_drop<I>(
    entries: I,
    stats: OutboxStats,
    max_entries: u64,
    max_bytes: u64,
    keep: &dyn Fn(EventKind) -> bool,
) -> Result<DropPlan, StoreError>
where
    I: IntoIterator<Item = Result<(u64, EventKind, u64), StoreError>>,
{
    let mut left = stats;
    let within = |left: &OutboxStats| left.entries <= max_entries && left.bytes <= max_bytes;
    let mut plan = DropPlan::default();
    let drop_entry = |plan: &mut DropPlan, left: &mut OutboxStats, seq: u64, len: u64| {
        plan.seqs.push(seq);
        plan.bytes += len;
        left.entries = left.entries.saturating_sub(1);
        left.bytes = left.bytes.saturating_sub(len);
    };
    let mut kept = Vec::new();
    for entry in entries {
        if within(&left) {
            return Ok(plan);
        }
        let (seq, kind, len) = entry?;
        if keep(kind) {
            kept.push((seq, len));
        } else {
            drop_entry(&mut plan, &mut left, seq, len);
        }
    }
    for (seq, len) in kept {
        if within(&left) {
            break;
        }
        drop_entry(&mut plan, &mut left, seq, len);
    }
    Ok(plan)
}
