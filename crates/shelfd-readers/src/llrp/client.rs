//! The LLRP client session of one reader ([`LlrpSession`]) on the one link lifecycle
//! ([`run_llrp_reader`]: [`crate::link::run_link`] over a [`TcpConnector`]), and the pure plan of
//! what shelfd sets on a reader given its capabilities ([`plan`]).
//!
//! Per connection: wait for the reader's READER_EVENT_NOTIFICATION with a
//! ConnectionAttemptEvent (anything but Success — another client holds the reader — ends the
//! connection with that reason, and the lifecycle backs off); ENABLE_EVENTS_AND_REPORTS (reports
//! the reader held while we were away arrive now, in order); GET_SUPPORTED_VERSION (an
//! ERROR_MESSAGE answer means LLRP 1.0.1, which shelfd speaks either way);
//! GET_READER_CAPABILITIES (identity, antennas, power and mode tables: logged once, put in the
//! reader's health for status and metrics); Impinj readers: IMPINJ_ENABLE_EXTENSIONS;
//! SET_READER_CONFIG (optionally reset to factory defaults; keepalive, events, report spec,
//! hold reports on reconnect where supported); DELETE_ROSPEC 0; ADD_ROSPEC; ENABLE_ROSPEC;
//! START_ROSPEC; then `Link{Up}` and the inventory. The whole configuration is applied again on
//! every connection.
//!
//! While connected: RO_ACCESS_REPORT → reads (fields a reader omits because they did not change
//! are carried forward from the previous tag report of this connection; reader timestamps are
//! mapped to gateway time through the clock offset seen at connect, so held reads keep their
//! place in time and go through the engine's late-read rules; a read is never stamped in the
//! future); KEEPALIVE → KEEPALIVE_ACK with the same message id; every message is proof of
//! life (`Link{Alive}`). No message for two keepalive periods (plus a margin), a dead socket,
//! a message over the maximum size or a broken header ends the connection. A clean stop writes
//! DELETE_ROSPEC and CLOSE_CONNECTION.
//!
//! It owns the conversation only: opening, backoff and link-down records are the lifecycle's,
//! and it never maps antennas to locations (it drops reads of antennas not configured).

use super::codec::{FramingError, MessageStream, RawMessage};
use super::message::{Message, Reply, RoSpecOp, impinj};
use super::params::{
    AiSpec, AntennaConfig, Capabilities, ContentSelector, Gen2Inventory, InventorySpec,
    ReaderConfigUpdate, ReaderEvent, ReportSpec, RoSpec, Singulation, Status, TagData, Timestamp,
    Transmitter, connection, event_type,
};
use crate::kinds::SearchMode;
use crate::link::{
    Counter, LinkContext, LinkPolicy, ReaderHealth, ReaderIdentity, Session, SessionEnd,
    TcpConnector, Watchdog, WatchdogAction, run_link,
};
use shelfd_core::readlog::{Record, TagRead};
use shelfd_core::timefmt::now_ms;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The ROSpecID shelfd uses.
pub const ROSPEC_ID: u32 = 0x5e1f;
/// How long a request waits for its response.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long GET_SUPPORTED_VERSION waits before shelfd assumes LLRP 1.0.1.
pub const VERSION_TIMEOUT: Duration = Duration::from_secs(3);
/// Added to two keepalive periods before a silent reader counts as gone.
pub const KEEPALIVE_MARGIN: Duration = Duration::from_secs(2);
/// Default keepalive period.
pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(30);
/// Reads whose reader time maps to more than this before now are stamped this far back.
pub const MAX_READ_AGE: Duration = Duration::from_secs(3600);

const READ_CHUNK: usize = 16 * 1024;

/// Inventory settings (all optional: unset means the reader's own default).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InventorySettings {
    /// Gen2 session 0..=3.
    pub session: Option<u8>,
    /// Impinj search mode.
    pub search_mode: SearchMode,
    /// Expected tag population.
    pub population: Option<u16>,
    /// Mode identifier from the reader's Gen2 mode table.
    pub rf_mode: Option<u32>,
    /// Transmit power for every antenna, dBm.
    pub power_dbm: Option<f64>,
    /// Transmit power of single antennas, dBm (overrides `power_dbm`).
    pub antenna_power_dbm: BTreeMap<u16, f64>,
}

