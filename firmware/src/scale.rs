//! Scale logic of one lane: raw ADC counts in, weight and pick/put detections out. Owns tare,
//! calibration (counts per kilogram from a known weight), noise filtering (a 5-sample median,
//! then the mean of a stability window), stability detection, drift tracking and the rule that
//! turns a settled weight change into a whole number of items. It never talks to hardware or
//! the bus, never allocates, and never guesses: a change that is not within tolerance of a whole
//! number of items is reported as ambiguous.
//!
//! # How a change becomes an event
//!
//! 1. Each raw sample goes through a median of the last 5 (single-sample spikes vanish).
//! 2. The median outputs fill a window of [`DetectorConfig::window`] samples. The lane is
//!    *stable* when the window is full and its spread (max − min) is at most
//!    [`DetectorConfig::stable_band_mg`]; its *settled* weight is then the window's mean.
//! 3. The lane keeps a *baseline*: the settled weight its last event (or tare, or boot) left.
//!    Once the lane has been stable for [`DetectorConfig::settle_samples`] samples in a row,
//!    the change `delta = settled − baseline` is judged against the lane's [`LaneConfig`]:
//!    within `tolerance_mg` of `k × unit_mg` with `k ≠ 0` → [`Detection::Units`] with `k`
//!    (negative: picked); within `tolerance_mg` of 0 → drift (below); anything else →
//!    [`Detection::Ambiguous`]. After an event the baseline is the new settled weight.
//! 4. **Drift.** While the lane is stable and the change stays within tolerance of 0, the
//!    baseline follows the settled weight sample by sample, so creep and temperature drift
//!    never add up to a pick. That holds for drift slower than `stable_band_mg` per window
//!    (2 g per 0.8 s with the defaults at 10 samples/s); anything faster makes the window
//!    unstable and is judged as a change once it settles. Every [`DetectorConfig::report_step_mg`]
//!    of accumulated drift yields [`Detection::Drift`] (a weight report, not an event), and so
//!    does the first settle after boot (the starting weight, which is no change).
//!
//! A hand resting on the shelf, an item lifted and put back, a knock: the window is unstable
//! while it lasts and the weight comes back to the baseline, so nothing is reported.

use embedded_hal::digital::ErrorKind;

/// Largest stability window, in samples.
pub const MAX_WINDOW: usize = 32;

/// Samples in the median filter.
pub const MEDIAN_LEN: usize = 5;

/// Highest reading of a 24-bit ADC; a sample there is saturated.
pub const ADC_MAX: i32 = 8_388_607;
/// Lowest reading of a 24-bit ADC; a sample there is saturated.
pub const ADC_MIN: i32 = -8_388_608;

/// Counts per kilogram of a typical 5 kg bar cell (1 mV/V at 5 V excitation) on an HX711 at
/// gain 128: 5 mV full load over a ±20 mV input span of 2²⁴ counts. Used until a lane is
/// calibrated.
pub const NOMINAL_COUNTS_PER_KG: i32 = 419_430;

/// Why a load-cell sample could not be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SensorFault {
    /// No conversion became ready in time.
    Timeout {
        /// Checks made.
        polls: u32,
    },
    /// A pin of the interface failed.
    Pin(ErrorKind),
}

/// A load-cell ADC the node polls: [`crate::hx711::Hx711`] on hardware, a simulated scale on
/// the host.
pub trait WeightSensor {
    /// A new raw reading, if one is ready; `None` while the conversion runs. Must not block for
    /// longer than one bounded check.
    fn poll_sample(&mut self) -> Option<Result<i32, SensorFault>>;
}

/// Conversion from raw counts to milligrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calibration {
    /// The reading of the empty (tared) lane.
    pub tare_counts: i32,
    /// Counts per kilogram; never 0 (negative when the cell is wired the other way round).
    pub counts_per_kg: i32,
}

