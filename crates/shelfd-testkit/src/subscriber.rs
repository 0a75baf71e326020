//! A test subscriber (central's side): a rumqttc client on its own thread with a persistent session (so the
//! broker queues QoS 1 messages while either side is away), collecting every message.
//!
//! Every message received on the gateway's outbound topics is validated against the contract
//! (`contract/schemas`, [`crate::contract::check_message`]); reading the messages of a
//! subscriber that saw a violation fails the test with the violations.

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One received message.
#[derive(Debug, Clone)]
pub struct Msg {
    /// Topic.
    pub topic: String,
    /// Payload as JSON (Null when not JSON).
    pub json: Value,
    /// The retain flag as delivered.
    pub retain: bool,
}

/// A running subscriber.
pub struct Subscriber {
    msgs: Arc<Mutex<Vec<Msg>>>,
    violations: Arc<Mutex<Vec<String>>>,
    client: Client,
}

impl Subscriber {
    /// Connects to 127.0.0.1:`port` as `id` and subscribes to `filter` at QoS 1.
    pub fn start(port: u16, id: &str, filter: &str) -> Subscriber {
        Self::start_as(port, id, filter, None)
    }

    /// Like [`Subscriber::start`], authenticating as (user, password).
    pub fn start_as(port: u16, id: &str, filter: &str, login: Option<(&str, &str)>) -> Subscriber {
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options
            .set_clean_session(false)
            .set_keep_alive(Duration::from_secs(5));
        options.set_max_packet_size(1 << 20, 1 << 20);
        if let Some((u, p)) = login {
            options.set_credentials(u, p);
        }
        let (client, mut connection) = Client::new(options, 1024);
        let msgs = Arc::new(Mutex::new(Vec::new()));
        let sink = msgs.clone();
        let violations = Arc::new(Mutex::new(Vec::new()));
        let bad = violations.clone();
        let resub = client.clone();
        let filter = filter.to_owned();
        let subscribed = Arc::new(Mutex::new(false));
        let ready = subscribed.clone();
        std::thread::spawn(move || {
            for event in connection.iter() {
                match event {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = resub.try_subscribe(filter.clone(), QoS::AtLeastOnce);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        *ready.lock().expect("lock") = true;
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if let Err(e) = crate::contract::check_message(&p.topic, &p.payload) {
                            bad.lock().expect("lock").push(e);
                        }
                        let json = serde_json::from_slice(&p.payload).unwrap_or(Value::Null);
                        sink.lock().expect("lock").push(Msg {
                            topic: p.topic.clone(),
                            json,
                            retain: p.retain,
                        });
                    }
                    Ok(_) => {}
                    Err(rumqttc::ConnectionError::RequestsDone) => return,
                    Err(_) => std::thread::sleep(Duration::from_millis(100)),
                }
            }
        });
        crate::wait::wait_until("the subscription", Duration::from_secs(10), || {
            *subscribed.lock().expect("lock")
        });
        Subscriber {
            msgs,
            violations,
            client,
        }
    }

    /// Everything received so far. Panics when a message broke the contract.
    pub fn msgs(&self) -> Vec<Msg> {
        self.assert_contract();
        self.msgs.lock().expect("lock").clone()
    }

    /// Panics with every contract violation seen so far (none: returns).
    pub fn assert_contract(&self) {
        let violations = self.violations.lock().expect("lock");
        assert!(
            violations.is_empty(),
            "messages that break contract/schemas:\n{}",
            violations.join("\n")
        );
    }

    /// Event seqs in order of receipt.
    pub fn seqs(&self) -> Vec<u64> {
        self.msgs()
            .iter()
            .filter(|m| m.topic.contains("/event/"))
            .filter_map(|m| m.json["seq"].as_u64())
            .collect()
    }

    /// Waits until `cond` holds on the messages received.
    pub fn wait_for(&self, what: &str, timeout: Duration, cond: impl Fn(&[Msg]) -> bool) {
        crate::wait::wait_until(what, timeout, || cond(&self.msgs()));
    }

    /// Waits until `check` passes on the messages received; on timeout, panics with what it
    /// last said was wrong and `detail()` (a daemon's log, say).
    pub fn wait_check(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&[Msg]) -> Result<(), String>,
        detail: impl Fn() -> String,
    ) {
        let last = std::cell::RefCell::new(String::new());
        crate::wait::wait_until_or(
            what,
            timeout,
            || match check(&self.msgs()) {
                Ok(()) => true,
                Err(why) => {
                    *last.borrow_mut() = why;
                    false
                }
            },
            || format!("{}\n{}", last.borrow(), detail()),
        );
    }

    /// Waits until no new message arrived for `quiet` (at most `timeout`).
    pub fn wait_quiet(&self, quiet: Duration, timeout: Duration) {
        let start = std::time::Instant::now();
        let mut count = self.msgs.lock().expect("lock").len();
        let mut since = std::time::Instant::now();
        while since.elapsed() < quiet {
            assert!(
                start.elapsed() < timeout,
                "messages kept coming for {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
            let now = self.msgs.lock().expect("lock").len();
            if now != count {
                count = now;
                since = std::time::Instant::now();
            }
        }
    }

    /// Publishes (QoS 1, not retained).
    pub fn publish(&self, topic: &str, payload: &[u8]) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.to_vec())
            .expect("queue publish");
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.client.disconnect();
    }
}
