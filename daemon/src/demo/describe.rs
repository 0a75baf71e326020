//! Events in words: [`describe`] turns one typed [`Event`] into the line a person reads, so the
//! demo can describe exactly what arrived over MQTT (read back with
//! [`Event::from_slice`](shelfd_core::events::Event::from_slice)). It neither builds nor parses
//! payloads (that is [`shelfd_core::events`]).

use shelfd_core::events::{DepartCause, Event, EventBody, ReaderState};

/// Product names for SKUs (the demo's GTINs → "shirt", "jeans", "cap"); unknown SKUs print as
/// they are.
pub trait SkuNames {
    /// The display name of `sku`, if known.
    fn name(&self, sku: &str) -> Option<&str>;
}

/// No names: every SKU prints as its GTIN.
impl SkuNames for () {
    fn name(&self, _sku: &str) -> Option<&str> {
        None
    }
}

fn short(epc: &str) -> String {
    format!("…{}", epc.get(epc.len().saturating_sub(6)..).unwrap_or(epc))
}

/// One readable line per event, SKUs as GTINs.
///
/// ```
/// use shelfd_core::events::{Event, EventBody};
/// let e = Event { seq: 7, time_ms: 1_795_341_600_000, body: EventBody::TagSold {
///     epc: "3074257bf7194e4000001a85".into(), sku: Some("00614141000012".into()),
///     location: "pos-1".into(), from: "shelf-a1".into() } };
/// assert_eq!(shelfd::demo::describe(&e),
///     "[10:00:00] #7    SOLD      …001a85 (00614141000012) at pos-1, from shelf-a1");
/// ```
pub fn describe(e: &Event) -> String {
    describe_with(e, &())
}

