//! Scenario tests of the engine at the read cadences real stores have (issue #15): shelves
//! inventoried once a minute by a multiplexing reader, Session-2 populations re-read every few
//! minutes, pallets dwelling in a dock portal, and fast shelves beside them. Each runs the real
//! engine on the store simulator's physics (see `shelfd_core::sim`), over many seeds.

use shelfd_core::events::{Event, EventBody};
use shelfd_core::kinds::LocationKind;
use shelfd_core::readlog::Record;
use shelfd_core::reconcile::{Engine, Knobs, Topology};
use shelfd_core::sim::{StoreSim, TagProfile, sim_epc};
use std::collections::BTreeMap;

const T0: u64 = 1_795_338_000_000;
const MIN: u64 = 60_000;

/// Feeds records in order; returns the events.
fn feed(e: &mut Engine, records: &[Record]) -> Vec<Event> {
    let mut out = Vec::new();
    for r in records {
        e.feed_record(r, &mut out).expect("known reader");
    }
    out
}

/// Moves the engine's clock to `t` (timers run) and returns what that caused.
fn advance(e: &mut Engine, t: u64) -> Vec<Event> {
    let mut out = Vec::new();
    e.advance(t, &mut out);
    out
}

fn of_kind<'a>(ev: &'a [Event], kind: &str) -> Vec<&'a Event> {
    ev.iter()
        .filter(|e| e.body.kind().as_str() == kind)
        .collect()
}

fn kinds(ev: &[Event]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for e in ev {
        *m.entry(e.body.kind().as_str()).or_default() += 1;
    }
    m
}

fn hex(epc: &[u8]) -> String {
    epc.iter().map(|b| format!("{b:02x}")).collect()
}

/// Events about one EPC.
fn about<'a>(ev: &'a [Event], epc: &[u8]) -> Vec<&'a Event> {
    let h = hex(epc);
    ev.iter()
        .filter(|e| match &e.body {
            EventBody::TagArrived { epc, .. }
            | EventBody::TagMoved { epc, .. }
            | EventBody::TagDeparted { epc, .. }
            | EventBody::TagSold { epc, .. }
            | EventBody::TagReturned { epc, .. } => *epc == h,
            _ => false,
        })
        .collect()
}

/// The stock the engine counts at `loc` (all SKUs).
fn stock_at(e: &Engine, loc: &str) -> u64 {
    e.snapshots()
        .iter()
        .filter(|s| s.location == loc)
        .flat_map(|s| s.counts.values())
        .sum()
}

// ---------------------------------------------------------------------------------------------
// 1. Multiplexed antennas

/// Six shelves on one multiplexing reader, each visited for 2–4 s once every 30–120 s.
const MUX: [(u16, &str, u64, u64); 6] = [
    (1, "m1", 30_000, 3_000),
    (2, "m2", 45_000, 2_000),
    (3, "m3", 60_000, 4_000),
    (4, "m4", 75_000, 3_000),
    (5, "m5", 90_000, 2_000),
    (6, "m6", 120_000, 3_000),
];

fn mux_topology() -> Topology {
    let locations: Vec<(&str, LocationKind)> =
        MUX.iter().map(|m| (m.1, LocationKind::Shelf)).collect();
    let antennas: Vec<(u16, &str)> = MUX.iter().map(|m| (m.0, m.1)).collect();
    Topology::new(&locations, &[("r1", &antennas)])
}

fn mux_store(seed: u64) -> (StoreSim, Vec<Vec<Vec<u8>>>) {
    let mut s = StoreSim::new(seed, T0);
    s.reader_mux("r1", 250, &MUX, true);
    // Neighbouring shelves hear each other now and then, weakly.
    for w in MUX.windows(2) {
        s.cross_read(w[0].1, w[1].1, 0.2, 15.0);
        s.cross_read(w[1].1, w[0].1, 0.2, 15.0);
    }
    let tags = MUX
        .iter()
        .enumerate()
        .map(|(i, m)| s.add_tags(12, i as u32 + 1, m.1, TagProfile::SHELF))
        .collect();
    (s, tags)
}

#[test]
fn multiplexed_shelves_are_baselined_and_follow_arrivals_removals_and_moves() {
    for seed in 1..=20 {
        multiplexed(seed);
    }
}

