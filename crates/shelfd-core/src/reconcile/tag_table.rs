//! [`TagTable`]: the engine's tags by EPC. It owns their storage and nothing else: no
//! reconciliation decision is made here.
//!
//! A hash map of (key, tag) buckets grows by doubling, and each doubling frees the old copy of
//! every bucket. On a first start that tracks 100 k tags the allocator keeps those freed copies,
//! so the process held ~245 bytes per tag against ~119 for the same map sized at once. Here
//! the entries live in fixed-size chunks that are never moved or reallocated; only a small index
//! of `u32` positions (5 bytes a bucket) grows by doubling, so what a first start leaves behind
//! is a few bytes per tag.
//!
//! Removal swaps the last entry into the hole (its index slot is repointed), so positions stay
//! dense. Iteration order is storage order; the engine never depends on it (it sorts by EPC
//! wherever order shows in events).

use super::epc_key::EpcKey;
use super::tag::Tag;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Entries per chunk: 1024 × 88 bytes, allocated once each.
const CHUNK: usize = 1024;

type Entry = (EpcKey, Tag);

/// The engine's tags by EPC (see the module docs).
#[derive(Default)]
pub struct TagTable {
    /// Positions of the entries, hashed by their keys.
    index: HashTable<u32>,
    /// Entry `p` is `chunks[p / CHUNK][p % CHUNK]`; every chunk but the last is full.
    chunks: Vec<Vec<Entry>>,
    len: usize,
}

fn hash_of(key: &EpcKey) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(key)
}

fn entry(chunks: &[Vec<Entry>], pos: u32) -> &Entry {
    let p = pos as usize;
    &chunks[p / CHUNK][p % CHUNK]
}

impl TagTable {
    /// An empty table.
    pub fn new() -> Self {
        TagTable::default()
    }

    /// Number of tags.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table holds no tag.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Makes room for `additional` more tags without growing the index again (a restore sizes
    /// the table at once).
    pub fn reserve(&mut self, additional: usize) {
        let chunks = &self.chunks;
        self.index
            .reserve(additional, |&p| hash_of(&entry(chunks, p).0));
        let needed = (self.len + additional).div_ceil(CHUNK);
        self.chunks
            .reserve(needed.saturating_sub(self.chunks.len()));
    }

    /// Bytes the table occupies: index buckets (a `u32` and a control byte each), allocated
    /// chunks, and heap-held long EPCs.
    pub fn bytes(&self) -> usize {
        let cap = self.index.capacity();
        let buckets = match cap {
            0 => 0,
            1..=7 => cap + 1,
            _ => (cap * 8 / 7).next_power_of_two(),
        };
        let index = buckets * (std::mem::size_of::<u32>() + 1);
        let chunks: usize = self
            .chunks
            .iter()
            .map(|c| c.capacity() * std::mem::size_of::<Entry>())
            .sum();
        let heap: usize = self.keys().map(EpcKey::heap_bytes).sum();
        index + chunks + heap
    }

    fn position(&self, key: &EpcKey) -> Option<u32> {
        let chunks = &self.chunks;
        self.index
            .find(hash_of(key), |&p| entry(chunks, p).0 == *key)
            .copied()
    }

    /// Whether `key` is in the table.
    pub fn contains_key(&self, key: &EpcKey) -> bool {
        self.position(key).is_some()
    }

    /// The tag of `key`.
    pub fn get(&self, key: &EpcKey) -> Option<&Tag> {
        self.position(key).map(|p| &entry(&self.chunks, p).1)
    }

    /// The tag of `key`, mutably.
    pub fn get_mut(&mut self, key: &EpcKey) -> Option<&mut Tag> {
        let p = self.position(key)? as usize;
        Some(&mut self.chunks[p / CHUNK][p % CHUNK].1)
    }

    /// Inserts or replaces the tag of `key`; returns the replaced one.
    pub fn insert(&mut self, key: EpcKey, tag: Tag) -> Option<Tag> {
        if let Some(old) = self.get_mut(&key) {
            return Some(std::mem::replace(old, tag));
        }
        let pos = u32::try_from(self.len).expect("invariant: fewer than 2^32 tags are tracked");
        let h = hash_of(&key);
        if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        self.chunks
            .last_mut()
            .expect("invariant: a chunk with room was just ensured")
            .push((key, tag));
        self.len += 1;
        let chunks = &self.chunks;
        self.index
            .insert_unique(h, pos, |&p| hash_of(&entry(chunks, p).0));
        None
    }

    /// Removes the tag of `key`.
    pub fn remove(&mut self, key: &EpcKey) -> Option<Tag> {
        let chunks = &self.chunks;
        let found = self
            .index
            .find_entry(hash_of(key), |&p| entry(chunks, p).0 == *key)
            .ok()?;
        let (pos, _) = found.remove();
        let pos = pos as usize;
        let last_chunk = self
            .chunks
            .last_mut()
            .expect("invariant: a table with an entry has a chunk");
        let last = last_chunk
            .pop()
            .expect("invariant: the last chunk is never left empty");
        if last_chunk.is_empty() {
            self.chunks.pop();
        }
        self.len -= 1;
        if pos == self.len {
            return Some(last.1);
        }
        // The last entry fills the hole: repoint its index slot.
        let moved_from = self.len as u32;
        let slot = self
            .index
            .find_mut(hash_of(&last.0), |&p| p == moved_from)
            .expect("invariant: every stored entry has its index slot");
        *slot = pos as u32;
        let removed = std::mem::replace(&mut self.chunks[pos / CHUNK][pos % CHUNK], last);
        Some(removed.1)
    }

    /// Every (key, tag), in storage order.
    pub fn iter(&self) -> impl Iterator<Item = (&EpcKey, &Tag)> {
        self.chunks.iter().flatten().map(|(k, t)| (k, t))
    }

    /// Every (key, tag), mutably, in storage order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&EpcKey, &mut Tag)> {
        self.chunks.iter_mut().flatten().map(|(k, t)| (&*k, t))
    }

    /// Every key.
    pub fn keys(&self) -> impl Iterator<Item = &EpcKey> {
        self.iter().map(|(k, _)| k)
    }

    /// Every tag.
    pub fn values(&self) -> impl Iterator<Item = &Tag> {
        self.iter().map(|(_, t)| t)
    }
}

impl std::fmt::Debug for TagTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests;
