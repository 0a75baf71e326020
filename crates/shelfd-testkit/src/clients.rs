//! MQTT clients that misbehave on purpose: [`publish_once`] sends one message of any size
//! (retained if asked) and waits for its PUBACK; a [`Rogue`] connects with a client id of its
//! choice and reconnects at once whenever the broker drops it, counting its connections — a
//! client of another store that took over the gateway's client id.

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Connects to 127.0.0.1:`port` as `id` (clean session), publishes `payload` on `topic` at
/// QoS 1 (`retain` as given, packets up to 64 MiB) and returns once the broker acknowledged it.
pub fn publish_once(port: u16, id: &str, topic: &str, payload: Vec<u8>, retain: bool) {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options
        .set_keep_alive(Duration::from_secs(5))
        .set_max_packet_size(64 << 20, 64 << 20);
    let (client, mut connection) = Client::new(options, 16);
    client
        .publish(topic, QoS::AtLeastOnce, retain, payload)
        .expect("queue publish");
    for event in connection.iter() {
        match event {
            Ok(Event::Incoming(Packet::PubAck(_))) => break,
            Ok(_) => {}
            Err(e) => panic!("publish to {topic}: {e}"),
        }
    }
    let _ = client.disconnect();
    for event in connection.iter() {
        if event.is_err() {
            break;
        }
    }
}

/// A client that keeps connecting as `id` (with optional credentials) until dropped.
pub struct Rogue {
    connects: Arc<Mutex<Vec<Instant>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Rogue {
    /// Starts connecting to 127.0.0.1:`port` as client id `id`; every time the broker drops
    /// the connection it connects again without a pause.
    pub fn start(port: u16, id: &str, login: Option<(&str, &str)>) -> Rogue {
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(5));
        if let Some((user, password)) = login {
            options.set_credentials(user, password);
        }
        let connects = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, halt) = (connects.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                let (client, mut connection) = Client::new(options.clone(), 16);
                for event in connection.iter() {
                    if halt.load(Ordering::Relaxed) {
                        let _ = client.disconnect();
                        return;
                    }
                    match event {
                        Ok(Event::Incoming(Packet::ConnAck(_))) => {
                            count.lock().expect("lock").push(Instant::now());
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
                // A refused or dropped connection: try again almost at once (a tiny pause
                // only so a broker that is down does not cost a core).
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Rogue {
            connects,
            stop,
            thread: Some(thread),
        }
    }

    /// When the broker accepted each of its connections so far.
    pub fn connects(&self) -> Vec<Instant> {
        self.connects.lock().expect("lock").clone()
    }
}

impl Drop for Rogue {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // The thread notices at its next event (keep-alive pings make one within seconds).
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
