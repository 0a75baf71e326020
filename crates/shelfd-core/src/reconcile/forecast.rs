//! Depletion forecasts: how fast each shelf's stock of each SKU goes down, and when its count is
//! expected to fall below the safety stock or reach zero (issue #18).
//!
//! **Demand** is every settled decrease of a `(location, SKU)` count — the negative deltas of
//! `stock.changed`: sales from that shelf, departures, moves away, picks of weighed lanes.
//! Restocks, returns and moves in (positive deltas) are not demand. Settled deltas, not raw
//! ±1s, so a transient departure that the settle window nets out is no demand either (a window
//! that mixes sales with a restock counts only its net: at most `settle_max` of sales hidden).
//!
//! **Rate.** Per `(location, SKU)` a [`Depletion`] keeps two exponentially decayed sums with the
//! `depletion_half_life` knob (default 1 h): `demand` (units) and `exposure` (hours during which
//! the shelf had some of the SKU, weighted by the week shape below; both age by the same
//! shape-weighted hours, so a closed night neither adds exposure nor ages the rate). The rate is
//! `demand / exposure` units per hour: early on it is the plain mean over the history there is,
//! later a mean over about the last `half_life / ln 2` (≈ 1.44 half-lives) of stocked time.
//! Hours with the count at 0 are not exposure (nothing could sell), and a lull lowers the rate
//! smoothly: exposure grows while demand decays.
//!
//! **Week shape.** Each location learns an hour-of-week profile ([`WeekProfile`]: 168 buckets
//! of UTC hours, Monday 00:00 first, each holding its decayed demand of all SKUs and its decayed
//! observed hours; half-life [`PROFILE_HALF_LIFE_MS`], 4 weeks). Once the location has
//! [`PROFILE_MIN_HOURS`] observed hours in it (6 days: each hour of the week seen about once),
//! the shape of bucket `b` is its rate relative to the location's mean rate, smoothed towards 1
//! by [`PROFILE_PRIOR_HOURS`]; before that the shape is flat (1 everywhere). A SKU's exposure
//! accrues `shape × hours`, so its rate is per *average* hour, and its expected rate at a time
//! is `rate × shape(hour of that time)`: a Saturday-afternoon rush is forecast from Saturday
//! afternoons, and the night hours of a closed store forecast no sales.
//!
//! **Forecast.** From time `T` with a settled count `n`, the expected demand up to `T + x` is
//! the integral of `rate × shape` over `[T, T + x]`; `below_safety_at` is the first time it
//! reaches `n − safety_stock + 1` (the count is then below `safety_stock`), `empty_at` the first
//! time it reaches `n`. A time beyond [`LOOKAHEAD_MS`] (14 days) is not given.
//! **Too little history** gives no forecast at all (never a made-up number): a `(location,
//! SKU)` needs [`MIN_DEMAND_UNITS`] units of demand and half a `depletion_half_life` of history
//! (30 minutes with the default).
//!
//! **Uncertainty.** The forecast is the time at which the *expected* demand reaches the gap.
//! Sales are close to a Poisson process, so the time at which `k` more units actually sell
//! spreads by about `1/√k` of the forecast lead (±30 % for 10 units, ±50 % for 4), on top of the
//! error of the rate itself, about `1/√(units in the last 1.44 half-lives)`. The scenario tests
//! (`crates/shelfd-core/tests/forecast.rs`) measure the median error on steady sales.
//!
//! The alert that uses the forecast (`alert.stockout_forecast`) is a store rule, in
//! [`super::rules`]. This module owns the learned state and the arithmetic; it never emits
//! events and never reads a clock: every time is an input.

