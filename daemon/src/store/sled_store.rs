//! [`SledStore`]: the [`Store`] on sled 0.34, in `<state dir>/db`.
//!
//! Owns the sled database: its configuration, the lock on the state dir, the in-memory
//! `next_seq` and outbox counters, and their rebuild at open. Every call into sled runs guarded
//! (`sled_guard`): sled's panics on damaged files become [`StoreError::Damaged`]. It must never use a second tree,
//! sled transactions or `generate_id`, never write two keys except through one
//! `Tree::apply_batch`, and never be called from an async runtime worker (every call blocks).

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use sled::{Batch, IVec};

use super::keys::{self, Key, KeySpace, NEXT_SEQ_KEY, OUTBOX_PREFIX};
use super::outbox_value;
use super::sled_guard::guarded;
use super::{Commit, OutboxEntry, OutboxStats, Store, StoreError, check_commit, plan_drop};
use shelfd_core::events::EventKind;

/// Default sled page cache: 32 MiB. sled's own default is 1 GiB, and its resident memory can be
/// several times the configured cache (DEPENDENCIES.md, Q1).
pub const DEFAULT_CACHE_BYTES: u64 = 32 << 20;

/// The file beside the database that records the `next_seq` of its last flush.
pub(crate) const HIGH_WATER_FILE: &str = "db.committed";
/// An empty sled database file is far smaller than this; one this large with no record is a
/// truncated log.
const EMPTY_DB_MAX_BYTES: u64 = 4 << 20;
/// How often sled's background thread syncs the log when nobody calls [`Store::flush`].
const FLUSH_EVERY_MS: u64 = 500;

/// How long [`SledStore::open`] waits for the lock on the database file. A store dropped in
/// this process releases it a few ms late (sled closes the file from deferred, epoch-based
/// cleanup on other threads); a process that keeps the state dir gets [`StoreError::InUse`].
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// Pause between two attempts to take the lock.
const LOCK_RETRY: Duration = Duration::from_millis(10);

/// The durable store: one sled `Db`, its default tree, key prefixes from [`keys`].
///
/// Opened once per process on `<state dir>/db`; a second process opening the same state dir gets
/// [`StoreError::InUse`]. Blocking: see the [module docs](super).
#[derive(Debug)]
pub struct SledStore {
    db: sled::Db,
    db_path: PathBuf,
    next_seq: u64,
    stats: OutboxStats,
}

