//! The plain line protocol: one read per line, `EPC[,antenna[,rssi]]`, as readers in
//! keyboard/ASCII output mode print them (and handy for quick tests with `echo`).
//!
//! - `EPC`: hex digits, a whole number of 16-bit words (4..=124 digits); upper or lower case.
//! - `antenna`: decimal 1..=64, default 1.
//! - `rssi`: decimal dBm in -128..=0 (e.g. `-61.5`), optional.
//! - Lines end with `\n`; a `\r` before it and spaces around fields are ignored; blank lines are
//!   skipped silently. A line longer than [`MAX_LINE`] bytes is reported bad and skipped up to
//!   its end.
//!
//! The host sends nothing: these readers stream on their own.
//!
//! ```
//! use shelfd_readers::frame::{decode_all, Decoded};
//! use shelfd_readers::line::Decoder;
//! let items = decode_all(&mut Decoder::new(), b"3074257BF7194E4000001A85,2,-61.5\r\nzz\n");
//! let Decoded::Tag { tag, .. } = &items[0] else { panic!() };
//! assert_eq!((tag.antenna, tag.rssi_dbm), (2, Some(-61.5)));
//! assert!(matches!(&items[1], Decoded::Bad { offset: 34, reason, .. } if reason.contains("\"zz\"")));
//! ```

use super::frame::{
    Decoded, DecoderStats, FrameDecoder, HostCommands, ReaderSimulator, TagReport, to_hex,
};

/// Longest accepted line in bytes, without its line end.
pub const MAX_LINE: usize = 256;

/// Cuts lines into reads.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    base: u64,
    /// Skipping the rest of an over-long line (already reported).
    discarding: bool,
    stats: DecoderStats,
}

impl Decoder {
    /// A decoder at stream offset 0.
    pub fn new() -> Self {
        Decoder::default()
    }

    fn bad(&mut self, offset: u64, skipped: usize, reason: String) -> Decoded {
        self.stats.bad_frames += 1;
        Decoded::Bad {
            offset,
            skipped,
            reason,
        }
    }
}

impl FrameDecoder for Decoder {
    fn feed(&mut self, bytes: &[u8]) {
        self.stats.bytes += bytes.len() as u64;
        self.buf.extend_from_slice(bytes);
    }

    fn next_frame(&mut self) -> Option<Decoded> {
        loop {
            let Some(end) = self.buf.iter().position(|&b| b == b'\n') else {
                if self.buf.len() > MAX_LINE {
                    // Report the over-long line once, then drop bytes until its end.
                    let skipped = self.buf.len();
                    let offset = self.base;
                    self.base += skipped as u64;
                    self.buf.clear();
                    if self.discarding {
                        continue;
                    }
                    self.discarding = true;
                    return Some(self.bad(
                        offset,
                        skipped,
                        format!("line longer than {MAX_LINE} bytes"),
                    ));
                }
                return None;
            };
            let offset = self.base;
            let line: Vec<u8> = self.buf.drain(..=end).collect();
            self.base += line.len() as u64;
            if std::mem::take(&mut self.discarding) {
                continue;
            }
            let text = &line[..line.len() - 1];
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if text.len() > MAX_LINE {
                return Some(self.bad(
                    offset,
                    line.len(),
                    format!("line longer than {MAX_LINE} bytes"),
                ));
            }
            return Some(match parse_line(text) {
                Ok(tag) => {
                    self.stats.frames += 1;
                    self.stats.tags += 1;
                    Decoded::Tag { offset, tag }
                }
                Err(reason) => self.bad(offset, line.len(), reason),
            });
        }
    }

    fn stats(&self) -> DecoderStats {
        self.stats
    }
}

/// Parses one line (without its `\n`) into a read, or says what is wrong with it.
pub fn parse_line(line: &[u8]) -> Result<TagReport, String> {
    let Ok(text) = std::str::from_utf8(line) else {
        return Err(format!("line is not text: {}", to_hex(line)));
    };
    let text = text.trim();
    let mut fields = text.split(',').map(str::trim);
    let epc_text = fields.next().unwrap_or_default();
    let epc = parse_epc(epc_text)?;
    let antenna = match fields.next() {
        None => 1,
        Some(a) => match a.parse::<u16>() {
            Ok(n) if (1..=64).contains(&n) => n,
            _ => return Err(format!("bad antenna {a:?} in {text:?}: expected 1..=64")),
        },
    };
    let rssi_dbm = match fields.next() {
        None => None,
        Some(r) => match r.parse::<f32>() {
            Ok(v) if (-128.0..=0.0).contains(&v) => Some(v),
            _ => return Err(format!("bad rssi {r:?} in {text:?}: expected dBm -128..=0")),
        },
    };
    if let Some(extra) = fields.next() {
        return Err(format!("unexpected field {extra:?} in {text:?}"));
    }
    Ok(TagReport {
        antenna,
        epc,
        rssi_dbm,
        ..TagReport::default()
    })
}

