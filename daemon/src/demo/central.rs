//! The picture a central system builds from the gateway's MQTT messages ([`CentralView`]):
//! stock per location (from the retained `stock.snapshot`s, kept current by `stock.changed`
//! events newer than the snapshot), the latest events, counts per event type and the gateway's
//! presence. [`CentralView::apply`] takes one message and says what it was
//! ([`Applied`]), so the plain view can print one line per message. Events and snapshots are
//! read with the typed contract ([`Event::from_slice`], [`StockSnapshot::from_slice`]), as any
//! central consumer would.
//!
//! It owns only that picture; it never talks MQTT (that is [`super::feed`]) and never draws
//! (that is [`super::view`]).

use serde_json::Value;
use shelfd_core::events::{Event, EventBody, EventKind, StockSnapshot};
use shelfd_core::topics::{Topic, Topics};
use std::collections::{BTreeMap, VecDeque};

/// Events kept for the live view.
pub const RECENT_EVENTS: usize = 12;

/// Stock of one location as central knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocationStock {
    /// Location id.
    pub location: String,
    /// Count per SKU (zero counts removed).
    pub counts: BTreeMap<String, u64>,
    /// The last event seq these counts reflect.
    pub as_of_seq: u64,
    /// A snapshot was received for it.
    pub known: bool,
}

impl LocationStock {
    /// Items at the location, all SKUs together.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// What one message was.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    /// An event (also kept in [`CentralView::recent`]).
    Event(Event),
    /// A retained stock snapshot of a location; `baseline` for the first-start one.
    Snapshot {
        /// Location id.
        location: String,
        /// It closes the first-start baseline window.
        baseline: bool,
    },
    /// The gateway's presence (`online` / `offline`).
    Status(String),
    /// A topic of this gateway the view does not show (command results, EPCIS).
    Other,
    /// Not this gateway's, or a payload that does not parse.
    Foreign,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct CentralView {
    topics: Topics,
    stock: Vec<LocationStock>,
    recent: VecDeque<Event>,
    per_type: BTreeMap<EventKind, u64>,
    last_seq: u64,
    events: u64,
    status: Option<String>,
}

impl CentralView {
    /// An empty picture of the gateway under `topics`, listing `locations` in this order
    /// (locations first heard of later are appended).
    pub fn new(topics: Topics, locations: impl IntoIterator<Item = String>) -> Self {
        CentralView {
            topics,
            stock: locations
                .into_iter()
                .map(|location| LocationStock {
                    location,
                    ..LocationStock::default()
                })
                .collect(),
            recent: VecDeque::new(),
            per_type: BTreeMap::new(),
            last_seq: 0,
            events: 0,
            status: None,
        }
    }

    /// Takes one message.
    pub fn apply(&mut self, topic: &str, payload: &[u8]) -> Applied {
        let Some(topic) = self.topics.parse(topic) else {
            return Applied::Foreign;
        };
        match topic {
            Topic::Event(kind) => match Event::from_slice(payload) {
                Ok((_, event)) if event.body.kind() == kind => {
                    self.on_event(&event);
                    Applied::Event(event)
                }
                _ => Applied::Foreign,
            },
            Topic::Stock(location) => match StockSnapshot::from_slice(payload) {
                Ok((_, snapshot)) if snapshot.location == location => self.on_snapshot(snapshot),
                _ => Applied::Foreign,
            },
            Topic::Status => {
                let json = serde_json::from_slice::<Value>(payload).ok();
                match json.as_ref().and_then(|j| j.get("state")?.as_str()) {
                    Some(state) => {
                        self.status = Some(state.to_owned());
                        Applied::Status(state.to_owned())
                    }
                    None => Applied::Foreign,
                }
            }
            Topic::Cmd(_) | Topic::CmdResult(_) | Topic::Epcis => {
                match serde_json::from_slice::<serde::de::IgnoredAny>(payload) {
                    Ok(_) => Applied::Other,
                    Err(_) => Applied::Foreign,
                }
            }
        }
    }

    fn on_event(&mut self, event: &Event) {
        self.events += 1;
        self.last_seq = self.last_seq.max(event.seq);
        *self.per_type.entry(event.body.kind()).or_default() += 1;
        if let EventBody::StockChanged {
            location,
            sku,
            count,
            ..
        } = &event.body
        {
            let stock = self.location_mut(location);
            if event.seq > stock.as_of_seq {
                let sku = sku.clone().unwrap_or_else(|| "null".into());
                if *count == 0 {
                    stock.counts.remove(&sku);
                } else {
                    stock.counts.insert(sku, *count);
                }
                stock.as_of_seq = event.seq;
            }
        }
        self.recent.push_back(event.clone());
        while self.recent.len() > RECENT_EVENTS {
            self.recent.pop_front();
        }
    }

    fn on_snapshot(&mut self, snapshot: StockSnapshot) -> Applied {
        let StockSnapshot {
            location,
            counts,
            baseline,
            as_of_seq,
            ..
        } = snapshot;
        let stock = self.location_mut(&location);
        // A snapshot older than the deltas already applied would undo them.
        if !stock.known || as_of_seq >= stock.as_of_seq {
            stock.counts = counts.into_iter().filter(|(_, n)| *n > 0).collect();
            stock.as_of_seq = as_of_seq;
            stock.known = true;
        }
        Applied::Snapshot { location, baseline }
    }

    fn location_mut(&mut self, location: &str) -> &mut LocationStock {
        let i = match self.stock.iter().position(|s| s.location == location) {
            Some(i) => i,
            None => {
                self.stock.push(LocationStock {
                    location: location.to_owned(),
                    ..LocationStock::default()
                });
                self.stock.len() - 1
            }
        };
        &mut self.stock[i]
    }

