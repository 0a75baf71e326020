//! The shelf-link driver against a simulated bus of real `shelf-node` state machines on a PTY
//! pair: the driver configures the nodes' lanes from `[[lane]]` (the units it gets back prove
//! the nodes took it), a lane's starting weight arrives when it first settles, picks and
//! put-backs arrive as lane records once the weight settles, stable weights follow, a node's own tag read arrives as a read, two nodes share the bus, and
//! an unplug is reported down.
//!
//! No test sleeps to wait for something: each waits for the record it expects, with a bound.

use shelfd_core::readlog::{LaneChange, LaneRecord, LinkState, Record};
use shelfd_readers::shelf_link::sim::NodeBusSimulator;
use shelfd_readers::shelf_link::{BusSettings, LaneSetup, run_shelf_link_reader};
use shelfd_readers::{DEFAULT_BAUD, ReaderHealth};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Generous bound for a settled weight change on a loaded 2-core machine (the node needs about
/// 1.5 s of simulated time to call a change settled).
const SOON: Duration = Duration::from_secs(15);

/// The bus `bus1` with nodes 3 and 7 and these lanes.
fn reader(lanes: Vec<LaneSetup>) -> BusSettings {
    BusSettings {
        id: "bus1".into(),
        nodes: vec![3, 7],
        antennas: vec![1],
        lanes,
        watchdog: Duration::from_secs(5),
    }
}

/// A lane of `unit_weight` grams, with the default tolerance (a quarter of it).
fn lane(node: u8, lane: u8, unit_weight: f64) -> LaneSetup {
    let unit_mg = (unit_weight * 1000.0).round() as u32;
    LaneSetup {
        node,
        lane,
        unit_mg,
        tolerance_mg: unit_mg / 4,
    }
}

/// The next record that `want` accepts, skipping heartbeats and other records.
async fn wait_for<T>(
    rx: &mut mpsc::Receiver<Record>,
    what: &str,
    mut want: impl FnMut(&Record) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + SOON;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(record)) => {
                if let Some(found) = want(&record) {
                    return found;
                }
                if !matches!(
                    record,
                    Record::Link {
                        link: LinkState::Alive,
                        ..
                    }
                ) {
                    seen.push(record);
                }
            }
            Ok(None) => panic!("{what}: the driver closed its channel; saw {seen:?}"),
            Err(_) => panic!("{what}: nothing within {SOON:?}; saw {seen:?}"),
        }
    }
}

