//! Two central instances on one shared subscription (`$share/central/…`) and one PostgreSQL end
//! with the same inventory as a single instance fed the same gateways (on its own database), and
//! both equal the gateways' final snapshots and their published sales. Each message reaches one
//! of the two instances, so a gateway's events arrive split between them: per-gateway order is
//! kept by the database (row lock and the seq check, later seqs parked until their predecessors
//! arrive at the other instance).

#[allow(dead_code)]
mod fleet;

use shelfd_central::db::DbUrl;
use shelfd_central::inventory;
use shelfd_testkit::central::{CentralProcess, CentralSetup};
use shelfd_testkit::{Daemon, Mosquitto, Postgres, Subscriber, free_port, wait_until};
use std::path::Path;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(180);

#[test]
fn two_instances_on_a_shared_subscription_equal_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let broker = Mosquitto::start(&root.join("broker"), "");
    let observer = Subscriber::start(broker.port, "observer", "shelfd/v1/#");
    let pg = Postgres::start();
    let shared_url = pg.create_db("shared");
    let single_url = pg.create_db("single");
    let bin = Path::new(env!("CARGO_BIN_EXE_shelfd-central"));
    let mut centrals = Vec::new();
    for (name, url, group) in [
        ("central-a", &shared_url, Some("central")),
        ("central-b", &shared_url, Some("central")),
        ("central-single", &single_url, None),
    ] {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).expect("dir");
        let setup = CentralSetup {
            broker_port: broker.port,
            client_id: name.into(),
            database_url: url.clone(),
            api_port: free_port(),
            shared_group: group.map(str::to_owned),
            tokens_file: fleet::tokens_file(&dir),
            products_file: None,
            gap_wait_ms: 3000,
        };
        centrals.push(CentralProcess::start(bin, &dir, &setup));
    }
    let mut daemons = Vec::new();
    for (store, id, seed) in [
        ("s1", "s1-gw1", 1),
        ("s1", "s1-gw2", 2),
        ("s2", "s2-gw1", 3),
        ("s2", "s2-gw2", 4),
    ] {
        let dir = root.join(id);
        std::fs::create_dir_all(&dir).expect("dir");
        fleet::shop_log(&dir.join("reads.jsonl"), seed);
        let config = fleet::gateway_config(store, id, broker.port, 4.0);
        std::fs::write(dir.join("shelfd.toml"), config.render()).expect("config");
        daemons.push(Daemon::start(&dir.join("shelfd.toml")));
    }
    for d in &daemons {
        d.wait_log("replay source finished", LONG);
    }
    let mut shared = DbUrl::parse(&shared_url)
        .expect("url")
        .connect()
        .expect("shared db");
    let mut single = DbUrl::parse(&single_url)
        .expect("url")
        .connect()
        .expect("single db");
    let caught_up = |db: &mut dyn shelfd_central::db::Sql| {
        let (seqs, _) = fleet::observed(&observer);
        let views = inventory::gateways(db).expect("gateways");
        seqs.len() == 4
            && seqs.iter().all(|((_, gw), s)| {
                views
                    .iter()
                    .any(|v| &v.gateway == gw && v.last_seq >= *s.last().expect("seqs") && !v.stale)
            })
    };
    wait_until("both setups to catch up", LONG, || {
        caught_up(shared.as_mut()) && caught_up(single.as_mut())
    });
    for d in &mut daemons {
        d.stop();
    }
    let snapshots = fleet::retained_stock(broker.port, "final-check");
    wait_until(
        "both inventories to equal the final snapshots",
        LONG,
        || {
            inventory::all_stock(shared.as_mut()).expect("stock") == snapshots
                && inventory::all_stock(single.as_mut()).expect("stock") == snapshots
        },
    );
    let (_, sold) = fleet::observed(&observer);
    assert!(sold.values().sum::<u64>() > 0, "the logs sell items");
    assert_eq!(
        inventory::sales_per_store(shared.as_mut()).expect("sales"),
        sold
    );
    assert_eq!(
        inventory::sales_per_store(single.as_mut()).expect("sales"),
        sold
    );
    // Both instances did part of the work: each received messages of the shared stream.
    for c in &mut centrals[..2] {
        c.stop();
        let log = c.log();
        let received: u64 = log
            .lines()
            .rev()
            .find_map(|l| l.split("received=").nth(1))
            .and_then(|r| r.split(|ch: char| !ch.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no consumer figures in the log: {log}"));
        assert!(received > 0, "an instance of the group got nothing: {log}");
    }
    observer.assert_contract();
}
