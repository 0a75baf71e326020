//! The serial port lifecycle of one reader, for every wire protocol: open the port, start the
//! inventory, decode, stamp reads with gateway time, answer the reader, watch for silence,
//! and reopen with backoff after an unplug ([`run_serial_reader`]). Its counters live in
//! [`ReaderHealth`].
//!
//! It owns the port and nothing else: the protocol's bytes come from [`wire`] (it never parses
//! or builds a frame itself), what reads mean is the engine's business (it never maps antennas
//! to locations, only drops antennas the config does not list), and it never blocks the engine:
//! records go out through a bounded channel whose back-pressure it honours while staying
//! responsive to shutdown.
//!
//! # Ports
//!
//! Configure the port by its stable name, `/dev/serial/by-id/usb-…-if00-port0` (or a udev
//! `SYMLINK`), not `/dev/ttyUSB0`: a USB adapter that re-enumerates while the old fd is still
//! held comes back as `ttyUSB1`, and the by-id link follows it. The path is resolved again on
//! every open. The port is opened exclusively (`TIOCEXCL` plus `flock`), so a second daemon on
//! the same reader fails to open instead of stealing half the bytes; run the daemon as a
//! non-root user in the `dialout` group, since root ignores `TIOCEXCL`.
//!
//! # Link states
//!
//! - `Link{Up}` once the port is open and the start-up commands are written.
//! - `Link{Alive}` when the reader ends an inventory round or reports no tag in view (at most
//!   one per [`ALIVE_INTERVAL`]): proof of life on an empty shelf.
//! - `Link{Down}` when the link is lost, when the very first open fails (so a reader that is
//!   absent at start-up is reported offline), and on shutdown. Down is sent once per outage,
//!   not once per failed reopen.
//!
//! # Disconnects
//!
//! A read of `Ok(0)`, any I/O error, a write that does not complete within [`WRITE_TIMEOUT`],
//! or the watchdog giving up all mean the same thing: report `Down`, drop the port and reopen
//! after a [`backoff::Backoff`] delay (250 ms doubling to 30 s with ±25 % jitter; it starts
//! over after a connection that stayed open a minute). It never spins: every failed open and
//! every short-lived connection waits out a growing delay.
//!
//! # Watchdog
//!
//! When no valid frame (tag or otherwise; garbage does not count) has arrived for
//! `reader.watchdog`, the driver writes the protocol's [`HostCommands::nudge`] once. If the
//! reader is still silent one more watchdog period later, the port is treated as disconnected.
//! A reader in a protocol that sends nothing on an empty field (`line`) is therefore reopened
//! every two watchdog periods while no tag is in view; give such readers a long watchdog.
//!
//! # Shutdown
//!
//! On cancel the driver writes the protocol's [`HostCommands::shutdown`] commands best-effort
//! (within [`SHUTDOWN_WRITE_TIMEOUT`]), sends `Link{Down}` (waiting at most
//! [`SHUTDOWN_SEND_TIMEOUT`] for room in the channel), closes the port and returns. Its safe
//! terminal state: inventory stopped if the reader was listening, port closed, reader reported
//! down. If the receiving end of the channel is dropped, the driver stops the same way without
//! a final record.

pub mod backoff;
mod health;

pub(crate) use health::Counter;
pub use health::{ReaderHealth, ReaderHealthSnapshot};

use self::backoff::{Backoff, BackoffPolicy};
use super::frame::{Decoded, FrameDecoder, FrameRole, HostCommands};
use super::wire::{self, NoWire, WireOptions};
use crate::config::{DEFAULT_BAUD, ReaderConfig};
use shelfd_core::readlog::{LinkState, Record, TagRead};
use shelfd_core::timefmt::now_ms;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_serial::{SerialPortBuilderExt, SerialStream};
use tokio_util::sync::CancellationToken;

/// At most one `Link{Alive}` heartbeat per this interval.
pub const ALIVE_INTERVAL: Duration = Duration::from_millis(250);
/// A write (start-up, response or nudge command) that takes longer means the port is dead.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long shutdown commands may take before the port is closed anyway.
pub const SHUTDOWN_WRITE_TIMEOUT: Duration = Duration::from_millis(500);
/// How long the final `Link{Down}` may wait for room in a full channel on shutdown.
pub const SHUTDOWN_SEND_TIMEOUT: Duration = Duration::from_secs(1);
/// Read buffer size.
const READ_CHUNK: usize = 4096;