impl SledStore {
    /// Opens (or creates) the store in `<dir>/db`, creating `dir` if missing, with a page cache
    /// of `cache_bytes` ([`DEFAULT_CACHE_BYTES`] unless configured).
    ///
    /// If the database file is locked, retries for up to 2 s (a store just dropped in this
    /// process lets go of it a little late), then fails with [`StoreError::InUse`].
    ///
    /// Reads `m/next_seq` and scans the outbox once to rebuild [`Store::outbox_stats`], checking
    /// that every outbox key is well formed and below `next_seq`.
    ///
    /// A database that lost records it had at its last flush (see `db.committed`) is
    /// [`StoreError::Corrupt`], never a silent first start.
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let db_path = dir.join("db");
        let config = sled::Config::new()
            .path(&db_path)
            .mode(sled::Mode::LowSpace)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(FLUSH_EVERY_MS));
        let started = Instant::now();
        let db = loop {
            let opened = guarded(|| config.open()).map_err(|panic| StoreError::Damaged {
                path: db_path.clone(),
                action: "open".to_owned(),
                panic,
            });
            match opened.and_then(|r| r.map_err(|source| open_error(dir, &db_path, source))) {
                Err(StoreError::InUse { .. }) if started.elapsed() < LOCK_WAIT => {
                    thread::sleep(LOCK_RETRY);
                }
                result => break result?,
            }
        };
        let mut store = SledStore {
            db,
            db_path,
            next_seq: 1,
            stats: OutboxStats::default(),
        };
        match guarded(|| store.restore_counters()) {
            Ok(result) => result?,
            Err(panic) => return Err(store.damaged("open: scan the outbox", panic)),
        }
        store.check_high_water()?;
        tracing::info!(
            path = %store.db_path.display(),
            recovered = store.was_recovered(),
            next_seq = store.next_seq,
            outbox_entries = store.stats.entries,
            outbox_bytes = store.stats.bytes,
            size_on_disk = store.size_on_disk(),
            "store opened"
        );
        Ok(store)
    }

    /// Whether sled found an existing database to recover (false on a fresh state dir).
    /// Worth logging and exporting as a metric together with [`Store::size_on_disk`].
    pub fn was_recovered(&self) -> bool {
        self.db.was_recovered()
    }

    /// Reads every record of the database (every page sled holds), so that damage anywhere is
    /// found now rather than when the engine first needs it. Returns the number of records.
    pub fn verify(&self) -> Result<u64, StoreError> {
        self.guard("verify", |s| {
            let mut records = 0u64;
            for item in s.db.iter() {
                item.map_err(|e| s.sled_error(format!("verify after {records} records"), e))?;
                records += 1;
            }
            Ok(records)
        })
    }

    /// Makes an empty store number its first event `next` instead of 1 (after a damaged store was
    /// moved aside, so that new seqs never repeat old ones). Fails on a store that has numbered
    /// anything.
    pub fn seed_next_seq(&mut self, next: u64) -> Result<(), StoreError> {
        if self.next_seq != 1 || self.stats.entries != 0 {
            return Err(self.corrupt(format!(
                "cannot seed next seq {next}: the store already numbers from {}",
                self.next_seq
            )));
        }
        let mut batch = Batch::default();
        batch.insert(NEXT_SEQ_KEY, &keys::encode_seq(next)[..]);
        self.guard("seed next seq", |s| {
            s.apply(batch, || format!("seed next seq {next}"))
        })?;
        self.next_seq = next;
        self.flush()
    }

    /// The database dir, `<state dir>/db`.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    fn restore_counters(&mut self) -> Result<(), StoreError> {
        let stored = self.db.get(NEXT_SEQ_KEY).map_err(|e| {
            self.sled_error(format!("read {}", keys::escape_bytes(NEXT_SEQ_KEY)), e)
        })?;
        let stored = match stored {
            Some(value) => Some(keys::decode_seq(&value).ok_or_else(|| {
                self.corrupt(format!(
                    "{} holds {} bytes, not a u64",
                    keys::escape_bytes(NEXT_SEQ_KEY),
                    value.len()
                ))
            })?),
            None => None,
        };
        let mut stats = OutboxStats::default();
        let mut last = None;
        for item in self.db.scan_prefix(OUTBOX_PREFIX) {
            let (key, value) = item.map_err(|e| self.sled_error("scan outbox".into(), e))?;
            let seq = self.outbox_seq(&key)?;
            stats.entries += 1;
            stats.bytes += outbox_value::payload_len(&value);
            last = Some(seq);
        }
        let next_seq = match (stored, last) {
            (Some(next), Some(last)) if last >= next => {
                return Err(self.corrupt(format!(
                    "outbox holds seq {last} but {} is {next}",
                    keys::escape_bytes(NEXT_SEQ_KEY)
                )));
            }
            (None, Some(last)) => {
                return Err(self.corrupt(format!(
                    "outbox holds seq {last} but {} is missing",
                    keys::escape_bytes(NEXT_SEQ_KEY)
                )));
            }
            (Some(next), _) => next,
            (None, None) => 1,
        };
        self.next_seq = next_seq;
        self.stats = stats;
        Ok(())
    }

    fn outbox_seq(&self, key: &[u8]) -> Result<u64, StoreError> {
        keys::outbox_seq(key)
            .ok_or_else(|| self.corrupt(format!("bad outbox key {}", keys::escape_bytes(key))))
    }

    /// The kind and payload of the outbox value of `seq` (either format, see [`outbox_value`]).
    fn outbox_value<'v>(
        &self,
        seq: u64,
        value: &'v [u8],
    ) -> Result<(EventKind, &'v [u8]), StoreError> {
        outbox_value::decode(value).map_err(|e| self.corrupt(format!("outbox seq {seq}: {e}")))
    }

    fn outbox_from(&self, first: u64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.db
            .range(keys::outbox_key(first)..=keys::outbox_key(u64::MAX))
            .take(limit)
            .map(|item| {
                let (key, value) = item.map_err(|e| self.sled_error("read outbox".into(), e))?;
                let seq = self.outbox_seq(&key)?;
                let (kind, payload) = self.outbox_value(seq, &value)?;
                Ok(OutboxEntry {
                    seq,
                    kind,
                    payload: payload.to_vec(),
                })
            })
            .collect()
    }

    fn apply(&self, batch: Batch, action: impl FnOnce() -> String) -> Result<(), StoreError> {
        self.db
            .apply_batch(batch)
            .map_err(|e| self.sled_error(action(), e))
    }

    fn sled_error(&self, action: String, source: sled::Error) -> StoreError {
        StoreError::Sled {
            path: self.db_path.clone(),
            action,
            source,
        }
    }

    fn damaged(&self, action: &str, panic: String) -> StoreError {
        StoreError::Damaged {
            path: self.db_path.clone(),
            action: action.to_owned(),
            panic,
        }
    }

    /// Runs a store operation; a panic inside sled becomes [`StoreError::Damaged`].
    fn guard<T>(
        &self,
        action: &str,
        f: impl FnOnce(&Self) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        guarded(|| f(self)).unwrap_or_else(|panic| Err(self.damaged(action, panic)))
    }

    /// [`SledStore::guard`] for operations that change the store's counters.
    fn guard_mut<T>(
        &mut self,
        action: &str,
        f: impl FnOnce(&mut Self) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match guarded(|| f(self)) {
            Ok(result) => result,
            Err(panic) => Err(self.damaged(action, panic)),
        }
    }

    fn corrupt(&self, what: String) -> StoreError {
        StoreError::Corrupt {
            path: self.db_path.clone(),
            what,
        }
    }
}

