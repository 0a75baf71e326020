//! A real PostgreSQL for the tests: a fresh cluster (`initdb`) in a directory of its own, a
//! server on a free loopback port (no Unix socket), trust authentication for the `postgres`
//! superuser, stopped (`pg_ctl stop -m immediate`) and removed when dropped.
//!
//! Debian's server refuses to run as root, so when the tests run as root every PostgreSQL
//! command runs as the `postgres` user (`runuser`), in a directory that user owns. Nothing is
//! skipped: when PostgreSQL cannot be started the test fails, saying why and how to install it
//! (`tests/run-all.sh` installs it).

use crate::net::free_port;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// One PostgreSQL server.
pub struct Postgres {
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The directory of `initdb`/`pg_ctl` (Debian keeps them under /usr/lib/postgresql/N/bin).
fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path().join("bin"))
                .filter(|p| p.join("pg_ctl").exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    if let Some(newest) = found.pop() {
        return newest;
    }
    let on_path = Command::new("sh")
        .args(["-c", "command -v pg_ctl"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    match on_path.and_then(|p| p.parent().map(Path::to_path_buf)) {
        Some(dir) => dir,
        None => panic!(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/pg_ctl, no pg_ctl on PATH): \
             run tests/run-all.sh, or `apt-get install postgresql`"
        ),
    }
}

impl Postgres {
    /// Starts a fresh server tuned for tests (no fsync: a test database need not survive a
    /// power cut).
    pub fn start() -> Postgres {
        Self::start_with(&["-c", "fsync=off", "-c", "synchronous_commit=off"])
    }

    /// Starts a fresh server with extra `postgres` options (`["-c", "fsync=on"]` for a
    /// benchmark).
    pub fn start_with(options: &[&str]) -> Postgres {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("shelfd-pg-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the PostgreSQL dir");
        let pg = Postgres {
            port,
            dir,
            bin: bin_dir(),
        };
        if is_root() {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&pg.dir)
                .output()
                .expect("run chown");
            assert!(
                chown.status.success(),
                "cannot hand {} to the postgres user (does the user exist? apt-get install postgresql): {}",
                pg.dir.display(),
                String::from_utf8_lossy(&chown.stderr)
            );
        }
        let data = pg.dir.join("data");
        let init = pg.run(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        assert!(
            init.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&init.stdout),
            String::from_utf8_lossy(&init.stderr)
        );
        let mut opts = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200"
        );
        for o in options {
            opts.push(' ');
            opts.push_str(o);
        }
        let log = pg.dir.join("postgres.log");
        let start = pg.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-l",
                &log.to_string_lossy(),
                "-o",
                &opts,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        assert!(
            start.status.success(),
            "PostgreSQL did not start on 127.0.0.1:{port}: {}{}\n{}",
            String::from_utf8_lossy(&start.stdout),
            String::from_utf8_lossy(&start.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        pg
    }

    fn run(&self, tool: &str, args: &[&str]) -> Output {
        let bin = match self.bin.join(tool) {
            p if p.exists() => p,
            _ => PathBuf::from(tool),
        };
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&bin);
            c
        } else {
            Command::new(&bin)
        };
        cmd.args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()))
    }

    /// Creates database `name` and returns its URL.
    pub fn create_db(&self, name: &str) -> String {
        let out = self.run(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                name,
            ],
        );
        assert!(
            out.status.success(),
            "createdb {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.url(name)
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs one SQL statement with `psql` on database `db` and returns its unaligned output.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = self.run(
            "psql",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-At",
                "-c",
                sql,
            ],
        );
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = self.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
