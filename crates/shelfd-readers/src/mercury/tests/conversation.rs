//! Host commands and the simulator talking: start-up sequences, re-arming, the simulator's
//! replies, a whole conversation through the decoder, and the wire selection.

use super::*;

#[test]
fn startup_sequence_default_options() {
    let commands = Commands::new(&WireOptions::default());
    assert_eq!(
        commands.startup(),
        vec![
            hex(TM5),
            hex("FF 00 0C 1D 03"),
            hex("FF 02 93 00 05 51 7D"),
            hex("FF 03 91 02 01 01 42 C5"),
            hex("FF 03 9A 01 0C 00 A3 5D"),
            hex(TM3),
        ]
    );
    assert_eq!(commands.nudge(), vec![hex(TM3)]);
    assert_eq!(commands.shutdown(), vec![hex(TM5)]);
}

#[test]
fn startup_sets_antennas_and_power() {
    let options = WireOptions {
        antennas: vec![1, 2, 4],
        power_dbm: Some(12.0),
        ..WireOptions::default()
    };
    let startup = Commands::new(&options).startup();
    assert_eq!(startup[3], set_antenna_search_list(&[1, 2, 4]));
    assert_eq!(
        startup[3],
        recrc(hex("FF 07 91 02 01 01 02 02 04 04 00 00"))
    );
    assert_eq!(startup[4], hex("FF 02 92 04 B0 45 E9"));
    assert_eq!(startup.len(), 7);
}

#[test]
fn respond_rearms_only_runs_that_ended_on_their_own() {
    let commands = Commands::new(&WireOptions::default());
    let end = one(&hex(TM7));
    assert_eq!(commands.respond(&end), Some(hex(TM3)));
    assert_eq!(commands.respond(&one(&hex(TM6))), None);
    assert_eq!(commands.respond(&one(&hex(KEEPALIVE))), None);
    assert_eq!(commands.respond(&one(&hex(TM1))), None);
    let bootloader = one(&reply_frame(0x0C, 0, &[0x01]));
    assert_eq!(commands.respond(&bootloader), Some(hex("FF 00 04 1D 0B")));
}

// ---- simulator ----

#[test]
fn simulator_answers_with_module_bytes() {
    let mut sim = Simulator::new(&WireOptions::default());
    let first = sim.on_host_bytes(&hex(TM3));
    let boot = reply_frame(0x04, 0, &VERSION_BLOCK);
    assert_eq!(first[..boot.len()], boot[..]);
    assert_eq!(first[boot.len()..], hex(TM4)[..]);
    assert!(sim.inventory_running());
    assert_eq!(sim.metadata_flags(), Some(0x01FF));
    assert_eq!(sim.on_host_bytes(&hex(TM5)), hex(TM6));
    assert!(!sim.inventory_running());
    assert!(sim.round(&[TagReport::default()]).is_empty());
    // Unknown opcode, bad values, and a command split over two writes.
    assert_eq!(
        sim.on_host_bytes(&host_frame(0x55, &[])),
        reply_frame(0x55, 0x0101, &[])
    );
    assert_eq!(
        sim.on_host_bytes(&set_region(0x77)),
        reply_frame(0x97, 0x010B, &[])
    );
    assert_eq!(
        sim.on_host_bytes(&set_read_power(3300)),
        reply_frame(0x92, 0x0103, &[])
    );
    assert_eq!(
        sim.on_host_bytes(&set_tag_protocol(3)),
        reply_frame(0x93, 0x0402, &[])
    );
    let version = get_version();
    assert!(sim.on_host_bytes(&version[..2]).is_empty());
    assert_eq!(
        sim.on_host_bytes(&version[2..]),
        reply_frame(0x03, 0, &VERSION_BLOCK)
    );
    // Wake-up burst and a corrupted frame are ignored.
    let mut bytes = vec![0xFF; 8];
    let mut bad = get_version();
    bad[4] ^= 0xFF;
    bytes.extend(bad);
    bytes.extend(set_region(0x0D));
    assert_eq!(sim.on_host_bytes(&bytes), reply_frame(0x97, 0, &[]));
}

