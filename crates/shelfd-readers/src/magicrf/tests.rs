//! Tests of the 0xBB module: the shared vectors (reader-vectors.md §2), golden command bytes,
//! the simulator's replies, a whole conversation, and property tests of the decoder.
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

const BB1: &str = "BB 02 22 00 11 C9 34 00 30 75 1F EB 70 5C 59 04 E3 D5 0D 70 3A 76 EF 7E";
const BB5: &str = "BB 01 FF 00 01 15 16 7E";
const BB8: &str = "BB 00 22 00 00 22 7E";
const BB9: &str = "BB 00 27 00 03 22 27 10 83 7E";
const BB10: &str = "BB 00 27 00 03 22 FF FF 4A 7E";
const BB11: &str = "BB 00 28 00 00 28 7E";
const BB12: &str = "BB 01 28 00 01 00 2A 7E";
const BB13: &str = "BB 00 03 00 01 00 04 7E";
const BB14: &str = "BB 01 03 00 0B 00 4D 31 30 30 20 56 31 2E 30 30 22 7E";
const BB15: &str = "BB 00 B6 00 02 07 D0 8F 7E";
const BB16: &str = "BB 00 11 00 02 00 C0 D3 7E";
const BB18: &str = "BB 00 0C 00 13 01 00 00 00 20 60 00 30 75 1F EB 70 5C 59 04 E3 D5 0D 70 AD 7E";
const BB19: &str = "BB 01 0C 00 01 00 0E 7E";
const BB20: &str = "BB 00 07 00 01 01 09 7E";
/// COMPUTED: 128-bit EPC notification, RSSI −60 dBm, PC 0x4000, tag CRC B1C4.
const BB_128: &str =
    "BB 02 22 00 15 C4 40 00 E2 00 00 1D 73 15 01 65 21 40 8F C6 AA BB 00 01 B1 C4 BB 7E";
/// COMPUTED: get TX power.
const BB_GET_POWER: &str = "BB 00 B7 00 00 B7 7E";

const BB1_EPC: [u8; 12] = [
    0x30, 0x75, 0x1F, 0xEB, 0x70, 0x5C, 0x59, 0x04, 0xE3, 0xD5, 0x0D, 0x70,
];

fn opts() -> WireOptions {
    WireOptions::default()
}

