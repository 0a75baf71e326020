//! The streamed tag record (opcode 0x22, status 0, READERS.md §1.7): the metadata flag bits and
//! their fields, the tag identity (bit count, PC, optional XPC words, EPC, Gen2 tag CRC),
//! bound-checked parsing for the decoder and encoding for the simulator.
//!
//! Record data (after the status word): `[singulation byte] option(0x10) search-flags(2)
//! metadata-flags(2) response-type(1) metadata… bit-count(2) PC(2) [XPC_W1(2) [XPC_W2(2)]] EPC
//! tag-CRC(2)`. Metadata fields follow in ascending flag-bit order, each only when its bit is
//! set.

use super::codes::{OP_READ_TAG_MULTIPLE, PROTOCOL_GEN2};
use super::crc::gen2_crc;
use super::reply_frame;
use crate::frame::TagReport;

/// 0x0001: read count, 1 byte.
pub const META_READ_COUNT: u16 = 0x0001;
/// 0x0002: RSSI, 1 byte, signed dBm.
pub const META_RSSI: u16 = 0x0002;
/// 0x0004: antenna, 1 byte: high nibble TX port, low nibble RX port (0 = port 16).
pub const META_ANTENNA: u16 = 0x0004;
/// 0x0008: carrier frequency, 3 bytes, kHz.
pub const META_FREQUENCY: u16 = 0x0008;
/// 0x0010: timestamp, 4 bytes, ms since the search started or the last keep-alive.
pub const META_TIMESTAMP: u16 = 0x0010;
/// 0x0020: RF phase, 2 bytes, degrees.
pub const META_PHASE: u16 = 0x0020;
/// 0x0040: tag protocol, 1 byte (5 = Gen2).
pub const META_PROTOCOL: u16 = 0x0040;
/// 0x0080: embedded-operation data: u16 bit length (0x8000 = error flag), then the bytes.
pub const META_DATA: u16 = 0x0080;
/// 0x0100: GPIO levels, 1 byte.
pub const META_GPIO: u16 = 0x0100;
/// 0x0200: Gen2 Q, 1 byte.
pub const META_GEN2_Q: u16 = 0x0200;
/// 0x0400: Gen2 link frequency code, 1 byte.
pub const META_GEN2_LINK_FREQUENCY: u16 = 0x0400;
/// 0x0800: Gen2 target, 1 byte.
pub const META_GEN2_TARGET: u16 = 0x0800;
/// 0x1000: brand identifier, 2 bytes.
pub const META_BRAND: u16 = 0x1000;
/// 0x2000: tag type, EBV-encoded (HF/LF modules only; not supported here).
pub const META_TAG_TYPE: u16 = 0x2000;
/// The metadata bits this module can parse and encode (0x0001..=0x1000).
pub const META_SUPPORTED: u16 = 0x1FFF;

/// Option byte bit: metadata flags are present.
pub const OPTION_METADATA: u8 = 0x10;
/// Search-flag bits of the start command and the records: configured antenna list (0x0003),
/// tag streaming (0x0008), large tag population (0x0010), as in TM-3.
pub const SEARCH_FLAGS_STREAMING: u16 = 0x001B;
/// Search-flag bit: end the run after N tags (a u32 count follows the metadata flags).
pub const SEARCH_RETURN_ON_N_TAGS: u16 = 0x0040;
/// Search-flag bit: duty-cycle control (a u16 off-time follows).
pub const SEARCH_DUTY_CYCLE: u16 = 0x0400;

/// Response type byte: one tag record follows, the stream continues.
pub const RESPONSE_TAG: u8 = 0x01;
/// Response type byte: end of the stream.
pub const RESPONSE_END: u8 = 0x00;
/// Response type byte: status / statistics report.
pub const RESPONSE_STATUS: u8 = 0x02;

/// Read count the encoder writes when a report carries none.
pub const DEFAULT_READ_COUNT: u8 = 1;
/// RSSI (dBm) the encoder writes when a report carries none.
pub const DEFAULT_RSSI_DBM: i8 = -60;
/// Frequency (kHz) the encoder writes when a report carries none.
pub const DEFAULT_FREQUENCY_KHZ: u32 = 915_250;
/// GPIO byte the encoder writes (the value of TM-1).
pub const ENCODED_GPIO: u8 = 0x0F;
/// Gen2 Q the encoder writes.
pub const ENCODED_GEN2_Q: u8 = 4;

