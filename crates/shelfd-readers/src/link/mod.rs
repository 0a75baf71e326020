//! The one link lifecycle of every reader ([`run_link`]): open a link through a
//! [`Connector`] (serial port, TCP socket, read-log file), run a protocol's [`Session`] on it,
//! and after a disconnect report the link down and reopen after a [`Backoff`] delay, until
//! shutdown. A protocol adds a session, never a loop.
//!
//! It owns the reconnect loop, the link records and the health counters of opens and
//! disconnects. It never parses a byte (sessions do), never maps reads to locations (the
//! engine does) and never blocks the engine: records go out through a bounded channel whose
//! back-pressure it honours while staying responsive to shutdown.
//!
//! # Link states
//!
//! - `Link{Up}` when the session says the reader is there ([`LinkContext::up`]).
//! - `Link{Alive}` at most once per [`ALIVE_INTERVAL`] ([`LinkContext::alive`]): proof of life
//!   on an empty shelf.
//! - `Link{Down}` when the link is lost, when the very first open fails (so a reader that is
//!   absent at start-up is reported offline), and on shutdown. Down is sent once per outage,
//!   not once per failed reopen.
//!
//! A source that replays a file reports no link states of its own ([`LinkPolicy::link_records`]
//! off): the log it plays carries them.
//!
//! # Disconnects
//!
//! A session ends with [`SessionEnd::Disconnected`] on an end of file, an I/O error, a write
//! that does not complete within [`WRITE_TIMEOUT`] or its [`Watchdog`] giving up. The
//! lifecycle then reports `Down`, closes the link and reopens it after a backoff delay (by
//! default 250 ms doubling to 30 s with ±25 % jitter; it starts over after a connection that
//! stayed up a minute). It never spins: every failed open and every short-lived connection
//! waits out a growing delay. [`SessionEnd::Finished`] (a replayed file at its end) stops
//! without reopening.
//!
//! # Shutdown
//!
//! On cancel the lifecycle writes the session's [`Session::shutdown_commands`] best-effort
//! (within [`SHUTDOWN_WRITE_TIMEOUT`]), sends `Link{Down}` (waiting at most
//! [`SHUTDOWN_SEND_TIMEOUT`] for room in the channel), closes the link and returns. Its safe
//! terminal state: the reader told to stop if it was listening, link closed, reader reported
//! down. If the receiving end of the channel is dropped, it stops the same way without a final
//! record.

mod connector;
mod health;
mod watchdog;

pub use connector::{Connector, OpenError, PathNotUtf8, SerialConnector, TcpConnector};
pub(crate) use health::Counter;
pub use health::{ReaderHealth, ReaderHealthSnapshot, ReaderIdentity};
pub use watchdog::{Watchdog, WatchdogAction};

use shelfd_core::backoff::{Backoff, BackoffPolicy};
use shelfd_core::readlog::{LinkState, Record};
use shelfd_core::timefmt::now_ms;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// At most one `Link{Alive}` heartbeat per this interval.
pub const ALIVE_INTERVAL: Duration = Duration::from_millis(250);
/// A write (start-up, response, poll or nudge) that takes longer means the link is dead.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long shutdown commands may take before the link is closed anyway.
pub const SHUTDOWN_WRITE_TIMEOUT: Duration = Duration::from_millis(500);
/// How long the final `Link{Down}` may wait for room in a full channel on shutdown.
pub const SHUTDOWN_SEND_TIMEOUT: Duration = Duration::from_secs(1);

/// Why a session (or a send inside one) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEnd {
    /// Shutdown.
    Cancelled,
    /// The receiving end of the record channel is gone.
    SinkClosed,
    /// The link is lost (the reason, for the log): report down, reopen after a backoff.
    Disconnected(String),
    /// The source has nothing more to give (a replayed file at its end): stop, do not reopen.
    Finished,
}

/// A protocol's conversation over one open link of type `L`. The session value lives as long
/// as the reader task (it spans reconnects); [`Session::run`] is called once per open link.
pub trait Session<L>: Send {
    /// Runs the conversation until the link is lost, the source is finished or `ctx` is
    /// cancelled. Reports `Link{Up}` itself ([`LinkContext::up`]) once the reader is there.
    fn run(
        &mut self,
        link: &mut L,
        ctx: &mut LinkContext,
    ) -> impl Future<Output = SessionEnd> + Send;

    /// Bytes to write, best-effort, when the session ends by shutdown (stop the inventory).
    fn shutdown_commands(&mut self) -> Vec<Vec<u8>> {
        Vec::new()
    }
}

