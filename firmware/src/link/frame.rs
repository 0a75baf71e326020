//! One shelf-link frame: header, payload and CRC, COBS-stuffed and closed by 0x00. Owns the
//! header layout, the checksum and the stuffing; it never buffers a stream (that is
//! [`super::FrameAccumulator`]) and never panics on any bytes.

use super::cobs;
use super::crc::crc16;
use super::error::{DecodeError, EncodeError};
use super::message::{MAX_PAYLOAD_LEN, Message};

/// The protocol version this crate speaks; the first byte of every frame.
pub const VERSION: u8 = 1;
/// Header bytes: version, address, kind, seq (u16 LE).
pub const HEADER_LEN: usize = 5;
/// CRC bytes at the end of a frame (u16 LE).
pub const CRC_LEN: usize = 2;
/// Longest frame before COBS: header, the longest payload, CRC.
pub const MAX_RAW_LEN: usize = HEADER_LEN + MAX_PAYLOAD_LEN + CRC_LEN;
/// Longest frame on the wire, COBS overhead and the 0x00 delimiter included. A buffer of this
/// size always holds an encoded frame.
pub const MAX_FRAME_LEN: usize = cobs::encoded_len(MAX_RAW_LEN) + 1;
/// The byte that ends every frame on the wire (and never occurs inside one).
pub const DELIMITER: u8 = 0x00;
/// Lowest node address; 0 is reserved.
pub const MIN_ADDRESS: u8 = 1;
/// Highest node address; 255 is reserved.
pub const MAX_ADDRESS: u8 = 254;

/// A decoded frame: the node it concerns, its sequence number and its message. `M` is
/// [`super::Command`] (gateway → node) or [`super::Report`] (node → gateway).
///
/// `address` is always the node's: the one a command is for, the one a report comes from.
/// `seq` is the sender's: on a command the gateway's command number (a node runs a command only
/// once per number), on an event report the node's event number (kept across resends), on a
/// heartbeat the node's next event number, on a command result the command's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<M> {
    /// Node address, 1..=254.
    pub address: u8,
    /// Sequence number (see above).
    pub seq: u16,
    /// The message.
    pub message: M,
}

impl<M: Message> Frame<M> {
    /// A frame of `message` for or from node `address`.
    pub fn new(address: u8, seq: u16, message: M) -> Frame<M> {
        Frame {
            address,
            seq,
            message,
        }
    }

    /// Encodes the frame into `out`, delimiter included, and returns its length (at most
    /// [`MAX_FRAME_LEN`]).
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        if !(MIN_ADDRESS..=MAX_ADDRESS).contains(&self.address) {
            return Err(EncodeError::Address(self.address));
        }
        self.message.validate()?;
        let mut raw = [0u8; MAX_RAW_LEN];
        raw[0] = VERSION;
        raw[1] = self.address;
        raw[2] = self.message.kind();
        raw[3..5].copy_from_slice(&self.seq.to_le_bytes());
        let mut payload = [0u8; MAX_PAYLOAD_LEN];
        let n = self.message.write_payload(&mut payload);
        raw[HEADER_LEN..HEADER_LEN + n].copy_from_slice(&payload[..n]);
        let end = HEADER_LEN + n;
        let crc = crc16(&raw[..end]);
        raw[end..end + CRC_LEN].copy_from_slice(&crc.to_le_bytes());
        let raw = &raw[..end + CRC_LEN];
        let needed = cobs::encoded_len(raw.len()) + 1;
        if out.len() < needed {
            return Err(EncodeError::BufferTooSmall {
                needed,
                available: out.len(),
            });
        }
        let len = cobs::encode(raw, out).ok_or(EncodeError::BufferTooSmall {
            needed,
            available: out.len(),
        })?;
        out[len] = DELIMITER;
        Ok(len + 1)
    }

    /// Decodes one frame from its wire bytes (the trailing 0x00 may be there or not). For a
    /// stream, use [`super::FrameAccumulator`].
    pub fn decode(wire: &[u8]) -> Result<Frame<M>, DecodeError> {
        let body = match wire.split_last() {
            Some((&DELIMITER, body)) => body,
            _ => wire,
        };
        let mut buf = [0u8; MAX_RAW_LEN + 1];
        if body.len() > buf.len() {
            return Err(DecodeError::TooLong { len: body.len() });
        }
        let buf = &mut buf[..body.len()];
        buf.copy_from_slice(body);
        let len = cobs::decode_in_place(buf).map_err(DecodeError::Cobs)?;
        RawFrame::parse(&buf[..len])?.decode()
    }

    /// The frame's wire bytes, delimiter included (host helper).
    #[cfg(feature = "std")]
    pub fn to_vec(&self) -> Result<std::vec::Vec<u8>, EncodeError> {
        let mut out = [0u8; MAX_FRAME_LEN];
        let n = self.encode(&mut out)?;
        Ok(out[..n].to_vec())
    }
}

/// A checked frame whose message is not decoded yet: the CRC, the version and the address are
/// valid. Lets a station look at the address and direction before decoding the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFrame<'a> {
    /// Node address, 1..=254.
    pub address: u8,
    /// Kind byte (0x01..=0x7F commands, 0x81..=0xFF reports).
    pub kind: u8,
    /// Sequence number.
    pub seq: u16,
    /// Payload bytes.
    pub payload: &'a [u8],
}

impl<'a> RawFrame<'a> {
    /// Checks a COBS-decoded frame (header, payload, CRC): length, CRC, version, address.
    pub fn parse(raw: &'a [u8]) -> Result<RawFrame<'a>, DecodeError> {
        if raw.len() < HEADER_LEN + CRC_LEN {
            return Err(DecodeError::TooShort { len: raw.len() });
        }
        if raw.len() > MAX_RAW_LEN {
            return Err(DecodeError::TooLong { len: raw.len() });
        }
        let (body, crc) = raw.split_at(raw.len() - CRC_LEN);
        let received = u16::from_le_bytes([crc[0], crc[1]]);
        let computed = crc16(body);
        if computed != received {
            return Err(DecodeError::Crc { computed, received });
        }
        if body[0] != VERSION {
            return Err(DecodeError::Version(body[0]));
        }
        let address = body[1];
        if !(MIN_ADDRESS..=MAX_ADDRESS).contains(&address) {
            return Err(DecodeError::Address(address));
        }
        Ok(RawFrame {
            address,
            kind: body[2],
            seq: u16::from_le_bytes([body[3], body[4]]),
            payload: &body[HEADER_LEN..],
        })
    }

    /// True for a gateway → node frame (kind 0x01..=0x7F).
    pub fn is_command(&self) -> bool {
        (0x01..=0x7F).contains(&self.kind)
    }

    /// True for a node → gateway frame (kind 0x81..=0xFF).
    pub fn is_report(&self) -> bool {
        self.kind >= 0x81
    }

    /// Decodes the payload as a message of type `M` ([`super::Command`] or [`super::Report`]).
    pub fn decode<M: Message>(&self) -> Result<Frame<M>, DecodeError> {
        if !M::owns_kind(self.kind) {
            if self.kind == 0x00 || self.kind == 0x80 {
                return Err(DecodeError::UnknownKind(self.kind));
            }
            return Err(DecodeError::WrongDirection { kind: self.kind });
        }
        Ok(Frame {
            address: self.address,
            seq: self.seq,
            message: M::read_payload(self.kind, self.payload)?,
        })
    }
}