use super::engine::Engine;
use super::topology::LocIdx;
use crate::events::{PerHour, SkuForecast};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// One hour (ms).
pub const HOUR_MS: u64 = 3_600_000;
/// Buckets of the week profile: the hours of a week.
pub const WEEK_HOURS: usize = 168;
/// Half-life of the week profile: a bucket is visited once a week, so it forgets over weeks.
pub const PROFILE_HALF_LIFE_MS: u64 = 28 * 24 * HOUR_MS;
/// Observed hours (decayed) a location's profile needs before its shape is used.
pub const PROFILE_MIN_HOURS: f32 = 144.0;
/// Each bucket's rate is smoothed towards the location's mean as if it had this many more
/// observed hours at the mean rate (a bucket not observed yet follows the mean).
pub const PROFILE_PRIOR_HOURS: f64 = 0.25;
/// Demand units a `(location, SKU)` needs before it has a forecast.
pub const MIN_DEMAND_UNITS: u32 = 3;
/// Forecast times further ahead than this are not given.
pub const LOOKAHEAD_MS: u64 = 14 * 24 * HOUR_MS;
/// How often every raised-or-armed forecast alert is re-evaluated (ms of gateway time), besides
/// at every settled change of its count.
pub const CHECK_MS: u64 = 60_000;
/// Sweeps further apart than this were downtime: that time is not observed time of the
/// profile.
const CREDIT_GAP_MS: u64 = 60_000;
/// Exposure integrals are cut to the last this much (older exposure has decayed away).
const MAX_INTEGRAL_MS: u64 = 28 * 24 * HOUR_MS;

/// The hour-of-week bucket of a gateway time: UTC hours from Monday 00:00 (1970-01-01 was a
/// Thursday).
///
/// ```
/// use shelfd_core::reconcile::forecast::hour_of_week;
/// assert_eq!(hour_of_week(0), 72); // Thursday 00:00 UTC
/// assert_eq!(hour_of_week(4 * 24 * 3_600_000), 0); // Monday 1970-01-05 00:00
/// assert_eq!(hour_of_week(1_797_084_000_000), 5 * 24 + 14); // Saturday 2026-12-12 14:00
/// ```
pub fn hour_of_week(t_ms: u64) -> usize {
    ((t_ms / HOUR_MS + 72) % WEEK_HOURS as u64) as usize
}

/// The start of the hour after the one `t` is in (saturating).
fn next_hour(t: u64) -> u64 {
    (t / HOUR_MS + 1).saturating_mul(HOUR_MS)
}

/// `2^(-dt / half_life)`.
fn decay(dt: u64, half_life: u64) -> f64 {
    (-(dt as f64) / half_life.max(1) as f64).exp2()
}

/// The hour-of-week profile of a location (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct WeekProfile {
    /// Decayed demand units per bucket (all SKUs).
    pub(super) units: [f32; WEEK_HOURS],
    /// Decayed observed hours per bucket.
    pub(super) hours: [f32; WEEK_HOURS],
    /// The hour being accumulated (hours since the epoch).
    pub(super) hour: u64,
    /// Demand in that hour so far.
    pub(super) cur_units: f32,
    /// Observed ms of that hour so far.
    pub(super) cur_ms: u32,
    /// Time observed up to.
    pub(super) last: u64,
}

impl WeekProfile {
    /// An empty profile starting at `t`.
    pub fn new(t: u64) -> Self {
        WeekProfile {
            units: [0.0; WEEK_HOURS],
            hours: [0.0; WEEK_HOURS],
            hour: t / HOUR_MS,
            cur_units: 0.0,
            cur_ms: 0,
            last: t,
        }
    }

    /// Observes the time from the last call up to `now` (a gap longer than a minute is
    /// downtime and not observed), closing the hours that ended.
    pub fn credit(&mut self, now: u64) {
        if now <= self.last {
            return;
        }
        let gap = now - self.last;
        let hour = now / HOUR_MS;
        let observed = gap <= CREDIT_GAP_MS;
        if hour != self.hour {
            if observed {
                let before = (hour * HOUR_MS).saturating_sub(self.last).min(gap);
                self.cur_ms = self.cur_ms.saturating_add(before as u32);
                self.close(hour);
                self.cur_ms = (gap - before) as u32;
            } else {
                self.close(hour);
            }
        } else if observed {
            self.cur_ms = self.cur_ms.saturating_add(gap as u32);
        }
        self.last = now;
    }

