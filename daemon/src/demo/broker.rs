//! The demo's own MQTT broker: rumqttd 0.20 in-process ([`EmbeddedBroker`]), listening on
//! 127.0.0.1 only, at free ports chosen at start, no TLS, no authentication: MQTT 3.1.1 on
//! [`EmbeddedBroker::port`] (the demo's central view, `mosquitto_sub`) and MQTT 5 on
//! [`EmbeddedBroker::gateway_port`] (the daemon's publisher speaks MQTT 5), one router behind
//! both.
//!
//! rumqttd has fixed ports (no port 0 with a read-back), a blocking `start()` and no stop API.
//! So a free port is found by binding `127.0.0.1:0` and releasing it, the broker runs on a
//! thread of its own until the process ends, and the broker counts as up once a TCP connect to
//! its port succeeds. Another process could take the port between the release and rumqttd's
//! bind: then rumqttd's listener fails, its `start()` returns, and another port is tried.
//!
//! It owns only the broker thread; it never stops it (the process's end does) and never binds
//! anything but the loopback address.

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};
use std::sync::mpsc;
use std::time::Duration;
use tokio::time::Instant;

/// Ports tried before giving up.
const ATTEMPTS: usize = 5;
/// How long one attempt waits for the broker to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause between connection probes.
const PROBE_EVERY: Duration = Duration::from_millis(20);
/// Largest MQTT payload the broker takes (retained snapshots of big stores fit).
const MAX_PAYLOAD: usize = 256 * 1024;

/// The broker could not be started.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// No free port on 127.0.0.1.
    #[error("no free port on 127.0.0.1: {0}")]
    NoPort(std::io::Error),
    /// The broker thread could not be spawned.
    #[error("broker thread: {0}")]
    Thread(std::io::Error),
    /// The broker never accepted connections.
    #[error("the embedded MQTT broker did not start (tried ports {0:?})")]
    NotReady(Vec<u16>),
}

/// A running in-process broker. Dropping it leaves the broker running until the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedBroker {
    port: u16,
    gateway_port: u16,
}

impl EmbeddedBroker {
    /// Starts a broker on a free port of 127.0.0.1 and returns once it accepts connections.
    pub async fn start() -> Result<EmbeddedBroker, BrokerError> {
        let mut tried = Vec::new();
        for _ in 0..ATTEMPTS {
            let port = free_port().map_err(BrokerError::NoPort)?;
            let gateway_port = free_port().map_err(BrokerError::NoPort)?;
            tried.push(port);
            let (done_tx, done) = mpsc::channel();
            let config = broker_config(port, gateway_port);
            std::thread::Builder::new()
                .name("shelfd-demo-broker".into())
                .spawn(move || {
                    let outcome = Broker::new(config).start();
                    // start() only returns when its listener failed.
                    let _ = done_tx.send(outcome.map_err(|e| e.to_string()));
                })
                .map_err(BrokerError::Thread)?;
            if wait_ready(port, &done).await && wait_ready(gateway_port, &done).await {
                return Ok(EmbeddedBroker { port, gateway_port });
            }
            tracing::debug!(port, "embedded broker did not come up; trying another port");
        }
        Err(BrokerError::NotReady(tried))
    }

    /// The port of its MQTT 3.1.1 listener (on 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of its MQTT 5 listener (on 127.0.0.1), the gateway's.
    pub fn gateway_port(&self) -> u16 {
        self.gateway_port
    }

    /// The gateway's broker URL (`mqtt://127.0.0.1:GATEWAY_PORT`, MQTT 5).
    pub fn url(&self) -> crate::config::MqttUrl {
        crate::config::MqttUrl {
            tls: false,
            host: Ipv4Addr::LOCALHOST.to_string(),
            port: self.gateway_port,
        }
    }
}

/// A port that was free on 127.0.0.1 a moment ago.
///
/// The demo's own, not shelfd-testkit's `free_port` (the one every test uses): the demo ships
/// inside the `shelfd` package (feature `demo`), and a normal dependency on a `publish = false`
/// test kit would put test helpers into the tool and keep the package from being published.
fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// True once the broker accepts a TCP connection; false when its thread ended or it did not
/// come up within [`READY_TIMEOUT`].
async fn wait_ready(port: u16, done: &mpsc::Receiver<Result<(), String>>) -> bool {
    let deadline = Instant::now() + READY_TIMEOUT;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    while Instant::now() < deadline {
        if let Ok(outcome) = done.try_recv() {
            tracing::debug!(port, ?outcome, "embedded broker stopped");
            return false;
        }
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return true;
        }
        tokio::time::sleep(PROBE_EVERY).await;
    }
    false
}

/// An MQTT 3.1.1 listener on 127.0.0.1:`port` and an MQTT 5 one on 127.0.0.1:`gateway_port`,
/// sized for a demo (a handful of clients).
fn broker_config(port: u16, gateway_port: u16) -> Config {
    let server = |name: &str, port: u16| ServerSettings {
        name: name.into(),
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: 10_000,
            max_payload_size: MAX_PAYLOAD,
            max_inflight_count: 256,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    };
    Config {
        id: 0,
        router: RouterConfig {
            max_connections: 64,
            max_outgoing_packet_count: 256,
            max_segment_size: 4 * MAX_PAYLOAD,
            max_segment_count: 16,
            ..RouterConfig::default()
        },
        v4: Some(HashMap::from([("1".to_owned(), server("demo", port))])),
        v5: Some(HashMap::from([(
            "2".to_owned(),
            server("demo-gateway", gateway_port),
        )])),
        ..Config::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listens_on_loopback_only() {
        let config = broker_config(41_883, 41_884);
        for (servers, addr) in [
            (
                config.v4.clone().expect("one v4 listener"),
                "127.0.0.1:41883",
            ),
            (
                config.v5.clone().expect("one v5 listener"),
                "127.0.0.1:41884",
            ),
        ] {
            assert_eq!(servers.len(), 1);
            for server in servers.values() {
                assert_eq!(server.listen, addr.parse().expect("addr"));
                assert!(server.tls.is_none());
                assert!(server.connections.dynamic_filters);
            }
        }
        assert!(config.ws.is_none() && config.console.is_none());
        assert!(config.prometheus.is_none() && config.bridge.is_none());
    }
}
