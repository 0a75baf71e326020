//! Fuzzes the typed read of published payloads, `shelfd_core::events::Event::from_slice` and
//! `StockSnapshot::from_slice`: arbitrary bytes never panic, and whatever reads back writes the
//! same payload twice and reads back to itself (the contract is read and written by one type).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shelfd_core::events::{Event, StockSnapshot};

fuzz_target!(|data: &[u8]| {
    if let Ok((origin, event)) = Event::from_slice(data) {
        let json = event.to_json(&origin);
        assert_eq!(Event::from_json(&json), Ok((origin.clone(), event.clone())));
        assert_eq!(
            event.to_json(&origin),
            json,
            "serialization is deterministic"
        );
        let kind = event.body.kind();
        assert!(
            json.starts_with(&format!(r#"{{"v":1,"type":"{kind}","#)),
            "{json}"
        );
    }
    if let Ok((origin, snapshot)) = StockSnapshot::from_slice(data) {
        let json = snapshot.to_json(&origin);
        assert_eq!(StockSnapshot::from_json(&json), Ok((origin, snapshot)));
    }
});
