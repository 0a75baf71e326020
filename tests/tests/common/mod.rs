#![allow(dead_code)]
//! Helpers of the end-to-end tests: locating (and building) the real `shelfd` binary, running
//! it, writing read logs, and checking the event stream it prints.

use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate lives inside the workspace")
        .to_path_buf()
}

/// The `shelfd` binary of the same target dir and profile as this test executable.
///
/// `CARGO_BIN_EXE_shelfd` only exists for binaries of the test's own package, and
/// `cargo test -p shelfd-e2e` builds the shelfd *library* only. So the first call runs
/// `cargo build -p shelfd --bin shelfd` once per test process: a no-op when the binary is up to
/// date, and it keeps the tests from silently running a stale binary after the daemon's sources
/// changed. If that build fails but a binary exists, the existing binary is used (with a note on
/// stderr); if none exists, the tests fail with cargo's output.
pub fn shelfd_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("path of the test executable");
        // target/<profile>/deps/cli-<hash> -> target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test executable lives in target/<profile>/deps")
            .to_path_buf();
        let bin = profile_dir.join(format!("shelfd{}", std::env::consts::EXE_SUFFIX));
        let target_dir = profile_dir
            .parent()
            .expect("target/<profile> has a parent")
            .to_path_buf();
        let profile = profile_dir
            .file_name()
            .and_then(OsStr::to_str)
            .unwrap_or("debug")
            .to_string();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        // The variables cargo set for this test would make build scripts (ring's) see a
        // different environment than the outer build and rebuild half the tree every time.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            let per_crate = key.starts_with("CARGO_PKG_")
                || matches!(
                    key.as_str(),
                    "CARGO_MANIFEST_DIR"
                        | "CARGO_MANIFEST_PATH"
                        | "CARGO_CRATE_NAME"
                        | "CARGO_PRIMARY_PACKAGE"
                        | "CARGO_TARGET_TMPDIR"
                        | "CARGO_RUSTC_CURRENT_DIR"
                        | "OUT_DIR"
                );
            if per_crate {
                cmd.env_remove(key);
            }
        }
        cmd.current_dir(workspace_root())
            .args(["build", "--quiet", "-p", "shelfd", "--bin", "shelfd"])
            .arg("--target-dir")
            .arg(&target_dir);
        match profile.as_str() {
            "debug" => {}
            "release" => {
                cmd.arg("--release");
            }
            other => {
                cmd.args(["--profile", other]);
            }
        }
        let built = cmd.stdin(Stdio::null()).output();
        match built {
            Ok(out) if out.status.success() && bin.exists() => {}
            other => {
                let why = match other {
                    Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
                    Err(e) => e.to_string(),
                };
                assert!(
                    bin.exists(),
                    "cannot build {}:\n{why}",
                    bin.display()
                );
                eprintln!(
                    "note: `cargo build -p shelfd --bin shelfd` failed; using the existing {}:\n{why}",
                    bin.display()
                );
            }
        }
        bin
    })
}

/// What one run of the binary gave.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output, UTF-8.
    pub stdout: String,
    /// Standard error, UTF-8.
    pub stderr: String,
}

impl Run {
    /// Standard output split into lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

/// Runs `shelfd` with `args` (and extra environment), feeding `stdin` when given.
pub fn shelfd_with<I, S>(args: I, env: &[(&str, &OsStr)], stdin: Option<&[u8]>) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(shelfd_bin());
    cmd.args(args)
        // Logging goes to stderr; keep it at the binary's default whatever the caller's shell says.
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn shelfd");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        let bytes = bytes.to_vec();
        // Write from a thread so a large input cannot deadlock against a full stdout pipe.
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let _ = pipe.write_all(&bytes);
        });
        let out = child.wait_with_output().expect("wait for shelfd");
        writer.join().expect("stdin writer thread");
        return to_run(out);
    }
    to_run(child.wait_with_output().expect("wait for shelfd"))
}

/// Runs `shelfd` with `args`.
pub fn shelfd<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    shelfd_with(args, &[], None)
}

