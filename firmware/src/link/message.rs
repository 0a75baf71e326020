//! The shelf-link v1 messages and their payload layouts: [`Command`] (gateway → node) and
//! [`Report`] (node → gateway), each kind with a fixed little-endian layout (only a tag read's
//! EPC has a length). Owns the meaning of the kind byte and of every payload byte; it never
//! frames, checksums or buffers (that is [`super::frame`]), and never panics on any payload.

use super::error::{DecodeError, EncodeError};

/// Longest EPC a tag read carries, in bytes (31 16-bit words, the most a Gen2 PC word announces).
pub const MAX_EPC_LEN: usize = 62;

/// The lane number of [`Command::Tare`] that tares every lane of the node.
pub const ALL_LANES: u8 = 0xFF;

/// The lane number of a [`Report::Fault`] that concerns the whole node, not one lane.
pub const NODE_WIDE: u8 = 0xFF;

/// Longest payload of any message (a tag read with the longest EPC).
pub const MAX_PAYLOAD_LEN: usize = 4 + MAX_EPC_LEN;

/// The version of a node's firmware, as its hello reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FirmwareVersion {
    /// Incompatible changes.
    pub major: u8,
    /// Compatible additions.
    pub minor: u8,
    /// Fixes.
    pub patch: u8,
}

/// The EPC of a tag read: 2..=62 bytes, a whole number of 16-bit words. Stored inline (no
/// allocator), so a [`Report`] stays `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Epc {
    len: u8,
    bytes: [u8; MAX_EPC_LEN],
}

impl Epc {
    /// The EPC of `bytes`, or [`DecodeError::Field`]-style rejection (as an [`EncodeError`])
    /// naming the offending length when it is empty, odd or longer than [`MAX_EPC_LEN`].
    pub fn new(bytes: &[u8]) -> Result<Epc, EncodeError> {
        let len = bytes.len();
        if len == 0 || len % 2 != 0 || len > MAX_EPC_LEN {
            return Err(EncodeError::Field {
                field: "epc length",
                value: len as i64,
            });
        }
        let mut epc = Epc {
            len: len as u8,
            bytes: [0; MAX_EPC_LEN],
        };
        epc.bytes[..len].copy_from_slice(bytes);
        Ok(epc)
    }