/// What an LLRP reader's session needs (the daemon builds it from its config).
#[derive(Debug, Clone, PartialEq)]
pub struct LlrpSettings {
    /// Reader id.
    pub id: String,
    /// `host:port`.
    pub address: String,
    /// Antenna ports in use, ascending (reads of others are dropped). Empty: every antenna
    /// of the reader (AntennaID 0), every read kept (`shelfd llrp probe`).
    pub antennas: Vec<u16>,
    /// Inventory settings.
    pub inventory: InventorySettings,
    /// Keepalive period asked of the reader.
    pub keepalive: Duration,
    /// Reset the reader to factory defaults before configuring it (shelfd owns its ROSpecs).
    pub reset_to_factory: bool,
    /// Largest message accepted.
    pub max_message_bytes: usize,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
}

impl LlrpSettings {
    /// Settings with the documented defaults for reader `id` at `address`.
    pub fn new(id: impl Into<String>, address: impl Into<String>, antennas: Vec<u16>) -> Self {
        LlrpSettings {
            id: id.into(),
            address: address.into(),
            antennas,
            inventory: InventorySettings::default(),
            keepalive: DEFAULT_KEEPALIVE,
            reset_to_factory: true,
            max_message_bytes: super::codec::DEFAULT_MAX_MESSAGE,
            connect_timeout: TcpConnector::DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

/// Why the configuration cannot be applied to this reader (names the offending value and
/// what the reader allows).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A power outside the reader's table.
    #[error(
        "power_dbm {requested} for antenna {antenna} is outside the reader's power table ({min}..={max} dBm)"
    )]
    Power {
        /// Antenna.
        antenna: u16,
        /// Requested, as written.
        requested: String,
        /// Lowest in the table.
        min: String,
        /// Highest in the table.
        max: String,
    },
    /// A power is configured but the reader reports no power table.
    #[error("power_dbm is set but the reader reports no power table")]
    NoPowerTable,
    /// A mode not in the reader's mode table.
    #[error("rf_mode {requested} is not in the reader's mode table (modes: {modes})")]
    Mode {
        /// Requested.
        requested: u32,
        /// The table's identifiers.
        modes: String,
    },
    /// An antenna the reader does not have.
    #[error("antenna {antenna} is not on this reader (it has {count} antenna ports)")]
    Antenna {
        /// Antenna.
        antenna: u16,
        /// Ports the reader has.
        count: u16,
    },
}

/// What shelfd sends to configure a reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// SET_READER_CONFIG.
    pub config: ReaderConfigUpdate,
    /// ADD_ROSPEC.
    pub rospec: RoSpec,
    /// The reader is an Impinj reader (extensions are used).
    pub impinj: bool,
}

fn format_cdbm(c: i16) -> String {
    format!("{:.2}", f64::from(c) / 100.0)
}

/// The table index of the power closest to `dbm`, or the error naming the table's range.
fn power_index(caps: &Capabilities, antenna: u16, dbm: f64) -> Result<u16, PlanError> {
    let table = caps
        .regulatory
        .as_ref()
        .map(|r| r.power_levels.as_slice())
        .unwrap_or(&[]);
    let (Some(min), Some(max)) = (
        table.iter().map(|p| p.centi_dbm).min(),
        table.iter().map(|p| p.centi_dbm).max(),
    ) else {
        return Err(PlanError::NoPowerTable);
    };
    let want = (dbm * 100.0).round();
    if !(f64::from(min)..=f64::from(max)).contains(&want) {
        return Err(PlanError::Power {
            antenna,
            requested: format!("{dbm}"),
            min: format_cdbm(min),
            max: format_cdbm(max),
        });
    }
    let best = table
        .iter()
        .min_by(|a, b| {
            let da = (f64::from(a.centi_dbm) - want).abs();
            let db = (f64::from(b.centi_dbm) - want).abs();
            da.total_cmp(&db).then(a.centi_dbm.cmp(&b.centi_dbm))
        })
        .expect("invariant: the table is not empty (it has a min)");
    Ok(best.index)
}

