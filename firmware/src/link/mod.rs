//! shelf-link v1: the wire protocol between shelf nodes and the gateway on an RS-485 multi-drop
//! bus. Owns the byte layout of every frame and message, their checking, and the gateway's
//! dedupe rule; it never touches a port, a timer or a scale, and never panics on any bytes.
//!
//! # The bus
//!
//! One gateway (bus master) and up to 254 nodes share a half-duplex line. The gateway sends a
//! [`Command`] to one node address; that node, and only that node, answers with exactly one
//! [`Report`]; nodes never talk unasked. Every station hears every frame (its own echo too), so
//! frames carry their direction in the kind byte and each station ignores the other direction.
//! A gateway that hears nothing within its timeout sends the same request again.
//!
//! # Frame
//!
//! Before stuffing, a frame is (all integers little-endian):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | version, [`VERSION`] = 1 (the rest is only read when it is 1) |
//! | 1 | 1 | node address, 1..=254: the node a command is for, or the node a report is from |
//! | 2 | 1 | kind: 0x01..=0x7F gateway → node ([`Command`]), 0x81..=0xFF node → gateway ([`Report`]) |
//! | 3 | 2 | seq (u16): see [`Frame`] |
//! | 5 | n | payload, laid out per kind (below) |
//! | 5 + n | 2 | CRC-16/IBM-SDLC ([`crc16`]) of bytes 0..5 + n |
//!
//! On the wire the frame is COBS-encoded ([`cobs`]) and followed by one 0x00 ([`DELIMITER`]),
//! which never occurs inside a frame: a receiver that lost its place (noise, a station starting
//! mid-frame) is back in step at the next 0x00. The longest frame is [`MAX_FRAME_LEN`] bytes on
//! the wire.
//!
//! A poll of node 3: header `01 03 01 00 00`, no payload, CRC 0xBB22; COBS turns the two zeros
//! of the seq into group codes:
//!
//! ```
//! use shelf_node::link::{Command, Frame};
//!
//! let mut wire = [0u8; shelf_node::link::MAX_FRAME_LEN];
//! let n = Frame::new(3, 0, Command::Poll).encode(&mut wire).unwrap();
//! assert_eq!(wire[..n], [0x04, 0x01, 0x03, 0x01, 0x01, 0x03, 0x22, 0xBB, 0x00]);
//! assert_eq!(Frame::<Command>::decode(&wire[..n]), Ok(Frame::new(3, 0, Command::Poll)));
//! ```
//!
//! # Messages
//!
//! Gateway → node ([`Command`]):
//!
//! | kind | message | payload |
//! |---|---|---|
//! | 0x01 | poll | — |
//! | 0x02 | ack | seq: u16 (the node's event number) |
//! | 0x03 | configure lane | lane: u8, unit_mg: u32, tolerance_mg: u32 |
//! | 0x04 | tare | lane: u8 (0xFF: every lane) |
//! | 0x05 | calibrate | lane: u8, known_mg: u32 |
//! | 0x06 | identify | seconds: u8 (0 stops) |
//!
//! Node → gateway ([`Report`]); *event* kinds are queued on the node and resent until acked:
//!
//! | kind | message | payload | event |
//! |---|---|---|---|
//! | 0x81 | hello | node_id: u64, fw major: u8, minor: u8, patch: u8, lanes: u8 | yes |
//! | 0x82 | heartbeat | uptime_s: u32, queued: u8, dropped: u16, flags: u8 (bit 0 identifying) | no |
//! | 0x83 | lane weight | lane: u8, flags: u8 (bit 0 stable), weight_mg: i32, raw: i32 | yes |
//! | 0x84 | pick/put | lane: u8, units: i16 (< 0 picked, > 0 put, ≠ 0), delta_mg: i32 | yes |
//! | 0x85 | ambiguous change | lane: u8, delta_mg: i32 | yes |
//! | 0x86 | tag read | antenna: u8, rssi: i16 (0.1 dBm), epc_len: u8 (even, 2..=62), epc | yes |
//! | 0x87 | fault | code: u8 ([`FaultCode`]), lane: u8 (0xFF node-wide), detail: u32 | yes |
//! | 0x88 | command result | status: u8 ([`CommandStatus`]), value: i32 | no |
//!
//! Reserved flag bits are 0; a decoder rejects anything else ([`DecodeError::Field`]), so
//! every frame that decodes encodes back to the same bytes.
//!
//! Configure lane 1 of node 3 (command number 7) to 250 g items, ± 40 g:
//!
//! ```
//! use shelf_node::link::{Command, Frame};
//!
//! let frame = Frame::new(3, 7, Command::ConfigureLane { lane: 1, unit_mg: 250_000, tolerance_mg: 40_000 });
//! let mut wire = [0u8; shelf_node::link::MAX_FRAME_LEN];
//! let n = frame.encode(&mut wire).unwrap();
//! // raw: 01 03 03 07 00 | 01 90 d0 03 00 40 9c 00 00 | crc e1da
//! assert_eq!(wire[..n], [
//!     0x05, 0x01, 0x03, 0x03, 0x07, 0x05, 0x01, 0x90, 0xD0, 0x03, 0x03, 0x40, 0x9C, 0x01,
//!     0x03, 0xDA, 0xE1, 0x00,
//! ]);
//! ```
//!
//! Node 3's event 0x0102: two items picked from lane 1, −498.7 g:
//!
//! ```
//! use shelf_node::link::{Frame, Report};
//!
//! let wire = [
//!     0x0F, 0x01, 0x03, 0x84, 0x02, 0x01, 0x01, 0xFE, 0xFF, 0xF4, 0x63, 0xF8, 0xFF, 0xC7,
//!     0xD2, 0x00,
//! ];
//! let frame = Frame::<Report>::decode(&wire).unwrap();
//! assert_eq!(frame, Frame::new(3, 0x0102, Report::PickPut { lane: 1, units: -2, delta_mg: -498_700 }));
//! // Any flipped bit is caught by the CRC (or breaks the stuffing):
//! let mut bad = wire;
//! bad[9] ^= 0x10;
//! assert!(Frame::<Report>::decode(&bad).is_err());
//! ```
//!
//! A tag read on antenna 2 at −61.5 dBm (the EPC's zeros are stuffed too), and a hello:
//!
//! ```
//! use shelf_node::link::{Epc, FirmwareVersion, Frame, Report};
//!
//! let epc = Epc::new(&[0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, 0x85]).unwrap();
//! let mut wire = [0u8; shelf_node::link::MAX_FRAME_LEN];
//! let n = Frame::new(3, 9, Report::TagRead { antenna: 2, rssi_ddbm: -615, epc }).encode(&mut wire).unwrap();
//! assert_eq!(wire[..n], [
//!     0x05, 0x01, 0x03, 0x86, 0x09, 0x0D, 0x02, 0x99, 0xFD, 0x0C, 0x30, 0x74, 0x25, 0x7B,
//!     0xF7, 0x19, 0x4E, 0x40, 0x01, 0x05, 0x1A, 0x85, 0x85, 0xEA, 0x00,
//! ]);
//!
//! let hello = Report::Hello {
//!     node_id: 0x0102_0304_0506_0708,
//!     firmware: FirmwareVersion { major: 1, minor: 2, patch: 3 },
//!     lanes: 4,
//! };
//! let n = Frame::new(3, 5, hello).encode(&mut wire).unwrap();
//! assert_eq!(wire[..n], [
//!     0x05, 0x01, 0x03, 0x81, 0x05, 0x0F, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
//!     0x01, 0x02, 0x03, 0x04, 0x13, 0xF0, 0x00,
//! ]);
//! ```
//!
//! The remaining kinds, unstuffed to show each payload as the tables above lay it out (header,
//! payload, then the CRC of both, little-endian):
//!
//! ```
//! use shelf_node::link::{cobs, crc16, Command, CommandStatus, DecodeError, FaultCode, Frame, Message, Report};
//!
//! fn raw<M: Message>(frame: Frame<M>) -> Vec<u8> {
//!     let mut wire = [0u8; shelf_node::link::MAX_FRAME_LEN];
//!     let n = frame.encode(&mut wire).unwrap();
//!     assert_eq!(wire[n - 1], 0x00);
//!     let len = cobs::decode_in_place(&mut wire[..n - 1]).unwrap();
//!     let (body, crc) = wire[..len].split_at(len - 2);
//!     assert_eq!(u16::from_le_bytes([crc[0], crc[1]]), crc16(body));
//!     body.to_vec()
//! }
//!
//! // Gateway → node 9, command number 0x0201.
//! assert_eq!(raw(Frame::new(9, 0, Command::Ack { seq: 0x1234 })), [1, 9, 0x02, 0, 0, 0x34, 0x12]);
//! assert_eq!(raw(Frame::new(9, 0x0201, Command::Tare { lane: 0xFF })), [1, 9, 0x04, 0x01, 0x02, 0xFF]);
//! assert_eq!(
//!     raw(Frame::new(9, 0x0201, Command::Calibrate { lane: 2, known_mg: 1_000_000 })),
//!     [1, 9, 0x05, 0x01, 0x02, 2, 0x40, 0x42, 0x0F, 0x00],
//! );
//! assert_eq!(raw(Frame::new(9, 0x0201, Command::Identify { seconds: 10 })), [1, 9, 0x06, 0x01, 0x02, 10]);
//!
//! // Node 9 → gateway, event (or next event) number 0x0030.
//! let heartbeat = Report::Heartbeat { uptime_s: 3600, queued: 2, dropped: 1, identifying: true };
//! assert_eq!(raw(Frame::new(9, 0x30, heartbeat)), [1, 9, 0x82, 0x30, 0, 0x10, 0x0E, 0, 0, 2, 1, 0, 0x01]);
//! let weight = Report::LaneWeight { lane: 1, stable: true, weight_mg: 1_250_000, raw: -2 };
//! assert_eq!(
//!     raw(Frame::new(9, 0x30, weight)),
//!     [1, 9, 0x83, 0x30, 0, 1, 0x01, 0xD0, 0x12, 0x13, 0x00, 0xFE, 0xFF, 0xFF, 0xFF],
//! );
//! let ambiguous = Report::Ambiguous { lane: 0, delta_mg: -120_000 };
//! assert_eq!(raw(Frame::new(9, 0x30, ambiguous)), [1, 9, 0x85, 0x30, 0, 0, 0x40, 0x2B, 0xFE, 0xFF]);
//! let fault = Report::Fault { code: FaultCode::SENSOR_TIMEOUT, lane: 3, detail: 1500 };
//! assert_eq!(raw(Frame::new(9, 0x30, fault)), [1, 9, 0x87, 0x30, 0, 1, 3, 0xDC, 0x05, 0, 0]);
//! let result = Report::CommandResult { status: CommandStatus::NOT_STABLE, value: 2 };
//! assert_eq!(raw(Frame::new(9, 0x0201, result)), [1, 9, 0x88, 0x01, 0x02, 3, 2, 0, 0, 0]);
//!
//! // A reserved flag bit set: the frame is well formed but does not decode.
//! let mut body = raw(Frame::new(9, 0x30, weight));
//! body[6] |= 0x02;
//! let crc = crc16(&body).to_le_bytes();
//! body.extend_from_slice(&crc);
//! let mut bad = [0u8; 32];
//! let n = cobs::encode(&body, &mut bad).unwrap();
//! assert_eq!(
//!     Frame::<Report>::decode(&bad[..n]),
//!     Err(DecodeError::Field { kind: 0x83, field: "lane weight flags", value: 3 }),
//! );
//! ```
//!
//! # Sequence numbers, acks and retransmission
//!
//! - A node numbers its events (u16, wrapping, from a per-boot start the board supplies) and
//!   keeps each in a bounded queue until it is acknowledged. It answers a poll with its oldest
//!   unacknowledged event, unchanged and under the same number, every time until the
//!   gateway acks that number; with nothing queued it answers with a heartbeat. One event is in
//!   flight at a time (stop-and-wait), so a node's events reach the gateway in order.
//! - An ack names the event number received and asks for the next event in the same round
//!   trip. It removes the oldest event only when that event was sent and carries that number;
//!   any other ack is ignored, so acks are idempotent and a gateway may always repeat its last.
//! - The gateway hands an event on the first time it sees its number and drops resends
//!   ([`NodeSession`]); a hello starts a new numbering. Lost polls, lost answers and lost acks
//!   therefore cost a retry, never an event and never a duplicate.
//! - Commands that change something carry the gateway's command number in `seq`; the node runs
//!   a command once and answers a resend of the same command and number with the stored result.

mod accumulator;
pub mod cobs;
mod crc;
mod error;
mod frame;
mod message;
mod session;

pub use accumulator::{AccumulatorStats, FrameAccumulator};
pub use crc::crc16;
pub use error::{DecodeError, EncodeError};
pub use frame::{
    CRC_LEN, DELIMITER, Frame, HEADER_LEN, MAX_ADDRESS, MAX_FRAME_LEN, MAX_RAW_LEN, MIN_ADDRESS,
    RawFrame, VERSION,
};
pub use message::{
    ALL_LANES, Command, CommandStatus, Epc, FaultCode, FirmwareVersion, MAX_EPC_LEN,
    MAX_PAYLOAD_LEN, Message, NODE_WIDE, Report,
};
pub use session::{Delivery, NodeSession};