/// What an opcode-0x22 status-0 frame carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// One tag read.
    Tag(TagReport),
    /// The streaming run ended (response type 0, or the end of a stop-after-N run with the
    /// number of tags it returned).
    StreamEnd {
        /// The tag count of a stop-after-N run, when the frame carries it.
        tags: Option<u32>,
    },
    /// A status / statistics report (response type 2); its content is not decoded.
    StatusReport,
    /// LEN 0: the per-cycle status some protocols send; nothing to report.
    CycleStatus,
}

/// Reads big-endian fields off a slice, naming the field when the slice is too short.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let rest = &self.bytes[self.pos..];
        if rest.len() < n {
            return Err(format!(
                "record ends before {what}: needs {n} bytes at data offset {}, {} left",
                self.pos,
                rest.len()
            ));
        }
        self.pos += n;
        Ok(&rest[..n])
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, String> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u24(&mut self, what: &str) -> Result<u32, String> {
        let b = self.take(3, what)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
}

/// Parses the data (the bytes after the status word) of an opcode-0x22 status-0 frame, or says
/// which field is out of bounds.
///
/// A read reports the TX port of the antenna byte (nibble 0 = port 16), antenna 1 when the
/// record carries no antenna field; RSSI, frequency, phase, read count and timestamp when
/// their flags are set (the timestamp raw, ms since the module's base time). The EPC length
/// comes from the record's bit count and must agree with the PC word: XPC words are skipped
/// when XI is set and the record has room for them, and the Gen2 tag CRC must match. Embedded
/// data, GPIO, Q, link frequency, target and brand fields are bound-checked and skipped.
pub fn parse_record(data: &[u8]) -> Result<Record, String> {
    if data.is_empty() {
        return Ok(Record::CycleStatus);
    }
    let mut c = Cursor {
        bytes: data,
        pos: 0,
    };
    let mut option = c.u8("option byte")?;
    if option & 0x88 != 0 {
        // A singulation byte (multi-select / read-after-write) precedes the option byte.
        option = c.u8("option byte after the singulation byte")?;
    }
    let search = c.u16("search flags")?;
    if option & OPTION_METADATA == 0 {
        if search & SEARCH_RETURN_ON_N_TAGS != 0 && c.remaining() == 4 {
            let tags = c.u32("tag count")?;
            return Ok(Record::StreamEnd { tags: Some(tags) });
        }
        return Err(format!(
            "option 0x{option:02X} without metadata, search flags 0x{search:04X} and {} data \
             bytes is not a known record",
            data.len()
        ));
    }
    let flags = c.u16("metadata flags")?;
    if flags & !META_SUPPORTED != 0 {
        return Err(format!(
            "metadata flags 0x{flags:04X} carry unsupported bits 0x{:04X}",
            flags & !META_SUPPORTED
        ));
    }
    match c.u8("response type")? {
        RESPONSE_TAG => parse_tag(&mut c, flags).map(Record::Tag),
        RESPONSE_END => Ok(Record::StreamEnd { tags: None }),
        RESPONSE_STATUS => Ok(Record::StatusReport),
        other => Err(format!("unknown response type 0x{other:02X}")),
    }
}

/// A port nibble of the antenna byte: 1..=15, 0 meaning port 16.
fn port(nibble: u8) -> u16 {
    if nibble == 0 { 16 } else { u16::from(nibble) }
}

