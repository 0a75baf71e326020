//! `shelfd decode`: runs captured reader bytes through a protocol's decoder and prints what it
//! cuts out, one JSON object per line — the tool for "what is this reader actually sending?".
//! Owns reading the capture (raw bytes, or hex text with [`HexText`]) and the output format;
//! it never interprets frames itself (that is the protocol module's decoder), never opens a
//! port and never touches the engine or the store.
//!
//! Intended CLI (wired in `src/bin/shelfd.rs`):
//!
//! ```text
//! shelfd decode --protocol <mercury|magicrf|r2000|line|shelf-link|llrp> [--hex] < capture
//!
//! $ printf '3074257BF7194E4000001A85,2,-61.5\r\nzz\n' | shelfd decode --protocol line
//! {"kind":"tag","offset":0,"antenna":2,"epc":"3074257bf7194e4000001a85","rssi_dbm":-61.5}
//! {"kind":"bad","offset":34,"skipped":3,"reason":"bad EPC \"zz\": expected 4..=124 hex digits, a whole number of 16-bit words"}
//!
//! $ echo 'BB 01 FF 00 01 15 16 7E' | shelfd decode --protocol magicrf --hex
//! ```
//!
//! Output items: `{"kind":"tag", "offset", "antenna", "epc", …}` for reads (every field the
//! frame carries), `{"kind":"frame", "offset", "name", "role", "code"?}` for other valid
//! frames, `{"kind":"bad", "offset", "skipped", "reason"}` for skipped bytes. Offsets count
//! decoded bytes (after hex conversion). Bytes after the last complete frame are not reported:
//! the decoder is still waiting for the rest of that frame.
//!
//! With `--hex` the input is text: pairs of hex digits, upper or lower case; whitespace, line
//! breaks, `:`, `-` and `,` separate tokens, and a token may start with `0x`. Each token must
//! hold whole bytes (an even number of digits). Anything else is an error naming the offending
//! character and its line, column and byte position; items decoded before it have already
//! been printed.
//!
//! ```
//! use shelfd_readers::Protocol;
//! let mut out = Vec::new();
//! let summary = shelfd_readers::decode::run(
//!     Protocol::Line, true, &mut &b"33 30 30 30 2c 32 0a"[..], &mut out).unwrap();
//! assert_eq!(String::from_utf8(out).unwrap(),
//!     "{\"kind\":\"tag\",\"offset\":0,\"antenna\":2,\"epc\":\"3000\"}\n");
//! assert_eq!((summary.bytes, summary.tags), (7, 1));
//! ```

use crate::frame::FrameDecoder;
use crate::kinds::Protocol;
use crate::wire::{self, WireOptions};
use serde::Serialize;
use std::io::{self, BufWriter, Read, Write};

/// Input read per step.
const CHUNK: usize = 8192;

/// Why a decode stopped.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The protocol has no byte-level decoder (`replay`, or not built yet).
    #[error("protocol {protocol:?} has no serial frame decoder to run")]
    Unsupported {
        /// The protocol's config spelling.
        protocol: String,
    },
    /// A character in hex input that is not a hex digit or separator.
    #[error("bad hex digit {found} at line {line}, column {column} (input byte {offset})")]
    BadHexDigit {
        /// The character, quoted (`'g'`), or the byte (`byte 0xff`) when not printable ASCII.
        found: String,
        /// Line, 1-based.
        line: u64,
        /// Column in bytes, 1-based.
        column: u64,
        /// Position in the input, 0-based.
        offset: u64,
    },
    /// A hex token with an odd number of digits (or a bare `0x`).
    #[error(
        "hex token at line {line}, column {column} has {digits} digit(s): a byte needs two, write e.g. 0x0a"
    )]
    OddHexDigits {
        /// Line of the token's first character, 1-based.
        line: u64,
        /// Column of the token's first character, 1-based.
        column: u64,
        /// Digits in the token (not counting a `0x` prefix).
        digits: u64,
    },
    /// The input could not be read.
    #[error("reading input: {0}")]
    Read(#[source] io::Error),
    /// The output could not be written.
    #[error("writing output: {0}")]
    Write(#[source] io::Error),
}

/// Counts of one decode run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DecodeSummary {
    /// Bytes fed to the decoder (after hex conversion).
    pub bytes: u64,
    /// JSON lines printed.
    pub items: u64,
    /// Valid frames, tag reads included.
    pub frames: u64,
    /// Tag reads.
    pub tags: u64,
    /// Runs of skipped bytes reported as bad.
    pub bad_frames: u64,
}

