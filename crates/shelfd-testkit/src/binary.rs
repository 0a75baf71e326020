//! The real `shelfd` binary: located next to the test executable and built (once per test
//! process, with the tooling features) so a test never runs a stale one; and one-shot runs of it
//! with captured output.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The workspace root (two levels above this crate's directory, `crates/shelfd-testkit`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the test kit lives in crates/ of the workspace")
        .to_path_buf()
}

/// The `shelfd` binary of the same target dir and profile as this test executable.
///
/// `CARGO_BIN_EXE_shelfd` only exists for binaries of the test's own package, and
/// `cargo test -p shelfd-e2e` builds the shelfd *library* only. So the first call runs
/// `cargo build -p shelfd --bin shelfd --features demo,bench` once per test process (the
/// features the e2e crate's dependency on shelfd enables, so that under `cargo test --workspace`
/// the binary cargo already built is up to date): a no-op when the binary is up to date, and it keeps the tests from silently running a stale binary after the daemon's sources
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
            .args(["--features", "demo,bench"])
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
                    "note: `cargo build -p shelfd --bin shelfd --features demo,bench` failed; using the existing {}:\n{why}",
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
