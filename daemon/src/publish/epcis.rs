//! GS1 EPCIS 2.0 output: one `EPCISDocument` (JSON-LD, EPCIS 2.0 JSON binding) holding one
//! `ObjectEvent` per event that has an EPCIS meaning, derived deterministically from the typed
//! event ([`EpcisMapping::event_document`]; [`EpcisMapping::document`] reads an outbox payload
//! back with [`Event::from_slice`] first) and the config. Documents are never stored: the
//! publisher derives a document when it publishes the event (on
//! `{prefix}/{store}/{gateway}/epcis`, QoS 1, not retained) and `shelfd replay --format epcis`
//! derives the same bytes. This module owns the mapping and the document shape; it never
//! publishes, never reads a clock (`creationDate` is the event's time, so a re-sent document is
//! byte-identical) and never decides what happened (that is the engine's job).
//!
//! # The mapping
//!
//! Every event becomes an `ObjectEvent` with `action` `OBSERVE`: nothing shelfd sees creates
//! (`ADD`, commissioning) or destroys (`DELETE`, decommissioning) an EPC — a store only observes
//! existing objects (GS1.md §9.5). `bizStep` and `disposition` are bare CBV 2.0 words, the form
//! the EPCIS 2.0 JSON schema requires (it rejects `urn:epcglobal:cbv:…` URNs; GS1.md §9.3–9.4).
//! The location URI of a location is its `[[location]] sgln`, else `[epcis]
//! location_uri_prefix` followed by its id.
//!
//! | event | bizStep | disposition | readPoint | bizLocation | what |
//! |---|---|---|---|---|---|
//! | `tag.arrived` at a shelf | `stocking` | `sellable_accessible` | location | location | epcList [epc] |
//! | `tag.arrived` at a backroom | `storing` | `sellable_not_accessible` | location | location | epcList [epc] |
//! | `tag.arrived` at a dock | `arriving` | `in_progress` | location | location | epcList [epc] |
//! | `tag.moved` | as `tag.arrived`, by the kind of `to` | ″ | to | to | epcList [epc]; sourceList / destinationList `location` from / to |
//! | `tag.sold` | `retail_selling` | `retail_sold` | location (the POS) | — | epcList [epc]; sourceList `location` from |
//! | `tag.returned` | `receiving` | `returned` | location | location | epcList [epc] |
//! | `tag.departed`, cause `missing` or `picked` | `cycle_counting` | `unknown` | from | — | epcList [epc]; sourceList `location` from |
//! | `tag.departed`, cause `exit` | `departing` | `unknown` | — | — | epcList [epc]; sourceList `location` from |
//! | `dock.receipt` | `receiving` | `in_progress` | the dock's location | the dock's location | epcList: the `unexpected` EPCs (possibly `[]`); quantityList: per `by_sku` GTIN, its `received` count (when > 0); bizTransactionList `desadv` (with `shipment_uri_prefix`, when the receipt names a shipment) |
//! | `stock.changed`, `alert.*`, `reader.status` | no document | | | | |
//!
//! Which kinds have a document is [`has_document`], an exhaustive match over [`EventKind`].
//! A retained `stock.snapshot` is not an event and never reaches the mapping.
//!
//! Why these words (all from the CBV 2.0 lists in GS1.md §9.4):
//! - **Arrivals and moves** say where the item now is: on the sales floor it is being
//!   `stocking` and `sellable_accessible`; in the backroom `storing` and
//!   `sellable_not_accessible`; at a dock door it is `arriving` and `in_progress` (received but
//!   not yet put away). POS and exit locations never hold stock (the engine emits no arrival or
//!   move there); should one appear it maps to `arriving` / `unknown`.
//! - **A sale** is `retail_selling` / `retail_sold` at the POS. bizLocation is omitted after a
//!   sale and after a departure: bizLocation is where the objects are *after* the event, and a
//!   sold or departed item is at no known business location of the store.
//! - **A return** (a sold item back on a shelf after the hold-off) is `receiving` — the store
//!   takes the item back into its inventory — with disposition `returned`, which overrides the
//!   earlier `retail_sold`. CBV 2.0 has no `returning` business step.
//! - **A missing departure** is the outcome of the shelf readers' continuous partial inventory:
//!   `cycle_counting`, and the item's state is `unknown` (sold without a read, misplaced or
//!   stolen: shelfd cannot tell). readPoint is the location where it was expected.
//! - **An exit departure** (an unsold item read leaving through an exit portal) is `departing`,
//!   disposition `unknown`. The payload does not name the portal (the `alert.exit` event just
//!   before it does), so readPoint is omitted rather than guessed.
//! - **A dock receipt** is `receiving` / `in_progress` at the dock's location (CBV's receiving
//!   step, GS1.md §9.5). The payload lists only missing and unexpected EPCs, so the expected
//!   items that were read appear as class-level quantities (`by_sku` … `received`, which counts
//!   expected items read, like the receipt's `received`), and the unexpected EPCs — read at the
//!   door but not on the ASN — as instances in `epcList`. Missing EPCs were not received and are
//!   not in the event. Each received item also gets its own `tag.arrived` document at the dock.
//!
//! # Identifiers
//!
//! - `epcList`: each EPC's pure-identity URI (`urn:epc:id:sgtin:…`) from [`shelfd_core::epc`]; a '+'
//!   EPC (no company-prefix length on the tag) is written as its GS1 Digital Link; an EPC that
//!   does not decode as `urn:epc:raw:<bits>.x<HEX>`.
//! - `quantityList.epcClass`: the GS1 Digital Link of the GTIN, `https://id.gs1.org/01/<GTIN-14>`
//!   (EPCIS 2.0 accepts it for classes, GS1.md §4). A GTIN-14 alone carries no company-prefix
//!   length, so the `urn:epc:idpat:sgtin:<GCP>.<item ref>.*` form cannot be built without GS1's
//!   prefix-length table. `uom` is omitted (piece counts). SKUs that are not GTIN-14s (mapped
//!   `[[product]]` SKUs, `null`) have no GS1 class and are left out.
//! - `eventID`: `urn:uuid:` + a name-based UUID of (store, gateway, seq), see [`event_id`].
//! - `eventTime` and `creationDate`: the event's `time` (UTC); `eventTimeZoneOffset`: `[epcis]
//!   time_zone_offset`.
//!
//! A payload that is not an event of the contract, or an event that names a location or dock the
//! config does not have (events from before a config change), yields an [`EpcisError`]; the
//! publisher then logs it and publishes the event alone.
//!
//! ```
//! use shelfd::publish::epcis::EpcisMapping;
//! let text = "[gateway]\nstore = \"s1\"\nid = \"gw-1\"\n\
//!     [[reader]]\nid = \"r1\"\nprotocol = \"line\"\nport = \"/dev/ttyUSB0\"\nantennas = { 1 = \"shelf-a\" }\n\
//!     [[location]]\nid = \"shelf-a\"\nkind = \"shelf\"\nsgln = \"urn:epc:id:sgln:0614141.00001.0\"\n\
//!     [epcis]\nenabled = true\ntime_zone_offset = \"+01:00\"\n";
//! let config = shelfd::config::parse(text, std::path::Path::new("shelfd.toml")).unwrap();
//! let epcis = EpcisMapping::from_config(&config).unwrap().expect("enabled");
//! let payload = br#"{"v":1,"type":"tag.arrived","store":"s1","gateway":"gw-1","seq":7,"time":"2026-11-22T10:00:00.000Z","epc":"3074257bf7194e4000001a85","sku":"80614141123458","location":"shelf-a"}"#;
//! assert_eq!(epcis.document(payload).unwrap().unwrap(), concat!(
//!     r#"{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"#,
//!     r#""type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-11-22T10:00:00.000Z","#,
//!     r#""epcisBody":{"eventList":[{"type":"ObjectEvent","eventTime":"2026-11-22T10:00:00.000Z","#,
//!     r#""eventTimeZoneOffset":"+01:00","eventID":"urn:uuid:a2597533-e270-5e4e-a2df-3cdf8ef55c56","#,
//!     r#""epcList":["urn:epc:id:sgtin:0614141.812345.6789"],"action":"OBSERVE","bizStep":"stocking","#,
//!     r#""disposition":"sellable_accessible","readPoint":{"id":"urn:epc:id:sgln:0614141.00001.0"},"#,
//!     r#""bizLocation":{"id":"urn:epc:id:sgln:0614141.00001.0"}}]}}"#));
//! let status = br#"{"v":1,"type":"reader.status","store":"s1","gateway":"gw-1","seq":8,"time":"2026-11-22T10:00:00.000Z","reader":"r1","state":"online","since":"x"}"#;
//! assert_eq!(epcis.document(status).unwrap(), None);
//! ```

