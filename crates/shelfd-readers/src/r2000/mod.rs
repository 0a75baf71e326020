//! The 0xA0 protocol of Impinj Indy R2000 / E710 based readers (YR903, IND903 and many 1-, 4-
//! and 8-port readers): decoder, host commands and a reader simulator. Owns the byte-level
//! protocol only; it never touches the engine or the port.
//!
//! - Frame: `A0 | Len | Address | Cmd | Data | Check`, Len + 2 bytes; Len counts Address, Cmd,
//!   Data and Check. The check is the two's complement of the sum of every byte before it
//!   (head included), so a frame sums to zero. Replies echo Cmd and carry the reader's own
//!   address; the host sends to `WireOptions.r2000_address` (0xFF = broadcast).
//! - Real-time inventory (0x89) pushes one frame per read, `Freq_Ant | PC | EPC | RSSI`
//!   (antenna id in the low 2 bits of Freq_Ant, frequency-table index in the high 6; RSSI by
//!   the V2.2 table, [`rssi_dbm`]), then one completion frame: Len 0x08 (`Ant_ID |
//!   TotalRead`) or Len 0x0A (`Ant_ID | ReadRate | TotalRead`), or a Len 0x04 error such as
//!   0x22 antenna missing. Frames are told apart by Len.
//! - Continuous reading re-issues 0x89 at every completion, cycling the work antenna (0x74)
//!   across the configured ports, as [`Commands`] says.
//!
//! Parts: [`Decoder`], [`Commands`], [`Simulator`] and the pure encoders ([`encode_frame`],
//! [`encode_tag_frame`], [`encode_round_end`], the `*_command` builders).
//!
//! ```
//! use shelfd_readers::frame::{decode_all, Decoded, FrameRole};
//! use shelfd_readers::r2000::Decoder;
//! use shelfd_readers::WireOptions;
//! let bytes = [
//!     0xA0, 0x13, 0x01, 0x89, 0x04, 0x30, 0x00, 0xE2, 0x00, 0x30, 0x16, 0x66, 0x13, 0x01,
//!     0x21, 0x15, 0x50, 0x74, 0xEF, 0x45, 0xBF, // a read
//!     0xA0, 0x0A, 0x01, 0x89, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x05, 0xB6, // round end
//! ];
//! let items = decode_all(&mut Decoder::new(&WireOptions::default()), &bytes);
//! let Decoded::Tag { tag, .. } = &items[0] else { panic!("{items:?}") };
//! assert_eq!((tag.antenna, tag.rssi_dbm, tag.frequency_khz), (1, Some(-61.0), Some(865_500)));
//! assert!(matches!(items[1], Decoded::Frame { offset: 21, role: FrameRole::RoundEnd, .. }));
//! ```

mod codec;
mod commands;
mod decoder;
mod simulator;
#[cfg(test)]
mod tests;

pub use codec::{
    BROADCAST, COMMANDS, DEFAULT_RSSI_DBM, HEAD, MAX_FRAME, MIN_LEN, RawFrame, check, cmd,
    encode_frame, encode_round_end, encode_status, encode_tag_frame, freq_ant, frequency_index,
    frequency_khz, parse_frame, rssi_dbm, rssi_raw, status,
};
pub use commands::{
    Commands, INVENTORY_REPEAT, PORTS, get_firmware_version_command, real_time_inventory_command,
    reset_command, set_output_power_command, set_work_antenna_command,
};
pub use decoder::Decoder;
pub use simulator::{DEFAULT_ADDRESS, FIRMWARE_VERSION, NOMINAL_ROUND_MS, Simulator};

/// The names of the non-tag frames the [`Decoder`] reports.
pub mod names {
    /// An inventory command's completion frame, Len 0x08 or 0x0A (role `RoundEnd`).
    pub const ROUND_END: &str = "inventory_round_end";
    /// An inventory command failed, e.g. 0x22 antenna missing (role `Error`, code = error).
    pub const INVENTORY_ERROR: &str = "inventory_error";
    /// An inventory command answered 0x36 "no tag" (role `NoTag`).
    pub const NO_TAG: &str = "no_tag";
    /// Fast antenna switching skipped an unconnected antenna (role `Error`, code = error).
    pub const ANTENNA_MISSING: &str = "antenna_missing";
    /// Set work antenna succeeded (role `Ack`, code 0x10).
    pub const SET_WORK_ANTENNA_ACK: &str = "set_work_antenna_ack";
    /// Set work antenna failed (role `Error`, code = error).
    pub const SET_WORK_ANTENNA_ERROR: &str = "set_work_antenna_error";
    /// Any other command succeeded (role `Ack`, code 0x10).
    pub const COMMAND_ACK: &str = "command_ack";
    /// Any other command failed (role `Error`, code = error).
    pub const ERROR: &str = "error";
    /// Firmware version reply (role `Info`).
    pub const VERSION: &str = "version";
    /// A reply carrying a value (work antenna, power, temperature, …) (role `Info`).
    pub const REPLY: &str = "reply";
}
