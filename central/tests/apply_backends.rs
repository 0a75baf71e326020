//! The apply rules (exactly once, seq order, parked successors, gaps → resync → snapshots,
//! stale snapshots ignored, lost state, dropped events) on both backends: the same scenarios on
//! a SQLite file and on a real PostgreSQL started by the test (testkit `Postgres`). The
//! resync commands central sends are validated against `contract/schemas/commands/resync.json`.

use shelfd_central::apply::{Applier, Message, OutboxIn, StatusIn, classify};
use shelfd_central::db::{DbUrl, Sql, schema};
use shelfd_central::inventory;
use shelfd_core::events::{Event, EventBody, Origin, StockSnapshot};
use shelfd_testkit::Postgres;
use shelfd_testkit::contract::contract;
use std::collections::BTreeMap;

const PREFIX: &str = "shelfd/v1";
const GTIN: &str = "80614141123458";

fn origin(gw: &str) -> Origin {
    Origin {
        store: "s1".into(),
        gateway: gw.into(),
    }
}

/// The message a gateway would publish for `body` at `seq`, read back the way the consumer
/// reads it (topic and payload through `classify`).
fn event(gw: &str, seq: u64, body: EventBody) -> Message {
    let kind = body.kind();
    let payload = Event {
        seq,
        time_ms: 1_795_341_600_000 + seq * 1000,
        body,
    }
    .to_json(&origin(gw));
    classify(
        PREFIX,
        &format!("{PREFIX}/s1/{gw}/event/{kind}"),
        payload.as_bytes(),
    )
    .expect("a gateway's own event classifies")
}

fn changed(gw: &str, seq: u64, location: &str, count: u64) -> Message {
    event(
        gw,
        seq,
        EventBody::StockChanged {
            location: location.into(),
            sku: Some(GTIN.into()),
            delta: 0,
            count,
        },
    )
}

fn sold(gw: &str, seq: u64, n: u64) -> Message {
    event(
        gw,
        seq,
        EventBody::TagSold {
            epc: format!("3074257bf7194e40000{n:05x}"),
            sku: Some(GTIN.into()),
            location: "pos-1".into(),
            from: "shelf-a".into(),
        },
    )
}

fn snapshot(gw: &str, location: &str, count: u64, as_of_seq: u64) -> Message {
    let payload = StockSnapshot {
        location: location.into(),
        time_ms: 1_795_341_600_000,
        counts: BTreeMap::from([(GTIN.to_string(), count)]),
        baseline: false,
        as_of_seq,
        forecast: BTreeMap::new(),
    }
    .to_json(&origin(gw));
    classify(
        PREFIX,
        &format!("{PREFIX}/s1/{gw}/stock/{location}"),
        payload.as_bytes(),
    )
    .expect("snapshot classifies")
}

fn status(gw: &str, boot: &str, dropped: u64, last_seq: u64) -> Message {
    Message::Status {
        store: "s1".into(),
        gateway: gw.into(),
        status: StatusIn {
            state: "online".into(),
            boot_id: boot.into(),
            outbox: Some(OutboxIn {
                entries: 0,
                dropped,
                last_seq,
            }),
        },
    }
}

fn count(db: &mut dyn Sql, gw: &str, location: &str) -> u64 {
    let rows = db
        .query(
            "SELECT count FROM stock WHERE store = 's1' AND gateway = $1 AND location = $2 AND sku = $3",
            &[gw.into(), location.into(), GTIN.into()],
        )
        .expect("query");
    rows.first().map_or(0, |r| r[0].int() as u64)
}

fn sales(db: &mut dyn Sql, gw: &str) -> u64 {
    db.query(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM sales WHERE gateway = $1",
        &[gw.into()],
    )
    .expect("query")[0][0]
        .int() as u64
}

fn gateway(db: &mut dyn Sql, gw: &str) -> inventory::GatewayView {
    inventory::gateways(db)
        .expect("gateways")
        .into_iter()
        .find(|g| g.gateway == gw)
        .unwrap_or_else(|| panic!("gateway {gw} known"))
}

fn resync_id(c: &shelfd_central::apply::Outgoing, gw: &str) -> String {
    assert_eq!(c.topic, format!("{PREFIX}/s1/{gw}/cmd/resync"));
    let json: serde_json::Value = serde_json::from_str(&c.payload).expect("json");
    contract()
        .validate("commands/resync.json", &json)
        .expect("central's resync follows the contract");
    json["id"].as_str().expect("id").to_owned()
}

fn resync_result(gw: &str, id: &str) -> Message {
    let payload = serde_json::json!({"v":1,"type":"cmd.result","op":"resync","id":id,"ok":true,"snapshots":1});
    contract()
        .validate("cmd.result.json", &payload)
        .expect("the test's result follows the contract");
    classify(
        PREFIX,
        &format!("{PREFIX}/s1/{gw}/cmd/resync/result"),
        payload.to_string().as_bytes(),
    )
    .expect("result classifies")
}

