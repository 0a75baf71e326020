//! Tests of the 0xA0 module: the shared vectors (reader-vectors.md §3), golden command bytes,
//! the simulator's replies, antenna cycling, a whole conversation, and property tests.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use super::*;
use crate::frame::{
    Decoded, FrameDecoder, FrameRole, HostCommands, ReaderSimulator, TagReport, decode_all,
};
use crate::gen2;
use crate::scan::testkit::{check_garbage_recovery, decode_chunked};
use crate::wire::WireOptions;
use proptest::prelude::*;

/// Hex in wire order, spaces ignored.
fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

const A0_1: &str = "A0 13 01 89 04 30 00 E2 00 30 16 66 13 01 21 15 50 74 EF 45 BF";
const A0_2: &str = "A0 13 01 89 8C 30 00 30 08 33 B2 DD D9 01 40 00 00 00 01 37 BB";
const A0_7: &str = "A0 0A 01 89 00 00 11 00 00 00 05 B6";
const A0_8: &str = "A0 04 01 89 01 D1";
const A0_9: &str = "A0 03 01 72 EA";
const A0_11: &str = "A0 04 01 74 00 E7";
const A0_12: &str = "A0 04 01 74 10 D7";
const A0_13: &str = "A0 04 01 89 22 B0";
const A0_14: [&str; 3] = [
    "A0 04 01 74 01 E6",
    "A0 04 01 74 02 E5",
    "A0 04 01 74 03 E4",
];
/// COMPUTED frames.
const A0_SESSION: &str = "A0 06 01 8B 01 00 01 CC";
const A0_FAST_SWITCH: &str = "A0 08 01 8A 00 01 02 03 01 C6";
const A0_REPEAT_FF: &str = "A0 04 01 89 FF D3";
const A0_RESET: &str = "A0 03 01 70 EC";
const A0_TEMPERATURE: &str = "A0 03 01 7B E1";

fn opts() -> WireOptions {
    WireOptions {
        r2000_address: 0x01,
        ..WireOptions::default()
    }
}

fn four_ports() -> WireOptions {
    WireOptions {
        antennas: vec![1, 2, 3, 4],
        ..opts()
    }
}

fn decode(bytes: &[u8]) -> Vec<Decoded> {
    decode_all(&mut Decoder::new(&opts()), bytes)
}

fn frame_of(item: &Decoded) -> (&'static str, FrameRole, Option<u16>) {
    match item {
        Decoded::Frame {
            name, role, code, ..
        } => (*name, *role, *code),
        other => panic!("not a frame: {other:?}"),
    }
}

fn tags(items: &[Decoded]) -> Vec<TagReport> {
    items
        .iter()
        .filter_map(|d| match d {
            Decoded::Tag { tag, .. } => Some(tag.clone()),
            _ => None,
        })
        .collect()
}

fn bad_reason(items: &[Decoded]) -> String {
    match items.first() {
        Some(Decoded::Bad { reason, .. }) => reason.clone(),
        other => panic!("expected a bad run first: {other:?}"),
    }
}

// ---- shared vectors -------------------------------------------------------------------------

#[test]
fn a0_1_tag_frame() {
    let mut d = Decoder::new(&opts());
    let items = decode_all(&mut d, &hex(A0_1));
    assert_eq!(
        items,
        vec![Decoded::Tag {
            offset: 0,
            tag: TagReport {
                antenna: 1,
                epc: hex("E2 00 30 16 66 13 01 21 15 50 74 EF"),
                pc: Some(0x3000),
                rssi_dbm: Some(-61.0),
                frequency_khz: Some(865_500),
                ..TagReport::default()
            },
        }]
    );
    let s = d.stats();
    assert_eq!((s.bytes, s.frames, s.tags, s.bad_frames), (21, 1, 1, 0));
}

