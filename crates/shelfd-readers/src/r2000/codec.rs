//! 0xA0 frame bytes: the layout, the check byte, cutting one frame off the front of a buffer,
//! the Freq_Ant and RSSI conversions, and the pure encoders the host commands, the simulator
//! and the tests build frames with. Knows nothing about what a frame means to the driver.

use crate::frame::TagReport;
use crate::gen2;

/// The head byte of every frame.
pub const HEAD: u8 = 0xA0;

/// Broadcast reader address.
pub const BROADCAST: u8 = 0xFF;

/// Smallest Len: address, command and check.
pub const MIN_LEN: u8 = 3;

/// Longest frame in bytes (Len 255 + head + Len).
pub const MAX_FRAME: usize = 257;

/// Lowest and highest command codes believed at a frame start (V2.2 uses 0x60..=0xB4).
pub const COMMANDS: std::ops::RangeInclusive<u8> = 0x60..=0xBF;

/// Command codes used here.
pub mod cmd {
    /// Reset the reader (no reply on success).
    pub const RESET: u8 = 0x70;
    /// Get firmware version (reply: major, minor).
    pub const GET_FIRMWARE_VERSION: u8 = 0x72;
    /// Set work antenna (0..3 = port 1..4).
    pub const SET_WORK_ANTENNA: u8 = 0x74;
    /// Get work antenna.
    pub const GET_WORK_ANTENNA: u8 = 0x75;
    /// Set output power (dBm, one byte in V2.2).
    pub const SET_OUTPUT_POWER: u8 = 0x76;
    /// Get output power.
    pub const GET_OUTPUT_POWER: u8 = 0x77;
    /// Get reader temperature.
    pub const GET_TEMPERATURE: u8 = 0x7B;
    /// Real-time inventory: one frame per read, then one completion frame.
    pub const REAL_TIME_INVENTORY: u8 = 0x89;
    /// Fast antenna switching inventory.
    pub const FAST_SWITCH_INVENTORY: u8 = 0x8A;
    /// Customised session/target inventory (reports like 0x89).
    pub const SESSION_INVENTORY: u8 = 0x8B;
}

/// Status and error codes (the ones this module names or sends).
pub mod status {
    /// Command succeeded.
    pub const SUCCESS: u8 = 0x10;
    /// Command failed.
    pub const FAIL: u8 = 0x11;
    /// Antenna missing (not connected) on the work antenna.
    pub const ANTENNA_MISSING: u8 = 0x22;
    /// No tag.
    pub const NO_TAG: u8 = 0x36;
    /// Invalid parameter.
    pub const INVALID_PARAMETER: u8 = 0x41;
    /// Antenna id out of range.
    pub const ANTENNA_ID: u8 = 0x47;
    /// Output power out of range.
    pub const OUTPUT_POWER: u8 = 0x48;
}

/// One checked frame, borrowed from the buffer it was cut from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFrame<'a> {
    /// Reader address.
    pub address: u8,
    /// Command code.
    pub cmd: u8,
    /// The bytes between Cmd and Check (Len − 3 of them).
    pub data: &'a [u8],
}

impl RawFrame<'_> {
    /// The Len byte of this frame.
    pub fn len_byte(&self) -> usize {
        self.data.len() + usize::from(MIN_LEN)
    }
}

/// The check byte of a frame's preceding bytes (head included): two's complement of their
/// 8-bit sum, so a whole frame sums to zero.
pub fn check(bytes: &[u8]) -> u8 {
    0u8.wrapping_sub(bytes.iter().fold(0u8, |sum, &b| sum.wrapping_add(b)))
}

/// A complete frame.
///
/// # Panics
/// If `data` is longer than 252 bytes (Len is one byte); a bug in the caller.
pub fn encode_frame(address: u8, cmd: u8, data: &[u8]) -> Vec<u8> {
    let len = u8::try_from(data.len() + usize::from(MIN_LEN))
        .expect("invariant: frame data fits a one-byte Len");
    let mut out = Vec::with_capacity(data.len() + 5);
    out.extend_from_slice(&[HEAD, len, address, cmd]);
    out.extend_from_slice(data);
    out.push(check(&out));
    out
}

/// A one-byte status reply (`Len 0x04`): success (0x10) or an error code.
pub fn encode_status(address: u8, cmd: u8, status: u8) -> Vec<u8> {
    encode_frame(address, cmd, &[status])
}

/// Carrier frequency of a frequency-table index: 0..=6 → 865.0..=868.0 MHz, 7..=59 →
/// 902.0..=928.0 MHz, in 0.5 MHz steps.
pub fn frequency_khz(index: u8) -> Option<u32> {
    match index {
        0..=6 => Some(865_000 + 500 * u32::from(index)),
        7..=59 => Some(902_000 + 500 * u32::from(index - 7)),
        _ => None,
    }
}