const T0: u64 = 2_000_000_000_000;

fn scenarios(db: &mut dyn Sql) {
    schema::migrate(db).expect("migrate");
    schema::migrate(db).expect("migrating twice is a no-op");
    assert_eq!(schema::version(db).expect("version"), 1);
    let mut a = Applier::new(PREFIX, 1000, 10_000, "t");

    // Exactly once: a batch delivered twice (a crash between commit and ack) counts once.
    let batch = vec![
        changed("g1", 1, "shelf-a", 5),
        sold("g1", 2, 1),
        changed("g1", 3, "shelf-a", 4),
    ];
    let r = a.apply_batch(db, &batch, T0).expect("apply");
    assert_eq!((r.applied, r.duplicates), (3, 0));
    let r = a.apply_batch(db, &batch, T0).expect("apply again");
    assert_eq!((r.applied, r.duplicates), (0, 3));
    assert_eq!(count(db, "g1", "shelf-a"), 4);
    assert_eq!(sales(db, "g1"), 1);
    assert_eq!(gateway(db, "g1").last_seq, 3);

    // Out of order (another instance still holds seq 4): 5 waits, then both apply in order.
    a.apply_batch(db, &[changed("g1", 5, "shelf-a", 9)], T0)
        .expect("apply");
    assert_eq!(count(db, "g1", "shelf-a"), 4, "5 waits for 4");
    let r = a
        .apply_batch(db, &[sold("g1", 4, 2)], T0 + 10)
        .expect("apply");
    assert_eq!(r.applied, 2);
    assert_eq!(count(db, "g1", "shelf-a"), 9);
    assert_eq!((gateway(db, "g1").last_seq, sales(db, "g1")), (5, 2));

    // A gap: 6 and 7 never come. Nothing happens before the wait is over…
    a.apply_batch(db, &[changed("g1", 8, "shelf-a", 7)], T0 + 100)
        .expect("apply");
    let r = a.sweep(db, T0 + 500).expect("sweep");
    assert!(r.commands.is_empty());
    assert_eq!(gateway(db, "g1").last_seq, 5);
    // …then the gap is declared, 8 applies, the gateway is stale and asked to resync.
    let r = a.sweep(db, T0 + 1200).expect("sweep");
    assert_eq!(r.applied, 1);
    assert_eq!(r.commands.len(), 1);
    let id = resync_id(&r.commands[0], "g1");
    let g = gateway(db, "g1");
    assert!(g.stale);
    assert_eq!((g.last_seq, g.gaps, g.missed), (8, 1, 2));
    // The resync's snapshots rebuild the numbers; its result clears the stale mark.
    a.apply_batch(
        db,
        &[
            snapshot("g1", "shelf-a", 6, 8),
            snapshot("g1", "backroom", 3, 8),
        ],
        T0 + 1300,
    )
    .expect("apply");
    a.apply_batch(db, &[resync_result("g1", "someone-else")], T0 + 1300)
        .expect("apply");
    assert!(gateway(db, "g1").stale, "another id does not heal");
    a.apply_batch(db, &[resync_result("g1", &id)], T0 + 1400)
        .expect("apply");
    let g = gateway(db, "g1");
    assert!(!g.stale);
    assert_eq!(g.gaps_healed, 1);
    assert_eq!(
        (count(db, "g1", "shelf-a"), count(db, "g1", "backroom")),
        (6, 3)
    );

    // A retained snapshot older than the counts is ignored; a newer one replaces them.
    a.apply_batch(db, &[changed("g1", 9, "shelf-a", 2)], T0 + 1500)
        .expect("apply");
    a.apply_batch(db, &[snapshot("g1", "shelf-a", 6, 8)], T0 + 1500)
        .expect("apply");
    assert_eq!(count(db, "g1", "shelf-a"), 2, "old snapshot ignored");
    a.apply_batch(db, &[snapshot("g1", "shelf-a", 1, 9)], T0 + 1500)
        .expect("apply");
    assert_eq!(count(db, "g1", "shelf-a"), 1, "same as_of_seq applies");
    // A snapshot ahead of the events: the events it already reflects do not undo it.
    a.apply_batch(db, &[snapshot("g1", "shelf-a", 5, 12)], T0 + 1500)
        .expect("apply");
    a.apply_batch(
        db,
        &[
            changed("g1", 10, "shelf-a", 3),
            sold("g1", 11, 3),
            changed("g1", 12, "shelf-a", 5),
        ],
        T0 + 1600,
    )
    .expect("apply");
    assert_eq!(count(db, "g1", "shelf-a"), 5);
    assert_eq!(sales(db, "g1"), 3, "sales still counted once each");

    // Dropped events reported by the status: a gap even before the jump shows.
    a.apply_batch(db, &[status("g2", "boot-a", 0, 0)], T0)
        .expect("apply");
    a.apply_batch(db, &[changed("g2", 1, "shelf-b", 3)], T0)
        .expect("apply");
    let r = a
        .apply_batch(db, &[status("g2", "boot-a", 4, 9)], T0 + 10)
        .expect("apply");
    assert_eq!(r.commands.len(), 1);
    resync_id(&r.commands[0], "g2");
    assert!(gateway(db, "g2").stale);
    assert_eq!(gateway(db, "g2").outbox_dropped, 4);

    // Lost state: a new boot whose outbox is behind what central applied counts from 1 again.
    a.apply_batch(db, &[status("g3", "boot-a", 0, 0)], T0)
        .expect("apply");
    let history: Vec<Message> = (1..=20).map(|s| sold("g3", s, 100 + s)).collect();
    a.apply_batch(db, &history, T0).expect("apply");
    assert_eq!(sales(db, "g3"), 20);
    let r = a
        .apply_batch(db, &[status("g3", "boot-b", 0, 2)], T0 + 10)
        .expect("apply");
    assert_eq!(r.commands.len(), 1, "resync after lost state");
    assert_eq!(gateway(db, "g3").last_seq, 0);
    a.apply_batch(db, &[sold("g3", 1, 500), sold("g3", 2, 501)], T0 + 20)
        .expect("apply");
    assert_eq!(sales(db, "g3"), 22, "the new life's events are new sales");
    // A status of the same run with a lower seq is not a reset (it is just old).
    let r = a
        .apply_batch(db, &[status("g3", "boot-b", 0, 1)], T0 + 30)
        .expect("apply");
    assert!(r.commands.is_empty() || gateway(db, "g3").stale);
    assert_eq!(gateway(db, "g3").last_seq, 2);

    // Unknown gateway's first event is not 1: central missed its history → gap → resync.
    a.apply_batch(db, &[changed("g4", 41, "shelf-c", 2)], T0)
        .expect("apply");
    let r = a.sweep(db, T0 + 5000).expect("sweep");
    assert!(
        r.commands
            .iter()
            .any(|c| c.topic.ends_with("/g4/cmd/resync"))
    );
    assert_eq!(count(db, "g4", "shelf-c"), 2);
    assert_eq!(gateway(db, "g4").missed, 40);
}

