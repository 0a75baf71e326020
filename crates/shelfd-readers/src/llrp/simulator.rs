//! A simulated LLRP reader on a loopback TCP port ([`spawn_llrp_simulator`]): the reader side
//! of LLRP 1.0.1 over real sockets, fed tag reads by the store simulator through the same
//! [`RoundSender`] as the PTY simulators ([`crate::pty_sim::play_store_sim`]).
//!
//! What it models (and the facts it uses):
//! - On accept: READER_EVENT_NOTIFICATION with ConnectionAttemptEvent Success; a second
//!   client while one is connected gets status 2 ("a client-initiated connection already
//!   exists") and is closed, and the connected client gets status 4 ("another connection
//!   attempted") — LLRP 1.0.1 ConnectionAttemptEvent.
//! - Capabilities of two vendors ([`Vendor`]): Impinj-style, from a Speedway R420's
//!   GET_READER_CAPABILITIES_RESPONSE (EdgeX device-rfid-llrp-go
//!   `testdata/GetReaderCapabilitiesResponse-000.json`: 4 antennas, 10.00–30.00 dBm in 0.25 dB
//!   steps, modes 0–4 and autoset 1000/1002–1005, one ROSpec, one InventoryParameterSpec per
//!   AISpec, report holding), LLRP 1.0.1 only (GET_SUPPORTED_VERSION → ERROR_MESSAGE
//!   M_UnsupportedVersion), Impinj extensions (peak RSSI in hundredths of a dBm, search mode);
//!   Zebra-style (PEN 161; FX9600-like: 8 ports, 10.0–31.5 dBm, 64 ROSpecs, one
//!   InventoryParameterSpec per AISpec, LLRP 1.1 answered; the model and firmware numbers are
//!   illustrative, not from a capture), which refuses Impinj custom messages, refuses ADD_ROSPEC
//!   with more than one InventoryParameterSpec in an AISpec, and leaves AntennaID out of a tag
//!   report when it did not change since the previous one (the omission EdgeX carries forward).
//! - ROSpecs: ADD (validated against the capabilities: antennas, power index, mode), ENABLE
//!   (an Immediate start trigger starts it), START, STOP, DISABLE, DELETE (0 = all); a
//!   continuous ROSpec runs until stopped, also while no client is connected.
//! - Reports per the ROSpec's (else the reader config's) ROReportSpec: every N tag reads, with
//!   the fields the content selector enables; FirstSeenTimestampUTC from the reader's clock
//!   (optionally skewed from the gateway's).
//! - Held reports: reports produced while no client is connected (or during a partition) are
//!   kept, in order, up to a bound, and sent after the next connection's ENABLE_EVENTS_AND_
//!   REPORTS (with HoldEventsAndReportsUponReconnect) or right after its greeting.
//! - KEEPALIVE at the configured period; after four unanswered the reader drops the client.
//! - Faults on command ([`LlrpSimHandle`]): drop the socket, reboot (state lost, connections
//!   refused for a while), a network partition (nothing crosses in either direction, new
//!   connections hang without a greeting), a slow reader (every message delayed and written in
//!   small fragments).
//!
//! It owns its listener and at most one client connection; it never touches anything but
//! 127.0.0.1.

use super::codec::MessageStream;
use super::message::{Message, Reply, RoSpecOp, impinj};
use super::params::{
    Capabilities, ContentSelector, CustomParam, GeneralCapabilities, LlrpCapabilities, PowerLevel,
    ReaderEvent, RegulatoryCapabilities, ReportSpec, RfMode, RoSpec, Status, TagData, Timestamp,
    connection, status_code,
};
use crate::frame::TagReport;
use crate::pty_sim::{RoundSender, SimInput};
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Zebra's IANA private enterprise number.
pub const ZEBRA_VENDOR: u32 = 161;
/// Most report messages held for an absent client before the oldest are dropped.
pub const HELD_CAPACITY: usize = 100_000;
/// Unanswered keepalives after which the reader drops its client.
pub const KEEPALIVES_BEFORE_DROP: u32 = 4;

/// Whose reader the simulator plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    /// Impinj Speedway-style.
    Impinj,
    /// Zebra FX-style.
    Zebra,
}

/// How the simulated reader behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct SimReaderConfig {
    /// Vendor quirks and capabilities.
    pub vendor: Vendor,
    /// The reader's clock minus the gateway's, ms.
    pub clock_skew_ms: i64,
}

impl SimReaderConfig {
    /// A reader of `vendor` with a correct clock.
    pub fn new(vendor: Vendor) -> Self {
        SimReaderConfig {
            vendor,
            clock_skew_ms: 0,
        }
    }
}

