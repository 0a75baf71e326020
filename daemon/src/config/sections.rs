//! The typed sections of the config file (all but `[reconcile]`, which has its own module):
//! field names, types, defaults and the meaning of every key. Deserialization here only checks
//! shapes and spellings; ranges and cross-references are checked by `validate`.

use super::kinds::{GpioDirection, LocationKind, MagicRfFraming, Protocol, SearchMode};
use super::mqtt_url::MqttUrl;
use super::{mqtt_url, size};
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use shelfd_core::duration;
use shelfd_readers::WireOptions;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `[gateway]`: who this daemon is. Required.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// Store id; a topic level, so 1–64 characters of `[A-Za-z0-9_-]`. Required.
    pub store: String,
    /// Gateway id within the store; same charset. Required.
    pub id: String,
    /// Directory of the persistent state (sled store). Default `/var/lib/shelfd`; a relative
    /// path is resolved against the config file's directory.
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
}

fn default_state_dir() -> PathBuf {
    PathBuf::from("/var/lib/shelfd")
}

/// `[mqtt]`: the broker connection and the outbox. The whole section is optional.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// Broker URL `mqtt://host[:port]` or `mqtts://host[:port]` (TLS); ports default to 1883
    /// and 8883. Default `mqtt://127.0.0.1:1883`.
    #[serde(default, deserialize_with = "mqtt_url::deserialize")]
    pub url: MqttUrl,
    /// MQTT client id. Default `shelfd-{store}-{id}` (filled in by [`super::parse`]).
    #[serde(default)]
    pub client_id: String,
    /// File with two lines, user name then password. Optional (no authentication); must exist
    /// and be readable when set. Relative paths are resolved against the config file's directory.
    #[serde(default)]
    pub credentials_file: Option<PathBuf>,
    /// PEM CA bundle to verify the broker with; only with `mqtts://`. Optional (system roots);
    /// must exist when set.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate for TLS client authentication; only with `mqtts://`, together
    /// with `client_key_file`. Optional; must exist when set.
    #[serde(default)]
    pub client_cert_file: Option<PathBuf>,
    /// PEM private key of `client_cert_file`. Optional; must exist when set.
    #[serde(default)]
    pub client_key_file: Option<PathBuf>,
    /// Topic prefix: one or more `/`-separated levels of `[A-Za-z0-9_.-]`. Default `shelfd/v1`.
    #[serde(default = "default_topic_prefix")]
    pub topic_prefix: String,
    /// MQTT keep-alive interval, 5s..=1h. Default 30s.
    #[serde(
        default = "default_keep_alive",
        deserialize_with = "duration::deserialize"
    )]
    pub keep_alive: Duration,
    /// Most events the outbox holds while the broker is unreachable; at least 1000.
    /// Default 1 000 000.
    #[serde(default = "default_outbox_max_entries")]
    pub outbox_max_entries: u64,
    /// Most bytes the outbox holds; `"512MiB"`-style string or an integer of bytes; at least
    /// 1 MiB. Default 512 MiB.
    #[serde(
        default = "default_outbox_max_bytes",
        deserialize_with = "size::deserialize"
    )]
    pub outbox_max_bytes: u64,
}

fn default_topic_prefix() -> String {
    "shelfd/v1".to_owned()
}
fn default_keep_alive() -> Duration {
    Duration::from_secs(30)
}
fn default_outbox_max_entries() -> u64 {
    1_000_000
}
fn default_outbox_max_bytes() -> u64 {
    512 << 20
}