/// The configuration and ROSpec for `settings` on a reader with `caps`: continuous inventory
/// (start on START_ROSPEC, no stop trigger) on the configured antennas in one AISpec with one
/// InventoryParameterSpec (Zebra and Impinj allow one per AISpec), one report per tag read
/// (ROReportTrigger 2, N = 1) with AntennaID, PeakRSSI, FirstSeen and TagSeenCount, Impinj
/// peak RSSI in hundredths of a dBm and the search mode on Impinj readers.
pub fn plan(settings: &LlrpSettings, caps: &Capabilities) -> Result<Plan, PlanError> {
    let impinj = caps
        .general
        .as_ref()
        .is_some_and(|g| g.manufacturer == impinj::VENDOR);
    if let Some(g) = &caps.general {
        if g.max_antennas > 0 {
            if let Some(&antenna) = settings.antennas.iter().find(|&&a| a > g.max_antennas) {
                return Err(PlanError::Antenna {
                    antenna,
                    count: g.max_antennas,
                });
            }
        }
    }
    let inv = &settings.inventory;
    if let Some(mode) = inv.rf_mode {
        let modes: Vec<u32> = caps
            .regulatory
            .as_ref()
            .map(|r| r.modes.iter().map(|m| m.id).collect())
            .unwrap_or_default();
        if !modes.contains(&mode) || mode > u32::from(u16::MAX) {
            let list: Vec<String> = modes.iter().map(u32::to_string).collect();
            return Err(PlanError::Mode {
                requested: mode,
                modes: list.join(", "),
            });
        }
    }
    let hop_table = caps
        .regulatory
        .as_ref()
        .and_then(|r| r.hop_tables.first().map(|(id, _)| u16::from(*id)))
        .unwrap_or(1);
    let mut antennas = Vec::new();
    for &antenna in &settings.antennas {
        let power = inv
            .antenna_power_dbm
            .get(&antenna)
            .copied()
            .or(inv.power_dbm);
        let transmitter = match power {
            Some(dbm) => Some(Transmitter {
                hop_table,
                channel_index: 1,
                power_index: power_index(caps, antenna, dbm)?,
            }),
            None => None,
        };
        let singulation =
            (inv.session.is_some() || inv.population.is_some()).then(|| Singulation {
                session: inv.session.unwrap_or(1),
                population: inv.population.unwrap_or(32),
                transit_ms: 0,
            });
        let mut custom = Vec::new();
        if impinj && inv.search_mode != SearchMode::ReaderDefault {
            custom.push(impinj::search_mode(inv.search_mode.impinj_value()));
        }
        let rf_control = inv.rf_mode.map(|m| (m as u16, 0));
        let inventory = (rf_control.is_some() || singulation.is_some() || !custom.is_empty())
            .then_some(Gen2Inventory {
                state_aware: false,
                rf_control,
                singulation,
                custom,
            });
        if transmitter.is_some() || inventory.is_some() {
            antennas.push(AntennaConfig {
                antenna,
                transmitter,
                inventory,
            });
        }
    }
    let report = ReportSpec {
        trigger: 2,
        n: 1,
        content: ContentSelector(
            ContentSelector::ANTENNA_ID
                | ContentSelector::PEAK_RSSI
                | ContentSelector::FIRST_SEEN
                | ContentSelector::TAG_SEEN_COUNT,
        ),
        custom: if impinj {
            vec![impinj::peak_rssi_selector()]
        } else {
            Vec::new()
        },
    };
    let holds = caps
        .llrp
        .as_ref()
        .is_some_and(|l| l.supports_event_and_report_holding);
    let config = ReaderConfigUpdate {
        reset_to_factory: settings.reset_to_factory,
        events: vec![
            (event_type::ROSPEC, true),
            (event_type::REPORT_BUFFER_FILL_WARNING, true),
            (event_type::READER_EXCEPTION, true),
            (event_type::ANTENNA, true),
        ],
        report: Some(report.clone()),
        keepalive_ms: Some(u32::try_from(settings.keepalive.as_millis()).unwrap_or(u32::MAX)),
        hold_events_and_reports: holds.then_some(true),
        custom: Vec::new(),
    };
    let rospec = RoSpec {
        id: ROSPEC_ID,
        priority: 0,
        current_state: 0,
        start_trigger: 0,
        stop_trigger: 0,
        stop_duration_ms: 0,
        ai_specs: vec![AiSpec {
            antennas: if settings.antennas.is_empty() {
                vec![0]
            } else {
                settings.antennas.clone()
            },
            stop_trigger: 0,
            stop_duration_ms: 0,
            inventory: vec![InventorySpec {
                id: 1,
                protocol: 1,
                antennas,
            }],
        }],
        report: Some(report),
    };
    Ok(Plan {
        config,
        rospec,
        impinj,
    })
}

