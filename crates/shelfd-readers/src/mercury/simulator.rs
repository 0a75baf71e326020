//! The module side for tests and `shelfd simulate`: [`Simulator`] cuts host command frames
//! ([`cut_host_frame`]), answers each with the reply a module sends, and once continuous
//! reading is started turns scripted reads into streamed tag records carrying exactly the
//! metadata the host asked for.

use super::codes::*;
use super::commands::StartRequest;
use super::record::{SEARCH_RETURN_ON_N_TAGS, encode_streamed_record};
use super::{MAX_LEN, START, crc, reply_frame};
use crate::frame::{ReaderSimulator, TagReport};
use crate::wire::WireOptions;

/// The version block the simulated module reports (get version, boot firmware, power-up
/// broadcast): bootloader 12.03.00.00, hardware 0x30 (M6E-Nano), firmware date 2017-03-31,
/// firmware 01.07.01.02, protocol bitmask 0x00000010 (protocol 5, Gen2). Invented values of
/// the documented layout.
pub const VERSION_BLOCK: [u8; 20] = [
    0x12, 0x03, 0x00, 0x00, 0x30, 0x01, 0x00, 0x00, 0x20, 0x17, 0x03, 0x31, 0x01, 0x07, 0x01, 0x02,
    0x00, 0x00, 0x00, 0x10,
];

/// Highest read power (centi-dBm) the simulated module accepts (M6E: 31.50 dBm).
pub const MAX_READ_POWER: u16 = 3150;

/// While streaming, every this many rounds ends with a keep-alive even when tags were read
/// (rounds without tags always end with one).
pub const KEEPALIVE_EVERY: u64 = 10;

/// Baud rates the simulated module accepts (the rates Mercury probes).
const BAUD_RATES: [u32; 8] = [
    9600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800, 921_600,
];

/// Regions the simulated module accepts (READERS.md §1.4).
const REGIONS: [u8; 11] = [
    0x01, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0xFF,
];

/// The streaming keep-alive `FF 00 22 04 00 84 E0` (opcode 0x22, status 0x0400 "no tags found").
pub fn keepalive_frame() -> Vec<u8> {
    reply_frame(OP_READ_TAG_MULTIPLE, STATUS_NO_TAGS_FOUND, &[])
}

/// What [`cut_host_frame`] found at the front of a byte slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostCut<'a> {
    /// Too few bytes to decide.
    NeedMore,
    /// The first byte cannot start a command (not 0xFF, LEN over 0xF8, or bad CRC): skip it.
    Garbage,
    /// A checked command frame of `len` bytes.
    Command {
        /// Opcode.
        op: u8,
        /// DATA bytes.
        data: &'a [u8],
        /// Total frame length (LEN + 5).
        len: usize,
    },
}

/// Cuts one host → module frame (`FF LEN OP DATA CRC`) off the front of `bytes`.
pub fn cut_host_frame(bytes: &[u8]) -> HostCut<'_> {
    let Some(&first) = bytes.first() else {
        return HostCut::NeedMore;
    };
    if first != START {
        return HostCut::Garbage;
    }
    let Some(&len) = bytes.get(1) else {
        return HostCut::NeedMore;
    };
    if len > MAX_LEN {
        return HostCut::Garbage;
    }
    let total = usize::from(len) + 5;
    let Some(frame) = bytes.get(..total) else {
        return HostCut::NeedMore;
    };
    let check = u16::from_be_bytes([frame[total - 2], frame[total - 1]]);
    if check != crc(&frame[1..total - 2]) {
        return HostCut::Garbage;
    }
    HostCut::Command {
        op: frame[2],
        data: &frame[3..total - 2],
        len: total,
    }
}

/// A running continuous read.
#[derive(Debug, Clone, Copy)]
struct Run {
    request: StartRequest,
    /// Tags sent in this run (for stop-after-N).
    sent: u32,
}

