//! Every serial reader protocol end to end: simulated Mercury, MagicRF, R2000 (two antennas,
//! so the host's antenna switching is exercised) and line readers speak their real bytes on
//! PTYs behind by-id-style symlinks; `shelfd run` drives them, reconciles and publishes to a
//! real Mosquitto; a subscriber checks arrivals, reader status and the retained snapshots,
//! then one reader is unplugged and the daemon is stopped with SIGTERM.
//!
//! Nothing here sleeps to wait for something: every wait is on a condition with a timeout.

use shelfd_testkit::Daemon;
use shelfd_testkit::{Mosquitto, wait_until};
mod pty_readers;

use pty_readers::{PtyReaders, ReaderSpec, write_config};
use serde_json::Value;
use shelfd::config::Protocol;
use shelfd_testkit::{Msg, Subscriber};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Generous bound for anything that should happen "soon" on a loaded 2-core machine.
const SOON: Duration = Duration::from_secs(20);

const BASE: &str = "shelfd/v1/s1/gw-1";

const SPECS: [ReaderSpec; 4] = [
    ReaderSpec {
        id: "rm",
        protocol: Protocol::Mercury,
        antennas: &[(1, "shelf-m")],
        tags_per_antenna: 4,
    },
    ReaderSpec {
        id: "rb",
        protocol: Protocol::MagicRf,
        antennas: &[(1, "shelf-b")],
        tags_per_antenna: 4,
    },
    ReaderSpec {
        id: "ra",
        protocol: Protocol::R2000,
        antennas: &[(1, "shelf-a1"), (2, "shelf-a2")],
        tags_per_antenna: 3,
    },
    ReaderSpec {
        id: "rl",
        protocol: Protocol::Line,
        antennas: &[(1, "shelf-l")],
        tags_per_antenna: 4,
    },
];

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

/// `Ok` when `got == want`, else both, for [`wait_msgs`].
fn same<T: PartialEq + std::fmt::Debug>(got: T, want: &T) -> Result<(), String> {
    if got == *want {
        Ok(())
    } else {
        Err(format!("got {got:?}, want {want:?}"))
    }
}

fn events<'a>(msgs: &'a [Msg], ty: &'a str) -> impl Iterator<Item = &'a Msg> + 'a {
    let topic = format!("{BASE}/event/{ty}");
    msgs.iter().filter(move |m| m.topic == topic)
}

/// The readers whose latest `reader.status` is `state`.
fn readers_in(msgs: &[Msg], state: &str) -> BTreeSet<String> {
    let mut latest: BTreeMap<String, String> = BTreeMap::new();
    for m in events(msgs, "reader.status") {
        if let (Some(r), Some(s)) = (m.json["reader"].as_str(), m.json["state"].as_str()) {
            latest.insert(r.to_owned(), s.to_owned());
        }
    }
    latest
        .into_iter()
        .filter(|(_, s)| s == state)
        .map(|(r, _)| r)
        .collect()
}

/// The latest `stock/{location}` payload's counts, per location.
fn latest_counts(msgs: &[Msg], retained_only: bool) -> BTreeMap<String, Value> {
    let prefix = format!("{BASE}/stock/");
    let mut out = BTreeMap::new();
    for m in msgs.iter().filter(|m| !retained_only || m.retain) {
        if let Some(location) = m.topic.strip_prefix(&prefix) {
            assert_eq!(m.json["type"], "stock.snapshot", "{m:?}");
            assert_eq!(m.json["location"], location, "{m:?}");
            out.insert(location.to_owned(), m.json["counts"].clone());
        }
    }
    out
}

