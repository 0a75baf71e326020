//! Commands received on `cmd/{op}`: size-limited, schema-checked JSON objects carrying an `id`,
//! and the result documents published on `cmd/{op}/result`. Parsing never panics and a
//! rejected command changes nothing: the error says exactly what was wrong, naming the value.
//!
//! Supported: `ping` (`{"id"}`), `resync` (`{"id"}`: republish every retained snapshot) and
//! `asn` (`{"id","shipment","dock","epcs":[hex…]}` or `…"lines":[{"sku","qty"}]}`, see
//! [`crate::dock::asn`]). `ping` and `resync` are answered by the daemon's publisher; `asn` needs the
//! engine, so the daemon hands it to its engine thread and publishes the result that comes back
//! once the shipment is committed and flushed. This module owns only the grammar: it never
//! acts on a command. `sale` is part of the
//! topic contract but answered with an error until the feature behind it lands.
//!
//! Every command may carry `"expires"`: an RFC 3339 UTC time (`2026-12-08T10:00:00Z`,
//! optionally with milliseconds). [`parse_at`] refuses a command whose `expires` is not after
//! the gateway's clock with an error that says it expired, so a command that waited at the
//! broker while the gateway was offline (commands use a persistent session) cannot act late.
//! **The stale-command rule**: a command without `expires` does not expire at the gateway; it
//! is acted on whenever it is delivered. How long it can wait is bounded by the broker's
//! session expiry (the daemon asks for [`COMMAND_SESSION_EXPIRY_SECS`]) and by the MQTT 5
//! message expiry interval a sender may set. Redelivery is harmless: an `asn` repeated with the
//! same content changes nothing (`"new": false`).
//!
//! ```
//! use shelfd_core::commands::{parse, Command};
//! assert_eq!(parse("ping", br#"{"id":"q1"}"#), Ok(Command::Ping { id: "q1".into() }));
//! let err = parse("ping", br#"{"id":"q1","x":1}"#).unwrap_err();
//! assert_eq!(err.to_string(), r#"unknown field "x" (ping takes only "id" and "expires")"#);
//! assert_eq!(err.id(), Some("q1"));
//! ```

use serde::Serialize;
use serde_json::{Map, Value};

/// Largest command payload accepted, in bytes (but `asn`, see [`MAX_ASN_COMMAND_BYTES`]).
pub const MAX_COMMAND_BYTES: usize = 256 * 1024;
/// Largest `asn` payload accepted, in bytes: 10 000 EPCs of up to 496 bits fit.
pub const MAX_ASN_COMMAND_BYTES: usize = 2 * 1024 * 1024;

/// The payload limit of `op`.
pub fn max_bytes(op: &str) -> usize {
    if op == "asn" {
        MAX_ASN_COMMAND_BYTES
    } else {
        MAX_COMMAND_BYTES
    }
}
/// Longest command id, in characters.
pub const MAX_ID_CHARS: usize = 128;

/// How long the broker keeps the gateway's command session (and the commands queued in it)
/// while the gateway is offline: 7 days. A command queued longer is dropped by the broker.
pub const COMMAND_SESSION_EXPIRY_SECS: u32 = 7 * 24 * 3600;

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
    /// A shipment expected at a dock (needs the engine).
    Asn {
        /// Echoed in the result.
        id: String,
        /// The validated shipment.
        asn: crate::dock::asn::Asn,
    },
}

impl Command {
    /// The command's id.
    pub fn id(&self) -> &str {
        match self {
            Command::Ping { id } | Command::Resync { id } | Command::Asn { id, .. } => id,
        }
    }

