//! Event payloads (JSON, version 1): the contract central systems consume over MQTT, written and
//! read by the same types.
//!
//! Every event carries the envelope
//! `{"v":1,"type":…,"store":…,"gateway":…,"seq":N,"time":"…Z", …fields}`; `seq` is per gateway,
//! contiguous and survives restarts (it is assigned by the engine and persisted with the state
//! change that caused the event). `stock.snapshot` is retained state, not an event: it has no
//! `seq` of its own and carries `as_of_seq`, the last event seq it reflects.
//!
//! [`EventKind`] is the one list of event types (`ALL`, `as_str`, `Display`/`FromStr`, serde);
//! [`EventBody`] is the one shape of each type's fields (`#[serde(tag = "type")]`, serialized and
//! deserialized). [`Event::to_json`] / [`Event::from_json`] and [`StockSnapshot::to_json`] /
//! [`StockSnapshot::from_json`] write and read whole payloads, envelope included, so a
//! central-side consumer reads exactly what the gateway wrote. Topic routing, the outbox cap,
//! metrics, EPCIS and the demo all go through these types.
//!
//! This module owns the payload shapes and their (de)serialization. It never decides *when* an
//! event happens (that is [`crate::reconcile`]) and never publishes (that is the publisher).

use serde::ser::{Impossible, SerializeMap, SerializeStruct};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Payload format version carried in every envelope as `v`.
pub const PAYLOAD_VERSION: u8 = 1;

/// The name of the envelope field that carries an event's [`EventKind`].
const TYPE_FIELD: &str = "type";

/// Declares [`EventKind`], [`EventKind::ALL`] and [`EventKind::as_str`] from one list, so that
/// `ALL` holds every kind by construction.
macro_rules! event_kinds {
    ($($(#[$doc:meta])* $variant:ident = $wire:literal,)*) => {
        /// The type of an event: the `type` of its envelope and the last level of its topic
        /// (`…/event/{type}`). [`EventKind::ALL`] lists every one; [`EventBody::kind`] gives the
        /// kind of a body.
        ///
        /// ```
        /// use shelfd_core::events::EventKind;
        /// assert_eq!(EventKind::TagArrived.as_str(), "tag.arrived");
        /// assert_eq!("dock.receipt".parse::<EventKind>(), Ok(EventKind::DockReceipt));
        /// assert!("tag.teleported".parse::<EventKind>().is_err());
        /// assert_eq!(EventKind::ALL.len(), 12);
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum EventKind {
            $($(#[$doc])* $variant,)*
        }

        impl EventKind {
            /// Every event kind, in the order of the contract table (DESIGN.md, "Events").
            pub const ALL: [EventKind; [$($wire),*].len()] = [$(EventKind::$variant),*];

            /// The kind as the payload's `type` and the topic spell it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(EventKind::$variant => $wire,)*
                }
            }
        }
    };
}

event_kinds! {
    /// `tag.arrived`: a tag was confirmed at a stock location.
    TagArrived = "tag.arrived",
    /// `tag.moved`: a present tag was confirmed at another stock location.
    TagMoved = "tag.moved",
    /// `tag.departed`: a present tag left stock.
    TagDeparted = "tag.departed",
    /// `tag.sold`: an item in stock was sold.
    TagSold = "tag.sold",
    /// `tag.returned`: a sold item showed up on a shelf after the hold-off.
    TagReturned = "tag.returned",
    /// `stock.changed`: the count of one SKU at one location changed.
    StockChanged = "stock.changed",
    /// `alert.exit`: an unsold item left through an exit portal.
    AlertExit = "alert.exit",
    /// `alert.low_stock`: a planogram SKU fell below the location's safety stock.
    AlertLowStock = "alert.low_stock",
    /// `alert.misplaced`: a tag was confirmed where its SKU does not belong.
    AlertMisplaced = "alert.misplaced",
    /// `alert.stockout_forecast`: a planogram SKU is forecast to fall below the location's
    /// safety stock within the forecast horizon.
    AlertStockoutForecast = "alert.stockout_forecast",
    /// `reader.status`: a reader went online or offline.
    ReaderStatus = "reader.status",
    /// `dock.receipt`: a receiving session at a dock door ended.
    DockReceipt = "dock.receipt",
}

impl EventKind {
    /// The position of the kind in [`EventKind::ALL`] (for per-kind arrays such as counters).
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `type` that is not one of [`EventKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type {kind:?}")]
pub struct UnknownEventKind {
    /// The type as written.
    pub kind: String,
}

impl FromStr for EventKind {
    type Err = UnknownEventKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownEventKind { kind: s.to_owned() })
    }
}

impl Serialize for EventKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a payload could not be read back ([`Event::from_json`], [`StockSnapshot::from_json`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The envelope's `v` is not [`PAYLOAD_VERSION`].
    #[error("payload version {found}, this build reads version {PAYLOAD_VERSION}")]
    Version {
        /// The `v` of the payload.
        found: u64,
    },
    /// The JSON is not the shape of the payload (a missing or mistyped field, an unknown
    /// `type`, not JSON at all); `reason` is serde's message, naming the field or value.
    #[error("not a {what} payload: {reason}")]
    Shape {
        /// What was expected (`event`, `stock.snapshot`).
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The envelope's `time` is not the RFC 3339 form shelfd writes.
    #[error("time {time:?} is not an RFC 3339 UTC time with milliseconds")]
    Time {
        /// The time as written.
        time: String,
    },
}

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReaderState {
    /// Reading (or sending heartbeats).
    Online,
    /// Link down, or silent for longer than `reader_silence`.
    Offline,
}

/// Outcome of a dock receipt (`dock.receipt` `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuTally {
    /// Items of the SKU the shipment announced.
    pub expected: u64,
    /// Items of the SKU read at the door in the session (expected or not).
    pub received: u64,
}

/// A rate in units per hour, kept to three decimals (written as a JSON number, e.g. `2.5`), so
/// payloads are exact and compare equal after a round trip.
///
/// ```
/// use shelfd_core::events::PerHour;
/// let r = PerHour::from_f64(2.49996).expect("finite, not negative");
/// assert_eq!((r.milli(), serde_json::to_string(&r).unwrap()), (2500, "2.5".to_string()));
/// assert_eq!(serde_json::from_str::<PerHour>("0.125").unwrap().milli(), 125);
/// assert!(serde_json::from_str::<PerHour>("-1").is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PerHour(u64);

impl PerHour {
    /// Largest rate a payload may carry (10⁹ units per hour).
    pub const MAX_MILLI: u64 = 1_000_000_000_000;

    /// The rate of `milli` thousandths of a unit per hour (capped at [`PerHour::MAX_MILLI`]).
    pub const fn from_milli(milli: u64) -> Self {
        PerHour(if milli > Self::MAX_MILLI {
            Self::MAX_MILLI
        } else {
            milli
        })
    }

    /// `rate` units per hour rounded to three decimals; `None` for a negative or non-finite
    /// rate or one above [`PerHour::MAX_MILLI`].
    pub fn from_f64(rate: f64) -> Option<Self> {
        let milli = (rate * 1000.0).round();
        (milli.is_finite() && (0.0..=Self::MAX_MILLI as f64).contains(&milli))
            .then_some(PerHour(milli as u64))
    }

    /// Thousandths of a unit per hour.
    pub const fn milli(self) -> u64 {
        self.0
    }

    /// Units per hour.
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

impl fmt::Display for PerHour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/h", self.as_f64())
    }
}

impl Serialize for PerHour {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for PerHour {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let rate = f64::deserialize(d)?;
        PerHour::from_f64(rate).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "rate {rate} is not a number of units per hour in 0..=1e9"
            ))
        })
    }
}

