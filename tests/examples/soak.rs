//! Soak run (issue #19 point 12; not part of CI): the real `shelfd run` for an hour or more on
//! simulated readers, killed with SIGKILL every few minutes, its broker restarted now and then,
//! its state dir on a nearly full filesystem. A persistent subscriber checks every seq; RSS and
//! open file descriptors are sampled every 10 s. Prints a report (and writes it with
//! `--report FILE`); exits 1 when an event was lost.
//!
//! ```text
//! cargo run --release -p shelfd-e2e --example soak -- --minutes 60
//!     [--kill-every 180] [--broker-every 900] [--disk-mb 256] [--free-mb 24] [--report F]
//! ```
//!
//! The nearly full disk is a tmpfs of `--disk-mb` mounted for the state dir and filled up to
//! `--free-mb` (needs root; without it the run says so and uses a plain directory).
//! Each segment between two kills plays a read log of its own (a store of 40 items on two
//! shelves read once a second, an item added, moved or removed every few seconds), so every
//! restart brings arrivals and departures to publish.

use shelfd_core::readlog::Record;
use shelfd_core::sim::{StoreSim, TagProfile, sim_epc};
use shelfd_testkit::readlogs::LOG_START_MS;
use shelfd_testkit::{ConfigBuilder, Daemon, Mosquitto, Reader, Subscriber};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Args {
    minutes: u64,
    kill_every: u64,
    broker_every: u64,
    disk_mb: u64,
    free_mb: u64,
    report: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        minutes: 60,
        kill_every: 180,
        broker_every: 900,
        disk_mb: 256,
        free_mb: 24,
        report: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| fail(&format!("{flag} needs a value")))
        };
        let num = |v: String| -> u64 {
            v.parse()
                .unwrap_or_else(|_| fail(&format!("{flag}: {v:?} is not a whole number")))
        };
        match flag.as_str() {
            "--minutes" => a.minutes = num(value()),
            "--kill-every" => a.kill_every = num(value()).max(10),
            "--broker-every" => a.broker_every = num(value()).max(10),
            "--disk-mb" => a.disk_mb = num(value()).max(16),
            "--free-mb" => a.free_mb = num(value()),
            "--report" => a.report = Some(value().into()),
            other => fail(&format!("unknown argument {other:?} (see the file's docs)")),
        }
    }
    a
}

fn fail(msg: &str) -> ! {
    eprintln!("soak: {msg}");
    std::process::exit(2)
}

/// The read log of segment `n`: `secs` of a 40-item store with churn.
fn segment_log(path: &Path, n: u64, secs: u64) {
    let mut sim = StoreSim::new(1_000 + n, LOG_START_MS);
    sim.reader("r1", 1000, &[(1, "shelf-a"), (2, "shelf-b")], true);
    let mut items: Vec<Vec<u8>> = Vec::new();
    for i in 0..40 {
        let epc = sim_epc((i % 5) as u32 + 1, n * 100_000 + i);
        let shelf = if i % 2 == 0 { "shelf-a" } else { "shelf-b" };
        sim.put(epc.clone(), Some(shelf), TagProfile::SHELF);
        items.push(epc);
    }
    let mut out = String::new();
    let mut next_serial = 40;
    let mut t = 0;
    while t < secs {
        sim.run_for(4_000);
        t += 4;
        match sim.rng().range(0, 3) {
            0 => {
                let epc = sim_epc((next_serial % 5) as u32 + 1, n * 100_000 + next_serial);
                next_serial += 1;
                sim.put(epc.clone(), Some("shelf-a"), TagProfile::SHELF);
                items.push(epc);
            }
            1 if !items.is_empty() => {
                let i = sim.rng().range(0, items.len() as u64) as usize;
                let epc = items.swap_remove(i);
                sim.move_tag(&epc, None);
            }
            _ if !items.is_empty() => {
                let i = sim.rng().range(0, items.len() as u64) as usize;
                let to = if sim.rng().chance(0.5) {
                    "shelf-a"
                } else {
                    "shelf-b"
                };
                let epc = items[i].clone();
                sim.move_tag(&epc, Some(to));
            }
            _ => {}
        }
        for r in sim.take_records() {
            if let Record::Read(_) | Record::Link { .. } = r {
                out.push_str(&r.to_json_line());
                out.push('\n');
            }
        }
    }
    std::fs::write(path, out).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
}

fn config(dir: &Path, state: &Path, log: &str, port: u16) -> PathBuf {
    ConfigBuilder::new("s1", "gw-1")
        .state_dir(state)
        .mqtt("keep_alive", "5s")
        .mqtt_port(port)
        .reader(
            Reader::replay("r1", log)
                .set("speed", 1.0)
                .antennas(&[(1, "shelf-a"), (2, "shelf-b")]),
        )
        .location("shelf-a", "shelf")
        .location("shelf-b", "shelf")
        .quick_reconcile()
        .write(dir)
}

/// Mounts a tmpfs of `mb` at `dir` and fills it up to `free_mb`; false when that failed.
fn nearly_full_disk(dir: &Path, mb: u64, free_mb: u64) -> bool {
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={mb}m"), "tmpfs"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        return false;
    }
    let filler = vec![0u8; 1 << 20];
    let mut f = std::fs::File::create(dir.join("filler")).expect("filler");
    for _ in 0..mb.saturating_sub(free_mb) {
        if std::io::Write::write_all(&mut f, &filler).is_err() {
            break;
        }
    }
    true
}

