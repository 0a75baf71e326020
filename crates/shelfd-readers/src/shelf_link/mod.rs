//! The `shelf-link` reader: the gateway side of an RS-485 bus of shelf nodes running the
//! `shelf-node` firmware ([`run_shelf_link_reader`]), a simulated bus of such nodes on a PTY
//! ([`sim`]), and a decoder of bus captures for `shelfd decode` ([`decoder`]). The wire format, the dedupe and the node state machine are the firmware
//! crate's own ([`shelf_node::link`]): this module only drives a port with them.
//!
//! It owns the port of one bus and the conversation with its nodes: it polls each configured
//! node address in turn (the bus master; nodes never talk unasked), acknowledges every event,
//! resends a request that got no answer, configures each node's lanes (unit weight and
//! tolerance from `[[lane]]`) when it starts and whenever a node says hello (a reboot), and
//! turns the nodes' reports into read-log records:
//!
//! | report | record |
//! |---|---|
//! | pick/put (lane, units, delta) | [`Record::Lane`], [`LaneChange::Units`] |
//! | lane weight, stable | [`Record::Lane`], [`LaneChange::Weight`] |
//! | tag read of a node's own RFID module | [`Record::Read`] (antenna in the reader's `antennas`) |
//! | heartbeat, or any answer | `Link{Alive}` (at most one per [`crate::link::ALIVE_INTERVAL`]) |
//! | hello, fault, ambiguous change, unstable weight | logged only |
//!
//! What the records mean is the engine's business (`reconcile::lanes`); this module never maps
//! lanes to locations. The link is the one lifecycle's ([`crate::link::run_link`]): `Link{Up}`
//! once the port is open, `Link{Down}` once per outage, reopen with backoff after an I/O error,
//! an end of file or `watchdog` without an answer from any node, a bounded final `Down` on
//! shutdown; [`BusSession`] is only the conversation. It never
//! blocks the engine (records go through the bounded channel), never spins (polls are paced),
//! and never panics on bus bytes.
//!
//! # Timing
//!
//! A request waits [`ANSWER_TIMEOUT`] for its answer; a node whose answer is lost is asked
//! again on its next turn (the same ack or command: acks are idempotent and a node runs a
//! command number once). Each node is polled at most once per [`POLL_PERIOD`], except that a
//! node which answered with an event is asked again at once, so a burst drains quickly.

pub mod decoder;
pub mod sim;

use crate::link::{
    Connector, Counter, LinkContext, LinkPolicy, ReaderHealth, Session, SessionEnd, Watchdog,
    WatchdogAction, run_link,
};
use crate::session::ReaderSetupError;
use shelf_node::link::{
    Command, CommandStatus, DecodeError, Delivery, Frame, FrameAccumulator, NodeSession, Report,
};
use shelfd_core::readlog::{LaneChange, LaneRecord, Record, TagRead};
use shelfd_core::timefmt::now_ms;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long a request waits for the node's answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_millis(100);
/// Each node is polled at most this often while it has nothing to report.
pub const POLL_PERIOD: Duration = Duration::from_millis(50);

/// One node's conversation.
struct NodeLink {
    session: NodeSession,
    /// Commands waiting for their result, oldest first; resent under the same number.
    pending: VecDeque<Frame<Command>>,
    /// When the node was last asked.
    asked: Option<Instant>,
    /// The last answer carried an event: ask again at once.
    busy: bool,
}

/// What the bus master needs to know (the daemon builds it from its config).
#[derive(Debug, Clone, PartialEq)]
pub struct BusSettings {
    /// Reader id.
    pub id: String,
    /// The node addresses on the bus, in poll order.
    pub nodes: Vec<u8>,
    /// The antenna ports of the nodes' own RFID modules whose reads are kept.
    pub antennas: Vec<u16>,
    /// The lanes to configure on the nodes.
    pub lanes: Vec<LaneSetup>,
    /// Silence (no answer from any node) after which the link is dropped.
    pub watchdog: Duration,
}