fn lane_of(record: &Record, node: u8, lane: u8) -> Option<LaneChange> {
    match record {
        Record::Lane(LaneRecord {
            reader,
            node: n,
            lane: l,
            change,
            ..
        }) if reader == "bus1" && *n == node && *l == lane => Some(*change),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn picks_puts_weights_and_tag_reads_cross_the_bus() {
    let cancel = CancellationToken::new();
    let mut bus = NodeBusSimulator::new(&[3, 7], 42).expect("PTY");
    // Four 250 g items already on node 3's lane 0 when everything starts.
    bus.set_grams(3, 0, 1000.0);
    let path = bus.path().to_path_buf();
    let bus = bus.spawn(cancel.clone());

    let (tx, mut rx) = mpsc::channel(256);
    let health = Arc::new(ReaderHealth::new("bus1"));
    let lanes = vec![lane(3, 0, 250.0), lane(7, 1, 100.0)];
    let driver = tokio::spawn(run_shelf_link_reader(
        reader(lanes),
        path,
        DEFAULT_BAUD,
        tx,
        health.clone(),
        cancel.clone(),
    ));
    wait_for(&mut rx, "link up", |r| {
        matches!(
            r,
            Record::Link {
                link: LinkState::Up,
                ..
            }
        )
        .then_some(())
    })
    .await;
    wait_for(&mut rx, "a heartbeat", |r| {
        matches!(
            r,
            Record::Link {
                link: LinkState::Alive,
                ..
            }
        )
        .then_some(())
    })
    .await;
    // Once the lane first settles, the node reports its starting weight.
    let change = wait_for(&mut rx, "the starting weight", |r| lane_of(r, 3, 0)).await;
    let LaneChange::Weight { grams } = change else {
        panic!("expected the starting weight, got {change:?}")
    };
    assert!((grams - 1000.0).abs() < 5.0, "{grams} g");

    // Two items picked from node 3's lane 0.
    bus.add_grams(3, 0, -500.0).await.expect("bus runs");
    let change = wait_for(&mut rx, "the pick", |r| lane_of(r, 3, 0)).await;
    let LaneChange::Units { units, grams } = change else {
        panic!("expected a pick first, got {change:?}")
    };
    assert_eq!(units, -2);
    assert!((grams + 500.0).abs() < 5.0, "{grams} g");
    let change = wait_for(&mut rx, "the weight after it", |r| lane_of(r, 3, 0)).await;
    let LaneChange::Weight { grams } = change else {
        panic!("expected the settled weight, got {change:?}")
    };
    assert!((grams - 500.0).abs() < 5.0, "{grams} g left");

    // Three 100 g items put on node 7's lane 1 (the other node on the bus).
    bus.add_grams(7, 1, 300.0).await.expect("bus runs");
    let change = wait_for(&mut rx, "the put-back", |r| {
        lane_of(r, 7, 1).filter(|c| matches!(c, LaneChange::Units { .. }))
    })
    .await;
    assert!(
        matches!(change, LaneChange::Units { units: 3, .. }),
        "{change:?}"
    );

    // Node 7's own RFID module reads a tag on antenna 1 (mapped), then on 2 (not mapped).
    let epc = [
        0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0, 0, 0x1A, 0x85,
    ];
    bus.tag_read(7, 2, &epc).await.expect("bus runs");
    bus.tag_read(7, 1, &epc).await.expect("bus runs");
    let read = wait_for(&mut rx, "the node's tag read", |r| match r {
        Record::Read(read) => Some(read.clone()),
        _ => None,
    })
    .await;
    assert_eq!((read.reader.as_str(), read.antenna), ("bus1", 1));
    assert_eq!(read.epc, epc);
    assert_eq!(read.rssi, Some(-55.0));
    let snapshot = health.snapshot();
    assert_eq!(snapshot.dropped_reads, 1, "{snapshot:?}");
    assert!(snapshot.link_up && snapshot.frames > 10, "{snapshot:?}");

    // Unplugged: reported down once, and the driver keeps retrying until shut down.
    bus.unplug().await;
    wait_for(&mut rx, "link down", |r| {
        matches!(
            r,
            Record::Link {
                link: LinkState::Down,
                ..
            }
        )
        .then_some(())
    })
    .await;
    cancel.cancel();
    let done = tokio::time::timeout(Duration::from_secs(5), driver).await;
    assert!(matches!(done, Ok(Ok(Ok(())))), "{done:?}");
    assert!(health.snapshot().disconnects >= 1);
}

/// A bus always has a port now (the config's `ReaderSource::ShelfLink` requires one); a port
/// the serial library cannot take is still a setup error naming the reader.
#[tokio::test]
async fn a_port_that_is_not_utf8_is_a_setup_error() {
    use std::os::unix::ffi::OsStrExt;
    let (tx, _rx) = mpsc::channel(4);
    let port = Path::new(std::ffi::OsStr::from_bytes(b"/dev/tty\xff")).to_path_buf();
    let err = run_shelf_link_reader(
        reader(Vec::new()),
        port,
        DEFAULT_BAUD,
        tx,
        Arc::new(ReaderHealth::new("bus1")),
        CancellationToken::new(),
    )
    .await
    .expect_err("not UTF-8");
    assert!(err.to_string().contains("\"bus1\""), "{err}");
}
