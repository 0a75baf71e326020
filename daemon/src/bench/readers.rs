//! `shelfd bench --only decode` and `--only serial`: what the reader protocols cost.
//!
//! - `decode`: per protocol, a realistic reader → host byte stream (200 k tag frames of 96-bit
//!   SGTINs in rounds of varying size, with the protocol's own round-end, no-tag, keep-alive
//!   and acknowledgement frames) made by the protocol's [`ReaderSimulator`] talking to its
//!   [`HostCommands`] in memory; then the time to decode it (median of [`DECODE_RUNS`] runs),
//!   fed in the driver's 4096-byte reads and in 64-byte reads, as MB/s and frames/s.
//! - `serial`: the CPU cost of live serial input: a simulated reader on a PTY sends 1 000
//!   reads/s through [`run_serial_reader`] into a channel drained by a task, for
//!   [`SERIAL_WINDOW`]; reported as process CPU time (`/proc/self/stat` utime + stime, 10 ms
//!   ticks) per 1 000 reads/s, in % of one core, and again from the nanosecond run times of
//!   `/proc/self/task/*/schedstat`, split into the driver's own thread and the rest (mostly
//!   the simulated reader).
//!
//! It owns only measurement: it never changes a decoder or the driver, asserts nothing and
//! touches no file but the PTYs it creates.

use super::median;
use crate::config::{DEFAULT_BAUD, Protocol};
use shelfd_core::readlog::Record;
use shelfd_core::sim::{SimRng, sim_epc};
use shelfd_readers::frame::{Decoded, FrameDecoder, HostCommands, ReaderSimulator, TagReport};
use shelfd_readers::pty_sim::spawn_simulated_reader;
use shelfd_readers::wire::{self, WireOptions};
use shelfd_readers::{ReaderHealth, ReaderSettings, run_serial_reader};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The protocols measured, in output order.
pub const PROTOCOLS: [Protocol; 4] = [
    Protocol::Mercury,
    Protocol::MagicRf,
    Protocol::R2000,
    Protocol::Line,
];

/// Tag frames in each protocol's decode stream.
pub const DECODE_TAG_FRAMES: u64 = 200_000;
/// Timed decode runs per protocol and read size (the median is printed).
pub const DECODE_RUNS: usize = 7;
/// Reads/s the simulated reader sends in the serial benchmark.
pub const SERIAL_READS_PER_SEC: u64 = 1_000;
/// Measured window of the serial benchmark, per protocol.
pub const SERIAL_WINDOW: Duration = Duration::from_secs(10);

/// Distinct tags the streams draw from.
const POPULATION: u64 = 2_000;

/// The wire options a benchmark reader uses: four antennas for the 0xA0 reader (the host
/// cycles the work antenna, so its acks are in the stream), antenna 1 elsewhere.
fn bench_options(protocol: Protocol) -> WireOptions {
    match protocol {
        Protocol::R2000 => WireOptions {
            antennas: vec![1, 2, 3, 4],
            ..WireOptions::default()
        },
        _ => WireOptions::default(),
    }
}

/// Tag `i` of the population: a 96-bit SGTIN on one of `antennas`, with a plausible RSSI.
pub(super) fn bench_tag(i: u64, antennas: &[u16], rng: &mut SimRng) -> TagReport {
    let serial = i % POPULATION;
    let antenna = antennas
        .get(usize::try_from(serial).unwrap_or(0) % antennas.len().max(1))
        .copied()
        .unwrap_or(1);
    TagReport {
        antenna,
        epc: sim_epc((serial % 50) as u32, serial + 1),
        rssi_dbm: Some((-70.0 + rng.unit() * 30.0).round() as f32),
        ..TagReport::default()
    }
}

/// A reader and its host wired back to back in memory: whatever the reader sends is recorded
/// and decoded, and the host's answers go back to the reader, as over a serial line.
struct Loopback {
    simulator: Box<dyn ReaderSimulator>,
    commands: Box<dyn HostCommands>,
    decoder: Box<dyn FrameDecoder>,
    /// Every byte the reader sent, in order.
    stream: Vec<u8>,
}

