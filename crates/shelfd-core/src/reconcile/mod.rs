//! The reconciliation engine: pure and deterministic. Reads, reader link changes and time are
//! inputs; domain events (with their `seq`) and changed state records are outputs. It never
//! touches I/O, threads or the wall clock, so a read log replays to the same events byte for byte.
//!
//! What "right" means (DESIGN.md behaviours 1–11), and how the engine gets there:
//! 1. *No stray arrivals*: a tag is confirmed at a location only after `arrive_min_reads` reads
//!    spanning `arrive_dwell` there, stronger than anywhere else; reads under `min_rssi_dbm` count
//!    for nothing; unconfirmed evidence is forgotten after `candidate_timeout`. Reads weaker
//!    than the location's resident tags read down to (see `weak_arrive_dwell`) wait longer, so a tag its own
//!    shelf has not read yet is not confirmed at the neighbour that cross-read it first.
//! 2. *No flapping*: evidence per location is a decaying, RSSI-weighted score ([`tag`]); a
//!    challenger location must beat the current one by `move_ratio` for `move_dwell`.
//!    Weak, sparse cross-reads never get there, and read gaps only decay the current score slowly;
//!    a challenger whose reads are weak for its location must lead for `weak_arrive_dwell`.
//! 3. *One `tag.moved` per genuine move*, within about `log2(move_ratio + 1) × evidence_half_life
//!    + move_dwell` (25 s with the defaults), or at the absence timeout at the latest.
//! 4. *Antennas pool per location*: the topology maps antennas to locations before any evidence.
//! 5. *Departures after missed re-reads on a live reader*: each tag learns the upper envelope of
//!    its re-read interval (seeded by its location's); it departs after `depart_missed_reads`
//!    of those (clamped to `depart_min_absence..=depart_max_absence`) with its reader alive.
//! 6. *Offline or silent readers freeze departures* ([`liveness`]): absence counts only from the
//!    start of the reader's current alive streak; `reader.status` reports the changes.
//! 7. *Restarts cause nothing*: state is restored exactly ([`persist`]) and liveness restarts.
//! 8. *Baseline*: on a first start, tags confirmed during a location's baseline form its
//!    baseline `stock.snapshot` instead of arrivals and deltas; it lasts at least
//!    `baseline_window` and until the location's antennas have read its population
//!    ([`cadence`]).
//! 9. *Gateway time only; duplicates and late reads are idempotent*: a read not newer than the
//!    evidence it would add to changes nothing, and the engine clock never goes backwards.
//! 10. *POS, hold-off, returns, exits*: see [`engine`].
//! 11. *Aggregated stock deltas* ([`stock`]).
//! 12. *Dock receipts count only tags attributed to the door*: [`docking`] hands every tag the
//!     engine confirms at a dock location to the [`crate::dock`] book, and its sweep to the
//!     book's timers. A dock is a portal, not a shelf: it learns no cadence, keeps a tag's
//!     reads for a pallet's whole dwell ([`knobs::PORTAL_DWELL_MS`]), receives an EPC its open
//!     ASN lists on one read at the door's own level, and never confirms weak reads (another
//!     door's pallet) — see `portal_read` in [`engine`].
//!
//! Every time scale above follows the location's learned read cadence ([`cadence`]): a shelf
//! read every round keeps the configured seconds; a multiplexed antenna visited once a minute
//! or a Session-2 population re-read every few minutes gets candidate memory, evidence
//! half-life, move dwell and re-read prior in multiples of its cadence, two-read confirmation
//! (where a neighbour's weaker cross-reads also count, since they silence a Session-2 tag
//! too), departures counted in its own missed visits, and a first-start baseline per location
//! that closes only when its antennas have read its population. Bounds: the configured values
//! are the floor; memory is at most 3× the cadence (15 min while none is known); departures
//! stay within `depart_max_absence`.
//!
//! Store rules (`alert.low_stock` with hysteresis, `alert.misplaced` once per stay,
//! `alert.stockout_forecast` with hysteresis) are in [`rules`]; the depletion rates and
//! forecasts they and the snapshots use are learned in [`forecast`].
//!
//! Shelf-node lanes ([`lanes`]) add weight: untagged items counted by their lane's weight, and
//! picks that let the picked tag depart at once.

pub mod cadence;
pub mod config;
pub mod docking;
pub mod engine;
pub mod epc_key;
pub mod feed;
pub mod forecast;
pub mod knobs;
pub mod lanes;
pub mod liveness;
pub mod persist;
pub mod rules;
pub mod stock;
pub mod tag;
pub mod tag_table;
pub mod topology;

pub use engine::{Baseline, Engine, EngineStats, Input};
pub use epc_key::EpcKey;
pub use feed::RecordError;
pub use knobs::Knobs;
pub use persist::{Changes, Persisted, RestoreError, RestoreReport};
pub use rules::{LocationRules, StoreRules};
pub use topology::{LocIdx, ReaderIdx, Topology};
