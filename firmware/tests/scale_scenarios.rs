//! Scenario tests of the scale logic: synthetic, seeded weight traces (noise, spikes, drift,
//! hands) through a real `LaneScale` (tared and calibrated the way an installer does it), each
//! asserting the exact detections. Samples are 10/s, as an HX711 gives them.

use shelf_node::scale::{Calibration, Detection, DetectorConfig, LaneConfig, LaneScale};
use shelf_node::sim::SimRng;

/// The crate's seeded generator ([`SimRng`]), so every trace is the same on every run, with
/// the two distributions the traces need.
struct Rng(SimRng);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(SimRng::new(seed))
    }
    /// Uniform in [-1, 1].
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
    /// Roughly normal, standard deviation `sigma`.
    fn gauss(&mut self, sigma: f64) -> f64 {
        (0..4).map(|_| self.unit()).sum::<f64>() * sigma * 0.866
    }
}

/// A weight trace in grams, one sample per 100 ms, built segment by segment; noise and drift
/// are added when it is turned into ADC counts.
struct Trace {
    rng: Rng,
    grams: Vec<f64>,
    noise_g: f64,
    /// Grams of drift added per sample (temperature, creep).
    drift_g_per_sample: f64,
    /// Probability of a single-sample spike of ±`spike_g`.
    spike_rate: f64,
    spike_g: f64,
}

const OFFSET_COUNTS: f64 = 120_000.0;
const COUNTS_PER_GRAM: f64 = 430.0;

impl Trace {
    fn new(seed: u64) -> Trace {
        Trace {
            rng: Rng::new(seed),
            grams: Vec::new(),
            noise_g: 0.3,
            drift_g_per_sample: 0.0,
            spike_rate: 0.0,
            spike_g: 0.0,
        }
    }

    fn last(&self) -> f64 {
        self.grams.last().copied().unwrap_or(0.0)
    }

    /// Holds `grams` for `seconds`.
    fn hold(&mut self, grams: f64, seconds: f64) -> &mut Self {
        let n = (seconds * 10.0) as usize;
        self.grams.extend(std::iter::repeat_n(grams, n));
        self
    }

    /// Moves linearly to `grams` over `seconds`.
    fn ramp(&mut self, grams: f64, seconds: f64) -> &mut Self {
        let from = self.last();
        let n = ((seconds * 10.0) as usize).max(1);
        for i in 1..=n {
            self.grams.push(from + (grams - from) * i as f64 / n as f64);
        }
        self
    }

    /// A hand on the shelf: `press_g` extra with a tremor of ±`tremor_g`, for `seconds`.
    fn hand(&mut self, base: f64, press_g: f64, tremor_g: f64, seconds: f64) -> &mut Self {
        let n = (seconds * 10.0) as usize;
        for i in 0..n {
            let tremor = tremor_g * (i as f64 * 0.9).sin() + self.rng.gauss(tremor_g / 3.0);
            // The press builds up and fades over the first and last 3 samples.
            let envelope = ((i.min(n - 1 - i) as f64 + 1.0) / 3.0).min(1.0);
            self.grams.push(base + envelope * (press_g + tremor));
        }
        self
    }

    /// The trace as ADC counts: offset + grams × factor, with drift, noise and spikes.
    fn counts(&mut self) -> Vec<i32> {
        let grams = std::mem::take(&mut self.grams);
        grams
            .iter()
            .enumerate()
            .map(|(i, &g)| {
                let mut g = g + self.drift_g_per_sample * i as f64 + self.rng.gauss(self.noise_g);
                if self.spike_rate > 0.0 && (self.rng.unit() + 1.0) / 2.0 < self.spike_rate {
                    g += if self.rng.unit() > 0.0 {
                        self.spike_g
                    } else {
                        -self.spike_g
                    };
                }
                (OFFSET_COUNTS + g * COUNTS_PER_GRAM).round() as i32
            })
            .collect()
    }
}

