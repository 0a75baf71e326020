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
//! | heartbeat, or any answer | `Link{Alive}` (at most one per [`ALIVE_INTERVAL`]) |
//! | hello, fault, ambiguous change, unstable weight | logged only |
//!
//! What the records mean is the engine's business (`reconcile::lanes`); this module never maps
//! lanes to locations. Port handling follows [`super::serial`]: `Link{Up}` once the port is
//! open, `Link{Down}` once per outage, reopen with backoff after an I/O error, an end of file
//! or `watchdog` without an answer from any node, a bounded final `Down` on shutdown. It never
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

use super::serial::backoff::{Backoff, BackoffPolicy};
use super::serial::{
    Counter, ReaderHealth, SerialSetupError, Stop, report_final_down, report_link, send_record,
};
use crate::config::{DEFAULT_BAUD, LaneConfig, ReaderConfig};
use shelf_node::link::{
    Command, CommandStatus, DecodeError, Delivery, Frame, FrameAccumulator, NodeSession, Report,
};
use shelfd_core::readlog::{LaneChange, LaneRecord, LinkState, Record, TagRead};
use shelfd_core::timefmt::now_ms;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_serial::{SerialPortBuilderExt, SerialStream};
use tokio_util::sync::CancellationToken;

/// How long a request waits for the node's answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_millis(100);
/// Each node is polled at most this often while it has nothing to report.
pub const POLL_PERIOD: Duration = Duration::from_millis(50);
/// At most one `Link{Alive}` per this interval.
pub const ALIVE_INTERVAL: Duration = Duration::from_millis(250);
/// A write that takes longer means the port is dead.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

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

/// Why an open session ended.
enum SessionEnd {
    Cancelled,
    SinkClosed,
    Disconnected(String),
}

impl From<Stop> for SessionEnd {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::Cancelled => SessionEnd::Cancelled,
            Stop::SinkClosed => SessionEnd::SinkClosed,
        }
    }
}

/// Drives one shelf-link bus until `cancel` fires (see the module docs). `lanes` are the
/// `[[lane]]`s of this reader (others are ignored); the driver configures them on their nodes.
///
/// Returns `Ok(())` after a shutdown (or when `sink`'s receiver is gone), and an error at once,
/// before touching any port, when the reader has no usable port.
pub async fn run_shelf_link_reader(
    reader: ReaderConfig,
    lanes: Vec<LaneConfig>,
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
    let baud = reader.baud_rate().unwrap_or(DEFAULT_BAUD);
    let lanes: Vec<LaneConfig> = lanes
        .into_iter()
        .filter(|l| l.reader.as_deref() == Some(reader.id.as_str()))
        .collect();
    // Command numbers start from the clock, so a restarted gateway does not repeat the previous
    // one's numbers (a node runs a command once per number). The sessions (and so the dedupe)
    // live as long as the driver: a reopened port does not hand on an event twice.
    let first = now_ms() as u16;
    let links = reader
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
    let mut driver = Driver {
        reader,
        lanes,
        links,
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
                tracing::info!(reader = %driver.reader.id, port = %path_text, baud, "shelf-link bus open");
                let opened = Instant::now();
                let end = driver.session(port).await;
                driver.health.set_link_up(false);
                backoff.connection_ended(opened.elapsed());
                match end {
                    SessionEnd::Cancelled => break,
                    SessionEnd::SinkClosed => return Ok(()),
                    SessionEnd::Disconnected(why) => {
                        driver.health.count(Counter::Disconnect);
                        tracing::warn!(reader = %driver.reader.id, port = %path_text, "shelf-link bus lost: {why}");
                        match driver.link(LinkState::Down).await {
                            Ok(()) => {}
                            Err(SessionEnd::SinkClosed) => return Ok(()),
                            Err(_) => break,
                        }
                    }
                }
            }
            Err(e) => {
                if failing {
                    tracing::debug!(reader = %driver.reader.id, port = %path_text, "cannot open shelf-link port: {e}");
                } else {
                    failing = true;
                    tracing::warn!(reader = %driver.reader.id, port = %path_text, "cannot open shelf-link port (retrying with backoff): {e}");
                }
                match driver.link(LinkState::Down).await {
                    Ok(()) => {}
                    Err(SessionEnd::SinkClosed) => return Ok(()),
                    Err(_) => break,
                }
            }
        }
        let delay = backoff.next_delay();
        tokio::select! {
            _ = driver.cancel.cancelled() => break,
            _ = tokio::time::sleep(delay) => {}
        }
    }
    driver.final_down().await;
    Ok(())
}

