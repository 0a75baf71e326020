//! The client session against the simulated reader over real loopback TCP: set-up order,
//! reads (Impinj peak RSSI, Zebra's omitted AntennaID carried forward), a second client
//! refused, held reports after a dropped socket, a reboot, a partition caught by the
//! keepalive, a slow fragmenting reader, an oversized message, a clean stop; and the plan's
//! errors.

use super::client::{LlrpSettings, PlanError, ROSPEC_ID, plan, run_llrp_reader};
use super::message::kind;
use super::simulator::{
    LlrpSimHandle, SimReaderConfig, Vendor, capabilities, spawn_llrp_simulator,
};
use crate::frame::TagReport;
use crate::link::ReaderHealth;
use shelfd_core::readlog::{LinkState, Record, TagRead};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

struct Rig {
    sim: LlrpSimHandle,
    rx: mpsc::Receiver<Record>,
    health: Arc<ReaderHealth>,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

async fn rig(vendor: Vendor, tune: impl FnOnce(&mut LlrpSettings)) -> Rig {
    // The simulator has its own token: stopping the client must not stop the reader.
    let sim = spawn_llrp_simulator(SimReaderConfig::new(vendor), 0, CancellationToken::new())
        .await
        .expect("loopback listener");
    let cancel = CancellationToken::new();
    let mut settings = LlrpSettings::new("r1", sim.address().to_string(), vec![1, 2]);
    settings.keepalive = Duration::from_secs(1);
    tune(&mut settings);
    let (tx, rx) = mpsc::channel(1024);
    let health = Arc::new(ReaderHealth::new("r1"));
    let task = tokio::spawn(run_llrp_reader(
        settings,
        tx,
        health.clone(),
        cancel.clone(),
    ));
    Rig {
        sim,
        rx,
        health,
        cancel,
        task,
    }
}

/// The next record matching `want` within `secs`, skipping others.
async fn next(
    rx: &mut mpsc::Receiver<Record>,
    secs: u64,
    want: impl Fn(&Record) -> bool,
) -> Record {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let r = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("record in time")
            .expect("channel open");
        if want(&r) {
            return r;
        }
    }
}

fn is_link(state: LinkState) -> impl Fn(&Record) -> bool {
    move |r| matches!(r, Record::Link { link, .. } if *link == state)
}

fn is_read(r: &Record) -> bool {
    matches!(r, Record::Read(_))
}

fn read_of(r: Record) -> TagRead {
    match r {
        Record::Read(read) => read,
        other => panic!("{other:?}"),
    }
}

fn tag(antenna: u16, last: u8, rssi: f32) -> TagReport {
    TagReport {
        antenna,
        epc: vec![
            0x30, 0x74, 0x25, 0x7b, 0xf7, 0x19, 0x4e, 0x40, 0, 0, 0x1a, last,
        ],
        rssi_dbm: Some(rssi),
        ..TagReport::default()
    }
}

