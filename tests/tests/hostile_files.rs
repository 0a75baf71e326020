//! End-to-end tests of hostile and broken files, run as the real binary: read logs with bad
//! bytes, absurd times and endless lines (`shelfd replay`). Every case names the offending
//! line and exits 65 (EX_DATAERR); nothing panics, hangs or reads a hostile line whole.

use shelfd_testkit::config::{ConfigBuilder, Reader};
use shelfd_testkit::{Run, shelfd};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const EX_DATAERR: i32 = 65;

const READ: &str =
    r#"{"t":1763800000000,"reader":"r1","antenna":1,"epc":"3074257bf7194e4000001a85"}"#;

/// One replay reader on one shelf, state in `dir/state`.
fn config(dir: &Path) -> PathBuf {
    config_in(dir)
}

/// [`config`] written to `dir/shelfd.toml`, state in `dir/state`.
fn config_in(dir: &Path) -> PathBuf {
    ConfigBuilder::new("s1", "gw-1")
        .state_dir(dir.join("state"))
        .mqtt("url", "mqtt://127.0.0.1:1883")
        .reader(Reader::replay("r1", "reads.jsonl").antennas(&[(1, "shelf-a")]))
        .location("shelf-a", "shelf")
        .write(dir)
}

fn replay(config: &Path, input: &Path) -> Run {
    shelfd([
        OsString::from("replay"),
        "--config".into(),
        config.into(),
        "--input".into(),
        input.into(),
    ])
}

#[test]
fn replay_names_a_line_that_is_not_utf8_and_exits_65() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path());
    let input = dir.path().join("reads.jsonl");
    let mut bytes = format!("{READ}\n").into_bytes();
    bytes.extend_from_slice(b"{\"t\":1763800000001,\"reader\":\"r\xff1\"}\n");
    bytes.extend_from_slice(format!("{READ}\n").as_bytes());
    std::fs::write(&input, bytes).expect("write");
    let run = replay(&config, &input);
    assert_eq!(run.code, Some(EX_DATAERR), "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "{}:2: not UTF-8 text (invalid byte at offset 30)",
            input.display()
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn replay_refuses_a_time_past_year_9999_naming_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path());
    let input = dir.path().join("reads.jsonl");
    let late = READ.replace("1763800000000", &u64::MAX.to_string());
    std::fs::write(&input, format!("{READ}\n\n{late}\n")).expect("write");
    let run = replay(&config, &input);
    assert_eq!(run.code, Some(EX_DATAERR), "{run:?}");
    assert!(
        run.stderr
            .contains(":3: field t: 18446744073709551615 ms is after 9999-12-31"),
        "{}",
        run.stderr
    );
}

#[test]
fn replay_rejects_an_endless_line_without_reading_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path());
    let mut child = Command::new(shelfd_testkit::shelfd_bin())
        .args([OsString::from("replay"), "--config".into(), config.into()])
        .args(["--input", "-"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn shelfd");
    let mut stdin = child.stdin.take().expect("stdin");
    // Up to 100 MB of one line: the replay must stop reading long before the end, so the
    // writer meets a closed pipe.
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'x'; 64 * 1024];
        let mut written = 0usize;
        stdin
            .write_all(format!("{READ}\n{{\"t\":1,\"reader\":\"").as_bytes())
            .expect("first line");
        while written < 100 << 20 {
            if stdin.write_all(&chunk).is_err() {
                return (written, true);
            }
            written += chunk.len();
        }
        (written, false)
    });
    let out = child.wait_with_output().expect("wait");
    let (written, refused) = writer.join().expect("writer");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(EX_DATAERR), "{stderr}");
    assert!(
        stderr.contains("stdin:2: longer than 2101248 bytes, the read-log line limit"),
        "{stderr}"
    );
    assert!(refused, "shelfd read all {written} bytes of the line");
    assert!(written < 8 << 20, "shelfd read {written} bytes of the line");
}

// ---------------------------------------------------------------------------------------------
// config and credentials files
// ---------------------------------------------------------------------------------------------

const EX_CONFIG: i32 = 78;

