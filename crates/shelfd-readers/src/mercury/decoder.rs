//! The module → host [`Decoder`]: cuts frames by their LEN field, checks the CRC, slides one
//! byte past a bad start, LEN or CRC, and names every checked frame (tag records through
//! [`super::record`]).
//!
//! Frame names (role; `code` is the status word when it is not 0x0000):
//! - opcode 0x22: a read (`Decoded::Tag`); `"stream_end"` (RoundEnd) for the end of a run;
//!   `"keepalive"` (Info, status 0x0400); `"temperature_throttle"` (0x0504) and
//!   `"high_return_loss"` (0x0505) (Info); `"status_report"` and `"cycle_status"` (Info).
//! - opcode 0x2F: `"start_ack"` (Ack), `"stop_ack"` (RoundEnd: the host stopped the run),
//!   `"param_reply"`, `"auth_message"`, `"multi_protocol_reply"` (Info).
//! - `"boot"` (Boot, opcode 0x04), `"autonomous_mode"` (Boot, opcode 0x9D), `"version"`,
//!   `"current_program"`, `"bootloader"` (current program is the bootloader), acks of the set
//!   commands (`"protocol_ack"`, `"antenna_ack"`, `"read_power_ack"`, `"reader_param_ack"`,
//!   `"region_ack"`, …), replies of the get commands (Info), `"reply"` (Info) for any other
//!   opcode.
//! - any non-zero status other than the three above: `"error"` (Error) with the status word.
//!
//! Skipped bytes are reported when the next valid frame is found, or every
//! [`MAX_SKIP_RUN`] bytes of an unbroken run, so the output does not depend on how the stream
//! was chunked.

use super::codes::*;
use super::record::{Record, parse_record};
use super::{MAX_LEN, START, crc};
use crate::frame::{Decoded, DecoderStats, FrameDecoder, FrameRole, TagReport};

/// A run of skipped bytes this long is reported even before a valid frame follows (a wrong
/// baud rate shows up promptly).
pub const MAX_SKIP_RUN: usize = 256;

/// Cuts module → host frames out of a byte stream.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed.
    start: usize,
    /// Stream offset of `buf[start]`.
    base: u64,
    /// The run of skipped bytes not reported yet.
    run: Option<SkipRun>,
    stats: DecoderStats,
}

#[derive(Debug)]
struct SkipRun {
    offset: u64,
    skipped: usize,
    reason: String,
}

/// Why bytes are skipped; formatted only when it opens a run.
enum Why {
    Start(u8),
    Len(u8),
    Crc {
        got: u16,
        computed: u16,
        len: u8,
        op: u8,
    },
    Content(String),
}

impl Why {
    fn text(self) -> String {
        match self {
            Why::Start(b) => format!("bad start byte 0x{b:02X} (expected 0xFF)"),
            Why::Len(len) => format!("bad LEN 0x{len:02X} (more than 0x{MAX_LEN:02X})"),
            Why::Crc {
                got,
                computed,
                len,
                op,
            } => format!(
                "bad CRC 0x{got:04X}, computed 0x{computed:04X} (LEN 0x{len:02X}, opcode 0x{op:02X})"
            ),
            Why::Content(text) => text,
        }
    }
}

/// What the front of the buffer holds.
enum Step {
    NeedMore,
    Skip(usize, Why),
    Frame(usize, Item),
}

/// A checked frame's meaning.
enum Item {
    Tag(TagReport),
    Frame(&'static str, FrameRole, Option<u16>),
}

impl Decoder {
    /// A decoder at stream offset 0.
    pub fn new() -> Self {
        Decoder::default()
    }

    /// Bytes fed but not consumed yet (at most one maximum-size frame once
    /// [`FrameDecoder::next_frame`] has returned `None`).
    pub fn pending_bytes(&self) -> usize {
        self.buf.len() - self.start
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.base += n as u64;
        if self.start >= self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }

    fn skip(&mut self, n: usize, why: Why) {
        match &mut self.run {
            Some(run) => run.skipped += n,
            None => {
                self.run = Some(SkipRun {
                    offset: self.base,
                    skipped: n,
                    reason: why.text(),
                })
            }
        }
        self.consume(n);
    }

