//! Store rules: `alert.low_stock` and `alert.misplaced`, derived from each location's planogram
//! and safety stock ([`StoreRules`], hot-reloadable through [`Engine::set_rules`]).
//!
//! - **Low stock**: a `(location, planogram GTIN)` whose *settled* count (the count published by
//!   `stock.changed`, so transient changes inside the settle window never count) is below the
//!   location's `safety_stock` raises one `alert.low_stock`, and the rule is then disarmed. It
//!   re-arms only once the settled count is back at `safety_stock + low_stock_rearm` (a
//!   `[reconcile]` knob, default 2): a count that wobbles around the threshold alerts once, not
//!   at every dip. The state (raised or armed) is persisted with the location record, so a
//!   restart neither repeats an alert nor loses a re-arm.
//! - **Misplaced**: a tag confirmed (arrived, moved or returned) at a location with a planogram
//!   that does not list its SKU raises one `alert.misplaced` per stay: the tag's flag says the
//!   current stay was alerted, and a new stay (the tag left and came back, or moved) starts with
//!   it cleared. The flag is persisted with the tag record. Tags that decode to no product
//!   (sku `null`) are never misplaced: their product is unknown.
//! - **Stock-out forecast**: a `(location, planogram GTIN)` whose depletion forecast
//!   ([`super::forecast`]) says its settled count falls below the location's `safety_stock` at
//!   or before `now + forecast_horizon` (a hot-reloadable `[reconcile]` knob, default 1 h)
//!   raises one `alert.stockout_forecast` with the forecast time and rate, and the rule is then
//!   disarmed. It re-arms after a *restock* (a settled increase of at least `low_stock_rearm`
//!   items, and at least 1: with the default 2, a single return does not re-arm it) or when the
//!   forecast moves *well past the horizon* (beyond twice the horizon, or no forecast any more:
//!   a lull). A rate that wobbles around the horizon alerts
//!   once. A count already below the safety stock raises no forecast alert (the low-stock alert
//!   says it) and re-arms nothing. Raised alerts (with the count they were raised at) are
//!   persisted with the location record. It is checked at every settled change of the count,
//!   every [`super::forecast::CHECK_MS`] of gateway time, and with the other rules after a
//!   rules change.
//! - **When they are checked**: low stock whenever a `stock.changed` is published; misplaced when
//!   a stay starts. Everything is re-checked at the sweep after the first-start baseline closes
//!   (stays and counts of the baseline are judged then, not during it) and after the rules
//!   change (a reload, or a restart with a changed config): a raised safety stock alerts at
//!   once, a planogram that drops a GTIN flags the present tags of it. Re-checking is
//!   idempotent: raised alerts and alerted stays are remembered.
//!
//! Owns the rule configuration and the low-stock and stock-out forecast alert state. It never changes counts or
//! presence (that is the engine and [`super::stock`]) and never does I/O.

use super::engine::Engine;
use super::epc_key::EpcKey;
use super::forecast::SafetyForecast;
use super::tag::{NO_SKU, Status};
use super::topology::{LocIdx, Topology};
use crate::events::{Event, EventBody};
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

/// The rules of one location, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocationRules {
    /// SKUs (GTIN-14s) expected here; empty means no planogram (no alerts of either kind).
    pub planogram: Vec<Arc<str>>,
    /// Low-stock threshold per planogram SKU; `None`: no low-stock alerts.
    pub safety_stock: Option<u32>,
}

/// The rules of every location, indexed like [`Topology::locations`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreRules {
    /// Per location, in topology order.
    pub locations: Vec<LocationRules>,
}