#[test]
fn a0_2_tag_frame() {
    let tag = tags(&decode(&hex(A0_2))).pop().unwrap();
    assert_eq!(tag.antenna, 1);
    assert_eq!(tag.frequency_khz, Some(916_000));
    assert_eq!(tag.pc, Some(0x3000));
    assert_eq!(tag.epc, hex("30 08 33 B2 DD D9 01 40 00 00 00 01"));
    assert_eq!(tag.rssi_dbm, Some(-75.0));
}

#[test]
fn both_round_end_variants() {
    let long = decode(&hex(A0_7));
    assert_eq!(
        frame_of(&long[0]),
        (names::ROUND_END, FrameRole::RoundEnd, None)
    );
    assert_eq!(encode_round_end(0x01, 0, Some(17), 5), hex(A0_7));
    let short = encode_round_end(0x01, 0, None, 5);
    assert_eq!(short, hex("A0 08 01 89 00 00 00 00 05 C9"));
    assert_eq!(
        frame_of(&decode(&short)[0]),
        (names::ROUND_END, FrameRole::RoundEnd, None)
    );
}

#[test]
fn replies_and_errors_are_named() {
    let items = decode(&hex(&[A0_12, A0_13].join(" ")));
    assert_eq!(
        frame_of(&items[0]),
        (names::SET_WORK_ANTENNA_ACK, FrameRole::Ack, Some(0x10))
    );
    assert_eq!(
        frame_of(&items[1]),
        (names::INVENTORY_ERROR, FrameRole::Error, Some(0x22))
    );
    assert!(matches!(items[1], Decoded::Frame { offset: 6, .. }));
    let cases = [
        (
            encode_status(1, cmd::SET_WORK_ANTENNA, 0x47),
            names::SET_WORK_ANTENNA_ERROR,
            FrameRole::Error,
            Some(0x47),
        ),
        (
            encode_status(1, cmd::SET_OUTPUT_POWER, 0x10),
            names::COMMAND_ACK,
            FrameRole::Ack,
            Some(0x10),
        ),
        (
            encode_status(1, cmd::SET_OUTPUT_POWER, 0x48),
            names::ERROR,
            FrameRole::Error,
            Some(0x48),
        ),
        (
            encode_status(1, cmd::REAL_TIME_INVENTORY, 0x36),
            names::NO_TAG,
            FrameRole::NoTag,
            Some(0x36),
        ),
        (
            encode_frame(1, cmd::GET_FIRMWARE_VERSION, &[8, 1]),
            names::VERSION,
            FrameRole::Info,
            None,
        ),
        (
            encode_status(1, cmd::GET_WORK_ANTENNA, 0x02),
            names::REPLY,
            FrameRole::Info,
            None,
        ),
        (
            encode_frame(1, cmd::FAST_SWITCH_INVENTORY, &[2, 0x22]),
            names::ANTENNA_MISSING,
            FrameRole::Error,
            Some(0x22),
        ),
    ];
    for (bytes, name, role, code) in cases {
        assert_eq!(
            frame_of(&decode(&bytes)[0]),
            (name, role, code),
            "{bytes:02X?}"
        );
    }
}

#[test]
fn freq_ant_antenna_bits() {
    let tag = TagReport {
        epc: vec![0x30, 0x00],
        ..TagReport::default()
    };
    for id in 0..4u8 {
        let bytes = encode_tag_frame(1, cmd::REAL_TIME_INVENTORY, id, 59, &tag);
        assert_eq!(bytes[4], (59 << 2) | id);
        let got = tags(&decode(&bytes)).pop().unwrap();
        assert_eq!(
            (got.antenna, got.frequency_khz),
            (u16::from(id) + 1, Some(928_000))
        );
    }
    // Indexes past the table carry no frequency.
    let got = tags(&decode(&encode_tag_frame(
        1,
        cmd::REAL_TIME_INVENTORY,
        0,
        63,
        &tag,
    )));
    assert_eq!(got[0].frequency_khz, None);
}

