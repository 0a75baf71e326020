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
//!
//! It runs on the one link lifecycle ([`crate::link::run_link`]): a [`FileConnector`] opens the
//! file (a missing file is permanent: an error at once, never retried) and a session plays it
//! once ([`crate::link::SessionEnd::Finished`] at its end, so it is never replayed). It reports
//! no link states of its own (the log carries them) and never writes the file.

use crate::link::{
    Connector, LinkContext, LinkPolicy, OpenError, ReaderHealth, Session, SessionEnd, run_link,
};
use shelfd_core::readlog::{self, Record};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead};
use tokio::sync::mpsc;
use tokio::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// What a replay source needs to know (the daemon builds it from its config).
#[derive(Debug, Clone, PartialEq)]
pub struct ReplaySettings {
    /// Reader id: the lines of this reader are played.
    pub id: String,
    /// The read-log file.
    pub file: PathBuf,
    /// Pacing multiplier (2.0 = twice as fast), > 0.
    pub speed: f64,
}

/// Why the source could not play its file.
#[derive(Debug, thiserror::Error)]
#[error("reader {reader:?}: read log {path}: {source}")]
pub struct ReplaySourceError {
    reader: String,
    path: String,
    source: io::Error,
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

/// Opens a read-log file; a missing or unreadable file is permanent (the lifecycle does not
/// retry it).
#[derive(Debug, Clone)]
pub struct FileConnector {
    path: PathBuf,
}

impl FileConnector {
    /// A connector for the file at `path`.
    pub fn new(path: PathBuf) -> Self {
        FileConnector { path }
    }
}

impl Connector for FileConnector {
    type Link = tokio::fs::File;

    fn kind(&self) -> &'static str {
        "read-log"
    }

    fn target(&self) -> String {
        format!("read log {}", self.path.display())
    }

    async fn open(&mut self) -> Result<tokio::fs::File, OpenError> {
        tokio::fs::File::open(&self.path)
            .await
            .map_err(|source| OpenError {
                target: self.target(),
                source,
                permanent: true,
            })
    }
}

/// Plays `reader`'s file into `sink` until the end of the file or `cancel`, restamping each
/// record with `clock`.
pub async fn run_replay_reader(
    reader: ReplaySettings,
    sink: mpsc::Sender<Record>,
    cancel: CancellationToken,
    clock: fn() -> u64,
) -> Result<ReplayStats, ReplaySourceError> {
    let path = reader.file.display().to_string();
    let error = |reader: &ReplaySettings, source| ReplaySourceError {
        reader: reader.id.clone(),
        path: path.clone(),
        source,
    };
    let connector = FileConnector::new(reader.file.clone());
    // The counters of a replay are not reported anywhere: the source is no device.
    let health = Arc::new(ReaderHealth::new(&reader.id));
    let ctx = LinkContext::new(reader.id.clone(), sink, health, cancel);
    let policy = LinkPolicy {
        link_records: false,
        ..LinkPolicy::default()
    };
    let mut session = ReplaySession {
        reader,
        clock,
        stats: ReplayStats::default(),
        failed: None,
    };
    if let Err(e) = run_link(connector, &mut session, ctx, policy).await {
        return Err(error(&session.reader, e.source));
    }
    if let Some(e) = session.failed.take() {
        return Err(error(&session.reader, e));
    }
    tracing::info!(reader = %session.reader.id, file = %path, played = session.stats.played, bad_lines = session.stats.bad_lines, "replay source finished");
    Ok(session.stats)
}

/// Plays one open read log; ends [`SessionEnd::Finished`] at its end or on a read error (kept
/// in `failed`), so the lifecycle never plays a file twice.
struct ReplaySession {
    reader: ReplaySettings,
    clock: fn() -> u64,
    stats: ReplayStats,
    failed: Option<io::Error>,
}

impl<L: AsyncRead + Unpin + Send> Session<L> for ReplaySession {
    async fn run(&mut self, file: &mut L, ctx: &mut LinkContext) -> SessionEnd {
        let mut lines = tokio::io::BufReader::new(file).lines();
        let reader = &self.reader;
        let mut origin: Option<(u64, Instant)> = None;
        let mut number = 0u64;
        loop {
            let line = tokio::select! {
                line = lines.next_line() => line,
                _ = ctx.cancel().cancelled() => return SessionEnd::Cancelled,
            };
            let line = match line {
                Ok(Some(line)) => line,
                Ok(None) => return SessionEnd::Finished,
                Err(e) => {
                    self.failed = Some(e);
                    return SessionEnd::Finished;
                }
            };
            number += 1;
            if line.trim().is_empty() {
                continue;
            }
            let record = match readlog::parse_line(&line) {
                Ok(record) => record,
                Err(e) => {
                    self.stats.bad_lines += 1;
                    tracing::warn!(reader = %reader.id, file = %reader.file.display(), line = number, error = %e, "bad read-log line skipped");
                    continue;
                }
            };
            let Some(t) = own_time(&record, &reader.id) else {
                self.stats.skipped += 1;
                continue;
            };
            let (t0, start) = *origin.get_or_insert((t, Instant::now()));
            let due = start + scaled(t.saturating_sub(t0), reader.speed);
            tokio::select! {
                _ = tokio::time::sleep_until(due) => {}
                _ = ctx.cancel().cancelled() => return SessionEnd::Cancelled,
            }
            let record = restamp(record, (self.clock)());
            if let Err(end) = ctx.send(record).await {
                return end;
            }
            self.stats.played += 1;
        }
    }
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
    use std::path::Path;

    fn reader(file: &Path, speed: f64) -> ReplaySettings {
        ReplaySettings {
            id: "r1".into(),
            file: file.to_path_buf(),
            speed,
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
