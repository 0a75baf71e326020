//! Cutting checked, length-framed frames out of a byte stream: the part the binary reader
//! protocols share. A protocol supplies a probe that looks at the bytes from a header byte on
//! and answers "need more", "no frame starts here (why)" or "a checked frame of n bytes meaning
//! this"; the [`Scanner`] owns the buffer, the stream offsets and the counters, slides one byte
//! past every rejected start and folds each run of skipped bytes into one [`Decoded::Bad`]. It
//! never interprets frame contents and never panics; it holds at most one frame of unconsumed
//! bytes once drained (a probe never asks for more than one maximum-size frame).

use super::frame::{Decoded, DecoderStats, FrameRole, TagReport};

/// Longest run of skipped bytes reported as one [`Decoded::Bad`]. A longer run (wrong baud
/// rate, another protocol on the line) is reported in pieces of this size, so it shows at all.
pub const MAX_BAD_RUN: usize = 4096;

/// What a probe found at a header byte.
#[derive(Debug)]
pub enum Probe {
    /// Too few bytes to decide yet.
    Need,
    /// No frame starts here: why, naming the offending value. The scanner slides one byte.
    Reject(String),
    /// A checked frame of this many bytes (at least 1, at most the bytes given), and its meaning.
    Accept(usize, Cut),
}

/// What a checked frame means: a [`Decoded`] without its offset.
#[derive(Debug, Clone, PartialEq)]
pub enum Cut {
    /// A tag read.
    Tag(TagReport),
    /// Any other valid frame.
    Frame {
        /// Stable snake_case name.
        name: &'static str,
        /// What it means to the driver.
        role: FrameRole,
        /// Status or error code, when the frame has one.
        code: Option<u16>,
    },
}

/// A run of skipped bytes not reported yet.
#[derive(Debug)]
struct BadRun {
    offset: u64,
    skipped: usize,
    reason: String,
    /// The reason comes from a rejected frame start (preferred over "not a header byte").
    from_frame: bool,
}

/// Buffer, offsets, counters and resynchronisation for one length-framed protocol.
#[derive(Debug)]
pub struct Scanner {
    header: u8,
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed.
    start: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    run: Option<BadRun>,
    /// A frame found right after a bad run: returned by the next call.
    held: Option<Decoded>,
    stats: DecoderStats,
}

impl Scanner {
    /// A scanner whose frames start with `header`, at stream offset 0.
    pub fn new(header: u8) -> Self {
        Scanner {
            header,
            buf: Vec::new(),
            start: 0,
            offset: 0,
            run: None,
            held: None,
            stats: DecoderStats::default(),
        }
    }

    /// Appends bytes read from the port.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.stats.bytes += bytes.len() as u64;
        self.compact();
        self.buf.extend_from_slice(bytes);
    }

    /// Counters so far.
    pub fn stats(&self) -> DecoderStats {
        self.stats
    }

    /// Unconsumed bytes held.
    #[cfg(test)]
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next item, asking `probe` about every header byte; `None` until more bytes come.
    pub fn next(&mut self, mut probe: impl FnMut(&[u8]) -> Probe) -> Option<Decoded> {
        if let Some(item) = self.held.take() {
            return Some(item);
        }
        loop {
            let rest = &self.buf[self.start..];
            let Some(&first) = rest.first() else {
                self.compact();
                return None;
            };
            if first != self.header {
                let header = self.header;
                let n = rest.iter().position(|&b| b == header).unwrap_or(rest.len());
                let why = || format!("byte 0x{first:02X} where header 0x{header:02X} was expected");
                if let Some(bad) = self.skip(n, why, false) {
                    return Some(bad);
                }
                continue;
            }
            match probe(rest) {
                Probe::Need => {
                    self.compact();
                    return None;
                }
                Probe::Reject(reason) => {
                    if let Some(bad) = self.skip(1, || reason, true) {
                        return Some(bad);
                    }
                }
                Probe::Accept(len, cut) => {
                    let len = len.clamp(1, rest.len());
                    let item = self.accept(len, cut);
                    return match self.run.take() {
                        Some(run) => {
                            self.held = Some(item);
                            Some(self.report(run))
                        }
                        None => Some(item),
                    };
                }
            }
        }
    }

    fn accept(&mut self, len: usize, cut: Cut) -> Decoded {
        let offset = self.offset;
        self.start += len;
        self.offset += len as u64;
        self.stats.frames += 1;
        match cut {
            Cut::Tag(tag) => {
                self.stats.tags += 1;
                Decoded::Tag { offset, tag }
            }
            Cut::Frame { name, role, code } => Decoded::Frame {
                offset,
                name,
                role,
                code,
            },
        }
    }

    /// Skips up to `n` bytes into the current bad run; returns the run once it is full.
    fn skip(
        &mut self,
        n: usize,
        reason: impl FnOnce() -> String,
        from_frame: bool,
    ) -> Option<Decoded> {
        let offset = self.offset;
        let run = self.run.get_or_insert_with(|| BadRun {
            offset,
            skipped: 0,
            reason: String::new(),
            from_frame: false,
        });
        let n = n.min(MAX_BAD_RUN - run.skipped);
        if run.reason.is_empty() || (from_frame && !run.from_frame) {
            run.reason = reason();
            run.from_frame = from_frame;
        }
        run.skipped += n;
        self.start += n;
        self.offset += n as u64;
        if run.skipped >= MAX_BAD_RUN {
            return self.run.take().map(|run| self.report(run));
        }
        None
    }

    fn report(&mut self, run: BadRun) -> Decoded {
        self.stats.bad_frames += 1;
        Decoded::Bad {
            offset: run.offset,
            skipped: run.skipped,
            reason: run.reason,
        }
    }

    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }
}

