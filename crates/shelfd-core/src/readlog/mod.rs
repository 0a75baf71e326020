//! The read-log contract: JSON Lines, one object per line, `t` = integer milliseconds since the
//! Unix epoch on the gateway clock. It is the input of `shelfd replay` and of the `replay` reader
//! source, and the output of the simulators in [`crate::sim`].
//!
//! ```text
//! {"t":1763800000000,"reader":"r1","antenna":1,"epc":"3074257bf7194e4000001a85","rssi":-61.5}
//! {"t":1763800000000,"reader":"r1","link":"down"}        (also "up", and "alive": a heartbeat)
//! {"t":1763800000000,"gpio":"dock-1-door","level":true}
//! {"t":1763800000000,"op":"asn","command":{...}}
//! {"t":1763800000000,"reader":"bus1","node":3,"lane":0,"units":-2,"grams":-498.7}
//! {"t":1763800000000,"reader":"bus1","node":3,"lane":0,"weight":1250.0}
//! ```
//!
//! The last two are shelf-node lanes (`shelf-link` readers): a settled change of a whole number
//! of items (`units` < 0 picked, > 0 put back; `grams` measured), and a lane's settled weight
//! above its tare.
//!
//! `t` is at most [`MAX_T_MS`] (9999-12-31T23:59:59.999Z): a later time is rejected with the
//! value, so no timer downstream is handed an instant it cannot reach. A line is at most
//! [`lines::MAX_LINE_BYTES`] bytes of UTF-8; [`lines`] cuts a byte stream into such lines.
//!
//! This module owns parsing and writing those lines. It never interprets them: mapping readers
//! and antennas to locations is the engine's job.

pub mod lines;

use serde::Deserialize;
use std::borrow::Cow;
use std::fmt::Write as _;

/// The latest `t` a read log may carry: 9999-12-31T23:59:59.999Z in ms since the Unix epoch.
pub const MAX_T_MS: u64 = 253_402_300_799_999;

/// One line of a read log.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A tag read reported by a reader.
    Read(TagRead),
    /// A reader's link changed state, or the reader proved it is alive without reading a tag.
    Link {
        /// Gateway time, ms since the Unix epoch.
        t: u64,
        /// Reader id from the config.
        reader: String,
        /// New state.
        link: LinkState,
    },
    /// A GPIO input changed level.
    Gpio {
        /// Gateway time, ms since the Unix epoch.
        t: u64,
        /// GPIO name from the config.
        gpio: String,
        /// New logical level (after `active_low`).
        level: bool,
    },
    /// A shelf-node lane weighed a pick/put, or reported its settled weight.
    Lane(LaneRecord),
    /// A command, the same JSON as over MQTT.
    Command {
        /// Gateway time, ms since the Unix epoch.
        t: u64,
        /// Command name (`asn`, `sale`, `resync`, `ping`).
        op: String,
        /// The command body.
        command: serde_json::Value,
    },
}

/// A single tag read.
#[derive(Debug, Clone, PartialEq)]
pub struct TagRead {
    /// Gateway time, ms since the Unix epoch.
    pub t: u64,
    /// Reader id from the config.
    pub reader: String,
    /// Antenna port, 1-based.
    pub antenna: u16,
    /// EPC bytes (a whole number of 16-bit words, as the tag's EPC bank holds them).
    pub epc: Vec<u8>,
    /// Received signal strength in dBm, when the reader reports it.
    pub rssi: Option<f32>,
}

/// What a shelf-node lane reported.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneRecord {
    /// Gateway time, ms since the Unix epoch.
    pub t: u64,
    /// The shelf-link reader (bus) id from the config.
    pub reader: String,
    /// Node address on the bus, 1..=254.
    pub node: u8,
    /// Lane on the node, 0-based.
    pub lane: u8,
    /// What changed.
    pub change: LaneChange,
}

