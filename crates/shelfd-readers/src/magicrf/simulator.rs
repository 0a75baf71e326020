//! 0xBB module side, for tests and the PTY simulator: parses host commands (checksum and end
//! byte checked; broken frames are ignored as a module ignores line noise), answers with the
//! bytes a module sends, and runs the multi-poll: each [`ReaderSimulator::round`] is one
//! inventory round of the count, with one notification per tag in view or, when none is, the
//! `0x15` error frame the module sends for an empty round. When the count runs out the module
//! goes quiet. The module is single-port: only reads scripted on antenna 1 are in view.

use super::codec::{
    Framing, MAX_PARAM, OVERHEAD, cmd, encode_error, encode_response, encode_tag_notification,
    errors, kind, parse_frame,
};
use crate::frame::{ReaderSimulator, TagReport};
use crate::wire::WireOptions;

/// The hardware version string (BB-14).
pub const HARDWARE_VERSION: &[u8] = b"M100 V1.00";
/// The software version string.
pub const SOFTWARE_VERSION: &[u8] = b"V1.00";
/// The manufacturer string.
pub const MANUFACTURER: &[u8] = b"MagicRF";

/// A simulated 0xBB module.
#[derive(Debug)]
pub struct Simulator {
    framing: Framing,
    input: Vec<u8>,
    /// Inventory rounds left in the current single or multi-poll (0 = idle).
    rounds_left: u32,
    tx_power: u16,
    region: u8,
}

impl Simulator {
    /// An idle module with the framing configured in `options`.
    pub fn new(options: &WireOptions) -> Self {
        Simulator {
            framing: Framing::from_options(options),
            input: Vec::new(),
            rounds_left: 0,
            tx_power: 2600,
            region: 0x02,
        }
    }

    fn ack(&self, code: u8) -> Vec<u8> {
        encode_response(self.framing, code, &[0x00])
    }

    fn invalid(&self) -> Vec<u8> {
        encode_error(self.framing, errors::INVALID_COMMAND)
    }

    /// The reply to one checked host command.
    fn handle(&mut self, code: u8, param: &[u8]) -> Vec<u8> {
        match (code, param) {
            (cmd::SINGLE_POLL, []) => {
                self.rounds_left = 1;
                Vec::new()
            }
            (cmd::MULTI_POLL, [_, hi, lo]) => {
                self.rounds_left = u32::from(u16::from_be_bytes([*hi, *lo]));
                Vec::new()
            }
            (cmd::STOP_MULTI_POLL, []) => {
                self.rounds_left = 0;
                self.ack(cmd::STOP_MULTI_POLL)
            }
            (cmd::INFO, [which @ 0..=2]) => {
                let text = match which {
                    0 => HARDWARE_VERSION,
                    1 => SOFTWARE_VERSION,
                    _ => MANUFACTURER,
                };
                let mut reply = vec![*which];
                reply.extend_from_slice(text);
                encode_response(self.framing, cmd::INFO, &reply)
            }
            (cmd::SET_TX_POWER, [hi, lo]) => {
                self.tx_power = u16::from_be_bytes([*hi, *lo]);
                self.ack(cmd::SET_TX_POWER)
            }
            (cmd::GET_TX_POWER, []) => encode_response(
                self.framing,
                cmd::GET_TX_POWER,
                &self.tx_power.to_be_bytes(),
            ),
            (cmd::SET_REGION, [region]) => {
                self.region = *region;
                self.ack(cmd::SET_REGION)
            }
            (cmd::GET_REGION, []) => encode_response(self.framing, cmd::GET_REGION, &[self.region]),
            (cmd::SET_SELECT, p) if p.len() >= 7 => self.ack(cmd::SET_SELECT),
            (cmd::SELECT_MODE, [0..=2]) => self.ack(cmd::SELECT_MODE),
            // The module switches rate without a reply; the simulator keeps talking.
            (cmd::SET_BAUD, [_, _]) => Vec::new(),
            _ => self.invalid(),
        }
    }
}

impl ReaderSimulator for Simulator {
    fn on_host_bytes(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.input.extend_from_slice(bytes);
        let mut replies = Vec::new();
        let mut at = 0;
        while at < self.input.len() {
            match parse_frame(self.framing, &self.input[at..]) {
                Ok(None) => break,
                Err(_) => at += 1,
                Ok(Some((len, raw))) => {
                    let (code, param, is_command) =
                        (raw.cmd, raw.param.to_vec(), raw.kind == kind::COMMAND);
                    at += len;
                    if is_command {
                        replies.extend(self.handle(code, &param));
                    }
                }
            }
        }
        self.input.drain(..at);
        // A header with an unbelievable length is rejected by parse_frame, so at most one
        // incomplete frame is ever held.
        debug_assert!(self.input.len() < MAX_PARAM + OVERHEAD);
        replies
    }

    fn inventory_running(&self) -> bool {
        self.rounds_left > 0
    }

    fn round(&mut self, tags: &[TagReport]) -> Vec<u8> {
        if self.rounds_left == 0 {
            return Vec::new();
        }
        self.rounds_left -= 1;
        let out: Vec<u8> = tags
            .iter()
            .filter(|t| t.antenna == 1)
            .flat_map(|t| encode_tag_notification(self.framing, t))
            .collect();
        if out.is_empty() {
            return encode_error(self.framing, errors::NO_TAG);
        }
        out
    }
}