/// One load-cell lane to configure on its node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneSetup {
    /// The node's bus address.
    pub node: u8,
    /// The lane on the node.
    pub lane: u8,
    /// Weight of one item, milligrams.
    pub unit_mg: u32,
    /// How far a change may be from a whole number of items, milligrams.
    pub tolerance_mg: u32,
}

/// Drives one shelf-link bus on the serial port `port` at `baud` until `cancel` fires (see
/// [`run_bus`]).
pub async fn run_shelf_link_reader(
    bus: BusSettings,
    port: PathBuf,
    baud: u32,
    sink: mpsc::Sender<Record>,
    health: Arc<ReaderHealth>,
    cancel: CancellationToken,
) -> Result<(), ReaderSetupError> {
    let connector = crate::session::serial_connector(&bus.id, port, baud)?;
    run_bus(bus, connector, sink, health, cancel).await;
    Ok(())
}

/// Drives one shelf-link bus over links opened by `connector` until `cancel` fires (see the
/// module docs); returns after a shutdown or when `sink`'s receiver is gone.
pub async fn run_bus<C: Connector>(
    bus: BusSettings,
    connector: C,
    sink: mpsc::Sender<Record>,
    health: Arc<ReaderHealth>,
    cancel: CancellationToken,
) {
    let mut session = BusSession::new(bus);
    let ctx = LinkContext::new(session.bus.id.clone(), sink, health, cancel);
    // Only permanent open errors come back, and neither connector has them.
    if let Err(e) = run_link(connector, &mut session, ctx, LinkPolicy::default()).await {
        tracing::error!(reader = %session.bus.id, "{e}");
    }
}

/// The bus master's conversation with the nodes of one bus; spans reconnects.
pub struct BusSession {
    bus: BusSettings,
    /// The conversation with each node, in poll order.
    links: Vec<(u8, NodeLink)>,
}

impl BusSession {
    /// A session for `bus`.
    pub fn new(bus: BusSettings) -> Self {
        // Command numbers start from the clock, so a restarted gateway does not repeat the
        // previous one's numbers (a node runs a command once per number). The sessions (and so
        // the dedupe) live as long as the driver: a reopened port does not hand on an event
        // twice.
        let first = now_ms() as u16;
        let links = bus
            .nodes
            .iter()
            .enumerate()
            .map(|(i, &address)| {
                let offset = (i as u16).wrapping_mul(1000);
                let link = NodeLink {
                    session: NodeSession::new(address, first.wrapping_add(offset)),
                    pending: VecDeque::new(),
                    asked: None,
                    busy: false,
                };
                (address, link)
            })
            .collect();
        BusSession { bus, links }
    }
}

impl<L: AsyncRead + AsyncWrite + Unpin + Send> Session<L> for BusSession {
    async fn run(&mut self, link: &mut L, ctx: &mut LinkContext) -> SessionEnd {
        if let Err(end) = ctx.up().await {
            return end;
        }
        // The nodes may have rebooted while the port was closed: configure them again.
        let mut nodes = std::mem::take(&mut self.links);
        for (address, node) in &mut nodes {
            node.asked = None;
            node.busy = false;
            self.configure(node, *address);
        }
        let end = self.poll(link, ctx, &mut nodes).await;
        self.links = nodes;
        end
    }
}

impl BusSession {
    /// The configure commands of `node`'s lanes.
    fn configure(&self, link: &mut NodeLink, node: u8) {
        link.pending.clear();
        for lane in self.bus.lanes.iter().filter(|l| l.node == node) {
            let command = Command::ConfigureLane {
                lane: lane.lane,
                unit_mg: lane.unit_mg,
                tolerance_mg: lane.tolerance_mg,
            };
            link.pending.push_back(link.session.command(command));
        }
    }

