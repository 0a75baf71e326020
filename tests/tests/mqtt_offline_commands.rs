//! Commands sent while the gateway is offline, against a real Mosquitto with persistence on:
//! the daemon's command session is persistent (stable client id, QoS 1), so an `asn` published
//! while `shelfd` is stopped — and kept across a broker restart — is processed exactly once
//! after the daemon starts, and its result is published; a command whose `expires` passed
//! while it waited is refused with an error saying it expired, and changes nothing.

use serde_json::json;
use shelfd_testkit::config::{ConfigBuilder, Dock, Reader};
use shelfd_testkit::{Daemon, Mosquitto, Msg, Subscriber, wait_until};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const LONG: Duration = Duration::from_secs(60);
const CMD: &str = "shelfd/v1/s1/gw-1/cmd";
/// ASNs queued at once while the daemon is down.
const BURST: u64 = 150;

/// Store `s1`, gateway `gw-1`: one replay reader with a shelf and a dock antenna, door
/// `door-1` (its sensor on a GPIO chip that does not exist here: the daemon logs it and runs).
fn write_config(dir: &Path, port: u16) -> std::path::PathBuf {
    const CHIP: &str = "/dev/gpiochip-absent-in-tests";
    shelfd_testkit::readlogs::churn_log(&dir.join("reads.jsonl"), 3, 4, 200, 1_000);
    ConfigBuilder::new("s1", "gw-1")
        .state_dir("state")
        .mqtt_port(port)
        .mqtt("keep_alive", "5s")
        .reader(
            Reader::replay("r1", "reads.jsonl")
                .set("speed", 4.0)
                .antennas(&[(1, "shelf-a"), (2, "shelf-b"), (3, "dock-1")]),
        )
        .location("shelf-a", "shelf")
        .location("shelf-b", "shelf")
        .location("dock-1", "dock")
        .dock(Dock::new("door-1", "dock-1").door_gpio("door-1-sensor"))
        .gpio("door-1-sensor", CHIP, 1, "input")
        .quick_reconcile()
        .write(dir)
}

fn results<'a>(msgs: &'a [Msg], id: &str) -> Vec<&'a Msg> {
    msgs.iter()
        .filter(|m| m.topic.ends_with("/result") && m.json["id"] == id)
        .collect()
}

fn asn(id: &str, shipment: &str, epc_serial: u64, expires: Option<String>) -> Vec<u8> {
    let mut body = json!({
        "id": id,
        "shipment": shipment,
        "dock": "door-1",
        "epcs": [format!("3074257bf7194e40{epc_serial:08x}")],
    });
    if let Some(at) = expires {
        body["expires"] = at.into();
    }
    serde_json::to_vec(&body).expect("json")
}

fn rfc3339(at: SystemTime) -> String {
    let ms = at.duration_since(UNIX_EPOCH).expect("clock").as_millis();
    shelfd_core::timefmt::rfc3339_ms(u64::try_from(ms).expect("ms"))
}

/// Pings the daemon until it answers (a ping sent before the daemon subscribed is not
/// delivered the first time it ever connects).
fn ping(central: &Subscriber, id: &str) {
    let mut last = std::time::Instant::now() - LONG;
    wait_until(&format!("the result of ping {id}"), LONG, || {
        if last.elapsed() > Duration::from_secs(2) {
            central.publish(
                &format!("{CMD}/ping"),
                json!({ "id": id }).to_string().as_bytes(),
            );
            last = std::time::Instant::now();
        }
        !results(&central.msgs(), id).is_empty()
    });
}