/// One `[[reader]]` as written in the file: every key of every protocol, each optional. Only
/// decoding sees this shape (so that one run reports every shape error at its line); the
/// validator turns it into the [`ReaderConfig`] sum type, reporting a key the protocol does
/// not have (see [`ReaderSource::keys`]) and a key it requires but lacks.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReaderEntry {
    /// Reader id, unique; 1–64 characters of `[A-Za-z0-9_-]`. Required.
    pub(crate) id: String,
    /// Wire protocol; decides which of the keys below the reader has. Required.
    pub(crate) protocol: Protocol,
    /// Every protocol but `replay` (required there): [`SerialLine::port`].
    #[serde(default)]
    pub(crate) port: Option<PathBuf>,
    /// Every protocol but `replay`: [`SerialLine::baud`].
    #[serde(default)]
    pub(crate) baud: Option<u32>,
    /// `replay` only (required there): [`ReaderSource::Replay`]'s `file`.
    #[serde(default)]
    pub(crate) file: Option<PathBuf>,
    /// `replay` only: [`ReaderSource::Replay`]'s `speed`.
    #[serde(default)]
    pub(crate) speed: Option<f64>,
    /// Every protocol: [`ReaderConfig::antennas`].
    #[serde(default, deserialize_with = "deserialize_antennas")]
    pub(crate) antennas: BTreeMap<u16, String>,
    /// `shelf-link` only (required there): [`ReaderSource::ShelfLink`]'s `nodes`.
    #[serde(default)]
    pub(crate) nodes: Vec<u8>,
    /// `magicrf` only: [`ReaderSource::MagicRf`]'s `framing`.
    #[serde(default)]
    pub(crate) framing: Option<MagicRfFraming>,
    /// Every protocol: [`ReaderConfig::power_dbm`].
    #[serde(default)]
    pub(crate) power_dbm: Option<f64>,
    /// Every protocol: [`ReaderConfig::watchdog`].
    #[serde(
        default = "default_watchdog",
        deserialize_with = "duration::deserialize"
    )]
    pub(crate) watchdog: Duration,
    /// `llrp` only (required there): [`LlrpReader::address`].
    #[serde(default)]
    pub(crate) address: Option<String>,
    /// `llrp` only: [`LlrpReader::session`].
    #[serde(default)]
    pub(crate) session: Option<u8>,
    /// `llrp` only: [`LlrpReader::search_mode`].
    #[serde(default)]
    pub(crate) search_mode: Option<SearchMode>,
    /// `llrp` only: [`LlrpReader::population`].
    #[serde(default)]
    pub(crate) population: Option<u16>,
    /// `llrp` only: [`LlrpReader::rf_mode`].
    #[serde(default)]
    pub(crate) rf_mode: Option<u32>,
    /// `llrp` only: [`LlrpReader::antenna_power_dbm`].
    #[serde(default, deserialize_with = "deserialize_antenna_powers")]
    pub(crate) antenna_power_dbm: BTreeMap<u16, f64>,
    /// `llrp` only: [`LlrpReader::keepalive`].
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pub(crate) keepalive: Option<Duration>,
    /// `llrp` only: [`LlrpReader::reset_to_factory`].
    #[serde(default)]
    pub(crate) reset_to_factory: Option<bool>,
    /// `llrp` only: [`LlrpReader::max_message_size`].
    #[serde(default, deserialize_with = "deserialize_size_opt")]
    pub(crate) max_message_size: Option<u64>,
}

fn deserialize_size_opt<'de, D: de::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    size::deserialize(deserializer).map(Some)
}

/// Default LLRP keepalive period (EdgeX's).
pub const DEFAULT_LLRP_KEEPALIVE: Duration = Duration::from_secs(30);
/// Default largest LLRP message accepted (EdgeX's cap).
pub const DEFAULT_LLRP_MAX_MESSAGE: u64 = 640 * 1024;
/// The LLRP port used when `address` has none.
pub const LLRP_PORT: u16 = 5084;

