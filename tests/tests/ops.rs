//! Operating a real `shelfd run` (issue #7): the Prometheus endpoint is scraped over HTTP,
//! `shelfd status` reads the state dir of a running, a cleanly stopped and a killed daemon,
//! and SIGHUP applies hot keys (log level, reconcile knobs), reports the keys that need a
//! restart and keeps the running config when the file is invalid.

use shelfd_testkit::ConfigBuilder;
use shelfd_testkit::Daemon;
use shelfd_testkit::readlogs::{churn_config, churn_log};
use shelfd_testkit::{Mosquitto, free_port, wait_until};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

/// `GET /metrics` on 127.0.0.1:port; the body, or "" while nothing answers.
fn scrape(port: u16) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .is_err()
    {
        return String::new();
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    match out.split_once("\r\n\r\n") {
        Some((head, body)) if head.starts_with("HTTP/1.1 200") => body.to_owned(),
        _ => String::new(),
    }
}

/// The value of the sample `name` (exact series text, labels included), if present.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// `shelfd status --config config`: (exit code, stdout).
fn status(config: &Path) -> (Option<i32>, String) {
    let run = shelfd_testkit::shelfd(["status", "--config", config.to_str().expect("utf-8 path")]);
    (run.code, run.stdout)
}

#[test]
fn metrics_status_and_reload_on_a_running_daemon() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(&tmp.path().join("broker"), "");
    churn_log(&tmp.path().join("reads.jsonl"), 5, 12, 300, 120_000);
    let metrics_port = free_port();
    let valid = churn_config(1.0)
        .mqtt_port(broker.port)
        .table("metrics", "listen", format!("127.0.0.1:{metrics_port}"))
        .table("log", "level", "info");
    let config = valid.write(tmp.path());
    // No RUST_LOG: the config's [log] level rules, so a reload can change it.
    let mut daemon = Daemon::start_with_env(&config, &[("RUST_LOG", "")]);

    // Metrics: events flow, the broker acknowledges them, the engine reports its tags.
    let mut body = String::new();
    wait_until(
        "arrivals, PUBACKs and tracked tags in /metrics",
        WAIT,
        || {
            body = scrape(metrics_port);
            sample(&body, "shelfd_events_total{type=\"tag.arrived\"}").is_some_and(|n| n >= 3.0)
                && sample(&body, "shelfd_publish_latency_seconds_count").is_some_and(|n| n >= 3.0)
                && sample(&body, "shelfd_tags_tracked").is_some_and(|n| n >= 3.0)
        },
    );
    assert_eq!(sample(&body, "shelfd_mqtt_connected"), Some(1.0), "{body}");
    assert!(
        sample(&body, "shelfd_last_seq").is_some_and(|n| n >= 3.0),
        "{body}"
    );
    assert!(
        sample(&body, "shelfd_store_size_bytes").is_some_and(|n| n > 0.0),
        "{body}"
    );
    assert!(
        sample(&body, "shelfd_engine_records_total").is_some_and(|n| n > 0.0),
        "{body}"
    );
    assert!(
        sample(&body, "shelfd_tags_present{location=\"shelf-a\"}").is_some(),
        "{body}"
    );
    assert!(
        body.contains("# TYPE shelfd_engine_step_seconds histogram"),
        "{body}"
    );
    // No EPC ever becomes a label.
    assert!(!body.contains("epc"), "{body}");

    // Status of the running daemon (its file is rewritten every 2 s).
    let mut shown = String::new();
    wait_until("a running status", WAIT, || {
        let (code, out) = status(&config);
        shown = out;
        code == Some(0) && shown.contains("shelf-a")
    });
    for needle in [
        "running (pid",
        "r1",
        "replay",
        "connected",
        "last seq",
        "outbox",
    ] {
        assert!(shown.contains(needle), "missing {needle:?} in\n{shown}");
    }

    // Reload: a new log level and a reconcile knob apply; a broker change waits for a restart.
    valid
        .clone()
        .table("log", "level", "debug")
        .reconcile("move_ratio", 4.5)
        .mqtt("keep_alive", "7s")
        .write(tmp.path());
    daemon.signal("HUP");
    daemon.wait_log("reload: applied", WAIT);
    let log = daemon.log();
    let applied = log
        .lines()
        .find(|l| l.contains("reload: applied"))
        .unwrap_or_default();
    assert!(
        applied.contains("[log] level") && applied.contains("[reconcile]"),
        "{applied}\n{}",
        std::fs::read_to_string(&config).unwrap_or_default()
    );
    let restart = log
        .lines()
        .find(|l| l.contains("apply at the next restart"))
        .unwrap_or_default();
    assert!(restart.contains("[mqtt]"), "{log}");
    // The new level is live: debug lines appear.
    daemon.wait_log("DEBUG", WAIT);

    // An invalid file keeps the running config and says why.
    ConfigBuilder::new("s1", "gw-1")
        .gateway("bogus", 1)
        .write(tmp.path());
    daemon.signal("HUP");
    daemon.wait_log("keeping the running config", WAIT);
    assert!(daemon.log().contains("bogus"), "the error names the key");
    assert!(scrape(metrics_port).contains("shelfd_mqtt_connected 1"));

    // A clean stop: status says so (exit 3, LSB "not running") with the store's figures.
    valid.write(tmp.path());
    daemon.stop();
    let (code, shown) = status(&config);
    assert_eq!(code, Some(3), "{shown}");
    assert!(shown.contains("stopped cleanly"), "{shown}");
    assert!(shown.contains("shelf-a"), "{shown}");

    // kill -9: the file still says running, but the pid is gone; the store's figures are read.
    let mut daemon = Daemon::start(&config);
    wait_until("a running status after the restart", WAIT, || {
        status(&config).0 == Some(0)
    });
    daemon.kill9();
    let (code, shown) = status(&config);
    assert_eq!(code, Some(3), "{shown}");
    assert!(shown.contains("did not stop cleanly"), "{shown}");
    assert!(shown.contains("last seq"), "{shown}");
}

#[test]
fn status_of_a_state_dir_that_never_ran_is_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = shelfd_testkit::shelfd([
        "status",
        "--state-dir",
        tmp.path().to_str().expect("utf-8 path"),
    ]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(run.stderr.contains("has shelfd ever run"), "{}", run.stderr);
}