/// A lane set up as an installer would: tared empty, calibrated with a 1 kg weight, the weight
/// removed, then configured for 250 g items ± 40 g and stocked with `stock_g`. Returns the lane
/// and the detections of the set-up (which must be the calibration weight's removal and the
/// stocking, nothing else).
fn installed_lane(seed: u64, stock_g: f64) -> LaneScale {
    let mut lane = LaneScale::new(DetectorConfig::default());
    let mut setup = Trace::new(seed);
    let empty = setup.hold(0.0, 2.0).counts();
    for c in empty {
        lane.push(c);
    }
    lane.tare().expect("empty lane settled");
    let known = setup.ramp(1000.0, 0.5).hold(1000.0, 2.0).counts();
    for c in known {
        lane.push(c);
    }
    let per_kg = lane.calibrate(1_000_000).expect("known weight settled");
    assert!(
        (per_kg - 430_000).abs() < 1_000,
        "calibration {per_kg} counts/kg, expected ~430 000"
    );
    let off = setup.ramp(0.0, 0.5).hold(0.0, 2.0).counts();
    for c in off {
        lane.push(c);
    }
    lane.configure(LaneConfig::new(250_000, 40_000).expect("valid lane config"));
    let stock = setup.ramp(stock_g, 0.8).hold(stock_g, 2.0).counts();
    for c in stock {
        lane.push(c);
    }
    lane
}

fn run(lane: &mut LaneScale, counts: &[i32]) -> Vec<Detection> {
    counts.iter().filter_map(|&c| lane.push(c)).collect()
}

/// Detections without the drift weight reports, as (units or None for ambiguous, delta grams).
fn events(detections: &[Detection]) -> Vec<(Option<i16>, i32)> {
    detections
        .iter()
        .filter_map(|d| match *d {
            Detection::Units {
                units, delta_mg, ..
            } => Some((Some(units), delta_mg / 1000)),
            Detection::Ambiguous { delta_mg, .. } => Some((None, delta_mg / 1000)),
            Detection::Drift { .. } => None,
        })
        .collect()
}

fn units_of(detections: &[Detection]) -> Vec<Option<i16>> {
    events(detections).into_iter().map(|(u, _)| u).collect()
}

fn assert_delta_near(detections: &[Detection], expected_g: i32) {
    for (_, delta_g) in events(detections) {
        assert!(
            (delta_g - expected_g).abs() <= 3,
            "delta {delta_g} g, expected {expected_g} g: {detections:?}"
        );
    }
}

#[test]
fn installation_tare_and_calibration_give_grams() {
    let lane = installed_lane(1, 2500.0);
    let cal: Calibration = lane.calibration();
    assert!((cal.tare_counts - 120_000).abs() < 200, "{cal:?}");
    let weight = lane.weight_mg().expect("samples seen");
    assert!(
        (weight - 2_500_000).abs() < 2_000,
        "stocked lane weighs {weight} mg"
    );
    assert!(lane.is_stable());
}

#[test]
fn the_set_up_itself_reports_the_calibration_weight_and_the_stock_as_changes() {
    // Before the lane has a unit weight, the calibration weight coming off is a change that
    // no unit explains; the stocking, with 250 g units configured, is +10.
    let mut lane = LaneScale::new(DetectorConfig::default());
    let mut t = Trace::new(2);
    let c = t.hold(0.0, 2.0).counts();
    let first = run(&mut lane, &c);
    assert!(
        matches!(first[..], [Detection::Drift { .. }]),
        "only the starting weight: {first:?}"
    );
    lane.tare().expect("settled");
    let c = t.ramp(1000.0, 0.5).hold(1000.0, 2.0).counts();
    assert_eq!(units_of(&run(&mut lane, &c)), [None]);
    lane.calibrate(1_000_000).expect("settled");
    let c = t.ramp(0.0, 0.5).hold(0.0, 2.0).counts();
    assert_eq!(units_of(&run(&mut lane, &c)), [None]);
    lane.configure(LaneConfig::new(250_000, 40_000).expect("valid"));
    let c = t.ramp(2500.0, 1.0).hold(2500.0, 2.0).counts();
    let d = run(&mut lane, &c);
    assert_eq!(units_of(&d), [Some(10)]);
    assert_delta_near(&d, 2500);
}