/// How the lifecycle treats a link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkPolicy {
    /// Pacing of reopens.
    pub backoff: BackoffPolicy,
    /// Report `Link{Down}` on outages and shutdown (and let sessions report Up and Alive).
    pub link_records: bool,
}

impl Default for LinkPolicy {
    /// [`BackoffPolicy::READER_LINK`], with link records.
    fn default() -> Self {
        LinkPolicy {
            backoff: BackoffPolicy::READER_LINK,
            link_records: true,
        }
    }
}

/// What a session gets from the lifecycle: the reader's identity, its record channel, its
/// counters and the shutdown token, with the link-record bookkeeping that spans reconnects.
#[derive(Debug)]
pub struct LinkContext {
    reader: String,
    sink: mpsc::Sender<Record>,
    health: Arc<ReaderHealth>,
    cancel: CancellationToken,
    link_records: bool,
    /// The last Up/Down sent (`None` before the first).
    reported: Option<LinkState>,
    last_alive: Option<Instant>,
}

impl LinkContext {
    /// The context of reader `reader`: records go to `sink`, counters to `health`.
    pub fn new(
        reader: impl Into<String>,
        sink: mpsc::Sender<Record>,
        health: Arc<ReaderHealth>,
        cancel: CancellationToken,
    ) -> Self {
        LinkContext {
            reader: reader.into(),
            sink,
            health,
            cancel,
            link_records: true,
            reported: None,
            last_alive: None,
        }
    }

    /// The reader id.
    pub fn reader(&self) -> &str {
        &self.reader
    }

    /// The reader's counters.
    pub fn health(&self) -> &ReaderHealth {
        &self.health
    }

    /// The shutdown token.
    pub fn cancel(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Sends a record, waiting for room in the channel but not past a cancel.
    pub async fn send(&self, record: Record) -> Result<(), SessionEnd> {
        tokio::select! {
            _ = self.cancel.cancelled() => Err(SessionEnd::Cancelled),
            sent = self.sink.send(record) => sent.map_err(|_| SessionEnd::SinkClosed),
        }
    }

    /// The reader is there: reports `Link{Up}` (unless already reported) and marks the link up.
    pub async fn up(&mut self) -> Result<(), SessionEnd> {
        self.report(LinkState::Up).await?;
        self.health.set_link_up(true);
        self.last_alive = None;
        Ok(())
    }

    /// Proof of life: `Link{Alive}`, at most once per [`ALIVE_INTERVAL`].
    pub async fn alive(&mut self) -> Result<(), SessionEnd> {
        if !self.link_records {
            return Ok(());
        }
        let due = self
            .last_alive
            .is_none_or(|at| at.elapsed() >= ALIVE_INTERVAL);
        if !due {
            return Ok(());
        }
        self.last_alive = Some(Instant::now());
        let alive = Record::Link {
            t: now_ms(),
            reader: self.reader.clone(),
            link: LinkState::Alive,
        };
        self.send(alive).await
    }

    /// Writes `chunks` to `link` within [`WRITE_TIMEOUT`], staying responsive to cancel; a
    /// failure is a disconnect naming `what` was written.
    pub async fn write<L: AsyncWrite + Unpin + Send>(
        &self,
        link: &mut L,
        chunks: &[Vec<u8>],
        what: &str,
    ) -> Result<(), SessionEnd> {
        if chunks.is_empty() {
            return Ok(());
        }
        let written = async {
            for chunk in chunks {
                link.write_all(chunk).await?;
            }
            link.flush().await
        };
        tokio::select! {
            _ = self.cancel.cancelled() => Err(SessionEnd::Cancelled),
            r = tokio::time::timeout(WRITE_TIMEOUT, written) => match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(SessionEnd::Disconnected(format!("writing {what}: {e}"))),
                Err(_) => Err(SessionEnd::Disconnected(format!(
                    "writing {what} took over {WRITE_TIMEOUT:?}"
                ))),
            },
        }
    }

    /// Reports an Up/Down transition (nothing when that state is already reported, or when
    /// the policy has no link records).
    async fn report(&mut self, link: LinkState) -> Result<(), SessionEnd> {
        if !self.link_records || self.reported == Some(link) {
            return Ok(());
        }
        let record = Record::Link {
            t: now_ms(),
            reader: self.reader.clone(),
            link,
        };
        self.send(record).await?;
        self.reported = Some(link);
        Ok(())
    }