/// Waits (up to 10 s, polling every 20 ms) until `cond` holds; the async twin of the test
/// kit's `wait_until` (the test kit depends on this crate).
pub(super) async fn wait_for(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn impinj_set_up_order_reads_and_identity() {
    let mut r = rig(Vendor::Impinj, |_| {}).await;
    next(&mut r.rx, 10, is_link(LinkState::Up)).await;
    let received: Vec<u16> = r
        .sim
        .stats()
        .received
        .lock()
        .expect("lock")
        .iter()
        .copied()
        .collect();
    assert_eq!(
        received,
        [
            kind::ENABLE_EVENTS_AND_REPORTS,
            kind::GET_SUPPORTED_VERSION,
            kind::GET_READER_CAPABILITIES,
            kind::CUSTOM_MESSAGE,
            kind::SET_READER_CONFIG,
            21, // DELETE_ROSPEC 0
            kind::ADD_ROSPEC,
            24, // ENABLE_ROSPEC
            22, // START_ROSPEC
        ]
    );
    assert!(r.sim.inventory_running());
    let identity = r.health.snapshot().identity.expect("identity");
    assert_eq!((identity.vendor.as_str(), identity.antennas), ("impinj", 4));
    assert_eq!(
        (identity.power_min_cdbm, identity.power_max_cdbm),
        (1000, 3000)
    );
    assert!(identity.holds_reports);

    r.sim
        .push_round(vec![tag(1, 1, -61.25), tag(3, 2, -50.0), tag(2, 3, -70.0)])
        .await
        .expect("sim");
    let a = read_of(next(&mut r.rx, 5, is_read).await);
    assert_eq!(
        (a.antenna, a.epc.last(), a.rssi),
        (1, Some(&1), Some(-61.25)),
        "Impinj cdBm precision"
    );
    let b = read_of(next(&mut r.rx, 5, is_read).await);
    assert_eq!(
        (b.antenna, b.epc.last()),
        (2, Some(&3)),
        "antenna 3 is not in the AISpec: the reader does not read it"
    );
    assert!(a.t <= shelfd_core::timefmt::now_ms());
    // Keepalives are answered with the same id (the simulator counts the acks).
    wait_for("a keepalive ack", || {
        r.sim
            .stats()
            .keepalive_acks
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    })
    .await;
    r.cancel.cancel();
    r.task.await.expect("task");
    wait_for("CLOSE_CONNECTION on a clean stop", || {
        r.sim
            .stats()
            .closes
            .load(std::sync::atomic::Ordering::Relaxed)
            == 1
    })
    .await;
    let received: Vec<u16> = r
        .sim
        .stats()
        .received
        .lock()
        .expect("lock")
        .iter()
        .copied()
        .collect();
    assert_eq!(
        received[received.len() - 2..],
        [21, kind::CLOSE_CONNECTION],
        "DELETE_ROSPEC, CLOSE_CONNECTION"
    );
}

#[tokio::test]
async fn zebra_one_inventory_spec_and_omitted_antenna_carried_forward() {
    let mut r = rig(Vendor::Zebra, |s| {
        s.antennas = vec![1, 2, 5];
        s.inventory.power_dbm = Some(27.0);
        s.inventory.session = Some(2);
    })
    .await;
    next(&mut r.rx, 10, is_link(LinkState::Up)).await;
    let spec = r
        .sim
        .stats()
        .last_rospec
        .lock()
        .expect("lock")
        .clone()
        .expect("added");
    assert_eq!(spec.id, ROSPEC_ID);
    assert!(spec.ai_specs.iter().all(|ai| ai.inventory.len() == 1));
    assert_eq!(spec.ai_specs[0].antennas, [1, 2, 5]);
    let configs = &spec.ai_specs[0].inventory[0].antennas;
    assert_eq!(configs.len(), 3);
    let power = configs[0].transmitter.expect("power").power_index;
    assert_eq!(power, 171, "27.0 dBm in Zebra-style 0.1 dB steps from 10.0");
    assert!(
        configs
            .iter()
            .all(|c| c.inventory.as_ref().is_some_and(|i| i.custom.is_empty())),
        "no Impinj extensions"
    );
    let received: Vec<u16> = r
        .sim
        .stats()
        .received
        .lock()
        .expect("lock")
        .iter()
        .copied()
        .collect();
    assert!(!received.contains(&kind::CUSTOM_MESSAGE));

    r.sim
        .push_round(vec![tag(5, 1, -60.0), tag(5, 2, -61.0), tag(1, 3, -62.0)])
        .await
        .expect("sim");
    let reads: Vec<TagRead> = [
        next(&mut r.rx, 5, is_read).await,
        next(&mut r.rx, 5, is_read).await,
        next(&mut r.rx, 5, is_read).await,
    ]
    .into_iter()
    .map(read_of)
    .collect();
    let antennas: Vec<u16> = reads.iter().map(|t| t.antenna).collect();
    assert_eq!(
        antennas,
        [5, 5, 1],
        "the second report omits AntennaID; it is carried forward"
    );
    r.cancel.cancel();
    let _ = r.task.await;
}

#[tokio::test]
async fn a_second_client_is_refused_and_backs_off() {
    let mut first = rig(Vendor::Impinj, |_| {}).await;
    next(&mut first.rx, 10, is_link(LinkState::Up)).await;
    let (tx, mut rx2) = mpsc::channel(64);
    let health2 = Arc::new(ReaderHealth::new("r2"));
    let cancel2 = CancellationToken::new();
    let settings = LlrpSettings::new("r2", first.sim.address().to_string(), vec![1]);
    let second = tokio::spawn(run_llrp_reader(
        settings,
        tx,
        health2.clone(),
        cancel2.clone(),
    ));
    next(&mut rx2, 5, is_link(LinkState::Down)).await;
    wait_for("two refusals (backoff retries)", || {
        first.sim.refused() >= 2
    })
    .await;
    assert_eq!(first.sim.connections(), 1);
    let h = health2.snapshot();
    assert!(h.connects >= 2 && h.disconnects >= 2 && !h.link_up, "{h:?}");
    // The first client is undisturbed.
    first
        .sim
        .push_round(vec![tag(1, 9, -50.0)])
        .await
        .expect("sim");
    assert_eq!(
        read_of(next(&mut first.rx, 5, is_read).await).epc.last(),
        Some(&9)
    );
    cancel2.cancel();
    let _ = second.await;
    first.cancel.cancel();
    let _ = first.task.await;
}

#[tokio::test]
async fn reports_held_during_a_drop_arrive_in_order_with_their_reader_time() {
    let mut r = rig(Vendor::Impinj, |_| {}).await;
    next(&mut r.rx, 10, is_link(LinkState::Up)).await;
    r.sim.drop_connection();
    next(&mut r.rx, 5, is_link(LinkState::Down)).await;
    // The reader keeps reading while nobody listens.
    let before = shelfd_core::timefmt::now_ms();
    for i in 0..5u8 {
        r.sim.push_round(vec![tag(1, i, -55.0)]).await.expect("sim");
    }
    wait_for("held", || r.sim.held() == 5 || r.sim.connections() >= 2).await;
    // Held reads arrive while the connection is being configured, before Up.
    let mut got = Vec::new();
    while got.len() < 5 {
        got.push(read_of(next(&mut r.rx, 10, is_read).await));
    }
    let order: Vec<u8> = got.iter().map(|t| *t.epc.last().expect("epc")).collect();
    assert_eq!(order, [0, 1, 2, 3, 4], "held reports in order");
    assert!(got.windows(2).all(|w| w[0].t <= w[1].t));
    assert!(got[0].t >= before.saturating_sub(50) && got[0].t <= shelfd_core::timefmt::now_ms());
    assert_eq!(r.sim.connections(), 2);
    r.cancel.cancel();
    let _ = r.task.await;
}

#[tokio::test]
async fn a_reboot_loses_the_rospec_and_the_client_applies_everything_again() {
    let mut r = rig(Vendor::Zebra, |_| {}).await;
    next(&mut r.rx, 10, is_link(LinkState::Up)).await;
    r.sim.reboot(Duration::from_millis(600));
    next(&mut r.rx, 5, is_link(LinkState::Down)).await;
    next(&mut r.rx, 15, is_link(LinkState::Up)).await;
    assert!(
        r.sim.inventory_running(),
        "configured again after the reboot"
    );
    assert_eq!(r.sim.connections(), 2);
    r.sim.push_round(vec![tag(2, 7, -50.0)]).await.expect("sim");
    assert_eq!(read_of(next(&mut r.rx, 5, is_read).await).antenna, 2);
    r.cancel.cancel();
    let _ = r.task.await;
}

#[tokio::test]
async fn a_partition_is_caught_by_missed_keepalives() {
    let mut r = rig(Vendor::Impinj, |_| {}).await;
    next(&mut r.rx, 10, is_link(LinkState::Up)).await;
    r.sim.partition(true);
    let started = tokio::time::Instant::now();
    next(&mut r.rx, 15, is_link(LinkState::Down)).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(3),
        "two keepalives (1 s) plus the margin: {took:?}"
    );
    assert!(r.health.snapshot().watchdog_trips >= 1);
    r.sim.partition(false);
    next(&mut r.rx, 30, is_link(LinkState::Up)).await;
    r.sim.push_round(vec![tag(1, 4, -50.0)]).await.expect("sim");
    assert_eq!(
        read_of(next(&mut r.rx, 5, is_read).await).epc.last(),
        Some(&4)
    );
    r.cancel.cancel();
    let _ = r.task.await;
}

