//! The serial driver against simulated readers on real PTY pairs: reads, antenna filtering, line
//! noise, unplug (idle, no spin) and replug through a symlink like udev's by-id links, the
//! watchdog, shutdown, and a seeded store simulation played end to end.
//!
//! Every test owns its PTYs and temp dir, so they run in parallel. Each runs on a
//! current-thread runtime: the driver and the simulator run on the test's own thread, which is
//! what lets the unplug test measure the driver's CPU time from `/proc/thread-self/stat`. No
//! test sleeps to wait for something; the one fixed window is the idle measurement itself.

use shelfd_core::readlog::{LinkState, Record, TagRead};
use shelfd_core::sim::{StoreSim, TagProfile};
use shelfd_core::timefmt::now_ms;
use shelfd_readers::pty_sim::{SimulatedReaderHandle, play_store_sim, spawn_simulated_reader};
use shelfd_readers::{
    DEFAULT_BAUD, Protocol, ReaderHealth, ReaderHealthSnapshot, ReaderSettings, run_serial_reader,
};
use shelfd_readers::{TagReport, WireOptions};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Generous bound for anything that should happen "soon" on a loaded 2-core machine.
const SOON: Duration = Duration::from_secs(10);

/// A `line` reader on `port` with these antennas: its settings and its port.
fn config(
    id: &str,
    port: &Path,
    antennas: &[u16],
    watchdog: Duration,
) -> (ReaderSettings, PathBuf) {
    let settings = ReaderSettings {
        id: id.into(),
        protocol: Protocol::Line,
        wire: WireOptions {
            antennas: antennas.to_vec(),
            ..WireOptions::default()
        },
        watchdog,
    };
    (settings, port.to_path_buf())
}

fn tag(antenna: u16, epc: &[u8], rssi: Option<f32>) -> TagReport {
    TagReport {
        antenna,
        epc: epc.to_vec(),
        rssi_dbm: rssi,
        ..TagReport::default()
    }
}

/// A driver under test: its records, counters and task.
struct Driver {
    rx: mpsc::Receiver<Record>,
    health: Arc<ReaderHealth>,
    cancel: CancellationToken,
    task: JoinHandle<Result<(), shelfd_readers::ReaderSetupError>>,
}