#[test]
fn every_protocol_on_a_pty_reaches_mqtt_through_shelfd_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(&tmp.path().join("broker"), "");
    let sub = Subscriber::start(broker.port, "central-readers", &format!("{BASE}/#"));
    // A watchdog longer than the test waits: the unplug must be seen as a hang-up.
    let config = write_config(tmp.path(), broker.port, &SPECS, "60s");
    // The daemon first (see `pty_readers`): it retries the links until the readers appear.
    let mut daemon = Daemon::start(&config);
    let mut readers = PtyReaders::start(tmp.path(), &SPECS);

    // What must arrive: every EPC at its reader's location; per location, a count per GTIN.
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    let mut counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for r in &readers.readers {
        for ((epc, location), tag) in r.expected().into_iter().zip(&r.tags) {
            let gtin = shelfd_core::epc::gtin14(&tag.epc).expect("simulated tags are SGTIN-96");
            *counts
                .entry(location.clone())
                .or_default()
                .entry(gtin)
                .or_default() += 1;
            assert!(
                expected.insert(epc.clone(), location).is_none(),
                "EPC {epc} used twice"
            );
        }
    }
    let ids: BTreeSet<String> = SPECS.iter().map(|s| s.id.to_owned()).collect();

    wait_msgs(&sub, &daemon, "every reader online", |m| {
        same(readers_in(m, "online"), &ids)
    });
    // Tags confirmed before the first-start baseline closes form the baseline instead of
    // arriving: put them in view only once the (empty) baseline snapshots are out.
    let locations: BTreeSet<String> = counts.keys().cloned().collect();
    wait_msgs(&sub, &daemon, "the empty baseline snapshots", |m| {
        let baseline: BTreeSet<String> = m
            .iter()
            .filter(|m| m.json["type"] == "stock.snapshot" && m.json["baseline"] == true)
            .filter(|m| m.json["counts"].as_object().is_some_and(|c| c.is_empty()))
            .filter_map(|m| m.json["location"].as_str().map(str::to_owned))
            .collect();
        same(baseline, &locations)
    });
    readers.place_tags();
    wait_msgs(&sub, &daemon, "a tag.arrived for every EPC", |m| {
        let arrived: BTreeSet<&str> = events(m, "tag.arrived")
            .filter_map(|m| m.json["epc"].as_str())
            .collect();
        let missing: Vec<(&String, &String)> = expected
            .iter()
            .filter(|(epc, _)| !arrived.contains(epc.as_str()))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("not arrived (EPC, location): {missing:?}"))
        }
    });
    let msgs = sub.msgs();
    let mut seen = BTreeSet::new();
    for m in events(&msgs, "tag.arrived") {
        let epc = m.json["epc"].as_str().expect("epc");
        assert!(seen.insert(epc.to_owned()), "{epc} arrived twice");
        assert_eq!(
            expected.get(epc).map(String::as_str),
            m.json["location"].as_str(),
            "{epc} arrived at the wrong place: {m:?}"
        );
    }
    assert_eq!(seen.len(), expected.len(), "arrivals of unknown EPCs");
    for ty in ["tag.moved", "tag.departed", "tag.sold", "alert.exit"] {
        assert_eq!(events(&msgs, ty).count(), 0, "unexpected {ty}");
    }

    // Stock snapshots: the latest of each location has the right counts, and so does the
    // retained copy a late subscriber gets.
    let want: BTreeMap<String, Value> = counts
        .iter()
        .map(|(l, c)| (l.clone(), serde_json::to_value(c).expect("counts")))
        .collect();
    wait_msgs(&sub, &daemon, "snapshots with every tag counted", |m| {
        same(latest_counts(m, false), &want)
    });
    let late = Subscriber::start(broker.port, "late-readers", &format!("{BASE}/stock/#"));
    wait_msgs(&late, &daemon, "the retained snapshots", |m| {
        same(latest_counts(m, true), &want)
    });

    // Unplug the line reader: the driver sees the hang-up, the engine reports it offline.
    readers.unplug("rl");
    wait_msgs(&sub, &daemon, "reader rl offline", |m| {
        same(readers_in(m, "offline"), &BTreeSet::from(["rl".to_owned()]))
    });
    wait_until("the hang-up in the daemon log", SOON, || {
        daemon.log().lines().any(|l| {
            l.contains("serial link lost")
                && l.contains("reader=rl")
                && (l.contains("end of file") || l.contains("read error"))
        })
    });
    let others: BTreeSet<String> = ids.iter().filter(|id| *id != "rl").cloned().collect();
    assert_eq!(
        readers_in(&sub.msgs(), "online"),
        others,
        "the other readers stay online"
    );

    daemon.stop();
    // The clean stop reports every reader down and says goodbye.
    wait_msgs(
        &sub,
        &daemon,
        "every reader offline, then the gateway",
        |m| {
            same(readers_in(m, "offline"), &ids)?;
            let status = m.iter().rev().find(|m| m.topic == format!("{BASE}/status"));
            same(
                status.map(|m| m.json["state"].clone()),
                &Some("offline".into()),
            )
        },
    );
    let log = daemon.log();
    assert!(!log.contains("panicked"), "{log}");
}