fn multiplexed(seed: u64) {
    let (mut s, tags) = mux_store(seed);
    let mut e = Engine::new(mux_topology(), Knobs::default());
    // First start: every shelf's population forms its baseline; nothing arrives.
    s.run_for(15 * MIN);
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(
        of_kind(&ev, "tag.arrived").len(),
        0,
        "seed {seed}: {:?}",
        kinds(&ev)
    );
    for (i, m) in MUX.iter().enumerate() {
        assert_eq!(
            stock_at(&e, m.1),
            12,
            "seed {seed}: {} {:?}",
            m.1,
            kinds(&ev)
        );
        let snap = e.snapshots().into_iter().find(|x| x.location == m.1);
        assert!(snap.is_some_and(|x| x.baseline || !tags[i].is_empty()));
    }
    assert!(
        e.snapshots().iter().all(|x| x.baseline),
        "seed {seed}: {:?}",
        e.snapshots()
    );
    // A new tag at the slowest shelf arrives within 3 visits of its antenna.
    let (_, loc, period, dwell) = MUX[5];
    let new = s.add_tags(1, 40, loc, TagProfile::SHELF);
    let placed = s.now();
    // A stray read elsewhere creates nothing.
    let stray = sim_epc(41, 1);
    s.stray_read(&stray, "r1", 2, -62.0);
    // A tag removed from m3 departs within `depart_missed_reads` (6) visits.
    let removed = tags[2][0].clone();
    s.move_tag(&removed, None);
    // A tag moved between two slow shelves (m4 → m5).
    let moved = tags[3][0].clone();
    s.move_tag(&moved, Some("m5"));
    s.run_for(15 * MIN);
    let ev = feed(&mut e, &s.take_records());
    let arrived = about(&ev, &new[0]);
    assert_eq!(arrived.len(), 1, "seed {seed}: {arrived:?}");
    let bound = 3 * period * 12 / 10 + dwell;
    assert!(
        arrived[0].time_ms - placed <= bound,
        "seed {seed}: arrival after {} ms",
        arrived[0].time_ms - placed
    );
    assert!(about(&ev, &stray).is_empty(), "seed {seed}");
    let gone = about(&ev, &removed);
    assert_eq!(gone.len(), 1, "seed {seed}: {gone:?}");
    assert_eq!(gone[0].body.kind().as_str(), "tag.departed");
    let (_, _, p3, d3) = MUX[2];
    assert!(
        gone[0].time_ms - placed <= 6 * p3 * 12 / 10 + d3 + p3,
        "seed {seed}: departed after {}",
        gone[0].time_ms - placed
    );
    let mv = about(&ev, &moved);
    let (_, _, p5, d5) = MUX[4];
    match mv.as_slice() {
        [m] => {
            assert_eq!(m.body.kind().as_str(), "tag.moved", "seed {seed}: {mv:?}");
            assert!(
                m.time_ms - placed <= 3 * p5 * 12 / 10 + d5,
                "seed {seed}: moved after {}",
                m.time_ms - placed
            );
        }
        [d, a] => {
            assert_eq!(
                (d.body.kind().as_str(), a.body.kind().as_str()),
                ("tag.departed", "tag.arrived"),
                "seed {seed}"
            );
        }
        other => panic!("seed {seed}: {other:?}"),
    }
    // Nothing else happened to anything else.
    let others = ev
        .iter()
        .filter(|x| {
            matches!(
                x.body.kind().as_str(),
                "tag.arrived" | "tag.moved" | "tag.departed"
            )
        })
        .count();
    assert_eq!(others, 1 + 1 + mv.len(), "seed {seed}: {:?}", kinds(&ev));
}

// ---------------------------------------------------------------------------------------------
// 2. Session-2 populations

fn s2_topology() -> Topology {
    use LocationKind::Shelf;
    Topology::new(
        &[("fast", Shelf), ("s2", Shelf)],
        &[("r1", &[(1, "fast"), (2, "s2")])],
    )
}

fn s2_store(seed: u64, n: usize) -> (StoreSim, Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut s = StoreSim::new(seed, T0);
    s.reader("r1", 500, &[(1, "fast"), (2, "s2")], true);
    s.cross_read("fast", "s2", 0.2, 14.0);
    s.cross_read("s2", "fast", 0.2, 14.0);
    let fast = s.add_tags(20, 1, "fast", TagProfile::SHELF);
    let slow = s.add_tags(n, 2, "s2", TagProfile::SESSION2);
    (s, fast, slow)
}

#[test]
fn session2_population_first_start_arrivals_removals_and_no_false_events() {
    for seed in 1..=20 {
        session2(seed);
    }
}

