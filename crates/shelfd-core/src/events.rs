//! Event payloads (JSON, version 1): the contract central systems consume over MQTT.
//!
//! Every event carries the envelope
//! `{"v":1,"type":…,"store":…,"gateway":…,"seq":N,"time":"…Z", …fields}`; `seq` is per gateway,
//! contiguous and survives restarts (it is assigned by the engine and persisted with the state
//! change that caused the event). `stock.snapshot` is retained state, not an event: it has no
//! `seq` of its own and carries `as_of_seq`, the last event seq it reflects.
//!
//! This module owns the payload shapes and their serialization. It never decides *when* an event
//! happens (that is [`crate::reconcile`]) and never publishes (that is the publisher).

use serde::Serialize;
use std::collections::BTreeMap;

/// Payload format version carried in every envelope as `v`.
pub const PAYLOAD_VERSION: u8 = 1;

/// A domain event before serialization: what happened and when (gateway time, ms).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Sequence number (per gateway, contiguous from 1).
    pub seq: u64,
    /// Gateway time of the event, ms since the Unix epoch.
    pub time_ms: u64,
    /// What happened.
    pub body: EventBody,
}

/// Why a tag left its location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DepartCause {
    /// It missed its expected re-reads on a reader that was alive.
    Missing,
    /// It was read leaving through an exit portal.
    Exit,
    /// Its shelf-node lane weighed a pick of its SKU and it stopped reading there (see
    /// `reconcile::lanes`): a departure corroborated by weight, without waiting for its missed
    /// re-reads.
    Picked,
}

/// State reported in `reader.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReaderState {
    /// Reading (or sending heartbeats).
    Online,
    /// Link down, or silent for longer than `reader_silence`.
    Offline,
}

/// Outcome of a dock receipt (`dock.receipt` `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// Everything expected was read and nothing else.
    Complete,
    /// Some expected items were not read; nothing unexpected was.
    Short,
    /// Everything expected was read, and items that were not expected too.
    Over,
    /// Items are missing and unexpected items were read.
    Mismatch,
}

impl ReceiptStatus {
    /// Every status.
    pub const ALL: [ReceiptStatus; 4] = [
        ReceiptStatus::Complete,
        ReceiptStatus::Short,
        ReceiptStatus::Over,
        ReceiptStatus::Mismatch,
    ];

    /// The status as the event's JSON spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptStatus::Complete => "complete",
            ReceiptStatus::Short => "short",
            ReceiptStatus::Over => "over",
            ReceiptStatus::Mismatch => "mismatch",
        }
    }

    /// The status for what is missing and what is unexpected.
    pub fn of(missing: bool, unexpected: bool) -> Self {
        match (missing, unexpected) {
            (false, false) => ReceiptStatus::Complete,
            (true, false) => ReceiptStatus::Short,
            (false, true) => ReceiptStatus::Over,
            (true, true) => ReceiptStatus::Mismatch,
        }
    }
}

/// Per-SKU counts of a `dock.receipt` (`by_sku` values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SkuTally {
    /// Items of the SKU the shipment announced.
    pub expected: u64,
    /// Items of the SKU read at the door in the session (expected or not).
    pub received: u64,
}

