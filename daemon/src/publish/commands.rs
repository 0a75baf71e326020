//! Commands received on `cmd/{op}`: size-limited, schema-checked JSON objects carrying an `id`,
//! and the result documents published on `cmd/{op}/result`. Parsing never panics and a
//! rejected command changes nothing: the error says exactly what was wrong, naming the value.
//!
//! Supported now: `ping` (`{"id"}`) and `resync` (`{"id"}`: republish every retained
//! snapshot). `asn` and `sale` are part of the topic contract but answered with an error until
//! the features behind them land.
//!
//! ```
//! use shelfd::publish::commands::{parse, Command};
//! assert_eq!(parse("ping", br#"{"id":"q1"}"#), Ok(Command::Ping { id: "q1".into() }));
//! let err = parse("ping", br#"{"id":"q1","x":1}"#).unwrap_err();
//! assert_eq!(err.to_string(), r#"unknown field "x" (ping takes only "id")"#);
//! assert_eq!(err.id(), Some("q1"));
//! ```

use serde::Serialize;
use serde_json::{Map, Value};

/// Largest command payload accepted, in bytes.
pub const MAX_COMMAND_BYTES: usize = 256 * 1024;
/// Longest command id, in characters.
pub const MAX_ID_CHARS: usize = 128;

/// A validated command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Liveness probe: answered at once.
    Ping {
        /// Echoed in the result.
        id: String,
    },
    /// Republish every location's retained snapshot.
    Resync {
        /// Echoed in the result.
        id: String,
    },
}

impl Command {
    /// The command's id.
    pub fn id(&self) -> &str {
        match self {
            Command::Ping { id } | Command::Resync { id } => id,
        }
    }
}

/// Why a command was rejected; carries the id when one could be read, so the result can echo it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct CommandError {
    id: Option<String>,
    reason: String,
}

impl CommandError {
    fn new(id: Option<&str>, reason: String) -> Self {
        CommandError {
            id: id.map(str::to_owned),
            reason,
        }
    }

    /// The command's id, when the payload had a valid one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// Parses and validates the payload of `cmd/{op}`.
pub fn parse(op: &str, payload: &[u8]) -> Result<Command, CommandError> {
    if payload.len() > MAX_COMMAND_BYTES {
        return Err(CommandError::new(
            None,
            format!(
                "command of {} bytes is over the {MAX_COMMAND_BYTES}-byte limit",
                payload.len()
            ),
        ));
    }
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| CommandError::new(None, format!("payload is not JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(CommandError::new(
            None,
            format!("payload must be a JSON object, got {}", kind_of(&value)),
        ));
    };
    let id = read_id(&map)?;
    match op {
        "ping" => only_id(op, &map, id).map(|id| Command::Ping { id }),
        "resync" => only_id(op, &map, id).map(|id| Command::Resync { id }),
        "asn" | "sale" => Err(CommandError::new(
            Some(&id),
            format!("op {op:?} is not supported by this version yet"),
        )),
        _ => Err(CommandError::new(
            Some(&id),
            format!("unknown op {op:?} (expected ping or resync)"),
        )),
    }
}

fn read_id(map: &Map<String, Value>) -> Result<String, CommandError> {
    match map.get("id") {
        None => Err(CommandError::new(None, "missing \"id\"".into())),
        Some(Value::String(id))
            if !id.is_empty()
                && id.chars().count() <= MAX_ID_CHARS
                && !id.chars().any(char::is_control) =>
        {
            Ok(id.clone())
        }
        Some(other) => Err(CommandError::new(
            None,
            format!(
                "bad \"id\" {}: expected a string of 1..={MAX_ID_CHARS} printable characters",
                truncate(&other.to_string())
            ),
        )),
    }
}

fn only_id(op: &str, map: &Map<String, Value>, id: String) -> Result<String, CommandError> {
    match map.keys().find(|k| *k != "id") {
        Some(extra) => Err(CommandError::new(
            Some(&id),
            format!("unknown field {extra:?} ({op} takes only \"id\")"),
        )),
        None => Ok(id),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= 40 {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(40).collect::<String>())
    }
}

/// The document published on `cmd/{op}/result`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommandResult {
    v: u8,
    #[serde(rename = "type")]
    kind: &'static str,
    op: String,
    id: Option<String>,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(flatten)]
    detail: Map<String, Value>,
}

impl CommandResult {
    /// A success, with extra fields.
    pub fn ok(op: &str, id: &str, detail: Map<String, Value>) -> Self {
        CommandResult {
            v: 1,
            kind: "cmd.result",
            op: op.to_owned(),
            id: Some(id.to_owned()),
            ok: true,
            error: None,
            detail,
        }
    }

    /// A rejection.
    ///
    /// ```
    /// use shelfd::publish::commands::{parse, CommandResult};
    /// let err = parse("ping", b"[1]").unwrap_err();
    /// assert_eq!(CommandResult::error("ping", &err).to_json(), concat!(
    ///     r#"{"v":1,"type":"cmd.result","op":"ping","id":null,"ok":false,"#,
    ///     r#""error":"payload must be a JSON object, got an array"}"#));
    /// ```
    pub fn error(op: &str, err: &CommandError) -> Self {
        CommandResult {
            v: 1,
            kind: "cmd.result",
            op: op.to_owned(),
            id: err.id.clone(),
            ok: false,
            error: Some(err.reason.clone()),
            detail: Map::new(),
        }
    }

    /// The JSON payload.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("invariant: results always serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejections_name_the_offending_value() {
        let cases: &[(&str, &[u8], &str)] = &[
            ("ping", b"", "not JSON"),
            ("ping", b"{", "not JSON"),
            ("ping", b"\"x\"", "got a string"),
            ("ping", b"{}", "missing \"id\""),
            ("ping", br#"{"id":7}"#, "bad \"id\" 7"),
            ("ping", br#"{"id":""}"#, "bad \"id\" \"\""),
            (
                "resync",
                br#"{"id":"a","all":true}"#,
                "unknown field \"all\"",
            ),
            ("reboot", br#"{"id":"a"}"#, "unknown op \"reboot\""),
            (
                "sale",
                br#"{"id":"a","epc":"30"}"#,
                "\"sale\" is not supported",
            ),
        ];
        for (op, payload, needle) in cases {
            let err = parse(op, payload).expect_err(needle);
            assert!(err.to_string().contains(needle), "{op}: {err}");
        }
        let big = vec![b' '; MAX_COMMAND_BYTES + 1];
        assert!(
            parse("ping", &big)
                .expect_err("rejected")
                .to_string()
                .contains("over the")
        );
    }

    #[test]
    fn id_is_echoed_when_readable() {
        let err = parse("reboot", br#"{"id":"abc"}"#).expect_err("rejected");
        let json = CommandResult::error("reboot", &err).to_json();
        assert!(json.contains(r#""id":"abc","ok":false"#), "{json}");
        let ok = CommandResult::ok("ping", "abc", Map::new()).to_json();
        assert_eq!(
            ok,
            r#"{"v":1,"type":"cmd.result","op":"ping","id":"abc","ok":true}"#
        );
    }

    proptest! {
        #[test]
        fn arbitrary_payloads_never_panic(op in "[a-z]{0,8}", payload in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&op, &payload);
        }
    }
}
