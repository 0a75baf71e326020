//! Rejected frames: §1 has no MISMATCH vector, so these are TM-1 and friends broken on
//! purpose (bad CRC, tag CRC, PC length, field bounds), plus bad LEN, wake-up bursts and
//! garbage runs; every reason names the offending value.

use super::*;

#[test]
fn bad_message_crc_is_named() {
    let mut bad = hex(TM1);
    bad[46] = 0x1E;
    let reason = rejection(&bad);
    assert!(
        reason.contains("bad CRC 0x561E, computed 0x561D"),
        "{reason}"
    );
}

#[test]
fn bad_tag_crc_is_named() {
    let mut bad = hex(TM1);
    bad[44] = 0x4B;
    let reason = rejection(&recrc(bad));
    assert!(
        reason.contains("tag CRC 0xE94B, computed 0xE94A"),
        "{reason}"
    );
}

#[test]
fn pc_length_must_match_the_record() {
    // PC 0x3800 announces 7 words but the record carries 6.
    let mut bad = hex(TM1);
    bad[29] = 0x38;
    let reason = rejection(&recrc(bad));
    assert!(
        reason.contains("PC 0x3800 announces 14 EPC bytes"),
        "{reason}"
    );
    // PC 0x0000: empty EPC.
    let tag = TagReport {
        epc: vec![0, 0],
        ..TagReport::default()
    };
    let mut bad = encode_tag_record(0, &tag);
    bad[13] = 0x00;
    let reason = rejection(&recrc(bad));
    assert!(
        reason.contains("PC 0x0000 announces an empty EPC"),
        "{reason}"
    );
}

#[test]
fn xi_without_room_for_xpc_trusts_the_length() {
    // Like TM-2: XI (0x0200) set, no XPC word in the record.
    let epc = hex("E2 00 00 17 22 0B 01 23 45 67 89 AB");
    let mut id = vec![0x32, 0x00];
    id.extend_from_slice(&epc);
    let check = gen2_crc(&id);
    id.extend_from_slice(&check.to_be_bytes());
    let mut data = hex("10 00 1B 00 00 01 00 80");
    data.extend(id);
    let Decoded::Tag { tag, .. } = one(&reply_frame(0x22, 0, &data)) else {
        panic!("not a tag")
    };
    assert_eq!((tag.pc, tag.epc), (Some(0x3200), epc));
}

#[test]
fn xpc_words_are_skipped() {
    let epc = hex("30 14 00 00 00 00 00 00 00 00 00 01");
    for (xpc, pc) in [(hex("00 00"), 0x3200u16), (hex("80 00 12 34"), 0x3200)] {
        let mut id = pc.to_be_bytes().to_vec();
        id.extend_from_slice(&xpc);
        id.extend_from_slice(&epc);
        let check = gen2_crc(&id);
        id.extend_from_slice(&check.to_be_bytes());
        let mut data = hex("10 00 1B 00 00 01");
        data.extend_from_slice(&((id.len() * 8) as u16).to_be_bytes());
        data.extend(id);
        let Decoded::Tag { tag, .. } = one(&reply_frame(0x22, 0, &data)) else {
            panic!("not a tag")
        };
        assert_eq!(tag.epc, epc);
    }
    // XI clear but 2 extra bytes: rejected.
    let mut id = vec![0x30, 0x00, 0x00, 0x00];
    id.extend_from_slice(&epc);
    let check = gen2_crc(&id);
    id.extend_from_slice(&check.to_be_bytes());
    let mut data = hex("10 00 1B 00 00 01");
    data.extend_from_slice(&((id.len() * 8) as u16).to_be_bytes());
    data.extend(id);
    let reason = rejection(&reply_frame(0x22, 0, &data));
    assert!(
        reason.contains("carries 14 bytes between PC and tag CRC"),
        "{reason}"
    );
}