    /// The EPC bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl core::fmt::Debug for Epc {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Epc(")?;
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// What went wrong on a node, in a [`Report::Fault`]. A plain code so that a gateway keeps codes
/// a newer firmware adds (they decode, and print as their number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FaultCode(pub u8);

impl FaultCode {
    /// The load-cell ADC did not signal data-ready within its bounded wait; `detail` is the
    /// number of polls tried. Reported once per outage.
    pub const SENSOR_TIMEOUT: FaultCode = FaultCode(1);
    /// The ADC reads at its rail (overload or a broken wire); `detail` is the raw reading as
    /// two's complement. Reported once per outage.
    pub const SENSOR_SATURATED: FaultCode = FaultCode(2);
    /// The node's event queue was full and events were dropped; `detail` is how many (weight
    /// reports first, see [`crate::node`]).
    pub const QUEUE_OVERFLOW: FaultCode = FaultCode(3);
    /// A pin of the load-cell interface failed; `detail` is the embedded-hal error kind's index.
    pub const SENSOR_PIN: FaultCode = FaultCode(4);
}

/// The outcome of a gateway command, in a [`Report::CommandResult`]. A plain code so that
/// codes a newer firmware adds still decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommandStatus(pub u8);

impl CommandStatus {
    /// Done. `value` is 0, or for a calibration the new counts per kilogram.
    pub const OK: CommandStatus = CommandStatus(0);
    /// The lane does not exist on this node; `value` is the lane number.
    pub const UNKNOWN_LANE: CommandStatus = CommandStatus(1);
    /// A unit weight of 0, or a tolerance of half a unit or more (units could not be told
    /// apart); `value` is the offending number.
    pub const INVALID_VALUE: CommandStatus = CommandStatus(2);
    /// Tare or calibration needs a settled weight and the lane is moving; `value` is the lane.
    pub const NOT_STABLE: CommandStatus = CommandStatus(3);
}

/// A gateway → node message (kinds 0x01..=0x7F). Every command gets exactly one answer from the
/// addressed node (see [`crate::node`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Kind 0x01, no payload: "send me your oldest unacknowledged event, or a heartbeat".
    Poll,
    /// Kind 0x02, `seq: u16`: the node's event `seq` arrived; the node drops it from its queue
    /// and answers as to a poll.
    Ack {
        /// The node sequence number acknowledged.
        seq: u16,
    },
    /// Kind 0x03, `lane: u8, unit_mg: u32, tolerance_mg: u32`: the weight of one item on the
    /// lane and how far a change may be from a whole number of items.
    ConfigureLane {
        /// Lane index, 0-based.
        lane: u8,
        /// Weight of one item, in milligrams (> 0).
        unit_mg: u32,
        /// Accepted distance of a change from a whole number of units, in milligrams
        /// (< `unit_mg / 2`).
        tolerance_mg: u32,
    },
    /// Kind 0x04, `lane: u8`: take the lane's current settled weight as zero
    /// ([`ALL_LANES`] for every lane).
    Tare {
        /// Lane index, or [`ALL_LANES`].
        lane: u8,
    },
    /// Kind 0x05, `lane: u8, known_mg: u32`: the lane now carries `known_mg` (on top of its
    /// tare); derive counts per kilogram from its settled reading.
    Calibrate {
        /// Lane index, 0-based.
        lane: u8,
        /// The known weight on the lane, in milligrams (> 0).
        known_mg: u32,
    },
    /// Kind 0x06, `seconds: u8`: blink the node's LED for that long (0 stops).
    Identify {
        /// How long to blink.
        seconds: u8,
    },
}

/// A node → gateway message (kinds 0x81..=0xFF). [`Report::is_event`] tells which ones are
/// queued on the node and resent until acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// Kind 0x81, `node_id: u64, major: u8, minor: u8, patch: u8, lanes: u8`: the node booted.
    /// The first event of every boot; the gateway resets its dedupe state for the node on it.
    Hello {
        /// The node's unique hardware id (e.g. folded from the MCU's unique id).
        node_id: u64,
        /// Firmware version.
        firmware: FirmwareVersion,
        /// Number of load-cell lanes.
        lanes: u8,
    },
    /// Kind 0x82, `uptime_s: u32, queued: u8, dropped: u16, flags: u8` (bit 0: identifying;
    /// other bits 0): the answer to a poll when no event waits. Not queued, not acknowledged.
    Heartbeat {
        /// Seconds since boot.
        uptime_s: u32,
        /// Events waiting in the queue.
        queued: u8,
        /// Events dropped because the queue was full, since boot (saturating).
        dropped: u16,
        /// The LED is blinking for an identify command.
        identifying: bool,
    },
    /// Kind 0x83, `lane: u8, flags: u8, weight_mg: i32, raw: i32` (flags bit 0: stable; other
    /// bits 0): the lane's weight above its tare, and the raw ADC counts.
    LaneWeight {
        /// Lane index.
        lane: u8,
        /// The weight had settled.
        stable: bool,
        /// Weight above the tare, in milligrams.
        weight_mg: i32,
        /// The raw ADC reading behind it.
        raw: i32,
    },
    /// Kind 0x84, `lane: u8, units: i16, delta_mg: i32`: a settled change of a whole number of
    /// items: `units < 0` were picked, `units > 0` put back (never 0).
    PickPut {
        /// Lane index.
        lane: u8,
        /// Items added (positive) or removed (negative); never 0.
        units: i16,
        /// The measured weight change, in milligrams.
        delta_mg: i32,
    },
    /// Kind 0x85, `lane: u8, delta_mg: i32`: a settled change that is not within tolerance of a
    /// whole number of items (or a change on a lane without a unit weight). Reported, never
    /// guessed.
    Ambiguous {
        /// Lane index.
        lane: u8,
        /// The measured weight change, in milligrams.
        delta_mg: i32,
    },
    /// Kind 0x86, `antenna: u8, rssi_ddbm: i16, epc_len: u8, epc: [u8; epc_len]`: a tag read by
    /// the node's own RFID module. `epc_len` is even, 2..=62.
    TagRead {
        /// Antenna port, as the module numbers it.
        antenna: u8,
        /// Signal strength in tenths of a dBm (−615 is −61.5 dBm).
        rssi_ddbm: i16,
        /// The EPC.
        epc: Epc,
    },
    /// Kind 0x87, `code: u8, lane: u8, detail: u32`: something failed; `lane` is
    /// [`NODE_WIDE`] when no lane is concerned.
    Fault {
        /// What failed.
        code: FaultCode,
        /// The lane, or [`NODE_WIDE`].
        lane: u8,
        /// Code-specific detail (see [`FaultCode`]).
        detail: u32,
    },
    /// Kind 0x88, `status: u8, value: i32`: the answer to a configure, tare, calibrate or
    /// identify command; the frame's `seq` echoes the command's. Not queued, not acknowledged
    /// (the gateway resends the command; the node does not run a command twice).
    CommandResult {
        /// The outcome.
        status: CommandStatus,
        /// Status-specific value (see [`CommandStatus`]).
        value: i32,
    },
}

