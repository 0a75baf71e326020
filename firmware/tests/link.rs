//! Property tests of the shelf-link codec: every message round-trips through its bytes (alone
//! and in a stream), arbitrary bytes never panic and keep the counters honest, chunking never
//! changes which frames come out, garbage is skipped up to the next delimiter, and every
//! single-bit error is rejected.

use proptest::prelude::*;
use shelf_node::link::{
    self, Command, CommandStatus, DecodeError, EncodeError, Epc, FaultCode, FirmwareVersion, Frame,
    FrameAccumulator, MAX_EPC_LEN, MAX_FRAME_LEN, Message, RawFrame, Report,
};

fn address() -> impl Strategy<Value = u8> {
    1u8..=254
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        Just(Command::Poll),
        any::<u16>().prop_map(|seq| Command::Ack { seq }),
        (any::<u8>(), any::<u32>(), any::<u32>()).prop_map(|(lane, unit_mg, tolerance_mg)| {
            Command::ConfigureLane {
                lane,
                unit_mg,
                tolerance_mg,
            }
        }),
        any::<u8>().prop_map(|lane| Command::Tare { lane }),
        (any::<u8>(), any::<u32>())
            .prop_map(|(lane, known_mg)| Command::Calibrate { lane, known_mg }),
        any::<u8>().prop_map(|seconds| Command::Identify { seconds }),
    ]
}

fn epc() -> impl Strategy<Value = Epc> {
    (1usize..=MAX_EPC_LEN / 2)
        .prop_flat_map(|words| proptest::collection::vec(any::<u8>(), words * 2))
        .prop_map(|bytes| Epc::new(&bytes).expect("even length 2..=62"))
}

fn report() -> impl Strategy<Value = Report> {
    prop_oneof![
        (any::<u64>(), any::<[u8; 3]>(), any::<u8>()).prop_map(|(node_id, v, lanes)| {
            Report::Hello {
                node_id,
                firmware: FirmwareVersion {
                    major: v[0],
                    minor: v[1],
                    patch: v[2],
                },
                lanes,
            }
        }),
        (any::<u32>(), any::<u8>(), any::<u16>(), any::<bool>()).prop_map(
            |(uptime_s, queued, dropped, identifying)| Report::Heartbeat {
                uptime_s,
                queued,
                dropped,
                identifying
            }
        ),
        (any::<u8>(), any::<bool>(), any::<i32>(), any::<i32>()).prop_map(
            |(lane, stable, weight_mg, raw)| Report::LaneWeight {
                lane,
                stable,
                weight_mg,
                raw
            }
        ),
        (
            any::<u8>(),
            any::<i16>().prop_filter("units ≠ 0", |u| *u != 0),
            any::<i32>()
        )
            .prop_map(|(lane, units, delta_mg)| Report::PickPut {
                lane,
                units,
                delta_mg
            }),
        (any::<u8>(), any::<i32>())
            .prop_map(|(lane, delta_mg)| Report::Ambiguous { lane, delta_mg }),
        (any::<u8>(), any::<i16>(), epc()).prop_map(|(antenna, rssi_ddbm, epc)| {
            Report::TagRead {
                antenna,
                rssi_ddbm,
                epc,
            }
        }),
        (any::<u8>(), any::<u8>(), any::<u32>()).prop_map(|(code, lane, detail)| {
            Report::Fault {
                code: FaultCode(code),
                lane,
                detail,
            }
        }),
        (any::<u8>(), any::<i32>()).prop_map(|(status, value)| Report::CommandResult {
            status: CommandStatus(status),
            value
        }),
    ]
}

fn encode<M: Message>(frame: &Frame<M>) -> Vec<u8> {
    let mut out = [0u8; MAX_FRAME_LEN];
    let n = frame.encode(&mut out).expect("valid frame encodes");
    out[..n].to_vec()
}

/// Either direction, as one stream carries both on a half-duplex bus.
#[derive(Debug, Clone, PartialEq)]
enum Any {
    Command(Frame<Command>),
    Report(Frame<Report>),
}