/// A reader the driver cannot drive at all: a config problem `check-config` reports first.
/// Runtime trouble (a missing or unplugged port, I/O errors) is never an error: the driver
/// reports the link down and retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SerialSetupError {
    /// The reader has no `port`.
    #[error("reader {reader:?}: no serial port configured")]
    NoPort {
        /// Reader id.
        reader: String,
    },
    /// The port path cannot be handed to the serial library.
    #[error("reader {reader:?}: port path {path:?} is not valid UTF-8")]
    PathNotUtf8 {
        /// Reader id.
        reader: String,
        /// The offending path.
        path: PathBuf,
    },
    /// The protocol has no serial wire format (`replay`) or is not built yet.
    #[error("reader {reader:?}: {source}")]
    NoWire {
        /// Reader id.
        reader: String,
        /// Which protocol.
        #[source]
        source: NoWire,
    },
}

/// Drives one serial reader until `cancel` fires (see the module docs for the whole
/// lifecycle): reads become [`Record::Read`] stamped with [`now_ms`], link changes become
/// [`Record::Link`], all sent to `sink`; counters go to `health`.
///
/// Returns `Ok(())` after a shutdown (or when `sink`'s receiver is gone), and an error at once,
/// before touching any port, when the reader cannot be driven at all.
pub async fn run_serial_reader(
    reader: ReaderConfig,
    sink: mpsc::Sender<Record>,
    health: Arc<ReaderHealth>,
    cancel: CancellationToken,
) -> Result<(), SerialSetupError> {
    let Some(path) = reader.port.clone() else {
        return Err(SerialSetupError::NoPort { reader: reader.id });
    };
    let Some(path_text) = path.to_str().map(str::to_owned) else {
        return Err(SerialSetupError::PathNotUtf8 {
            reader: reader.id,
            path,
        });
    };
    let options = WireOptions::from_config(&reader);
    let no_wire = |source| SerialSetupError::NoWire {
        reader: reader.id.clone(),
        source,
    };
    let commands = wire::commands(reader.protocol, &options).map_err(no_wire)?;
    // Also proves that every later `wire::decoder` call succeeds.
    wire::decoder(reader.protocol, &options).map_err(no_wire)?;
    let baud = reader.baud_rate().unwrap_or(DEFAULT_BAUD);

    let mut driver = Driver {
        reader,
        options,
        commands,
        sink,
        health,
        cancel,
        reported: None,
        last_alive: None,
    };
    let mut backoff = Backoff::new(BackoffPolicy::default());
    let mut failing = false;
    loop {
        if driver.cancel.is_cancelled() {
            break;
        }
        driver.health.count(Counter::Open);
        match tokio_serial::new(path_text.as_str(), baud).open_native_async() {
            Ok(port) => {
                failing = false;
                driver.health.count(Counter::Connect);
                tracing::info!(reader = %driver.reader.id, port = %path_text, baud, "serial port open");
                let opened = Instant::now();
                let end = driver.session(port).await;
                backoff.connection_ended(opened.elapsed());
                match end {
                    SessionEnd::Cancelled => break,
                    SessionEnd::SinkClosed => return Ok(()),
                    SessionEnd::Disconnected(why) => {
                        driver.health.count(Counter::Disconnect);
                        tracing::warn!(reader = %driver.reader.id, port = %path_text, "serial link lost: {why}");
                        match driver.link(LinkState::Down).await {
                            Ok(()) => {}
                            Err(Stop::Cancelled) => break,
                            Err(Stop::SinkClosed) => return Ok(()),
                        }
                    }
                }
            }
            Err(e) => {
                if failing {
                    tracing::debug!(reader = %driver.reader.id, port = %path_text, "cannot open serial port: {e}");
                } else {
                    failing = true;
                    tracing::warn!(reader = %driver.reader.id, port = %path_text, "cannot open serial port (retrying with backoff): {e}");
                }
                match driver.link(LinkState::Down).await {
                    Ok(()) => {}
                    Err(Stop::Cancelled) => break,
                    Err(Stop::SinkClosed) => return Ok(()),
                }
            }
        }
        let delay = backoff.next_delay();
        tracing::debug!(reader = %driver.reader.id, ?delay, "reopening after backoff");
        tokio::select! {
            _ = driver.cancel.cancelled() => break,
            _ = tokio::time::sleep(delay) => {}
        }
    }
    driver.final_down().await;
    Ok(())
}

