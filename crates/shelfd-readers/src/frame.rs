//! The shape every reader protocol module shares: what a decoder cuts out of a byte stream
//! ([`Decoded`]), the tag observation a reader reports ([`TagReport`]), the decoder interface
//! ([`FrameDecoder`]) and its counters ([`DecoderStats`]). Nothing here knows a protocol.

use serde::Serialize;

/// One tag observation as the reader reported it: no location and no gateway time yet (the
/// serial driver adds both; reader clocks are never trusted for event time).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct TagReport {
    /// Antenna port, 1-based (protocols that count from 0 are converted by their decoder).
    pub antenna: u16,
    /// EPC bytes, a whole number of 16-bit words (the length the PC word announces).
    #[serde(serialize_with = "serialize_hex")]
    pub epc: Vec<u8>,
    /// The tag's PC word, when the frame carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pc: Option<u16>,
    /// Received signal strength in dBm, when the frame carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rssi_dbm: Option<f32>,
    /// Carrier frequency in kHz, when the frame carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_khz: Option<u32>,
    /// RF phase in degrees (0..360), when the frame carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase_deg: Option<u16>,
    /// Read count the reader aggregated into this report, when the frame carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_count: Option<u32>,
    /// The reader's own timestamp (ms, reader clock, informational only), when carried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reader_time_ms: Option<u64>,
}

/// Hex (lower case) of bytes, for JSON output of EPCs and raw frames.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn serialize_hex<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&to_hex(bytes))
}

/// What a frame that is not a tag read means to the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameRole {
    /// An inventory round (or a bounded streaming run) ended: the reader is alive and the
    /// driver re-arms the inventory when the protocol needs it.
    RoundEnd,
    /// The reader reported that no tag was in view this round: alive, nothing read.
    NoTag,
    /// A reply that acknowledges a command.
    Ack,
    /// The reader reported an error (bad command, antenna missing, …).
    Error,
    /// The reader (re)booted or announced itself.
    Boot,
    /// Anything else valid (version replies, parameter replies, keep-alives…).
    Info,
}

/// One item cut out of the byte stream by a [`FrameDecoder`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decoded {
    /// A checked frame carrying one tag read.
    Tag {
        /// Stream offset of the frame's first byte.
        offset: u64,
        /// The read.
        #[serde(flatten)]
        tag: TagReport,
    },
    /// A checked frame that is not a tag read.
    Frame {
        /// Stream offset of the frame's first byte.
        offset: u64,
        /// Short stable name, e.g. `"inventory_round_end"`, `"start_ack"`, `"error"`.
        name: &'static str,
        /// What it means to the driver.
        role: FrameRole,
        /// Status or error code the frame carries, when it has one.
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<u16>,
    },
    /// Bytes that could not be a valid frame: skipped (the decoder slid past them).
    Bad {
        /// Stream offset of the first skipped byte.
        offset: u64,
        /// Number of bytes skipped.
        skipped: usize,
        /// Why, naming the offending value (`"bad CRC 0x1234, computed 0x5678"`).
        reason: String,
    },
}

/// Counters every decoder keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DecoderStats {
    /// Bytes fed so far.
    pub bytes: u64,
    /// Valid frames cut (tag and other).
    pub frames: u64,
    /// Tag reads among them.
    pub tags: u64,
    /// Bad-frame reports emitted (each a run of skipped bytes).
    pub bad_frames: u64,
}

/// Bytes in, frames out. Implementations cut frames by their length field, verify the check,
/// resynchronise by sliding one byte past a bad start, bound-check every field and never panic
/// on any input. Buffers are bounded: a decoder holds at most one maximum-size frame of
/// unconsumed bytes.
pub trait FrameDecoder: Send {
    /// Appends bytes read from the port.
    fn feed(&mut self, bytes: &[u8]);
    /// The next complete item, or `None` until more bytes are fed. Garbage between frames is
    /// reported as [`Decoded::Bad`] once the decoder has skipped it (a run of skipped bytes
    /// gives one report).
    fn next_frame(&mut self) -> Option<Decoded>;
    /// Counters so far.
    fn stats(&self) -> DecoderStats;
}

/// Decodes a whole byte slice: every item, in stream order (test and `shelfd decode` helper).
/// Trailing bytes that do not yet form a frame are not reported.
pub fn decode_all(decoder: &mut dyn FrameDecoder, bytes: &[u8]) -> Vec<Decoded> {
    decoder.feed(bytes);
    std::iter::from_fn(|| decoder.next_frame()).collect()
}

/// The host side of a protocol: the bytes a driver sends, and when.
pub trait HostCommands: Send + Sync {
    /// Commands sent, in order, right after the port opens (stop any stale inventory, set
    /// what the protocol needs, start continuous inventory).
    fn startup(&self) -> Vec<Vec<u8>>;
    /// A command to send in answer to a decoded frame (re-arm the inventory at round end),
    /// or `None`.
    fn respond(&self, frame: &Decoded) -> Option<Vec<u8>>;
    /// A command that nudges a reader that went quiet (re-issue the inventory start), sent by
    /// the watchdog before it gives up on the port.
    fn nudge(&self) -> Vec<Vec<u8>>;
    /// Commands sent before the port closes (stop inventory).
    fn shutdown(&self) -> Vec<Vec<u8>>;
}

/// The reader side of a protocol, for the simulators: it answers host commands with the exact
/// reply bytes and turns scripted tag reads into frames once the host has started inventory.
pub trait ReaderSimulator: Send {
    /// Feeds bytes the host wrote; returns the reply bytes to write back (possibly empty).
    fn on_host_bytes(&mut self, bytes: &[u8]) -> Vec<u8>;
    /// True while the host has inventory running (reads are only emitted then).
    fn inventory_running(&self) -> bool;
    /// The bytes of one inventory round carrying `tags` (tag frames, then whatever the
    /// protocol sends at the end of a round). Empty when inventory is not running.
    fn round(&mut self, tags: &[TagReport]) -> Vec<u8>;
}