/// A lane's report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LaneChange {
    /// A settled change of a whole number of items.
    Units {
        /// Items put back (> 0) or picked (< 0); never 0.
        units: i16,
        /// The measured change, in grams.
        grams: f64,
    },
    /// The lane's settled weight above its tare, in grams.
    Weight {
        /// Grams on the lane.
        grams: f64,
    },
}

/// Reader link states carried by `link` lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// The reader is connected and inventorying.
    Up,
    /// The reader is disconnected or failed.
    Down,
    /// Heartbeat: the reader completed an inventory round (possibly with no tags in view).
    Alive,
}

impl LinkState {
    /// The wire word for this state.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Up => "up",
            LinkState::Down => "down",
            LinkState::Alive => "alive",
        }
    }
}

impl Record {
    /// Gateway time of the record.
    pub fn t(&self) -> u64 {
        match self {
            Record::Read(r) => r.t,
            Record::Lane(l) => l.t,
            Record::Link { t, .. } | Record::Gpio { t, .. } | Record::Command { t, .. } => *t,
        }
    }

    /// Writes the record as one JSON line (without the newline), keys in contract order.
    ///
    /// ```
    /// use shelfd_core::readlog::{Record, TagRead};
    /// let r = Record::Read(TagRead { t: 1763800000000, reader: "r1".into(), antenna: 1,
    ///     epc: vec![0x30, 0x74, 0x25, 0x7b], rssi: Some(-61.5) });
    /// assert_eq!(r.to_json_line(),
    ///     r#"{"t":1763800000000,"reader":"r1","antenna":1,"epc":"3074257b","rssi":-61.5}"#);
    /// assert_eq!(shelfd_core::readlog::parse_line(&r.to_json_line()).unwrap(), r);
    /// ```
    pub fn to_json_line(&self) -> String {
        let mut s = String::with_capacity(96);
        self.write_json_line(&mut s);
        s
    }

    /// Appends the JSON line form of the record to `s` (see [`Record::to_json_line`]).
    pub fn write_json_line(&self, s: &mut String) {
        match self {
            Record::Read(r) => {
                let _ = write!(s, "{{\"t\":{},\"reader\":", r.t);
                push_json_str(s, &r.reader);
                let _ = write!(s, ",\"antenna\":{},\"epc\":\"", r.antenna);
                for b in &r.epc {
                    let _ = write!(s, "{b:02x}");
                }
                s.push('"');
                if let Some(rssi) = r.rssi {
                    let _ = write!(s, ",\"rssi\":{rssi}");
                }
                s.push('}');
            }
            Record::Link { t, reader, link } => {
                let _ = write!(s, "{{\"t\":{t},\"reader\":");
                push_json_str(s, reader);
                let _ = write!(s, ",\"link\":\"{}\"}}", link.as_str());
            }
            Record::Lane(l) => {
                let _ = write!(s, "{{\"t\":{},\"reader\":", l.t);
                push_json_str(s, &l.reader);
                let _ = write!(s, ",\"node\":{},\"lane\":{}", l.node, l.lane);
                let _ = match l.change {
                    LaneChange::Units { units, grams } => {
                        write!(s, ",\"units\":{units},\"grams\":{grams:?}}}")
                    }
                    LaneChange::Weight { grams } => write!(s, ",\"weight\":{grams:?}}}"),
                };
            }
            Record::Gpio { t, gpio, level } => {
                let _ = write!(s, "{{\"t\":{t},\"gpio\":");
                push_json_str(s, gpio);
                let _ = write!(s, ",\"level\":{level}}}");
            }
            Record::Command { t, op, command } => {
                let _ = write!(s, "{{\"t\":{t},\"op\":");
                push_json_str(s, op);
                let _ = write!(s, ",\"command\":{command}}}");
            }
        }
    }
}

fn push_json_str(s: &mut String, v: &str) {
    // serde_json's string escaping; writing a &str to JSON cannot fail.
    s.push_str(&serde_json::to_string(v).unwrap_or_default());
}

