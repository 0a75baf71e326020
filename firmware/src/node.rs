//! The node state machine: scale samples and tag reads in, shelf-link answers out. Owns the
//! lanes' scales, the bounded queue of unacknowledged events and its overflow policy, command
//! handling (configure, tare, calibrate, identify) with run-once semantics, and the bus side
//! (bytes in, one answer per command addressed to this node). It never blocks, never
//! allocates, never talks unasked, and never panics on bus input.
//!
//! # Driving it
//!
//! The board owns the hardware and a millisecond clock since boot, and calls, in its main loop:
//!
//! - [`Node::poll_sensors`] with its load-cell drivers (anything implementing
//!   [`WeightSensor`], e.g. [`crate::hx711::Hx711`]), or [`Node::on_sample`] per lane;
//! - [`Node::serve_uart`] with its RS-485 UART (embedded-io `Read + ReadReady + Write`; the
//!   UART wrapper drives the transceiver's DE pin and must flush before releasing the line),
//!   or [`Node::on_bytes`] with received bytes and a callback that transmits each answer;
//! - [`Node::identifying`] to blink its LED; [`Node::tag_read`] if it has an RFID module.
//!
//! # Queue and overflow
//!
//! Events (hello, lane weights, pick/put, ambiguous changes, tag reads, faults) wait in a queue
//! of `QUEUE` entries until acknowledged. A new lane weight replaces any older lane weight of
//! the same lane still queued (only the newest weight matters). When the queue is full, room is
//! made by dropping the oldest entry of the most expendable class present — lane weights first,
//! then tag reads (a reader reads the tag again), then faults — but never an entry of a class
//! more important than the new event. Hellos, pick/puts and ambiguous changes are never
//! dropped to make room; a new one is lost only when every slot already holds one of them, i.e.
//! when the gateway has not acknowledged `QUEUE` of them. Every drop is counted (the heartbeat
//! carries the total) and reported as a [`FaultCode::QUEUE_OVERFLOW`] event as soon as a slot
//! is free.
//!
//! # Sequence numbers
//!
//! Events are numbered from [`NodeConfig::first_seq`] (wrapping). Give it a value that changes
//! per boot (a boot counter in flash, a hardware RNG): a gateway that has not noticed a reboot
//! yet acks by number, and a number repeated across boots could ack the new hello unseen.

use crate::link::{
    Command, CommandStatus, DecodeError, Epc, FaultCode, FirmwareVersion, Frame, FrameAccumulator,
    MAX_FRAME_LEN, NODE_WIDE, Report,
};
use crate::scale::{
    ADC_MAX, ADC_MIN, Calibration, Detection, DetectorConfig, LaneConfig, LaneConfigError,
    LaneScale, ScaleError, SensorFault, WeightSensor,
};

/// Identity and tuning of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeConfig {
    /// Bus address, 1..=254.
    pub address: u8,
    /// Unique hardware id, reported in the hello.
    pub node_id: u64,
    /// Firmware version, reported in the hello.
    pub firmware: FirmwareVersion,
    /// Number of this boot's first event (see the module docs).
    pub first_seq: u16,
    /// Filter and stability parameters of every lane.
    pub detector: DetectorConfig,
    /// A lane without a sample for this long reports [`FaultCode::SENSOR_TIMEOUT`].
    pub sample_timeout_ms: u32,
}

impl NodeConfig {
    /// A configuration with the default detector and a 1 s sample timeout.
    pub fn new(address: u8, node_id: u64, firmware: FirmwareVersion, first_seq: u16) -> Self {
        NodeConfig {
            address,
            node_id,
            firmware,
            first_seq,
            detector: DetectorConfig::default(),
            sample_timeout_ms: 1_000,
        }
    }
}

/// Counters of the bus side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Commands addressed to this node and answered.
    pub commands: u32,
    /// Runs of bytes that were not a valid frame, or frames for this node that did not decode.
    pub bad_frames: u32,
    /// Valid frames for other nodes, or reports (other nodes' answers, this node's echo).
    pub ignored: u32,
    /// Answers the UART did not take whole (a write returned 0).
    pub short_writes: u32,
}

#[derive(Debug, Clone, Copy)]
struct Queued {
    seq: u16,
    report: Report,
    sent: bool,
}

