//! Delivery guarantees of `shelfd run` against a real Mosquitto: every event once and in
//! order, through broker restarts, a daemon `kill -9` and a long outage. A subscriber with a
//! persistent session checks every seq number.

use shelfd_testkit::Daemon;
use shelfd_testkit::Subscriber;
use shelfd_testkit::readlogs::{churn_config, churn_log};
use shelfd_testkit::{Mosquitto, wait_until};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);

fn setup(dir: &Path, tags: usize, spacing_ms: u64, speed: f64, port: u16) -> std::path::PathBuf {
    churn_log(&dir.join("reads.jsonl"), 7, tags, spacing_ms, 5_000);
    churn_config(speed).mqtt_port(port).write(dir)
}

/// Every seq from 1 to `last` was received, and first receipts are in ascending order.
fn assert_complete_in_order(seqs: &[u64], last: u64) {
    let mut seen = BTreeSet::new();
    let mut first_receipts = Vec::new();
    for &s in seqs {
        if seen.insert(s) {
            first_receipts.push(s);
        }
    }
    let missing: Vec<u64> = (1..=last).filter(|s| !seen.contains(s)).collect();
    assert!(missing.is_empty(), "missing seqs {missing:?} of 1..={last}");
    assert_eq!(seen.len() as u64, last, "seqs beyond {last}: {seen:?}");
    assert!(
        first_receipts.windows(2).all(|w| w[0] < w[1]),
        "events first arrived out of order"
    );
}

#[test]
fn events_arrive_once_in_order_with_contiguous_seq_and_status() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(&tmp.path().join("broker"), "");
    let sub = Subscriber::start(broker.port, "central-1", "shelfd/v1/s1/gw-1/#");
    let config = setup(tmp.path(), 60, 100, 4.0, broker.port);
    let mut daemon = Daemon::start(&config);
    sub.wait_for("status online", LONG, |m| {
        m.iter()
            .any(|m| m.topic.ends_with("/status") && m.json["state"] == "online")
    });
    daemon.wait_log("replay source finished", LONG);
    sub.wait_quiet(Duration::from_millis(1500), LONG);
    daemon.stop();
    let last = daemon.final_next_seq() - 1;
    let replayed = shelfd_testkit::shelfd([
        "replay",
        "--config",
        config.to_str().expect("utf-8"),
        "--input",
        tmp.path().join("reads.jsonl").to_str().expect("utf-8"),
    ]);
    let virtual_events = replayed
        .stdout
        .lines()
        .filter(|l| l.contains("\"seq\""))
        .count();
    assert!(
        last as usize >= 60,
        "expected at least one event per tag, got {last} (replay gives {virtual_events}): {}",
        daemon.log()
    );
    sub.wait_for("every event", LONG, |m| {
        m.iter().filter(|m| m.topic.contains("/event/")).count() as u64 >= last
    });
    sub.wait_for("status offline", LONG, |m| {
        m.iter()
            .any(|m| m.topic.ends_with("/status") && m.json["state"] == "offline")
    });
    let seqs = sub.seqs();
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "exactly once, in order"
    );
    let msgs = sub.msgs();
    for m in msgs.iter().filter(|m| m.topic.contains("/event/")) {
        let ty = m.json["type"].as_str().expect("type");
        assert!(
            m.topic.ends_with(&format!("/event/{ty}")),
            "{} carries {ty}",
            m.topic
        );
        assert_eq!(
            (&m.json["store"], &m.json["gateway"]),
            (&"s1".into(), &"gw-1".into())
        );
    }
    assert!(msgs.iter().any(
        |m| m.topic == "shelfd/v1/s1/gw-1/stock/shelf-a" && m.json["type"] == "stock.snapshot"
    ));
    let online = msgs
        .iter()
        .find(|m| m.json["state"] == "online")
        .expect("online");
    assert_eq!(online.json["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        online.json["boot_id"]
            .as_str()
            .is_some_and(|b| b.len() >= 16)
    );
    // A late subscriber gets the retained state: offline status and the snapshots.
    let late = Subscriber::start(broker.port, "late-1", "shelfd/v1/s1/gw-1/#");
    late.wait_for("retained status and snapshots", LONG, |m| {
        m.iter()
            .any(|m| m.retain && m.topic.ends_with("/status") && m.json["state"] == "offline")
            && m.iter()
                .filter(|m| m.retain && m.topic.contains("/stock/"))
                .count()
                == 2
    });
}

