//! The session of every framed-protocol reader (mercury, magicrf, r2000, line) over any link
//! ([`ReaderSession`]): start the inventory, decode, stamp reads with gateway time, answer the
//! reader, watch for silence. [`run_reader`] runs it under the one link lifecycle
//! ([`crate::link::run_link`]) over any [`Connector`]; [`run_serial_reader`] over a serial port.
//!
//! It owns the conversation and nothing else: the protocol's bytes come from [`wire`] (it never
//! parses or builds a frame itself), opening, backoff, link-down records and shutdown are the
//! lifecycle's, and what reads mean is the engine's business (it never maps antennas to
//! locations, only drops antennas the config does not list).
//!
//! # Ports
//!
//! Configure a serial port by its stable name, `/dev/serial/by-id/usb-…-if00-port0` (or a udev
//! `SYMLINK`), not `/dev/ttyUSB0`: a USB adapter that re-enumerates while the old fd is still
//! held comes back as `ttyUSB1`, and the by-id link follows it. The path is resolved again on
//! every open. The port is opened exclusively (`TIOCEXCL` plus `flock`), so a second daemon on
//! the same reader fails to open instead of stealing half the bytes; run the daemon as a
//! non-root user in the `dialout` group, since root ignores `TIOCEXCL`.
//!
//! # Link states
//!
//! - `Link{Up}` once the link is open and the start-up commands are written.
//! - `Link{Alive}` when the reader ends an inventory round or reports no tag in view (at most
//!   one per [`crate::link::ALIVE_INTERVAL`]): proof of life on an empty shelf.
//! - `Link{Down}`: the lifecycle's (see [`crate::link`]).
//!
//! # Watchdog
//!
//! When no valid frame (tag or otherwise; garbage does not count) has arrived for
//! [`ReaderSettings::watchdog`], the session writes the protocol's [`HostCommands::nudge`]
//! once. If the reader is still silent one more watchdog period later, the link is treated as
//! disconnected. A reader in a protocol that sends nothing on an empty field (`line`) is
//! therefore reopened every two watchdog periods while no tag is in view; give such readers a
//! long watchdog.
//!
//! # Shutdown
//!
//! On cancel the lifecycle writes the protocol's [`HostCommands::shutdown`] commands
//! best-effort, reports the reader down and closes the link.

use super::frame::{Decoded, FrameDecoder, FrameRole, HostCommands};
use super::kinds::Protocol;
use super::link::{
    Connector, Counter, LinkContext, LinkPolicy, PathNotUtf8, ReaderHealth, SerialConnector,
    Session, SessionEnd, Watchdog, WatchdogAction, run_link,
};
use super::wire::{self, NoWire, WireOptions};
use shelfd_core::readlog::{Record, TagRead};
use shelfd_core::timefmt::now_ms;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Read buffer size.
const READ_CHUNK: usize = 4096;

/// What a framed-protocol reader's session needs to know (the daemon builds it from its
/// config).
#[derive(Debug, Clone, PartialEq)]
pub struct ReaderSettings {
    /// Reader id.
    pub id: String,
    /// Wire protocol.
    pub protocol: Protocol,
    /// The protocol parts' options; its `antennas` are the antennas whose reads are kept.
    pub wire: WireOptions,
    /// Silence after which the reader is nudged, and after twice which the link is dropped.
    pub watchdog: Duration,
}

/// A reader the driver cannot drive at all: a config problem `check-config` reports first.
/// Runtime trouble (a missing or unplugged port, I/O errors) is never an error: the lifecycle
/// reports the link down and retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReaderSetupError {
    /// The port path cannot be handed to the serial library.
    #[error("reader {reader:?}: {source}")]
    PathNotUtf8 {
        /// Reader id.
        reader: String,
        /// The offending path.
        #[source]
        source: PathNotUtf8,
    },
    /// The protocol has no framed wire format (`replay`, `shelf-link`) or is not built yet.
    #[error("reader {reader:?}: {source}")]
    NoWire {
        /// Reader id.
        reader: String,
        /// Which protocol.
        #[source]
        source: NoWire,
    },
}

/// Drives one framed-protocol reader on the serial port `port` at `baud` until `cancel` fires
/// (see [`run_reader`]).
pub async fn run_serial_reader(
    reader: ReaderSettings,
    port: PathBuf,
    baud: u32,
    sink: mpsc::Sender<Record>,
    health: Arc<ReaderHealth>,
    cancel: CancellationToken,
) -> Result<(), ReaderSetupError> {
    let connector = serial_connector(&reader.id, port, baud)?;
    run_reader(reader, connector, sink, health, cancel).await
}

/// The serial connector of reader `id`; a port path that is not UTF-8 is a setup error naming
/// the reader.
pub(crate) fn serial_connector(
    id: &str,
    port: PathBuf,
    baud: u32,
) -> Result<SerialConnector, ReaderSetupError> {
    SerialConnector::new(port, baud).map_err(|source| ReaderSetupError::PathNotUtf8 {
        reader: id.to_owned(),
        source,
    })
}

/// Drives one framed-protocol reader over links opened by `connector` until `cancel` fires:
/// reads become [`Record::Read`] stamped with [`now_ms`], link changes become
/// [`Record::Link`], all sent to `sink`; counters go to `health`.
///
/// Returns `Ok(())` after a shutdown (or when `sink`'s receiver is gone), and an error at once,
/// before opening anything, when the reader cannot be driven at all.
pub async fn run_reader<C: Connector>(
    reader: ReaderSettings,
    connector: C,
    sink: mpsc::Sender<Record>,
    health: Arc<ReaderHealth>,
    cancel: CancellationToken,
) -> Result<(), ReaderSetupError> {
    let mut session = ReaderSession::new(reader)?;
    let ctx = LinkContext::new(session.reader.id.clone(), sink, health, cancel);
    // Only permanent open errors come back, and neither connector has them.
    if let Err(e) = run_link(connector, &mut session, ctx, LinkPolicy::default()).await {
        tracing::error!(reader = %session.reader.id, "{e}");
    }
    Ok(())
}