impl StoreRules {
    /// Rules from `(location id, planogram SKUs, safety stock)` triples (tests, benchmarks);
    /// locations not named have none.
    pub fn new(topo: &Topology, rules: &[(&str, &[&str], Option<u32>)]) -> Self {
        let locations = topo
            .locations
            .iter()
            .map(|l| {
                rules
                    .iter()
                    .find(|(id, _, _)| *id == &*l.id)
                    .map(|(_, planogram, safety_stock)| LocationRules {
                        planogram: planogram.iter().map(|s| Arc::from(*s)).collect(),
                        safety_stock: *safety_stock,
                    })
                    .unwrap_or_default()
            })
            .collect();
        StoreRules { locations }
    }
}

/// What a settled count means for a low-stock rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LowStockStep {
    /// Raise the alert (it was armed and the count is below the threshold).
    Raise,
    /// Re-arm (it was raised and the count is back at threshold + re-arm margin).
    Rearm,
    /// No change.
    Keep,
}

/// The low-stock hysteresis: raise once below `threshold`, re-arm at `threshold + rearm`.
///
/// ```
/// use shelfd_core::reconcile::rules::{LowStockStep, low_stock_step};
/// assert_eq!(low_stock_step(false, 1, 2, 2), LowStockStep::Raise);
/// assert_eq!(low_stock_step(true, 0, 2, 2), LowStockStep::Keep); // already raised
/// assert_eq!(low_stock_step(true, 3, 2, 2), LowStockStep::Keep); // not yet re-armed
/// assert_eq!(low_stock_step(true, 4, 2, 2), LowStockStep::Rearm);
/// assert_eq!(low_stock_step(false, 2, 2, 2), LowStockStep::Keep); // at the threshold: not low
/// ```
pub fn low_stock_step(raised: bool, count: u32, threshold: u32, rearm: u32) -> LowStockStep {
    if !raised && count < threshold {
        LowStockStep::Raise
    } else if raised && count >= threshold.saturating_add(rearm) {
        LowStockStep::Rearm
    } else {
        LowStockStep::Keep
    }
}

/// The stock-out forecast rule: raise once the forecast falls within the horizon; re-arm after
/// a restock (`restocked`: the items a settled increase added, at least `max(rearm, 1)`) or
/// once the forecast is beyond twice the horizon or gone. `raised` says whether the alert is
/// raised.
///
/// ```
/// use shelfd_core::events::PerHour;
/// use shelfd_core::reconcile::forecast::SafetyForecast::{At, Below, Beyond};
/// use shelfd_core::reconcile::rules::{LowStockStep::*, stockout_forecast_step as step};
/// let (now, h, r) = (1_000_000, 3_600_000, PerHour::from_milli(5000));
/// assert_eq!(step(false, At(now + h, r), now, h, 2, 0), Raise);
/// assert_eq!(step(false, At(now + h + 1, r), now, h, 2, 0), Keep);
/// assert_eq!(step(false, Below, now, h, 2, 0), Keep);
/// assert_eq!(step(true, At(now + 2 * h, r), now, h, 2, 0), Keep); // a wobble
/// assert_eq!(step(true, At(now + 2 * h + 1, r), now, h, 2, 0), Rearm);
/// assert_eq!(step(true, Beyond, now, h, 2, 0), Rearm); // a lull
/// assert_eq!(step(true, At(now, r), now, h, 2, 1), Keep); // a return
/// assert_eq!(step(true, At(now, r), now, h, 2, 6), Rearm); // a restock
/// assert_eq!(step(true, Below, now, h, 2, 0), Keep);
/// ```
pub fn stockout_forecast_step(
    raised: bool,
    forecast: SafetyForecast,
    now: u64,
    horizon: u64,
    rearm: u32,
    restocked: u32,
) -> LowStockStep {
    match raised {
        false => match forecast {
            SafetyForecast::At(at, _) if at <= now.saturating_add(horizon) => LowStockStep::Raise,
            _ => LowStockStep::Keep,
        },
        true => {
            let restock = restocked >= rearm.max(1);
            let past = match forecast {
                SafetyForecast::Beyond => true,
                SafetyForecast::At(at, _) => at > now.saturating_add(horizon.saturating_mul(2)),
                SafetyForecast::Below => false,
            };
            if restock || past {
                LowStockStep::Rearm
            } else {
                LowStockStep::Keep
            }
        }
    }
}

