//! Scenario tests of the reconciliation engine: one or more per DESIGN.md behaviour (1–11),
//! driven by the project's seeded store simulator (noisy RSSI, read probability < 1,
//! cross-reads, occlusion gaps, outages, stray reads, Session-2 populations).

use shelfd::config::LocationKind;
use shelfd::engine_store::EngineStore;
use shelfd::store::{MemoryStore, SledStore};
use shelfd_core::events::{DepartCause, Event, EventBody, Origin, ReaderState};
use shelfd_core::readlog::{LinkState, Record, TagRead};
use shelfd_core::reconcile::{Engine, Input, Knobs, StoreRules, Topology};
use shelfd_core::sim::{StoreSim, TagProfile};
use shelfd_testkit::hex;
use std::collections::BTreeMap;

const T0: u64 = 1_795_338_000_000;

fn topo() -> Topology {
    use LocationKind::*;
    Topology::new(
        &[
            ("a", Shelf),
            ("b", Shelf),
            ("c", Shelf),
            ("backroom", Backroom),
            ("pos", Pos),
            ("exit", Exit),
        ],
        &[
            ("r1", &[(1, "a"), (2, "a"), (3, "b"), (4, "c")]),
            ("r2", &[(1, "pos"), (2, "exit"), (3, "backroom")]),
        ],
    )
}

fn knobs() -> Knobs {
    Knobs {
        baseline_window: 0,
        ..Knobs::default()
    }
}

fn sim(seed: u64) -> StoreSim {
    let mut s = StoreSim::new(seed, T0);
    s.reader("r1", 500, &[(1, "a"), (2, "a"), (3, "b"), (4, "c")], true);
    s.reader("r2", 500, &[(1, "pos"), (2, "exit"), (3, "backroom")], true);
    for (x, y) in [("a", "b"), ("b", "c")] {
        s.cross_read(x, y, 0.3, 12.0);
        s.cross_read(y, x, 0.3, 12.0);
    }
    s
}

fn input<'a>(e: &Engine, r: &'a Record) -> Option<Input<'a>> {
    match r {
        Record::Read(TagRead {
            t,
            reader,
            antenna,
            epc,
            rssi,
        }) => Some(Input::Read {
            t: *t,
            reader: e.topology().reader_index(reader)?,
            antenna: *antenna,
            epc,
            rssi: *rssi,
        }),
        Record::Link { t, reader, link } => Some(Input::Link {
            t: *t,
            reader: e.topology().reader_index(reader)?,
            state: *link,
        }),
        _ => None,
    }
}

fn feed(e: &mut Engine, records: &[Record]) -> Vec<Event> {
    let mut out = Vec::new();
    for r in records {
        if let Some(i) = input(e, r) {
            e.handle(i, &mut out);
        }
    }
    out
}

fn kinds(events: &[Event]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for e in events {
        *m.entry(e.body.kind().as_str()).or_insert(0) += 1;
    }
    m
}

fn of_kind<'a>(events: &'a [Event], kind: &str) -> Vec<&'a Event> {
    events
        .iter()
        .filter(|e| e.body.kind().as_str() == kind)
        .collect()
}

fn count(events: &[Event], kind: &str) -> usize {
    of_kind(events, kind).len()
}

fn stock_at(e: &Engine, loc: &str) -> u64 {
    e.snapshots()
        .into_iter()
        .filter(|s| s.location == loc)
        .flat_map(|s| s.counts.into_values())
        .sum()
}

/// Arrives `n` tags at `a` and returns the engine with them confirmed and published.
fn stocked(
    seed: u64,
    n: usize,
    profile: TagProfile,
) -> (StoreSim, Engine, Vec<Vec<u8>>, Vec<Event>) {
    let mut s = sim(seed);
    let epcs = s.add_tags(n, 1, "a", profile);
    s.run_for(60_000);
    let mut e = Engine::new(topo(), knobs());
    let ev = feed(&mut e, &s.take_records());
    (s, e, epcs, ev)
}

#[test]
fn b1_a_stray_read_or_a_passer_by_creates_nothing() {
    let mut s = sim(1);
    let stray = shelfd_core::sim::sim_epc(9, 1);
    let passer = shelfd_core::sim::sim_epc(9, 2);
    s.run_for(5_000);
    s.stray_read(&stray, "r1", 3, -58.0);
    s.run_for(1_000);
    // A customer carrying an item past shelf c: two reads within a second.
    s.stray_read(&passer, "r1", 4, -62.0);
    s.run_for(400);
    s.stray_read(&passer, "r1", 4, -60.0);
    // A weak read below min_rssi counts for nothing at all.
    for _ in 0..5 {
        s.run_for(500);
        s.stray_read(&stray, "r1", 1, -95.0);
    }
    s.run_for(120_000);
    let mut e = Engine::new(topo(), knobs());
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(count(&ev, "tag.arrived"), 0, "{ev:#?}");
    assert_eq!(count(&ev, "stock.changed"), 0);
    assert!(e.snapshots().iter().all(|s| s.counts.is_empty()));
    assert!(e.stats().weak_reads >= 5);
}

#[test]
fn b1_confirmed_arrivals_one_per_tag() {
    let (_, e, epcs, ev) = stocked(2, 20, TagProfile::SHELF);
    assert_eq!(count(&ev, "tag.arrived"), 20, "{:?}", kinds(&ev));
    assert_eq!(count(&ev, "tag.moved"), 0);
    assert_eq!(stock_at(&e, "a"), 20);
    assert_eq!(
        stock_at(&e, "b"),
        0,
        "cross-reads at b must not create stock"
    );
    let arrived: Vec<&str> = ev
        .iter()
        .filter_map(|x| match &x.body {
            EventBody::TagArrived { location, .. } => Some(location.as_str()),
            _ => None,
        })
        .collect();
    assert!(arrived.iter().all(|l| *l == "a"));
    assert_eq!(epcs.len(), 20);
}

