//! LLRP's byte grammar, with no knowledge of what a message means: the 10-byte message
//! header and the stream decoder that cuts whole messages out of TCP bytes
//! ([`MessageStream`], any fragmentation or coalescing, a maximum message size), a bounds-checked
//! body reader ([`Cursor`]), the parameter walker ([`Params`]: TLV parameters skipped by their
//! length, TV parameters by their type's fixed size) and the writers ([`message`], [`tlv`]).
//!
//! Facts (LLRP 1.0.1 §4 / the LTK's `llrp-1x1-def.xml`, as generated into llrpjs `def-td.ts`):
//! a message is `u16 (3 reserved bits, 3-bit version, 10-bit type) | u32 length including the
//! header | u32 message id | body`; a TLV parameter is `u16 (6 reserved bits, 10-bit type) |
//! u16 length including its 4-byte header | fields | sub-parameters`; a TV parameter is one
//! byte `1 | 7-bit type` followed by a value whose size the type fixes.
//!
//! It never allocates a length a header claims before the bytes are there (a message larger
//! than the maximum is an error at once) and never panics on any input.
//!
//! ```
//! use shelfd_readers::llrp::codec::MessageStream;
//! // KEEPALIVE (type 62), message id 7, split across two reads.
//! let mut stream = MessageStream::new(1024);
//! stream.feed(&[0x04, 0x3e, 0x00, 0x00]);
//! assert!(stream.next_message().is_none());
//! stream.feed(&[0x00, 0x0a, 0x00, 0x00, 0x00, 0x07]);
//! let (offset, raw) = stream.next_message().unwrap().unwrap();
//! assert_eq!((offset, raw.version, raw.kind, raw.id), (0, 1, 62, 7));
//! ```

/// Bytes of a message header.
pub const HEADER_LEN: usize = 10;
/// Bytes of a TLV parameter header.
pub const TLV_HEADER_LEN: usize = 4;
/// Default largest message accepted: EdgeX's cap (640 KiB; its comment says one vendor drops
/// connections above about 500 KiB).
pub const DEFAULT_MAX_MESSAGE: usize = 640 * 1024;
/// Smallest maximum a stream accepts (a capabilities response of a big reader fits easily).
pub const MIN_MAX_MESSAGE: usize = 1024;

/// One message as framed on the wire: header fields and the body bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// Protocol version: 1 = LLRP 1.0.1, 2 = LLRP 1.1.
    pub version: u8,
    /// Message type (10 bits).
    pub kind: u16,
    /// Message id (a response carries its request's).
    pub id: u32,
    /// Everything after the header.
    pub body: Vec<u8>,
}

/// A header that cannot start a message: the stream is broken from here on (on a live
/// connection: close it; in a capture: slide one byte and look again).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    /// The three reserved bits are not zero.
    #[error("bad message header 0x{first:04x}: the 3 reserved bits must be 0")]
    Reserved {
        /// The header's first 16 bits.
        first: u16,
    },
    /// A version other than 1 (LLRP 1.0.1) or 2 (LLRP 1.1).
    #[error("unsupported LLRP version {version} in a message header (expected 1 or 2)")]
    Version {
        /// The version bits.
        version: u8,
    },
    /// A length smaller than the header itself.
    #[error("message length {length} is shorter than the 10-byte header")]
    TooShort {
        /// The claimed length.
        length: u32,
    },
    /// A length over the configured maximum.
    #[error(
        "message of {length} bytes (type {kind}) exceeds the maximum message size of {max} bytes"
    )]
    TooLong {
        /// The claimed length.
        length: u32,
        /// The message type.
        kind: u16,
        /// The maximum.
        max: usize,
    },
}

/// Cuts whole messages out of a byte stream. Holds at most one maximum-size message of
/// unconsumed bytes plus what one `feed` added.
#[derive(Debug, Clone)]
pub struct MessageStream {
    buf: Vec<u8>,
    start: usize,
    max: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
}

impl MessageStream {
    /// A stream accepting messages of at most `max` bytes (raised to [`MIN_MAX_MESSAGE`]).
    pub fn new(max: usize) -> Self {
        MessageStream {
            buf: Vec::new(),
            start: 0,
            max: max.max(MIN_MAX_MESSAGE),
            offset: 0,
        }
    }