/// Why a read-log line was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadLogError {
    /// Not valid JSON or not an object of a known shape.
    #[error("not a read-log record: {0}")]
    Json(String),
    /// A field has a value outside its domain.
    #[error("field {field}: {reason}")]
    Field {
        /// The offending field.
        field: &'static str,
        /// What is wrong with its value (names the value).
        reason: String,
    },
    /// The object mixes fields of different record kinds or lacks required ones.
    #[error("{0}")]
    Shape(String),
    /// The line is not UTF-8 text.
    #[error("not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 {
        /// Byte offset of the first invalid byte in the line.
        offset: usize,
    },
    /// The line is longer than [`lines::MAX_LINE_BYTES`]; it was not read whole.
    #[error("longer than {max} bytes, the read-log line limit (not read further)")]
    TooLong {
        /// The limit in bytes.
        max: usize,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine<'a> {
    t: u64,
    #[serde(borrow)]
    reader: Option<Cow<'a, str>>,
    antenna: Option<u16>,
    #[serde(borrow)]
    epc: Option<Cow<'a, str>>,
    rssi: Option<f32>,
    #[serde(borrow)]
    link: Option<Cow<'a, str>>,
    #[serde(borrow)]
    gpio: Option<Cow<'a, str>>,
    level: Option<bool>,
    #[serde(borrow)]
    op: Option<Cow<'a, str>>,
    command: Option<serde_json::Value>,
    node: Option<u8>,
    lane: Option<u8>,
    units: Option<i16>,
    grams: Option<f64>,
    weight: Option<f64>,
}

