//! `shelfd run` as a child process: started on a config file, stderr appended to `shelfd.log`
//! next to it, stopped with SIGTERM (asserting a clean exit) or killed with SIGKILL; killed
//! when dropped.

use crate::binary::shelfd_bin;
use crate::signal;
use crate::wait::wait_until;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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
        let child = Command::new(shelfd_bin())
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

    /// The running child's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
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