    /// Adds the current hour to its bucket after decaying every bucket up to `hour`'s start,
    /// and starts `hour`.
    fn close(&mut self, hour: u64) {
        let elapsed = hour.saturating_sub(self.hour);
        let d = decay(elapsed.saturating_mul(HOUR_MS), PROFILE_HALF_LIFE_MS) as f32;
        for v in self.units.iter_mut().chain(self.hours.iter_mut()) {
            *v *= d;
        }
        let b = hour_of_week(self.hour.saturating_mul(HOUR_MS));
        self.units[b] += self.cur_units;
        self.hours[b] += (self.cur_ms as f32 / HOUR_MS as f32).min(1.0);
        self.hour = hour;
        self.cur_units = 0.0;
        self.cur_ms = 0;
    }

    /// Records `units` of demand in the current hour.
    pub fn add_demand(&mut self, units: u32) {
        self.cur_units += units as f32;
    }

    /// Observed hours in the profile (decayed).
    pub fn observed_hours(&self) -> f32 {
        self.hours.iter().sum()
    }

    /// The week shape the profile supports: flat until it has [`PROFILE_MIN_HOURS`] and some
    /// demand.
    pub fn shape(&self) -> Shape {
        let hours: f64 = self.hours.iter().map(|h| f64::from(*h)).sum();
        let units: f64 = self.units.iter().map(|u| f64::from(*u)).sum();
        if hours < f64::from(PROFILE_MIN_HOURS) || units <= 0.0 {
            return Shape::Flat;
        }
        let mean = units / hours;
        let mut s = [0.0f32; WEEK_HOURS];
        for (b, v) in s.iter_mut().enumerate() {
            let rate = (f64::from(self.units[b]) + PROFILE_PRIOR_HOURS * mean)
                / (f64::from(self.hours[b]) + PROFILE_PRIOR_HOURS);
            *v = (rate / mean) as f32;
        }
        Shape::Weekly(Box::new(s))
    }
}

/// Expected demand relative to the average hour, over the hours of the week.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Every hour alike (no profile yet).
    Flat,
    /// Per hour-of-week bucket.
    Weekly(Box<[f32; WEEK_HOURS]>),
}

impl Shape {
    /// The shape at time `t`.
    pub fn at(&self, t: u64) -> f64 {
        match self {
            Shape::Flat => 1.0,
            Shape::Weekly(s) => f64::from(s[hour_of_week(t)]),
        }
    }

    /// `∫ shape` over `[a, b]`, in hours (only the last [`MAX_INTEGRAL_MS`] of it).
    pub fn integral(&self, a: u64, b: u64) -> f64 {
        let a = a.max(b.saturating_sub(MAX_INTEGRAL_MS));
        if b <= a {
            return 0.0;
        }
        match self {
            Shape::Flat => (b - a) as f64 / HOUR_MS as f64,
            Shape::Weekly(s) => {
                let mut t = a;
                let mut sum = 0.0;
                while t < b {
                    let end = next_hour(t).min(b);
                    sum += f64::from(s[hour_of_week(t)]) * (end - t) as f64 / HOUR_MS as f64;
                    t = end;
                }
                sum
            }
        }
    }

    /// The first time from `from` at which `∫ rate × shape` reaches `units`, within
    /// [`LOOKAHEAD_MS`]; `None` when it does not (or the rate is 0).
    pub fn time_to(&self, from: u64, rate: f64, units: f64) -> Option<u64> {
        if units <= 0.0 {
            return Some(from);
        }
        if rate <= 0.0 || !rate.is_finite() {
            return None;
        }
        let limit = from.saturating_add(LOOKAHEAD_MS);
        let at = match self {
            Shape::Flat => from.saturating_add((units / rate * HOUR_MS as f64).ceil() as u64),
            Shape::Weekly(s) => {
                let mut t = from;
                let mut acc = 0.0;
                loop {
                    if t >= limit {
                        return None;
                    }
                    let end = next_hour(t);
                    let per_ms = rate * f64::from(s[hour_of_week(t)]) / HOUR_MS as f64;
                    let here = per_ms * (end - t) as f64;
                    if per_ms > 0.0 && acc + here >= units {
                        break t.saturating_add(((units - acc) / per_ms).ceil() as u64);
                    }
                    acc += here;
                    t = end;
                }
            }
        };
        (at <= limit).then_some(at)
    }
}