#[test]
fn b2_stationary_tags_with_cross_reads_and_gaps_never_move() {
    for seed in 10..13 {
        let (mut s, mut e, epcs, _) = stocked(seed, 30, TagProfile::SHELF);
        let mut ev = Vec::new();
        // 30 minutes: every 20 s someone stands in front of the shelf and hides a few tags for
        // 3–15 s, while shelf b keeps cross-reading them.
        for round in 0..90u64 {
            for k in 0..4 {
                let i = ((round * 7 + k * 13) % 30) as usize;
                let ms = s.rng().range(3_000, 15_000);
                s.occlude(&epcs[i], ms);
            }
            s.run_for(20_000);
            ev.extend(feed(&mut e, &s.take_records()));
        }
        assert_eq!(
            kinds(&ev).get("tag.moved"),
            None,
            "seed {seed}: {:?}",
            kinds(&ev)
        );
        assert_eq!(
            kinds(&ev).get("tag.departed"),
            None,
            "seed {seed}: {:?}",
            kinds(&ev)
        );
        assert_eq!(kinds(&ev).get("tag.arrived"), None);
        assert_eq!(stock_at(&e, "a"), 30);
    }
}

#[test]
fn b3_a_genuine_move_gives_exactly_one_moved_within_bounded_latency() {
    let (mut s, mut e, epcs, _) = stocked(20, 10, TagProfile::SHELF);
    let moved_at = s.now();
    s.move_tag(&epcs[3], Some("c"));
    s.run_for(180_000);
    let ev = feed(&mut e, &s.take_records());
    let moves = of_kind(&ev, "tag.moved");
    assert_eq!(moves.len(), 1, "{ev:#?}");
    assert!(
        matches!(&moves[0].body, EventBody::TagMoved { epc, from, to, .. } if *epc == hex(&epcs[3]) && from == "a" && to == "c")
    );
    let latency = moves[0].time_ms - moved_at;
    assert!(latency <= 40_000, "move took {latency} ms");
    assert_eq!(
        count(&ev, "tag.departed") + count(&ev, "tag.arrived"),
        0,
        "{:?}",
        kinds(&ev)
    );
    assert_eq!((stock_at(&e, "a"), stock_at(&e, "c")), (9, 1));
}

#[test]
fn b3_a_move_to_the_next_shelf_despite_cross_reads() {
    // Moving a → b, where b already cross-read the tag and a keeps cross-reading it afterwards.
    let (mut s, mut e, epcs, _) = stocked(21, 10, TagProfile::SHELF);
    s.move_tag(&epcs[0], Some("b"));
    s.run_for(180_000);
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(count(&ev, "tag.moved"), 1, "{ev:#?}");
    assert_eq!((stock_at(&e, "a"), stock_at(&e, "b")), (9, 1));
}

/// A read by r1 at `t_s` seconds after T0 (antenna 3 covers b, 4 covers c).
fn r1_read(t_s: f64, antenna: u16, epc: &[u8], rssi: f32) -> Record {
    Record::Read(TagRead {
        t: T0 + (t_s * 1000.0) as u64,
        reader: "r1".into(),
        antenna,
        epc: epc.to_vec(),
        rssi: Some(rssi),
    })
}

/// Five tags resident on shelf c, read at -58 dBm every second over `0..secs` (they teach the
/// engine c's level), merged in time order with `extra`.
fn with_residents_at_c(secs: u32, mut extra: Vec<Record>) -> Vec<Record> {
    for i in 0..secs {
        for n in 0..5 {
            let epc = shelfd_core::sim::sim_epc(3, 500 + n);
            extra.push(r1_read(f64::from(i), 4, &epc, -58.0));
        }
    }
    extra.sort_by_key(Record::t);
    extra
}

#[test]
fn b2_weak_cross_reads_of_a_tag_its_own_shelf_misses_do_not_confirm_it_next_door() {
    // Tag x sits on c, but c's antenna misses it for 40 s (a slow Session-2 tag, or an
    // occluded one) while b's antenna cross-reads it 12 dB down. Tag y really is on b, whose
    // antenna reads everything weakly: it is held, not refused.
    let x = shelfd_core::sim::sim_epc(3, 1);
    let y = shelfd_core::sim::sim_epc(3, 2);
    let mut extra = Vec::new();
    for i in 0..20 {
        extra.push(r1_read(10.0 + f64::from(i) * 2.0, 3, &x, -70.0));
    }
    for i in 0..80 {
        extra.push(r1_read(50.0 + f64::from(i), 4, &x, -58.0));
    }
    for i in 0..60 {
        extra.push(r1_read(10.0 + f64::from(i) * 2.0, 3, &y, -70.0));
    }
    let mut e = Engine::new(topo(), knobs());
    let ev = feed(&mut e, &with_residents_at_c(130, extra));
    let arrivals: BTreeMap<String, (String, u64)> = ev
        .iter()
        .filter_map(|x| match &x.body {
            EventBody::TagArrived { epc, location, .. } => {
                Some((epc.clone(), (location.clone(), x.time_ms - T0)))
            }
            _ => None,
        })
        .collect();
    assert_eq!(arrivals[&hex(&x)].0, "c", "{ev:#?}");
    assert_eq!(arrivals[&hex(&y)].0, "b", "{ev:#?}");
    assert!(
        arrivals[&hex(&y)].1 >= 10_000 + 60_000,
        "weak reads wait weak_arrive_dwell: {:?}",
        arrivals[&hex(&y)]
    );
    assert_eq!(count(&ev, "tag.moved"), 0, "{ev:#?}");
    assert_eq!((stock_at(&e, "b"), stock_at(&e, "c")), (1, 6));
}

#[test]
fn b2_a_present_tag_is_not_moved_by_weak_reads_while_its_shelf_misses_it() {
    // Tag x on c is read every 4 s, then c misses it for 40 s while b hears it 5 dB down
    // (within the cross-read margin, below half of it); then c reads it again. Later it really
    // moves to b, whose antenna reads it just as weakly: exactly one move, after the hold.
    let x = shelfd_core::sim::sim_epc(3, 1);
    let mut extra = Vec::new();
    for i in 0..25 {
        extra.push(r1_read(f64::from(i) * 4.0, 4, &x, -58.0));
    }
    for i in 0..20 {
        extra.push(r1_read(100.0 + f64::from(i) * 2.0, 3, &x, -63.0));
    }
    for i in 0..20 {
        extra.push(r1_read(140.0 + f64::from(i) * 4.0, 4, &x, -58.0));
    }
    let moved_at = 220.0;
    for i in 0..120 {
        extra.push(r1_read(moved_at + f64::from(i), 3, &x, -63.0));
    }
    let mut e = Engine::new(topo(), knobs());
    let ev = feed(&mut e, &with_residents_at_c(360, extra));
    let moves = of_kind(&ev, "tag.moved");
    assert_eq!(moves.len(), 1, "{ev:#?}");
    assert!(
        matches!(&moves[0].body, EventBody::TagMoved { from, to, .. } if from == "c" && to == "b")
    );
    assert!(moves[0].time_ms - T0 >= 280_000, "{ev:#?}");
    assert_eq!(count(&ev, "tag.departed"), 0, "{ev:#?}");
}

