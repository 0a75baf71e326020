//! Receiving docks end to end: `shelfd run` against a real Mosquitto, its replay reader fed
//! through a named pipe the test writes to as things happen (door-sensor `gpio` lines and the
//! pallet's reads, restamped with the gateway clock by the daemon as a real reader's would be).
//! An `asn` command goes over MQTT and gets its result (malformed and conflicting ones a precise
//! error), the door opens and closes, and one `dock.receipt` is published; then a second
//! delivery is interrupted by kill -9 with its session open and the restarted daemon emits its
//! receipt exactly once.
//!
//! GPIO hardware is not part of this: the configured chip does not exist on a build machine, so
//! the daemon logs it and runs on (door levels come from the read log, as in `shelfd replay`).

use serde_json::{Value, json};
use shelfd_core::readlog::{LinkState, Record, TagRead};
use shelfd_core::sim::sim_epc;
use shelfd_testkit::Daemon;
use shelfd_testkit::config::{ConfigBuilder, Dock, Reader};
use shelfd_testkit::{Mosquitto, wait_until_or};
use shelfd_testkit::{Msg, Subscriber};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

const LONG: Duration = Duration::from_secs(60);
const PREFIX: &str = "shelfd/v1/s1/gw-1";
const T0: u64 = 1_795_341_600_000;

/// Store `s1`, gateway `gw-1`: a replay reader on the pipe `reads.fifo`, two antennas on
/// `dock-1`, door `door-1` with its sensor and two lights on a GPIO chip that does not exist
/// here, and [`ConfigBuilder::quick_reconcile`].
fn write_config(dir: &Path, port: u16) -> std::path::PathBuf {
    const CHIP: &str = "/dev/gpiochip-absent-in-tests";
    ConfigBuilder::new("s1", "gw-1")
        .state_dir("state")
        .mqtt_port(port)
        .mqtt("keep_alive", "5s")
        .reader(Reader::replay("r1", "reads.fifo").antennas(&[(1, "dock-1"), (2, "dock-1")]))
        .location("dock-1", "dock")
        .dock(
            Dock::new("door-1", "dock-1")
                .door_gpio("door-1-sensor")
                .lights(&[("receiving", "door-1-amber"), ("complete", "door-1-green")])
                .set("dwell", "1s"),
        )
        .gpio("door-1-sensor", CHIP, 1, "input")
        .gpio("door-1-amber", CHIP, 2, "output")
        .gpio("door-1-green", CHIP, 3, "output")
        .quick_reconcile()
        .write(dir)
}

/// The write end of the daemon's replay pipe. Lines carry `t` = the time since the first line
/// plus an offset, so the replay source plays each about `offset` after it was written.
struct Pipe {
    file: std::fs::File,
    start: Instant,
}

impl Pipe {
    /// Opens the pipe for writing once the daemon opened it for reading (in a thread, so a
    /// daemon that never opens it fails the test instead of hanging it).
    fn open(path: &Path) -> Pipe {
        let (tx, rx) = std::sync::mpsc::channel();
        let path = path.to_owned();
        std::thread::spawn(move || {
            let _ = tx.send(std::fs::OpenOptions::new().write(true).open(path));
        });
        let file = rx
            .recv_timeout(LONG)
            .expect("the daemon opens its replay pipe")
            .expect("open the pipe");
        Pipe {
            file,
            start: Instant::now(),
        }
    }

    fn now(&self) -> u64 {
        T0 + u64::try_from(self.start.elapsed().as_millis()).expect("ms")
    }

    fn write(&mut self, records: &[Record]) {
        let mut text = String::new();
        for r in records {
            text.push_str(&r.to_json_line());
            text.push('\n');
        }
        self.file.write_all(text.as_bytes()).expect("write pipe");
        self.file.flush().expect("flush pipe");
    }

    fn door(&mut self, level: bool) {
        let t = self.now();
        self.write(&[Record::Gpio {
            t,
            gpio: "door-1-sensor".into(),
            level,
        }]);
    }

    /// `rounds` heartbeats 200 ms apart (inventory rounds with nothing in view).
    fn heartbeats(&mut self, rounds: u64) {
        self.rounds(&[], rounds);
    }