pub mod event_id;
#[cfg(test)]
mod tests;

use crate::config::{Config, LocationKind, check_gtin14};
use serde::Serialize;
use shelfd_core::events::{
    DepartCause, Event, EventBody, EventKind, Origin, PayloadError, SkuTally,
};
use std::collections::{BTreeMap, HashMap};

/// The JSON-LD context every document references.
pub const CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
/// The EPCIS schema version of the documents.
pub const SCHEMA_VERSION: &str = "2.0";
/// Base of the class-level identifiers: the GS1 Digital Link of a GTIN.
pub const GTIN_CLASS_BASE: &str = "https://id.gs1.org/01/";

/// The event kinds that map to a document (every other kind maps to none), in
/// [`EventKind::ALL`] order: the kinds for which [`has_document`] is true.
pub const MAPPED_TYPES: [EventKind; 6] = [
    EventKind::TagArrived,
    EventKind::TagMoved,
    EventKind::TagDeparted,
    EventKind::TagSold,
    EventKind::TagReturned,
    EventKind::DockReceipt,
];

/// Whether events of `kind` have an EPCIS document (see the module docs). Exhaustive, so a new
/// kind has to be placed here.
///
/// ```
/// use shelfd::publish::epcis::has_document;
/// use shelfd_core::events::EventKind;
/// assert!(has_document(EventKind::TagSold));
/// assert!(!has_document(EventKind::StockChanged));
/// ```
pub fn has_document(kind: EventKind) -> bool {
    match kind {
        EventKind::TagArrived
        | EventKind::TagMoved
        | EventKind::TagDeparted
        | EventKind::TagSold
        | EventKind::TagReturned
        | EventKind::DockReceipt => true,
        EventKind::StockChanged
        | EventKind::AlertExit
        | EventKind::AlertLowStock
        | EventKind::AlertMisplaced
        | EventKind::AlertStockoutForecast
        | EventKind::ReaderStatus => false,
    }
}