impl Loopback {
    fn new(protocol: Protocol, options: &WireOptions) -> anyhow::Result<Self> {
        let mut lb = Loopback {
            simulator: wire::simulator(protocol, options)?,
            commands: wire::commands(protocol, options)?,
            decoder: wire::decoder(protocol, options)?,
            stream: Vec::new(),
        };
        let startup = lb.commands.startup().concat();
        lb.host_sends(&startup);
        Ok(lb)
    }

    /// The host writes `bytes`; the reader's replies are carried back.
    fn host_sends(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let reply = self.simulator.on_host_bytes(bytes);
        self.reader_sends(reply);
    }

    /// The reader writes `bytes`: recorded, decoded, and every host response sent back (which
    /// may make the reader write more).
    fn reader_sends(&mut self, bytes: Vec<u8>) {
        let mut pending = bytes;
        while !pending.is_empty() {
            self.stream.extend_from_slice(&pending);
            self.decoder.feed(&pending);
            let mut answers = Vec::new();
            while let Some(item) = self.decoder.next_frame() {
                if let Some(answer) = self.commands.respond(&item) {
                    answers.extend(answer);
                }
            }
            pending = if answers.is_empty() {
                Vec::new()
            } else {
                self.simulator.on_host_bytes(&answers)
            };
        }
    }
}

/// A stream of at least `tag_frames` tag frames of `protocol`: rounds of 0..=40 tags (about
/// one in ten empty), the host re-arming as its commands say, and nudging a reader that
/// stopped. Returns the stream and the tag frames in it.
fn decode_stream(
    protocol: Protocol,
    options: &WireOptions,
    tag_frames: u64,
) -> anyhow::Result<(Vec<u8>, u64)> {
    let mut lb = Loopback::new(protocol, options)?;
    let mut rng = SimRng::new(11);
    let mut next_tag = 0u64;
    let mut idle_rounds = 0u32;
    while lb.decoder.stats().tags < tag_frames {
        if !lb.simulator.inventory_running() {
            let nudge = lb.commands.nudge().concat();
            lb.host_sends(&nudge);
        }
        let size = if rng.chance(0.1) {
            0
        } else {
            1 + (rng.unit() * 40.0) as u64
        };
        let tags: Vec<TagReport> = (0..size)
            .map(|k| bench_tag(next_tag + k, &options.antennas, &mut rng))
            .collect();
        next_tag += size;
        let before = lb.stream.len();
        let bytes = lb.simulator.round(&tags);
        lb.reader_sends(bytes);
        if lb.stream.len() == before {
            idle_rounds += 1;
            anyhow::ensure!(
                idle_rounds < 1_000,
                "{protocol} simulator stopped sending (inventory never restarted)"
            );
        } else {
            idle_rounds = 0;
        }
    }
    Ok((lb.stream, lb.decoder.stats().tags))
}

/// Counts of one decode pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct DecodeCounts {
    tags: u64,
    frames: u64,
    bad: u64,
}

fn decode_pass(
    protocol: Protocol,
    options: &WireOptions,
    stream: &[u8],
    read_size: usize,
) -> anyhow::Result<(Duration, DecodeCounts)> {
    let mut decoder = wire::decoder(protocol, options)?;
    let mut counts = DecodeCounts::default();
    let start = Instant::now();
    for chunk in stream.chunks(read_size) {
        decoder.feed(chunk);
        while let Some(item) = decoder.next_frame() {
            match std::hint::black_box(&item) {
                Decoded::Tag { .. } => counts.tags += 1,
                Decoded::Frame { .. } => counts.frames += 1,
                Decoded::Bad { .. } => counts.bad += 1,
            }
        }
    }
    Ok((start.elapsed(), counts))
}