/// The conversation with one framed-protocol reader; spans reconnects.
pub struct ReaderSession {
    reader: ReaderSettings,
    commands: Box<dyn HostCommands>,
}

impl ReaderSession {
    /// A session for `reader`; an error when its protocol has no framed wire format.
    pub fn new(reader: ReaderSettings) -> Result<Self, ReaderSetupError> {
        let no_wire = |source| ReaderSetupError::NoWire {
            reader: reader.id.clone(),
            source,
        };
        let commands = wire::commands(reader.protocol, &reader.wire).map_err(no_wire)?;
        // Also proves that every later `wire::decoder` call succeeds.
        wire::decoder(reader.protocol, &reader.wire).map_err(no_wire)?;
        Ok(ReaderSession { reader, commands })
    }
}

impl<L: AsyncRead + AsyncWrite + Unpin + Send> Session<L> for ReaderSession {
    async fn run(&mut self, link: &mut L, ctx: &mut LinkContext) -> SessionEnd {
        let mut decoder: Box<dyn FrameDecoder> =
            wire::decoder(self.reader.protocol, &self.reader.wire)
                .expect("invariant: the protocol's decoder was checked when the session was made");
        let startup = self.commands.startup();
        if let Err(end) = ctx.write(link, &startup, "start-up commands").await {
            return end;
        }
        if let Err(end) = ctx.up().await {
            return end;
        }
        let mut watchdog = Watchdog::new(self.reader.watchdog, true);
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            tokio::select! {
                biased;
                _ = ctx.cancel().cancelled() => return SessionEnd::Cancelled,
                read = link.read(&mut buf) => {
                    let n = match read {
                        Ok(0) => return SessionEnd::Disconnected("end of file (unplugged?)".into()),
                        Ok(n) => n,
                        Err(e) => return SessionEnd::Disconnected(format!("read error: {e}")),
                    };
                    decoder.feed(&buf[..n]);
                    while let Some(item) = decoder.next_frame() {
                        match self.handle(link, ctx, item).await {
                            Ok(true) => watchdog.fed(),
                            Ok(false) => {}
                            Err(end) => return end,
                        }
                    }
                }
                _ = tokio::time::sleep_until(watchdog.deadline()) => {
                    match watchdog.check(ctx.health()) {
                        None => {}
                        Some(WatchdogAction::Trip { silent_for }) => {
                            return SessionEnd::Disconnected(format!(
                                "no valid frame for {silent_for:?} (nudged once)"
                            ));
                        }
                        Some(WatchdogAction::Nudge) => {
                            tracing::info!(reader = %self.reader.id, "reader silent for {:?}: nudging", watchdog.period());
                            let nudge = self.commands.nudge();
                            if let Err(end) = ctx.write(link, &nudge, "nudge commands").await {
                                return end;
                            }
                        }
                    }
                }
            }
        }
    }

    fn shutdown_commands(&mut self) -> Vec<Vec<u8>> {
        self.commands.shutdown()
    }
}

impl ReaderSession {
    /// Acts on one decoded item; `Ok(true)` when it was a valid frame.
    async fn handle<L: AsyncWrite + Unpin + Send>(
        &mut self,
        link: &mut L,
        ctx: &mut LinkContext,
        item: Decoded,
    ) -> Result<bool, SessionEnd> {
        if let Some(answer) = self.commands.respond(&item) {
            ctx.write(link, std::slice::from_ref(&answer), "response commands")
                .await?;
        }
        match item {
            Decoded::Tag { tag, .. } => {
                let t = now_ms();
                ctx.health().frame_at(t);
                if !self.reader.wire.antennas.contains(&tag.antenna) {
                    ctx.health().count(Counter::DroppedRead);
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
                ctx.send(read).await?;
                ctx.health().count(Counter::Read);
                Ok(true)
            }
            Decoded::Frame {
                name, role, code, ..
            } => {
                ctx.health().frame_at(now_ms());
                match role {
                    FrameRole::RoundEnd | FrameRole::NoTag => ctx.alive().await?,
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
                ctx.health().count(Counter::BadFrame);
                tracing::debug!(reader = %self.reader.id, offset, skipped, "bad frame skipped: {reason}");
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shelfd_core::readlog::LinkState;

    fn reader(protocol: Protocol) -> ReaderSettings {
        ReaderSettings {
            id: "r1".into(),
            protocol,
            wire: WireOptions::default(),
            watchdog: Duration::from_secs(10),
        }
    }

    #[tokio::test]
    async fn setup_errors_name_the_reader() {
        let (tx, _rx) = mpsc::channel(4);
        let health = Arc::new(ReaderHealth::new("r1"));
        let err = run_serial_reader(
            reader(Protocol::Replay),
            "/dev/null".into(),
            9600,
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
        let port = dir.path().join("no-such-tty");
        let (tx, mut rx) = mpsc::channel(16);
        let health = Arc::new(ReaderHealth::new("r1"));
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run_serial_reader(
            reader(Protocol::Line),
            port,
            115_200,
            tx,
            health.clone(),
            cancel.clone(),
        ));

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
