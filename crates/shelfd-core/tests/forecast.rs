//! Scenario tests of depletion forecasts and `alert.stockout_forecast` (issue #18): steady sales,
//! a rush, a lull, a restock in the middle, a shelf without a planogram, a longer horizon after a
//! reload, and restarts (clean and from the last commit, as after kill -9). Each runs the real
//! engine on the store simulator (`shelfd_core::sim`): items are sold through a POS reader or
//! walk out and depart, so demand reaches the forecast the way it does in a store (settled
//! `stock.changed` deltas), with the read noise, departure latency and settle windows that come
//! with it.
//!
//! Sales are a Poisson process (exponential gaps from the simulator's seeded RNG): what real
//! sales look like at the shelf, and why a forecast has an error at all.

use shelfd_core::events::{Event, EventBody, SkuForecast};
use shelfd_core::kinds::LocationKind;
use shelfd_core::readlog::Record;
use shelfd_core::reconcile::{Engine, Knobs, StoreRules, Topology};
use shelfd_core::sim::{StoreSim, TagProfile, sim_epc};
use std::collections::BTreeMap;

/// Sunday 2026-11-22 09:00 UTC.
const T0: u64 = 1_795_338_000_000;
const MIN: u64 = 60_000;
const HOUR: u64 = 60 * MIN;
/// Safety stock of shelf `a` (product 1). Shelf `b` (product 2) has no planogram.
const SAFETY: u32 = 10;

fn topo() -> Topology {
    use LocationKind::*;
    Topology::new(
        &[("a", Shelf), ("b", Shelf), ("pos", Pos)],
        &[("r1", &[(1, "a"), (2, "b")]), ("r2", &[(1, "pos")])],
    )
}

fn knobs() -> Knobs {
    Knobs {
        baseline_window: 30_000,
        ..Knobs::default()
    }
}

fn gtin(product: u32) -> String {
    shelfd_core::epc::gtin14(&sim_epc(product, 1)).expect("sim EPCs are SGTINs")
}

fn rules() -> StoreRules {
    let p1 = gtin(1);
    StoreRules::new(&topo(), &[("a", &[p1.as_str()], Some(SAFETY))])
}

/// The engine's records as a store holds them.
type Records = shelfd_core::reconcile::persist::RecordImage;

/// A simulated store with its engine, committing every step to [`Records`].
struct Store {
    sim: StoreSim,
    engine: Engine,
    events: Vec<Event>,
    records: Records,
    /// Items on each shelf, oldest first (the next one sold is the last placed).
    shelf: BTreeMap<&'static str, Vec<Vec<u8>>>,
    /// Alternates sales at the POS with items walking out (departures).
    sold: u64,
}

impl Store {
    fn new(seed: u64, a_items: usize, b_items: usize) -> Store {
        let mut sim = StoreSim::new(seed, T0);
        sim.reader("r1", 1000, &[(1, "a"), (2, "b")], true);
        sim.reader("r2", 1000, &[(1, "pos")], true);
        let a = sim.add_tags(a_items, 1, "a", TagProfile::SHELF);
        let b = sim.add_tags(b_items, 2, "b", TagProfile::SHELF);
        let mut engine = Engine::new(topo(), knobs());
        engine.set_rules(&rules());
        let mut s = Store {
            sim,
            engine,
            events: Vec::new(),
            records: Records::default(),
            shelf: [("a", a), ("b", b)].into(),
            sold: 0,
        };
        // The first-start baseline closes; its snapshot is no event.
        s.run_for(3 * MIN);
        s
    }

    fn now(&self) -> u64 {
        self.sim.now()
    }

    fn run_for(&mut self, ms: u64) {
        self.sim.run_for(ms);
        let records: Vec<Record> = self.sim.take_records();
        let mut out = Vec::new();
        for r in &records {
            self.engine.feed_record(r, &mut out).expect("known reader");
        }
        self.engine.advance(self.sim.now(), &mut out);
        self.records.commit(self.engine.take_changes(), &out);
        self.events.extend(out);
    }

