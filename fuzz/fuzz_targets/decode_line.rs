//! Fuzzes the line (`EPC[,antenna[,rssi]]`) decoder, raw and structure-aware (see
//! `shelfd_fuzz::check_protocol`): arbitrary bytes, or the simulator's lines for scripted reads
//! with bytes corrupted, fed in chunks whose sizes come from the input. Nothing may panic, the
//! decoder's invariants hold, reads name an antenna 1..=64 with RSSI in -128..=0, and a read
//! re-encoded by `line::encode` decodes to the same read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shelfd_readers::Protocol;
use shelfd_readers::WireOptions;
use shelfd_readers::frame::Decoded;
use shelfd_readers::line::{self, Decoder};

fuzz_target!(|data: &[u8]| {
    let options = WireOptions {
        antennas: vec![1, 2, 64],
        ..WireOptions::default()
    };
    shelfd_fuzz::check_protocol(data, Protocol::Line, &options, 1..=64);

    let (sizes, stream) = shelfd_fuzz::split_input(data);
    for item in shelfd_fuzz::decode_chunked(&mut Decoder::new(), stream, &sizes) {
        let Decoded::Tag { tag, .. } = item else {
            continue;
        };
        if let Some(rssi) = tag.rssi_dbm {
            assert!((-128.0..=0.0).contains(&rssi), "rssi {rssi}");
        }
        let text = line::encode(&tag);
        let again = line::parse_line(text.trim_end().as_bytes())
            .unwrap_or_else(|e| panic!("{text:?} does not decode: {e}"));
        assert_eq!(again.epc, tag.epc);
        assert_eq!(again.antenna, tag.antenna);
    }
});
