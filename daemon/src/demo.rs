//! `shelfd demo`: the built-in demo store. A simulated store (three shelves, a backroom, a dock,
//! a POS and an exit on two readers) plays a scripted day — stock on the shelves at start-up, a
//! delivery, restocking, a misplaced item, sales, a shoplifted item, a reader outage — through
//! the real engine and a real sled store in a temp dir, and shows every event it publishes and
//! the final stock. No hardware and no broker needed.

use crate::config::{self, Config};
use crate::engine_store::EngineStore;
use crate::events::{Event, EventBody};
use crate::sim::{StoreSim, TagProfile};
use crate::store::{SledStore, Store};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// The demo store's config (also `config/demo.toml`).
pub const DEMO_CONFIG: &str = include_str!("../../config/demo.toml");

/// Start of the demo's simulated clock: 2026-11-22T09:00:00Z.
pub const DEMO_START_MS: u64 = 1_795_338_000_000;

/// The parsed demo config.
pub fn demo_config() -> Config {
    config::parse(DEMO_CONFIG, Path::new("config/demo.toml"))
        .expect("invariant: the built-in demo config is valid")
}

/// Builds the demo store's simulation and plays its script over `duration` of store time
/// (at least 6 minutes so every act fits).
pub fn demo_records(seed: u64, duration: Duration) -> Vec<crate::readlog::Record> {
    let total = u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(6 * 60_000);
    let mut sim = StoreSim::new(seed, DEMO_START_MS);
    sim.reader(
        "r1",
        500,
        &[
            (1, "shelf-a1"),
            (2, "shelf-a1"),
            (3, "shelf-a2"),
            (4, "shelf-b1"),
        ],
        true,
    );
    sim.reader(
        "r2",
        500,
        &[(1, "backroom"), (2, "pos-1"), (3, "exit-1"), (4, "dock-1")],
        true,
    );
    for (a, b) in [("shelf-a1", "shelf-a2"), ("shelf-a2", "shelf-b1")] {
        sim.cross_read(a, b, 0.15, 14.0);
        sim.cross_read(b, a, 0.15, 14.0);
    }
    let shirts = sim.add_tags(8, 1, "shelf-a1", TagProfile::SHELF);
    let jeans = sim.add_tags(6, 2, "shelf-a2", TagProfile::SHELF);
    sim.add_tags(5, 3, "shelf-b1", TagProfile::SESSION2);
    sim.add_tags(12, 2, "backroom", TagProfile::SHELF);
    // Act 1: the baseline window (2 minutes) sees what is already in the store.
    sim.run_for(150_000);
    // Act 2: a delivery of 6 caps arrives on the dock, then goes to the backroom.
    let delivery = sim.add_tags(6, 3, "dock-1", TagProfile::SHELF);
    sim.run_for(40_000);
    for epc in &delivery {
        sim.move_tag(epc, Some("backroom"));
    }
    sim.run_for(40_000);
    // Act 3: a customer misplaces a shirt onto the caps shelf, buys a pair of jeans, and a
    // cap leaves through the exit unpaid.
    sim.move_tag(&shirts[0], Some("shelf-b1"));
    sim.move_tag(&jeans[0], None);
    sim.move_tag(&shirts[2], None);
    sim.run_for(8_000);
    sim.move_tag(&jeans[0], Some("pos-1"));
    sim.move_tag(&shirts[2], Some("exit-1"));
    sim.run_for(3_000);
    sim.move_tag(&jeans[0], None);
    sim.move_tag(&shirts[2], None);
    sim.run_for(30_000);
    // Act 4: reader r1 loses its link for a minute: nothing departs meanwhile.
    sim.reader_down("r1");
    sim.run_for(60_000);
    sim.reader_up("r1");
    // Act 5: a shirt is taken away and never comes back: it departs as missing.
    sim.move_tag(&shirts[1], None);
    let elapsed = sim.now() - DEMO_START_MS;
    sim.run_for(total.saturating_sub(elapsed).max(60_000));
    sim.take_records()
}

