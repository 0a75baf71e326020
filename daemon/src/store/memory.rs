//! [`MemoryStore`]: the [`Store`] contract in memory, for engine tests and benchmarks.
//!
//! Owns nothing durable. It must keep exactly the semantics of [`super::SledStore`] (the model
//! test in this module's tests holds the two side by side), and must never be used where state
//! has to survive the process.

use std::collections::BTreeMap;

use super::keys::{Key, KeySpace};
use super::{Commit, OutboxEntry, OutboxStats, Store, StoreError, check_commit, plan_drop};
use shelfd_core::events::EventKind;

/// The store in memory: state keyed by the same bytes as in sled, so scans come out in the same
/// order, and the outbox by seq. [`Store::flush`] is a no-op and nothing survives a drop.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    state: BTreeMap<Vec<u8>, Vec<u8>>,
    outbox: BTreeMap<u64, (EventKind, Vec<u8>)>,
    next_seq: u64,
    stats: OutboxStats,
}

impl MemoryStore {
    /// An empty store: next seq 1, no state, empty outbox.
    pub fn new() -> Self {
        MemoryStore {
            state: BTreeMap::new(),
            outbox: BTreeMap::new(),
            next_seq: 1,
            stats: OutboxStats::default(),
        }
    }

    fn outbox_from(&self, first: u64, limit: usize) -> Vec<OutboxEntry> {
        self.outbox
            .range(first..)
            .take(limit)
            .map(|(&seq, (kind, payload))| OutboxEntry {
                seq,
                kind: *kind,
                payload: payload.clone(),
            })
            .collect()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl Store for MemoryStore {
    fn next_seq(&self) -> u64 {
        self.next_seq
    }

    fn commit(&mut self, commit: Commit) -> Result<(), StoreError> {
        self.next_seq = check_commit(&commit, self.next_seq)?;
        for (key, value) in commit.puts {
            self.state.insert(key.to_bytes(), value);
        }
        for key in &commit.deletes {
            self.state.remove(&key.to_bytes());
        }
        for entry in commit.events {
            self.stats.entries += 1;
            self.stats.bytes += entry.payload.len() as u64;
            self.outbox.insert(entry.seq, (entry.kind, entry.payload));
        }
        Ok(())
    }

    fn scan(&self, space: KeySpace) -> Result<Vec<(Key, Vec<u8>)>, StoreError> {
        let prefix = space.prefix();
        Ok(self
            .state
            .range(prefix.to_vec()..)
            .take_while(|(raw, _)| raw.starts_with(prefix))
            .filter_map(|(raw, value)| Some((Key::from_bytes(raw).ok()?, value.clone())))
            .collect())
    }

    fn get(&self, key: &Key) -> Result<Option<Vec<u8>>, StoreError> {
        if key.is_reserved() {
            return Err(StoreError::ReservedKey { key: key.clone() });
        }
        Ok(self.state.get(&key.to_bytes()).cloned())
    }

    fn outbox_first(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        Ok(self.outbox_from(0, limit))
    }

    fn outbox_after(&self, seq: u64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        Ok(match seq.checked_add(1) {
            Some(first) => self.outbox_from(first, limit),
            None => Vec::new(),
        })
    }

    fn outbox_ack(&mut self, seqs: &[u64]) -> Result<(), StoreError> {
        for seq in seqs {
            if let Some((_, payload)) = self.outbox.remove(seq) {
                self.stats.entries -= 1;
                self.stats.bytes -= payload.len() as u64;
            }
        }
        Ok(())
    }

    fn outbox_stats(&self) -> OutboxStats {
        self.stats
    }

    fn outbox_drop_oldest(
        &mut self,
        max_entries: u64,
        max_bytes: u64,
        keep: &dyn Fn(EventKind) -> bool,
    ) -> Result<u64, StoreError> {
        let entries = self
            .outbox
            .iter()
            .map(|(&seq, (kind, payload))| Ok((seq, *kind, payload.len() as u64)));
        let plan = plan_drop(entries, self.stats, max_entries, max_bytes, keep)?;
        for seq in &plan.seqs {
            self.outbox.remove(seq);
        }
        self.stats.entries -= plan.seqs.len() as u64;
        self.stats.bytes -= plan.bytes;
        Ok(plan.seqs.len() as u64)
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn size_on_disk(&self) -> u64 {
        0
    }
}
