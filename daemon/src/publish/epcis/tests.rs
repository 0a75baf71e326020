//! Golden documents for every mapped event type, a validator of the EPCIS 2.0 rules the
//! documents must follow (required fields, CBV 2.0 vocabulary as bare words, identifiers), and
//! a whole simulated store day through the real engine checked against it.

use super::*;
use proptest::prelude::*;
use serde_json::{Value, json};
use shelfd_core::events::ReaderState;

const CONFIG: &str = r#"
[gateway]
store = "s1"
id = "gw-1"

[[reader]]
id = "r1"
protocol = "line"
port = "/dev/ttyUSB0"
antennas = { 1 = "shelf-a", 2 = "shelf-b", 3 = "backroom", 4 = "dock-1", 5 = "pos-1", 6 = "exit-1" }

[[location]]
id = "shelf-a"
kind = "shelf"
sgln = "urn:epc:id:sgln:0614141.00001.0"

[[location]]
id = "shelf-b"
kind = "shelf"

[[location]]
id = "backroom"
kind = "backroom"

[[location]]
id = "dock-1"
kind = "dock"

[[location]]
id = "pos-1"
kind = "pos"

[[location]]
id = "exit-1"
kind = "exit"

[[dock]]
id = "door-1"
location = "dock-1"

[reconcile]
baseline_window = "0s"
sold_hold_off = "1m"
settle_quiet = "1s"
settle_max = "2s"

[epcis]
enabled = true
time_zone_offset = "+01:00"
location_uri_prefix = "https://id.example.com/s1/loc/"
shipment_uri_prefix = "https://id.example.com/asn/"
"#;

/// 2026-11-22T10:00:00.000Z
const T: u64 = 1_795_341_600_000;
const EPC: &str = "3074257bf7194e4000001a85";
const EPC_URI: &str = "urn:epc:id:sgtin:0614141.812345.6789";
const SHELF_A: &str = "urn:epc:id:sgln:0614141.00001.0";
const SHELF_B: &str = "https://id.example.com/s1/loc/shelf-b";
const BACKROOM: &str = "https://id.example.com/s1/loc/backroom";
const DOCK: &str = "https://id.example.com/s1/loc/dock-1";
const POS: &str = "https://id.example.com/s1/loc/pos-1";

fn config() -> Config {
    match crate::config::parse(CONFIG, std::path::Path::new("shelfd.toml")) {
        Ok(c) => c,
        Err(e) => panic!("test config:\n{e}"),
    }
}

fn mapping() -> EpcisMapping {
    EpcisMapping::from_config(&config())
        .expect("locations resolve")
        .expect("enabled")
}

fn payload(seq: u64, body: EventBody) -> String {
    let origin = Origin {
        store: "s1".into(),
        gateway: "gw-1".into(),
    };
    Event {
        seq,
        time_ms: T,
        body,
    }
    .to_json(&origin)
}

/// The document of `payload`, checked by the validator, as JSON.
fn document(payload: &str) -> Value {
    let doc = mapping()
        .document(payload.as_bytes())
        .expect("maps")
        .expect("has a document");
    if let Err(e) = validate(&doc) {
        panic!("{e}\n{doc}");
    }
    serde_json::from_str(&doc).expect("json")
}

/// The whole document around one golden ObjectEvent.
fn wrap(event: Value) -> Value {
    json!({
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-22T10:00:00.000Z",
        "epcisBody": { "eventList": [event] }
    })
}

/// The fields every golden event shares, plus `rest`.
fn event(seq: u64, rest: Value) -> Value {
    let mut e = json!({
        "type": "ObjectEvent",
        "eventTime": "2026-11-22T10:00:00.000Z",
        "eventTimeZoneOffset": "+01:00",
        "eventID": event_id::event_id("s1", "gw-1", seq),
        "action": "OBSERVE",
    });
    let (Value::Object(e_map), Value::Object(rest)) = (&mut e, rest) else {
        panic!("objects");
    };
    e_map.extend(rest);
    e
}

// ---- golden documents --------------------------------------------------------------------------