/// State that spans reconnects.
struct Driver {
    reader: ReaderConfig,
    lanes: Vec<LaneConfig>,
    /// The conversation with each node, in poll order.
    links: Vec<(u8, NodeLink)>,
    sink: mpsc::Sender<Record>,
    health: Arc<ReaderHealth>,
    cancel: CancellationToken,
    reported: Option<LinkState>,
    last_alive: Option<Instant>,
}

impl Driver {
    /// The configure commands of `node`'s lanes.
    fn configure(&self, link: &mut NodeLink, node: u8) {
        link.pending.clear();
        for lane in self.lanes.iter().filter(|l| l.node == node) {
            let command = Command::ConfigureLane {
                lane: lane.lane,
                unit_mg: lane.unit_mg(),
                tolerance_mg: lane.tolerance_mg(),
            };
            link.pending.push_back(link.session.command(command));
        }
    }

    async fn session(&mut self, mut port: SerialStream) -> SessionEnd {
        if let Err(end) = self.link(LinkState::Up).await {
            return end;
        }
        self.health.set_link_up(true);
        self.last_alive = None;
        // The nodes may have rebooted while the port was closed: configure them again.
        let mut nodes = std::mem::take(&mut self.links);
        for (address, link) in &mut nodes {
            link.asked = None;
            link.busy = false;
            self.configure(link, *address);
        }
        let end = self.poll(&mut port, &mut nodes).await;
        self.links = nodes;
        end
    }