/// The keys of a `protocol = "llrp"` reader.
#[derive(Debug, Clone, PartialEq)]
pub struct LlrpReader {
    /// `address`: `host[:port]` of the reader (IPv6 in brackets); the port defaults to 5084.
    /// Stored as `host:port`. Required.
    pub address: String,
    /// `session`: Gen2 session 0..=3. Optional: the reader's default.
    pub session: Option<u8>,
    /// `search_mode`: Impinj inventory search mode, `"reader-default"` (default), `"single"`,
    /// `"dual"` or `"tag-focus"`; ignored by other vendors' readers.
    pub search_mode: SearchMode,
    /// `population`: expected tag population, 1..=65535. Optional: the reader's default.
    pub population: Option<u16>,
    /// `rf_mode`: a mode identifier from the reader's Gen2 mode table (`shelfd llrp probe`
    /// lists them; an identifier the reader does not have is refused when connecting).
    /// Optional: the reader's default.
    pub rf_mode: Option<u32>,
    /// `antenna_power_dbm`: transmit power of single antennas (keys from `antennas`), dBm
    /// 0..=33, mapped to the nearest entry of the reader's power table; a power outside the
    /// table is refused with the table's range when connecting. Optional; `power_dbm` sets the
    /// others.
    pub antenna_power_dbm: BTreeMap<u16, f64>,
    /// `keepalive`: KEEPALIVE period asked of the reader, 1s..=10m; two missed keepalives
    /// (plus 2 s) and the connection is dropped and reopened. Default 30s; keep it below
    /// `[reconcile] reader_silence` so an empty shelf does not look silent.
    pub keepalive: Duration,
    /// `reset_to_factory`: reset the reader to factory defaults before configuring it (shelfd
    /// owns its ROSpecs). Default true.
    pub reset_to_factory: bool,
    /// `max_message_size`: the largest message accepted (a larger one closes the
    /// connection), 64KiB..=16MiB. Default 640KiB.
    pub max_message_size: u64,
}

/// `host[:port]` → `host:port` (port defaulting to [`LLRP_PORT`]); IPv6 in brackets.
pub fn normalize_llrp_address(text: &str) -> Result<String, String> {
    let bad = |why: &str| Err(format!("bad address {text:?}: {why}"));
    if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("expected host[:port], e.g. \"192.168.1.20\" or \"reader-1.local:5084\"");
    }
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return bad("missing ']' after an IPv6 address");
        };
        let port = match after {
            "" => None,
            p => match p.strip_prefix(':') {
                Some(p) => Some(p),
                None => return bad("expected ':port' after ']'"),
            },
        };
        (format!("[{host}]"), port)
    } else {
        match text.matches(':').count() {
            0 => (text.to_owned(), None),
            1 => {
                let (h, p) = text.split_once(':').unwrap_or((text, ""));
                (h.to_owned(), Some(p))
            }
            _ => return bad("write an IPv6 address in brackets, e.g. \"[fe80::1]:5084\""),
        }
    };
    if host.is_empty() || host == "[]" {
        return bad("the host is empty");
    }
    let port = match port {
        None => LLRP_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && !p.starts_with('+') => n,
            _ => return bad("the port must be 1..=65535"),
        },
    };
    Ok(format!("{host}:{port}"))
}

fn default_watchdog() -> Duration {
    Duration::from_secs(10)
}

/// Default pacing of a `replay` reader.
pub const DEFAULT_REPLAY_SPEED: f64 = 1.0;

/// One `[[reader]]`: an RFID reader (or shelf-node bus, or replayed read log) and what its
/// antennas cover. The keys every protocol has are fields; the keys of one protocol are in its
/// [`ReaderSource`] variant.
#[derive(Debug, Clone, PartialEq)]
pub struct ReaderConfig {
    /// Reader id, unique; 1–64 characters of `[A-Za-z0-9_-]`. Required.
    pub id: String,
    /// Antenna number (1..=64; 1..=65535 for `llrp`) → location id. Required and non-empty for RFID readers (every
    /// protocol but `shelf-link`); several antennas may cover one location (their reads pool).
    /// Optional for `shelf-link`: the antenna ports of the nodes' own RFID modules, shared by
    /// every node on the bus.
    pub antennas: BTreeMap<u16, String>,
    /// `power_dbm`: transmit power in dBm, 0..=33. Optional: the reader's own setting is kept.
    pub power_dbm: Option<f64>,
    /// Reopen the link after this much silence (no reads, no heartbeats), 1s..=1h. Default 10s.
    pub watchdog: Duration,
    /// `protocol` and the keys only that protocol has.
    pub source: ReaderSource,
}

/// The serial line of a reader: `port` and `baud`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialLine {
    /// `port`: the serial device, an absolute path (prefer `/dev/serial/by-id/…`). Required.
    /// Need not exist (readers are hot-plugged).
    pub port: PathBuf,
    /// `baud`: one of [`super::STANDARD_BAUD_RATES`]. Default [`super::DEFAULT_BAUD`].
    pub baud: u32,
}

