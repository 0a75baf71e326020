//! The publisher task: the only owner of the broker connection.
//!
//! Per connection it creates a fresh rumqttc MQTT 5 client and event loop (so nothing queued
//! for a dead connection can be put on the wire later and confuse the packet-id bookkeeping),
//! on the gateway's persistent session ([`connect`]), and:
//! - on CONNACK: subscribes to `cmd/+` at QoS 1 without retained messages (a command is never
//!   retained; a retained message on a command topic, however large, is never sent to us),
//!   publishes the retained `online` status and every
//!   location's retained snapshot, then drains the outbox from its oldest entry, in seq order,
//!   QoS 1, at most [`connect::INFLIGHT_WINDOW`] unacknowledged packets at a time;
//! - publishes each outbox entry on `event/{type}`, the type being the kind stored with the
//!   entry (never read from the payload);
//! - with `[epcis]` enabled, publishes right after each event its EPCIS document
//!   ([`super::epcis`], derived from the typed event read back from the payload, QoS 1, not
//!   retained) on `epcis`;
//!   an event without an EPCIS meaning goes out alone;
//! - maps each `Outgoing::Publish(pkid)` to the request it belongs to ([`InFlight`]) and asks
//!   the store's owner to delete an entry only when the PUBACKs of all its packets (the event
//!   and its document) arrived, so a reconnect re-sends both of an unacknowledged entry;
//! - answers commands on `cmd/{op}` with a result on `cmd/{op}/result`: `ping` and `resync` at
//!   once, `asn` after handing it to the engine thread ([`EngineCommand`]; commands wait in
//!   order for room in its channel) and getting its outcome back (sent only once the shipment
//!   is committed and flushed); a command whose
//!   `expires` passed is refused ([`commands::parse_at`]). A command is acknowledged to the
//!   broker (manual PUBACK) only after its result was handed to the client, so a command the
//!   daemon dies before handling is delivered again on the persistent session; handling one
//!   twice changes nothing (an `asn` repeated with the same content is `"new": false`);
//! - on any connection error drops the connection and reconnects after the pause its
//!   [`Reconnect`] policy gives (growing while connections die young, at least
//!   [`super::session::TAKEOVER_PAUSE`] after a takeover, each cause logged once per streak and
//!   counted); unacknowledged entries are simply fetched and sent again.
//!
//! It only ever calls `try_publish`, never an awaiting publish, so it cannot deadlock with its
//! own event loop. Safe terminal state (after `cancel` and the engine's final commit): every
//! entry the broker acknowledged is deleted, the rest stay in the outbox on disk, `offline` was
//! published (retained) when a connection was up, and the connection was closed cleanly.

use super::commands::EngineCommand;
use super::connect::{self, INFLIGHT_WINDOW};
use super::epcis::EpcisMapping;
use super::inflight::{InFlight, Sent};
use super::session::Reconnect;
use super::status::{Presence, StatusDoc};
use super::{OutboxRequest, SnapshotBoard};
use crate::config::MqttConfig;
use crate::health::PipelineState;
use crate::store::OutboxEntry;
use rumqttc::Outgoing;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Filter, Packet, Publish, RetainForwardRule};
use rumqttc::v5::{AsyncClient, ConnectionError, Event, EventLoop};
use shelfd_core::commands::{self, Command, CommandError, CommandResult};
use shelfd_core::topics::{Topic, Topics};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Outbox entries fetched from the store per request.
const FETCH_BATCH: usize = 512;
/// How often the retained `online` status is refreshed with current outbox figures.
const STATUS_REFRESH: Duration = Duration::from_secs(30);
/// After shutdown starts, how long the publisher keeps draining before it gives up (the rest
/// stays in the outbox for the next start).
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Most commands waiting for room in the engine's channel; more are refused as busy (the
/// broker's in-flight window normally keeps far fewer unacknowledged).
const MAX_WAITING_COMMANDS: usize = 1024;
/// How long the publisher waits for the DISCONNECT to go out.
const DISCONNECT_WAIT: Duration = Duration::from_secs(2);