    /// `rounds` inventory rounds, 200 ms apart, reading every tag on both antennas.
    fn rounds(&mut self, epcs: &[Vec<u8>], rounds: u64) {
        let t = self.now();
        let mut records = Vec::new();
        for i in 0..rounds {
            for epc in epcs {
                for antenna in [1, 2] {
                    records.push(Record::Read(TagRead {
                        t: t + i * 200,
                        reader: "r1".into(),
                        antenna,
                        epc: epc.clone(),
                        rssi: Some(-52.0),
                    }));
                }
            }
            records.push(Record::Link {
                t: t + i * 200,
                reader: "r1".into(),
                link: LinkState::Alive,
            });
        }
        self.write(&records);
    }
}

/// Waits until `cond` holds; on a timeout, fails with the daemon's log.
fn wait(daemon: &Daemon, what: &str, cond: impl FnMut() -> bool) {
    wait_until_or(what, LONG, cond, || {
        format!("daemon log:\n{}", daemon.log())
    });
}

fn hex(epc: &[u8]) -> String {
    shelfd_testkit::hex(epc)
}

fn results<'a>(msgs: &'a [Msg], id: &str) -> Vec<&'a Msg> {
    msgs.iter()
        .filter(|m| m.topic == format!("{PREFIX}/cmd/asn/result") && m.json["id"] == id)
        .collect()
}

fn asn(sub: &Subscriber, body: &Value) -> Value {
    sub.publish(&format!("{PREFIX}/cmd/asn"), body.to_string().as_bytes());
    let id = body["id"].as_str().expect("id").to_owned();
    sub.wait_for(&format!("the result of {id}"), LONG, |m| {
        !results(m, &id).is_empty()
    });
    results(&sub.msgs(), &id)[0].json.clone()
}

/// Distinct (by seq) receipts published so far.
fn receipts(sub: &Subscriber) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    sub.msgs()
        .into_iter()
        .filter(|m| m.topic == format!("{PREFIX}/event/dock.receipt"))
        .filter(|m| seen.insert(m.json["seq"].as_u64().expect("seq")))
        .map(|m| m.json)
        .collect()
}

fn arrived(sub: &Subscriber, epcs: &[Vec<u8>]) -> usize {
    let wanted: BTreeSet<String> = epcs.iter().map(|e| hex(e)).collect();
    let mut seen = BTreeSet::new();
    sub.msgs()
        .iter()
        .filter(|m| m.topic == format!("{PREFIX}/event/tag.arrived"))
        .filter(|m| wanted.contains(m.json["epc"].as_str().unwrap_or_default()))
        .filter(|m| seen.insert(m.json["seq"].as_u64()))
        .count()
}

