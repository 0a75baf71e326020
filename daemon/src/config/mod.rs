//! The typed TOML configuration and its validation: [`load`] / [`parse`] turn a config file into
//! a [`Config`] or into [`ConfigErrors`] that name the file, the line and the field of every
//! problem (`shelfd check-config` prints them and exits 78).
//!
//! Everything a running daemon would trip over is checked here: TOML syntax, unknown keys, wrong
//! types, missing keys, duration and size grammars, ranges, unique ids, cross-references
//! (antenna → location, dock → location and gpios), GTIN check digits, EPCIS location URIs and files that must exist
//! (MQTT credentials and TLS files). Bad input never panics, and all problems are reported in one
//! run. `config/shelfd.example.toml` documents every key and is checked against this schema by a
//! test.
//!
//! This module never opens serial ports, GPIO chips or sockets and never reads the replay file:
//! those may legitimately be absent at check time (hot-plugged readers) and are the drivers'
//! business.
//!
//! Modules: `sections`, `reconcile_section` and `epcis_section` hold the schema types, `kinds`
//! the closed vocabularies, `duration`/`size`/`mqtt_url`/`credentials`/`gtin` the value grammars,
//! `spans` the document with line numbers, `decode` the serde stage, `validate` and `topology`
//! the semantic checks, `report` and `error` the errors.

mod credentials;
mod decode;
pub mod engine_setup;
mod epcis_section;
mod error;
mod kinds;
mod mqtt_url;
pub mod reload;
mod report;
mod sections;
mod size;
pub mod small_file;
mod spans;
mod topology;
mod validate;

#[cfg(test)]
mod tests;

pub use credentials::{CredentialsError, MqttCredentials};
pub use epcis_section::{EpcisConfig, check_sgln, check_time_zone_offset, check_uri_prefix};
pub use error::{ConfigError, ConfigErrors};
pub use kinds::{
    DEFAULT_BAUD, GpioDirection, LocationKind, MagicRfFraming, Protocol, STANDARD_BAUD_RATES,
    SearchMode, UndecodedPolicy, UnknownName,
};
pub use mqtt_url::{MQTT_PORT, MQTTS_PORT, MqttUrl, MqttUrlError};
pub use sections::{
    ANTENNA_RANGE, DEFAULT_REPLAY_SPEED, DockConfig, DockLights, GatewayConfig, GpioConfig,
    LaneConfig, LlrpReader, LocationConfig, LogConfig, MetricsConfig, MqttConfig, ProductMapping,
    ReaderConfig, ReaderSource, SerialLine,
};
pub use shelfd_core::duration::{DurationError, format_duration, parse_duration};
pub use shelfd_core::gtin::check_gtin14;
pub use shelfd_core::reconcile::config::ReconcileConfig;
pub use size::{SizeError, format_size, parse_size};

use std::path::Path;

/// A validated configuration. Only [`parse`] and [`load`] make one, so every value is in range,
/// every reference resolves and every relative path is already resolved against the config
/// file's directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `[gateway]`: store and gateway ids, state directory.
    pub gateway: GatewayConfig,
    /// `[mqtt]`: broker, TLS, topic prefix, outbox caps (defaults when the section is absent).
    pub mqtt: MqttConfig,
    /// `[[reader]]`s, in file order.
    pub readers: Vec<ReaderConfig>,
    /// `[[location]]`s, in file order.
    pub locations: Vec<LocationConfig>,
    /// `[[dock]]`s, in file order.
    pub docks: Vec<DockConfig>,
    /// `[[gpio]]`s, in file order.
    pub gpios: Vec<GpioConfig>,
    /// `[[product]]` SKU mappings, in file order (EPC prefixes lower case).
    pub products: Vec<ProductMapping>,
    /// `[[lane]]`s of shelf nodes, in file order (each with its `reader` filled in).
    pub lanes: Vec<LaneConfig>,
    /// `[reconcile]`: the engine's knobs (defaults when the section is absent).
    pub reconcile: ReconcileConfig,
    /// `[metrics]`: the metrics endpoint (none when the section is absent).
    pub metrics: MetricsConfig,
    /// `[log]`: the log filter (`info` when the section is absent).
    pub log: LogConfig,
    /// `[epcis]`: GS1 EPCIS 2.0 output (off when the section is absent).
    pub epcis: EpcisConfig,
}

