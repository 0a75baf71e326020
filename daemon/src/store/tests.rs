//! Tests of the [`Store`] contract, run against both implementations, and the model test that
//! holds [`SledStore`] and [`MemoryStore`] side by side.
//!
//! Owns only tests; it must never be compiled outside `cfg(test)`.

use std::path::PathBuf;

use proptest::prelude::*;
use tempfile::TempDir;

use super::*;
use shelfd_core::events::{Event, EventBody, Origin, ReaderState};

/// Opens a store and "reopens" it: for sled, drop and open again on the same dir; for memory,
/// the same store (it has no restart).
trait Fixture {
    type S: Store;
    fn open(&mut self) -> Self::S;
    fn reopen(&mut self, store: Self::S) -> Self::S;
}

struct SledFixture {
    dir: TempDir,
}

impl SledFixture {
    fn new() -> Self {
        SledFixture {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }
    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }
}

impl Fixture for SledFixture {
    type S = SledStore;
    fn open(&mut self) -> SledStore {
        SledStore::open(&self.state_dir(), DEFAULT_CACHE_BYTES).expect("open sled store")
    }
    fn reopen(&mut self, store: SledStore) -> SledStore {
        drop(store);
        self.open()
    }
}

struct MemoryFixture;

impl Fixture for MemoryFixture {
    type S = MemoryStore;
    fn open(&mut self) -> MemoryStore {
        MemoryStore::new()
    }
    fn reopen(&mut self, store: MemoryStore) -> MemoryStore {
        store
    }
}

/// The kind the tests give a payload: `k…` payloads are of a kind the cap keeps
/// (`dock.receipt`), every other one of a kind it drops first (`tag.arrived`).
fn kind_of(payload: &[u8]) -> EventKind {
    match payload.first() {
        Some(b'k') => EventKind::DockReceipt,
        _ => EventKind::TagArrived,
    }
}

fn event(seq: u64, payload: &str) -> OutboxEntry {
    OutboxEntry {
        seq,
        kind: kind_of(payload.as_bytes()),
        payload: payload.as_bytes().to_vec(),
    }
}

/// A commit of `n` events continuing `store`'s seq, payload `<prefix><seq>`.
fn events(store: &impl Store, prefix: &str, n: u64) -> Commit {
    let first = store.next_seq();
    Commit {
        events: (first..first + n)
            .map(|seq| event(seq, &format!("{prefix}{seq}")))
            .collect(),
        ..Commit::default()
    }
}

fn seqs(entries: &[OutboxEntry]) -> Vec<u64> {
    entries.iter().map(|e| e.seq).collect()
}

fn all_outbox(store: &impl Store) -> Vec<OutboxEntry> {
    store.outbox_first(usize::MAX).expect("outbox")
}

fn all_state(store: &impl Store) -> Vec<(Key, Vec<u8>)> {
    KeySpace::ALL
        .iter()
        .flat_map(|&space| store.scan(space).expect("scan"))
        .collect()
}

fn contiguous_seq_across_commits(fx: &mut impl Fixture) {
    let mut store = fx.open();
    assert_eq!(store.next_seq(), 1);
    store.commit(events(&store, "e", 2)).expect("commit 1..=2");
    assert_eq!(store.next_seq(), 3);
    let state_only = Commit {
        puts: vec![(Key::Meta("engine".into()), b"g".to_vec())],
        ..Commit::default()
    };
    store.commit(state_only).expect("commit without events");
    assert_eq!(store.next_seq(), 3, "a commit without events takes no seq");
    store.commit(Commit::default()).expect("empty commit");
    store.commit(events(&store, "e", 1)).expect("commit 3");
    assert_eq!(store.next_seq(), 4);
    assert_eq!(
        all_outbox(&store),
        vec![event(1, "e1"), event(2, "e2"), event(3, "e3")]
    );
}