/// The type-specific fields of an event, tagged by `type` (the variant renames are the
/// [`EventKind::as_str`] spellings; a test holds the two together). Field order here is the
/// order in the JSON. A nullable field (`sku`, `shipment`) must be present, as `null` when it
/// has no value; `truncated` is written only when true.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EventBody {
    /// `tag.arrived`: a tag was confirmed at a stock location.
    #[serde(rename = "tag.arrived")]
    TagArrived {
        /// EPC, lowercase hex.
        epc: String,
        /// GTIN-14 (or mapped SKU); null for tags that decode to no product.
        #[serde(deserialize_with = "nullable")]
        sku: Option<String>,
        /// Location id.
        location: String,
    },
    /// `tag.moved`: a present tag was confirmed at another stock location.
    #[serde(rename = "tag.moved")]
    TagMoved {
        /// EPC, lowercase hex.
        epc: String,
        /// SKU or null.
        #[serde(deserialize_with = "nullable")]
        sku: Option<String>,
        /// Previous location id.
        from: String,
        /// New location id.
        to: String,
    },
    /// `tag.departed`: a present tag left stock.
    #[serde(rename = "tag.departed")]
    TagDeparted {
        /// EPC, lowercase hex.
        epc: String,
        /// SKU or null.
        #[serde(deserialize_with = "nullable")]
        sku: Option<String>,
        /// Location it left.
        from: String,
        /// When it was last read there (RFC 3339).
        last_seen: String,
        /// Why it departed.
        cause: DepartCause,
    },
    /// `tag.sold`: an item in stock was read at a POS (or sold by a POS command).
    #[serde(rename = "tag.sold")]
    TagSold {
        /// EPC, lowercase hex.
        epc: String,
        /// SKU or null.
        #[serde(deserialize_with = "nullable")]
        sku: Option<String>,
        /// POS location id.
        location: String,
        /// Stock location it was sold from.
        from: String,
    },
    /// `tag.returned`: a sold item showed up on a shelf after the hold-off.
    #[serde(rename = "tag.returned")]
    TagReturned {
        /// EPC, lowercase hex.
        epc: String,
        /// SKU or null.
        #[serde(deserialize_with = "nullable")]
        sku: Option<String>,
        /// Location id.
        location: String,
    },
    /// `stock.changed`: the aggregated count change of one SKU at one location.
    #[serde(rename = "stock.changed")]
    StockChanged {
        /// Location id.
        location: String,
        /// SKU or null.
        #[serde(deserialize_with = "nullable")]
        sku: Option<String>,
        /// Net change since the previous `stock.changed` of this (location, sku).
        delta: i64,
        /// Count after the change.
        count: u64,
    },
    /// `alert.exit`: an unsold item left through an exit portal.
    #[serde(rename = "alert.exit")]
    AlertExit {
        /// EPC, lowercase hex.
        epc: String,
        /// SKU or null.
        #[serde(deserialize_with = "nullable")]
        sku: Option<String>,
        /// Exit location id.
        location: String,
        /// Stock location the item came from.
        from: String,
    },
    /// `dock.receipt`: a receiving session at a dock door ended (see [`crate::dock`]).
    #[serde(rename = "dock.receipt")]
    DockReceipt {
        /// Dock id.
        dock: String,
        /// The shipment (ASN) the session was matched with; null when none was open.
        #[serde(deserialize_with = "nullable")]
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
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        truncated: bool,
    },
    /// `alert.low_stock`: the settled count of a planogram SKU fell below the location's safety
    /// stock (raised once; re-armed when the count recovers).
    #[serde(rename = "alert.low_stock")]
    AlertLowStock {
        /// Location id.
        location: String,
        /// SKU (a planogram GTIN).
        #[serde(deserialize_with = "nullable")]
        sku: Option<String>,
        /// The settled count.
        count: u64,
        /// The location's safety stock.
        threshold: u64,
    },
    /// `alert.misplaced`: a tag was confirmed at a location whose planogram does not list its
    /// SKU (once per stay).
    #[serde(rename = "alert.misplaced")]
    AlertMisplaced {
        /// EPC, lowercase hex.
        epc: String,
        /// SKU.
        #[serde(deserialize_with = "nullable")]
        sku: Option<String>,
        /// Location id where it is.
        location: String,
        /// Ids of the locations whose planogram lists the SKU (config order; may be empty).
        expected: Vec<String>,
    },
    /// `alert.stockout_forecast`: the depletion forecast of a planogram SKU (see
    /// `reconcile::forecast`) says its settled count falls below the location's safety stock
    /// within the forecast horizon (raised once; re-armed by a restock or when the forecast
    /// moves well past the horizon).
    #[serde(rename = "alert.stockout_forecast")]
    AlertStockoutForecast {
        /// Location id.
        location: String,
        /// SKU (a planogram GTIN).
        #[serde(deserialize_with = "nullable")]
        sku: Option<String>,
        /// The settled count when the alert was raised.
        count: u64,
        /// The location's safety stock.
        threshold: u64,
        /// The forecast depletion rate at the time of the alert, units per hour (`rate` on
        /// the wire, as DESIGN.md's event table names it).
        #[serde(rename = "rate")]
        rate_per_hour: PerHour,
        /// When the count is expected to fall below `threshold` (RFC 3339).
        below_safety_at: String,
    },
    /// `reader.status`: a reader went online or offline.
    #[serde(rename = "reader.status")]
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
    /// The event's kind (its `type`).
    pub fn kind(&self) -> EventKind {
        match self {
            EventBody::TagArrived { .. } => EventKind::TagArrived,
            EventBody::TagMoved { .. } => EventKind::TagMoved,
            EventBody::TagDeparted { .. } => EventKind::TagDeparted,
            EventBody::TagSold { .. } => EventKind::TagSold,
            EventBody::TagReturned { .. } => EventKind::TagReturned,
            EventBody::StockChanged { .. } => EventKind::StockChanged,
            EventBody::AlertExit { .. } => EventKind::AlertExit,
            EventBody::AlertLowStock { .. } => EventKind::AlertLowStock,
            EventBody::AlertMisplaced { .. } => EventKind::AlertMisplaced,
            EventBody::AlertStockoutForecast { .. } => EventKind::AlertStockoutForecast,
            EventBody::ReaderStatus { .. } => EventKind::ReaderStatus,
            EventBody::DockReceipt { .. } => EventKind::DockReceipt,
        }
    }
}