#[test]
fn arrivals_by_location_kind() {
    let arrived = |seq, location: &str| {
        document(&payload(
            seq,
            EventBody::TagArrived {
                epc: EPC.into(),
                sku: Some("80614141123458".into()),
                location: location.into(),
            },
        ))
    };
    let golden = |seq, step: &str, disp: &str, at: &str| {
        wrap(event(
            seq,
            json!({
                "epcList": [EPC_URI],
                "bizStep": step,
                "disposition": disp,
                "readPoint": { "id": at },
                "bizLocation": { "id": at },
            }),
        ))
    };
    assert_eq!(
        arrived(1, "shelf-a"),
        golden(1, "stocking", "sellable_accessible", SHELF_A)
    );
    assert_eq!(
        arrived(2, "backroom"),
        golden(2, "storing", "sellable_not_accessible", BACKROOM)
    );
    assert_eq!(
        arrived(3, "dock-1"),
        golden(3, "arriving", "in_progress", DOCK)
    );
}

#[test]
fn a_move_names_both_locations() {
    let doc = document(&payload(
        4,
        EventBody::TagMoved {
            epc: EPC.into(),
            sku: None,
            from: "backroom".into(),
            to: "shelf-b".into(),
        },
    ));
    assert_eq!(
        doc,
        wrap(event(
            4,
            json!({
                "epcList": [EPC_URI],
                "bizStep": "stocking",
                "disposition": "sellable_accessible",
                "readPoint": { "id": SHELF_B },
                "bizLocation": { "id": SHELF_B },
                "sourceList": [{ "type": "location", "source": BACKROOM }],
                "destinationList": [{ "type": "location", "destination": SHELF_B }],
            })
        ))
    );
}

#[test]
fn a_sale_at_the_pos_has_no_business_location_after_it() {
    let doc = document(&payload(
        5,
        EventBody::TagSold {
            epc: EPC.into(),
            sku: Some("80614141123458".into()),
            location: "pos-1".into(),
            from: "shelf-a".into(),
        },
    ));
    assert_eq!(
        doc,
        wrap(event(
            5,
            json!({
                "epcList": [EPC_URI],
                "bizStep": "retail_selling",
                "disposition": "retail_sold",
                "readPoint": { "id": POS },
                "sourceList": [{ "type": "location", "source": SHELF_A }],
            })
        ))
    );
}

#[test]
fn a_return_is_received_back_as_returned() {
    let doc = document(&payload(
        6,
        EventBody::TagReturned {
            epc: EPC.into(),
            sku: Some("80614141123458".into()),
            location: "shelf-b".into(),
        },
    ));
    assert_eq!(
        doc,
        wrap(event(
            6,
            json!({
                "epcList": [EPC_URI],
                "bizStep": "receiving",
                "disposition": "returned",
                "readPoint": { "id": SHELF_B },
                "bizLocation": { "id": SHELF_B },
            })
        ))
    );
}

#[test]
fn departures_missing_and_through_the_exit() {
    let departed = |seq, cause| {
        document(&payload(
            seq,
            EventBody::TagDeparted {
                epc: EPC.into(),
                sku: None,
                from: "shelf-a".into(),
                last_seen: "2026-11-22T09:58:00.000Z".into(),
                cause,
            },
        ))
    };
    assert_eq!(
        departed(7, DepartCause::Missing),
        wrap(event(
            7,
            json!({
                "epcList": [EPC_URI],
                "bizStep": "cycle_counting",
                "disposition": "unknown",
                "readPoint": { "id": SHELF_A },
                "sourceList": [{ "type": "location", "source": SHELF_A }],
            })
        ))
    );
    // A weighed pick on a shelf-node lane is observed like a missed re-read.
    assert_eq!(
        departed(9, DepartCause::Picked),
        wrap(event(
            9,
            json!({
                "epcList": [EPC_URI],
                "bizStep": "cycle_counting",
                "disposition": "unknown",
                "readPoint": { "id": SHELF_A },
                "sourceList": [{ "type": "location", "source": SHELF_A }],
            })
        ))
    );
    assert_eq!(
        departed(8, DepartCause::Exit),
        wrap(event(
            8,
            json!({
                "epcList": [EPC_URI],
                "bizStep": "departing",
                "disposition": "unknown",
                "sourceList": [{ "type": "location", "source": SHELF_A }],
            })
        ))
    );
}

/// A `dock.receipt` payload in DESIGN.md's shape, envelope first as the engine writes it (the
/// variant itself is added to the engine separately).
fn receipt(seq: u64, status: &str, missing: &[&str], unexpected: &[&str], by_sku: Value) -> String {
    format!(
        r#"{{"v":1,"type":"dock.receipt","store":"s1","gateway":"gw-1","seq":{seq},"time":"2026-11-22T10:00:00.000Z","dock":"door-1","shipment":"ASN 42/7","status":{},"expected":5,"received":4,"missing":{},"unexpected":{},"by_sku":{}}}"#,
        json!(status),
        json!(missing),
        json!(unexpected),
        by_sku
    )
}

