//! Fuzzes the MagicRF (0xBB) decoder in both framings, raw and structure-aware (see
//! `shelfd_fuzz::check_protocol`): the first input byte picks BB/7E (even) or AA/DD (odd), the
//! rest is module bytes or scripted reads for the simulator, fed in chunks whose sizes come
//! from the input. Nothing may panic, the decoder's invariants hold, and every read is on
//! antenna 1 (the module is single-port).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shelfd_readers::Protocol;
use shelfd_readers::WireOptions;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let options = if pick % 2 == 0 {
        WireOptions::default()
    } else {
        WireOptions {
            magicrf_header: 0xAA,
            magicrf_end: 0xDD,
            ..WireOptions::default()
        }
    };
    shelfd_fuzz::check_protocol(rest, Protocol::MagicRf, &options, 1..=1);
});
