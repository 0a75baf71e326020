//! The `replay` reader source: plays the lines of a read-log file that belong to this reader
//! (its own id) into the live pipeline, paced by their timestamps (divided by `speed`), and
//! stamps each with the gateway clock at the moment it is played, as a driver stamps a read
//! off the wire. Lets the whole pipeline run without hardware.
//!
//! A bad line (not UTF-8, not a record, or longer than [`MAX_LINE_BYTES`], which is skipped
//! without being read whole) is logged with its line number and skipped (it changes nothing);
//! pacing never waits more than [`MAX_PACED_GAP`] for a line (a longer jump in `t` is logged and
//! played at once). Lines of other
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
    Connector, Counter, LinkContext, LinkPolicy, OpenError, ReaderHealth, Session, SessionEnd,
    run_link,
};
use shelfd_core::readlog::lines::{Cut, LineCutter, MAX_LINE_BYTES};
use shelfd_core::readlog::{self, ReadLogError, Record};
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
/// record with `clock`. Tag reads played and bad lines are counted in `health` (as `reads` and
/// `bad_frames`, like a driver's), so status and metrics show them.
pub async fn run_replay_reader(
    reader: ReplaySettings,
    sink: mpsc::Sender<Record>,
    health: Arc<ReaderHealth>,
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
        let mut input = tokio::io::BufReader::with_capacity(64 * 1024, file);
        let mut cutter = LineCutter::new();
        let mut pacing = Pacing::default();
        loop {
            let chunk = tokio::select! {
                chunk = input.fill_buf() => chunk,
                _ = ctx.cancel().cancelled() => return SessionEnd::Cancelled,
            };
            let cut = match chunk {
                Ok([]) => match cutter.finish() {
                    Some(cut) => cut,
                    None => return SessionEnd::Finished,
                },
                Ok(chunk) => {
                    let (used, cut) = cutter.feed(chunk);
                    input.consume(used);
                    match cut {
                        Some(cut) => cut,
                        None => continue,
                    }
                }
                Err(e) => {
                    self.failed = Some(e);
                    return SessionEnd::Finished;
                }
            };
            let (number, parsed) = match cut {
                Cut::TooLong { number } => (
                    number,
                    Err(ReadLogError::TooLong {
                        max: MAX_LINE_BYTES,
                    }),
                ),
                Cut::Line { number } => match cutter.text() {
                    Ok(line) if line.trim().is_empty() => continue,
                    Ok(line) => (number, readlog::parse_line(line)),
                    Err(e) => (number, Err(e)),
                },
            };
            let reader = &self.reader;
            let record = match parsed {
                Ok(record) => record,
                Err(e) => {
                    self.stats.bad_lines += 1;
                    ctx.health().count(Counter::BadFrame);
                    tracing::warn!(reader = %reader.id, file = %reader.file.display(), line = number, error = %e, "bad read-log line skipped");
                    continue;
                }
            };
            let Some(t) = own_time(&record, &reader.id) else {
                self.stats.skipped += 1;
                continue;
            };
            if let Some(gap) = pacing.jump(t, reader.speed) {
                tracing::warn!(reader = %reader.id, file = %reader.file.display(), line = number, gap_ms = gap, "read-log time jumps by more than an hour (after speed): played without waiting");
            }
            tokio::select! {
                _ = pacing.wait() => {}
                _ = ctx.cancel().cancelled() => return SessionEnd::Cancelled,
            }
            let now = (self.clock)();
            let record = restamp(record, now);
            let is_read = matches!(record, Record::Read(_));
            if let Err(end) = ctx.send(record).await {
                return end;
            }
            ctx.health().frame_at(now);
            if is_read {
                ctx.health().count(Counter::Read);
            }
            self.stats.played += 1;
        }
    }
}

/// Longest wait between two played lines (after `speed`): a longer jump in `t` (a log that
/// spans days, a first line at `t` = 0) is played at once and logged, never waited out.
pub const MAX_PACED_GAP: Duration = Duration::from_secs(3600);

/// When the next line is due: `t` relative to an origin, divided by `speed`.
#[derive(Debug, Default)]
struct Pacing {
    /// (t, when it was due) of the origin.
    origin: Option<(u64, Instant)>,
    /// `t` of the previous line.
    last: u64,
    /// When the current line is due.
    due: Option<Instant>,
}

