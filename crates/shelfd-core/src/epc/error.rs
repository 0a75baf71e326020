//! Why an EPC was rejected: [`EpcError`] and the small `Copy` parts it is built from.
//!
//! Owns the wording of every rejection. Each message names the offending value and the reason.
//! Decode-path errors never allocate (only hex-input and encoder errors carry a `String`), so the
//! per-tag fast path [`crate::epc::gtin14`] stays allocation-free when it rejects.

use std::fmt;

use super::ai::Ai;
use super::scheme::Scheme;

/// Longest input echoed back in a hex error message; longer input is cut and marked with `…`.
const ECHO_MAX: usize = 80;

/// Input text shortened for an error message.
pub(crate) fn echo(s: &str) -> String {
    match s.char_indices().nth(ECHO_MAX) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

/// Which part of an EPC a [`Problem`] is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A named field of a fixed layout, e.g. `company prefix`, `serial`.
    Named(&'static str),
    /// The value of a GS1 Application Identifier (in '+' schemes and +AIDC data).
    Ai(Ai),
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Named(name) => f.write_str(name),
            Field::Ai(ai) => write!(f, "AI ({ai})"),
        }
    }
}

/// What is wrong with one field; always carries the offending value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The EPC ends before the field does.
    Truncated {
        /// Bits the field still needed.
        needed: u32,
        /// Bits that were left.
        available: usize,
    },
    /// A binary integer that does not fit the field's digit count.
    OutOfRange {
        /// The decoded integer.
        value: u64,
        /// Digits the field allows (from the partition table or the AI format).
        digits: u8,
    },
    /// Reserved (unallocated) bits that must be zero.
    NotZero {
        /// Their value.
        value: u64,
    },
    /// A BCD nibble above 9.
    NotADigit {
        /// The nibble.
        nibble: u8,
    },
    /// A numeric string whose integer is too large for its length indicator.
    NumberTooLarge {
        /// The length indicator (digits).
        digits: u16,
    },
    /// A character outside the character set the field allows.
    BadCharacter {
        /// The 7-bit (or decoded) character code.
        code: u8,
        /// Zero-based position in the field.
        position: u16,
    },
    /// Non-zero bits after a string's terminating zero character or after its last character.
    NonZeroPadding,
    /// A field that must hold at least one character is empty.
    Empty,
    /// More characters than the field allows.
    TooLong {
        /// Characters found.
        length: u16,
        /// Characters allowed.
        max: u16,
    },
    /// A reserved encoding indicator (TDS 14.5.6: 110 and 111).
    ReservedEncoding {
        /// The 3-bit indicator.
        indicator: u8,
    },
    /// A URN Code 40 triple that is not a valid value.
    BadCode40 {
        /// The 16-bit value.
        value: u16,
    },
    /// An impossible YYMMDD date.
    BadDate {
        /// Year (two digits).
        yy: u8,
        /// Month.
        mm: u8,
        /// Day.
        dd: u8,
    },
    /// An impossible time of day.
    BadTime {
        /// Hours.
        hh: u8,
        /// Minutes.
        mm: u8,
        /// Seconds.
        ss: u8,
    },
    /// A reserved precision code of a variable-precision date+time (TDS 14.5.11).
    ReservedPrecision {
        /// The 2-bit code.
        code: u8,
    },
    /// A country code index above Z.
    BadCountry {
        /// The 6-bit index.
        code: u8,
    },
    /// A sequence indicator n/m outside 1..=9.
    BadSequence {
        /// n.
        n: u8,
        /// m.
        m: u8,
    },
    /// A GS1 key whose encoded check digit is wrong.
    CheckDigit {
        /// The check digit on the tag.
        found: u8,
        /// The recomputed check digit.
        expected: u8,
    },
    /// The filler digit of AI (8003) is not 0.
    FillerDigit {
        /// The digit found.
        found: u8,
    },
    /// A GIAI whose leading digits are too few to hold a GS1 Company Prefix.
    PrefixTooShort {
        /// Leading digits found.
        digits: u16,
    },
    /// A reserved nibble inside a delimited numeric value (TDS 14.5.5).
    BadDelimiter {
        /// The nibble.
        nibble: u8,
    },
    /// A hostname optimisation code or character that is reserved or not allowed in a hostname.
    BadHostname {
        /// The 7-bit code.
        code: u8,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Problem::Truncated { needed, available } => write!(
                f,
                "the EPC ends inside it (needs {needed} more bits, {available} left)"
            ),
            Problem::OutOfRange { value, digits } => {
                write!(f, "{value} does not fit in {digits} digits")
            }
            Problem::NotZero { value } => write!(f, "must be zero, found {value}"),
            Problem::NotADigit { nibble } => {
                write!(f, "nibble 0x{nibble:x} is not a decimal digit")
            }
            Problem::NumberTooLarge { digits } => write!(
                f,
                "numeric value does not fit its length indicator of {digits} digits"
            ),
            Problem::BadCharacter { code, position } => {
                let shown = if (0x20..0x7f).contains(&code) {
                    format!(" {:?}", code as char)
                } else {
                    String::new()
                };
                write!(
                    f,
                    "character 0x{code:02x}{shown} at position {position} is not allowed \
                     (GS1 AI encodable character set 82)"
                )
            }
            Problem::NonZeroPadding => f.write_str("non-zero bits after its last character"),
            Problem::Empty => f.write_str("is empty"),
            Problem::TooLong { length, max } => {
                write!(f, "{length} characters, at most {max} allowed")
            }
            Problem::ReservedEncoding { indicator } => {
                write!(f, "encoding indicator {indicator:03b} is reserved")
            }
            Problem::BadCode40 { value } => write!(f, "URN Code 40 value {value} is invalid"),
            Problem::BadDate { yy, mm, dd } => {
                write!(f, "{yy:02}{mm:02}{dd:02} is not a valid YYMMDD date")
            }
            Problem::BadTime { hh, mm, ss } => {
                write!(f, "{hh:02}:{mm:02}:{ss:02} is not a valid time of day")
            }
            Problem::ReservedPrecision { code } => {
                write!(f, "date/time precision code {code:02b} is reserved")
            }
            Problem::BadCountry { code } => {
                write!(f, "country code character index {code} is not a letter A-Z")
            }
            Problem::BadSequence { n, m } => {
                write!(f, "sequence indicator {n}/{m} is outside 1..9")
            }
            Problem::CheckDigit { found, expected } => {
                write!(f, "check digit {found} is wrong (expected {expected})")
            }
            Problem::FillerDigit { found } => {
                write!(f, "filler digit {found} is not 0")
            }
            Problem::PrefixTooShort { digits } => write!(
                f,
                "only {digits} leading digits, too few for a GS1 Company Prefix (at least 4)"
            ),
            Problem::BadDelimiter { nibble } => {
                write!(f, "nibble 0x{nibble:x} is neither a digit nor a delimiter")
            }
            Problem::BadHostname { code } => {
                write!(
                    f,
                    "code 0x{code:02x} is reserved or not allowed in a hostname"
                )
            }
        }
    }
}