/// The identity a reader's capabilities describe.
pub fn identity(caps: &Capabilities, llrp_version: u8) -> ReaderIdentity {
    let mut id = ReaderIdentity {
        llrp_version,
        ..ReaderIdentity::default()
    };
    if let Some(g) = &caps.general {
        id.vendor = vendor_name(g.manufacturer);
        id.manufacturer = g.manufacturer;
        id.model = g.model;
        id.firmware = g.firmware.clone();
        id.antennas = g.max_antennas;
    }
    if let Some(r) = &caps.regulatory {
        if let Some((min, max)) = r.power_range() {
            (id.power_min_cdbm, id.power_max_cdbm) = (min, max);
        }
        id.power_levels = u32::try_from(r.power_levels.len()).unwrap_or(u32::MAX);
        id.modes = r.modes.iter().map(|m| m.id).collect();
    }
    id.holds_reports = caps
        .llrp
        .as_ref()
        .is_some_and(|l| l.supports_event_and_report_holding);
    id
}

/// A vendor's name from its IANA private enterprise number.
pub fn vendor_name(pen: u32) -> String {
    match pen {
        impinj::VENDOR => "impinj".into(),
        161 => "zebra".into(),
        other => format!("pen-{other}"),
    }
}

/// Maps reader timestamps to gateway time with the offset seen when the reader announced
/// the connection.
#[derive(Debug, Clone, Copy, Default)]
struct ReaderClock {
    /// Gateway ms minus reader UTC ms.
    utc_offset_ms: Option<i64>,
    /// Gateway ms minus reader uptime ms.
    uptime_offset_ms: Option<i64>,
}

impl ReaderClock {
    fn at_connect(stamp: Timestamp, gateway_ms: u64) -> Self {
        let g = gateway_ms as i64;
        match stamp {
            Timestamp::Utc(us) => ReaderClock {
                utc_offset_ms: Some(g - (us / 1000) as i64),
                uptime_offset_ms: None,
            },
            Timestamp::Uptime(us) => ReaderClock {
                utc_offset_ms: None,
                uptime_offset_ms: Some(g - (us / 1000) as i64),
            },
        }
    }

    /// Gateway time of a tag report: its last (else first) seen time through the offset,
    /// never after `now` and never more than [`MAX_READ_AGE`] before it; `now` without a
    /// usable timestamp.
    fn stamp(&self, tag: &TagData, now: u64) -> u64 {
        let mapped = match (
            tag.last_seen_utc.or(tag.first_seen_utc),
            tag.last_seen_uptime.or(tag.first_seen_uptime),
        ) {
            (Some(us), _) if self.utc_offset_ms.is_some() => {
                self.utc_offset_ms.map(|o| (us / 1000) as i64 + o)
            }
            (_, Some(us)) if self.uptime_offset_ms.is_some() => {
                self.uptime_offset_ms.map(|o| (us / 1000) as i64 + o)
            }
            _ => None,
        };
        let floor = now.saturating_sub(MAX_READ_AGE.as_millis() as u64);
        match mapped {
            Some(t) if t >= 0 => (t as u64).clamp(floor, now),
            Some(_) => floor,
            None => now,
        }
    }
}

/// Drives one LLRP reader until `cancel` fires: reads become [`Record::Read`], link changes
/// [`Record::Link`], all sent to `sink`; counters and the reader's identity go to `health`.
pub async fn run_llrp_reader(
    settings: LlrpSettings,
    sink: mpsc::Sender<Record>,
    health: Arc<ReaderHealth>,
    cancel: CancellationToken,
) {
    let connector = TcpConnector::new(settings.address.clone(), settings.connect_timeout);
    let mut session = LlrpSession::new(settings);
    let ctx = LinkContext::new(session.settings.id.clone(), sink, health, cancel);
    if let Err(e) = run_link(connector, &mut session, ctx, LinkPolicy::default()).await {
        tracing::error!(reader = %session.settings.id, "{e}");
    }
}