    /// The largest message accepted.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Bytes held that do not yet form a message.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Appends bytes read from the socket.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.start > 0 && (self.start >= self.buf.len() / 2 || self.buf.len() > self.max) {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Skips `n` buffered bytes (resynchronising a capture after a [`FramingError`]).
    pub fn skip(&mut self, n: usize) {
        let n = n.min(self.buffered());
        self.start += n;
        self.offset += n as u64;
    }

    /// The next whole message with its stream offset, `None` until more bytes are fed, or the
    /// error of a header that cannot start a message (nothing is consumed then).
    pub fn next_message(&mut self) -> Option<Result<(u64, RawMessage), FramingError>> {
        let held = &self.buf[self.start..];
        if held.len() < HEADER_LEN {
            return None;
        }
        let header = match parse_header(held, self.max) {
            Ok(h) => h,
            Err(e) => return Some(Err(e)),
        };
        let length = header.length as usize;
        if held.len() < length {
            return None;
        }
        let raw = RawMessage {
            version: header.version,
            kind: header.kind,
            id: header.id,
            body: held[HEADER_LEN..length].to_vec(),
        };
        let at = self.offset;
        self.start += length;
        self.offset += length as u64;
        Some(Ok((at, raw)))
    }
}

/// The fields of a message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Version bits.
    pub version: u8,
    /// Message type.
    pub kind: u16,
    /// Whole message length.
    pub length: u32,
    /// Message id.
    pub id: u32,
}

/// Reads and checks the header at the start of `bytes` (at least [`HEADER_LEN`] long).
pub fn parse_header(bytes: &[u8], max: usize) -> Result<Header, FramingError> {
    let b = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let first = u16::from_be_bytes([b(0), b(1)]);
    if first >> 13 != 0 {
        return Err(FramingError::Reserved { first });
    }
    let version = ((first >> 10) & 0x7) as u8;
    let kind = first & 0x3ff;
    if !(1..=2).contains(&version) {
        return Err(FramingError::Version { version });
    }
    let length = u32::from_be_bytes([b(2), b(3), b(4), b(5)]);
    let id = u32::from_be_bytes([b(6), b(7), b(8), b(9)]);
    if (length as usize) < HEADER_LEN {
        return Err(FramingError::TooShort { length });
    }
    if length as usize > max {
        return Err(FramingError::TooLong { length, kind, max });
    }
    Ok(Header {
        version,
        kind,
        length,
        id,
    })
}

/// A body or parameter that does not follow the grammar; names what and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Fewer bytes than a field needs.
    #[error("{what}: needs {need} more byte(s), {have} left")]
    Truncated {
        /// The field or parameter being read.
        what: &'static str,
        /// Bytes it needs.
        need: usize,
        /// Bytes left.
        have: usize,
    },
    /// A TLV length that is shorter than its header or longer than what encloses it.
    #[error("parameter type {kind}: length {length} does not fit (4..={room} bytes available)")]
    ParamLength {
        /// Parameter type.
        kind: u16,
        /// Its claimed length.
        length: u16,
        /// Bytes available for it.
        room: usize,
    },
    /// A TV parameter type whose size is unknown (it cannot be skipped).
    #[error("unknown TV parameter type {0}: its size is unknown")]
    UnknownTv(u8),
    /// A required parameter is absent.
    #[error("missing {0}")]
    Missing(&'static str),
    /// Text that is not UTF-8.
    #[error("{0}: not UTF-8")]
    Utf8(&'static str),
    /// A field value the grammar does not allow.
    #[error("{what}: bad value {value}")]
    Value {
        /// The field.
        what: &'static str,
        /// The offending value.
        value: u64,
    },
}

/// A bounds-checked reader over a body or parameter.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or(&[])
    }

    /// Reads `n` bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], BodyError> {
        let rest = self.rest();
        if rest.len() < n {
            return Err(BodyError::Truncated {
                what,
                need: n,
                have: rest.len(),
            });
        }
        self.pos += n;
        Ok(&rest[..n])
    }

    /// A `u8`.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, BodyError> {
        Ok(self.take(1, what)?[0])
    }

    /// A big-endian `u16`.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, BodyError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// A big-endian `u32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, BodyError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A big-endian `u64`.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, BodyError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// A `u16` count followed by that many bytes of UTF-8 (`utf8v`).
    pub fn utf8v(&mut self, what: &'static str) -> Result<String, BodyError> {
        let n = self.u16(what)? as usize;
        let b = self.take(n, what)?;
        String::from_utf8(b.to_vec()).map_err(|_| BodyError::Utf8(what))
    }

    /// The sub-parameters in the rest of the input.
    pub fn params(&self) -> Params<'a> {
        Params::new(self.rest())
    }
}

