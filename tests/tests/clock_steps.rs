//! Clock steps on a gateway without an RTC, with libfaketime (Debian `faketime`): the daemon
//! starts with its wall clock at 2020-01-01, then the clock steps to the real time while it
//! runs (`FAKETIME_TIMESTAMP_FILE` re-read on every call, monotonic time left real). Events from
//! the step on carry the corrected time; the step departs nothing.

use shelfd_core::timefmt::parse_rfc3339_ms;
use shelfd_testkit::config::{ConfigBuilder, Reader};
use shelfd_testkit::{Daemon, Mosquitto, Subscriber};
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(90);
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
const A: &str = "3074257bf7194e400000000a";
const B: &str = "3074257bf7194e400000000b";

/// The real time (this test process is not under libfaketime).
fn real_now_ms() -> u64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    u64::try_from(since.as_millis()).expect("ms fit")
}

fn time_of(json: &serde_json::Value) -> u64 {
    parse_rfc3339_ms(json["time"].as_str().expect("time")).expect("rfc 3339")
}

#[test]
fn event_times_follow_a_clock_step_and_the_step_departs_nothing() {
    assert!(
        Path::new(LIBFAKETIME).exists(),
        "libfaketime is missing: apt-get install faketime (tests/run-all.sh does)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let broker_dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(broker_dir.path(), "");
    // Tag A from the start, tag B from +30 s, a heartbeat every 500 ms, for 60 s.
    let t0 = 1_763_800_000_000u64;
    let mut log = format!("{{\"t\":{t0},\"reader\":\"r1\",\"link\":\"up\"}}\n");
    for i in 1..=120u64 {
        let t = t0 + 500 * i;
        log.push_str(&format!(
            "{{\"t\":{t},\"reader\":\"r1\",\"antenna\":1,\"epc\":\"{A}\"}}\n"
        ));
        if i >= 60 {
            log.push_str(&format!(
                "{{\"t\":{t},\"reader\":\"r1\",\"antenna\":1,\"epc\":\"{B}\"}}\n"
            ));
        }
        log.push_str(&format!(
            "{{\"t\":{t},\"reader\":\"r1\",\"link\":\"alive\"}}\n"
        ));
    }
    std::fs::write(dir.path().join("reads.jsonl"), log).expect("write log");
    let config = ConfigBuilder::new("s1", "gw-1")
        .state_dir(dir.path().join("state"))
        .mqtt_port(broker.port)
        .reader(Reader::replay("r1", "reads.jsonl").antennas(&[(1, "shelf-a")]))
        .location("shelf-a", "shelf")
        .quick_reconcile()
        .write(dir.path());
    let clock_file = dir.path().join("faketime");
    std::fs::write(&clock_file, "@2020-01-01 00:00:00\n").expect("write faketime");
    let sub = Subscriber::start(broker.port, "central-clock", "shelfd/v1/s1/gw-1/event/#");
    let env = [
        ("LD_PRELOAD", LIBFAKETIME),
        (
            "FAKETIME_TIMESTAMP_FILE",
            clock_file.to_str().expect("utf-8"),
        ),
        ("FAKETIME_NO_CACHE", "1"),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
    ];
    let mut daemon = Daemon::start_with_env(&config, &env);
    // Before the step: the reader's first status is stamped 2020.
    sub.wait_for("reader.status", WAIT, |msgs| {
        msgs.iter().any(|m| m.json["type"] == "reader.status")
    });
    let before = sub
        .msgs()
        .into_iter()
        .find(|m| m.json["type"] == "reader.status")
        .expect("reader.status");
    let stale = time_of(&before.json);
    assert!(
        (1_577_836_800_000..1_578_000_000_000).contains(&stale),
        "stamped {}",
        before.json["time"]
    );
    // NTP steps the clock to the real time.
    std::fs::write(&clock_file, "+0\n").expect("step the clock");
    let real_now = real_now_ms();
    sub.wait_for("B's arrival", WAIT, |msgs| {
        msgs.iter()
            .any(|m| m.json["type"] == "tag.arrived" && m.json["epc"] == B)
    });
    let arrival = sub
        .msgs()
        .into_iter()
        .find(|m| m.json["type"] == "tag.arrived" && m.json["epc"] == B)
        .expect("arrival");
    let stamped = time_of(&arrival.json);
    assert!(
        stamped >= real_now && stamped < real_now + 120_000,
        "B arrived at {} (real time {})",
        arrival.json["time"],
        shelfd_core::timefmt::rfc3339_ms(real_now)
    );
    daemon.stop();
    assert!(
        !sub.msgs().iter().any(|m| m.json["type"] == "tag.departed"),
        "a six-year step departed tags"
    );
    assert!(
        daemon.log().contains("system clock stepped"),
        "{}",
        daemon.log()
    );
}
