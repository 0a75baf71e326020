//! # shelfd-testkit
//!
//! What shelfd's tests share, so that no test file re-includes a `mod common` of its own. A
//! `publish = false` dev-dependency of the daemon and of the end-to-end tests. It never depends
//! on the `shelfd` package (the daemon's tests would see two copies of its types): it runs the
//! `shelfd` binary as a child process and reads shelfd's contract through `shelfd-core`.
//!
//! Everything here panics with a message on failure: these are test helpers, a failure is a
//! failed test. Tests only touch 127.0.0.1, their own PTYs and temp dirs, and wait on conditions
//! (with a bound), never on fixed sleeps.
//!
//! ## Layout
//! - [`config`]: [`ConfigBuilder`]: a test config (the TOML shelfd reads) from typed calls.
//! - [`wait`]: [`wait_until`] / [`wait_until_or`]: poll a condition with a timeout.
//! - [`net`]: [`free_port`]: a free TCP port on 127.0.0.1.
//! - [`mosquitto`]: [`Mosquitto`]: a real broker on a free loopback port, in a temp dir.
//! - [`subscriber`]: [`Subscriber`]: a collecting MQTT client (central's side); validates what it
//!   receives against the contract.
//! - [`clients`]: misbehaving MQTT clients: [`clients::publish_once`] (any size, retained),
//!   [`clients::Rogue`] (takes a client id over again and again).
//! - [`contract`]: `contract/schemas` compiled once; validates messages and payloads.
//! - [`postgres`]: [`Postgres`]: a real PostgreSQL on a free loopback port, in its own dir.
//! - [`central`]: `shelfd-central run` as a child process, its config, and a minimal HTTP
//!   client for its API.
//! - [`binary`]: the `shelfd` binary (built once per test process) and one-shot runs of it.
//! - [`daemon`]: [`Daemon`]: `shelfd run` as a child process with its log.
//! - [`readlogs`]: read logs written from the seeded store simulator.
//! - [`event_stream`]: the JSON lines `shelfd replay` and `shelfd demo --json` print, checked
//!   against the event envelope.
//! - [`pty`]: PTY pairs and udev-like by-id symlinks to them.

pub mod binary;
pub mod central;
pub mod clients;
pub mod config;
pub mod contract;
pub mod daemon;
pub mod event_stream;
pub mod mosquitto;
pub mod net;
pub mod postgres;
pub mod pty;
pub mod readlogs;
pub mod subscriber;
pub mod wait;

pub use binary::{Run, shelfd, shelfd_bin, shelfd_with, workspace_root};
pub use config::{ConfigBuilder, Dock, Reader};
pub use daemon::Daemon;
pub use mosquitto::Mosquitto;
pub use net::free_port;
pub use postgres::Postgres;
pub use subscriber::{Msg, Subscriber};
pub use wait::{wait_until, wait_until_or};

/// Lowercase hex of `bytes` (how shelfd prints EPCs).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 1-based number of the only line of `text` that contains `needle` (panics unless exactly one
/// line does).
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

/// Sends a signal by name (`"TERM"`, `"HUP"`, …) to `child` with kill(1) (the tests forbid
/// unsafe code, so no libc).
pub fn signal(child: &std::process::Child, name: &str) {
    let _ = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status();
}