/// A reader's `protocol`, with exactly the keys of that protocol.
#[derive(Debug, Clone, PartialEq)]
pub enum ReaderSource {
    /// `protocol = "mercury"`.
    Mercury(SerialLine),
    /// `protocol = "magicrf"`.
    MagicRf {
        /// `port`, `baud`.
        line: SerialLine,
        /// `framing`: frame header/end bytes, `"bb-7e"` (default) or `"aa-dd"` (some R200
        /// boards).
        framing: MagicRfFraming,
    },
    /// `protocol = "r2000"`.
    R2000(SerialLine),
    /// `protocol = "line"`.
    Line(SerialLine),
    /// `protocol = "shelf-link"`: a bus of shelf nodes.
    ShelfLink {
        /// `port`, `baud`.
        line: SerialLine,
        /// `nodes`: the addresses (1..=254) of the shelf nodes on this bus, polled in this
        /// order; unique, at least one. Their lanes are `[[lane]]`s.
        nodes: Vec<u8>,
    },
    /// `protocol = "llrp"`: a fixed reader on the network.
    Llrp(LlrpReader),
    /// `protocol = "replay"`: a read log played as a reader.
    Replay {
        /// `file`: the read-log file, resolved against the config file's directory when
        /// relative. Required.
        file: PathBuf,
        /// `speed`: pacing multiplier (2.0 = twice as fast), > 0. Default
        /// [`DEFAULT_REPLAY_SPEED`].
        speed: f64,
    },
}

impl ReaderSource {
    /// The keys, besides `id`, `protocol` and the common ones (`antennas`, `power_dbm`,
    /// `watchdog`), that a reader of `protocol` has.
    pub const fn keys(protocol: Protocol) -> &'static [&'static str] {
        match protocol {
            Protocol::Mercury | Protocol::R2000 | Protocol::Line => &["port", "baud"],
            Protocol::MagicRf => &["port", "baud", "framing"],
            Protocol::ShelfLink => &["port", "baud", "nodes"],
            Protocol::Replay => &["file", "speed"],
            Protocol::Llrp => LLRP_KEYS,
        }
    }

    /// The protocol.
    pub const fn protocol(&self) -> Protocol {
        match self {
            ReaderSource::Mercury(_) => Protocol::Mercury,
            ReaderSource::MagicRf { .. } => Protocol::MagicRf,
            ReaderSource::R2000(_) => Protocol::R2000,
            ReaderSource::Line(_) => Protocol::Line,
            ReaderSource::ShelfLink { .. } => Protocol::ShelfLink,
            ReaderSource::Replay { .. } => Protocol::Replay,
            ReaderSource::Llrp(_) => Protocol::Llrp,
        }
    }

    /// The serial line; `None` for `replay` and `llrp`.
    pub const fn line(&self) -> Option<&SerialLine> {
        match self {
            ReaderSource::Mercury(line)
            | ReaderSource::R2000(line)
            | ReaderSource::Line(line)
            | ReaderSource::MagicRf { line, .. }
            | ReaderSource::ShelfLink { line, .. } => Some(line),
            ReaderSource::Replay { .. } | ReaderSource::Llrp(_) => None,
        }
    }

    /// The serial line, to change it (the demo points ports at its PTYs).
    pub fn line_mut(&mut self) -> Option<&mut SerialLine> {
        match self {
            ReaderSource::Mercury(line)
            | ReaderSource::R2000(line)
            | ReaderSource::Line(line)
            | ReaderSource::MagicRf { line, .. }
            | ReaderSource::ShelfLink { line, .. } => Some(line),
            ReaderSource::Replay { .. } | ReaderSource::Llrp(_) => None,
        }
    }

    /// The variant of `entry`'s protocol with its keys (defaults filled in), and the required
    /// keys it lacks (empty placeholders in the variant: it is only good for checking the keys
    /// it has).
    pub(crate) fn from_entry(entry: &ReaderEntry) -> (ReaderSource, Vec<&'static str>) {
        let mut missing = Vec::new();
        let port = entry.port.clone().unwrap_or_else(|| {
            missing.push("port");
            PathBuf::new()
        });
        let line = SerialLine {
            port,
            baud: entry.baud.unwrap_or(super::DEFAULT_BAUD),
        };
        let source = match entry.protocol {
            Protocol::Mercury => ReaderSource::Mercury(line),
            Protocol::R2000 => ReaderSource::R2000(line),
            Protocol::Line => ReaderSource::Line(line),
            Protocol::MagicRf => ReaderSource::MagicRf {
                line,
                framing: entry.framing.unwrap_or_default(),
            },
            Protocol::ShelfLink => {
                if entry.nodes.is_empty() {
                    missing.push("nodes");
                }
                ReaderSource::ShelfLink {
                    line,
                    nodes: entry.nodes.clone(),
                }
            }
            Protocol::Replay => {
                missing.clear(); // no port here
                let file = entry.file.clone().unwrap_or_else(|| {
                    missing.push("file");
                    PathBuf::new()
                });
                ReaderSource::Replay {
                    file,
                    speed: entry.speed.unwrap_or(DEFAULT_REPLAY_SPEED),
                }
            }
            Protocol::Llrp => {
                missing.clear(); // no port here
                let address = match &entry.address {
                    Some(text) => normalize_llrp_address(text).unwrap_or_else(|_| text.clone()),
                    None => {
                        missing.push("address");
                        String::new()
                    }
                };
                ReaderSource::Llrp(LlrpReader {
                    address,
                    session: entry.session,
                    search_mode: entry.search_mode.unwrap_or_default(),
                    population: entry.population,
                    rf_mode: entry.rf_mode,
                    antenna_power_dbm: entry.antenna_power_dbm.clone(),
                    keepalive: entry.keepalive.unwrap_or(DEFAULT_LLRP_KEEPALIVE),
                    reset_to_factory: entry.reset_to_factory.unwrap_or(true),
                    max_message_size: entry.max_message_size.unwrap_or(DEFAULT_LLRP_MAX_MESSAGE),
                })
            }
        };
        (source, missing)
    }
}