fn reopen_restores_everything(fx: &mut impl Fixture) {
    let mut store = fx.open();
    let commit = Commit {
        puts: vec![
            (Key::Meta("engine".into()), b"{\"baseline\":true}".to_vec()),
            (Key::Tag(vec![0x30, 0x74, 0xff]), b"tag-a".to_vec()),
            (Key::Tag(vec![0x30, 0x00]), b"tag-b".to_vec()),
            (Key::Location("shelf-2".into()), b"loc-2".to_vec()),
            (Key::Location("shelf-1".into()), b"loc-1".to_vec()),
            (Key::Reader("r1".into()), b"reader".to_vec()),
            (Key::Snapshot("shelf-1".into()), b"{\"counts\":{}}".to_vec()),
            (Key::Tag(vec![0x01]), b"gone".to_vec()),
        ],
        deletes: vec![Key::Tag(vec![0x01])],
        events: vec![event(1, "a"), event(2, "bb"), event(3, "ccc")],
    };
    store.commit(commit).expect("commit");
    store.outbox_ack(&[2]).expect("ack");
    store.flush().expect("flush");
    let state = all_state(&store);
    let outbox = all_outbox(&store);
    let stats = store.outbox_stats();

    let mut store = fx.reopen(store);
    assert_eq!(store.next_seq(), 4);
    assert_eq!(all_state(&store), state);
    assert_eq!(all_outbox(&store), outbox);
    assert_eq!(store.outbox_stats(), stats);
    assert_eq!(
        store.scan(KeySpace::Tag).expect("scan tags"),
        vec![
            (Key::Tag(vec![0x30, 0x00]), b"tag-b".to_vec()),
            (Key::Tag(vec![0x30, 0x74, 0xff]), b"tag-a".to_vec()),
        ],
        "key order, deleted key gone"
    );
    assert_eq!(
        store.scan(KeySpace::Location).expect("scan locations"),
        vec![
            (Key::Location("shelf-1".into()), b"loc-1".to_vec()),
            (Key::Location("shelf-2".into()), b"loc-2".to_vec()),
        ]
    );

    // An empty outbox does not reset the seq: acked seqs are never reused.
    store.outbox_ack(&[1, 3]).expect("ack all");
    let store = fx.reopen(store);
    assert_eq!(store.outbox_stats(), OutboxStats::default());
    assert_eq!(store.next_seq(), 4);
}

