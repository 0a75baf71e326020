//! kill -9 crash test of the sled store: a child process commits and flushes batches in a loop,
//! the parent kills it with SIGKILL at three different moments, reopens the store each time and
//! checks that nothing flushed was lost, the outbox has no gap and every batch landed whole.
//!
//! Owns only this test. It must never wait with a fixed sleep (it waits on the child's output
//! with a timeout) and never leave a child running (the child is killed on every exit path).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use shelfd::store::{Commit, DEFAULT_CACHE_BYTES, Key, KeySpace, OutboxEntry, SledStore, Store};

/// Set (to the state dir) in the child's environment: run the commit loop instead of the test.
const CHILD_ENV: &str = "SHELFD_CRASH_CHILD";
/// This test's name, to re-run only it in the child.
const TEST_NAME: &str = "kill_9_during_flushed_commits_loses_nothing";
/// The line the child prints after each flushed commit, followed by the batch's last seq.
const COMMITTED: &str = "committed ";
/// When to kill, three times: after this many reported commits, plus an offset that moves the
/// kill within the child's commit–flush cycle (about 1 ms in a debug build). The offset does
/// not wait for anything; it only picks the moment.
const KILLS: [(usize, Duration); 3] = [
    (200, Duration::ZERO),
    (263, Duration::from_micros(300)),
    (331, Duration::from_micros(650)),
];
/// The longest the parent waits for the next report before failing.
const REPORT_TIMEOUT: Duration = Duration::from_secs(20);
/// The child gives up on its own after this, should the parent vanish without killing it.
const CHILD_LIFETIME: Duration = Duration::from_secs(60);

#[test]
fn kill_9_during_flushed_commits_loses_nothing() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        run_child(Path::new(&dir));
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("state");
    let mut batches = 0;
    for (round, (kill_after, offset)) in KILLS.into_iter().enumerate() {
        let reported = run_and_kill(&dir, kill_after, offset);
        let outcome = check_store(&dir, reported);
        assert!(
            outcome.batches >= batches + kill_after as u64,
            "round {round}: {} batches after {batches} + {kill_after} reported",
            outcome.batches
        );
        batches = outcome.batches;
        eprintln!(
            "round {round}: killed after seq {reported} was reported flushed; \
             store resumed at next seq {} with {batches} whole batches",
            outcome.next_seq
        );
    }
}

/// Kills the child when dropped, so a failing assertion never leaves it running.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a child on `dir`, waits until it has reported `kill_after` flushed commits, lets
/// `offset` pass, sends it SIGKILL and returns the last seq it reported.
fn run_and_kill(dir: &Path, kill_after: usize, offset: Duration) -> u64 {
    let exe = std::env::current_exe().expect("current_exe");
    let child = Command::new(exe)
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child");
    let mut child = KillOnDrop(child);
    let stdout = child.0.stdout.take().expect("child stdout is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let mut reported = None;
    let mut count = 0;
    while count < kill_after {
        let line = match rx.recv_timeout(REPORT_TIMEOUT) {
            Ok(line) => line,
            Err(e) => panic!("child reported {count} commits, then nothing ({e})"),
        };
        if let Some(seq) = line.strip_prefix(COMMITTED) {
            reported = Some(seq.parse::<u64>().expect("seq in child report"));
            count += 1;
        }
    }
    std::thread::sleep(offset);
    child.0.kill().expect("SIGKILL");
    let status = child.0.wait().expect("wait for child");
    assert!(
        !status.success(),
        "child was killed, not finished: {status}"
    );
    // Lines already in the pipe were flushed before the kill: the last one counts too.
    for line in rx.try_iter() {
        if let Some(seq) = line.strip_prefix(COMMITTED) {
            reported = Some(seq.parse::<u64>().expect("seq in child report"));
        }
    }
    reported.expect("at least one report")
}

/// What a reopened store looked like.
struct Outcome {
    next_seq: u64,
    batches: u64,
}

/// Reopens the store after a kill and checks every promise the store makes.
fn check_store(dir: &Path, reported: u64) -> Outcome {
    let store = SledStore::open(dir, DEFAULT_CACHE_BYTES).expect("reopen after kill -9");
    assert!(store.was_recovered());
    let next_seq = store.next_seq();
    let last = next_seq - 1;
    assert!(
        last >= reported,
        "lost flushed commits: child reported seq {reported} flushed, store resumes at {next_seq}"
    );

    // The outbox is exactly 1..=last: nothing acked, so no gap and nothing beyond next_seq.
    let outbox = store.outbox_first(usize::MAX).expect("outbox");
    let seqs: Vec<u64> = outbox.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "outbox is not 1..={last}"
    );
    let stats = store.outbox_stats();
    assert_eq!(stats.entries, last);
    assert_eq!(
        stats.bytes,
        outbox.iter().map(|e| e.payload.len() as u64).sum::<u64>()
    );

    // Every batch's events are all there: batch 1, 2, … each with i = 0..n.
    let batches = whole_batches(&outbox);

    // The state written with the last batch agrees with the outbox: all or nothing.
    let get = |key: Key| store.get(&key).expect("get");
    assert_eq!(
        get(Key::Meta("batch".into())),
        Some(batches.to_string().into_bytes())
    );
    assert_eq!(
        get(Key::Tag(b"last".to_vec())),
        Some(last.to_string().into_bytes())
    );
    assert_eq!(
        get(Key::Location(format!("shelf-{}", batches % 7))),
        Some(batches.to_string().into_bytes())
    );
    let batch_tags: Vec<(Key, Vec<u8>)> = store
        .scan(KeySpace::Tag)
        .expect("scan tags")
        .into_iter()
        .filter(|(key, _)| matches!(key, Key::Tag(epc) if epc.starts_with(b"batch-")))
        .collect();
    assert_eq!(
        batch_tags,
        vec![(
            Key::Tag(format!("batch-{batches}").into_bytes()),
            last.to_string().into_bytes()
        )],
        "each batch puts its tag and deletes the previous batch's"
    );
    Outcome { next_seq, batches }
}