/// One parameter as framed: its type and its value (TV) or body after the header (TLV).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawParam<'a> {
    /// A TV parameter: 7-bit type, fixed-size value.
    Tv {
        /// Type.
        kind: u8,
        /// Value bytes.
        value: &'a [u8],
    },
    /// A TLV parameter: 10-bit type, body after the 4-byte header.
    Tlv {
        /// Type.
        kind: u16,
        /// Body bytes.
        body: &'a [u8],
    },
}

/// The size of a TV parameter's value, by type (LLRP 1.0.1 §16.2 and the LTK definition: the
/// TV parameters are AntennaID … C1G2XPCW2, types 1–20).
pub const fn tv_size(kind: u8) -> Option<usize> {
    match kind {
        1 | 7 | 8 | 10 | 11 | 12 | 14 | 15 | 17 | 19 | 20 => Some(2),
        2..=5 => Some(8),
        6 => Some(1),
        9 | 16 | 18 => Some(4),
        13 => Some(12),
        _ => None,
    }
}

/// Walks the parameters in a byte run; an item that cannot be framed ends the walk with its
/// error.
#[derive(Debug, Clone)]
pub struct Params<'a> {
    bytes: &'a [u8],
    failed: bool,
}

impl<'a> Params<'a> {
    /// A walker over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Params {
            bytes,
            failed: false,
        }
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = Result<RawParam<'a>, BodyError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.bytes.is_empty() {
            return None;
        }
        let first = self.bytes[0];
        let item = if first & 0x80 != 0 {
            let kind = first & 0x7f;
            match tv_size(kind) {
                None => Err(BodyError::UnknownTv(kind)),
                Some(n) if self.bytes.len() < 1 + n => Err(BodyError::Truncated {
                    what: "TV parameter",
                    need: 1 + n,
                    have: self.bytes.len(),
                }),
                Some(n) => {
                    let value = &self.bytes[1..1 + n];
                    self.bytes = &self.bytes[1 + n..];
                    Ok(RawParam::Tv { kind, value })
                }
            }
        } else if self.bytes.len() < TLV_HEADER_LEN {
            Err(BodyError::Truncated {
                what: "TLV parameter header",
                need: TLV_HEADER_LEN,
                have: self.bytes.len(),
            })
        } else {
            let kind = u16::from_be_bytes([self.bytes[0], self.bytes[1]]) & 0x3ff;
            let length = u16::from_be_bytes([self.bytes[2], self.bytes[3]]);
            let n = length as usize;
            if n < TLV_HEADER_LEN || n > self.bytes.len() {
                Err(BodyError::ParamLength {
                    kind,
                    length,
                    room: self.bytes.len(),
                })
            } else {
                let body = &self.bytes[TLV_HEADER_LEN..n];
                self.bytes = &self.bytes[n..];
                Ok(RawParam::Tlv { kind, body })
            }
        };
        if item.is_err() {
            self.failed = true;
        }
        Some(item)
    }
}

/// Builds a whole message: header (`version`, `kind`, `id`, the length patched in) and the
/// body `body` writes.
pub fn message(version: u8, kind: u16, id: u32, body: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    let first = (u16::from(version & 0x7) << 10) | (kind & 0x3ff);
    out.extend_from_slice(&first.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&id.to_be_bytes());
    body(&mut out);
    let length = u32::try_from(out.len()).unwrap_or(u32::MAX);
    out[2..6].copy_from_slice(&length.to_be_bytes());
    out
}