/// The engine's rule state: configured rules with interned SKUs, and raised low-stock alerts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleState {
    /// Per location: interned planogram SKUs, sorted.
    pub(super) planogram: Vec<Vec<u32>>,
    /// Per location: the safety stock.
    pub(super) safety: Vec<Option<u32>>,
    /// Per location: SKUs whose low-stock alert is raised and not yet re-armed.
    pub(super) low: Vec<FxHashSet<u32>>,
    /// Per location: SKUs whose stock-out forecast alert is raised and not yet re-armed, with
    /// the settled count it was raised at (kept with the record, for inspection).
    pub(super) forecast: Vec<FxHashMap<u32, u32>>,
    /// Every rule is re-checked at the next sweep outside the baseline.
    pub(super) due: bool,
}

impl RuleState {
    /// No rules for `n` locations.
    pub(super) fn new(n: usize) -> Self {
        RuleState {
            planogram: vec![Vec::new(); n],
            safety: vec![None; n],
            low: vec![FxHashSet::default(); n],
            forecast: vec![FxHashMap::default(); n],
            due: false,
        }
    }

    fn lists(&self, loc: LocIdx, sku: u32) -> bool {
        self.planogram
            .get(usize::from(loc))
            .is_some_and(|p| p.binary_search(&sku).is_ok())
    }
}

impl Engine {
    /// Replaces the store rules (at start and on a reload). Raised low-stock alerts of SKUs that
    /// left a planogram, or of locations that lost their safety stock, are dropped; everything is
    /// re-checked at the next sweep (outside the baseline window).
    pub fn set_rules(&mut self, rules: &StoreRules) {
        let n = self.kinds.len();
        let mut planogram = vec![Vec::new(); n];
        let mut safety = vec![None; n];
        for (i, r) in rules.locations.iter().enumerate().take(n) {
            let mut skus: Vec<u32> = r.planogram.iter().map(|s| self.intern(s.clone())).collect();
            skus.sort_unstable();
            skus.dedup();
            planogram[i] = skus;
            safety[i] = r.safety_stock;
        }
        for i in 0..n {
            let before = self.rules.low[i].len();
            let keep = &planogram[i];
            if safety[i].is_none() {
                self.rules.low[i].clear();
            } else {
                self.rules.low[i].retain(|s| keep.binary_search(s).is_ok());
            }
            if self.rules.low[i].len() != before {
                self.dirty.locations[i] = true;
            }
            let before = self.rules.forecast[i].len();
            if safety[i].is_none() {
                self.rules.forecast[i].clear();
            } else {
                self.rules.forecast[i].retain(|s, _| keep.binary_search(s).is_ok());
            }
            if self.rules.forecast[i].len() != before {
                self.dirty.locations[i] = true;
            }
        }
        self.rules.planogram = planogram;
        self.rules.safety = safety;
        self.rules.due = true;
    }

    /// The SKUs whose low-stock alert is raised at `loc` (not yet re-armed), sorted.
    pub fn low_stock_raised(&self, loc: LocIdx) -> Vec<String> {
        let mut v: Vec<String> = self
            .rules
            .low
            .get(usize::from(loc))
            .into_iter()
            .flatten()
            .filter_map(|&s| self.sku_str(s))
            .collect();
        v.sort_unstable();
        v
    }

    /// The SKUs whose stock-out forecast alert is raised at `loc` (not yet re-armed), sorted.
    pub fn stockout_forecast_raised(&self, loc: LocIdx) -> Vec<String> {
        let mut v: Vec<String> = self
            .rules
            .forecast
            .get(usize::from(loc))
            .into_iter()
            .flat_map(|m| m.keys())
            .filter_map(|&s| self.sku_str(s))
            .collect();
        v.sort_unstable();
        v
    }

