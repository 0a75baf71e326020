//! Read logs (JSON Lines, the input of `shelfd replay` and of a replay reader) written from the
//! seeded store simulator, and the config that plays them.

use crate::config::{ConfigBuilder, Reader};
use shelfd_core::readlog::Record;
use shelfd_core::sim::{StoreSim, TagProfile};
use std::path::Path;

/// Start of the simulated read logs (2026-11-22T10:00:00Z).
pub const LOG_START_MS: u64 = 1_795_341_600_000;

/// Writes a read log in which `tags` new items appear on two shelves, one every `spacing_ms`,
/// read by reader `r1` once a second (with heartbeats), then `tail_ms` of quiet reading.
pub fn churn_log(path: &Path, seed: u64, tags: usize, spacing_ms: u64, tail_ms: u64) {
    let mut sim = StoreSim::new(seed, LOG_START_MS);
    sim.reader("r1", 1000, &[(1, "shelf-a"), (2, "shelf-b")], true);
    let mut out = String::new();
    let flush = |sim: &mut StoreSim, out: &mut String| {
        for r in sim.take_records() {
            if let Record::Read(_) | Record::Link { .. } = r {
                out.push_str(&r.to_json_line());
                out.push('\n');
            }
        }
    };
    for i in 0..tags {
        let shelf = if i % 2 == 0 { "shelf-a" } else { "shelf-b" };
        sim.add_tags(1, (i % 7) as u32 + 1, shelf, TagProfile::SHELF);
        sim.run_for(spacing_ms);
        flush(&mut sim, &mut out);
    }
    sim.run_for(tail_ms);
    flush(&mut sim, &mut out);
    std::fs::write(path, out).expect("write read log");
}

/// The config of a daemon that plays a [`churn_log`] written to `reads.jsonl` next to it at
/// `speed`: store `s1`, gateway `gw-1`, state in `state/`, `[mqtt] keep_alive = "5s"` (the
/// caller adds the url), reader `r1` (antenna 1 on `shelf-a`, 2 on `shelf-b`) and
/// [`ConfigBuilder::quick_reconcile`].
pub fn churn_config(speed: f64) -> ConfigBuilder {
    ConfigBuilder::new("s1", "gw-1")
        .state_dir("state")
        .mqtt("keep_alive", "5s")
        .reader(
            Reader::replay("r1", "reads.jsonl")
                .set("speed", speed)
                .antennas(&[(1, "shelf-a"), (2, "shelf-b")]),
        )
        .location("shelf-a", "shelf")
        .location("shelf-b", "shelf")
        .quick_reconcile()
}