/// An ObjectEvent's `action`. shelfd only ever observes ([`Action::Observe`]); see the module
/// docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Action {
    /// The objects were created or commissioned (not used by shelfd).
    #[serde(rename = "ADD")]
    Add,
    /// The objects were seen, neither created nor destroyed.
    #[serde(rename = "OBSERVE")]
    Observe,
    /// The objects ceased to exist (not used by shelfd).
    #[serde(rename = "DELETE")]
    Delete,
}

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $word:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// Every value shelfd uses.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The bare CBV 2.0 word.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)*
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// The CBV 2.0 business steps shelfd uses (bare words, as the JSON binding requires).
    BizStep {
        /// Items placed on the sales floor.
        Stocking = "stocking",
        /// Items put away in a stock room.
        Storing = "storing",
        /// Items arriving at a dock door.
        Arriving = "arriving",
        /// A sale at a point of sale.
        RetailSelling = "retail_selling",
        /// Goods taken into the store's inventory (dock receipts, customer returns).
        Receiving = "receiving",
        /// The shelf readers' continuous partial inventory (missing departures).
        CycleCounting = "cycle_counting",
        /// Items leaving through an exit portal.
        Departing = "departing",
    }
}

vocabulary! {
    /// The CBV 2.0 dispositions shelfd uses (bare words, as the JSON binding requires).
    Disposition {
        /// On the sales floor, available to customers.
        SellableAccessible = "sellable_accessible",
        /// In stock but not reachable by customers (backroom).
        SellableNotAccessible = "sellable_not_accessible",
        /// In a business process not yet finished (received at a dock).
        InProgress = "in_progress",
        /// Sold at retail.
        RetailSold = "retail_sold",
        /// Returned by a customer.
        Returned = "returned",
        /// State not known (departed without a sale).
        Unknown = "unknown",
    }
}

/// Why no document could be derived from an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EpcisError {
    /// The payload is not an event of the contract.
    #[error("event payload: {0}")]
    Payload(#[from] PayloadError),
    /// The event names a location the config does not have.
    #[error("{kind} seq {seq}: location {location:?} is not in the config")]
    UnknownLocation {
        /// The event type.
        kind: EventKind,
        /// The event's seq.
        seq: u64,
        /// The location id.
        location: String,
    },
    /// A dock receipt names a dock the config does not have.
    #[error("dock.receipt seq {seq}: dock {dock:?} is not in the config")]
    UnknownDock {
        /// The event's seq.
        seq: u64,
        /// The dock id.
        dock: String,
    },
    /// An EPC is not hex of whole 16-bit words.
    #[error("{kind} seq {seq}: EPC {epc:?} is not hex of whole 16-bit words")]
    BadEpc {
        /// The event type.
        kind: EventKind,
        /// The event's seq.
        seq: u64,
        /// The EPC as written.
        epc: String,
    },
}