    /// The last record on shutdown: Down, unless already reported, waiting at most
    /// [`SHUTDOWN_SEND_TIMEOUT`] for room in the channel.
    async fn final_down(&mut self) {
        self.health.set_link_up(false);
        if !self.link_records || self.reported == Some(LinkState::Down) {
            return;
        }
        let down = Record::Link {
            t: now_ms(),
            reader: self.reader.clone(),
            link: LinkState::Down,
        };
        match tokio::time::timeout(SHUTDOWN_SEND_TIMEOUT, self.sink.send(down)).await {
            Ok(Ok(())) => self.reported = Some(LinkState::Down),
            Ok(Err(_)) => {}
            Err(_) => {
                tracing::warn!(reader = %self.reader, "channel full on shutdown: final link down not sent");
            }
        }
    }
}

/// Drives one reader link until shutdown (see the module docs): opens it with `connector`,
/// runs `session` on it, reopens with backoff after a disconnect.
///
/// Returns `Ok(())` after a shutdown, a finished source or when the channel's receiver is
/// gone, and the open error when the connector says retrying cannot help.
pub async fn run_link<C, S>(
    mut connector: C,
    session: &mut S,
    mut ctx: LinkContext,
    policy: LinkPolicy,
) -> Result<(), OpenError>
where
    C: Connector,
    S: Session<C::Link>,
{
    ctx.link_records = policy.link_records;
    let (kind, target) = (connector.kind(), connector.target());
    let mut backoff = Backoff::new(policy.backoff);
    let mut failing = false;
    loop {
        if ctx.cancel.is_cancelled() {
            break;
        }
        ctx.health.count(Counter::Open);
        let lost = match connector.open().await {
            Ok(mut link) => {
                failing = false;
                ctx.health.count(Counter::Connect);
                tracing::info!(reader = %ctx.reader, %target, "{kind} link open");
                let opened = Instant::now();
                let end = session.run(&mut link, &mut ctx).await;
                ctx.health.set_link_up(false);
                if end == SessionEnd::Cancelled {
                    write_shutdown(&mut link, session.shutdown_commands(), &ctx.reader).await;
                }
                connector.release(&mut link);
                drop(link);
                backoff.connection_ended(opened.elapsed());
                match end {
                    SessionEnd::Cancelled | SessionEnd::Finished => break,
                    SessionEnd::SinkClosed => return Ok(()),
                    SessionEnd::Disconnected(why) => {
                        ctx.health.count(Counter::Disconnect);
                        tracing::warn!(reader = %ctx.reader, %target, "{kind} link lost: {why}");
                        true
                    }
                }
            }
            Err(e) if e.permanent => {
                ctx.final_down().await;
                return Err(e);
            }
            Err(e) => {
                if failing {
                    tracing::debug!(reader = %ctx.reader, "{e}");
                } else {
                    failing = true;
                    tracing::warn!(reader = %ctx.reader, "{e} (retrying with backoff)");
                }
                true
            }
        };
        if lost {
            match ctx.report(LinkState::Down).await {
                Ok(()) => {}
                Err(SessionEnd::SinkClosed) => return Ok(()),
                Err(_) => break,
            }
        }
        let delay = backoff.next_delay();
        tracing::debug!(reader = %ctx.reader, ?delay, "reopening after backoff");
        tokio::select! {
            _ = ctx.cancel.cancelled() => break,
            _ = tokio::time::sleep(delay) => {}
        }
    }
    ctx.final_down().await;
    Ok(())
}

