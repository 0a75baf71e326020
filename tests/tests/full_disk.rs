//! A state dir that fills up while the broker is down (a real 3 MiB tmpfs, mounted by the
//! test: the tests run as root). The failed commit is reported at once with its cause, nothing
//! spins or floods the log, the process exits non-zero within seconds (systemd restarts it),
//! and once space returns a restart drains every committed event, seq 1..=last, no gap.

use shelfd_testkit::config::{ConfigBuilder, Reader};
use shelfd_testkit::{Daemon, Mosquitto, Subscriber, shelfd, shelfd_bin, wait_until};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(120);

/// A tmpfs of `size` on `dir`, unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).expect("mkdir");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .expect("mount");
        assert!(
            status.success(),
            "mounting a tmpfs needs root (the tests run as root, see tests/run-all.sh)"
        );
        Tmpfs(dir.to_owned())
    }

    fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .expect("remount");
        assert!(status.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_stops_the_daemon_at_once_and_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let disk = Tmpfs::mount(&state, "3m");
    let broker_dir = tempfile::tempdir().expect("tempdir");
    let mut broker = Mosquitto::start(broker_dir.path(), "");
    broker.stop();
    let reads: String = (0..200_000u64)
        .map(|i| {
            format!(
                "{{\"t\":{},\"reader\":\"r1\",\"antenna\":{},\"epc\":\"3074257bf7194e40{:08x}\"}}\n",
                1_763_800_000_000 + i,
                1 + (i / 5000) % 2,
                i % 50_000
            )
        })
        .collect();
    std::fs::write(dir.path().join("reads.jsonl"), reads).expect("write log");
    let config = ConfigBuilder::new("s1", "gw-1")
        .state_dir(&state)
        .mqtt_port(broker.port)
        .reader(
            Reader::replay("r1", "reads.jsonl")
                .antennas(&[(1, "shelf-a"), (2, "shelf-b")])
                .set("speed", 50.0),
        )
        .location("shelf-a", "shelf")
        .location("shelf-b", "shelf")
        .reconcile("baseline_window", "0s")
        .write(dir.path());

    // The disk fills: the daemon reports the failed commit with its cause and exits non-zero.
    let started = Instant::now();
    let mut child = Command::new(shelfd_bin())
        .args(["run", "--config"])
        .arg(&config)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let log = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    wait_until("shelfd to exit on the full disk", WAIT, || {
        child.try_wait().expect("try_wait").is_some()
    });
    let status = child.wait().expect("wait");
    let log = log.join().expect("log");
    assert!(!status.success(), "{log}");
    assert_ne!(status.code(), Some(101), "panicked: {log}");
    let error = log
        .lines()
        .find(|l| l.contains("ERROR shelfd::run: engine thread stopped"))
        .unwrap_or_else(|| panic!("no engine error in:\n{log}"));
    assert!(error.contains("No space left on device"), "{error}");
    // No flood: a handful of connection attempts, not hundreds per second.
    let attempts = log.matches("cannot connect to the broker").count() as f64;
    let seconds = started.elapsed().as_secs_f64().max(1.0);
    assert!(
        attempts / seconds < 5.0,
        "{attempts} connection warnings in {seconds} s"
    );

    // Space returns: the store holds every committed event, seq 1..=last, none lost.
    disk.resize("64m");
    let run = shelfd([
        "status",
        "--json",
        "--config",
        config.to_str().expect("utf-8"),
    ]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("status json");
    let last = doc["outbox"]["last_seq"].as_u64().expect("last seq");
    assert!(last > 0, "{doc}");
    assert_eq!(doc["outbox"]["entries"].as_u64(), Some(last), "{doc}");

    // A restart with the broker back drains them all, in order, without a gap.
    broker.restart();
    let sub = Subscriber::start(broker.port, "central-full", "shelfd/v1/s1/gw-1/event/#");
    let mut daemon = Daemon::start(&config);
    sub.wait_for("every committed event", WAIT, |msgs| {
        let seqs: std::collections::HashSet<u64> =
            msgs.iter().filter_map(|m| m.json["seq"].as_u64()).collect();
        (1..=last).all(|s| seqs.contains(&s))
    });
    daemon.stop();
    drop(daemon);
    drop(disk);
}
