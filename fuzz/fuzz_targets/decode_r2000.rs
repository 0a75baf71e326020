//! Fuzzes the R2000 (0xA0) decoder, raw and structure-aware (see
//! `shelfd_fuzz::check_protocol`): arbitrary reader bytes, or the simulator's stream of
//! scripted reads on ports 1..=4 (the host switching the work antenna) with bytes corrupted,
//! fed in chunks whose sizes come from the input. Nothing may panic, the decoder's invariants
//! hold, and reads name a port 1..=4 (two antenna bits).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shelfd_readers::Protocol;
use shelfd_readers::WireOptions;

fuzz_target!(|data: &[u8]| {
    let options = WireOptions {
        antennas: vec![1, 2, 3, 4],
        ..WireOptions::default()
    };
    shelfd_fuzz::check_protocol(data, Protocol::R2000, &options, 1..=4);
});