#[test]
fn b1_a_shelf_whose_tags_read_20_db_apart_confirms_them_all_and_new_weak_ones_promptly() {
    // Tags on one shelf read 20 dB apart (orientation, distance). The weakest are held at a
    // first start while nothing is learned, never refused; once the shelf's floor has learned
    // them, a new weak tag arrives as quickly as any.
    let mut s = sim(60);
    for rssi in [-45.0, -55.0, -65.0] {
        let profile = TagProfile {
            rssi,
            ..TagProfile::SHELF
        };
        s.add_tags(10, 1, "a", profile);
    }
    s.run_for(3 * 60_000);
    let mut e = Engine::new(topo(), knobs());
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(count(&ev, "tag.arrived"), 30, "{:?}", kinds(&ev));
    assert_eq!(stock_at(&e, "a"), 30);
    let weak = TagProfile {
        rssi: -65.0,
        ..TagProfile::SHELF
    };
    let added_at = s.now();
    s.add_tags(1, 1, "a", weak);
    s.run_for(30_000);
    let ev = feed(&mut e, &s.take_records());
    let arrived = of_kind(&ev, "tag.arrived");
    assert_eq!(arrived.len(), 1, "{:?}", kinds(&ev));
    assert!(
        arrived[0].time_ms - added_at <= 10_000,
        "arrived {} ms after it was put there",
        arrived[0].time_ms - added_at
    );
    assert_eq!(count(&ev, "tag.moved") + count(&ev, "tag.departed"), 0);
}

#[test]
fn b4_antennas_of_one_location_pool_their_evidence() {
    let epc = shelfd_core::sim::sim_epc(1, 77);
    let mut e = Engine::new(topo(), knobs());
    let mut records = Vec::new();
    // The tag is read only by antenna 1 for a minute, then only by antenna 2: both are "a".
    for i in 0..240u64 {
        let antenna = if i < 120 { 1 } else { 2 };
        records.push(Record::Read(TagRead {
            t: T0 + i * 500,
            reader: "r1".into(),
            antenna,
            epc: epc.clone(),
            rssi: Some(-55.0),
        }));
    }
    let ev = feed(&mut e, &records);
    assert_eq!(count(&ev, "tag.arrived"), 1);
    assert_eq!(
        count(&ev, "tag.moved") + count(&ev, "tag.departed"),
        0,
        "{ev:#?}"
    );
}

#[test]
fn b5_a_removed_tag_departs_after_missed_rereads_on_a_live_reader() {
    let (mut s, mut e, epcs, _) = stocked(30, 10, TagProfile::SHELF);
    let removed_at = s.now();
    s.move_tag(&epcs[0], None);
    s.run_for(300_000);
    let ev = feed(&mut e, &s.take_records());
    let dep = of_kind(&ev, "tag.departed");
    assert_eq!(dep.len(), 1, "{ev:#?}");
    assert!(
        matches!(&dep[0].body, EventBody::TagDeparted { cause: DepartCause::Missing, from, .. } if from == "a")
    );
    let after = dep[0].time_ms - removed_at;
    assert!(
        (20_000..=60_000).contains(&after),
        "departed {after} ms after removal"
    );
    assert_eq!(stock_at(&e, "a"), 9);
}

#[test]
fn b5_slow_session2_population_does_not_false_depart_but_does_depart() {
    // A first start among slow tags, before any re-read interval or level is learned: a tag
    // must neither depart after a long first gap nor arrive at the next shelf whose antennas
    // happened to read it first (weak reads wait `weak_arrive_dwell`). 400 seeds (31..=430)
    // passed when this was written; the test runs 20 of them.
    for seed in 31..=50 {
        slow_population(seed);
    }
}