/// The capabilities the simulated reader reports.
pub fn capabilities(vendor: Vendor) -> Capabilities {
    match vendor {
        Vendor::Impinj => impinj_capabilities(),
        Vendor::Zebra => zebra_capabilities(),
    }
}

fn impinj_capabilities() -> Capabilities {
    // EdgeX device-rfid-llrp-go testdata/GetReaderCapabilitiesResponse-000.json (Speedway R420).
    let hop = vec![
        909_250, 908_250, 925_750, 911_250, 910_750, 926_750, 917_750, 905_250, 927_250, 921_250,
        925_250, 919_250, 924_750, 916_250, 919_750, 913_250, 926_250, 916_750, 918_750, 914_250,
        909_750, 917_250, 908_750, 902_750, 921_750, 913_750, 915_750, 923_750, 904_250, 903_750,
        903_250, 907_750, 915_250, 924_250, 912_750, 918_250, 912_250, 910_250, 922_250, 905_750,
        906_750, 920_750, 923_250, 906_250, 914_750, 911_750, 920_250, 907_250, 922_750, 904_750,
    ];
    let mode = |id, m, flm, mask, bdr, pie, tari| RfMode {
        id,
        dr_64_3: id < 1000,
        epc_hag_conformant: false,
        m,
        forward_link_modulation: flm,
        spectral_mask: mask,
        bdr,
        pie,
        min_tari: tari,
        max_tari: tari,
        step_tari: 0,
    };
    let mut modes = vec![
        mode(0, 0, 2, 2, 640_000, 1500, 6250),
        mode(1, 1, 2, 2, 640_000, 1500, 6250),
        mode(2, 2, 0, 3, 274_000, 2000, 20_000),
        mode(3, 3, 0, 3, 170_600, 2000, 20_000),
        mode(4, 2, 0, 2, 640_000, 1500, 7140),
    ];
    for id in [1000, 1002, 1003, 1004, 1005] {
        modes.push(mode(id, 0, 0, 0, 40_000, 1500, 6250));
    }
    Capabilities {
        general: Some(GeneralCapabilities {
            max_antennas: 4,
            can_set_antenna_properties: false,
            has_utc_clock: true,
            manufacturer: impinj::VENDOR,
            model: 2_001_002,
            firmware: "5.14.0.240".into(),
            receive_sensitivities: std::iter::once((1, 0))
                .chain((2..=42).map(|i| (i, i as i16 + 8)))
                .collect(),
            gpis: 4,
            gpos: 4,
        }),
        llrp: Some(LlrpCapabilities {
            can_report_buffer_fill_warning: true,
            supports_event_and_report_holding: true,
            max_priority_levels: 1,
            max_rospecs: 1,
            max_specs_per_rospec: 32,
            max_inventory_specs_per_aispec: 1,
            max_access_specs: 1508,
            max_opspecs_per_access_spec: 8,
            ..LlrpCapabilities::default()
        }),
        regulatory: Some(RegulatoryCapabilities {
            country_code: 840,
            communications_standard: 1,
            power_levels: (1..=81)
                .map(|i| PowerLevel {
                    index: i,
                    centi_dbm: 1000 + (i as i16 - 1) * 25,
                })
                .collect(),
            hopping: true,
            hop_tables: vec![(1, hop)],
            fixed_frequencies: Vec::new(),
            modes,
        }),
    }
}

fn zebra_capabilities() -> Capabilities {
    let modes = (0..4)
        .map(|id| RfMode {
            id,
            dr_64_3: true,
            m: id as u8,
            forward_link_modulation: 0,
            spectral_mask: 2,
            bdr: [640_000, 320_000, 250_000, 160_000][id as usize],
            pie: 1500,
            min_tari: 6250,
            max_tari: 25_000,
            step_tari: 6250,
            ..RfMode::default()
        })
        .collect();
    Capabilities {
        general: Some(GeneralCapabilities {
            max_antennas: 8,
            can_set_antenna_properties: false,
            has_utc_clock: true,
            manufacturer: ZEBRA_VENDOR,
            model: 9600,
            firmware: "3.10.30".into(),
            receive_sensitivities: vec![(1, 0)],
            gpis: 4,
            gpos: 4,
        }),
        llrp: Some(LlrpCapabilities {
            can_report_buffer_fill_warning: true,
            supports_event_and_report_holding: true,
            max_priority_levels: 8,
            max_rospecs: 64,
            max_specs_per_rospec: 32,
            max_inventory_specs_per_aispec: 1,
            max_access_specs: 64,
            max_opspecs_per_access_spec: 8,
            ..LlrpCapabilities::default()
        }),
        regulatory: Some(RegulatoryCapabilities {
            country_code: 840,
            communications_standard: 1,
            power_levels: (1..=216)
                .map(|i| PowerLevel {
                    index: i,
                    centi_dbm: 1000 + (i as i16 - 1) * 10,
                })
                .collect(),
            hopping: true,
            hop_tables: vec![(1, (0..50).map(|i| 902_750 + i * 500).collect())],
            fixed_frequencies: Vec::new(),
            modes,
        }),
    }
}