impl Config {
    /// Position of the location `id` in [`Config::locations`].
    pub fn location_index(&self, id: &str) -> Option<usize> {
        self.locations.iter().position(|l| l.id == id)
    }

    /// Position of the reader `id` in [`Config::readers`].
    pub fn reader_index(&self, id: &str) -> Option<usize> {
        self.readers.iter().position(|r| r.id == id)
    }
}

/// Parses and validates config text. `origin` is the file name used in error messages; its
/// directory is the base of relative paths. Files the config names (MQTT credentials and TLS
/// files) are checked on disk.
///
/// ```
/// use std::path::Path;
/// let text = r#"
/// [gateway]
/// store = "store-0042"
/// id = "gw-1"
///
/// [[reader]]
/// id = "r2"
/// protocol = "mercuri"
/// port = "/dev/ttyUSB0"
/// antennas = { 1 = "shelf-a1" }
///
/// [[location]]
/// id = "shelf-a1"
/// kind = "shelf"
/// "#;
/// let errors = shelfd::config::parse(text, Path::new("shelfd.toml")).unwrap_err();
/// assert_eq!(
///     errors.to_string(),
///     "shelfd.toml:8: reader \"r2\": protocol: unknown protocol \"mercuri\" \
///      (expected one of mercury, magicrf, r2000, line, replay, shelf-link, llrp)"
/// );
/// ```
pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigErrors> {
    let doc = match spans::Document::parse(text) {
        Ok(doc) => doc,
        Err(error) => return Err(ConfigErrors(vec![syntax_error(text, origin, &error)])),
    };
    let mut reporter = report::Reporter::new(origin.to_path_buf(), &doc);
    let mut draft = decode::decode(&mut reporter);
    let base_dir = origin.parent().unwrap_or(Path::new(""));
    validate::validate(&mut draft, base_dir, &mut reporter);
    if reporter.is_clean() {
        if let Some(config) = assemble(draft) {
            return Ok(config);
        }
        return Err(ConfigErrors(vec![ConfigError {
            file: origin.to_path_buf(),
            line: None,
            field: String::new(),
            message: "internal error: a section failed to decode without a reported error"
                .to_owned(),
        }]));
    }
    Err(ConfigErrors(reporter.finish()))
}

/// Reads and validates a config file; an unreadable file (missing, not a regular file, over
/// [`small_file::MAX_CONFIG_BYTES`], not UTF-8) is an error naming the path.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let whole_file = |message: String| {
        ConfigErrors(vec![ConfigError {
            file: path.to_path_buf(),
            line: None,
            field: String::new(),
            message,
        }])
    };
    let bytes = small_file::read_capped(path, small_file::MAX_CONFIG_BYTES)
        .map_err(|e| whole_file(format!("cannot read config file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        whole_file(format!(
            "config file is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    parse(&text, path)
}

/// A TOML syntax error, with the line and column of the offending character.
fn syntax_error(text: &str, origin: &Path, error: &toml::de::Error) -> ConfigError {
    let (line, message) = match error.span() {
        Some(span) => {
            let offset = span.start.min(text.len());
            let before = text.get(..offset).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            (
                Some(line),
                format!("TOML syntax error at column {column}: {}", error.message()),
            )
        }
        None => (None, format!("TOML syntax error: {}", error.message())),
    };
    ConfigError {
        file: origin.to_path_buf(),
        line,
        field: String::new(),
        message,
    }
}

/// The final config, when every section decoded.
fn assemble(draft: decode::Draft) -> Option<Config> {
    Some(Config {
        gateway: draft.gateway?.value,
        mqtt: draft.mqtt?.value,
        readers: draft
            .readers
            .into_iter()
            .map(|i| i.value.into_config())
            .collect::<Option<_>>()?,
        locations: draft.locations.into_iter().map(|i| i.value).collect(),
        docks: draft.docks.into_iter().map(|i| i.value).collect(),
        gpios: draft.gpios.into_iter().map(|i| i.value).collect(),
        products: draft.products.into_iter().map(|i| i.value).collect(),
        lanes: draft.lanes.into_iter().map(|i| i.value).collect(),
        reconcile: draft.reconcile?.value,
        metrics: draft.metrics?.value,
        log: draft.log?.value,
        epcis: draft.epcis?.value,
    })
}
