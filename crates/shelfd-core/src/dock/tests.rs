use super::*;
use crate::dock::asn::AsnContent;
use crate::events::ReceiptStatus;

const HOUR: u64 = 3_600_000;

fn book() -> DockBook {
    DockBook::new(
        vec![
            DockSpec {
                id: "d1".into(),
                location: 3,
                rule: SessionRule::Door {
                    gpio: "door1".into(),
                    dwell: 10_000,
                },
                asn_ttl: 24 * HOUR,
            },
            DockSpec {
                id: "d2".into(),
                location: 4,
                rule: SessionRule::Quiet { quiet: 20_000 },
                asn_ttl: 24 * HOUR,
            },
        ],
        ["door1".to_string(), "spare".to_string()],
    )
}

fn sku_of(e: &[u8]) -> Option<String> {
    Some(format!("sku{}", e[0]))
}

fn epc_asn(shipment: &str, dock: &str, epcs: &[&[u8]]) -> Asn {
    Asn {
        shipment: shipment.into(),
        dock: dock.into(),
        content: AsnContent::Epcs(epcs.iter().map(|e| e.to_vec()).collect()),
    }
}

fn confirm(b: &mut DockBook, t: u64, loc: u16, epc: &[u8]) {
    let sku = sku_of(epc);
    b.confirmed(t, loc, epc, sku.as_deref());
}

#[test]
fn a_door_session_receives_until_dwell_after_close() {
    let mut b = book();
    b.accept(0, epc_asn("S1", "d1", &[&[1, 1], &[1, 2]]))
        .expect("asn");
    confirm(&mut b, 500, 3, &[1, 1]); // door still closed: stock only, not received
    b.door(1_000, "door1", true).expect("door");
    assert_eq!(b.lights()[0].1, Light::Receiving);
    confirm(&mut b, 2_000, 3, &[1, 2]);
    b.door(3_000, "door1", false).expect("door");
    confirm(&mut b, 12_000, 3, &[1, 1]); // within the dwell
    assert!(b.sweep(12_000, &sku_of).is_empty());
    let r = b.sweep(13_000, &sku_of);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].status, ReceiptStatus::Complete);
    assert_eq!(r[0].shipment.as_deref(), Some("S1"));
    assert_eq!(b.lights()[0].1, Light::Complete);
    assert!(matches!(
        b.shipments().get("S1"),
        Some(StoredAsn::Received { .. })
    ));
    assert!(b.session("d1").is_none());
    // A read after the session's end counts for nothing.
    confirm(&mut b, 14_000, 3, &[1, 9]);
    assert!(b.sweep(100_000, &sku_of).is_empty());
}

#[test]
fn a_bouncing_door_continues_its_session() {
    let mut b = book();
    b.door(1_000, "door1", true).expect("door");
    confirm(&mut b, 1_500, 3, &[1, 1]);
    b.door(2_000, "door1", false).expect("door");
    b.door(2_000, "door1", false).expect("repeated level");
    b.door(5_000, "door1", true).expect("bounce");
    confirm(&mut b, 6_000, 3, &[1, 2]);
    assert!(b.sweep(20_000, &sku_of).is_empty(), "the door is open");
    b.door(21_000, "door1", false).expect("door");
    assert!(b.sweep(30_000, &sku_of).is_empty());
    let r = b.sweep(31_000, &sku_of);
    assert_eq!(r.len(), 1, "one session, one receipt");
    assert_eq!(r[0].shipment, None);
    assert_eq!(r[0].unexpected, ["0101", "0102"]);
    assert_eq!(b.lights()[0].1, Light::Problem);
}

#[test]
fn unknown_gpios_are_errors_and_other_inputs_are_ignored() {
    let mut b = book();
    assert_eq!(
        b.door(1, "door9", true),
        Err(super::UnknownGpio("door9".into()))
    );
    b.door(1, "spare", true).expect("a known non-door input");
    assert!(b.session("d1").is_none());
    assert!(b.take_changes().is_empty());
}

#[test]
fn the_quiet_rule_opens_on_a_confirmation_and_ends_after_quiet() {
    let mut b = book();
    confirm(&mut b, 10_000, 4, &[2, 1]);
    assert_eq!(b.session("d2").map(|s| s.opened), Some(10_000));
    confirm(&mut b, 25_000, 4, &[2, 2]);
    confirm(&mut b, 40_000, 4, &[2, 1]); // already received: no new item
    assert!(b.sweep(44_000, &sku_of).is_empty());
    let r = b.sweep(45_000, &sku_of);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].dock, "d2");
    assert_eq!(r[0].unexpected.len(), 2);
}