/// Property-test helpers shared by the protocol modules' tests.
#[cfg(test)]
pub mod testkit {
    use crate::frame::{Decoded, FrameDecoder, decode_all};

    /// Feeds `bytes` in the given chunk sizes (cycled), draining after each chunk.
    pub fn decode_chunked(
        decoder: &mut dyn FrameDecoder,
        bytes: &[u8],
        sizes: &[usize],
    ) -> Vec<Decoded> {
        let mut out = Vec::new();
        let mut at = 0;
        let mut i = 0;
        while at < bytes.len() {
            let size = sizes
                .get(i % sizes.len().max(1))
                .copied()
                .unwrap_or(1)
                .max(1);
            let end = (at + size).min(bytes.len());
            decoder.feed(&bytes[at..end]);
            out.extend(std::iter::from_fn(|| decoder.next_frame()));
            at = end;
            i += 1;
        }
        out
    }

    /// Builds `garbage[0] frame[0] garbage[1] frame[1] …` plus a zero tail of `tail` bytes
    /// (standing in for the traffic that would follow, so a false start inside the last
    /// garbage can be resolved), decodes it, and checks that every frame not overlapped by a
    /// spurious frame (one accepted at an offset where no real frame starts; its length is
    /// `frame_len(stream, offset)`) is decoded at its offset as `expected[i]` (offset ignored).
    /// Returns how many frames were lost to spurious ones.
    pub fn check_garbage_recovery(
        decoder: &mut dyn FrameDecoder,
        frames: &[Vec<u8>],
        expected: &[Decoded],
        garbage: &[Vec<u8>],
        tail: usize,
        frame_len: impl Fn(&[u8], usize) -> usize,
    ) -> Result<usize, String> {
        let mut stream = Vec::new();
        let mut starts = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            if let Some(g) = garbage.get(i) {
                stream.extend_from_slice(g);
            }
            starts.push(stream.len());
            stream.extend_from_slice(frame);
        }
        stream.extend(std::iter::repeat_n(0u8, tail));
        let items = decode_all(decoder, &stream);
        let offset_of = |d: &Decoded| match d {
            Decoded::Tag { offset, .. }
            | Decoded::Frame { offset, .. }
            | Decoded::Bad { offset, .. } => *offset as usize,
        };
        let spurious: Vec<(usize, usize)> = items
            .iter()
            .filter(|d| !matches!(d, Decoded::Bad { .. }))
            .map(offset_of)
            .filter(|o| !starts.contains(o))
            .map(|o| (o, o + frame_len(&stream, o)))
            .collect();
        let mut lost = 0;
        for (i, &s) in starts.iter().enumerate() {
            let e = s + frames[i].len();
            if spurious.iter().any(|&(a, b)| a < e && s < b) {
                lost += 1;
                continue;
            }
            let got = items
                .iter()
                .find(|d| offset_of(d) == s && !matches!(d, Decoded::Bad { .. }));
            let want = with_offset(&expected[i], s as u64);
            if got != Some(&want) {
                return Err(format!("frame {i} at {s}: got {got:?}, want {want:?}"));
            }
        }
        Ok(lost)
    }

    /// `item` with its offset replaced.
    pub fn with_offset(item: &Decoded, at: u64) -> Decoded {
        let mut item = item.clone();
        match &mut item {
            Decoded::Tag { offset, .. }
            | Decoded::Frame { offset, .. }
            | Decoded::Bad { offset, .. } => *offset = at,
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy protocol: `0x55 len payload[len]`, payload must not contain 0xEE.
    fn toy(bytes: &[u8]) -> Probe {
        let Some(&len) = bytes.get(1) else {
            return Probe::Need;
        };
        let total = 2 + usize::from(len);
        if bytes.len() < total {
            return Probe::Need;
        }
        if bytes[2..total].contains(&0xEE) {
            return Probe::Reject("payload holds 0xEE".into());
        }
        Probe::Accept(
            total,
            Cut::Frame {
                name: "toy",
                role: FrameRole::Info,
                code: Some(u16::from(len)),
            },
        )
    }

    fn drain(s: &mut Scanner) -> Vec<Decoded> {
        std::iter::from_fn(|| s.next(toy)).collect()
    }

    #[test]
    fn one_bad_report_per_run_preferring_the_frame_reason() {
        let mut s = Scanner::new(0x55);
        s.feed(&[1, 2, 0x55, 1, 0xEE, 3, 0x55, 0, 9]);
        let items = drain(&mut s);
        assert_eq!(items.len(), 2, "{items:?}");
        match &items[0] {
            Decoded::Bad {
                offset: 0,
                skipped: 6,
                reason,
            } => assert!(reason.contains("0xEE"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(items[1], Decoded::Frame { offset: 6, .. }));
        // The trailing 9 is skipped into a run that is not reported until it ends.
        assert_eq!(s.stats().bad_frames, 1);
        assert_eq!(s.stats().frames, 1);
        assert_eq!(s.buffered(), 0);
        s.feed(&[0x55, 0]);
        assert!(matches!(
            s.next(toy),
            Some(Decoded::Bad {
                offset: 8,
                skipped: 1,
                ..
            })
        ));
        assert!(matches!(
            s.next(toy),
            Some(Decoded::Frame { offset: 9, .. })
        ));
    }

    #[test]
    fn long_runs_are_reported_in_pieces() {
        let mut s = Scanner::new(0x55);
        s.feed(&vec![0u8; MAX_BAD_RUN * 2 + 10]);
        let items = drain(&mut s);
        assert_eq!(items.len(), 2);
        assert!(
            matches!(items[1], Decoded::Bad { offset, skipped: MAX_BAD_RUN, .. } if offset == MAX_BAD_RUN as u64)
        );
        assert_eq!(s.buffered(), 0);
    }
}