#[test]
fn broker_restart_mid_stream_loses_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut broker = Mosquitto::start(&tmp.path().join("broker"), "");
    let sub = Subscriber::start(broker.port, "central-2", "shelfd/v1/s1/gw-1/#");
    let config = setup(tmp.path(), 120, 100, 3.0, broker.port);
    let mut daemon = Daemon::start(&config);
    sub.wait_for("the first events", LONG, |_| sub.seqs().len() >= 10);
    broker.stop();
    let before = sub.msgs().len();
    daemon.wait_log("lost the broker connection", LONG);
    broker.restart();
    // On reconnect: status online again and every location's snapshot republished.
    sub.wait_for("status and snapshots republished", LONG, |m| {
        let after = &m[before.min(m.len())..];
        after
            .iter()
            .any(|m| m.topic.ends_with("/status") && m.json["state"] == "online")
            && after.iter().filter(|m| m.topic.contains("/stock/")).count() >= 2
    });
    daemon.wait_log("replay source finished", LONG);
    daemon.stop();
    let last = daemon.final_next_seq() - 1;
    sub.wait_for("every event after the restart", LONG, |_| {
        sub.seqs().iter().collect::<BTreeSet<_>>().len() as u64 >= last
    });
    assert_complete_in_order(&sub.seqs(), last);
    assert!(
        daemon.log().contains("lost the broker connection"),
        "{}",
        daemon.log()
    );
}

#[test]
fn daemon_kill_9_mid_stream_continues_seq_without_gap() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(&tmp.path().join("broker"), "");
    let sub = Subscriber::start(broker.port, "central-3", "shelfd/v1/s1/gw-1/#");
    let config = setup(tmp.path(), 120, 100, 3.0, broker.port);
    let mut daemon = Daemon::start(&config);
    sub.wait_for("some events", LONG, |_| sub.seqs().len() >= 20);
    daemon.kill9();
    sub.wait_for("the last will", LONG, |m| {
        m.iter()
            .any(|m| m.topic.ends_with("/status") && m.json["state"] == "offline")
    });
    let before_restart = sub.seqs();
    let mut daemon = Daemon::start(&config);
    daemon.wait_log("replay source finished", LONG);
    daemon.stop();
    let last = daemon.final_next_seq() - 1;
    sub.wait_for("every event", LONG, |_| {
        sub.seqs().iter().collect::<BTreeSet<_>>().len() as u64 >= last
    });
    let seqs = sub.seqs();
    assert_complete_in_order(&seqs, last);
    // Duplicates only of the unacknowledged tail: re-sent seqs are at most the window the
    // killed daemon had in flight, and none of them is older than the killed run's last seq
    // minus that window.
    let killed_max = before_restart.iter().copied().max().unwrap_or(0);
    let mut seen = BTreeSet::new();
    let dups: Vec<u64> = seqs.iter().copied().filter(|s| !seen.insert(*s)).collect();
    assert!(dups.len() <= 64, "{} duplicates: {dups:?}", dups.len());
    assert!(
        dups.iter().all(|d| *d + 64 > killed_max),
        "duplicates {dups:?} are not the tail before {killed_max}"
    );
}

#[test]
fn a_long_outage_buffers_to_disk_and_drains_in_order() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut broker = Mosquitto::start(&tmp.path().join("broker"), "");
    let sub = Subscriber::start(broker.port, "central-4", "shelfd/v1/s1/gw-1/event/#");
    broker.stop();
    let config = setup(tmp.path(), 150, 100, 10.0, broker.port);
    let mut daemon = Daemon::start(&config);
    daemon.wait_log("replay source finished", LONG);
    // The whole log was processed while the broker was away: everything is in the outbox.
    wait_until("a connect failure in the log", LONG, || {
        daemon.log().contains("cannot connect to the broker")
    });
    broker.restart();
    sub.wait_for("the buffered events", LONG, |m| m.len() >= 20);
    sub.wait_quiet(Duration::from_millis(1500), LONG);
    daemon.stop();
    let last = daemon.final_next_seq() - 1;
    sub.wait_for("every event", LONG, |_| {
        sub.seqs().iter().collect::<BTreeSet<_>>().len() as u64 >= last
    });
    let seqs = sub.seqs();
    assert_complete_in_order(&seqs, last);
}
