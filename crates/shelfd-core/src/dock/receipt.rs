//! Matching what one receiving session read against a shipment's ASN, and the resulting
//! `dock.receipt`. Pure functions over the session's received items; nothing here knows about
//! time, doors or the store.
//!
//! - EPC-level ASN: `missing` = announced EPCs not read, `unexpected` = EPCs read that were not
//!   announced; `received` = announced EPCs read.
//! - Class-level ASN (`lines`): items are matched by GTIN counts. Per SKU, the first `qty` items
//!   read (in the order they were confirmed at the door, then by EPC) are the expected ones and
//!   any more are `unexpected`; items of SKUs the ASN does not list are `unexpected`.
//!   `missing` stays empty (the EPCs are not known): a shortfall shows in `received <
//!   expected` and in `by_sku`.
//! - No ASN: `shipment` is null, `expected` 0, and everything read is `unexpected` (`over`).
//!
//! `by_sku.received` counts every item of the SKU read in the session, expected or not, so a
//! substituted item (right SKU, other EPC) shows as missing + unexpected with agreeing counts.
//!
//! A receipt must fit one MQTT packet (with its EPCIS document), so it is bounded: `missing` and
//! `unexpected` each list at most [`MAX_LISTED_HEX`] hex characters of EPCs (the lowest EPCs;
//! at least 2 600 SGTIN-96s each), and `by_sku` has at most [`MAX_BY_SKU`] SKUs (those with the
//! most items). `expected` and `received` always count everything. When anything was left out,
//! the receipt carries `"truncated": true` (the field is absent otherwise).

use super::asn::AsnContent;
use crate::events::{EventBody, ReceiptStatus, SkuTally};
use std::collections::BTreeMap;

/// Most hex characters of EPCs listed in `missing`, and separately in `unexpected`.
pub const MAX_LISTED_HEX: usize = 64 * 1024;
/// Most SKUs in `by_sku`.
pub const MAX_BY_SKU: usize = 1_500;

/// One item read and attributed to a door during a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// SKU of the tag as the engine decoded it (None: decodes to no product).
    pub sku: Option<String>,
    /// Gateway time it was confirmed at the door.
    pub t: u64,
}

/// A finished session's receipt (the fields of `dock.receipt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Dock id.
    pub dock: String,
    /// The matched shipment, if any.
    pub shipment: Option<String>,
    /// Overall status.
    pub status: ReceiptStatus,
    /// Items announced.
    pub expected: u64,
    /// Announced items read.
    pub received: u64,
    /// Announced EPCs not read (hex, sorted).
    pub missing: Vec<String>,
    /// EPCs read but not announced (hex, sorted, at most [`MAX_LISTED_HEX`] characters).
    pub unexpected: Vec<String>,
    /// Counts per SKU (at most [`MAX_BY_SKU`]).
    pub by_sku: BTreeMap<String, SkuTally>,
    /// Whether the lists or `by_sku` were cut to their bounds.
    pub truncated: bool,
}

impl Receipt {
    /// The event body.
    pub fn into_event(self) -> EventBody {
        EventBody::DockReceipt {
            dock: self.dock,
            shipment: self.shipment,
            status: self.status,
            expected: self.expected,
            received: self.received,
            missing: self.missing,
            unexpected: self.unexpected,
            by_sku: self.by_sku,
            truncated: self.truncated,
        }
    }
}