#[test]
fn rssi_table() {
    for (raw, dbm) in [
        (98, -31.0),
        (90, -39.0),
        (89, -41.0),
        (31, -99.0),
        (69, -61.0),
        (55, -75.0),
    ] {
        assert_eq!(rssi_dbm(raw), dbm, "raw {raw}");
    }
    for raw in 0..=127u8 {
        assert_eq!(rssi_raw(rssi_dbm(raw)), raw);
    }
    assert_eq!(rssi_raw(-40.0), 90, "the table has no -40 dBm");
    assert_eq!(rssi_dbm(0x80 | 69), -61.0, "top bit masked");
}

#[test]
fn frequency_table() {
    assert_eq!(frequency_khz(0), Some(865_000));
    assert_eq!(frequency_khz(6), Some(868_000));
    assert_eq!(frequency_khz(7), Some(902_000));
    assert_eq!(frequency_khz(59), Some(928_000));
    assert_eq!(frequency_khz(60), None);
    for i in 0..=59 {
        assert_eq!(frequency_khz(i).and_then(frequency_index), Some(i));
    }
}

// ---- mismatches and bound checks ------------------------------------------------------------

#[test]
fn readme_typo_of_a0_1_is_rejected() {
    // The README's prose writes "… 21 12 50 …" for this frame; with check BF kept it fails.
    let mut bytes = hex(A0_1);
    bytes[15] = 0x12;
    bytes.extend(hex(A0_7));
    let items = decode(&bytes);
    match &items[0] {
        Decoded::Bad {
            offset: 0,
            skipped: 21,
            reason,
        } => assert!(reason.contains("check 0xBF, computed 0xC2"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        items[1],
        Decoded::Frame {
            offset: 21,
            role: FrameRole::RoundEnd,
            ..
        }
    ));
}

#[test]
fn bound_checks_name_the_value() {
    let pc_mismatch = {
        let mut data = vec![0x04, 0x38, 0x00];
        data.extend(hex("E2 00 30 16 66 13 01 21 15 50 74 EF 45"));
        encode_frame(1, cmd::REAL_TIME_INVENTORY, &data)
    };
    for (bytes, needle) in [
        (
            pc_mismatch,
            "PC 0x3800 announces 14 EPC bytes, frame carries 12",
        ),
        (hex("A0 02 01 89"), "Len 0x02 is below"),
        (hex("A0 04 01 12 10 39"), "command 0x12 is outside"),
        (
            encode_frame(1, cmd::REAL_TIME_INVENTORY, &[0x04, 0x30, 0x00]),
            "too short",
        ),
        (
            encode_frame(1, cmd::REAL_TIME_INVENTORY, &[0x04, 0x00, 0x00, 0x45]),
            "empty EPC",
        ),
        (
            encode_frame(
                1,
                cmd::REAL_TIME_INVENTORY,
                &[0x04, 0x10, 0x00, 1, 2, 3, 4, 5, 0x45],
            ),
            "PC 0x1000 announces 4 EPC bytes, frame carries 5",
        ),
    ] {
        let items = decode(&[bytes, hex(A0_7)].concat());
        let reason = bad_reason(&items);
        assert!(reason.contains(needle), "{reason} !~ {needle}");
        assert_eq!(frame_of(items.last().unwrap()).1, FrameRole::RoundEnd);
        assert_eq!(items.len(), 2, "{items:?}");
    }
}

#[test]
fn head_byte_inside_a_frame_does_not_confuse_the_cut() {
    let tag = TagReport {
        antenna: 2,
        epc: vec![0xA0, 0x04, 0x01, 0x89],
        pc: Some(0x1000),
        rssi_dbm: Some(-50.0),
        frequency_khz: Some(902_500),
        ..TagReport::default()
    };
    let bytes = encode_tag_frame(1, cmd::REAL_TIME_INVENTORY, 1, 8, &tag);
    assert_eq!(tags(&decode(&bytes)), vec![tag]);
}

// ---- golden commands ------------------------------------------------------------------------

#[test]
fn golden_command_bytes() {
    assert_eq!(real_time_inventory_command(1, 1), hex(A0_8));
    assert_eq!(real_time_inventory_command(1, 0xFF), hex(A0_REPEAT_FF));
    assert_eq!(get_firmware_version_command(1), hex(A0_9));
    assert_eq!(set_work_antenna_command(1, 1), hex(A0_11));
    for (port, want) in (2..=4).zip(A0_14) {
        assert_eq!(set_work_antenna_command(1, port), hex(want));
    }
    assert_eq!(reset_command(1), hex(A0_RESET));
    assert_eq!(
        encode_frame(1, cmd::GET_TEMPERATURE, &[]),
        hex(A0_TEMPERATURE)
    );
    assert_eq!(
        encode_frame(1, cmd::SESSION_INVENTORY, &[1, 0, 1]),
        hex(A0_SESSION)
    );
    assert_eq!(
        encode_frame(1, cmd::FAST_SWITCH_INVENTORY, &[0, 1, 2, 3, 1]),
        hex(A0_FAST_SWITCH)
    );
    assert_eq!(set_output_power_command(1, 30), hex("A0 04 01 76 1E C7"));
    // Every vector sums to zero.
    for v in [
        A0_1, A0_2, A0_7, A0_8, A0_9, A0_11, A0_12, A0_13, A0_SESSION,
    ] {
        let bytes = hex(v);
        assert_eq!(
            check(&bytes[..bytes.len() - 1]),
            bytes[bytes.len() - 1],
            "{v}"
        );
    }
}

#[test]
fn golden_reader_bytes() {
    let a0_1 = TagReport {
        epc: hex("E2 00 30 16 66 13 01 21 15 50 74 EF"),
        pc: Some(0x3000),
        rssi_dbm: Some(-61.0),
        ..TagReport::default()
    };
    assert_eq!(
        encode_tag_frame(1, cmd::REAL_TIME_INVENTORY, 0, 1, &a0_1),
        hex(A0_1)
    );
    let a0_2 = TagReport {
        epc: hex("30 08 33 B2 DD D9 01 40 00 00 00 01"),
        rssi_dbm: Some(-75.0),
        ..TagReport::default()
    };
    assert_eq!(
        encode_tag_frame(1, cmd::REAL_TIME_INVENTORY, 0, 35, &a0_2),
        hex(A0_2)
    );
    assert_eq!(
        encode_status(1, cmd::SET_WORK_ANTENNA, status::SUCCESS),
        hex(A0_12)
    );
    assert_eq!(
        encode_status(1, cmd::REAL_TIME_INVENTORY, status::ANTENNA_MISSING),
        hex(A0_13)
    );
}

#[test]
fn host_command_sequences() {
    let host = Commands::new(&opts());
    assert_eq!(host.startup(), vec![hex(A0_11), hex(A0_8)]);
    assert_eq!(host.nudge(), vec![hex(A0_11), hex(A0_8)]);
    assert!(
        host.shutdown().is_empty(),
        "V2.2 has no stop: the host stops re-issuing"
    );
    let powered = Commands::new(&WireOptions {
        power_dbm: Some(30.2),
        ..opts()
    });
    assert_eq!(
        powered.startup(),
        vec![hex(A0_11), hex("A0 04 01 76 1E C7"), hex(A0_8)]
    );
    let broadcast = Commands::new(&WireOptions::default());
    assert_eq!(broadcast.startup()[1], hex("A0 04 FF 89 01 D3"));
    let odd = Commands::new(&WireOptions {
        antennas: vec![7, 3, 1, 3],
        ..opts()
    });
    assert_eq!(
        odd.ports(),
        &[1, 3],
        "ports a work antenna cannot name are left out"
    );
}

// ---- host logic -----------------------------------------------------------------------------

fn frame(name: &'static str, role: FrameRole, code: Option<u16>) -> Decoded {
    Decoded::Frame {
        offset: 0,
        name,
        role,
        code,
    }
}

fn round_end() -> Decoded {
    frame(names::ROUND_END, FrameRole::RoundEnd, None)
}

fn antenna_ack() -> Decoded {
    frame(names::SET_WORK_ANTENNA_ACK, FrameRole::Ack, Some(0x10))
}

#[test]
fn host_cycles_work_antennas() {
    let host = Commands::new(&four_ports());
    assert_eq!(host.startup(), vec![hex(A0_11), hex(A0_8)]);
    assert_eq!(
        host.respond(&antenna_ack()),
        None,
        "start-up already sent the inventory"
    );
    for want in [A0_14[0], A0_14[1], A0_14[2], A0_11] {
        assert_eq!(host.respond(&round_end()), Some(hex(want)));
        assert_eq!(host.respond(&antenna_ack()), Some(hex(A0_8)));
        assert_eq!(host.respond(&antenna_ack()), None, "one round per ack");
    }
    let single = Commands::new(&opts());
    single.startup();
    assert_eq!(single.respond(&round_end()), Some(hex(A0_8)));
    assert_eq!(
        single.respond(&frame(names::NO_TAG, FrameRole::NoTag, Some(0x36))),
        Some(hex(A0_8))
    );
}

#[test]
fn failures_move_on_but_never_loop() {
    let host = Commands::new(&WireOptions {
        antennas: vec![1, 2, 3],
        ..opts()
    });
    host.startup();
    let missing = frame(names::INVENTORY_ERROR, FrameRole::Error, Some(0x22));
    assert_eq!(host.respond(&missing), Some(hex(A0_14[0])));
    assert_eq!(host.respond(&antenna_ack()), Some(hex(A0_8)));
    assert_eq!(host.respond(&missing), Some(hex(A0_14[1])));
    let refused = frame(names::SET_WORK_ANTENNA_ERROR, FrameRole::Error, Some(0x47));
    assert_eq!(
        host.respond(&refused),
        None,
        "every port failed in a row: wait for the nudge"
    );
    assert_eq!(host.nudge(), vec![hex(A0_14[1]), hex(A0_8)]);
    assert_eq!(
        host.respond(&antenna_ack()),
        None,
        "the nudge sent the inventory itself"
    );
    assert_eq!(host.respond(&missing), Some(hex(A0_11)));
    assert_eq!(
        host.respond(&refused),
        Some(hex(A0_14[0])),
        "refused port: next one"
    );
    assert_eq!(host.respond(&antenna_ack()), Some(hex(A0_8)));
    assert_eq!(host.respond(&round_end()), Some(hex(A0_14[1])));
    let single = Commands::new(&opts());
    single.startup();
    assert_eq!(single.respond(&missing), None, "one port, missing: no loop");
    host.shutdown();
    assert_eq!(
        host.respond(&round_end()),
        None,
        "nothing re-arms after shutdown"
    );
    assert_eq!(host.respond(&refused), None, "an error nobody waits for");
}

// ---- simulator ------------------------------------------------------------------------------

#[test]
fn simulator_replies_byte_for_byte() {
    let mut sim = Simulator::new(&WireOptions {
        antennas: vec![1, 3],
        ..opts()
    });
    assert_eq!(sim.on_host_bytes(&hex(A0_11)), hex(A0_12));
    assert_eq!(
        sim.on_host_bytes(&hex(A0_9)),
        encode_frame(1, cmd::GET_FIRMWARE_VERSION, &FIRMWARE_VERSION)
    );
    assert_eq!(
        sim.on_host_bytes(&hex(A0_14[0])),
        encode_status(1, cmd::SET_WORK_ANTENNA, 0x10)
    );
    // Port 2 is not connected: the inventory fails at once with 0x22 (A0-13).
    assert_eq!(sim.on_host_bytes(&hex(A0_8)), hex(A0_13));
    assert!(!sim.inventory_running());
    assert_eq!(
        sim.on_host_bytes(&set_work_antenna_command(1, 5)),
        encode_status(1, 0x74, 0x47)
    );
    assert_eq!(
        sim.on_host_bytes(&set_output_power_command(1, 40)),
        encode_status(1, 0x76, 0x48)
    );
    assert_eq!(
        sim.on_host_bytes(&hex(A0_TEMPERATURE)),
        encode_status(1, 0x7B, 0x11)
    );
    // Another address: ignored. Broken check: ignored. Reset: no reply.
    assert!(
        sim.on_host_bytes(&set_work_antenna_command(7, 1))
            .is_empty()
    );
    let mut broken = hex(A0_11);
    broken[4] = 1;
    assert!(sim.on_host_bytes(&broken).is_empty());
    assert!(sim.on_host_bytes(&hex(A0_RESET)).is_empty());
    // A command split over writes, on port 1 after the reset.
    let start = hex(A0_8);
    assert!(sim.on_host_bytes(&start[..2]).is_empty());
    assert!(sim.on_host_bytes(&start[2..]).is_empty());
    assert!(sim.inventory_running());
}

#[test]
fn one_completion_per_inventory_command() {
    let options = WireOptions {
        antennas: vec![1, 2],
        ..opts()
    };
    let mut sim = Simulator::new(&options);
    let on = |antenna| TagReport {
        antenna,
        epc: vec![0x30, 0x00, 0x00, u8::try_from(antenna).unwrap()],
        frequency_khz: Some(915_000),
        ..TagReport::default()
    };
    let shelf = [on(1), on(2), on(1)];
    assert!(sim.round(&shelf).is_empty(), "nothing before 0x89");
    sim.on_host_bytes(&hex(A0_8));
    let items = decode(&sim.round(&shelf));
    assert_eq!(tags(&items).len(), 2, "port 1 only");
    assert!(
        tags(&items)
            .iter()
            .all(|t| t.antenna == 1 && t.frequency_khz == Some(915_000))
    );
    assert_eq!(frame_of(items.last().unwrap()).1, FrameRole::RoundEnd);
    assert_eq!(items.len(), 3);
    assert!(
        sim.round(&shelf).is_empty(),
        "then nothing until the host re-issues"
    );
    // The short completion carries the total read count.
    sim.on_host_bytes(&hex(A0_8));
    let bytes = sim.round(&shelf);
    assert_eq!(
        bytes[bytes.len() - 10..],
        hex("A0 08 01 89 00 00 00 00 02 CC")[..]
    );
    // The long one adds a read rate (reads over a nominal round).
    let mut long = Simulator::new(&WireOptions {
        r2000_long_round_end: true,
        ..options
    });
    long.on_host_bytes(&hex(A0_8));
    let bytes = long.round(&shelf);
    assert_eq!(
        bytes[bytes.len() - 12..],
        encode_round_end(1, 0, Some(20), 2)[..]
    );
}

/// Sends `commands` to the simulator, decodes the replies, sends what the host answers, until
/// nothing more is sent. Returns every decoded reply.
fn pump(
    host: &Commands,
    sim: &mut Simulator,
    decoder: &mut Decoder,
    commands: Vec<Vec<u8>>,
) -> Vec<Decoded> {
    let mut queue: std::collections::VecDeque<Vec<u8>> = commands.into();
    let mut seen = Vec::new();
    while let Some(c) = queue.pop_front() {
        decoder.feed(&sim.on_host_bytes(&c));
        while let Some(item) = decoder.next_frame() {
            queue.extend(host.respond(&item));
            seen.push(item);
        }
    }
    seen
}

/// Runs `rounds` rounds of a host configured with `host_options` against a reader configured
/// with `reader_options`; returns every item the host decoded.
fn converse(
    host_options: &WireOptions,
    reader_options: &WireOptions,
    shelf: &[TagReport],
    rounds: usize,
) -> Vec<Decoded> {
    let host = Commands::new(host_options);
    let mut sim = Simulator::new(reader_options);
    let mut decoder = Decoder::new(host_options);
    let mut seen = pump(&host, &mut sim, &mut decoder, host.startup());
    for _ in 0..rounds {
        assert!(
            sim.inventory_running(),
            "the host keeps an inventory queued"
        );
        let items = decode_all(&mut decoder, &sim.round(shelf));
        let answers: Vec<Vec<u8>> = items.iter().filter_map(|d| host.respond(d)).collect();
        seen.extend(items);
        seen.extend(pump(&host, &mut sim, &mut decoder, answers));
    }
    assert_eq!(decoder.stats().bad_frames, 0);
    pump(&host, &mut sim, &mut decoder, host.shutdown());
    seen
}

#[test]
fn full_conversation_cycles_ports_and_skips_a_missing_one() {
    let host_options = WireOptions {
        antennas: vec![1, 2, 3, 4],
        power_dbm: Some(30.0),
        r2000_address: BROADCAST,
        ..WireOptions::default()
    };
    // Port 3 is configured but nothing is plugged in.
    let reader_options = WireOptions {
        antennas: vec![1, 2, 4],
        r2000_long_round_end: true,
        ..host_options.clone()
    };
    let shelf: Vec<TagReport> = (1..=4u16)
        .map(|antenna| TagReport {
            antenna,
            epc: vec![0xE2, 0x00, 0x00, 0x10 + u8::try_from(antenna).unwrap()],
            rssi_dbm: Some(-50.0 - f32::from(antenna)),
            frequency_khz: Some(866_000),
            ..TagReport::default()
        })
        .collect();
    let seen = converse(&host_options, &reader_options, &shelf, 6);
    let starts: Vec<_> = seen.iter().take(2).map(|d| frame_of(d).0).collect();
    assert_eq!(
        starts,
        vec![names::SET_WORK_ANTENNA_ACK, names::COMMAND_ACK]
    );
    let got = tags(&seen);
    let ports: Vec<u16> = got.iter().map(|t| t.antenna).collect();
    assert_eq!(
        ports,
        vec![1, 2, 4, 1, 2, 4],
        "ports in turn, port 3 skipped"
    );
    for t in &got {
        let want = &shelf[usize::from(t.antenna) - 1];
        assert_eq!(
            (&t.epc, t.rssi_dbm, t.frequency_khz),
            (&want.epc, want.rssi_dbm, want.frequency_khz)
        );
    }
    let missing = seen
        .iter()
        .filter(|d| {
            matches!(
                d,
                Decoded::Frame {
                    name: names::INVENTORY_ERROR,
                    code: Some(0x22),
                    ..
                }
            )
        })
        .count();
    assert_eq!(missing, 2, "port 3 reported missing once per cycle");
    let ends = seen
        .iter()
        .filter(|d| {
            matches!(
                d,
                Decoded::Frame {
                    role: FrameRole::RoundEnd,
                    ..
                }
            )
        })
        .count();
    assert_eq!(ends, 6);
}

#[test]
fn full_conversation_single_port_short_round_end() {
    let options = opts();
    let shelf = [TagReport {
        antenna: 1,
        epc: hex("E2 00 30 16 66 13 01 21 15 50 74 EF"),
        pc: Some(0x3000),
        rssi_dbm: Some(-61.0),
        frequency_khz: Some(865_500),
        ..TagReport::default()
    }];
    let seen = converse(&options, &options, &shelf, 3);
    assert_eq!(tags(&seen), vec![shelf[0].clone(); 3]);
}

// ---- properties -----------------------------------------------------------------------------

fn arb_tag() -> impl Strategy<Value = TagReport> {
    (
        prop::collection::vec(any::<u8>(), 1..=62),
        1u16..=4,
        prop::option::of(any::<u16>()),
        prop::option::of((-1400i32..=0).prop_map(|d| d as f32 / 10.0)),
        (0u8..=59).prop_map(|i| frequency_khz(i).unwrap()),
    )
        .prop_map(|(epc, antenna, pc, rssi_dbm, f)| TagReport {
            antenna,
            epc,
            pc,
            rssi_dbm,
            frequency_khz: Some(f),
            ..TagReport::default()
        })
}

/// What a reader reports for a scripted read.
fn as_reported(tag: &TagReport) -> TagReport {
    let epc = gen2::wire_epc(&tag.epc);
    TagReport {
        antenna: tag.antenna,
        pc: Some(gen2::pc_for(epc.len(), tag.pc)),
        rssi_dbm: Some(rssi_dbm(rssi_raw(tag.rssi_dbm.unwrap_or(DEFAULT_RSSI_DBM)))),
        frequency_khz: tag.frequency_khz,
        epc,
        ..TagReport::default()
    }
}

fn claimed_len(stream: &[u8], at: usize) -> usize {
    usize::from(stream.get(at + 1).copied().unwrap_or(0)) + 2
}

fn arb_frames() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(
        prop_oneof![
            (arb_tag(), 0u8..=63).prop_map(|(t, f)| {
                let id = u8::try_from(t.antenna - 1).unwrap();
                encode_tag_frame(1, cmd::REAL_TIME_INVENTORY, id, f, &t)
            }),
            (0u8..4, any::<u32>()).prop_map(|(a, n)| encode_round_end(1, a, None, n)),
            (0u8..4, any::<u16>(), any::<u32>()).prop_map(|(a, r, n)| encode_round_end(
                1,
                a,
                Some(r),
                n
            )),
            Just(hex(A0_12)),
            Just(hex(A0_13)),
        ],
        1..12,
    )
}