#[tokio::test]
async fn a_slow_fragmenting_reader_still_configures_and_reads() {
    let cancel = CancellationToken::new();
    let sim = spawn_llrp_simulator(SimReaderConfig::new(Vendor::Impinj), 0, cancel.clone())
        .await
        .expect("listener");
    sim.set_slow(Duration::from_millis(40));
    let settings = LlrpSettings::new("r1", sim.address().to_string(), vec![1]);
    let (tx, mut rx) = mpsc::channel(64);
    let health = Arc::new(ReaderHealth::new("r1"));
    let task = tokio::spawn(run_llrp_reader(settings, tx, health, cancel.clone()));
    next(&mut rx, 20, is_link(LinkState::Up)).await;
    sim.push_round(vec![tag(1, 1, -50.0)]).await.expect("sim");
    assert_eq!(read_of(next(&mut rx, 5, is_read).await).antenna, 1);
    cancel.cancel();
    let _ = task.await;
}

#[tokio::test]
async fn an_oversized_message_closes_the_connection() {
    let mut r = rig(Vendor::Impinj, |s| s.max_message_bytes = 64 * 1024).await;
    next(&mut r.rx, 10, is_link(LinkState::Up)).await;
    // A header claiming 1 MiB: the connection is closed at once, nothing is allocated.
    r.sim
        .rounds()
        .send_raw(vec![0x04, 0x3d, 0x00, 0x10, 0x00, 0x00, 0, 0, 0, 1])
        .await
        .expect("sim");
    next(&mut r.rx, 5, is_link(LinkState::Down)).await;
    assert_eq!(r.health.snapshot().bad_frames, 1);
    next(&mut r.rx, 10, is_link(LinkState::Up)).await;
    r.cancel.cancel();
    let _ = r.task.await;
}