#[test]
fn a_dock_receipt_counts_classes_and_lists_unexpected_instances() {
    let unexpected_epc = "3074257bf7194e4000001a86";
    let p = receipt(
        9,
        "mismatch",
        &["3074257bf7194e4000001a87"],
        &[unexpected_epc],
        json!({
            "80614141123458": { "expected": 3, "received": 2 },
            "00614141123452": { "expected": 2, "received": 2 },
            "10614141123459": { "expected": 1, "received": 0 },
            "LOCAL-123": { "expected": 1, "received": 1 },
        }),
    );
    assert_eq!(
        document(&p),
        wrap(event(
            9,
            json!({
                "epcList": ["urn:epc:id:sgtin:0614141.812345.6790"],
                "quantityList": [
                    { "epcClass": "https://id.gs1.org/01/00614141123452", "quantity": 2 },
                    { "epcClass": "https://id.gs1.org/01/80614141123458", "quantity": 2 },
                ],
                "bizStep": "receiving",
                "disposition": "in_progress",
                "readPoint": { "id": DOCK },
                "bizLocation": { "id": DOCK },
                "bizTransactionList": [
                    { "type": "desadv", "bizTransaction": "https://id.example.com/asn/ASN%2042%2F7" }
                ],
            })
        ))
    );
    // Nothing read at all: still a receiving event, with an empty epcList.
    let empty = receipt(
        10,
        "short",
        &[EPC],
        &[],
        json!({ "80614141123458": { "expected": 1, "received": 0 } }),
    );
    let doc = document(&empty);
    let e = &doc["epcisBody"]["eventList"][0];
    assert_eq!(e["epcList"], json!([]));
    assert_eq!(e.get("quantityList"), None);
    assert_eq!(e["bizStep"], "receiving");
    // No ASN was open (shipment null): everything read is unexpected, and there is no
    // business transaction to name.
    let none = receipt(11, "over", &[], &[unexpected_epc], json!({}))
        .replace(r#""shipment":"ASN 42/7""#, r#""shipment":null"#);
    assert_eq!(
        document(&none),
        wrap(event(
            11,
            json!({
                "epcList": ["urn:epc:id:sgtin:0614141.812345.6790"],
                "bizStep": "receiving",
                "disposition": "in_progress",
                "readPoint": { "id": DOCK },
                "bizLocation": { "id": DOCK },
            })
        ))
    );
}

#[test]
fn events_without_an_epcis_meaning_have_no_document() {
    let m = mapping();
    let none = |p: String| assert_eq!(m.document(p.as_bytes()), Ok(None), "{p}");
    none(payload(
        1,
        EventBody::StockChanged {
            location: "shelf-a".into(),
            sku: Some("80614141123458".into()),
            delta: 2,
            count: 5,
        },
    ));
    none(payload(
        2,
        EventBody::AlertExit {
            epc: EPC.into(),
            sku: None,
            location: "exit-1".into(),
            from: "shelf-a".into(),
        },
    ));
    none(payload(
        3,
        EventBody::ReaderStatus {
            reader: "r1".into(),
            state: ReaderState::Online,
            since: "2026-11-22T10:00:00.000Z".into(),
        },
    ));
    none(payload(
        4,
        EventBody::AlertLowStock {
            location: "shelf-a".into(),
            sku: Some("80614141123458".into()),
            count: 1,
            threshold: 2,
        },
    ));
    none(payload(
        5,
        EventBody::AlertMisplaced {
            epc: EPC.into(),
            sku: None,
            location: "shelf-b".into(),
            expected: vec!["shelf-a".into()],
        },
    ));
    none(payload(
        6,
        EventBody::AlertStockoutForecast {
            location: "shelf-a".into(),
            sku: Some("80614141123458".into()),
            count: 12,
            threshold: 10,
            rate_per_hour: shelfd_core::events::PerHour::from_milli(30_000),
            below_safety_at: "2026-11-22T10:06:00.000Z".into(),
        },
    ));
    // Not events of the contract: read as typed events, they are errors, not documents.
    for kind in ["stock.snapshot", "some.future_type"] {
        let p = format!(
            r#"{{"v":1,"type":"{kind}","store":"s1","gateway":"gw-1","seq":4,"time":"2026-11-22T10:00:00.000Z"}}"#
        );
        assert!(
            matches!(m.document(p.as_bytes()), Err(EpcisError::Payload(_))),
            "{p}"
        );
    }
}

#[test]
fn has_document_is_what_the_mapping_does_for_every_kind() {
    let m = mapping();
    let origin = Origin {
        store: "s1".into(),
        gateway: "gw-1".into(),
    };
    let bodies = [
        EventBody::TagArrived {
            epc: EPC.into(),
            sku: None,
            location: "shelf-a".into(),
        },
        EventBody::TagMoved {
            epc: EPC.into(),
            sku: None,
            from: "shelf-a".into(),
            to: "shelf-b".into(),
        },
        EventBody::TagDeparted {
            epc: EPC.into(),
            sku: None,
            from: "shelf-a".into(),
            last_seen: "2026-11-22T10:00:00.000Z".into(),
            cause: DepartCause::Picked,
        },
        EventBody::TagSold {
            epc: EPC.into(),
            sku: None,
            location: "pos-1".into(),
            from: "shelf-a".into(),
        },
        EventBody::TagReturned {
            epc: EPC.into(),
            sku: None,
            location: "shelf-a".into(),
        },
        EventBody::StockChanged {
            location: "shelf-a".into(),
            sku: None,
            delta: 1,
            count: 1,
        },
        EventBody::AlertExit {
            epc: EPC.into(),
            sku: None,
            location: "exit-1".into(),
            from: "shelf-a".into(),
        },
        EventBody::AlertLowStock {
            location: "shelf-a".into(),
            sku: None,
            count: 0,
            threshold: 1,
        },
        EventBody::AlertMisplaced {
            epc: EPC.into(),
            sku: None,
            location: "shelf-a".into(),
            expected: vec![],
        },
        EventBody::AlertStockoutForecast {
            location: "shelf-a".into(),
            sku: None,
            count: 12,
            threshold: 10,
            rate_per_hour: shelfd_core::events::PerHour::from_milli(30_000),
            below_safety_at: "2026-11-22T10:06:00.000Z".into(),
        },
        EventBody::ReaderStatus {
            reader: "r1".into(),
            state: ReaderState::Offline,
            since: "2026-11-22T10:00:00.000Z".into(),
        },
        EventBody::DockReceipt {
            dock: "door-1".into(),
            shipment: None,
            status: shelfd_core::events::ReceiptStatus::Complete,
            expected: 0,
            received: 0,
            missing: vec![],
            unexpected: vec![],
            by_sku: Default::default(),
            truncated: false,
        },
    ];
    let kinds: Vec<EventKind> = bodies.iter().map(EventBody::kind).collect();
    assert_eq!(kinds, EventKind::ALL, "one body of every kind, in order");
    for body in bodies {
        let kind = body.kind();
        let event = Event {
            seq: 1,
            time_ms: T,
            body,
        };
        let document = m.event_document(&origin, &event).expect("maps");
        assert_eq!(document.is_some(), has_document(kind), "{kind}");
        assert_eq!(MAPPED_TYPES.contains(&kind), has_document(kind), "{kind}");
        // The publisher's path (the payload read back) gives the same bytes.
        assert_eq!(
            m.document(event.to_json(&origin).as_bytes()),
            Ok(document),
            "{kind}"
        );
    }
}

#[test]
fn undecodable_and_plus_epcs_get_raw_and_digital_link_uris() {
    let m = mapping();
    let epc_of = |epc: &str| {
        let p = payload(
            1,
            EventBody::TagArrived {
                epc: epc.into(),
                sku: None,
                location: "shelf-a".into(),
            },
        );
        let doc = m.document(p.as_bytes()).expect("maps").expect("document");
        validate(&doc).unwrap_or_else(|e| panic!("{e}"));
        let v: Value = serde_json::from_str(&doc).expect("json");
        v["epcisBody"]["eventList"][0]["epcList"][0].clone()
    };
    assert_eq!(
        epc_of("e2801160600002054e3a7a2b"),
        "urn:epc:raw:96.xE2801160600002054E3A7A2B"
    );
    // SGTIN+ from TDS 2.3 annex E.3 (GS1.md §7): no company-prefix length, so a Digital Link.
    assert_eq!(
        epc_of("f73795211411234538566cb0afc4"),
        "https://id.gs1.org/01/79521141123453/21/32a%2Fb"
    );
}

#[test]
fn bad_payloads_are_errors_naming_the_problem() {
    let m = mapping();
    let arrived_at = |location: &str, epc: &str| {
        payload(
            11,
            EventBody::TagArrived {
                epc: epc.into(),
                sku: None,
                location: location.into(),
            },
        )
    };
    assert_eq!(
        m.document(arrived_at("shelf-z", EPC).as_bytes()),
        Err(EpcisError::UnknownLocation {
            kind: EventKind::TagArrived,
            seq: 11,
            location: "shelf-z".into()
        })
    );
    assert_eq!(
        m.document(arrived_at("shelf-a", "30f").as_bytes())
            .map_err(|e| e.to_string()),
        Err(r#"tag.arrived seq 11: EPC "30f" is not hex of whole 16-bit words"#.into())
    );
    let wrong_dock = receipt(12, "complete", &[], &[], json!({})).replace("door-1", "door-9");
    assert_eq!(
        m.document(wrong_dock.as_bytes()).map_err(|e| e.to_string()),
        Err(r#"dock.receipt seq 12: dock "door-9" is not in the config"#.into())
    );
    let no_epc = r#"{"v":1,"type":"tag.sold","store":"s1","gateway":"gw-1","seq":1,"time":"2026-11-22T10:00:00.000Z","location":"pos-1","from":"shelf-a"}"#;
    assert!(
        matches!(m.document(no_epc.as_bytes()), Err(EpcisError::Payload(e)) if e.to_string().contains("missing field `epc`"))
    );
    let bad_time = arrived_at("shelf-a", EPC).replace("2026-11-22T10:00:00.000Z", "yesterday");
    assert!(matches!(
        m.document(bad_time.as_bytes()),
        Err(EpcisError::Payload(PayloadError::Time { time })) if time == "yesterday"
    ));
    assert!(m.document(b"not json").is_err());
}

#[test]
fn a_location_without_a_uri_is_a_setup_error() {
    let text = CONFIG.replace(
        "location_uri_prefix = \"https://id.example.com/s1/loc/\"\n",
        "",
    );
    let disabled = text.replace("enabled = true", "enabled = false");
    let config = crate::config::parse(&disabled, std::path::Path::new("shelfd.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(EpcisMapping::from_config(&config), Ok(None));
    assert_eq!(
        EpcisMapping::new(&config).map_err(|e| e.to_string()),
        Err(
            "[epcis]: locations \"shelf-b\", \"backroom\", \"dock-1\", \"pos-1\", \"exit-1\" have no EPCIS location URI: \
             set [epcis] location_uri_prefix or the locations' sgln"
                .into()
        )
    );
}

proptest! {
    #[test]
    fn arbitrary_payloads_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = mapping().document(&bytes);
    }

    #[test]
    fn mangled_event_payloads_never_panic(cut in 0usize..200, insert in "\\PC{0,6}") {
        let p = payload(3, EventBody::TagMoved {
            epc: EPC.into(), sku: None, from: "shelf-a".into(), to: "backroom".into(),
        });
        let cut = cut.min(p.len());
        let mangled = match (p.get(..cut), p.get(cut..)) {
            (Some(a), Some(b)) => format!("{a}{insert}{b}"),
            _ => p.clone(),
        };
        if let Ok(Some(doc)) = mapping().document(mangled.as_bytes()) {
            prop_assert!(validate(&doc).is_ok(), "{doc}");
        }
    }
}

// ---- the validator ---------------------------------------------------------------------------

/// CBV 2.0 business steps (the EPCIS 2.0 JSON schema's enum, GS1.md §9.4).
const CBV_BIZ_STEPS: &[&str] = &[
    "accepting",
    "arriving",
    "assembling",
    "collecting",
    "commissioning",
    "consigning",
    "creating_class_instance",
    "cycle_counting",
    "decommissioning",
    "departing",
    "destroying",
    "disassembling",
    "dispensing",
    "encoding",
    "entering_exiting",
    "holding",
    "inspecting",
    "installing",
    "killing",
    "loading",
    "other",
    "packing",
    "picking",
    "receiving",
    "removing",
    "repackaging",
    "repairing",
    "replacing",
    "reserving",
    "retail_selling",
    "sampling",
    "sensor_reporting",
    "shipping",
    "staging_outbound",
    "stock_taking",
    "stocking",
    "storing",
    "transporting",
    "unloading",
    "unpacking",
    "void_shipping",
];

/// CBV 2.0 dispositions (the EPCIS 2.0 JSON schema's enum, GS1.md §9.4).
const CBV_DISPOSITIONS: &[&str] = &[
    "active",
    "available",
    "completeness_inferred",
    "completeness_verified",
    "conformant",
    "container_closed",
    "container_open",
    "damaged",
    "destroyed",
    "dispensed",
    "disposed",
    "encoded",
    "expired",
    "in_progress",
    "in_transit",
    "inactive",
    "mismatch_class",
    "mismatch_instance",
    "mismatch_quantity",
    "needs_replacement",
    "no_pedigree_match",
    "non_conformant",
    "non_sellable_other",
    "partially_dispensed",
    "recalled",
    "reserved",
    "retail_sold",
    "returned",
    "sellable_accessible",
    "sellable_not_accessible",
    "stolen",
    "unavailable",
    "unknown",
];

#[test]
fn the_declared_vocabulary_is_cbv_2_0() {
    for step in BizStep::ALL {
        assert!(CBV_BIZ_STEPS.contains(&step.as_str()), "{step:?}");
    }
    for disposition in Disposition::ALL {
        assert!(
            CBV_DISPOSITIONS.contains(&disposition.as_str()),
            "{disposition:?}"
        );
    }
}

fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        && !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"\"<>\\^`{|}".contains(&b))
}

fn uri_field(v: &Value, what: &str) -> Result<(), String> {
    match v.as_str() {
        Some(s) if is_uri(s) => Ok(()),
        _ => Err(format!("{what}: not a URI: {v}")),
    }
}

fn only_keys(v: &Value, allowed: &[&str], what: &str) -> Result<(), String> {
    let map = v
        .as_object()
        .ok_or_else(|| format!("{what}: not an object"))?;
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("{what}: key {k:?} is not allowed")),
        None => Ok(()),
    }
}