/// A nullable field that must be present: `null` reads as `None`, a missing field is an error
/// (serde would otherwise default a missing `Option` to `None`).
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

/// Who publishes: the store and gateway ids of the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Store id (`[gateway] store`).
    pub store: String,
    /// Gateway id (`[gateway] id`).
    pub gateway: String,
}

/// The envelope and body of an event as written: a map whose entries are `v`, `type`, `store`,
/// `gateway`, `seq`, `time`, then the body's fields in their order.
///
/// serde's internally tagged enums put the tag first within the body, so flattening the body
/// after the envelope would write `type` after `time`. Instead the envelope writes `type` itself
/// (from [`EventBody::kind`]) and the body's fields go through [`FieldsInto`], which forwards
/// every field but the tag into the same map.
struct EventEnvelope<'a> {
    origin: &'a Origin,
    event: &'a Event,
}

impl Serialize for EventEnvelope<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.event;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("v", &PAYLOAD_VERSION)?;
        map.serialize_entry(TYPE_FIELD, &e.body.kind())?;
        map.serialize_entry("store", &self.origin.store)?;
        map.serialize_entry("gateway", &self.origin.gateway)?;
        map.serialize_entry("seq", &e.seq)?;
        map.serialize_entry("time", &crate::timefmt::rfc3339_ms(e.time_ms))?;
        e.body.serialize(FieldsInto(&mut map))?;
        map.end()
    }
}

/// A serializer that takes one struct (an [`EventBody`] variant as its internally tagged
/// serialization presents it) and writes its fields, except the `type` tag, as entries of the
/// enclosing map. Anything but a struct is an error: every body is a struct variant.
struct FieldsInto<'m, M>(&'m mut M);

