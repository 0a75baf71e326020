//! The machine-readable contract (`contract/`) as a test hook: every JSON Schema under
//! `contract/schemas/` loaded once, and [`check_message`] / [`check_payload`] that validate a
//! message a gateway (or the demo, or central) produced against the schema of its topic or type.
//! The subscriber ([`crate::Subscriber`]) and the JSON-line stream checks
//! ([`crate::event_stream::Stream`]) call it on everything they see, so every end-to-end test
//! checks the contract as a side effect.
//!
//! The schemas reference each other by relative file name under one base URI
//! ([`SCHEMA_BASE`]); they are registered up front, nothing is fetched.

use jsonschema::{Registry, Validator};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The `$id` prefix of every schema in `contract/schemas/`.
pub const SCHEMA_BASE: &str = "https://github.com/shelfd/shelfd/contract/schemas/";

/// `contract/` of the workspace.
pub fn contract_dir() -> PathBuf {
    crate::workspace_root().join("contract")
}

/// Every schema file under `contract/schemas/`, as (path relative to it, JSON).
pub fn schema_files() -> Vec<(String, Value)> {
    let root = contract_dir().join("schemas");
    let mut out = Vec::new();
    collect(&root, &root, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Value)>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let json: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, json));
        }
    }
}

/// The compiled schemas, by path relative to `contract/schemas/`.
pub struct Contract {
    validators: BTreeMap<String, Validator>,
}

static CONTRACT: OnceLock<Contract> = OnceLock::new();
static REGISTRY: OnceLock<Registry<'static>> = OnceLock::new();
static FILES: OnceLock<Vec<(String, Value)>> = OnceLock::new();

/// The contract of this checkout, compiled once per test process.
pub fn contract() -> &'static Contract {
    CONTRACT.get_or_init(|| {
        let files = FILES.get_or_init(schema_files);
        let registry = REGISTRY.get_or_init(|| {
            let mut builder = Registry::new();
            for (rel, json) in files {
                builder = builder
                    .add(format!("{SCHEMA_BASE}{rel}"), json)
                    .unwrap_or_else(|e| panic!("schema {rel}: {e}"));
            }
            builder
                .prepare()
                .unwrap_or_else(|e| panic!("contract schemas: {e}"))
        });
        let validators = files
            .iter()
            .map(|(rel, json)| {
                let v = jsonschema::options()
                    .with_registry(registry)
                    .with_base_uri(format!("{SCHEMA_BASE}{rel}"))
                    .build(json)
                    .unwrap_or_else(|e| panic!("schema {rel} does not compile: {e}"));
                (rel.clone(), v)
            })
            .collect();
        Contract { validators }
    })
}

impl Contract {
    /// The schema paths (relative to `contract/schemas/`).
    pub fn schemas(&self) -> impl Iterator<Item = &str> {
        self.validators.keys().map(String::as_str)
    }

    /// Validates `json` against the schema at `rel`; the error lists every violation with its
    /// JSON pointer.
    pub fn validate(&self, rel: &str, json: &Value) -> Result<(), String> {
        let validator = self
            .validators
            .get(rel)
            .ok_or_else(|| format!("no schema {rel} in contract/schemas"))?;
        let errors: Vec<String> = validator
            .iter_errors(json)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{rel}: {}", errors.join("; ")))
        }
    }
}

/// The schema of a message on `topic` (a shelfd topic `…/{store}/{gateway}/…`), or `None` for a
/// topic outside the gateway's outbound contract (inbound commands are validated by their
/// sender's tests, and tests send malformed ones on purpose).
pub fn schema_of_topic(topic: &str) -> Option<String> {
    let levels: Vec<&str> = topic.split('/').collect();
    match levels.as_slice() {
        [.., "event", kind] => Some(format!("events/{kind}.json")),
        [.., "stock", _location] => Some("stock.snapshot.json".into()),
        [.., "cmd", _op, "result"] => Some("cmd.result.json".into()),
        [.., "status"] => Some("status.json".into()),
        [.., "epcis"] => Some("epcis.json".into()),
        _ => None,
    }
}

/// The schema of a payload by its own `type` (`stock.snapshot`, `status`, `cmd.result`, or an
/// event type).
pub fn schema_of_type(json: &Value) -> Option<String> {
    match json.get("type")?.as_str()? {
        "stock.snapshot" => Some("stock.snapshot.json".into()),
        "status" => Some("status.json".into()),
        "cmd.result" => Some("cmd.result.json".into()),
        "EPCISDocument" => Some("epcis.json".into()),
        kind => Some(format!("events/{kind}.json")),
    }
}

/// Validates a message received on `topic` (see [`schema_of_topic`]); also checks that an
/// event's `type` is the topic's. `Ok` for topics outside the outbound contract.
pub fn check_message(topic: &str, payload: &[u8]) -> Result<(), String> {
    let Some(rel) = schema_of_topic(topic) else {
        return Ok(());
    };
    let json: Value = serde_json::from_slice(payload).map_err(|e| {
        format!(
            "{topic}: payload is not JSON ({e}): {}",
            String::from_utf8_lossy(payload)
        )
    })?;
    contract()
        .validate(&rel, &json)
        .map_err(|e| format!("{topic}: {e}: {json}"))
}

/// Validates one payload by its own `type`.
pub fn check_payload(json: &Value) -> Result<(), String> {
    let rel = schema_of_type(json).ok_or_else(|| format!("payload without a type: {json}"))?;
    contract()
        .validate(&rel, json)
        .map_err(|e| format!("{e}: {json}"))
}