/// The frequency-table index of a carrier frequency, when it is one of the table's.
pub fn frequency_index(khz: u32) -> Option<u8> {
    (0..=59).find(|&i| frequency_khz(i) == Some(khz))
}

/// The Freq_Ant byte: frequency index in the high 6 bits, antenna id (0..3) in the low 2.
pub fn freq_ant(frequency_index: u8, antenna_id: u8) -> u8 {
    (frequency_index << 2) | (antenna_id & 0x03)
}

/// RSSI in dBm of a raw RSSI byte, per the V2.2 table: raw − 129 for raw ≥ 90, raw − 130
/// below (the table skips −40 dBm). The top bit is masked off: 8-port readers reportedly use
/// it for the antenna bank, and no RSSI reaches it.
pub fn rssi_dbm(raw: u8) -> f32 {
    let raw = i16::from(raw & 0x7F);
    f32::from(if raw >= 90 { raw - 129 } else { raw - 130 })
}

/// The raw RSSI byte a reader sends for `dbm` (rounded; −40 becomes −39; clamped to the
/// −130..=−2 dBm the 7-bit value covers).
pub fn rssi_raw(dbm: f32) -> u8 {
    let dbm = dbm.round().clamp(-130.0, -2.0) as i16;
    let raw = if dbm >= -39 { dbm + 129 } else { dbm + 130 };
    u8::try_from(raw).unwrap_or(0)
}

/// RSSI used when a scripted read carries none.
pub const DEFAULT_RSSI_DBM: f32 = -60.0;

/// A real-time inventory tag frame for `tag`:
/// `A0 Len addr cmd | Freq_Ant | PC | EPC | RSSI | check`. The EPC is sent as
/// [`gen2::wire_epc`] makes it and the PC as [`gen2::pc_for`] makes it.
pub fn encode_tag_frame(
    address: u8,
    cmd: u8,
    antenna_id: u8,
    frequency_index: u8,
    tag: &TagReport,
) -> Vec<u8> {
    let epc = gen2::wire_epc(&tag.epc);
    let pc = gen2::pc_for(epc.len(), tag.pc);
    let mut data = Vec::with_capacity(epc.len() + 4);
    data.push(freq_ant(frequency_index, antenna_id));
    data.extend_from_slice(&pc.to_be_bytes());
    data.extend_from_slice(&epc);
    data.push(rssi_raw(tag.rssi_dbm.unwrap_or(DEFAULT_RSSI_DBM)));
    encode_frame(address, cmd, &data)
}

/// The completion frame of a real-time inventory command: `Len 0x08` with `Ant_ID |
/// TotalRead u32` (V2.2), or with a read rate `Len 0x0A` with `Ant_ID | ReadRate u16 |
/// TotalRead u32` (newer firmware).
pub fn encode_round_end(
    address: u8,
    antenna_id: u8,
    read_rate: Option<u16>,
    total_reads: u32,
) -> Vec<u8> {
    let mut data = vec![antenna_id];
    if let Some(rate) = read_rate {
        data.extend_from_slice(&rate.to_be_bytes());
    }
    data.extend_from_slice(&total_reads.to_be_bytes());
    encode_frame(address, cmd::REAL_TIME_INVENTORY, &data)
}

/// Cuts the frame at the front of `bytes` (which must start with the head byte):
/// `Ok(None)` while more bytes are needed, `Ok(Some((length, frame)))` for a frame whose check
/// is right, `Err(reason)` when no frame starts here (the reason names the offending value).
pub fn parse_frame(bytes: &[u8]) -> Result<Option<(usize, RawFrame<'_>)>, String> {
    match bytes.first() {
        None => return Ok(None),
        Some(&b) if b != HEAD => {
            return Err(format!(
                "byte 0x{b:02X} where head 0x{HEAD:02X} was expected"
            ));
        }
        Some(_) => {}
    }
    let Some(&len) = bytes.get(1) else {
        return Ok(None);
    };
    if len < MIN_LEN {
        return Err(format!(
            "Len 0x{len:02X} is below 0x03 (address, command, check)"
        ));
    }
    let Some(&code) = bytes.get(3) else {
        return Ok(None);
    };
    if !COMMANDS.contains(&code) {
        return Err(format!(
            "command 0x{code:02X} is outside 0x{:02X}..=0x{:02X}",
            COMMANDS.start(),
            COMMANDS.end()
        ));
    }
    let total = usize::from(len) + 2;
    if bytes.len() < total {
        return Ok(None);
    }
    let computed = check(&bytes[..total - 1]);
    let carried = bytes[total - 1];
    if carried != computed {
        return Err(format!(
            "check 0x{carried:02X}, computed 0x{computed:02X} (Len 0x{len:02X}, cmd 0x{code:02X})"
        ));
    }
    Ok(Some((
        total,
        RawFrame {
            address: bytes[2],
            cmd: code,
            data: &bytes[4..total - 1],
        },
    )))
}