#[test]
fn conversation_startup_acks_then_tags_then_stop() {
    let options = WireOptions {
        antennas: vec![1, 2],
        power_dbm: Some(20.0),
        ..WireOptions::default()
    };
    let commands = Commands::new(&options);
    let mut sim = Simulator::new(&options);
    let mut decoder = Decoder::new();
    let mut replies = Vec::new();
    for command in commands.startup() {
        replies.extend(sim.on_host_bytes(&command));
    }
    let items = decode_all(&mut decoder, &replies);
    assert_eq!(
        names(&items),
        [
            "boot",
            "stop_ack",
            "current_program",
            "protocol_ack",
            "antenna_ack",
            "read_power_ack",
            "reader_param_ack",
            "start_ack",
        ]
    );
    assert!(items.iter().all(|d| matches!(
        d,
        Decoded::Frame {
            role: FrameRole::Ack | FrameRole::Boot | FrameRole::Info | FrameRole::RoundEnd,
            code: None,
            ..
        }
    )));
    assert!(items.iter().all(|d| commands.respond(d).is_none()));
    assert_eq!(sim.antennas(), [1, 2]);
    assert_eq!(sim.read_power(), 2000);

    let batch = vec![
        TagReport {
            antenna: 2,
            epc: hex("30 14 00 00 00 00 00 00 00 00 00 01"),
            pc: Some(0x3000),
            rssi_dbm: Some(-52.0),
            frequency_khz: Some(915_750),
            phase_deg: Some(90),
            read_count: Some(3),
            reader_time_ms: Some(1234),
        },
        TagReport {
            antenna: 1,
            epc: hex("E2 80 11 60"),
            pc: Some(0x1000),
            rssi_dbm: Some(-70.0),
            frequency_khz: Some(902_750),
            phase_deg: Some(0),
            read_count: Some(1),
            reader_time_ms: Some(1300),
        },
    ];
    let items = decode_all(&mut decoder, &sim.round(&batch));
    assert_eq!(tags(&items), batch);
    let items = decode_all(&mut decoder, &sim.round(&[]));
    assert_eq!(names(&items), ["keepalive"]);

    let mut replies = Vec::new();
    for command in commands.shutdown() {
        replies.extend(sim.on_host_bytes(&command));
    }
    assert_eq!(names(&decode_all(&mut decoder, &replies)), ["stop_ack"]);
    assert!(sim.round(&batch).is_empty());
    assert_eq!(decoder.stats().bad_frames, 0);
}

#[test]
fn stop_after_n_run_ends_with_tm7_and_is_rearmed() {
    let commands = Commands::new(&WireOptions::default());
    let mut sim = Simulator::new(&WireOptions::default());
    let start = StartRequest {
        search_flags: 0,
        stop_after: Some(5),
        ..STREAM_START
    };
    sim.on_host_bytes(&start.encode());
    let tag = TagReport {
        antenna: 1,
        epc: vec![0x30, 0x00],
        ..TagReport::default()
    };
    let first = decode(&sim.round(&[tag.clone(), tag.clone(), tag.clone()]));
    assert_eq!(names(&first), ["tag", "tag", "tag"]);
    let bytes = sim.round(&[tag.clone(), tag.clone(), tag.clone()]);
    assert!(bytes.ends_with(&hex(TM7)));
    let second = decode(&bytes);
    assert_eq!(names(&second), ["tag", "tag", "stream_end"]);
    assert!(!sim.inventory_running());
    assert_eq!(commands.respond(&second[2]), Some(hex(TM3)));
}

#[test]
fn simulator_honours_the_metadata_flags() {
    let mut sim = Simulator::new(&WireOptions::default());
    let request = StartRequest {
        metadata_flags: META_RSSI | META_ANTENNA,
        ..STREAM_START
    };
    sim.on_host_bytes(&request.encode());
    let tag = TagReport {
        antenna: 3,
        epc: vec![0x30, 0x00, 0x12, 0x34],
        rssi_dbm: Some(-41.0),
        read_count: Some(9),
        frequency_khz: Some(920_000),
        ..TagReport::default()
    };
    let bytes = sim.round(std::slice::from_ref(&tag));
    // option, search flags, metadata flags, response type, RSSI, antenna, bit count...
    assert_eq!(bytes[5..15], hex("10 00 1B 00 06 01 D7 33 00 40")[..]);
    let got = tags(&decode(&bytes));
    assert_eq!(
        got,
        [TagReport {
            antenna: 3,
            epc: tag.epc.clone(),
            pc: Some(0x1000),
            rssi_dbm: Some(-41.0),
            ..TagReport::default()
        }]
    );
}

#[test]
fn simulator_rejects_bad_start_requests() {
    let mut sim = Simulator::new(&WireOptions::default());
    sim.on_host_bytes(&[]);
    let mut tm3 = hex(TM3);
    tm3[9] = 0x03; // protocol ISO 18000-6B
    assert_eq!(
        sim.on_host_bytes(&recrc(tm3)),
        reply_frame(0x2F, 0x0402, &[])
    );
    let mut tm3 = hex(TM3);
    tm3[10] = 0x08; // sub-length one too many
    assert_eq!(
        sim.on_host_bytes(&recrc(tm3)),
        reply_frame(0x2F, 0x0100, &[])
    );
    assert!(!sim.inventory_running());
}

#[test]
fn wire_picks_the_mercury_parts() {
    let options = WireOptions::default();
    let mut decoder = wire::decoder(Protocol::Mercury, &options).expect("decoder");
    let commands = wire::commands(Protocol::Mercury, &options).expect("commands");
    let mut sim = wire::simulator(Protocol::Mercury, &options).expect("simulator");
    let replies: Vec<u8> = commands
        .startup()
        .iter()
        .flat_map(|c| sim.on_host_bytes(c))
        .collect();
    let items = decode_all(decoder.as_mut(), &replies);
    assert_eq!(names(&items).last(), Some(&"start_ack"));
    assert!(sim.inventory_running());
}
