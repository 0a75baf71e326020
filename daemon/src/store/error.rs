//! Everything that can go wrong in the store, each error naming the path, key or seq involved.
//!
//! Owns [`StoreError`]. It must never hide the underlying sled or I/O error, and never print a
//! stored id unescaped (ids come from tags and config and are untrusted).

use std::io;
use std::path::PathBuf;

use super::keys::Key;

/// What a damaged store's error tells the operator to do. `path` is `<state dir>/db`.
fn recovery(db_path: &std::path::Path) -> String {
    let state_dir = db_path.parent().unwrap_or(db_path);
    format!(
        "; the state dir is damaged: stop shelfd and run `shelfd state reset --state-dir {}` \
         to move the store aside (the next start is a first start with a baseline snapshot, \
         and central resyncs from it)",
        state_dir.display()
    )
}

/// An error of the durable store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The state dir does not exist and could not be created.
    #[error("store {}: cannot create state dir: {source}", path.display())]
    CreateDir {
        /// The state dir.
        path: PathBuf,
        /// What the file system said.
        source: io::Error,
    },
    /// Another process holds the lock on the database file.
    #[error("state dir {} is in use by another shelfd ({detail})", path.display())]
    InUse {
        /// The state dir.
        path: PathBuf,
        /// What sled said about the lock.
        detail: String,
    },
    /// sled could not open the database.
    #[error("store {}: open failed: {source}{}", path.display(), recovery(path))]
    Open {
        /// The database dir (`<state dir>/db`).
        path: PathBuf,
        /// The sled error.
        source: sled::Error,
    },
    /// A read, write or flush of an open database failed.
    #[error("store {}: {action} failed: {source}", path.display())]
    Sled {
        /// The database dir (`<state dir>/db`).
        path: PathBuf,
        /// What the store was doing, with the key involved (`read t/3074…`, `commit`, `flush`).
        action: String,
        /// The sled error.
        source: sled::Error,
    },
    /// sled panicked on the database's files (sled 0.34 does on some damaged files).
    #[error("store {}: {action} failed: sled cannot read its files ({panic}){}", path.display(), recovery(path))]
    Damaged {
        /// The database dir (`<state dir>/db`).
        path: PathBuf,
        /// What the store was doing (`open`, `scan t/`, `commit`, …).
        action: String,
        /// sled's panic message and where it panicked.
        panic: String,
    },
    /// The database holds something this layout cannot have written.
    #[error("store {}: corrupt: {what}{}", path.display(), recovery(path))]
    Corrupt {
        /// The database dir (`<state dir>/db`).
        path: PathBuf,
        /// What is wrong, naming the key.
        what: String,
    },
    /// A commit's outbox entries do not continue the seq sequence. Nothing was written.
    #[error("outbox seq {got} does not follow next seq {expected}")]
    SeqGap {
        /// The seq the commit carried.
        got: u64,
        /// The seq the store expected at that position.
        expected: u64,
    },
    /// The seq space is used up (a u64; only a corrupt `m/next_seq` gets here). Nothing was written.
    #[error("outbox seq space exhausted: next seq {next_seq}, {events} more events")]
    SeqExhausted {
        /// The store's next seq.
        next_seq: u64,
        /// How many events the commit carried.
        events: usize,
    },
    /// A commit or a read named a key the store maintains itself (`m/next_seq`). Nothing was
    /// written.
    #[error("key {key} is reserved: the store maintains it itself")]
    ReservedKey {
        /// The key.
        key: Key,
    },
}