fn bad_commits_write_nothing(fx: &mut impl Fixture) {
    let mut store = fx.open();
    store.commit(events(&store, "e", 2)).expect("commit 1..=2");
    let put = (Key::Tag(b"x".to_vec()), b"must not land".to_vec());

    let skips = Commit {
        puts: vec![put.clone()],
        deletes: vec![],
        events: vec![event(4, "e4")],
    };
    let err = store.commit(skips).expect_err("seq 4 after 2");
    assert!(
        matches!(
            err,
            StoreError::SeqGap {
                got: 4,
                expected: 3
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "outbox seq 4 does not follow next seq 3");

    let gap_inside = Commit {
        puts: vec![put.clone()],
        deletes: vec![Key::Meta("m".into())],
        events: vec![event(3, "e3"), event(5, "e5")],
    };
    let err = store.commit(gap_inside).expect_err("3, 5");
    assert_eq!(err.to_string(), "outbox seq 5 does not follow next seq 4");

    let replay = Commit {
        events: vec![event(2, "again")],
        ..Commit::default()
    };
    let err = store.commit(replay).expect_err("seq reused");
    assert!(
        matches!(
            err,
            StoreError::SeqGap {
                got: 2,
                expected: 3
            }
        ),
        "{err:?}"
    );

    let reserved = Commit {
        puts: vec![put.clone(), (Key::Meta("next_seq".into()), vec![0; 8])],
        ..Commit::default()
    };
    let err = store.commit(reserved).expect_err("reserved key");
    assert_eq!(
        err.to_string(),
        "key m/next_seq is reserved: the store maintains it itself"
    );
    let reserved_delete = Commit {
        deletes: vec![Key::Meta("next_seq".into())],
        ..Commit::default()
    };
    assert!(store.commit(reserved_delete).is_err());
    assert!(store.get(&Key::Meta("next_seq".into())).is_err());

    let store = fx.reopen(store);
    assert_eq!(store.next_seq(), 3);
    assert_eq!(seqs(&all_outbox(&store)), vec![1, 2]);
    assert_eq!(store.get(&put.0).expect("get"), None);
    assert!(all_state(&store).is_empty(), "{:?}", all_state(&store));
    assert_eq!(
        store.outbox_stats(),
        OutboxStats {
            entries: 2,
            bytes: 4
        }
    );
}

fn ack_deletes_only_named_entries(fx: &mut impl Fixture) {
    let mut store = fx.open();
    store.commit(events(&store, "e", 5)).expect("commit");
    store
        .outbox_ack(&[4, 2, 4, 99])
        .expect("ack with a duplicate and an unknown seq");
    assert_eq!(seqs(&all_outbox(&store)), vec![1, 3, 5]);
    assert_eq!(
        store.outbox_stats(),
        OutboxStats {
            entries: 3,
            bytes: 6
        }
    );
    store
        .outbox_ack(&[2, 4])
        .expect("repeated PUBACKs are harmless");
    store.outbox_ack(&[]).expect("nothing to ack");
    assert_eq!(
        store.outbox_stats(),
        OutboxStats {
            entries: 3,
            bytes: 6
        }
    );
    let store = fx.reopen(store);
    assert_eq!(seqs(&all_outbox(&store)), vec![1, 3, 5]);
    assert_eq!(store.next_seq(), 6);
}

fn outbox_reads_in_seq_order(fx: &mut impl Fixture) {
    let mut store = fx.open();
    assert!(store.outbox_first(10).expect("first").is_empty());
    // Past 255 and 65535, where a little-endian or decimal key would sort wrongly.
    store.commit(events(&store, "e", 300)).expect("commit");
    store.outbox_ack(&[1, 3]).expect("ack");
    assert_eq!(seqs(&store.outbox_first(3).expect("first")), vec![2, 4, 5]);
    assert_eq!(
        seqs(&store.outbox_after(0, 2).expect("after 0")),
        vec![2, 4]
    );
    assert_eq!(
        seqs(&store.outbox_after(2, 2).expect("after 2")),
        vec![4, 5]
    );
    assert_eq!(
        seqs(&store.outbox_after(254, 3).expect("after 254")),
        vec![255, 256, 257]
    );
    assert_eq!(
        seqs(&store.outbox_after(298, 10).expect("tail")),
        vec![299, 300]
    );
    assert!(store.outbox_after(300, 10).expect("past end").is_empty());
    assert!(store.outbox_after(u64::MAX, 10).expect("max").is_empty());
    assert!(store.outbox_first(0).expect("limit 0").is_empty());
    assert_eq!(
        store.outbox_after(255, 1).expect("payload")[0],
        event(256, "e256")
    );
    assert_eq!(all_outbox(&store).len(), 298);
}

fn stats_follow_commit_ack_drop_reopen(fx: &mut impl Fixture) {
    let mut store = fx.open();
    assert_eq!(store.outbox_stats(), OutboxStats::default());
    store.commit(events(&store, "ab", 3)).expect("commit"); // "ab1" "ab2" "ab3"
    assert_eq!(
        store.outbox_stats(),
        OutboxStats {
            entries: 3,
            bytes: 9
        }
    );
    store.commit(events(&store, "x", 7)).expect("commit"); // "x4".."x9" + "x10"
    assert_eq!(
        store.outbox_stats(),
        OutboxStats {
            entries: 10,
            bytes: 24
        }
    );
    store.outbox_ack(&[1, 10]).expect("ack");
    assert_eq!(
        store.outbox_stats(),
        OutboxStats {
            entries: 8,
            bytes: 18
        }
    );
    let store = fx.reopen(store);
    assert_eq!(
        store.outbox_stats(),
        OutboxStats {
            entries: 8,
            bytes: 18
        }
    );
    let mut store = store;
    assert_eq!(
        store
            .outbox_drop_oldest(6, u64::MAX, &|_| false)
            .expect("drop"),
        2
    );
    assert_eq!(
        store.outbox_stats(),
        OutboxStats {
            entries: 6,
            bytes: 12
        }
    );
    let store = fx.reopen(store);
    assert_eq!(
        store.outbox_stats(),
        OutboxStats {
            entries: 6,
            bytes: 12
        }
    );
    assert_eq!(seqs(&all_outbox(&store)), vec![4, 5, 6, 7, 8, 9]);
}

/// Payloads starting with `k` are the ones to keep (see [`kind_of`]).
fn keep_k(kind: EventKind) -> bool {
    kind == EventKind::DockReceipt
}

fn drop_oldest_policy(fx: &mut impl Fixture) {
    let mut store = fx.open();
    // 1:k 2:d 3:k 4:d 5:d 6:k 7:d 8:k, every payload 2 bytes.
    let kinds = "kdkddkdk";
    let commit = Commit {
        events: kinds
            .chars()
            .zip(1..)
            .map(|(kind, seq)| event(seq, &format!("{kind}{seq}")))
            .collect(),
        ..Commit::default()
    };
    store.commit(commit).expect("commit");

    assert_eq!(store.outbox_drop_oldest(8, 16, &keep_k).expect("within"), 0);
    assert_eq!(
        store
            .outbox_drop_oldest(u64::MAX, u64::MAX, &keep_k)
            .expect("no cap"),
        0
    );

    // Over by 2 entries: the two oldest droppable ones go, kept ones are skipped.
    assert_eq!(
        store
            .outbox_drop_oldest(6, u64::MAX, &keep_k)
            .expect("entries cap"),
        2
    );
    assert_eq!(seqs(&all_outbox(&store)), vec![1, 3, 5, 6, 7, 8]);

    // Over by bytes only (12 bytes, cap 9): two more droppable ones.
    assert_eq!(
        store
            .outbox_drop_oldest(u64::MAX, 9, &keep_k)
            .expect("bytes cap"),
        2
    );
    assert_eq!(seqs(&all_outbox(&store)), vec![1, 3, 6, 8]);

    // Nothing droppable left: the oldest of any kind go.
    assert_eq!(
        store
            .outbox_drop_oldest(2, u64::MAX, &keep_k)
            .expect("hard cap"),
        2
    );
    assert_eq!(seqs(&all_outbox(&store)), vec![6, 8]);
    assert_eq!(
        store.outbox_stats(),
        OutboxStats {
            entries: 2,
            bytes: 4
        }
    );

    // Mixed: droppables first, then kept ones, in one call.
    store.commit(events(&store, "d", 2)).expect("commit 9, 10"); // 6:k 8:k 9:d 10:d
    assert_eq!(
        store
            .outbox_drop_oldest(1, u64::MAX, &keep_k)
            .expect("mixed"),
        3
    );
    assert_eq!(all_outbox(&store), vec![event(8, "k8")]);

    // Cap 0 empties the outbox; next_seq is untouched.
    assert_eq!(store.outbox_drop_oldest(0, 0, &keep_k).expect("empty"), 1);
    assert!(all_outbox(&store).is_empty());
    assert_eq!(store.next_seq(), 11);
    let store = fx.reopen(store);
    assert_eq!(store.next_seq(), 11);
    assert_eq!(store.outbox_stats(), OutboxStats::default());
}

fn get_and_scan(fx: &mut impl Fixture) {
    let mut store = fx.open();
    store.commit(events(&store, "e", 1)).expect("seq");
    let commit = Commit {
        puts: vec![
            (Key::Meta("b".into()), b"2".to_vec()),
            (Key::Meta("a".into()), b"1".to_vec()),
            (Key::Meta("a".into()), b"1 again".to_vec()),
            (Key::Reader("r1".into()), b"r".to_vec()),
            (Key::Reader("r2".into()), b"deleted after put".to_vec()),
        ],
        deletes: vec![Key::Reader("r2".into()), Key::Reader("never there".into())],
        events: vec![],
    };
    store.commit(commit).expect("commit");
    assert_eq!(
        store.get(&Key::Meta("a".into())).expect("get"),
        Some(b"1 again".to_vec()),
        "last put wins"
    );
    assert_eq!(
        store.get(&Key::Reader("r2".into())).expect("get"),
        None,
        "delete after put"
    );
    assert_eq!(
        store.get(&Key::Location("a".into())).expect("get"),
        None,
        "other space"
    );
    assert_eq!(
        store.scan(KeySpace::Meta).expect("scan"),
        vec![
            (Key::Meta("a".into()), b"1 again".to_vec()),
            (Key::Meta("b".into()), b"2".to_vec()),
        ],
        "m/next_seq is not shown"
    );
    assert!(store.scan(KeySpace::Snapshot).expect("scan").is_empty());
}

macro_rules! for_both_stores {
    ($($name:ident),* $(,)?) => {
        mod on_sled {
            $(#[test] fn $name() { super::$name(&mut super::SledFixture::new()) })*
        }
        mod in_memory {
            $(#[test] fn $name() { super::$name(&mut super::MemoryFixture) })*
        }
    };
}

for_both_stores!(
    contiguous_seq_across_commits,
    reopen_restores_everything,
    bad_commits_write_nothing,
    ack_deletes_only_named_entries,
    outbox_reads_in_seq_order,
    stats_follow_commit_ack_drop_reopen,
    drop_oldest_policy,
    get_and_scan,
);

// ---- sled only ----

#[test]
fn sled_open_creates_the_dir_and_reports_recovery() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("var/lib/shelfd");
    let mut store = SledStore::open(&dir, 1 << 20).expect("open");
    assert!(!store.was_recovered());
    assert_eq!(store.db_path(), dir.join("db"));
    store.commit(events(&store, "e", 1)).expect("commit");
    store.flush().expect("flush");
    assert!(store.size_on_disk() > 0);
    drop(store);
    let store = SledStore::open(&dir, 1 << 20).expect("reopen");
    assert!(store.was_recovered());
    assert_eq!(store.next_seq(), 2);
}

#[test]
fn sled_second_open_of_a_state_dir_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let _first = SledStore::open(tmp.path(), 1 << 20).expect("open");
    let err = SledStore::open(tmp.path(), 1 << 20).expect_err("second open");
    assert!(matches!(err, StoreError::InUse { .. }), "{err:?}");
    let msg = err.to_string();
    let expected = format!(
        "state dir {} is in use by another shelfd",
        tmp.path().display()
    );
    assert!(msg.starts_with(&expected), "{msg}");
}

#[test]
fn sled_state_dir_that_is_a_file_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("state");
    std::fs::write(&file, b"not a dir").expect("write");
    let err = SledStore::open(&file, 1 << 20).expect_err("a file");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("store {}: ", file.display())),
        "{msg}"
    );
}