fn parse_tag(c: &mut Cursor<'_>, flags: u16) -> Result<TagReport, String> {
    let mut tag = TagReport {
        antenna: 1,
        ..TagReport::default()
    };
    if flags & META_READ_COUNT != 0 {
        tag.read_count = Some(u32::from(c.u8("read count")?));
    }
    if flags & META_RSSI != 0 {
        tag.rssi_dbm = Some(f32::from(c.u8("RSSI")? as i8));
    }
    if flags & META_ANTENNA != 0 {
        tag.antenna = port(c.u8("antenna")? >> 4);
    }
    if flags & META_FREQUENCY != 0 {
        tag.frequency_khz = Some(c.u24("frequency")?);
    }
    if flags & META_TIMESTAMP != 0 {
        tag.reader_time_ms = Some(u64::from(c.u32("timestamp")?));
    }
    if flags & META_PHASE != 0 {
        tag.phase_deg = Some(c.u16("phase")?);
    }
    if flags & META_PROTOCOL != 0 {
        let protocol = c.u8("protocol")?;
        if protocol != PROTOCOL_GEN2 {
            return Err(format!("protocol 0x{protocol:02X} is not Gen2 (0x05)"));
        }
    }
    if flags & META_DATA != 0 {
        let bits = c.u16("embedded-data bit length")?;
        c.take(usize::from(bits & 0x7FFF).div_ceil(8), "embedded data")?;
    }
    for (bit, size, what) in [
        (META_GPIO, 1, "GPIO"),
        (META_GEN2_Q, 1, "Gen2 Q"),
        (META_GEN2_LINK_FREQUENCY, 1, "Gen2 link frequency"),
        (META_GEN2_TARGET, 1, "Gen2 target"),
        (META_BRAND, 2, "brand identifier"),
    ] {
        if flags & bit != 0 {
            c.take(size, what)?;
        }
    }
    let bits = c.u16("EPC bit count")?;
    let size = usize::from(bits / 8);
    if bits % 16 != 0 || size < 6 {
        return Err(format!(
            "EPC bit count 0x{bits:04X} is not PC + EPC + tag CRC in whole 16-bit words"
        ));
    }
    if size != c.remaining() {
        return Err(format!(
            "EPC bit count 0x{bits:04X} ({size} bytes) but {} bytes remain",
            c.remaining()
        ));
    }
    let id = c.take(size, "tag identity")?;
    let pc = u16::from_be_bytes([id[0], id[1]]);
    let epc_len = usize::from(pc >> 11) * 2;
    if epc_len == 0 {
        return Err(format!("PC 0x{pc:04X} announces an empty EPC"));
    }
    // Bytes between the PC and the tag CRC: the EPC, after XPC words when XI is set and there
    // is room for them (a real module sent XI without an XPC word: trust the length).
    let between = size - 4;
    let xpc_len = if between == epc_len {
        0
    } else if pc & 0x0200 != 0 {
        let w1 = u16::from_be_bytes([id[2], id[3]]);
        if w1 & 0x8000 != 0 { 4 } else { 2 }
    } else {
        usize::MAX
    };
    if xpc_len != 0 && between != epc_len.saturating_add(xpc_len) {
        return Err(format!(
            "PC 0x{pc:04X} announces {epc_len} EPC bytes but the record carries {between} \
             bytes between PC and tag CRC"
        ));
    }
    let check = u16::from_be_bytes([id[size - 2], id[size - 1]]);
    let computed = gen2_crc(&id[..size - 2]);
    if check != computed {
        return Err(format!(
            "tag CRC 0x{check:04X}, computed 0x{computed:04X} over PC+EPC"
        ));
    }
    tag.pc = Some(pc);
    tag.epc = id[2 + xpc_len..2 + xpc_len + epc_len].to_vec();
    Ok(tag)
}

/// The whole frame of a streamed tag record for `tag`, with the search flags of TM-3
/// ([`SEARCH_FLAGS_STREAMING`]) and the metadata fields `metadata_flags` asks for; see
/// [`encode_streamed_record`].
pub fn encode_tag_record(metadata_flags: u16, tag: &TagReport) -> Vec<u8> {
    encode_streamed_record(SEARCH_FLAGS_STREAMING, metadata_flags, tag)
}