    /// The command's op.
    pub fn op(&self) -> &'static str {
        match self {
            Command::Ping { .. } => "ping",
            Command::Resync { .. } => "resync",
            Command::Asn { .. } => "asn",
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

    /// A rejection of a well-formed command (unknown dock, conflicting shipment, daemon
    /// stopping…), naming why.
    pub fn rejected(id: Option<&str>, reason: impl Into<String>) -> Self {
        Self::new(id, reason.into())
    }

    /// The command's id, when the payload had a valid one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// Parses and validates the payload of `cmd/{op}` received when the gateway's clock reads
/// `now_ms`: like [`parse`], and a command whose `expires` is at or before `now_ms` is refused
/// (it changes nothing; the error names both times).
///
/// ```
/// use shelfd_core::commands::{parse_at, Command};
/// let body = br#"{"id":"q1","expires":"2026-12-08T10:00:00Z"}"#;
/// let before = 1_796_724_000_000 - 1; // 2026-12-08T09:59:59.999Z
/// assert_eq!(parse_at("ping", body, before), Ok(Command::Ping { id: "q1".into() }));
/// let err = parse_at("ping", body, before + 2).unwrap_err();
/// assert_eq!(err.to_string(), "command expired at 2026-12-08T10:00:00.000Z \
///     (gateway clock 2026-12-08T10:00:00.001Z); not acted on");
/// assert_eq!(err.id(), Some("q1"));
/// ```
pub fn parse_at(op: &str, payload: &[u8], now_ms: u64) -> Result<Command, CommandError> {
    let (command, expires) = parse_with_expiry(op, payload)?;
    match expires {
        Some(at) if at <= now_ms => Err(CommandError::new(
            Some(command.id()),
            format!(
                "command expired at {} (gateway clock {}); not acted on",
                crate::timefmt::rfc3339_ms(at),
                crate::timefmt::rfc3339_ms(now_ms)
            ),
        )),
        _ => Ok(command),
    }
}

/// Parses and validates the payload of `cmd/{op}`, without looking at the clock: an
/// `expires` field is checked for its form only (see [`parse_at`]).
pub fn parse(op: &str, payload: &[u8]) -> Result<Command, CommandError> {
    parse_with_expiry(op, payload).map(|(command, _)| command)
}

/// The command and its `expires` (ms since the Unix epoch), when it has one.
fn parse_with_expiry(op: &str, payload: &[u8]) -> Result<(Command, Option<u64>), CommandError> {
    let limit = max_bytes(op);
    if payload.len() > limit {
        return Err(CommandError::new(
            None,
            format!(
                "command of {} bytes is over the {limit}-byte limit",
                payload.len()
            ),
        ));
    }
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| CommandError::new(None, format!("payload is not JSON: {e}")))?;
    let Value::Object(mut map) = value else {
        return Err(CommandError::new(
            None,
            format!(
                "payload must be a JSON object, got {}",
                crate::dock::asn::kind_of(&value)
            ),
        ));
    };
    let id = read_id(&map)?;
    let expires = read_expires(&id, map.remove("expires"))?;
    let command = match op {
        "ping" => only_id(op, &map, id).map(|id| Command::Ping { id }),
        "resync" => only_id(op, &map, id).map(|id| Command::Resync { id }),
        "asn" => crate::dock::asn::parse_asn(&map)
            .map(|asn| Command::Asn {
                id: id.clone(),
                asn,
            })
            .map_err(|e| CommandError::new(Some(&id), e.to_string())),
        "sale" => Err(CommandError::new(
            Some(&id),
            format!("op {op:?} is not supported by this version yet"),
        )),
        _ => Err(CommandError::new(
            Some(&id),
            format!("unknown op {op:?} (expected ping, resync or asn)"),
        )),
    }?;
    Ok((command, expires))
}

/// `expires`: RFC 3339 UTC with a `Z`, seconds or milliseconds.
fn read_expires(id: &str, value: Option<Value>) -> Result<Option<u64>, CommandError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let parsed = match &value {
        Value::String(s) if s.len() == 20 && s.ends_with('Z') => {
            crate::timefmt::parse_rfc3339_ms(&format!("{}.000Z", &s[..19]))
        }
        Value::String(s) => crate::timefmt::parse_rfc3339_ms(s),
        _ => None,
    };
    parsed.map(Some).ok_or_else(|| {
        CommandError::new(
            Some(id),
            format!(
                "bad \"expires\" {}: expected an RFC 3339 UTC time like \"2026-12-08T10:00:00Z\" \
                 or \"2026-12-08T10:00:00.000Z\"",
                truncate(&value.to_string())
            ),
        )
    })
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
            format!("unknown field {extra:?} ({op} takes only \"id\" and \"expires\")"),
        )),
        None => Ok(id),
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
    /// use shelfd_core::commands::{parse, CommandResult};
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
        let big = vec![b' '; MAX_ASN_COMMAND_BYTES + 1];
        assert_eq!(
            parse("asn", &big).expect_err("rejected").to_string(),
            "command of 2097153 bytes is over the 2097152-byte limit"
        );
    }

    #[test]
    fn asn_commands_parse_with_their_id_and_rejections_echo_it() {
        let ok = parse(
            "asn",
            br#"{"id":"c1","shipment":"S1","dock":"dock-1","epcs":["3074257bf7194e4000001a85"]}"#,
        )
        .expect("valid");
        assert_eq!((ok.id(), ok.op()), ("c1", "asn"));
        let Command::Asn { asn, .. } = ok else {
            panic!("{ok:?}")
        };
        assert_eq!(asn.shipment, "S1");
        let err = parse(
            "asn",
            br#"{"id":"c2","shipment":"S1","dock":"dock-1","epcs":["30zz"]}"#,
        )
        .expect_err("bad epc");
        assert_eq!(err.id(), Some("c2"));
        assert_eq!(
            err.to_string(),
            r#"epcs[0]: hex "30zz" has 'z' at position 2, which is not a hex digit"#
        );
        // 10 000 EPCs of 96 bits are over the general limit but within the asn one.
        let epcs: Vec<String> = (0..10_000u64).map(|i| format!("3074{i:020x}")).collect();
        let body = serde_json::json!({"id":"c3","shipment":"S","dock":"d","epcs":epcs});
        let bytes = serde_json::to_vec(&body).expect("json");
        assert!(bytes.len() > MAX_COMMAND_BYTES);
        assert!(parse("asn", &bytes).is_ok());
    }

    #[test]
    fn expired_commands_are_refused_and_expires_is_checked_for_form() {
        let now = 1_796_724_000_000; // 2026-12-08T10:00:00.000Z
        let asn = |expires: &str| {
            format!(
                r#"{{"id":"a1","expires":{expires},"shipment":"S1","dock":"d1","epcs":["3074257bf7194e4000001a85"]}}"#
            )
        };
        let fresh = asn(r#""2026-12-08T10:00:00.001Z""#);
        assert!(matches!(
            parse_at("asn", fresh.as_bytes(), now),
            Ok(Command::Asn { .. })
        ));
        let stale = asn(r#""2026-12-08T10:00:00Z""#);
        let err = parse_at("asn", stale.as_bytes(), now).expect_err("expired");
        assert_eq!(err.id(), Some("a1"));
        assert!(
            err.to_string()
                .starts_with("command expired at 2026-12-08T10:00:00.000Z"),
            "{err}"
        );
        // Without the clock the form is checked, the time is not.
        assert!(parse("asn", stale.as_bytes()).is_ok());
        for bad in [
            r#""tomorrow""#,
            "1796724000",
            r#""2026-12-08T10:00:00+01:00""#,
            "null",
        ] {
            let err = parse_at("asn", asn(bad).as_bytes(), now).expect_err(bad);
            assert!(
                err.to_string().starts_with("bad \"expires\""),
                "{bad}: {err}"
            );
            assert_eq!(err.id(), Some("a1"));
        }
        // No expires: acted on whenever delivered (the stale-command rule).
        assert!(parse_at("ping", br#"{"id":"p"}"#, u64::MAX).is_ok());
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
        fn arbitrary_payloads_never_panic(op in "[a-z]{0,8}", payload in prop::collection::vec(any::<u8>(), 0..200), now in any::<u64>()) {
            let _ = parse(&op, &payload);
            let _ = parse_at(&op, &payload, now);
        }

        #[test]
        fn expires_round_trips_and_decides_by_the_clock(at in 0u64..4_102_444_800_000, now in 0u64..4_102_444_800_000) {
            let body = format!(r#"{{"id":"x","expires":"{}"}}"#, crate::timefmt::rfc3339_ms(at));
            let outcome = parse_at("ping", body.as_bytes(), now);
            prop_assert_eq!(outcome.is_ok(), at > now, "{:?}", outcome);
        }
    }
}