impl Pacing {
    /// Schedules the line at `t`; returns the jump in ms when it is too long to wait for (the
    /// origin moves to this line, so it is played at once).
    fn jump(&mut self, t: u64, speed: f64) -> Option<u64> {
        let now = Instant::now();
        let (mut t0, mut start) = *self.origin.get_or_insert((t, now));
        let gap = t.saturating_sub(self.last.max(t0));
        let mut jumped = None;
        if scaled(gap, speed) > MAX_PACED_GAP {
            (t0, start) = (t, now);
            self.origin = Some((t0, start));
            jumped = Some(gap);
        }
        self.last = self.last.max(t);
        // t ≤ readlog::MAX_T_MS (year 9999), so t − t0 scaled fits an Instant.
        self.due = Some(start + scaled(t.saturating_sub(t0), speed));
        jumped
    }

    /// Waits until the current line is due.
    async fn wait(&self) {
        if let Some(due) = self.due {
            tokio::time::sleep_until(due).await;
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
        let health = Arc::new(ReaderHealth::new("r1"));
        let task = tokio::spawn(run_replay_reader(
            reader(&file, 2.0),
            tx,
            health.clone(),
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
        // Status and metrics see what was played: one tag read, one bad line.
        let seen = health.snapshot();
        assert_eq!((seen.reads, seen.bad_frames, seen.frames), (1, 1, 3));
        assert_eq!(seen.last_frame_ms, Some(42));
    }

    /// Plays `bytes` as r1's log at speed 1 on paused time; returns what was played, the stats
    /// and the virtual time it took.
    async fn play(bytes: &[u8]) -> (Vec<Record>, ReplayStats, Duration) {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("log.jsonl");
        std::fs::write(&file, bytes).expect("write");
        let (tx, mut rx) = mpsc::channel(8);
        let start = Instant::now();
        let task = tokio::spawn(run_replay_reader(
            reader(&file, 1.0),
            tx,
            Arc::new(ReaderHealth::new("r1")),
            CancellationToken::new(),
            || 42,
        ));
        let mut played = Vec::new();
        while let Some(record) = rx.recv().await {
            played.push(record);
        }
        let stats = task.await.expect("join").expect("replay");
        (played, stats, start.elapsed())
    }

    const READ_A: &str =
        r#"{"t":1763800000000,"reader":"r1","antenna":1,"epc":"30000000000000000000000a"}"#;
    const READ_B: &str =
        r#"{"t":1763800001000,"reader":"r1","antenna":1,"epc":"30000000000000000000000b"}"#;

    #[tokio::test(start_paused = true)]
    async fn a_line_that_is_not_utf8_is_skipped_and_the_rest_plays() {
        let mut bytes = format!("{READ_A}\n").into_bytes();
        bytes.extend_from_slice(b"{\"t\":1763800000500,\"reader\":\"r\xff1\"}\n");
        bytes.extend_from_slice(format!("{READ_B}\n").as_bytes());
        let (played, stats, elapsed) = play(&bytes).await;
        assert_eq!(played.len(), 2, "{played:?}");
        assert!(matches!(&played[1], Record::Read(r) if r.epc[11] == 0x0b));
        assert_eq!((stats.played, stats.bad_lines), (2, 1));
        assert_eq!(elapsed, Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn absurd_times_neither_hang_nor_wait_forever() {
        let first_at_zero = READ_A.replace("1763800000000", "0");
        let at_the_end_of_time = READ_A.replace("1763800000000", &u64::MAX.to_string());
        let log = format!("{first_at_zero}\n{READ_A}\n{at_the_end_of_time}\n{READ_B}\n");
        let (played, stats, elapsed) = play(log.as_bytes()).await;
        assert_eq!(played.len(), 3, "{played:?}");
        assert_eq!((stats.played, stats.bad_lines), (3, 1));
        // The 56-year jump after the first line is played at once; READ_B a second later.
        assert_eq!(elapsed, Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_line_over_the_cap_is_skipped_and_the_next_keeps_its_place() {
        let mut bytes = format!("{READ_A}\n{{\"t\":1,\"reader\":\"").into_bytes();
        bytes.resize(bytes.len() + MAX_LINE_BYTES + 10, b'x');
        bytes.extend_from_slice(format!("\"}}\n{READ_B}\n").as_bytes());
        let (played, stats, _) = play(&bytes).await;
        assert_eq!(played.len(), 2);
        assert_eq!((stats.played, stats.bad_lines), (2, 1));
    }

    #[tokio::test]
    async fn a_missing_file_is_named() {
        let (tx, _rx) = mpsc::channel(1);
        let err = run_replay_reader(
            reader(Path::new("/nonexistent/log.jsonl"), 1.0),
            tx,
            Arc::new(ReaderHealth::new("r1")),
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