/// The learned depletion of one `(location, SKU)` (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Depletion {
    /// Decayed demand units, as of `at`.
    pub(super) demand: f32,
    /// Decayed stocked shape-hours, as of `at`.
    pub(super) exposure: f32,
    /// When the sums were last brought forward.
    pub(super) at: u64,
    /// When its history starts.
    pub(super) since: u64,
    /// Demand units ever seen (saturating).
    pub(super) units: u32,
}

impl Depletion {
    /// No history yet, starting at `since`.
    pub fn new(since: u64) -> Self {
        Depletion {
            demand: 0.0,
            exposure: 0.0,
            at: since,
            since,
            units: 0,
        }
    }

    /// The sums brought forward to `t` (`stocked`: the shelf had some of the SKU since `at`).
    /// Both age by the shape-hours in between (the half-life counts average hours: a closed
    /// night, whose shape is near 0, neither adds exposure nor ages the rate).
    fn rolled(&self, t: u64, stocked: bool, half_life: u64, shape: &Shape) -> (f64, f64) {
        let hours = shape.integral(self.at, t);
        let x = hours * HOUR_MS as f64 / half_life.max(1) as f64;
        let d = (-x).exp2();
        let mut exposure = f64::from(self.exposure) * d;
        if stocked && hours > 0.0 {
            // Exposure accrued across the interval has aged by this much on average.
            let y = x * std::f64::consts::LN_2;
            let mean_decay = if y < 1e-9 { 1.0 } else { (1.0 - d) / y };
            exposure += hours * mean_decay;
        }
        (f64::from(self.demand) * d, exposure)
    }

    /// Brings the sums forward to `t`, then adds `units` of demand.
    pub fn record(&mut self, t: u64, stocked: bool, units: u32, half_life: u64, shape: &Shape) {
        if t > self.at {
            let (demand, exposure) = self.rolled(t, stocked, half_life, shape);
            self.demand = demand as f32;
            self.exposure = exposure as f32;
            self.at = t;
        }
        self.demand += units as f32;
        self.units = self.units.saturating_add(units);
    }

    /// The rate per average hour at `t`; `None` while the history is too thin.
    pub fn rate(&self, t: u64, stocked: bool, half_life: u64, shape: &Shape) -> Option<f64> {
        if self.units < MIN_DEMAND_UNITS || t.saturating_sub(self.since) < half_life / 2 {
            return None;
        }
        let (demand, exposure) = self.rolled(t, stocked, half_life, shape);
        (exposure > 0.0).then(|| demand / exposure)
    }
}

/// The forecast state of one location.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocForecast {
    /// When the location's forecast history starts (its first sweep after its baseline, or its
    /// first settled change if that came first); 0: not yet.
    pub(super) since: u64,
    /// Its week profile (present once started).
    pub(super) profile: Option<Box<WeekProfile>>,
    /// Per interned SKU.
    pub(super) skus: FxHashMap<u32, Depletion>,
}

impl LocForecast {
    /// The week shape (flat without a profile).
    pub fn shape(&self) -> Shape {
        self.profile.as_ref().map_or(Shape::Flat, |p| p.shape())
    }
}

/// What the forecast says about one `(location, SKU)` and its safety stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SafetyForecast {
    /// The count is already below the safety stock.
    Below,
    /// Expected to fall below it at this time, at this rate.
    At(u64, PerHour),
    /// Not within the look-ahead, or too little history to say.
    Beyond,
}

/// The forecast of one `(location, SKU)` at `t` with a settled `count` (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outlook {
    /// Expected rate at `t`, units per hour.
    pub rate_per_hour: f64,
    /// Expected time the count reaches 0.
    pub empty_at: Option<u64>,
    /// Expected time the count falls below `safety` (when a safety stock applies and the count
    /// is not below it yet).
    pub below_safety_at: Option<u64>,
}

