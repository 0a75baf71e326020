//! `shelfd bench --only llrp`: what LLRP costs.
//!
//! - decode: a reader → host stream as shelfd configures readers (one RO_ACCESS_REPORT per tag
//!   read with EPC-96, AntennaID, PeakRSSI, FirstSeenTimestampUTC, TagSeenCount and Impinj's
//!   peak RSSI custom parameter; a KEEPALIVE every 1 000 messages), [`DECODE_TAGS`] tag
//!   reports, cut and decoded by the client's own path (`MessageStream` + `Message::decode`)
//!   in 16 KiB and 64-byte reads; median of [`DECODE_RUNS`] runs, MB/s and reports/s.
//! - live: the CPU of live LLRP input: the simulated reader (its own thread and runtime) sends
//!   [`LIVE_READS_PER_SEC`] reads/s over loopback TCP to the real client session
//!   (`run_llrp_reader`, configured as `shelfd run` does) into a drained channel, for
//!   [`LIVE_WINDOW`]; process CPU per 1 000 reads/s, split into the client's thread and the
//!   rest (mostly the simulator).
//!
//! It owns only measurement and asserts nothing.

use super::median;
use super::readers::{CpuSample, bench_tag};
use shelfd_core::readlog::Record;
use shelfd_core::sim::SimRng;
use shelfd_readers::ReaderHealth;
use shelfd_readers::llrp::client::{LlrpSettings, run_llrp_reader};
use shelfd_readers::llrp::codec::MessageStream;
use shelfd_readers::llrp::message::{Message, impinj};
use shelfd_readers::llrp::params::TagData;
use shelfd_readers::llrp::simulator::{SimReaderConfig, Vendor, spawn_llrp_simulator};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Tag reports in the decode stream.
pub const DECODE_TAGS: u64 = 200_000;
/// Timed decode runs (the median is printed).
pub const DECODE_RUNS: usize = 7;
/// Reads/s of the live benchmark.
pub const LIVE_READS_PER_SEC: u64 = 1_000;
/// Measured window of the live benchmark.
pub const LIVE_WINDOW: Duration = Duration::from_secs(10);

/// Both LLRP benchmarks.
pub fn run(out: &mut impl Write) -> anyhow::Result<()> {
    decode(out)?;
    live(out)
}

fn stream() -> Vec<u8> {
    let mut rng = SimRng::new(17);
    let mut bytes = Vec::new();
    let antennas = [1u16, 2, 3, 4];
    for i in 0..DECODE_TAGS {
        let t = bench_tag(i, &antennas, &mut rng);
        let rssi = t.rssi_dbm.unwrap_or(-60.0);
        let tag = TagData {
            epc: t.epc,
            antenna: Some(t.antenna),
            peak_rssi: Some(rssi as i8),
            first_seen_utc: Some(1_765_000_000_000_000 + i * 1000),
            tag_seen_count: Some(1),
            custom: vec![impinj::peak_rssi((rssi * 100.0) as i16)],
            ..TagData::default()
        };
        bytes.extend(Message::RoAccessReport(vec![tag]).encode(1, i as u32));
        if i % 1000 == 999 {
            bytes.extend(Message::Keepalive.encode(1, i as u32));
        }
    }
    bytes
}

fn decode(out: &mut impl Write) -> anyhow::Result<()> {
    let bytes = stream();
    let mut line = String::new();
    let mut last = (0u64, 0u64);
    for read_size in [16 * 1024usize, 64] {
        let mut secs = Vec::with_capacity(DECODE_RUNS);
        for _ in 0..DECODE_RUNS {
            let mut s = MessageStream::new(640 * 1024);
            let (mut tags, mut messages) = (0u64, 0u64);
            let start = Instant::now();
            for chunk in bytes.chunks(read_size) {
                s.feed(chunk);
                while let Some(item) = s.next_message() {
                    let (_, raw) = item?;
                    messages += 1;
                    if let Message::RoAccessReport(t) = std::hint::black_box(Message::decode(&raw)?)
                    {
                        tags += t.len() as u64;
                    }
                }
            }
            secs.push(start.elapsed().as_secs_f64());
            last = (tags, messages);
        }
        let s = median(secs).max(1e-9);
        line.push_str(&format!(
            "; {read_size} B reads: {:.0} MB/s, {:.2} M messages/s ({:.2} M tag reports/s)",
            bytes.len() as f64 / s / 1e6,
            last.1 as f64 / s / 1e6,
            last.0 as f64 / s / 1e6,
        ));
    }
    writeln!(
        out,
        "decode llrp: {:.1} MB stream, {} tag reports in {} messages; median of {DECODE_RUNS} runs{line}",
        bytes.len() as f64 / 1e6,
        last.0,
        last.1,
    )?;
    Ok(())
}