#[test]
fn simultaneous_pick_of_two_items() {
    for seed in 10..20 {
        let mut lane = installed_lane(seed, 2500.0);
        let mut t = Trace::new(seed + 100);
        // Hand reaches in and presses, grabs two items, shelf settles 500 g lighter.
        let c = t
            .hold(2500.0, 2.0)
            .hand(2500.0, 350.0, 25.0, 0.8)
            .ramp(2000.0, 0.3)
            .hold(2000.0, 3.0)
            .counts();
        let d = run(&mut lane, &c);
        assert_eq!(units_of(&d), [Some(-2)], "seed {seed}: {d:?}");
        assert_delta_near(&d, -500);
    }
}

#[test]
fn a_put_back() {
    for seed in 20..30 {
        let mut lane = installed_lane(seed, 1500.0);
        let mut t = Trace::new(seed + 100);
        let c = t
            .hold(1500.0, 2.0)
            .hand(1500.0, 180.0, 20.0, 0.6)
            .ramp(1750.0, 0.3)
            .hold(1750.0, 3.0)
            .counts();
        let d = run(&mut lane, &c);
        assert_eq!(units_of(&d), [Some(1)], "seed {seed}: {d:?}");
        assert_delta_near(&d, 250);
    }
}

#[test]
fn an_item_slid_on_slowly_is_still_one_put() {
    let mut lane = installed_lane(31, 1000.0);
    let mut t = Trace::new(131);
    // 250 g over 3 s: far faster than drift, so the window is unstable throughout.
    let c = t
        .hold(1000.0, 2.0)
        .ramp(1250.0, 3.0)
        .hold(1250.0, 3.0)
        .counts();
    let d = run(&mut lane, &c);
    assert_eq!(units_of(&d), [Some(1)], "{d:?}");
    assert_delta_near(&d, 250);
}

#[test]
fn a_hand_resting_on_the_shelf_is_no_event() {
    for seed in 40..50 {
        let mut lane = installed_lane(seed, 2000.0);
        let mut t = Trace::new(seed + 100);
        // 4 s of a resting hand (≈ 600 g, never still), then gone: back to the same weight.
        let c = t
            .hold(2000.0, 2.0)
            .hand(2000.0, 600.0, 30.0, 4.0)
            .hold(2000.0, 3.0)
            .counts();
        let d = run(&mut lane, &c);
        assert_eq!(events(&d), [], "seed {seed}: {d:?}");
        assert!(d.is_empty(), "not even a weight report: {d:?}");
    }
}

#[test]
fn an_item_lifted_and_put_back_is_no_event() {
    let mut lane = installed_lane(51, 2000.0);
    let mut t = Trace::new(151);
    let c = t
        .hold(2000.0, 2.0)
        .ramp(1750.0, 0.3)
        .hold(1750.0, 0.4) // shorter than the settle time: looked at, not taken
        .ramp(2000.0, 0.3)
        .hold(2000.0, 3.0)
        .counts();
    let d = run(&mut lane, &c);
    assert_eq!(events(&d), [], "{d:?}");
}

#[test]
fn slow_drift_moves_the_baseline_and_is_no_event() {
    for seed in 60..63 {
        let mut lane = installed_lane(seed, 2500.0);
        let mut t = Trace::new(seed + 100);
        // +60 g over 10 minutes (0.1 g/s): creep and temperature, not an item, and more than
        // the 40 g tolerance, so only a baseline that follows keeps it from being a change.
        t.drift_g_per_sample = 0.01;
        let c = t.hold(2500.0, 600.0).counts();
        let d = run(&mut lane, &c);
        assert_eq!(events(&d), [], "seed {seed}");
        // The drift shows as weight reports every 5 g, and the weight follows it.
        assert!(
            (11..=13).contains(&d.len()),
            "seed {seed}: {} drift reports: {d:?}",
            d.len()
        );
        let weight = lane.weight_mg().expect("samples");
        assert!(
            (weight - 2_560_000).abs() < 2_000,
            "seed {seed}: weight {weight} mg"
        );
    }
}