    /// Stock per location, in order.
    pub fn stock(&self) -> &[LocationStock] {
        &self.stock
    }

    /// The stock of one location.
    pub fn stock_of(&self, location: &str) -> Option<&LocationStock> {
        self.stock.iter().find(|s| s.location == location)
    }

    /// The latest events, oldest first (at most [`RECENT_EVENTS`]).
    pub fn recent(&self) -> impl Iterator<Item = &Event> {
        self.recent.iter()
    }

    /// Events received so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The highest event seq received.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Events received per kind.
    pub fn per_type(&self) -> &BTreeMap<EventKind, u64> {
        &self.per_type
    }

    /// The gateway's last presence state (`online` / `offline`), once known.
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shelfd_core::events::{Origin, StockSnapshot};

    const BASE: &str = "shelfd/v1/s/g/";

    fn view() -> CentralView {
        CentralView::new(
            Topics::new("shelfd/v1", "s", "g"),
            ["a".to_owned(), "b".to_owned()],
        )
    }

    fn origin() -> Origin {
        Origin {
            store: "s".into(),
            gateway: "g".into(),
        }
    }

    fn snapshot(location: &str, n: u64, as_of_seq: u64, baseline: bool) -> String {
        StockSnapshot {
            location: location.into(),
            time_ms: 0,
            counts: [("sku1".to_owned(), n)].into(),
            baseline,
            as_of_seq,
            forecast: Default::default(),
        }
        .to_json(&origin())
    }

    fn changed(seq: u64, location: &str, count: u64) -> String {
        Event {
            seq,
            time_ms: 0,
            body: EventBody::StockChanged {
                location: location.into(),
                sku: Some("sku1".into()),
                delta: 1,
                count,
            },
        }
        .to_json(&origin())
    }

    #[test]
    fn snapshots_and_newer_deltas_make_the_stock() {
        let mut v = view();
        let applied = v.apply(
            &format!("{BASE}stock/a"),
            snapshot("a", 6, 0, true).as_bytes(),
        );
        assert_eq!(
            applied,
            Applied::Snapshot {
                location: "a".into(),
                baseline: true
            }
        );
        assert_eq!(v.stock_of("a").map(LocationStock::total), Some(6));
        assert!(matches!(
            v.apply(
                &format!("{BASE}event/stock.changed"),
                changed(3, "a", 7).as_bytes()
            ),
            Applied::Event(_)
        ));
        assert_eq!(v.stock_of("a").map(LocationStock::total), Some(7));
        // An older snapshot (as of seq 2) does not undo the delta of seq 3.
        v.apply(
            &format!("{BASE}stock/a"),
            snapshot("a", 6, 2, false).as_bytes(),
        );
        assert_eq!(v.stock_of("a").map(LocationStock::total), Some(7));
        v.apply(
            &format!("{BASE}stock/a"),
            snapshot("a", 5, 4, false).as_bytes(),
        );
        assert_eq!(v.stock_of("a").map(LocationStock::total), Some(5));
        v.apply(
            &format!("{BASE}event/stock.changed"),
            changed(5, "a", 0).as_bytes(),
        );
        assert_eq!(v.stock_of("a").map(|s| s.counts.len()), Some(0));
        // A location not in the config is appended.
        v.apply(
            &format!("{BASE}stock/c"),
            snapshot("c", 1, 5, false).as_bytes(),
        );
        let order: Vec<&str> = v.stock().iter().map(|s| s.location.as_str()).collect();
        assert_eq!(order, ["a", "b", "c"]);
        assert_eq!((v.events(), v.last_seq()), (2, 5));
        assert_eq!(v.per_type().get(&EventKind::StockChanged), Some(&2));
    }

    #[test]
    fn recent_keeps_the_last_events_and_status_is_tracked() {
        let mut v = view();
        for seq in 1..=20 {
            v.apply(
                &format!("{BASE}event/stock.changed"),
                changed(seq, "b", seq).as_bytes(),
            );
        }
        let seqs: Vec<u64> = v.recent().map(|e| e.seq).collect();
        assert_eq!(seqs, (9..=20).collect::<Vec<_>>());
        assert_eq!(
            v.apply(
                &format!("{BASE}status"),
                br#"{"v":1,"type":"status","state":"offline"}"#
            ),
            Applied::Status("offline".into())
        );
        assert_eq!(v.status(), Some("offline"));
    }

    #[test]
    fn foreign_and_other_messages_change_nothing() {
        let mut v = view();
        assert_eq!(v.apply("other/topic", b"{}"), Applied::Foreign);
        assert_eq!(
            v.apply(&format!("{BASE}event/tag.arrived"), b"not json"),
            Applied::Foreign
        );
        assert_eq!(
            v.apply(&format!("{BASE}cmd/ping/result"), br#"{"id":"1"}"#),
            Applied::Other
        );
        // A payload read back whole and typed: a version 2 event, an event on another kind's
        // topic and a snapshot of another location are not taken.
        let event = changed(1, "a", 3);
        assert_eq!(
            v.apply(
                &format!("{BASE}event/stock.changed"),
                event.replace(r#""v":1"#, r#""v":2"#).as_bytes()
            ),
            Applied::Foreign
        );
        assert_eq!(
            v.apply(&format!("{BASE}event/tag.arrived"), event.as_bytes()),
            Applied::Foreign
        );
        assert_eq!(
            v.apply(
                &format!("{BASE}stock/b"),
                snapshot("a", 1, 0, false).as_bytes()
            ),
            Applied::Foreign
        );
        assert_eq!(v.events(), 0);
    }
}
