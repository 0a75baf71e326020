//! `shelfd status`: what an installer needs on one screen, from the state dir of a running or a
//! stopped daemon.
//!
//! A running daemon rewrites `<state_dir>/status.json` ([`StatusReport`]) every few seconds
//! (write to a temporary file, then rename: a reader never sees half a file) and once more,
//! with `state: "stopped"`, when it stops cleanly. `shelfd status` reads that file and decides
//! whether the daemon is still alive (its pid exists and the file is fresh). When no daemon
//! holds the state dir, the figures that matter after a crash (last seq, outbox depth, tags per
//! location) are read from the store itself, so they are right even after a kill -9.
//!
//! Owns the file format and the rendering; it never changes the store.

use crate::health::OutboxHealth;
use crate::store::{DEFAULT_CACHE_BYTES, Key, KeySpace, SledStore, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Name of the status file inside the state dir.
pub const STATUS_FILE: &str = "status.json";
/// A status file older than this (while its pid lives) means the daemon is stuck.
pub const STALE_AFTER_MS: u64 = 15_000;

/// One reader's line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReaderLine {
    /// Reader id.
    pub id: String,
    /// Protocol name.
    pub protocol: String,
    /// Serial port (or the replayed file).
    pub source: String,
    /// `up`, `down`, or `replay` for read-log sources.
    pub link: String,
    /// Tag reads forwarded so far.
    pub reads: u64,
    /// Bad frames skipped so far.
    pub bad_frames: u64,
    /// Gateway time of the last valid frame, ms.
    pub last_frame_ms: Option<u64>,
    /// What a network (LLRP) reader said about itself on its last connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<shelfd_readers::ReaderIdentity>,
}

/// What the daemon writes to `status.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Format version.
    pub v: u8,
    /// `running` or `stopped`.
    pub state: String,
    /// shelfd version.
    pub version: String,
    /// Process id.
    pub pid: u32,
    /// Store id.
    pub store: String,
    /// Gateway id.
    pub gateway: String,
    /// When the daemon started, ms since the epoch.
    pub started_at_ms: u64,
    /// When this report was written, ms since the epoch.
    pub updated_at_ms: u64,
    /// Broker URL.
    pub broker: String,
    /// Broker connection up.
    pub broker_connected: bool,
    /// Readers in config order.
    pub readers: Vec<ReaderLine>,
    /// Tags the engine tracks.
    pub tags_tracked: u64,
    /// Tags present per location, in config order.
    pub locations: Vec<(String, u64)>,
    /// Outbox figures (and the last seq).
    pub outbox: OutboxHealth,
    /// Why the daemon stopped, when it stopped on an error (state `failed`): e.g. a commit
    /// the store refused on a full disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether the system clock is synchronized (absent: unknown, e.g. no systemd-timesyncd).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_synchronized: Option<bool>,
}

/// Why `shelfd status` could not say anything.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// Neither a status file nor a store is in the state dir.
    #[error("state dir {0}: no status file and no store: has shelfd ever run with this state dir?")]
    Empty(PathBuf),
    /// The status file is unreadable.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The store could not be read.
    #[error("state dir {dir}: {source}")]
    Store {
        /// The state dir.
        dir: PathBuf,
        /// What failed.
        source: StoreError,
    },
}

impl StatusReport {
    /// Writes the report to `<dir>/status.json` atomically (temporary file + rename).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let tmp = dir.join(".status.json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text + "\n")?;
        std::fs::rename(&tmp, dir.join(STATUS_FILE))
    }

    /// Reads `<dir>/status.json`; `Ok(None)` when there is none.
    pub fn read(dir: &Path) -> Result<Option<Self>, StatusError> {
        let path = dir.join(STATUS_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(StatusError::File {
                    path,
                    reason: e.to_string(),
                });
            }
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StatusError::File {
                path,
                reason: format!("not a shelfd status file: {e}"),
            })
    }
}

/// Whether the daemon that wrote a report is alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Its process exists and the report is fresh.
    Running,
    /// Its process exists but the report is older than [`STALE_AFTER_MS`].
    Stuck {
        /// Age of the report, ms.
        age_ms: u64,
    },
    /// No such process (stopped, crashed, or the machine rebooted).
    Stopped,
}

/// Decides [`Liveness`] from the report and this machine's process table.
pub fn liveness(report: &StatusReport, now_ms: u64) -> Liveness {
    let alive = report.state == "running" && process_is_shelfd(report.pid);
    if !alive {
        return Liveness::Stopped;
    }
    let age_ms = now_ms.saturating_sub(report.updated_at_ms);
    if age_ms > STALE_AFTER_MS {
        Liveness::Stuck { age_ms }
    } else {
        Liveness::Running
    }
}