/// The conversation with one LLRP reader; spans reconnects.
#[derive(Debug)]
pub struct LlrpSession {
    settings: LlrpSettings,
    /// The last value of every field, carried into tag reports that omit it.
    carry: TagData,
    clock: ReaderClock,
    next_id: u32,
    /// The identity logged last (logged again only when it changes).
    logged: Option<ReaderIdentity>,
    /// What the reader reported on the last connection.
    capabilities: Option<Capabilities>,
    /// Message id of this connection's ENABLE_EVENTS_AND_REPORTS (which has no response; a
    /// reader without report holding may answer it with an ERROR_MESSAGE, which is harmless).
    enable_events_id: Option<u32>,
}

/// One open connection: the link, its stream decoder and the silence watchdog.
struct Conn<'a, L> {
    link: &'a mut L,
    stream: MessageStream,
    buf: Vec<u8>,
}

/// A message as received: header id and version, and its decoded form.
struct Received {
    id: u32,
    message: Message,
}

impl LlrpSession {
    /// A session for `settings`.
    pub fn new(settings: LlrpSettings) -> Self {
        LlrpSession {
            settings,
            carry: TagData::default(),
            clock: ReaderClock::default(),
            next_id: 1,
            logged: None,
            capabilities: None,
            enable_events_id: None,
        }
    }

    /// What the reader reported on the last connection (GET_READER_CAPABILITIES_RESPONSE).
    pub fn capabilities(&self) -> Option<&Capabilities> {
        self.capabilities.as_ref()
    }

    fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    fn silence_limit(&self) -> Duration {
        self.settings.keepalive * 2 + KEEPALIVE_MARGIN
    }

    async fn send<L: AsyncWrite + Unpin + Send>(
        &mut self,
        conn: &mut Conn<'_, L>,
        ctx: &LinkContext,
        message: &Message,
        version: u8,
    ) -> Result<u32, SessionEnd> {
        let id = self.id();
        let bytes = message.encode(version, id);
        let what = Message::name_of(message.kind());
        ctx.write(conn.link, &[bytes], what).await?;
        Ok(id)
    }

    /// The next message, or `None` at `deadline`.
    async fn recv<L: AsyncRead + Unpin + Send>(
        &mut self,
        conn: &mut Conn<'_, L>,
        ctx: &LinkContext,
        deadline: Instant,
    ) -> Result<Option<Received>, SessionEnd> {
        loop {
            if let Some(item) = conn.stream.next_message() {
                let (_, raw) = item.map_err(|e: FramingError| {
                    ctx.health().count(Counter::BadFrame);
                    SessionEnd::Disconnected(format!("{e}; closing the connection"))
                })?;
                match decode(&raw) {
                    Ok(message) => {
                        ctx.health().frame_at(now_ms());
                        return Ok(Some(Received {
                            id: raw.id,
                            message,
                        }));
                    }
                    Err(e) => {
                        ctx.health().count(Counter::BadFrame);
                        tracing::warn!(reader = %self.settings.id, "message skipped: {e}");
                        continue;
                    }
                }
            }
            tokio::select! {
                biased;
                _ = ctx.cancel().cancelled() => return Err(SessionEnd::Cancelled),
                read = conn.link.read(&mut conn.buf) => match read {
                    Ok(0) => return Err(SessionEnd::Disconnected("the reader closed the connection".into())),
                    Ok(n) => conn.stream.feed(&conn.buf[..n]),
                    Err(e) => return Err(SessionEnd::Disconnected(format!("read error: {e}"))),
                },
                _ = tokio::time::sleep_until(deadline) => return Ok(None),
            }
        }
    }

    /// Sends `message` and waits for its response (same message id), handling reports,
    /// keepalives and events in between; `None` when `timeout` passes first.
    async fn request_within<L: AsyncRead + AsyncWrite + Unpin + Send>(
        &mut self,
        conn: &mut Conn<'_, L>,
        ctx: &mut LinkContext,
        message: &Message,
        version: u8,
        timeout: Duration,
    ) -> Result<Option<Message>, SessionEnd> {
        let id = self.send(conn, ctx, message, version).await?;
        let deadline = Instant::now() + timeout;
        loop {
            let Some(got) = self.recv(conn, ctx, deadline).await? else {
                return Ok(None);
            };
            if got.id == id && is_response(&got.message) {
                return Ok(Some(got.message));
            }
            self.handle(conn, ctx, got).await?;
        }
    }