/// sled 0.34 reports a held lock as an `Io` error of kind `Other` whose message starts with
/// "could not acquire lock" (`Config::try_lock`); that means another process owns the state dir.
fn open_error(dir: &Path, db_path: &Path, source: sled::Error) -> StoreError {
    match &source {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            StoreError::InUse {
                path: dir.to_path_buf(),
                detail: io.to_string(),
            }
        }
        _ => StoreError::Open {
            path: db_path.to_path_buf(),
            source,
        },
    }
}

/// The unguarded operations; [`Store`] calls them through [`SledStore::guard`].
impl SledStore {
    fn commit_raw(&mut self, commit: Commit) -> Result<(), StoreError> {
        let next_seq = check_commit(&commit, self.next_seq)?;
        if commit.is_empty() {
            return Ok(());
        }
        let mut batch = Batch::default();
        for (key, value) in commit.puts {
            batch.insert(key.to_bytes(), value);
        }
        for key in &commit.deletes {
            batch.remove(key.to_bytes());
        }
        let mut added = OutboxStats::default();
        for entry in commit.events {
            added.entries += 1;
            added.bytes += entry.payload.len() as u64;
            batch.insert(
                &keys::outbox_key(entry.seq)[..],
                outbox_value::encode(entry.kind, &entry.payload),
            );
        }
        if next_seq != self.next_seq {
            batch.insert(NEXT_SEQ_KEY, &keys::encode_seq(next_seq)[..]);
        }
        let first = self.next_seq;
        self.apply(batch, || match added.entries {
            0 => "commit".to_owned(),
            _ => format!("commit of seqs {first}..={}", next_seq - 1),
        })?;
        self.next_seq = next_seq;
        self.stats.entries += added.entries;
        self.stats.bytes += added.bytes;
        Ok(())
    }

    fn scan_raw(&self, space: KeySpace) -> Result<Vec<(Key, Vec<u8>)>, StoreError> {
        let prefix = space.prefix();
        let mut out = Vec::new();
        for item in self.db.scan_prefix(prefix) {
            let (raw, value) = item
                .map_err(|e| self.sled_error(format!("scan {}", keys::escape_bytes(prefix)), e))?;
            let key = Key::from_bytes(&raw)
                .map_err(|e| self.corrupt(format!("bad key {}: {e}", keys::escape_bytes(&raw))))?;
            if !key.is_reserved() {
                out.push((key, value.to_vec()));
            }
        }
        Ok(out)
    }

    fn get_raw(&self, key: &Key) -> Result<Option<Vec<u8>>, StoreError> {
        if key.is_reserved() {
            return Err(StoreError::ReservedKey { key: key.clone() });
        }
        self.db
            .get(key.to_bytes())
            .map(|value| value.map(|v| v.to_vec()))
            .map_err(|e| self.sled_error(format!("read {key}"), e))
    }

    fn outbox_first_raw(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        self.outbox_from(0, limit)
    }

    fn outbox_after_raw(&self, seq: u64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        match seq.checked_add(1) {
            Some(first) => self.outbox_from(first, limit),
            None => Ok(Vec::new()),
        }
    }

    fn outbox_ack_raw(&mut self, seqs: &[u64]) -> Result<(), StoreError> {
        let mut seqs = seqs.to_vec();
        seqs.sort_unstable();
        seqs.dedup();
        let mut batch = Batch::default();
        let mut removed = OutboxStats::default();
        for &seq in &seqs {
            let key = keys::outbox_key(seq);
            let value: Option<IVec> = self
                .db
                .get(key)
                .map_err(|e| self.sled_error(format!("read outbox seq {seq}"), e))?;
            if let Some(value) = value {
                removed.entries += 1;
                removed.bytes += outbox_value::payload_len(&value);
                batch.remove(&key[..]);
            }
        }
        if removed.entries == 0 {
            return Ok(());
        }
        self.apply(batch, || {
            format!("ack of {} outbox entries", removed.entries)
        })?;
        self.stats.entries = self.stats.entries.saturating_sub(removed.entries);
        self.stats.bytes = self.stats.bytes.saturating_sub(removed.bytes);
        Ok(())
    }

