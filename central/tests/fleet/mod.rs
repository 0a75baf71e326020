//! The end-to-end fleet shared by `e2e_sqlite.rs` and `e2e_postgres.rs`: 20 gateways in 5
//! stores (`shelfd run` playing seeded read logs with sales through a POS antenna) → a real
//! Mosquitto → `shelfd-central run` on the given database, with faults: central killed with
//! SIGKILL twice mid-stream, the broker restarted once, one gateway whose outbox cap (1000)
//! makes it drop events while the broker is away. At the end every (store, location, GTIN) in
//! central equals the gateways' final retained snapshots, and central's sales per store equal
//! the `tag.sold` events the gateways published (counted by a persistent observer, whose every
//! message is also validated against the contract).

use shelfd_central::db::DbUrl;
use shelfd_central::inventory;
use shelfd_core::readlog::Record;
use shelfd_core::sim::{StoreSim, TagProfile};
use shelfd_testkit::central::{CentralProcess, CentralSetup};
use shelfd_testkit::readlogs::{LOG_START_MS, churn_log};
use shelfd_testkit::{ConfigBuilder, Daemon, Mosquitto, Reader, Subscriber, free_port, wait_until};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

const LONG: Duration = Duration::from_secs(180);

/// A read log with arrivals, moves between shelves and sales through `pos-1`.
pub fn shop_log(path: &Path, seed: u64) {
    let mut sim = StoreSim::new(seed, LOG_START_MS);
    sim.reader(
        "r1",
        1000,
        &[
            (1, "shelf-a"),
            (2, "shelf-b"),
            (3, "backroom-1"),
            (4, "pos-1"),
        ],
        true,
    );
    let mut out = String::new();
    let flush = |sim: &mut StoreSim, out: &mut String| {
        for r in sim.take_records() {
            if let Record::Read(_) | Record::Link { .. } = r {
                out.push_str(&r.to_json_line());
                out.push('\n');
            }
        }
    };
    let mut tags = Vec::new();
    for (i, at) in ["shelf-a", "shelf-b", "backroom-1"].iter().enumerate() {
        tags.extend(sim.add_tags(8, (seed % 5) as u32 + i as u32 + 1, at, TagProfile::SHELF));
    }
    sim.run_for(15_000);
    flush(&mut sim, &mut out);
    for step in 0..24u64 {
        let pick = (sim.rng().next_u64() as usize) % tags.len();
        match step % 3 {
            // A sale: read at the POS, then gone in the customer's bag.
            0 => {
                let epc = tags.swap_remove(pick);
                sim.move_tag(&epc, Some("pos-1"));
                sim.run_for(3_000);
                sim.move_tag(&epc, None);
            }
            1 => {
                let to = if step % 2 == 0 { "shelf-a" } else { "shelf-b" };
                sim.move_tag(&tags[pick], Some(to));
            }
            _ => {
                tags.extend(sim.add_tags(1, (seed % 5) as u32 + 1, "shelf-a", TagProfile::SHELF));
            }
        }
        sim.run_for(2_500);
        flush(&mut sim, &mut out);
    }
    sim.run_for(20_000);
    flush(&mut sim, &mut out);
    std::fs::write(path, out).expect("write read log");
}

pub fn gateway_config(store: &str, id: &str, port: u16, speed: f64) -> ConfigBuilder {
    ConfigBuilder::new(store, id)
        .state_dir("state")
        .mqtt("keep_alive", "5s")
        .mqtt_port(port)
        .reader(
            Reader::replay("r1", "reads.jsonl")
                .set("speed", speed)
                .antennas(&[
                    (1, "shelf-a"),
                    (2, "shelf-b"),
                    (3, "backroom-1"),
                    (4, "pos-1"),
                ]),
        )
        .location("shelf-a", "shelf")
        .location("shelf-b", "shelf")
        .location("backroom-1", "backroom")
        .location("pos-1", "pos")
        .quick_reconcile()
}

struct Gateway {
    store: String,
    id: String,
    dir: PathBuf,
    daemon: Option<Daemon>,
}

impl Gateway {
    fn start(&mut self) {
        self.daemon = Some(Daemon::start(&self.dir.join("shelfd.toml")));
    }
    fn daemon(&self) -> &Daemon {
        self.daemon.as_ref().expect("started")
    }
}