/// The whole frame (`FF … CRC`) of a streamed tag record: option 0x10, the echoed search and
/// metadata flags, response type 1, the metadata fields in ascending bit order, then bit count,
/// PC, EPC and the Gen2 tag CRC.
///
/// Metadata bits outside [`META_SUPPORTED`] are dropped (from the echoed flags too). Fields the
/// report lacks get defaults ([`DEFAULT_READ_COUNT`], [`DEFAULT_RSSI_DBM`],
/// [`DEFAULT_FREQUENCY_KHZ`], 0 for timestamp and phase); values are saturated to their field
/// width (read count to 255, RSSI to -128..=127, frequency to 24 bits, timestamp to 32 bits);
/// the antenna is written as TX = RX port, only ports 1..=16 being representable (port 16 as
/// nibble 0, others modulo 16). The EPC is padded with a zero byte to a whole word, cut to 62
/// bytes, an empty one written as one zero word; the PC is the report's with its length bits
/// set from the EPC (`words << 11` when the report has none), and when its XI bit (0x0200) is
/// set a zero XPC_W1 word follows it.
pub fn encode_streamed_record(search_flags: u16, metadata_flags: u16, tag: &TagReport) -> Vec<u8> {
    let flags = metadata_flags & META_SUPPORTED;
    let mut d = vec![OPTION_METADATA];
    d.extend_from_slice(&search_flags.to_be_bytes());
    d.extend_from_slice(&flags.to_be_bytes());
    d.push(RESPONSE_TAG);
    if flags & META_READ_COUNT != 0 {
        let count = tag
            .read_count
            .map_or(DEFAULT_READ_COUNT, |n| u8::try_from(n).unwrap_or(u8::MAX));
        d.push(count);
    }
    if flags & META_RSSI != 0 {
        let rssi = tag.rssi_dbm.map_or(DEFAULT_RSSI_DBM, |r| {
            r.round().clamp(f32::from(i8::MIN), f32::from(i8::MAX)) as i8
        });
        d.push(rssi as u8);
    }
    if flags & META_ANTENNA != 0 {
        let nibble = (tag.antenna % 16) as u8;
        d.push((nibble << 4) | nibble);
    }
    if flags & META_FREQUENCY != 0 {
        let khz = tag
            .frequency_khz
            .unwrap_or(DEFAULT_FREQUENCY_KHZ)
            .min(0x00FF_FFFF);
        d.extend_from_slice(&khz.to_be_bytes()[1..]);
    }
    if flags & META_TIMESTAMP != 0 {
        let ms = u32::try_from(tag.reader_time_ms.unwrap_or(0)).unwrap_or(u32::MAX);
        d.extend_from_slice(&ms.to_be_bytes());
    }
    if flags & META_PHASE != 0 {
        d.extend_from_slice(&tag.phase_deg.unwrap_or(0).to_be_bytes());
    }
    if flags & META_PROTOCOL != 0 {
        d.push(PROTOCOL_GEN2);
    }
    if flags & META_DATA != 0 {
        d.extend_from_slice(&[0, 0]);
    }
    if flags & META_GPIO != 0 {
        d.push(ENCODED_GPIO);
    }
    if flags & META_GEN2_Q != 0 {
        d.push(ENCODED_GEN2_Q);
    }
    if flags & META_GEN2_LINK_FREQUENCY != 0 {
        d.push(0);
    }
    if flags & META_GEN2_TARGET != 0 {
        d.push(0);
    }
    if flags & META_BRAND != 0 {
        d.extend_from_slice(&[0, 0]);
    }
    let mut epc = tag.epc.clone();
    epc.truncate(62);
    if epc.len() % 2 == 1 {
        epc.push(0);
    }
    if epc.is_empty() {
        epc = vec![0, 0];
    }
    let words = (epc.len() / 2) as u16;
    let pc = (tag.pc.unwrap_or(0) & 0x07FF) | (words << 11);
    let mut id = pc.to_be_bytes().to_vec();
    if pc & 0x0200 != 0 {
        id.extend_from_slice(&[0, 0]);
    }
    id.extend_from_slice(&epc);
    let tag_crc = gen2_crc(&id);
    id.extend_from_slice(&tag_crc.to_be_bytes());
    d.extend_from_slice(&((id.len() * 8) as u16).to_be_bytes());
    d.extend_from_slice(&id);
    reply_frame(OP_READ_TAG_MULTIPLE, 0, &d)
}
