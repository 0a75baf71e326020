//! Fuzzes the shelf-link v1 decoder of the firmware crate (what the gateway and every node run
//! on bus bytes): arbitrary bytes fed to a `FrameAccumulator` in chunks whose sizes come from
//! the input, and every run between delimiters through `Frame::decode` on its own. Nothing may
//! panic; the accumulator's counters match what it emitted; chunking changes nothing; the
//! accumulator and the one-shot decoder agree; and every frame that decodes encodes back to
//! exactly the bytes it came from (the codec has one encoding per frame).
//!
//! Half the inputs (first byte odd) are structure-aware, so the fuzzer gets past the CRC: the
//! rest of the input is read as messages of every kind, 16 bytes each, encoded with the
//! crate's encoder; that stream must decode to exactly those frames, and then the input's last
//! bytes corrupt it (position, bit) and the invariants above must still hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shelf_node::link::{
    Command, CommandStatus, DELIMITER, DecodeError, Epc, FaultCode, FirmwareVersion, Frame,
    FrameAccumulator, MAX_FRAME_LEN, Message, RawFrame, Report,
};

/// A checked frame decoded in its own direction, as comparable data.
#[derive(Debug, PartialEq)]
enum Item {
    Command(Frame<Command>),
    Report(Frame<Report>),
    Bad(DecodeError),
}

fn item(raw: Result<RawFrame<'_>, DecodeError>) -> Item {
    let decoded = raw.and_then(|raw| {
        if raw.is_command() {
            raw.decode::<Command>().map(Item::Command)
        } else {
            raw.decode::<Report>().map(Item::Report)
        }
    });
    decoded.unwrap_or_else(Item::Bad)
}

/// Feeds `stream` in `sizes` (cycled) and returns every item in order.
fn accumulate(stream: &[u8], sizes: &[usize]) -> (Vec<Item>, FrameAccumulator) {
    let mut acc = FrameAccumulator::new();
    let mut items = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < stream.len() {
        let size = sizes
            .get(i % sizes.len().max(1))
            .copied()
            .unwrap_or(1)
            .max(1);
        let end = (at + size).min(stream.len());
        acc.feed_each(&stream[at..end], |raw| items.push(item(raw)));
        at = end;
        i += 1;
    }
    (items, acc)
}

/// Re-encodes a decoded frame and checks it gives back `run` (its wire bytes, no delimiter).
fn assert_round_trip<M: Message + core::fmt::Debug + PartialEq>(frame: &Frame<M>, run: &[u8]) {
    let mut out = [0u8; MAX_FRAME_LEN];
    let n = frame.encode(&mut out).expect("a decoded frame encodes");
    assert_eq!(&out[..n - 1], run, "{frame:?} re-encodes to other bytes");
    assert_eq!(out[n - 1], DELIMITER);
}

/// One message of any kind, its fields taken from 16 input bytes.
fn scripted(b: &[u8; 16]) -> Item {
    let address = b[0] % 254 + 1;
    let seq = u16::from_le_bytes([b[2], b[3]]);
    let u32_at = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let i16_at = |at: usize| i16::from_le_bytes([b[at], b[at + 1]]);
    let command = |message| Item::Command(Frame::new(address, seq, message));
    let report = |message| Item::Report(Frame::new(address, seq, message));
    match b[1] % 14 {
        0 => command(Command::Poll),
        1 => command(Command::Ack {
            seq: i16_at(4) as u16,
        }),
        2 => command(Command::ConfigureLane {
            lane: b[4],
            unit_mg: u32_at(5),
            tolerance_mg: u32_at(9),
        }),
        3 => command(Command::Tare { lane: b[4] }),
        4 => command(Command::Calibrate {
            lane: b[4],
            known_mg: u32_at(5),
        }),
        5 => command(Command::Identify { seconds: b[4] }),
        6 => report(Report::Hello {
            node_id: u64::from(u32_at(4)) << 32 | u64::from(u32_at(8)),
            firmware: FirmwareVersion {
                major: b[12],
                minor: b[13],
                patch: b[14],
            },
            lanes: b[15],
        }),
        7 => report(Report::Heartbeat {
            uptime_s: u32_at(4),
            queued: b[8],
            dropped: i16_at(9) as u16,
            identifying: b[11] & 1 == 1,
        }),
        8 => report(Report::LaneWeight {
            lane: b[4],
            stable: b[5] & 1 == 1,
            weight_mg: u32_at(6) as i32,
            raw: u32_at(10) as i32,
        }),
        9 => report(Report::PickPut {
            lane: b[4],
            units: match i16_at(5) {
                0 => -1,
                u => u,
            },
            delta_mg: u32_at(7) as i32,
        }),
        10 => report(Report::Ambiguous {
            lane: b[4],
            delta_mg: u32_at(5) as i32,
        }),
        11 => {
            let len = (usize::from(b[7] % 6) + 1) * 2;
            let epc = Epc::new(&b[4..4 + len]).expect("even length 2..=12");
            report(Report::TagRead {
                antenna: b[4],
                rssi_ddbm: i16_at(5),
                epc,
            })
        }
        12 => report(Report::Fault {
            code: FaultCode(b[4]),
            lane: b[5],
            detail: u32_at(6),
        }),
        _ => report(Report::CommandResult {
            status: CommandStatus(b[4]),
            value: u32_at(5) as i32,
        }),
    }
}