/// Counters and last-seen requests of a simulated reader, for tests.
#[derive(Debug, Default)]
pub struct LlrpSimStats {
    /// Connections greeted with Success.
    pub connections: AtomicU64,
    /// Connections refused because a client was connected.
    pub refused: AtomicU64,
    /// RO_ACCESS_REPORT messages written.
    pub reports_sent: AtomicU64,
    /// Tag reports produced (held or sent).
    pub tags_produced: AtomicU64,
    /// Report messages held right now.
    pub held: AtomicU64,
    /// KEEPALIVE messages written.
    pub keepalives: AtomicU64,
    /// KEEPALIVE_ACK messages received.
    pub keepalive_acks: AtomicU64,
    /// CLOSE_CONNECTION messages received.
    pub closes: AtomicU64,
    /// A ROSpec is active.
    pub inventory_running: AtomicBool,
    /// The last ROSpec added (accepted or not).
    pub last_rospec: Mutex<Option<RoSpec>>,
    /// The last ADD_ROSPEC status.
    pub last_add_status: Mutex<Option<Status>>,
    /// Message types received, in order (bounded to the last 1 000).
    pub received: Mutex<VecDeque<u16>>,
}

impl LlrpSimStats {
    fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// What the test or demo asks of a running simulator.
#[derive(Debug)]
enum Control {
    DropConnection,
    Reboot(Duration),
    Partition(bool),
    Slow(Duration),
}

/// A running simulated LLRP reader; dropping it stops the reader.
#[derive(Debug)]
pub struct LlrpSimHandle {
    address: SocketAddr,
    rounds: RoundSender,
    control: mpsc::UnboundedSender<Control>,
    stats: Arc<LlrpSimStats>,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl LlrpSimHandle {
    /// `127.0.0.1:port` the reader listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// A sender of rounds (for [`crate::pty_sim::play_store_sim`]).
    pub fn rounds(&self) -> RoundSender {
        self.rounds.clone()
    }

    /// Queues one round of tag reads (read by the running ROSpec, if any).
    pub async fn push_round(&self, tags: Vec<TagReport>) -> Result<(), crate::pty_sim::Unplugged> {
        self.rounds.send_round(tags).await
    }

    /// Counters.
    pub fn stats(&self) -> &LlrpSimStats {
        &self.stats
    }

    /// Connections greeted with Success so far.
    pub fn connections(&self) -> u64 {
        LlrpSimStats::get(&self.stats.connections)
    }

    /// Connections refused so far.
    pub fn refused(&self) -> u64 {
        LlrpSimStats::get(&self.stats.refused)
    }

    /// Report messages held right now.
    pub fn held(&self) -> u64 {
        LlrpSimStats::get(&self.stats.held)
    }

    /// True while a ROSpec is active.
    pub fn inventory_running(&self) -> bool {
        self.stats.inventory_running.load(Ordering::Relaxed)
    }

    /// Closes the client's socket (the ROSpec keeps running; reports are held).
    pub fn drop_connection(&self) {
        let _ = self.control.send(Control::DropConnection);
    }

    /// Reboots: the client's socket closes, ROSpecs, settings and held reports are lost, and
    /// connections are closed at once for `down`.
    pub fn reboot(&self, down: Duration) {
        let _ = self.control.send(Control::Reboot(down));
    }

    /// Starts (`true`) or ends a network partition: nothing crosses either way meanwhile.
    pub fn partition(&self, on: bool) {
        let _ = self.control.send(Control::Partition(on));
    }

    /// Delays every message by `delay` and writes it in small fragments (zero: normal).
    pub fn set_slow(&self, delay: Duration) {
        let _ = self.control.send(Control::Slow(delay));
    }

    /// Stops the reader and waits for it.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for LlrpSimHandle {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Starts a simulated reader on `127.0.0.1` (port `port`, 0 for any free one).
pub async fn spawn_llrp_simulator(
    config: SimReaderConfig,
    port: u16,
    cancel: CancellationToken,
) -> io::Result<LlrpSimHandle> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    spawn_on(listener, config, cancel)
}

/// Starts a simulated reader on a loopback listener bound beforehand (so its address can go
/// into a config before the runtime runs it). Must run inside a tokio runtime.
pub fn spawn_llrp_simulator_on(
    listener: std::net::TcpListener,
    config: SimReaderConfig,
    cancel: CancellationToken,
) -> io::Result<LlrpSimHandle> {
    if !listener.local_addr()?.ip().is_loopback() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the simulated reader listens on loopback only",
        ));
    }
    listener.set_nonblocking(true)?;
    spawn_on(TcpListener::from_std(listener)?, config, cancel)
}