    /// Sells the last item placed on `shelf`: every other one through the POS (3 s there),
    /// the others walk out (they depart after their missed re-reads).
    fn sell(&mut self, shelf: &str) {
        let Some(epc) = self.shelf.get_mut(shelf).and_then(|v| v.pop()) else {
            return;
        };
        self.sold += 1;
        if self.sold % 2 == 0 {
            self.sim.move_tag(&epc, Some("pos"));
            self.run_for(3_000);
        }
        self.sim.move_tag(&epc, None);
    }

    /// Places `n` more items of `product` on `shelf`.
    fn restock(&mut self, shelf: &'static str, product: u32, n: usize) {
        let epcs = self.sim.add_tags(n, product, shelf, TagProfile::SHELF);
        let mut v = epcs;
        let on = self.shelf.entry(shelf).or_default();
        v.append(on);
        *on = v;
    }

    /// Sales for `ms` at `per_hour` from each `(shelf, per_hour)` stream (Poisson), calling
    /// `each` after every step (at most a minute) with the store; it returns false to stop.
    fn sell_for(
        &mut self,
        ms: u64,
        streams: &[(&str, f64)],
        mut each: impl FnMut(&mut Store) -> bool,
    ) {
        let end = self.now() + ms;
        let mut next: Vec<u64> = streams
            .iter()
            .map(|(_, rate)| self.now() + self.gap(*rate))
            .collect();
        loop {
            let (i, at) = next
                .iter()
                .copied()
                .enumerate()
                .min_by_key(|(_, t)| *t)
                .expect("at least one stream");
            // Steps of at most a minute, so `each` sees every minute.
            let step_to = at.min(end).min(self.now() + MIN);
            if step_to > self.now() {
                self.run_for(step_to - self.now());
            }
            if !each(self) || self.now() >= end {
                break;
            }
            if self.now() >= at {
                self.sell(streams[i].0);
                next[i] = self.now() + self.gap(streams[i].1);
            }
        }
    }

    /// An exponential gap (ms) at `per_hour`.
    fn gap(&mut self, per_hour: f64) -> u64 {
        let u = self.sim.rng().unit().max(1e-9);
        (-u.ln() * HOUR as f64 / per_hour) as u64
    }

    fn loc(&self, id: &str) -> u16 {
        self.engine
            .topology()
            .location_index(id)
            .expect("configured")
    }

    /// The forecast of `product` at `shelf` now.
    fn forecast(&self, shelf: &str, product: u32) -> Option<SkuForecast> {
        self.engine
            .forecasts(self.loc(shelf), self.now())
            .get(&gtin(product))
            .copied()
    }

    fn count(&self, shelf: &str, product: u32) -> u64 {
        self.engine
            .snapshot(self.loc(shelf))
            .counts
            .get(&gtin(product))
            .copied()
            .unwrap_or(0)
    }

