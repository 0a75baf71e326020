//! A real Mosquitto for the tests: started on a free loopback port with its own config, state
//! and log in a directory the test owns; stopped (SIGTERM, it saves its persistence), killed or
//! restarted on the same port. Optional extra config lines (TLS listener, ACL, password file).
//! Killed when dropped.

use crate::net::free_port;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One Mosquitto process (and its config, to restart it).
pub struct Mosquitto {
    /// The plain listener's port.
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Mosquitto {
    /// Starts Mosquitto with a plain listener on a free port, persistence in `dir`, anonymous
    /// access, plus `extra` config lines (which may add listeners on other ports).
    pub fn start(dir: &Path, extra: &str) -> Mosquitto {
        let port = free_port();
        std::fs::create_dir_all(dir).expect("broker dir");
        // Mosquitto started as root drops to the `mosquitto` user, which cannot enter our temp
        // dirs; keep it as whoever runs the tests.
        let user = Command::new("id")
            .arg("-un")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        let conf = format!(
            "user {user}\n\
             per_listener_settings false\n\
             persistence true\n\
             persistence_location {dir}/\n\
             autosave_interval 1\n\
             log_dest file {dir}/mosquitto.log\n\
             log_type error\nlog_type warning\nlog_type notice\nlog_type information\n\
             max_queued_messages 0\n\
             max_inflight_messages 0\n\
             listener {port} 127.0.0.1\n{extra}",
            dir = dir.display()
        );
        let conf = if extra.contains("allow_anonymous") {
            conf
        } else {
            format!("{conf}\nallow_anonymous true\n")
        };
        std::fs::write(dir.join("mosquitto.conf"), conf).expect("write mosquitto.conf");
        let mut m = Mosquitto {
            port,
            dir: dir.to_path_buf(),
            child: None,
        };
        m.restart();
        m
    }

    /// Starts Mosquitto on a free port with a whole config of the caller's: `config(port, dir)`
    /// returns the text (it must listen on 127.0.0.1:`port` and may put files in `dir`).
    pub fn start_with_config(dir: &Path, config: impl FnOnce(u16, &Path) -> String) -> Mosquitto {
        let port = free_port();
        std::fs::create_dir_all(dir).expect("broker dir");
        std::fs::write(dir.join("mosquitto.conf"), config(port, dir))
            .expect("write mosquitto.conf");
        let mut m = Mosquitto {
            port,
            dir: dir.to_path_buf(),
            child: None,
        };
        m.restart();
        m
    }

    /// Starts the broker again with the same config and port (after [`Mosquitto::stop`] or
    /// [`Mosquitto::kill`]).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "broker already running");
        let bin = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("mosquitto");
        let child = Command::new(bin)
            .arg("-c")
            .arg(self.dir.join("mosquitto.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mosquitto is installed (tests/run-all.sh installs it)");
        self.child = Some(child);
        let port = self.port;
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("mosquitto exited with {status}: {}", self.log());
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "mosquitto did not listen: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the broker with SIGTERM (it saves its persistence file) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            crate::signal(&child, "TERM");
            let _ = child.wait();
        }
    }

    /// Kills the broker with SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The broker's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("mosquitto.log")).unwrap_or_default()
    }

    /// Appends a line to a file in the broker dir (password files, ACLs) and returns its path.
    pub fn write_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .expect("open broker file");
        f.write_all(text.as_bytes()).expect("write broker file");
        path
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.kill();
    }
}