fn parse_epc(text: &str) -> Result<Vec<u8>, String> {
    let ok_len = !text.is_empty() && text.len() % 4 == 0 && text.len() <= 124;
    if !ok_len || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "bad EPC {text:?}: expected 4..=124 hex digits, a whole number of 16-bit words"
        ));
    }
    Ok(text
        .as_bytes()
        .chunks(2)
        .map(|pair| (hex_value(pair[0]) << 4) | hex_value(pair[1]))
        .collect())
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

/// The line a reader prints for `tag` (upper-case EPC, antenna, RSSI with one decimal).
pub fn encode(tag: &TagReport) -> String {
    let epc = to_hex(&tag.epc).to_ascii_uppercase();
    match tag.rssi_dbm {
        Some(rssi) => format!("{epc},{},{rssi:.1}\r\n", tag.antenna),
        None => format!("{epc},{}\r\n", tag.antenna),
    }
}

/// Host side: nothing to send.
#[derive(Debug, Clone, Copy, Default)]
pub struct Commands;

impl HostCommands for Commands {
    fn startup(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }
    fn respond(&self, _frame: &Decoded) -> Option<Vec<u8>> {
        None
    }
    fn nudge(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }
    fn shutdown(&self) -> Vec<Vec<u8>> {
        Vec::new()
    }
}

/// Reader side: prints one line per read, always running, ignores what the host writes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Simulator;

impl ReaderSimulator for Simulator {
    fn on_host_bytes(&mut self, _bytes: &[u8]) -> Vec<u8> {
        Vec::new()
    }
    fn inventory_running(&self) -> bool {
        true
    }
    fn round(&mut self, tags: &[TagReport]) -> Vec<u8> {
        tags.iter().flat_map(|t| encode(t).into_bytes()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::decode_all;
    use proptest::prelude::*;

    fn tags(items: &[Decoded]) -> Vec<TagReport> {
        items
            .iter()
            .filter_map(|d| match d {
                Decoded::Tag { tag, .. } => Some(tag.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn fields_and_defaults() {
        let items = decode_all(
            &mut Decoder::new(),
            b"e2801160600002084f6a1234\n\n 3000 , 64 \n",
        );
        let got = tags(&items);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].epc.len(), 12);
        assert_eq!((got[0].antenna, got[0].rssi_dbm), (1, None));
        assert_eq!((got[1].epc.clone(), got[1].antenna), (vec![0x30, 0x00], 64));
    }

    #[test]
    fn bad_lines_name_the_value() {
        for (line, needle) in [
            ("123", "\"123\""),
            ("3000,65", "\"65\""),
            ("3000,1,-200", "\"-200\""),
            ("3000,1,-50,x", "\"x\""),
            ("30g0", "\"30g0\""),
        ] {
            let items = decode_all(&mut Decoder::new(), format!("{line}\n").as_bytes());
            match &items[..] {
                [Decoded::Bad { reason, .. }] => assert!(reason.contains(needle), "{reason}"),
                other => panic!("{line}: {other:?}"),
            }
        }
    }

    #[test]
    fn over_long_line_is_reported_once_and_skipped() {
        let mut d = Decoder::new();
        d.feed(&[b'A'; 300]);
        d.feed(&[b'B'; 300]);
        d.feed(b"\n3000\n");
        let items = std::iter::from_fn(|| d.next_frame()).collect::<Vec<_>>();
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(matches!(items[0], Decoded::Bad { offset: 0, .. }));
        assert!(matches!(items[1], Decoded::Tag { offset: 601, .. }));
        assert_eq!(d.stats().bad_frames, 1);
    }

    fn arb_tag() -> impl Strategy<Value = TagReport> {
        (
            prop::collection::vec(any::<u8>(), 1..=31).prop_map(|mut v| {
                if v.len() % 2 == 1 {
                    v.push(0);
                }
                v
            }),
            1u16..=64,
            prop::option::of((-1280i32..=0).prop_map(|d| d as f32 / 10.0)),
        )
            .prop_map(|(epc, antenna, rssi_dbm)| TagReport {
                antenna,
                epc,
                rssi_dbm,
                ..TagReport::default()
            })
    }

    proptest! {
        #[test]
        fn simulator_round_trips(batch in prop::collection::vec(arb_tag(), 0..20)) {
            let bytes = Simulator.round(&batch);
            let got = tags(&decode_all(&mut Decoder::new(), &bytes));
            prop_assert_eq!(got, batch);
        }

        #[test]
        fn arbitrary_bytes_never_panic(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..400), 0..6)) {
            let mut d = Decoder::new();
            for c in &chunks {
                d.feed(c);
                while d.next_frame().is_some() {}
            }
            prop_assert!(d.buf.len() <= MAX_LINE + 400);
        }
    }
}