#[test]
fn a_tag_moving_to_the_other_door_leaves_the_first_session() {
    let mut b = DockBook::new(
        vec![
            DockSpec {
                id: "a".into(),
                location: 0,
                rule: SessionRule::Quiet { quiet: 5_000 },
                asn_ttl: HOUR,
            },
            DockSpec {
                id: "b".into(),
                location: 1,
                rule: SessionRule::Quiet { quiet: 5_000 },
                asn_ttl: HOUR,
            },
        ],
        [],
    );
    confirm(&mut b, 1_000, 0, &[7, 7]);
    confirm(&mut b, 1_000, 1, &[8, 8]);
    confirm(&mut b, 3_000, 1, &[7, 7]);
    assert_eq!(b.session("a").map(|s| s.received.len()), Some(0));
    let r = b.sweep(9_000, &sku_of);
    assert_eq!(r.len(), 1, "a received nothing: no receipt");
    assert_eq!(r[0].unexpected, ["0707", "0808"]);
    assert_eq!(
        b.take_notices()
            .iter()
            .filter(|n| matches!(n, Notice::EmptySession { .. }))
            .count(),
        1
    );
}

#[test]
fn asns_are_idempotent_and_conflicts_are_errors() {
    let mut b = book();
    let a = epc_asn("S1", "d1", &[&[1, 1]]);
    assert_eq!(b.accept(5, a.clone()), Ok(AsnAccepted::Stored));
    assert_eq!(b.accept(6, a.clone()), Ok(AsnAccepted::Unchanged));
    let other = epc_asn("S1", "d1", &[&[1, 2]]);
    let err = b.accept(7, other).expect_err("conflict");
    assert_eq!(
        (err.field.as_str(), err.value.as_deref()),
        ("shipment", Some("\"S1\""))
    );
    assert_eq!(
        err.to_string(),
        "shipment \"S1\" is already stored for dock \"d1\" with different content (1 EPCs, \
         this one has 1 EPCs); send changes under a new shipment id"
    );
    let err = b
        .accept(7, epc_asn("S2", "d9", &[&[1, 2]]))
        .expect_err("unknown dock");
    assert_eq!(err.field, "dock");
    assert_eq!(err.to_string(), "unknown dock \"d9\" (configured: d1, d2)");
    assert_eq!(b.shipments().len(), 1);
    // After the receipt, the same content is recognised; different content is refused.
    b.door(10, "door1", true).expect("door");
    confirm(&mut b, 20, 3, &[1, 1]);
    b.door(30, "door1", false).expect("door");
    assert_eq!(b.sweep(20_000, &sku_of).len(), 1);
    assert_eq!(b.accept(20_001, a), Ok(AsnAccepted::AlreadyReceived));
    let err = b
        .accept(20_002, epc_asn("S1", "d1", &[&[1, 1], &[1, 3]]))
        .expect_err("conflict");
    assert!(
        err.to_string()
            .contains("was already received at dock \"d1\""),
        "{err}"
    );
}

#[test]
fn the_open_asn_the_reads_cover_most_is_matched() {
    let mut b = book();
    b.accept(1, epc_asn("OLD", "d1", &[&[1, 1], &[1, 2]]))
        .expect("asn");
    b.accept(2, epc_asn("NEW", "d1", &[&[2, 1], &[2, 2]]))
        .expect("asn");
    b.accept(3, epc_asn("ELSEWHERE", "d2", &[&[2, 1], &[2, 2]]))
        .expect("asn");
    b.door(10, "door1", true).expect("door");
    confirm(&mut b, 20, 3, &[2, 1]);
    b.door(30, "door1", false).expect("door");
    let r = b.sweep(20_000, &sku_of);
    assert_eq!(r[0].shipment.as_deref(), Some("NEW"));
    assert_eq!(r[0].status, ReceiptStatus::Short);
    // With no overlap at all, no ASN is matched: OLD stays open for its own delivery.
    b.door(30_000, "door1", true).expect("door");
    confirm(&mut b, 30_500, 3, &[9, 9]);
    b.door(31_000, "door1", false).expect("door");
    let r = b.sweep(50_000, &sku_of);
    assert_eq!(r[0].shipment, None);
    assert_eq!(r[0].status, ReceiptStatus::Over);
    assert!(matches!(
        b.shipments().get("OLD"),
        Some(StoredAsn::Open { .. })
    ));
    // Equal cover: the oldest ASN wins.
    b.accept(60_000, epc_asn("NEWER", "d1", &[&[1, 1], &[1, 3]]))
        .expect("asn");
    b.door(60_000, "door1", true).expect("door");
    confirm(&mut b, 60_500, 3, &[1, 1]);
    b.door(61_000, "door1", false).expect("door");
    let r = b.sweep(80_000, &sku_of);
    assert_eq!(r[0].shipment.as_deref(), Some("OLD"));
    assert_eq!(r[0].status, ReceiptStatus::Short);
}

#[test]
fn an_empty_session_leaves_the_asn_open() {
    let mut b = book();
    b.accept(1, epc_asn("S1", "d1", &[&[1, 1]])).expect("asn");
    b.door(10, "door1", true).expect("door");
    b.door(20, "door1", false).expect("door");
    assert!(b.sweep(20_000, &sku_of).is_empty());
    assert!(matches!(
        b.shipments().get("S1"),
        Some(StoredAsn::Open { .. })
    ));
    assert_eq!(b.lights()[0].1, Light::Off);
}