#[test]
fn field_bounds_are_checked() {
    let tm1 = hex(TM1);
    // EPC bit count larger than what is left.
    let mut bad = tm1.clone();
    bad[28] = 0x90;
    assert!(rejection(&recrc(bad)).contains("EPC bit count 0x0090 (18 bytes) but 16 bytes remain"));
    // Not whole words.
    let mut bad = tm1.clone();
    bad[28] = 0x88;
    assert!(rejection(&recrc(bad)).contains("EPC bit count 0x0088"));
    // Unknown metadata bit.
    let mut bad = tm1.clone();
    bad[8] = 0x41;
    assert!(rejection(&recrc(bad)).contains("unsupported bits 0x4000"));
    // Tag type (HF/LF EBV) is not supported.
    let mut bad = tm1.clone();
    bad[8] = 0x21;
    assert!(rejection(&recrc(bad)).contains("unsupported bits 0x2000"));
    // Not Gen2.
    let mut bad = tm1.clone();
    bad[23] = 0x03;
    assert!(rejection(&recrc(bad)).contains("protocol 0x03 is not Gen2"));
    // Unknown response type.
    let mut bad = tm1.clone();
    bad[10] = 0x07;
    assert!(rejection(&recrc(bad)).contains("unknown response type 0x07"));
    // Metadata flags promising more fields than the frame holds.
    let mut data = hex("10 00 1B 00 3F 01 01 C4 11");
    data.extend(hex("0E 16"));
    assert!(rejection(&reply_frame(0x22, 0, &data)).contains("record ends before frequency"));
    // Record without metadata that is not a stop-after-N end.
    assert!(rejection(&reply_frame(0x22, 0, &hex("01 00 1B 00"))).contains("option 0x01"));
    // Get-current-program reply without its byte.
    assert!(rejection(&reply_frame(0x0C, 0, &[])).contains("program byte"));
}

#[test]
fn bad_len_and_wake_up_bursts_are_skipped() {
    let mut bytes = hex("FF F9 22 00 00");
    bytes.extend(hex(KEEPALIVE));
    let items = decode(&bytes);
    assert_eq!(names(&items), ["bad", "keepalive"]);
    match &items[0] {
        Decoded::Bad {
            offset: 0,
            skipped: 5,
            reason,
        } => assert!(reason.contains("bad LEN 0xF9"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // A burst of 0xFF (wake-up) before a frame.
    let mut bytes = vec![0xFF; 20];
    bytes.extend(hex(TM4));
    let items = decode(&bytes);
    assert_eq!(names(&items), ["bad", "start_ack"]);
    assert!(matches!(
        items[0],
        Decoded::Bad {
            offset: 0,
            skipped: 20,
            ..
        }
    ));
    assert!(matches!(items[1], Decoded::Frame { offset: 20, .. }));
}

#[test]
fn a_garbage_run_gives_one_report_naming_its_first_byte() {
    let mut bytes = hex(TM4);
    bytes.extend(hex("12 34 FF 05 56 FF"));
    bytes.extend(hex(TM1));
    let mut d = Decoder::new();
    let items = decode_all(&mut d, &bytes);
    assert_eq!(names(&items), ["start_ack", "bad", "tag"]);
    match &items[1] {
        Decoded::Bad {
            offset: 11,
            skipped: 6,
            reason,
        } => assert!(reason.contains("bad start byte 0x12"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(items[2], Decoded::Tag { offset: 17, .. }));
    let stats = d.stats();
    assert_eq!(
        (stats.bytes, stats.frames, stats.tags, stats.bad_frames),
        (bytes.len() as u64, 2, 1, 1)
    );
}

#[test]
fn long_noise_is_reported_in_bounded_runs() {
    let mut d = Decoder::new();
    let items = decode_all(&mut d, &[0x55; 600]);
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(matches!(
        items[0],
        Decoded::Bad {
            offset: 0,
            skipped: 256,
            ..
        }
    ));
    assert!(matches!(
        items[1],
        Decoded::Bad {
            offset: 256,
            skipped: 256,
            ..
        }
    ));
    // The last 88 bytes wait for the next frame.
    d.feed(&hex(KEEPALIVE));
    let rest: Vec<_> = std::iter::from_fn(|| d.next_frame()).collect();
    assert!(matches!(
        rest[0],
        Decoded::Bad {
            offset: 512,
            skipped: 88,
            ..
        }
    ));
    assert_eq!(names(&rest[1..]), ["keepalive"]);
}