/// The type-specific fields of an event. Field order here is the order in the JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EventBody {
    /// `tag.arrived`: a tag was confirmed at a stock location.
    TagArrived {
        /// EPC, lowercase hex.
        epc: String,
        /// GTIN-14 (or mapped SKU); null for tags that decode to no product.
        sku: Option<String>,
        /// Location id.
        location: String,
    },
    /// `tag.moved`: a present tag was confirmed at another stock location.
    TagMoved {
        /// EPC, lowercase hex.
        epc: String,
        /// SKU or null.
        sku: Option<String>,
        /// Previous location id.
        from: String,
        /// New location id.
        to: String,
    },
    /// `tag.departed`: a present tag left stock.
    TagDeparted {
        /// EPC, lowercase hex.
        epc: String,
        /// SKU or null.
        sku: Option<String>,
        /// Location it left.
        from: String,
        /// When it was last read there (RFC 3339).
        last_seen: String,
        /// Why it departed.
        cause: DepartCause,
    },
    /// `tag.sold`: an item in stock was read at a POS (or sold by a POS command).
    TagSold {
        /// EPC, lowercase hex.
        epc: String,
        /// SKU or null.
        sku: Option<String>,
        /// POS location id.
        location: String,
        /// Stock location it was sold from.
        from: String,
    },
    /// `tag.returned`: a sold item showed up on a shelf after the hold-off.
    TagReturned {
        /// EPC, lowercase hex.
        epc: String,
        /// SKU or null.
        sku: Option<String>,
        /// Location id.
        location: String,
    },
    /// `stock.changed`: the aggregated count change of one SKU at one location.
    StockChanged {
        /// Location id.
        location: String,
        /// SKU or null.
        sku: Option<String>,
        /// Net change since the previous `stock.changed` of this (location, sku).
        delta: i64,
        /// Count after the change.
        count: u64,
    },
    /// `alert.exit`: an unsold item left through an exit portal.
    AlertExit {
        /// EPC, lowercase hex.
        epc: String,
        /// SKU or null.
        sku: Option<String>,
        /// Exit location id.
        location: String,
        /// Stock location the item came from.
        from: String,
    },
    /// `dock.receipt`: a receiving session at a dock door ended (see [`crate::dock`]).
    DockReceipt {
        /// Dock id.
        dock: String,
        /// The shipment (ASN) the session was matched with; null when none was open.
        shipment: Option<String>,
        /// `complete`, `short`, `over` or `mismatch`.
        status: ReceiptStatus,
        /// Items the shipment announced.
        expected: u64,
        /// Items of the expected ones that were read.
        received: u64,
        /// Expected EPCs that were not read (EPC-level shipments; empty for class-level ones,
        /// whose shortfall shows in `by_sku`), lowercase hex, sorted.
        missing: Vec<String>,
        /// EPCs read that the shipment did not announce, lowercase hex, sorted.
        unexpected: Vec<String>,
        /// Expected and read counts per SKU (`"null"` for tags that decode to no product).
        by_sku: BTreeMap<String, SkuTally>,
        /// Present (true) only when `missing`, `unexpected` or `by_sku` were cut to their
        /// bounds to fit one message (see [`crate::dock::receipt`]); counts stay complete.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        truncated: bool,
    },
    /// `alert.low_stock`: the settled count of a planogram SKU fell below the location's safety
    /// stock (raised once; re-armed when the count recovers).
    AlertLowStock {
        /// Location id.
        location: String,
        /// SKU (a planogram GTIN).
        sku: Option<String>,
        /// The settled count.
        count: u64,
        /// The location's safety stock.
        threshold: u64,
    },
    /// `alert.misplaced`: a tag was confirmed at a location whose planogram does not list its
    /// SKU (once per stay).
    AlertMisplaced {
        /// EPC, lowercase hex.
        epc: String,
        /// SKU.
        sku: Option<String>,
        /// Location id where it is.
        location: String,
        /// Ids of the locations whose planogram lists the SKU (config order; may be empty).
        expected: Vec<String>,
    },
    /// `reader.status`: a reader went online or offline.
    ReaderStatus {
        /// Reader id.
        reader: String,
        /// New state.
        state: ReaderState,
        /// When it entered that state (RFC 3339).
        since: String,
    },
}

impl EventBody {
    /// The event's `type` string.
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::TagArrived { .. } => "tag.arrived",
            EventBody::TagMoved { .. } => "tag.moved",
            EventBody::TagDeparted { .. } => "tag.departed",
            EventBody::TagSold { .. } => "tag.sold",
            EventBody::TagReturned { .. } => "tag.returned",
            EventBody::StockChanged { .. } => "stock.changed",
            EventBody::AlertExit { .. } => "alert.exit",
            EventBody::AlertLowStock { .. } => "alert.low_stock",
            EventBody::AlertMisplaced { .. } => "alert.misplaced",
            EventBody::ReaderStatus { .. } => "reader.status",
            EventBody::DockReceipt { .. } => "dock.receipt",
        }
    }
}

/// Who publishes: the store and gateway ids of the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Store id (`[gateway] store`).
    pub store: String,
    /// Gateway id (`[gateway] id`).
    pub gateway: String,
}

#[derive(Serialize)]
struct EventEnvelope<'a> {
    v: u8,
    #[serde(rename = "type")]
    kind: &'static str,
    store: &'a str,
    gateway: &'a str,
    seq: u64,
    time: String,
    #[serde(flatten)]
    body: &'a EventBody,
}

