//! The machine-readable contract (`contract/`): every [`EventKind`] has a payload schema and a
//! message in the AsyncAPI document; payloads written by shelfd's own types validate (and
//! broken ones do not); the AsyncAPI document validates against the official AsyncAPI 3.0 JSON
//! Schema kept in `contract/asyncapi-3.0.0.schema.json` (source: the `@asyncapi/specs` package,
//! version 6.11.1, file `schemas/3.0.0-without-$id.json`, Apache-2.0, published from
//! github.com/asyncapi/spec-json-schemas), and every schema it references exists.
//!
//! Messages the end-to-end tests and the demo produce are validated by the testkit's hooks
//! (`Subscriber`, `event_stream::Stream`).

use serde_json::{Value, json};
use shelfd::publish::status::{Presence, StatusDoc};
use shelfd_core::commands::{CommandResult, parse};
use shelfd_core::events::{
    DepartCause, Event, EventBody, EventKind, Origin, ReaderState, ReceiptStatus, SkuTally,
    StockSnapshot,
};
use shelfd_testkit::contract::{check_payload, contract, contract_dir};
use std::collections::BTreeMap;

fn origin() -> Origin {
    Origin {
        store: "s042".into(),
        gateway: "gw-1".into(),
    }
}

const EPC: &str = "3074257bf7194e4000001a85";

/// A realistic body of every kind. The match is exhaustive: a new kind needs a sample here and
/// a schema in `contract/schemas/events/`.
fn sample(kind: EventKind) -> Vec<EventBody> {
    let sku = || Some("80614141123458".to_string());
    match kind {
        EventKind::TagArrived => vec![
            EventBody::TagArrived {
                epc: EPC.into(),
                sku: sku(),
                location: "shelf-a1".into(),
            },
            EventBody::TagArrived {
                epc: EPC.into(),
                sku: None,
                location: "shelf-a1".into(),
            },
        ],
        EventKind::TagMoved => vec![EventBody::TagMoved {
            epc: EPC.into(),
            sku: sku(),
            from: "shelf-a1".into(),
            to: "shelf-a2".into(),
        }],
        EventKind::TagDeparted => [DepartCause::Missing, DepartCause::Exit, DepartCause::Picked]
            .into_iter()
            .map(|cause| EventBody::TagDeparted {
                epc: EPC.into(),
                sku: sku(),
                from: "shelf-a1".into(),
                last_seen: "2026-11-22T09:59:00.000Z".into(),
                cause,
            })
            .collect(),
        EventKind::TagSold => vec![EventBody::TagSold {
            epc: EPC.into(),
            sku: sku(),
            location: "pos-1".into(),
            from: "shelf-a1".into(),
        }],
        EventKind::TagReturned => vec![EventBody::TagReturned {
            epc: EPC.into(),
            sku: sku(),
            location: "shelf-a1".into(),
        }],
        EventKind::StockChanged => vec![EventBody::StockChanged {
            location: "shelf-a1".into(),
            sku: sku(),
            delta: -2,
            count: 0,
        }],
        EventKind::AlertExit => vec![EventBody::AlertExit {
            epc: EPC.into(),
            sku: sku(),
            location: "exit-1".into(),
            from: "shelf-a1".into(),
        }],
        EventKind::AlertLowStock => vec![EventBody::AlertLowStock {
            location: "shelf-a1".into(),
            sku: sku(),
            count: 1,
            threshold: 3,
        }],
        EventKind::AlertStockoutForecast => vec![EventBody::AlertStockoutForecast {
            location: "shelf-a1".into(),
            sku: sku(),
            count: 14,
            threshold: 10,
            rate_per_hour: shelfd_core::events::PerHour::from_milli(12_500),
            below_safety_at: "2026-11-22T10:24:00.000Z".into(),
        }],
        EventKind::AlertMisplaced => vec![EventBody::AlertMisplaced {
            epc: EPC.into(),
            sku: sku(),
            location: "shelf-b1".into(),
            expected: vec!["shelf-a1".into()],
        }],
        EventKind::ReaderStatus => [ReaderState::Online, ReaderState::Offline]
            .into_iter()
            .map(|state| EventBody::ReaderStatus {
                reader: "r1".into(),
                state,
                since: "2026-11-22T09:00:00.000Z".into(),
            })
            .collect(),
        EventKind::DockReceipt => ReceiptStatus::ALL
            .into_iter()
            .map(|status| EventBody::DockReceipt {
                dock: "dock-1".into(),
                shipment: Some("SHP-7".into()),
                status,
                expected: 2,
                received: 1,
                missing: vec![EPC.into()],
                unexpected: vec![],
                by_sku: BTreeMap::from([(
                    "80614141123458".to_string(),
                    SkuTally {
                        expected: 2,
                        received: 1,
                    },
                )]),
                truncated: status == ReceiptStatus::Mismatch,
            })
            .collect(),
    }
}

