//! `shelfd-central run` as a child process (the binary path comes from the caller: only
//! central's own tests know it, through `CARGO_BIN_EXE_shelfd-central`), its config and
//! tokens written from typed calls, the API port read from its first line of output, killed
//! with SIGKILL or stopped with SIGTERM; killed when dropped. Plus [`http`], a minimal
//! HTTP/1.1 client for calling its API without a client library.

use crate::wait::wait_until;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a central config needs.
#[derive(Debug, Clone)]
pub struct CentralSetup {
    /// The broker's port on 127.0.0.1.
    pub broker_port: u16,
    /// The persistent session's client id.
    pub client_id: String,
    /// `sqlite:PATH` or `postgres://…`.
    pub database_url: String,
    /// API port on 127.0.0.1.
    pub api_port: u16,
    /// The shared-subscription group, for several instances.
    pub shared_group: Option<String>,
    /// The tokens file.
    pub tokens_file: PathBuf,
    /// The products file.
    pub products_file: Option<PathBuf>,
    /// Gap wait (ms).
    pub gap_wait_ms: u64,
}

impl CentralSetup {
    /// The `central.toml` text.
    pub fn to_toml(&self) -> String {
        let mut t = format!(
            "[mqtt]\nhost = \"127.0.0.1\"\nport = {}\nclient_id = \"{}\"\nkeep_alive_s = 5\n",
            self.broker_port, self.client_id
        );
        if let Some(g) = &self.shared_group {
            t.push_str(&format!("shared_group = \"{g}\"\n"));
        }
        t.push_str(&format!(
            "[database]\nurl = \"{}\"\n[api]\nlisten = \"127.0.0.1:{}\"\ntokens_file = \"{}\"\n",
            self.database_url,
            self.api_port,
            self.tokens_file.display()
        ));
        if let Some(p) = &self.products_file {
            t.push_str(&format!("products_file = \"{}\"\n", p.display()));
        }
        t.push_str(&format!(
            "[inventory]\ngap_wait_ms = {}\nresync_retry_ms = 3000\n",
            self.gap_wait_ms
        ));
        t
    }
}

/// A running `shelfd-central run`.
pub struct CentralProcess {
    child: Option<Child>,
    bin: PathBuf,
    config: PathBuf,
    log: PathBuf,
    /// API port.
    pub api_port: u16,
}

impl CentralProcess {
    /// Writes `setup` to `dir/central.toml` and starts `bin run --config …`; waits until the
    /// API serves.
    pub fn start(bin: &Path, dir: &Path, setup: &CentralSetup) -> CentralProcess {
        let config = dir.join("central.toml");
        std::fs::write(&config, setup.to_toml()).expect("write central.toml");
        let mut c = CentralProcess {
            child: None,
            bin: bin.to_path_buf(),
            config,
            log: dir.join("central.log"),
            api_port: setup.api_port,
        };
        c.restart();
        c
    }

    /// Starts it again on the same config (after [`CentralProcess::kill9`]).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "central already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open central log");
        let mut child = Command::new(&self.bin)
            .arg("run")
            .arg("--config")
            .arg(&self.config)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn shelfd-central");
        let stdout = child.stdout.take().expect("stdout");
        let ready = Arc::new(Mutex::new(false));
        let flag = ready.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("API on http://") {
                    *flag.lock().expect("lock") = true;
                }
            }
        });
        self.child = Some(child);
        let log = self.log.clone();
        wait_until(
            &format!("shelfd-central serving (log: {})", log.display()),
            Duration::from_secs(60),
            || {
                if let Some(status) = self
                    .child
                    .as_mut()
                    .and_then(|c| c.try_wait().ok().flatten())
                {
                    panic!(
                        "shelfd-central exited with {status}: {}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
                *ready.lock().expect("lock")
            },
        );
    }

    /// SIGKILL: no goodbye, nothing flushed, no ack sent.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill -9 shelfd-central");
            let _ = child.wait();
        }
    }

    /// SIGTERM and waits for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            crate::signal(&child, "TERM");
            let status = child.wait().expect("wait shelfd-central");
            assert!(
                status.success(),
                "shelfd-central exited with {status}: {}",
                self.log()
            );
        }
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET path` with a bearer token.
    pub fn get(&self, path: &str, token: &str) -> (u16, serde_json::Value) {
        http(self.api_port, "GET", path, Some(token), None)
    }
}

impl Drop for CentralProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// One HTTP/1.1 request to 127.0.0.1:`port` (`Connection: close`): the status and the body as
/// JSON (`Null` when it is not JSON).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the API");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes()).expect("send request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    let text = String::from_utf8_lossy(&raw);
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {text}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}
