//! Errors of the shelf-link codec. Each names the offending value (the byte, the length, the
//! checksum pair), so a gateway log line says what arrived, not only that something was wrong.

use super::cobs::CobsError;
use core::fmt;

/// Why bytes are not a valid shelf-link v1 frame. Decoding never panics; this is what it says
/// instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes between two delimiters are not valid COBS.
    Cobs(CobsError),
    /// More bytes arrived between two delimiters than the longest frame has (the frame, and the
    /// bytes up to the next 0x00, were dropped).
    TooLong {
        /// Bytes seen before the delimiter (saturating).
        len: usize,
    },
    /// The decoded frame is shorter than a header and a CRC.
    TooShort {
        /// Decoded length.
        len: usize,
    },
    /// The CRC over the frame does not match the CRC it carries.
    Crc {
        /// CRC computed over the received bytes.
        computed: u16,
        /// CRC carried by the frame.
        received: u16,
    },
    /// A protocol version this decoder does not speak.
    Version(u8),
    /// A node address outside 1..=254.
    Address(u8),
    /// A kind byte no message has.
    UnknownKind(u8),
    /// A command where a report was expected, or the other way round (on a half-duplex bus a
    /// station hears the other direction too).
    WrongDirection {
        /// The kind byte.
        kind: u8,
    },
    /// A payload whose length does not fit its kind.
    PayloadLength {
        /// The kind byte.
        kind: u8,
        /// Length the kind has (for a tag read: its minimum, or the length its EPC announces).
        expected: usize,
        /// Length received.
        found: usize,
    },
    /// A field with a value its kind does not allow.
    Field {
        /// The kind byte.
        kind: u8,
        /// Which field.
        field: &'static str,
        /// The value received.
        value: u32,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::Cobs(CobsError::ZeroByte { at }) => {
                write!(f, "COBS: zero byte at offset {at}")
            }
            DecodeError::Cobs(CobsError::Truncated { at, code }) => write!(
                f,
                "COBS: code byte 0x{code:02x} at offset {at} runs past the end of the frame"
            ),
            DecodeError::TooLong { len } => {
                write!(f, "frame too long: {len} bytes before the delimiter")
            }
            DecodeError::TooShort { len } => write!(f, "frame too short: {len} bytes"),
            DecodeError::Crc { computed, received } => write!(
                f,
                "CRC mismatch: frame carries 0x{received:04x}, bytes give 0x{computed:04x}"
            ),
            DecodeError::Version(v) => write!(f, "unsupported shelf-link version {v}"),
            DecodeError::Address(a) => write!(f, "node address {a} outside 1..=254"),
            DecodeError::UnknownKind(k) => write!(f, "unknown message kind 0x{k:02x}"),
            DecodeError::WrongDirection { kind } => {
                write!(f, "message kind 0x{kind:02x} travels the other direction")
            }
            DecodeError::PayloadLength {
                kind,
                expected,
                found,
            } => write!(
                f,
                "kind 0x{kind:02x}: payload of {found} bytes, expected {expected}"
            ),
            DecodeError::Field { kind, field, value } => {
                write!(f, "kind 0x{kind:02x}: invalid {field} {value}")
            }
        }
    }
}

impl core::error::Error for DecodeError {}

/// Why a message could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeError {
    /// The output buffer is too small ([`super::MAX_FRAME_LEN`] always suffices).
    BufferTooSmall {
        /// Bytes the frame needs.
        needed: usize,
        /// Bytes the buffer has.
        available: usize,
    },
    /// A node address outside 1..=254.
    Address(u8),
    /// A field value the decoder would reject.
    Field {
        /// Which field.
        field: &'static str,
        /// The offending value.
        value: i64,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EncodeError::BufferTooSmall { needed, available } => {
                write!(f, "frame needs {needed} bytes, the buffer has {available}")
            }
            EncodeError::Address(a) => write!(f, "node address {a} outside 1..=254"),
            EncodeError::Field { field, value } => write!(f, "invalid {field} {value}"),
        }
    }
}

impl core::error::Error for EncodeError {}