#[test]
fn commands_sent_while_the_daemon_is_down_are_processed_once_after_start_and_expired_ones_refused()
{
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut broker = Mosquitto::start(&tmp.path().join("broker"), "");
    let central = Subscriber::start(broker.port, "central-offline", &format!("{CMD}/+/result"));
    let config = write_config(tmp.path(), broker.port);

    // First start: the daemon's command session is created at the broker.
    let mut daemon = Daemon::start(&config);
    ping(&central, "p0");
    daemon.stop();

    // While the daemon is down: an ASN without expiry, one that expires in two seconds (and
    // will have expired when the daemon returns) and one that expires in an hour.
    let soon = SystemTime::now() + Duration::from_secs(2);
    central.publish(&format!("{CMD}/asn"), &asn("a1", "S1", 1, None));
    central.publish(
        &format!("{CMD}/asn"),
        &asn("a2", "S2", 2, Some(rfc3339(soon))),
    );
    central.publish(
        &format!("{CMD}/asn"),
        &asn(
            "a3",
            "S3",
            3,
            Some(rfc3339(SystemTime::now() + Duration::from_secs(3600))),
        ),
    );
    // And a burst larger than the engine's command channel (64): none may be refused as busy.
    for i in 0..BURST {
        central.publish(
            &format!("{CMD}/asn"),
            &asn(&format!("b{i}"), &format!("B{i}"), 100 + i, None),
        );
    }
    // The broker has them once a marker published after them comes back on central's own
    // subscription (the broker handles one connection's publishes in order); then restart the
    // broker, which keeps them in its persistence file.
    // (A well-formed result document: the subscriber holds what it sees to the contract.)
    central.publish(
        &format!("{CMD}/marker/result"),
        br#"{"v":1,"type":"cmd.result","op":"marker","id":"marker","ok":true}"#,
    );
    central.wait_for("the marker", LONG, |m| !results(m, "marker").is_empty());
    broker.stop();
    broker.restart();
    wait_until("a2's expiry", LONG, || SystemTime::now() > soon);

    let mut daemon = Daemon::start(&config);
    central.wait_for("the results of a1, a2, a3 and the burst", LONG, |m| {
        ["a1", "a2", "a3"]
            .iter()
            .all(|id| !results(m, id).is_empty())
            && (0..BURST).all(|i| !results(m, &format!("b{i}")).is_empty())
    });
    let msgs = central.msgs();
    for i in 0..BURST {
        let b = results(&msgs, &format!("b{i}"))[0];
        assert_eq!(b.json["ok"], true, "{:?}", b.json);
    }
    let a1 = results(&msgs, "a1")[0];
    assert_eq!(
        (
            a1.json["ok"].clone(),
            a1.json["new"].clone(),
            a1.json["shipment"].clone()
        ),
        (true.into(), true.into(), "S1".into()),
        "{:?}",
        a1.json
    );
    let a2 = results(&msgs, "a2")[0];
    assert_eq!(a2.json["ok"], false, "{:?}", a2.json);
    let error = a2.json["error"].as_str().expect("error");
    assert!(error.contains("expired"), "{error}");
    let a3 = results(&msgs, "a3")[0];
    assert_eq!(
        (a3.json["ok"].clone(), a3.json["new"].clone()),
        (true.into(), true.into())
    );

    // The expired ASN changed nothing: shipment S2 with other content is new, not a conflict.
    central.publish(&format!("{CMD}/asn"), &asn("a2b", "S2", 22, None));
    central.wait_for("the result of a2b", LONG, |m| !results(m, "a2b").is_empty());
    let a2b = results(&central.msgs(), "a2b")[0].json.clone();
    assert_eq!(
        (a2b["ok"].clone(), a2b["new"].clone()),
        (true.into(), true.into()),
        "{a2b:?}"
    );

    // Processed once: another restart of the daemon does not deliver them again.
    daemon.stop();
    let mut daemon = Daemon::start(&config);
    ping(&central, "p1");
    daemon.stop();
    let msgs = central.msgs();
    let burst: Vec<String> = (0..BURST).map(|i| format!("b{i}")).collect();
    for id in ["a1", "a2", "a3", "a2b", "marker"]
        .into_iter()
        .chain(burst.iter().map(String::as_str))
    {
        assert_eq!(results(&msgs, id).len(), 1, "results of {id}: {msgs:?}");
    }
}