fn session2(seed: u64) {
    let (mut s, _fast, slow) = s2_store(seed, 120);
    let mut e = Engine::new(s2_topology(), Knobs::default());
    s.run_for(30 * MIN);
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(
        of_kind(&ev, "tag.arrived").len(),
        0,
        "seed {seed}: {:?}",
        kinds(&ev)
    );
    assert_eq!(
        (stock_at(&e, "fast"), stock_at(&e, "s2")),
        (20, 120),
        "seed {seed}: {:?}",
        kinds(&ev)
    );
    assert!(e.snapshots().iter().all(|x| x.baseline), "seed {seed}");
    // A tag placed later arrives within 10 min; a removed one departs within 40 min.
    let new = s.add_tags(1, 3, "s2", TagProfile::SESSION2);
    let placed = s.now();
    let removed = slow[7].clone();
    s.move_tag(&removed, None);
    s.run_for(45 * MIN);
    let ev = feed(&mut e, &s.take_records());
    let a = about(&ev, &new[0]);
    assert_eq!(a.len(), 1, "seed {seed}: {a:?}");
    assert_eq!(a[0].body.kind().as_str(), "tag.arrived");
    assert!(a[0].time_ms - placed <= 10 * MIN, "seed {seed}");
    let d = about(&ev, &removed);
    assert_eq!(d.len(), 1, "seed {seed}: {d:?}");
    assert_eq!(d[0].body.kind().as_str(), "tag.departed");
    assert!(d[0].time_ms - placed <= 40 * MIN, "seed {seed}");
    assert_eq!(
        of_kind(&ev, "tag.arrived").len() + of_kind(&ev, "tag.departed").len(),
        2,
        "seed {seed}: {:?}",
        kinds(&ev)
    );
    // Six quiet hours: no false departure, move or arrival.
    for _ in 0..6 {
        s.run_for(60 * MIN);
        let ev = feed(&mut e, &s.take_records());
        let tag_events = ev
            .iter()
            .filter(|x| x.body.kind().as_str().starts_with("tag."))
            .count();
        assert_eq!(tag_events, 0, "seed {seed}: {:?}", kinds(&ev));
    }
    let end = s.now();
    advance(&mut e, end);
    assert_eq!((stock_at(&e, "fast"), stock_at(&e, "s2")), (20, 120));
}

// ---------------------------------------------------------------------------------------------
// 3. A location whose reader is down at first start