impl Driver {
    fn start((cfg, port): (ReaderSettings, PathBuf)) -> Driver {
        let (tx, rx) = mpsc::channel(256);
        let health = Arc::new(ReaderHealth::new(cfg.id.clone()));
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run_serial_reader(
            cfg,
            port,
            DEFAULT_BAUD,
            tx,
            health.clone(),
            cancel.clone(),
        ));
        Driver {
            rx,
            health,
            cancel,
            task,
        }
    }

    async fn next(&mut self) -> Record {
        match tokio::time::timeout(SOON, self.rx.recv()).await {
            Ok(Some(r)) => r,
            Ok(None) => panic!("driver ended its channel"),
            Err(_) => panic!(
                "no record within {SOON:?}; health {:?}",
                self.health.snapshot()
            ),
        }
    }

    async fn expect_link(&mut self, want: LinkState) {
        match self.next().await {
            Record::Link { link, .. } if link == want => {}
            other => panic!("expected link {want:?}, got {other:?}"),
        }
    }

    async fn expect_read(&mut self) -> TagRead {
        match self.next().await {
            Record::Read(r) => r,
            other => panic!("expected a read, got {other:?}"),
        }
    }

    async fn wait_health(&self, what: &str, ok: impl Fn(&ReaderHealthSnapshot) -> bool) {
        let start = Instant::now();
        loop {
            let s = self.health.snapshot();
            if ok(&s) {
                return;
            }
            assert!(start.elapsed() < SOON, "{what}: still {s:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Cancels and checks the safe terminal state: Down sent, task returned promptly.
    async fn stop(mut self) {
        self.cancel.cancel();
        let started = Instant::now();
        self.expect_link(LinkState::Down).await;
        let done = tokio::time::timeout(Duration::from_secs(3), self.task)
            .await
            .expect("driver returns promptly after cancel");
        assert!(matches!(done, Ok(Ok(()))), "{done:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(!self.health.snapshot().link_up);
        assert!(
            self.rx.recv().await.is_none(),
            "nothing after the final Down"
        );
    }
}

fn sim() -> SimulatedReaderHandle {
    spawn_simulated_reader(
        Protocol::Line,
        WireOptions::default(),
        CancellationToken::new(),
    )
    .expect("a PTY pair")
}

/// Points `link` at `target`, replacing it atomically (as udev re-points a by-id link).
fn point(link: &Path, target: &Path) {
    let tmp = link.with_extension("new");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).expect("symlink");
    std::fs::rename(&tmp, link).expect("re-point symlink");
}

/// CPU time (user + system) of the calling thread, from `/proc/thread-self/stat`.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("/proc/thread-self/stat");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let after = &stat[stat.rfind(')').expect("comm field") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // USER_HZ is 100 on Linux for the /proc ABI.
    Duration::from_millis(ticks * 10)
}

#[tokio::test]
async fn reads_carry_reader_antenna_epc_rssi_and_unknown_antennas_are_dropped() {
    let sim = sim();
    let mut driver = Driver::start(config("r7", sim.path(), &[1, 2], Duration::from_secs(30)));
    driver.expect_link(LinkState::Up).await;
    assert!(driver.health.snapshot().link_up);

    let before = now_ms();
    let epc1 = [
        0x30, 0x74, 0x25, 0x7b, 0xf7, 0x19, 0x4e, 0x40, 0x00, 0x00, 0x1a, 0x85,
    ];
    sim.push_round(vec![
        tag(1, &epc1, Some(-61.5)),
        tag(3, &[0xe2, 0x80], Some(-40.0)),
        tag(2, &[0x30, 0x00], None),
    ])
    .await
    .expect("plugged");

    let a = driver.expect_read().await;
    assert_eq!(
        (a.reader.as_str(), a.antenna, &a.epc[..], a.rssi),
        ("r7", 1, &epc1[..], Some(-61.5))
    );
    let b = driver.expect_read().await;
    assert_eq!(
        (b.reader.as_str(), b.antenna, &b.epc[..], b.rssi),
        ("r7", 2, &[0x30, 0x00][..], None)
    );
    let after = now_ms();
    for t in [a.t, b.t] {
        assert!(
            (before..=after).contains(&t),
            "gateway time {t} in {before}..={after}"
        );
    }
    driver
        .wait_health("antenna 3 counted", |s| s.dropped_reads == 1)
        .await;
    let s = driver.health.snapshot();
    assert_eq!((s.reads, s.frames, s.bad_frames), (2, 3, 0), "{s:?}");
    assert_eq!((s.opens, s.connects, s.disconnects), (1, 1, 0));
    assert!(s.last_frame_ms.is_some_and(|t| t >= before));
    driver.stop().await;
}

#[tokio::test]
async fn garbage_between_lines_is_counted_and_good_lines_still_arrive() {
    let sim = sim();
    let mut driver = Driver::start(config("r1", sim.path(), &[1], Duration::from_secs(30)));
    driver.expect_link(LinkState::Up).await;

    sim.push_raw(b"zz\n".to_vec()).await.expect("plugged");
    sim.push_round(vec![tag(1, &[0x30, 0x01], Some(-50.0))])
        .await
        .expect("plugged");
    sim.push_raw(b"\x00\xff\xfe\x7fgarbage\r\n3000,99\n".to_vec())
        .await
        .expect("plugged");
    sim.push_round(vec![tag(1, &[0x30, 0x02], Some(-51.0))])
        .await
        .expect("plugged");

    assert_eq!(driver.expect_read().await.epc, [0x30, 0x01]);
    assert_eq!(driver.expect_read().await.epc, [0x30, 0x02]);
    driver
        .wait_health("three bad lines counted", |s| s.bad_frames == 3)
        .await;
    let s = driver.health.snapshot();
    assert_eq!((s.reads, s.frames, s.disconnects), (2, 2, 0), "{s:?}");
    driver.stop().await;
}

#[tokio::test]
async fn unplug_idles_without_spinning_and_replug_through_the_link_resumes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let link: PathBuf = dir.path().join("usb-Reader_R1-if00-port0");
    let first = sim();
    point(&link, first.path());
    let mut driver = Driver::start(config("r1", &link, &[1], Duration::from_secs(30)));
    driver.expect_link(LinkState::Up).await;
    first
        .push_round(vec![tag(1, &[0x30, 0x01], None)])
        .await
        .expect("plugged");
    assert_eq!(driver.expect_read().await.epc, [0x30, 0x01]);

    // Unplug: the by-id link goes with the device (the kernel may hand the old /dev/pts/N to
    // someone else's PTY), then the master closes.
    std::fs::remove_file(&link).expect("remove link");
    first.unplug().await;
    driver.expect_link(LinkState::Down).await;
    let s = driver.health.snapshot();
    assert!(!s.link_up);
    assert_eq!(s.disconnects, 1, "{s:?}");

    // Idle: a few reopen attempts on the backoff schedule, next to no CPU.
    let (opens0, cpu0, wall0) = (driver.health.snapshot().opens, thread_cpu(), Instant::now());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (opens1, cpu1, wall) = (
        driver.health.snapshot().opens,
        thread_cpu(),
        wall0.elapsed(),
    );
    let cpu = cpu1.saturating_sub(cpu0);
    assert!(
        opens1 - opens0 <= 4,
        "{} reopen attempts in {wall:?}",
        opens1 - opens0
    );
    assert!(opens1 > opens0, "it keeps trying");
    assert!(
        cpu.as_secs_f64() < 0.2 * wall.as_secs_f64(),
        "driver thread used {cpu:?} CPU in {wall:?} while unplugged"
    );
    assert!(
        driver.rx.try_recv().is_err(),
        "no records while unplugged (one Down per outage)"
    );

    // Replug: a new PTY appears and the link points at it.
    let second = sim();
    point(&link, second.path());
    driver.expect_link(LinkState::Up).await;
    second
        .push_round(vec![tag(1, &[0x30, 0x02], Some(-48.5))])
        .await
        .expect("plugged");
    let read = driver.expect_read().await;
    assert_eq!((read.epc, read.rssi), (vec![0x30, 0x02], Some(-48.5)));
    let s = driver.health.snapshot();
    assert_eq!((s.connects, s.disconnects, s.reads), (2, 1, 2), "{s:?}");
    driver.stop().await;
}

