//! Fuzzes MQTT command parsing, `shelfd_core::commands::parse(op, payload)`: the first input byte
//! picks the op (`ping`, `resync`, `asn`, `sale`, or — for values past those — an op made of
//! the next bytes up to a 0 byte), the rest is the payload. Nothing may panic; an accepted
//! command is a ping or resync whose id is the payload's `"id"` (1..=128 printable characters)
//! and whose only other field is a well-formed `"expires"`; every result document is JSON that echoes the id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shelfd_core::commands::{CommandResult, MAX_ID_CHARS, parse};

const OPS: [&str; 4] = ["ping", "resync", "asn", "sale"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (op, payload): (String, &[u8]) = match OPS.get(usize::from(pick)) {
        Some(op) => ((*op).to_owned(), rest),
        None => {
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            let op = String::from_utf8_lossy(&rest[..end]).into_owned();
            (op, rest.get(end + 1..).unwrap_or_default())
        }
    };
    match parse(&op, payload) {
        Ok(command) => {
            assert!(op == "ping" || op == "resync", "accepted op {op:?}");
            let id = command.id();
            assert!(
                !id.is_empty() && id.chars().count() <= MAX_ID_CHARS,
                "id {id:?}"
            );
            assert!(!id.chars().any(char::is_control), "id {id:?}");
            let value: serde_json::Value =
                serde_json::from_slice(payload).expect("an accepted payload is JSON");
            let object = value.as_object().expect("an accepted payload is an object");
            assert!(
                object.keys().all(|k| k == "id" || k == "expires"),
                "only \"id\" and \"expires\" in {object:?}"
            );
            assert_eq!(object.get("id").and_then(|v| v.as_str()), Some(id));
            let doc = CommandResult::ok(&op, id, serde_json::Map::new()).to_json();
            let doc: serde_json::Value = serde_json::from_str(&doc).expect("result is JSON");
            assert_eq!(doc["id"].as_str(), Some(id));
            assert_eq!(doc["ok"], true);
        }
        Err(err) => {
            assert!(!err.to_string().is_empty(), "an error says why");
            let doc = CommandResult::error(&op, &err).to_json();
            let doc: serde_json::Value = serde_json::from_str(&doc).expect("result is JSON");
            assert_eq!(doc["id"].as_str(), err.id());
            assert_eq!(doc["ok"], false);
            assert_eq!(doc["op"].as_str(), Some(op.as_str()));
        }
    }
});