/// Runs the demo and writes its view (or raw JSON payloads) to `out`.
pub fn run(seed: u64, duration: Duration, json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let config = demo_config();
    let dir = std::env::temp_dir().join(format!("shelfd-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let result = (|| -> anyhow::Result<()> {
        let store = SledStore::open(&dir, 16 << 20)?;
        let mut es = EngineStore::open(&config, store)?;
        let records = demo_records(seed, duration);
        if !json {
            writeln!(
                out,
                "shelfd demo: store {:?}, gateway {:?}; {} simulated reads over {} minutes, sled state in {}",
                config.gateway.store,
                config.gateway.id,
                records.len(),
                records
                    .last()
                    .map(|r| (r.t() - DEMO_START_MS) / 60_000)
                    .unwrap_or(0),
                dir.display()
            )?;
        }
        let mut shown = Vec::new();
        let mut baseline_at = None;
        for (i, r) in records.iter().enumerate() {
            es.feed(r)?;
            if i % 256 == 255 {
                note_commit(es.commit()?, &mut shown, &mut baseline_at);
            }
        }
        es.shutdown();
        note_commit(es.commit()?, &mut shown, &mut baseline_at);
        es.flush()?;
        for e in &shown {
            if let Some((seq, ref text)) = baseline_at {
                if !json && e.seq > seq {
                    writeln!(out, "{text}")?;
                    baseline_at = None;
                }
            }
            if json {
                writeln!(out, "{}", e.to_json(es.origin()))?;
            } else {
                writeln!(out, "{}", describe(e))?;
            }
        }
        if json {
            for s in es.engine().snapshots() {
                writeln!(out, "{}", s.to_json(es.origin()))?;
            }
        } else {
            writeln!(out, "\nstock (retained snapshots):")?;
            for s in es.engine().snapshots() {
                let items: Vec<String> = s
                    .counts
                    .iter()
                    .map(|(sku, n)| format!("{sku}×{n}"))
                    .collect();
                writeln!(
                    out,
                    "  {:<10} {}",
                    s.location,
                    if items.is_empty() {
                        "empty".to_string()
                    } else {
                        items.join("  ")
                    }
                )?;
            }
            let st = es.engine().stats();
            writeln!(
                out,
                "\n{} reads, {} events, outbox {} entries; next seq {}",
                st.reads,
                shown.len(),
                es.store().outbox_stats().entries,
                es.engine().next_seq()
            )?;
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

type Committed = (Vec<Event>, Vec<crate::events::StockSnapshot>);

fn note_commit(c: Committed, shown: &mut Vec<Event>, baseline_at: &mut Option<(u64, String)>) {
    let (events, snaps) = c;
    shown.extend(events);
    let base: Vec<String> = snaps
        .iter()
        .filter(|s| s.baseline)
        .map(|s| format!("{} {}", s.location, s.counts.values().sum::<u64>()))
        .collect();
    if !base.is_empty() && baseline_at.is_none() {
        let seq = snaps.first().map(|s| s.as_of_seq).unwrap_or(0);
        let clock = crate::timefmt::rfc3339_ms(snaps[0].time_ms);
        let text = format!(
            "[{}]       baseline snapshot (stock found at first start, no arrivals published): {}",
            clock.get(11..19).unwrap_or(""),
            base.join(", ")
        );
        *baseline_at = Some((seq, text));
    }
}

fn short(epc: &str) -> String {
    format!("…{}", &epc[epc.len().saturating_sub(6)..])
}

/// One readable line per event.
pub fn describe(e: &Event) -> String {
    let time = crate::timefmt::rfc3339_ms(e.time_ms);
    let clock = time.get(11..19).unwrap_or("");
    let sku = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
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
        } => format!(
            "departed  {} ({}) from {from} ({cause:?})",
            short(epc),
            sku(s)
        ),
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
        EventBody::ReaderStatus { reader, state, .. } => format!("reader    {reader} {state:?}"),
    };
    format!("[{clock}] #{:<4} {what}", e.seq)
}