/// Parses one read-log line. Errors name the offending value; nothing is half-parsed.
///
/// ```
/// let err = shelfd_core::readlog::parse_line(r#"{"t":1,"reader":"r1","antenna":1,"epc":"30f"}"#)
///     .unwrap_err();
/// assert_eq!(err.to_string(),
///     r#"field epc: hex "30f" has 12 bits (3 hex digits), too few for SGTIN-96, which needs 96"#);
/// ```
pub fn parse_line(line: &str) -> Result<Record, ReadLogError> {
    let raw: RawLine<'_> =
        serde_json::from_str(line).map_err(|e| ReadLogError::Json(e.to_string()))?;
    let t = raw.t;
    if t > MAX_T_MS {
        return Err(ReadLogError::Field {
            field: "t",
            reason: format!(
                "{t} ms is after 9999-12-31T23:59:59.999Z ({MAX_T_MS} ms), the latest time a read log may carry"
            ),
        });
    }
    let shape = |what: &str| ReadLogError::Shape(what.to_string());
    let lane_fields = raw.node.is_some()
        || raw.lane.is_some()
        || raw.units.is_some()
        || raw.grams.is_some()
        || raw.weight.is_some();
    if lane_fields {
        if raw.epc.is_some()
            || raw.antenna.is_some()
            || raw.link.is_some()
            || raw.gpio.is_some()
            || raw.op.is_some()
        {
            return Err(shape(
                "a lane record carries only t, reader, node, lane and units+grams or weight",
            ));
        }
        let reader = raw
            .reader
            .ok_or_else(|| shape("a lane record needs \"reader\""))?;
        check_id("reader", &reader)?;
        let node = raw
            .node
            .ok_or_else(|| shape("a lane record needs \"node\""))?;
        if !(1..=254).contains(&node) {
            return Err(ReadLogError::Field {
                field: "node",
                reason: format!("{node} is not a node address (1..=254)"),
            });
        }
        let lane = raw
            .lane
            .ok_or_else(|| shape("a lane record needs \"lane\""))?;
        let finite = |field: &'static str, v: f64| {
            if v.is_finite() && v.abs() <= 1e9 {
                Ok(v)
            } else {
                Err(ReadLogError::Field {
                    field,
                    reason: format!("{v} is not a weight in grams"),
                })
            }
        };
        let change = match (raw.units, raw.grams, raw.weight) {
            (Some(0), _, _) => {
                return Err(ReadLogError::Field {
                    field: "units",
                    reason: "0 is not a pick or a put".into(),
                });
            }
            (Some(units), Some(grams), None) => LaneChange::Units {
                units,
                grams: finite("grams", grams)?,
            },
            (None, None, Some(weight)) => LaneChange::Weight {
                grams: finite("weight", weight)?,
            },
            _ => {
                return Err(shape(
                    "a lane record carries either \"units\" and \"grams\", or \"weight\"",
                ));
            }
        };
        return Ok(Record::Lane(LaneRecord {
            t,
            reader: reader.into_owned(),
            node,
            lane,
            change,
        }));
    }
    if let Some(epc) = raw.epc {
        if raw.link.is_some() || raw.gpio.is_some() || raw.op.is_some() || raw.command.is_some() {
            return Err(shape("a tag read cannot carry link, gpio, op or command"));
        }
        let reader = raw
            .reader
            .ok_or_else(|| shape("a tag read needs \"reader\""))?;
        let antenna = raw
            .antenna
            .ok_or_else(|| shape("a tag read needs \"antenna\""))?;
        if antenna == 0 {
            return Err(ReadLogError::Field {
                field: "antenna",
                reason: "0 is not an antenna port (ports start at 1)".into(),
            });
        }
        if let Some(rssi) = raw.rssi {
            if !rssi.is_finite() || !(-150.0..=50.0).contains(&rssi) {
                return Err(ReadLogError::Field {
                    field: "rssi",
                    reason: format!("{rssi} dBm is outside -150..=50"),
                });
            }
        }
        check_id("reader", &reader)?;
        let epc = parse_epc_hex(&epc)?;
        return Ok(Record::Read(TagRead {
            t,
            reader: reader.into_owned(),
            antenna,
            epc,
            rssi: raw.rssi,
        }));
    }
    if raw.antenna.is_some() || raw.rssi.is_some() {
        return Err(shape(
            "\"antenna\" and \"rssi\" belong to a tag read, which needs \"epc\"",
        ));
    }
    if let Some(link) = raw.link {
        if raw.gpio.is_some() || raw.op.is_some() || raw.level.is_some() || raw.command.is_some() {
            return Err(shape("a link record carries only t, reader and link"));
        }
        let reader = raw
            .reader
            .ok_or_else(|| shape("a link record needs \"reader\""))?;
        check_id("reader", &reader)?;
        let link = match &*link {
            "up" => LinkState::Up,
            "down" => LinkState::Down,
            "alive" => LinkState::Alive,
            other => {
                return Err(ReadLogError::Field {
                    field: "link",
                    reason: format!("{other:?} is not one of up, down, alive"),
                });
            }
        };
        return Ok(Record::Link {
            t,
            reader: reader.into_owned(),
            link,
        });
    }
    if let Some(gpio) = raw.gpio {
        if raw.reader.is_some() || raw.op.is_some() || raw.command.is_some() {
            return Err(shape("a gpio record carries only t, gpio and level"));
        }
        let level = raw
            .level
            .ok_or_else(|| shape("a gpio record needs \"level\""))?;
        check_id("gpio", &gpio)?;
        return Ok(Record::Gpio {
            t,
            gpio: gpio.into_owned(),
            level,
        });
    }
    if let Some(op) = raw.op {
        if raw.reader.is_some() || raw.level.is_some() {
            return Err(shape("a command record carries only t, op and command"));
        }
        let command = raw
            .command
            .ok_or_else(|| shape("a command record needs \"command\""))?;
        check_id("op", &op)?;
        return Ok(Record::Command {
            t,
            op: op.into_owned(),
            command,
        });
    }
    Err(shape(
        "a record needs one of \"epc\", \"link\", \"gpio\" or \"op\"",
    ))
}