impl<M: SerializeMap> SerializeStruct for FieldsInto<'_, M> {
    type Ok = ();
    type Error = M::Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        if key == TYPE_FIELD {
            return Ok(());
        }
        self.0.serialize_entry(key, value)
    }

    fn end(self) -> Result<(), M::Error> {
        Ok(())
    }
}

/// The error of [`FieldsInto`] for anything but a struct.
fn not_a_struct<E: serde::ser::Error>(what: &str) -> E {
    E::custom(format!(
        "an event body serializes as a struct, not as {what}"
    ))
}

macro_rules! reject {
    ($($method:ident($($arg:ty),*) => $what:literal;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<(), M::Error> {
            Err(not_a_struct($what))
        })*
    };
}

impl<'m, M: SerializeMap> Serializer for FieldsInto<'m, M> {
    type Ok = ();
    type Error = M::Error;
    type SerializeSeq = Impossible<(), M::Error>;
    type SerializeTuple = Impossible<(), M::Error>;
    type SerializeTupleStruct = Impossible<(), M::Error>;
    type SerializeTupleVariant = Impossible<(), M::Error>;
    type SerializeMap = Impossible<(), M::Error>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), M::Error>;

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self, M::Error> {
        Ok(self)
    }

    reject! {
        serialize_bool(bool) => "a bool";
        serialize_i8(i8) => "an integer";
        serialize_i16(i16) => "an integer";
        serialize_i32(i32) => "an integer";
        serialize_i64(i64) => "an integer";
        serialize_u8(u8) => "an integer";
        serialize_u16(u16) => "an integer";
        serialize_u32(u32) => "an integer";
        serialize_u64(u64) => "an integer";
        serialize_f32(f32) => "a number";
        serialize_f64(f64) => "a number";
        serialize_char(char) => "a char";
        serialize_str(&str) => "a string";
        serialize_bytes(&[u8]) => "bytes";
        serialize_none() => "null";
        serialize_unit() => "unit";
        serialize_unit_struct(&'static str) => "a unit struct";
        serialize_unit_variant(&'static str, u32, &'static str) => "a unit variant";
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> Result<(), M::Error> {
        Err(not_a_struct("an option"))
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _value: &T,
    ) -> Result<(), M::Error> {
        Err(not_a_struct("a newtype struct"))
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), M::Error> {
        Err(not_a_struct("a newtype variant"))
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, M::Error> {
        Err(not_a_struct("a sequence"))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, M::Error> {
        Err(not_a_struct("a tuple"))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, M::Error> {
        Err(not_a_struct("a tuple struct"))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, M::Error> {
        Err(not_a_struct("a tuple variant"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, M::Error> {
        Err(not_a_struct("a map"))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, M::Error> {
        Err(not_a_struct("a struct variant"))
    }
}

/// An event payload as read: the envelope, with the body (and its `type`) flattened in.
#[derive(Deserialize)]
struct EventIn {
    v: u64,
    store: String,
    gateway: String,
    seq: u64,
    time: String,
    #[serde(flatten)]
    body: EventBody,
}

/// Only the version of a payload, to tell a newer version from a malformed payload.
#[derive(Deserialize)]
struct VersionIn {
    v: u64,
}

/// Reads `T` from `payload`, reporting a foreign `v` before a shape error (a newer version may
/// well have another shape).
fn read_payload<'a, T: Deserialize<'a>>(
    payload: &'a [u8],
    what: &'static str,
    version: impl Fn(&T) -> u64,
) -> Result<T, PayloadError> {
    let check = |found: u64| match found {
        found if found == u64::from(PAYLOAD_VERSION) => Ok(()),
        found => Err(PayloadError::Version { found }),
    };
    match serde_json::from_slice::<T>(payload) {
        Ok(read) => check(version(&read)).map(|()| read),
        Err(e) => {
            if let Ok(VersionIn { v }) = serde_json::from_slice::<VersionIn>(payload) {
                check(v)?;
            }
            Err(PayloadError::Shape {
                what,
                reason: e.to_string(),
            })
        }
    }
}

fn read_time(time: String) -> Result<u64, PayloadError> {
    crate::timefmt::parse_rfc3339_ms(&time).ok_or(PayloadError::Time { time })
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
            origin,
            event: self,
        };
        serde_json::to_string(&env).expect("invariant: event payloads always serialize")
    }

    /// Reads a whole event payload (envelope and body) back: who published it and the event.
    /// Fields the contract does not name are ignored; a missing field, an unknown `type`, a
    /// `v` other than [`PAYLOAD_VERSION`] or a `time` not in shelfd's form is an error.
    ///
    /// ```
    /// use shelfd_core::events::*;
    /// let payload = concat!(
    ///     r#"{"v":1,"type":"tag.moved","store":"s1","gateway":"gw-1","seq":3,"#,
    ///     r#""time":"2026-11-22T10:00:00.000Z","epc":"30","sku":null,"from":"a","to":"b"}"#);
    /// let (origin, event) = Event::from_json(payload).unwrap();
    /// assert_eq!(origin, Origin { store: "s1".into(), gateway: "gw-1".into() });
    /// assert_eq!(event.body.kind(), EventKind::TagMoved);
    /// assert_eq!(event.to_json(&origin), payload);
    /// assert_eq!(Event::from_json(&payload.replace(r#""v":1"#, r#""v":2"#)),
    ///     Err(PayloadError::Version { found: 2 }));
    /// ```
    pub fn from_json(payload: &str) -> Result<(Origin, Event), PayloadError> {
        Self::from_slice(payload.as_bytes())
    }

    /// [`Event::from_json`] of payload bytes (as they come off MQTT or out of the outbox).
    pub fn from_slice(payload: &[u8]) -> Result<(Origin, Event), PayloadError> {
        let read: EventIn = read_payload(payload, "event", |e: &EventIn| e.v)?;
        let event = Event {
            seq: read.seq,
            time_ms: read_time(read.time)?,
            body: read.body,
        };
        let origin = Origin {
            store: read.store,
            gateway: read.gateway,
        };
        Ok((origin, event))
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
    /// The depletion forecast per SKU as of `time_ms` (see `reconcile::forecast`), for the SKUs
    /// with enough history only; empty (and absent from the JSON) while none has.
    pub forecast: BTreeMap<String, SkuForecast>,
}

/// The depletion forecast of one SKU at one location (`stock.snapshot` `forecast` values).
/// Written as `{"rate_per_hour": 2.5, "empty_at": "…", "below_safety_at": "…"}`; a time is
/// absent when the forecast does not reach it within its look-ahead (14 days), when the count
/// is already there (`below_safety_at` of a count below safety stock, `empty_at` of 0), or —
/// for `below_safety_at` — when the location has no safety stock or no planogram listing the
/// SKU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuForecast {
    /// Expected depletion rate at the snapshot's time, units per hour.
    pub rate_per_hour: PerHour,
    /// When the count is expected to reach 0 (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_rfc3339")]
    pub empty_at: Option<u64>,
    /// When the count is expected to fall below the safety stock (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_rfc3339")]
    pub below_safety_at: Option<u64>,
}

/// An optional time written as shelfd's RFC 3339 form.
mod opt_rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(ms) => s.serialize_str(&crate::timefmt::rfc3339_ms(*ms)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => crate::timefmt::parse_rfc3339_ms(&text)
                .map(Some)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "time {text:?} is not an RFC 3339 UTC time with milliseconds"
                    ))
                }),
        }
    }
}

/// The `type` of a snapshot payload: one value, `stock.snapshot` (not an [`EventKind`]: a
/// snapshot is state, not an event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum SnapshotType {
    #[serde(rename = "stock.snapshot")]
    StockSnapshot,
}

