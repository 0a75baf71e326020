//! `shelfd run` as a child process for the MQTT tests: a config and a read log written into a
//! temp dir, stderr captured to a file, stopped with SIGTERM or killed with SIGKILL.

use super::broker::{signal, wait_until};
use shelfd_core::readlog::Record;
use shelfd_core::sim::{StoreSim, TagProfile};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Start of the simulated read logs (2026-11-22T10:00:00Z).
pub const LOG_START_MS: u64 = 1_795_341_600_000;

/// Writes a read log in which `tags` new items appear on two shelves, one every `spacing_ms`,
/// read by reader `r1` once a second (with heartbeats), then `tail_ms` of quiet reading.
pub fn churn_log(path: &Path, seed: u64, tags: usize, spacing_ms: u64, tail_ms: u64) {
    let mut sim = StoreSim::new(seed, LOG_START_MS);
    sim.reader("r1", 1000, &[(1, "shelf-a"), (2, "shelf-b")], true);
    let mut out = String::new();
    let flush = |sim: &mut StoreSim, out: &mut String| {
        for r in sim.take_records() {
            if let Record::Read(_) | Record::Link { .. } = r {
                out.push_str(&r.to_json_line());
                out.push('\n');
            }
        }
    };
    for i in 0..tags {
        let shelf = if i % 2 == 0 { "shelf-a" } else { "shelf-b" };
        sim.add_tags(1, (i % 7) as u32 + 1, shelf, TagProfile::SHELF);
        sim.run_for(spacing_ms);
        flush(&mut sim, &mut out);
    }
    sim.run_for(tail_ms);
    flush(&mut sim, &mut out);
    std::fs::write(path, out).expect("write read log");
}

/// Writes `dir/shelfd.toml` for store `s1`, gateway `gw-1`, a replay reader over
/// `dir/reads.jsonl` at `speed`, and `[mqtt]` with `mqtt_lines` (at least `url = …`).
pub fn write_config(dir: &Path, speed: f64, mqtt_lines: &str) -> PathBuf {
    let text = format!(
        r#"[gateway]
store = "s1"
id = "gw-1"
state_dir = "state"

[mqtt]
keep_alive = "5s"
{mqtt_lines}

[[reader]]
id = "r1"
protocol = "replay"
file = "reads.jsonl"
speed = {speed:?}
antennas = {{ 1 = "shelf-a", 2 = "shelf-b" }}

[[location]]
id = "shelf-a"
kind = "shelf"

[[location]]
id = "shelf-b"
kind = "shelf"

[reconcile]
baseline_window = "0s"
arrive_dwell = "0s"
arrive_min_reads = 2
settle_quiet = "0s"
settle_max = "0s"
"#
    );
    let path = dir.join("shelfd.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// A running `shelfd run`.
pub struct Daemon {
    child: Option<Child>,
    log: PathBuf,
}

impl Daemon {
    /// Starts `shelfd run --config config`, stderr appended to `dir/shelfd.log`.
    pub fn start(config: &Path) -> Daemon {
        Self::start_with_env(config, &[])
    }

    /// [`Daemon::start`] with extra environment variables.
    pub fn start_with_env(config: &Path, env: &[(&str, &str)]) -> Daemon {
        let dir = config.parent().expect("config dir");
        let log = dir.join("shelfd.log");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("open daemon log");
        let child = Command::new(crate::common::shelfd_bin())
            .arg("run")
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawn shelfd run");
        Daemon {
            child: Some(child),
            log,
        }
    }

    /// Everything the daemon logged so far (all runs in this dir).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log contains `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) {
        wait_until(&format!("{needle:?} in the daemon log"), timeout, || {
            self.log().contains(needle)
        });
    }

    /// Sends a signal by name (e.g. "HUP") without waiting.
    pub fn signal(&self, name: &str) {
        signal(self.child.as_ref().expect("running"), name);
    }

    /// SIGTERM, then waits for a clean exit (asserts exit code 0).
    pub fn stop(&mut self) {
        let mut child = self.child.take().expect("running");
        signal(&child, "TERM");
        let status = child.wait().expect("wait shelfd");
        assert!(
            status.success(),
            "shelfd exited with {status}: {}",
            self.log()
        );
    }

    /// SIGKILL: no goodbye, no flush.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("kill -9 shelfd");
        let _ = child.wait();
    }

    /// The `next_seq` the last clean stop logged.
    pub fn final_next_seq(&self) -> u64 {
        let log = self.log();
        let line = log
            .lines()
            .rev()
            .find(|l| l.contains("engine stopped"))
            .unwrap_or_else(|| panic!("no clean stop in the log: {log}"));
        let n = line
            .split("next_seq=")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|d| d.parse().ok());
        n.unwrap_or_else(|| panic!("no next_seq in {line}"))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