#[tokio::test]
async fn watchdog_nudges_a_silent_reader_then_reopens() {
    let sim = sim();
    let watchdog = Duration::from_millis(300);
    let mut driver = Driver::start(config("r1", sim.path(), &[1], watchdog));
    driver.expect_link(LinkState::Up).await;
    sim.push_round(vec![tag(1, &[0x30, 0x01], None)])
        .await
        .expect("plugged");
    let last_read = Instant::now();
    assert_eq!(driver.expect_read().await.epc, [0x30, 0x01]);

    // Silence: one nudge after a watchdog period, Down after the second.
    driver.expect_link(LinkState::Down).await;
    let silent_for = last_read.elapsed();
    let s = driver.health.snapshot();
    assert_eq!(
        (s.nudges, s.watchdog_trips, s.disconnects),
        (1, 1, 1),
        "{s:?}"
    );
    assert!(
        silent_for >= watchdog * 2 - Duration::from_millis(50),
        "gave up after {silent_for:?}, before two watchdog periods"
    );

    // The port is still there: the driver reopens it and reads flow again.
    driver.expect_link(LinkState::Up).await;
    sim.push_round(vec![tag(1, &[0x30, 0x02], None)])
        .await
        .expect("plugged");
    assert_eq!(driver.expect_read().await.epc, [0x30, 0x02]);
    assert_eq!(driver.health.snapshot().connects, 2);
    driver.stop().await;
}