    /// The safety stock that applies to `(loc, sku)`: the location's, when its planogram lists
    /// the SKU.
    pub(super) fn safety_of(&self, loc: LocIdx, sku: u32) -> Option<u32> {
        let threshold = self.rules.safety.get(usize::from(loc)).copied().flatten()?;
        self.rules.lists(loc, sku).then_some(threshold)
    }

    /// Applies the forecast of `(loc, sku)` at `t` to its stock-out forecast rule (`restocked`:
    /// the items a settled increase just added, 0 otherwise).
    pub(super) fn check_stockout_forecast(
        &mut self,
        loc: LocIdx,
        sku: u32,
        restocked: u32,
        t: u64,
        out: &mut Vec<Event>,
    ) {
        let i = usize::from(loc);
        let Some(threshold) = self.safety_of(loc, sku) else {
            return;
        };
        let count = self.published_count(loc, sku);
        let raised = self.rules.forecast[i].contains_key(&sku);
        let outlook = self.outlook(loc, sku, t);
        let forecast = if count < threshold {
            SafetyForecast::Below
        } else {
            match outlook.and_then(|o| Some((o.below_safety_at?, o.rate_per_hour))) {
                Some((at, rate)) => match crate::events::PerHour::from_f64(rate) {
                    Some(rate) => SafetyForecast::At(at, rate),
                    None => SafetyForecast::Beyond,
                },
                None => SafetyForecast::Beyond,
            }
        };
        let step = stockout_forecast_step(
            raised,
            forecast,
            t,
            self.k.forecast_horizon,
            self.k.low_stock_rearm,
            restocked,
        );
        match step {
            LowStockStep::Keep => {}
            LowStockStep::Rearm => {
                self.rules.forecast[i].remove(&sku);
                self.dirty.locations[i] = true;
            }
            LowStockStep::Raise => {
                let SafetyForecast::At(at, rate_per_hour) = forecast else {
                    return;
                };
                self.rules.forecast[i].insert(sku, count);
                self.dirty.locations[i] = true;
                let body = EventBody::AlertStockoutForecast {
                    location: self.loc_id(loc),
                    sku: self.sku_str(sku),
                    count: u64::from(count),
                    threshold: u64::from(threshold),
                    rate_per_hour,
                    below_safety_at: crate::timefmt::rfc3339_ms(at),
                };
                self.emit(out, t, body);
            }
        }
    }

    /// The stock-out forecast rule (every [`super::forecast::CHECK_MS`] from the sweep, and after a rules
    /// change) of every planogram SKU with a learned
    /// depletion, per location in config order and SKU in SKU order.
    pub(super) fn check_stockout_forecasts(&mut self, t: u64, out: &mut Vec<Event>) {
        for i in 0..self.kinds.len() {
            if self.rules.safety[i].is_none() || self.in_baseline_at(i as LocIdx) {
                continue;
            }
            let mut skus: Vec<u32> = self.rules.planogram[i]
                .iter()
                .copied()
                .filter(|s| self.forecast.locs[i].skus.contains_key(s))
                .collect();
            if skus.is_empty() {
                continue;
            }
            skus.sort_by_cached_key(|s| self.sku_str(*s));
            for sku in skus {
                self.check_stockout_forecast(i as LocIdx, sku, 0, t, out);
            }
        }
    }

    /// Applies a settled `count` of `(loc, sku)` to its low-stock rule.
    pub(super) fn check_low_stock(
        &mut self,
        loc: LocIdx,
        sku: u32,
        count: u32,
        t: u64,
        out: &mut Vec<Event>,
    ) {
        let i = usize::from(loc);
        let Some(Some(threshold)) = self.rules.safety.get(i).copied() else {
            return;
        };
        if !self.rules.lists(loc, sku) {
            return;
        }
        let raised = self.rules.low[i].contains(&sku);
        match low_stock_step(raised, count, threshold, self.k.low_stock_rearm) {
            LowStockStep::Keep => {}
            LowStockStep::Rearm => {
                self.rules.low[i].remove(&sku);
                self.dirty.locations[i] = true;
            }
            LowStockStep::Raise => {
                self.rules.low[i].insert(sku);
                self.dirty.locations[i] = true;
                let body = EventBody::AlertLowStock {
                    location: self.loc_id(loc),
                    sku: self.sku_str(sku),
                    count: u64::from(count),
                    threshold: u64::from(threshold),
                };
                self.emit(out, t, body);
            }
        }
    }

