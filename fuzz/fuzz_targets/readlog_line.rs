//! Fuzzes read-log line parsing, `readlog::parse_line`: the input as text (invalid UTF-8 is
//! replaced, so every input reaches the parser). Nothing may panic; an accepted record is
//! within the contract (reads: antenna ≥ 1, EPC a whole number of 16-bit words of at most 62
//! bytes, finite RSSI in -150..=50) and writing it back with `to_json_line` gives a line that
//! parses to the same record (commands: to the same line again).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shelfd_core::readlog::{Record, parse_line};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(record) = parse_line(&text) else {
        return;
    };
    if let Record::Read(read) = &record {
        assert!(read.antenna >= 1, "antenna {}", read.antenna);
        let n = read.epc.len();
        assert!(n > 0 && n % 2 == 0 && n <= 62, "EPC of {n} bytes");
        if let Some(rssi) = read.rssi {
            assert!(
                rssi.is_finite() && (-150.0..=50.0).contains(&rssi),
                "rssi {rssi}"
            );
        }
    }
    let line = record.to_json_line();
    assert!(!line.contains('\n'), "one line: {line:?}");
    let again = parse_line(&line).unwrap_or_else(|e| panic!("{line:?} does not parse: {e}"));
    match &record {
        // JSON numbers in a command body may not survive a float round trip bit for bit; the
        // written line must be a fixed point instead.
        Record::Command { .. } => assert_eq!(again.to_json_line(), line),
        _ => assert_eq!(again, record, "{line:?}"),
    }
});