fn check_config(path: &Path) -> Run {
    shelfd([OsString::from("check-config"), path.into()])
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn check_config_refuses_devices_fifos_and_huge_files_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("shelfd.fifo");
    mkfifo(&fifo);
    let huge = dir.path().join("huge.toml");
    let file = std::fs::File::create(&huge).expect("create");
    file.set_len(15 << 30).expect("a sparse 15 GiB file");
    for (path, why) in [
        (
            Path::new("/dev/zero"),
            "it is a character device, expected a regular file",
        ),
        (fifo.as_path(), "it is a FIFO, expected a regular file"),
        (
            huge.as_path(),
            "it is 16106127360 bytes, more than the 4194304 bytes allowed",
        ),
    ] {
        let run = check_config(path);
        assert_eq!(run.code, Some(EX_CONFIG), "{run:?}");
        assert_eq!(
            run.stderr.trim_end(),
            format!("{}: cannot read config file: {why}", path.display())
        );
    }
}

#[test]
fn a_credentials_fifo_is_refused_and_loose_permissions_are_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let creds = dir.path().join("mqtt.credentials");
    let write_config = |creds: &Path| {
        ConfigBuilder::new("s1", "gw-1")
            .state_dir(dir.path().join("state"))
            .mqtt("url", "mqtt://127.0.0.1:1883")
            .mqtt("credentials_file", creds.display().to_string())
            .reader(Reader::replay("r1", "reads.jsonl").antennas(&[(1, "shelf-a")]))
            .location("shelf-a", "shelf")
            .write(dir.path())
    };
    mkfifo(&creds);
    let run = check_config(&write_config(&creds));
    assert_eq!(run.code, Some(EX_CONFIG), "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "cannot read credentials file {:?}: it is a FIFO, expected a regular file",
            creds.display().to_string()
        )),
        "{}",
        run.stderr
    );
    std::fs::remove_file(&creds).expect("rm fifo");
    std::fs::write(&creds, "shelfd\nhunter2\n").expect("write");
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let config = write_config(&creds);
    let run = check_config(&config);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stderr
            .contains("is readable by its group and others (mode 644); make it readable by shelfd only: chmod 600"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2"));
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let run = check_config(&config);
    assert_eq!((run.code, run.stderr.as_str()), (Some(0), ""), "{run:?}");
}

// ---------------------------------------------------------------------------------------------
// damaged state dirs
// ---------------------------------------------------------------------------------------------

fn state_cmd(args: &[&str], dir: &Path) -> Run {
    let mut all: Vec<OsString> = vec!["state".into()];
    all.extend(args.iter().map(OsString::from));
    all.extend(["--state-dir".into(), dir.into()]);
    shelfd(all)
}

/// A state dir whose sled log spans many segments (60 000 reads of 20 000 tags).
fn big_state(dir: &Path, config: &Path) -> PathBuf {
    let log: String = (0..60_000u64)
        .map(|i| {
            format!(
                "{{\"t\":{},\"reader\":\"r1\",\"antenna\":1,\"epc\":\"3074257bf7194e40{:08x}\"}}\n",
                1_763_800_000_000 + 20 * i,
                i % 20_000
            )
        })
        .collect();
    let input = dir.join("big.jsonl");
    std::fs::write(&input, &log).expect("write log");
    let head: String = log.lines().take(3000).map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.join("small.jsonl"), head).expect("write small log");
    let state = dir.join("big-state");
    let run = shelfd([
        OsString::from("replay"),
        "--config".into(),
        config.into(),
        "--input".into(),
        input.into(),
        "--state-dir".into(),
        state.clone().into(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    state
}

fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-r")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp");
    assert!(status.success());
}

/// A run that failed on a damaged store: no panic, and the error names the store and the way out.
fn assert_names_the_damage(what: &str, code: Option<i32>, stderr: &str, db: &Path) {
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert_ne!(code, Some(101), "{what} panicked: {stderr}");
    assert!(
        stderr.contains(&db.display().to_string()),
        "{what}: {stderr}"
    );
    assert!(
        stderr.contains("shelfd state reset --state-dir"),
        "{what}: {stderr}"
    );
}

