//! The `replay` reader source: plays the lines of a read-log file that belong to this reader
//! (its own id) into the live pipeline, paced by their timestamps (divided by `speed`), and
//! stamps each with the gateway clock at the moment it is played, as a driver stamps a read
//! off the wire. Lets the whole pipeline run without hardware.
//!
//! A bad line is logged with its line number and skipped (it changes nothing); lines of other
//! readers and command lines are skipped (the live daemon takes commands over MQTT). GPIO lines
//! are played too, as a door sensor would send them, so a replayed receiving dock works end to
//! end; two replay readers over one file play them twice, which changes nothing (a level that
//! does not change is no event). At the end of the file the source goes quiet, like a reader
//! with nothing in view and no heartbeat.

use crate::config::ReaderConfig;
use shelfd_core::readlog::{self, Record};
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;
use tokio::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Why the source could not play its file.
#[derive(Debug, thiserror::Error)]
#[error("reader {reader:?}: read log {path}: {source}")]
pub struct ReplaySourceError {
    reader: String,
    path: String,
    source: std::io::Error,
}

/// What a finished replay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Records played into the pipeline.
    pub played: u64,
    /// Lines that did not parse.
    pub bad_lines: u64,
    /// Lines for other readers, and commands.
    pub skipped: u64,
}

/// Plays `reader`'s file into `sink` until the end of the file or `cancel`.
pub async fn run_replay_reader(
    reader: ReaderConfig,
    sink: mpsc::Sender<Record>,
    cancel: CancellationToken,
    clock: fn() -> u64,
) -> Result<ReplayStats, ReplaySourceError> {
    let path = reader.file.clone().unwrap_or_default();
    let error = |source| ReplaySourceError {
        reader: reader.id.clone(),
        path: path.display().to_string(),
        source,
    };
    let file = tokio::fs::File::open(&path).await.map_err(error)?;
    let mut lines = tokio::io::BufReader::new(file).lines();
    let speed = reader.replay_speed();
    let mut stats = ReplayStats::default();
    let mut origin: Option<(u64, Instant)> = None;
    let mut number = 0u64;
    loop {
        let line = tokio::select! {
            line = lines.next_line() => line.map_err(error)?,
            _ = cancel.cancelled() => break,
        };
        let Some(line) = line else { break };
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        let record = match readlog::parse_line(&line) {
            Ok(record) => record,
            Err(e) => {
                stats.bad_lines += 1;
                tracing::warn!(reader = %reader.id, file = %path.display(), line = number, error = %e, "bad read-log line skipped");
                continue;
            }
        };
        let Some(t) = own_time(&record, &reader.id) else {
            stats.skipped += 1;
            continue;
        };
        let (t0, start) = *origin.get_or_insert((t, Instant::now()));
        let due = start + scaled(t.saturating_sub(t0), speed);
        tokio::select! {
            _ = tokio::time::sleep_until(due) => {}
            _ = cancel.cancelled() => break,
        }
        let record = restamp(record, clock());
        tokio::select! {
            sent = sink.send(record) => if sent.is_err() { break },
            _ = cancel.cancelled() => break,
        }
        stats.played += 1;
    }
    tracing::info!(reader = %reader.id, file = %path.display(), played = stats.played, bad_lines = stats.bad_lines, "replay source finished");
    Ok(stats)
}

/// The time of a read or link record of `reader`, or of a GPIO record; `None` for anything
/// else.
fn own_time(record: &Record, reader: &str) -> Option<u64> {
    match record {
        Record::Read(r) if r.reader == reader => Some(r.t),
        Record::Link { t, reader: r, .. } if r == reader => Some(*t),
        Record::Gpio { t, .. } => Some(*t),
        _ => None,
    }
}

fn restamp(record: Record, now: u64) -> Record {
    match record {
        Record::Read(mut r) => {
            r.t = now;
            Record::Read(r)
        }
        Record::Link { reader, link, .. } => Record::Link {
            t: now,
            reader,
            link,
        },
        Record::Gpio { gpio, level, .. } => Record::Gpio {
            t: now,
            gpio,
            level,
        },
        other => other,
    }
}

fn scaled(ms: u64, speed: f64) -> Duration {
    Duration::from_secs_f64(ms as f64 / 1000.0 / speed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Protocol;
    use std::path::Path;

    fn reader(file: &Path, speed: f64) -> ReaderConfig {
        ReaderConfig {
            id: "r1".into(),
            protocol: Protocol::Replay,
            port: None,
            baud: None,
            file: Some(file.to_path_buf()),
            speed: Some(speed),
            antennas: [(1, "shelf".to_string())].into(),
            nodes: Vec::new(),
            framing: None,
            power_dbm: None,
            watchdog: Duration::from_secs(10),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn plays_own_lines_paced_and_restamped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("log.jsonl");
        std::fs::write(
            &file,
            concat!(
                r#"{"t":1000,"reader":"r1","antenna":1,"epc":"30000000000000000000000a"}"#,
                "\n",
                r#"{"t":1500,"reader":"r2","antenna":1,"epc":"30000000000000000000000b"}"#,
                "\n",
                "not json\n",
                r#"{"t":2000,"gpio":"door","level":true}"#,
                "\n",
                r#"{"t":2500,"op":"ping","command":{"id":"x"}}"#,
                "\n",
                r#"{"t":3000,"reader":"r1","link":"alive"}"#,
                "\n",
            ),
        )
        .expect("write");
        let (tx, mut rx) = mpsc::channel(8);
        let start = Instant::now();
        let task = tokio::spawn(run_replay_reader(
            reader(&file, 2.0),
            tx,
            CancellationToken::new(),
            || 42,
        ));
        let first = rx.recv().await.expect("first");
        assert!(matches!(first, Record::Read(ref r) if r.t == 42 && r.epc[11] == 0x0a));
        let door = rx.recv().await.expect("gpio");
        assert!(
            matches!(
                door,
                Record::Gpio {
                    t: 42,
                    level: true,
                    ..
                }
            ),
            "{door:?}"
        );
        let second = rx.recv().await.expect("second");
        assert!(matches!(second, Record::Link { t: 42, .. }));
        // 2000 ms of log at speed 2 is 1 s of wall time.
        assert_eq!(start.elapsed().as_millis(), 1000);
        let stats = task.await.expect("join").expect("replay");
        assert_eq!(
            stats,
            ReplayStats {
                played: 3,
                bad_lines: 1,
                skipped: 2
            }
        );
    }

    #[tokio::test]
    async fn a_missing_file_is_named() {
        let (tx, _rx) = mpsc::channel(1);
        let err = run_replay_reader(
            reader(Path::new("/nonexistent/log.jsonl"), 1.0),
            tx,
            CancellationToken::new(),
            || 0,
        )
        .await
        .expect_err("missing");
        assert!(
            err.to_string()
                .contains("\"r1\": read log /nonexistent/log.jsonl"),
            "{err}"
        );
    }
}
