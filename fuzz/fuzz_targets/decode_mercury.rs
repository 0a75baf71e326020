//! Fuzzes the Mercury (0xFF) decoder, raw and structure-aware (see
//! `shelfd_fuzz::check_protocol`): arbitrary module bytes, or the simulator's stream of
//! scripted reads on ports 1..=4 with bytes corrupted, fed in chunks whose sizes come from the
//! input. Nothing may panic, the decoder's invariants hold, reads name a port 1..=16, and once
//! drained the decoder holds at most one maximum-size frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shelfd_readers::Protocol;
use shelfd_readers::WireOptions;
use shelfd_readers::mercury::{Decoder, MAX_FRAME};

fuzz_target!(|data: &[u8]| {
    let options = WireOptions {
        antennas: vec![1, 2, 3, 4],
        ..WireOptions::default()
    };
    shelfd_fuzz::check_protocol(data, Protocol::Mercury, &options, 1..=16);

    let (sizes, stream) = shelfd_fuzz::split_input(data);
    let mut decoder = Decoder::new();
    let _ = shelfd_fuzz::decode_chunked(&mut decoder, stream, &sizes);
    assert!(
        decoder.pending_bytes() <= MAX_FRAME,
        "{} bytes held after draining",
        decoder.pending_bytes()
    );
});