/// Writes shutdown commands best-effort within [`SHUTDOWN_WRITE_TIMEOUT`].
async fn write_shutdown<L: AsyncWrite + Unpin>(link: &mut L, commands: Vec<Vec<u8>>, reader: &str) {
    if commands.is_empty() {
        return;
    }
    let wrote = tokio::time::timeout(SHUTDOWN_WRITE_TIMEOUT, async {
        for command in &commands {
            link.write_all(command).await?;
        }
        link.flush().await
    })
    .await;
    if !matches!(wrote, Ok(Ok(()))) {
        tracing::debug!(%reader, "shutdown commands not written");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use tokio::io::DuplexStream;

    /// What one open does.
    #[derive(Debug, Clone, Copy)]
    enum Open {
        Link,
        Fail { permanent: bool },
    }

    /// Opens what it is told to, in order: an in-memory link or an error.
    struct ScriptedConnector {
        opens: VecDeque<Open>,
        peers: Vec<DuplexStream>,
    }

    impl Connector for ScriptedConnector {
        type Link = DuplexStream;

        fn kind(&self) -> &'static str {
            "memory"
        }

        fn target(&self) -> String {
            "memory link".into()
        }

        async fn open(&mut self) -> Result<DuplexStream, OpenError> {
            match self.opens.pop_front().unwrap_or(Open::Link) {
                Open::Link => {
                    let (ours, theirs) = tokio::io::duplex(64);
                    self.peers.push(theirs);
                    Ok(ours)
                }
                Open::Fail { permanent } => Err(OpenError {
                    target: self.target(),
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                    permanent,
                }),
            }
        }
    }

    /// Reports Up, then ends as told.
    struct ScriptedSession {
        ends: VecDeque<SessionEnd>,
    }

    impl<L: Send> Session<L> for ScriptedSession {
        async fn run(&mut self, _link: &mut L, ctx: &mut LinkContext) -> SessionEnd {
            if let Err(end) = ctx.up().await {
                return end;
            }
            self.ends.pop_front().unwrap_or(SessionEnd::Finished)
        }
    }

    fn links(rx: &mut mpsc::Receiver<Record>) -> Vec<LinkState> {
        let mut states = Vec::new();
        while let Ok(record) = rx.try_recv() {
            if let Record::Link { link, .. } = record {
                states.push(link);
            }
        }
        states
    }

    /// A lost link is reported down once and reopened after a backoff, a failed reopen is not
    /// a second Down, and a finished source stops without reopening.
    #[tokio::test(start_paused = true)]
    async fn reopens_after_a_disconnect_and_stops_when_finished() {
        let connector = ScriptedConnector {
            opens: [Open::Link, Open::Fail { permanent: false }, Open::Link].into(),
            peers: Vec::new(),
        };
        let mut session = ScriptedSession {
            ends: [
                SessionEnd::Disconnected("test".into()),
                SessionEnd::Finished,
            ]
            .into(),
        };
        let (tx, mut rx) = mpsc::channel(16);
        let health = Arc::new(ReaderHealth::new("m1"));
        let ctx = LinkContext::new("m1", tx, health.clone(), CancellationToken::new());
        let start = Instant::now();
        let done = run_link(connector, &mut session, ctx, LinkPolicy::default()).await;
        assert!(done.is_ok(), "{done:?}");
        assert_eq!(
            links(&mut rx),
            [
                LinkState::Up,
                LinkState::Down,
                LinkState::Up,
                LinkState::Down
            ]
        );
        let s = health.snapshot();
        assert_eq!((s.opens, s.connects, s.disconnects), (3, 2, 1));
        assert!(!s.link_up);
        // Two backoff delays: about 250 ms, then about 500 ms (±25 %).
        let waited = start.elapsed();
        assert!(
            (Duration::from_millis(560)..=Duration::from_millis(940)).contains(&waited),
            "{waited:?}"
        );
    }

    /// A connector that says retrying cannot help ends the lifecycle at once with its error;
    /// without link records nothing is reported.
    #[tokio::test(start_paused = true)]
    async fn a_permanent_open_error_is_returned_at_once() {
        let connector = ScriptedConnector {
            opens: [Open::Fail { permanent: true }].into(),
            peers: Vec::new(),
        };
        let mut session = ScriptedSession {
            ends: VecDeque::new(),
        };
        let (tx, mut rx) = mpsc::channel(16);
        let health = Arc::new(ReaderHealth::new("m1"));
        let ctx = LinkContext::new("m1", tx, health, CancellationToken::new());
        let policy = LinkPolicy {
            link_records: false,
            ..LinkPolicy::default()
        };
        let err = run_link(connector, &mut session, ctx, policy)
            .await
            .expect_err("permanent");
        assert!(err.permanent);
        assert!(
            err.to_string().starts_with("cannot open memory link: "),
            "{err}"
        );
        assert_eq!(links(&mut rx), []);
    }

    /// A reader that never opens is reported down once, whatever the number of retries, and a
    /// cancel ends the backoff wait at once.
    #[tokio::test(start_paused = true)]
    async fn cancel_stops_the_backoff_wait() {
        let connector = ScriptedConnector {
            opens: [Open::Fail { permanent: false }; 8].into(),
            peers: Vec::new(),
        };
        let mut session = ScriptedSession {
            ends: VecDeque::new(),
        };
        let (tx, mut rx) = mpsc::channel(16);
        let health = Arc::new(ReaderHealth::new("m1"));
        let cancel = CancellationToken::new();
        let ctx = LinkContext::new("m1", tx, health.clone(), cancel.clone());
        let task = tokio::spawn(async move {
            run_link(connector, &mut session, ctx, LinkPolicy::default()).await
        });
        tokio::time::sleep(Duration::from_secs(2)).await;
        cancel.cancel();
        let done = tokio::time::timeout(Duration::from_millis(10), task).await;
        assert!(matches!(done, Ok(Ok(Ok(())))), "{done:?}");
        assert_eq!(links(&mut rx), [LinkState::Down], "one Down per outage");
        assert!(health.snapshot().opens >= 3);
    }
}