#[derive(Serialize)]
struct SnapshotEnvelope<'a> {
    v: u8,
    #[serde(rename = "type")]
    kind: SnapshotType,
    store: &'a str,
    gateway: &'a str,
    time: String,
    location: &'a str,
    counts: &'a BTreeMap<String, u64>,
    baseline: bool,
    as_of_seq: u64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    forecast: &'a BTreeMap<String, SkuForecast>,
}

#[derive(Deserialize)]
struct SnapshotIn {
    v: u64,
    #[serde(rename = "type")]
    _kind: SnapshotType,
    store: String,
    gateway: String,
    time: String,
    location: String,
    counts: BTreeMap<String, u64>,
    baseline: bool,
    as_of_seq: u64,
    #[serde(default)]
    forecast: BTreeMap<String, SkuForecast>,
}

impl StockSnapshot {
    /// The `type` of every snapshot payload.
    pub const TYPE: &'static str = "stock.snapshot";

    /// The exact retained JSON payload.
    ///
    /// ```
    /// use shelfd_core::events::*;
    /// let origin = Origin { store: "s1".into(), gateway: "gw-1".into() };
    /// let s = StockSnapshot { location: "shelf-a1".into(), time_ms: 1_795_341_600_000,
    ///     counts: [("80614141123458".to_string(), 3)].into(), baseline: true, as_of_seq: 0,
    ///     forecast: Default::default() };
    /// assert_eq!(s.to_json(&origin), concat!(
    ///     r#"{"v":1,"type":"stock.snapshot","store":"s1","gateway":"gw-1","#,
    ///     r#""time":"2026-11-22T10:00:00.000Z","location":"shelf-a1","#,
    ///     r#""counts":{"80614141123458":3},"baseline":true,"as_of_seq":0}"#));
    /// assert_eq!(StockSnapshot::from_json(&s.to_json(&origin)), Ok((origin, s)));
    /// ```
    pub fn to_json(&self, origin: &Origin) -> String {
        let env = SnapshotEnvelope {
            v: PAYLOAD_VERSION,
            kind: SnapshotType::StockSnapshot,
            store: &origin.store,
            gateway: &origin.gateway,
            time: crate::timefmt::rfc3339_ms(self.time_ms),
            location: &self.location,
            counts: &self.counts,
            baseline: self.baseline,
            as_of_seq: self.as_of_seq,
            forecast: &self.forecast,
        };
        serde_json::to_string(&env).expect("invariant: snapshots always serialize")
    }

    /// Reads a whole retained snapshot payload back: who published it and the snapshot. Same
    /// rules as [`Event::from_json`]; a `type` other than `stock.snapshot` is an error.
    pub fn from_json(payload: &str) -> Result<(Origin, StockSnapshot), PayloadError> {
        Self::from_slice(payload.as_bytes())
    }

