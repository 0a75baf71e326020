//! LLRP end to end: `shelfd run` drives a simulated LLRP reader (Impinj-style, real TCP on
//! 127.0.0.1, fed by a player of tag rounds) and publishes to a real Mosquitto. The reader is
//! first held by another client (the daemon is refused and backs off), then reads become
//! arrivals; the reader reboots, the network drops (caught by missed keepalives), the reader
//! turns slow, a second client tries to connect — and every time the reader comes back
//! online with nothing departed and nothing arrived twice. A clean stop says CLOSE_CONNECTION.
//!
//! Nothing here sleeps to wait for something: every wait is on a condition with a timeout.

use serde_json::Value;
use shelfd_readers::llrp::client::{LlrpSettings, run_llrp_reader};
use shelfd_readers::llrp::simulator::{
    LlrpSimHandle, SimReaderConfig, Vendor, spawn_llrp_simulator,
};
use shelfd_readers::pty_sim::RoundSender;
use shelfd_readers::{ReaderHealth, TagReport};
use shelfd_testkit::config::{ConfigBuilder, Reader};
use shelfd_testkit::{Daemon, Mosquitto, Msg, Subscriber, wait_until};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const SOON: Duration = Duration::from_secs(30);
const BASE: &str = "shelfd/v1/s1/gw-1";

/// Waits until `check` passes on the messages received (the daemon's log on timeout).
fn wait_msgs(
    sub: &Subscriber,
    daemon: &Daemon,
    what: &str,
    check: impl Fn(&[Msg]) -> Result<(), String>,
) {
    sub.wait_check(what, SOON, check, || {
        format!("--- daemon log:\n{}", daemon.log())
    });
}

fn events<'a>(msgs: &'a [Msg], ty: &'a str) -> impl Iterator<Item = &'a Msg> + 'a {
    let topic = format!("{BASE}/event/{ty}");
    msgs.iter().filter(move |m| m.topic == topic)
}

/// The latest `reader.status` state of `reader`, and how many status events it had.
fn status_of(msgs: &[Msg], reader: &str) -> (Option<String>, usize) {
    let all: Vec<&Msg> = events(msgs, "reader.status")
        .filter(|m| m.json["reader"] == reader)
        .collect();
    (
        all.last()
            .and_then(|m| m.json["state"].as_str())
            .map(str::to_owned),
        all.len(),
    )
}

fn state_is(msgs: &[Msg], reader: &str, state: &str, after: usize) -> Result<(), String> {
    let (latest, n) = status_of(msgs, reader);
    if latest.as_deref() == Some(state) && n > after {
        Ok(())
    } else {
        Err(format!(
            "latest {latest:?} after {n} status events (want {state} after {after})"
        ))
    }
}

/// No departures, no moves, each EPC arrived at most once.
fn nothing_flapped(msgs: &[Msg]) {
    for ty in ["tag.departed", "tag.moved"] {
        let n = events(msgs, ty).count();
        assert_eq!(
            n,
            0,
            "unexpected {ty}: {:?}",
            events(msgs, ty).map(|m| &m.json).collect::<Vec<_>>()
        );
    }
    let mut seen = BTreeSet::new();
    for m in events(msgs, "tag.arrived") {
        let epc = m.json["epc"].as_str().expect("epc").to_owned();
        assert!(seen.insert(epc.clone()), "{epc} arrived twice");
    }
}

/// The simulated reader, its player and an optional rival client, on a runtime of their own.
struct Rig {
    rt: tokio::runtime::Runtime,
    sim: Option<LlrpSimHandle>,
    placed: Arc<AtomicBool>,
    cancel: CancellationToken,
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.cancel.cancel();
        drop(self.sim.take());
    }
}

async fn play(
    rounds: RoundSender,
    tags: Vec<TagReport>,
    placed: Arc<AtomicBool>,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        if placed.load(Ordering::Relaxed) {
            let _ = rounds.try_send_round(tags.clone());
        }
    }
}

