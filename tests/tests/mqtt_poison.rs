//! Poisoned MQTT input: no single message may stop event delivery or make the broker
//! connection flap faster than the backoff.
//!
//! - Against a real Mosquitto (no size cap configured), a retained 5 MiB message on a `cmd/`
//!   topic, published before the daemon starts, and another 5 MiB command sent while it runs:
//!   the daemon connects once, and every event is delivered in seq order. (shelfd announces an
//!   MQTT 5 Maximum Packet Size, so the broker discards what is larger — MQTT 5.0 §3.1.2.11.4 —
//!   and it never asks for retained messages on its command subscription.)
//! - Against a broker that ignores the announced limit (a scripted peer on 127.0.0.1 that
//!   answers CONNECT and then sends a PUBLISH claiming 5 MiB — no real broker here does that),
//!   the daemon reports the oversized packet once in its log and the pauses between its
//!   connection attempts grow with the backoff instead of staying at the first one.

use shelfd_testkit::clients::publish_once;
use shelfd_testkit::readlogs::{churn_config, churn_log};
use shelfd_testkit::{Daemon, Mosquitto, Subscriber, wait_until, wait_until_or};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const LONG: Duration = Duration::from_secs(90);
const POISON_BYTES: usize = 5 << 20;

#[test]
fn a_retained_oversized_command_neither_stops_events_nor_makes_the_connection_flap() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let broker = Mosquitto::start(&tmp.path().join("broker"), "");
    publish_once(
        broker.port,
        "poisoner",
        "shelfd/v1/s1/gw-1/cmd/asn",
        vec![b'x'; POISON_BYTES],
        true,
    );
    let central = Subscriber::start(broker.port, "central-poison", "shelfd/v1/s1/gw-1/event/#");
    churn_log(&tmp.path().join("reads.jsonl"), 7, 12, 300, 3_000);
    let config = churn_config(4.0).mqtt_port(broker.port).write(tmp.path());
    let mut daemon = Daemon::start(&config);
    daemon.wait_log("connected to the broker", LONG);
    // A second poison while the daemon is connected (queued for its session, not retained).
    publish_once(
        broker.port,
        "poisoner-2",
        "shelfd/v1/s1/gw-1/cmd/ping",
        vec![b'y'; POISON_BYTES],
        false,
    );
    daemon.wait_log("replay source finished", LONG);
    central.wait_for("events", LONG, |m| m.len() >= 10);
    central.wait_quiet(Duration::from_secs(3), LONG);
    daemon.stop();
    central.wait_quiet(Duration::from_secs(1), LONG);

    let seqs = central.seqs();
    let last = *seqs.last().expect("events were delivered");
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "events out of order or missing"
    );
    let log = daemon.log();
    assert_eq!(
        log.matches("connected to the broker").count(),
        1,
        "the connection flapped:\n{log}"
    );
    let broker_log = broker.log();
    assert_eq!(
        broker_log.matches("as shelfd-s1-gw-1").count(),
        1,
        "the daemon connected more than once:\n{broker_log}"
    );
}

/// A peer that speaks just enough MQTT to accept a CONNECT (3.1.1 or 5) and then sends the
/// fixed header of a PUBLISH whose remaining length is [`POISON_BYTES`]; records when each
/// connection was accepted.
fn poisoning_peer() -> (u16, Arc<Mutex<Vec<Instant>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let log = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            log.lock().expect("lock").push(Instant::now());
            std::thread::spawn(move || serve_poison(stream));
        }
    });
    (port, accepted)
}

fn serve_poison(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    // CONNECT: fixed header, remaining length (varint), then "\0\x04MQTT" and the level.
    let mut first = [0u8; 1];
    if stream.read_exact(&mut first).is_err() || first[0] != 0x10 {
        return;
    }
    let Some(len) = read_varint(&mut stream) else {
        return;
    };
    let mut body = vec![0u8; len];
    if stream.read_exact(&mut body).is_err() || body.len() < 7 {
        return;
    }
    let connack: &[u8] = if body[6] == 5 {
        &[0x20, 0x03, 0x00, 0x00, 0x00] // session not present, success, no properties
    } else {
        &[0x20, 0x02, 0x00, 0x00]
    };
    let mut publish = vec![0x31]; // PUBLISH, QoS 0, retained
    let mut n = POISON_BYTES;
    loop {
        let mut byte = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            byte |= 0x80;
        }
        publish.push(byte);
        if n == 0 {
            break;
        }
    }
    publish.extend_from_slice(&[0x00, 0x05]);
    publish.extend_from_slice(b"cmd/x");
    publish.extend_from_slice(&[b'z'; 4096]);
    if stream.write_all(connack).is_err() || stream.write_all(&publish).is_err() {
        return;
    }
    // Keep the connection open until the client drops it.
    let mut sink = [0u8; 4096];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}

fn read_varint(stream: &mut TcpStream) -> Option<usize> {
    let mut value = 0usize;
    for shift in 0..4 {
        let mut b = [0u8; 1];
        stream.read_exact(&mut b).ok()?;
        value |= usize::from(b[0] & 0x7f) << (7 * shift);
        if b[0] & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[test]
fn an_oversized_packet_from_a_broker_that_ignores_the_limit_is_reported_once_and_backs_off() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (port, accepted) = poisoning_peer();
    churn_log(&tmp.path().join("reads.jsonl"), 7, 4, 300, 1_000);
    let config = churn_config(1.0).mqtt_port(port).write(tmp.path());
    let mut daemon = Daemon::start(&config);
    // Six connections: five pauses, the backoff's nominal 0.5, 1, 2, 4 and 8 s (±20 %).
    wait_until_or(
        "six connection attempts",
        LONG,
        || accepted.lock().expect("lock").len() >= 6,
        || daemon.log(),
    );
    let times = accepted.lock().expect("lock").clone();
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    // A pause is never shorter than its nominal delay minus the jitter; the old publisher
    // reset its backoff on every CONNACK and waited about 0.5 s every time.
    assert!(
        gaps[4] >= Duration::from_millis(6_400),
        "the backoff did not grow: {gaps:?}\n{}",
        daemon.log()
    );
    wait_until("the daemon log", Duration::from_secs(10), || {
        daemon.log().contains("over our maximum packet size")
    });
    let log = daemon.log();
    assert_eq!(
        log.matches("over our maximum packet size").count(),
        1,
        "reported more than once:\n{log}"
    );
    daemon.stop();
}