impl Default for Calibration {
    fn default() -> Self {
        Calibration {
            tare_counts: 0,
            counts_per_kg: NOMINAL_COUNTS_PER_KG,
        }
    }
}

impl Calibration {
    /// Milligrams of a difference in counts (saturating at the range of `i32`).
    pub fn mg_of_delta(&self, counts: i64) -> i32 {
        let per_kg = i64::from(self.counts_per_kg);
        if per_kg == 0 {
            return 0;
        }
        let mg = counts.saturating_mul(1_000_000) / per_kg;
        mg.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
    }

    /// Milligrams above the tare of a reading.
    pub fn mg_of(&self, counts: i32) -> i32 {
        self.mg_of_delta(i64::from(counts) - i64::from(self.tare_counts))
    }
}

/// What one item on a lane weighs, and how far a change may be from a whole number of items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneConfig {
    /// Weight of one item, in milligrams.
    pub unit_mg: u32,
    /// Accepted distance from a whole number of items, in milligrams.
    pub tolerance_mg: u32,
}

/// Why a [`LaneConfig`] was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaneConfigError {
    /// A unit weight of 0.
    ZeroUnit,
    /// A tolerance of half a unit or more: one item more or less could not be told apart.
    ToleranceTooWide {
        /// The tolerance asked for, in milligrams.
        tolerance_mg: u32,
        /// The unit weight, in milligrams.
        unit_mg: u32,
    },
}

impl LaneConfig {
    /// A checked lane configuration.
    pub fn new(unit_mg: u32, tolerance_mg: u32) -> Result<LaneConfig, LaneConfigError> {
        if unit_mg == 0 {
            return Err(LaneConfigError::ZeroUnit);
        }
        if u64::from(tolerance_mg) * 2 >= u64::from(unit_mg) {
            return Err(LaneConfigError::ToleranceTooWide {
                tolerance_mg,
                unit_mg,
            });
        }
        Ok(LaneConfig {
            unit_mg,
            tolerance_mg,
        })
    }
}

/// Filtering and stability parameters, shared by a node's lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectorConfig {
    /// Samples in the stability window (2..=[`MAX_WINDOW`]; clamped).
    pub window: u8,
    /// Largest spread of a stable window, in milligrams.
    pub stable_band_mg: u32,
    /// Stable samples in a row before a change is judged.
    pub settle_samples: u16,
    /// Drift that earns a new weight report, in milligrams; also the change an unconfigured
    /// lane ignores as drift.
    pub report_step_mg: u32,
}

impl Default for DetectorConfig {
    /// For an HX711 at 10 samples/s: a 0.8 s window, 2 g band, 0.5 s settling, 5 g report step.
    fn default() -> Self {
        DetectorConfig {
            window: 8,
            stable_band_mg: 2_000,
            settle_samples: 5,
            report_step_mg: 5_000,
        }
    }
}

/// What a sample made the lane decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// A settled change of a whole number of items (never 0): negative picked, positive put.
    Units {
        /// Items added (positive) or removed (negative).
        units: i16,
        /// Measured change, in milligrams.
        delta_mg: i32,
        /// Settled weight after the change, in milligrams above the tare.
        weight_mg: i32,
    },
    /// A settled change not within tolerance of a whole number of items.
    Ambiguous {
        /// Measured change, in milligrams.
        delta_mg: i32,
        /// Settled weight after the change.
        weight_mg: i32,
    },
    /// A weight report, not an event: the lane's first settled weight after boot (its starting
    /// point), or the baseline drifted by a report step since the last weight report.
    Drift {
        /// Settled weight now.
        weight_mg: i32,
    },
}

/// Why tare or calibration was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleError {
    /// The lane is not stable (the window is not full or spreads too much).
    NotStable,
    /// A known weight of 0 mg.
    ZeroKnownWeight,
    /// The known weight moved the reading by too few counts to derive a factor.
    NoResponse {
        /// Counts above the tare.
        counts: i32,
    },
}