fn event_json(body: EventBody, seq: u64) -> Value {
    let payload = Event {
        seq,
        time_ms: 1_795_341_600_000,
        body,
    }
    .to_json(&origin());
    serde_json::from_str(&payload).expect("events are JSON")
}

#[test]
fn every_event_kind_has_a_schema_and_an_asyncapi_message() {
    let schemas: Vec<String> = contract().schemas().map(str::to_owned).collect();
    let doc = asyncapi();
    let kinds_in_channel: Vec<&str> = doc["channels"]["event"]["parameters"]["type"]["enum"]
        .as_array()
        .expect("event channel lists its types")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let messages: Vec<&str> = doc["components"]["messages"]
        .as_object()
        .expect("components.messages")
        .values()
        .filter_map(|m| m["name"].as_str())
        .collect();
    for kind in EventKind::ALL {
        let file = format!("events/{kind}.json");
        assert!(
            schemas.contains(&file),
            "EventKind {kind} has no schema contract/schemas/{file}"
        );
        assert!(
            kinds_in_channel.contains(&kind.as_str()),
            "EventKind {kind} missing from the event channel's type enum in contract/asyncapi.yaml"
        );
        assert!(
            messages.contains(&kind.as_str()),
            "EventKind {kind} has no message in contract/asyncapi.yaml components"
        );
    }
    // And no schema for a kind the code does not know.
    for file in schemas.iter().filter(|f| f.starts_with("events/")) {
        let kind = file.trim_start_matches("events/").trim_end_matches(".json");
        assert!(
            kind.parse::<EventKind>().is_ok(),
            "contract/schemas/{file} names no EventKind"
        );
    }
}

