//! 0xBB decoder: module bytes in, checked items out. Cuts by PL, checks the checksum, the end
//! byte and (for tag notifications) the tag's own CRC-16 and PC length, and names every other
//! frame. Never trusts a length it has not bound-checked, never panics.

use super::codec::{Framing, MAX_PARAM, OVERHEAD, RawFrame, cmd, errors, kind, parse_frame};
use super::names;
use crate::frame::{Decoded, DecoderStats, FrameDecoder, FrameRole, TagReport};
use crate::gen2;
use crate::scan::{Cut, Probe, Scanner};
use crate::wire::WireOptions;

/// Longest frame in bytes.
pub const MAX_FRAME: usize = MAX_PARAM + OVERHEAD;

/// Cuts 0xBB frames (or 0xAA/0xDD, per [`WireOptions`]) out of the bytes a module sends.
#[derive(Debug)]
pub struct Decoder {
    framing: Framing,
    scanner: Scanner,
}

impl Decoder {
    /// A decoder at stream offset 0 for the framing configured in `options`.
    pub fn new(options: &WireOptions) -> Self {
        let framing = Framing::from_options(options);
        Decoder {
            framing,
            scanner: Scanner::new(framing.header),
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
        let framing = self.framing;
        self.scanner
            .next(|bytes| match parse_frame(framing, bytes) {
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

/// What a checked frame means, or why its contents are not believable.
fn interpret(raw: &RawFrame<'_>) -> Result<Cut, String> {
    let frame = |name, role, code: Option<u8>| Cut::Frame {
        name,
        role,
        code: code.map(u16::from),
    };
    let first = raw.param.first().copied();
    Ok(match (raw.kind, raw.cmd) {
        // Multi-poll notifications carry Cmd 0x22; 0x27 is accepted defensively.
        (kind::NOTIFICATION, cmd::SINGLE_POLL | cmd::MULTI_POLL) => Cut::Tag(tag(raw.param)?),
        (kind::NOTIFICATION, _) => frame(names::NOTIFICATION, FrameRole::Info, None),
        (kind::COMMAND, _) => frame(names::HOST_COMMAND, FrameRole::Info, None),
        (_, cmd::ERROR) => match first {
            None => return Err("error response (Cmd 0xFF) without an error code".into()),
            Some(errors::NO_TAG) => frame(names::NO_TAG, FrameRole::NoTag, first),
            Some(_) => frame(names::ERROR, FrameRole::Error, first),
        },
        (_, cmd::STOP_MULTI_POLL) => frame(names::STOP_ACK, FrameRole::Ack, first),
        (_, cmd::INFO) => frame(names::VERSION, FrameRole::Info, first),
        (_, c) if is_query(c) => frame(names::REPLY, FrameRole::Info, None),
        (_, _) if raw.param.len() == 1 => frame(names::COMMAND_ACK, FrameRole::Ack, first),
        _ => frame(names::REPLY, FrameRole::Info, None),
    })
}

/// Commands whose response carries a value rather than a status byte.
fn is_query(code: u8) -> bool {
    // get region, get Select, get Query, get channel, get TX power, demodulator / test reads,
    // read memory.
    matches!(
        code,
        cmd::GET_REGION | 0x0B | 0x0D | 0xAA | cmd::GET_TX_POWER | 0xF1 | 0xF2 | 0xF3 | 0x39
    )
}

/// A tag notification's parameters: `RSSI | PC | EPC | tag CRC-16`.
fn tag(param: &[u8]) -> Result<TagReport, String> {
    let n = param.len();
    if n < 5 {
        return Err(format!(
            "tag notification PL {n} is shorter than RSSI + PC + CRC (5)"
        ));
    }
    let pc_epc = &param[1..n - 2];
    let carried = u16::from_be_bytes([param[n - 2], param[n - 1]]);
    let computed = gen2::crc16(pc_epc);
    if carried != computed {
        return Err(format!(
            "tag CRC 0x{carried:04X}, computed 0x{computed:04X} over PC+EPC"
        ));
    }
    let pc = u16::from_be_bytes([pc_epc[0], pc_epc[1]]);
    let epc = gen2::epc_after_pc(pc, &pc_epc[2..])?;
    Ok(TagReport {
        antenna: 1,
        epc: epc.to_vec(),
        pc: Some(pc),
        rssi_dbm: Some(f32::from(param[0] as i8)),
        ..TagReport::default()
    })
}
