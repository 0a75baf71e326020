//! Cutting a read log into numbered lines without trusting it.
//!
//! Owns the framing of a read-log byte stream: lines end at `\n` (a `\r` before it is dropped),
//! are numbered from 1, and hold at most [`MAX_LINE_BYTES`] bytes. A longer line is reported as
//! [`Cut::TooLong`] as soon as it passes the cap and its remaining bytes are skipped without
//! being kept, so a 100 MB line costs no more memory than a legal one. Bytes are checked as
//! UTF-8 per line ([`LineCutter::text`]), so one bad line never spoils the lines after it.
//!
//! It does no I/O: callers (the offline `shelfd replay` over a `BufRead`, the live `replay`
//! reader over an `AsyncBufRead`) hand it the chunks their buffered reader holds.
//!
//! ```
//! use shelfd_core::readlog::lines::{Cut, LineCutter};
//! let mut cutter = LineCutter::with_max(8);
//! let mut input: &[u8] = b"{\"a\":1}\r\n0123456789abc\nok";
//! let mut cuts = Vec::new();
//! while !input.is_empty() {
//!     let (used, cut) = cutter.feed(input);
//!     input = &input[used..];
//!     if let Some(cut) = cut {
//!         cuts.push((cut, cutter.text().map(str::to_owned).ok()));
//!     }
//! }
//! cuts.extend(cutter.finish().map(|cut| (cut, cutter.text().map(str::to_owned).ok())));
//! assert_eq!(cuts[0], (Cut::Line { number: 1 }, Some("{\"a\":1}".to_owned())));
//! assert_eq!(cuts[1].0, Cut::TooLong { number: 2 });
//! assert_eq!(cuts[2], (Cut::Line { number: 3 }, Some("ok".to_owned())));
//! ```

use super::ReadLogError;

/// Longest read-log line in bytes (without its newline): the largest command a gateway accepts
/// (an `asn` of `commands::MAX_ASN_COMMAND_BYTES`, 2 MiB) plus 4 KiB for the line around it
/// (`tests/time_bounds.rs` checks that the two agree; a literal here keeps `readlog` free of a
/// dependency on `commands`, which depends on it).
pub const MAX_LINE_BYTES: usize = 2 * 1024 * 1024 + 4096;

/// What a chunk completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Line `number` is complete; [`LineCutter::line`] holds it until the next `feed`.
    Line {
        /// 1-based line number.
        number: u64,
    },
    /// Line `number` is longer than the cap; the rest of it is skipped unread.
    TooLong {
        /// 1-based line number.
        number: u64,
    },
}

/// Cuts a byte stream into lines of at most `max` bytes (see the module doc).
#[derive(Debug)]
pub struct LineCutter {
    buf: Vec<u8>,
    /// Lines completed so far.
    number: u64,
    /// The current line passed the cap: its bytes are dropped up to its newline.
    skipping: bool,
    /// `buf` holds a completed line: clear it before the next byte.
    complete: bool,
    max: usize,
}

impl Default for LineCutter {
    fn default() -> Self {
        Self::with_max(MAX_LINE_BYTES)
    }
}

impl LineCutter {
    /// A cutter with the read-log cap [`MAX_LINE_BYTES`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A cutter with a cap of `max` bytes per line.
    pub fn with_max(max: usize) -> Self {
        LineCutter {
            buf: Vec::new(),
            number: 0,
            skipping: false,
            complete: false,
            max,
        }
    }

    /// Takes the bytes of `chunk` up to and including its first newline (all of it when it has
    /// none). Returns how many bytes were taken (always at least one of a non-empty chunk) and
    /// the cut they completed, if any.
    pub fn feed(&mut self, chunk: &[u8]) -> (usize, Option<Cut>) {
        if self.complete {
            self.buf.clear();
            self.complete = false;
        }
        let newline = chunk.iter().position(|&b| b == b'\n');
        let (taken, body) = match newline {
            Some(i) => (i + 1, &chunk[..i]),
            None => (chunk.len(), chunk),
        };
        let mut cut = None;
        if !self.skipping {
            if self.buf.len().saturating_add(body.len()) > self.max {
                self.skipping = true;
                self.buf = Vec::new();
                cut = Some(Cut::TooLong {
                    number: self.number + 1,
                });
            } else {
                self.buf.extend_from_slice(body);
            }
        }
        if newline.is_some() {
            // A line that passed the cap in this very chunk ends here too (reported as such).
            let ended = self.end_line();
            cut = cut.or(ended);
        }
        (taken, cut)
    }