/// One lane's scale: filter, stability, baseline and detection.
#[derive(Debug, Clone)]
pub struct LaneScale {
    calibration: Calibration,
    config: Option<LaneConfig>,
    detector: DetectorConfig,
    median: [i32; MEDIAN_LEN],
    median_len: usize,
    median_at: usize,
    window: [i32; MAX_WINDOW],
    window_len: usize,
    window_at: usize,
    settled_for: u16,
    /// Settled counts the last event (or tare, or the first settle) left.
    baseline: Option<i32>,
    /// Settled counts of the last weight report.
    reported: Option<i32>,
    last_raw: i32,
}

impl LaneScale {
    /// A lane with nominal calibration, no unit weight and empty filters.
    pub fn new(detector: DetectorConfig) -> LaneScale {
        let mut detector = detector;
        detector.window = detector.window.clamp(2, MAX_WINDOW as u8);
        LaneScale {
            calibration: Calibration::default(),
            config: None,
            detector,
            median: [0; MEDIAN_LEN],
            median_len: 0,
            median_at: 0,
            window: [0; MAX_WINDOW],
            window_len: 0,
            window_at: 0,
            settled_for: 0,
            baseline: None,
            reported: None,
            last_raw: 0,
        }
    }

    /// The calibration in use.
    pub fn calibration(&self) -> Calibration {
        self.calibration
    }

    /// Replaces the calibration (e.g. restored from flash at boot). A `counts_per_kg` of 0 is
    /// ignored.
    pub fn set_calibration(&mut self, calibration: Calibration) {
        if calibration.counts_per_kg != 0 {
            self.calibration = calibration;
        }
    }

    /// The lane's unit weight and tolerance, if configured.
    pub fn config(&self) -> Option<LaneConfig> {
        self.config
    }

    /// Sets the unit weight and tolerance; the baseline stays.
    pub fn configure(&mut self, config: LaneConfig) {
        self.config = Some(config);
    }

    /// The last raw reading.
    pub fn raw(&self) -> i32 {
        self.last_raw
    }

    /// Forgets the filter contents (after a sensor outage), keeping calibration and baseline.
    pub fn reset_filter(&mut self) {
        self.median_len = 0;
        self.median_at = 0;
        self.window_len = 0;
        self.window_at = 0;
        self.settled_for = 0;
    }

    fn window(&self) -> &[i32] {
        &self.window[..self.window_len]
    }

    fn spread_counts(&self) -> i64 {
        let w = self.window();
        match (w.iter().max(), w.iter().min()) {
            (Some(&max), Some(&min)) => i64::from(max) - i64::from(min),
            _ => 0,
        }
    }

    fn mean_counts(&self) -> Option<i32> {
        let w = self.window();
        if w.is_empty() {
            return None;
        }
        let sum: i64 = w.iter().map(|&c| i64::from(c)).sum();
        Some((sum / w.len() as i64) as i32)
    }

    /// True when the window is full and spreads no more than the stable band.
    pub fn is_stable(&self) -> bool {
        self.window_len == usize::from(self.detector.window)
            && self
                .calibration
                .mg_of_delta(self.spread_counts())
                .unsigned_abs()
                <= self.detector.stable_band_mg
    }

    /// The settled reading (the window's mean) when stable.
    pub fn settled_counts(&self) -> Option<i32> {
        if self.is_stable() {
            self.mean_counts()
        } else {
            None
        }
    }

    /// The current filtered weight above the tare, in milligrams (the window's mean; `None`
    /// before the first sample).
    pub fn weight_mg(&self) -> Option<i32> {
        self.mean_counts().map(|c| self.calibration.mg_of(c))
    }

    /// Takes the current settled reading as zero. The baseline moves with it, so a tare is
    /// never a pick.
    pub fn tare(&mut self) -> Result<(), ScaleError> {
        let settled = self.settled_counts().ok_or(ScaleError::NotStable)?;
        self.calibration.tare_counts = settled;
        self.baseline = Some(settled);
        self.reported = Some(settled);
        Ok(())
    }