fn slow_population(seed: u64) {
    // Session 2 with persistence (see shelfd_core::sim): each tag answers once, then stays
    // silent for 2–9 minutes; two reads confirm it at a slow location, so after 20 minutes every
    // tag has arrived (a tag whose first reads went to the next shelf's antennas, which also
    // silence it, may need a third).
    let mut s = sim(seed);
    let epcs = s.add_tags(40, 2, "c", TagProfile::SESSION2);
    s.run_for(20 * 60_000);
    let mut e = Engine::new(topo(), knobs());
    let records = s.take_records();
    let ev = feed(&mut e, &records);
    assert_eq!(
        count(&ev, "tag.arrived"),
        40,
        "seed {seed}: {:?}",
        kinds(&ev)
    );
    // Each at c, unless the next shelf's antennas read it more often than c's before it arrived
    // there: a Session-2 tag a neighbour reads first is silenced by that read too, so its reads
    // can put it next door for a while (it moves home once c's reads outweigh them).
    let mut elsewhere = Vec::new();
    for a in of_kind(&ev, "tag.arrived") {
        let EventBody::TagArrived { epc, location, .. } = &a.body else {
            continue;
        };
        if location != "c" {
            let reads_at = |antenna: u16| {
                records
                    .iter()
                    .filter(|r| {
                        matches!(r, Record::Read(r) if hex(&r.epc) == *epc && r.antenna == antenna && r.t <= a.time_ms)
                    })
                    .count()
            };
            assert!(
                reads_at(3) > reads_at(4),
                "seed {seed}: {epc} arrived at {location}"
            );
            elsewhere.push(epc.clone());
        }
    }
    // Counted at c, or next door for such a tag (published counts lag a late move by its
    // settle window, on both sides alike).
    assert_eq!(
        stock_at(&e, "c") + stock_at(&e, "b"),
        40,
        "seed {seed}: {:?}",
        kinds(&ev)
    );
    assert!(stock_at(&e, "b") as usize <= elsewhere.len());
    // No departure; a move only brings such a tag home.
    assert_eq!(
        count(&ev, "tag.departed"),
        0,
        "seed {seed}: {:?}",
        kinds(&ev)
    );
    for m in of_kind(&ev, "tag.moved") {
        assert!(
            matches!(&m.body, EventBody::TagMoved { epc, to, .. } if to == "c" && elsewhere.contains(epc)),
            "seed {seed}: {m:?}"
        );
    }
    s.run_for(30 * 60_000);
    let ev = feed(&mut e, &s.take_records());
    // Nothing happens, but that a tag placed next door by its reads moves home once c reads it.
    let corrections = of_kind(&ev, "tag.moved")
        .into_iter()
        .filter(|m| matches!(&m.body, EventBody::TagMoved { epc, to, .. } if to == "c" && elsewhere.contains(epc)))
        .count();
    assert_eq!(
        count(&ev, "tag.arrived") + count(&ev, "tag.moved") + count(&ev, "tag.departed"),
        corrections,
        "seed {seed}: {:?}",
        kinds(&ev)
    );
    let removed_at = s.now();
    s.move_tag(&epcs[5], None);
    s.run_for(45 * 60_000);
    let ev = feed(&mut e, &s.take_records());
    let dep = of_kind(&ev, "tag.departed");
    assert_eq!(dep.len(), 1, "seed {seed}: {:?}", kinds(&ev));
    let home = |m: &&Event| matches!(&m.body, EventBody::TagMoved { epc, to, .. } if to == "c" && elsewhere.contains(epc));
    assert!(
        of_kind(&ev, "tag.moved").iter().all(home),
        "seed {seed}: {:?}",
        kinds(&ev)
    );
    // Missing reads a few minutes apart: it departs within 40 minutes (issue #15).
    assert!(dep[0].time_ms - removed_at <= 40 * 60_000);
}

#[test]
fn b6_an_offline_reader_freezes_departures_and_nothing_rearrives() {
    let (mut s, mut e, epcs, _) = stocked(40, 10, TagProfile::SHELF);
    s.reader_down("r1");
    s.move_tag(&epcs[0], None);
    s.run_for(10 * 60_000);
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(count(&ev, "tag.departed"), 0, "{ev:#?}");
    assert!(ev.iter().any(|x| matches!(&x.body, EventBody::ReaderStatus { reader, state: ReaderState::Offline, .. } if reader == "r1")));
    s.reader_up("r1");
    let back = s.now();
    s.run_for(5 * 60_000);
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(count(&ev, "tag.arrived"), 0, "{ev:#?}");
    assert!(ev.iter().any(|x| matches!(
        &x.body,
        EventBody::ReaderStatus {
            state: ReaderState::Online,
            ..
        }
    )));
    let dep = of_kind(&ev, "tag.departed");
    assert_eq!(dep.len(), 1, "only the removed tag departs: {ev:#?}");
    assert!(
        dep[0].time_ms - back >= 20_000,
        "absence counts only from the reader's return"
    );
}

#[test]
fn b6_a_silent_reader_is_reported_and_freezes_departures() {
    let (mut s, mut e, _, _) = stocked(41, 10, TagProfile::SHELF);
    s.reader_silent("r1");
    s.run_for(10 * 60_000);
    let ev = feed(&mut e, &s.take_records());
    // Feed time forward through r2's reads; r1 says nothing at all.
    assert_eq!(count(&ev, "tag.departed"), 0, "{ev:#?}");
    assert_eq!(
        ev.iter()
            .filter(|x| matches!(
                &x.body,
                EventBody::ReaderStatus {
                    state: ReaderState::Offline,
                    ..
                }
            ))
            .count(),
        1
    );
    assert_eq!(stock_at(&e, "a"), 10);
}

fn run_with_restart(seed: u64, downtime: u64, clean: bool) -> (Vec<Event>, Vec<Event>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = sim(seed);
    s.add_tags(30, 1, "a", TagProfile::SHELF);
    s.add_tags(10, 2, "c", TagProfile::SESSION2);
    s.run_for(10 * 60_000);
    let origin = Origin {
        store: "s".into(),
        gateway: "g".into(),
    };
    let first = {
        let store = SledStore::open(dir.path(), 8 << 20).expect("open");
        let mut es =
            EngineStore::open_with(topo(), knobs(), origin.clone(), store).expect("engine");
        for r in s.take_records() {
            es.feed(&r).expect("feed");
        }
        if clean {
            es.shutdown();
        }
        let (ev, _) = es.commit().expect("commit");
        es.flush().expect("flush");
        ev
    };
    // Downtime: the simulator keeps running (tags stay put) but nothing is fed.
    s.run_for(downtime);
    s.take_records();
    s.run_for(10 * 60_000);
    let store = SledStore::open(dir.path(), 8 << 20).expect("reopen");
    let mut es = EngineStore::open_with(topo(), knobs(), origin, store).expect("restore");
    assert_eq!(
        es.engine().next_seq(),
        first.last().map(|e| e.seq + 1).unwrap_or(1)
    );
    for r in s.take_records() {
        es.feed(&r).expect("feed");
    }
    let (second, _) = es.commit().expect("commit");
    (first, second)
}

#[test]
fn b7_a_restart_causes_no_arrivals_departures_or_moves() {
    for (downtime, clean) in [(30_000, true), (20 * 60_000, true), (5 * 60_000, false)] {
        let (first, second) = run_with_restart(50, downtime, clean);
        assert_eq!(count(&first, "tag.arrived"), 40);
        let k = kinds(&second);
        for kind in ["tag.arrived", "tag.departed", "tag.moved", "stock.changed"] {
            assert_eq!(
                k.get(kind),
                None,
                "downtime {downtime} clean {clean}: {second:#?}"
            );
        }
        if let Some(e) = second.first() {
            assert_eq!(
                e.seq,
                first.last().map(|x| x.seq + 1).unwrap_or(1),
                "seq continues"
            );
        }
    }
}

