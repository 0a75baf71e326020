//! `shelfd bench`: the throughput figures recorded in `BENCHMARKS.md`. Benchmarks are code, not
//! timed tests: this prints figures (median of several runs where it matters) and asserts
//! nothing.
//!
//! - `engine`: reads/s of the pure engine on one core with N tags tracked, and bytes per tag.
//! - `replay`: lines/s of `shelfd replay` end to end (parse → engine → sled commit → JSON out).
//! - `store`: cost of one store commit (1 event + 1 tag record), with and without flush.
//! - `decode`: MB/s and frames/s of each reader protocol's decoder ([`readers`]).
//! - `serial`: CPU cost of live serial input through a PTY, per 1 000 reads/s ([`readers`]).
//! - `llrp`: LLRP decode MB/s and the CPU of live LLRP input over loopback TCP per 1 000
//!   reads/s ([`llrp`]).

use crate::config::LocationKind;
use crate::engine_store::EngineStore;
use crate::store::{Commit, Key, OutboxEntry, SledStore, Store};
use shelfd_core::events::Origin;
use shelfd_core::reconcile::{Engine, Input, Knobs, Topology};
use std::io::Write;
use std::time::Instant;

pub mod llrp;
pub mod outbox;
pub mod readers;

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// A compact synthetic read: (t, reader, antenna, tag index, rssi).
type BenchRead = (u64, u16, u16, u32, f32);

/// Shelves of one reader per 4 antennas; each tag read ~0.9×/s at its shelf.
fn population(tags: usize, seconds: u64) -> (Topology, Vec<[u8; 12]>, Vec<BenchRead>) {
    let shelves = (tags / 500).max(1);
    let names: Vec<String> = (0..shelves).map(|i| format!("shelf-{i}")).collect();
    let locs: Vec<(&str, LocationKind)> = names
        .iter()
        .map(|n| (n.as_str(), LocationKind::Shelf))
        .collect();
    let rd_names: Vec<String> = (0..shelves.div_ceil(4)).map(|i| format!("r{i}")).collect();
    let ants: Vec<Vec<(u16, &str)>> = names
        .chunks(4)
        .map(|c| {
            c.iter()
                .enumerate()
                .map(|(a, n)| (a as u16 + 1, n.as_str()))
                .collect()
        })
        .collect();
    let readers: Vec<(&str, &[(u16, &str)])> = rd_names
        .iter()
        .zip(&ants)
        .map(|(r, a)| (r.as_str(), a.as_slice()))
        .collect();
    let topo = Topology::new(&locs, &readers);
    let epcs: Vec<[u8; 12]> = (0..tags)
        .map(|i| {
            let v = shelfd_core::sim::sim_epc((i % 500) as u32, i as u64 + 1);
            let mut a = [0u8; 12];
            a.copy_from_slice(&v[..12]);
            a
        })
        .collect();
    let mut rng = shelfd_core::sim::SimRng::new(7);
    let mut reads = Vec::with_capacity(tags * seconds as usize);
    let t0 = 1_795_338_000_000u64;
    for s in 0..seconds {
        for i in 0..tags {
            if rng.chance(0.9) {
                let shelf = i % shelves;
                let t = t0 + s * 1000 + (i as u64 * 997) % 1000;
                reads.push((
                    t,
                    (shelf / 4) as u16,
                    (shelf % 4) as u16 + 1,
                    i as u32,
                    -55.0 + (rng.unit() as f32 - 0.5) * 6.0,
                ));
            }
        }
    }
    reads.sort_by_key(|r| r.0);
    (topo, epcs, reads)
}

/// Runs the named benchmarks (`all`, `engine`, `replay`, `store`, `decode`, `serial`) and prints
/// their figures.
pub fn run(tags: usize, seconds: u64, only: &str, out: &mut impl Write) -> anyhow::Result<()> {
    if only == "all" || only == "engine" {
        engine(tags, seconds, out)?;
    }
    if only == "all" || only == "replay" {
        replay(tags.min(20_000), seconds, out)?;
    }
    if only == "outbox" {
        outbox::run(1_000_000, out)?;
    }
    if only == "all" || only == "store" {
        store(out)?;
    }
    if only == "all" || only == "decode" {
        readers::decode(out)?;
    }
    if only == "all" || only == "serial" {
        readers::serial(out)?;
    }
    if only == "all" || only == "llrp" {
        llrp::run(out)?;
    }
    Ok(())
}

fn engine(tags: usize, seconds: u64, out: &mut impl Write) -> anyhow::Result<()> {
    let (topo, epcs, reads) = population(tags, seconds.max(10));
    // The first 5 s confirm every tag; time the steady state after it.
    let warm = reads.partition_point(|r| r.0 < reads[0].0 + 5000);
    let feed = |engine: &mut Engine, part: &[BenchRead], events: &mut Vec<_>| {
        for &(t, reader, antenna, tag, rssi) in part {
            engine.handle(
                Input::Read {
                    t,
                    reader,
                    antenna,
                    epc: &epcs[tag as usize],
                    rssi: Some(rssi),
                },
                events,
            );
            if events.len() > 4096 {
                events.clear();
            }
        }
    };
    let memory = engine_memory(&topo, &reads[..warm], &feed);
    let mut runs = Vec::new();
    let mut table = 0.0;
    for _ in 0..3 {
        let mut engine = Engine::new(topo.clone(), Knobs::default());
        let mut events = Vec::new();
        feed(&mut engine, &reads[..warm], &mut events);
        let start = Instant::now();
        feed(&mut engine, &reads[warm..], &mut events);
        let secs = start.elapsed().as_secs_f64();
        runs.push((reads.len() - warm) as f64 / secs);
        table = engine.bytes_per_tag();
    }
    writeln!(
        out,
        "engine: {tags} tags tracked, {} reads: median {:.2} M reads/s over 3 runs (min {:.2}, max {:.2}); tag table {table:.0} bytes per tracked tag; whole-process RSS growth per tracked tag: {:.0} bytes on a first start (table grown as tags arrive, changes taken every 4096 reads as the daemon commits), {:.0} bytes restored from the store (table sized at once)",
        reads.len(),
        median(runs.clone()) / 1e6,
        runs.iter().cloned().fold(f64::MAX, f64::min) / 1e6,
        runs.iter().cloned().fold(0.0, f64::max) / 1e6,
        memory.0,
        memory.1,
    )?;
    Ok(())
}

