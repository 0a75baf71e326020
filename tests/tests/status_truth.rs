//! `shelfd status --json` tells the truth: a replay reader's reads are counted, and after a
//! `kill -9` the document says `dead` (the pid is gone) with the store's figures, not the last
//! status file's.

use serde_json::Value;
use shelfd_testkit::config::{ConfigBuilder, Reader};
use shelfd_testkit::{Daemon, Mosquitto, shelfd, wait_until};
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

fn status_json(config: &Path) -> (Option<i32>, Value) {
    let run = shelfd([
        "status",
        "--json",
        "--config",
        config.to_str().expect("utf-8"),
    ]);
    let doc =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("status --json: {e}: {run:?}"));
    (run.code, doc)
}

#[test]
fn status_json_counts_replay_reads_and_says_dead_after_kill9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker_dir = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(broker_dir.path(), "");
    let reads: String = (0..50u64)
        .map(|i| {
            format!(
                "{{\"t\":{},\"reader\":\"r1\",\"antenna\":1,\"epc\":\"3074257bf7194e40{:08x}\"}}\n",
                1_763_800_000_000 + 100 * i,
                i % 5
            )
        })
        .collect();
    std::fs::write(dir.path().join("reads.jsonl"), reads).expect("write log");
    let config = ConfigBuilder::new("s1", "gw-1")
        .state_dir(dir.path().join("state"))
        .mqtt_port(broker.port)
        .reader(
            Reader::replay("r1", "reads.jsonl")
                .antennas(&[(1, "shelf-a")])
                .set("speed", 10.0),
        )
        .location("shelf-a", "shelf")
        .write(dir.path());
    let mut daemon = Daemon::start(&config);
    wait_until("the replay reader's 50 reads in status", WAIT, || {
        status_json_soon(&config).is_some_and(|(code, doc)| {
            code == Some(0) && doc["state"] == "running" && doc["readers"][0]["reads"] == 50
        })
    });
    let (_, running) = status_json(&config);
    assert_eq!(running["pid_alive"], true);
    assert_eq!(running["figures_from"], "daemon");
    daemon.kill9();
    let (code, dead) = status_json(&config);
    assert_eq!(code, Some(3), "{dead}");
    assert_eq!(dead["state"], "dead", "{dead}");
    assert_eq!(dead["pid_alive"], false);
    assert_eq!(dead["figures_from"], "store");
    assert_eq!(dead["readers"][0]["link"], "-");
    // The store's last seq: what `replay` of an empty input on the same state continues from.
    let last_seq = dead["outbox"]["last_seq"].as_u64().expect("last seq");
    assert!(last_seq >= 1, "{dead}");
}

/// [`status_json`] while the daemon may not have written its first status yet.
fn status_json_soon(config: &Path) -> Option<(Option<i32>, Value)> {
    let run = shelfd([
        "status",
        "--json",
        "--config",
        config.to_str().expect("utf-8"),
    ]);
    Some((run.code, serde_json::from_str(&run.stdout).ok()?))
}