#[test]
fn the_plan_rejects_what_the_reader_cannot_do() {
    let caps = capabilities(Vendor::Impinj);
    let mut s = LlrpSettings::new("r1", "x:5084", vec![1, 2]);
    s.inventory.power_dbm = Some(31.5);
    assert_eq!(
        plan(&s, &caps).expect_err("power").to_string(),
        "power_dbm 31.5 for antenna 1 is outside the reader's power table (10.00..=30.00 dBm)"
    );
    s.inventory.power_dbm = Some(20.1);
    let p = plan(&s, &caps).expect("in range");
    let t = p.rospec.ai_specs[0].inventory[0].antennas[0]
        .transmitter
        .expect("power");
    assert_eq!(
        t.power_index, 41,
        "20.1 dBm → the nearest entry, 20.00 dBm (index 41)"
    );
    s.inventory.rf_mode = Some(7);
    assert!(matches!(
        plan(&s, &caps),
        Err(PlanError::Mode { requested: 7, .. })
    ));
    s.inventory.rf_mode = Some(1002);
    s.antennas = vec![1, 5];
    assert_eq!(
        plan(&s, &caps).expect_err("antenna").to_string(),
        "antenna 5 is not on this reader (it has 4 antenna ports)"
    );
    s.antennas = vec![4];
    s.inventory.search_mode = crate::SearchMode::TagFocus;
    let p = plan(&s, &caps).expect("ok");
    assert!(p.impinj);
    let inv = p.rospec.ai_specs[0].inventory[0].antennas[0]
        .inventory
        .clone()
        .expect("inventory");
    assert_eq!(inv.rf_control, Some((1002, 0)));
    assert_eq!(
        inv.custom
            .iter()
            .find_map(super::message::impinj::search_mode_of),
        Some(3)
    );
    assert_eq!(p.config.hold_events_and_reports, Some(true));
    assert_eq!(p.config.keepalive_ms, Some(30_000));
    assert!(p.config.reset_to_factory);
}