/// Why EPCIS output cannot be set up for a config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EpcisSetupError {
    /// Locations without an EPCIS location URI.
    #[error(
        "[epcis]: location{} {} ha{} no EPCIS location URI: set [epcis] location_uri_prefix or the locations' sgln",
        if .0.len() == 1 { "" } else { "s" },
        .0.iter().map(|l| format!("{l:?}")).collect::<Vec<_>>().join(", "),
        if .0.len() == 1 { "s" } else { "ve" }
    )]
    NoLocationUri(Vec<String>),
}

/// A location as EPCIS sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    uri: String,
    kind: LocationKind,
}

/// Derives EPCIS documents from events for one config (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpcisMapping {
    time_zone_offset: String,
    locations: HashMap<String, Place>,
    /// Dock id → its location id.
    docks: HashMap<String, String>,
    shipment_uri_prefix: Option<String>,
}

impl EpcisMapping {
    /// The mapping of `config`'s `[epcis]` section and locations, whether or not `enabled` is
    /// set (`shelfd replay --format epcis` uses it either way). Fails when a location has no
    /// URI (a validated config with `enabled = true` always succeeds).
    pub fn new(config: &Config) -> Result<Self, EpcisSetupError> {
        let prefix = config.epcis.location_uri_prefix.as_deref();
        let mut locations = HashMap::new();
        let mut without = Vec::new();
        for l in &config.locations {
            let uri = match (&l.sgln, prefix) {
                (Some(sgln), _) => sgln.clone(),
                (None, Some(prefix)) => format!("{prefix}{}", l.id),
                (None, None) => {
                    without.push(l.id.clone());
                    continue;
                }
            };
            locations.insert(l.id.clone(), Place { uri, kind: l.kind });
        }
        if !without.is_empty() {
            return Err(EpcisSetupError::NoLocationUri(without));
        }
        Ok(EpcisMapping {
            time_zone_offset: config.epcis.time_zone_offset.clone(),
            locations,
            docks: config
                .docks
                .iter()
                .map(|d| (d.id.clone(), d.location.clone()))
                .collect(),
            shipment_uri_prefix: config.epcis.shipment_uri_prefix.clone(),
        })
    }