/// A simulated M6E-Nano. It sends its power-up broadcast (opcode 0x04 with [`VERSION_BLOCK`])
/// before its first reply, as a module that powered up when the port opened; answers get
/// version, boot firmware, set baud rate, get current program (application), clear tag
/// buffer, start / stop continuous reading, set antenna list, read / write power, protocol,
/// region, reader and protocol parameters, get protocol and get region; other opcodes of the
/// protocol with status 0x0102, unknown ones with 0x0101; bad values with their status words.
/// Frames with a bad CRC are ignored. `round` writes records straight away, so a stop has
/// nothing left to flush: it answers `FF 01 2F 00 00 02 30 E6`.
#[derive(Debug, Clone)]
pub struct Simulator {
    rx: Vec<u8>,
    power_up_pending: bool,
    run: Option<Run>,
    protocol: u16,
    region: u8,
    read_power: u16,
    antennas: Vec<u8>,
    rounds: u64,
}

impl Simulator {
    /// A module just powered up; its antenna list starts as `options.antennas`.
    pub fn new(options: &WireOptions) -> Self {
        Simulator {
            rx: Vec::new(),
            power_up_pending: true,
            run: None,
            protocol: u16::from(PROTOCOL_GEN2),
            region: 0x0D,
            read_power: 2700,
            antennas: options
                .antennas
                .iter()
                .filter_map(|&a| u8::try_from(a).ok())
                .collect(),
            rounds: 0,
        }
    }

    /// The antenna search list the host set last.
    pub fn antennas(&self) -> &[u8] {
        &self.antennas
    }

    /// The read power (centi-dBm) the host set last.
    pub fn read_power(&self) -> u16 {
        self.read_power
    }

    /// The metadata flags of the running continuous read.
    pub fn metadata_flags(&self) -> Option<u16> {
        self.run.map(|r| r.request.metadata_flags)
    }

    fn answer(&mut self, op: u8, data: &[u8]) -> Vec<u8> {
        let ok = |data: &[u8]| reply_frame(op, STATUS_OK, data);
        let err = |status| reply_frame(op, status, &[]);
        match op {
            OP_GET_VERSION | OP_BOOT_FIRMWARE => ok(&VERSION_BLOCK),
            OP_GET_CURRENT_PROGRAM => ok(&[0x02]),
            OP_CLEAR_TAG_BUFFER | OP_SET_PROTOCOL_PARAM => ok(&[]),
            OP_SET_BAUD_RATE => match <[u8; 4]>::try_from(data) {
                Ok(b) if BAUD_RATES.contains(&u32::from_be_bytes(b)) => ok(&[]),
                Ok(_) => err(STATUS_INVALID_BAUD),
                Err(_) => err(STATUS_WRONG_DATA_LENGTH),
            },
            OP_MULTI_PROTOCOL => self.multi_protocol(data),
            OP_SET_ANTENNA => match data {
                [0x02, pairs @ ..] if !pairs.is_empty() && pairs.len() % 2 == 0 => {
                    let ports: Vec<u8> = pairs.chunks(2).map(|p| p[0]).collect();
                    let valid = pairs
                        .chunks(2)
                        .all(|p| p[0] == p[1] && (1..=16).contains(&p[0]));
                    if valid {
                        self.antennas = ports;
                        ok(&[])
                    } else {
                        err(STATUS_INVALID_ANTENNA_CONFIG)
                    }
                }
                [0x02, ..] | [] => err(STATUS_WRONG_DATA_LENGTH),
                _ => ok(&[]),
            },
            OP_SET_READ_POWER | OP_SET_WRITE_POWER => match <[u8; 2]>::try_from(data) {
                Ok(b) if u16::from_be_bytes(b) > MAX_READ_POWER => err(STATUS_POWER_TOO_HIGH),
                Ok(b) => {
                    if op == OP_SET_READ_POWER {
                        self.read_power = u16::from_be_bytes(b);
                    }
                    ok(&[])
                }
                Err(_) => err(STATUS_WRONG_DATA_LENGTH),
            },
            OP_SET_TAG_PROTOCOL => match <[u8; 2]>::try_from(data) {
                Ok(b) if u16::from_be_bytes(b) == u16::from(PROTOCOL_GEN2) => {
                    self.protocol = u16::from_be_bytes(b);
                    ok(&[])
                }
                Ok(_) => err(STATUS_INVALID_PROTOCOL),
                Err(_) => err(STATUS_WRONG_DATA_LENGTH),
            },
            OP_SET_REGION => match data {
                [region] if REGIONS.contains(region) => {
                    self.region = *region;
                    ok(&[])
                }
                [_] => err(STATUS_INVALID_REGION),
                _ => err(STATUS_WRONG_DATA_LENGTH),
            },
            OP_SET_READER_PARAM => match data {
                [0x01, _key, _value, ..] => ok(&[]),
                [_, _, _, ..] => err(STATUS_INVALID_PARAMETER),
                _ => err(STATUS_WRONG_DATA_LENGTH),
            },
            OP_GET_TAG_PROTOCOL => ok(&self.protocol.to_be_bytes()),
            OP_GET_REGION => ok(&[self.region]),
            OP_READ_TAG_SINGLE
            | OP_READ_TAG_MULTIPLE
            | OP_WRITE_TAG_DATA
            | OP_READ_TAG_DATA
            | OP_GET_TAG_BUFFER
            | OP_GET_ANTENNA
            | OP_GET_READ_POWER
            | OP_GET_WRITE_POWER
            | OP_GET_GPIO
            | OP_GET_READER_PARAM
            | OP_GET_PROTOCOL_PARAM
            | OP_GET_TEMPERATURE
            | OP_SET_GPIO
            | OP_USER_PROFILE => err(STATUS_UNIMPLEMENTED_OPCODE),
            _ => err(STATUS_INVALID_OPCODE),
        }
    }