fn to_run(out: std::process::Output) -> Run {
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// 1-based number of the only line of `text` that contains `needle`.
pub fn line_of(text: &str, needle: &str) -> usize {
    let hits: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(hits.len(), 1, "{needle:?} should be on exactly one line");
    hits[0]
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Milliseconds since the Unix epoch of an event time `YYYY-MM-DDTHH:MM:SS.mmmZ`.
/// (Independent of shelfd's own formatter: days-from-civil after H. Hinnant.)
pub fn parse_time(s: &str) -> u64 {
    let b = s.as_bytes();
    assert!(
        b.len() == 24
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && b[19] == b'.'
            && b[23] == b'Z',
        "not a YYYY-MM-DDTHH:MM:SS.mmmZ time: {s:?}"
    );
    let num = |r: std::ops::Range<usize>| -> i64 {
        s[r].parse()
            .unwrap_or_else(|_| panic!("not a number in {s:?}"))
    };
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    let (hh, mm, ss, ms) = (num(11..13), num(14..16), num(17..19), num(20..23));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let total = ((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000) + ms;
    u64::try_from(total).expect("time after 1970")
}

/// The lines `shelfd replay` or `shelfd demo --json` printed, checked against the event contract.
#[derive(Debug)]
pub struct Stream {
    /// Events (everything with a `seq`), in output order.
    pub events: Vec<Value>,
    /// `stock.snapshot` lines, in output order (all after the last event).
    pub snapshots: Vec<Value>,
}

impl Stream {
    /// Parses `stdout`, asserting that every line is a JSON object with the envelope
    /// `v, type, store, gateway, seq, time` in that key order (snapshots: no `seq`, but an
    /// `as_of_seq`), that snapshots come only after every event, and that the seqs are contiguous
    /// from `first_seq`.
    pub fn parse(stdout: &str, store: &str, gateway: &str, first_seq: u64) -> Stream {
        let mut events = Vec::new();
        let mut snapshots: Vec<Value> = Vec::new();
        for (i, raw) in stdout.lines().enumerate() {
            let n = i + 1;
            let v: Value = serde_json::from_str(raw)
                .unwrap_or_else(|e| panic!("stdout line {n} is not JSON ({e}): {raw}"));
            assert!(v.is_object(), "line {n} is not an object: {raw}");
            assert!(
                raw.starts_with(r#"{"v":1,"type":"#),
                "line {n} does not start with the envelope: {raw}"
            );
            let ty = v["type"].as_str().unwrap_or_else(|| panic!("type: {raw}"));
            let time = v["time"].as_str().unwrap_or_else(|| panic!("time: {raw}"));
            parse_time(time);
            if ty == "stock.snapshot" {
                assert!(v.get("seq").is_none(), "a snapshot has no seq: {raw}");
                assert!(v["as_of_seq"].is_u64(), "snapshot without as_of_seq: {raw}");
                let prefix = format!(
                    r#"{{"v":1,"type":"stock.snapshot","store":{},"gateway":{},"time":{},"#,
                    Value::from(store),
                    Value::from(gateway),
                    Value::from(time)
                );
                assert!(raw.starts_with(&prefix), "envelope of line {n}: {raw}");
                snapshots.push(v);
            } else {
                assert!(
                    snapshots.is_empty(),
                    "event after the snapshots (line {n}): {raw}"
                );
                let seq = v["seq"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("event without seq (line {n}): {raw}"));
                let want = first_seq + events.len() as u64;
                assert_eq!(seq, want, "seq not contiguous at line {n}: {raw}");
                // Rebuilding the prefix from the parsed values checks key order and values.
                let prefix = format!(
                    r#"{{"v":1,"type":{},"store":{},"gateway":{},"seq":{seq},"time":{},"#,
                    Value::from(ty),
                    Value::from(store),
                    Value::from(gateway),
                    Value::from(time)
                );
                assert!(raw.starts_with(&prefix), "envelope of line {n}: {raw}");
                events.push(v);
            }
        }
        Stream { events, snapshots }
    }

    /// Seq of the last event, if any.
    pub fn last_seq(&self) -> Option<u64> {
        self.events.last().and_then(|e| e["seq"].as_u64())
    }

    /// Events of type `ty`.
    pub fn of_type<'a>(&'a self, ty: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.events.iter().filter(move |e| e["type"] == ty)
    }

    /// The snapshot of `location` (exactly one).
    pub fn snapshot(&self, location: &str) -> &Value {
        let found: Vec<&Value> = self
            .snapshots
            .iter()
            .filter(|s| s["location"] == location)
            .collect();
        assert_eq!(found.len(), 1, "snapshots of {location}: {found:?}");
        found[0]
    }
}