/// Decodes `input` as `protocol` with default [`WireOptions`] (see [`run_with`]).
pub fn run(
    protocol: Protocol,
    hex: bool,
    input: &mut dyn Read,
    out: &mut dyn Write,
) -> Result<DecodeSummary, DecodeError> {
    run_with(protocol, &WireOptions::default(), hex, input, out)
}

/// Decodes `input` (raw bytes, or hex text when `hex`) as `protocol` configured by `options`,
/// printing one JSON line per decoded item to `out`, until end of input.
pub fn run_with(
    protocol: Protocol,
    options: &WireOptions,
    hex: bool,
    input: &mut dyn Read,
    out: &mut dyn Write,
) -> Result<DecodeSummary, DecodeError> {
    let mut decoder = wire::decoder(protocol, options).map_err(|_| DecodeError::Unsupported {
        protocol: protocol.to_string(),
    })?;
    let mut out = BufWriter::new(out);
    let result = pump(decoder.as_mut(), hex, input, &mut out);
    // Whatever was decoded before an error is still printed.
    let flushed = out.flush().map_err(DecodeError::Write);
    let items = result?;
    flushed?;
    let stats = decoder.stats();
    Ok(DecodeSummary {
        bytes: stats.bytes,
        items,
        frames: stats.frames,
        tags: stats.tags,
        bad_frames: stats.bad_frames,
    })
}

/// Reads, converts, decodes and prints until end of input; returns the items printed.
fn pump(
    decoder: &mut dyn FrameDecoder,
    hex: bool,
    input: &mut dyn Read,
    out: &mut dyn Write,
) -> Result<u64, DecodeError> {
    let mut chunk = vec![0u8; CHUNK];
    let mut text = HexText::new();
    let mut bytes = Vec::with_capacity(CHUNK / 2);
    let mut items = 0;
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(DecodeError::Read(e)),
        };
        if hex {
            bytes.clear();
            let converted = text.push(&chunk[..n], &mut bytes);
            // The bytes before a bad digit still decode and print.
            decoder.feed(&bytes);
            items += print_items(decoder, out)?;
            converted?;
        } else {
            decoder.feed(&chunk[..n]);
            items += print_items(decoder, out)?;
        }
    }
    if hex {
        text.finish()?;
    }
    Ok(items)
}

fn print_items(decoder: &mut dyn FrameDecoder, out: &mut dyn Write) -> Result<u64, DecodeError> {
    let mut items = 0;
    while let Some(item) = decoder.next_frame() {
        serde_json::to_writer(&mut *out, &item).map_err(|e| DecodeError::Write(e.into()))?;
        out.write_all(b"\n").map_err(DecodeError::Write)?;
        items += 1;
    }
    Ok(items)
}

/// A streaming hex-text to bytes converter that remembers where it is, so errors can name
/// the line, column and input byte of the offending character. See the module docs for the
/// accepted syntax.
///
/// ```
/// use shelfd_readers::decode::HexText;
/// let mut text = HexText::new();
/// let mut bytes = Vec::new();
/// text.push(b"0xBB,0x00 de:ad-b", &mut bytes).unwrap();
/// text.push(b"e\n", &mut bytes).unwrap(); // a token may span pushes
/// text.finish().unwrap();
/// assert_eq!(bytes, [0xbb, 0x00, 0xde, 0xad, 0xbe]);
/// let err = HexText::new().push(b"12\n3g", &mut bytes).unwrap_err();
/// assert_eq!(err.to_string(), "bad hex digit 'g' at line 2, column 2 (input byte 4)");
/// ```
#[derive(Debug, Clone)]
pub struct HexText {
    line: u64,
    column: u64,
    offset: u64,
    /// Pending high nibble.
    high: Option<u8>,
    /// Digits in the current token (after a `0x`).
    digits: u64,
    /// The current token so far is a lone `0` (a `0x` prefix may follow).
    lone_zero: bool,
    /// The current token had a `0x` prefix.
    prefixed: bool,
    /// Where the current token started, if one is open.
    token_at: Option<(u64, u64)>,
}

impl Default for HexText {
    fn default() -> Self {
        HexText::new()
    }
}

impl HexText {
    /// A converter at the start of its input.
    pub fn new() -> Self {
        HexText {
            line: 1,
            column: 1,
            offset: 0,
            high: None,
            digits: 0,
            lone_zero: false,
            prefixed: false,
            token_at: None,
        }
    }