#[test]
fn sled_rejects_an_outbox_ahead_of_next_seq() {
    // What no batch of ours can produce: outbox entries without m/next_seq.
    let tmp = tempfile::tempdir().expect("tempdir");
    {
        let db = sled::open(tmp.path().join("db")).expect("raw sled");
        db.insert(keys::outbox_key(7), b"orphan".to_vec())
            .expect("insert");
        db.flush().expect("flush");
    }
    let err = SledStore::open(tmp.path(), 1 << 20).expect_err("corrupt");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("outbox holds seq 7"), "{err}");
}

// ---- model test: sled and memory side by side ----

#[derive(Debug, Clone)]
enum Op {
    /// Puts, deletes and `events` new events; `skew` shifts the first seq (0 = valid).
    Commit {
        puts: Vec<(Key, Vec<u8>)>,
        deletes: Vec<Key>,
        events: Vec<Vec<u8>>,
        skew: i8,
    },
    /// Acks the outbox entries at these positions (modulo its length), plus maybe a stale seq.
    Ack(Vec<usize>, Option<u64>),
    DropOldest {
        max_entries: u64,
        max_bytes: u64,
    },
    Reopen,
}

fn small_key() -> impl Strategy<Value = Key> {
    let id = prop_oneof![
        Just(String::new()),
        "[ab]{1,2}",
        Just("next_seq".to_owned())
    ];
    prop_oneof![
        id.clone().prop_map(Key::Meta),
        proptest::collection::vec(prop_oneof![Just(0u8), Just(0xff), Just(b'a')], 0..3)
            .prop_map(Key::Tag),
        id.clone().prop_map(Key::Location),
        id.clone().prop_map(Key::Reader),
        id.prop_map(Key::Snapshot),
    ]
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(b'k'), Just(b'd')],
        proptest::collection::vec(any::<u8>(), 0..6),
    )
        .prop_map(|(kind, mut rest)| {
            rest.insert(0, kind);
            rest
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (
            proptest::collection::vec((small_key(), proptest::collection::vec(any::<u8>(), 0..4)), 0..4),
            proptest::collection::vec(small_key(), 0..3),
            proptest::collection::vec(payload(), 0..4),
            prop_oneof![8 => Just(0i8), 1 => -2i8..=2],
        )
            .prop_map(|(puts, deletes, events, skew)| Op::Commit { puts, deletes, events, skew }),
        3 => (proptest::collection::vec(any::<usize>(), 0..4), proptest::option::of(0u64..40))
            .prop_map(|(at, stale)| Op::Ack(at, stale)),
        1 => (0u64..8, 0u64..40).prop_map(|(max_entries, max_bytes)| Op::DropOldest { max_entries, max_bytes }),
        1 => Just(Op::Reopen),
    ]
}