    fn forecast_alerts(&self) -> Vec<(u64, String, u64, f64, u64)> {
        self.events
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::AlertStockoutForecast {
                    location,
                    count,
                    rate_per_hour,
                    below_safety_at,
                    ..
                } => Some((
                    e.time_ms,
                    location.clone(),
                    *count,
                    rate_per_hour.as_f64(),
                    shelfd_core::timefmt::parse_rfc3339_ms(below_safety_at).expect("time"),
                )),
                _ => None,
            })
            .collect()
    }

    fn low_stock_alerts(&self) -> Vec<u64> {
        self.events
            .iter()
            .filter(|e| matches!(e.body, EventBody::AlertLowStock { .. }))
            .map(|e| e.time_ms)
            .collect()
    }

    fn raised(&self) -> Vec<String> {
        self.engine.stockout_forecast_raised(self.loc("a"))
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One steady-sales run: `a` (60 items) sells 30 an hour until it is below safety stock, `b`
/// (40 items, no planogram) 20 an hour. Returns the forecast errors of `below_safety_at` taken
/// every 5 minutes against when the count actually fell below (ms, and relative to the lead),
/// and checks everything else on the way.
fn steady(seed: u64) -> (Vec<f64>, Vec<f64>, Vec<u64>) {
    let mut s = Store::new(seed, 60, 40);
    let start = s.now();
    let mut predictions: Vec<(u64, u64)> = Vec::new();
    let mut b_seen = false;
    let mut next_check = start + 5 * MIN;
    s.sell_for(4 * HOUR, &[("a", 30.0), ("b", 20.0)], |s| {
        let t = s.now();
        if !s.low_stock_alerts().is_empty() {
            return false;
        }
        if t >= next_check {
            next_check += 5 * MIN;
            if let Some(f) = s.forecast("a", 1) {
                // Never before the history is long enough.
                assert!(
                    t - start >= 30 * MIN,
                    "forecast after {} min",
                    (t - start) / MIN
                );
                assert!(s.count("a", 1) >= u64::from(SAFETY));
                predictions.push((t, f.below_safety_at.expect("a has a safety stock")));
                let rate = f.rate_per_hour.as_f64();
                assert!((10.0..=90.0).contains(&rate), "rate {rate} for 30/h");
            }
            if let Some(f) = s.forecast("b", 2) {
                b_seen = true;
                assert_eq!(f.below_safety_at, None, "b has no planogram");
                assert!(f.empty_at.is_some_and(|e| e > t));
            }
        }
        true
    });
    let low = s.low_stock_alerts();
    assert_eq!(low.len(), 1, "seed {seed}: {low:?}");
    let crossed = low[0];
    let alerts = s.forecast_alerts();
    assert_eq!(
        alerts.len(),
        1,
        "seed {seed}: one forecast alert: {alerts:?}"
    );
    let (at, location, count, rate, below) = alerts[0].clone();
    assert_eq!(location, "a");
    assert!(at < crossed, "seed {seed}: the forecast alert comes first");
    assert!(below <= at + HOUR && count >= u64::from(SAFETY));
    assert!((10.0..=90.0).contains(&rate), "{rate}");
    assert!(b_seen, "seed {seed}: b got a forecast");
    assert!(!predictions.is_empty());
    let abs: Vec<f64> = predictions
        .iter()
        .map(|(_, p)| (*p as f64 - crossed as f64).abs())
        .collect();
    let rel: Vec<f64> = predictions
        .iter()
        .zip(&abs)
        .map(|((t, _), e)| e / (crossed - t).max(MIN) as f64)
        .collect();
    let leads = predictions.iter().map(|(t, _)| crossed - t).collect();
    (abs, rel, leads)
}

#[test]
fn steady_sales_are_forecast_within_a_bounded_error() {
    let (mut abs, mut rel, mut leads) = (Vec::new(), Vec::new(), Vec::new());
    for seed in 1..=6 {
        let (a, r, l) = steady(seed);
        abs.extend(a);
        rel.extend(r);
        leads.extend(l);
    }
    let (shortest, longest) = (
        leads.iter().min().copied().unwrap_or(0) / MIN,
        leads.iter().max().copied().unwrap_or(0) / MIN,
    );
    let n = abs.len();
    let (median_abs, median_rel) = (median(&mut abs) / MIN as f64, median(&mut rel));
    eprintln!(
        "steady sales, 6 seeds, {n} forecasts with leads of {shortest}–{longest} min: median |error| of below_safety_at {median_abs:.1} min, median error / lead {:.0} %",
        median_rel * 100.0
    );
    assert!(median_abs < 15.0, "median error {median_abs:.1} min");
    assert!(median_rel < 0.25, "median relative error {median_rel:.2}");
}

#[test]
fn a_rush_brings_the_forecast_alert_forward() {
    let mut s = Store::new(21, 60, 0);
    s.sell_for(HOUR, &[("a", 8.0)], |_| true);
    assert!(s.forecast_alerts().is_empty(), "{:?}", s.forecast_alerts());
    let before = s.forecast("a", 1).expect("an hour of history");
    let far = before.below_safety_at.expect("safety stock");
    assert!(
        far > s.now() + 2 * HOUR,
        "slow sales: {} min",
        (far - s.now()) / MIN
    );
    // The rush: 90 an hour.
    let rush = s.now();
    s.sell_for(2 * HOUR, &[("a", 90.0)], |_| true);
    let alerts = s.forecast_alerts();
    let low = s.low_stock_alerts();
    assert_eq!((alerts.len(), low.len()), (1, 1), "{alerts:?} {low:?}");
    let (at, _, _, rate, below) = alerts[0];
    assert!(
        at > rush && at < low[0],
        "alert {} min into the rush",
        (at - rush) / MIN
    );
    assert!(below < far, "the forecast moved forward");
    assert!(
        rate > 2.0 * before.rate_per_hour.as_f64(),
        "rate {rate} vs {} before",
        before.rate_per_hour
    );
    eprintln!(
        "rush (8/h, then 90/h): forecast alert {} min into the rush at {rate:.0}/h, low stock {} min into it",
        (at - rush) / MIN,
        (low[0] - rush) / MIN
    );
}

#[test]
fn a_lull_pushes_the_forecast_out_rearms_and_alerts_once_more() {
    let mut s = Store::new(31, 45, 0);
    s.sell_for(40 * MIN, &[("a", 30.0)], |_| true);
    assert_eq!(s.forecast_alerts().len(), 1, "{:?}", s.forecast_alerts());
    assert_eq!(s.raised(), [gtin(1)]);
    let before = s.forecast("a", 1).expect("forecast");
    // Three hours without a sale: no alert, and the forecast moves beyond twice the horizon,
    // which re-arms the rule.
    let mut rearmed_at = None;
    let lull = s.now();
    s.sell_for(3 * HOUR, &[("a", 0.001)], |s| {
        if rearmed_at.is_none() && s.raised().is_empty() {
            rearmed_at = Some(s.now());
        }
        true
    });
    assert_eq!(s.forecast_alerts().len(), 1);
    let rearmed_at = rearmed_at.expect("re-armed during the lull");
    let after = s.forecast("a", 1);
    assert!(
        after.is_none_or(|f| f.below_safety_at.is_none_or(|b| b > s.now() + 2 * HOUR)),
        "{after:?}"
    );
    assert!(after.is_none_or(|f| f.rate_per_hour < before.rate_per_hour));
    eprintln!("lull: re-armed {} min into it", (rearmed_at - lull) / MIN);
    // Sales again: one more alert, before the low-stock one.
    s.sell_for(3 * HOUR, &[("a", 30.0)], |_| true);
    let alerts = s.forecast_alerts();
    let low = s.low_stock_alerts();
    assert_eq!((alerts.len(), low.len()), (2, 1), "{alerts:?} {low:?}");
    assert!(alerts[1].0 > lull + 3 * HOUR && alerts[1].0 < low[0]);
}

#[test]
fn a_restock_rearms_and_moves_the_forecast_out() {
    let mut s = Store::new(41, 45, 0);
    s.sell_for(40 * MIN, &[("a", 30.0)], |_| true);
    assert_eq!(s.forecast_alerts().len(), 1);
    let before = s.forecast("a", 1).expect("forecast");
    let before_at = before.below_safety_at.expect("above safety");
    s.restock("a", 1, 40);
    // The arrivals settle into one positive delta: the rule re-arms, the forecast moves out by
    // about 40 items at 30 an hour.
    s.run_for(3 * MIN);
    assert!(s.raised().is_empty(), "re-armed by the restock");
    let after = s.forecast("a", 1).expect("forecast");
    let after_at = after.below_safety_at.expect("above safety");
    assert!(
        after_at > before_at + 40 * MIN,
        "moved {} min",
        (after_at as i64 - before_at as i64) / MIN as i64
    );
    assert!(s.low_stock_alerts().is_empty());
    // Restocking is no demand: the rate did not rise.
    assert!(after.rate_per_hour <= before.rate_per_hour);
    // Sales go on: the next alert comes when the restocked shelf runs down.
    s.sell_for(4 * HOUR, &[("a", 30.0)], |_| true);
    let alerts = s.forecast_alerts();
    let low = s.low_stock_alerts();
    assert_eq!((alerts.len(), low.len()), (2, 1), "{alerts:?} {low:?}");
    assert!(alerts[1].0 < low[0]);
}

#[test]
fn a_shelf_without_a_planogram_has_rates_and_no_alerts() {
    let mut s = Store::new(51, 0, 40);
    s.sell_for(90 * MIN, &[("b", 20.0)], |_| true);
    let f = s.forecast("b", 2).expect("90 minutes of history");
    assert!(
        (8.0..=45.0).contains(&f.rate_per_hour.as_f64()),
        "{}",
        f.rate_per_hour
    );
    assert_eq!(f.below_safety_at, None);
    let count = s.count("b", 2);
    let empty = f.empty_at.expect("empties within 14 days");
    // About count / rate ahead.
    let hours = (empty - s.now()) as f64 / HOUR as f64;
    let expected = count as f64 / f.rate_per_hour.as_f64();
    assert!(
        (hours - expected).abs() < 0.05 * expected + 0.05,
        "{hours} h vs {expected} h"
    );
    assert!(s.forecast_alerts().is_empty());
    // The published snapshot carries it.
    let snap = s.engine.snapshot(s.loc("b"));
    let in_snap = snap.forecast.get(&gtin(2)).expect("in the snapshot");
    assert_eq!(in_snap.below_safety_at, None);
    assert!(in_snap.empty_at.is_some());
}

#[test]
fn a_longer_horizon_after_a_reload_alerts_at_the_next_check() {
    let mut s = Store::new(61, 60, 0);
    s.engine.set_knobs(Knobs {
        forecast_horizon: MIN,
        ..knobs()
    });
    s.sell_for(45 * MIN, &[("a", 30.0)], |_| true);
    let f = s.forecast("a", 1).expect("forecast");
    let below = f.below_safety_at.expect("above safety");
    assert!(
        below > s.now() + 5 * MIN,
        "{} min ahead",
        (below - s.now()) / MIN
    );
    assert!(s.forecast_alerts().is_empty());
    s.engine.set_knobs(Knobs {
        forecast_horizon: 4 * HOUR,
        ..knobs()
    });
    let reload = s.now();
    s.run_for(61_000);
    let alerts = s.forecast_alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].0 > reload && alerts[0].0 <= reload + 61_000);
}