    /// [`Self::request_within`] [`RESPONSE_TIMEOUT`]; no answer is a disconnect.
    async fn request<L: AsyncRead + AsyncWrite + Unpin + Send>(
        &mut self,
        conn: &mut Conn<'_, L>,
        ctx: &mut LinkContext,
        message: &Message,
    ) -> Result<Message, SessionEnd> {
        let name = Message::name_of(message.kind());
        self.request_within(conn, ctx, message, 1, RESPONSE_TIMEOUT)
            .await?
            .ok_or_else(|| {
                SessionEnd::Disconnected(format!("no answer to {name} within {RESPONSE_TIMEOUT:?}"))
            })
    }

    /// Sends a command whose response is a bare LLRPStatus and requires success.
    async fn command<L: AsyncRead + AsyncWrite + Unpin + Send>(
        &mut self,
        conn: &mut Conn<'_, L>,
        ctx: &mut LinkContext,
        message: &Message,
    ) -> Result<(), SessionEnd> {
        let name = Message::name_of(message.kind());
        match self.request(conn, ctx, message).await? {
            Message::Status { status, .. } if status.is_success() => Ok(()),
            Message::Status { status, .. } => Err(SessionEnd::Disconnected(format!(
                "the reader refused {name}: {status}"
            ))),
            other => Err(SessionEnd::Disconnected(format!(
                "unexpected answer to {name}: {}",
                Message::name_of(other.kind())
            ))),
        }
    }

    /// Acts on a message that is not the response being waited for.
    async fn handle<L: AsyncWrite + Unpin + Send>(
        &mut self,
        conn: &mut Conn<'_, L>,
        ctx: &mut LinkContext,
        got: Received,
    ) -> Result<(), SessionEnd> {
        match got.message {
            Message::Keepalive => {
                let ack = Message::KeepaliveAck.encode(1, got.id);
                ctx.write(conn.link, &[ack], "KEEPALIVE_ACK").await?;
                ctx.alive().await?;
            }
            Message::RoAccessReport(tags) => {
                self.reads(ctx, tags).await?;
                ctx.alive().await?;
            }
            Message::ReaderEventNotification(event) => self.event(&event)?,
            Message::Status {
                reply: Reply::Error,
                status,
            } if Some(got.id) == self.enable_events_id => {
                tracing::debug!(reader = %self.settings.id, "ENABLE_EVENTS_AND_REPORTS not supported: {status}");
            }
            Message::Status {
                reply: Reply::Error,
                status,
            } => {
                tracing::warn!(reader = %self.settings.id, "the reader reported an error: {status}");
            }
            other => {
                tracing::debug!(reader = %self.settings.id, message = Message::name_of(other.kind()), "message ignored");
            }
        }
        Ok(())
    }

    fn event(&mut self, event: &ReaderEvent) -> Result<(), SessionEnd> {
        let reader = &self.settings.id;
        if let Some(status) = event.connection_attempt {
            if status == connection::ANOTHER_CONNECTION_ATTEMPTED {
                tracing::warn!(%reader, "another client tried to connect to this reader (refused by the reader)");
            }
        }
        if let Some(message) = &event.exception {
            tracing::warn!(%reader, "reader exception: {message:?}");
        }
        if let Some((state, antenna)) = event.antenna {
            let what = if state == 0 {
                "disconnected"
            } else {
                "connected"
            };
            tracing::warn!(%reader, antenna, "antenna {what}");
        }
        if let Some(percent) = event.buffer_warning {
            tracing::warn!(%reader, "the reader's report buffer is {percent}% full");
        }
        if event.buffer_overflow {
            tracing::warn!(%reader, "the reader's report buffer overflowed: reads were lost");
        }
        if event.connection_close {
            return Err(SessionEnd::Disconnected(
                "the reader is closing the connection (ConnectionCloseEvent)".into(),
            ));
        }
        Ok(())
    }

    async fn reads(&mut self, ctx: &LinkContext, tags: Vec<TagData>) -> Result<(), SessionEnd> {
        let now = now_ms();
        for mut tag in tags {
            carry_forward(&mut tag, &mut self.carry);
            let antenna = tag.antenna.unwrap_or(0);
            let rssi = impinj::peak_rssi_of(&tag)
                .map(|c| f32::from(c) / 100.0)
                .or(tag.peak_rssi.map(f32::from));
            let epc_ok = !tag.epc.is_empty() && tag.epc.len() % 2 == 0 && tag.epc.len() <= 62;
            let wanted =
                self.settings.antennas.is_empty() || self.settings.antennas.contains(&antenna);
            if !epc_ok || !wanted {
                ctx.health().count(Counter::DroppedRead);
                tracing::debug!(reader = %self.settings.id, antenna, epc_bytes = tag.epc.len(), "read dropped (antenna not configured, or not an EPC of whole words)");
                continue;
            }
            let read = Record::Read(TagRead {
                t: self.clock.stamp(&tag, now),
                reader: self.settings.id.clone(),
                antenna,
                epc: tag.epc,
                rssi,
            });
            ctx.send(read).await?;
            ctx.health().count(Counter::Read);
        }
        Ok(())
    }

