//! Scenario tests of the engine's shelf-node lanes (`reconcile::lanes`): weight-only lanes keep
//! the stock count of untagged items (deltas through the settle window, snapshots, the first
//! start's baseline), and on a tagged lane a weighed pick lets the tag that stopped reading
//! depart at once instead of after its missed re-reads. RFID comes from the project's seeded
//! store simulator; lane records are placed among its reads by time.

use shelfd::config::LocationKind;
use shelfd_core::events::{DepartCause, Event, EventBody};
use shelfd_core::readlog::{LaneChange, LaneRecord, Record, TagRead};
use shelfd_core::reconcile::topology::Lane;
use shelfd_core::reconcile::{Engine, Input, Knobs, Topology};
use shelfd_core::sim::{StoreSim, TagProfile};
use shelfd_testkit::hex;
use std::sync::Arc;

const T0: u64 = 1_795_338_000_000;
const WATER: &str = "water-1l";

/// Shelves `a` (RFID, antennas 1–2) and `c` (no antenna), a backroom, and the shelf-link bus
/// `bus1` with a weight-only lane (node 3 lane 0, 250 g) on `c` and, when `tagged_sku` is
/// given, a tagged lane (node 3 lane 1, 250 g) on `a`.
fn topo(tagged_sku: Option<&str>) -> Topology {
    use LocationKind::*;
    let mut topo = Topology::new(
        &[("a", Shelf), ("c", Shelf), ("backroom", Backroom)],
        &[("r1", &[(1, "a"), (2, "a")]), ("bus1", &[])],
    );
    let bus = topo.reader_index("bus1").expect("bus1");
    let lane = |lane: u8, loc: &str, sku: &str, tagged: bool| Lane {
        reader: bus,
        node: 3,
        lane,
        loc: topo.location_index(loc).expect("location"),
        sku: Arc::from(sku),
        unit_mg: 250_000,
        tolerance_mg: 40_000,
        tagged,
    };
    let mut lanes = vec![lane(0, "c", WATER, false)];
    if let Some(sku) = tagged_sku {
        lanes.push(lane(1, "a", sku, true));
    }
    topo.lanes = lanes;
    topo
}

fn no_baseline() -> Knobs {
    Knobs {
        baseline_window: 0,
        ..Knobs::default()
    }
}

fn lane_record(t: u64, lane: u8, change: LaneChange) -> Record {
    Record::Lane(LaneRecord {
        t,
        reader: "bus1".into(),
        node: 3,
        lane,
        change,
    })
}

fn weight(t: u64, grams: f64) -> Record {
    lane_record(t, 0, LaneChange::Weight { grams })
}

fn units(t: u64, lane: u8, units: i16) -> Record {
    lane_record(
        t,
        lane,
        LaneChange::Units {
            units,
            grams: f64::from(units) * 250.0,
        },
    )
}

fn feed(e: &mut Engine, records: &[Record]) -> Vec<Event> {
    let mut out = Vec::new();
    for r in records {
        let input = match r {
            Record::Read(TagRead {
                t,
                reader,
                antenna,
                epc,
                rssi,
            }) => Input::Read {
                t: *t,
                reader: e.topology().reader_index(reader).expect("reader"),
                antenna: *antenna,
                epc,
                rssi: *rssi,
            },
            Record::Link { t, reader, link } => Input::Link {
                t: *t,
                reader: e.topology().reader_index(reader).expect("reader"),
                state: *link,
            },
            Record::Lane(l) => Input::Lane {
                t: l.t,
                reader: e.topology().reader_index(&l.reader).expect("bus"),
                node: l.node,
                lane: l.lane,
                change: l.change,
            },
            other => panic!("not an engine input: {other:?}"),
        };
        e.handle(input, &mut out);
    }
    out
}

/// `(delta, count)` of every `stock.changed` of `sku` at `location`.
fn deltas(events: &[Event], location: &str, sku: &str) -> Vec<(i64, u64)> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::StockChanged {
                location: l,
                sku: Some(s),
                delta,
                count,
            } if l == location && s == sku => Some((*delta, *count)),
            _ => None,
        })
        .collect()
}

fn snapshot_count(e: &Engine, location: &str, sku: &str) -> u64 {
    e.snapshots()
        .into_iter()
        .find(|s| s.location == location)
        .and_then(|s| s.counts.get(sku).copied())
        .unwrap_or(0)
}

#[test]
fn a_weight_only_lane_keeps_the_count_of_its_untagged_items() {
    let mut e = Engine::new(topo(None), no_baseline());
    // The node's starting weight, the first input: four 250 g bottles (1012 g is within
    // tolerance). It is the (empty) baseline window's count, not a delta.
    let mut ev = feed(&mut e, &[weight(T0, 1012.0)]);
    e.advance(T0 + 20_000, &mut ev);
    assert!(deltas(&ev, "c", WATER).is_empty(), "{ev:#?}");
    assert_eq!(snapshot_count(&e, "c", WATER), 4);
    // Two picked, their weight after; then one put back. A weight within no tolerance (a hand
    // on the shelf would never settle; a foreign object might) changes nothing.
    ev.extend(feed(
        &mut e,
        &[
            units(T0 + 30_000, 0, -2),
            weight(T0 + 30_000, 498.0),
            units(T0 + 32_000, 0, 1),
            weight(T0 + 32_000, 751.0),
            weight(T0 + 40_000, 860.0),
        ],
    ));
    e.advance(T0 + 120_000, &mut ev);
    // The pick and the put-back, aggregated in one settle window.
    assert_eq!(deltas(&ev, "c", WATER), [(-1, 3)], "{ev:#?}");
    assert_eq!(snapshot_count(&e, "c", WATER), 3);
    assert_eq!(e.lane_stats().records, 6);

    // A restart-like weight report that agrees changes nothing; one that disagrees (a pick
    // lost while the gateway was down) corrects the count.
    let mut ev = feed(&mut e, &[weight(T0 + 130_000, 750.0)]);
    e.advance(T0 + 200_000, &mut ev);
    assert!(deltas(&ev, "c", WATER).is_empty(), "{ev:#?}");
    let mut ev = feed(&mut e, &[weight(T0 + 210_000, 250.0)]);
    e.advance(T0 + 300_000, &mut ev);
    assert_eq!(deltas(&ev, "c", WATER), [(-2, 1)]);
    assert!(
        !ev.iter()
            .any(|x| matches!(x.body, EventBody::TagDeparted { .. })),
        "{ev:#?}"
    );
}