fn one_id(v: &Value, what: &str) -> Result<(), String> {
    only_keys(v, &["id"], what)?;
    uri_field(&v["id"], what)
}

/// Checks what an EPCIS 2.0 JSON document of shelfd must satisfy (see the module docs of the
/// mapping): the document's required fields, and for each ObjectEvent its required fields,
/// bare CBV 2.0 words that shelfd declared, URIs and shapes, and no undeclared keys.
fn validate(text: &str) -> Result<(), String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    only_keys(
        &doc,
        &[
            "@context",
            "type",
            "schemaVersion",
            "creationDate",
            "epcisBody",
        ],
        "document",
    )?;
    let context = doc["@context"].as_array().ok_or("@context: not an array")?;
    if !context.iter().any(|c| c == CONTEXT) {
        return Err(format!("@context lacks {CONTEXT}"));
    }
    if doc["type"] != "EPCISDocument" {
        return Err(format!("type: {}", doc["type"]));
    }
    if doc["schemaVersion"] != "2.0" {
        return Err(format!("schemaVersion: {}", doc["schemaVersion"]));
    }
    let created = doc["creationDate"].as_str().unwrap_or_default();
    if shelfd_core::timefmt::parse_rfc3339_ms(created).is_none() {
        return Err(format!("creationDate: {created:?}"));
    }
    only_keys(&doc["epcisBody"], &["eventList"], "epcisBody")?;
    let events = doc["epcisBody"]["eventList"]
        .as_array()
        .filter(|l| !l.is_empty())
        .ok_or("eventList: not a non-empty array")?;
    for e in events {
        validate_event(e)?;
    }
    Ok(())
}