impl ReaderEntry {
    /// Whether the file sets `key` (one of the protocol-specific keys).
    pub(crate) fn has(&self, key: &str) -> bool {
        match key {
            "port" => self.port.is_some(),
            "baud" => self.baud.is_some(),
            "file" => self.file.is_some(),
            "speed" => self.speed.is_some(),
            "nodes" => !self.nodes.is_empty(),
            "framing" => self.framing.is_some(),
            "address" => self.address.is_some(),
            "session" => self.session.is_some(),
            "search_mode" => self.search_mode.is_some(),
            "population" => self.population.is_some(),
            "rf_mode" => self.rf_mode.is_some(),
            "antenna_power_dbm" => !self.antenna_power_dbm.is_empty(),
            "keepalive" => self.keepalive.is_some(),
            "reset_to_factory" => self.reset_to_factory.is_some(),
            "max_message_size" => self.max_message_size.is_some(),
            _ => false,
        }
    }

    /// The validated reader; `None` when a required key is missing (already reported).
    pub(crate) fn into_config(self) -> Option<ReaderConfig> {
        let (source, missing) = ReaderSource::from_entry(&self);
        if !missing.is_empty() {
            return None;
        }
        Some(ReaderConfig {
            id: self.id,
            antennas: self.antennas,
            power_dbm: self.power_dbm,
            watchdog: self.watchdog,
            source,
        })
    }
}

impl ReaderConfig {
    /// The wire protocol.
    pub const fn protocol(&self) -> Protocol {
        self.source.protocol()
    }

    /// The serial device; `None` for `replay`.
    pub fn port(&self) -> Option<&Path> {
        self.source.line().map(|l| l.port.as_path())
    }

    /// The baud rate to open the port with; `None` for `replay`.
    pub fn baud_rate(&self) -> Option<u32> {
        self.source.line().map(|l| l.baud)
    }

    /// The read-log file of a `replay` reader.
    pub fn file(&self) -> Option<&Path> {
        match &self.source {
            ReaderSource::Replay { file, .. } => Some(file),
            _ => None,
        }
    }