#[test]
fn b8_first_start_publishes_a_baseline_not_thousands_of_arrivals() {
    let mut s = sim(60);
    s.add_tags(400, 1, "a", TagProfile::SHELF);
    s.add_tags(300, 2, "b", TagProfile::SHELF);
    s.add_tags(100, 3, "c", TagProfile::SESSION2);
    s.run_for(3 * 60_000);
    let mut e = Engine::new(topo(), Knobs::default());
    let ev = feed(&mut e, &s.take_records());
    // The fast shelf's baseline closes after the two-minute window (its neighbour b may wait for
    // Session-2 tags whose first reads were b's cross-reads); the Session-2 shelf's stays open
    // until its population has been read twice (its tags answer every few minutes).
    let baseline = |e: &Engine, loc: &str| {
        e.snapshots()
            .iter()
            .find(|x| x.location == loc)
            .is_some_and(|x| x.baseline)
    };
    assert!(baseline(&e, "a") && !baseline(&e, "c"));
    s.run_for(20 * 60_000);
    let ev: Vec<Event> = ev
        .into_iter()
        .chain(feed(&mut e, &s.take_records()))
        .collect();
    // Every tag present at the start is in its location's baseline: no arrival, no move.
    assert_eq!(count(&ev, "tag.moved"), 0);
    assert_eq!(count(&ev, "tag.arrived"), 0, "{:?}", kinds(&ev));
    assert!(baseline(&e, "a") && baseline(&e, "b") && baseline(&e, "c"));
    e.shutdown(&mut Vec::new());
    assert_eq!(
        (stock_at(&e, "a"), stock_at(&e, "b"), stock_at(&e, "c")),
        (400, 300, 100)
    );
    // After the window, a new item is a normal arrival.
    s.add_tags(1, 4, "b", TagProfile::SHELF);
    s.run_for(60_000);
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(count(&ev, "tag.arrived"), 1, "{:?}", kinds(&ev));
    assert_eq!(count(&ev, "stock.changed"), 1);
}

#[test]
fn b9_duplicate_and_out_of_order_reads_are_idempotent() {
    let mut s = sim(70);
    let epcs = s.add_tags(10, 1, "a", TagProfile::SHELF);
    s.run_for(60_000);
    s.move_tag(&epcs[0], Some("b"));
    s.move_tag(&epcs[1], None);
    s.run_for(120_000);
    let log = s.take_records();
    let clean = feed(&mut Engine::new(topo(), knobs()), &log);
    // Same log with every read duplicated, plus a reader flushing a buffer of old reads late.
    let mut noisy = Vec::new();
    for (i, r) in log.iter().enumerate() {
        noisy.push(r.clone());
        if let Record::Read(_) = r {
            noisy.push(r.clone());
        }
        if i % 500 == 499 {
            noisy.extend(
                log[i.saturating_sub(300)..i]
                    .iter()
                    .filter(|x| matches!(x, Record::Read(_)))
                    .cloned(),
            );
        }
    }
    let dirty = feed(&mut Engine::new(topo(), knobs()), &noisy);
    assert_eq!(clean, dirty);
    assert_eq!(count(&clean, "tag.moved"), 1);
    assert_eq!(count(&clean, "tag.departed"), 1);
}

#[test]
fn b9_last_seen_never_goes_backwards() {
    let epc = shelfd_core::sim::sim_epc(1, 5);
    let mut e = Engine::new(topo(), knobs());
    let read = |t| {
        Record::Read(TagRead {
            t,
            reader: "r1".into(),
            antenna: 1,
            epc: epc.clone(),
            rssi: Some(-55.0),
        })
    };
    let mut recs: Vec<Record> = (0..20).map(|i| read(T0 + i * 500)).collect();
    recs.push(read(T0)); // a very late read
    recs.push(Record::Link {
        t: T0 + 10_000,
        reader: "r1".into(),
        link: LinkState::Alive,
    });
    // Heartbeats only: the tag is gone; it departs with last_seen = its newest read.
    for i in 0..200 {
        recs.push(Record::Link {
            t: T0 + 10_500 + i * 500,
            reader: "r1".into(),
            link: LinkState::Alive,
        });
    }
    let ev = feed(&mut e, &recs);
    let last_seen = ev.iter().find_map(|x| match &x.body {
        EventBody::TagDeparted { last_seen, .. } => Some(last_seen.clone()),
        _ => None,
    });
    assert_eq!(
        last_seen,
        Some(shelfd_core::timefmt::rfc3339_ms(T0 + 19 * 500))
    );
}

#[test]
fn b10_pos_sells_in_stock_items_and_ignores_first_reads() {
    let (mut s, mut e, epcs, _) = stocked(80, 5, TagProfile::SHELF);
    let stranger = s.add_tags(1, 7, "pos", TagProfile::SHELF);
    s.move_tag(&epcs[0], Some("pos"));
    s.run_for(4_000);
    s.move_tag(&epcs[0], None);
    s.run_for(60_000);
    let ev = feed(&mut e, &s.take_records());
    let sold = of_kind(&ev, "tag.sold");
    assert_eq!(sold.len(), 1, "{ev:#?}");
    assert!(
        matches!(&sold[0].body, EventBody::TagSold { epc, location, from, .. } if *epc == hex(&epcs[0]) && location == "pos" && from == "a")
    );
    assert_eq!(count(&ev, "tag.departed"), 0, "a sale is not a departure");
    assert_eq!(stock_at(&e, "a"), 4);
    assert!(
        !ev.iter()
            .any(|x| format!("{:?}", x.body).contains(&hex(&stranger[0]))),
        "first read at POS creates nothing"
    );
}

