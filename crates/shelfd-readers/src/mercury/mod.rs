//! ThingMagic / JADAK Mercury embedded-module serial protocol (M6E, M6E-Micro, M6E-Nano, M7E):
//! the frame layout and its helpers (this file), opcodes and status words ([`codes`]), the two
//! CRCs ([`crc`](fn@crc), [`gen2_crc`]), the streamed tag record ([`record`]), the
//! [`Decoder`], the host [`Commands`] and the module [`Simulator`].
//!
//! Frames (all integers big-endian; the CRC covers every byte after the `FF`):
//! - host → module: `FF LEN OP DATA[LEN] CRC_HI CRC_LO` (LEN + 5 bytes);
//! - module → host: `FF LEN OP STATUS_HI STATUS_LO DATA[LEN] CRC_HI CRC_LO` (LEN + 7 bytes;
//!   LEN does not count the status word). LEN never exceeds [`MAX_LEN`].
//!
//! While continuous reading runs the module pushes one opcode-0x22 frame per tag read (the
//! metadata fields the start command asked for, then the tag's PC, EPC and Gen2 CRC), a
//! status-0x0400 keep-alive after search cycles that found nothing, and on stop the stop
//! acknowledgement (`FF 01 2F 00 00 02 30 E6`).
//!
//! ```
//! use shelfd_readers::frame::{decode_all, Decoded, FrameRole};
//! use shelfd_readers::mercury::Decoder;
//! let bytes = [
//!     // start acknowledgement (TM-4)
//!     0xFF, 0x04, 0x2F, 0x00, 0x00, 0x01, 0x22, 0x00, 0x00, 0x6D, 0xC3,
//!     // a streamed tag record with metadata flags 0x01FF (TM-1)
//!     0xFF, 0x28, 0x22, 0x00, 0x00, 0x10, 0x00, 0x1B, 0x01, 0xFF, 0x01, 0x01, 0xC4, 0x11,
//!     0x0E, 0x16, 0x40, 0x00, 0x00, 0x01, 0x27, 0x00, 0x00, 0x05, 0x00, 0x00, 0x0F, 0x00,
//!     0x80, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x15,
//!     0x45, 0xE9, 0x4A, 0x56, 0x1D,
//! ];
//! let items = decode_all(&mut Decoder::new(), &bytes);
//! assert!(matches!(items[0], Decoded::Frame { name: "start_ack", role: FrameRole::Ack, .. }));
//! let Decoded::Tag { offset, tag } = &items[1] else { panic!("{items:?}") };
//! assert_eq!(*offset, 11);
//! assert_eq!((tag.antenna, tag.rssi_dbm, tag.frequency_khz), (1, Some(-60.0), Some(923_200)));
//! assert_eq!(tag.epc, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x15, 0x45]);
//! ```

pub mod codes;
mod commands;
mod crc;
mod decoder;
pub mod record;
mod simulator;
#[cfg(test)]
mod tests;

pub use codes::status_text;
pub use commands::{
    Commands, STREAM_START, StartRequest, boot_firmware, clear_tag_buffer, get_current_program,
    get_version, set_antenna_search_list, set_baud_rate, set_read_power, set_reader_param,
    set_region, set_tag_protocol, stop_reading, write_tag_data,
};
pub use crc::{crc, gen2_crc};
pub use decoder::{Decoder, MAX_SKIP_RUN};
pub use record::{encode_streamed_record, encode_tag_record};
pub use simulator::{
    HostCut, KEEPALIVE_EVERY, MAX_READ_POWER, Simulator, VERSION_BLOCK, cut_host_frame,
    keepalive_frame,
};

/// First byte of every frame, both directions.
pub const START: u8 = 0xFF;
/// Largest LEN a frame may carry; Mercury does not believe a 0xFF is a start byte when the
/// byte after it is larger.
pub const MAX_LEN: u8 = 0xF8;
/// Longest module → host frame in bytes (LEN 0xF8 + 7).
pub const MAX_FRAME: usize = MAX_LEN as usize + 7;

/// A host → module frame: `FF LEN OP DATA CRC`. Data beyond [`MAX_LEN`] bytes is cut (no
/// command here comes close).
pub fn host_frame(op: u8, data: &[u8]) -> Vec<u8> {
    let data = &data[..data.len().min(usize::from(MAX_LEN))];
    let mut frame = Vec::with_capacity(data.len() + 5);
    frame.push(START);
    frame.push(data.len() as u8);
    frame.push(op);
    frame.extend_from_slice(data);
    let check = crc(&frame[1..]);
    frame.extend_from_slice(&check.to_be_bytes());
    frame
}

/// A module → host frame: `FF LEN OP STATUS DATA CRC`. Data beyond [`MAX_LEN`] bytes is cut.
pub fn reply_frame(op: u8, status: u16, data: &[u8]) -> Vec<u8> {
    let data = &data[..data.len().min(usize::from(MAX_LEN))];
    let mut frame = Vec::with_capacity(data.len() + 7);
    frame.push(START);
    frame.push(data.len() as u8);
    frame.push(op);
    frame.extend_from_slice(&status.to_be_bytes());
    frame.extend_from_slice(data);
    let check = crc(&frame[1..]);
    frame.extend_from_slice(&check.to_be_bytes());
    frame
}