fn assert_same(sled: &SledStore, memory: &MemoryStore) -> Result<(), TestCaseError> {
    prop_assert_eq!(sled.next_seq(), memory.next_seq());
    prop_assert_eq!(sled.outbox_stats(), memory.outbox_stats());
    prop_assert_eq!(all_outbox(sled), all_outbox(memory));
    for space in KeySpace::ALL {
        prop_assert_eq!(
            sled.scan(space).expect("scan"),
            memory.scan(space).expect("scan")
        );
    }
    let outbox = all_outbox(memory);
    let bytes: usize = outbox.iter().map(|e| e.payload.len()).sum();
    prop_assert_eq!(memory.outbox_stats().entries, outbox.len() as u64);
    prop_assert_eq!(memory.outbox_stats().bytes, bytes as u64);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn sled_and_memory_agree(ops in proptest::collection::vec(op(), 1..24)) {
        let mut fx = SledFixture::new();
        let mut sled = fx.open();
        let mut memory = MemoryStore::new();
        for op in ops {
            match op {
                Op::Commit { puts, deletes, events, skew } => {
                    let first = memory.next_seq().saturating_add_signed(skew.into());
                    let commit = Commit {
                        puts,
                        deletes,
                        events: (first..).zip(events).map(|(seq, payload)| OutboxEntry { seq, kind: kind_of(&payload), payload }).collect(),
                    };
                    let a = sled.commit(commit.clone()).map_err(|e| e.to_string());
                    let b = memory.commit(commit).map_err(|e| e.to_string());
                    prop_assert_eq!(a, b);
                }
                Op::Ack(at, stale) => {
                    let outbox = all_outbox(&memory);
                    let mut acked: Vec<u64> = if outbox.is_empty() {
                        Vec::new()
                    } else {
                        at.iter().map(|i| outbox[i % outbox.len()].seq).collect()
                    };
                    acked.extend(stale);
                    sled.outbox_ack(&acked).expect("sled ack");
                    memory.outbox_ack(&acked).expect("memory ack");
                }
                Op::DropOldest { max_entries, max_bytes } => {
                    let a = sled.outbox_drop_oldest(max_entries, max_bytes, &keep_k).expect("sled drop");
                    let b = memory.outbox_drop_oldest(max_entries, max_bytes, &keep_k).expect("memory drop");
                    prop_assert_eq!(a, b);
                    let stats = memory.outbox_stats();
                    prop_assert!(stats.entries <= max_entries && stats.bytes <= max_bytes);
                }
                Op::Reopen => sled = fx.reopen(sled),
            }
            assert_same(&sled, &memory)?;
        }
    }
}