    /// [`StockSnapshot::from_json`] of payload bytes.
    pub fn from_slice(payload: &[u8]) -> Result<(Origin, StockSnapshot), PayloadError> {
        let read: SnapshotIn = read_payload(payload, Self::TYPE, |s: &SnapshotIn| s.v)?;
        let snapshot = StockSnapshot {
            location: read.location,
            time_ms: read_time(read.time)?,
            counts: read.counts,
            baseline: read.baseline,
            as_of_seq: read.as_of_seq,
            forecast: read.forecast,
        };
        let origin = Origin {
            store: read.store,
            gateway: read.gateway,
        };
        Ok((origin, snapshot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    /// Any text, including quotes, escapes and non-ASCII.
    fn text() -> impl Strategy<Value = String> {
        "\\PC{0,12}"
    }

    fn sku() -> impl Strategy<Value = Option<String>> {
        proptest::option::of("[0-9]{14}|null|\\PC{0,6}")
    }

    fn texts() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(text(), 0..4)
    }

    /// Arbitrary bodies of `kind`. The match is exhaustive: a kind without a body variant does
    /// not compile here, and [`every_kind_has_its_variant_and_every_variant_its_kind`] checks
    /// that each arm builds the variant of its kind.
    fn body_of(kind: EventKind) -> BoxedStrategy<EventBody> {
        match kind {
            EventKind::TagArrived => (text(), sku(), text())
                .prop_map(|(epc, sku, location)| EventBody::TagArrived { epc, sku, location })
                .boxed(),
            EventKind::TagMoved => (text(), sku(), text(), text())
                .prop_map(|(epc, sku, from, to)| EventBody::TagMoved { epc, sku, from, to })
                .boxed(),
            EventKind::TagDeparted => (
                text(),
                sku(),
                text(),
                text(),
                prop::sample::select(vec![
                    DepartCause::Missing,
                    DepartCause::Exit,
                    DepartCause::Picked,
                ]),
            )
                .prop_map(
                    |(epc, sku, from, last_seen, cause)| EventBody::TagDeparted {
                        epc,
                        sku,
                        from,
                        last_seen,
                        cause,
                    },
                )
                .boxed(),
            EventKind::TagSold => (text(), sku(), text(), text())
                .prop_map(|(epc, sku, location, from)| EventBody::TagSold {
                    epc,
                    sku,
                    location,
                    from,
                })
                .boxed(),
            EventKind::TagReturned => (text(), sku(), text())
                .prop_map(|(epc, sku, location)| EventBody::TagReturned { epc, sku, location })
                .boxed(),
            EventKind::StockChanged => (text(), sku(), any::<i64>(), any::<u64>())
                .prop_map(|(location, sku, delta, count)| EventBody::StockChanged {
                    location,
                    sku,
                    delta,
                    count,
                })
                .boxed(),
            EventKind::AlertExit => (text(), sku(), text(), text())
                .prop_map(|(epc, sku, location, from)| EventBody::AlertExit {
                    epc,
                    sku,
                    location,
                    from,
                })
                .boxed(),
            EventKind::AlertLowStock => (text(), sku(), any::<u64>(), any::<u64>())
                .prop_map(
                    |(location, sku, count, threshold)| EventBody::AlertLowStock {
                        location,
                        sku,
                        count,
                        threshold,
                    },
                )
                .boxed(),
            EventKind::AlertMisplaced => (text(), sku(), text(), texts())
                .prop_map(|(epc, sku, location, expected)| EventBody::AlertMisplaced {
                    epc,
                    sku,
                    location,
                    expected,
                })
                .boxed(),
            EventKind::AlertStockoutForecast => (
                (text(), sku(), any::<u64>(), any::<u64>()),
                (0..=PerHour::MAX_MILLI, 0..=MAX_TIME_MS),
            )
                .prop_map(|((location, sku, count, threshold), (milli, at))| {
                    EventBody::AlertStockoutForecast {
                        location,
                        sku,
                        count,
                        threshold,
                        rate_per_hour: PerHour::from_milli(milli),
                        below_safety_at: crate::timefmt::rfc3339_ms(at),
                    }
                })
                .boxed(),
            EventKind::ReaderStatus => (
                text(),
                prop::sample::select(vec![ReaderState::Online, ReaderState::Offline]),
                text(),
            )
                .prop_map(|(reader, state, since)| EventBody::ReaderStatus {
                    reader,
                    state,
                    since,
                })
                .boxed(),
            EventKind::DockReceipt => (
                (text(), proptest::option::of(text())),
                prop::sample::select(ReceiptStatus::ALL.to_vec()),
                (any::<u64>(), any::<u64>()),
                (texts(), texts()),
                proptest::collection::btree_map(
                    text(),
                    (any::<u64>(), any::<u64>())
                        .prop_map(|(expected, received)| SkuTally { expected, received }),
                    0..3,
                ),
                any::<bool>(),
            )
                .prop_map(
                    |(
                        (dock, shipment),
                        status,
                        (expected, received),
                        (missing, unexpected),
                        by_sku,
                        truncated,
                    )| {
                        EventBody::DockReceipt {
                            dock,
                            shipment,
                            status,
                            expected,
                            received,
                            missing,
                            unexpected,
                            by_sku,
                            truncated,
                        }
                    },
                )
                .boxed(),
        }
    }

    fn kind_and_body() -> impl Strategy<Value = (EventKind, EventBody)> {
        prop::sample::select(EventKind::ALL.to_vec())
            .prop_flat_map(|kind| (Just(kind), body_of(kind)))
    }

    /// Gateway times up to the year 9999.
    const MAX_TIME_MS: u64 = 253_402_300_799_999;

    proptest! {
        #[test]
        fn every_kind_round_trips_through_its_payload(
            (kind, body) in kind_and_body(),
            seq in any::<u64>(),
            time_ms in 0..=MAX_TIME_MS,
            store in "[a-z0-9-]{1,8}",
            gateway in "[a-z0-9-]{1,8}",
        ) {
            prop_assert_eq!(body.kind(), kind);
            let origin = Origin { store, gateway };
            let event = Event { seq, time_ms, body };
            let json = event.to_json(&origin);
            let head = format!(
                r#"{{"v":1,"type":"{kind}","store":"{}","gateway":"{}","seq":{seq},"time":"{}""#,
                origin.store,
                origin.gateway,
                crate::timefmt::rfc3339_ms(time_ms)
            );
            prop_assert!(json.starts_with(&head), "{} does not start with {}", json, head);
            prop_assert_eq!(Event::from_json(&json), Ok((origin, event)));
        }

        #[test]
        fn snapshots_round_trip(
            location in text(),
            time_ms in 0..=MAX_TIME_MS,
            counts in proptest::collection::btree_map(text(), any::<u64>(), 0..4),
            baseline in any::<bool>(),
            as_of_seq in any::<u64>(),
            forecast in proptest::collection::btree_map(
                text(),
                (
                    0..=PerHour::MAX_MILLI,
                    proptest::option::of(0..=MAX_TIME_MS),
                    proptest::option::of(0..=MAX_TIME_MS),
                )
                    .prop_map(|(milli, empty_at, below_safety_at)| SkuForecast {
                        rate_per_hour: PerHour::from_milli(milli),
                        empty_at,
                        below_safety_at,
                    }),
                0..3,
            ),
        ) {
            let origin = origin();
            let s = StockSnapshot { location, time_ms, counts, baseline, as_of_seq, forecast };
            prop_assert_eq!(StockSnapshot::from_json(&s.to_json(&origin)), Ok((origin, s)));
        }

        #[test]
        fn arbitrary_payloads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            // What reads back writes a payload that reads back to itself (as the fuzz target
            // `event_payload` checks on its corpus).
            if let Ok((origin, event)) = Event::from_slice(&bytes) {
                let again = Event::from_json(&event.to_json(&origin));
                prop_assert_eq!(again, Ok((origin, event)));
            }
            if let Ok((origin, snapshot)) = StockSnapshot::from_slice(&bytes) {
                let again = StockSnapshot::from_json(&snapshot.to_json(&origin));
                prop_assert_eq!(again, Ok((origin, snapshot)));
            }
        }

        #[test]
        fn mangled_payloads_never_panic(
            (_, body) in kind_and_body(),
            cut in 0usize..400,
            insert in "\\PC{0,6}",
        ) {
            let payload = Event { seq: 9, time_ms: 0, body }.to_json(&origin());
            let cut = cut.min(payload.len());
            if let (Some(a), Some(b)) = (payload.get(..cut), payload.get(cut..)) {
                let mangled = format!("{a}{insert}{b}");
                if let Ok((origin, event)) = Event::from_json(&mangled) {
                    let again = Event::from_json(&event.to_json(&origin));
                    prop_assert_eq!(again, Ok((origin, event)));
                }
            }
        }
    }

    #[test]
    fn every_kind_has_its_variant_and_every_variant_its_kind() {
        // `EventBody::kind` is an exhaustive match (a variant without a kind does not compile);
        // `body_of` is an exhaustive match over kinds (a kind without a variant does not
        // compile); here each kind's arm must build the variant of that kind, whose serde tag
        // must be the kind's spelling.
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        for (i, kind) in EventKind::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), i);
            assert_eq!(kind.as_str().parse(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
            assert_eq!(
                serde_json::to_value(kind).expect("serializes"),
                serde_json::Value::from(kind.as_str())
            );
            assert_eq!(
                serde_json::from_value::<EventKind>(kind.as_str().into()).expect("deserializes"),
                kind
            );
            let body = body_of(kind)
                .new_tree(&mut runner)
                .expect("strategy")
                .current();
            assert_eq!(body.kind(), kind, "{body:?}");
            let tagged = serde_json::to_value(&body).expect("serializes");
            assert_eq!(tagged["type"], kind.as_str(), "{tagged}");
        }
        let mut spellings: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        spellings.sort_unstable();
        spellings.dedup();
        assert_eq!(spellings.len(), EventKind::ALL.len());
    }