/// How expendable a queued report is when the queue is full (lower goes first).
fn class(report: &Report) -> u8 {
    match report {
        Report::LaneWeight { .. } => 0,
        Report::TagRead { .. } => 1,
        Report::Fault { .. } => 2,
        _ => 3,
    }
}

/// The class no eviction touches.
const KEPT: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SensorState {
    Ok,
    Failed,
}

/// The last command run, to answer a resend without running it again.
#[derive(Debug, Clone, Copy)]
struct LastCommand {
    seq: u16,
    command: Command,
    status: CommandStatus,
    value: i32,
}

/// A shelf node with `LANES` load-cell lanes and room for `QUEUE` unacknowledged events.
#[derive(Debug, Clone)]
pub struct Node<const LANES: usize, const QUEUE: usize> {
    config: NodeConfig,
    lanes: [LaneScale; LANES],
    sensor: [SensorState; LANES],
    last_sample_ms: [u64; LANES],
    queue: [Queued; QUEUE],
    queued: usize,
    next_seq: u16,
    dropped: u16,
    unreported_drops: u32,
    last_command: Option<LastCommand>,
    identify_until_ms: u64,
    now_ms: u64,
    rx: FrameAccumulator,
    stats: NodeStats,
}

impl<const LANES: usize, const QUEUE: usize> Node<LANES, QUEUE> {
    /// A node that just booted at time `now_ms`: its hello is the first queued event.
    pub fn new(config: NodeConfig, now_ms: u64) -> Self {
        const {
            assert!(LANES >= 1 && LANES <= 255, "a node has 1..=255 lanes");
            assert!(QUEUE >= 2 && QUEUE <= 255, "the queue holds 2..=255 events");
        }
        let empty = Queued {
            seq: 0,
            report: Report::Ambiguous {
                lane: 0,
                delta_mg: 0,
            },
            sent: false,
        };
        let mut node = Node {
            config,
            lanes: core::array::from_fn(|_| LaneScale::new(config.detector)),
            sensor: [SensorState::Ok; LANES],
            last_sample_ms: [now_ms; LANES],
            queue: [empty; QUEUE],
            queued: 0,
            next_seq: config.first_seq,
            dropped: 0,
            unreported_drops: 0,
            last_command: None,
            identify_until_ms: 0,
            now_ms,
            rx: FrameAccumulator::new(),
            stats: NodeStats::default(),
        };
        node.enqueue(Report::Hello {
            node_id: config.node_id,
            firmware: config.firmware,
            lanes: LANES as u8,
        });
        node
    }

    /// The node's bus address.
    pub fn address(&self) -> u8 {
        self.config.address
    }

    /// Bus counters.
    pub fn stats(&self) -> NodeStats {
        self.stats
    }

    /// A lane's scale.
    pub fn lane(&self, lane: usize) -> Option<&LaneScale> {
        self.lanes.get(lane)
    }

    /// Restores a lane's calibration (e.g. from flash at boot).
    pub fn set_calibration(&mut self, lane: usize, calibration: Calibration) {
        if let Some(scale) = self.lanes.get_mut(lane) {
            scale.set_calibration(calibration);
        }
    }

