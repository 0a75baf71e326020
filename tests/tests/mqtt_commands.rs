//! Commands over MQTT against a real Mosquitto: `ping` and `resync` answer on
//! `cmd/{op}/result`; malformed, unknown, oversized and retained commands get precise errors
//! (or are ignored), change nothing and never stop the daemon.

use shelfd_testkit::Daemon;
use shelfd_testkit::readlogs::{churn_config, churn_log};
use shelfd_testkit::{Mosquitto, wait_until};
use shelfd_testkit::{Msg, Subscriber};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);
const CMD: &str = "shelfd/v1/s1/gw-1/cmd";

fn result_for<'a>(msgs: &'a [Msg], op: &str, needle: &str) -> Option<&'a Msg> {
    msgs.iter()
        .find(|m| m.topic == format!("{CMD}/{op}/result") && m.json.to_string().contains(needle))
}

#[test]
fn commands_get_results_and_bad_ones_change_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(&tmp.path().join("broker"), "");
    let sub = Subscriber::start(broker.port, "central-cmd", "shelfd/v1/s1/gw-1/#");
    churn_log(&tmp.path().join("reads.jsonl"), 11, 8, 200, 2_000);
    let config = churn_config(4.0).mqtt_port(broker.port).write(tmp.path());
    let mut daemon = Daemon::start(&config);
    daemon.wait_log("replay source finished", LONG);
    wait_until("the snapshots", LONG, || {
        let msgs = sub.msgs();
        let snapshots = msgs.iter().filter(|m| m.topic.contains("/stock/")).count();
        if snapshots < 2 && daemon.log().contains("engine stopped") {
            panic!("the engine stopped before any snapshot:\n{}", daemon.log());
        }
        snapshots >= 2
    });
    sub.wait_quiet(Duration::from_millis(1500), LONG);
    let events_before = sub.seqs();
    let snapshots_before = sub
        .msgs()
        .iter()
        .filter(|m| m.topic.contains("/stock/"))
        .count();

    let bad: &[(&str, &[u8], &str)] = &[
        ("ping", b"not json", "payload is not JSON"),
        (
            "ping",
            b"[1,2]",
            "payload must be a JSON object, got an array",
        ),
        ("ping", br#"{"nope":1}"#, "missing \\\"id\\\""),
        ("ping", br#"{"id":42}"#, "bad \\\"id\\\" 42"),
        (
            "ping",
            br#"{"id":"b5","extra":true}"#,
            "unknown field \\\"extra\\\"",
        ),
        ("reboot", br#"{"id":"b6"}"#, "unknown op \\\"reboot\\\""),
        (
            "sale",
            br#"{"id":"b7","epc":"3074"}"#,
            "not supported by this version yet",
        ),
    ];
    for (op, payload, _) in bad {
        sub.publish(&format!("{CMD}/{op}"), payload);
    }
    let big = format!(r#"{{"id":"big","pad":"{}"}}"#, "x".repeat(300 * 1024));
    sub.publish(&format!("{CMD}/ping"), big.as_bytes());
    sub.publish(&format!("{CMD}/ping"), br#"{"id":"p1"}"#);
    sub.wait_for("the ping result", LONG, |m| {
        result_for(m, "ping", "\"p1\"").is_some()
    });
    let msgs = sub.msgs();
    for (op, payload, needle) in bad {
        let r = result_for(&msgs, op, needle).unwrap_or_else(|| {
            panic!(
                "no error result containing {needle} for {op} {:?}",
                String::from_utf8_lossy(payload)
            )
        });
        assert_eq!(r.json["ok"], false, "{:?}", r.json);
        assert_eq!(r.json["type"], "cmd.result");
    }
    // Ids are echoed when readable.
    assert!(result_for(&msgs, "reboot", "\"id\":\"b6\"").is_some());
    assert!(result_for(&msgs, "ping", "\"id\":\"b5\"").is_some());
    let ping = result_for(&msgs, "ping", "\"p1\"").expect("ping");
    assert_eq!(ping.json["ok"], true);
    assert_eq!(ping.json["version"], env!("CARGO_PKG_VERSION"));
    let big = result_for(&msgs, "ping", "over the 262144-byte limit").expect("oversized");
    assert_eq!(
        (big.json["ok"].clone(), big.json["id"].clone()),
        (false.into(), serde_json::Value::Null)
    );

    // resync republishes every snapshot.
    sub.publish(&format!("{CMD}/resync"), br#"{"id":"r1"}"#);
    sub.wait_for("the resync result", LONG, |m| {
        result_for(m, "resync", "\"r1\"").is_some()
    });
    sub.wait_for("republished snapshots", LONG, |m| {
        m.iter().filter(|m| m.topic.contains("/stock/")).count() >= snapshots_before + 2
    });
    let resync = sub.msgs();
    let r = result_for(&resync, "resync", "\"r1\"").expect("resync");
    assert_eq!(
        (r.json["ok"].clone(), r.json["snapshots"].clone()),
        (true.into(), 2.into())
    );

    // Nothing the commands did created an event, and the daemon still runs and stops cleanly.
    assert_eq!(sub.seqs(), events_before, "commands created events");
    daemon.stop();
    assert!(daemon.log().contains("rejected a command"));
}