/// Everything the publisher needs.
pub struct Publisher {
    /// `[mqtt]` of the config.
    pub mqtt: MqttConfig,
    /// This gateway's topics.
    pub topics: Topics,
    /// The presence document of this run.
    pub status: StatusDoc,
    /// Requests to the store's owner.
    pub outbox: mpsc::Sender<OutboxRequest>,
    /// New events, outbox figures and the engine's end.
    pub state: watch::Receiver<PipelineState>,
    /// Retained snapshots.
    pub board: Arc<SnapshotBoard>,
    /// Connection state for status views and metrics.
    pub connected: Arc<std::sync::atomic::AtomicBool>,
    /// Commands that need the engine (`asn`), to the engine thread.
    pub engine: mpsc::Sender<EngineCommand>,
    /// Publish latency is recorded here.
    pub metrics: Arc<crate::ops::metrics::Metrics>,
    /// EPCIS documents to publish with the events; `None` when `[epcis]` is off.
    pub epcis: Option<EpcisMapping>,
}

/// Why one connection ended.
enum ConnectionEnd {
    /// Broker unreachable, refused or lost (with rumqttc's error, when it gave one): reconnect
    /// after a backoff.
    Lost(Option<ConnectionError>),
    /// Shutdown finished.
    Stopped,
}

/// Runs until `cancel` and the engine's final commit, then stops as the module docs say.
pub async fn run_publisher(mut p: Publisher, cancel: CancellationToken) {
    let mut reconnect = Reconnect::default();
    loop {
        let mut up = Duration::ZERO;
        let error = match connection(&mut p, &cancel, &mut up).await {
            ConnectionEnd::Stopped => return,
            ConnectionEnd::Lost(error) => error,
        };
        p.connected
            .store(false, std::sync::atomic::Ordering::Relaxed);
        if cancel.is_cancelled() && wait_engine_done(&mut p).await {
            // Stopping while the broker is away: the outbox keeps the rest.
            tracing::info!("publisher stopped while disconnected; outbox kept on disk");
            return;
        }
        let broker = p.mqtt.url.to_string();
        let (cause, delay) = reconnect.ended(error.as_ref(), up, &broker, &p.mqtt.client_id);
        p.metrics.count_mqtt_disconnect(cause);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = cancel.cancelled() => {}
        }
    }
}

/// Waits (briefly) for the engine's final commit; true when it is done, or when the engine
/// thread is gone (it failed: nothing will ever be committed again, so waiting or reconnecting
/// is pointless and would spin).
async fn wait_engine_done(p: &mut Publisher) -> bool {
    let wait = p.state.wait_for(|s| s.engine_done);
    matches!(
        tokio::time::timeout(STOP_GRACE, wait).await,
        Ok(Ok(_) | Err(_))
    )
}

/// One publish request the client has not accepted yet (its channel was full).
struct Pending {
    topic: String,
    payload: Vec<u8>,
    retain: bool,
}

/// A request for the client's channel that is not an outbox publish, kept in order: a command's
/// manual PUBACK follows its result.
enum Queued {
    /// A status, snapshot or command-result publish.
    Publish(Pending),
    /// The PUBACK of a handled command.
    Ack(Publish),
}

/// The state of one connection.
struct Conn {
    client: AsyncClient,
    inflight: InFlight,
    connected: bool,
    /// Non-outbox publishes and command acknowledgements waiting for room in the client's
    /// channel.
    others: VecDeque<Queued>,
    /// Outbox entries fetched, not yet handed to the client.
    staged: VecDeque<OutboxEntry>,
    /// The EPCIS document (seq, payload) of an entry whose event the client accepted but whose
    /// document did not fit in its channel yet; it goes out before any further entry.
    epcis_pending: Option<(u64, Vec<u8>)>,
    /// Highest outbox seq fetched on this connection.
    cursor: u64,
    /// A fetch in progress, with the last committed seq when it was asked.
    fetching: Option<(u64, oneshot::Receiver<Vec<OutboxEntry>>)>,
    acks: Vec<u64>,
    /// Commands handed to the engine thread, each resolving to `(op, result, the command's
    /// message to acknowledge)`.
    replies: JoinSet<(String, CommandResult, Publish)>,
    /// When the CONNACK arrived.
    connected_at: Option<Instant>,
    /// Commands for the engine thread waiting for room in its channel, oldest first, with
    /// their op and message.
    engine_queue: VecDeque<(String, Command, Publish)>,
    /// When each QoS 1 packet went on the wire, for the publish latency metric.
    sent_at: std::collections::HashMap<u16, Instant>,
}