    /// Events waiting for an ack.
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// The waiting events, oldest first, with their numbers.
    pub fn pending(&self) -> impl Iterator<Item = (u16, &Report)> + '_ {
        self.queue[..self.queued].iter().map(|q| (q.seq, &q.report))
    }

    /// Events dropped because the queue was full, since boot (saturating).
    pub fn dropped(&self) -> u16 {
        self.dropped
    }

    /// True while an identify command asks for the LED to blink.
    pub fn identifying(&self, now_ms: u64) -> bool {
        now_ms < self.identify_until_ms
    }

    // ---- the queue ----------------------------------------------------------------------

    fn remove_at(&mut self, at: usize) {
        if at >= self.queued {
            return;
        }
        self.queue.copy_within(at + 1..self.queued, at);
        self.queued -= 1;
    }

    fn count_drop(&mut self) {
        self.dropped = self.dropped.saturating_add(1);
        self.unreported_drops = self.unreported_drops.saturating_add(1);
    }

    fn push_back(&mut self, report: Report) {
        if self.queued < QUEUE {
            self.queue[self.queued] = Queued {
                seq: self.next_seq,
                report,
                sent: false,
            };
            self.queued += 1;
            self.next_seq = self.next_seq.wrapping_add(1);
        }
    }

    /// Queues an event under the next number, applying the overflow policy of the module docs.
    fn enqueue(&mut self, report: Report) {
        if let Report::LaneWeight { lane, .. } = report {
            let mut at = 0;
            while at < self.queued {
                match self.queue[at].report {
                    Report::LaneWeight { lane: l, .. } if l == lane => self.remove_at(at),
                    _ => at += 1,
                }
            }
        }
        if self.queued == QUEUE {
            let new_class = class(&report);
            let victim = (0..self.queued)
                .map(|at| (class(&self.queue[at].report), at))
                .filter(|&(c, _)| c < KEPT && c <= new_class)
                .min();
            match victim {
                Some((_, at)) => {
                    self.remove_at(at);
                    self.count_drop();
                }
                None => {
                    self.count_drop();
                    return;
                }
            }
        }
        self.push_back(report);
        self.report_drops();
    }

    /// Queues the overflow fault once a slot is free.
    fn report_drops(&mut self) {
        if self.unreported_drops > 0 && self.queued < QUEUE {
            let detail = self.unreported_drops;
            self.unreported_drops = 0;
            self.push_back(Report::Fault {
                code: FaultCode::QUEUE_OVERFLOW,
                lane: NODE_WIDE,
                detail,
            });
        }
    }

    // ---- samples and tag reads ----------------------------------------------------------

    fn weight_report(&self, lane: usize) -> Report {
        let scale = &self.lanes[lane];
        Report::LaneWeight {
            lane: lane as u8,
            stable: scale.is_stable(),
            weight_mg: scale.weight_mg().unwrap_or(0),
            raw: scale.raw(),
        }
    }

    fn sensor_failed(&mut self, lane: usize, code: FaultCode, detail: u32) {
        if self.sensor[lane] == SensorState::Ok {
            self.sensor[lane] = SensorState::Failed;
            self.enqueue(Report::Fault {
                code,
                lane: lane as u8,
                detail,
            });
        }
    }

    /// Feeds one sample (or sensor failure) of `lane` taken at `now_ms`. A failure is
    /// reported once per outage; saturated readings count as failures and are not weighed.
    pub fn on_sample(&mut self, lane: usize, now_ms: u64, sample: Result<i32, SensorFault>) {
        if lane >= LANES {
            return;
        }
        self.now_ms = self.now_ms.max(now_ms);
        self.last_sample_ms[lane] = now_ms;
        let counts = match sample {
            Err(SensorFault::Timeout { polls }) => {
                return self.sensor_failed(lane, FaultCode::SENSOR_TIMEOUT, polls);
            }
            Err(SensorFault::Pin(_)) => {
                return self.sensor_failed(lane, FaultCode::SENSOR_PIN, 0);
            }
            Ok(c) if c >= ADC_MAX || c <= ADC_MIN => {
                return self.sensor_failed(lane, FaultCode::SENSOR_SATURATED, c as u32);
            }
            Ok(c) => c,
        };
        if self.sensor[lane] == SensorState::Failed {
            self.sensor[lane] = SensorState::Ok;
            self.lanes[lane].reset_filter();
        }
        let raw = counts;
        match self.lanes[lane].push(counts) {
            None => {}
            Some(Detection::Units {
                units,
                delta_mg,
                weight_mg,
            }) => {
                self.enqueue(Report::PickPut {
                    lane: lane as u8,
                    units,
                    delta_mg,
                });
                self.enqueue(Report::LaneWeight {
                    lane: lane as u8,
                    stable: true,
                    weight_mg,
                    raw,
                });
            }
            Some(Detection::Ambiguous {
                delta_mg,
                weight_mg,
            }) => {
                self.enqueue(Report::Ambiguous {
                    lane: lane as u8,
                    delta_mg,
                });
                self.enqueue(Report::LaneWeight {
                    lane: lane as u8,
                    stable: true,
                    weight_mg,
                    raw,
                });
            }
            Some(Detection::Drift { weight_mg }) => self.enqueue(Report::LaneWeight {
                lane: lane as u8,
                stable: true,
                weight_mg,
                raw,
            }),
        }
    }

    /// Polls every lane's sensor once (lane `i` is `sensors[i]`) and reports lanes that gave no
    /// sample for [`NodeConfig::sample_timeout_ms`].
    pub fn poll_sensors<S: WeightSensor>(&mut self, now_ms: u64, sensors: &mut [S; LANES]) {
        for (lane, sensor) in sensors.iter_mut().enumerate() {
            if let Some(sample) = sensor.poll_sample() {
                self.on_sample(lane, now_ms, sample);
            }
        }
        self.check_timeouts(now_ms);
    }

    /// Reports lanes that gave no sample for [`NodeConfig::sample_timeout_ms`] (detail: the
    /// milliseconds without one). [`Node::poll_sensors`] calls it.
    pub fn check_timeouts(&mut self, now_ms: u64) {
        self.now_ms = self.now_ms.max(now_ms);
        for lane in 0..LANES {
            let silent = now_ms.saturating_sub(self.last_sample_ms[lane]);
            if silent > u64::from(self.config.sample_timeout_ms) {
                let detail = silent.min(u64::from(u32::MAX)) as u32;
                self.sensor_failed(lane, FaultCode::SENSOR_TIMEOUT, detail);
            }
        }
    }

    /// Queues a tag read of the node's own RFID module.
    pub fn tag_read(&mut self, antenna: u8, rssi_ddbm: i16, epc: Epc) {
        self.enqueue(Report::TagRead {
            antenna,
            rssi_ddbm,
            epc,
        });
    }

    // ---- the bus ------------------------------------------------------------------------

    /// The answer to a poll: the oldest event (marked sent), or a heartbeat.
    fn answer(&mut self) -> Frame<Report> {
        let address = self.config.address;
        if self.queued > 0 {
            let front = &mut self.queue[0];
            front.sent = true;
            return Frame::new(address, front.seq, front.report);
        }
        Frame::new(
            address,
            self.next_seq,
            Report::Heartbeat {
                uptime_s: (self.now_ms / 1000).min(u64::from(u32::MAX)) as u32,
                queued: 0,
                dropped: self.dropped,
                identifying: self.identifying(self.now_ms),
            },
        )
    }

    fn lane_index(lane: u8) -> Result<usize, (CommandStatus, i32)> {
        let at = usize::from(lane);
        if at < LANES {
            Ok(at)
        } else {
            Err((CommandStatus::UNKNOWN_LANE, i32::from(lane)))
        }
    }

    fn execute(&mut self, command: Command) -> Result<i32, (CommandStatus, i32)> {
        match command {
            Command::Poll | Command::Ack { .. } => Ok(0),
            Command::ConfigureLane {
                lane,
                unit_mg,
                tolerance_mg,
            } => {
                let at = Self::lane_index(lane)?;
                let config = LaneConfig::new(unit_mg, tolerance_mg).map_err(|e| match e {
                    LaneConfigError::ZeroUnit => (CommandStatus::INVALID_VALUE, 0),
                    LaneConfigError::ToleranceTooWide { tolerance_mg, .. } => (
                        CommandStatus::INVALID_VALUE,
                        tolerance_mg.min(i32::MAX as u32) as i32,
                    ),
                })?;
                self.lanes[at].configure(config);
                Ok(0)
            }
            Command::Tare { lane } => {
                let range = if lane == crate::link::ALL_LANES {
                    0..LANES
                } else {
                    let at = Self::lane_index(lane)?;
                    at..at + 1
                };
                if let Some(unstable) = range.clone().find(|&l| !self.lanes[l].is_stable()) {
                    return Err((CommandStatus::NOT_STABLE, unstable as i32));
                }
                for l in range {
                    // Stable was checked just above; a tare of a stable lane cannot fail.
                    if self.lanes[l].tare().is_ok() {
                        self.enqueue(self.weight_report(l));
                    }
                }
                Ok(0)
            }
            Command::Calibrate { lane, known_mg } => {
                let at = Self::lane_index(lane)?;
                let per_kg = self.lanes[at].calibrate(known_mg).map_err(|e| match e {
                    ScaleError::NotStable => (CommandStatus::NOT_STABLE, i32::from(lane)),
                    ScaleError::ZeroKnownWeight => (CommandStatus::INVALID_VALUE, 0),
                    ScaleError::NoResponse { counts } => (CommandStatus::INVALID_VALUE, counts),
                })?;
                self.enqueue(self.weight_report(at));
                Ok(per_kg)
            }
            Command::Identify { seconds } => {
                self.identify_until_ms = self.now_ms + u64::from(seconds) * 1000;
                Ok(0)
            }
        }
    }

    /// Handles one decoded command and returns the answer, or `None` when the command is for
    /// another node. Configure, tare, calibrate and identify run once per command number: a
    /// resend (same number, same command) gets the stored result again.
    pub fn handle_command(&mut self, now_ms: u64, frame: Frame<Command>) -> Option<Frame<Report>> {
        if frame.address != self.config.address {
            self.stats.ignored += 1;
            return None;
        }
        self.now_ms = self.now_ms.max(now_ms);
        self.stats.commands += 1;
        match frame.message {
            Command::Poll => Some(self.answer()),
            Command::Ack { seq } => {
                if self.queued > 0 && self.queue[0].sent && self.queue[0].seq == seq {
                    self.remove_at(0);
                    self.report_drops();
                }
                Some(self.answer())
            }
            command => {
                let (status, value) = match self.last_command {
                    Some(last) if last.seq == frame.seq && last.command == command => {
                        (last.status, last.value)
                    }
                    _ => {
                        let (status, value) = match self.execute(command) {
                            Ok(value) => (CommandStatus::OK, value),
                            Err(failed) => failed,
                        };
                        self.last_command = Some(LastCommand {
                            seq: frame.seq,
                            command,
                            status,
                            value,
                        });
                        (status, value)
                    }
                };
                Some(Frame::new(
                    self.config.address,
                    frame.seq,
                    Report::CommandResult { status, value },
                ))
            }
        }
    }

    /// Feeds bytes received from the bus; for every command to this node that ends in them,
    /// calls `send` with the encoded answer (one whole frame, delimiter included). Anything
    /// else — noise, frames for other nodes, other nodes' answers, this node's echo — is
    /// counted and dropped.
    pub fn on_bytes(&mut self, now_ms: u64, bytes: &[u8], mut send: impl FnMut(&[u8])) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let (used, item) = self.rx.feed(rest);
            rest = &rest[used..];
            let decoded: Result<Frame<Command>, DecodeError> = match item {
                None => continue,
                Some(Err(e)) => Err(e),
                Some(Ok(raw)) if !raw.is_command() || raw.address != self.config.address => {
                    self.stats.ignored += 1;
                    continue;
                }
                Some(Ok(raw)) => raw.decode(),
            };
            let Ok(frame) = decoded else {
                self.stats.bad_frames += 1;
                continue;
            };
            if let Some(answer) = self.handle_command(now_ms, frame) {
                let mut out = [0u8; MAX_FRAME_LEN];
                // Reports built here always encode: the address was checked on the command
                // and pick/puts are never 0 units.
                if let Ok(n) = answer.encode(&mut out) {
                    send(&out[..n]);
                }
            }
        }
    }

    /// Serves the bus through an embedded-io UART: reads whatever is ready, answers commands
    /// for this node, flushes. Returns the UART's error, if any; never blocks on an idle line.
    pub fn serve_uart<U>(&mut self, now_ms: u64, uart: &mut U) -> Result<(), U::Error>
    where
        U: embedded_io::Read + embedded_io::ReadReady + embedded_io::Write,
    {
        let mut buf = [0u8; 32];
        let mut wrote = false;
        while uart.read_ready()? {
            let n = uart.read(&mut buf)?;
            if n == 0 {
                break;
            }
            let mut result = Ok(());
            let mut short = 0;
            self.on_bytes(now_ms, &buf[..n], |mut answer| {
                while result.is_ok() && !answer.is_empty() {
                    match uart.write(answer) {
                        Ok(0) => {
                            short += 1;
                            break;
                        }
                        Ok(k) => answer = &answer[k.min(answer.len())..],
                        Err(e) => result = Err(e),
                    }
                }
                wrote = true;
            });
            self.stats.short_writes += short;
            result?;
        }
        if wrote {
            uart.flush()?;
        }
        Ok(())
    }
}