impl Event {
    /// The exact JSON payload published for this event.
    ///
    /// ```
    /// use shelfd_core::events::*;
    /// let origin = Origin { store: "s1".into(), gateway: "gw-1".into() };
    /// let e = Event { seq: 7, time_ms: 1_795_341_600_000, body: EventBody::TagArrived {
    ///     epc: "3074257bf7194e4000001a85".into(), sku: Some("80614141123458".into()),
    ///     location: "shelf-a1".into() } };
    /// assert_eq!(e.to_json(&origin), concat!(
    ///     r#"{"v":1,"type":"tag.arrived","store":"s1","gateway":"gw-1","seq":7,"#,
    ///     r#""time":"2026-11-22T10:00:00.000Z","epc":"3074257bf7194e4000001a85","#,
    ///     r#""sku":"80614141123458","location":"shelf-a1"}"#));
    /// ```
    pub fn to_json(&self, origin: &Origin) -> String {
        let env = EventEnvelope {
            v: PAYLOAD_VERSION,
            kind: self.body.kind(),
            store: &origin.store,
            gateway: &origin.gateway,
            seq: self.seq,
            time: crate::timefmt::rfc3339_ms(self.time_ms),
            body: &self.body,
        };
        serde_json::to_string(&env).expect("invariant: event payloads always serialize")
    }
}

/// The retained per-location stock state (`stock.snapshot`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockSnapshot {
    /// Location id.
    pub location: String,
    /// Gateway time the snapshot was taken, ms.
    pub time_ms: u64,
    /// Count per SKU (SKUs with count 0 are omitted; undecoded tags count under `"null"` when
    /// the config says so).
    pub counts: BTreeMap<String, u64>,
    /// True for the snapshot that closes the first-start baseline window.
    pub baseline: bool,
    /// The last event seq this snapshot reflects.
    pub as_of_seq: u64,
}

#[derive(Serialize)]
struct SnapshotEnvelope<'a> {
    v: u8,
    #[serde(rename = "type")]
    kind: &'static str,
    store: &'a str,
    gateway: &'a str,
    time: String,
    location: &'a str,
    counts: &'a BTreeMap<String, u64>,
    baseline: bool,
    as_of_seq: u64,
}

impl StockSnapshot {
    /// The exact retained JSON payload.
    ///
    /// ```
    /// use shelfd_core::events::*;
    /// let origin = Origin { store: "s1".into(), gateway: "gw-1".into() };
    /// let s = StockSnapshot { location: "shelf-a1".into(), time_ms: 1_795_341_600_000,
    ///     counts: [("80614141123458".to_string(), 3)].into(), baseline: true, as_of_seq: 0 };
    /// assert_eq!(s.to_json(&origin), concat!(
    ///     r#"{"v":1,"type":"stock.snapshot","store":"s1","gateway":"gw-1","#,
    ///     r#""time":"2026-11-22T10:00:00.000Z","location":"shelf-a1","#,
    ///     r#""counts":{"80614141123458":3},"baseline":true,"as_of_seq":0}"#));
    /// ```
    pub fn to_json(&self, origin: &Origin) -> String {
        let env = SnapshotEnvelope {
            v: PAYLOAD_VERSION,
            kind: "stock.snapshot",
            store: &origin.store,
            gateway: &origin.gateway,
            time: crate::timefmt::rfc3339_ms(self.time_ms),
            location: &self.location,
            counts: &self.counts,
            baseline: self.baseline,
            as_of_seq: self.as_of_seq,
        };
        serde_json::to_string(&env).expect("invariant: snapshots always serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            store: "s1".into(),
            gateway: "gw-1".into(),
        }
    }

    #[test]
    fn receipt_status_names_are_the_json_ones() {
        for status in ReceiptStatus::ALL {
            assert_eq!(
                serde_json::to_value(status).expect("serializes"),
                serde_json::Value::from(status.as_str())
            );
        }
    }

    fn golden(body: EventBody) -> String {
        Event {
            seq: 1,
            time_ms: 0,
            body,
        }
        .to_json(&origin())
    }