/// Feeds bench reads to an engine, collecting (and bounding) its events.
type FeedReads<'a> = dyn Fn(&mut Engine, &[BenchRead], &mut Vec<shelfd_core::events::Event>) + 'a;

/// RSS growth per tracked tag `(first start, restored)`. The first start confirms every tag of
/// `warm` in a fresh engine, taking its changes every 4096 reads as the daemon's commits do (the
/// records are dropped: the daemon hands them to the store). The restored figure is the growth
/// while [`Engine::restore`] rebuilds the same engine from its records (held in memory before
/// the measurement starts).
fn engine_memory(topo: &Topology, warm: &[BenchRead], feed: &FeedReads<'_>) -> (f64, f64) {
    let rss0 = rss_bytes();
    let mut engine = Engine::new(topo.clone(), Knobs::default());
    let mut events = Vec::new();
    for part in warm.chunks(4096) {
        feed(&mut engine, part, &mut events);
        drop(engine.take_changes());
    }
    events = Vec::new();
    let tags = engine.tracked_tags().max(1);
    let first = rss_bytes().saturating_sub(rss0) as f64 / tags as f64;
    // Every record, as a clean stop leaves them in the store.
    engine.shutdown(&mut events);
    let changes = engine.take_changes();
    let persisted = shelfd_core::reconcile::Persisted {
        meta: changes.meta,
        tags: changes
            .tags
            .into_iter()
            .filter_map(|(epc, rec)| Some((epc, rec?)))
            .collect(),
        locations: changes.locations,
        readers: changes.readers,
        next_seq: 1,
    };
    // The first engine stays alive meanwhile, so the restore cannot reuse its freed table.
    let rss1 = rss_bytes();
    let restored = match Engine::restore(topo.clone(), Knobs::default(), &persisted) {
        Ok((e, _)) => rss_bytes().saturating_sub(rss1) as f64 / e.tracked_tags().max(1) as f64,
        Err(_) => f64::NAN,
    };
    drop(engine);
    (first, restored)
}

fn replay(tags: usize, seconds: u64, out: &mut impl Write) -> anyhow::Result<()> {
    let (topo, epcs, reads) = population(tags, seconds.max(10));
    let mut log = String::with_capacity(reads.len() * 90);
    for &(t, reader, antenna, tag, rssi) in &reads {
        let rec = shelfd_core::readlog::Record::Read(shelfd_core::readlog::TagRead {
            t,
            reader: topo.readers[usize::from(reader)].id.to_string(),
            antenna,
            epc: epcs[tag as usize].to_vec(),
            rssi: Some((rssi * 2.0).round() / 2.0),
        });
        rec.write_json_line(&mut log);
        log.push('\n');
    }
    let mut runs = Vec::new();
    for _ in 0..3 {
        let dir = std::env::temp_dir().join(format!("shelfd-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = SledStore::open(&dir, 32 << 20)?;
        let es = EngineStore::open_with(
            topo.clone(),
            Knobs::default(),
            Origin {
                store: "s".into(),
                gateway: "g".into(),
            },
            store,
        )?;
        let mut sink = std::io::sink();
        let start = Instant::now();
        let summary = crate::replay::run_with(es, "bench", log.as_bytes(), &mut sink)?;
        runs.push(summary.lines as f64 / start.elapsed().as_secs_f64());
        let _ = std::fs::remove_dir_all(&dir);
    }
    writeln!(
        out,
        "replay: {tags} tags, {} lines ({} MB): median {:.0} k lines/s end to end (parse → engine → sled commit), 3 runs",
        reads.len(),
        log.len() / 1_000_000,
        median(runs) / 1e3
    )?;
    Ok(())
}

fn store(out: &mut impl Write) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("shelfd-bench-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut store = SledStore::open(&dir, 32 << 20)?;
    let payload = vec![b'x'; 200];
    for (label, flush, n) in [
        ("without flush", false, 20_000u64),
        ("with flush", true, 500),
    ] {
        let start = Instant::now();
        for i in 0..n {
            let seq = store.next_seq();
            let commit = Commit {
                puts: vec![(Key::Tag((i as u32).to_be_bytes().to_vec()), vec![1u8; 60])],
                deletes: vec![],
                events: vec![OutboxEntry {
                    seq,
                    kind: shelfd_core::events::EventKind::TagArrived,
                    payload: payload.clone(),
                }],
            };
            store.commit(commit)?;
            if flush {
                store.flush()?;
            }
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / n as f64;
        writeln!(
            out,
            "store: commit of 1 event (200 B) + 1 tag record {label}: {us:.1} µs per commit ({n} commits)"
        )?;
    }
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