    /// Polls the nodes until the session ends.
    async fn poll<L: AsyncRead + AsyncWrite + Unpin + Send>(
        &mut self,
        port: &mut L,
        ctx: &mut LinkContext,
        nodes: &mut [(u8, NodeLink)],
    ) -> SessionEnd {
        // Polls are the nudge: silence from every node trips at once.
        let mut watchdog = Watchdog::new(self.bus.watchdog, false);
        let mut acc = FrameAccumulator::new();
        let mut turn = 0usize;
        loop {
            if ctx.cancel().is_cancelled() {
                return SessionEnd::Cancelled;
            }
            if let Some(action) = watchdog.check(ctx.health()) {
                let silent_for = match action {
                    WatchdogAction::Trip { silent_for } => silent_for,
                    // Not asked for (no nudges), but a nudge would be a poll anyway.
                    WatchdogAction::Nudge => watchdog.period(),
                };
                return SessionEnd::Disconnected(format!("no node answered for {silent_for:?}"));
            }
            // The next node due: a busy one at once, else the one asked longest ago.
            let n = nodes.len();
            let next = (0..n).map(|k| (turn + k) % n).find(|&i| {
                let link = &nodes[i].1;
                link.busy || link.asked.is_none_or(|at| at.elapsed() >= POLL_PERIOD)
            });
            let Some(i) = next else {
                let wait = nodes
                    .iter()
                    .filter_map(|(_, l)| l.asked)
                    .map(|at| POLL_PERIOD.saturating_sub(at.elapsed()))
                    .min()
                    .unwrap_or(POLL_PERIOD)
                    .max(Duration::from_millis(1));
                tokio::select! {
                    _ = ctx.cancel().cancelled() => return SessionEnd::Cancelled,
                    _ = tokio::time::sleep(wait) => continue,
                }
            };
            turn = (i + 1) % n;
            let (address, link) = &mut nodes[i];
            let address = *address;
            let request = match link.pending.front() {
                Some(&command) => command,
                None => link.session.next_request(),
            };
            link.asked = Some(Instant::now());
            link.busy = false;
            // A leading delimiter ends whatever line noise preceded the frame.
            let mut bytes = vec![0u8];
            match request.to_vec() {
                Ok(frame) => bytes.extend(frame),
                Err(e) => {
                    tracing::error!(reader = %self.bus.id, node = address, "cannot encode request: {e}");
                    continue;
                }
            }
            if let Err(end) = ctx
                .write(port, std::slice::from_ref(&bytes), "a poll")
                .await
            {
                return end;
            }
            acc.reset();
            let answer = match self.answer(port, ctx, &mut acc, address).await {
                Ok(answer) => answer,
                Err(end) => return end,
            };
            let Some(frame) = answer else {
                tracing::trace!(reader = %self.bus.id, node = address, "no answer");
                continue;
            };
            watchdog.fed();
            ctx.health().frame_at(now_ms());
            let (address, link) = &mut nodes[i];
            let address = *address;
            let delivery = link.session.on_report(&frame);
            tracing::trace!(reader = %self.bus.id, node = address, seq = frame.seq, ?delivery, report = ?frame.message, "answer");
            match (delivery, frame.message) {
                (Delivery::New, Report::Hello { .. }) => {
                    tracing::info!(reader = %self.bus.id, node = address, report = ?frame.message, "node (re)booted: configuring its lanes");
                    self.configure(link, address);
                    link.busy = true;
                }
                (Delivery::New, message) => {
                    link.busy = true;
                    if let Err(end) = self.event(ctx, address, message).await {
                        return end;
                    }
                }
                (Delivery::Duplicate, _) => link.busy = true,
                (Delivery::Answer, Report::CommandResult { status, value }) => {
                    if link.pending.front().map(|c| c.seq) == Some(frame.seq) {
                        let done = link.pending.pop_front();
                        if status != CommandStatus::OK {
                            tracing::warn!(reader = %self.bus.id, node = address, command = ?done.map(|c| c.message), status = status.0, value, "node refused a command");
                        }
                    }
                }
                (Delivery::Answer, _) | (Delivery::OtherNode, _) => {}
            }
            if let Err(end) = ctx.alive().await {
                return end;
            }
        }
    }