    /// Converts the next piece of text, appending the bytes it completes to `bytes`.
    pub fn push(&mut self, text: &[u8], bytes: &mut Vec<u8>) -> Result<(), DecodeError> {
        for &c in text {
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b'\x0b' | b'\x0c' | b':' | b'-' | b',' => {
                    self.end_token()?;
                }
                b'x' | b'X' if self.lone_zero => {
                    // "0x": the zero was a prefix, not a digit.
                    self.high = None;
                    self.digits = 0;
                    self.lone_zero = false;
                    self.prefixed = true;
                }
                _ => {
                    let Some(value) = hex_value(c) else {
                        return Err(DecodeError::BadHexDigit {
                            found: describe(c),
                            line: self.line,
                            column: self.column,
                            offset: self.offset,
                        });
                    };
                    if self.token_at.is_none() {
                        self.token_at = Some((self.line, self.column));
                    }
                    self.lone_zero = self.digits == 0 && !self.prefixed && c == b'0';
                    self.digits += 1;
                    match self.high.take() {
                        None => self.high = Some(value),
                        Some(high) => bytes.push((high << 4) | value),
                    }
                }
            }
            self.offset += 1;
            if c == b'\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
        Ok(())
    }

    /// Ends the input: a token left with half a byte (or a bare `0x`) is an error.
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        self.end_token()
    }

    fn end_token(&mut self) -> Result<(), DecodeError> {
        let token_at = self.token_at.take();
        let digits = std::mem::take(&mut self.digits);
        let prefixed = std::mem::take(&mut self.prefixed);
        self.lone_zero = false;
        let half = self.high.take().is_some();
        if let Some((line, column)) = token_at {
            if half || (prefixed && digits == 0) {
                return Err(DecodeError::OddHexDigits {
                    line,
                    column,
                    digits,
                });
            }
        }
        Ok(())
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn describe(c: u8) -> String {
    if c.is_ascii_graphic() {
        format!("'{}'", char::from(c))
    } else {
        format!("byte 0x{c:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(
        protocol: Protocol,
        hex: bool,
        input: &[u8],
    ) -> Result<(String, DecodeSummary), DecodeError> {
        let mut out = Vec::new();
        let summary = run(protocol, hex, &mut &input[..], &mut out)?;
        Ok((String::from_utf8(out).expect("JSON is UTF-8"), summary))
    }

    fn hex(text: &str) -> Result<Vec<u8>, DecodeError> {
        let mut bytes = Vec::new();
        let mut h = HexText::new();
        h.push(text.as_bytes(), &mut bytes)?;
        h.finish()?;
        Ok(bytes)
    }

    #[test]
    fn line_protocol_golden() {
        let input = b"3074257BF7194E4000001A85,2,-61.5\r\nzz\n\n3000\ne2801160600002084f6a1234,9";
        let (out, summary) = decode(Protocol::Line, false, input).expect("decodes");
        assert_eq!(
            out,
            concat!(
                r#"{"kind":"tag","offset":0,"antenna":2,"epc":"3074257bf7194e4000001a85","rssi_dbm":-61.5}"#,
                "\n",
                r#"{"kind":"bad","offset":34,"skipped":3,"reason":"bad EPC \"zz\": expected 4..=124 hex digits, a whole number of 16-bit words"}"#,
                "\n",
                r#"{"kind":"tag","offset":38,"antenna":1,"epc":"3000"}"#,
                "\n",
            )
        );
        assert_eq!(
            summary,
            DecodeSummary {
                bytes: input.len() as u64,
                items: 3,
                frames: 2,
                tags: 2,
                bad_frames: 1,
            },
            "the unterminated last line is not reported"
        );
    }

    #[test]
    fn hex_input_gives_the_same_items_as_raw() {
        let raw = b"3074257BF7194E4000001A85,2,-61.5\r\nzz\n";
        let text: String = raw
            .iter()
            .enumerate()
            .map(|(i, b)| match i % 4 {
                0 => format!("0x{b:02X} "),
                1 => format!("{b:02x}:"),
                2 => format!("{b:02x}-"),
                _ => format!("{b:02x},\n"),
            })
            .collect();
        let (from_hex, s1) = decode(Protocol::Line, true, text.as_bytes()).expect("hex");
        let (from_raw, s2) = decode(Protocol::Line, false, raw).expect("raw");
        assert_eq!(from_hex, from_raw);
        assert_eq!(s1, s2);
    }

    #[test]
    fn long_hex_input_streams_across_chunks() {
        let line = b"3074257BF7194E4000001A85,1,-50.0\n";
        let raw: Vec<u8> = line
            .iter()
            .copied()
            .cycle()
            .take(line.len() * 1000)
            .collect();
        let text: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        assert!(text.len() > 3 * CHUNK);
        let (out, summary) = decode(Protocol::Line, true, text.as_bytes()).expect("hex");
        assert_eq!(summary.tags, 1000);
        assert_eq!(out.lines().count(), 1000);
    }

    #[test]
    fn hex_syntax() {
        assert_eq!(hex("").expect("empty"), Vec::<u8>::new());
        assert_eq!(hex("0x0a0B 00 0X00").expect("ok"), [0x0a, 0x0b, 0, 0]);
        assert_eq!(hex("  de\r\n\tad  ").expect("ok"), [0xde, 0xad]);
        assert_eq!(
            hex("0 0").map_err(|e| e.to_string()).expect_err("odd"),
            "hex token at line 1, column 1 has 1 digit(s): a byte needs two, write e.g. 0x0a"
        );
    }

    #[test]
    fn hex_errors_name_the_character_and_position() {
        let cases: &[(&str, &str)] = &[
            (
                "12 zz",
                "bad hex digit 'z' at line 1, column 4 (input byte 3)",
            ),
            (
                "ab\ncd\n  0g",
                "bad hex digit 'g' at line 3, column 4 (input byte 9)",
            ),
            (
                "00x1",
                "bad hex digit 'x' at line 1, column 3 (input byte 2)",
            ),
            (
                "0xx1",
                "bad hex digit 'x' at line 1, column 3 (input byte 2)",
            ),
            ("1x", "bad hex digit 'x' at line 1, column 2 (input byte 1)"),
            (
                "ab\u{e9}",
                "bad hex digit byte 0xc3 at line 1, column 3 (input byte 2)",
            ),
            (
                "ab;",
                "bad hex digit ';' at line 1, column 3 (input byte 2)",
            ),
            (
                "abc def",
                "hex token at line 1, column 1 has 3 digit(s): a byte needs two, write e.g. 0x0a",
            ),
            (
                "ab\n 0x",
                "hex token at line 2, column 2 has 0 digit(s): a byte needs two, write e.g. 0x0a",
            ),
            (
                "ab 0xabc",
                "hex token at line 1, column 4 has 3 digit(s): a byte needs two, write e.g. 0x0a",
            ),
        ];
        for (text, message) in cases {
            let err = hex(text).map_err(|e| e.to_string()).expect_err(text);
            assert_eq!(&err, message, "input {text:?}");
        }
    }

    #[test]
    fn items_before_a_bad_digit_are_printed() {
        let text = "33 30 30 30 0a\n zz";
        let mut out = Vec::new();
        let err = run(Protocol::Line, true, &mut text.as_bytes(), &mut out).expect_err("bad digit");
        assert!(
            matches!(
                err,
                DecodeError::BadHexDigit {
                    line: 2,
                    column: 2,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "{\"kind\":\"tag\",\"offset\":0,\"antenna\":1,\"epc\":\"3000\"}\n"
        );
    }

    #[test]
    fn unsupported_protocols_are_named() {
        let err = decode(Protocol::Replay, false, b"").expect_err("no decoder");
        let text = err.to_string();
        assert!(text.contains("\"replay\""), "{text}");
    }

    #[test]
    fn a_shelf_link_bus_capture_decodes_both_directions() {
        use shelf_node::link::{Command, Frame, Report};
        let mut capture = Frame::new(3, 0, Command::Ack { seq: 8 })
            .to_vec()
            .expect("encodes");
        capture.extend(
            Frame::new(
                3,
                9,
                Report::PickPut {
                    lane: 1,
                    units: -2,
                    delta_mg: -498_700,
                },
            )
            .to_vec()
            .expect("encodes"),
        );
        capture.extend([0x05, 0x01, 0x00]);
        let hex: String = capture.iter().map(|b| format!("{b:02x} ")).collect();
        let mut out = Vec::new();
        let summary =
            run(Protocol::ShelfLink, true, &mut hex.as_bytes(), &mut out).expect("decodes");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[..2],
            [
                r#"{"kind":"frame","offset":0,"name":"ack","role":"info","code":3}"#,
                r#"{"kind":"frame","offset":11,"name":"pick_put","role":"info","code":3}"#,
            ],
            "{text}"
        );
        assert!(
            lines[2].starts_with(r#"{"kind":"bad","offset":27,"skipped":2,"reason":"COBS: "#),
            "{text}"
        );
        assert_eq!((summary.frames, summary.bad_frames), (2, 1));
    }

    #[test]
    fn read_errors_are_reported() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("cable cut"))
            }
        }
        let err = run(Protocol::Line, false, &mut Broken, &mut Vec::new()).expect_err("fails");
        assert_eq!(err.to_string(), "reading input: cable cut");
    }
}