    fn multi_protocol(&mut self, data: &[u8]) -> Vec<u8> {
        let op = OP_MULTI_PROTOCOL;
        match data.get(2) {
            Some(0x01) => match StartRequest::parse(data) {
                Ok(request) => {
                    self.run = Some(Run { request, sent: 0 });
                    // Echo option, sub-opcode and the multi-protocol search flags (TM-4).
                    reply_frame(op, STATUS_OK, &[0x01, data[3], data[4], data[5]])
                }
                Err(status) => reply_frame(op, status, &[]),
            },
            Some(0x02) => {
                self.run = None;
                reply_frame(op, STATUS_OK, &[0x02])
            }
            Some(_) => reply_frame(op, STATUS_UNIMPLEMENTED_FEATURE, &[]),
            None => reply_frame(op, STATUS_WRONG_DATA_LENGTH, &[]),
        }
    }
}

impl ReaderSimulator for Simulator {
    fn on_host_bytes(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        if std::mem::take(&mut self.power_up_pending) {
            out.extend(reply_frame(OP_BOOT_FIRMWARE, STATUS_OK, &VERSION_BLOCK));
        }
        self.rx.extend_from_slice(bytes);
        let mut pos = 0;
        loop {
            let (op, data, len) = match cut_host_frame(&self.rx[pos..]) {
                HostCut::NeedMore => break,
                HostCut::Garbage => {
                    pos += 1;
                    continue;
                }
                HostCut::Command { op, data, len } => (op, data.to_vec(), len),
            };
            pos += len;
            out.extend(self.answer(op, &data));
        }
        self.rx.drain(..pos);
        out
    }

    fn inventory_running(&self) -> bool {
        self.run.is_some()
    }

    /// One search cycle: a record per tag (up to the remaining count of a stop-after-N run,
    /// which then ends with its end frame, as TM-7), then a keep-alive when the cycle read
    /// nothing or every [`KEEPALIVE_EVERY`] rounds.
    fn round(&mut self, tags: &[TagReport]) -> Vec<u8> {
        let Some(mut run) = self.run else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let request = run.request;
        for tag in tags {
            if request.stop_after.is_some_and(|n| run.sent >= n) {
                break;
            }
            out.extend(encode_streamed_record(
                request.search_flags,
                request.metadata_flags,
                tag,
            ));
            run.sent = run.sent.saturating_add(1);
        }
        if request.stop_after.is_some_and(|n| run.sent >= n) {
            let mut data = vec![0x01];
            data.extend_from_slice(&SEARCH_RETURN_ON_N_TAGS.to_be_bytes());
            data.extend_from_slice(&run.sent.to_be_bytes());
            out.extend(reply_frame(OP_READ_TAG_MULTIPLE, STATUS_OK, &data));
            self.run = None;
            return out;
        }
        self.run = Some(run);
        self.rounds += 1;
        if tags.is_empty() || self.rounds % KEEPALIVE_EVERY == 0 {
            out.extend(keepalive_frame());
        }
        out
    }
}