#[test]
fn b10_sold_items_are_held_off_then_returned() {
    let k = Knobs {
        baseline_window: 0,
        sold_hold_off: 30 * 60_000,
        ..Knobs::default()
    };
    let mut s = sim(81);
    let epcs = s.add_tags(3, 1, "a", TagProfile::SHELF);
    s.run_for(60_000);
    let mut e = Engine::new(topo(), k);
    feed(&mut e, &s.take_records());
    s.move_tag(&epcs[0], Some("pos"));
    s.run_for(4_000);
    // In the customer's bag, carried past shelf b and out through the exit.
    s.move_tag(&epcs[0], Some("b"));
    s.run_for(20_000);
    s.move_tag(&epcs[0], Some("exit"));
    s.run_for(3_000);
    s.move_tag(&epcs[0], None);
    s.run_for(40 * 60_000);
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(kinds(&ev).get("tag.sold"), Some(&1), "{:?}", kinds(&ev));
    for kind in ["alert.exit", "tag.arrived", "tag.moved", "tag.returned"] {
        assert_eq!(kinds(&ev).get(kind), None, "{ev:#?}");
    }
    // Back on a shelf after the hold-off: returned.
    s.move_tag(&epcs[0], Some("c"));
    s.run_for(60_000);
    let ev = feed(&mut e, &s.take_records());
    let ret = of_kind(&ev, "tag.returned");
    assert_eq!(ret.len(), 1, "{ev:#?}");
    assert_eq!(count(&ev, "tag.arrived"), 0);
    assert_eq!(stock_at(&e, "c"), 1);
}

#[test]
fn b10_unsold_items_at_the_exit_raise_an_alert() {
    let (mut s, mut e, epcs, _) = stocked(82, 5, TagProfile::SHELF);
    // One walks straight out; another is taken, departs as missing, and leaves minutes later.
    s.move_tag(&epcs[0], Some("exit"));
    s.move_tag(&epcs[1], None);
    s.run_for(3_000);
    s.move_tag(&epcs[0], None);
    s.run_for(5 * 60_000);
    s.move_tag(&epcs[1], Some("exit"));
    s.run_for(3_000);
    s.move_tag(&epcs[1], None);
    s.run_for(60_000);
    let ev = feed(&mut e, &s.take_records());
    let alerts = of_kind(&ev, "alert.exit");
    assert_eq!(alerts.len(), 2, "{ev:#?}");
    assert!(alerts.iter().all(|a| matches!(&a.body, EventBody::AlertExit { location, from, .. } if location == "exit" && from == "a")));
    let causes: Vec<DepartCause> = ev
        .iter()
        .filter_map(|x| match &x.body {
            EventBody::TagDeparted { cause, .. } => Some(*cause),
            _ => None,
        })
        .collect();
    assert_eq!(causes, vec![DepartCause::Exit, DepartCause::Missing]);
    assert_eq!(stock_at(&e, "a"), 3);
}

#[test]
fn b11_stock_deltas_are_aggregated_and_never_transient() {
    let (mut s, mut e, epcs, _) = stocked(90, 50, TagProfile::SHELF);
    // Mass move: 50 items carried from a to b over 20 seconds.
    for chunk in epcs.chunks(10) {
        for epc in chunk {
            s.move_tag(epc, Some("b"));
        }
        s.run_for(4_000);
    }
    s.run_for(180_000);
    let ev = feed(&mut e, &s.take_records());
    let deltas: Vec<(String, i64)> = ev
        .iter()
        .filter_map(|x| match &x.body {
            EventBody::StockChanged {
                location, delta, ..
            } => Some((location.clone(), *delta)),
            _ => None,
        })
        .collect();
    assert!(
        deltas.len() <= 8,
        "a mass move gives a few aggregated deltas: {deltas:?}"
    );
    let sum = |l: &str| {
        deltas
            .iter()
            .filter(|(x, _)| x == l)
            .map(|(_, d)| d)
            .sum::<i64>()
    };
    assert_eq!((sum("a"), sum("b")), (-50, 50));
    assert!(
        deltas
            .iter()
            .all(|(l, d)| (l == "a" && *d < 0) || (l == "b" && *d > 0)),
        "no corrections: {deltas:?}"
    );
    assert_eq!(count(&ev, "tag.moved"), 50);
}

#[test]
fn b11_an_arrival_corrected_within_the_settle_window_publishes_no_transient() {
    let mut e = Engine::new(topo(), knobs());
    let epc = shelfd_core::sim::sim_epc(1, 9);
    let mut recs = Vec::new();
    // Confirmed at a, then moved to b with strong reads while a goes silent.
    for i in 0..8u64 {
        recs.push(Record::Read(TagRead {
            t: T0 + i * 400,
            reader: "r1".into(),
            antenna: 1,
            epc: epc.clone(),
            rssi: Some(-60.0),
        }));
    }
    for i in 0..300u64 {
        recs.push(Record::Read(TagRead {
            t: T0 + 3_300 + i * 200,
            reader: "r1".into(),
            antenna: 3,
            epc: epc.clone(),
            rssi: Some(-45.0),
        }));
    }
    let ev = feed(&mut e, &recs);
    let deltas: Vec<String> = ev
        .iter()
        .filter(|x| x.body.kind().as_str() == "stock.changed")
        .map(|x| format!("{:?}", x.body))
        .collect();
    assert!(
        deltas.iter().all(|d| !d.contains("location: \"a\"")),
        "transient +1/-1 at a published: {deltas:?}"
    );
    assert_eq!(stock_at(&e, "b"), 1);
}

#[test]
fn engine_output_is_deterministic() {
    let mut s = sim(99);
    let epcs = s.add_tags(30, 1, "a", TagProfile::SHELF);
    s.run_for(60_000);
    for epc in &epcs[..10] {
        s.move_tag(epc, Some("c"));
    }
    s.run_for(120_000);
    let log = s.take_records();
    let a = feed(&mut Engine::new(topo(), knobs()), &log);
    let b = feed(&mut Engine::new(topo(), knobs()), &log);
    assert_eq!(a, b);
    let origin = Origin {
        store: "s".into(),
        gateway: "g".into(),
    };
    let mut es = EngineStore::open_with(topo(), knobs(), origin, MemoryStore::new()).expect("open");
    for r in &log {
        es.feed(r).expect("feed");
    }
    let (c, _) = es.commit().expect("commit");
    assert_eq!(a, c);
}

// ---------------------------------------------------------------------------------------------
// Store rules (issue #6 item 4): alert.low_stock with hysteresis, alert.misplaced once per stay.

fn gtin(epc: &[u8]) -> String {
    shelfd_core::epc::gtin14(epc).expect("simulated EPCs are SGTINs")
}

