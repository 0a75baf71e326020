//! Fuzzes EPC decoding: arbitrary bytes through `decode`/`gtin14`, and arbitrary text (the input
//! as UTF-8, and the input's bytes written as hex) through `decode_hex`/`describe_json`.
//! Nothing may panic, and the `gtin14` fast path must agree with the full decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shelfd_core::epc;

fuzz_target!(|data: &[u8]| {
    let decoded = epc::decode(data);
    assert_eq!(
        epc::gtin14(data),
        decoded.ok().and_then(|d| d.gtin),
        "gtin14 disagrees with decode"
    );

    if let Ok(text) = std::str::from_utf8(data) {
        let _ = epc::decode_hex(text);
        let _ = epc::describe_json(text);
    }

    let hex: String = data.iter().map(|b| format!("{b:02X}")).collect();
    let from_hex = epc::decode_hex(&hex);
    if data.len() % 2 == 0 && !data.is_empty() {
        assert_eq!(from_hex, epc::decode(data), "hex and byte paths disagree");
    }
    // Hex cut to an odd digit count is accepted only as a GS1 EPC it covers, padded to words.
    if hex.len() > 1 {
        if let Ok(bytes) = epc::parse_hex(&hex[..hex.len() - 1]) {
            assert_eq!(bytes.len() % 2, 0, "not whole words");
            assert!(epc::decode(&bytes).is_ok(), "accepted short hex that does not decode");
        }
    }
});