/// A restore of `records` with the store's rules, as the daemon opens its state dir.
fn restore(records: &Records) -> Engine {
    let (mut e, report) = Engine::restore(topo(), knobs(), &records.persisted()).expect("restore");
    assert_eq!((report.dropped_tags, report.dropped_records), (0, 0));
    e.set_rules(&rules());
    e
}

#[test]
fn restarts_keep_rates_profiles_and_raised_alerts() {
    let mut s = Store::new(71, 45, 30);
    s.sell_for(45 * MIN, &[("a", 30.0), ("b", 20.0)], |_| true);
    assert_eq!(s.forecast_alerts().len(), 1);
    // A clean stop: the restored engine has the same forecasts and the same raised alert.
    let mut out = Vec::new();
    s.engine.shutdown(&mut out);
    s.records.commit(s.engine.take_changes(), &out);
    s.events.extend(out);
    let now = s.now();
    let before = (
        s.engine.forecasts(s.loc("a"), now),
        s.engine.forecasts(s.loc("b"), now),
        s.engine.snapshots(),
        s.raised(),
    );
    assert!(!before.0.is_empty() && !before.1.is_empty());
    s.engine = restore(&s.records);
    let after = (
        s.engine.forecasts(s.loc("a"), now),
        s.engine.forecasts(s.loc("b"), now),
        s.engine.snapshots(),
        s.raised(),
    );
    assert_eq!(before, after);
    assert!(
        s.engine.week_profile(s.loc("a")).is_some(),
        "the week profile survives"
    );
    // Ten minutes of downtime (reads nobody hears), then sales go on: the alert is not raised
    // again, the low-stock alert comes.
    s.sim.run_for(10 * MIN);
    s.sim.take_records();
    s.sell_for(2 * HOUR, &[("a", 30.0)], |_| true);
    assert_eq!(s.forecast_alerts().len(), 1, "{:?}", s.forecast_alerts());
    assert_eq!(s.low_stock_alerts().len(), 1);
    // Restocked (60 items: well over an hour of sales), and sold down again with a restore from the last commit (as after kill -9,
    // no clean stop) in the middle: one more forecast alert, not two.
    s.restock("a", 1, 60);
    s.sell_for(20 * MIN, &[("a", 30.0)], |_| true);
    assert!(
        s.raised().is_empty(),
        "re-armed by the restock, not yet due again"
    );
    s.engine = restore(&s.records);
    assert!(s.forecast("a", 1).is_some(), "rates survive a crash");
    s.sell_for(3 * HOUR, &[("a", 30.0)], |_| true);
    let alerts = s.forecast_alerts();
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    let seqs: Vec<u64> = s.events.iter().map(|e| e.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "contiguous seq across restarts"
    );
}