#[test]
fn apply_rules_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = DbUrl::parse(&format!(
        "sqlite:{}",
        dir.path().join("central.db").display()
    ))
    .expect("url");
    let mut db = url.connect().expect("open sqlite");
    scenarios(db.as_mut());
}

#[test]
fn apply_rules_on_postgres() {
    let pg = Postgres::start();
    let url = DbUrl::parse(&pg.create_db("central")).expect("url");
    let mut db = url.connect().expect("connect to the test's PostgreSQL");
    scenarios(db.as_mut());
}

#[test]
fn malformed_messages_are_rejected_with_the_topic_and_reason() {
    let cases: &[(&str, &[u8], &str)] = &[
        ("other/s1/g/event/tag.sold", b"{}", "not under the prefix"),
        ("shelfd/v1/s1", b"{}", "expected {prefix}/{store}/{gateway}"),
        ("shelfd/v1/s1/g/event/tag.teleported", b"{}", "not a shelfd topic"),
        ("shelfd/v1/s1/g/event/tag.sold", b"not json", "not a event payload"),
        (
            "shelfd/v1/s1/g/event/stock.changed",
            br#"{"v":1,"type":"stock.changed","store":"s2","gateway":"g","seq":1,"time":"2026-11-22T10:00:00.000Z","location":"a","sku":null,"delta":1,"count":1}"#,
            "payload says store \"s2\"",
        ),
        (
            "shelfd/v1/s1/g/event/tag.sold",
            br#"{"v":1,"type":"stock.changed","store":"s1","gateway":"g","seq":1,"time":"2026-11-22T10:00:00.000Z","location":"a","sku":null,"delta":1,"count":1}"#,
            "payload type stock.changed on the topic of tag.sold",
        ),
        ("shelfd/v1/s1/g/status", b"{\"state\":1}", "not a status document"),
    ];
    for (topic, payload, needle) in cases {
        let err = classify(PREFIX, topic, payload)
            .expect_err(needle)
            .to_string();
        assert!(err.contains(needle), "{err} should say {needle}");
        assert!(err.starts_with(topic), "{err} names the topic");
    }
    assert_eq!(
        classify(PREFIX, "shelfd/v1/s1/g/epcis", b"{}"),
        Ok(Message::Ignored)
    );
}
