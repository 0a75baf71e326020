//! `shelfd state`: checking a state dir's store and moving a damaged one aside.
//!
//! Owns the recovery of a damaged store: [`check`] opens the store and reads every record;
//! [`reset`] renames `<state dir>/db` to `<state dir>/db.damaged-<UTC time>` and creates a new
//! store so that the next start is a first start (a baseline snapshot, no arrivals). The new
//! store numbers its events from [`first_seq_after_reset`], above any seq the old store can
//! have used: central sees a gap, never a reused seq, and resyncs from the retained snapshots. It never deletes anything, never touches a store that a
//! running shelfd holds, and never moves a readable store aside unless forced: that would drop
//! the events still waiting in its outbox.

use std::io;
use std::path::{Path, PathBuf};

use super::sled_store::HIGH_WATER_FILE;
use super::{DEFAULT_CACHE_BYTES, SledStore, Store, StoreError};

/// What [`check`] found in a readable store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreCheck {
    /// Records read (state, meta and outbox).
    pub records: u64,
    /// Events waiting in the outbox.
    pub outbox_entries: u64,
    /// The last seq the store numbered (0 before the first event).
    pub last_seq: u64,
}

/// Why [`reset`] did nothing.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    /// There is no store to move.
    #[error("state dir {}: no store (no {} directory)", dir.display(), dir.join("db").display())]
    NoStore {
        /// The state dir.
        dir: PathBuf,
    },
    /// A running shelfd holds the store.
    #[error("state dir {}: a running shelfd holds the store; stop it first", dir.display())]
    InUse {
        /// The state dir.
        dir: PathBuf,
    },
    /// The store is readable: moving it aside would drop what its outbox still holds.
    #[error(
        "state dir {}: the store is readable ({} records, {} events waiting in the outbox, last seq {}); \
         not moved aside (use --force to start over anyway, dropping those events)",
        dir.display(), check.records, check.outbox_entries, check.last_seq
    )]
    Readable {
        /// The state dir.
        dir: PathBuf,
        /// What the check found.
        check: StoreCheck,
    },
    /// The new store could not be created (the old one was moved aside already).
    #[error("state dir {}: the damaged store was moved aside, but a new one cannot be created: {source}", dir.display())]
    New {
        /// The state dir.
        dir: PathBuf,
        /// What failed.
        source: StoreError,
    },
    /// The rename failed.
    #[error("state dir {}: cannot move {} to {}: {source}", dir.display(), from.display(), to.display())]
    Move {
        /// The state dir.
        dir: PathBuf,
        /// `<state dir>/db`.
        from: PathBuf,
        /// Where it was to go.
        to: PathBuf,
        /// What the file system said.
        source: io::Error,
    },
}

/// Seqs a store can plausibly have used: 2^40 events is 35 years at 1 000 events/s.
const SEQ_FLOOR_AFTER_RESET: u64 = 1 << 40;
/// Margin above the last seq a status file reported (events numbered after it was written).
const STATUS_SEQ_MARGIN: u64 = 1_000_000;

/// The first seq of the store that replaces a damaged one: above 2^40, above the reset time in
/// ms (so a later reset numbers higher again) and well above `last_seq_seen` (the last seq the
/// old store's status file reported).
pub fn first_seq_after_reset(now_ms: u64, last_seq_seen: Option<u64>) -> u64 {
    let seen = last_seq_seen.map_or(0, |s| s.saturating_add(STATUS_SEQ_MARGIN));
    now_ms.max(SEQ_FLOOR_AFTER_RESET).max(seen)
}

/// Opens the store in `dir` and reads every record.
pub fn check(dir: &Path) -> Result<StoreCheck, StoreError> {
    let store = SledStore::open(dir, DEFAULT_CACHE_BYTES / 8)?;
    let records = store.verify()?;
    Ok(StoreCheck {
        records,
        outbox_entries: store.outbox_stats().entries,
        last_seq: store.next_seq().saturating_sub(1),
    })
}

/// What [`reset`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reset {
    /// Where the old store went.
    pub moved_to: PathBuf,
    /// The first seq the new store will number.
    pub next_seq: u64,
}

