//! The shared vectors of reader-vectors.md §1: module frames decode to the documented
//! fields and names, host frames cut and parse as documented, and the builders write them byte
//! for byte.

use super::*;

#[test]
fn tm1_tag_record_decodes_as_documented() {
    let Decoded::Tag { offset, tag } = one(&hex(TM1)) else {
        panic!("not a tag")
    };
    assert_eq!(offset, 0);
    assert_eq!(
        tag,
        TagReport {
            antenna: 1,
            epc: hex("00 00 00 00 00 00 00 00 00 00 15 45"),
            pc: Some(0x3000),
            rssi_dbm: Some(-60.0),
            frequency_khz: Some(923_200),
            phase_deg: Some(0),
            read_count: Some(1),
            reader_time_ms: Some(295),
        }
    );
    // The tag CRC is E94A over PC+EPC (SparkFun's comment is off by one byte).
    assert_eq!(
        gen2_crc(&hex("30 00 00 00 00 00 00 00 00 00 00 00 15 45")),
        0xE94A
    );
    assert_eq!(crc(&hex(TM1)[1..45]), 0x561D);
}

#[test]
fn tm1_is_what_the_encoder_writes() {
    let Decoded::Tag { tag, .. } = one(&hex(TM1)) else {
        panic!("not a tag")
    };
    assert_eq!(encode_tag_record(0x01FF, &tag), hex(TM1));
}

#[test]
fn module_replies_decode_as_documented() {
    assert_eq!(
        frame_of(&one(&hex(TM4))),
        (0, "start_ack", FrameRole::Ack, None)
    );
    assert_eq!(
        frame_of(&one(&hex(TM6))),
        (0, "stop_ack", FrameRole::RoundEnd, None)
    );
    assert_eq!(
        frame_of(&one(&hex(TM7))),
        (0, "stream_end", FrameRole::RoundEnd, None)
    );
    assert_eq!(
        parse_record(&hex(TM7)[5..12]),
        Ok(Record::StreamEnd { tags: Some(5) })
    );
    assert_eq!(
        frame_of(&one(&hex(TM8))),
        (0, "autonomous_mode", FrameRole::Boot, None)
    );
    assert_eq!(
        frame_of(&one(&hex(KEEPALIVE))),
        (0, "keepalive", FrameRole::NoTag, Some(0x0400))
    );
    assert_eq!(
        frame_of(&one(&hex(THROTTLE))),
        (0, "temperature_throttle", FrameRole::Info, Some(0x0504))
    );
    assert_eq!(keepalive_frame(), hex(KEEPALIVE));
}

#[test]
fn other_frames_get_their_names() {
    let cases = [
        (
            reply_frame(0x22, 0x0505, &[]),
            "high_return_loss",
            FrameRole::Info,
            Some(0x0505),
        ),
        (
            reply_frame(0x22, 0x0601, &[]),
            "error",
            FrameRole::Error,
            Some(0x0601),
        ),
        (
            reply_frame(0x22, 0x0000, &[]),
            "cycle_status",
            FrameRole::Info,
            None,
        ),
        (
            reply_frame(0x2F, 0x0105, &[]),
            "error",
            FrameRole::Error,
            Some(0x0105),
        ),
        (
            reply_frame(0x2F, 0, &[0x04, 0x00]),
            "param_reply",
            FrameRole::Info,
            None,
        ),
        (
            reply_frame(0x04, 0, &[0; 20]),
            "boot",
            FrameRole::Boot,
            None,
        ),
        (
            reply_frame(0x03, 0, &[0; 20]),
            "version",
            FrameRole::Info,
            None,
        ),
        (
            reply_frame(0x0C, 0, &[0x01]),
            "bootloader",
            FrameRole::Info,
            None,
        ),
        (
            reply_frame(0x0C, 0, &[0x02]),
            "current_program",
            FrameRole::Info,
            None,
        ),
        (
            reply_frame(0x93, 0, &[]),
            "protocol_ack",
            FrameRole::Ack,
            None,
        ),
        (
            reply_frame(0x91, 0, &[]),
            "antenna_ack",
            FrameRole::Ack,
            None,
        ),
        (
            reply_frame(0x92, 0, &[]),
            "read_power_ack",
            FrameRole::Ack,
            None,
        ),
        (
            reply_frame(0x9A, 0, &[]),
            "reader_param_ack",
            FrameRole::Ack,
            None,
        ),
        (
            reply_frame(0x97, 0, &[]),
            "region_ack",
            FrameRole::Ack,
            None,
        ),
        (reply_frame(0x55, 0, &[]), "reply", FrameRole::Info, None),
        (
            reply_frame(0x55, 0x0101, &[]),
            "error",
            FrameRole::Error,
            Some(0x0101),
        ),
    ];
    for (bytes, name, role, code) in cases {
        assert_eq!(
            frame_of(&one(&bytes)),
            (0, name, role, code),
            "{bytes:02X?}"
        );
    }
    // A metadata record with response type 0 ends the stream; type 2 is a status report.
    let end = reply_frame(0x22, 0, &[0x10, 0x00, 0x1B, 0x01, 0xFF, 0x00]);
    assert_eq!(frame_of(&one(&end)).1, "stream_end");
    let report = reply_frame(0x22, 0, &[0x10, 0x00, 0x1B, 0x00, 0x00, 0x02, 0xAA]);
    assert_eq!(frame_of(&one(&report)).1, "status_report");
}