/// One connection, from CONNECT to its end; `up` is set to how long it was up after its
/// CONNACK.
async fn connection(
    p: &mut Publisher,
    cancel: &CancellationToken,
    up: &mut Duration,
) -> ConnectionEnd {
    let options = match connect::mqtt_options(&p.mqtt, &p.topics, &p.status) {
        Ok(o) => o,
        Err(e) => {
            // Files can be fixed while we run (certificates renewed): keep retrying.
            tracing::error!(error = %e, "cannot build the MQTT connection");
            return ConnectionEnd::Lost(None);
        }
    };
    let (client, eventloop) = AsyncClient::new(options, usize::from(INFLIGHT_WINDOW));
    let (ev_tx, mut events) = mpsc::channel(256);
    let poller = tokio::spawn(poll_events(eventloop, ev_tx));
    let mut c = Conn {
        client,
        inflight: InFlight::default(),
        connected: false,
        others: VecDeque::new(),
        staged: VecDeque::new(),
        epcis_pending: None,
        cursor: 0,
        fetching: None,
        acks: Vec::new(),
        replies: JoinSet::new(),
        connected_at: None,
        engine_queue: VecDeque::new(),
        sent_at: std::collections::HashMap::new(),
    };
    let mut stop_at: Option<Instant> = None;
    let mut status_tick = tokio::time::interval(STATUS_REFRESH);
    status_tick.tick().await;
    let end = loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(Ok(event)) => handle_event(p, &mut c, event),
                Some(Err(e)) => break ConnectionEnd::Lost(Some(e)),
                None => break ConnectionEnd::Lost(None),
            },
            entries = async { (&mut c.fetching.as_mut().expect("invariant: guarded by is_some").1).await },
                if c.fetching.is_some() => {
                let asked_at = c.fetching.take().map_or(0, |(seq, _)| seq);
                if let Ok(entries) = entries {
                    // An empty answer means everything up to the seq known when asking is
                    // gone (acknowledged or dropped).
                    c.cursor = entries.last().map_or(asked_at, |e| e.seq).max(c.cursor);
                    c.staged.extend(entries);
                }
            }
            Some(joined) = c.replies.join_next(), if !c.replies.is_empty() => {
                if let Ok((op, result, msg)) = joined {
                    queue_result(p, &mut c, op, &result);
                    c.others.push_back(Queued::Ack(msg));
                }
            }
            changed = p.state.changed() => {
                if changed.is_err() && stop_at.is_none() {
                    // The engine side is gone: nothing more will come.
                    stop_at = Some(Instant::now() + STOP_GRACE);
                }
            }
            _ = p.board.changed() => {
                if c.connected {
                    for (location, payload) in p.board.take_changed() {
                        queue_snapshot(p, &mut c, location, payload);
                    }
                }
            }
            _ = status_tick.tick() => {
                if c.connected {
                    queue_status(p, &mut c);
                }
            }
            _ = cancel.cancelled(), if stop_at.is_none() => {
                if !c.connected {
                    // Nothing can be delivered: the outbox keeps everything.
                    break ConnectionEnd::Lost(None);
                }
                stop_at = Some(Instant::now() + STOP_GRACE);
            }
            _ = sleep_until_opt(stop_at) => {
                tracing::warn!(
                    unacked = c.inflight.outstanding(),
                    "shutdown grace over; unacknowledged events stay in the outbox"
                );
                break ConnectionEnd::Stopped;
            }
        }
        if let Err(end) = pump(p, &mut c).await {
            break end;
        }
        if stop_at.is_some() && drained(p, &c) {
            break ConnectionEnd::Stopped;
        }
    };
    let end = match end {
        ConnectionEnd::Stopped if c.connected => {
            say_goodbye(p, &mut c, &mut events).await;
            ConnectionEnd::Stopped
        }
        // Stopping before the broker ever answered: behave like a lost connection so the
        // caller decides (it returns at once when the engine is done).
        ConnectionEnd::Stopped => ConnectionEnd::Lost(None),
        lost => lost,
    };
    *up = c.connected_at.map_or(Duration::ZERO, |at| at.elapsed());
    flush_acks(p, &mut c).await;
    poller.abort();
    end
}