/// Why an open session ended.
#[derive(Debug)]
enum SessionEnd {
    Cancelled,
    SinkClosed,
    Disconnected(String),
}

/// Why a send into the channel did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    Cancelled,
    SinkClosed,
}

impl From<Stop> for SessionEnd {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::Cancelled => SessionEnd::Cancelled,
            Stop::SinkClosed => SessionEnd::SinkClosed,
        }
    }
}

/// State that spans reconnects.
struct Driver {
    reader: ReaderConfig,
    options: WireOptions,
    commands: Box<dyn HostCommands>,
    sink: mpsc::Sender<Record>,
    health: Arc<ReaderHealth>,
    cancel: CancellationToken,
    /// The last Up/Down sent (`None` before the first).
    reported: Option<LinkState>,
    last_alive: Option<Instant>,
}

impl Driver {
    /// One open port, from start-up commands to its end. The port is closed on return.
    async fn session(&mut self, mut port: SerialStream) -> SessionEnd {
        let end = self.session_on(&mut port).await;
        self.health.set_link_up(false);
        if matches!(end, SessionEnd::Cancelled) {
            let stop = self.commands.shutdown();
            if !stop.is_empty() {
                let wrote = tokio::time::timeout(SHUTDOWN_WRITE_TIMEOUT, async {
                    for command in &stop {
                        port.write_all(command).await?;
                    }
                    port.flush().await
                })
                .await;
                if !matches!(wrote, Ok(Ok(()))) {
                    tracing::debug!(reader = %self.reader.id, "shutdown commands not written");
                }
            }
        }
        // Lift TIOCEXCL before closing. It belongs to the tty, not to this fd: when something
        // else keeps the tty open (a PTY simulator does), it can outlive the fd and make our
        // own non-root reopen fail with EBUSY. Fails harmlessly after a hang-up.
        let _ = port.set_exclusive(false);
        end
    }