#[test]
fn an_asn_over_mqtt_and_a_door_session_give_one_receipt_even_across_kill_9() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let fifo = tmp.path().join("reads.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let broker = Mosquitto::start(&tmp.path().join("broker"), "");
    let sub = Subscriber::start(broker.port, "central-dock", &format!("{PREFIX}/#"));
    let config = write_config(tmp.path(), broker.port);
    let mut daemon = Daemon::start(&config);
    let mut pipe = Pipe::open(&fifo);
    sub.wait_for("the daemon online", LONG, |m| {
        m.iter()
            .any(|m| m.topic == format!("{PREFIX}/status") && m.json.to_string().contains("online"))
    });
    // Without the GPIO chip the daemon runs on, saying so.
    daemon.wait_log("gpio input unavailable", LONG);
    // A first start: let the (empty) baseline close, so the pallet's items are arrivals.
    pipe.heartbeats(10);
    wait(&daemon, "the baseline snapshot", || {
        sub.msgs()
            .iter()
            .any(|m| m.topic == format!("{PREFIX}/stock/dock-1") && m.json["baseline"] == true)
    });

    let pallet: Vec<Vec<u8>> = (1..=6).map(|s| sim_epc(1, s)).collect();
    let list: Vec<String> = pallet.iter().map(|e| hex(e)).collect();

    // Malformed and conflicting ASNs: precise errors, nothing stored.
    let bad = asn(
        &sub,
        &json!({"id": "bad-1", "shipment": "SHP-1", "dock": "door-1", "epcs": ["30zz"]}),
    );
    assert_eq!(bad["ok"], false);
    assert_eq!(
        bad["error"],
        r#"epcs[0]: hex "30zz" has 'z' at position 2, which is not a hex digit"#
    );
    let bad = asn(
        &sub,
        &json!({"id": "bad-2", "shipment": "SHP-1", "dock": "door-9", "epcs": list}),
    );
    assert_eq!(
        bad["error"],
        r#"unknown dock "door-9" (configured: door-1)"#
    );
    let ok = asn(
        &sub,
        &json!({"id": "a-1", "shipment": "SHP-1", "dock": "door-1", "epcs": list}),
    );
    assert_eq!(
        ok,
        json!({"v": 1, "type": "cmd.result", "op": "asn", "id": "a-1", "ok": true,
               "shipment": "SHP-1", "dock": "door-1", "state": "open", "new": true})
    );
    let again = asn(
        &sub,
        &json!({"id": "a-2", "shipment": "SHP-1", "dock": "door-1", "epcs": list}),
    );
    assert_eq!((&again["ok"], &again["new"]), (&json!(true), &json!(false)));
    let conflict = asn(
        &sub,
        &json!({"id": "a-3", "shipment": "SHP-1", "dock": "door-1", "epcs": &list[..5]}),
    );
    assert_eq!(conflict["ok"], false);
    assert!(
        conflict["error"].as_str().expect("error").starts_with(
            r#"shipment "SHP-1" is already stored for dock "door-1" with different content"#
        ),
        "{conflict}"
    );

    // The delivery: door open, the pallet read for two seconds, door closed.
    pipe.door(true);
    pipe.rounds(&pallet, 10);
    wait(&daemon, "the pallet's arrivals", || {
        arrived(&sub, &pallet) == 6
    });
    pipe.door(false);
    pipe.rounds(&pallet, 5);
    wait(&daemon, "the receipt", || !receipts(&sub).is_empty());
    let r = &receipts(&sub)[0];
    assert_eq!(r["dock"], "door-1");
    assert_eq!(r["shipment"], "SHP-1");
    assert_eq!(r["status"], "complete");
    assert_eq!(
        (r["expected"].as_u64(), r["received"].as_u64()),
        (Some(6), Some(6))
    );
    assert_eq!(
        r["by_sku"],
        json!({"00614141000012": {"expected": 6, "received": 6}})
    );
    // A received shipment sent again is recognised.
    let late = asn(
        &sub,
        &json!({"id": "a-4", "shipment": "SHP-1", "dock": "door-1", "epcs": list}),
    );
    assert_eq!(
        (&late["state"], &late["new"]),
        (&json!("received"), &json!(false))
    );

    // A second delivery, killed with its session open and every item received.
    let second: Vec<Vec<u8>> = (1..=4).map(|s| sim_epc(2, s)).collect();
    let list: Vec<String> = second.iter().map(|e| hex(e)).collect();
    asn(
        &sub,
        &json!({"id": "b-1", "shipment": "SHP-2", "dock": "door-1", "epcs": list}),
    );
    pipe.door(true);
    pipe.rounds(&second, 10);
    wait(&daemon, "the second pallet's arrivals", || {
        arrived(&sub, &second) == 4
    });
    // Their arrivals are published, so the step that received them is committed.
    daemon.kill9();
    drop(pipe);

    let daemon = Daemon::start(&config);
    let mut pipe = Pipe::open(&fifo);
    // The door closed while the daemon was down; it reports the level when it comes back.
    pipe.door(false);
    pipe.rounds(&second, 5);
    wait(&daemon, "the second receipt", || receipts(&sub).len() >= 2);
    // Let anything else (a duplicate) arrive before counting.
    pipe.rounds(&second, 10);
    sub.wait_quiet(Duration::from_millis(2_500), LONG);
    let all = receipts(&sub);
    assert_eq!(all.len(), 2, "{all:#?}");
    let r = &all[1];
    assert_eq!(r["shipment"], "SHP-2");
    assert_eq!(r["status"], "complete");
    assert_eq!(r["received"].as_u64(), Some(4));
    // Nothing re-arrived after the restart.
    assert_eq!(arrived(&sub, &second), 4);
    assert_eq!(arrived(&sub, &pallet), 6);
    drop(daemon);
}
