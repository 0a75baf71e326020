//! 0xBB frame bytes: the layout, the checksum, cutting one frame off the front of a buffer, and
//! the pure encoders the host commands, the simulator and the tests build frames with. Knows
//! nothing about what a command means to the driver.

use crate::frame::TagReport;
use crate::gen2;
use crate::wire::WireOptions;

/// Frame types (the byte after the header).
pub mod kind {
    /// Host → module command.
    pub const COMMAND: u8 = 0x00;
    /// Module → host response, one per command.
    pub const RESPONSE: u8 = 0x01;
    /// Module → host notification (pushed tag data).
    pub const NOTIFICATION: u8 = 0x02;
}

/// Command codes used here.
pub mod cmd {
    /// Module information (hardware / software / manufacturer).
    pub const INFO: u8 = 0x03;
    /// Set work region.
    pub const SET_REGION: u8 = 0x07;
    /// Get work region.
    pub const GET_REGION: u8 = 0x08;
    /// Set Select parameters.
    pub const SET_SELECT: u8 = 0x0C;
    /// Set baud rate (no reply).
    pub const SET_BAUD: u8 = 0x11;
    /// Select mode.
    pub const SELECT_MODE: u8 = 0x12;
    /// Single inventory round; also the command byte of every tag notification.
    pub const SINGLE_POLL: u8 = 0x22;
    /// Multiple inventory with a round count.
    pub const MULTI_POLL: u8 = 0x27;
    /// Stop multiple inventory.
    pub const STOP_MULTI_POLL: u8 = 0x28;
    /// Set TX power (centi-dBm).
    pub const SET_TX_POWER: u8 = 0xB6;
    /// Get TX power.
    pub const GET_TX_POWER: u8 = 0xB7;
    /// The command byte of error responses.
    pub const ERROR: u8 = 0xFF;
}

/// Error codes carried by `Cmd 0xFF` responses (the ones this module acts on).
pub mod errors {
    /// Inventory failed: no tag (or a tag CRC error) this round. An idle heartbeat.
    pub const NO_TAG: u8 = 0x15;
    /// Invalid command code.
    pub const INVALID_COMMAND: u8 = 0x17;
    /// Frequency-hopping channel search timed out (all channels busy).
    pub const HOPPING_TIMEOUT: u8 = 0x20;
}

/// Largest parameter length accepted (bigger PL values are treated as a bad frame start).
pub const MAX_PARAM: usize = 512;

/// Bytes of a frame that are not parameters: header, type, cmd, PL (2), checksum, end.
pub const OVERHEAD: usize = 7;

/// The reserved byte that opens a multi-poll command's parameters.
pub const MULTI_POLL_RESERVED: u8 = 0x22;

/// Header and end byte of one board's framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    /// First byte of every frame.
    pub header: u8,
    /// Last byte of every frame.
    pub end: u8,
}

impl Framing {
    /// `0xBB … 0x7E`: M100, JRD-4035, YRM100, M5Stack and many R200 boards.
    pub const BB_7E: Framing = Framing {
        header: 0xBB,
        end: 0x7E,
    };
    /// `0xAA … 0xDD`: some R200 boards.
    pub const AA_DD: Framing = Framing {
        header: 0xAA,
        end: 0xDD,
    };

    /// The framing configured for a reader.
    pub fn from_options(options: &WireOptions) -> Self {
        Framing {
            header: options.magicrf_header,
            end: options.magicrf_end,
        }
    }
}

/// One checked frame, borrowed from the buffer it was cut from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFrame<'a> {
    /// Frame type ([`kind`]).
    pub kind: u8,
    /// Command code ([`cmd`]).
    pub cmd: u8,
    /// The PL parameter bytes.
    pub param: &'a [u8],
}

/// The checksum of a frame body (Type, Cmd, PL and parameters): the low byte of their sum.
pub fn checksum(body: &[u8]) -> u8 {
    body.iter().fold(0u8, |sum, &b| sum.wrapping_add(b))
}

/// A complete frame.
///
/// # Panics
/// If `param` is longer than 65535 bytes (PL is 16 bits); a bug in the caller.
pub fn encode_frame(framing: Framing, kind: u8, cmd: u8, param: &[u8]) -> Vec<u8> {
    let pl = u16::try_from(param.len()).expect("invariant: parameters fit a 16-bit PL");
    let mut out = Vec::with_capacity(param.len() + OVERHEAD);
    out.push(framing.header);
    out.extend_from_slice(&[kind, cmd]);
    out.extend_from_slice(&pl.to_be_bytes());
    out.extend_from_slice(param);
    out.push(checksum(&out[1..]));
    out.push(framing.end);
    out
}