    /// The end of the input: completes a last line that has no newline.
    pub fn finish(&mut self) -> Option<Cut> {
        if self.complete {
            self.buf.clear();
            self.complete = false;
        }
        if self.skipping || !self.buf.is_empty() {
            self.end_line()
        } else {
            None
        }
    }

    /// The line a [`Cut::Line`] completed, without its `\n` or `\r\n`.
    pub fn line(&self) -> &[u8] {
        if self.complete { &self.buf } else { &[] }
    }

    /// [`LineCutter::line`] as text, or why it is not UTF-8.
    pub fn text(&self) -> Result<&str, ReadLogError> {
        std::str::from_utf8(self.line()).map_err(|e| ReadLogError::NotUtf8 {
            offset: e.valid_up_to(),
        })
    }

    /// Lines completed so far (the number of the last one).
    pub fn lines(&self) -> u64 {
        self.number
    }

    fn end_line(&mut self) -> Option<Cut> {
        self.number += 1;
        if std::mem::take(&mut self.skipping) {
            // Reported when it passed the cap.
            return None;
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        self.complete = true;
        Some(Cut::Line {
            number: self.number,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Cuts `input` fed in chunks of `chunk` bytes: (number, Ok(line) | Err(too long)).
    fn cut_all(input: &[u8], chunk: usize, max: usize) -> Vec<(u64, Option<Vec<u8>>)> {
        let mut cutter = LineCutter::with_max(max);
        let mut out = Vec::new();
        let mut rest = input;
        let mut record = |cutter: &LineCutter, cut| match cut {
            Cut::Line { number } => out.push((number, Some(cutter.line().to_vec()))),
            Cut::TooLong { number } => out.push((number, None)),
        };
        while !rest.is_empty() {
            let piece = &rest[..chunk.min(rest.len())];
            let (used, cut) = cutter.feed(piece);
            assert!(used >= 1 && used <= piece.len());
            assert!(cutter.buf.len() <= max, "a line is never held past the cap");
            rest = &rest[used..];
            if let Some(cut) = cut {
                record(&cutter, cut);
            }
        }
        if let Some(cut) = cutter.finish() {
            record(&cutter, cut);
        }
        out
    }

    #[test]
    fn numbers_lines_and_drops_crlf() {
        assert_eq!(
            cut_all(b"a\r\n\nbc\n", 3, 10),
            vec![
                (1, Some(b"a".to_vec())),
                (2, Some(vec![])),
                (3, Some(b"bc".to_vec()))
            ]
        );
        assert_eq!(cut_all(b"", 3, 10), vec![]);
        assert_eq!(cut_all(b"x", 3, 10), vec![(1, Some(b"x".to_vec()))]);
    }

    #[test]
    fn a_long_line_is_reported_once_and_the_next_line_keeps_its_number() {
        let mut input = vec![b'x'; 1000];
        input.extend_from_slice(b"\nok\n");
        assert_eq!(
            cut_all(&input, 7, 100),
            vec![(1, None), (2, Some(b"ok".to_vec()))]
        );
        // Exactly at the cap is fine; a long last line without a newline is still counted.
        assert_eq!(
            cut_all(b"12345\n123456", 2, 5),
            vec![(1, Some(b"12345".to_vec())), (2, None)]
        );
    }

    #[test]
    fn invalid_utf8_is_named_per_line() {
        let mut cutter = LineCutter::new();
        let (_, cut) = cutter.feed(b"ab\xffcd\n");
        assert_eq!(cut, Some(Cut::Line { number: 1 }));
        assert_eq!(cutter.text(), Err(ReadLogError::NotUtf8 { offset: 2 }));
        let (_, cut) = cutter.feed(b"ok\n");
        assert_eq!(cut, Some(Cut::Line { number: 2 }));
        assert_eq!(cutter.text(), Ok("ok"));
    }

    proptest! {
        #[test]
        fn agrees_with_a_plain_split(
            input in proptest::collection::vec(
                prop_oneof![Just(b'\n'), Just(b'\r'), Just(b'a'), any::<u8>()], 0..400),
            chunk in 1usize..50,
            max in 0usize..40,
        ) {
            let mut expected = Vec::new();
            let mut parts: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
            if parts.last().is_some_and(|p| p.is_empty()) {
                parts.pop();
            }
            for (i, part) in parts.iter().enumerate() {
                let line = (part.len() <= max)
                    .then(|| part.strip_suffix(b"\r").unwrap_or(part).to_vec());
                expected.push((i as u64 + 1, line));
            }
            prop_assert_eq!(cut_all(&input, chunk, max), expected);
        }
    }
}