fn spawn_on(
    listener: TcpListener,
    config: SimReaderConfig,
    cancel: CancellationToken,
) -> io::Result<LlrpSimHandle> {
    let address = listener.local_addr()?;
    let (rounds, inputs) = RoundSender::channel();
    let (control, controls) = mpsc::unbounded_channel();
    let stats = Arc::new(LlrpSimStats::default());
    let stop = cancel.child_token();
    let reader = SimReader::new(config, stats.clone());
    let task = tokio::spawn(reader.run(listener, inputs, controls, stop.clone()));
    Ok(LlrpSimHandle {
        address,
        rounds,
        control,
        stats,
        stop,
        task: Some(task),
    })
}

/// A message for a connection's writer task.
enum Out {
    Bytes(Vec<u8>),
    Close,
}

/// The connected client.
struct Client {
    reader: OwnedReadHalf,
    out: mpsc::UnboundedSender<Out>,
    stream: MessageStream,
    /// Reports flow (ENABLE_EVENTS_AND_REPORTS seen, or holding off).
    events_on: bool,
    unacked: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RoState {
    Disabled,
    Inactive,
    Active,
}

struct SimReader {
    config: SimReaderConfig,
    caps: Capabilities,
    stats: Arc<LlrpSimStats>,
    rospecs: BTreeMap<u32, (RoSpec, RoState)>,
    report_default: ReportSpec,
    keepalive_ms: u32,
    hold: bool,
    held: VecDeque<Vec<u8>>,
    pending: Vec<TagData>,
    next_id: u32,
    last_antenna: Option<u16>,
    slow: Arc<AtomicU64>,
}

fn now_us(skew_ms: i64) -> u64 {
    let ms = shelfd_core::timefmt::now_ms() as i64 + skew_ms;
    (ms.max(0) as u64) * 1000
}

/// Writes messages to the socket, slowly when asked.
async fn writer(
    mut half: OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<Out>,
    slow: Arc<AtomicU64>,
) {
    while let Some(out) = rx.recv().await {
        match out {
            Out::Close => break,
            Out::Bytes(bytes) => {
                let delay = slow.load(Ordering::Relaxed);
                let written = if delay > 0 {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    let mut r = Ok(());
                    for piece in bytes.chunks(7) {
                        r = half.write_all(piece).await;
                        if r.is_err() {
                            break;
                        }
                        let _ = half.flush().await;
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    r
                } else {
                    half.write_all(&bytes).await
                };
                if written.is_err() {
                    break;
                }
            }
        }
    }
    let _ = half.shutdown().await;
}

async fn read_client(client: &mut Option<Client>, buf: &mut [u8]) -> io::Result<usize> {
    match client {
        Some(c) => c.reader.read(buf).await,
        None => std::future::pending().await,
    }
}

impl SimReader {
    fn new(config: SimReaderConfig, stats: Arc<LlrpSimStats>) -> Self {
        let caps = capabilities(config.vendor);
        SimReader {
            config,
            caps,
            stats,
            rospecs: BTreeMap::new(),
            report_default: default_report(),
            keepalive_ms: 0,
            hold: false,
            held: VecDeque::new(),
            pending: Vec::new(),
            next_id: 1,
            last_antenna: None,
            slow: Arc::new(AtomicU64::new(0)),
        }
    }

    fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    fn factory_reset(&mut self) {
        self.rospecs.clear();
        self.report_default = default_report();
        self.keepalive_ms = 0;
        self.hold = false;
        self.pending.clear();
        self.publish_running();
    }

    fn publish_running(&self) {
        let running = self.rospecs.values().any(|(_, s)| *s == RoState::Active);
        self.stats
            .inventory_running
            .store(running, Ordering::Relaxed);
    }

    fn publish_held(&self) {
        self.stats
            .held
            .store(self.held.len() as u64, Ordering::Relaxed);
    }

    async fn run(
        mut self,
        listener: TcpListener,
        mut inputs: mpsc::Receiver<SimInput>,
        mut controls: mpsc::UnboundedReceiver<Control>,
        stop: CancellationToken,
    ) {
        let mut client: Option<Client> = None;
        // Sockets that are "unreachable" during a partition, or left by the reader.
        let mut zombies: Vec<TcpStream> = Vec::new();
        let mut zombie_clients: Vec<Client> = Vec::new();
        let mut partitioned = false;
        let mut down_until: Option<Instant> = None;
        let mut keepalive_at: Option<Instant> = None;
        let mut buf = vec![0u8; 8192];
        loop {
            let ka_deadline =
                keepalive_at.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                _ = stop.cancelled() => break,
                accepted = listener.accept() => {
                    let Ok((socket, _)) = accepted else { continue };
                    let _ = socket.set_nodelay(true);
                    if down_until.is_some_and(|t| Instant::now() < t) {
                        drop(socket);
                        continue;
                    }
                    if partitioned {
                        zombies.push(socket);
                        continue;
                    }
                    if let Some(c) = &client {
                        // Refuse the newcomer, tell the connected client.
                        let mut refused = socket;
                        let ren = self.ren(Some(connection::CLIENT_INITIATED_EXISTS));
                        let _ = refused.write_all(&ren).await;
                        drop(refused);
                        self.stats.refused.fetch_add(1, Ordering::Relaxed);
                        let note = self.ren(Some(connection::ANOTHER_CONNECTION_ATTEMPTED));
                        let _ = c.out.send(Out::Bytes(note));
                        continue;
                    }
                    let (read_half, write_half) = socket.into_split();
                    let (tx, rx) = mpsc::unbounded_channel();
                    tokio::spawn(writer(write_half, rx, self.slow.clone()));
                    let greeting = self.ren(Some(connection::SUCCESS));
                    let _ = tx.send(Out::Bytes(greeting));
                    self.stats.connections.fetch_add(1, Ordering::Relaxed);
                    let mut c = Client {
                        reader: read_half,
                        out: tx,
                        stream: MessageStream::new(1 << 20),
                        events_on: !self.hold,
                        unacked: 0,
                    };
                    if c.events_on {
                        self.flush_held(&mut c);
                    }
                    keepalive_at = (self.keepalive_ms > 0)
                        .then(|| Instant::now() + Duration::from_millis(u64::from(self.keepalive_ms)));
                    client = Some(c);
                }
                read = read_client(&mut client, &mut buf), if client.is_some() && !partitioned => {
                    match read {
                        Ok(n) if n > 0 => {
                            let mut c = client.take().expect("invariant: the branch runs with a client");
                            c.stream.feed(&buf[..n]);
                            let mut keep = true;
                            while let Some(item) = c.stream.next_message() {
                                let Ok((_, raw)) = item else { keep = false; break };
                                match self.on_message(&mut c, raw) {
                                    Handled::Keep => {}
                                    Handled::Close => { keep = false; break; }
                                }
                            }
                            if self.keepalive_ms > 0 && keepalive_at.is_none() {
                                keepalive_at = Some(Instant::now() + Duration::from_millis(u64::from(self.keepalive_ms)));
                            }
                            if self.keepalive_ms == 0 {
                                keepalive_at = None;
                            }
                            if keep {
                                client = Some(c);
                            } else {
                                let _ = c.out.send(Out::Close);
                                self.lost_client();
                            }
                        }
                        _ => {
                            client = None;
                            self.lost_client();
                        }
                    }
                }
                input = inputs.recv() => match input {
                    None => break,
                    Some(SimInput::Round(tags)) => {
                        let messages = self.round(&tags);
                        for m in messages {
                            self.deliver(client.as_mut().filter(|_| !partitioned), m);
                        }
                    }
                    Some(SimInput::Raw(bytes)) => {
                        if let (Some(c), false) = (&client, partitioned) {
                            let _ = c.out.send(Out::Bytes(bytes));
                        }
                    }
                },
                control = controls.recv() => match control {
                    None => {}
                    Some(Control::DropConnection) if client.take().is_some() => {
                        self.lost_client();
                    }
                    Some(Control::DropConnection) => {}
                    Some(Control::Reboot(down)) => {
                        client = None;
                        zombie_clients.clear();
                        zombies.clear();
                        self.factory_reset();
                        self.held.clear();
                        self.publish_held();
                        self.last_antenna = None;
                        keepalive_at = None;
                        down_until = Some(Instant::now() + down);
                    }
                    Some(Control::Partition(on)) => {
                        partitioned = on;
                        if !on {
                            // Whatever was stranded is gone; its sockets close now.
                            zombies.clear();
                            zombie_clients.clear();
                        }
                    }
                    Some(Control::Slow(delay)) => {
                        self.slow.store(delay.as_millis() as u64, Ordering::Relaxed);
                    }
                },
                _ = tokio::time::sleep_until(ka_deadline), if keepalive_at.is_some() => {
                    keepalive_at = (self.keepalive_ms > 0)
                        .then(|| Instant::now() + Duration::from_millis(u64::from(self.keepalive_ms)));
                    if let Some(c) = client.as_mut() {
                        c.unacked += 1;
                        if c.unacked > KEEPALIVES_BEFORE_DROP {
                            // The reader gives the silent client up.
                            if let Some(c) = client.take() {
                                if partitioned { zombie_clients.push(c); }
                            }
                            self.lost_client();
                            keepalive_at = None;
                        } else if !partitioned {
                            let id = self.id();
                            let _ = c.out.send(Out::Bytes(Message::Keepalive.encode(1, id)));
                            self.stats.keepalives.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        }
    }

    fn lost_client(&mut self) {
        self.last_antenna = None;
    }

    fn ren(&mut self, status: Option<u16>) -> Vec<u8> {
        let id = self.id();
        Message::ReaderEventNotification(ReaderEvent {
            timestamp: Timestamp::Utc(now_us(self.config.clock_skew_ms)),
            connection_attempt: status,
            ..ReaderEvent::default()
        })
        .encode(1, id)
    }

    fn flush_held(&mut self, c: &mut Client) {
        while let Some(m) = self.held.pop_front() {
            self.stats.reports_sent.fetch_add(1, Ordering::Relaxed);
            let _ = c.out.send(Out::Bytes(m));
        }
        self.publish_held();
    }

    /// Sends a report now, or holds it.
    fn deliver(&mut self, client: Option<&mut Client>, message: Vec<u8>) {
        match client {
            Some(c) if c.events_on => {
                self.stats.reports_sent.fetch_add(1, Ordering::Relaxed);
                let _ = c.out.send(Out::Bytes(message));
            }
            _ => {
                if self.held.len() >= HELD_CAPACITY {
                    self.held.pop_front();
                }
                self.held.push_back(message);
                self.publish_held();
            }
        }
    }

    /// The report messages one round of reads produces.
    fn round(&mut self, tags: &[TagReport]) -> Vec<Vec<u8>> {
        let Some((spec, _)) = self
            .rospecs
            .values()
            .find(|(_, state)| *state == RoState::Active)
            .cloned()
        else {
            return Vec::new();
        };
        let report = spec
            .report
            .clone()
            .unwrap_or_else(|| self.report_default.clone());
        let peak_cdbm =
            impinj::enables_peak_rssi(&report.custom) && self.config.vendor == Vendor::Impinj;
        let antennas: Vec<u16> = spec
            .ai_specs
            .iter()
            .flat_map(|a| a.antennas.clone())
            .collect();
        let sel = report.content;
        let mut out = Vec::new();
        for tag in tags {
            if !(antennas.contains(&0) || antennas.contains(&tag.antenna)) {
                continue;
            }
            let now = now_us(self.config.clock_skew_ms);
            let rssi = tag.rssi_dbm.unwrap_or(-60.0);
            let mut data = TagData {
                epc: tag.epc.clone(),
                ..TagData::default()
            };
            if sel.has(ContentSelector::ROSPEC_ID) {
                data.rospec_id = Some(spec.id);
            }
            if sel.has(ContentSelector::SPEC_INDEX) {
                data.spec_index = Some(1);
            }
            if sel.has(ContentSelector::INVENTORY_PARAMETER_SPEC_ID) {
                data.inventory_parameter_spec_id = spec.ai_specs[0].inventory.first().map(|i| i.id);
            }
            if sel.has(ContentSelector::ANTENNA_ID) {
                let omit =
                    self.config.vendor == Vendor::Zebra && self.last_antenna == Some(tag.antenna);
                if !omit {
                    data.antenna = Some(tag.antenna);
                }
                self.last_antenna = Some(tag.antenna);
            }
            if sel.has(ContentSelector::PEAK_RSSI) {
                data.peak_rssi = Some(rssi.round().clamp(-128.0, 127.0) as i8);
            }
            if sel.has(ContentSelector::CHANNEL_INDEX) {
                data.channel_index = Some(1);
            }
            if sel.has(ContentSelector::FIRST_SEEN) {
                data.first_seen_utc = Some(now);
            }
            if sel.has(ContentSelector::LAST_SEEN) {
                data.last_seen_utc = Some(now);
            }
            if sel.has(ContentSelector::TAG_SEEN_COUNT) {
                data.tag_seen_count = Some(1);
            }
            if peak_cdbm {
                data.custom.push(impinj::peak_rssi(
                    (rssi * 100.0).round().clamp(-32768.0, 32767.0) as i16,
                ));
            }
            self.pending.push(data);
            self.stats.tags_produced.fetch_add(1, Ordering::Relaxed);
            if report.n > 0 && self.pending.len() >= usize::from(report.n) {
                let tags = std::mem::take(&mut self.pending);
                let id = self.id();
                out.push(Message::RoAccessReport(tags).encode(1, id));
            }
        }
        out
    }

    fn respond(&self, c: &Client, id: u32, message: Message) {
        let _ = c.out.send(Out::Bytes(message.encode(1, id)));
    }

    fn on_message(&mut self, c: &mut Client, raw: super::codec::RawMessage) -> Handled {
        {
            let mut received = self
                .stats
                .received
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if received.len() >= 1000 {
                received.pop_front();
            }
            received.push_back(raw.kind);
        }
        let id = raw.id;
        let error = |code, text: &str| Message::Status {
            reply: Reply::Error,
            status: Status::error(code, text),
        };
        if raw.kind == super::message::kind::GET_SUPPORTED_VERSION {
            let answer = match self.config.vendor {
                Vendor::Impinj => error(status_code::M_UNSUPPORTED_VERSION, "Unsupported version"),
                Vendor::Zebra => Message::GetSupportedVersionResponse {
                    current: 1,
                    supported: 2,
                    status: Status::success(),
                },
            };
            self.respond(c, id, answer);
            return Handled::Keep;
        }
        if raw.version != 1 {
            self.respond(
                c,
                id,
                error(status_code::M_UNSUPPORTED_VERSION, "Unsupported version"),
            );
            return Handled::Keep;
        }
        let message = match Message::decode(&raw) {
            Ok(m) => m,
            Err(e) => {
                self.respond(c, id, error(status_code::M_PARAMETER_ERROR, &e.to_string()));
                return Handled::Keep;
            }
        };
        match message {
            Message::GetReaderCapabilities { .. } => {
                let caps = self.caps.clone();
                self.respond(
                    c,
                    id,
                    Message::GetReaderCapabilitiesResponse {
                        status: Status::success(),
                        capabilities: caps,
                    },
                );
            }
            Message::Custom {
                vendor: impinj::VENDOR,
                subtype: impinj::ENABLE_EXTENSIONS,
                ..
            } if self.config.vendor == Vendor::Impinj => {
                self.respond(
                    c,
                    id,
                    impinj::enable_extensions_response(&Status::success()),
                );
            }
            Message::SetReaderConfig(update) => {
                if update.reset_to_factory {
                    self.factory_reset();
                }
                if let Some(report) = update.report {
                    self.report_default = report;
                }
                if let Some(ms) = update.keepalive_ms {
                    self.keepalive_ms = ms;
                }
                if let Some(hold) = update.hold_events_and_reports {
                    self.hold = hold;
                }
                self.respond(
                    c,
                    id,
                    Message::Status {
                        reply: Reply::SetReaderConfig,
                        status: Status::success(),
                    },
                );
            }
            Message::AddRoSpec(spec) => {
                let status = self.check_rospec(&spec);
                *self
                    .stats
                    .last_rospec
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some(spec.clone());
                *self
                    .stats
                    .last_add_status
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some(status.clone());
                if status.is_success() {
                    self.rospecs.insert(spec.id, (spec, RoState::Disabled));
                }
                self.respond(
                    c,
                    id,
                    Message::Status {
                        reply: Reply::AddRoSpec,
                        status,
                    },
                );
            }
            Message::RoSpec { op, id: spec_id } => {
                let status = self.rospec_op(op, spec_id);
                self.respond(
                    c,
                    id,
                    Message::Status {
                        reply: Reply::RoSpec(op),
                        status,
                    },
                );
            }
            Message::EnableEventsAndReports => {
                c.events_on = true;
                self.flush_held(c);
            }
            Message::KeepaliveAck => {
                c.unacked = 0;
                self.stats.keepalive_acks.fetch_add(1, Ordering::Relaxed);
            }
            Message::CloseConnection => {
                self.stats.closes.fetch_add(1, Ordering::Relaxed);
                self.respond(
                    c,
                    id,
                    Message::Status {
                        reply: Reply::CloseConnection,
                        status: Status::success(),
                    },
                );
                return Handled::Close;
            }
            _ => {
                self.respond(
                    c,
                    id,
                    error(status_code::M_UNSUPPORTED_MESSAGE, "Unsupported message"),
                );
            }
        }
        Handled::Keep
    }

    fn check_rospec(&self, spec: &RoSpec) -> Status {
        let llrp = self.caps.llrp.clone().unwrap_or_default();
        let general = self.caps.general.clone().unwrap_or_default();
        let regulatory = self.caps.regulatory.clone().unwrap_or_default();
        if spec.id == 0 {
            return Status::error(status_code::A_INVALID, "ROSpecID 0 is reserved");
        }
        if spec.current_state != 0 {
            return Status::error(status_code::A_INVALID, "CurrentState must be Disabled");
        }
        if self.rospecs.contains_key(&spec.id) {
            return Status::error(
                status_code::A_INVALID,
                format!("ROSpec {} already exists", spec.id),
            );
        }
        if llrp.max_rospecs > 0 && self.rospecs.len() as u32 >= llrp.max_rospecs {
            return Status::error(
                status_code::A_OUT_OF_RANGE,
                format!("at most {} ROSpecs", llrp.max_rospecs),
            );
        }
        for ai in &spec.ai_specs {
            if ai.inventory.len() as u32 > llrp.max_inventory_specs_per_aispec.max(1) {
                let mut s = Status::error(
                    status_code::P_OVERFLOW_PARAMETER,
                    format!(
                        "at most {} InventoryParameterSpec per AISpec",
                        llrp.max_inventory_specs_per_aispec
                    ),
                );
                s.parameter_error = Some((
                    super::params::kind::INVENTORY_PARAMETER_SPEC,
                    status_code::P_OVERFLOW_PARAMETER,
                ));
                return s;
            }
            if let Some(a) = ai.antennas.iter().find(|&&a| a > general.max_antennas) {
                return Status::error(
                    status_code::A_OUT_OF_RANGE,
                    format!("antenna {a} does not exist"),
                );
            }
            for inv in &ai.inventory {
                for config in &inv.antennas {
                    if let Some(t) = config.transmitter {
                        if !regulatory
                            .power_levels
                            .iter()
                            .any(|p| p.index == t.power_index)
                        {
                            return Status::error(
                                status_code::A_OUT_OF_RANGE,
                                format!(
                                    "transmit power index {} is not in the table",
                                    t.power_index
                                ),
                            );
                        }
                    }
                    if let Some(g) = &config.inventory {
                        if let Some((mode, _)) = g.rf_control {
                            if !regulatory.modes.iter().any(|m| m.id == u32::from(mode)) {
                                return Status::error(
                                    status_code::A_OUT_OF_RANGE,
                                    format!("mode {mode} is not in the mode table"),
                                );
                            }
                        }
                        if self.config.vendor != Vendor::Impinj
                            && g.custom
                                .iter()
                                .any(|c: &CustomParam| c.vendor == impinj::VENDOR)
                        {
                            return Status::error(209, "unsupported custom parameter");
                        }
                    }
                }
            }
        }
        Status::success()
    }

    fn rospec_op(&mut self, op: RoSpecOp, id: u32) -> Status {
        let ids: Vec<u32> = if id == 0 {
            self.rospecs.keys().copied().collect()
        } else if self.rospecs.contains_key(&id) {
            vec![id]
        } else {
            return Status::error(status_code::A_INVALID, format!("no ROSpec {id}"));
        };
        let mut status = Status::success();
        for id in ids {
            match op {
                RoSpecOp::Delete => {
                    self.rospecs.remove(&id);
                }
                RoSpecOp::Enable => {
                    if let Some((spec, state)) = self.rospecs.get_mut(&id) {
                        *state = if spec.start_trigger == 1 {
                            RoState::Active
                        } else {
                            RoState::Inactive
                        };
                    }
                }
                RoSpecOp::Disable => {
                    if let Some((_, state)) = self.rospecs.get_mut(&id) {
                        *state = RoState::Disabled;
                    }
                }
                RoSpecOp::Start => {
                    if let Some((_, state)) = self.rospecs.get_mut(&id) {
                        if *state == RoState::Inactive {
                            *state = RoState::Active;
                        } else {
                            status = Status::error(
                                status_code::A_INVALID,
                                format!("ROSpec {id} is not enabled"),
                            );
                        }
                    }
                }
                RoSpecOp::Stop => {
                    if let Some((_, state)) = self.rospecs.get_mut(&id) {
                        if *state == RoState::Active {
                            *state = RoState::Inactive;
                        }
                    }
                }
            }
        }
        self.publish_running();
        status
    }
}

enum Handled {
    Keep,
    Close,
}

/// Before any SET_READER_CONFIG: a report per tag with the antenna and first-seen time.
fn default_report() -> ReportSpec {
    ReportSpec {
        trigger: 2,
        n: 1,
        content: ContentSelector(ContentSelector::ANTENNA_ID | ContentSelector::FIRST_SEEN),
        custom: Vec::new(),
    }
}
