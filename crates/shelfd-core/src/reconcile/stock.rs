//! [`StockBook`]: per-(location, SKU) counts, and the settle window that aggregates count changes
//! into `stock.changed` deltas (behaviour 11: never a transient +1 followed by a correction; a
//! mass move gives a few aggregated deltas, not one per tag).
//!
//! `count` is the engine's current belief; `published` is the count as of the last
//! `stock.changed` (and what snapshots report). A change is pending while they differ; it is
//! published once the (location, SKU) has been quiet for `settle_quiet`, or `settle_max` after its
//! first change, whichever comes first.

use super::topology::LocIdx;
use rustc_hash::FxHashMap;

/// Counts of one SKU at one location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SkuCount {
    /// Current count.
    pub count: u32,
    /// Count as of the last published delta.
    pub published: u32,
    /// First unpublished change (ms); meaningful while `count != published`.
    pub first_change: u64,
    /// Latest unpublished change (ms).
    pub last_change: u64,
}

/// Stock of every location, keyed by interned SKU (`u32`, with `NO_SKU` for undecoded tags).
#[derive(Debug, Clone, Default)]
pub struct StockBook {
    /// `per_loc[loc][sku]`.
    pub per_loc: Vec<FxHashMap<u32, SkuCount>>,
    /// Entries with a possibly pending change, to avoid scanning everything on each sweep.
    pending: Vec<(LocIdx, u32)>,
}

/// A delta ready to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueDelta {
    /// Location.
    pub loc: LocIdx,
    /// SKU.
    pub sku: u32,
    /// Net change.
    pub delta: i64,
    /// Count after it.
    pub count: u32,
}

impl StockBook {
    /// An empty book for `n` locations.
    pub fn new(n: usize) -> Self {
        StockBook {
            per_loc: vec![FxHashMap::default(); n],
            pending: Vec::new(),
        }
    }

    /// Applies a +1/−1 change at `t`. With `publish` false (baseline window) the change is
    /// absorbed into the published count immediately.
    pub fn change(&mut self, loc: LocIdx, sku: u32, up: bool, t: u64, publish: bool) {
        let Some(map) = self.per_loc.get_mut(usize::from(loc)) else {
            return;
        };
        let e = map.entry(sku).or_default();
        let was_pending = e.count != e.published;
        e.count = if up {
            e.count.saturating_add(1)
        } else {
            e.count.saturating_sub(1)
        };
        if !publish {
            e.published = e.count;
            return;
        }
        if !was_pending {
            e.first_change = t;
        }
        e.last_change = t;
        if e.count != e.published && !was_pending {
            self.pending.push((loc, sku));
        }
    }

    /// Takes every delta due at `now` (all pending ones when `force`). Deltas that netted to zero
    /// are dropped silently. Returned in (location, SKU) order of the caller's choosing: unsorted.
    pub fn take_due(&mut self, now: u64, quiet: u64, max: u64, force: bool) -> Vec<DueDelta> {
        let mut due = Vec::new();
        let per_loc = &mut self.per_loc;
        self.pending.retain(|&(loc, sku)| {
            let Some(e) = per_loc
                .get_mut(usize::from(loc))
                .and_then(|m| m.get_mut(&sku))
            else {
                return false;
            };
            if e.count == e.published {
                return false;
            }
            let ready = force
                || now.saturating_sub(e.last_change) >= quiet
                || now.saturating_sub(e.first_change) >= max;
            if !ready {
                return true;
            }
            due.push(DueDelta {
                loc,
                sku,
                delta: i64::from(e.count) - i64::from(e.published),
                count: e.count,
            });
            e.published = e.count;
            false
        });
        due
    }

    /// Re-registers pending entries after a restore.
    pub fn rebuild_pending(&mut self) {
        self.pending.clear();
        for (loc, map) in self.per_loc.iter().enumerate() {
            for (sku, e) in map {
                if e.count != e.published {
                    self.pending.push((loc as LocIdx, *sku));
                }
            }
        }
        self.pending.sort_unstable();
    }

    /// Published counts of a location, for snapshots.
    pub fn published(&self, loc: LocIdx) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.per_loc
            .get(usize::from(loc))
            .into_iter()
            .flat_map(|m| {
                m.iter()
                    .filter(|(_, e)| e.published > 0)
                    .map(|(s, e)| (*s, e.published))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_changes_net_to_nothing() {
        let mut b = StockBook::new(2);
        b.change(0, 7, true, 1000, true);
        b.change(0, 7, false, 2000, true);
        assert!(b.take_due(60_000, 5000, 30_000, false).is_empty());
        assert_eq!(b.per_loc[0][&7].count, 0);
    }

    #[test]
    fn quiet_and_max_windows() {
        let mut b = StockBook::new(1);
        for i in 0..10 {
            b.change(0, 1, true, 1000 + i * 1000, true);
        }
        assert!(b.take_due(12_000, 5000, 30_000, false).is_empty());
        let due = b.take_due(15_000, 5000, 30_000, false);
        assert_eq!(
            due,
            vec![DueDelta {
                loc: 0,
                sku: 1,
                delta: 10,
                count: 10
            }]
        );
        // A continuous stream still publishes at settle_max.
        for i in 0..30 {
            b.change(0, 1, true, 20_000 + i * 1000, true);
        }
        assert!(b.take_due(49_500, 5000, 30_000, false).is_empty());
        let due = b.take_due(50_000, 5000, 30_000, false);
        assert_eq!(
            due,
            vec![DueDelta {
                loc: 0,
                sku: 1,
                delta: 30,
                count: 40
            }]
        );
    }

    #[test]
    fn baseline_changes_are_absorbed() {
        let mut b = StockBook::new(1);
        b.change(0, 1, true, 1000, false);
        assert!(b.take_due(100_000, 0, 0, true).is_empty());
        assert_eq!(b.published(0).collect::<Vec<_>>(), vec![(1, 1)]);
    }
}