/// Appends a TLV parameter of type `kind` whose fields and sub-parameters `body` writes (the
/// length is patched in; a body over 65 531 bytes is cut to fit, which no message we build
/// comes near).
pub fn tlv(out: &mut Vec<u8>, kind: u16, body: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.extend_from_slice(&(kind & 0x3ff).to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    body(out);
    let max = at + usize::from(u16::MAX);
    if out.len() > max {
        out.truncate(max);
    }
    let length = u16::try_from(out.len() - at).unwrap_or(u16::MAX);
    out[at + 2..at + 4].copy_from_slice(&length.to_be_bytes());
}

/// Appends a TV parameter (`kind` 1..=127; `value` must have the type's size).
pub fn tv(out: &mut Vec<u8>, kind: u8, value: &[u8]) {
    out.push(0x80 | (kind & 0x7f));
    out.extend_from_slice(value);
}

/// Appends a `utf8v` field (cut to 65 535 bytes at a character boundary).
pub fn put_utf8v(out: &mut Vec<u8>, text: &str) {
    let mut end = text.len().min(usize::from(u16::MAX));
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    out.extend_from_slice(&(end as u16).to_be_bytes());
    out.extend_from_slice(&text.as_bytes()[..end]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_errors_name_the_value() {
        let mut s = MessageStream::new(2048);
        s.feed(&[0x04, 0x3d, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1]);
        let err = s.next_message().expect("an item").expect_err("too long");
        assert_eq!(
            err.to_string(),
            "message of 2147483647 bytes (type 61) exceeds the maximum message size of 2048 bytes"
        );
        assert!(s.buffered() == 10, "nothing allocated or consumed");
        let mut s = MessageStream::new(2048);
        s.feed(&[0x04, 0x3d, 0, 0, 0, 9, 0, 0, 0, 1]);
        assert_eq!(
            s.next_message(),
            Some(Err(FramingError::TooShort { length: 9 }))
        );
        let mut s = MessageStream::new(2048);
        s.feed(&[0x20, 0x3d, 0, 0, 0, 10, 0, 0, 0, 1]);
        assert_eq!(
            s.next_message(),
            Some(Err(FramingError::Reserved { first: 0x203d }))
        );
        let mut s = MessageStream::new(2048);
        s.feed(&[0x0c, 0x3d, 0, 0, 0, 10, 0, 0, 0, 1]);
        assert_eq!(
            s.next_message(),
            Some(Err(FramingError::Version { version: 3 }))
        );
    }

    #[test]
    fn coalesced_messages_come_out_in_order_with_offsets() {
        let a = message(1, 62, 1, |_| {});
        let b = message(1, 72, 2, |o| o.extend_from_slice(&[1, 2, 3]));
        let mut s = MessageStream::new(4096);
        let mut all = a.clone();
        all.extend_from_slice(&b);
        s.feed(&all);
        let (o1, m1) = s.next_message().expect("one").expect("ok");
        let (o2, m2) = s.next_message().expect("two").expect("ok");
        assert_eq!((o1, m1.kind, m1.id), (0, 62, 1));
        assert_eq!((o2, m2.kind, m2.id, m2.body), (10, 72, 2, vec![1, 2, 3]));
        assert!(s.next_message().is_none());
    }

    #[test]
    fn params_skip_by_length_and_stop_at_a_bad_one() {
        let mut bytes = Vec::new();
        tlv(&mut bytes, 999, |o| o.extend_from_slice(&[9; 5]));
        tv(&mut bytes, 1, &[0, 3]);
        bytes.extend_from_slice(&[0x00, 0x05, 0x00, 0x40]); // claims 64 bytes
        let items: Vec<_> = Params::new(&bytes).collect();
        assert_eq!(items.len(), 3);
        assert_eq!(
            items[0],
            Ok(RawParam::Tlv {
                kind: 999,
                body: &[9; 5]
            })
        );
        assert_eq!(
            items[1],
            Ok(RawParam::Tv {
                kind: 1,
                value: &[0, 3]
            })
        );
        assert_eq!(
            items[2],
            Err(BodyError::ParamLength {
                kind: 5,
                length: 64,
                room: 4
            })
        );
        let unknown: Vec<_> = Params::new(&[0xff, 1, 2]).collect();
        assert_eq!(unknown, [Err(BodyError::UnknownTv(0x7f))]);
    }
}