// ---- shared vectors, host → module: cut, checked, and built byte for byte ----

#[test]
fn host_vectors_cut_as_documented() {
    for (text, op, data) in [
        (TM3, 0x2F, "00 00 01 22 00 00 05 07 22 10 00 1B 03 E8 01 FF"),
        (TM5, 0x2F, "00 00 02"),
        ("FF 00 03 1D 0C", 0x03, ""),
        ("FF 03 9A 01 0C 00 A3 5D", 0x9A, "01 0C 00"),
        ("FF 01 97 06 4B BB", 0x97, "06"),
        ("FF 02 93 00 05 51 7D", 0x93, "00 05"),
        ("FF 03 91 02 01 01 42 C5", 0x91, "02 01 01"),
        ("FF 02 92 04 B0 45 E9", 0x92, "04 B0"),
        ("FF 00 2A 1D 25", 0x2A, ""),
        ("FF 00 0C 1D 03", 0x0C, ""),
        ("FF 00 04 1D 0B", 0x04, ""),
        (
            "FF 0A 24 03 E8 00 00 00 00 00 03 00 EE 58 9D",
            0x24,
            "03 E8 00 00 00 00 00 03 00 EE",
        ),
        ("FF 04 06 00 01 C2 00 A4 60", 0x06, "00 01 C2 00"),
        ("FF 01 97 0D 4B B0", 0x97, "0D"),
    ] {
        let bytes = hex(text);
        let data = hex(data);
        assert_eq!(
            cut_host_frame(&bytes),
            HostCut::Command {
                op,
                data: &data,
                len: bytes.len()
            },
            "{text}"
        );
    }
    let mut bad = hex(TM5);
    bad[7] ^= 1;
    assert_eq!(cut_host_frame(&bad), HostCut::Garbage);
    assert_eq!(cut_host_frame(&hex("FF 03 2F")), HostCut::NeedMore);
}

#[test]
fn tm3_start_request_fields() {
    let bytes = hex(TM3);
    let HostCut::Command { data, .. } = cut_host_frame(&bytes) else {
        panic!("not a command")
    };
    assert_eq!(
        StartRequest::parse(data),
        Ok(StartRequest {
            search_flags: 0x001B,
            cycle_timeout_ms: 1000,
            metadata_flags: 0x01FF,
            stop_after: None,
        })
    );
    assert_eq!(StartRequest::parse(data), Ok(STREAM_START));
}

#[test]
fn golden_command_bytes() {
    assert_eq!(STREAM_START.encode(), hex(TM3));
    assert_eq!(stop_reading(), hex(TM5));
    assert_eq!(get_version(), hex("FF 00 03 1D 0C"));
    assert_eq!(
        set_reader_param(0x0C, &[0x00]),
        hex("FF 03 9A 01 0C 00 A3 5D")
    );
    assert_eq!(set_region(0x06), hex("FF 01 97 06 4B BB"));
    assert_eq!(set_region(0x0D), hex("FF 01 97 0D 4B B0"));
    assert_eq!(set_tag_protocol(0x0005), hex("FF 02 93 00 05 51 7D"));
    assert_eq!(
        set_antenna_search_list(&[1]),
        hex("FF 03 91 02 01 01 42 C5")
    );
    assert_eq!(set_read_power(1200), hex("FF 02 92 04 B0 45 E9"));
    assert_eq!(clear_tag_buffer(), hex("FF 00 2A 1D 25"));
    assert_eq!(get_current_program(), hex("FF 00 0C 1D 03"));
    assert_eq!(boot_firmware(), hex("FF 00 04 1D 0B"));
    assert_eq!(
        write_tag_data(1000, 0, 3, &[0x00, 0xEE]),
        hex("FF 0A 24 03 E8 00 00 00 00 00 03 00 EE 58 9D")
    );
    assert_eq!(set_baud_rate(115_200), hex("FF 04 06 00 01 C2 00 A4 60"));
}

#[test]
fn start_request_round_trips_with_a_tag_count() {
    let request = StartRequest {
        stop_after: Some(5),
        ..STREAM_START
    };
    let bytes = request.encode();
    let HostCut::Command { data, .. } = cut_host_frame(&bytes) else {
        panic!("not a command")
    };
    let parsed = StartRequest::parse(data).expect("parses");
    assert_eq!(parsed.search_flags, 0x005B);
    assert_eq!(parsed.stop_after, Some(5));
    assert_eq!(StartRequest::parse(&data[..data.len() - 1]), Err(0x0100));
}