    /// The mapping when `[epcis] enabled = true`, `None` when EPCIS output is off.
    pub fn from_config(config: &Config) -> Result<Option<Self>, EpcisSetupError> {
        if config.epcis.enabled {
            Self::new(config).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The EPCISDocument of an event payload (as published: [`Event::from_slice`] reads it
    /// back), `None` for event kinds without an EPCIS meaning.
    pub fn document(&self, payload: &[u8]) -> Result<Option<String>, EpcisError> {
        let (origin, event) = Event::from_slice(payload)?;
        self.event_document(&origin, &event)
    }

    /// The EPCISDocument of `event` published by `origin` (one line of JSON, no trailing
    /// newline), `None` for event kinds without an EPCIS meaning ([`has_document`]).
    pub fn event_document(&self, origin: &Origin, e: &Event) -> Result<Option<String>, EpcisError> {
        let kind = e.body.kind();
        if !has_document(kind) {
            return Ok(None);
        }
        let time = shelfd_core::timefmt::rfc3339_ms(e.time_ms);
        let mut event = ObjectEvent {
            kind: "ObjectEvent",
            event_time: time.clone(),
            event_time_zone_offset: self.time_zone_offset.clone(),
            event_id: event_id::event_id(&origin.store, &origin.gateway, e.seq),
            epc_list: None,
            quantity_list: Vec::new(),
            action: Action::Observe,
            biz_step: BizStep::Stocking,
            disposition: Disposition::Unknown,
            read_point: None,
            biz_location: None,
            biz_transaction_list: Vec::new(),
            source_list: Vec::new(),
            destination_list: Vec::new(),
        };
        let ctx = Ctx {
            kind,
            seq: e.seq,
            mapping: self,
        };
        match &e.body {
            EventBody::TagArrived { epc, location, .. } => {
                let at = ctx.place(location)?;
                (event.biz_step, event.disposition) = at_location(at.kind);
                event.epc_list = Some(vec![ctx.epc(epc)?]);
                event.read_point = Some(Id::of(at));
                event.biz_location = Some(Id::of(at));
            }
            EventBody::TagMoved { epc, from, to, .. } => {
                let (from, to) = (ctx.place(from)?, ctx.place(to)?);
                (event.biz_step, event.disposition) = at_location(to.kind);
                event.epc_list = Some(vec![ctx.epc(epc)?]);
                event.read_point = Some(Id::of(to));
                event.biz_location = Some(Id::of(to));
                event.source_list = vec![Source::location(from)];
                event.destination_list = vec![Destination::location(to)];
            }
            EventBody::TagSold {
                epc,
                location,
                from,
                ..
            } => {
                let (pos, from) = (ctx.place(location)?, ctx.place(from)?);
                (event.biz_step, event.disposition) =
                    (BizStep::RetailSelling, Disposition::RetailSold);
                event.epc_list = Some(vec![ctx.epc(epc)?]);
                event.read_point = Some(Id::of(pos));
                event.source_list = vec![Source::location(from)];
            }
            EventBody::TagReturned { epc, location, .. } => {
                let at = ctx.place(location)?;
                (event.biz_step, event.disposition) = (BizStep::Receiving, Disposition::Returned);
                event.epc_list = Some(vec![ctx.epc(epc)?]);
                event.read_point = Some(Id::of(at));
                event.biz_location = Some(Id::of(at));
            }
            EventBody::TagDeparted {
                epc, from, cause, ..
            } => {
                let from = ctx.place(from)?;
                event.epc_list = Some(vec![ctx.epc(epc)?]);
                event.source_list = vec![Source::location(from)];
                event.disposition = Disposition::Unknown;
                match cause {
                    // A weighed pick is observed like a missed re-read: no longer at `from`.
                    DepartCause::Missing | DepartCause::Picked => {
                        event.biz_step = BizStep::CycleCounting;
                        event.read_point = Some(Id::of(from));
                    }
                    DepartCause::Exit => event.biz_step = BizStep::Departing,
                }
            }
            EventBody::DockReceipt {
                dock,
                shipment,
                unexpected,
                by_sku,
                ..
            } => self.receipt(
                &ctx,
                Receipt {
                    dock,
                    shipment: shipment.as_deref(),
                    unexpected,
                    by_sku,
                },
                &mut event,
            )?,
            EventBody::StockChanged { .. }
            | EventBody::AlertExit { .. }
            | EventBody::AlertLowStock { .. }
            | EventBody::AlertMisplaced { .. }
            | EventBody::AlertStockoutForecast { .. }
            | EventBody::ReaderStatus { .. } => return Ok(None),
        }
        let document = Document {
            context: [CONTEXT],
            kind: "EPCISDocument",
            schema_version: SCHEMA_VERSION,
            creation_date: &time,
            body: Body {
                event_list: [event],
            },
        };
        Ok(Some(serde_json::to_string(&document).expect(
            "invariant: documents of strings and integers always serialize",
        )))
    }

    fn receipt(
        &self,
        ctx: &Ctx<'_>,
        p: Receipt<'_>,
        event: &mut ObjectEvent,
    ) -> Result<(), EpcisError> {
        let Some(location) = self.docks.get(p.dock) else {
            return Err(EpcisError::UnknownDock {
                seq: ctx.seq,
                dock: p.dock.to_owned(),
            });
        };
        let at = ctx.place(location)?;
        (event.biz_step, event.disposition) = (BizStep::Receiving, Disposition::InProgress);
        let mut epcs = Vec::with_capacity(p.unexpected.len());
        for epc in p.unexpected {
            let uri = ctx.epc(epc)?;
            if !epcs.contains(&uri) {
                epcs.push(uri);
            }
        }
        event.epc_list = Some(epcs);
        event.quantity_list = p
            .by_sku
            .iter()
            .filter(|(sku, counts)| counts.received > 0 && check_gtin14(sku).is_ok())
            .map(|(sku, counts)| Quantity {
                epc_class: format!("{GTIN_CLASS_BASE}{sku}"),
                quantity: counts.received,
            })
            .collect();
        event.read_point = Some(Id::of(at));
        event.biz_location = Some(Id::of(at));
        if let (Some(prefix), Some(shipment)) = (&self.shipment_uri_prefix, p.shipment) {
            let mut uri = prefix.clone();
            shelfd_core::epc::digital_link::push_percent_encoded(&mut uri, shipment);
            event.biz_transaction_list = vec![BizTransaction {
                kind: "desadv",
                biz_transaction: uri,
            }];
        }
        Ok(())
    }
}

/// The business step and disposition of an item now at a location of `kind`.
fn at_location(kind: LocationKind) -> (BizStep, Disposition) {
    match kind {
        LocationKind::Shelf => (BizStep::Stocking, Disposition::SellableAccessible),
        LocationKind::Backroom => (BizStep::Storing, Disposition::SellableNotAccessible),
        LocationKind::Dock => (BizStep::Arriving, Disposition::InProgress),
        LocationKind::Pos | LocationKind::Exit => (BizStep::Arriving, Disposition::Unknown),
    }
}

/// The EPCIS URI of an EPC given in hex: pure identity, else Digital Link ('+' schemes), else
/// `urn:epc:raw:<bits>.x<HEX>`; `None` when the text is not hex of whole 16-bit words.
///
/// ```
/// use shelfd::publish::epcis::epc_uri;
/// assert_eq!(epc_uri("3074257bf7194e4000001a85").as_deref(), Some("urn:epc:id:sgtin:0614141.812345.6789"));
/// assert_eq!(epc_uri("e2801160600002054e3a7a2b").as_deref(), Some("urn:epc:raw:96.xE2801160600002054E3A7A2B"));
/// assert_eq!(epc_uri("xyz"), None);
/// ```
pub fn epc_uri(hex: &str) -> Option<String> {
    let bytes = shelfd_core::epc::parse_hex(hex).ok()?;
    if let Ok(decoded) = shelfd_core::epc::decode(&bytes) {
        if let Some(uri) = decoded.pure_identity.or(decoded.digital_link) {
            return Some(uri);
        }
    }
    let mut raw = format!("urn:epc:raw:{}.x", bytes.len() * 8);
    for b in &bytes {
        raw.push_str(&format!("{b:02X}"));
    }
    Some(raw)
}

/// What a mapping step needs to resolve names and report errors.
struct Ctx<'a> {
    kind: EventKind,
    seq: u64,
    mapping: &'a EpcisMapping,
}

impl Ctx<'_> {
    fn place(&self, id: &str) -> Result<&Place, EpcisError> {
        self.mapping
            .locations
            .get(id)
            .ok_or_else(|| EpcisError::UnknownLocation {
                kind: self.kind,
                seq: self.seq,
                location: id.into(),
            })
    }

    fn epc(&self, hex: &str) -> Result<String, EpcisError> {
        epc_uri(hex).ok_or_else(|| EpcisError::BadEpc {
            kind: self.kind,
            seq: self.seq,
            epc: hex.into(),
        })
    }
}

/// The fields of a `dock.receipt` the mapping reads.
struct Receipt<'a> {
    dock: &'a str,
    /// None when no ASN was open for the session (everything read is unexpected).
    shipment: Option<&'a str>,
    unexpected: &'a [String],
    by_sku: &'a BTreeMap<String, SkuTally>,
}