fn free_mb(dir: &Path) -> Option<u64> {
    let out = Command::new("df").args(["-Pm"]).arg(dir).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()
}

/// (RSS in KiB, open file descriptors) of a process.
fn sample(pid: u32) -> Option<(u64, usize)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
    Some((rss, fds))
}

fn main() {
    let a = args();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let state = dir.join("state");
    std::fs::create_dir_all(&state).expect("state dir");
    let disk = nearly_full_disk(&state, a.disk_mb, a.free_mb);
    let mut broker = Mosquitto::start(&dir.join("broker"), "");
    let sub = Subscriber::start(broker.port, "soak-central", "shelfd/v1/s1/gw-1/event/#");
    let started = Instant::now();
    let end = Duration::from_secs(a.minutes * 60);
    let mut samples: Vec<(u64, u64, usize)> = Vec::new();
    let (mut kills, mut broker_restarts, mut segment) = (0u64, 0u64, 0u64);
    let mut next_broker = Duration::from_secs(a.broker_every);
    let mut min_free = free_mb(&state);
    let mut daemon: Option<Daemon> = None;
    while started.elapsed() < end {
        segment += 1;
        let log = format!("reads-{segment}.jsonl");
        segment_log(&dir.join(&log), segment, a.kill_every + 30);
        let cfg = config(dir, &state, &log, broker.port);
        let d = Daemon::start(&cfg);
        let pid = d.pid();
        daemon = Some(d);
        // Kill somewhere in the second half of the segment.
        let run_for =
            Duration::from_secs(a.kill_every / 2 + (segment * 37) % (a.kill_every / 2).max(1));
        let seg_start = Instant::now();
        while seg_start.elapsed() < run_for && started.elapsed() < end {
            std::thread::sleep(Duration::from_secs(10));
            if let Some((rss, fds)) = pid.and_then(sample) {
                samples.push((started.elapsed().as_secs(), rss, fds));
            }
            if let Some(f) = free_mb(&state) {
                min_free = Some(min_free.map_or(f, |m: u64| m.min(f)));
            }
            if started.elapsed() >= next_broker {
                broker.stop();
                std::thread::sleep(Duration::from_secs(5));
                broker.restart();
                broker_restarts += 1;
                next_broker += Duration::from_secs(a.broker_every);
            }
        }
        if started.elapsed() < end {
            if let Some(mut d) = daemon.take() {
                d.kill9();
                kills += 1;
            }
        }
    }
    // The last segment ends with a clean stop, so its final seq is known.
    let mut d = match daemon.take() {
        Some(d) => d,
        None => {
            let cfg = config(dir, &state, &format!("reads-{segment}.jsonl"), broker.port);
            Daemon::start(&cfg)
        }
    };
    std::thread::sleep(Duration::from_secs(15));
    d.stop();
    let last = d.final_next_seq().saturating_sub(1);
    let deadline = Instant::now() + Duration::from_secs(180);
    while Instant::now() < deadline
        && (sub.seqs().iter().collect::<BTreeSet<_>>().len() as u64) < last
    {
        std::thread::sleep(Duration::from_secs(1));
    }
    let seqs = sub.seqs();
    let unique: BTreeSet<u64> = seqs.iter().copied().collect();
    let lost: Vec<u64> = (1..=last).filter(|s| !unique.contains(s)).collect();
    let beyond = unique.iter().filter(|s| **s > last).count();
    let dups = seqs.len() - unique.len();
    let rss: Vec<u64> = samples.iter().map(|s| s.1).collect();
    let fds: Vec<usize> = samples.iter().map(|s| s.2).collect();
    let median = |v: &[u64]| {
        let mut v = v.to_vec();
        v.sort_unstable();
        v.get(v.len() / 2).copied().unwrap_or(0)
    };
    let quarter = samples.len() / 4;
    let first_q: Vec<u64> = rss.iter().take(quarter.max(1)).copied().collect();
    let last_q: Vec<u64> = rss.iter().rev().take(quarter.max(1)).copied().collect();
    let mut report = format!(
        "soak: {} min, {} segments, {kills} kill -9, {broker_restarts} broker restarts\n\
         disk: {}\n\
         events: last seq {last}, lost {}, beyond last {beyond}, duplicates {dups}\n\
         RSS KiB: median first quarter {}, median last quarter {}, max {}\n\
         fds: min {}, max {}\n",
        started.elapsed().as_secs() / 60,
        segment,
        if disk {
            format!(
                "state dir on a {} MiB tmpfs filled to {} MiB free (least free seen: {} MiB)",
                a.disk_mb,
                a.free_mb,
                min_free.unwrap_or(0)
            )
        } else {
            "plain directory (mounting a tmpfs failed: run as root for the nearly-full leg)".into()
        },
        lost.len(),
        median(&first_q),
        median(&last_q),
        rss.iter().max().copied().unwrap_or(0),
        fds.iter().min().copied().unwrap_or(0),
        fds.iter().max().copied().unwrap_or(0),
    );
    report.push_str("samples (s, RSS KiB, fds), every 5th:\n");
    for s in samples.iter().step_by(5) {
        report.push_str(&format!("  {} {} {}\n", s.0, s.1, s.2));
    }
    print!("{report}");
    if let Some(path) = &a.report {
        std::fs::write(path, &report).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
    }
    if disk {
        let _ = Command::new("umount").arg(&state).status();
    }
    if !lost.is_empty() {
        eprintln!("soak: lost seqs {lost:?}");
        std::process::exit(1);
    }
}