fn process_is_shelfd(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
        c.split('\0')
            .next()
            .is_some_and(|exe| exe.contains("shelfd"))
    })
}

/// What the store says, for a daemon that is not running.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreFigures {
    /// Last seq assigned.
    pub last_seq: u64,
    /// Events waiting for their PUBACK.
    pub outbox_entries: u64,
    /// Their bytes.
    pub outbox_bytes: u64,
    /// Tag records.
    pub tags: u64,
    /// Items per location from the retained snapshots.
    pub locations: Vec<(String, u64)>,
}

/// Reads [`StoreFigures`] from `<dir>`'s store; `Ok(None)` when there is no store. Fails with
/// [`StoreError::InUse`] while a daemon holds it.
pub fn store_figures(dir: &Path) -> Result<Option<StoreFigures>, StatusError> {
    if !dir.join("db").exists() {
        return Ok(None);
    }
    let err = |source| StatusError::Store {
        dir: dir.to_owned(),
        source,
    };
    let store = SledStore::open(dir, DEFAULT_CACHE_BYTES / 8).map_err(err)?;
    let stats = store.outbox_stats();
    let tags = store.scan(KeySpace::Tag).map_err(err)?.len() as u64;
    let mut locations = Vec::new();
    for (key, payload) in store.scan(KeySpace::Snapshot).map_err(err)? {
        if let Key::Snapshot(location) = key {
            let counts = serde_json::from_slice::<serde_json::Value>(&payload)
                .ok()
                .and_then(|v| v.get("counts").cloned())
                .and_then(|c| {
                    c.as_object()
                        .map(|m| m.values().filter_map(|n| n.as_u64()).sum())
                })
                .unwrap_or(0);
            locations.push((location, counts));
        }
    }
    Ok(Some(StoreFigures {
        last_seq: store.next_seq().saturating_sub(1),
        outbox_entries: stats.entries,
        outbox_bytes: stats.bytes,
        tags,
        locations,
    }))
}

/// The one-screen text of `shelfd status`.
pub fn render(
    report: Option<&StatusReport>,
    live: Liveness,
    figures: Option<&StoreFigures>,
    now_ms: u64,
) -> String {
    let mut out = String::new();
    let ago = |ms: u64| shelfd_core::timefmt::rfc3339_ms(ms);
    match (report, live) {
        (Some(r), Liveness::Running) => {
            let _ = writeln!(
                out,
                "shelfd {} — running (pid {}), store {} gateway {}",
                r.version, r.pid, r.store, r.gateway
            );
            let _ = writeln!(out, "  started   {}", ago(r.started_at_ms));
        }
        (Some(r), Liveness::Stuck { age_ms }) => {
            let _ = writeln!(
                out,
                "shelfd {} — STUCK? pid {} is alive but its status is {}s old, store {} gateway {}",
                r.version,
                r.pid,
                age_ms / 1000,
                r.store,
                r.gateway
            );
        }
        (Some(r), Liveness::Stopped) => {
            let failed;
            let how = match (r.state.as_str(), &r.error) {
                ("stopped", _) => "stopped cleanly",
                ("failed", Some(e)) => {
                    failed = format!("FAILED: {e}");
                    failed.as_str()
                }
                _ => "not running (it did not stop cleanly)",
            };
            let _ = writeln!(
                out,
                "shelfd {} — {how}; last status {}, store {} gateway {}",
                r.version,
                ago(r.updated_at_ms),
                r.store,
                r.gateway
            );
        }
        (None, _) => {
            let _ = writeln!(out, "shelfd — not running (no status file)");
        }
    }
    if let Some(r) = report {
        let broker = if live == Liveness::Running {
            if r.broker_connected {
                "connected"
            } else {
                "DISCONNECTED"
            }
        } else {
            "-"
        };
        let _ = writeln!(out, "  broker    {} ({broker})", r.broker);
        let _ = writeln!(
            out,
            "\n  reader     link    reads        bad  last frame     source"
        );
        for reader in &r.readers {
            let link = if live == Liveness::Running {
                reader.link.as_str()
            } else {
                "-"
            };
            let last = reader.last_frame_ms.map_or_else(
                || "never".to_owned(),
                |t| format!("{}s ago", now_ms.saturating_sub(t) / 1000),
            );
            let _ = writeln!(
                out,
                "  {:<10} {:<7} {:>10} {:>6}  {:<14} {} {}",
                reader.id,
                link,
                reader.reads,
                reader.bad_frames,
                last,
                reader.protocol,
                reader.source
            );
            if let Some(id) = &reader.identity {
                let _ = writeln!(
                    out,
                    "             {} model {} firmware {}, {} antennas, {:.2}..={:.2} dBm, modes {:?}",
                    id.vendor,
                    id.model,
                    id.firmware,
                    id.antennas,
                    f64::from(id.power_min_cdbm) / 100.0,
                    f64::from(id.power_max_cdbm) / 100.0,
                    id.modes
                );
            }
        }
    }
    let (tags, last_seq, entries, bytes, dropped, locations) = match (figures, report) {
        (Some(f), r) => (
            f.tags,
            f.last_seq,
            f.outbox_entries,
            f.outbox_bytes,
            r.map(|r| r.outbox.dropped),
            f.locations.clone(),
        ),
        (None, Some(r)) => (
            r.tags_tracked,
            r.outbox.last_seq,
            r.outbox.entries,
            r.outbox.bytes,
            Some(r.outbox.dropped),
            r.locations.clone(),
        ),
        (None, None) => return out,
    };
    let what = if figures.is_some() {
        "items (snapshot)"
    } else {
        "tags present"
    };
    let _ = writeln!(out, "\n  location             {what}");
    for (location, n) in &locations {
        let _ = writeln!(out, "  {location:<20} {n}");
    }
    let _ = writeln!(out, "\n  tags tracked  {tags}");
    let _ = writeln!(out, "  last seq      {last_seq}");
    let dropped = dropped.map_or_else(String::new, |d| {
        format!(", {d} dropped since the state dir was made")
    });
    let _ = writeln!(
        out,
        "  outbox        {entries} events, {bytes} bytes waiting for the broker{dropped}"
    );
    out
}