    async fn session_on(&mut self, port: &mut SerialStream) -> SessionEnd {
        let mut decoder: Box<dyn FrameDecoder> = wire::decoder(self.reader.protocol, &self.options)
            .expect("invariant: the protocol's decoder was checked when the driver started");
        let startup = self.commands.startup();
        if let Err(end) = self.write(port, &startup, "start-up").await {
            return end;
        }
        if let Err(stop) = self.link(LinkState::Up).await {
            return stop.into();
        }
        self.health.set_link_up(true);
        self.last_alive = None;

        let watchdog = self.reader.watchdog.max(Duration::from_millis(1));
        let mut last_frame = Instant::now();
        let mut nudged_at: Option<Instant> = None;
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            let deadline = nudged_at.unwrap_or(last_frame) + watchdog;
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => return SessionEnd::Cancelled,
                read = port.read(&mut buf) => {
                    let n = match read {
                        Ok(0) => return SessionEnd::Disconnected("end of file (unplugged?)".into()),
                        Ok(n) => n,
                        Err(e) => return SessionEnd::Disconnected(format!("read error: {e}")),
                    };
                    decoder.feed(&buf[..n]);
                    while let Some(item) = decoder.next_frame() {
                        match self.handle(port, item).await {
                            Ok(true) => {
                                last_frame = Instant::now();
                                nudged_at = None;
                            }
                            Ok(false) => {}
                            Err(end) => return end,
                        }
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    if nudged_at.is_some() {
                        self.health.count(Counter::WatchdogTrip);
                        return SessionEnd::Disconnected(format!(
                            "no valid frame for {:?} (nudged once)",
                            last_frame.elapsed()
                        ));
                    }
                    tracing::info!(reader = %self.reader.id, "reader silent for {watchdog:?}: nudging");
                    self.health.count(Counter::Nudge);
                    nudged_at = Some(Instant::now());
                    let nudge = self.commands.nudge();
                    if let Err(end) = self.write(port, &nudge, "nudge").await {
                        return end;
                    }
                }
            }
        }
    }

    /// Acts on one decoded item; `Ok(true)` when it was a valid frame.
    async fn handle(&mut self, port: &mut SerialStream, item: Decoded) -> Result<bool, SessionEnd> {
        if let Some(answer) = self.commands.respond(&item) {
            self.write(port, std::slice::from_ref(&answer), "response")
                .await?;
        }
        match item {
            Decoded::Tag { tag, .. } => {
                let t = now_ms();
                self.health.frame_at(t);
                if !self.reader.antennas.contains_key(&tag.antenna) {
                    self.health.count(Counter::DroppedRead);
                    tracing::debug!(
                        reader = %self.reader.id,
                        antenna = tag.antenna,
                        "read on an antenna not in the config dropped"
                    );
                    return Ok(true);
                }
                let read = Record::Read(TagRead {
                    t,
                    reader: self.reader.id.clone(),
                    antenna: tag.antenna,
                    epc: tag.epc,
                    rssi: tag.rssi_dbm,
                });
                self.send(read).await?;
                self.health.count(Counter::Read);
                Ok(true)
            }
            Decoded::Frame {
                name, role, code, ..
            } => {
                self.health.frame_at(now_ms());
                match role {
                    FrameRole::RoundEnd | FrameRole::NoTag => {
                        let due = self
                            .last_alive
                            .is_none_or(|at| at.elapsed() >= ALIVE_INTERVAL);
                        if due {
                            self.last_alive = Some(Instant::now());
                            let alive = Record::Link {
                                t: now_ms(),
                                reader: self.reader.id.clone(),
                                link: LinkState::Alive,
                            };
                            self.send(alive).await?;
                        }
                    }
                    FrameRole::Error => {
                        tracing::warn!(reader = %self.reader.id, frame = name, ?code, "reader reported an error");
                    }
                    FrameRole::Boot => {
                        tracing::info!(reader = %self.reader.id, frame = name, "reader announced a (re)boot");
                    }
                    FrameRole::Ack | FrameRole::Info => {}
                }
                Ok(true)
            }
            Decoded::Bad {
                offset,
                skipped,
                reason,
            } => {
                self.health.count(Counter::BadFrame);
                tracing::debug!(reader = %self.reader.id, offset, skipped, "bad frame skipped: {reason}");
                Ok(false)
            }
        }
    }

    /// Writes `commands` within [`WRITE_TIMEOUT`], staying responsive to cancel.
    async fn write(
        &self,
        port: &mut SerialStream,
        commands: &[Vec<u8>],
        what: &str,
    ) -> Result<(), SessionEnd> {
        if commands.is_empty() {
            return Ok(());
        }
        let written = async {
            for command in commands {
                port.write_all(command).await?;
            }
            port.flush().await
        };
        tokio::select! {
            _ = self.cancel.cancelled() => Err(SessionEnd::Cancelled),
            r = tokio::time::timeout(WRITE_TIMEOUT, written) => match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(SessionEnd::Disconnected(format!("writing {what} commands: {e}"))),
                Err(_) => Err(SessionEnd::Disconnected(format!(
                    "writing {what} commands took over {WRITE_TIMEOUT:?}"
                ))),
            },
        }
    }

    /// Sends a record, waiting for room in the channel but not past a cancel.
    async fn send(&self, record: Record) -> Result<(), Stop> {
        send_record(&self.sink, &self.cancel, record).await
    }

    /// Reports an Up/Down transition (nothing when that state is already reported).
    async fn link(&mut self, link: LinkState) -> Result<(), Stop> {
        report_link(
            &self.sink,
            &self.cancel,
            &mut self.reported,
            &self.reader.id,
            link,
        )
        .await
    }

    /// The last record on shutdown: Down, unless already reported, with a bounded wait.
    async fn final_down(&mut self) {
        self.health.set_link_up(false);
        report_final_down(&self.sink, &mut self.reported, &self.reader.id).await;
    }
}

/// Sends a record for a reader task, waiting for room in the channel but not past a cancel.
pub(crate) async fn send_record(
    sink: &mpsc::Sender<Record>,
    cancel: &CancellationToken,
    record: Record,
) -> Result<(), Stop> {
    tokio::select! {
        _ = cancel.cancelled() => Err(Stop::Cancelled),
        sent = sink.send(record) => sent.map_err(|_| Stop::SinkClosed),
    }
}

