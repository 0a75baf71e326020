//! Client-id takeover against a real Mosquitto: a client that connects with the gateway's
//! client id (and reconnects at once whenever it is dropped) kicks the daemon off.
//!
//! - On an open broker the daemon tells the takeover from a lost network (MQTT 5 DISCONNECT
//!   reason 0x8E, *session taken over*, or — Mosquitto 2.0 closes the old connection without
//!   one — the broker closing its connection again right after accepting it), logs the cause
//!   and backs off, so the two clients do not knock each other off several times a second;
//!   after the other client leaves, every event is delivered.
//! - With the shipped `config/mosquitto/mosquitto.conf` (client ids bound to user names), a
//!   client of another store cannot take the gateway's session over at all.

use shelfd_testkit::clients::Rogue;
use shelfd_testkit::readlogs::{churn_config, churn_log};
use shelfd_testkit::{Daemon, Mosquitto, Subscriber, wait_until, wait_until_or, workspace_root};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const LONG: Duration = Duration::from_secs(90);
const CLIENT_ID: &str = "shelfd-s1-gw-1";

#[test]
fn a_takeover_is_detected_logged_and_backed_off_and_nothing_is_lost() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(&tmp.path().join("broker"), "");
    let central = Subscriber::start(broker.port, "central-takeover", "shelfd/v1/s1/gw-1/event/#");
    churn_log(&tmp.path().join("reads.jsonl"), 5, 10, 500, 2_000);
    let config = churn_config(1.0).mqtt_port(broker.port).write(tmp.path());
    let mut daemon = Daemon::start(&config);
    daemon.wait_log("connected to the broker", LONG);

    let rogue = Rogue::start(broker.port, CLIENT_ID, None);
    // The rogue connects, the daemon is dropped; each time the daemon comes back it drops the
    // rogue, which reconnects at once. The first return may be quick (a single close after a
    // long connection looks like a broker restart); from the second close on it is a takeover.
    wait_until_or(
        "four rogue connections",
        LONG,
        || rogue.connects().len() >= 4,
        || daemon.log(),
    );
    let times = rogue.connects();
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    // The old publisher reset its backoff on every CONNACK: about 0.5 s between returns.
    assert!(
        gaps[1..].iter().all(|g| *g >= Duration::from_secs(10)),
        "the daemon did not back off after a takeover: {gaps:?}\n{}",
        daemon.log()
    );
    let log = daemon.log();
    assert!(log.contains("session taken over"), "{log}");
    assert_eq!(
        log.matches("session taken over").count(),
        1,
        "the cause is logged once per streak:\n{log}"
    );
    drop(rogue);

    // The daemon returns on its own and delivers everything.
    daemon.wait_log("replay source finished", LONG);
    let reconnects = log.matches("connected to the broker").count();
    wait_until_or(
        "the daemon back after the rogue left",
        LONG,
        || daemon.log().matches("connected to the broker").count() > reconnects,
        || daemon.log(),
    );
    central.wait_for("events", LONG, |m| m.len() >= 10);
    central.wait_quiet(Duration::from_secs(3), LONG);
    daemon.stop();
    central.wait_quiet(Duration::from_secs(1), LONG);
    let seqs = central.seqs();
    let mut unique = seqs.clone();
    unique.sort_unstable();
    unique.dedup();
    let last = *unique.last().expect("events");
    assert_eq!(unique, (1..=last).collect::<Vec<_>>(), "events were lost");
}