/// A host command frame.
pub fn encode_command(framing: Framing, cmd: u8, param: &[u8]) -> Vec<u8> {
    encode_frame(framing, kind::COMMAND, cmd, param)
}

/// A module response frame.
pub fn encode_response(framing: Framing, cmd: u8, param: &[u8]) -> Vec<u8> {
    encode_frame(framing, kind::RESPONSE, cmd, param)
}

/// The error response a module sends: `Type 0x01, Cmd 0xFF, PL 1, code`.
pub fn encode_error(framing: Framing, code: u8) -> Vec<u8> {
    encode_response(framing, cmd::ERROR, &[code])
}

/// The RSSI byte for a read: signed dBm, rounded and clamped (−60 dBm when none is given).
pub fn rssi_byte(rssi_dbm: Option<f32>) -> u8 {
    let dbm = rssi_dbm.unwrap_or(-60.0).round().clamp(-128.0, 127.0);
    (dbm as i8) as u8
}

/// The tag notification a module pushes for `tag`:
/// `Type 0x02, Cmd 0x22 | RSSI | PC | EPC | tag CRC-16`. The EPC is sent as
/// [`gen2::wire_epc`] makes it and the PC as [`gen2::pc_for`] makes it; antenna, frequency and
/// the other fields have no place in this frame.
pub fn encode_tag_notification(framing: Framing, tag: &TagReport) -> Vec<u8> {
    let epc = gen2::wire_epc(&tag.epc);
    let pc = gen2::pc_for(epc.len(), tag.pc);
    let mut param = Vec::with_capacity(epc.len() + 5);
    param.push(rssi_byte(tag.rssi_dbm));
    param.extend_from_slice(&pc.to_be_bytes());
    param.extend_from_slice(&epc);
    let crc = gen2::crc16(&param[1..]);
    param.extend_from_slice(&crc.to_be_bytes());
    encode_frame(framing, kind::NOTIFICATION, cmd::SINGLE_POLL, &param)
}

/// Cuts the frame at the front of `bytes` (which must start with the header byte):
/// `Ok(None)` while more bytes are needed, `Ok(Some((length, frame)))` for a frame whose
/// checksum and end byte are right, `Err(reason)` when no frame starts here (the reason names
/// the offending value).
pub fn parse_frame(
    framing: Framing,
    bytes: &[u8],
) -> Result<Option<(usize, RawFrame<'_>)>, String> {
    match bytes.first() {
        None => return Ok(None),
        Some(&b) if b != framing.header => {
            return Err(format!(
                "byte 0x{b:02X} where header 0x{:02X} was expected",
                framing.header
            ));
        }
        Some(_) => {}
    }
    let Some(&kind) = bytes.get(1) else {
        return Ok(None);
    };
    if kind > kind::NOTIFICATION {
        return Err(format!("frame type 0x{kind:02X} is not 0x00, 0x01 or 0x02"));
    }
    let (Some(&cmd), Some(&hi), Some(&lo)) = (bytes.get(2), bytes.get(3), bytes.get(4)) else {
        return Ok(None);
    };
    let pl = usize::from(u16::from_be_bytes([hi, lo]));
    if pl > MAX_PARAM {
        return Err(format!(
            "PL {pl} (0x{hi:02X}{lo:02X}) is longer than {MAX_PARAM}"
        ));
    }
    let total = pl + OVERHEAD;
    if bytes.len() < total {
        return Ok(None);
    }
    let computed = checksum(&bytes[1..5 + pl]);
    let carried = bytes[5 + pl];
    if carried != computed {
        return Err(format!(
            "checksum 0x{carried:02X}, computed 0x{computed:02X} (type 0x{kind:02X}, cmd 0x{cmd:02X}, PL {pl})"
        ));
    }
    let end = bytes[6 + pl];
    if end != framing.end {
        return Err(format!(
            "end byte 0x{end:02X}, expected 0x{:02X} (PL {pl})",
            framing.end
        ));
    }
    Ok(Some((
        total,
        RawFrame {
            kind,
            cmd,
            param: &bytes[5..5 + pl],
        },
    )))
}