/// Reports `reader`'s link state unless it is the one `reported` last (which it updates).
pub(crate) async fn report_link(
    sink: &mpsc::Sender<Record>,
    cancel: &CancellationToken,
    reported: &mut Option<LinkState>,
    reader: &str,
    link: LinkState,
) -> Result<(), Stop> {
    if *reported == Some(link) {
        return Ok(());
    }
    let record = Record::Link {
        t: now_ms(),
        reader: reader.to_owned(),
        link,
    };
    send_record(sink, cancel, record).await?;
    *reported = Some(link);
    Ok(())
}

/// A reader task's last record on shutdown: Down, unless already reported, waiting at most
/// [`SHUTDOWN_SEND_TIMEOUT`] for room in the channel.
pub(crate) async fn report_final_down(
    sink: &mpsc::Sender<Record>,
    reported: &mut Option<LinkState>,
    reader: &str,
) {
    if *reported == Some(LinkState::Down) {
        return;
    }
    let down = Record::Link {
        t: now_ms(),
        reader: reader.to_owned(),
        link: LinkState::Down,
    };
    match tokio::time::timeout(SHUTDOWN_SEND_TIMEOUT, sink.send(down)).await {
        Ok(Ok(())) => *reported = Some(LinkState::Down),
        Ok(Err(_)) => {}
        Err(_) => {
            tracing::warn!(%reader, "channel full on shutdown: final link down not sent");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Protocol;
    use std::collections::BTreeMap;

    fn reader(port: Option<PathBuf>, protocol: Protocol) -> ReaderConfig {
        ReaderConfig {
            id: "r1".into(),
            protocol,
            port,
            baud: None,
            file: None,
            speed: None,
            antennas: BTreeMap::from([(1, "shelf-a".to_string())]),
            nodes: Vec::new(),
            framing: None,
            power_dbm: None,
            watchdog: Duration::from_secs(10),
        }
    }

    #[tokio::test]
    async fn setup_errors_name_the_reader() {
        let (tx, _rx) = mpsc::channel(4);
        let health = Arc::new(ReaderHealth::new("r1"));
        let err = run_serial_reader(
            reader(None, Protocol::Line),
            tx.clone(),
            health.clone(),
            CancellationToken::new(),
        )
        .await;
        assert_eq!(
            err,
            Err(SerialSetupError::NoPort {
                reader: "r1".into()
            })
        );
        let err = run_serial_reader(
            reader(Some("/dev/null".into()), Protocol::Replay),
            tx,
            health.clone(),
            CancellationToken::new(),
        )
        .await;
        let text = err
            .map_err(|e| e.to_string())
            .expect_err("replay has no wire");
        assert!(text.contains("\"r1\"") && text.contains("replay"), "{text}");
        assert_eq!(health.snapshot().opens, 0, "no port touched");
    }

    /// A port that does not exist: the driver reports Down once, then retries on the backoff
    /// schedule in virtual time — a handful of opens a minute, never a spin.
    #[tokio::test(start_paused = true)]
    async fn missing_port_is_retried_with_backoff_not_spun() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cfg = reader(Some(dir.path().join("no-such-tty")), Protocol::Line);
        let (tx, mut rx) = mpsc::channel(16);
        let health = Arc::new(ReaderHealth::new("r1"));
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run_serial_reader(cfg, tx, health.clone(), cancel.clone()));

        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            health.snapshot().opens,
            1,
            "first open is immediate, next after >= 187 ms"
        );
        tokio::time::sleep(Duration::from_secs(60)).await;
        // Nominal attempts at 0, .25, .75, 1.75, 3.75, 7.75, 15.75, 31.75 s (±25 % per delay).
        let opens = health.snapshot().opens;
        assert!((7..=9).contains(&opens), "{opens} opens in a minute");
        assert_eq!(health.snapshot().connects, 0);

        cancel.cancel();
        let done = tokio::time::timeout(Duration::from_secs(1), task).await;
        assert!(matches!(done, Ok(Ok(Ok(())))), "{done:?}");
        let mut records = Vec::new();
        while let Ok(r) = rx.try_recv() {
            records.push(r);
        }
        assert!(
            matches!(&records[..], [Record::Link { link: LinkState::Down, reader, .. }] if reader == "r1"),
            "one Down for the whole outage, none on shutdown: {records:?}"
        );
    }
}