/// Why a hex string or an EPC was rejected. Every variant's message names the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EpcError {
    /// The hex text is empty.
    #[error("hex \"\" is empty (an EPC needs at least one 16-bit word)")]
    EmptyHex,
    /// The hex text holds a character that is not a hex digit.
    #[error("hex {hex:?} has {ch:?} at position {position}, which is not a hex digit")]
    HexCharacter {
        /// The input (shortened if long).
        hex: String,
        /// The offending character.
        ch: char,
        /// Its zero-based character position.
        position: usize,
    },
    /// The hex text is not a whole number of 16-bit words, and not a GS1 EPC printed at its own
    /// bit length either (why not: `cause`).
    #[error(
        "hex {hex:?} is not a whole number of 16-bit words ({len} hex digits) \
         nor a GS1 EPC printed at its own length: {cause}"
    )]
    HexNotWords {
        /// The input (shortened if long).
        hex: String,
        /// Its length in hex digits.
        len: usize,
        /// Why it does not decode as a GS1 EPC.
        cause: Box<EpcError>,
    },
    /// The hex text ends before the GS1 EPC scheme its header names.
    #[error(
        "hex {hex:?} has {bits} bits ({len} hex digits), too few for {scheme}, which needs {needed}"
    )]
    HexTooShort {
        /// The input (shortened if long).
        hex: String,
        /// Its length in hex digits.
        len: usize,
        /// Its length in bits.
        bits: usize,
        /// The scheme its header names.
        scheme: Scheme,
        /// Bits the EPC needs.
        needed: usize,
    },
    /// No bytes at all.
    #[error("EPC is empty (no header byte)")]
    Empty,
    /// Header 0x00: an unprogrammed tag.
    #[error("EPC header 0x00 is an unprogrammed tag (not a GS1 EPC scheme)")]
    Unprogrammed,
    /// A header that names no GS1 EPC scheme (including 0xE2, which is reserved for TIDs).
    #[error("unknown EPC header 0x{header:02x} (not a GS1 EPC scheme)")]
    UnknownHeader {
        /// The header byte.
        header: u8,
    },
    /// A deprecated 64-bit encoding.
    #[error("EPC header 0x{header:02x} is {name}, a deprecated 64-bit encoding (not supported)")]
    Deprecated64 {
        /// The header byte.
        header: u8,
        /// The scheme it named.
        name: &'static str,
    },
    /// A GS1 scheme this decoder does not decode.
    #[error("EPC header 0x{header:02x} is {name}, a GS1 scheme this decoder does not support")]
    Unsupported {
        /// The header byte.
        header: u8,
        /// The scheme it names.
        name: &'static str,
    },
    /// Fewer bits than the scheme's fixed length.
    #[error("{scheme} needs {needed} bits but the EPC has only {available}")]
    TooShort {
        /// The scheme.
        scheme: Scheme,
        /// Bits the scheme needs.
        needed: usize,
        /// Bits present.
        available: usize,
    },
    /// Non-zero bits after the end of the scheme (zero padding is accepted).
    #[error("{scheme} has non-zero bits after its end (first at bit {bit})")]
    TrailingBits {
        /// The scheme.
        scheme: Scheme,
        /// Zero-based index of the first non-zero bit.
        bit: usize,
    },
    /// Partition value 7.
    #[error("{scheme} partition 7 is reserved")]
    ReservedPartition {
        /// The scheme.
        scheme: Scheme,
    },
    /// A DSGTIN+ date type indicator of 7 or more.
    #[error("{scheme} date type {code:04b} is reserved")]
    ReservedDateType {
        /// The scheme.
        scheme: Scheme,
        /// The 4-bit date type indicator.
        code: u8,
    },
    /// A +AIDC data header whose nibbles are not two decimal digits.
    #[error(
        "{scheme} +AIDC data header 0x{header:02x} is not the start of a GS1 Application Identifier"
    )]
    AidcHeader {
        /// The scheme.
        scheme: Scheme,
        /// The 8-bit header.
        header: u8,
    },
    /// A +AIDC data header whose two digits start no GS1 Application Identifier.
    #[error("{scheme} +AIDC data: no GS1 Application Identifier starts with {prefix:02}")]
    UnknownAiPrefix {
        /// The scheme.
        scheme: Scheme,
        /// The two digits.
        prefix: u8,
    },
    /// An AI this decoder does not decode in +AIDC data.
    #[error("{scheme} +AIDC data: AI ({ai}) is not supported by this decoder")]
    UnsupportedAi {
        /// The scheme.
        scheme: Scheme,
        /// The AI.
        ai: Ai,
    },
    /// The same AI twice (including an AI the scheme itself already carries).
    #[error("{scheme}: AI ({ai}) appears twice")]
    DuplicateAi {
        /// The scheme.
        scheme: Scheme,
        /// The AI.
        ai: Ai,
    },
    /// More +AIDC elements than the decoder tracks.
    #[error("{scheme} +AIDC data holds more than {max} elements")]
    TooManyAis {
        /// The scheme.
        scheme: Scheme,
        /// The limit.
        max: usize,
    },
    /// The +AIDC toggle is 1 but no +AIDC data follows.
    #[error("{scheme} +AIDC toggle is 1 but no +AIDC data follows")]
    MissingAidc {
        /// The scheme.
        scheme: Scheme,
    },
    /// One field is invalid.
    #[error("{scheme} {field}: {problem}")]
    Field {
        /// The scheme.
        scheme: Scheme,
        /// The field.
        field: Field,
        /// What is wrong, with the offending value.
        problem: Problem,
    },
    /// An encoder input that cannot be encoded.
    #[error("cannot encode {scheme}: {field} {value:?} {reason}")]
    Encode {
        /// The scheme.
        scheme: Scheme,
        /// The input field.
        field: &'static str,
        /// The offending input.
        value: String,
        /// Why.
        reason: &'static str,
    },
}

impl EpcError {
    /// Shorthand for [`EpcError::Field`].
    pub(crate) fn field(scheme: Scheme, field: Field, problem: Problem) -> Self {
        EpcError::Field {
            scheme,
            field,
            problem,
        }
    }
}
