//! `central.toml`: the broker to consume, the database, the HTTP API and the inventory rules.
//! Parsed strictly (unknown keys are errors naming the key); every error names the file.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The whole config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CentralConfig {
    /// The broker and the subscription.
    pub mqtt: MqttSection,
    /// Where the inventory is kept.
    pub database: DatabaseSection,
    /// The HTTP API.
    pub api: ApiSection,
    /// Inventory rules.
    #[serde(default)]
    pub inventory: InventorySection,
}

/// `[mqtt]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttSection {
    /// Broker host.
    pub host: String,
    /// Broker port (1883).
    #[serde(default = "default_port")]
    pub port: u16,
    /// The stable client id of the persistent session (every restart resumes it, so the
    /// broker queues what arrives while central is away). Two instances need two ids.
    pub client_id: String,
    /// The gateways' topic prefix (`shelfd/v1`).
    #[serde(default = "default_prefix")]
    pub topic_prefix: String,
    /// With several central instances: the shared-subscription group
    /// (`$share/{group}/{prefix}/+/+/#`), so each message goes to one instance.
    #[serde(default)]
    pub shared_group: Option<String>,
    /// Keep-alive, seconds.
    #[serde(default = "default_keep_alive")]
    pub keep_alive_s: u64,
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSection {
    /// `sqlite:PATH` (a file; created when missing) or `postgres://user@host:port/db`.
    pub url: String,
}

/// `[api]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    /// Listen address (`127.0.0.1:8080`).
    pub listen: String,
    /// The tokens file (TOML, `[[token]]` name, role, hash, stores).
    pub tokens_file: PathBuf,
    /// The products file (TOML, `[[product]]` gtin, category), for demand per category.
    #[serde(default)]
    pub products_file: Option<PathBuf>,
}

/// `[inventory]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventorySection {
    /// Location ids that start with one of these are backroom; every other stock location
    /// is the sales floor.
    #[serde(default = "default_backroom")]
    pub backroom_prefixes: Vec<String>,
    /// Available-to-promise at or below this is `low` (above: `in_stock`; 0: `out`).
    #[serde(default = "default_low")]
    pub low_level: u64,
    /// How long an out-of-order event waits for the events before it before the missing ones
    /// are declared a gap (ms).
    #[serde(default = "default_gap_wait")]
    pub gap_wait_ms: u64,
    /// How long a resync may stay unanswered before it is sent again (ms).
    #[serde(default = "default_resync_retry")]
    pub resync_retry_ms: u64,
}

impl Default for InventorySection {
    fn default() -> Self {
        InventorySection {
            backroom_prefixes: default_backroom(),
            low_level: default_low(),
            gap_wait_ms: default_gap_wait(),
            resync_retry_ms: default_resync_retry(),
        }
    }
}

fn default_port() -> u16 {
    1883
}
fn default_prefix() -> String {
    "shelfd/v1".into()
}
fn default_keep_alive() -> u64 {
    10
}
fn default_backroom() -> Vec<String> {
    vec!["backroom".into()]
}
fn default_low() -> u64 {
    2
}
fn default_gap_wait() -> u64 {
    1000
}
fn default_resync_retry() -> u64 {
    10_000
}

/// A config that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or does not fit the schema (serde names the key and line).
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl CentralConfig {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<CentralConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses config text (`path` names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<CentralConfig, ConfigError> {
        let bad = |message: String| ConfigError::Parse {
            path: path.to_owned(),
            message,
        };
        let config: CentralConfig = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        for (what, level) in [
            ("mqtt.topic_prefix", config.mqtt.topic_prefix.as_str()),
            (
                "mqtt.shared_group",
                config.mqtt.shared_group.as_deref().unwrap_or("g"),
            ),
        ] {
            if level.is_empty() || level.contains(['+', '#']) || level.ends_with('/') {
                return Err(bad(format!(
                    "{what} {level:?}: must be non-empty, without wildcards or a trailing '/'"
                )));
            }
        }
        if config.mqtt.client_id.is_empty() {
            return Err(bad("mqtt.client_id must not be empty".into()));
        }
        crate::db::DbUrl::parse(&config.database.url).map_err(|e| bad(e.to_string()))?;
        Ok(config)
    }

    /// The subscription filter: `{prefix}/+/+/#`, shared when a group is set.
    pub fn filter(&self) -> String {
        let plain = format!("{}/+/+/#", self.mqtt.topic_prefix);
        match &self.mqtt.shared_group {
            Some(group) => format!("$share/{group}/{plain}"),
            None => plain,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "[mqtt]\nhost = \"127.0.0.1\"\nclient_id = \"central-1\"\n\
        [database]\nurl = \"sqlite:/tmp/x.db\"\n[api]\nlisten = \"127.0.0.1:0\"\ntokens_file = \"t.toml\"\n";

    #[test]
    fn parses_and_builds_the_filter() {
        let c = CentralConfig::parse(GOOD, Path::new("c.toml")).expect("valid");
        assert_eq!(c.filter(), "shelfd/v1/+/+/#");
        assert_eq!(c.inventory.low_level, 2);
        let shared = GOOD.replace("client_id", "shared_group = \"central\"\nclient_id");
        let c = CentralConfig::parse(&shared, Path::new("c.toml")).expect("valid");
        assert_eq!(c.filter(), "$share/central/shelfd/v1/+/+/#");
    }

    #[test]
    fn errors_name_the_file_and_the_value() {
        let cases = [
            (GOOD.replace("host", "hots"), "unknown field `hots`"),
            (GOOD.replace("sqlite:/tmp/x.db", "mysql://x"), "mysql://x"),
            (
                GOOD.replace("client_id", "topic_prefix = \"a/#\"\nclient_id"),
                "\"a/#\"",
            ),
        ];
        for (text, needle) in cases {
            let err = CentralConfig::parse(&text, Path::new("c.toml"))
                .expect_err(needle)
                .to_string();
            assert!(err.starts_with("c.toml: "), "{err}");
            assert!(err.contains(needle), "{err} should contain {needle}");
        }
    }
}