fn check_id(field: &'static str, v: &str) -> Result<(), ReadLogError> {
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ReadLogError::Field {
            field,
            reason: format!("{v:?} is not 1-64 characters of A-Z a-z 0-9 - _"),
        })
    }
}

/// Parses EPC hex text into bytes (see [`epc_from_hex`]).
fn parse_epc_hex(s: &str) -> Result<Vec<u8>, ReadLogError> {
    epc_from_hex(s).map_err(|reason| ReadLogError::Field {
        field: "epc",
        reason,
    })
}

/// Longest EPC hex accepted from a person or a file: 496 bits (31 words, the most a Gen2 PC
/// word announces).
pub const MAX_EPC_HEX_DIGITS: usize = 124;

/// Parses EPC hex text (either case) into EPC bank bytes, at most 496 bits: hex of whole 16-bit
/// words, or a GS1 EPC printed at its own bit length (SGTIN-198 as 50 digits, '+' schemes with
/// odd digit counts), padded to words as a tag holds it ([`crate::epc::parse_hex`]). The error
/// names the text and what is wrong with it. Shared by read logs and `asn` commands, so both
/// accept exactly the same EPCs as `shelfd epc`.
///
/// ```
/// assert_eq!(shelfd_core::readlog::epc_from_hex("30Aa"), Ok(vec![0x30, 0xaa]));
/// assert_eq!(shelfd_core::readlog::epc_from_hex("F90095201234567891235").unwrap().len(), 12);
/// assert_eq!(shelfd_core::readlog::epc_from_hex("30f").unwrap_err(),
///     r#"hex "30f" has 12 bits (3 hex digits), too few for SGTIN-96, which needs 96"#);
/// ```
pub fn epc_from_hex(s: &str) -> Result<Vec<u8>, String> {
    if s.len() > MAX_EPC_HEX_DIGITS {
        let head: String = s.chars().take(32).collect();
        return Err(format!(
            "\"{}…\" ({} characters) is longer than 496 bits",
            head.escape_debug(),
            s.len()
        ));
    }
    crate::epc::parse_hex(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn epcs_printed_at_their_own_length_are_read_as_the_tag_holds_them() {
        // SSCC+ from TDS 2.3 annex E.3, printed there with 21 digits.
        let r = parse_line(r#"{"t":5,"reader":"r1","antenna":1,"epc":"F90095201234567891235"}"#)
            .expect("valid");
        let Record::Read(read) = &r else {
            panic!("{r:?}")
        };
        assert_eq!(read.epc.len(), 12);
        assert!(
            r.to_json_line()
                .contains(r#""epc":"f90095201234567891235000""#)
        );
        assert_eq!(parse_line(&r.to_json_line()), Ok(r));
    }

    #[test]
    fn parses_every_kind() {
        let r = parse_line(
            r#"{"t":5,"reader":"r1","antenna":2,"epc":"3074257BF7194E4000001A85","rssi":-61.5}"#,
        );
        let Ok(Record::Read(read)) = r else {
            panic!("{r:?}")
        };
        assert_eq!(read.epc[..2], [0x30, 0x74]);
        assert_eq!(read.rssi, Some(-61.5));
        assert_eq!(
            parse_line(r#"{"t":5,"reader":"r1","link":"down"}"#),
            Ok(Record::Link {
                t: 5,
                reader: "r1".into(),
                link: LinkState::Down
            })
        );
        assert_eq!(
            parse_line(r#"{"t":5,"gpio":"dock-1-door","level":true}"#),
            Ok(Record::Gpio {
                t: 5,
                gpio: "dock-1-door".into(),
                level: true
            })
        );
        let c = parse_line(r#"{"t":5,"op":"sale","command":{"id":"x","epc":"3074"}}"#);
        assert!(matches!(c, Ok(Record::Command { .. })), "{c:?}");
        for (line, change) in [
            (
                r#"{"t":5,"reader":"bus1","node":3,"lane":0,"units":-2,"grams":-498.7}"#,
                LaneChange::Units {
                    units: -2,
                    grams: -498.7,
                },
            ),
            (
                r#"{"t":5,"reader":"bus1","node":3,"lane":0,"weight":1250.0}"#,
                LaneChange::Weight { grams: 1250.0 },
            ),
        ] {
            let record = Record::Lane(LaneRecord {
                t: 5,
                reader: "bus1".into(),
                node: 3,
                lane: 0,
                change,
            });
            assert_eq!(parse_line(line), Ok(record.clone()));
            assert_eq!(record.to_json_line(), line);
        }
        for (line, reason) in [
            (
                r#"{"t":5,"reader":"bus1","node":0,"lane":0,"weight":1.0}"#,
                "field node: 0 is not a node address (1..=254)",
            ),
            (
                r#"{"t":5,"reader":"bus1","node":3,"lane":0,"units":0,"grams":0.0}"#,
                "field units: 0 is not a pick or a put",
            ),
            (
                r#"{"t":5,"reader":"bus1","node":3,"lane":0,"units":1}"#,
                "either \"units\" and \"grams\", or \"weight\"",
            ),
            (
                r#"{"t":5,"reader":"bus1","node":3,"lane":0,"weight":1.0,"epc":"3074"}"#,
                "a lane record carries only",
            ),
        ] {
            let err = parse_line(line).expect_err(line).to_string();
            assert!(err.contains(reason), "{line}: {err}");
        }
    }

    #[test]
    fn rejects_with_reasons() {
        let cases = [
            (r#"{"t":5}"#, "needs one of"),
            (
                r#"{"t":-1,"reader":"r1","link":"up"}"#,
                "not a read-log record",
            ),
            (
                r#"{"t":5,"reader":"r1","link":"sideways"}"#,
                "\"sideways\" is not one of",
            ),
            (
                r#"{"t":5,"reader":"r1","antenna":0,"epc":"3074"}"#,
                "0 is not an antenna port",
            ),
            (
                r#"{"t":5,"reader":"r 1","antenna":1,"epc":"3074"}"#,
                "\"r 1\" is not",
            ),
            (
                r#"{"t":5,"reader":"r1","antenna":1,"epc":"30zz"}"#,
                "hex \"30zz\" has 'z' at position 2, which is not a hex digit",
            ),
            (
                r#"{"t":5,"reader":"r1","antenna":1,"epc":"3074","rssi":1e9}"#,
                "outside",
            ),
            (
                r#"{"t":5,"reader":"r1","antenna":1,"epc":"3074","color":1}"#,
                "unknown field",
            ),
            (r#"{"t":5,"reader":"r1","epc":"3074"}"#, "needs \"antenna\""),
            (
                r#"{"t":18446744073709551615,"reader":"r1","link":"up"}"#,
                "field t: 18446744073709551615 ms is after 9999-12-31T23:59:59.999Z",
            ),
            (
                r#"{"t":253402300800000,"gpio":"door","level":true}"#,
                "253402300800000 ms is after",
            ),
        ];
        for (line, want) in cases {
            let err = parse_line(line).expect_err(line).to_string();
            assert!(err.contains(want), "{line}: {err}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in ".{0,200}") {
            let _ = parse_line(&s);
        }

        #[test]
        fn reads_round_trip(t in 0u64..4_000_000_000_000, ant in 1u16..64,
                            words in proptest::collection::vec(any::<u16>(), 1..16),
                            rssi in proptest::option::of(-100i16..0)) {
            let epc: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
            let rec = Record::Read(TagRead { t, reader: "r-1".into(), antenna: ant, epc,
                rssi: rssi.map(|r| f32::from(r) / 2.0) });
            prop_assert_eq!(parse_line(&rec.to_json_line()), Ok(rec));
        }
    }
}