fn encode_item(item: &Item, out: &mut Vec<u8>) {
    let mut buf = [0u8; MAX_FRAME_LEN];
    let n = match item {
        Item::Command(frame) => frame.encode(&mut buf),
        Item::Report(frame) => frame.encode(&mut buf),
        Item::Bad(_) => return,
    }
    .expect("scripted frames are valid");
    out.extend_from_slice(&buf[..n]);
}

fuzz_target!(|data: &[u8]| {
    if data.first().is_some_and(|b| b & 1 == 1) && data.len() > 1 {
        let body = &data[1..];
        let (messages, damage) = body.split_at(body.len() / 16 * 16);
        let script: Vec<Item> = messages
            .chunks_exact(16)
            .map(|c| scripted(c.try_into().expect("16 bytes")))
            .collect();
        let mut stream = Vec::new();
        for item in &script {
            encode_item(item, &mut stream);
        }
        let (clean, _) = accumulate(&stream, &[7, 1, 64]);
        assert_eq!(clean, script, "encoded frames did not decode back");
        for pair in damage.chunks_exact(2) {
            if !stream.is_empty() {
                let at = usize::from(pair[0]) * 31 % stream.len();
                stream[at] ^= 1 << (pair[1] % 8);
            }
        }
        check(&stream, &[5, 64]);
        return;
    }
    let (sizes, stream) = shelfd_fuzz::split_input(data);
    check(stream, &sizes);

    // The whole input as one frame, with or without a delimiter, never panics.
    let _ = Frame::<Report>::decode(data);
    let _ = Frame::<Command>::decode(data);
});

/// The invariants of the module docs, on `stream` fed in `sizes`.
fn check(stream: &[u8], sizes: &[usize]) {
    let (chunked, acc) = accumulate(stream, sizes);
    let stats = acc.stats();
    assert_eq!(stats.bytes, stream.len() as u64);
    let good = chunked
        .iter()
        .filter(|i| !matches!(i, Item::Bad(_)))
        .count() as u64;
    let bad_runs = chunked.len() as u64 - good;
    // A frame that passes the checks but whose payload does not decode counts as a frame in
    // the accumulator and as Bad here.
    assert!(stats.frames >= good && stats.frames + stats.errors == chunked.len() as u64);
    assert!(stats.errors <= bad_runs);

    let (whole, _) = accumulate(stream, &[stream.len().max(1)]);
    assert_eq!(chunked, whole, "chunking changed the frames");

    // The one-shot decoder sees the same runs (a run is what lies between two delimiters; the
    // accumulator skips empty runs and drops the unterminated tail).
    let mut runs: Vec<&[u8]> = stream.split(|&b| b == DELIMITER).collect();
    runs.pop();
    runs.retain(|run| !run.is_empty());
    assert_eq!(runs.len(), whole.len());
    for (run, got) in runs.iter().zip(&whole) {
        let as_command = Frame::<Command>::decode(run);
        let as_report = Frame::<Report>::decode(run);
        match got {
            Item::Command(frame) => {
                assert_eq!(as_command.as_ref(), Ok(frame));
                assert!(as_report.is_err());
                assert_round_trip(frame, run);
            }
            Item::Report(frame) => {
                assert_eq!(as_report.as_ref(), Ok(frame));
                assert!(as_command.is_err());
                assert_round_trip(frame, run);
            }
            Item::Bad(_) => {
                assert!(as_command.is_err() && as_report.is_err(), "{run:02x?}");
            }
        }
    }
}