    /// The keys of an `llrp` reader.
    pub fn llrp(&self) -> Option<&LlrpReader> {
        match &self.source {
            ReaderSource::Llrp(l) => Some(l),
            _ => None,
        }
    }

    /// The node addresses of a `shelf-link` reader (empty for the others).
    pub fn nodes(&self) -> &[u8] {
        match &self.source {
            ReaderSource::ShelfLink { nodes, .. } => nodes,
            _ => &[],
        }
    }

    /// The options of the protocol's wire parts (decoder, commands, simulator).
    pub fn wire_options(&self) -> WireOptions {
        let options = WireOptions {
            antennas: self.antennas.keys().copied().collect(),
            power_dbm: self.power_dbm,
            ..WireOptions::default()
        };
        match &self.source {
            ReaderSource::MagicRf { framing, .. } => options.with_framing(*framing),
            _ => options,
        }
    }
}

/// The keys of an `llrp` reader besides the common ones.
pub const LLRP_KEYS: &[&str] = &[
    "address",
    "session",
    "search_mode",
    "population",
    "rf_mode",
    "antenna_power_dbm",
    "keepalive",
    "reset_to_factory",
    "max_message_size",
];

/// Antenna numbers accepted in `antennas` of a serial reader.
pub const ANTENNA_RANGE: std::ops::RangeInclusive<u16> = 1..=64;
/// Antenna numbers accepted in `antennas` of an `llrp` reader (LLRP's AntennaID is a u16; 0
/// means all antennas).
pub const LLRP_ANTENNA_RANGE: std::ops::RangeInclusive<u16> = 1..=65535;

/// A key of `antennas`: a plain decimal number in [`ANTENNA_RANGE`] (no sign, no leading zero).
struct AntennaNumber(u16);

impl<'de> Deserialize<'de> for AntennaNumber {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let canonical =
            !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0');
        match text.parse::<u16>() {
            // Serial readers' narrower range is checked per protocol (`topology`).
            Ok(n) if canonical && LLRP_ANTENNA_RANGE.contains(&n) => Ok(AntennaNumber(n)),
            _ => Err(de::Error::custom(format!(
                "bad antenna {text:?}: expected an antenna number 1..=64 (1..=65535 for llrp)"
            ))),
        }
    }
}

fn deserialize_antennas<'de, D: de::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<u16, String>, D::Error> {
    struct AntennasVisitor;
    impl<'de> Visitor<'de> for AntennasVisitor {
        type Value = BTreeMap<u16, String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a table of antenna number = \"location id\"")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut antennas = BTreeMap::new();
            while let Some((AntennaNumber(n), location)) =
                map.next_entry::<AntennaNumber, String>()?
            {
                // Keys are canonical decimals and TOML rejects duplicate keys, so no overwrite.
                antennas.insert(n, location);
            }
            Ok(antennas)
        }
    }
    deserializer.deserialize_map(AntennasVisitor)
}

fn deserialize_antenna_powers<'de, D: de::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<u16, f64>, D::Error> {
    struct PowersVisitor;
    impl<'de> Visitor<'de> for PowersVisitor {
        type Value = BTreeMap<u16, f64>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a table of antenna number = power in dBm")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut powers = BTreeMap::new();
            while let Some((AntennaNumber(n), dbm)) = map.next_entry::<AntennaNumber, f64>()? {
                powers.insert(n, dbm);
            }
            Ok(powers)
        }
    }
    deserializer.deserialize_map(PowersVisitor)
}

/// One `[[location]]`: a place tags can be, as the engine and the central systems see it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationConfig {
    /// Location id, unique; a topic level: 1–64 characters of `[A-Za-z0-9_-]`. Required.
    pub id: String,
    /// What kind of place this is. Required.
    pub kind: LocationKind,
    /// Human-readable name (1–256 characters). Optional.
    #[serde(default)]
    pub name: Option<String>,
    /// GTIN-14s expected here (valid check digits, no duplicates); shelf and backroom only.
    /// Default empty (no planogram: no misplacement or low-stock alerts).
    #[serde(default)]
    pub planogram: Vec<String>,
    /// Low-stock threshold per planogram GTIN; requires a planogram. Optional (no alerts).
    #[serde(default)]
    pub safety_stock: Option<u32>,
    /// The location's SGLN pure-identity URN (`urn:epc:id:sgln:…`), used as its EPCIS
    /// readPoint and bizLocation. Optional: without it, `[epcis] location_uri_prefix` followed
    /// by the id is used.
    #[serde(default)]
    pub sgln: Option<String>,
}