/// `--only decode`.
pub(super) fn decode(out: &mut impl Write) -> anyhow::Result<()> {
    for protocol in PROTOCOLS {
        let options = bench_options(protocol);
        let (stream, tags) = decode_stream(protocol, &options, DECODE_TAG_FRAMES)?;
        let mut line = String::new();
        let mut counts = DecodeCounts::default();
        for read_size in [4096usize, 64] {
            let mut secs = Vec::with_capacity(DECODE_RUNS);
            for _ in 0..DECODE_RUNS {
                let (elapsed, c) = decode_pass(protocol, &options, &stream, read_size)?;
                secs.push(elapsed.as_secs_f64());
                counts = c;
            }
            let s = median(secs).max(1e-9);
            let all_frames = (counts.tags + counts.frames) as f64;
            line.push_str(&format!(
                "; {read_size} B reads: {:.0} MB/s, {:.2} M frames/s ({:.2} M tag frames/s)",
                stream.len() as f64 / s / 1e6,
                all_frames / s / 1e6,
                counts.tags as f64 / s / 1e6,
            ));
        }
        writeln!(
            out,
            "decode {protocol}: {:.1} MB stream, {tags} tag frames + {} other frames, {} bad; median of {DECODE_RUNS} runs{line}",
            stream.len() as f64 / 1e6,
            counts.frames,
            counts.bad,
        )?;
    }
    Ok(())
}

/// CPU time (user + system) from a `/proc/.../stat` file: fields 14 and 15 after the
/// parenthesised command name, in USER_HZ (100 per second on Linux's /proc ABI).
fn cpu_time(stat_path: &str) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(stat_path)?;
    let after = stat
        .rfind(')')
        .and_then(|i| stat.get(i + 2..))
        .ok_or_else(|| anyhow::anyhow!("{stat_path}: no command field in {stat:?}"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| -> anyhow::Result<u64> {
        let text = fields
            .get(i)
            .ok_or_else(|| anyhow::anyhow!("{stat_path}: field {} missing", i + 3))?;
        Ok(text.parse::<u64>()?)
    };
    Ok(Duration::from_millis((field(11)? + field(12)?) * 10))
}

/// Run time on a CPU of one task, in ns: the first field of a `schedstat` file.
fn sched_ns(path: &std::path::Path) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(path)?;
    let first = text
        .split_whitespace()
        .next()
        .ok_or_else(|| anyhow::anyhow!("{}: empty", path.display()))?;
    Ok(first.parse()?)
}

/// Run time of every thread of this process, in ns (threads that ended are not counted).
fn process_sched_ns() -> anyhow::Result<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task")? {
        total += sched_ns(&task?.path().join("schedstat"))?;
    }
    Ok(total)
}

/// CPU counters at one moment.
#[derive(Debug, Clone, Copy)]
pub(super) struct CpuSample {
    /// Process utime + stime (10 ms ticks).
    pub(super) process: Duration,
    /// Sum of every thread's schedstat run time.
    pub(super) process_ns: u64,
    /// This thread's schedstat run time.
    pub(super) thread_ns: u64,
}

impl CpuSample {
    pub(super) fn now() -> anyhow::Result<Self> {
        Ok(CpuSample {
            process: cpu_time("/proc/self/stat")?,
            process_ns: process_sched_ns()?,
            thread_ns: sched_ns(std::path::Path::new("/proc/thread-self/schedstat"))?,
        })
    }
}

/// What one serial run measured.
#[derive(Debug, Clone, Copy)]
struct SerialFigures {
    reads: u64,
    wall: Duration,
    process_cpu: Duration,
    process_ns: u64,
    driver_ns: u64,
}

/// `--only serial`.
pub(super) fn serial(out: &mut impl Write) -> anyhow::Result<()> {
    for protocol in PROTOCOLS {
        let f = serial_run(protocol)?;
        let wall = f.wall.as_secs_f64().max(1e-9);
        let rate = f.reads as f64 / wall;
        let per_k = |cpu: Duration| {
            if rate > 0.0 {
                cpu.as_secs_f64() / wall * 100.0 * SERIAL_READS_PER_SEC as f64 / rate
            } else {
                f64::NAN
            }
        };
        let ns = |n: u64| Duration::from_nanos(n);
        writeln!(
            out,
            "serial {protocol}: {rate:.0} reads/s over {wall:.1} s through a PTY; per 1 000 reads/s: process CPU {:.1} % of one core (/proc/self/stat), {:.2} % by schedstat = driver + drain thread {:.2} % + simulated reader and the rest {:.2} %",
            per_k(f.process_cpu),
            per_k(ns(f.process_ns)),
            per_k(ns(f.driver_ns)),
            per_k(ns(f.process_ns.saturating_sub(f.driver_ns))),
        )?;
    }
    Ok(())
}

