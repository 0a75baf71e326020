use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn tag(sku: u32) -> Tag {
    Tag::candidate(sku, 0, 0, 1, 1.0, 0)
}

/// EPC `i`: short ones inline, every seventh long (heap-held), as SGTIN-198s are.
fn key(i: u16) -> EpcKey {
    let mut b = vec![0x30, 0x74];
    b.extend_from_slice(&i.to_be_bytes());
    if i % 7 == 0 {
        b.resize(25, 0xab);
    } else {
        b.resize(12, 0);
    }
    EpcKey::new(&b)
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u16, u32),
    Remove(u16),
    Set(u16, u32),
}

fn op() -> impl Strategy<Value = Op> {
    // A small key space, so removals and replacements hit present keys often.
    prop_oneof![
        4 => (0..3000u16, any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
        3 => (0..3000u16).prop_map(Op::Remove),
        1 => (0..3000u16, any::<u32>()).prop_map(|(k, v)| Op::Set(k, v)),
    ]
}

proptest! {
    /// Any sequence of inserts, removals and updates leaves the table holding exactly what a
    /// BTreeMap model holds, across chunk boundaries (3 000 keys > 2 chunks).
    #[test]
    fn behaves_like_a_map(ops in proptest::collection::vec(op(), 1..6000)) {
        let mut t = TagTable::new();
        let mut model: BTreeMap<u16, u32> = BTreeMap::new();
        for o in ops {
            match o {
                Op::Insert(k, v) => {
                    let old = t.insert(key(k), tag(v)).map(|x| x.sku);
                    prop_assert_eq!(old, model.insert(k, v));
                }
                Op::Remove(k) => {
                    let old = t.remove(&key(k)).map(|x| x.sku);
                    prop_assert_eq!(old, model.remove(&k));
                }
                Op::Set(k, v) => {
                    if let Some(x) = t.get_mut(&key(k)) {
                        x.sku = v;
                    }
                    if let Some(m) = model.get_mut(&k) {
                        *m = v;
                    }
                }
            }
        }
        prop_assert_eq!(t.len(), model.len());
        for (k, v) in &model {
            prop_assert_eq!(t.get(&key(*k)).map(|x| x.sku), Some(*v));
        }
        let mut seen: Vec<(EpcKey, u32)> = t.iter().map(|(k, x)| (k.clone(), x.sku)).collect();
        seen.sort();
        let mut want: Vec<(EpcKey, u32)> = model.iter().map(|(k, v)| (key(*k), *v)).collect();
        want.sort();
        prop_assert_eq!(seen, want);
    }
}

#[test]
fn emptying_the_table_frees_its_chunks_and_it_works_again() {
    let mut t = TagTable::new();
    for i in 0..2500 {
        assert!(t.insert(key(i), tag(u32::from(i))).is_none());
    }
    assert_eq!(t.chunks.len(), 3);
    for i in (0..2500).rev().step_by(2).chain((0..2500).step_by(2)) {
        assert_eq!(t.remove(&key(i)).map(|x| x.sku), Some(u32::from(i)));
    }
    assert!(t.is_empty());
    assert!(t.chunks.is_empty());
    assert!(t.remove(&key(1)).is_none());
    t.insert(key(9), tag(9));
    assert_eq!(t.get(&key(9)).map(|x| x.sku), Some(9));
    assert!(t.contains_key(&key(9)) && !t.contains_key(&key(8)));
}

#[test]
fn bytes_count_index_chunks_and_long_keys() {
    let mut t = TagTable::new();
    t.reserve(100_000);
    for i in 0..30_000u16 {
        t.insert(key(i), tag(0));
    }
    let entry = std::mem::size_of::<Entry>();
    let chunks = 30 * CHUNK * entry;
    // 30 000 keys fit 131 072 buckets' index; every seventh key holds 25 bytes on the heap.
    let long = (0..30_000u16).filter(|i| i % 7 == 0).count();
    let heap = long * (std::mem::size_of::<crate::reconcile::epc_key::LongEpc>() + 25);
    assert_eq!(t.bytes(), 131_072 * 5 + chunks + heap);
}
