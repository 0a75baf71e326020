//! 0xA0 decoder: reader bytes in, checked items out. Cuts by Len, checks the check byte, tells
//! tag frames from completion and error frames by Len as the protocol does, bound-checks the
//! PC word against the EPC bytes carried, and names every other frame. Never trusts a length
//! it has not bound-checked, never panics.

use super::codec::{HEAD, RawFrame, cmd, frequency_khz, parse_frame, rssi_dbm, status};
use super::names;
use crate::frame::{Decoded, DecoderStats, FrameDecoder, FrameRole, TagReport};
use crate::gen2;
use crate::scan::{Cut, Probe, Scanner};
use crate::wire::WireOptions;

/// Cuts 0xA0 frames out of the bytes a reader sends.
#[derive(Debug)]
pub struct Decoder {
    scanner: Scanner,
}

impl Decoder {
    /// A decoder at stream offset 0. Replies come from the reader's own address whatever
    /// address the host sends to, so no option changes decoding.
    pub fn new(_options: &WireOptions) -> Self {
        Decoder {
            scanner: Scanner::new(HEAD),
        }
    }

    /// Unconsumed bytes held (at most one frame once drained).
    #[cfg(test)]
    pub(crate) fn buffered(&self) -> usize {
        self.scanner.buffered()
    }
}

impl FrameDecoder for Decoder {
    fn feed(&mut self, bytes: &[u8]) {
        self.scanner.feed(bytes);
    }

    fn next_frame(&mut self) -> Option<Decoded> {
        self.scanner.next(|bytes| match parse_frame(bytes) {
            Ok(None) => Probe::Need,
            Err(reason) => Probe::Reject(reason),
            Ok(Some((len, raw))) => match interpret(&raw) {
                Ok(cut) => Probe::Accept(len, cut),
                Err(reason) => Probe::Reject(reason),
            },
        })
    }

    fn stats(&self) -> DecoderStats {
        self.scanner.stats()
    }
}

fn frame(name: &'static str, role: FrameRole, code: Option<u8>) -> Cut {
    Cut::Frame {
        name,
        role,
        code: code.map(u16::from),
    }
}

/// What a checked frame means, or why its contents are not believable.
fn interpret(raw: &RawFrame<'_>) -> Result<Cut, String> {
    let first = raw.data.first().copied();
    let one_byte = raw.data.len() == 1;
    Ok(match raw.cmd {
        cmd::REAL_TIME_INVENTORY | cmd::SESSION_INVENTORY | cmd::FAST_SWITCH_INVENTORY => {
            inventory(raw)?
        }
        cmd::SET_WORK_ANTENNA if one_byte => match first {
            Some(status::SUCCESS) => frame(names::SET_WORK_ANTENNA_ACK, FrameRole::Ack, first),
            _ => frame(names::SET_WORK_ANTENNA_ERROR, FrameRole::Error, first),
        },
        cmd::GET_FIRMWARE_VERSION if raw.data.len() == 2 => {
            frame(names::VERSION, FrameRole::Info, None)
        }
        c if is_query(c) => frame(names::REPLY, FrameRole::Info, None),
        _ if one_byte => match first {
            Some(status::SUCCESS) => frame(names::COMMAND_ACK, FrameRole::Ack, first),
            _ => frame(names::ERROR, FrameRole::Error, first),
        },
        _ => frame(names::REPLY, FrameRole::Info, None),
    })
}

/// Commands whose reply carries a value rather than a status byte.
fn is_query(code: u8) -> bool {
    // GPIO read, antenna detector, identifier, RF link profile, work antenna, output power,
    // region, temperature, DRM, return loss, inventory buffer reads, buffer count.
    matches!(
        code,
        0x61 | 0x63
            | 0x68
            | 0x6A
            | cmd::GET_WORK_ANTENNA
            | cmd::GET_OUTPUT_POWER
            | 0x79
            | cmd::GET_TEMPERATURE
            | 0x7D
            | 0x7E
            | 0x90
            | 0x91
            | 0x92
    )
}

/// A frame of an inventory command: status, completion or tag, told apart by Len.
fn inventory(raw: &RawFrame<'_>) -> Result<Cut, String> {
    let code = raw.data.first().copied();
    let len = raw.len_byte();
    let is_fast_switch = raw.cmd == cmd::FAST_SWITCH_INVENTORY;
    Ok(match len {
        0x04 => match code {
            Some(status::SUCCESS) => frame(names::COMMAND_ACK, FrameRole::Ack, code),
            Some(status::NO_TAG) => frame(names::NO_TAG, FrameRole::NoTag, code),
            _ => frame(names::INVENTORY_ERROR, FrameRole::Error, code),
        },
        // Fast switching: `Ant | ErrorCode` for an antenna it skipped; the command goes on.
        0x05 if is_fast_switch => frame(
            names::ANTENNA_MISSING,
            FrameRole::Error,
            raw.data.get(1).copied(),
        ),
        0x0A | 0x0B if is_fast_switch => frame(names::ROUND_END, FrameRole::RoundEnd, None),
        0x08 | 0x0A if !is_fast_switch => frame(names::ROUND_END, FrameRole::RoundEnd, None),
        _ => Cut::Tag(tag(raw.data)?),
    })
}

/// A tag frame's data: `Freq_Ant | PC | EPC | RSSI`.
fn tag(data: &[u8]) -> Result<TagReport, String> {
    let [freq_ant, pc_hi, pc_lo, rest @ ..] = data else {
        return Err(format!(
            "tag frame Len 0x{:02X} is too short for Freq_Ant + PC + RSSI",
            data.len() + 3
        ));
    };
    let [epc @ .., rssi] = rest else {
        return Err(format!(
            "tag frame Len 0x{:02X} is too short for Freq_Ant + PC + RSSI",
            data.len() + 3
        ));
    };
    let pc = u16::from_be_bytes([*pc_hi, *pc_lo]);
    let epc = gen2::epc_after_pc(pc, epc)?;
    Ok(TagReport {
        antenna: u16::from(freq_ant & 0x03) + 1,
        epc: epc.to_vec(),
        pc: Some(pc),
        rssi_dbm: Some(rssi_dbm(*rssi)),
        frequency_khz: frequency_khz(freq_ant >> 2),
        ..TagReport::default()
    })
}