#[test]
fn unmatched_asns_expire_and_tombstones_go_after_the_ttl() {
    let mut b = book();
    b.accept(0, epc_asn("S1", "d1", &[&[1, 1]])).expect("asn");
    b.accept(HOUR, epc_asn("S2", "d2", &[&[2, 1]]))
        .expect("asn");
    b.sweep(24 * HOUR - 1, &sku_of);
    assert_eq!(b.shipments().len(), 2);
    b.sweep(24 * HOUR, &sku_of);
    assert_eq!(b.shipments().keys().collect::<Vec<_>>(), ["S2"]);
    assert_eq!(
        b.take_notices(),
        [Notice::AsnExpired {
            shipment: "S1".into(),
            dock: "d1".into(),
            accepted: 0
        }]
    );
    assert_eq!(b.take_changes().asn_deletes, ["S1"]);
    // S2 is received; its tombstone stays a ttl after the receipt.
    confirm(&mut b, 24 * HOUR + 1, 4, &[2, 1]);
    assert_eq!(b.sweep(24 * HOUR + 30_000, &sku_of).len(), 1);
    b.sweep(48 * HOUR, &sku_of);
    assert!(b.shipments().contains_key("S2"));
    b.sweep(48 * HOUR + 30_000, &sku_of);
    assert!(b.shipments().is_empty());
    assert!(
        b.take_notices()
            .iter()
            .all(|n| !matches!(n, Notice::AsnExpired { .. }))
    );
}

#[test]
fn an_asn_does_not_expire_while_its_dock_is_in_a_session() {
    let mut b = book();
    b.accept(0, epc_asn("S1", "d1", &[&[1, 1]])).expect("asn");
    b.door(24 * HOUR - 5, "door1", true).expect("door");
    b.sweep(24 * HOUR + 1_000, &sku_of);
    assert!(b.shipments().contains_key("S1"));
    confirm(&mut b, 24 * HOUR + 2_000, 3, &[1, 1]);
    b.door(24 * HOUR + 3_000, "door1", false).expect("door");
    let r = b.sweep(24 * HOUR + 13_000, &sku_of);
    assert_eq!(r[0].status, ReceiptStatus::Complete);
}

#[test]
fn too_many_waiting_asns_are_refused() {
    let mut b = book();
    for i in 0..MAX_OPEN_ASNS {
        b.accept(0, epc_asn(&format!("S{i}"), "d1", &[&[1, 1]]))
            .expect("room");
    }
    let err = b
        .accept(0, epc_asn("ONE-MORE", "d1", &[&[1, 1]]))
        .expect_err("full");
    assert!(
        err.to_string()
            .starts_with("1000 shipments are already waiting"),
        "{err}"
    );
}

#[test]
fn state_survives_a_restore_mid_session() {
    let mut b = book();
    b.accept(0, epc_asn("S1", "d1", &[&[1, 1], &[1, 2]]))
        .expect("asn");
    b.door(1_000, "door1", true).expect("door");
    confirm(&mut b, 2_000, 3, &[1, 1]);
    confirm(&mut b, 2_500, 4, &[5, 5]);
    let c = b.take_changes();
    assert_eq!(c.docks.len(), 2);
    assert_eq!(c.asn_puts.len(), 1);
    let mut again = book();
    let report = again
        .restore(
            c.docks.clone(),
            c.asn_puts
                .iter()
                .cloned()
                .chain([("GONE".to_string(), {
                    let mut other = book();
                    other
                        .accept(0, epc_asn("GONE", "d2", &[&[1]]))
                        .expect("asn");
                    other.take_changes().asn_puts[0].1.clone()
                })])
                .collect(),
        )
        .expect("restore");
    assert_eq!(
        report,
        DockRestoreReport {
            sessions: 2,
            shipments: 2,
            dropped: 0
        }
    );
    assert_eq!(again.session("d1"), b.session("d1"));
    assert_eq!(again.lights(), b.lights());
    confirm(&mut again, 3_000, 3, &[1, 2]);
    again.door(4_000, "door1", false).expect("door");
    let r = again.sweep(14_000, &sku_of);
    assert_eq!(r.len(), 1, "d2's quiet session goes on");
    assert_eq!(r[0].status, ReceiptStatus::Complete);
    // A record of a dock that is gone is dropped and deleted.
    let mut fewer = DockBook::new(vec![], []);
    let report = fewer.restore(c.docks, c.asn_puts).expect("restore");
    assert_eq!(report.dropped, 3);
    let changes = fewer.take_changes();
    assert_eq!(changes.dock_deletes, ["d1", "d2"]);
    assert_eq!(changes.asn_deletes, ["S1"]);
    let err = book()
        .restore(vec![("d1".into(), vec![9])], vec![])
        .expect_err("corrupt");
    assert_eq!(
        err.to_string(),
        "corrupt dock record \"d1\": unknown record version 9"
    );
}