/// The payload an earlier shelfd wrote for event `seq` of `body`.
fn legacy_payload(seq: u64, body: EventBody) -> Vec<u8> {
    let origin = Origin {
        store: "s1".into(),
        gateway: "gw-1".into(),
    };
    Event {
        seq,
        time_ms: 1_795_341_600_000,
        body,
    }
    .to_json(&origin)
    .into_bytes()
}

#[test]
fn an_outbox_written_before_kinds_were_stored_loads_routes_and_drops_by_kind() {
    let fx = SledFixture::new();
    let arrived = legacy_payload(
        1,
        EventBody::TagArrived {
            epc: "3074257bf7194e4000001a85".into(),
            sku: None,
            location: "shelf-a".into(),
        },
    );
    let status = legacy_payload(
        2,
        EventBody::ReaderStatus {
            reader: "r1".into(),
            state: ReaderState::Offline,
            since: "2026-11-22T10:00:00.000Z".into(),
        },
    );
    // The layout of the previous version: `o/<seq BE>` → the bare payload, and `m/next_seq`.
    {
        let db = sled::open(fx.state_dir().join("db")).expect("sled");
        db.insert(keys::outbox_key(1), arrived.clone())
            .expect("put 1");
        db.insert(keys::outbox_key(2), status.clone())
            .expect("put 2");
        db.insert(keys::NEXT_SEQ_KEY, &keys::encode_seq(3)[..])
            .expect("next_seq");
        db.flush().expect("flush");
    }
    let mut fx = fx;
    let mut store = fx.open();
    assert_eq!(store.next_seq(), 3);
    assert_eq!(
        store.outbox_stats(),
        OutboxStats {
            entries: 2,
            bytes: (arrived.len() + status.len()) as u64
        }
    );
    assert_eq!(
        all_outbox(&store),
        vec![
            OutboxEntry {
                seq: 1,
                kind: EventKind::TagArrived,
                payload: arrived.clone()
            },
            OutboxEntry {
                seq: 2,
                kind: EventKind::ReaderStatus,
                payload: status.clone()
            },
        ]
    );
    // The publisher's topic comes from the loaded kind.
    let topics = shelfd_core::topics::Topics::new("shelfd/v1", "s1", "gw-1");
    let entry = &all_outbox(&store)[1];
    assert_eq!(
        topics.build(&shelfd_core::topics::Topic::Event(entry.kind)),
        "shelfd/v1/s1/gw-1/event/reader.status"
    );
    // New entries are written with their kind next to old ones; the cap drops `tag.*` first,
    // old or new.
    store
        .commit(Commit {
            events: vec![OutboxEntry {
                seq: 3,
                kind: EventKind::TagMoved,
                payload: b"{}".to_vec(),
            }],
            ..Commit::default()
        })
        .expect("commit 3");
    let mut store = fx.reopen(store);
    assert_eq!(
        store.outbox_stats().bytes,
        (arrived.len() + status.len() + 2) as u64
    );
    assert_eq!(
        store
            .outbox_drop_oldest(1, u64::MAX, &kept_when_full)
            .expect("drop"),
        2
    );
    assert_eq!(
        all_outbox(&store),
        vec![OutboxEntry {
            seq: 2,
            kind: EventKind::ReaderStatus,
            payload: status
        }]
    );
    store.outbox_ack(&[2]).expect("ack");
    assert_eq!(store.outbox_stats(), OutboxStats::default());
}

#[test]
fn an_unreadable_outbox_value_is_corrupt_naming_its_seq() {
    let fx = SledFixture::new();
    {
        let db = sled::open(fx.state_dir().join("db")).expect("sled");
        db.insert(keys::outbox_key(1), &b"{\"v\":1}"[..])
            .expect("put");
        db.insert(keys::NEXT_SEQ_KEY, &keys::encode_seq(2)[..])
            .expect("next_seq");
        db.flush().expect("flush");
    }
    let mut fx = fx;
    let store = fx.open();
    match store.outbox_first(10) {
        Err(StoreError::Corrupt { what, .. }) => {
            assert!(what.starts_with("outbox seq 1: "), "{what}")
        }
        other => panic!("{other:?}"),
    }
}
