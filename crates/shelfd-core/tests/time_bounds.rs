//! Timer loops terminate whatever time they are handed: the engine's sweep loop at the end of
//! `u64` time, and read-log lines past year 9999 are refused before they reach it.

use shelfd_core::kinds::LocationKind;
use shelfd_core::readlog::{MAX_T_MS, parse_line};
use shelfd_core::reconcile::{Engine, Knobs, Topology};

fn engine() -> Engine {
    let topo = Topology::new(&[("a", LocationKind::Shelf)], &[("r1", &[(1, "a")])]);
    Engine::new(topo, Knobs::default())
}

#[test]
fn the_sweep_loop_ends_at_the_end_of_time() {
    for start in [0, 5_000, MAX_T_MS] {
        let mut e = engine();
        let mut out = Vec::new();
        e.advance(start, &mut out);
        e.advance(u64::MAX - 1, &mut out);
        e.advance(u64::MAX, &mut out);
        // Time never goes backwards, and a second call at the end of time is a no-op.
        e.advance(u64::MAX, &mut out);
    }
    let mut e = engine();
    e.advance(u64::MAX, &mut Vec::new());
}

#[test]
fn read_log_times_past_year_9999_are_refused() {
    let ok = format!(r#"{{"t":{MAX_T_MS},"reader":"r1","link":"up"}}"#);
    assert!(parse_line(&ok).is_ok());
    let late = format!(r#"{{"t":{},"reader":"r1","link":"up"}}"#, MAX_T_MS + 1);
    let err = parse_line(&late).expect_err("too late");
    assert!(
        err.to_string().starts_with("field t: 253402300800000 ms"),
        "{err}"
    );
}

#[test]
fn a_read_log_line_holds_the_largest_command() {
    assert_eq!(
        shelfd_core::readlog::lines::MAX_LINE_BYTES,
        shelfd_core::commands::MAX_ASN_COMMAND_BYTES + 4096
    );
}