/// The shipped `mosquitto.conf` with its documented password variant: the TLS listener on
/// 8883 becomes a plain one on 127.0.0.1:`port`, `/etc/mosquitto/shelfd/` and the
/// persistence location become the test's dir. Every other line is used as shipped.
fn shipped_config(port: u16, dir: &Path) -> String {
    let shipped = std::fs::read_to_string(workspace_root().join("config/mosquitto/mosquitto.conf"))
        .expect("shipped mosquitto.conf");
    assert!(
        shipped
            .lines()
            .any(|l| l == "use_username_as_clientid true"),
        "the shipped config binds client ids to user names"
    );
    let user = Command::new("id")
        .arg("-un")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let mut out = format!(
        "user {user}\nlog_dest file {}/mosquitto.log\nlog_type all\n",
        dir.display()
    );
    for line in shipped.lines() {
        let key = line.split_whitespace().next().unwrap_or("");
        let line = match key {
            "listener" => format!("listener {port} 127.0.0.1"),
            "cafile" | "certfile" | "keyfile" | "tls_version" => continue,
            "require_certificate" => "require_certificate false".into(),
            "use_identity_as_username" => format!(
                "use_identity_as_username false\npassword_file {}/passwords",
                dir.display()
            ),
            "persistence_location" => format!("persistence_location {}/", dir.display()),
            _ => line.replace("/etc/mosquitto/shelfd/", &format!("{}/", dir.display())),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[test]
fn the_shipped_broker_config_prevents_a_takeover() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let broker_dir = tmp.path().join("broker");
    std::fs::create_dir_all(&broker_dir).expect("dir");
    std::fs::copy(
        workspace_root().join("config/mosquitto/acl"),
        broker_dir.join("acl"),
    )
    .expect("copy acl");
    for (i, (user, pass)) in [
        ("s1/gw-1", "pw-gw1"),
        ("s2/gw-9", "pw-gw9"),
        ("central", "pw-c"),
    ]
    .iter()
    .enumerate()
    {
        let mut cmd = Command::new("mosquitto_passwd");
        if i == 0 {
            cmd.arg("-c");
        }
        let out = cmd
            .arg("-b")
            .arg(broker_dir.join("passwords"))
            .arg(user)
            .arg(pass)
            .output()
            .expect("mosquitto_passwd");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let broker = Mosquitto::start_with_config(&broker_dir, shipped_config);
    let central = Subscriber::start_as(
        broker.port,
        "central",
        "shelfd/v1/s1/gw-1/cmd/+/result",
        Some(("central", "pw-c")),
    );
    let dir = tmp.path().join("gw");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("mqtt.credentials"), "s1/gw-1\npw-gw1\n").expect("credentials");
    churn_log(&dir.join("reads.jsonl"), 5, 4, 300, 1_000);
    let config = churn_config(1.0)
        .mqtt_port(broker.port)
        .mqtt("credentials_file", "mqtt.credentials")
        .write(&dir);
    let mut daemon = Daemon::start(&config);
    daemon.wait_log("connected to the broker", LONG);

    // Another store's gateway connects with this gateway's client id, and with its user name
    // as client id, reconnecting at once whenever dropped.
    let rogue = Rogue::start(broker.port, CLIENT_ID, Some(("s2/gw-9", "pw-gw9")));
    wait_until("the rogue's connection", LONG, || {
        !rogue.connects().is_empty()
    });
    // The broker renamed it: it runs as its own user, the daemon keeps its session.
    wait_until("the broker's log of the rogue", LONG, || {
        broker.log().contains(" as s2/gw-9 ")
    });
    let started = Instant::now();
    let mut asked = Instant::now() - LONG;
    let mut pings = 0;
    // Ten seconds of pings answered on one daemon connection, with the rogue connected.
    wait_until("ten seconds of answered pings", LONG, || {
        if asked.elapsed() > Duration::from_secs(1) {
            pings += 1;
            central.publish(
                "shelfd/v1/s1/gw-1/cmd/ping",
                format!(r#"{{"id":"t{pings}"}}"#).as_bytes(),
            );
            asked = Instant::now();
        }
        started.elapsed() > Duration::from_secs(10)
            && central
                .msgs()
                .iter()
                .any(|m| m.json["id"] == format!("t{pings}"))
    });
    let log = daemon.log();
    assert_eq!(log.matches("connected to the broker").count(), 1, "{log}");
    assert!(!log.contains("taken over"), "{log}");
    assert_eq!(rogue.connects().len(), 1, "the rogue was dropped too");
    drop(rogue);
    daemon.stop();
}