#[test]
fn a_weight_only_lane_counts_into_the_first_start_baseline() {
    // Default knobs: a two-minute baseline window on a fresh engine.
    let mut e = Engine::new(topo(None), Knobs::default());
    let mut ev = feed(&mut e, &[weight(T0, 2000.0)]);
    e.advance(T0 + 180_000, &mut ev);
    assert!(deltas(&ev, "c", WATER).is_empty(), "{ev:#?}");
    let snap = e
        .snapshots()
        .into_iter()
        .find(|s| s.location == "c")
        .expect("c");
    assert!(snap.baseline);
    assert_eq!(snap.counts.get(WATER), Some(&8));
}

#[test]
fn records_of_unconfigured_lanes_change_nothing() {
    let mut e = Engine::new(topo(None), no_baseline());
    let mut ev = feed(&mut e, &[units(T0, 7, -1)]);
    let mut other_node = units(T0 + 1, 0, -1);
    if let Record::Lane(l) = &mut other_node {
        l.node = 9;
    }
    ev.extend(feed(&mut e, &[other_node]));
    e.advance(T0 + 120_000, &mut ev);
    assert!(
        ev.iter().all(|x| x.body.kind().as_str() == "reader.status"),
        "{ev:#?}"
    );
    assert_eq!(e.lane_stats().unmapped, 2);
}

/// Ten tags of one product confirmed on shelf `a`, with a tagged lane of their SKU there.
fn stocked_tagged(seed: u64) -> (StoreSim, Engine, Vec<Vec<u8>>, String) {
    let mut s = StoreSim::new(seed, T0);
    s.reader("r1", 500, &[(1, "a"), (2, "a")], true);
    let epcs = s.add_tags(10, 1, "a", TagProfile::SHELF);
    let sku = shelfd_core::epc::gtin14(&epcs[0]).expect("simulated EPCs are SGTINs");
    s.run_for(60_000);
    let mut e = Engine::new(topo(Some(&sku)), no_baseline());
    let ev = feed(&mut e, &s.take_records());
    assert_eq!(
        ev.iter()
            .filter(|x| x.body.kind().as_str() == "tag.arrived")
            .count(),
        10
    );
    (s, e, epcs, sku)
}

/// Runs the simulator for `ms`, with `extra` records merged in by time.
fn run_with(s: &mut StoreSim, ms: u64, extra: Vec<Record>) -> Vec<Record> {
    s.run_for(ms);
    let mut records = s.take_records();
    records.extend(extra);
    records.sort_by_key(Record::t);
    records
}

fn departures(events: &[Event]) -> Vec<(&str, DepartCause, u64)> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::TagDeparted { epc, cause, .. } => Some((epc.as_str(), *cause, e.time_ms)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_weighed_pick_departs_the_tag_that_stopped_reading_at_once() {
    for seed in [1u64, 2, 3] {
        let (mut s, mut e, epcs, sku) = stocked_tagged(seed);
        let picked_at = s.now();
        s.move_tag(&epcs[4], None);
        // The node calls the pick once the weight settles, ~1.5 s after the lift.
        let pick = units(picked_at + 1_500, 1, -1);
        let records = run_with(&mut s, 20_000, vec![pick]);
        let ev = feed(&mut e, &records);
        let dep = departures(&ev);
        assert_eq!(dep.len(), 1, "seed {seed}: {ev:#?}");
        let (epc, cause, at) = dep[0];
        assert_eq!(epc, hex(&epcs[4]), "seed {seed}: the picked tag");
        assert_eq!(cause, DepartCause::Picked, "seed {seed}");
        // Within a few re-read intervals of the pick, not after the 20 s+ of missed re-reads
        // an unweighed removal waits (scenario b5).
        let after = at - picked_at;
        assert!(
            after <= 8_000,
            "seed {seed}: departed {after} ms after the pick"
        );
        assert_eq!(e.lane_stats().corroborated, 1);
        // The stock follows, and nothing else left.
        let mut ev = ev;
        e.advance(s.now() + 60_000, &mut ev);
        assert_eq!(
            deltas(&ev, "a", &sku).iter().map(|d| d.0).sum::<i64>(),
            -1,
            "seed {seed}"
        );
    }
}

#[test]
fn a_pick_without_a_tag_that_stops_reading_lapses() {
    let (mut s, mut e, _epcs, _) = stocked_tagged(5);
    let t = s.now();
    // Weight says one item left, but every tag keeps reading (an untagged item, or a wrong
    // lane): nothing departs, and the credit lapses after its window.
    let records = run_with(&mut s, 90_000, vec![units(t + 1_000, 1, -1)]);
    let ev = feed(&mut e, &records);
    assert!(departures(&ev).is_empty(), "{ev:#?}");
    assert_eq!(e.lane_stats().lapsed, 1);
    assert_eq!(e.lane_stats().corroborated, 0);
}