#[test]
fn golden_payloads_of_every_kind_validate() {
    for kind in EventKind::ALL {
        for body in sample(kind) {
            let json = event_json(body, 7);
            check_payload(&json).unwrap_or_else(|e| panic!("{kind}: {e}"));
        }
    }
    let snapshot = StockSnapshot {
        location: "shelf-a1".into(),
        time_ms: 1_795_341_600_000,
        counts: [("80614141123458".to_string(), 3), ("null".to_string(), 1)].into(),
        baseline: true,
        as_of_seq: 0,
        forecast: Default::default(),
    };
    let json: Value = serde_json::from_str(&snapshot.to_json(&origin())).expect("json");
    check_payload(&json).expect("snapshot");
    // With a forecast: one SKU with both times, one with its rate only.
    let mut forecasting = snapshot.clone();
    forecasting.forecast = [
        (
            "80614141123458".to_string(),
            shelfd_core::events::SkuForecast {
                rate_per_hour: shelfd_core::events::PerHour::from_milli(2_500),
                empty_at: Some(1_795_345_200_000),
                below_safety_at: Some(1_795_343_400_000),
            },
        ),
        (
            "null".to_string(),
            shelfd_core::events::SkuForecast {
                rate_per_hour: shelfd_core::events::PerHour::from_milli(0),
                empty_at: None,
                below_safety_at: None,
            },
        ),
    ]
    .into();
    let json: Value = serde_json::from_str(&forecasting.to_json(&origin())).expect("json");
    assert!(json.get("forecast").is_some(), "{json}");
    check_payload(&json).expect("snapshot with a forecast");
    let mut status = StatusDoc::new("s042", "gw-1", "0a1b2c", 1_795_341_600_000);
    status.outbox.dropped = 3;
    for state in [Presence::Online, Presence::Offline] {
        let json: Value = serde_json::from_str(&status.to_json(state)).expect("json");
        check_payload(&json).unwrap_or_else(|e| panic!("status {state:?}: {e}"));
    }
    let ok = CommandResult::ok(
        "resync",
        "c1",
        serde_json::Map::from_iter([("snapshots".to_string(), json!(4))]),
    );
    let bad = CommandResult::error("ping", &parse("ping", b"[1]").expect_err("rejected"));
    for result in [ok, bad] {
        let json: Value = serde_json::from_str(&result.to_json()).expect("json");
        check_payload(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
    }
}

/// What a broken payload lacks, and how to break it.
type Breakage = (&'static str, fn(&mut Value));

#[test]
fn schemas_allow_additive_fields_and_reject_broken_payloads() {
    let good = event_json(sample(EventKind::StockChanged).remove(0), 9);
    // v1 is additive: an unknown field (a forecast, say) is fine.
    let mut added = good.clone();
    added["forecast"] = json!({"rate": 1.5});
    check_payload(&added).expect("additive field");
    // What a consumer relies on is enforced.
    let broken: [Breakage; 7] = [
        ("no seq", |v| {
            v.as_object_mut().expect("object").remove("seq");
        }),
        ("seq 0", |v| v["seq"] = json!(0)),
        ("v 2", |v| v["v"] = json!(2)),
        ("negative count", |v| v["count"] = json!(-1)),
        ("time without ms", |v| {
            v["time"] = json!("2026-11-22T10:00:00Z")
        }),
        ("sku missing", |v| {
            v.as_object_mut().expect("object").remove("sku");
        }),
        ("delta as text", |v| v["delta"] = json!("-2")),
    ];
    for (what, breakit) in broken {
        let mut v = good.clone();
        breakit(&mut v);
        assert!(
            check_payload(&v).is_err(),
            "{what} should not validate: {v}"
        );
    }
    let mut epc = event_json(sample(EventKind::TagArrived).remove(0), 1);
    epc["epc"] = json!("3074257BF7194E4000001A85");
    assert!(check_payload(&epc).is_err(), "uppercase EPC: {epc}");
    let snapshot = json!({"v":1,"type":"stock.snapshot","store":"s","gateway":"g",
        "time":"2026-11-22T10:00:00.000Z","location":"a","counts":{"x":1},"baseline":false});
    assert!(
        check_payload(&snapshot).is_err(),
        "snapshot without as_of_seq"
    );
    let online = json!({"v":1,"type":"status","store":"s","gateway":"g","state":"online",
        "version":"0.1.0","boot_id":"b","started_at":"2026-11-22T10:00:00.000Z"});
    assert!(
        check_payload(&online).is_err(),
        "online status without outbox"
    );
}

#[test]
fn command_schemas_match_what_the_gateway_accepts() {
    let contract = contract();
    let cases: &[(&str, Value)] = &[
        ("ping", json!({"id": "q1"})),
        ("resync", json!({"id": "central-resync-1"})),
        (
            "asn",
            json!({"id": "c1", "shipment": "SHP-7", "dock": "dock-1", "epcs": [EPC]}),
        ),
        (
            "asn",
            json!({"id": "c2", "shipment": "SHP-8", "dock": "dock-1",
                "lines": [{"sku": "00614141000012", "qty": 24}]}),
        ),
        ("ping", json!({"id": "q1", "x": 1})),
        ("resync", json!({})),
        (
            "asn",
            json!({"id": "c3", "shipment": "SHP-9", "dock": "dock-1"}),
        ),
    ];
    for (op, body) in cases {
        let schema_ok = contract
            .validate(&format!("commands/{op}.json"), body)
            .is_ok();
        let gateway_ok = parse(op, body.to_string().as_bytes()).is_ok();
        assert_eq!(
            schema_ok, gateway_ok,
            "cmd/{op} {body}: schema says {schema_ok}, the gateway's parser says {gateway_ok}"
        );
    }
}

fn asyncapi() -> Value {
    let text = std::fs::read_to_string(contract_dir().join("asyncapi.yaml"))
        .expect("contract/asyncapi.yaml");
    serde_yaml::from_str(&text).expect("asyncapi.yaml is YAML")
}

#[test]
fn asyncapi_document_validates_against_the_official_schema() {
    let official: Value = serde_json::from_str(
        &std::fs::read_to_string(contract_dir().join("asyncapi-3.0.0.schema.json"))
            .expect("the official AsyncAPI 3.0.0 schema is kept in contract/"),
    )
    .expect("official schema is JSON");
    let validator = jsonschema::validator_for(&official).expect("official schema compiles");
    let doc = asyncapi();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "asyncapi.yaml: {}", errors.join("\n"));
    assert_eq!(doc["asyncapi"], "3.0.0");
    // The official schema does check itself: a broken document fails.
    let mut broken = doc.clone();
    broken["channels"]["event"]["address"] = json!(42);
    assert!(
        validator.validate(&broken).is_err(),
        "a numeric address must fail"
    );
    // Every payload it references exists under contract/.
    let schemas: Vec<String> = contract().schemas().map(str::to_owned).collect();
    for (name, message) in doc["components"]["messages"].as_object().expect("messages") {
        let r = message["payload"]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("message {name} has no payload $ref"));
        let rel = r.trim_start_matches("./schemas/");
        assert!(
            schemas.iter().any(|s| s == rel),
            "message {name}: {r} does not exist"
        );
    }
    // Every channel's operations carry the MQTT QoS 1 binding, retained exactly where the
    // contract says.
    for (op, retained) in [
        ("publishEvent", false),
        ("publishSnapshot", true),
        ("publishStatus", true),
        ("publishCommandResult", false),
        ("publishEpcis", false),
        ("receiveCommand", false),
    ] {
        let mqtt = &doc["operations"][op]["bindings"]["mqtt"];
        assert_eq!(mqtt["qos"], 1, "{op}");
        assert_eq!(mqtt["retain"], retained, "{op}");
    }
}