    /// Polls the nodes until the session ends.
    async fn poll(&mut self, port: &mut SerialStream, nodes: &mut [(u8, NodeLink)]) -> SessionEnd {
        let watchdog = self.reader.watchdog.max(Duration::from_millis(1));
        let mut last_answer = Instant::now();
        let mut acc = FrameAccumulator::new();
        let mut turn = 0usize;
        loop {
            if self.cancel.is_cancelled() {
                return SessionEnd::Cancelled;
            }
            if last_answer.elapsed() > watchdog {
                self.health.count(Counter::WatchdogTrip);
                return SessionEnd::Disconnected(format!(
                    "no node answered for {:?}",
                    last_answer.elapsed()
                ));
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
                    _ = self.cancel.cancelled() => return SessionEnd::Cancelled,
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
                    tracing::error!(reader = %self.reader.id, node = address, "cannot encode request: {e}");
                    continue;
                }
            }
            if let Err(end) = self.write(port, &bytes).await {
                return end;
            }
            acc.reset();
            let answer = match self.answer(port, &mut acc, address).await {
                Ok(answer) => answer,
                Err(end) => return end,
            };
            let Some(frame) = answer else {
                tracing::trace!(reader = %self.reader.id, node = address, "no answer");
                continue;
            };
            last_answer = Instant::now();
            self.health.frame_at(now_ms());
            let (address, link) = &mut nodes[i];
            let address = *address;
            let delivery = link.session.on_report(&frame);
            tracing::trace!(reader = %self.reader.id, node = address, seq = frame.seq, ?delivery, report = ?frame.message, "answer");
            match (delivery, frame.message) {
                (Delivery::New, Report::Hello { .. }) => {
                    tracing::info!(reader = %self.reader.id, node = address, report = ?frame.message, "node (re)booted: configuring its lanes");
                    self.configure(link, address);
                    link.busy = true;
                }
                (Delivery::New, message) => {
                    link.busy = true;
                    if let Err(end) = self.event(address, message).await {
                        return end;
                    }
                }
                (Delivery::Duplicate, _) => link.busy = true,
                (Delivery::Answer, Report::CommandResult { status, value }) => {
                    if link.pending.front().map(|c| c.seq) == Some(frame.seq) {
                        let done = link.pending.pop_front();
                        if status != CommandStatus::OK {
                            tracing::warn!(reader = %self.reader.id, node = address, command = ?done.map(|c| c.message), status = status.0, value, "node refused a command");
                        }
                    }
                }
                (Delivery::Answer, _) | (Delivery::OtherNode, _) => {}
            }
            if let Err(end) = self.alive().await {
                return end;
            }
        }
    }

    /// Reads until a report from `node` arrives or [`ANSWER_TIMEOUT`] passes. Frames of other
    /// nodes and the gateway's own echo are skipped; garbage is counted.
    async fn answer(
        &self,
        port: &mut SerialStream,
        acc: &mut FrameAccumulator,
        node: u8,
    ) -> Result<Option<Frame<Report>>, SessionEnd> {
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        let mut buf = [0u8; 256];
        loop {
            let n = tokio::select! {
                _ = self.cancel.cancelled() => return Err(SessionEnd::Cancelled),
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
                self.health.count(Counter::BadFrame);
                tracing::debug!(reader = %self.reader.id, node, "bad shelf-link frame skipped: {e}");
            }
            if found.is_some() {
                return Ok(found);
            }
        }
    }

    /// Turns a new event into records (or a log line).
    async fn event(&mut self, node: u8, message: Report) -> Result<(), SessionEnd> {
        let lane_record = |lane: u8, change: LaneChange| {
            Record::Lane(LaneRecord {
                t: now_ms(),
                reader: self.reader.id.clone(),
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
                tracing::info!(reader = %self.reader.id, node, lane, units, grams = f64::from(delta_mg) / 1000.0, "lane pick/put");
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
                if !self.reader.antennas.contains_key(&antenna) {
                    self.health.count(Counter::DroppedRead);
                    tracing::debug!(reader = %self.reader.id, node, antenna, "node tag read on an antenna not in the config dropped");
                    return Ok(());
                }
                self.health.count(Counter::Read);
                Record::Read(TagRead {
                    t: now_ms(),
                    reader: self.reader.id.clone(),
                    antenna,
                    epc: epc.as_bytes().to_vec(),
                    rssi: Some(f32::from(rssi_ddbm) / 10.0),
                })
            }
            Report::Ambiguous { lane, delta_mg } => {
                tracing::info!(reader = %self.reader.id, node, lane, grams = f64::from(delta_mg) / 1000.0, "lane changed by no whole number of items (ambiguous, not counted)");
                return Ok(());
            }
            Report::Fault { code, lane, detail } => {
                tracing::warn!(reader = %self.reader.id, node, code = code.0, lane, detail, "node reported a fault");
                return Ok(());
            }
            other => {
                tracing::debug!(reader = %self.reader.id, node, report = ?other, "node report");
                return Ok(());
            }
        };
        self.send(record).await
    }

    async fn alive(&mut self) -> Result<(), SessionEnd> {
        let due = self
            .last_alive
            .is_none_or(|at| at.elapsed() >= ALIVE_INTERVAL);
        if !due {
            return Ok(());
        }
        self.last_alive = Some(Instant::now());
        let alive = Record::Link {
            t: now_ms(),
            reader: self.reader.id.clone(),
            link: LinkState::Alive,
        };
        self.send(alive).await
    }

    async fn write(&self, port: &mut SerialStream, bytes: &[u8]) -> Result<(), SessionEnd> {
        let written = async {
            port.write_all(bytes).await?;
            port.flush().await
        };
        tokio::select! {
            _ = self.cancel.cancelled() => Err(SessionEnd::Cancelled),
            r = tokio::time::timeout(WRITE_TIMEOUT, written) => match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(SessionEnd::Disconnected(format!("write error: {e}"))),
                Err(_) => Err(SessionEnd::Disconnected(format!("a write took over {WRITE_TIMEOUT:?}"))),
            },
        }
    }

    async fn send(&self, record: Record) -> Result<(), SessionEnd> {
        Ok(send_record(&self.sink, &self.cancel, record).await?)
    }

    async fn link(&mut self, link: LinkState) -> Result<(), SessionEnd> {
        let reader = &self.reader.id;
        Ok(report_link(&self.sink, &self.cancel, &mut self.reported, reader, link).await?)
    }

    async fn final_down(&mut self) {
        self.health.set_link_up(false);
        report_final_down(&self.sink, &mut self.reported, &self.reader.id).await;
    }
}
