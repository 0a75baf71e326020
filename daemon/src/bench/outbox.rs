//! `shelfd bench --only outbox`: the outbox figures of `BENCHMARKS.md`: bytes on disk per
//! buffered event, the time to reopen a state dir holding many buffered events, and the drain
//! rate of the real pipeline (engine thread + publisher task) to a local Mosquitto that the
//! benchmark starts itself on a free loopback port, counted by an in-process subscriber.
//!
//! Needs `mosquitto` installed for the drain part (it is skipped with a note otherwise).

use crate::engine_store::EngineStore;
use crate::store::{Commit, DEFAULT_CACHE_BYTES, OutboxEntry, SledStore, Store};
use anyhow::Context;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// A realistic event payload (a `tag.arrived`, ~200 bytes) with the given seq.
fn payload(seq: u64) -> Vec<u8> {
    format!(
        concat!(
            r#"{{"v":1,"type":"tag.arrived","store":"store-0042","gateway":"gw-1","seq":{},"#,
            r#""time":"2026-11-22T10:00:00.000Z","epc":"3074257bf7194e40{:08x}","#,
            r#""sku":"80614141123458","location":"shelf-a1"}}"#
        ),
        seq, seq as u32
    )
    .into_bytes()
}

/// Fills a fresh store at `dir` with `n` outbox entries (commits of 4096, flushed).
fn fill(dir: &Path, n: u64) -> anyhow::Result<()> {
    let mut store = SledStore::open(dir, DEFAULT_CACHE_BYTES)?;
    let mut seq = store.next_seq();
    let end = seq + n;
    while seq < end {
        let batch_end = (seq + 4096).min(end);
        let events = (seq..batch_end)
            .map(|s| OutboxEntry {
                seq: s,
                kind: shelfd_core::events::EventKind::TagArrived,
                payload: payload(s),
            })
            .collect();
        store.commit(Commit {
            events,
            ..Commit::default()
        })?;
        seq = batch_end;
    }
    store.flush()?;
    Ok(())
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Runs the outbox benchmarks with `events` buffered events.
pub fn run(events: u64, out: &mut impl Write) -> anyhow::Result<()> {
    let root = std::env::temp_dir().join(format!("shelfd-bench-outbox-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).context("temp dir")?;
    let result = run_in(&root, events, out);
    let _ = std::fs::remove_dir_all(&root);
    result
}

fn run_in(root: &Path, events: u64, out: &mut impl Write) -> anyhow::Result<()> {
    let state = root.join("state");
    let started = Instant::now();
    fill(&state, events)?;
    let bytes = dir_size(&state);
    writeln!(
        out,
        "outbox fill: {events} events in {:.1} s; {:.0} bytes on disk per buffered event ({} MiB)",
        started.elapsed().as_secs_f64(),
        bytes as f64 / events as f64,
        bytes >> 20
    )?;

    let config = bench_config(root, 1)?;
    let mut reopen = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let store = SledStore::open(&state, DEFAULT_CACHE_BYTES)?;
        let engine = EngineStore::open(&config, store)?;
        let stats = engine.store().outbox_stats();
        reopen.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(
            stats.entries == events,
            "reopened outbox holds {}",
            stats.entries
        );
        // The next open waits for sled to let go of the lock (SledStore::open retries).
        drop(engine);
    }
    reopen.sort_by(f64::total_cmp);
    writeln!(
        out,
        "restart with {events} buffered events: open store + restore engine, median of 3: {:.0} ms",
        reopen[1] * 1000.0
    )?;

    match drain(root, events, out) {
        Ok(()) => {}
        Err(e) => writeln!(out, "outbox drain: skipped ({e:#})")?,
    }
    Ok(())
}

fn bench_config(dir: &Path, port: u16) -> anyhow::Result<crate::config::Config> {
    let log = dir.join("empty.jsonl");
    std::fs::write(&log, "")?;
    let text = format!(
        r#"[gateway]
store = "store-0042"
id = "gw-1"
state_dir = "state"
[mqtt]
url = "mqtt://127.0.0.1:{port}"
outbox_max_entries = 100000000
outbox_max_bytes = "64GiB"
[[reader]]
id = "idle"
protocol = "replay"
file = "empty.jsonl"
antennas = {{ 1 = "shelf-a1" }}
[[location]]
id = "shelf-a1"
kind = "shelf"
"#
    );
    crate::config::parse(&text, &dir.join("bench.toml"))
        .map_err(|e| anyhow::anyhow!("bench config: {e}"))
}

/// Starts Mosquitto, runs the pipeline on the filled state dir and times until a subscriber
/// has received every buffered event.
fn drain(dir: &Path, events: u64, out: &mut impl Write) -> anyhow::Result<()> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "user {}\nlistener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nmax_inflight_messages 0\n",
            std::env::var("USER").unwrap_or_else(|_| "root".into())
        ),
    )?;
    let bin = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .context("mosquitto is not installed")?;
    let mut broker = std::process::Command::new(bin)
        .arg("-c")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let result = drain_with(dir, port, events, out);
    let _ = broker.kill();
    let _ = broker.wait();
    result
}

fn drain_with(dir: &Path, port: u16, events: u64, out: &mut impl Write) -> anyhow::Result<()> {
    let wait_start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(
            wait_start.elapsed() < Duration::from_secs(10),
            "mosquitto did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let config = bench_config(dir, port)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
        let mut options = MqttOptions::new("bench-counter", "127.0.0.1", port);
        options.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut eventloop) = AsyncClient::new(options, 16);
        client
            .subscribe("shelfd/v1/+/+/event/#", QoS::AtMostOnce)
            .await?;
        // Wait for the SUBACK before the publisher starts.
        loop {
            if let Event::Incoming(Packet::SubAck(_)) = eventloop.poll().await? {
                break;
            }
        }
        let cancel = tokio_util::sync::CancellationToken::new();
        let pipeline = tokio::spawn(crate::run::run(config, cancel.clone()));
        let start = Instant::now();
        let mut received = 0u64;
        let mut last_seq = 0u64;
        let mut in_order = true;
        while received < events {
            let event = tokio::time::timeout(Duration::from_secs(30), eventloop.poll())
                .await
                .context("no event for 30 s")??;
            if let Event::Incoming(Packet::Publish(p)) = event {
                received += 1;
                let seq = shelfd_core::events::Event::from_slice(&p.payload).map_or(0, |(_, e)| e.seq);
                in_order &= seq > last_seq;
                last_seq = seq;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        cancel.cancel();
        let _ = pipeline.await;
        writeln!(
            out,
            "outbox drain to local Mosquitto (start-up included): {events} events in {secs:.2} s = {:.0} events/s, in seq order: {in_order}",
            events as f64 / secs
        )?;
        Ok(())
    })
}