pub fn tokens_file(dir: &Path) -> PathBuf {
    let (_, entry) =
        shelfd_central::auth::new_token("admin", shelfd_central::auth::Role::Admin, &[])
            .expect("token");
    let path = dir.join("tokens.toml");
    std::fs::write(&path, entry).expect("tokens");
    path
}

/// Seqs seen per (store, gateway).
pub type SeqsSeen = BTreeMap<(String, String), BTreeSet<u64>>;

/// Events seen by the observer: (store, gateway) → seqs, and distinct `tag.sold` per store.
pub fn observed(sub: &Subscriber) -> (SeqsSeen, BTreeMap<String, u64>) {
    let mut seqs: SeqsSeen = BTreeMap::new();
    let mut sold: BTreeMap<String, BTreeSet<(String, u64)>> = BTreeMap::new();
    for m in sub.msgs() {
        if !m.topic.contains("/event/") {
            continue;
        }
        let (store, gw) = (
            m.json["store"].as_str().unwrap_or_default().to_owned(),
            m.json["gateway"].as_str().unwrap_or_default().to_owned(),
        );
        let seq = m.json["seq"].as_u64().unwrap_or_default();
        seqs.entry((store.clone(), gw.clone()))
            .or_default()
            .insert(seq);
        if m.json["type"] == "tag.sold" {
            sold.entry(store).or_default().insert((gw, seq));
        }
    }
    (
        seqs,
        sold.into_iter().map(|(s, v)| (s, v.len() as u64)).collect(),
    )
}

/// The retained snapshots now on the broker: (store, location, GTIN) → count.
pub fn retained_stock(port: u16, id: &str) -> BTreeMap<(String, String, String), u64> {
    let sub = Subscriber::start(port, id, "shelfd/v1/+/+/stock/+");
    sub.wait_quiet(Duration::from_millis(1500), LONG);
    let mut latest: BTreeMap<(String, String, String), serde_json::Value> = BTreeMap::new();
    for m in sub.msgs() {
        let key = (
            m.json["store"].as_str().unwrap_or_default().to_owned(),
            m.json["gateway"].as_str().unwrap_or_default().to_owned(),
            m.json["location"].as_str().unwrap_or_default().to_owned(),
        );
        latest.insert(key, m.json.clone());
    }
    let mut stock = BTreeMap::new();
    for ((store, _gw, location), snap) in latest {
        for (sku, n) in snap["counts"].as_object().expect("counts") {
            let n = n.as_u64().expect("count");
            if n > 0 {
                *stock
                    .entry((store.clone(), location.clone(), sku.clone()))
                    .or_default() += n;
            }
        }
    }
    stock
}