/// Checks that the outbox is a run of whole batches 1, 2, … and returns how many.
fn whole_batches(outbox: &[OutboxEntry]) -> u64 {
    let mut batch = 0;
    let mut expected_i = 0;
    let mut size = 0;
    for entry in outbox {
        let event: serde_json::Value =
            serde_json::from_slice(&entry.payload).expect("event payload is JSON");
        let field = |name: &str| event[name].as_u64().expect("numeric field");
        assert_eq!(field("seq"), entry.seq, "payload names its own seq");
        if expected_i == 0 {
            batch += 1;
            size = field("n");
        }
        assert_eq!(
            (field("batch"), field("i"), field("n")),
            (batch, expected_i, size),
            "seq {}: batch interleaved or cut",
            entry.seq
        );
        expected_i = (expected_i + 1) % size;
    }
    assert_eq!(expected_i, 0, "last batch {batch} is incomplete");
    batch
}

/// The child: commits and flushes batches forever, reporting each flushed batch's last seq.
fn run_child(dir: &Path) -> ! {
    let started = Instant::now();
    let mut store = SledStore::open(dir, DEFAULT_CACHE_BYTES).expect("child: open store");
    let mut batch: u64 = match store.get(&Key::Meta("batch".into())).expect("child: get") {
        Some(bytes) => String::from_utf8(bytes)
            .expect("child: batch is UTF-8")
            .parse()
            .expect("child: batch is a number"),
        None => 0,
    };
    let mut stdout = std::io::stdout().lock();
    while started.elapsed() < CHILD_LIFETIME {
        batch += 1;
        let n = 1 + batch % 5;
        let first = store.next_seq();
        let last = first + n - 1;
        let pad = "x".repeat((batch % 17 * 40) as usize);
        let commit = Commit {
            puts: vec![
                (Key::Tag(b"last".to_vec()), last.to_string().into_bytes()),
                (
                    Key::Tag(format!("batch-{batch}").into_bytes()),
                    last.to_string().into_bytes(),
                ),
                (
                    Key::Location(format!("shelf-{}", batch % 7)),
                    batch.to_string().into_bytes(),
                ),
                (Key::Meta("batch".into()), batch.to_string().into_bytes()),
            ],
            deletes: vec![Key::Tag(format!("batch-{}", batch - 1).into_bytes())],
            events: (0..n)
                .map(|i| OutboxEntry {
                    seq: first + i,
                    kind: shelfd_core::events::EventKind::TagArrived,
                    payload: format!(
                        r#"{{"seq":{},"batch":{batch},"i":{i},"n":{n},"pad":"{pad}"}}"#,
                        first + i
                    )
                    .into_bytes(),
                })
                .collect(),
        };
        store.commit(commit).expect("child: commit");
        store.flush().expect("child: flush");
        if writeln!(stdout, "{COMMITTED}{last}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            std::process::exit(3); // the parent is gone
        }
    }
    std::process::exit(2);
}