    /// Reads until a report from `node` arrives or [`ANSWER_TIMEOUT`] passes. Frames of other
    /// nodes and the gateway's own echo are skipped; garbage is counted.
    async fn answer<L: AsyncRead + Unpin + Send>(
        &self,
        port: &mut L,
        ctx: &LinkContext,
        acc: &mut FrameAccumulator,
        node: u8,
    ) -> Result<Option<Frame<Report>>, SessionEnd> {
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        let mut buf = [0u8; 256];
        loop {
            let n = tokio::select! {
                _ = ctx.cancel().cancelled() => return Err(SessionEnd::Cancelled),
                _ = tokio::time::sleep_until(deadline) => return Ok(None),
                read = port.read(&mut buf) => match read {
                    Ok(0) => return Err(SessionEnd::Disconnected("end of file (unplugged?)".into())),
                    Ok(n) => n,
                    Err(e) => return Err(SessionEnd::Disconnected(format!("read error: {e}"))),
                },
            };
            let mut found = None;
            let mut bad: Vec<DecodeError> = Vec::new();
            acc.feed_each(&buf[..n], |item| match item {
                Ok(raw) if raw.is_report() && raw.address == node && found.is_none() => {
                    match raw.decode::<Report>() {
                        Ok(frame) => found = Some(frame),
                        Err(e) => bad.push(e),
                    }
                }
                Ok(_) => {}
                Err(e) => bad.push(e),
            });
            for e in bad {
                ctx.health().count(Counter::BadFrame);
                tracing::debug!(reader = %self.bus.id, node, "bad shelf-link frame skipped: {e}");
            }
            if found.is_some() {
                return Ok(found);
            }
        }
    }

    /// Turns a new event into records (or a log line).
    async fn event(
        &mut self,
        ctx: &LinkContext,
        node: u8,
        message: Report,
    ) -> Result<(), SessionEnd> {
        let lane_record = |lane: u8, change: LaneChange| {
            Record::Lane(LaneRecord {
                t: now_ms(),
                reader: self.bus.id.clone(),
                node,
                lane,
                change,
            })
        };
        let record = match message {
            Report::PickPut {
                lane,
                units,
                delta_mg,
            } => {
                tracing::info!(reader = %self.bus.id, node, lane, units, grams = f64::from(delta_mg) / 1000.0, "lane pick/put");
                lane_record(
                    lane,
                    LaneChange::Units {
                        units,
                        grams: f64::from(delta_mg) / 1000.0,
                    },
                )
            }
            Report::LaneWeight {
                lane,
                stable: true,
                weight_mg,
                ..
            } => lane_record(
                lane,
                LaneChange::Weight {
                    grams: f64::from(weight_mg) / 1000.0,
                },
            ),
            Report::TagRead {
                antenna,
                rssi_ddbm,
                epc,
            } => {
                let antenna = u16::from(antenna);
                if !self.bus.antennas.contains(&antenna) {
                    ctx.health().count(Counter::DroppedRead);
                    tracing::debug!(reader = %self.bus.id, node, antenna, "node tag read on an antenna not in the config dropped");
                    return Ok(());
                }
                ctx.health().count(Counter::Read);
                Record::Read(TagRead {
                    t: now_ms(),
                    reader: self.bus.id.clone(),
                    antenna,
                    epc: epc.as_bytes().to_vec(),
                    rssi: Some(f32::from(rssi_ddbm) / 10.0),
                })
            }
            Report::Ambiguous { lane, delta_mg } => {
                tracing::info!(reader = %self.bus.id, node, lane, grams = f64::from(delta_mg) / 1000.0, "lane changed by no whole number of items (ambiguous, not counted)");
                return Ok(());
            }
            Report::Fault { code, lane, detail } => {
                tracing::warn!(reader = %self.bus.id, node, code = code.0, lane, detail, "node reported a fault");
                return Ok(());
            }
            other => {
                tracing::debug!(reader = %self.bus.id, node, report = ?other, "node report");
                return Ok(());
            }
        };
        ctx.send(record).await
    }
}