    /// The connection's set-up (see the module docs); returns once the inventory runs.
    async fn configure<L: AsyncRead + AsyncWrite + Unpin + Send>(
        &mut self,
        conn: &mut Conn<'_, L>,
        ctx: &mut LinkContext,
    ) -> Result<(), SessionEnd> {
        let reader = self.settings.id.clone();
        // 1. The reader's verdict on this connection.
        let deadline = Instant::now() + RESPONSE_TIMEOUT;
        loop {
            let Some(got) = self.recv(conn, ctx, deadline).await? else {
                return Err(SessionEnd::Disconnected(format!(
                    "no READER_EVENT_NOTIFICATION within {RESPONSE_TIMEOUT:?} of connecting (is this an LLRP reader?)"
                )));
            };
            match got.message {
                Message::ReaderEventNotification(event) if event.connection_attempt.is_some() => {
                    let status = event.connection_attempt.unwrap_or_default();
                    if status != connection::SUCCESS {
                        return Err(SessionEnd::Disconnected(format!(
                            "the reader refused the connection: {} (ConnectionAttemptEvent status {status}); retrying with backoff",
                            connection::describe(status)
                        )));
                    }
                    self.clock = ReaderClock::at_connect(event.timestamp, now_ms());
                    break;
                }
                _ => self.handle(conn, ctx, got).await?,
            }
        }
        // 2. Reports held while we were away.
        self.send(conn, ctx, &Message::EnableEventsAndReports, 1)
            .await?;
        // 3. Version: LLRP 1.1 readers answer, 1.0.1 readers send ERROR_MESSAGE.
        let version = match self
            .request_within(conn, ctx, &Message::GetSupportedVersion, 2, VERSION_TIMEOUT)
            .await?
        {
            Some(Message::GetSupportedVersionResponse {
                current, supported, ..
            }) => {
                tracing::debug!(%reader, current, supported, "LLRP versions");
                1
            }
            _ => 1,
        };
        // 4. Capabilities.
        let caps = match self
            .request(conn, ctx, &Message::GetReaderCapabilities { requested: 0 })
            .await?
        {
            Message::GetReaderCapabilitiesResponse {
                status,
                capabilities,
            } if status.is_success() => capabilities,
            other => {
                return Err(SessionEnd::Disconnected(format!(
                    "GET_READER_CAPABILITIES failed: {}",
                    describe_answer(&other)
                )));
            }
        };
        let id = identity(&caps, version);
        if self.logged.as_ref() != Some(&id) {
            tracing::info!(
                %reader,
                vendor = %id.vendor,
                model = id.model,
                firmware = %id.firmware,
                antennas = id.antennas,
                power_dbm = %format!("{}..={}", format_cdbm(id.power_min_cdbm), format_cdbm(id.power_max_cdbm)),
                modes = ?id.modes,
                holds_reports = id.holds_reports,
                "LLRP reader identified"
            );
            self.logged = Some(id.clone());
        }
        ctx.health().set_identity(id);
        self.capabilities = Some(caps.clone());
        let plan = plan(&self.settings, &caps)
            .map_err(|e| SessionEnd::Disconnected(format!("cannot configure the reader: {e}")))?;
        // 5. Impinj extensions.
        if plan.impinj {
            let answer = self
                .request(conn, ctx, &impinj::enable_extensions())
                .await?;
            match impinj::enable_extensions_status(&answer) {
                Some(status) if status.is_success() => {}
                _ => {
                    tracing::warn!(%reader, "IMPINJ_ENABLE_EXTENSIONS failed: {}", describe_answer(&answer));
                }
            }
        }
        // 6. Reader configuration, then the ROSpec.
        self.command(conn, ctx, &Message::SetReaderConfig(plan.config))
            .await?;
        let delete = Message::RoSpec {
            op: RoSpecOp::Delete,
            id: 0,
        };
        if let Message::Status { status, .. } = self.request(conn, ctx, &delete).await? {
            if !status.is_success() {
                tracing::debug!(%reader, "DELETE_ROSPEC 0: {status}");
            }
        }
        self.command(conn, ctx, &Message::AddRoSpec(plan.rospec))
            .await?;
        for op in [RoSpecOp::Enable, RoSpecOp::Start] {
            self.command(conn, ctx, &Message::RoSpec { op, id: ROSPEC_ID })
                .await?;
        }
        Ok(())
    }
}

