//! Fuzzes read-log line cutting, `readlog::lines::LineCutter`: arbitrary bytes fed in chunks of
//! the sizes the first byte picks, with a small cap. Nothing may panic, every `feed` takes at
//! least one byte of a non-empty chunk, no line is ever held past the cap, and line numbers
//! count up by one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shelfd_core::readlog::lines::{Cut, LineCutter};

fuzz_target!(|data: &[u8]| {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(first % 16) + 1;
    let max = usize::from(first / 16) * 4;
    let mut cutter = LineCutter::with_max(max);
    let mut last = 0u64;
    let mut check = |cutter: &LineCutter, cut: Cut| {
        let number = match cut {
            Cut::Line { number } => {
                assert!(cutter.line().len() <= max, "line past the cap");
                let _ = cutter.text();
                number
            }
            Cut::TooLong { number } => number,
        };
        assert_eq!(number, last + 1, "line numbers skip");
        last = number;
    };
    while !rest.is_empty() {
        let piece = &rest[..chunk.min(rest.len())];
        let (used, cut) = cutter.feed(piece);
        assert!((1..=piece.len()).contains(&used), "took {used} of {}", piece.len());
        rest = &rest[used..];
        if let Some(cut) = cut {
            check(&cutter, cut);
        }
    }
    if let Some(cut) = cutter.finish() {
        check(&cutter, cut);
    }
});