    /// Raises `alert.misplaced` for a present tag whose location's planogram does not list its
    /// SKU, unless its current stay was already alerted.
    pub(super) fn check_misplaced(&mut self, key: &EpcKey, t: u64, out: &mut Vec<Event>) {
        let Some(tag) = self.tags.get(key) else {
            return;
        };
        let (loc, sku) = (tag.slots[0].loc, tag.sku);
        let has_planogram = self
            .rules
            .planogram
            .get(usize::from(loc))
            .is_some_and(|p| !p.is_empty());
        if tag.status != Status::Present
            || tag.misplaced
            || sku == NO_SKU
            || !has_planogram
            || self.rules.lists(loc, sku)
        {
            return;
        }
        if let Some(tag) = self.tags.get_mut(key) {
            tag.misplaced = true;
        }
        self.dirty.tags.insert(key.clone());
        let expected = (0..self.kinds.len())
            .filter(|&i| self.rules.lists(i as LocIdx, sku))
            .map(|i| self.loc_id(i as LocIdx))
            .collect();
        let body = EventBody::AlertMisplaced {
            epc: key.to_hex(),
            sku: self.sku_str(sku),
            location: self.loc_id(loc),
            expected,
        };
        self.emit(out, t, body);
    }

    /// Re-checks every rule (after the baseline, after a rules change): low stock per location
    /// in config order and planogram SKU in SKU order, then stock-out forecasts in the same
    /// order, then misplaced tags in EPC order.
    pub(super) fn recheck_rules(&mut self, t: u64, out: &mut Vec<Event>) {
        self.rules.due = false;
        for i in 0..self.kinds.len() {
            if self.rules.safety[i].is_none() {
                continue;
            }
            let mut skus = self.rules.planogram[i].clone();
            skus.sort_by_cached_key(|s| self.sku_str(*s));
            for sku in skus {
                let count = self.stock.per_loc[i].get(&sku).map_or(0, |e| e.published);
                self.check_low_stock(i as LocIdx, sku, count, t, out);
            }
        }
        self.check_stockout_forecasts(t, out);
        if self.rules.planogram.iter().all(|p| p.is_empty()) {
            return;
        }
        let mut keys: Vec<EpcKey> = self
            .tags
            .iter()
            .filter(|(_, tag)| tag.status == Status::Present && !tag.misplaced)
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort_unstable();
        for key in keys {
            self.check_misplaced(&key, t, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wobbling_count_alerts_once_until_it_recovers() {
        let (threshold, rearm) = (3, 2);
        let mut raised = false;
        let mut alerts = Vec::new();
        for (i, count) in [5, 2, 3, 2, 4, 2, 3, 5, 4, 2, 1].into_iter().enumerate() {
            match low_stock_step(raised, count, threshold, rearm) {
                LowStockStep::Raise => {
                    raised = true;
                    alerts.push(i);
                }
                LowStockStep::Rearm => raised = false,
                LowStockStep::Keep => {}
            }
        }
        // Down to 2 at #1 alerts; the wobble 3, 2, 4, 2, 3 stays below 5; 5 at #7 re-arms; 2 at
        // #9 alerts again.
        assert_eq!(alerts, [1, 9]);
    }

    #[test]
    fn zero_rearm_margin_rearms_at_the_threshold() {
        assert_eq!(low_stock_step(true, 3, 3, 0), LowStockStep::Rearm);
        assert_eq!(low_stock_step(false, 0, 0, 0), LowStockStep::Keep);
    }
}