    #[test]
    fn golden_payloads_read_back_to_the_same_bytes() {
        for golden in [
            concat!(
                r#"{"v":1,"type":"tag.departed","store":"s1","gateway":"gw-1","seq":1,"#,
                r#""time":"1970-01-01T00:00:00.000Z","epc":"ab","sku":null,"from":"a","#,
                r#""last_seen":"1970-01-01T00:00:00.000Z","cause":"missing"}"#
            ),
            concat!(
                r#"{"v":1,"type":"dock.receipt","store":"s1","gateway":"gw-1","seq":1,"#,
                r#""time":"1970-01-01T00:00:00.000Z","dock":"dock-2","shipment":null,"#,
                r#""status":"over","expected":0,"received":0,"missing":[],"unexpected":["ab"],"#,
                r#""by_sku":{},"truncated":true}"#
            ),
            concat!(
                r#"{"v":1,"type":"alert.stockout_forecast","store":"s1","gateway":"gw-1","#,
                r#""seq":1,"time":"1970-01-01T00:00:00.000Z","location":"a","#,
                r#""sku":"00614141000012","count":14,"threshold":10,"rate":12.5,"#,
                r#""below_safety_at":"1970-01-01T00:24:00.000Z"}"#
            ),
        ] {
            let (origin, event) = Event::from_json(golden).expect(golden);
            assert_eq!(event.to_json(&origin), golden);
        }
    }