/// One `[[dock]]`: a receiving door whose portal reads are matched against shipments (ASNs).
/// See [`shelfd_core::dock`] for sessions, attribution, matching and clean-up.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DockConfig {
    /// Dock id, unique (named by `asn` commands); 1–64 characters of `[A-Za-z0-9_-]`. Required.
    pub id: String,
    /// The `[[location]]` (of kind `dock`) covering the door's portal. Required.
    pub location: String,
    /// An input `[[gpio]]` that is active while the door is open: it opens and closes the
    /// receiving sessions. Optional: without it, the quiet rule does (see `quiet`).
    #[serde(default)]
    pub door_gpio: Option<String>,
    /// Output `[[gpio]]`s of a light stack. Optional (no lights).
    #[serde(default)]
    pub lights: Option<DockLights>,
    /// How long after the door closes reads still count, 0..=1h. Default 30s. Only with
    /// `door_gpio`.
    #[serde(default = "default_dwell", deserialize_with = "duration::deserialize")]
    pub dwell: Duration,
    /// Docks without `door_gpio`: a session opens when a tag is first confirmed at the dock and
    /// ends after this long without a newly confirmed tag, 1s..=1h. Default 60s; rejected with
    /// `door_gpio`.
    #[serde(default, deserialize_with = "duration::deserialize_opt")]
    pub quiet: Option<Duration>,
    /// How long an ASN no session matched is kept (and a received shipment remembered, so a
    /// repeated `asn` is recognised), 1h..=365d. Default 7d.
    #[serde(
        default = "default_asn_ttl",
        deserialize_with = "duration::deserialize"
    )]
    pub asn_ttl: Duration,
}

fn default_dwell() -> Duration {
    Duration::from_secs(30)
}

fn default_asn_ttl() -> Duration {
    Duration::from_secs(7 * 24 * 3600)
}

/// `lights` of a `[[dock]]`: the output `[[gpio]]` lit for each state of the light stack. Each
/// key is optional, at least one is required, and no gpio may serve two of them. Exactly one is
/// lit at a time (none before the first session and after one that received nothing).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DockLights {
    /// Lit while a receiving session is open.
    #[serde(default)]
    pub receiving: Option<String>,
    /// Lit after a `complete` receipt, until the next session opens.
    #[serde(default)]
    pub complete: Option<String>,
    /// Lit after a `short`, `over` or `mismatch` receipt, until the next session opens.
    #[serde(default)]
    pub problem: Option<String>,
}

impl DockLights {
    /// `(key, gpio name)` of every configured light.
    pub fn outputs(&self) -> Vec<(&'static str, &str)> {
        [
            ("receiving", &self.receiving),
            ("complete", &self.complete),
            ("problem", &self.problem),
        ]
        .into_iter()
        .filter_map(|(k, g)| g.as_deref().map(|g| (k, g)))
        .collect()
    }
}

/// One `[[gpio]]`: a named GPIO line (door sensor, light stack).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpioConfig {
    /// Name, unique (named by docks and in read logs); 1–64 characters of `[A-Za-z0-9_-]`.
    /// Required.
    pub name: String,
    /// GPIO character device, an absolute path such as `/dev/gpiochip0`. Required.
    pub chip: PathBuf,
    /// Line offset on the chip. Required; a (chip, line) pair may be used once.
    pub line: u32,
    /// Input (sensor) or output (actuator). Required.
    pub direction: GpioDirection,
    /// True when the line is active at low level. Default false.
    #[serde(default)]
    pub active_low: bool,
}