fn aa_dd() -> WireOptions {
    WireOptions {
        magicrf_header: 0xAA,
        magicrf_end: 0xDD,
        ..WireOptions::default()
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
fn bb1_tag_notification() {
    let mut d = Decoder::new(&opts());
    let items = decode_all(&mut d, &hex(BB1));
    assert_eq!(
        items,
        vec![Decoded::Tag {
            offset: 0,
            tag: TagReport {
                antenna: 1,
                epc: BB1_EPC.to_vec(),
                pc: Some(0x3400),
                rssi_dbm: Some(-55.0),
                ..TagReport::default()
            },
        }]
    );
    let stats = d.stats();
    assert_eq!(
        (stats.bytes, stats.frames, stats.tags, stats.bad_frames),
        (24, 1, 1, 0)
    );
}

#[test]
fn computed_128_bit_notification() {
    let tag = tags(&decode(&hex(BB_128))).pop().unwrap();
    assert_eq!(tag.pc, Some(0x4000));
    assert_eq!(tag.rssi_dbm, Some(-60.0));
    assert_eq!(
        tag.epc,
        hex("E2 00 00 1D 73 15 01 65 21 40 8F C6 AA BB 00 01")
    );
    assert_eq!(gen2::crc16(&hex(BB_128)[6..24]), 0xB1C4);
}

#[test]
fn bb5_no_tag_is_an_idle_heartbeat() {
    let items = decode(&hex(BB5));
    assert_eq!(
        frame_of(&items[0]),
        (names::NO_TAG, FrameRole::NoTag, Some(0x15))
    );
}

#[test]
fn responses_are_named() {
    let items = decode(&hex(&[BB12, BB14, BB19].join(" ")));
    assert_eq!(
        frame_of(&items[0]),
        (names::STOP_ACK, FrameRole::Ack, Some(0))
    );
    assert_eq!(
        frame_of(&items[1]),
        (names::VERSION, FrameRole::Info, Some(0))
    );
    assert_eq!(
        frame_of(&items[2]),
        (names::COMMAND_ACK, FrameRole::Ack, Some(0))
    );
    let offsets: Vec<u64> = items
        .iter()
        .map(|d| match d {
            Decoded::Frame { offset, .. } => *offset,
            _ => u64::MAX,
        })
        .collect();
    assert_eq!(offsets, vec![0, 8, 26]);
    let errors = decode(&encode_error(Framing::BB_7E, 0x17));
    assert_eq!(
        frame_of(&errors[0]),
        (names::ERROR, FrameRole::Error, Some(0x17))
    );
    let power = decode(&encode_response(
        Framing::BB_7E,
        cmd::GET_TX_POWER,
        &[0x07, 0xD0],
    ));
    assert_eq!(frame_of(&power[0]), (names::REPLY, FrameRole::Info, None));
}

#[test]
fn host_commands_decode_as_host_frames() {
    for v in [
        BB8,
        BB9,
        BB10,
        BB11,
        BB13,
        BB15,
        BB16,
        BB18,
        BB20,
        BB_GET_POWER,
    ] {
        let items = decode(&hex(v));
        assert_eq!(frame_of(&items[0]).0, names::HOST_COMMAND, "{v}");
        assert_eq!(items.len(), 1);
    }
}

#[test]
fn notification_with_cmd_0x27_is_accepted_defensively() {
    let mut bytes = hex(BB1);
    bytes[2] = 0x27;
    bytes[22] = checksum(&bytes[1..22]);
    assert_eq!(tags(&decode(&bytes))[0].epc, BB1_EPC);
}

// ---- mismatches and bound checks ------------------------------------------------------------

#[test]
fn bb21_transcription_with_stale_checksum_is_rejected() {
    // BB-21 (READERS.md §2.5): BB-1 with the command byte changed to 0x27, checksum EF kept.
    let mut bytes = hex(BB1);
    bytes[2] = 0x27;
    bytes.extend(hex(BB5));
    let items = decode(&bytes);
    match &items[0] {
        Decoded::Bad {
            offset: 0,
            skipped: 24,
            reason,
        } => assert!(reason.contains("checksum 0xEF, computed 0xF4"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(items[1], Decoded::Frame { offset: 24, .. }));
    assert_eq!(items.len(), 2);
}

#[test]
fn tag_crc_is_checked() {
    let mut bytes = hex(BB1);
    bytes[8] = 0x31; // first EPC byte
    bytes[22] = checksum(&bytes[1..22]); // frame checksum made right again
    let reason = bad_reason(&decode(&[bytes, hex(BB5)].concat()));
    assert!(reason.contains("tag CRC 0x3A76, computed 0x"), "{reason}");
}

#[test]
fn bound_checks_name_the_value() {
    let pc_mismatch = {
        // PC announces 7 words, the frame carries 6: CRC and checksum are right.
        let tag = TagReport {
            epc: BB1_EPC.to_vec(),
            ..TagReport::default()
        };
        let mut bytes = encode_tag_notification(Framing::BB_7E, &tag);
        bytes[6] = 0x38;
        let n = bytes.len();
        let crc = gen2::crc16(&bytes[6..n - 4]).to_be_bytes();
        bytes[n - 4..n - 2].copy_from_slice(&crc);
        bytes[n - 2] = checksum(&bytes[1..n - 2]);
        bytes
    };
    let mut wrong_end = hex(BB5);
    wrong_end[7] = 0x7F;
    let short = encode_frame(
        Framing::BB_7E,
        kind::NOTIFICATION,
        cmd::SINGLE_POLL,
        &[0xC9, 0x34, 0x00],
    );
    let empty_error = encode_response(Framing::BB_7E, cmd::ERROR, &[]);
    for (bytes, needle) in [
        (
            pc_mismatch,
            "PC 0x3800 announces 14 EPC bytes, frame carries 12",
        ),
        (wrong_end, "end byte 0x7F, expected 0x7E"),
        (hex("BB 02 22 02 01 00"), "PL 513 (0x0201)"),
        (hex("BB 03 22 00 00 25 7E"), "frame type 0x03"),
        (short, "PL 3 is shorter"),
        (empty_error, "without an error code"),
    ] {
        let items = decode(&[bytes, hex(BB5)].concat());
        let reason = bad_reason(&items);
        assert!(reason.contains(needle), "{reason} !~ {needle}");
        assert_eq!(frame_of(items.last().unwrap()).0, names::NO_TAG);
    }
}

#[test]
fn garbage_run_gives_one_report_with_offset_and_count() {
    let mut bytes = hex(BB12);
    bytes.extend_from_slice(&[0x00, 0x7E, 0xBB, 0x09, 0x55]);
    bytes.extend(hex(BB1));
    let mut d = Decoder::new(&opts());
    let items = decode_all(&mut d, &bytes);
    assert_eq!(items.len(), 3, "{items:?}");
    match &items[1] {
        Decoded::Bad {
            offset: 8,
            skipped: 5,
            reason,
        } => assert!(reason.contains("frame type 0x09"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(items[2], Decoded::Tag { offset: 13, .. }));
    assert_eq!(d.stats().bad_frames, 1);
}

#[test]
fn end_byte_inside_an_epc_does_not_cut_the_frame() {
    let tag = TagReport {
        antenna: 1,
        epc: vec![0x7E, 0xBB, 0x7E, 0x7E],
        pc: Some(0x1000),
        rssi_dbm: Some(-70.0),
        ..TagReport::default()
    };
    let got = tags(&decode(&encode_tag_notification(Framing::BB_7E, &tag)));
    assert_eq!(got, vec![tag]);
}

#[test]
fn aa_dd_framing() {
    let mut bytes = hex(BB1);
    bytes[0] = 0xAA;
    bytes[23] = 0xDD;
    let items = decode_all(&mut Decoder::new(&aa_dd()), &bytes);
    assert_eq!(tags(&items)[0].epc, BB1_EPC);
    // The same bytes are not frames for a 0xBB reader.
    assert!(tags(&decode(&bytes)).is_empty());
    assert_eq!(
        Framing::from_options(&aa_dd()),
        Framing::AA_DD,
        "options select the framing"
    );
}

// ---- golden commands ------------------------------------------------------------------------

#[test]
fn golden_command_bytes() {
    let f = Framing::BB_7E;
    assert_eq!(single_poll_command(f), hex(BB8));
    assert_eq!(multi_poll_command(f, 10_000), hex(BB9));
    assert_eq!(multi_poll_command(f, MULTI_POLL_COUNT), hex(BB10));
    assert_eq!(stop_command(f), hex(BB11));
    assert_eq!(info_command(f, 0), hex(BB13));
    assert_eq!(set_tx_power_command(f, centi_dbm(20.0)), hex(BB15));
    assert_eq!(set_baud_command(f, 19_200), hex(BB16));
    assert_eq!(
        set_select_command(f, 0x01, 0x20, 96, false, &BB1_EPC),
        hex(BB18)
    );
    assert_eq!(set_region_command(f, 0x01), hex(BB20));
    assert_eq!(encode_command(f, cmd::GET_TX_POWER, &[]), hex(BB_GET_POWER));
}

#[test]
fn golden_module_bytes() {
    let f = Framing::BB_7E;
    let bb1_tag = TagReport {
        antenna: 1,
        epc: BB1_EPC.to_vec(),
        pc: Some(0x3400),
        rssi_dbm: Some(-55.0),
        ..TagReport::default()
    };
    assert_eq!(encode_tag_notification(f, &bb1_tag), hex(BB1));
    let bb128 = TagReport {
        epc: hex("E2 00 00 1D 73 15 01 65 21 40 8F C6 AA BB 00 01"),
        pc: Some(0x4000),
        rssi_dbm: Some(-60.0),
        ..TagReport::default()
    };
    assert_eq!(encode_tag_notification(f, &bb128), hex(BB_128));
    assert_eq!(encode_error(f, errors::NO_TAG), hex(BB5));
    // The AA/DD variant differs in header and end only (they are not summed).
    let aa = encode_tag_notification(Framing::AA_DD, &bb1_tag);
    assert_eq!((aa[0], aa[22], aa[23]), (0xAA, 0xEF, 0xDD));
}

#[test]
fn host_command_sequences() {
    let plain = Commands::new(&opts());
    assert_eq!(plain.startup(), vec![hex(BB11), hex(BB10)]);
    assert_eq!(plain.nudge(), vec![hex(BB10)]);
    assert_eq!(plain.shutdown(), vec![hex(BB11)]);
    let powered = Commands::new(&WireOptions {
        power_dbm: Some(20.0),
        ..opts()
    });
    assert_eq!(powered.startup(), vec![hex(BB11), hex(BB15), hex(BB10)]);
}

// ---- simulator ------------------------------------------------------------------------------

#[test]
fn simulator_replies_byte_for_byte() {
    let mut sim = Simulator::new(&opts());
    assert_eq!(sim.on_host_bytes(&hex(BB11)), hex(BB12));
    assert_eq!(sim.on_host_bytes(&hex(BB13)), hex(BB14));
    assert_eq!(sim.on_host_bytes(&hex(BB18)), hex(BB19));
    assert_eq!(
        sim.on_host_bytes(&hex(BB15)),
        hex("BB 01 B6 00 01 00 B8 7E")
    );
    assert_eq!(
        sim.on_host_bytes(&hex(BB_GET_POWER)),
        hex("BB 01 B7 00 02 07 D0 91 7E")
    );
    // Unknown command: error 0x17, invalid command code.
    assert_eq!(
        sim.on_host_bytes(&encode_command(Framing::BB_7E, 0x5A, &[])),
        hex("BB 01 FF 00 01 17 18 7E")
    );
    // Broken checksum: ignored, like line noise.
    let mut broken = hex(BB13);
    broken[5] ^= 1;
    assert!(sim.on_host_bytes(&broken).is_empty());
    // A command split over writes is answered once complete.
    let stop = hex(BB11);
    assert!(sim.on_host_bytes(&stop[..3]).is_empty());
    assert_eq!(sim.on_host_bytes(&stop[3..]), hex(BB12));
    assert!(!sim.inventory_running());
    assert!(sim.round(&[TagReport::default()]).is_empty());
}

#[test]
fn multi_poll_runs_for_its_count_then_goes_quiet() {
    let mut sim = Simulator::new(&opts());
    assert!(
        sim.on_host_bytes(&multi_poll_command(Framing::BB_7E, 2))
            .is_empty()
    );
    assert!(sim.inventory_running());
    let tag = TagReport {
        antenna: 1,
        epc: BB1_EPC.to_vec(),
        ..TagReport::default()
    };
    assert_eq!(
        tags(&decode(&sim.round(std::slice::from_ref(&tag)))).len(),
        1
    );
    assert_eq!(sim.round(&[]), hex(BB5), "an empty round is error 0x15");
    assert!(!sim.inventory_running());
    assert!(sim.round(std::slice::from_ref(&tag)).is_empty());
    // The watchdog's nudge starts it again.
    let host = Commands::new(&opts());
    for c in host.nudge() {
        sim.on_host_bytes(&c);
    }
    assert!(sim.inventory_running());
    // Single poll: one round.
    let mut sim = Simulator::new(&opts());
    sim.on_host_bytes(&hex(BB8));
    assert!(!sim.round(&[]).is_empty());
    assert!(!sim.inventory_running());
    // Only antenna 1 exists on a single-port module.
    sim.on_host_bytes(&hex(BB10));
    let elsewhere = TagReport {
        antenna: 2,
        ..tag.clone()
    };
    assert_eq!(sim.round(&[elsewhere, tag]).len(), 24);
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

#[test]
fn host_rearms_on_foreign_stop_and_errors_but_never_loops() {
    let host = Commands::new(&opts());
    host.startup();
    let stop_ack = frame(names::STOP_ACK, FrameRole::Ack, Some(0));
    assert_eq!(host.respond(&stop_ack), None, "our own stop");
    assert_eq!(
        host.respond(&stop_ack),
        Some(hex(BB10)),
        "someone else's stop"
    );
    assert_eq!(
        host.respond(&frame(names::NO_TAG, FrameRole::NoTag, Some(0x15))),
        None
    );
    let hopping = frame(names::ERROR, FrameRole::Error, Some(0x20));
    for _ in 0..MAX_ERROR_REARMS {
        assert_eq!(host.respond(&hopping), Some(hex(BB10)));
    }
    assert_eq!(
        host.respond(&hopping),
        None,
        "errors in a row stop re-arming"
    );
    assert_eq!(
        host.respond(&frame(names::NO_TAG, FrameRole::NoTag, Some(0x15))),
        None
    );
    assert_eq!(
        host.respond(&hopping),
        Some(hex(BB10)),
        "a heartbeat resets the count"
    );
    let invalid = frame(names::ERROR, FrameRole::Error, Some(0x17));
    assert_eq!(
        host.respond(&invalid),
        None,
        "re-sending a rejected command cannot help"
    );
    host.shutdown();
    assert_eq!(host.respond(&stop_ack), None);
    assert_eq!(
        host.respond(&stop_ack),
        None,
        "nothing re-arms after shutdown"
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

fn conversation(options: &WireOptions) {
    let host = Commands::new(options);
    let mut sim = Simulator::new(options);
    let mut decoder = Decoder::new(options);
    let replies = pump(&host, &mut sim, &mut decoder, host.startup());
    let roles: Vec<_> = replies.iter().map(|d| frame_of(d).1).collect();
    assert_eq!(
        roles,
        vec![FrameRole::Ack, FrameRole::Ack],
        "stop ack, power ack"
    );
    assert!(sim.inventory_running());

    let shelf = [
        TagReport {
            antenna: 1,
            epc: BB1_EPC.to_vec(),
            pc: Some(0x3400),
            rssi_dbm: Some(-55.0),
            ..TagReport::default()
        },
        TagReport {
            antenna: 1,
            epc: hex("E2 00 00 1D 73 15 01 65 21 40 8F C6 AA BB 00 01"),
            pc: Some(0x4000),
            rssi_dbm: Some(-60.0),
            ..TagReport::default()
        },
    ];
    let round = decode_all(&mut decoder, &sim.round(&shelf));
    assert_eq!(tags(&round), shelf.to_vec());
    assert!(round.iter().all(|d| host.respond(d).is_none()));

    // Another program stops the multi-poll: the host re-arms it and reads go on.
    let ack = sim.on_host_bytes(&stop_command(Framing::from_options(options)));
    assert!(!sim.inventory_running());
    let stop_ack = decode_all(&mut decoder, &ack);
    let rearm = host.respond(&stop_ack[0]).unwrap();
    pump(&host, &mut sim, &mut decoder, vec![rearm]);
    assert!(sim.inventory_running());
    assert_eq!(
        tags(&decode_all(&mut decoder, &sim.round(&shelf))),
        shelf.to_vec()
    );
    // An empty round is a heartbeat, not a reason to send anything.
    let idle = decode_all(&mut decoder, &sim.round(&[]));
    assert_eq!(frame_of(&idle[0]).1, FrameRole::NoTag);
    assert_eq!(host.respond(&idle[0]), None);
    assert_eq!(decoder.stats().bad_frames, 0);

    pump(&host, &mut sim, &mut decoder, host.shutdown());
    assert!(!sim.inventory_running());
}

#[test]
fn full_conversation() {
    conversation(&WireOptions {
        power_dbm: Some(26.0),
        ..opts()
    });
}

#[test]
fn full_conversation_aa_dd() {
    conversation(&WireOptions {
        power_dbm: Some(18.5),
        ..aa_dd()
    });
}

// ---- properties -----------------------------------------------------------------------------

fn arb_tag() -> impl Strategy<Value = TagReport> {
    (
        prop::collection::vec(any::<u8>(), 1..=62),
        prop::option::of(any::<u16>()),
        prop::option::of((-1280i32..=1270).prop_map(|d| d as f32 / 10.0)),
    )
        .prop_map(|(epc, pc, rssi_dbm)| TagReport {
            antenna: 1,
            epc,
            pc,
            rssi_dbm,
            ..TagReport::default()
        })
}

/// What a module reports for a scripted read: the EPC in whole words, the PC made to match,
/// RSSI in whole dBm.
fn as_reported(tag: &TagReport) -> TagReport {
    let epc = gen2::wire_epc(&tag.epc);
    TagReport {
        antenna: 1,
        pc: Some(gen2::pc_for(epc.len(), tag.pc)),
        rssi_dbm: Some(f32::from(rssi_byte(tag.rssi_dbm) as i8)),
        epc,
        ..TagReport::default()
    }
}

fn round_trip(options: &WireOptions, batch: &[TagReport]) -> Vec<TagReport> {
    let mut sim = Simulator::new(options);
    sim.on_host_bytes(&Commands::new(options).start());
    let bytes = sim.round(batch);
    let mut d = Decoder::new(options);
    let items = decode_all(&mut d, &bytes);
    assert_eq!(d.stats().bad_frames, 0);
    tags(&items)
}

/// The length a frame starting at `at` claims (for spans of spurious frames).
fn claimed_len(stream: &[u8], at: usize) -> usize {
    let hi = stream.get(at + 3).copied().unwrap_or(0);
    let lo = stream.get(at + 4).copied().unwrap_or(0);
    usize::from(u16::from_be_bytes([hi, lo])) + OVERHEAD
}

/// A mixed stream of module frames: notifications and the replies a module sends.
fn arb_frames() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(
        prop_oneof![
            arb_tag().prop_map(|t| encode_tag_notification(Framing::BB_7E, &t)),
            Just(hex(BB5)),
            Just(hex(BB12)),
            Just(hex(BB14)),
        ],
        1..12,
    )
}

proptest! {
    #[test]
    fn simulator_round_trips(batch in prop::collection::vec(arb_tag(), 0..20)) {
        let got = round_trip(&opts(), &batch);
        let want: Vec<TagReport> = batch.iter().map(as_reported).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn simulator_round_trips_aa_dd(batch in prop::collection::vec(arb_tag(), 1..20)) {
        let got = round_trip(&aa_dd(), &batch);
        let want: Vec<TagReport> = batch.iter().map(as_reported).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..600), 0..6),
        aa in any::<bool>(),
    ) {
        let options = if aa { aa_dd() } else { opts() };
        let mut d = Decoder::new(&options);
        for c in &chunks {
            d.feed(c);
            while d.next_frame().is_some() {}
            prop_assert!(d.buffered() < MAX_FRAME);
        }
        let mut sim = Simulator::new(&options);
        for c in &chunks {
            sim.on_host_bytes(c);
        }
    }

    #[test]
    fn header_heavy_bytes_never_panic(bytes in prop::collection::vec(prop_oneof![Just(0xBBu8), Just(0x7E), Just(0x00), Just(0x02), Just(0x22), any::<u8>()], 0..2000)) {
        let mut d = Decoder::new(&opts());
        let items = decode_chunked(&mut d, &bytes, &[7, 1, 64]);
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
