//! The 0xBB … 0x7E protocol of MagicRF M100 / QM100 based modules (JRD-4035, YRM100, R200,
//! M5Stack Unit UHF-RFID): decoder, host commands and a module simulator. Owns the byte-level
//! protocol only; it never touches the engine or the port.
//!
//! - Frame: `Header | Type | Cmd | PL (u16) | Param[PL] | Checksum | End`, PL + 7 bytes. The
//!   checksum is the low byte of the sum of Type..Param. Header/end are 0xBB/0x7E, or
//!   0xAA/0xDD on some R200 boards ([`Framing`], from `WireOptions.magicrf_header/_end`).
//! - Type 0x00 host command, 0x01 response, 0x02 notification. A tag read is a notification
//!   with Cmd 0x22: `RSSI (i8, dBm) | PC | EPC | tag CRC-16`. The module is single-port, so
//!   every read is antenna 1; frequency and phase are not reported.
//! - Failures are responses with Cmd 0xFF and an error code; 0x15 ("no tag") is an empty
//!   round, an idle heartbeat rather than a fault ([`names::NO_TAG`]).
//! - Continuous reading is a multi-poll (0x27) with a count, re-armed as [`Commands`] says.
//!
//! Parts: [`Decoder`], [`Commands`], [`Simulator`] and the pure encoders ([`encode_frame`],
//! [`encode_tag_notification`], the `*_command` builders).
//!
//! ```
//! use shelfd_readers::frame::{decode_all, Decoded};
//! use shelfd_readers::magicrf::Decoder;
//! use shelfd_readers::WireOptions;
//! let notification = [
//!     0xBB, 0x02, 0x22, 0x00, 0x11, 0xC9, 0x34, 0x00, 0x30, 0x75, 0x1F, 0xEB, 0x70, 0x5C,
//!     0x59, 0x04, 0xE3, 0xD5, 0x0D, 0x70, 0x3A, 0x76, 0xEF, 0x7E,
//! ];
//! let items = decode_all(&mut Decoder::new(&WireOptions::default()), &notification);
//! let Decoded::Tag { tag, .. } = &items[0] else { panic!("{items:?}") };
//! assert_eq!((tag.antenna, tag.rssi_dbm, tag.pc), (1, Some(-55.0), Some(0x3400)));
//! assert_eq!(tag.epc, [0x30, 0x75, 0x1F, 0xEB, 0x70, 0x5C, 0x59, 0x04, 0xE3, 0xD5, 0x0D, 0x70]);
//! ```

mod codec;
mod commands;
mod decoder;
mod simulator;
#[cfg(test)]
mod tests;

pub use codec::{
    Framing, MAX_PARAM, MULTI_POLL_RESERVED, OVERHEAD, RawFrame, checksum, cmd, encode_command,
    encode_error, encode_frame, encode_response, encode_tag_notification, errors, kind,
    parse_frame, rssi_byte,
};
pub use commands::{
    Commands, MAX_ERROR_REARMS, MULTI_POLL_COUNT, centi_dbm, info_command, multi_poll_command,
    set_baud_command, set_region_command, set_select_command, set_tx_power_command,
    single_poll_command, stop_command,
};
pub use decoder::{Decoder, MAX_FRAME};
pub use simulator::{HARDWARE_VERSION, MANUFACTURER, SOFTWARE_VERSION, Simulator};

/// The names of the non-tag frames the [`Decoder`] reports.
pub mod names {
    /// `Cmd 0xFF` with error 0x15: a round read no tag (role `NoTag`, code 0x15).
    pub const NO_TAG: &str = "no_tag";
    /// `Cmd 0xFF` with any other error code (role `Error`, code = the error).
    pub const ERROR: &str = "error";
    /// The reply to stop multi-poll (role `Ack`, code = its status byte, 0 = success).
    pub const STOP_ACK: &str = "stop_ack";
    /// A one-byte status reply to a setting command (role `Ack`, code = status, 0 = success).
    pub const COMMAND_ACK: &str = "command_ack";
    /// The reply to module information, 0x03 (role `Info`, code = the info type).
    pub const VERSION: &str = "version";
    /// A reply carrying a value (get power, get region, …) (role `Info`).
    pub const REPLY: &str = "reply";
    /// A notification that is not a tag read (role `Info`).
    pub const NOTIFICATION: &str = "notification";
    /// A host command frame (seen when decoding a capture of both directions; role `Info`).
    pub const HOST_COMMAND: &str = "host_command";
}