fn rules(r: &[(&str, &[&str], Option<u32>)]) -> StoreRules {
    StoreRules::new(&topo(), r)
}

/// `(location, sku, count, threshold)` of every `alert.low_stock`.
fn low_alerts(events: &[Event]) -> Vec<(String, String, u64, u64)> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::AlertLowStock {
                location,
                sku,
                count,
                threshold,
            } => Some((
                location.clone(),
                sku.clone().unwrap_or_default(),
                *count,
                *threshold,
            )),
            _ => None,
        })
        .collect()
}

/// `(epc, location, expected)` of every `alert.misplaced`.
fn misplaced(events: &[Event]) -> Vec<(String, String, Vec<String>)> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::AlertMisplaced {
                epc,
                location,
                expected,
                ..
            } => Some((epc.clone(), location.clone(), expected.clone())),
            _ => None,
        })
        .collect()
}

/// Published counts of `(location, sku)`, in order.
fn published(events: &[Event], loc: &str, of: &str) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::StockChanged {
                location,
                sku,
                count,
                ..
            } if location == loc && sku.as_deref() == Some(of) => Some(*count),
            _ => None,
        })
        .collect()
}

/// Takes one tag off shelf `a` (it departs) or puts one back (it arrives), so that `here` holds
/// `target` tags; then lets the change settle.
fn step_to(s: &mut StoreSim, here: &mut Vec<Vec<u8>>, away: &mut Vec<Vec<u8>>, target: usize) {
    if target < here.len() {
        let x = here.pop().expect("a tag to take");
        s.move_tag(&x, None);
        away.push(x);
    } else {
        let x = away.pop().expect("a tag to put back");
        s.move_tag(&x, Some("a"));
        here.push(x);
    }
    s.run_for(150_000);
}

#[test]
fn r1_low_stock_alerts_once_while_the_count_wobbles_and_again_after_it_recovers() {
    let mut s = sim(70);
    let epcs = s.add_tags(6, 1, "a", TagProfile::SHELF);
    let p1 = gtin(&epcs[0]);
    // A first start: the six items on the shelf form the baseline, which is not low.
    let mut e = Engine::new(
        topo(),
        Knobs {
            baseline_window: 60_000,
            ..Knobs::default()
        },
    );
    assert_eq!(e.knobs().low_stock_rearm, 2, "the documented default");
    e.set_rules(&rules(&[("a", &[p1.as_str()], Some(3))]));
    s.run_for(90_000);
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(low_alerts(&ev), []);
    assert_eq!(stock_at(&e, "a"), 6);
    // Down to 2 (below 3: alert), then wobbling between 2 and 4 (never back at 3 + 2), up to 5
    // (re-armed), down to 2 again (alert again).
    let path = [5, 4, 3, 2, 3, 2, 3, 4, 3, 2, 3, 4, 5, 4, 3, 2];
    let (mut here, mut away) = (epcs.clone(), Vec::new());
    let mut alerted_at = Vec::new();
    for (i, &target) in path.iter().enumerate() {
        step_to(&mut s, &mut here, &mut away, target);
        let ev = feed(&mut e, &s.take_records());
        assert_eq!(
            published(&ev, "a", &p1),
            [target as u64],
            "step {i}: one settled change to {target}: {ev:#?}"
        );
        for alert in low_alerts(&ev) {
            assert_eq!(alert, ("a".into(), p1.clone(), 2, 3), "step {i}");
            alerted_at.push(i);
        }
        let raised = e.low_stock_raised(0);
        assert_eq!(
            raised.is_empty(),
            !(3..12).contains(&i) && i != 15,
            "step {i}"
        );
    }
    assert_eq!(
        alerted_at,
        [3, 15],
        "one alert per fall below 3, none while wobbling"
    );
}

#[test]
fn r2_misplaced_alerts_once_per_stay_and_again_after_leaving_and_coming_back() {
    let mut s = sim(71);
    let mine = s.add_tags(5, 1, "a", TagProfile::SHELF);
    let x = s.add_tags(1, 2, "a", TagProfile::SHELF).remove(0);
    let (p1, p2) = (gtin(&mine[0]), gtin(&x));
    let mut e = Engine::new(topo(), knobs());
    e.set_rules(&rules(&[
        ("a", &[p1.as_str()], None),
        ("b", &[p2.as_str()], None),
    ]));
    s.run_for(60_000);
    let ev = feed(&mut e, &s.take_records());
    let one = (hex(&x), "a".to_string(), vec!["b".to_string()]);
    assert_eq!(misplaced(&ev), std::slice::from_ref(&one), "{ev:#?}");
    // The alert follows the arrival that started the stay.
    let pos = |kind: &str| {
        ev.iter().position(|e| match &e.body {
            EventBody::TagArrived { epc, .. } => kind == "arrived" && *epc == hex(&x),
            EventBody::AlertMisplaced { .. } => kind == "alert",
            _ => false,
        })
    };
    assert_eq!(pos("alert"), pos("arrived").map(|p| p + 1));

    // The stay goes on for ten minutes with people in front of the shelf: no repeat.
    for _ in 0..30 {
        s.occlude(&x, 8_000);
        s.run_for(20_000);
    }
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(misplaced(&ev), [], "{:?}", kinds(&ev));
    assert_eq!(count(&ev, "tag.departed") + count(&ev, "tag.moved"), 0);

    // It leaves and comes back: a new stay, a new alert.
    s.move_tag(&x, None);
    s.run_for(120_000);
    s.move_tag(&x, Some("a"));
    s.run_for(60_000);
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(count(&ev, "tag.departed"), 1, "{:?}", kinds(&ev));
    assert_eq!(misplaced(&ev), std::slice::from_ref(&one));

    // It moves to c (no planogram: not misplaced), then back to a (misplaced again), then to b,
    // where it belongs.
    s.move_tag(&x, Some("c"));
    s.run_for(180_000);
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(count(&ev, "tag.moved"), 1, "{:?}", kinds(&ev));
    assert_eq!(misplaced(&ev), []);
    s.move_tag(&x, Some("a"));
    s.run_for(180_000);
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(count(&ev, "tag.moved"), 1, "{:?}", kinds(&ev));
    assert_eq!(misplaced(&ev), [one]);
    s.move_tag(&x, Some("b"));
    s.run_for(180_000);
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(count(&ev, "tag.moved"), 1, "{:?}", kinds(&ev));
    assert_eq!(misplaced(&ev), []);
    // Items that are where the planogram says never alert.
    assert_eq!(stock_at(&e, "a"), 5);
}