#[test]
fn a_pick_during_slow_drift_is_counted_against_the_drifted_baseline() {
    let mut lane = installed_lane(70, 2500.0);
    let mut t = Trace::new(170);
    // 45 g of drift first (beyond the 40 g tolerance, had the baseline not followed it),
    // then one item off.
    t.drift_g_per_sample = 0.015;
    let c = t
        .hold(2500.0, 300.0)
        .hand(2500.0, 200.0, 20.0, 0.6)
        .ramp(2250.0, 0.3)
        .hold(2250.0, 3.0)
        .counts();
    let d = run(&mut lane, &c);
    assert_eq!(units_of(&d), [Some(-1)], "{d:?}");
    assert_delta_near(&d, -250);
}

#[test]
fn a_change_that_is_not_whole_items_is_ambiguous_not_guessed() {
    let mut lane = installed_lane(80, 2500.0);
    let mut t = Trace::new(180);
    // A 120 g phone left on the lane: 0.48 units, 130 g from 1 unit, 120 g from 0.
    let c = t
        .hold(2500.0, 2.0)
        .ramp(2620.0, 0.4)
        .hold(2620.0, 3.0)
        .counts();
    let d = run(&mut lane, &c);
    assert_eq!(units_of(&d), [None], "{d:?}");
    assert_delta_near(&d, 120);
    // Taking it back off is ambiguous too, and leaves the lane where it was.
    let c = t.ramp(2500.0, 0.4).hold(2500.0, 3.0).counts();
    let d = run(&mut lane, &c);
    assert_eq!(units_of(&d), [None], "{d:?}");
    assert_delta_near(&d, -120);
}

#[test]
fn single_sample_spikes_are_filtered_out() {
    let mut lane = installed_lane(90, 2500.0);
    let mut t = Trace::new(190);
    t.spike_rate = 0.05;
    t.spike_g = 300.0;
    let c = t.hold(2500.0, 60.0).counts();
    let d = run(&mut lane, &c);
    assert_eq!(d, [], "spikes gave {d:?}");
}

#[test]
fn three_picks_in_a_row_each_count() {
    let mut lane = installed_lane(95, 2500.0);
    let mut t = Trace::new(195);
    let mut weight = 2500.0;
    t.hold(weight, 2.0);
    for _ in 0..3 {
        t.hand(weight, 150.0, 20.0, 0.5);
        weight -= 250.0;
        t.ramp(weight, 0.3).hold(weight, 1.5);
    }
    let c = t.counts();
    let d = run(&mut lane, &c);
    assert_eq!(units_of(&d), [Some(-1), Some(-1), Some(-1)], "{d:?}");
    assert_delta_near(&d, -250);
}

#[test]
fn tare_and_calibration_need_a_settled_lane() {
    let mut lane = LaneScale::new(DetectorConfig::default());
    assert_eq!(lane.tare(), Err(shelf_node::scale::ScaleError::NotStable));
    let mut t = Trace::new(7);
    let c = t.hand(0.0, 500.0, 40.0, 2.0).counts();
    for x in c {
        lane.push(x);
    }
    assert_eq!(lane.tare(), Err(shelf_node::scale::ScaleError::NotStable));
    assert_eq!(
        lane.calibrate(1000),
        Err(shelf_node::scale::ScaleError::NotStable)
    );
    let c = t.hold(0.0, 2.0).counts();
    for x in c {
        lane.push(x);
    }
    assert_eq!(lane.tare(), Ok(()));
    assert_eq!(
        lane.calibrate(0),
        Err(shelf_node::scale::ScaleError::ZeroKnownWeight)
    );
    // Calibrating with nothing on the tared lane gives no factor.
    assert!(matches!(
        lane.calibrate(1_000_000),
        Err(shelf_node::scale::ScaleError::NoResponse { .. })
    ));
}

#[test]
fn lane_config_refuses_values_that_cannot_tell_units_apart() {
    use shelf_node::scale::LaneConfigError;
    assert_eq!(LaneConfig::new(0, 0), Err(LaneConfigError::ZeroUnit));
    assert_eq!(
        LaneConfig::new(100_000, 50_000),
        Err(LaneConfigError::ToleranceTooWide {
            tolerance_mg: 50_000,
            unit_mg: 100_000
        })
    );
    assert!(LaneConfig::new(100_000, 49_999).is_ok());
}