/// One `[[lane]]`: a load-cell lane of a shelf node (`shelf-link`), the items it holds and
/// where. Picks and put-backs it weighs reach the engine: a weight-only lane (`tagged = false`)
/// keeps the stock count of its untagged items at `location`; on a tagged lane a pick
/// corroborates RFID (the tag of `sku` that stops reading at `location` departs at once).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneConfig {
    /// The `shelf-link` reader whose bus the node is on. Optional when exactly one `shelf-link`
    /// reader lists `node` (filled in by [`super::parse`]).
    #[serde(default)]
    pub reader: Option<String>,
    /// The node's bus address, 1..=254, listed in that reader's `nodes`. Required.
    pub node: u8,
    /// The lane on the node, 0-based (0..=254); (reader, node, lane) is unique. Required.
    pub lane: u8,
    /// The location the lane is part of: a `shelf` or `backroom` location. Required.
    pub location: String,
    /// The SKU of the items on the lane: a GTIN-14 when `tagged` (the SKU their EPCs decode
    /// to), else 1–64 printable characters without whitespace. Required.
    pub sku: String,
    /// Weight of one item in grams, > 0 and at most 100 000. Required.
    pub unit_weight: f64,
    /// How far a weight change may be from a whole number of items, in grams: ≥ 0 and less
    /// than half of `unit_weight`. Optional: a quarter of `unit_weight`.
    #[serde(default)]
    pub tolerance: Option<f64>,
    /// True when the items carry RFID tags read at `location` (some reader antenna must cover
    /// it): picks then corroborate departures instead of counting stock. Default false.
    #[serde(default)]
    pub tagged: bool,
}

impl LaneConfig {
    /// The unit weight in milligrams (validated: 1..=100 000 000).
    pub fn unit_mg(&self) -> u32 {
        (self.unit_weight * 1000.0).round() as u32
    }

    /// The tolerance in milligrams: `tolerance`, else a quarter of the unit weight.
    pub fn tolerance_mg(&self) -> u32 {
        match self.tolerance {
            Some(grams) => (grams * 1000.0).round() as u32,
            None => self.unit_mg() / 4,
        }
    }
}

/// One `[[product]]`: an SKU for tags whose EPC decodes to no GTIN.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductMapping {
    /// Hex prefix of the EPC, even length, 2..=62 hex digits, unique; stored lower case. The
    /// longest matching prefix wins. Required.
    pub epc_prefix: String,
    /// The SKU reported for matching tags: 1–64 printable characters, no whitespace. Required.
    pub sku: String,
}

impl ProductMapping {
    /// The prefix as bytes (the prefix is validated hex; a malformed pair would be skipped).
    pub fn epc_prefix_bytes(&self) -> Vec<u8> {
        self.epc_prefix
            .as_bytes()
            .chunks_exact(2)
            .filter_map(|pair| {
                std::str::from_utf8(pair)
                    .ok()
                    .and_then(|p| u8::from_str_radix(p, 16).ok())
            })
            .collect()
    }
}

/// `[metrics]`: the Prometheus endpoint. Optional.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Socket address to serve `/metrics` on, e.g. `127.0.0.1:9464`. Default: absent (no
    /// metrics endpoint).
    #[serde(default, deserialize_with = "deserialize_listen")]
    pub listen: Option<SocketAddr>,
}

fn deserialize_listen<'de, D: de::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SocketAddr>, D::Error> {
    let text = String::deserialize(deserializer)?;
    match text.parse::<SocketAddr>() {
        Ok(addr) if addr.port() != 0 => Ok(Some(addr)),
        Ok(_) => Err(de::Error::custom(format!(
            "bad listen address {text:?}: the port must not be 0"
        ))),
        Err(_) => Err(de::Error::custom(format!(
            "bad listen address {text:?}: expected IP:port, e.g. \"127.0.0.1:9464\" or \"[::1]:9464\""
        ))),
    }
}

/// `[log]`: logging. Optional.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `error`, `warn`, `info`, `debug`, `trace`, or an EnvFilter-style directive list such as
    /// `"info,shelfd_core::reconcile=debug"` (each directive `level` or `target=level`). Default `info`.
    #[serde(default = "default_log_level")]
    pub level: String,
}

fn default_log_level() -> String {
    "info".to_owned()
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: default_log_level(),
        }
    }
}
