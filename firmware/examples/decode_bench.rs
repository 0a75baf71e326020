//! Gateway-side decode rate of shelf-link v1: how fast `shelfd` (or any gateway) turns bus bytes
//! into checked, decoded reports. A benchmark, not a test: it prints figures and asserts only
//! that every frame decoded.
//!
//! The stream is what a busy bus of 32 nodes carries towards the gateway, encoded with this
//! crate's encoder: a heartbeat for most polls, lane weights, pick/puts, some tag reads (96-bit
//! EPCs) and the odd hello, fault and command result. It is fed to a [`FrameAccumulator`] in
//! reads of 4096 bytes (the daemon's serial read size) and 64 bytes, and each frame is
//! decoded as a [`Report`] and classified by a [`NodeSession`], as the gateway does.
//!
//! ```sh
//! cargo run --release -p shelf-node --features std --example decode_bench
//! ```

use shelf_node::link::{
    CommandStatus, Delivery, Epc, FaultCode, FirmwareVersion, Frame, FrameAccumulator, NodeSession,
    Report,
};
use shelf_node::sim::SimRng;
use std::hint::black_box;
use std::time::Instant;

/// Frames in the benchmark stream.
const FRAMES: usize = 200_000;
/// Nodes on the simulated bus.
const NODES: u8 = 32;
/// Runs per figure; the median is printed.
const RUNS: usize = 7;

/// One report of the mix, picked by `roll` in 0..100.
fn report(rng: &mut SimRng, roll: u64, node: u8) -> Report {
    let lane = rng.below(4) as u8;
    match roll {
        0..=49 => Report::Heartbeat {
            uptime_s: rng.below(1_000_000) as u32,
            queued: 0,
            dropped: 0,
            identifying: false,
        },
        50..=74 => Report::LaneWeight {
            lane,
            stable: true,
            weight_mg: rng.below(5_000_000) as i32,
            raw: 84_000 + rng.below(2_000_000) as i32,
        },
        75..=89 => Report::PickPut {
            lane,
            units: -(1 + rng.below(3) as i16),
            delta_mg: -(rng.below(1_000_000) as i32) - 1,
        },
        90..=96 => {
            let mut epc = [0u8; 12];
            for b in &mut epc {
                *b = rng.below(256) as u8;
            }
            Report::TagRead {
                antenna: 1,
                rssi_ddbm: -(400 + rng.below(300) as i16),
                epc: Epc::new(&epc).expect("invariant: 12 bytes is a valid EPC"),
            }
        }
        97 => Report::Hello {
            node_id: 0x5100_0000 + u64::from(node),
            firmware: FirmwareVersion {
                major: 1,
                minor: 0,
                patch: 0,
            },
            lanes: 4,
        },
        98 => Report::Fault {
            code: FaultCode::SENSOR_TIMEOUT,
            lane,
            detail: 1_200,
        },
        _ => Report::CommandResult {
            status: CommandStatus::OK,
            value: 0,
        },
    }
}

/// The benchmark stream: `FRAMES` frames, round-robin over the nodes, kinds as `kinds` picks.
fn stream(kinds: impl Fn(&mut SimRng) -> u64) -> Vec<u8> {
    let mut rng = SimRng::new(7);
    let mut seq = [0u16; NODES as usize];
    let mut out = Vec::with_capacity(FRAMES * 16);
    for i in 0..FRAMES {
        let node = (i % usize::from(NODES)) as u8 + 1;
        let roll = kinds(&mut rng);
        let message = report(&mut rng, roll, node);
        let s = &mut seq[usize::from(node - 1)];
        *s = s.wrapping_add(1);
        let frame = Frame::new(node, *s, message);
        out.extend(frame.to_vec().expect("invariant: generated reports encode"));
    }
    out
}

/// Decodes `stream` in reads of `chunk` bytes as a gateway does; returns the seconds taken.
fn decode(stream: &[u8], chunk: usize) -> f64 {
    let mut sessions: Vec<NodeSession> = (1..=NODES).map(|a| NodeSession::new(a, 0)).collect();
    let mut acc = FrameAccumulator::new();
    let mut decoded = 0usize;
    let mut events = 0usize;
    let start = Instant::now();
    for read in stream.chunks(chunk) {
        acc.feed_each(black_box(read), |raw| {
            let Ok(frame) = raw.and_then(|raw| raw.decode::<Report>()) else {
                return;
            };
            decoded += 1;
            let session = &mut sessions[usize::from(frame.address - 1)];
            if session.on_report(&frame) == Delivery::New {
                events += 1;
            }
        });
    }
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(decoded, FRAMES, "every frame decodes");
    black_box(events);
    seconds
}

/// Picks the kind of each frame of a stream (a roll in 0..100, see [`report`]).
type KindPicker = fn(&mut SimRng) -> u64;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let cases: [(&str, KindPicker); 3] = [
        ("bus mix", |rng| rng.below(100)),
        ("pick/put only", |_| 80),
        ("tag reads only", |_| 92),
    ];
    println!(
        "shelf-link decode: {FRAMES} frames from {NODES} nodes per stream, median of {RUNS} runs"
    );
    println!("| stream | bytes | read size | MB/s | frames/s |");
    println!("|---|---|---|---|---|");
    for (name, kinds) in cases {
        let bytes = stream(kinds);
        for chunk in [4096, 64] {
            let seconds = median((0..RUNS).map(|_| decode(&bytes, chunk)).collect());
            println!(
                "| {name} | {:.2} MB ({:.1} B/frame) | {chunk} | {:.0} | {:.2} M |",
                bytes.len() as f64 / 1e6,
                bytes.len() as f64 / FRAMES as f64,
                bytes.len() as f64 / seconds / 1e6,
                FRAMES as f64 / seconds / 1e6,
            );
        }
    }
}
