//! The streaming side of shelf-link: bytes in (from a UART or a serial port, in any chunks),
//! checked frames out. Owns the receive buffer and the resynchronisation rule: everything up to
//! the next 0x00 after an error is dropped, so one garbled frame costs that frame only. It never
//! allocates, never panics on any bytes, and never interprets a payload.

use super::cobs;
use super::error::DecodeError;
use super::frame::{DELIMITER, MAX_RAW_LEN, RawFrame};

/// Encoded bytes the accumulator keeps between delimiters: the longest valid frame.
const CAPACITY: usize = cobs::encoded_len(MAX_RAW_LEN);

/// Counters of what an accumulator has seen since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccumulatorStats {
    /// Bytes fed.
    pub bytes: u64,
    /// Frames that passed the checks.
    pub frames: u64,
    /// Runs of bytes between delimiters that did not (COBS, length, CRC, version, address).
    pub errors: u64,
}

/// Cuts frames out of a byte stream at each 0x00 and checks them (COBS, CRC, version,
/// address). Empty runs (0x00 0x00) are skipped, so a sender may start a frame with an extra
/// 0x00 to flush line noise.
///
/// ```
/// use shelf_node::link::{Command, FrameAccumulator, Report, Frame};
///
/// // A gateway hears noise, then one node's hello, split across two reads.
/// let hello = Frame::new(7, 0, Report::Hello {
///     node_id: 0xC0FFEE,
///     firmware: shelf_node::link::FirmwareVersion { major: 1, minor: 0, patch: 0 },
///     lanes: 4,
/// });
/// let mut wire = [0u8; 64];
/// let n = hello.encode(&mut wire).unwrap();
/// let mut stream = vec![0x13, 0x37, 0x00]; // garbage, ended by a delimiter
/// stream.extend_from_slice(&wire[..n]);
///
/// let mut acc = FrameAccumulator::new();
/// let mut frames = Vec::new();
/// let mut errors = 0;
/// for chunk in stream.chunks(5) {
///     acc.feed_each(chunk, |item| match item {
///         Ok(raw) => frames.push(raw.decode::<Report>().unwrap()),
///         Err(_) => errors += 1,
///     });
/// }
/// assert_eq!(frames, [hello]);
/// assert_eq!(errors, 1);
/// ```
#[derive(Debug, Clone)]
pub struct FrameAccumulator {
    buf: [u8; CAPACITY],
    len: usize,
    /// Bytes seen since the last delimiter (saturating), counting those that did not fit.
    seen: usize,
    stats: AccumulatorStats,
}

impl Default for FrameAccumulator {
    fn default() -> Self {
        FrameAccumulator::new()
    }
}

impl FrameAccumulator {
    /// An empty accumulator.
    pub const fn new() -> FrameAccumulator {
        FrameAccumulator {
            buf: [0; CAPACITY],
            len: 0,
            seen: 0,
            stats: AccumulatorStats {
                bytes: 0,
                frames: 0,
                errors: 0,
            },
        }
    }

    /// What it has seen so far.
    pub fn stats(&self) -> AccumulatorStats {
        self.stats
    }

    /// Drops a partly received frame (e.g. after a bus timeout).
    pub fn reset(&mut self) {
        self.len = 0;
        self.seen = 0;
    }

    /// Feeds bytes until one frame ends (or `data` runs out). Returns how many bytes of `data`
    /// were consumed and the frame that ended, checked, if one did. Call again with the rest of
    /// `data` until it is consumed; [`FrameAccumulator::feed_each`] does that loop.
    pub fn feed<'a>(
        &'a mut self,
        data: &[u8],
    ) -> (usize, Option<Result<RawFrame<'a>, DecodeError>>) {
        for (i, &byte) in data.iter().enumerate() {
            self.stats.bytes += 1;
            if byte != DELIMITER {
                if self.len < CAPACITY {
                    self.buf[self.len] = byte;
                    self.len += 1;
                }
                self.seen = self.seen.saturating_add(1);
                continue;
            }
            if self.seen == 0 {
                continue;
            }
            let (len, seen) = (self.len, self.seen);
            self.len = 0;
            self.seen = 0;
            let result = if seen > CAPACITY {
                Err(DecodeError::TooLong { len: seen })
            } else {
                match cobs::decode_in_place(&mut self.buf[..len]) {
                    Ok(n) => RawFrame::parse(&self.buf[..n]),
                    Err(e) => Err(DecodeError::Cobs(e)),
                }
            };
            match result {
                Ok(_) => self.stats.frames += 1,
                Err(_) => self.stats.errors += 1,
            }
            return (i + 1, Some(result));
        }
        (data.len(), None)
    }

    /// Feeds all of `data`, calling `on_frame` for every frame that ends in it (checked, or the
    /// reason it was dropped).
    pub fn feed_each(
        &mut self,
        mut data: &[u8],
        mut on_frame: impl FnMut(Result<RawFrame<'_>, DecodeError>),
    ) {
        while !data.is_empty() {
            let (used, item) = self.feed(data);
            if let Some(item) = item {
                on_frame(item);
            }
            data = &data[used..];
        }
    }
}
