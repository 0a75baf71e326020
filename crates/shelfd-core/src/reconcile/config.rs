//! [`ReconcileConfig`]: the `[reconcile]` section, the engine's tuning knobs. Every key is
//! optional; [`ReconcileConfig::default`] is exactly the documented defaults (the engine's tests
//! rely on that). Ranges are checked by `validate`.

use crate::duration;
use crate::kinds::UndecodedPolicy;
use serde::Deserialize;
use std::time::Duration;

/// `[reconcile]`: how raw reads become tag, stock and sale events.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReconcileConfig {
    /// Reads weaker than this (dBm) are ignored entirely; -120..=0. Default -85.
    pub min_rssi_dbm: f64,
    /// RSSI (dBm) at which a read weighs 1.0; the weight doubles every +6 dB; -120..=0.
    /// Default -60.
    pub rssi_ref_dbm: f64,
    /// Half-life of per-location read evidence; 1s..=10m. Default 10s.
    #[serde(deserialize_with = "duration::deserialize")]
    pub evidence_half_life: Duration,
    /// Reads needed at one location to confirm a new tag; 1..=100. Default 3.
    pub arrive_min_reads: u32,
    /// A new tag must be seen over at least this span; 0..=10m. Default 2s.
    #[serde(deserialize_with = "duration::deserialize")]
    pub arrive_dwell: Duration,
    /// An unconfirmed tag is forgotten after this much silence; 1s..=1h. Default 30s.
    #[serde(deserialize_with = "duration::deserialize")]
    pub candidate_timeout: Duration,
    /// A challenger location's evidence must exceed the current one's by this factor;
    /// 1.1..=100. Default 3.0.
    pub move_ratio: f64,
    /// …and keep that lead this long; 0..=10m. Default 5s.
    #[serde(deserialize_with = "duration::deserialize")]
    pub move_dwell: Duration,
    /// Reads at another location confirm or move a tag there only when their mean RSSI is at
    /// most this many dB below the tag's own reads at its current location (or below that
    /// location's resident tags, when those read weaker); weaker reads are cross-reads from a
    /// neighbour's antennas and only count as evidence. 0..=60. Default 6.
    pub cross_read_margin_db: f64,
    /// A new tag whose reads sit more than half `cross_read_margin_db` below the level the
    /// tags resident at its location read down to (a learned floor; at a location with none
    /// yet: the lowest floor of its reader's other locations, or `rssi_ref_dbm` while the
    /// reader has none either) is confirmed only once its reads span this long, and only if
    /// no stronger location read it meanwhile: weak reads may be a neighbour's cross-reads of
    /// a tag its own antennas have not read yet (slow Session-2 tags, occlusion). Moving a
    /// present tag to where its reads are weak waits as long. 0..=10m. Default 60s.
    #[serde(deserialize_with = "duration::deserialize")]
    pub weak_arrive_dwell: Duration,
    /// A tag departs after missing this many expected re-reads; 1..=1000. Default 6.
    pub depart_missed_reads: u32,
    /// Never depart before this much absence; 1s..=24h. Default 20s.
    #[serde(deserialize_with = "duration::deserialize")]
    pub depart_min_absence: Duration,
    /// Cap on the learned absence timeout; at least `depart_min_absence`. Default 30m.
    #[serde(deserialize_with = "duration::deserialize")]
    pub depart_max_absence: Duration,
    /// Re-read interval assumed before one is learned; 100ms..=1h. Default 5s.
    #[serde(deserialize_with = "duration::deserialize")]
    pub initial_reread_interval: Duration,
    /// A reader with no reads or heartbeats for this long is silent (its departures freeze);
    /// 1s..=1h. Default 30s.
    #[serde(deserialize_with = "duration::deserialize")]
    pub reader_silence: Duration,
    /// Reads at a POS location that sell an item; 1..=100. Default 2.
    pub pos_min_reads: u32,
    /// Reads at an exit location that count as leaving; 1..=100. Default 2.
    pub exit_min_reads: u32,
    /// A sold item's reads are ignored this long; 0..=365d. Default 24h.
    #[serde(deserialize_with = "duration::deserialize")]
    pub sold_hold_off: Duration,
    /// Departed tags are remembered this long (exit alerts, POS sales after a departure);
    /// 0..=7d. Default 1h.
    #[serde(deserialize_with = "duration::deserialize")]
    pub departed_memory: Duration,
    /// A (location, sku) stock delta is published after this much quiet; 0..=1h. Default 30s.
    #[serde(deserialize_with = "duration::deserialize")]
    pub settle_quiet: Duration,
    /// …or at the latest this long after its first change; at least `settle_quiet`.
    /// Default 2m.
    #[serde(deserialize_with = "duration::deserialize")]
    pub settle_max: Duration,
    /// First start with an empty state dir: tags confirmed within this window form the baseline
    /// snapshot instead of arrivals; 0..=1h. Default 2m.
    #[serde(deserialize_with = "duration::deserialize")]
    pub baseline_window: Duration,
    /// How often last-seen times are checkpointed to disk; 1s..=24h. Default 10m.
    #[serde(deserialize_with = "duration::deserialize")]
    pub checkpoint_interval: Duration,
    /// Tags that decode to no product and match no `[[product]]`. Default `track`.
    pub undecoded: UndecodedPolicy,
    /// An `alert.low_stock` of a (location, GTIN) is raised once when its settled count falls
    /// below the location's `safety_stock`, and re-armed only when the count is back at
    /// `safety_stock` + this; 0..=10000. Default 2.
    pub low_stock_rearm: u32,
    /// An `alert.stockout_forecast` of a (location, GTIN) is raised once when its depletion
    /// forecast says the settled count falls below the location's `safety_stock` within this
    /// much time; 1m..=7d. Default 1h.
    #[serde(deserialize_with = "duration::deserialize")]
    pub forecast_horizon: Duration,
    /// Half-life of the learned depletion rate of each (location, SKU): shorter follows a rush
    /// sooner, longer is steadier; a (location, SKU) has a forecast once it has half of this
    /// much history and 3 units of demand; 10s..=7d. Default 1h.
    #[serde(deserialize_with = "duration::deserialize")]
    pub depletion_half_life: Duration,
}

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        ReconcileConfig {
            min_rssi_dbm: -85.0,
            rssi_ref_dbm: -60.0,
            evidence_half_life: secs(10),
            arrive_min_reads: 3,
            arrive_dwell: secs(2),
            candidate_timeout: secs(30),
            move_ratio: 3.0,
            move_dwell: secs(5),
            cross_read_margin_db: 6.0,
            weak_arrive_dwell: secs(60),
            depart_missed_reads: 6,
            depart_min_absence: secs(20),
            depart_max_absence: secs(30 * 60),
            initial_reread_interval: secs(5),
            reader_silence: secs(30),
            pos_min_reads: 2,
            exit_min_reads: 2,
            sold_hold_off: secs(24 * 3600),
            departed_memory: secs(3600),
            settle_quiet: secs(30),
            settle_max: secs(120),
            baseline_window: secs(120),
            checkpoint_interval: secs(600),
            undecoded: UndecodedPolicy::Track,
            low_stock_rearm: 2,
            forecast_horizon: secs(3600),
            depletion_half_life: secs(3600),
        }
    }
}
