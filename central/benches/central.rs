//! The figures of BENCHMARKS.md "Central": events applied per second with 1 000 simulated
//! gateways on SQLite and on PostgreSQL (the consumer's apply path: topic and payload read back
//! with the typed contract, batches of 512 messages per transaction, as the writer thread runs
//! them; no broker), and API latency (p50/p99) at 50 concurrent clients.
//!
//! `cargo bench -p shelfd-central --bench central [-- GATEWAYS EVENTS_PER_GATEWAY]`

use shelfd_central::api::{ApiState, router};
use shelfd_central::apply::{Applier, Message, classify};
use shelfd_central::auth::{Role, Tokens, new_token};
use shelfd_central::consumer::BATCH;
use shelfd_central::db::{DbUrl, Pool, Sql};
use shelfd_central::inventory::Areas;
use shelfd_central::products::Products;
use shelfd_core::events::{Event, EventBody, Origin};
use shelfd_testkit::Postgres;
use shelfd_testkit::central::http;
use std::sync::Arc;
use std::time::Instant;

const GTINS: [&str; 4] = [
    "80614141123458",
    "00614141000012",
    "00614141000029",
    "00614141000036",
];

/// Events of `gateways` gateways (10 per store), `per` each, interleaved round-robin as a
/// broker delivers many publishers: stock changes, arrivals and sales.
fn fleet(gateways: usize, per: u64) -> Vec<Message> {
    let mut out = Vec::with_capacity(gateways * per as usize);
    for seq in 1..=per {
        for g in 0..gateways {
            let store = format!("s{:03}", g / 10);
            let gateway = format!("gw{g:04}");
            let gtin = GTINS[(g + seq as usize) % 4];
            let location = if seq % 5 == 0 {
                "backroom-1"
            } else {
                "shelf-a"
            };
            let body = match seq % 4 {
                0 => EventBody::TagSold {
                    epc: format!("3074257bf7194e40{g:04x}{seq:04x}"),
                    sku: Some(gtin.into()),
                    location: "pos-1".into(),
                    from: "shelf-a".into(),
                },
                1 => EventBody::TagArrived {
                    epc: format!("3074257bf7194e40{g:04x}{seq:04x}"),
                    sku: Some(gtin.into()),
                    location: location.into(),
                },
                _ => EventBody::StockChanged {
                    location: location.into(),
                    sku: Some(gtin.into()),
                    delta: 1,
                    count: seq % 40 + 1,
                },
            };
            let kind = body.kind();
            let origin = Origin {
                store: store.clone(),
                gateway: gateway.clone(),
            };
            let payload = Event {
                seq,
                time_ms: 1_795_341_600_000 + seq * 1000,
                body,
            }
            .to_json(&origin);
            out.push(
                classify(
                    "shelfd/v1",
                    &format!("shelfd/v1/{store}/{gateway}/event/{kind}"),
                    payload.as_bytes(),
                )
                .expect("classifies"),
            );
        }
    }
    out
}

fn apply_rate(db: &mut dyn Sql, messages: &[Message]) -> f64 {
    let mut applier = Applier::new("shelfd/v1", 1000, 10_000, "bench");
    let start = Instant::now();
    for batch in messages.chunks(BATCH) {
        let r = applier
            .apply_batch(db, batch, 1_795_341_700_000)
            .expect("apply");
        assert_eq!(r.applied as usize, batch.len(), "every event is next");
    }
    messages.len() as f64 / start.elapsed().as_secs_f64()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let gateways: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let per: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(40);
    let messages = fleet(gateways, per);
    println!(
        "central apply: {gateways} gateways × {per} events = {} events, batches of {BATCH}",
        messages.len()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite =
        DbUrl::parse(&format!("sqlite:{}", dir.path().join("bench.db").display())).expect("url");
    let mut db = sqlite.open_migrated().expect("sqlite");
    let rate = apply_rate(db.as_mut(), &messages);
    println!("  sqlite (WAL, synchronous=NORMAL):   {rate:>9.0} events/s");
    let pg = Postgres::start_with(&[]);
    let url = DbUrl::parse(&pg.create_db("bench")).expect("url");
    let mut pgdb = url.open_migrated().expect("postgres");
    let rate = apply_rate(pgdb.as_mut(), &messages);
    println!("  postgresql (fsync on, defaults):    {rate:>9.0} events/s");

    // API latency at 50 concurrent clients over the SQLite inventory just built.
    let (customer, c_entry) = new_token("customer", Role::Customer, &[]).expect("token");
    let (staff, s_entry) = new_token("staff", Role::Staff, &["s000".into()]).expect("token");
    let state = Arc::new(ApiState {
        pool: Pool::new(sqlite),
        tokens: Tokens::parse(&format!("{c_entry}{s_entry}"), std::path::Path::new("t"))
            .expect("tokens"),
        products: Products::default(),
        areas: Areas {
            backroom_prefixes: vec!["backroom".into()],
            low_level: 2,
        },
    });
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    runtime.spawn(async move { axum::serve(listener, router(state)).await });
    // Warm the token cache (one Argon2 verification per token).
    http(port, "GET", "/v1/admin/gateways", Some(&customer), None);
    http(port, "GET", "/v1/admin/gateways", Some(&staff), None);
    let clients = 50;
    let per_client = 100;
    let start = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (customer, staff) = (customer.clone(), staff.clone());
            std::thread::spawn(move || {
                let mut lat = Vec::with_capacity(per_client);
                for i in 0..per_client {
                    let t = Instant::now();
                    let (status, _) = if (c + i) % 2 == 0 {
                        let gtin = GTINS[i % 4];
                        http(
                            port,
                            "GET",
                            &format!("/v1/availability/{gtin}"),
                            Some(&customer),
                            None,
                        )
                    } else {
                        http(port, "GET", "/v1/stores/s000/locations", Some(&staff), None)
                    };
                    assert_eq!(status, 200);
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                lat
            })
        })
        .collect();
    let mut all: Vec<f64> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("client"))
        .collect();
    let wall = start.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    println!(
        "central API, {clients} concurrent clients × {per_client} requests (availability across {} stores / locations of a store), new connection each:",
        gateways / 10
    );
    println!(
        "  p50 {:.1} ms, p99 {:.1} ms, {:.0} requests/s",
        percentile(&all, 0.5),
        percentile(&all, 0.99),
        all.len() as f64 / wall
    );
}