fn validate_event(e: &Value) -> Result<(), String> {
    only_keys(
        e,
        &[
            "type",
            "eventTime",
            "eventTimeZoneOffset",
            "eventID",
            "epcList",
            "quantityList",
            "action",
            "bizStep",
            "disposition",
            "readPoint",
            "bizLocation",
            "bizTransactionList",
            "sourceList",
            "destinationList",
        ],
        "event",
    )?;
    if e["type"] != "ObjectEvent" {
        return Err(format!("event type: {}", e["type"]));
    }
    let time = e["eventTime"].as_str().unwrap_or_default();
    if shelfd_core::timefmt::parse_rfc3339_ms(time).is_none() {
        return Err(format!("eventTime: {time:?}"));
    }
    let offset = e["eventTimeZoneOffset"].as_str().unwrap_or_default();
    crate::config::check_time_zone_offset(offset)?;
    let id = e["eventID"].as_str().unwrap_or_default();
    let uuid = id
        .strip_prefix("urn:uuid:")
        .ok_or_else(|| format!("eventID: {id:?}"))?;
    let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
    if groups != [8, 4, 4, 4, 12] || !uuid.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()) {
        return Err(format!("eventID: {id:?}"));
    }
    if !["ADD", "OBSERVE", "DELETE"].contains(&e["action"].as_str().unwrap_or_default()) {
        return Err(format!("action: {}", e["action"]));
    }
    let step = e["bizStep"].as_str().unwrap_or_default();
    if !BizStep::ALL.iter().any(|s| s.as_str() == step) || !CBV_BIZ_STEPS.contains(&step) {
        return Err(format!("bizStep: {step:?} is not a declared CBV 2.0 word"));
    }
    let disp = e["disposition"].as_str().unwrap_or_default();
    if !Disposition::ALL.iter().any(|d| d.as_str() == disp) || !CBV_DISPOSITIONS.contains(&disp) {
        return Err(format!(
            "disposition: {disp:?} is not a declared CBV 2.0 word"
        ));
    }
    if e.get("epcList").is_none() && e.get("quantityList").is_none() {
        return Err("neither epcList nor quantityList".into());
    }
    if let Some(list) = e.get("epcList") {
        let list = list.as_array().ok_or("epcList: not an array")?;
        for (i, epc) in list.iter().enumerate() {
            uri_field(epc, "epcList")?;
            if list[..i].contains(epc) {
                return Err(format!("epcList: {epc} twice"));
            }
        }
    }
    if let Some(list) = e.get("quantityList") {
        let list = list
            .as_array()
            .filter(|l| !l.is_empty())
            .ok_or("quantityList: not a non-empty array")?;
        for q in list {
            only_keys(q, &["epcClass", "quantity", "uom"], "quantityElement")?;
            uri_field(&q["epcClass"], "epcClass")?;
            if !q["quantity"].as_f64().is_some_and(|n| n > 0.0) {
                return Err(format!("quantity: {}", q["quantity"]));
            }
        }
    }
    for key in ["readPoint", "bizLocation"] {
        if let Some(v) = e.get(key) {
            one_id(v, key)?;
        }
    }
    for (key, field) in [("sourceList", "source"), ("destinationList", "destination")] {
        for item in e.get(key).and_then(Value::as_array).into_iter().flatten() {
            only_keys(item, &["type", field], key)?;
            if !["owning_party", "possessing_party", "location"]
                .contains(&item["type"].as_str().unwrap_or_default())
            {
                return Err(format!("{key}: type {}", item["type"]));
            }
            uri_field(&item[field], key)?;
        }
    }
    for item in e
        .get("bizTransactionList")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        only_keys(item, &["type", "bizTransaction"], "bizTransactionList")?;
        uri_field(&item["bizTransaction"], "bizTransaction")?;
    }
    Ok(())
}

