//! The link lifecycle over TCP: a Mercury reader session runs over a loopback socket against
//! the Mercury simulator (the host's start-up commands answered byte for byte, then an
//! inventory round), the peer closes, and the lifecycle reports the link down, reconnects after
//! its backoff and runs a fresh session on the new connection.
//!
//! Only 127.0.0.1 on a port the OS picks; no test sleeps to wait for something: each waits for
//! the record or connection it expects, with a bound.

use shelfd_core::readlog::{LinkState, Record};
use shelfd_readers::link::TcpConnector;
use shelfd_readers::{
    Protocol, ReaderHealth, ReaderSettings, ReaderSimulator, TagReport, WireOptions, run_reader,
    wire,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Generous bound for anything that should happen "soon" on a loaded 2-core machine.
const SOON: Duration = Duration::from_secs(10);

fn tag(last: u8) -> TagReport {
    let mut epc = vec![
        0x30, 0x74, 0x25, 0x7b, 0xf7, 0x19, 0x4e, 0x40, 0, 0, 0x1a, 0,
    ];
    epc[11] = last;
    TagReport {
        antenna: 1,
        epc,
        rssi_dbm: Some(-61.0),
        ..TagReport::default()
    }
}

/// Plays the reader on one accepted connection: answers the host until it starts the
/// inventory, then sends one round carrying `tags`.
async fn serve_one_round(stream: &mut TcpStream, tags: &[TagReport]) {
    let mut sim: Box<dyn ReaderSimulator> =
        wire::simulator(Protocol::Mercury, &WireOptions::default()).expect("mercury simulator");
    let mut buf = [0u8; 1024];
    while !sim.inventory_running() {
        let n = tokio::time::timeout(SOON, stream.read(&mut buf))
            .await
            .expect("host commands in time")
            .expect("read host commands");
        assert!(n > 0, "the host closed before starting the inventory");
        let reply = sim.on_host_bytes(&buf[..n]);
        stream.write_all(&reply).await.expect("reply");
    }
    let round = sim.round(tags);
    stream.write_all(&round).await.expect("round");
}

/// The next record that `want` accepts, skipping others (heartbeats).
async fn wait_for<T>(
    rx: &mut mpsc::Receiver<Record>,
    what: &str,
    mut want: impl FnMut(&Record) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + SOON;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(record)) => {
                if let Some(found) = want(&record) {
                    return found;
                }
            }
            Ok(None) => panic!("channel closed while waiting for {what}"),
            Err(_) => panic!("no {what} within {SOON:?}"),
        }
    }
}

fn is_link(state: LinkState) -> impl FnMut(&Record) -> Option<()> {
    move |r| matches!(r, Record::Link { link, .. } if *link == state).then_some(())
}

fn read_of(last: u8) -> impl FnMut(&Record) -> Option<()> {
    move |r| matches!(r, Record::Read(read) if read.epc.last() == Some(&last)).then_some(())
}

#[tokio::test]
async fn a_protocol_session_runs_over_tcp_and_reconnects_after_the_peer_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let settings = ReaderSettings {
        id: "tcp1".into(),
        protocol: Protocol::Mercury,
        wire: WireOptions::default(),
        watchdog: Duration::from_secs(30),
    };
    let (tx, mut rx) = mpsc::channel(64);
    let health = Arc::new(ReaderHealth::new("tcp1"));
    let cancel = CancellationToken::new();
    let connector = TcpConnector::new(address.to_string(), Duration::from_secs(5));
    let driver = tokio::spawn(run_reader(
        settings,
        connector,
        tx,
        health.clone(),
        cancel.clone(),
    ));

    // First connection: a whole session, then the peer closes.
    let (mut first, _) = tokio::time::timeout(SOON, listener.accept())
        .await
        .expect("first connect in time")
        .expect("accept");
    serve_one_round(&mut first, &[tag(1)]).await;
    wait_for(&mut rx, "link up", is_link(LinkState::Up)).await;
    wait_for(&mut rx, "the first read", read_of(1)).await;
    drop(first);
    wait_for(&mut rx, "link down", is_link(LinkState::Down)).await;

    // The lifecycle reconnects after its backoff and runs a fresh session.
    let (mut second, _) = tokio::time::timeout(SOON, listener.accept())
        .await
        .expect("reconnect in time")
        .expect("accept");
    serve_one_round(&mut second, &[tag(2)]).await;
    wait_for(&mut rx, "link up again", is_link(LinkState::Up)).await;
    wait_for(&mut rx, "the read after the reconnect", read_of(2)).await;
    let s = health.snapshot();
    assert_eq!((s.connects, s.disconnects, s.reads), (2, 1, 2), "{s:?}");
    assert!(s.link_up);

    cancel.cancel();
    let done = tokio::time::timeout(SOON, driver).await;
    assert!(matches!(done, Ok(Ok(Ok(())))), "{done:?}");
    wait_for(&mut rx, "the final link down", is_link(LinkState::Down)).await;
    // The session's shutdown commands (stop the inventory) reached the peer, then the link
    // closed.
    let stop: Vec<u8> = wire::commands(Protocol::Mercury, &WireOptions::default())
        .expect("mercury commands")
        .shutdown()
        .concat();
    assert!(!stop.is_empty());
    let mut rest = Vec::new();
    let read = tokio::time::timeout(SOON, second.read_to_end(&mut rest)).await;
    assert!(matches!(read, Ok(Ok(_))), "{read:?}");
    assert!(rest.ends_with(&stop), "{rest:02x?}");
    assert!(!health.snapshot().link_up);
}