/// The `shelfd status --json` document: the daemon's last report with its verdict applied.
///
/// `state` is what is true now, not what the file says: `running`, `stuck` (its pid lives but
/// the report is stale), `stopped` (stopped cleanly), `dead` (the report says running but its
/// pid is gone: killed or crashed), `failed` (it stopped on an error, in `error`) or `never`
/// (no report). `pid_alive` says whether the report's
/// process exists. When the daemon is not running, `tags_tracked`, `locations` and the outbox
/// figures come from the store (`figures_from: "store"`), which is right even after a kill -9;
/// reader links are then `-`.
pub fn json_document(
    report: Option<&StatusReport>,
    live: Liveness,
    figures: Option<&StoreFigures>,
) -> serde_json::Value {
    let state = match (report, live) {
        (_, Liveness::Running) => "running",
        (_, Liveness::Stuck { .. }) => "stuck",
        (Some(r), Liveness::Stopped) if r.state == "stopped" => "stopped",
        (Some(r), Liveness::Stopped) if r.state == "failed" => "failed",
        (Some(_), Liveness::Stopped) => "dead",
        (None, Liveness::Stopped) => "never",
    };
    let mut doc = report
        .and_then(|r| serde_json::to_value(r).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    let Some(obj) = doc.as_object_mut() else {
        return doc;
    };
    obj.insert("state".into(), state.into());
    obj.insert(
        "pid_alive".into(),
        matches!(live, Liveness::Running | Liveness::Stuck { .. }).into(),
    );
    if live == Liveness::Stopped {
        if let Some(readers) = obj.get_mut("readers").and_then(|r| r.as_array_mut()) {
            for reader in readers {
                if let Some(reader) = reader.as_object_mut() {
                    reader.insert("link".into(), "-".into());
                }
            }
        }
        obj.insert("broker_connected".into(), false.into());
    }
    let from = match figures {
        Some(f) => {
            obj.insert("tags_tracked".into(), f.tags.into());
            obj.insert(
                "locations".into(),
                serde_json::to_value(&f.locations).unwrap_or_default(),
            );
            let outbox = obj
                .entry("outbox")
                .or_insert_with(|| serde_json::json!({"dropped": 0}));
            if let Some(outbox) = outbox.as_object_mut() {
                outbox.insert("entries".into(), f.outbox_entries.into());
                outbox.insert("bytes".into(), f.outbox_bytes.into());
                outbox.insert("last_seq".into(), f.last_seq.into());
            }
            "store"
        }
        None if report.is_some() => "daemon",
        None => "none",
    };
    obj.insert("figures_from".into(), from.into());
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_of_a_killed_daemon_says_dead_with_the_stores_figures() {
        // A pid that cannot exist (above pid_max): the daemon was killed.
        let r = report(u32::MAX, "running", 1_795_341_660_000);
        let live = liveness(&r, 1_795_341_661_000);
        assert_eq!(live, Liveness::Stopped);
        let figures = StoreFigures {
            last_seq: 99,
            outbox_entries: 7,
            outbox_bytes: 700,
            tags: 40,
            locations: vec![("shelf-a1".into(), 30)],
        };
        let doc = json_document(Some(&r), live, Some(&figures));
        assert_eq!(doc["state"], "dead");
        assert_eq!(doc["pid_alive"], false);
        assert_eq!(doc["figures_from"], "store");
        assert_eq!(doc["outbox"]["last_seq"], 99);
        assert_eq!(doc["outbox"]["entries"], 7);
        assert_eq!(doc["tags_tracked"], 40);
        assert_eq!(doc["readers"][0]["link"], "-");
        assert_eq!(doc["broker_connected"], false);
        // A clean stop stays "stopped"; no report at all is "never".
        let stopped = report(u32::MAX, "stopped", 1_795_341_660_000);
        assert_eq!(
            json_document(Some(&stopped), Liveness::Stopped, None)["state"],
            "stopped"
        );
        let none = json_document(None, Liveness::Stopped, Some(&figures));
        assert_eq!(
            (none["state"].as_str(), none["tags_tracked"].as_u64()),
            (Some("never"), Some(40))
        );
        // This very process is alive: a fresh report of it is "running", from the daemon.
        let me = report(std::process::id(), "running", 1_795_341_660_000);
        let doc = json_document(Some(&me), Liveness::Running, None);
        assert_eq!(
            (doc["state"].as_str(), doc["figures_from"].as_str()),
            (Some("running"), Some("daemon"))
        );
    }

    fn report(pid: u32, state: &str, updated_at_ms: u64) -> StatusReport {
        StatusReport {
            v: 1,
            state: state.into(),
            version: "0.1.0".into(),
            pid,
            store: "s1".into(),
            gateway: "gw-1".into(),
            started_at_ms: 1_795_341_600_000,
            updated_at_ms,
            broker: "mqtt://127.0.0.1:1883".into(),
            broker_connected: true,
            readers: vec![ReaderLine {
                id: "r1".into(),
                protocol: "mercury".into(),
                source: "/dev/ttyUSB0".into(),
                link: "up".into(),
                reads: 1234,
                bad_frames: 2,
                last_frame_ms: Some(updated_at_ms - 1000),
                identity: None,
            }],
            tags_tracked: 17,
            locations: vec![("shelf-a1".into(), 12), ("dock-1".into(), 5)],
            error: None,
            clock_synchronized: None,
            outbox: OutboxHealth {
                entries: 3,
                bytes: 600,
                dropped: 0,
                last_seq: 99,
            },
        }
    }

    #[test]
    fn the_file_round_trips_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(StatusReport::read(dir.path()).expect("read"), None);
        let r = report(1, "running", 1_795_341_700_000);
        r.write(dir.path()).expect("write");
        assert_eq!(StatusReport::read(dir.path()).expect("read"), Some(r));
        std::fs::write(dir.path().join(STATUS_FILE), "{").expect("write");
        let err = StatusReport::read(dir.path()).expect_err("garbage");
        assert!(err.to_string().contains("status.json"), "{err}");
    }

    #[test]
    fn liveness_follows_the_process_and_the_age() {
        let me = std::process::id();
        let now = 1_795_341_700_000;
        // The test binary's name contains "shelfd" (it is this crate's test harness).
        assert_eq!(
            liveness(&report(me, "running", now - 1000), now),
            Liveness::Running
        );
        assert_eq!(
            liveness(&report(me, "running", now - 60_000), now),
            Liveness::Stuck { age_ms: 60_000 }
        );
        assert_eq!(
            liveness(&report(me, "stopped", now), now),
            Liveness::Stopped
        );
        assert_eq!(
            liveness(&report(u32::MAX, "running", now), now),
            Liveness::Stopped
        );
    }

    #[test]
    fn the_screen_names_what_an_installer_checks() {
        let now = 1_795_341_700_000;
        let r = report(42, "running", now);
        let text = render(Some(&r), Liveness::Running, None, now);
        for needle in [
            "running (pid 42)",
            "connected",
            "r1",
            "up",
            "1234",
            "shelf-a1",
            "12",
            "last seq      99",
            "3 events",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in\n{text}");
        }
        let figures = StoreFigures {
            last_seq: 120,
            outbox_entries: 21,
            outbox_bytes: 4200,
            tags: 30,
            locations: vec![("shelf-a1".into(), 11)],
        };
        let text = render(Some(&r), Liveness::Stopped, Some(&figures), now);
        assert!(text.contains("not running"), "{text}");
        assert!(text.contains("last seq      120"), "{text}");
        assert!(text.contains("21 events"), "{text}");
    }
}
