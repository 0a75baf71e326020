//! systemd notify protocol of `shelfd run`, against a real notify socket the test creates:
//! `READY=1` comes while the broker is unreachable, `WATCHDOG=1` repeats while the engine
//! runs, `STATUS=` is one line with the outbox and broker, SIGHUP does not stop it, and SIGTERM
//! sends `STOPPING=1`.

use shelfd_testkit::Daemon;
use shelfd_testkit::free_port;
use shelfd_testkit::readlogs::{churn_config, churn_log};
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

/// Receives notify datagrams into `got` until `done(got)` holds (30 s at most).
fn receive(
    socket: &UnixDatagram,
    got: &mut Vec<String>,
    what: &str,
    done: impl Fn(&[String]) -> bool,
) {
    let start = Instant::now();
    let mut buf = vec![0u8; 4096];
    while !done(got) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no {what} in {got:?}"
        );
        if let Ok(n) = socket.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
}

fn has(got: &[String], what: &str) -> bool {
    got.iter().any(|m| m.contains(what))
}

#[test]
fn ready_watchdog_status_and_stopping() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let sock_path = tmp.path().join("notify.sock");
    let socket = UnixDatagram::bind(&sock_path).expect("bind notify socket");
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    churn_log(&tmp.path().join("reads.jsonl"), 2, 5, 200, 2_000);
    // Nothing listens on this port: the broker is down, which must not delay READY.
    let config = churn_config(1.0).mqtt_port(free_port()).write(tmp.path());
    let sock = sock_path.display().to_string();
    let mut daemon = Daemon::start_with_env(
        &config,
        &[
            ("NOTIFY_SOCKET", sock.as_str()),
            ("WATCHDOG_USEC", "1000000"),
        ],
    );
    let mut got = Vec::new();
    receive(&socket, &mut got, "READY=1", |g| has(g, "READY=1"));
    let ready_at = got.len();
    // Two watchdog pings after READY: the engine thread keeps beating.
    receive(&socket, &mut got, "two watchdog pings", |g| {
        g[ready_at..]
            .iter()
            .filter(|m| m.contains("WATCHDOG=1"))
            .count()
            >= 2
    });
    let status = got
        .iter()
        .flat_map(|m| m.lines())
        .find(|l| l.starts_with("STATUS=readers"))
        .unwrap_or_else(|| panic!("no status line in {got:?}"))
        .to_owned();
    assert!(status.contains("broker disconnected"), "{status}");
    // systemctl reload sends SIGHUP: the daemon validates the file and keeps running.
    daemon.signal("HUP");
    daemon.wait_log(
        "reload: the config file is valid and unchanged",
        Duration::from_secs(30),
    );
    daemon.stop();
    receive(&socket, &mut got, "STOPPING=1", |g| has(g, "STOPPING=1"));
}