/// Moves `<dir>/db` aside to `<dir>/db.damaged-<UTC time>` and creates a new store numbering
/// from [`first_seq_after_reset`] (see the module doc). Without `force`, a store that [`check`]
/// reads is left alone.
pub fn reset(
    dir: &Path,
    force: bool,
    now_ms: u64,
    last_seq_seen: Option<u64>,
) -> Result<Reset, ResetError> {
    let db = dir.join("db");
    if !db.is_dir() {
        return Err(ResetError::NoStore {
            dir: dir.to_owned(),
        });
    }
    // Opening the store is the lock check (sled holds an exclusive lock on `<db>/db`).
    match check(dir) {
        Err(StoreError::InUse { .. }) => {
            return Err(ResetError::InUse {
                dir: dir.to_owned(),
            });
        }
        Ok(check) if !force => {
            return Err(ResetError::Readable {
                dir: dir.to_owned(),
                check,
            });
        }
        Ok(_) | Err(_) => {}
    }
    let stamp: String = shelfd_core::timefmt::rfc3339_ms(now_ms)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let to = dir.join(format!("db.damaged-{stamp}"));
    if to.exists() {
        return Err(ResetError::Move {
            dir: dir.to_owned(),
            from: db,
            to,
            source: io::Error::from(io::ErrorKind::AlreadyExists),
        });
    }
    std::fs::rename(&db, &to).map_err(|source| ResetError::Move {
        dir: dir.to_owned(),
        from: db.clone(),
        to: to.clone(),
        source,
    })?;
    // The old store's flushed-seq mark goes with it (the new store numbers above it).
    let mark_file = dir.join(HIGH_WATER_FILE);
    let mark = std::fs::read_to_string(&mark_file)
        .ok()
        .and_then(|t| t.trim().parse::<u64>().ok());
    if mark_file.exists() {
        let aside = dir.join(format!("db.damaged-{stamp}.committed"));
        std::fs::rename(&mark_file, &aside).map_err(|source| ResetError::Move {
            dir: dir.to_owned(),
            from: mark_file.clone(),
            to: aside.clone(),
            source,
        })?;
    }
    let seen = match (last_seq_seen, mark) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let next_seq = first_seq_after_reset(now_ms, seen);
    let mut store =
        SledStore::open(dir, DEFAULT_CACHE_BYTES / 8).map_err(|source| ResetError::New {
            dir: dir.to_owned(),
            source,
        })?;
    store
        .seed_next_seq(next_seq)
        .map_err(|source| ResetError::New {
            dir: dir.to_owned(),
            source,
        })?;
    Ok(Reset {
        moved_to: to,
        next_seq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Commit, Key};

    fn store_with_a_record(dir: &Path) {
        let mut store = SledStore::open(dir, DEFAULT_CACHE_BYTES / 8).expect("open");
        let mut commit = Commit::default();
        commit.puts.push((Key::Reader("r1".into()), b"x".to_vec()));
        store.commit(commit).expect("commit");
        store.flush().expect("flush");
    }

    #[test]
    fn a_readable_store_is_left_alone_unless_forced() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            reset(dir.path(), false, 0, None),
            Err(ResetError::NoStore { .. })
        ));
        store_with_a_record(dir.path());
        let found = check(dir.path()).expect("readable");
        assert_eq!((found.outbox_entries, found.last_seq), (0, 0));
        assert!(found.records >= 1);
        let err = reset(dir.path(), false, 0, None).expect_err("readable");
        assert!(err.to_string().contains("use --force"), "{err}");
        assert!(dir.path().join("db").is_dir());
        let done = reset(dir.path(), true, 1_765_152_000_000, Some(7)).expect("forced");
        assert_eq!(
            done.moved_to,
            dir.path().join("db.damaged-20251208T000000000Z")
        );
        assert!(done.moved_to.is_dir());
        assert_eq!(done.next_seq, 1_765_152_000_000);
        // The new store is empty and numbers from there.
        let new = check(dir.path()).expect("new store");
        assert_eq!(
            (new.last_seq, new.outbox_entries),
            (1_765_152_000_000 - 1, 0)
        );
        assert_eq!(first_seq_after_reset(0, None), 1 << 40);
        assert_eq!(
            first_seq_after_reset(0, Some(1 << 41)),
            (1 << 41) + 1_000_000
        );
    }

    #[test]
    fn a_store_held_by_a_running_shelfd_is_not_moved() {
        let dir = tempfile::tempdir().expect("tempdir");
        store_with_a_record(dir.path());
        let held = SledStore::open(dir.path(), DEFAULT_CACHE_BYTES / 8).expect("open");
        // sled's lock is per open file: a second open, even in this process, is refused.
        let err = reset(dir.path(), true, 0, None).expect_err("in use");
        assert!(matches!(err, ResetError::InUse { .. }), "{err}");
        drop(held);
    }
}
