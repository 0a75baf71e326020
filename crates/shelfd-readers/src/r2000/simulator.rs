//! 0xA0 reader side, for tests and the PTY simulator: parses host commands (check verified;
//! broken frames and frames for another address are ignored), answers with the bytes a reader
//! sends, and runs real-time inventories. Each 0x89 (or 0x8B) queues one round; each
//! [`ReaderSimulator::round`] answers the oldest with one frame per tag in view on the work
//! antenna (a multi-port reader only reads on its active port) and one completion frame, short
//! (Len 0x08) or long (Len 0x0A, with a read rate) per `WireOptions.r2000_long_round_end`.
//! Ports in `WireOptions.antennas` are connected; an inventory on any other port is answered
//! at once with error 0x22 (antenna missing).

use std::collections::VecDeque;

use super::codec::{
    BROADCAST, MAX_FRAME, cmd, encode_frame, encode_round_end, encode_status, encode_tag_frame,
    frequency_index, parse_frame, status,
};
use crate::frame::{ReaderSimulator, TagReport};
use crate::wire::WireOptions;

/// Firmware version the simulator reports (major, minor).
pub const FIRMWARE_VERSION: [u8; 2] = [8, 1];

/// Address the simulated reader answers with when the host broadcasts.
pub const DEFAULT_ADDRESS: u8 = 0x01;

/// Nominal length of a simulated round, for the read rate of long completion frames.
pub const NOMINAL_ROUND_MS: u32 = 100;

/// Inventory commands queued at most (more are dropped, as a busy reader would).
const MAX_QUEUED: usize = 16;

/// First and last frequency-table index the simulator hops over (902.0..=928.0 MHz).
const HOP_FIRST: u8 = 7;
const HOP_LAST: u8 = 59;

/// A simulated 0xA0 reader.
#[derive(Debug)]
pub struct Simulator {
    address: u8,
    connected: Vec<u16>,
    long_round_end: bool,
    /// Work antenna id (0..=3 = port 1..4).
    work_antenna: u8,
    power: u8,
    /// Inventory commands waiting for a round (their command codes).
    queued: VecDeque<u8>,
    hop: u8,
    input: Vec<u8>,
}

impl Simulator {
    /// A reader at `options.r2000_address` (or [`DEFAULT_ADDRESS`] when that is broadcast)
    /// with `options.antennas` connected, work antenna 1, nothing running.
    pub fn new(options: &WireOptions) -> Self {
        Simulator {
            address: if options.r2000_address == BROADCAST {
                DEFAULT_ADDRESS
            } else {
                options.r2000_address
            },
            connected: options.antennas.clone(),
            long_round_end: options.r2000_long_round_end,
            work_antenna: 0,
            power: 30,
            queued: VecDeque::new(),
            hop: HOP_FIRST,
            input: Vec::new(),
        }
    }

    fn status(&self, code: u8, value: u8) -> Vec<u8> {
        encode_status(self.address, code, value)
    }

    /// The reply to one checked command for this reader.
    fn handle(&mut self, code: u8, data: &[u8]) -> Vec<u8> {
        match (code, data) {
            (cmd::REAL_TIME_INVENTORY, [_]) | (cmd::SESSION_INVENTORY, [_, _, _]) => {
                let port = u16::from(self.work_antenna) + 1;
                if !self.connected.contains(&port) {
                    return self.status(code, status::ANTENNA_MISSING);
                }
                if self.queued.len() < MAX_QUEUED {
                    self.queued.push_back(code);
                }
                Vec::new()
            }
            (cmd::REAL_TIME_INVENTORY | cmd::SESSION_INVENTORY, _) => {
                self.status(code, status::INVALID_PARAMETER)
            }
            (cmd::SET_WORK_ANTENNA, [id]) => {
                if *id > 3 {
                    return self.status(code, status::ANTENNA_ID);
                }
                self.work_antenna = *id;
                self.status(code, status::SUCCESS)
            }
            (cmd::GET_WORK_ANTENNA, []) => self.status(code, self.work_antenna),
            (cmd::SET_OUTPUT_POWER, [dbm, ..]) if data.len() <= 4 => {
                if data.iter().any(|&d| d > 33) {
                    return self.status(code, status::OUTPUT_POWER);
                }
                self.power = *dbm;
                self.status(code, status::SUCCESS)
            }
            (cmd::GET_OUTPUT_POWER, []) => self.status(code, self.power),
            (cmd::GET_FIRMWARE_VERSION, []) => encode_frame(self.address, code, &FIRMWARE_VERSION),
            (cmd::RESET, []) => {
                self.work_antenna = 0;
                self.queued.clear();
                Vec::new()
            }
            (cmd::SET_WORK_ANTENNA | cmd::SET_OUTPUT_POWER, _) => {
                self.status(code, status::INVALID_PARAMETER)
            }
            _ => self.status(code, status::FAIL),
        }
    }
}

impl ReaderSimulator for Simulator {
    fn on_host_bytes(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.input.extend_from_slice(bytes);
        let mut replies = Vec::new();
        let mut at = 0;
        while at < self.input.len() {
            match parse_frame(&self.input[at..]) {
                Ok(None) => break,
                Err(_) => at += 1,
                Ok(Some((len, raw))) => {
                    let (address, code, data) = (raw.address, raw.cmd, raw.data.to_vec());
                    at += len;
                    if address == self.address || address == BROADCAST {
                        replies.extend(self.handle(code, &data));
                    }
                }
            }
        }
        self.input.drain(..at);
        debug_assert!(self.input.len() < MAX_FRAME);
        replies
    }

    fn inventory_running(&self) -> bool {
        !self.queued.is_empty()
    }

    fn round(&mut self, tags: &[TagReport]) -> Vec<u8> {
        let Some(code) = self.queued.pop_front() else {
            return Vec::new();
        };
        let port = u16::from(self.work_antenna) + 1;
        let mut out = Vec::new();
        let mut reads: u32 = 0;
        for tag in tags.iter().filter(|t| t.antenna == port) {
            let index = tag
                .frequency_khz
                .and_then(frequency_index)
                .unwrap_or(self.hop);
            out.extend(encode_tag_frame(
                self.address,
                code,
                self.work_antenna,
                index,
                tag,
            ));
            reads += 1;
        }
        self.hop = if self.hop >= HOP_LAST {
            HOP_FIRST
        } else {
            self.hop + 1
        };
        let rate = self.long_round_end.then(|| {
            u16::try_from(reads.saturating_mul(1000) / NOMINAL_ROUND_MS).unwrap_or(u16::MAX)
        });
        let mut end = encode_round_end(self.address, self.work_antenna, rate, reads);
        if code != cmd::REAL_TIME_INVENTORY {
            // 0x8B reports exactly like 0x89, with its own command byte.
            end = encode_frame(self.address, code, &end[4..end.len() - 1]);
        }
        out.extend(end);
        out
    }
}