#[tokio::test]
async fn cancel_reports_down_and_returns_promptly() {
    let sim = sim();
    let mut driver = Driver::start(config("r1", sim.path(), &[1], Duration::from_secs(30)));
    driver.expect_link(LinkState::Up).await;
    // stop() asserts Down, a prompt return, link_up false and nothing after Down.
    driver.stop().await;
    sim.unplug().await;
}

#[tokio::test]
async fn cancel_while_the_channel_is_full_still_returns() {
    let sim = sim();
    let (tx, mut rx) = mpsc::channel(1);
    let health = Arc::new(ReaderHealth::new("r1"));
    let cancel = CancellationToken::new();
    let (cfg, port) = config("r1", sim.path(), &[1], Duration::from_secs(30));
    let task = tokio::spawn(run_serial_reader(
        cfg,
        port,
        DEFAULT_BAUD,
        tx,
        health.clone(),
        cancel.clone(),
    ));
    assert!(matches!(
        tokio::time::timeout(SOON, rx.recv()).await,
        Ok(Some(Record::Link {
            link: LinkState::Up,
            ..
        }))
    ));
    let round: Vec<TagReport> = (0..20u8).map(|i| tag(1, &[0x30, i], None)).collect();
    sim.push_round(round).await.expect("plugged");
    // Nobody drains: the driver blocks on the full channel (back-pressure) ...
    let start = Instant::now();
    while health.snapshot().frames < 2 {
        assert!(start.elapsed() < SOON, "{:?}", health.snapshot());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ... and a cancel still gets through.
    cancel.cancel();
    let done = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("returns despite a full channel");
    assert!(matches!(done, Ok(Ok(()))), "{done:?}");
}

#[tokio::test]
async fn store_sim_plays_through_the_pty_into_the_driver() {
    let mut store = StoreSim::new(42, 1_795_338_000_000);
    store.reader("r1", 200, &[(1, "shelf-a"), (2, "shelf-b")], true);
    let on_a: BTreeSet<Vec<u8>> = store
        .add_tags(3, 1, "shelf-a", TagProfile::SHELF)
        .into_iter()
        .collect();
    let on_b: BTreeSet<Vec<u8>> = store
        .add_tags(4, 2, "shelf-b", TagProfile::SHELF)
        .into_iter()
        .collect();

    let cancel = CancellationToken::new();
    let reader = spawn_simulated_reader(Protocol::Line, WireOptions::default(), cancel.clone())
        .expect("a PTY pair");
    let mut driver = Driver::start(config(
        "r1",
        reader.path(),
        &[1, 2],
        Duration::from_secs(30),
    ));
    driver.expect_link(LinkState::Up).await;
    let player = tokio::spawn(play_store_sim(
        store,
        HashMap::from([("r1".to_string(), reader.rounds())]),
        Duration::from_millis(100),
        cancel.clone(),
    ));

    let (mut seen_a, mut seen_b) = (BTreeSet::new(), BTreeSet::new());
    while seen_a != on_a || seen_b != on_b {
        let read = driver.expect_read().await;
        assert_eq!(read.reader, "r1");
        assert!(read.rssi.is_some());
        match read.antenna {
            1 => assert!(seen_a.insert(read.epc.clone()) || on_a.contains(&read.epc)),
            2 => assert!(seen_b.insert(read.epc.clone()) || on_b.contains(&read.epc)),
            other => panic!("antenna {other}"),
        }
        assert!(
            seen_a.is_subset(&on_a) && seen_b.is_subset(&on_b),
            "no stray EPCs"
        );
    }

    cancel.cancel();
    let store = tokio::time::timeout(SOON, player)
        .await
        .expect("player stops on cancel")
        .expect("player task");
    assert!(store.now() > 1_795_338_000_000, "the simulation advanced");
    assert!(reader.rounds_played() > 0);
    // Drain the reads still in flight, then the shutdown Down.
    driver.cancel.cancel();
    loop {
        match driver.next().await {
            Record::Read(_) => continue,
            Record::Link {
                link: LinkState::Down,
                ..
            } => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        tokio::time::timeout(SOON, driver.task).await,
        Ok(Ok(Ok(())))
    ));
}
