//! Shelf-node lanes in the engine: what a weighed pick or put-back means for stock. Owns the
//! per-lane rules and the short-lived pick credits of tagged lanes; it never does I/O, never
//! reads a clock, and never touches a tag that is not at the lane's location with the lane's
//! SKU.
//!
//! A `[[lane]]` is one of two kinds:
//!
//! - **Weight-only** (`tagged = false`): its items carry no tag, so the lane's weight is their
//!   count. A pick/put of `k` units changes the stock count of (location, SKU) by `k`, through
//!   the same settle window as RFID counts (behaviour 11), so it shows in `stock.changed`
//!   deltas and `stock.snapshot` counts like any other stock. A settled lane weight within
//!   tolerance of `n` units sets the count to `n` (a gateway that started with the shelf already
//!   stocked learns the count from the first weight report; during the baseline window the
//!   count is absorbed into the baseline). That absolute rule applies only when the lane is
//!   the one weight-only lane of its (location, SKU); lanes that share one count by deltas.
//!   Do not also tag items of a weight-only lane's SKU at its location: they would be counted
//!   twice.
//! - **Tagged** (`tagged = true`): RFID counts the items; the weight corroborates. A pick of
//!   `k` units opens a credit of `k` departures for (location, SKU), valid for
//!   [`PICK_WINDOW_MS`]. At each sweep, present tags of that SKU at that location that were
//!   last read there before the pick (at most [`PICK_LOOKBACK_MS`] before it), not since, and
//!   have been silent for [`PICK_SILENCE_REREADS`] of their learned re-read intervals (at least
//!   [`MIN_PICK_SILENCE_MS`]) on a reader that is alive, depart at once — longest silent first,
//!   at most `k` — with cause `picked`, instead of after `depart_missed_reads` re-reads. (A
//!   stationary tag that merely missed a few rounds is read again after the pick, which rules
//!   it out.) A credit that finds no such tag
//!   lapses; the tags then depart (or not) by the ordinary rule. Put-backs and weights of a
//!   tagged lane change nothing (RFID sees the item come back).

use super::engine::{Engine, Outcome};
use super::epc_key::EpcKey;
use super::tag::{Slot, Status};
use super::topology::{LocIdx, ReaderIdx};
use crate::events::{DepartCause, Event};
use crate::readlog::LaneChange;

/// How long a pick on a tagged lane waits for the picked tag to stop reading.
pub const PICK_WINDOW_MS: u64 = 60_000;
/// A picked tag was read at most this long before the pick was weighed (the item was lifted,
/// then the weight settled).
pub const PICK_LOOKBACK_MS: u64 = 30_000;
/// Re-read intervals a picked tag must have missed.
pub const PICK_SILENCE_REREADS: u64 = 3;
/// The shortest silence that lets a picked tag depart.
pub const MIN_PICK_SILENCE_MS: u64 = 3_000;

/// Counters of the lane rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaneStats {
    /// Lane records handled.
    pub records: u64,
    /// Lane records of a (reader, node, lane) the config has no `[[lane]]` for.
    pub unmapped: u64,
    /// Tags departed on a pick's credit.
    pub corroborated: u64,
    /// Picked units whose credit lapsed without a tag to depart.
    pub lapsed: u64,
}

/// Departures a pick on a tagged lane still allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PickCredit {
    loc: LocIdx,
    sku: u32,
    units: u32,
    at: u64,
}

/// The engine's lane state: open pick credits and counters. Not persisted: a credit lives for a
/// minute, and after a restart the ordinary departure rule applies.
#[derive(Debug, Clone, Default)]
pub struct LaneBook {
    credits: Vec<PickCredit>,
    stats: LaneStats,
}

impl Engine {
    /// Counters of the lane rules.
    pub fn lane_stats(&self) -> LaneStats {
        self.lanes.stats
    }

    /// A lane record: see the module docs.
    pub(super) fn on_lane(
        &mut self,
        t: u64,
        reader: ReaderIdx,
        node: u8,
        lane: u8,
        change: LaneChange,
    ) {
        self.lanes.stats.records += 1;
        let Some(spec) = self
            .topo
            .lanes
            .iter()
            .find(|l| l.reader == reader && l.node == node && l.lane == lane)
            .cloned()
        else {
            self.lanes.stats.unmapped += 1;
            return;
        };
        let sku = self.intern(spec.sku.clone());
        if spec.tagged {
            if let LaneChange::Units { units, .. } = change {
                if units < 0 {
                    self.lanes.credits.push(PickCredit {
                        loc: spec.loc,
                        sku,
                        units: u32::from(units.unsigned_abs()),
                        at: t,
                    });
                }
            }
            return;
        }
        let publish = !self.in_baseline_at(spec.loc);
        match change {
            LaneChange::Units { units, .. } => {
                for _ in 0..units.unsigned_abs() {
                    self.count(spec.loc, sku, units > 0, t, publish);
                }
            }
            LaneChange::Weight { grams } => {
                let shared = self
                    .topo
                    .lanes
                    .iter()
                    .filter(|l| !l.tagged && l.loc == spec.loc && l.sku == spec.sku)
                    .count()
                    > 1;
                let Some(n) = units_in(grams, spec.unit_mg, spec.tolerance_mg) else {
                    return;
                };
                if shared {
                    return;
                }
                let current = self
                    .stock
                    .per_loc
                    .get(usize::from(spec.loc))
                    .and_then(|m| m.get(&sku))
                    .map_or(0, |e| e.count);
                let up = n > current;
                for _ in 0..n.abs_diff(current) {
                    self.count(spec.loc, sku, up, t, publish);
                }
            }
        }
    }