proptest! {
    #[test]
    fn simulator_round_trips_across_ports(
        batch in prop::collection::vec(arb_tag(), 0..20),
        long in any::<bool>(),
    ) {
        let options = WireOptions { r2000_long_round_end: long, ..four_ports() };
        let seen = converse(&options, &options, &batch, 4);
        // One round per port, in port order; each reads only the tags on its port.
        let mut want = Vec::new();
        for port in 1..=4 {
            want.extend(batch.iter().filter(|t| t.antenna == port).map(as_reported));
        }
        prop_assert_eq!(tags(&seen), want);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..600), 0..6),
    ) {
        let mut d = Decoder::new(&opts());
        let mut sim = Simulator::new(&four_ports());
        for c in &chunks {
            d.feed(c);
            while d.next_frame().is_some() {}
            prop_assert!(d.buffered() < MAX_FRAME);
            sim.on_host_bytes(c);
        }
    }

    #[test]
    fn head_heavy_bytes_never_panic(bytes in prop::collection::vec(prop_oneof![Just(0xA0u8), Just(0x89), Just(0x04), Just(0x13), any::<u8>()], 0..2000)) {
        let mut d = Decoder::new(&opts());
        let items = decode_chunked(&mut d, &bytes, &[5, 1, 33]);
        let bad = items.iter().filter(|i| matches!(i, Decoded::Bad { .. })).count();
        prop_assert_eq!(d.stats().bad_frames, bad as u64);
        prop_assert!(d.buffered() < MAX_FRAME);
    }

    #[test]
    fn garbage_between_frames_loses_only_what_it_overlaps(
        frames in arb_frames(),
        garbage in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 12),
    ) {
        let expected: Vec<Decoded> = frames.iter().map(|f| decode(f).remove(0)).collect();
        let lost = check_garbage_recovery(
            &mut Decoder::new(&opts()), &frames, &expected, &garbage, MAX_FRAME, claimed_len,
        ).map_err(TestCaseError::fail)?;
        prop_assert!(lost <= garbage.len());
    }

    #[test]
    fn byte_by_byte_equals_all_at_once(
        frames in arb_frames(),
        garbage in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 12),
        sizes in prop::collection::vec(1usize..50, 1..8),
    ) {
        let mut stream = Vec::new();
        for (f, g) in frames.iter().zip(&garbage) {
            stream.extend_from_slice(g);
            stream.extend_from_slice(f);
        }
        let whole = decode(&stream);
        let bytewise = decode_chunked(&mut Decoder::new(&opts()), &stream, &[1]);
        let chunked = decode_chunked(&mut Decoder::new(&opts()), &stream, &sizes);
        prop_assert_eq!(&whole, &bytewise);
        prop_assert_eq!(&whole, &chunked);
    }
}