#[test]
fn a_location_whose_reader_is_down_at_first_start_gets_its_baseline_when_the_reader_returns() {
    for seed in 1..=20 {
        let mut s = StoreSim::new(seed, T0);
        s.reader("r1", 500, &[(1, "a")], true);
        s.reader("r2", 500, &[(1, "b")], true);
        s.add_tags(15, 1, "a", TagProfile::SHELF);
        s.add_tags(15, 2, "b", TagProfile::SHELF);
        use LocationKind::Shelf;
        let topo = Topology::new(
            &[("a", Shelf), ("b", Shelf)],
            &[("r1", &[(1, "a")]), ("r2", &[(1, "b")])],
        );
        let mut e = Engine::new(topo, Knobs::default());
        // r2 is off when the gateway starts, and comes up ten minutes later.
        s.reader_down("r2");
        s.run_for(10 * MIN);
        let ev = feed(&mut e, &s.take_records());
        let snap = |e: &Engine, loc: &str| {
            e.snapshots()
                .into_iter()
                .find(|x| x.location == loc)
                .expect("stock location")
        };
        assert!(snap(&e, "a").baseline, "seed {seed}: a's baseline closed");
        assert!(
            !snap(&e, "b").baseline,
            "seed {seed}: b still waits for its reader"
        );
        assert_eq!(of_kind(&ev, "tag.arrived").len(), 0, "seed {seed}");
        s.reader_up("r2");
        s.run_for(5 * MIN);
        let ev = feed(&mut e, &s.take_records());
        // b's population forms its baseline once r2 has read it: no arrival, counts right.
        assert_eq!(
            of_kind(&ev, "tag.arrived").len(),
            0,
            "seed {seed}: {:?}",
            kinds(&ev)
        );
        let b = snap(&e, "b");
        assert!(b.baseline, "seed {seed}: {b:?}");
        assert_eq!(stock_at(&e, "b"), 15, "seed {seed}");
        assert_eq!(stock_at(&e, "a"), 15, "seed {seed}");
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Fast shelves in a store with slow ones stay fast

/// Two shelves read every second (hearing each other's tags weakly), two multiplexed shelves
/// visited once a minute and a half, and a Session-2 shelf, each on its own reader.
fn mixed_store(seed: u64) -> (StoreSim, Topology, Vec<Vec<u8>>) {
    use LocationKind::Shelf;
    let mut s = StoreSim::new(seed, T0);
    s.reader("fast", 1_000, &[(1, "f1"), (2, "f2")], true);
    s.reader_mux(
        "mux",
        250,
        &[(1, "m1", 60_000, 3_000), (2, "m2", 90_000, 3_000)],
        true,
    );
    s.reader("s2r", 500, &[(1, "s2")], true);
    s.cross_read("f1", "f2", 0.3, 12.0);
    s.cross_read("f2", "f1", 0.3, 12.0);
    let f1 = s.add_tags(15, 1, "f1", TagProfile::SHELF);
    s.add_tags(15, 2, "f2", TagProfile::SHELF);
    s.add_tags(10, 3, "m1", TagProfile::SHELF);
    s.add_tags(10, 4, "m2", TagProfile::SHELF);
    s.add_tags(60, 5, "s2", TagProfile::SESSION2);
    let topo = Topology::new(
        &[
            ("f1", Shelf),
            ("f2", Shelf),
            ("m1", Shelf),
            ("m2", Shelf),
            ("s2", Shelf),
        ],
        &[
            ("fast", &[(1, "f1"), (2, "f2")]),
            ("mux", &[(1, "m1"), (2, "m2")]),
            ("s2r", &[(1, "s2")]),
        ],
    );
    (s, topo, f1)
}

#[test]
fn fast_shelves_keep_their_latencies_beside_slow_ones() {
    let mut worst = (0, 0);
    for seed in 1..=20 {
        let (arrive, moved) = mixed(seed);
        worst = (worst.0.max(arrive), worst.1.max(moved));
    }
    eprintln!(
        "fast shelves, worst of 20 seeds: arrival {} ms, move {} ms",
        worst.0, worst.1
    );
}

/// Returns (arrival latency, move latency) on the fast shelves.
fn mixed(seed: u64) -> (u64, u64) {
    let (mut s, topo, f1) = mixed_store(seed);
    let mut e = Engine::new(topo, Knobs::default());
    s.run_for(15 * MIN);
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(
        of_kind(&ev, "tag.arrived").len(),
        0,
        "seed {seed}: {:?}",
        kinds(&ev)
    );
    let counts: Vec<u64> = ["f1", "f2", "m1", "m2", "s2"]
        .iter()
        .map(|l| stock_at(&e, l))
        .collect();
    assert_eq!(counts, [15, 15, 10, 10, 60], "seed {seed}");
    // On the fast shelves: a new tag, a move f1 → f2, a stray read; each is decided in
    // seconds, as on a store with no slow shelf at all.
    let new = s.add_tags(1, 6, "f2", TagProfile::SHELF);
    let placed = s.now();
    let moved = f1[3].clone();
    s.move_tag(&moved, Some("f2"));
    let stray = sim_epc(7, 1);
    s.stray_read(&stray, "fast", 1, -60.0);
    s.run_for(10 * MIN);
    let ev = feed(&mut e, &s.take_records());
    let a = about(&ev, &new[0]);
    assert_eq!(a.len(), 1, "seed {seed}: {a:?}");
    assert_eq!(a[0].body.kind().as_str(), "tag.arrived");
    let arrive = a[0].time_ms - placed;
    assert!(arrive <= 30_000, "seed {seed}: arrival after {arrive} ms");
    let m = about(&ev, &moved);
    assert_eq!(m.len(), 1, "seed {seed}: {m:?}");
    assert_eq!(m[0].body.kind().as_str(), "tag.moved");
    let mv = m[0].time_ms - placed;
    assert!(mv <= 30_000, "seed {seed}: move after {mv} ms");
    assert!(
        about(&ev, &stray).is_empty(),
        "seed {seed}: the stray read created something"
    );
    // Cross-reads between f1 and f2 (and everything slow) changed nothing else.
    let tag_events = ev
        .iter()
        .filter(|x| x.body.kind().as_str().starts_with("tag."))
        .count();
    assert_eq!(tag_events, 2, "seed {seed}: {:?}", kinds(&ev));
    assert_eq!(
        ["f1", "f2", "m1", "m2", "s2"].map(|l| stock_at(&e, l)),
        [14, 17, 10, 10, 60],
        "seed {seed}"
    );
    (arrive, mv)
}