#[test]
fn llrp_reader_through_shelfd_run_survives_rivals_reboots_drops_and_slowness() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(&tmp.path().join("broker"), "");
    let sub = Subscriber::start(broker.port, "central-llrp", &format!("{BASE}/#"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let cancel = CancellationToken::new();
    let sim = rt
        .block_on(spawn_llrp_simulator(
            SimReaderConfig::new(Vendor::Impinj),
            0,
            cancel.child_token(),
        ))
        .expect("simulated reader");
    let address = sim.address().to_string();
    let antennas = [(1u16, "shelf-x1"), (2u16, "shelf-x2")];
    let tags: Vec<TagReport> = (0..6u64)
        .map(|k| TagReport {
            antenna: if k < 3 { 1 } else { 2 },
            epc: shelfd_core::sim::sim_epc(7 + (k % 2) as u32, 500 + k),
            rssi_dbm: Some(-52.5),
            ..TagReport::default()
        })
        .collect();
    let expected: BTreeMap<String, &str> = tags
        .iter()
        .map(|t| {
            (
                shelfd_testkit::hex(&t.epc),
                if t.antenna == 1 {
                    "shelf-x1"
                } else {
                    "shelf-x2"
                },
            )
        })
        .collect();
    let placed = Arc::new(AtomicBool::new(false));
    rt.spawn(play(sim.rounds(), tags, placed.clone(), cancel.clone()));
    let rig = Rig {
        rt,
        sim: Some(sim),
        placed,
        cancel,
    };
    let sim = rig.sim.as_ref().expect("sim");

    // Another client holds the reader when the daemon starts.
    let rival_cancel = CancellationToken::new();
    let (rival_tx, mut rival_rx) = tokio::sync::mpsc::channel(1024);
    let mut rival = LlrpSettings::new("rival", address.clone(), vec![1]);
    rival.keepalive = Duration::from_secs(1);
    let rival_task = rig.rt.spawn(run_llrp_reader(
        rival,
        rival_tx,
        Arc::new(ReaderHealth::new("rival")),
        rival_cancel.clone(),
    ));
    rig.rt
        .spawn(async move { while rival_rx.recv().await.is_some() {} });
    wait_until("the rival connected", SOON, || {
        sim.connections() == 1 && sim.inventory_running()
    });

    let config = ConfigBuilder::new("s1", "gw-1")
        .state_dir("state")
        .mqtt_port(broker.port)
        .mqtt("keep_alive", "5s")
        .quick_reconcile()
        .reader(
            Reader::llrp("fx", &address)
                .antennas(&antennas)
                .set("keepalive", "1s")
                .set("search_mode", "dual"),
        )
        .location("shelf-x1", "shelf")
        .location("shelf-x2", "shelf")
        .write(tmp.path());
    let mut daemon = Daemon::start(&config);
    daemon.wait_log("another client is already connected", SOON);
    wait_msgs(&sub, &daemon, "fx offline while refused", |m| {
        state_is(m, "fx", "offline", 0)
    });
    assert!(sim.refused() >= 1);
    rival_cancel.cancel();
    rig.rt.block_on(rival_task).expect("rival task");
    wait_msgs(&sub, &daemon, "fx online once the rival left", |m| {
        state_is(m, "fx", "online", 0)
    });
    daemon.wait_log("LLRP reader identified", SOON);

    // Reads become arrivals at the antennas' locations.
    wait_msgs(&sub, &daemon, "empty baselines", |m| {
        let n = m
            .iter()
            .filter(|m| m.json["type"] == "stock.snapshot" && m.json["baseline"] == true)
            .count();
        if n >= 2 {
            Ok(())
        } else {
            Err(format!("{n} baseline snapshots"))
        }
    });
    rig.placed.store(true, Ordering::Relaxed);
    wait_msgs(
        &sub,
        &daemon,
        "every tag arrived where its antenna is",
        |m| {
            let arrived: BTreeMap<String, String> = events(m, "tag.arrived")
                .map(|m| {
                    (
                        m.json["epc"].as_str().unwrap_or("").to_owned(),
                        m.json["location"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect();
            let want: BTreeMap<String, String> = expected
                .iter()
                .map(|(e, l)| (e.clone(), (*l).to_owned()))
                .collect();
            if arrived == want {
                Ok(())
            } else {
                Err(format!("arrived {arrived:?}"))
            }
        },
    );

    // Reboot: offline, online again, configured again; nothing flaps.
    let (_, before) = status_of(&sub.msgs(), "fx");
    sim.reboot(Duration::from_secs(1));
    wait_msgs(&sub, &daemon, "fx offline after the reboot", |m| {
        state_is(m, "fx", "offline", before)
    });
    let (_, before) = status_of(&sub.msgs(), "fx");
    wait_msgs(&sub, &daemon, "fx online after the reboot", |m| {
        state_is(m, "fx", "online", before)
    });
    assert!(sim.inventory_running());

    // Network drop: nothing crosses; two missed keepalives and the daemon reconnects.
    let (_, before) = status_of(&sub.msgs(), "fx");
    sim.partition(true);
    wait_msgs(&sub, &daemon, "fx offline in the partition", |m| {
        state_is(m, "fx", "offline", before)
    });
    daemon.wait_log("two keepalives missed", SOON);
    sim.partition(false);
    let (_, before) = status_of(&sub.msgs(), "fx");
    wait_msgs(&sub, &daemon, "fx online after the partition", |m| {
        state_is(m, "fx", "online", before)
    });

    // A slow reader (every message late and fragmented), reconnected.
    sim.set_slow(Duration::from_millis(60));
    let (_, before) = status_of(&sub.msgs(), "fx");
    sim.drop_connection();
    wait_msgs(&sub, &daemon, "fx back online from a slow reader", |m| {
        let (latest, n) = status_of(m, "fx");
        if latest.as_deref() == Some("online") && n >= before + 2 {
            Ok(())
        } else {
            Err(format!("{latest:?} {n}"))
        }
    });
    sim.set_slow(Duration::ZERO);

    // A second client is refused by the reader; the daemon is told and stays connected.
    let mut second = std::net::TcpStream::connect(sim.address()).expect("connect");
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut greeting = [0u8; 32];
    second
        .read_exact(&mut greeting)
        .expect("the reader's refusal");
    assert_eq!(&greeting[..2], &[0x04, 0x3f], "READER_EVENT_NOTIFICATION");
    assert_eq!(
        &greeting[30..32],
        &[0x00, 0x02],
        "ConnectionAttemptEvent: a client connection already exists"
    );
    daemon.wait_log("another client tried to connect", SOON);
    assert_eq!(status_of(&sub.msgs(), "fx").0.as_deref(), Some("online"));

    let msgs = sub.msgs();
    nothing_flapped(&msgs);
    assert_eq!(events(&msgs, "tag.arrived").count(), expected.len());
    let counts: Value = msgs
        .iter()
        .rev()
        .find(|m| m.topic == format!("{BASE}/stock/shelf-x1"))
        .map(|m| m.json["counts"].clone())
        .expect("a shelf-x1 snapshot");
    let total: u64 = counts
        .as_object()
        .expect("counts")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(total, 3);

    daemon.stop();
    wait_until("CLOSE_CONNECTION on the clean stop", SOON, || {
        sim.stats().closes.load(Ordering::Relaxed) >= 1
    });
    let log = daemon.log();
    assert!(!log.contains("panicked"), "{log}");
}

/// `shelfd llrp probe` against a simulated reader that sees two tags, then `shelfd decode
/// --protocol llrp --hex` on recorded bytes (mchesser/llrp-rs `ro_access_report_inventory`
/// and `close_connection`, both directions in one capture).
#[test]
fn probe_and_decode_from_the_command_line() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let cancel = CancellationToken::new();
    let sim = rt
        .block_on(spawn_llrp_simulator(
            SimReaderConfig::new(Vendor::Zebra),
            0,
            cancel.child_token(),
        ))
        .expect("simulated reader");
    let tags = vec![
        TagReport {
            antenna: 2,
            epc: vec![0x30, 0x11, 0x22, 0x33],
            rssi_dbm: Some(-47.0),
            ..TagReport::default()
        },
        TagReport {
            antenna: 7,
            epc: vec![0x30, 0x11, 0x22, 0x34],
            rssi_dbm: Some(-66.0),
            ..TagReport::default()
        },
    ];
    let placed = Arc::new(AtomicBool::new(true));
    rt.spawn(play(sim.rounds(), tags, placed, cancel.clone()));
    let run = shelfd_testkit::shelfd([
        "llrp",
        "probe",
        &sim.address().to_string(),
        "--for",
        "1s",
        "--json",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(report["vendor"], "zebra");
    assert_eq!(report["antennas"], 8);
    assert_eq!(report["max_inventory_specs_per_aispec"], 1);
    let antennas: Vec<u64> = report["per_antenna"]
        .as_array()
        .expect("per antenna")
        .iter()
        .filter_map(|a| a["antenna"].as_u64())
        .collect();
    assert_eq!(antennas, [2, 7]);
    let epcs: Vec<&str> = report["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["epc"].as_str())
        .collect();
    assert_eq!(epcs, ["30112233", "30112234"]);
    wait_until("CLOSE_CONNECTION", SOON, || {
        sim.stats().closes.load(Ordering::Relaxed) >= 1
    });
    // Text output, and a clear error for an address nobody listens on.
    let run = shelfd_testkit::shelfd([
        "llrp",
        "probe",
        &sim.address().to_string(),
        "--for",
        "200ms",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("zebra (PEN 161)"), "{}", run.stdout);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let nobody = closed.local_addr().expect("addr").to_string();
    drop(closed);
    let run = shelfd_testkit::shelfd(["llrp", "probe", &nobody]);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains(&format!("probe of {nobody}: cannot connect")),
        "{}",
        run.stderr
    );
    cancel.cancel();

    let capture = "04 3D 00 00 00 29 3A FB 30 B6 00 F0 00 1F 8D 0B 7F 00 00 00 00 00 00 00 51 02 38 81 00 01 86 BC 82 00 05 88 80 19 4B A9 D5\n04 0E 00 00 00 0A 00 00 00 23\n";
    let run = shelfd_testkit::shelfd_with(
        ["decode", "--protocol", "llrp", "--hex"],
        &[],
        Some(capture.as_bytes()),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.lines(),
        [
            r#"{"kind":"tag","offset":0,"antenna":1,"epc":"0b7f00000000000000510238","rssi_dbm":-68.0,"reader_time_ms":1557458645133}"#,
            r#"{"kind":"frame","offset":41,"name":"CLOSE_CONNECTION","role":"info"}"#,
        ]
    );
}