fn decode(raw: &RawMessage) -> Result<Message, super::message::MessageError> {
    Message::decode(raw)
}

fn describe_answer(message: &Message) -> String {
    match message {
        Message::Status { status, .. } => format!("{} {status}", Message::name_of(message.kind())),
        Message::GetReaderCapabilitiesResponse { status, .. } => status.to_string(),
        other => Message::name_of(other.kind()).to_owned(),
    }
}

fn is_response(message: &Message) -> bool {
    !matches!(
        message,
        Message::Keepalive | Message::RoAccessReport(_) | Message::ReaderEventNotification(_)
    )
}

/// Fills the fields `tag` omits from `carry`, then remembers `tag`'s fields.
pub(crate) fn carry_forward(tag: &mut TagData, carry: &mut TagData) {
    macro_rules! fields {
        ($($f:ident),*) => {$(
            match tag.$f {
                None => tag.$f = carry.$f,
                Some(v) => carry.$f = Some(v),
            }
        )*};
    }
    fields!(
        rospec_id,
        spec_index,
        inventory_parameter_spec_id,
        antenna,
        peak_rssi,
        channel_index,
        first_seen_utc,
        first_seen_uptime,
        last_seen_utc,
        last_seen_uptime,
        tag_seen_count
    );
    if impinj::peak_rssi_of(tag).is_none() {
        if let Some(c) = impinj::peak_rssi_of(carry) {
            tag.custom.push(impinj::peak_rssi(c));
        }
    } else {
        carry.custom = tag
            .custom
            .iter()
            .filter(|c| c.vendor == impinj::VENDOR && c.subtype == impinj::PEAK_RSSI)
            .cloned()
            .collect();
    }
}

impl<L: AsyncRead + AsyncWrite + Unpin + Send> Session<L> for LlrpSession {
    async fn run(&mut self, link: &mut L, ctx: &mut LinkContext) -> SessionEnd {
        self.carry = TagData::default();
        self.clock = ReaderClock::default();
        let mut conn = Conn {
            link,
            stream: MessageStream::new(self.settings.max_message_bytes),
            buf: vec![0u8; READ_CHUNK],
        };
        if let Err(end) = self.configure(&mut conn, ctx).await {
            return end;
        }
        if let Err(end) = ctx.up().await {
            return end;
        }
        tracing::info!(reader = %self.settings.id, "LLRP inventory running");
        let mut watchdog = Watchdog::new(self.silence_limit(), false);
        loop {
            let got = match self.recv(&mut conn, ctx, watchdog.deadline()).await {
                Ok(got) => got,
                Err(end) => return end,
            };
            match got {
                Some(got) => {
                    watchdog.fed();
                    if let Err(end) = self.handle(&mut conn, ctx, got).await {
                        return end;
                    }
                }
                None => {
                    if let Some(WatchdogAction::Trip { silent_for }) = watchdog.check(ctx.health())
                    {
                        return SessionEnd::Disconnected(format!(
                            "no message from the reader for {silent_for:?} (two keepalives missed)"
                        ));
                    }
                }
            }
        }
    }

    fn shutdown_commands(&mut self) -> Vec<Vec<u8>> {
        let delete = Message::RoSpec {
            op: RoSpecOp::Delete,
            id: ROSPEC_ID,
        }
        .encode(1, self.id());
        let close = Message::CloseConnection.encode(1, self.id());
        vec![delete, close]
    }
}

/// The status an answer carries (for tests and tools).
pub fn status_of(message: &Message) -> Option<&Status> {
    match message {
        Message::Status { status, .. }
        | Message::GetReaderCapabilitiesResponse { status, .. }
        | Message::GetSupportedVersionResponse { status, .. } => Some(status),
        _ => None,
    }
}