    /// Spends open pick credits on tags that stopped reading (see the module docs). Runs in
    /// the sweep, before stock deltas are flushed.
    pub(super) fn sweep_lanes(&mut self, now: u64, out: &mut Vec<Event>) {
        if self.lanes.credits.is_empty() {
            return;
        }
        let mut credits = std::mem::take(&mut self.lanes.credits);
        for credit in &mut credits {
            let mut silent: Vec<(u64, EpcKey)> = Vec::new();
            for (key, tag) in self.tags.iter() {
                if tag.status != Status::Present
                    || tag.sku != credit.sku
                    || tag.slots[0].loc != credit.loc
                {
                    continue;
                }
                let last = tag.slots[0].last;
                if last >= credit.at || last.saturating_add(PICK_LOOKBACK_MS) < credit.at {
                    continue;
                }
                let Some(live) = self.readers.get(usize::from(tag.reader)) else {
                    continue;
                };
                if !live.alive_at(now, self.k.reader_silence) || !live.fresh_at(now) {
                    continue;
                }
                let silence = now.saturating_sub(last.max(live.alive_since));
                let needed =
                    (u64::from(tag.gap_hi) * PICK_SILENCE_REREADS).max(MIN_PICK_SILENCE_MS);
                if silence >= needed {
                    silent.push((silence, key.clone()));
                }
            }
            // Longest silent first; ties in EPC order, so the same inputs pick the same tags.
            silent.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            for (_, key) in silent.into_iter().take(credit.units as usize) {
                let Some(tag) = self.tags.get_mut(&key) else {
                    continue;
                };
                let from = tag.slots[0].loc;
                let last_seen = tag.slots[0].last;
                tag.status = Status::DepartedMissing;
                tag.loc = from;
                tag.mark = now;
                tag.slots = [Slot::EMPTY; 2];
                let departed = Outcome::Departed {
                    from,
                    last_seen,
                    cause: DepartCause::Picked,
                };
                self.apply(&key, departed, now, out);
                credit.units -= 1;
                self.lanes.stats.corroborated += 1;
            }
        }
        for credit in &credits {
            if credit.units > 0 && now.saturating_sub(credit.at) >= PICK_WINDOW_MS {
                self.lanes.stats.lapsed += u64::from(credit.units);
            }
        }
        credits.retain(|c| c.units > 0 && now.saturating_sub(c.at) < PICK_WINDOW_MS);
        // Credits opened while this sweep ran (none: inputs do not run inside a sweep) would
        // be in `self.lanes.credits`; keep both.
        credits.append(&mut self.lanes.credits);
        self.lanes.credits = credits;
    }
}

/// The whole number of `unit_mg` items `grams` weighs, when it is within `tolerance_mg` of one
/// (and not negative).
fn units_in(grams: f64, unit_mg: u32, tolerance_mg: u32) -> Option<u32> {
    if unit_mg == 0 || !grams.is_finite() {
        return None;
    }
    let mg = grams * 1000.0;
    let n = (mg / f64::from(unit_mg)).round();
    if !(0.0..=f64::from(u32::MAX)).contains(&n) {
        return None;
    }
    ((mg - n * f64::from(unit_mg)).abs() <= f64::from(tolerance_mg)).then_some(n as u32)
}

#[cfg(test)]
mod tests {
    use super::units_in;

    #[test]
    fn weights_become_units_only_within_tolerance() {
        assert_eq!(units_in(1250.0, 250_000, 40_000), Some(5));
        assert_eq!(units_in(1285.0, 250_000, 40_000), Some(5));
        assert_eq!(units_in(1300.0, 250_000, 40_000), None);
        assert_eq!(units_in(0.4, 250_000, 40_000), Some(0));
        assert_eq!(units_in(-30.0, 250_000, 40_000), Some(0));
        assert_eq!(units_in(-200.0, 250_000, 40_000), None);
        assert_eq!(units_in(f64::NAN, 250_000, 40_000), None);
    }
}