    /// Derives counts per kilogram from the settled reading with `known_mg` on the tared lane,
    /// and returns it.
    pub fn calibrate(&mut self, known_mg: u32) -> Result<i32, ScaleError> {
        if known_mg == 0 {
            return Err(ScaleError::ZeroKnownWeight);
        }
        let settled = self.settled_counts().ok_or(ScaleError::NotStable)?;
        let counts = i64::from(settled) - i64::from(self.calibration.tare_counts);
        let per_kg = counts.saturating_mul(1_000_000) / i64::from(known_mg);
        let per_kg = per_kg.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        if per_kg == 0 {
            return Err(ScaleError::NoResponse {
                counts: counts.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
            });
        }
        self.calibration.counts_per_kg = per_kg;
        self.baseline = Some(settled);
        self.reported = Some(settled);
        Ok(per_kg)
    }

    fn median_push(&mut self, counts: i32) -> i32 {
        self.median[self.median_at] = counts;
        self.median_at = (self.median_at + 1) % MEDIAN_LEN;
        self.median_len = (self.median_len + 1).min(MEDIAN_LEN);
        let mut sorted = [0i32; MEDIAN_LEN];
        let n = self.median_len;
        sorted[..n].copy_from_slice(&self.median[..n]);
        sorted[..n].sort_unstable();
        sorted[(n - 1) / 2]
    }

    fn window_push(&mut self, counts: i32) {
        let size = usize::from(self.detector.window);
        self.window[self.window_at] = counts;
        self.window_at = (self.window_at + 1) % size;
        self.window_len = (self.window_len + 1).min(size);
    }

    /// Feeds one raw reading; returns what it made the lane decide, if anything.
    pub fn push(&mut self, counts: i32) -> Option<Detection> {
        self.last_raw = counts;
        let filtered = self.median_push(counts);
        self.window_push(filtered);
        let Some(settled) = self.settled_counts() else {
            self.settled_for = 0;
            return None;
        };
        self.settled_for = self.settled_for.saturating_add(1);
        let Some(baseline) = self.baseline else {
            // The first settle after boot: whatever is on the lane is the starting point, and
            // the gateway hears what that is.
            self.baseline = Some(settled);
            self.reported = Some(settled);
            return Some(Detection::Drift {
                weight_mg: self.calibration.mg_of(settled),
            });
        };
        if self.settled_for < self.detector.settle_samples {
            return None;
        }
        let delta_mg = self
            .calibration
            .mg_of_delta(i64::from(settled) - i64::from(baseline));
        let weight_mg = self.calibration.mg_of(settled);
        let (unit, tolerance) = match self.config {
            Some(c) => (i64::from(c.unit_mg), i64::from(c.tolerance_mg)),
            None => (0, i64::from(self.detector.report_step_mg)),
        };
        let delta = i64::from(delta_mg);
        let units = if unit == 0 {
            0
        } else if delta >= 0 {
            (delta + unit / 2) / unit
        } else {
            -((-delta + unit / 2) / unit)
        };
        let residual = delta - units * unit;
        if units == 0 && residual.abs() <= tolerance {
            // Drift: the baseline follows.
            self.baseline = Some(settled);
            let since_report = self.reported.map_or(i64::MAX, |r| {
                i64::from(
                    self.calibration
                        .mg_of_delta(i64::from(settled) - i64::from(r)),
                )
                .abs()
            });
            if since_report >= i64::from(self.detector.report_step_mg) {
                self.reported = Some(settled);
                return Some(Detection::Drift { weight_mg });
            }
            return None;
        }
        self.baseline = Some(settled);
        self.reported = Some(settled);
        if residual.abs() <= tolerance {
            Some(Detection::Units {
                units: units.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16,
                delta_mg,
                weight_mg,
            })
        } else {
            Some(Detection::Ambiguous {
                delta_mg,
                weight_mg,
            })
        }
    }
}