#[test]
fn the_validator_rejects_what_epcis_2_0_rejects() {
    let good = mapping()
        .document(
            payload(
                1,
                EventBody::TagArrived {
                    epc: EPC.into(),
                    sku: None,
                    location: "shelf-a".into(),
                },
            )
            .as_bytes(),
        )
        .expect("maps")
        .expect("document");
    assert_eq!(validate(&good), Ok(()));
    let bad = |from: &str, to: &str| {
        assert!(good.contains(from), "{from}");
        let text = good.replace(from, to);
        assert!(validate(&text).is_err(), "accepted {text}");
    };
    bad(r#""schemaVersion":"2.0""#, r#""schemaVersion":"1.2""#);
    bad(
        r#""bizStep":"stocking""#,
        r#""bizStep":"urn:epcglobal:cbv:bizstep:stocking""#,
    );
    bad(r#""bizStep":"stocking""#, r#""bizStep":"returning""#);
    bad(
        r#""disposition":"sellable_accessible""#,
        r#""disposition":"on_shelf""#,
    );
    bad(
        r#""eventTimeZoneOffset":"+01:00""#,
        r#""eventTimeZoneOffset":"+1""#,
    );
    bad(r#""eventTime":"2026-11-22T10:00:00.000Z","#, "");
    bad(r#""action":"OBSERVE""#, r#""action":"SEEN""#);
    bad(r#""type":"EPCISDocument","#, "");
    bad(r#""epcList":["#, r#""shelfdSeq":1,"epcList":["#);
    bad(
        r#""readPoint":{"id":"urn"#,
        r#""readPoint":{"id":"not a uri","x":"urn"#,
    );
    bad(&format!(r#""epcList":["{EPC_URI}"]"#), r#""epcList":"x""#);
}

// ---- a whole store day through the real engine -------------------------------------------------

/// A read log where items arrive on shelves, in the backroom and at the dock, move, sell,
/// come back after the hold-off, leave through the exit and go missing.
fn store_day() -> String {
    use shelfd_core::sim::{StoreSim, TagProfile};
    let mut s = StoreSim::new(9, T);
    s.reader(
        "r1",
        500,
        &[
            (1, "shelf-a"),
            (2, "shelf-b"),
            (3, "backroom"),
            (4, "dock-1"),
            (5, "pos-1"),
            (6, "exit-1"),
        ],
        true,
    );
    let shelf = s.add_tags(6, 1, "shelf-a", TagProfile::SHELF);
    let back = s.add_tags(2, 2, "backroom", TagProfile::SHELF);
    s.add_tags(1, 3, "dock-1", TagProfile::SHELF);
    s.run_for(60_000);
    s.move_tag(&shelf[0], Some("shelf-b"));
    s.move_tag(&back[0], Some("shelf-b"));
    s.run_for(60_000);
    s.move_tag(&shelf[1], Some("pos-1"));
    s.run_for(4_000);
    s.move_tag(&shelf[1], None);
    s.move_tag(&shelf[2], Some("exit-1"));
    s.run_for(3_000);
    s.move_tag(&shelf[2], None);
    s.move_tag(&shelf[3], None);
    s.run_for(5 * 60_000);
    s.move_tag(&shelf[1], Some("shelf-b"));
    s.run_for(60_000);
    s.take_records()
        .iter()
        .map(|r| r.to_json_line() + "\n")
        .collect()
}

fn replay(format: &crate::replay::ReplayFormat) -> String {
    let es = crate::engine_store::EngineStore::open(&config(), crate::store::MemoryStore::new())
        .expect("engine");
    let mut out = Vec::new();
    crate::replay::run_formatted(es, "day", store_day().as_bytes(), format, &mut out)
        .expect("replay");
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn every_mappable_event_of_a_store_day_gets_one_valid_document_with_its_event_id() {
    let events = replay(&crate::replay::ReplayFormat::Json);
    let documents = replay(&crate::replay::ReplayFormat::Epcis(mapping()));
    assert_eq!(
        documents,
        replay(&crate::replay::ReplayFormat::Epcis(mapping())),
        "deterministic"
    );
    let mut expected = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for line in events.lines() {
        let e: Value = serde_json::from_str(line).expect("json");
        let Ok(kind) = e["type"].as_str().expect("type").parse::<EventKind>() else {
            // The retained snapshots that close a replay are state, not events.
            assert_eq!(e["type"], "stock.snapshot", "{line}");
            continue;
        };
        if !has_document(kind) {
            continue;
        }
        let seq = e["seq"].as_u64().expect("seq");
        expected.push(event_id::event_id("s1", "gw-1", seq));
        seen.insert(format!(
            "{kind} {}",
            e["cause"].as_str().unwrap_or_default()
        ));
    }
    let ids: Vec<String> = documents
        .lines()
        .map(|doc| {
            validate(doc).unwrap_or_else(|e| panic!("{e}\n{doc}"));
            let v: Value = serde_json::from_str(doc).expect("json");
            v["epcisBody"]["eventList"][0]["eventID"]
                .as_str()
                .expect("eventID")
                .to_owned()
        })
        .collect();
    assert_eq!(
        ids, expected,
        "one document per mappable event, in seq order"
    );
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [
            "dock.receipt ",
            "tag.arrived ",
            "tag.departed exit",
            "tag.departed missing",
            "tag.moved ",
            "tag.returned ",
            "tag.sold ",
        ],
        "the day covers every tag event kind and a receipt (the dock has no door sensor: its quiet rule ends a session):\n{events}"
    );
    assert!(!documents.contains("stock.snapshot"));
}