// ---- the document (field order is the order in the JSON) --------------------------------------

#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "@context")]
    context: [&'static str; 1],
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "schemaVersion")]
    schema_version: &'static str,
    #[serde(rename = "creationDate")]
    creation_date: &'a str,
    #[serde(rename = "epcisBody")]
    body: Body,
}

#[derive(Serialize)]
struct Body {
    #[serde(rename = "eventList")]
    event_list: [ObjectEvent; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ObjectEvent {
    #[serde(rename = "type")]
    kind: &'static str,
    event_time: String,
    event_time_zone_offset: String,
    #[serde(rename = "eventID")]
    event_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    epc_list: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    quantity_list: Vec<Quantity>,
    action: Action,
    biz_step: BizStep,
    disposition: Disposition,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_point: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    biz_location: Option<Id>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    biz_transaction_list: Vec<BizTransaction>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    source_list: Vec<Source>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    destination_list: Vec<Destination>,
}

#[derive(Serialize)]
struct Id {
    id: String,
}

impl Id {
    fn of(place: &Place) -> Self {
        Id {
            id: place.uri.clone(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Quantity {
    epc_class: String,
    quantity: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BizTransaction {
    #[serde(rename = "type")]
    kind: &'static str,
    biz_transaction: String,
}

#[derive(Serialize)]
struct Source {
    #[serde(rename = "type")]
    kind: &'static str,
    source: String,
}

impl Source {
    fn location(place: &Place) -> Self {
        Source {
            kind: "location",
            source: place.uri.clone(),
        }
    }
}

#[derive(Serialize)]
struct Destination {
    #[serde(rename = "type")]
    kind: &'static str,
    destination: String,
}

impl Destination {
    fn location(place: &Place) -> Self {
        Destination {
            kind: "location",
            destination: place.uri.clone(),
        }
    }
}