fn any_frame() -> impl Strategy<Value = Any> {
    prop_oneof![
        (address(), any::<u16>(), command())
            .prop_map(|(a, s, m)| Any::Command(Frame::new(a, s, m))),
        (address(), any::<u16>(), report()).prop_map(|(a, s, m)| Any::Report(Frame::new(a, s, m))),
    ]
}

fn any_bytes(frame: &Any) -> Vec<u8> {
    match frame {
        Any::Command(f) => encode(f),
        Any::Report(f) => encode(f),
    }
}

fn decode_any(raw: &RawFrame<'_>) -> Any {
    if raw.is_command() {
        Any::Command(raw.decode().expect("a valid command"))
    } else {
        Any::Report(raw.decode().expect("a valid report"))
    }
}

/// Every frame and every error the accumulator gives for `stream` fed in `chunks` (cycled).
fn feed_in_chunks(stream: &[u8], chunks: &[usize]) -> (Vec<Any>, usize, FrameAccumulator) {
    let mut acc = FrameAccumulator::new();
    let mut frames = Vec::new();
    let mut errors = 0;
    let mut at = 0;
    let mut i = 0;
    while at < stream.len() {
        let size = chunks[i % chunks.len()].max(1);
        let end = (at + size).min(stream.len());
        acc.feed_each(&stream[at..end], |item| match item {
            Ok(raw) => frames.push(decode_any(&raw)),
            Err(_) => errors += 1,
        });
        at = end;
        i += 1;
    }
    (frames, errors, acc)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_command_round_trips(a in address(), seq in any::<u16>(), m in command()) {
        let frame = Frame::new(a, seq, m);
        let bytes = encode(&frame);
        prop_assert!(bytes.len() <= MAX_FRAME_LEN);
        prop_assert_eq!(bytes.last(), Some(&0u8));
        prop_assert!(!bytes[..bytes.len() - 1].contains(&0));
        prop_assert_eq!(Frame::<Command>::decode(&bytes), Ok(frame));
        // Without the delimiter too, and never as the other direction.
        prop_assert_eq!(Frame::<Command>::decode(&bytes[..bytes.len() - 1]), Ok(frame));
        prop_assert_eq!(
            Frame::<Report>::decode(&bytes),
            Err(DecodeError::WrongDirection { kind: m.kind() })
        );
    }

    #[test]
    fn every_report_round_trips(a in address(), seq in any::<u16>(), m in report()) {
        let frame = Frame::new(a, seq, m);
        let bytes = encode(&frame);
        prop_assert!(bytes.len() <= MAX_FRAME_LEN);
        prop_assert_eq!(Frame::<Report>::decode(&bytes), Ok(frame));
        prop_assert_eq!(
            Frame::<Command>::decode(&bytes),
            Err(DecodeError::WrongDirection { kind: m.kind() })
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_the_counters_add_up(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        chunk in 1usize..80,
    ) {
        let _ = Frame::<Command>::decode(&bytes);
        let _ = Frame::<Report>::decode(&bytes);
        let _ = RawFrame::parse(&bytes);
        let mut acc = FrameAccumulator::new();
        let (mut ok, mut bad, mut silent_errors) = (0u64, 0u64, 0u64);
        for piece in bytes.chunks(chunk) {
            acc.feed_each(piece, |item| match item {
                Ok(raw) => {
                    ok += 1;
                    let _ = raw.decode::<Command>();
                    let _ = raw.decode::<Report>();
                }
                Err(e) => {
                    bad += 1;
                    // Every error says something.
                    if e.to_string().is_empty() {
                        silent_errors += 1;
                    }
                }
            });
        }
        prop_assert_eq!(silent_errors, 0);
        let stats = acc.stats();
        prop_assert_eq!(stats.bytes, bytes.len() as u64);
        prop_assert_eq!((stats.frames, stats.errors), (ok, bad));
        // At most one item per delimiter.
        prop_assert!(ok + bad <= bytes.iter().filter(|&&b| b == 0).count() as u64);
    }

    #[test]
    fn chunked_feeding_gives_the_same_frames_and_garbage_is_skipped(
        frames in proptest::collection::vec(any_frame(), 1..12),
        garbage in proptest::collection::vec(proptest::collection::vec(1u8..=255, 0..90), 12),
        chunks in proptest::collection::vec(1usize..100, 1..8),
    ) {
        // Garbage before each frame, closed by a delimiter (as line noise, then a quiet line
        // and a real frame, would be).
        let mut stream = Vec::new();
        for (frame, junk) in frames.iter().zip(&garbage) {
            if !junk.is_empty() {
                stream.extend_from_slice(junk);
                stream.push(0);
            }
            stream.extend(any_bytes(frame));
        }
        let (whole, errors_whole, _) = feed_in_chunks(&stream, &[stream.len()]);
        let (chunked, errors_chunked, acc) = feed_in_chunks(&stream, &chunks);
        prop_assert_eq!(&chunked, &whole);
        prop_assert_eq!(errors_chunked, errors_whole);
        // Garbage may by chance be a valid frame only if it carries a valid CRC; with random
        // bytes that is rare, so demand that every real frame came out, in order.
        let real: Vec<&Any> = chunked.iter().filter(|f| frames.contains(f)).collect();
        prop_assert_eq!(real, frames.iter().collect::<Vec<_>>());
        prop_assert_eq!(acc.stats().bytes, stream.len() as u64);
    }

    #[test]
    fn every_single_bit_error_on_the_wire_is_rejected(frame in any_frame()) {
        let bytes = any_bytes(&frame);
        // Flip each bit of the stuffed frame (the delimiter stays): nothing may decode.
        for at in 0..bytes.len() - 1 {
            for bit in 0..8 {
                let mut bad = bytes.clone();
                bad[at] ^= 1 << bit;
                let (frames, _, _) = feed_in_chunks(&bad, &[bad.len()]);
                prop_assert!(
                    frames.is_empty(),
                    "bit {} of byte {} flipped in {:02x?} still decoded to {:?}",
                    bit, at, bytes, frames
                );
            }
        }
    }

    #[test]
    fn every_single_bit_error_before_stuffing_fails_the_crc(frame in any_frame()) {
        let bytes = any_bytes(&frame);
        let mut raw = bytes[..bytes.len() - 1].to_vec();
        let n = link::cobs::decode_in_place(&mut raw).expect("own frame is valid COBS");
        let raw = &raw[..n];
        for at in 0..raw.len() {
            for bit in 0..8 {
                let mut bad = raw.to_vec();
                bad[at] ^= 1 << bit;
                prop_assert!(
                    matches!(RawFrame::parse(&bad), Err(DecodeError::Crc { .. })),
                    "bit {} of byte {} flipped: {:?}", bit, at, RawFrame::parse(&bad)
                );
            }
        }
    }
}

#[test]
fn errors_name_the_offending_values() {
    // A poll of node 3 with its CRC bytes swapped.
    let mut bytes = [0x04, 0x01, 0x03, 0x01, 0x01, 0x03, 0xBB, 0x22, 0x00];
    assert_eq!(
        Frame::<Command>::decode(&bytes),
        Err(DecodeError::Crc {
            computed: 0xBB22,
            received: 0x22BB
        })
    );
    assert_eq!(
        DecodeError::Crc {
            computed: 0xBB22,
            received: 0x22BB
        }
        .to_string(),
        "CRC mismatch: frame carries 0x22bb, bytes give 0xbb22"
    );
    bytes[6] = 0x22;
    bytes[7] = 0xBB;
    assert!(Frame::<Command>::decode(&bytes).is_ok());

    // Version 2, address 0, address 255, unknown kind, short payload: built with a valid CRC.
    fn with_crc(body: &[u8]) -> Vec<u8> {
        let mut raw = body.to_vec();
        raw.extend(link::crc16(body).to_le_bytes());
        let mut out = vec![0u8; raw.len() + 2];
        let n = link::cobs::encode(&raw, &mut out).expect("room");
        out.truncate(n);
        out.push(0);
        out
    }
    let cases: [(&[u8], DecodeError); 7] = [
        (&[2, 3, 1, 0, 0], DecodeError::Version(2)),
        (&[1, 0, 1, 0, 0], DecodeError::Address(0)),
        (&[1, 255, 1, 0, 0], DecodeError::Address(255)),
        (&[1, 3, 0x40, 0, 0], DecodeError::UnknownKind(0x40)),
        (
            &[1, 3, 0x02, 0, 0, 7],
            DecodeError::PayloadLength {
                kind: 0x02,
                expected: 2,
                found: 1,
            },
        ),
        (&[1, 3], DecodeError::TooShort { len: 4 }),
        (&[1, 3, 0x00, 0, 0], DecodeError::UnknownKind(0x00)),
    ];
    for (body, expected) in cases {
        assert_eq!(
            Frame::<Command>::decode(&with_crc(body)),
            Err(expected),
            "{body:02x?}"
        );
    }
    let report_cases: [(&[u8], DecodeError); 4] = [
        (
            &[1, 3, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0],
            DecodeError::Field {
                kind: 0x84,
                field: "pick/put units",
                value: 0,
            },
        ),
        (
            &[1, 3, 0x82, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
            DecodeError::Field {
                kind: 0x82,
                field: "heartbeat flags",
                value: 2,
            },
        ),
        (
            &[1, 3, 0x86, 0, 0, 1, 0, 0, 3, 1, 2, 3],
            DecodeError::Field {
                kind: 0x86,
                field: "epc length",
                value: 3,
            },
        ),
        (
            &[1, 3, 0x86, 0, 0, 1, 0, 0, 4, 1, 2],
            DecodeError::PayloadLength {
                kind: 0x86,
                expected: 8,
                found: 6,
            },
        ),
    ];
    for (body, expected) in report_cases {
        assert_eq!(
            Frame::<Report>::decode(&with_crc(body)),
            Err(expected),
            "{body:02x?}"
        );
    }
}

#[test]
fn encoding_refuses_what_decoding_would_refuse() {
    let mut out = [0u8; MAX_FRAME_LEN];
    assert_eq!(
        Frame::new(0, 0, Command::Poll).encode(&mut out),
        Err(EncodeError::Address(0))
    );
    assert_eq!(
        Frame::new(255, 0, Command::Poll).encode(&mut out),
        Err(EncodeError::Address(255))
    );
    assert_eq!(
        Frame::new(
            1,
            0,
            Report::PickPut {
                lane: 0,
                units: 0,
                delta_mg: 5
            }
        )
        .encode(&mut out),
        Err(EncodeError::Field {
            field: "pick/put units",
            value: 0
        })
    );
    assert_eq!(
        Frame::new(1, 0, Command::Poll).encode(&mut out[..8]),
        Err(EncodeError::BufferTooSmall {
            needed: 9,
            available: 8
        })
    );
    assert!(Epc::new(&[1, 2, 3]).is_err());
    assert!(Epc::new(&[]).is_err());
    assert!(Epc::new(&[0; 64]).is_err());
    // The longest frame fits MAX_FRAME_LEN exactly.
    let longest = Frame::new(
        254,
        0xFFFF,
        Report::TagRead {
            antenna: 0xFF,
            rssi_ddbm: -1,
            epc: Epc::new(&[0xFF; MAX_EPC_LEN]).expect("62 bytes"),
        },
    );
    assert_eq!(longest.encode(&mut out), Ok(MAX_FRAME_LEN));
}

#[test]
fn an_overlong_run_is_dropped_and_the_next_frame_still_arrives() {
    let mut stream = vec![0x55u8; 1000];
    stream.push(0);
    let poll = encode(&Frame::new(9, 1, Command::Poll));
    stream.extend(&poll);
    let mut acc = FrameAccumulator::new();
    let mut items = Vec::new();
    acc.feed_each(&stream, |item| {
        items.push(item.map(|raw| raw.decode::<Command>().expect("poll")))
    });
    assert_eq!(
        items,
        [
            Err(DecodeError::TooLong { len: 1000 }),
            Ok(Frame::new(9, 1, Command::Poll))
        ]
    );
    // A frame cut by a reset (bus timeout) is forgotten.
    let mut acc = FrameAccumulator::new();
    let (used, item) = acc.feed(&poll[..4]);
    assert_eq!((used, item.is_none()), (4, true));
    acc.reset();
    let mut got = Vec::new();
    acc.feed_each(&poll, |item| got.push(item.is_ok()));
    assert_eq!(got, [true]);
}