fn hex(epc: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(epc.len() * 2);
    for b in epc {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn sku_key(sku: Option<&str>) -> String {
    sku.unwrap_or("null").to_owned()
}

/// How many announced items a session's reads cover: the number used to pick among several
/// open ASNs of a dock.
pub fn overlap(content: &AsnContent, got: &BTreeMap<Vec<u8>, Received>) -> u64 {
    match content {
        AsnContent::Epcs(epcs) => {
            if epcs.len() <= got.len() {
                epcs.iter().filter(|e| got.contains_key(*e)).count() as u64
            } else {
                got.keys().filter(|e| epcs.contains(*e)).count() as u64
            }
        }
        AsnContent::Lines(lines) => {
            let per_sku = count_per_sku(got);
            lines
                .iter()
                .map(|(sku, qty)| {
                    u64::from(*qty).min(per_sku.get(sku.as_str()).copied().unwrap_or(0))
                })
                .sum()
        }
    }
}

fn count_per_sku(got: &BTreeMap<Vec<u8>, Received>) -> BTreeMap<&str, u64> {
    let mut m = BTreeMap::new();
    for r in got.values() {
        *m.entry(r.sku.as_deref().unwrap_or("null")).or_insert(0) += 1;
    }
    m
}

/// Builds the receipt of a session at `dock` that read `got`, against the matched shipment
/// (`None`: no ASN was open). `sku_of` decodes an announced EPC's SKU.
pub fn build(
    dock: &str,
    shipment: Option<(&str, &AsnContent)>,
    got: &BTreeMap<Vec<u8>, Received>,
    sku_of: &dyn Fn(&[u8]) -> Option<String>,
) -> Receipt {
    let mut by_sku: BTreeMap<String, SkuTally> = BTreeMap::new();
    for r in got.values() {
        by_sku
            .entry(sku_key(r.sku.as_deref()))
            .or_default()
            .received += 1;
    }
    let mut missing: Vec<&[u8]> = Vec::new();
    let mut unexpected: Vec<&[u8]> = Vec::new();
    let (expected, received) = match shipment.map(|(_, c)| c) {
        None => {
            unexpected.extend(got.keys().map(Vec::as_slice));
            (0, 0)
        }
        Some(AsnContent::Epcs(epcs)) => {
            let mut received = 0;
            for e in epcs {
                by_sku
                    .entry(sku_key(sku_of(e).as_deref()))
                    .or_default()
                    .expected += 1;
                if got.contains_key(e) {
                    received += 1;
                } else {
                    missing.push(e);
                }
            }
            unexpected.extend(got.keys().filter(|e| !epcs.contains(*e)).map(Vec::as_slice));
            (epcs.len() as u64, received)
        }
        Some(AsnContent::Lines(lines)) => {
            let mut per_sku: BTreeMap<&str, Vec<(u64, &[u8])>> = BTreeMap::new();
            for (epc, r) in got {
                per_sku
                    .entry(r.sku.as_deref().unwrap_or("null"))
                    .or_default()
                    .push((r.t, epc));
            }
            let mut received = 0;
            for (sku, items) in &mut per_sku {
                let qty = lines.get(*sku).map_or(0, |q| *q as usize);
                items.sort_unstable();
                received += qty.min(items.len()) as u64;
                unexpected.extend(items.iter().skip(qty).map(|(_, e)| *e));
            }
            for (sku, qty) in lines {
                by_sku.entry(sku.clone()).or_default().expected += u64::from(*qty);
            }
            (lines.values().map(|q| u64::from(*q)).sum(), received)
        }
    };
    unexpected.sort_unstable();
    let status = ReceiptStatus::of(received < expected, !unexpected.is_empty());
    let (missing, cut_missing) = listed(missing);
    let (unexpected, cut_unexpected) = listed(unexpected);
    let cut_skus = by_sku.len() > MAX_BY_SKU;
    if cut_skus {
        let mut ranked: Vec<(u64, String)> = by_sku
            .iter()
            .map(|(sku, t)| (t.expected.max(t.received), sku.clone()))
            .collect();
        // The most items first, then by SKU.
        ranked.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        for (_, sku) in ranked.into_iter().skip(MAX_BY_SKU) {
            by_sku.remove(&sku);
        }
    }
    Receipt {
        dock: dock.to_owned(),
        shipment: shipment.map(|(s, _)| s.to_owned()),
        status,
        expected,
        received,
        missing,
        unexpected,
        by_sku,
        truncated: cut_missing || cut_unexpected || cut_skus,
    }
}

/// The hex of sorted `epcs` up to [`MAX_LISTED_HEX`] characters, and whether any was left out.
fn listed(epcs: Vec<&[u8]>) -> (Vec<String>, bool) {
    let mut budget = MAX_LISTED_HEX;
    let mut out = Vec::with_capacity(epcs.len());
    for e in &epcs {
        if e.len() * 2 > budget {
            return (out, true);
        }
        budget -= e.len() * 2;
        out.push(hex(e));
    }
    (out, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn got(items: &[(&[u8], Option<&str>, u64)]) -> BTreeMap<Vec<u8>, Received> {
        items
            .iter()
            .map(|(e, s, t)| {
                (
                    e.to_vec(),
                    Received {
                        sku: s.map(str::to_owned),
                        t: *t,
                    },
                )
            })
            .collect()
    }

    fn sku_of(e: &[u8]) -> Option<String> {
        Some(format!("sku{}", e[0]))
    }

    fn epcs(list: &[&[u8]]) -> AsnContent {
        AsnContent::Epcs(list.iter().map(|e| e.to_vec()).collect::<BTreeSet<_>>())
    }

    #[test]
    fn epc_level_statuses() {
        let asn = epcs(&[&[1, 1], &[1, 2], &[2, 1]]);
        let all = got(&[
            (&[1, 1], Some("sku1"), 5),
            (&[1, 2], Some("sku1"), 6),
            (&[2, 1], Some("sku2"), 7),
        ]);
        let r = build("d", Some(("S", &asn)), &all, &sku_of);
        assert_eq!(
            (r.status, r.expected, r.received),
            (ReceiptStatus::Complete, 3, 3)
        );
        assert_eq!(
            r.by_sku["sku1"],
            SkuTally {
                expected: 2,
                received: 2
            }
        );
        let short = got(&[(&[1, 1], Some("sku1"), 5)]);
        let r = build("d", Some(("S", &asn)), &short, &sku_of);
        assert_eq!((r.status, r.received), (ReceiptStatus::Short, 1));
        assert_eq!(r.missing, ["0102", "0201"]);
        assert!(r.unexpected.is_empty());
        let mut over = all.clone();
        over.extend(got(&[(&[9, 9], None, 8)]));
        let r = build("d", Some(("S", &asn)), &over, &sku_of);
        assert_eq!((r.status, r.received), (ReceiptStatus::Over, 3));
        assert_eq!(r.unexpected, ["0909"]);
        assert_eq!(
            r.by_sku["null"],
            SkuTally {
                expected: 0,
                received: 1
            }
        );
        // A substitution: right SKU, other EPC.
        let swapped = got(&[
            (&[1, 1], Some("sku1"), 5),
            (&[1, 3], Some("sku1"), 6),
            (&[2, 1], Some("sku2"), 7),
        ]);
        let r = build("d", Some(("S", &asn)), &swapped, &sku_of);
        assert_eq!(r.status, ReceiptStatus::Mismatch);
        assert_eq!(
            (r.missing.as_slice(), r.unexpected.as_slice()),
            (&["0102".to_string()][..], &["0103".to_string()][..])
        );
        assert_eq!(
            r.by_sku["sku1"],
            SkuTally {
                expected: 2,
                received: 2
            }
        );
        assert_eq!(overlap(&asn, &swapped), 2);
    }

    #[test]
    fn class_level_matches_by_gtin_counts() {
        let lines = AsnContent::Lines([("A".to_string(), 2), ("B".to_string(), 1)].into());
        let read = got(&[
            (&[1], Some("A"), 30),
            (&[2], Some("A"), 10),
            (&[3], Some("A"), 20),
            (&[4], Some("C"), 5),
        ]);
        let r = build("d", Some(("S", &lines)), &read, &sku_of);
        // A: 3 read for 2 expected, the latest confirmed one is the extra; B missing; C extra.
        assert_eq!((r.expected, r.received), (3, 2));
        assert_eq!(r.status, ReceiptStatus::Mismatch);
        assert!(r.missing.is_empty());
        assert_eq!(r.unexpected, ["01", "04"]);
        assert_eq!(
            r.by_sku["A"],
            SkuTally {
                expected: 2,
                received: 3
            }
        );
        assert_eq!(
            r.by_sku["B"],
            SkuTally {
                expected: 1,
                received: 0
            }
        );
        assert_eq!(overlap(&lines, &read), 2);
        let exact = got(&[
            (&[1], Some("A"), 1),
            (&[2], Some("A"), 2),
            (&[5], Some("B"), 3),
        ]);
        let r = build("d", Some(("S", &lines)), &exact, &sku_of);
        assert_eq!((r.status, r.received), (ReceiptStatus::Complete, 3));
    }

    #[test]
    fn no_asn_means_everything_is_unexpected() {
        let read = got(&[(&[1], Some("A"), 1)]);
        let r = build("d", None, &read, &sku_of);
        assert_eq!(
            (r.shipment, r.status, r.expected, r.received),
            (None, ReceiptStatus::Over, 0, 0)
        );
        assert_eq!(r.unexpected, ["01"]);
    }

    #[test]
    fn lists_and_skus_are_bounded_but_counted_and_flagged() {
        // 12-byte EPCs: 24 hex characters each.
        let per_list = MAX_LISTED_HEX / 24;
        let epc = |i: u32| {
            let mut e = vec![0x30; 8];
            e.extend(i.to_be_bytes());
            e
        };
        let read: BTreeMap<Vec<u8>, Received> = (0..per_list as u32 + 5)
            .map(|i| {
                (
                    epc(i),
                    Received {
                        sku: Some("A".into()),
                        t: 0,
                    },
                )
            })
            .collect();
        let r = build("d", None, &read, &sku_of);
        assert_eq!(r.unexpected.len(), per_list);
        assert_eq!(r.unexpected[0], hex(&epc(0)), "the lowest are kept");
        assert_eq!(r.by_sku["A"].received, per_list as u64 + 5);
        assert!(r.truncated);
        // Missing EPCs too, with `expected` still counting all.
        let announced = AsnContent::Epcs(
            (0..per_list as u32 + 1)
                .map(|i| epc(i + 1_000_000))
                .collect(),
        );
        let r = build("d", Some(("S", &announced)), &BTreeMap::new(), &sku_of);
        assert_eq!(
            (r.missing.len(), r.expected),
            (per_list, per_list as u64 + 1)
        );
        assert!(r.truncated);
        // SKUs: the ones with the most items stay.
        let many: BTreeMap<Vec<u8>, Received> = (0..MAX_BY_SKU as u32 + 2)
            .flat_map(|i| {
                let n = if i == MAX_BY_SKU as u32 + 1 { 3 } else { 1 };
                (0..n).map(move |k| {
                    (
                        epc(i * 10 + k),
                        Received {
                            sku: Some(format!("S{i:05}")),
                            t: 0,
                        },
                    )
                })
            })
            .collect();
        let r = build("d", None, &many, &sku_of);
        assert_eq!(r.by_sku.len(), MAX_BY_SKU);
        assert_eq!(r.by_sku[&format!("S{:05}", MAX_BY_SKU + 1)].received, 3);
        assert!(!r.by_sku.contains_key(&format!("S{:05}", MAX_BY_SKU)));
        assert!(r.truncated);
        // Nothing cut: no flag.
        let small = got(&[(&[1], Some("A"), 1)]);
        assert!(!build("d", None, &small, &sku_of).truncated);
    }
}