/// [`describe`] with product names for SKUs.
pub fn describe_with(e: &Event, names: &dyn SkuNames) -> String {
    let time = shelfd_core::timefmt::rfc3339_ms(e.time_ms);
    let clock = time.get(11..19).unwrap_or("");
    let sku = |s: &Option<String>| match s {
        Some(s) => names.name(s).unwrap_or(s).to_owned(),
        None => "-".to_owned(),
    };
    let what = match &e.body {
        EventBody::TagArrived {
            epc,
            sku: s,
            location,
        } => format!("arrived   {} ({}) at {location}", short(epc), sku(s)),
        EventBody::TagMoved {
            epc,
            sku: s,
            from,
            to,
        } => format!("moved     {} ({}) {from} → {to}", short(epc), sku(s)),
        EventBody::TagDeparted {
            epc,
            sku: s,
            from,
            cause,
            ..
        } => {
            let cause = match cause {
                DepartCause::Missing => "missing",
                DepartCause::Exit => "through the exit",
                DepartCause::Picked => "picked, the shelf weighed it",
            };
            format!(
                "departed  {} ({}) from {from} ({cause})",
                short(epc),
                sku(s)
            )
        }
        EventBody::TagSold {
            epc,
            sku: s,
            location,
            from,
        } => format!(
            "SOLD      {} ({}) at {location}, from {from}",
            short(epc),
            sku(s)
        ),
        EventBody::TagReturned {
            epc,
            sku: s,
            location,
        } => format!("returned  {} ({}) to {location}", short(epc), sku(s)),
        EventBody::StockChanged {
            location,
            sku: s,
            delta,
            count,
        } => format!("stock     {location} {}: {delta:+} → {count}", sku(s)),
        EventBody::AlertExit {
            epc,
            sku: s,
            location,
            from,
        } => format!(
            "ALERT     unsold {} ({}) left through {location} (from {from})",
            short(epc),
            sku(s)
        ),
        EventBody::AlertLowStock {
            location,
            sku: s,
            count,
            threshold,
        } => format!(
            "ALERT     low stock of {} at {location}: {count} < {threshold}",
            sku(s)
        ),
        EventBody::AlertStockoutForecast {
            location,
            sku: s,
            count,
            threshold,
            rate_per_hour,
            below_safety_at,
        } => format!(
            "ALERT     stock-out forecast of {} at {location}: {count} now, {rate_per_hour}, below {threshold} at {}",
            sku(s),
            below_safety_at.get(11..19).unwrap_or(below_safety_at)
        ),
        EventBody::AlertMisplaced {
            epc,
            sku: s,
            location,
            expected,
        } => format!(
            "ALERT     misplaced {} ({}) at {location} (belongs at {})",
            short(epc),
            sku(s),
            if expected.is_empty() {
                "no planogram".to_owned()
            } else {
                expected.join(", ")
            }
        ),
        EventBody::ReaderStatus { reader, state, .. } => {
            let state = match state {
                ReaderState::Online => "online",
                ReaderState::Offline => "offline",
            };
            format!("reader    {reader} {state}")
        }
        EventBody::DockReceipt {
            dock,
            shipment,
            status,
            expected,
            received,
            ..
        } => format!(
            "RECEIPT   {dock} {}: {}, {received}/{expected} received",
            shipment.as_deref().unwrap_or("(no ASN)"),
            status.as_str()
        ),
    };
    format!("[{clock}] #{:<4} {what}", e.seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shelfd_core::events::{EventKind, Origin, ReceiptStatus, SkuTally};

    fn every_kind() -> Vec<EventBody> {
        let (epc, sku) = ("3074257bf7194e4000001a85".to_owned(), Some("1".to_owned()));
        vec![
            EventBody::TagArrived {
                epc: epc.clone(),
                sku: sku.clone(),
                location: "a".into(),
            },
            EventBody::TagMoved {
                epc: epc.clone(),
                sku: None,
                from: "a".into(),
                to: "b".into(),
            },
            EventBody::TagDeparted {
                epc: epc.clone(),
                sku: sku.clone(),
                from: "a".into(),
                last_seen: "2026-11-22T10:00:00.000Z".into(),
                cause: DepartCause::Exit,
            },
            EventBody::TagSold {
                epc: epc.clone(),
                sku: sku.clone(),
                location: "p".into(),
                from: "a".into(),
            },
            EventBody::TagReturned {
                epc: epc.clone(),
                sku: sku.clone(),
                location: "a".into(),
            },
            EventBody::StockChanged {
                location: "a".into(),
                sku: sku.clone(),
                delta: -2,
                count: 4,
            },
            EventBody::AlertExit {
                epc,
                sku,
                location: "x".into(),
                from: "a".into(),
            },
            EventBody::ReaderStatus {
                reader: "r1".into(),
                state: ReaderState::Offline,
                since: "2026-11-22T10:00:00.000Z".into(),
            },
            EventBody::AlertLowStock {
                location: "a".into(),
                sku: Some("1".into()),
                count: 2,
                threshold: 3,
            },
            EventBody::AlertMisplaced {
                epc: "30".into(),
                sku: Some("1".into()),
                location: "b".into(),
                expected: vec!["a".into(), "c".into()],
            },
            EventBody::AlertStockoutForecast {
                location: "a".into(),
                sku: Some("1".into()),
                count: 9,
                threshold: 3,
                rate_per_hour: shelfd_core::events::PerHour::from_milli(12_500),
                below_safety_at: "2026-11-22T10:29:00.000Z".into(),
            },
            EventBody::DockReceipt {
                dock: "d1".into(),
                shipment: Some("SHP-1".into()),
                status: ReceiptStatus::Short,
                expected: 3,
                received: 2,
                missing: vec!["3031".into()],
                unexpected: vec![],
                by_sku: [(
                    "1".to_owned(),
                    SkuTally {
                        expected: 3,
                        received: 2,
                    },
                )]
                .into(),
                truncated: false,
            },
            EventBody::DockReceipt {
                dock: "d1".into(),
                shipment: None,
                status: ReceiptStatus::Over,
                expected: 0,
                received: 0,
                missing: vec![],
                unexpected: vec!["3032".into()],
                by_sku: Default::default(),
                truncated: true,
            },
        ]
    }

    #[test]
    fn every_kind_read_back_from_its_payload_has_a_line() {
        let origin = Origin {
            store: "s".into(),
            gateway: "g".into(),
        };
        let bodies = every_kind();
        for kind in EventKind::ALL {
            assert!(bodies.iter().any(|b| b.kind() == kind), "no {kind} sample");
        }
        for (i, body) in bodies.into_iter().enumerate() {
            let e = Event {
                seq: i as u64 + 1,
                time_ms: 1_795_341_600_000 + i as u64,
                body,
            };
            let (_, read) = Event::from_json(&e.to_json(&origin)).expect("reads back");
            assert_eq!(read, e);
            let line = describe(&read);
            assert!(
                line.starts_with(&format!("[10:00:00] #{:<4} ", e.seq)),
                "{line}"
            );
        }
    }

    #[test]
    fn names_replace_skus() {
        struct Shirts;
        impl SkuNames for Shirts {
            fn name(&self, sku: &str) -> Option<&str> {
                (sku == "1").then_some("shirt")
            }
        }
        let e = Event {
            seq: 12,
            time_ms: 1_795_341_600_000,
            body: EventBody::StockChanged {
                location: "shelf-a1".into(),
                sku: Some("1".into()),
                delta: -1,
                count: 5,
            },
        };
        assert_eq!(
            describe_with(&e, &Shirts),
            "[10:00:00] #12   stock     shelf-a1 shirt: -1 → 5"
        );
        assert_eq!(
            describe(&e),
            "[10:00:00] #12   stock     shelf-a1 1: -1 → 5"
        );
    }
}