#[test]
fn truncated_stores_give_an_error_with_the_recovery_never_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path());
    // The store is written with no baseline window: every read makes events, so the sled log
    // spans ~25 MB of segments (with fewer events sled recovers from most cuts).
    let writer_dir = dir.path().join("writer");
    std::fs::create_dir(&writer_dir).expect("mkdir");
    let writer = ConfigBuilder::new("s1", "gw-1")
        .state_dir(writer_dir.join("state"))
        .mqtt("url", "mqtt://127.0.0.1:1883")
        .reader(Reader::replay("r1", "reads.jsonl").antennas(&[(1, "shelf-a")]))
        .location("shelf-a", "shelf")
        .reconcile("baseline_window", "0s")
        .write(&writer_dir);
    let state = big_state(dir.path(), &writer);
    let log_file = state.join("db").join("db");
    let size = std::fs::metadata(&log_file).expect("db file").len();
    let mut damaged = 0;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for trial in 0..20 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let cut = seed % size;
        let copy = dir.path().join(format!("trial-{trial}"));
        copy_dir(&state, &copy);
        let db = copy.join("db");
        std::fs::OpenOptions::new()
            .write(true)
            .open(db.join("db"))
            .expect("open db file")
            .set_len(cut)
            .expect("truncate");
        let status = shelfd([
            OsString::from("status"),
            "--state-dir".into(),
            copy.clone().into(),
        ]);
        let replay = shelfd([
            OsString::from("replay"),
            "--config".into(),
            config.clone().into(),
            "--input".into(),
            "/dev/null".into(),
            "--state-dir".into(),
            copy.clone().into(),
        ]);
        let check = state_cmd(&["check"], &copy);
        if check.code == Some(0) {
            // sled recovered what the cut left: everything works.
            assert_eq!(
                replay.code,
                Some(0),
                "trial {trial} (cut {cut}): {}",
                replay.stderr
            );
            assert!(!status.stderr.contains("panicked"), "{}", status.stderr);
            continue;
        }
        damaged += 1;
        assert_eq!(check.code, Some(EX_DATAERR), "{check:?}");
        assert_names_the_damage("state check", check.code, &check.stderr, &db);
        assert_names_the_damage("status", status.code, &status.stderr, &db);
        assert_names_the_damage("replay", replay.code, &replay.stderr, &db);
        // `run` stops at once with the same error.
        let trial_dir = dir.path().join(format!("run-{trial}"));
        std::fs::create_dir(&trial_dir).expect("mkdir");
        copy_dir(&copy, &trial_dir.join("state"));
        let run_config = config_in(&trial_dir);
        let out = Command::new(shelfd_testkit::shelfd_bin())
            .args([OsString::from("run"), "--config".into(), run_config.into()])
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("run");
        assert_ne!(out.status.code(), Some(0));
        assert_names_the_damage(
            "run",
            out.status.code(),
            &String::from_utf8_lossy(&out.stderr),
            &trial_dir.join("state").join("db"),
        );
        // The documented recovery: move it aside; the next start is a first start whose seqs
        // are above the old store's.
        let reset = state_cmd(&["reset"], &copy);
        assert_eq!(reset.code, Some(0), "{reset:?}");
        assert!(
            reset.stdout.contains("store moved aside to"),
            "{}",
            reset.stdout
        );
        let again = shelfd([
            OsString::from("replay"),
            "--config".into(),
            config.clone().into(),
            "--input".into(),
            dir.path().join("small.jsonl").into(),
            "--state-dir".into(),
            copy.clone().into(),
        ]);
        assert_eq!(again.code, Some(0), "{}", again.stderr);
        let first: serde_json::Value =
            serde_json::from_str(again.stdout.lines().next().expect("an event")).expect("json");
        assert!(
            first["seq"].as_u64().is_some_and(|s| s >= 1 << 40),
            "{first}"
        );
        // A first start: the tags on the shelf form the baseline, none of them "arrives".
        assert!(
            !again.stdout.contains("\"tag.arrived\""),
            "a first start after the reset published arrivals"
        );
    }
    assert!(damaged >= 3, "only {damaged} of 20 cuts damaged the store");
}
