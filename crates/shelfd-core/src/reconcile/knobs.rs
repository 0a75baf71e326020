//! [`Knobs`]: the engine's tuning in integer milliseconds, derived from `[reconcile]`.
//! Every knob is documented (with its default) on the config schema.

use super::config::ReconcileConfig;
use crate::kinds::UndecodedPolicy;

/// The longest a pallet dwells in a door's read zone while it is received (10–90 s at the
/// docks we model): a tag's reads at a dock are kept together for at least this long, since
/// each is read only a few times spread over the dwell.
pub const PORTAL_DWELL_MS: u64 = 120_000;

/// Reconciliation tuning. Durations are milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Knobs {
    /// Reads weaker than this (dBm) are ignored.
    pub min_rssi_dbm: f32,
    /// RSSI at which a read weighs 1.0; weight doubles every +6 dB.
    pub rssi_ref_dbm: f32,
    /// Half-life of per-location evidence.
    pub evidence_half_life: u64,
    /// Reads needed at one location to confirm a tag there.
    pub arrive_min_reads: u8,
    /// Minimum span of those reads.
    pub arrive_dwell: u64,
    /// Silence after which unconfirmed evidence is forgotten.
    pub candidate_timeout: u64,
    /// Evidence factor a challenger location needs over the current one.
    pub move_ratio: f32,
    /// How long the challenger must hold that lead.
    pub move_dwell: u64,
    /// How far (half-dB) a location's reads may sit below the tag's own level and still count
    /// as the tag being there rather than cross-reads.
    pub cross_read_margin: i16,
    /// Span a new tag's reads need when they read weak for their location.
    pub weak_arrive_dwell: u64,
    /// Expected re-reads a tag must miss before it departs.
    pub depart_missed_reads: u32,
    /// Lower bound of the absence timeout.
    pub depart_min_absence: u64,
    /// Upper bound of the absence timeout.
    pub depart_max_absence: u64,
    /// Assumed re-read interval before one is learned.
    pub initial_reread_interval: u64,
    /// Silence after which a reader counts as offline.
    pub reader_silence: u64,
    /// Reads at a POS that sell an item.
    pub pos_min_reads: u8,
    /// Reads at an exit that raise an exit alert.
    pub exit_min_reads: u8,
    /// Sold items are ignored this long.
    pub sold_hold_off: u64,
    /// Departed tags are remembered this long.
    pub departed_memory: u64,
    /// Quiet period that publishes a pending stock delta.
    pub settle_quiet: u64,
    /// Longest a stock delta waits.
    pub settle_max: u64,
    /// First-start baseline window.
    pub baseline_window: u64,
    /// Last-seen checkpoint interval.
    pub checkpoint_interval: u64,
    /// What to do with tags that decode to no product.
    pub undecoded: UndecodedPolicy,
    /// A low-stock alert re-arms once the settled count is back at threshold + this.
    pub low_stock_rearm: u32,
    /// A stock-out forecast alert is raised when the count is forecast to fall below safety
    /// stock within this.
    pub forecast_horizon: u64,
    /// Half-life of the learned depletion rates.
    pub depletion_half_life: u64,
}

fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Knobs {
    /// Converts the validated `[reconcile]` section.
    pub fn from_config(c: &ReconcileConfig) -> Self {
        Knobs {
            min_rssi_dbm: c.min_rssi_dbm as f32,
            rssi_ref_dbm: c.rssi_ref_dbm as f32,
            evidence_half_life: ms(c.evidence_half_life).max(1),
            arrive_min_reads: c.arrive_min_reads.min(255) as u8,
            arrive_dwell: ms(c.arrive_dwell),
            candidate_timeout: ms(c.candidate_timeout),
            move_ratio: c.move_ratio as f32,
            move_dwell: ms(c.move_dwell),
            cross_read_margin: (c.cross_read_margin_db * 2.0).round().clamp(0.0, 255.0) as i16,
            weak_arrive_dwell: ms(c.weak_arrive_dwell),
            depart_missed_reads: c.depart_missed_reads,
            depart_min_absence: ms(c.depart_min_absence),
            depart_max_absence: ms(c.depart_max_absence),
            initial_reread_interval: ms(c.initial_reread_interval),
            reader_silence: ms(c.reader_silence),
            pos_min_reads: c.pos_min_reads.min(255) as u8,
            exit_min_reads: c.exit_min_reads.min(255) as u8,
            sold_hold_off: ms(c.sold_hold_off),
            departed_memory: ms(c.departed_memory),
            settle_quiet: ms(c.settle_quiet),
            settle_max: ms(c.settle_max),
            baseline_window: ms(c.baseline_window),
            checkpoint_interval: ms(c.checkpoint_interval).max(1000),
            undecoded: c.undecoded,
            low_stock_rearm: c.low_stock_rearm,
            forecast_horizon: ms(c.forecast_horizon),
            depletion_half_life: ms(c.depletion_half_life).max(1),
        }
    }
}

impl Knobs {
    /// A dock location's knobs: these, with a candidate's reads kept for a whole pallet dwell
    /// ([`PORTAL_DWELL_MS`]). Docks learn no cadence (nothing resides there), so nothing else
    /// is scaled.
    pub fn at_portal(&self) -> Self {
        let mut d = self.clone();
        d.candidate_timeout = d.candidate_timeout.max(PORTAL_DWELL_MS);
        d
    }

    /// These knobs with `arrive_min_reads` set to `n`.
    pub fn with_arrive_min_reads(mut self, n: u8) -> Self {
        self.arrive_min_reads = n;
        self
    }
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs::from_config(&ReconcileConfig::default())
    }
}