/// One protocol's serial run. The simulated reader runs on its own thread and runtime, the
/// driver and the task draining its channel on this thread's, so the driver's share can be
/// told apart from the simulator's.
fn serial_run(protocol: Protocol) -> anyhow::Result<SerialFigures> {
    let cancel = CancellationToken::new();
    let options = WireOptions::default();
    let (path_tx, path_rx) = std::sync::mpsc::channel();
    let sim_cancel = cancel.clone();
    let sim_options = options.clone();
    let simulator = std::thread::Builder::new().name("bench-sim".into()).spawn(
        move || -> anyhow::Result<()> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(play_reader(protocol, sim_options, path_tx, sim_cancel))
        },
    )?;
    let measured = (|| -> anyhow::Result<SerialFigures> {
        let path = path_rx.recv_timeout(Duration::from_secs(5))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(drive_and_measure(protocol, path, cancel.clone()))
    })();
    cancel.cancel();
    let played = simulator
        .join()
        .map_err(|_| anyhow::anyhow!("the simulated reader's thread panicked"))?;
    let figures = measured?;
    played?;
    Ok(figures)
}

/// Runs a simulated reader of `protocol` and sends it [`SERIAL_READS_PER_SEC`] reads/s, in
/// rounds of 10 every 10 ms, until `cancel`.
async fn play_reader(
    protocol: Protocol,
    options: WireOptions,
    path_tx: std::sync::mpsc::Sender<std::path::PathBuf>,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let reader = spawn_simulated_reader(protocol, options.clone(), cancel.clone())?;
    path_tx.send(reader.path().to_path_buf())?;
    let rounds = reader.rounds();
    let per_round = SERIAL_READS_PER_SEC / 100;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let mut rng = SimRng::new(5);
    let mut next = 0u64;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tick.tick() => {}
        }
        let tags = (0..per_round)
            .map(|k| bench_tag(next + k, &options.antennas, &mut rng))
            .collect();
        next += per_round;
        // A full queue means the host is not keeping up: the round is lost, as on a reader.
        let _ = rounds.try_send_round(tags);
    }
    reader.unplug().await;
    Ok(())
}

/// Drives the reader at `path`, waits for the first read, then measures reads and CPU over
/// [`SERIAL_WINDOW`].
async fn drive_and_measure(
    protocol: Protocol,
    path: std::path::PathBuf,
    cancel: CancellationToken,
) -> anyhow::Result<SerialFigures> {
    let config = ReaderSettings {
        id: "bench".into(),
        protocol,
        wire: WireOptions::default(),
        watchdog: Duration::from_secs(10),
    };
    let (tx, mut rx) = mpsc::channel(crate::run::RECORD_CHANNEL);
    let health = Arc::new(ReaderHealth::new("bench"));
    let driver = tokio::spawn(run_serial_reader(
        config,
        path,
        DEFAULT_BAUD,
        tx,
        health,
        cancel.clone(),
    ));
    let reads = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = reads.clone();
    let drain = tokio::spawn(async move {
        while let Some(record) = rx.recv().await {
            if let Record::Read(_) = record {
                counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    });
    let load = |r: &std::sync::atomic::AtomicU64| r.load(std::sync::atomic::Ordering::Relaxed);
    let warm_until = Instant::now() + Duration::from_secs(5);
    while load(&reads) == 0 {
        anyhow::ensure!(
            Instant::now() < warm_until,
            "{protocol}: no read through the PTY within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let reads0 = load(&reads);
    let before = CpuSample::now()?;
    let start = Instant::now();
    tokio::time::sleep(SERIAL_WINDOW).await;
    let after = CpuSample::now()?;
    let figures = SerialFigures {
        reads: load(&reads) - reads0,
        wall: start.elapsed(),
        process_cpu: after.process.saturating_sub(before.process),
        process_ns: after.process_ns.saturating_sub(before.process_ns),
        driver_ns: after.thread_ns.saturating_sub(before.thread_ns),
    };
    cancel.cancel();
    let _ = driver.await;
    let _ = drain.await;
    Ok(figures)
}