#[test]
fn r3_rule_state_survives_restarts_without_repeats_or_lost_rearms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let origin = Origin {
        store: "s".into(),
        gateway: "g".into(),
    };
    let mut s = sim(72);
    let epcs = s.add_tags(6, 1, "a", TagProfile::SHELF);
    let x = s.add_tags(1, 2, "a", TagProfile::SHELF).remove(0);
    let (p1, p2) = (gtin(&epcs[0]), gtin(&x));
    let store_rules = rules(&[("a", &[p1.as_str()], Some(3)), ("b", &[p2.as_str()], None)]);
    // One daemon run: open (restore), feed `ms` of the simulation, stop cleanly or not.
    let run = |s: &mut StoreSim, ms: u64, clean: bool, moves: &dyn Fn(&mut StoreSim)| {
        let store = SledStore::open(dir.path(), 8 << 20).expect("open");
        let mut es =
            EngineStore::open_with(topo(), knobs(), origin.clone(), store).expect("engine");
        es.set_rules(&store_rules);
        moves(s);
        s.run_for(ms);
        for r in s.take_records() {
            es.feed(&r).expect("feed");
        }
        if clean {
            es.shutdown();
        }
        let (ev, _) = es.commit().expect("commit");
        es.flush().expect("flush");
        ev
    };
    // Run 1: stocked (no baseline window here: the empty shelf alerts at the first sweep and
    // re-arms once stocked), x misplaced, then four items taken: low.
    let ev = run(&mut s, 120_000, true, &|_| {});
    assert_eq!(low_alerts(&ev), [("a".into(), p1.clone(), 0, 3)]);
    assert_eq!(misplaced(&ev).len(), 1);
    let a = epcs[..4].to_vec();
    let ev = run(&mut s, 150_000, false, &|s| {
        a.iter().for_each(|t| s.move_tag(t, None))
    });
    assert_eq!(
        low_alerts(&ev),
        [("a".into(), p1.clone(), 2, 3)],
        "{:?}",
        kinds(&ev)
    );
    // Run 3 (after a kill): wobbling 2 → 3 → 2 repeats nothing, x stays misplaced silently.
    let ev = run(&mut s, 150_000, true, &|s| s.move_tag(&a[0], Some("a")));
    assert_eq!(published(&ev, "a", &p1), [3]);
    let ev2 = run(&mut s, 150_000, false, &|s| s.move_tag(&a[0], None));
    assert_eq!(published(&ev2, "a", &p1), [2]);
    assert_eq!(low_alerts(&ev).len() + low_alerts(&ev2).len(), 0);
    assert_eq!(misplaced(&ev).len() + misplaced(&ev2).len(), 0);
    // Run 4: back to 5 (re-armed), killed; run 5: down to 2 alerts again.
    let ev = run(&mut s, 150_000, false, &|s| {
        a[..3].iter().for_each(|t| s.move_tag(t, Some("a")))
    });
    assert_eq!(published(&ev, "a", &p1), [5]);
    assert_eq!(low_alerts(&ev), []);
    let ev = run(&mut s, 150_000, true, &|s| {
        a[..3].iter().for_each(|t| s.move_tag(t, None))
    });
    assert_eq!(published(&ev, "a", &p1), [2]);
    assert_eq!(low_alerts(&ev), [("a".into(), p1.clone(), 2, 3)]);
    assert_eq!(misplaced(&ev), []);
}

#[test]
fn r4_rule_changes_apply_at_the_next_sweep_and_only_once() {
    let mut s = sim(73);
    let epcs = s.add_tags(4, 1, "a", TagProfile::SHELF);
    let p1 = gtin(&epcs[0]);
    let p9 = gtin(&shelfd_core::sim::sim_epc(9, 1));
    let mut e = Engine::new(topo(), knobs());
    e.set_rules(&rules(&[("a", &[p1.as_str()], Some(2))]));
    s.run_for(60_000);
    let ev = feed(&mut e, &s.take_records());
    // The empty shelf at the first sweep, then stocked: re-armed at 4 = 2 + 2.
    assert_eq!(low_alerts(&ev), [("a".into(), p1.clone(), 0, 2)]);
    assert!(e.low_stock_raised(0).is_empty());
    // A reload raises the safety stock to 5: the next sweep alerts, at the current count.
    e.set_rules(&rules(&[("a", &[p1.as_str()], Some(5))]));
    let at = e.now();
    let mut ev = Vec::new();
    e.advance(at + 1_000, &mut ev);
    assert_eq!(low_alerts(&ev), [("a".into(), p1.clone(), 4, 5)]);
    // The same rules again: nothing new.
    e.set_rules(&rules(&[("a", &[p1.as_str()], Some(5))]));
    s.run_for(30_000);
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(low_alerts(&ev), []);
    assert_eq!(misplaced(&ev), []);
    // The planogram now lists another product: the four items on the shelf are misplaced (one
    // alert each), p1 is no longer a rule (its raised alert is dropped) and p9 is low.
    e.set_rules(&rules(&[("a", &[p9.as_str()], Some(5))]));
    assert_eq!(e.low_stock_raised(0), [] as [String; 0]);
    s.run_for(30_000);
    let ev = feed(&mut e, &s.take_records());
    let mut flagged: Vec<String> = misplaced(&ev).into_iter().map(|m| m.0).collect();
    flagged.sort();
    let mut all: Vec<String> = epcs.iter().map(|x| hex(x)).collect();
    all.sort();
    assert_eq!(flagged, all);
    assert_eq!(low_alerts(&ev), [("a".into(), p9.clone(), 0, 5)]);
    // Dropping the safety stock clears raised alerts; nothing is emitted.
    e.set_rules(&rules(&[("a", &[p9.as_str()], None)]));
    s.run_for(30_000);
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(low_alerts(&ev).len() + misplaced(&ev).len(), 0);
    assert!(e.low_stock_raised(0).is_empty());
}