    fn report_run(&mut self) -> Option<Decoded> {
        let run = self.run.take()?;
        self.stats.bad_frames += 1;
        Some(Decoded::Bad {
            offset: run.offset,
            skipped: run.skipped,
            reason: run.reason,
        })
    }
}

impl FrameDecoder for Decoder {
    fn feed(&mut self, bytes: &[u8]) {
        self.stats.bytes += bytes.len() as u64;
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    fn next_frame(&mut self) -> Option<Decoded> {
        loop {
            let run_len = self.run.as_ref().map_or(0, |r| r.skipped);
            if run_len >= MAX_SKIP_RUN {
                return self.report_run();
            }
            match examine(&self.buf[self.start..]) {
                Step::NeedMore => return None,
                Step::Skip(n, why) => {
                    // Never skip past the report threshold in one step, so the reports do not
                    // depend on how the bytes were chunked.
                    let n = if matches!(why, Why::Content(_)) {
                        n
                    } else {
                        n.min(MAX_SKIP_RUN - run_len)
                    };
                    self.skip(n, why);
                }
                Step::Frame(len, item) => {
                    if self.run.is_some() {
                        // Report the skipped run first; the frame is examined again next call.
                        return self.report_run();
                    }
                    let offset = self.base;
                    self.consume(len);
                    self.stats.frames += 1;
                    return Some(match item {
                        Item::Tag(tag) => {
                            self.stats.tags += 1;
                            Decoded::Tag { offset, tag }
                        }
                        Item::Frame(name, role, code) => Decoded::Frame {
                            offset,
                            name,
                            role,
                            code,
                        },
                    });
                }
            }
        }
    }

    fn stats(&self) -> DecoderStats {
        self.stats
    }
}

/// Looks at the front of `bytes`: a complete checked frame, bytes to skip, or too few bytes.
fn examine(bytes: &[u8]) -> Step {
    let Some(&first) = bytes.first() else {
        return Step::NeedMore;
    };
    if first != START {
        let n = bytes
            .iter()
            .position(|&b| b == START)
            .unwrap_or(bytes.len());
        return Step::Skip(n, Why::Start(first));
    }
    let Some(&len) = bytes.get(1) else {
        return Step::NeedMore;
    };
    if len > MAX_LEN {
        return Step::Skip(1, Why::Len(len));
    }
    let total = usize::from(len) + 7;
    let Some(frame) = bytes.get(..total) else {
        return Step::NeedMore;
    };
    let op = frame[2];
    let got = u16::from_be_bytes([frame[total - 2], frame[total - 1]]);
    let computed = crc(&frame[1..total - 2]);
    if got != computed {
        return Step::Skip(
            1,
            Why::Crc {
                got,
                computed,
                len,
                op,
            },
        );
    }
    let status = u16::from_be_bytes([frame[3], frame[4]]);
    match classify(op, status, &frame[5..total - 2]) {
        Ok(item) => Step::Frame(total, item),
        Err(reason) => Step::Skip(
            total,
            Why::Content(format!(
                "opcode 0x{op:02X} frame (LEN 0x{len:02X}, CRC ok): {reason}"
            )),
        ),
    }
}

/// Names a checked frame, or says which field is out of bounds.
fn classify(op: u8, status: u16, data: &[u8]) -> Result<Item, String> {
    use FrameRole::{Ack, Boot, Error, Info, RoundEnd};
    let frame = |name, role| Ok(Item::Frame(name, role, None));
    if op == OP_READ_TAG_MULTIPLE {
        return match status {
            STATUS_OK => Ok(match parse_record(data)? {
                Record::Tag(tag) => Item::Tag(tag),
                Record::StreamEnd { .. } => Item::Frame("stream_end", RoundEnd, None),
                Record::StatusReport => Item::Frame("status_report", Info, None),
                Record::CycleStatus => Item::Frame("cycle_status", Info, None),
            }),
            // Sent while streaming when a search found nothing: the module is alive with no
            // tag in view, which is the heartbeat the engine needs to let tags depart.
            STATUS_NO_TAGS_FOUND => Ok(Item::Frame("keepalive", FrameRole::NoTag, Some(status))),
            STATUS_TEMPERATURE_THROTTLE => {
                Ok(Item::Frame("temperature_throttle", Info, Some(status)))
            }
            STATUS_HIGH_RETURN_LOSS => Ok(Item::Frame("high_return_loss", Info, Some(status))),
            _ => Ok(Item::Frame("error", Error, Some(status))),
        };
    }
    if status != STATUS_OK {
        return Ok(Item::Frame("error", Error, Some(status)));
    }
    match op {
        OP_MULTI_PROTOCOL => match data.first() {
            Some(0x01) => frame("start_ack", Ack),
            Some(0x02) => frame("stop_ack", RoundEnd),
            Some(0x03) => frame("auth_message", Info),
            Some(0x04) => frame("param_reply", Info),
            _ => frame("multi_protocol_reply", Info),
        },
        OP_GET_CURRENT_PROGRAM => match data.first() {
            Some(program) if program & 0x03 == 1 => frame("bootloader", Info),
            Some(_) => frame("current_program", Info),
            None => Err("get-current-program reply without its program byte".to_string()),
        },
        OP_GET_VERSION => frame("version", Info),
        OP_BOOT_FIRMWARE => frame("boot", Boot),
        OP_USER_PROFILE => frame("autonomous_mode", Boot),
        OP_SET_BAUD_RATE => frame("baud_ack", Ack),
        OP_CLEAR_TAG_BUFFER => frame("buffer_cleared", Ack),
        OP_SET_ANTENNA => frame("antenna_ack", Ack),
        OP_SET_READ_POWER => frame("read_power_ack", Ack),
        OP_SET_TAG_PROTOCOL => frame("protocol_ack", Ack),
        OP_SET_WRITE_POWER => frame("write_power_ack", Ack),
        OP_SET_GPIO => frame("gpio_ack", Ack),
        OP_SET_REGION => frame("region_ack", Ack),
        OP_SET_READER_PARAM => frame("reader_param_ack", Ack),
        OP_SET_PROTOCOL_PARAM => frame("protocol_param_ack", Ack),
        OP_GET_ANTENNA => frame("antenna_info", Info),
        OP_GET_READ_POWER => frame("read_power_info", Info),
        OP_GET_TAG_PROTOCOL => frame("protocol_info", Info),
        OP_GET_WRITE_POWER => frame("write_power_info", Info),
        OP_GET_GPIO => frame("gpio_info", Info),
        OP_GET_REGION => frame("region_info", Info),
        OP_GET_READER_PARAM => frame("reader_param_info", Info),
        OP_GET_PROTOCOL_PARAM => frame("protocol_param_info", Info),
        OP_GET_TEMPERATURE => frame("temperature", Info),
        OP_READ_TAG_SINGLE | OP_WRITE_TAG_DATA | OP_READ_TAG_DATA | OP_GET_TAG_BUFFER => {
            frame("tag_op_reply", Info)
        }
        _ => frame("reply", Info),
    }
}