impl Outlook {
    /// The outlook of `d` at `t`; `None` while its history is too thin.
    pub fn of(
        d: &Depletion,
        t: u64,
        count: u32,
        safety: Option<u32>,
        half_life: u64,
        shape: &Shape,
    ) -> Option<Outlook> {
        let base = d.rate(t, count > 0, half_life, shape)?;
        let to = |units: u32| shape.time_to(t, base, f64::from(units));
        Some(Outlook {
            rate_per_hour: base * shape.at(t),
            empty_at: if count > 0 { to(count) } else { None },
            below_safety_at: match safety {
                Some(s) if count >= s => to(count - s + 1),
                _ => None,
            },
        })
    }
}

/// Every location's forecast state, indexed like the topology's locations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForecastBook {
    /// Per location.
    pub(super) locs: Vec<LocForecast>,
}

impl ForecastBook {
    /// No history for `n` locations.
    pub fn new(n: usize) -> Self {
        ForecastBook {
            locs: vec![LocForecast::default(); n],
        }
    }
}

impl Engine {
    /// Learns from a settled change of `(loc, sku)` (a `stock.changed` with `delta`, leaving
    /// `count`): a negative delta is demand. Runs before the forecast rule is checked.
    pub(super) fn learn_depletion(
        &mut self,
        loc: LocIdx,
        sku: u32,
        delta: i64,
        count: u32,
        t: u64,
    ) {
        let half_life = self.k.depletion_half_life;
        let Some(f) = self.forecast.locs.get_mut(usize::from(loc)) else {
            return;
        };
        if f.since == 0 {
            f.since = t;
            f.profile = Some(Box::new(WeekProfile::new(t)));
        }
        let before = i64::from(count) - delta;
        let shape = f.shape();
        let since = if before > 0 { f.since } else { t };
        let d = f.skus.entry(sku).or_insert_with(|| Depletion::new(since));
        let units = u32::try_from(delta.min(0).unsigned_abs()).unwrap_or(u32::MAX);
        d.record(t, before > 0, units, half_life, &shape);
        if units > 0 {
            if let Some(p) = f.profile.as_mut() {
                p.add_demand(units);
            }
        }
        self.dirty.locations[usize::from(loc)] = true;
    }

    /// The sweep's share: starts the forecast history of every stock location whose baseline
    /// is done, and observes time for every started location's profile. (Profiles reach the
    /// store with the location record: at every change of it and at every checkpoint.)
    pub(super) fn credit_profiles(&mut self, now: u64) {
        for (i, f) in self.forecast.locs.iter_mut().enumerate() {
            match f.profile.as_mut() {
                Some(p) => p.credit(now),
                None => {
                    let stock = self.kinds.get(i).is_some_and(|k| k.is_stock());
                    if stock && self.loc_base.get(i).is_some_and(|b| b.done) {
                        f.since = now;
                        f.profile = Some(Box::new(WeekProfile::new(now)));
                        self.dirty.locations[i] = true;
                    }
                }
            }
        }
    }

    /// The forecast of `(loc, sku)` at `t` with its published count; `None` while its history
    /// is too thin.
    pub fn outlook(&self, loc: LocIdx, sku: u32, t: u64) -> Option<Outlook> {
        let i = usize::from(loc);
        let f = self.forecast.locs.get(i)?;
        let d = f.skus.get(&sku)?;
        let count = self.published_count(loc, sku);
        Outlook::of(
            d,
            t,
            count,
            self.safety_of(loc, sku),
            self.k.depletion_half_life,
            &f.shape(),
        )
    }

    /// The published (settled) count of `(loc, sku)`.
    pub(super) fn published_count(&self, loc: LocIdx, sku: u32) -> u32 {
        self.stock
            .per_loc
            .get(usize::from(loc))
            .and_then(|m| m.get(&sku))
            .map_or(0, |e| e.published)
    }