    #[test]
    fn golden_payloads() {
        let head = r#"{"v":1,"type":"#;
        assert_eq!(
            golden(EventBody::TagDeparted {
                epc: "ab".into(),
                sku: None,
                from: "a".into(),
                last_seen: "1970-01-01T00:00:00.000Z".into(),
                cause: DepartCause::Missing
            }),
            format!(
                "{head}\"tag.departed\",\"store\":\"s1\",\"gateway\":\"gw-1\",\"seq\":1,\"time\":\"1970-01-01T00:00:00.000Z\",\"epc\":\"ab\",\"sku\":null,\"from\":\"a\",\"last_seen\":\"1970-01-01T00:00:00.000Z\",\"cause\":\"missing\"}}"
            )
        );
        assert_eq!(
            golden(EventBody::StockChanged {
                location: "a".into(),
                sku: Some("1".into()),
                delta: -2,
                count: 5
            }),
            format!(
                "{head}\"stock.changed\",\"store\":\"s1\",\"gateway\":\"gw-1\",\"seq\":1,\"time\":\"1970-01-01T00:00:00.000Z\",\"location\":\"a\",\"sku\":\"1\",\"delta\":-2,\"count\":5}}"
            )
        );
        assert_eq!(
            golden(EventBody::ReaderStatus {
                reader: "r1".into(),
                state: ReaderState::Offline,
                since: "x".into()
            }),
            format!(
                "{head}\"reader.status\",\"store\":\"s1\",\"gateway\":\"gw-1\",\"seq\":1,\"time\":\"1970-01-01T00:00:00.000Z\",\"reader\":\"r1\",\"state\":\"offline\",\"since\":\"x\"}}"
            )
        );
    }

    #[test]
    fn golden_dock_receipt() {
        let by_sku = [
            (
                "00614141000015".to_string(),
                SkuTally {
                    expected: 2,
                    received: 2,
                },
            ),
            (
                "00614141000022".to_string(),
                SkuTally {
                    expected: 1,
                    received: 0,
                },
            ),
        ]
        .into();
        let json = golden(EventBody::DockReceipt {
            dock: "dock-1".into(),
            shipment: Some("SHP-7".into()),
            status: ReceiptStatus::Mismatch,
            expected: 3,
            received: 1,
            missing: vec!["3074".into(), "3075".into()],
            unexpected: vec!["3076".into()],
            by_sku,
            truncated: false,
        });
        assert_eq!(
            json,
            concat!(
                r#"{"v":1,"type":"dock.receipt","store":"s1","gateway":"gw-1","seq":1,"#,
                r#""time":"1970-01-01T00:00:00.000Z","dock":"dock-1","shipment":"SHP-7","#,
                r#""status":"mismatch","expected":3,"received":1,"missing":["3074","3075"],"#,
                r#""unexpected":["3076"],"by_sku":{"00614141000015":{"expected":2,"received":2},"#,
                r#""00614141000022":{"expected":1,"received":0}}}"#
            )
        );
        let none = golden(EventBody::DockReceipt {
            dock: "dock-2".into(),
            shipment: None,
            status: ReceiptStatus::Over,
            expected: 0,
            received: 0,
            missing: vec![],
            unexpected: vec!["ab".into()],
            by_sku: BTreeMap::new(),
            truncated: true,
        });
        assert!(
            none.contains(r#""shipment":null,"status":"over","expected":0,"received":0,"missing":[],"unexpected":["ab"],"by_sku":{},"truncated":true}"#),
            "{none}"
        );
    }

    #[test]
    fn receipt_status_follows_missing_and_unexpected() {
        assert_eq!(ReceiptStatus::of(false, false), ReceiptStatus::Complete);
        assert_eq!(ReceiptStatus::of(true, false), ReceiptStatus::Short);
        assert_eq!(ReceiptStatus::of(false, true), ReceiptStatus::Over);
        assert_eq!(ReceiptStatus::of(true, true), ReceiptStatus::Mismatch);
    }

    #[test]
    fn every_kind_has_its_type_and_fields() {
        let e = |b: EventBody| serde_json::from_str::<serde_json::Value>(&golden(b)).expect("json");
        let v = e(EventBody::TagMoved {
            epc: "ab".into(),
            sku: None,
            from: "a".into(),
            to: "b".into(),
        });
        assert_eq!(v["type"], "tag.moved");
        assert_eq!(v["to"], "b");
        let v = e(EventBody::TagSold {
            epc: "ab".into(),
            sku: None,
            location: "pos".into(),
            from: "a".into(),
        });
        assert_eq!(
            (v["type"].as_str(), v["from"].as_str()),
            (Some("tag.sold"), Some("a"))
        );
        let v = e(EventBody::TagReturned {
            epc: "ab".into(),
            sku: None,
            location: "a".into(),
        });
        assert_eq!(v["type"], "tag.returned");
        let v = e(EventBody::AlertExit {
            epc: "ab".into(),
            sku: None,
            location: "x".into(),
            from: "a".into(),
        });
        assert_eq!(
            (v["type"].as_str(), v["location"].as_str()),
            (Some("alert.exit"), Some("x"))
        );
    }
}