impl Report {
    /// True for the reports a node keeps until the gateway acknowledges them (everything but
    /// heartbeats and command results, which are answers, not events).
    pub fn is_event(&self) -> bool {
        !matches!(
            self,
            Report::Heartbeat { .. } | Report::CommandResult { .. }
        )
    }
}

/// What a message type needs to be carried in a [`super::Frame`]: its kind byte and payload
/// layout. Implemented by [`Command`] and [`Report`]; not meant for other types.
pub trait Message: Sized + Copy {
    /// True when `kind` belongs to this direction (commands 0x01..=0x7F, reports 0x81..=0xFF).
    fn owns_kind(kind: u8) -> bool;
    /// The kind byte of this message.
    fn kind(&self) -> u8;
    /// Checks the fields a decoder would reject, so that nothing encodes that cannot decode.
    fn validate(&self) -> Result<(), EncodeError>;
    /// Writes the payload into `out` and returns its length (at most [`MAX_PAYLOAD_LEN`];
    /// `out` must be at least that long).
    fn write_payload(&self, out: &mut [u8; MAX_PAYLOAD_LEN]) -> usize;
    /// Reads a payload of `kind` (a kind this type owns).
    fn read_payload(kind: u8, payload: &[u8]) -> Result<Self, DecodeError>;
}

fn expect_len(kind: u8, payload: &[u8], expected: usize) -> Result<(), DecodeError> {
    if payload.len() == expected {
        Ok(())
    } else {
        Err(DecodeError::PayloadLength {
            kind,
            expected,
            found: payload.len(),
        })
    }
}

/// Little-endian readers over a payload whose length was checked first.
fn u16_at(p: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([p[at], p[at + 1]])
}
fn u32_at(p: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]])
}
fn i32_at(p: &[u8], at: usize) -> i32 {
    u32_at(p, at) as i32
}

impl Message for Command {
    fn owns_kind(kind: u8) -> bool {
        (0x01..=0x7F).contains(&kind)
    }

    fn kind(&self) -> u8 {
        match self {
            Command::Poll => 0x01,
            Command::Ack { .. } => 0x02,
            Command::ConfigureLane { .. } => 0x03,
            Command::Tare { .. } => 0x04,
            Command::Calibrate { .. } => 0x05,
            Command::Identify { .. } => 0x06,
        }
    }

    fn validate(&self) -> Result<(), EncodeError> {
        Ok(())
    }