fn live(out: &mut impl Write) -> anyhow::Result<()> {
    let cancel = CancellationToken::new();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let sim_cancel = cancel.clone();
    let simulator = std::thread::Builder::new()
        .name("bench-llrp-sim".into())
        .spawn(move || -> anyhow::Result<()> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let sim = spawn_llrp_simulator(
                    SimReaderConfig::new(Vendor::Impinj),
                    0,
                    sim_cancel.clone(),
                )
                .await?;
                addr_tx.send(sim.address().to_string())?;
                let rounds = sim.rounds();
                let per_round = LIVE_READS_PER_SEC / 100;
                let mut tick = tokio::time::interval(Duration::from_millis(10));
                let mut rng = SimRng::new(5);
                let mut next = 0u64;
                loop {
                    tokio::select! {
                        _ = sim_cancel.cancelled() => break,
                        _ = tick.tick() => {}
                    }
                    let tags = (0..per_round)
                        .map(|k| bench_tag(next + k, &[1, 2], &mut rng))
                        .collect();
                    next += per_round;
                    let _ = rounds.try_send_round(tags);
                }
                sim.stop().await;
                anyhow::Ok(())
            })
        })?;
    let measured = (|| -> anyhow::Result<(u64, Duration, CpuSample, CpuSample)> {
        let address = addr_rx.recv_timeout(Duration::from_secs(5))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let mut settings = LlrpSettings::new("bench", address, vec![1, 2]);
            settings.keepalive = Duration::from_secs(5);
            let (tx, mut rx) = mpsc::channel(crate::run::RECORD_CHANNEL);
            let health = Arc::new(ReaderHealth::new("bench"));
            let client = tokio::spawn(run_llrp_reader(settings, tx, health, cancel.clone()));
            let reads = Arc::new(AtomicU64::new(0));
            let counted = reads.clone();
            let drain = tokio::spawn(async move {
                while let Some(record) = rx.recv().await {
                    if let Record::Read(_) = record {
                        counted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
            let warm_until = Instant::now() + Duration::from_secs(10);
            while reads.load(Ordering::Relaxed) < 100 {
                anyhow::ensure!(Instant::now() < warm_until, "llrp: no reads within 10 s");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let reads0 = reads.load(Ordering::Relaxed);
            let before = CpuSample::now()?;
            let start = Instant::now();
            tokio::time::sleep(LIVE_WINDOW).await;
            let after = CpuSample::now()?;
            let n = reads.load(Ordering::Relaxed) - reads0;
            let wall = start.elapsed();
            cancel.cancel();
            let _ = client.await;
            let _ = drain.await;
            Ok((n, wall, before, after))
        })
    })();
    cancel.cancel();
    let played = simulator
        .join()
        .map_err(|_| anyhow::anyhow!("the simulated reader's thread panicked"))?;
    let (n, wall, before, after) = measured?;
    played?;
    let wall_s = wall.as_secs_f64().max(1e-9);
    let rate = n as f64 / wall_s;
    let per_k = |cpu: Duration| {
        cpu.as_secs_f64() / wall_s * 100.0 * LIVE_READS_PER_SEC as f64 / rate.max(1e-9)
    };
    let process_ns = after.process_ns.saturating_sub(before.process_ns);
    let client_ns = after.thread_ns.saturating_sub(before.thread_ns);
    writeln!(
        out,
        "live llrp: {rate:.0} reads/s over {wall_s:.1} s through loopback TCP (one RO_ACCESS_REPORT per read); per 1 000 reads/s: process CPU {:.1} % of one core (/proc/self/stat), {:.2} % by schedstat = client session + drain thread {:.2} % + simulated reader and the rest {:.2} %",
        per_k(after.process.saturating_sub(before.process)),
        per_k(Duration::from_nanos(process_ns)),
        per_k(Duration::from_nanos(client_ns)),
        per_k(Duration::from_nanos(process_ns.saturating_sub(client_ns))),
    )?;
    Ok(())
}