    /// The forecast of every SKU of a location at `t` (what a snapshot taken at `t` carries):
    /// SKUs with a published count and enough history.
    pub fn forecasts(&self, loc: LocIdx, t: u64) -> BTreeMap<String, SkuForecast> {
        let Some(f) = self.forecast.locs.get(usize::from(loc)) else {
            return BTreeMap::new();
        };
        if f.skus.is_empty() {
            return BTreeMap::new();
        }
        let shape = f.shape();
        let mut out = BTreeMap::new();
        for (&sku, d) in &f.skus {
            let count = self.published_count(loc, sku);
            if count == 0 {
                continue;
            }
            let safety = self.safety_of(loc, sku);
            let Some(o) = Outlook::of(d, t, count, safety, self.k.depletion_half_life, &shape)
            else {
                continue;
            };
            let Some(rate_per_hour) = PerHour::from_f64(o.rate_per_hour) else {
                continue;
            };
            let name = self.sku_str(sku).unwrap_or_else(|| "null".to_string());
            out.insert(
                name,
                SkuForecast {
                    rate_per_hour,
                    empty_at: o.empty_at,
                    below_safety_at: o.below_safety_at,
                },
            );
        }
        out
    }

    /// The learned week profile of a location, when it has one (for tests and tools).
    pub fn week_profile(&self, loc: LocIdx) -> Option<&WeekProfile> {
        self.forecast
            .locs
            .get(usize::from(loc))
            .and_then(|f| f.profile.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u64 = HOUR_MS;
    /// Monday 2026-12-07 00:00 UTC.
    const MONDAY: u64 = 1_796_601_600_000;

    #[test]
    fn monday_is_bucket_zero() {
        assert_eq!(hour_of_week(MONDAY), 0);
        assert_eq!(hour_of_week(MONDAY + 167 * H), 167);
        assert_eq!(hour_of_week(MONDAY + 168 * H), 0);
    }

    #[test]
    fn a_steady_rate_is_learned_and_a_lull_lowers_it() {
        let hl = H;
        let flat = Shape::Flat;
        let mut d = Depletion::new(MONDAY);
        // 12 units an hour, one every 5 minutes, for 3 hours.
        for i in 1..=36u64 {
            d.record(MONDAY + i * 300_000, true, 1, hl, &flat);
        }
        let t = MONDAY + 3 * H;
        let rate = d.rate(t, true, hl, &flat).expect("enough history");
        assert!((rate - 12.0).abs() < 1.0, "{rate}");
        // An hour without sales: the rate halves at least (demand decays, exposure grows).
        let later = d.rate(t + H, true, hl, &flat).expect("rate");
        assert!(later < rate / 2.0 && later > 0.0, "{later}");
        // Time at count 0 is not exposure: an hour of empty shelf leaves the rate as it was.
        let empty = d.rate(t + H, false, hl, &flat).expect("rate");
        assert!((empty - rate).abs() < 1e-6, "{empty}");
    }

    #[test]
    fn thin_history_gives_no_rate() {
        let flat = Shape::Flat;
        let mut d = Depletion::new(MONDAY);
        d.record(MONDAY + 60_000, true, 2, H, &flat);
        assert_eq!(d.rate(MONDAY + 2 * H, true, H, &flat), None, "2 units");
        d.record(MONDAY + 120_000, true, 5, H, &flat);
        assert_eq!(d.rate(MONDAY + 10 * 60_000, true, H, &flat), None, "10 min");
        assert!(d.rate(MONDAY + H / 2, true, H, &flat).is_some());
    }

    #[test]
    fn flat_forecasts_are_count_over_rate() {
        let flat = Shape::Flat;
        assert_eq!(flat.time_to(MONDAY, 10.0, 5.0), Some(MONDAY + H / 2));
        assert_eq!(flat.time_to(MONDAY, 0.0, 5.0), None);
        assert_eq!(flat.time_to(MONDAY, 10.0, 0.0), Some(MONDAY));
        // Beyond the look-ahead: no time at all.
        assert_eq!(flat.time_to(MONDAY, 0.01, 5.0), None);
    }

    /// A store whose demand is 2 units an hour on weekdays 8–20 h, 30 an hour on Saturday
    /// 12–18 h, and nothing at night, fed to one location's profile from a Monday until `end`.
    fn saturday_store(end: u64) -> (WeekProfile, Depletion) {
        let mut p = WeekProfile::new(MONDAY);
        let mut d = Depletion::new(MONDAY);
        let hl = H;
        let mut t = MONDAY;
        let mut owed = 0.0f64;
        while t < end {
            t += 60_000;
            p.credit(t);
            let b = hour_of_week(t - 1);
            let (day, hour) = (b / 24, b % 24);
            let per_hour = match (day, hour) {
                (5, 12..=17) => 30.0,
                (0..=4, 8..=19) => 2.0,
                _ => 0.0,
            };
            owed += per_hour / 60.0;
            if owed >= 1.0 {
                let units = owed.floor();
                owed -= units;
                let shape = p.shape();
                d.record(t, true, units as u32, hl, &shape);
                p.add_demand(units as u32);
            }
        }
        (p, d)
    }

    #[test]
    fn the_week_profile_forecasts_a_saturday_rush_from_saturdays() {
        // Three weeks, then Tuesday 02:00 of the fourth.
        let tue_night = MONDAY + (21 * 24 + 26) * H;
        let (p, d) = saturday_store(tue_night);
        assert!(p.observed_hours() >= PROFILE_MIN_HOURS);
        let shape = p.shape();
        assert!(matches!(shape, Shape::Weekly(_)));
        // Shapes: the rush hours stand far above the weekday hours, the night near 0.
        let at = |day: u64, hour: u64| shape.at(MONDAY + (day * 24 + hour) * H);
        assert!(
            at(5, 14) > 5.0 * at(1, 14),
            "{} vs {}",
            at(5, 14),
            at(1, 14)
        );
        assert!(at(1, 3) < 0.2 * at(1, 14), "{}", at(1, 3));
        // The rate learned is per average hour: the quiet night since Monday 20:00 hardly
        // lowered it. From Tuesday night the expected rate is small, and 20 units last into
        // Tuesday evening (2 an hour from 08:00), not the hour a rush would need.
        let base = d.rate(tue_night, true, H, &shape).expect("history");
        let expected_now = base * shape.at(tue_night);
        assert!(expected_now < 0.5, "night rate {expected_now}");
        let empty = shape
            .time_to(tue_night, base, 20.0)
            .expect("within 14 days");
        assert!(
            empty > tue_night + 12 * H,
            "20 units forecast gone {} h after Tuesday 02:00",
            (empty - tue_night) / H
        );
        // On Saturday 12:00 of the same week (a quiet Friday evening and night before it),
        // the same 20 units go within the rush afternoon.
        let sat_noon = MONDAY + (21 * 24 + 5 * 24 + 12) * H;
        let (p, d) = saturday_store(sat_noon);
        let shape = p.shape();
        let base = d.rate(sat_noon, true, H, &shape).expect("history");
        let gone = shape.time_to(sat_noon, base, 20.0).expect("within 14 days");
        assert!(
            gone < sat_noon + 3 * H,
            "20 units forecast gone {} min after Saturday noon",
            (gone - sat_noon) / 60_000
        );
    }

    #[test]
    fn downtime_is_not_observed_time() {
        let mut p = WeekProfile::new(MONDAY);
        for s in 1..=3600u64 {
            p.credit(MONDAY + s * 1000);
        }
        p.credit(MONDAY + H + 1000);
        assert!((p.hours[0] - 1.0).abs() < 1e-3, "{}", p.hours[0]);
        // Ten hours off, then an hour on: only that hour is observed.
        p.credit(MONDAY + 11 * H);
        for s in 1..=3600u64 {
            p.credit(MONDAY + 11 * H + s * 1000);
        }
        p.credit(MONDAY + 12 * H + 1000);
        let total = p.observed_hours();
        // (Less the profile's decay over 12 hours: 2^(-12/672).)
        assert!((total - 2.0).abs() < 0.02, "{total}");
        assert!(p.hours[11] > 0.99 && p.hours[2..11].iter().all(|h| *h == 0.0));
    }
}