    fn write_payload(&self, out: &mut [u8; MAX_PAYLOAD_LEN]) -> usize {
        match *self {
            Command::Poll => 0,
            Command::Ack { seq } => {
                out[..2].copy_from_slice(&seq.to_le_bytes());
                2
            }
            Command::ConfigureLane {
                lane,
                unit_mg,
                tolerance_mg,
            } => {
                out[0] = lane;
                out[1..5].copy_from_slice(&unit_mg.to_le_bytes());
                out[5..9].copy_from_slice(&tolerance_mg.to_le_bytes());
                9
            }
            Command::Tare { lane } => {
                out[0] = lane;
                1
            }
            Command::Calibrate { lane, known_mg } => {
                out[0] = lane;
                out[1..5].copy_from_slice(&known_mg.to_le_bytes());
                5
            }
            Command::Identify { seconds } => {
                out[0] = seconds;
                1
            }
        }
    }

    fn read_payload(kind: u8, p: &[u8]) -> Result<Self, DecodeError> {
        match kind {
            0x01 => expect_len(kind, p, 0).map(|()| Command::Poll),
            0x02 => expect_len(kind, p, 2).map(|()| Command::Ack { seq: u16_at(p, 0) }),
            0x03 => expect_len(kind, p, 9).map(|()| Command::ConfigureLane {
                lane: p[0],
                unit_mg: u32_at(p, 1),
                tolerance_mg: u32_at(p, 5),
            }),
            0x04 => expect_len(kind, p, 1).map(|()| Command::Tare { lane: p[0] }),
            0x05 => expect_len(kind, p, 5).map(|()| Command::Calibrate {
                lane: p[0],
                known_mg: u32_at(p, 1),
            }),
            0x06 => expect_len(kind, p, 1).map(|()| Command::Identify { seconds: p[0] }),
            _ => Err(DecodeError::UnknownKind(kind)),
        }
    }
}

impl Message for Report {
    fn owns_kind(kind: u8) -> bool {
        kind >= 0x81
    }

    fn kind(&self) -> u8 {
        match self {
            Report::Hello { .. } => 0x81,
            Report::Heartbeat { .. } => 0x82,
            Report::LaneWeight { .. } => 0x83,
            Report::PickPut { .. } => 0x84,
            Report::Ambiguous { .. } => 0x85,
            Report::TagRead { .. } => 0x86,
            Report::Fault { .. } => 0x87,
            Report::CommandResult { .. } => 0x88,
        }
    }

    fn validate(&self) -> Result<(), EncodeError> {
        match *self {
            Report::PickPut { units: 0, .. } => Err(EncodeError::Field {
                field: "pick/put units",
                value: 0,
            }),
            _ => Ok(()),
        }
    }

    fn write_payload(&self, out: &mut [u8; MAX_PAYLOAD_LEN]) -> usize {
        match *self {
            Report::Hello {
                node_id,
                firmware,
                lanes,
            } => {
                out[..8].copy_from_slice(&node_id.to_le_bytes());
                out[8] = firmware.major;
                out[9] = firmware.minor;
                out[10] = firmware.patch;
                out[11] = lanes;
                12
            }
            Report::Heartbeat {
                uptime_s,
                queued,
                dropped,
                identifying,
            } => {
                out[..4].copy_from_slice(&uptime_s.to_le_bytes());
                out[4] = queued;
                out[5..7].copy_from_slice(&dropped.to_le_bytes());
                out[7] = u8::from(identifying);
                8
            }
            Report::LaneWeight {
                lane,
                stable,
                weight_mg,
                raw,
            } => {
                out[0] = lane;
                out[1] = u8::from(stable);
                out[2..6].copy_from_slice(&weight_mg.to_le_bytes());
                out[6..10].copy_from_slice(&raw.to_le_bytes());
                10
            }
            Report::PickPut {
                lane,
                units,
                delta_mg,
            } => {
                out[0] = lane;
                out[1..3].copy_from_slice(&units.to_le_bytes());
                out[3..7].copy_from_slice(&delta_mg.to_le_bytes());
                7
            }
            Report::Ambiguous { lane, delta_mg } => {
                out[0] = lane;
                out[1..5].copy_from_slice(&delta_mg.to_le_bytes());
                5
            }
            Report::TagRead {
                antenna,
                rssi_ddbm,
                epc,
            } => {
                let bytes = epc.as_bytes();
                out[0] = antenna;
                out[1..3].copy_from_slice(&rssi_ddbm.to_le_bytes());
                out[3] = bytes.len() as u8;
                out[4..4 + bytes.len()].copy_from_slice(bytes);
                4 + bytes.len()
            }
            Report::Fault { code, lane, detail } => {
                out[0] = code.0;
                out[1] = lane;
                out[2..6].copy_from_slice(&detail.to_le_bytes());
                6
            }
            Report::CommandResult { status, value } => {
                out[0] = status.0;
                out[1..5].copy_from_slice(&value.to_le_bytes());
                5
            }
        }
    }