/// Runs the whole fleet against central on `database_url`.
pub fn run_fleet(root: &Path, database_url: &str) {
    let mut broker = Mosquitto::start(&root.join("broker"), "");
    let observer = Subscriber::start(broker.port, "observer", "shelfd/v1/#");
    let central_dir = root.join("central");
    std::fs::create_dir_all(&central_dir).expect("central dir");
    let setup = CentralSetup {
        broker_port: broker.port,
        client_id: "central-e2e".into(),
        database_url: database_url.into(),
        api_port: free_port(),
        shared_group: None,
        tokens_file: tokens_file(&central_dir),
        products_file: None,
        gap_wait_ms: 1000,
    };
    let mut central = CentralProcess::start(
        Path::new(env!("CARGO_BIN_EXE_shelfd-central")),
        &central_dir,
        &setup,
    );
    let mut gateways = Vec::new();
    for s in 1..=5u64 {
        for g in 1..=4u64 {
            let (store, id) = (format!("s{s}"), format!("s{s}-gw{g}"));
            let dir = root.join(&id);
            std::fs::create_dir_all(&dir).expect("gateway dir");
            let dropper = s == 5 && g == 4;
            let config = if dropper {
                // 1500 new tags in 15 s, played in real time (so the first-start baseline closes
                // early and they become arrivals): more events than its outbox cap of 1000.
                churn_log(&dir.join("reads.jsonl"), 99, 1500, 10, 2_000);
                gateway_config(&store, &id, broker.port, 1.0).mqtt("outbox_max_entries", 1000)
            } else {
                shop_log(&dir.join("reads.jsonl"), s * 10 + g);
                gateway_config(&store, &id, broker.port, 4.0)
            };
            std::fs::write(dir.join("shelfd.toml"), config.render()).expect("config");
            gateways.push(Gateway {
                store,
                id,
                dir,
                daemon: None,
            });
        }
    }
    let events_seen = || {
        observer
            .msgs()
            .iter()
            .filter(|m| m.topic.contains("/event/"))
            .count()
    };
    for gw in gateways.iter_mut().take(19) {
        gw.start();
    }
    // Fault 1 and 2: central killed mid-stream twice, while the gateways keep publishing.
    for round in 1..=2 {
        let before = events_seen();
        wait_until("the stream to flow", LONG, || events_seen() >= before + 150);
        central.kill9();
        let down_at = events_seen();
        wait_until("events while central is down", LONG, || {
            events_seen() >= down_at + 100
        });
        central.restart();
        eprintln!("fleet: central killed and restarted ({round})");
    }
    // Fault 3: the broker restarts; while it is away the last gateway starts, fills its outbox
    // past its cap and drops events.
    let before = events_seen();
    wait_until("the stream to flow", LONG, || events_seen() >= before + 100);
    broker.stop();
    let dropper = gateways.last_mut().expect("20 gateways");
    dropper.start();
    dropper.daemon().wait_log("replay source finished", LONG);
    dropper.daemon().wait_log("outbox over its cap", LONG);
    broker.restart();
    eprintln!("fleet: broker restarted");
    for gw in &gateways {
        gw.daemon().wait_log("replay source finished", LONG);
    }
    // Everything published reaches central: each gateway's last seq applied, nothing stale.
    let mut db = DbUrl::parse(database_url)
        .expect("url")
        .connect()
        .expect("open central's database");
    wait_until("central to catch up with every gateway", LONG, || {
        let (seqs, _) = observed(&observer);
        let views = inventory::gateways(db.as_mut()).expect("gateways");
        gateways.iter().all(|gw| {
            let last = seqs
                .get(&(gw.store.clone(), gw.id.clone()))
                .and_then(|s| s.last().copied())
                .unwrap_or(0);
            views
                .iter()
                .any(|v| v.gateway == gw.id && v.last_seq >= last && !v.stale && last > 0)
        })
    });
    for gw in &mut gateways {
        gw.daemon.as_mut().expect("running").stop();
    }
    let snapshots = retained_stock(broker.port, "final-check");
    assert!(
        snapshots.len() >= 20,
        "snapshots of every gateway: {snapshots:?}"
    );
    let mut last_diff = String::new();
    wait_until("central's stock to equal the final snapshots", LONG, || {
        let stock = inventory::all_stock(db.as_mut()).expect("stock");
        if stock == snapshots {
            return true;
        }
        last_diff = format!(
            "central only: {:?}\nsnapshots only: {:?}",
            stock
                .iter()
                .filter(|(k, v)| snapshots.get(*k) != Some(v))
                .collect::<Vec<_>>(),
            snapshots
                .iter()
                .filter(|(k, v)| stock.get(*k) != Some(v))
                .collect::<Vec<_>>()
        );
        false
    });
    assert_eq!(
        inventory::all_stock(db.as_mut()).expect("stock"),
        snapshots,
        "{last_diff}"
    );
    // Sales: exactly the tag.sold events published (none twice, none lost).
    let (_, sold) = observed(&observer);
    assert!(
        sold.values().sum::<u64>() >= 5 * 3 * 4,
        "the logs sell items: {sold:?}"
    );
    assert_eq!(
        inventory::sales_per_store(db.as_mut()).expect("sales"),
        sold
    );
    // The faults left their marks: the dropping gateway's gap was found and healed.
    let views = inventory::gateways(db.as_mut()).expect("gateways");
    let d = views
        .iter()
        .find(|v| v.gateway == "s5-gw4")
        .expect("the dropping gateway");
    assert!(
        d.outbox_dropped > 0 && d.gaps >= 1 && d.gaps_healed >= 1 && d.missed > 0,
        "{d:?}"
    );
    let dups: u64 = views.iter().map(|v| v.duplicates).sum();
    eprintln!(
        "fleet: {} gateways, duplicates ignored {dups}, dropper {d:?}",
        views.len()
    );
    assert!(central.log().contains("connected to the broker"));
    central.stop();
    observer.assert_contract();
}