    fn outbox_drop_oldest_raw(
        &mut self,
        max_entries: u64,
        max_bytes: u64,
        keep: &dyn Fn(EventKind) -> bool,
    ) -> Result<u64, StoreError> {
        let entries = self.db.scan_prefix(OUTBOX_PREFIX).map(|item| {
            let (key, value) = item.map_err(|e| self.sled_error("scan outbox".into(), e))?;
            let seq = self.outbox_seq(&key)?;
            let (kind, payload) = self.outbox_value(seq, &value)?;
            Ok((seq, kind, payload.len() as u64))
        });
        let plan = plan_drop(entries, self.stats, max_entries, max_bytes, keep)?;
        if plan.seqs.is_empty() {
            return Ok(0);
        }
        let mut batch = Batch::default();
        for &seq in &plan.seqs {
            batch.remove(&keys::outbox_key(seq)[..]);
        }
        let dropped = plan.seqs.len() as u64;
        self.apply(batch, || format!("drop of {dropped} outbox entries"))?;
        self.stats.entries = self.stats.entries.saturating_sub(dropped);
        self.stats.bytes = self.stats.bytes.saturating_sub(plan.bytes);
        tracing::warn!(
            dropped,
            bytes = plan.bytes,
            max_entries,
            max_bytes,
            "outbox over its cap: dropped entries"
        );
        Ok(dropped)
    }

    fn flush_raw(&self) -> Result<(), StoreError> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(|e| self.sled_error("flush".into(), e))?;
        self.write_high_water();
        Ok(())
    }

    /// `<state dir>/db.committed`: the `next_seq` of the last flush (written after sled made
    /// it durable, so it is never ahead of the database).
    fn high_water_path(&self) -> PathBuf {
        self.db_path.with_file_name(HIGH_WATER_FILE)
    }

    /// Records the flushed `next_seq` beside the database (tmp file + rename). A failure (a
    /// full disk) only leaves the older mark, which is never ahead: logged, not an error.
    fn write_high_water(&self) {
        let path = self.high_water_path();
        let tmp = path.with_extension("committed.tmp");
        let written =
            fs::write(&tmp, format!("{}\n", self.next_seq)).and_then(|()| fs::rename(&tmp, &path));
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "could not record the flushed seq");
        }
    }

    /// A database that opens with fewer records than it had at its last flush lost committed
    /// ones (sled 0.34 recovers a truncated log silently, to an earlier state or to nothing):
    /// that is damage, not a first start, or seqs would be reused. Also a store that opens
    /// empty from a database file far larger than an empty one.
    fn check_high_water(&self) -> Result<(), StoreError> {
        let mark = fs::read_to_string(self.high_water_path())
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok());
        if let Some(mark) = mark.filter(|m| *m > self.next_seq) {
            return Err(self.corrupt(format!(
                "the database's next seq is {}, below the {mark} it had at its last flush: \
                 it lost committed records (truncated or damaged files)",
                self.next_seq
            )));
        }
        let file_len = fs::metadata(self.db_path.join("db")).map_or(0, |m| m.len());
        if self.next_seq == 1 && self.db.was_recovered() && file_len > EMPTY_DB_MAX_BYTES {
            return Err(self.corrupt(format!(
                "the database file holds {file_len} bytes but no committed record: \
                 truncated or damaged files"
            )));
        }
        Ok(())
    }

    fn size_on_disk_raw(&self) -> u64 {
        self.db.size_on_disk().unwrap_or_else(|e| {
            tracing::warn!(path = %self.db_path.display(), error = %e, "store size unknown");
            0
        })
    }
}

impl Store for SledStore {
    fn next_seq(&self) -> u64 {
        self.next_seq
    }

    fn commit(&mut self, commit: Commit) -> Result<(), StoreError> {
        self.guard_mut("commit", |s| s.commit_raw(commit))
    }

    fn scan(&self, space: KeySpace) -> Result<Vec<(Key, Vec<u8>)>, StoreError> {
        self.guard("scan", |s| s.scan_raw(space))
    }

    fn get(&self, key: &Key) -> Result<Option<Vec<u8>>, StoreError> {
        self.guard("read", |s| s.get_raw(key))
    }

    fn outbox_first(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        self.guard("read outbox", |s| s.outbox_first_raw(limit))
    }

    fn outbox_after(&self, seq: u64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        self.guard("read outbox", |s| s.outbox_after_raw(seq, limit))
    }

    fn outbox_ack(&mut self, seqs: &[u64]) -> Result<(), StoreError> {
        self.guard_mut("outbox ack", |s| s.outbox_ack_raw(seqs))
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
        self.guard_mut("outbox drop", |s| {
            s.outbox_drop_oldest_raw(max_entries, max_bytes, keep)
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.guard("flush", |s| s.flush_raw())
    }

    fn size_on_disk(&self) -> u64 {
        self.guard("size on disk", |s| Ok(s.size_on_disk_raw()))
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "store size unknown");
                0
            })
    }
}