    #[test]
    fn golden_snapshots_with_and_without_a_forecast() {
        let mut s = StockSnapshot {
            location: "a".into(),
            time_ms: 0,
            counts: [("1".to_string(), 14)].into(),
            baseline: false,
            as_of_seq: 3,
            forecast: BTreeMap::new(),
        };
        // No forecast: exactly the payload of the contract before forecasts existed.
        let head = concat!(
            r#"{"v":1,"type":"stock.snapshot","store":"s1","gateway":"gw-1","#,
            r#""time":"1970-01-01T00:00:00.000Z","location":"a","counts":{"1":14},"#,
            r#""baseline":false,"as_of_seq":3"#
        );
        assert_eq!(s.to_json(&origin()), format!("{head}}}"));
        s.forecast.insert(
            "1".into(),
            SkuForecast {
                rate_per_hour: PerHour::from_milli(12_500),
                empty_at: Some(67 * 60_000 + 200),
                below_safety_at: Some(24 * 60_000),
            },
        );
        s.forecast.insert(
            "2".into(),
            SkuForecast {
                rate_per_hour: PerHour::from_milli(0),
                empty_at: None,
                below_safety_at: None,
            },
        );
        let json = s.to_json(&origin());
        assert_eq!(
            json,
            format!(
                "{head}{}",
                concat!(
                    r#","forecast":{"1":{"rate_per_hour":12.5,"#,
                    r#""empty_at":"1970-01-01T01:07:00.200Z","#,
                    r#""below_safety_at":"1970-01-01T00:24:00.000Z"},"#,
                    r#""2":{"rate_per_hour":0.0}}}"#
                )
            )
        );
        assert_eq!(StockSnapshot::from_json(&json), Ok((origin(), s)));
        // A forecast with a negative rate or a bad time is an error naming it.
        let bad = json.replace("12.5", "-1.0");
        assert!(
            matches!(StockSnapshot::from_json(&bad), Err(PayloadError::Shape { reason, .. }) if reason.contains("rate -1")),
        );
        let bad = json.replace("01:07:00.200Z", "later");
        assert!(
            matches!(StockSnapshot::from_json(&bad), Err(PayloadError::Shape { reason, .. }) if reason.contains("later")),
        );
    }

    #[test]
    fn foreign_payloads_are_errors_naming_the_problem() {
        let arrived = |v: &str, rest: &str| {
            format!(
                r#"{{"v":{v},"type":"tag.arrived","store":"s","gateway":"g","seq":1,"time":"2026-11-22T10:00:00.000Z"{rest}}}"#
            )
        };
        assert_eq!(
            Event::from_json(&arrived("2", r#","epc":"a","sku":null,"location":"x""#)),
            Err(PayloadError::Version { found: 2 })
        );
        // A version 2 payload of another shape still says it is version 2.
        assert_eq!(
            Event::from_json(r#"{"v":2,"kind":"tag.arrived"}"#),
            Err(PayloadError::Version { found: 2 })
        );
        let shape = |payload: &str| match Event::from_json(payload) {
            Err(PayloadError::Shape {
                what: "event",
                reason,
            }) => reason,
            other => panic!("{payload}: {other:?}"),
        };
        assert!(
            shape(&arrived("1", r#","epc":"a","location":"x""#)).contains("missing field `sku`")
        );
        assert!(
            shape(&arrived("1", r#","epc":"a","sku":3,"location":"x""#)).contains("invalid type")
        );
        assert!(
            shape(r#"{"v":1,"type":"tag.teleported","store":"s","gateway":"g","seq":1,"time":"2026-11-22T10:00:00.000Z"}"#)
                .contains("tag.teleported")
        );
        assert!(shape("not json").contains("expected"));
        assert_eq!(
            Event::from_json(
                &arrived("1", r#","epc":"a","sku":null,"location":"x""#)
                    .replace("2026-11-22T10:00:00.000Z", "yesterday")
            ),
            Err(PayloadError::Time {
                time: "yesterday".into()
            })
        );
        // A snapshot is not an event, and an event is not a snapshot.
        let snapshot = StockSnapshot {
            location: "a".into(),
            time_ms: 0,
            counts: BTreeMap::new(),
            baseline: false,
            as_of_seq: 0,
            forecast: BTreeMap::new(),
        }
        .to_json(&origin());
        assert!(!shape(&snapshot).is_empty());
        assert!(matches!(
            StockSnapshot::from_json(&arrived("1", r#","epc":"a","sku":null,"location":"x""#)),
            Err(PayloadError::Shape { what: "stock.snapshot", reason }) if reason.contains("tag.arrived")
        ));
    }
}