/// Everything was delivered and the engine will produce nothing more.
fn drained(p: &Publisher, c: &Conn) -> bool {
    let state = *p.state.borrow();
    state.engine_done
        && c.connected
        && c.staged.is_empty()
        && c.epcis_pending.is_none()
        && c.fetching.is_none()
        && c.inflight.outstanding() == 0
        && c.inflight.unacked_entries() == 0
        && c.cursor >= state.last_seq
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn poll_events(mut eventloop: EventLoop, tx: mpsc::Sender<Result<Event, ConnectionError>>) {
    loop {
        let event = eventloop.poll().await;
        let failed = event.is_err();
        if tx.send(event).await.is_err() || failed {
            return;
        }
    }
}

fn handle_event(p: &mut Publisher, c: &mut Conn, event: Event) {
    match event {
        Event::Incoming(Packet::ConnAck(ack)) => {
            // rumqttc ends the connection with an error on a refusing CONNACK.
            tracing::info!(
                broker = %p.mqtt.url,
                session_present = ack.session_present,
                "connected to the broker"
            );
            c.connected = true;
            c.connected_at = Some(Instant::now());
            p.connected
                .store(true, std::sync::atomic::Ordering::Relaxed);
            // Also when the session is present: subscribing again is harmless (retained
            // messages are never forwarded) and repairs a session that lost it.
            let mut filter = Filter::new(p.topics.command_filter(), QoS::AtLeastOnce);
            filter.retain_forward_rule = RetainForwardRule::Never;
            filter.nolocal = true;
            if let Err(e) = c.client.try_subscribe_many([filter]) {
                tracing::warn!(error = %e, "cannot subscribe to commands");
            }
            queue_status(p, c);
            for (location, payload) in p.board.take_all() {
                queue_snapshot(p, c, location, payload);
            }
        }
        Event::Outgoing(Outgoing::Publish(pkid)) => {
            if let Some(Sent::Outbox { .. }) = c.inflight.on_outgoing_publish(pkid) {
                if pkid != 0 {
                    c.sent_at.insert(pkid, Instant::now());
                }
            }
        }
        Event::Incoming(Packet::PubAck(ack)) => {
            // Every outbox packet's round trip counts, also one of an entry still waiting for
            // its other packets.
            if let Some(at) = c.sent_at.remove(&ack.pkid) {
                p.metrics.publish_latency.observe(at.elapsed());
            }
            if let Some(seq) = c.inflight.on_puback(ack.pkid) {
                c.acks.push(seq);
            }
        }
        Event::Incoming(Packet::Publish(msg)) => handle_command(p, c, msg),
        _ => {}
    }
}

fn handle_command(p: &mut Publisher, c: &mut Conn, msg: Publish) {
    let topic = String::from_utf8_lossy(&msg.topic).into_owned();
    let Some(Topic::Cmd(op)) = p.topics.parse(&topic) else {
        tracing::debug!(%topic, "ignoring a message on a topic that is not a command");
        c.others.push_back(Queued::Ack(msg));
        return;
    };
    if msg.retain {
        tracing::warn!(%topic, "ignoring a retained command (send commands unretained)");
        c.others.push_back(Queued::Ack(msg));
        return;
    }
    let now = shelfd_core::timefmt::now_ms();
    let result = match commands::parse_at(&op, &msg.payload, now) {
        Ok(Command::Ping { id }) => {
            let mut detail = serde_json::Map::new();
            detail.insert("version".into(), env!("CARGO_PKG_VERSION").into());
            detail.insert(
                "time".into(),
                shelfd_core::timefmt::rfc3339_ms(shelfd_core::timefmt::now_ms()).into(),
            );
            CommandResult::ok(&op, &id, detail)
        }
        Ok(Command::Resync { id }) => {
            let all = p.board.take_all();
            let mut detail = serde_json::Map::new();
            detail.insert("snapshots".into(), all.len().into());
            for (location, payload) in all {
                queue_snapshot(p, c, location, payload);
            }
            CommandResult::ok(&op, &id, detail)
        }
        Ok(command @ Command::Asn { .. }) => {
            if c.engine_queue.len() >= MAX_WAITING_COMMANDS {
                CommandResult::error(
                    &op,
                    &CommandError::rejected(
                        Some(command.id()),
                        format!(
                            "{MAX_WAITING_COMMANDS} commands are already waiting for the engine; send it again"
                        ),
                    ),
                )
            } else {
                // In arrival order: behind any command still waiting for room.
                c.engine_queue.push_back((op, command, msg));
                feed_engine(p, c);
                return;
            }
        }
        Err(e) => {
            tracing::warn!(op = %op, error = %e, "rejected a command");
            CommandResult::error(&op, &e)
        }
    };
    queue_result(p, c, op, &result);
    c.others.push_back(Queued::Ack(msg));
}

/// Hands the commands waiting for the engine to the engine thread, oldest first, as long as
/// its channel has room (a burst of commands queued at the broker while the gateway was
/// offline waits here instead of being refused as busy); each one's result is queued, and its
/// message acknowledged, when it comes back.
fn feed_engine(p: &Publisher, c: &mut Conn) {
    while let Some((op, command, msg)) = c.engine_queue.pop_front() {
        let id = command.id().to_owned();
        let (reply, outcome) = oneshot::channel();
        match p.engine.try_send(EngineCommand { command, reply }) {
            Ok(()) => {
                c.replies.spawn(async move {
                    let result = match outcome.await {
                        Ok(Ok(detail)) => CommandResult::ok(&op, &id, detail),
                        Ok(Err(e)) => {
                            tracing::warn!(op = %op, error = %e, "rejected a command");
                            CommandResult::error(&op, &e)
                        }
                        Err(_) => CommandResult::error(
                            &op,
                            &CommandError::rejected(
                                Some(&id),
                                "the daemon is stopping; send it again",
                            ),
                        ),
                    };
                    (op, result, msg)
                });
            }
            Err(mpsc::error::TrySendError::Full(EngineCommand { command, .. })) => {
                c.engine_queue.push_front((op, command, msg));
                return;
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                let e = CommandError::rejected(Some(&id), "the daemon is stopping; send it again");
                queue_result(p, c, op.clone(), &CommandResult::error(&op, &e));
                c.others.push_back(Queued::Ack(msg));
            }
        }
    }
}

fn queue_result(p: &Publisher, c: &mut Conn, op: String, result: &CommandResult) {
    c.others.push_back(Queued::Publish(Pending {
        topic: p.topics.build(&Topic::CmdResult(op)),
        payload: result.to_json().into_bytes(),
        retain: false,
    }));
}

fn queue_status(p: &mut Publisher, c: &mut Conn) {
    let state = *p.state.borrow();
    p.status.outbox = state.outbox;
    c.others.push_back(Queued::Publish(Pending {
        topic: p.topics.build(&Topic::Status),
        payload: p.status.to_json(Presence::Online).into_bytes(),
        retain: true,
    }));
}

fn queue_snapshot(p: &Publisher, c: &mut Conn, location: String, payload: String) {
    c.others.push_back(Queued::Publish(Pending {
        topic: p.topics.build(&Topic::Stock(location)),
        payload: payload.into_bytes(),
        retain: true,
    }));
}

/// Hands the client whatever fits, fetches more outbox entries when the stage runs low, and
/// forwards acknowledgements. Fails only when the store's owner is gone.
async fn pump(p: &mut Publisher, c: &mut Conn) -> Result<(), ConnectionEnd> {
    flush_acks(p, c).await;
    feed_engine(p, c);
    if !c.connected {
        return Ok(());
    }
    while let Some(front) = c.others.front() {
        let ok = match front {
            Queued::Publish(front) => c
                .client
                .try_publish(
                    front.topic.as_str(),
                    QoS::AtLeastOnce,
                    front.retain,
                    front.payload.clone(),
                )
                .is_ok(),
            Queued::Ack(msg) => c.client.try_ack(msg).is_ok(),
        };
        if !ok {
            return Ok(());
        }
        if let Some(Queued::Publish(_)) = c.others.pop_front() {
            c.inflight.requested(Sent::Other);
        }
    }
    if let Some((seq, document)) = c.epcis_pending.take() {
        publish_epcis(p, c, seq, document);
    }
    while c.epcis_pending.is_none() && c.inflight.outstanding() < usize::from(INFLIGHT_WINDOW) {
        let Some(entry) = c.staged.pop_front() else {
            break;
        };
        let topic = p.topics.build(&Topic::Event(entry.kind));
        let document = epcis_document(p, &entry);
        let packets = if document.is_some() { 2 } else { 1 };
        match c
            .client
            .try_publish(topic, QoS::AtLeastOnce, false, entry.payload.clone())
        {
            Ok(()) => c.inflight.requested(Sent::Outbox {
                seq: entry.seq,
                packets,
            }),
            Err(_) => {
                c.staged.push_front(entry);
                break;
            }
        }
        if let Some(document) = document {
            publish_epcis(p, c, entry.seq, document);
        }
    }
    let last_seq = p.state.borrow().last_seq;
    if c.fetching.is_none() && c.staged.len() < FETCH_BATCH / 2 && last_seq > c.cursor {
        let (reply, rx) = oneshot::channel();
        let asked_at = last_seq;
        let request = OutboxRequest::Fetch {
            after: c.cursor,
            limit: FETCH_BATCH,
            reply,
        };
        if p.outbox.send(request).await.is_err() {
            return Err(ConnectionEnd::Stopped);
        }
        c.fetching = Some((asked_at, rx));
    }
    Ok(())
}

/// The EPCIS document of an outbox entry, when EPCIS output is on and the event has one. A
/// payload that cannot be mapped (a location gone from the config) is logged and its event
/// goes out alone.
fn epcis_document(p: &Publisher, entry: &OutboxEntry) -> Option<Vec<u8>> {
    let mapping = p.epcis.as_ref()?;
    if !super::epcis::has_document(entry.kind) {
        return None;
    }
    match mapping.document(&entry.payload) {
        Ok(document) => document.map(String::into_bytes),
        Err(e) => {
            tracing::warn!(seq = entry.seq, error = %e, "no EPCIS document for this event; publishing the event alone");
            None
        }
    }
}

/// Hands the EPCIS document of entry `seq` (whose event was accepted) to the client, or keeps
/// it pending when the client's channel is full.
fn publish_epcis(p: &Publisher, c: &mut Conn, seq: u64, document: Vec<u8>) {
    let topic = p.topics.build(&Topic::Epcis);
    match c
        .client
        .try_publish(topic, QoS::AtLeastOnce, false, document.clone())
    {
        Ok(()) => c.inflight.requested(Sent::Outbox { seq, packets: 2 }),
        Err(_) => c.epcis_pending = Some((seq, document)),
    }
}

async fn flush_acks(p: &Publisher, c: &mut Conn) {
    if !c.acks.is_empty() {
        let acks = std::mem::take(&mut c.acks);
        // The store's owner outlives the publisher; if it is gone the acks are moot (the
        // entries are resent and deduplicated downstream).
        let _ = p.outbox.send(OutboxRequest::Ack(acks)).await;
    }
}

/// Publishes the retained `offline` status and disconnects cleanly, waiting briefly for the
/// DISCONNECT to go out (and for PUBACKs still arriving, which are forwarded).
async fn say_goodbye(
    p: &mut Publisher,
    c: &mut Conn,
    events: &mut mpsc::Receiver<Result<Event, ConnectionError>>,
) {
    let offline = p.status.to_json(Presence::Offline);
    let status_topic = p.topics.build(&Topic::Status);
    if c.client
        .try_publish(status_topic, QoS::AtLeastOnce, true, offline)
        .is_err()
        || c.client.try_disconnect().is_err()
    {
        tracing::warn!("could not queue the offline status and disconnect");
        return;
    }
    let deadline = Instant::now() + DISCONNECT_WAIT;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(Ok(Event::Outgoing(Outgoing::Disconnect)))) => {
                tracing::info!("published offline status and disconnected");
                return;
            }
            Ok(Some(Ok(Event::Incoming(Packet::PubAck(ack))))) => {
                if let Some(seq) = c.inflight.on_puback(ack.pkid) {
                    c.acks.push(seq);
                }
            }
            Ok(Some(Ok(Event::Outgoing(Outgoing::Publish(pkid))))) => {
                c.inflight.on_outgoing_publish(pkid);
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) | Err(_) => return,
        }
    }
}