    fn read_payload(kind: u8, p: &[u8]) -> Result<Self, DecodeError> {
        let flag = |at: usize, field: &'static str| -> Result<bool, DecodeError> {
            match p[at] {
                0 => Ok(false),
                1 => Ok(true),
                other => Err(DecodeError::Field {
                    kind,
                    field,
                    value: u32::from(other),
                }),
            }
        };
        match kind {
            0x81 => {
                expect_len(kind, p, 12)?;
                let mut id = [0u8; 8];
                id.copy_from_slice(&p[..8]);
                Ok(Report::Hello {
                    node_id: u64::from_le_bytes(id),
                    firmware: FirmwareVersion {
                        major: p[8],
                        minor: p[9],
                        patch: p[10],
                    },
                    lanes: p[11],
                })
            }
            0x82 => {
                expect_len(kind, p, 8)?;
                Ok(Report::Heartbeat {
                    uptime_s: u32_at(p, 0),
                    queued: p[4],
                    dropped: u16_at(p, 5),
                    identifying: flag(7, "heartbeat flags")?,
                })
            }
            0x83 => {
                expect_len(kind, p, 10)?;
                Ok(Report::LaneWeight {
                    lane: p[0],
                    stable: flag(1, "lane weight flags")?,
                    weight_mg: i32_at(p, 2),
                    raw: i32_at(p, 6),
                })
            }
            0x84 => {
                expect_len(kind, p, 7)?;
                let units = u16_at(p, 1) as i16;
                if units == 0 {
                    return Err(DecodeError::Field {
                        kind,
                        field: "pick/put units",
                        value: 0,
                    });
                }
                Ok(Report::PickPut {
                    lane: p[0],
                    units,
                    delta_mg: i32_at(p, 3),
                })
            }
            0x85 => {
                expect_len(kind, p, 5)?;
                Ok(Report::Ambiguous {
                    lane: p[0],
                    delta_mg: i32_at(p, 1),
                })
            }
            0x86 => {
                if p.len() < 4 {
                    return Err(DecodeError::PayloadLength {
                        kind,
                        expected: 4,
                        found: p.len(),
                    });
                }
                let len = usize::from(p[3]);
                if len == 0 || len % 2 != 0 || len > MAX_EPC_LEN {
                    return Err(DecodeError::Field {
                        kind,
                        field: "epc length",
                        value: len as u32,
                    });
                }
                expect_len(kind, p, 4 + len)?;
                let epc = Epc::new(&p[4..]).map_err(|_| DecodeError::Field {
                    kind,
                    field: "epc length",
                    value: len as u32,
                })?;
                Ok(Report::TagRead {
                    antenna: p[0],
                    rssi_ddbm: u16_at(p, 1) as i16,
                    epc,
                })
            }
            0x87 => {
                expect_len(kind, p, 6)?;
                Ok(Report::Fault {
                    code: FaultCode(p[0]),
                    lane: p[1],
                    detail: u32_at(p, 2),
                })
            }
            0x88 => {
                expect_len(kind, p, 5)?;
                Ok(Report::CommandResult {
                    status: CommandStatus(p[0]),
                    value: i32_at(p, 1),
                })
            }
            _ => Err(DecodeError::UnknownKind(kind)),
        }
    }
}
