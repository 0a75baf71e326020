//! [`Engine`]: the reconciliation state machine. Inputs (reads, reader links) with gateway
//! timestamps go in; domain [`Event`]s come out, with their `seq` assigned. Time only moves with
//! the inputs (and [`Engine::advance`]): the engine never reads a clock, never blocks, never does
//! I/O. Timers (departures, settle windows, the baseline, silence checks, checkpoints) run in a
//! sweep at every whole second of gateway time, so the same inputs always give the same events.

use super::cadence::{self, Cadence, LocBaseline, VisitLog};
use super::epc_key::EpcKey;
use super::forecast::ForecastBook;
use super::knobs::Knobs;
use super::lanes::LaneBook;
use super::liveness::{Liveness, StatusChange};
use super::rules::RuleState;
use super::stock::StockBook;
use super::tag::{NO_LOC, NO_SKU, Slot, Status, Tag, level_of, read_weight};
use super::tag_table::TagTable;
use super::topology::{LocIdx, ReaderIdx, Topology};
use crate::dock::Expected;
use crate::events::{DepartCause, Event, EventBody, StockSnapshot};
use crate::kinds::{LocationKind, UndecodedPolicy};
use crate::readlog::{LaneChange, LinkState};
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

/// Sweep period (ms of gateway time).
pub const SWEEP_MS: u64 = 1000;
/// Sold tags are remembered this long after their hold-off ends (for `tag.returned`).
pub const SOLD_MEMORY_MS: u64 = 30 * 24 * 3600 * 1000;
/// Streak gap at POS and exit locations: reads further apart than this do not add up to a sale
/// or an exit.
pub const PORTAL_STREAK_MS: u64 = 5000;
/// Longest gap of sweeps replayed one by one; a longer gap (downtime) is swept once.
const MAX_CATCH_UP_SWEEPS: u64 = 3600;
/// A tag's learned re-read envelope rises by half of a longer gap at once, and falls by only
/// 1/this of the difference per shorter gap: re-read gaps of slow (Session-2) tags are
/// long-tailed, and an envelope that forgets its long gaps quickly departs tags that are there.
const TAG_GAP_FALL_DIV: u32 = 128;
/// The same for a location's envelope, learned from all its tags' gaps. It seeds the envelope
/// of every tag that arrives there, and bounds it from below, so it must sit high in the gap
/// distribution too: at 1/8 it settled near 1.6× the mean gap of a Session-2 population and a
/// tag confirmed on a few quick reads departed on its first long gap (at 1/64: about 2.8×).
const LOC_GAP_FALL_DIV: u32 = 64;
/// A location's resident level moves by 1/this of each own read's difference.
const LOC_LEVEL_DIV: f32 = 64.0;
/// A location's floor learns from streaks of at least this many reads (a streak's mean level
/// is noisy before that).
const FLOOR_MIN_READS: u8 = 8;
/// A location's floor falls by 1/this of the difference to a lower streak level, and rises by
/// 1/[`FLOOR_RISE_DIV`] of it: it settles low in the spread of its tags' levels (tags on one
/// shelf read 20 dB apart and more, by orientation and distance).
const FLOOR_FALL_DIV: f32 = 8.0;
/// See [`FLOOR_FALL_DIV`].
const FLOOR_RISE_DIV: f32 = 512.0;

/// One engine input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Input<'a> {
    /// A tag read.
    Read {
        /// Gateway time, ms.
        t: u64,
        /// Reader index in the topology.
        reader: ReaderIdx,
        /// Antenna port.
        antenna: u16,
        /// EPC bytes.
        epc: &'a [u8],
        /// RSSI in dBm.
        rssi: Option<f32>,
    },
    /// A reader link change or heartbeat.
    Link {
        /// Gateway time, ms.
        t: u64,
        /// Reader index in the topology.
        reader: ReaderIdx,
        /// New state.
        state: LinkState,
    },
    /// A shelf-node lane's pick/put or settled weight ([`super::lanes`]).
    Lane {
        /// Gateway time, ms.
        t: u64,
        /// The shelf-link reader (bus) index in the topology.
        reader: ReaderIdx,
        /// Node address.
        node: u8,
        /// Lane on the node.
        lane: u8,
        /// What the lane reported.
        change: LaneChange,
    },
}

impl Input<'_> {
    /// Gateway time of the input.
    pub fn t(&self) -> u64 {
        match self {
            Input::Read { t, .. } | Input::Link { t, .. } | Input::Lane { t, .. } => *t,
        }
    }
}

/// Where the first-start baseline stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baseline {
    /// Fresh state: the window opens at the first input.
    NotStarted,
    /// Inside the window, which closes at this time.
    Until(u64),
    /// The baseline snapshot was published.
    Done,
}

/// Counters the engine keeps for metrics and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Reads processed.
    pub reads: u64,
    /// Reads from an antenna mapped to no location.
    pub unmapped_reads: u64,
    /// Reads below `min_rssi_dbm`.
    pub weak_reads: u64,
    /// Reads that were duplicates or older than the evidence they would add to.
    pub stale_reads: u64,
}

/// Snapshot metadata per location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SnapMeta {
    /// When the location's published counts last changed.
    pub time_ms: u64,
    /// Whether that was the baseline.
    pub baseline: bool,
    /// Last seq reflected.
    pub as_of_seq: u64,
}

/// What changed since the last [`Engine::take_changes`], for the store.
#[derive(Debug, Default)]
pub struct Dirty {
    /// Tags to write (`Some`) or delete (`None`).
    pub tags: FxHashSet<EpcKey>,
    /// Location records to write.
    pub locations: Vec<bool>,
    /// Reader records to write.
    pub readers: Vec<bool>,
    /// Snapshots to republish.
    pub snapshots: Vec<bool>,
    /// Engine globals to write.
    pub meta: bool,
}

/// The reconciliation engine. See the module docs of [`crate::reconcile`].
pub struct Engine {
    pub(super) topo: Topology,
    pub(super) kinds: Vec<LocationKind>,
    pub(super) k: Knobs,
    pub(super) tags: TagTable,
    pub(super) skus: Vec<Arc<str>>,
    pub(super) sku_ids: FxHashMap<Arc<str>, u32>,
    pub(super) stock: StockBook,
    pub(super) readers: Vec<Liveness>,
    pub(super) loc_gap: Vec<u32>,
    /// Learned mean level (half-dB, see [`level_of`]) of reads of tags present at each
    /// location, by its own antennas; None until one is seen.
    pub(super) loc_level: Vec<Option<f32>>,
    /// Learned low envelope of the streak levels of tags present at each location: its
    /// resident tags read down to about here, and reads well below it may be cross-reads (see
    /// `weak_arrive_dwell`); None until a streak of [`FLOOR_MIN_READS`] reads is seen.
    pub(super) loc_floor: Vec<Option<f32>>,
    pub(super) snap: Vec<SnapMeta>,
    /// Store rules and their alert state ([`super::rules`]).
    pub(super) rules: RuleState,
    /// Learned depletion rates and week profiles ([`super::forecast`]).
    pub(super) forecast: ForecastBook,
    pub(super) now: u64,
    pub(super) next_sweep: u64,
    pub(super) next_seq: u64,
    pub(super) baseline: Baseline,
    pub(super) last_checkpoint: u64,
    pub(super) dirty: Dirty,
    pub(super) stats: EngineStats,
    pub(super) lanes: LaneBook,
    /// Receiving docks (see [`super::docking`]); empty unless attached.
    pub(super) docks: crate::dock::DockBook,
    /// Learned read cadence of each location ([`super::cadence`]).
    pub(super) loc_cadence: Vec<Cadence>,
    /// Each location's first-start baseline.
    pub(super) loc_base: Vec<LocBaseline>,
    /// When each location was read, in visits (whether its cadence can be trusted yet).
    pub(super) loc_visits: Vec<VisitLog>,
    /// The knobs scaled to each location's cadence (derived from `k` and `loc_cadence`).
    pub(super) loc_knobs: Vec<Knobs>,
    /// The readers whose antennas cover each location (derived from the topology). A location
    /// covered by none (a shelf of weighed lanes only) follows the plain `baseline_window`.
    pub(super) loc_readers: Vec<Vec<ReaderIdx>>,
    /// The longest candidate memory among each reader's locations (derived, with
    /// `loc_knobs`): a candidate read only weakly, as a neighbour's cross-read, may belong to
    /// the reader's slowest location.
    pub(super) reader_memory: Vec<u64>,
    /// Whether each location's cadence is established (derived, with `loc_knobs`).
    pub(super) loc_established: Vec<bool>,
    /// Tags at home at each location at the last sweep: present there, or candidates whose
    /// best evidence is there and not weaker than elsewhere (derived).
    pub(super) loc_residents: Vec<u32>,
}

/// What a read or a sweep decided for one tag; applied by [`Engine::apply`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Outcome {
    Nothing,
    Arrived {
        loc: LocIdx,
    },
    Returned {
        loc: LocIdx,
    },
    Moved {
        from: LocIdx,
        to: LocIdx,
    },
    Departed {
        from: LocIdx,
        last_seen: u64,
        cause: DepartCause,
    },
    Sold {
        pos: LocIdx,
        from: LocIdx,
        was_present: bool,
    },
    Exited {
        exit: LocIdx,
        from: LocIdx,
        was_present: bool,
        last_seen: u64,
    },
    Forget,
    Stale,
}

impl Engine {
    /// A fresh engine (first start, empty state dir): `seq` starts at 1 and the baseline window
    /// opens at the first input.
    pub fn new(topo: Topology, k: Knobs) -> Self {
        let n_loc = topo.locations.len();
        let n_rd = topo.readers.len();
        let kinds: Vec<LocationKind> = topo.locations.iter().map(|l| l.kind).collect();
        let mut loc_readers: Vec<Vec<ReaderIdx>> = vec![Vec::new(); n_loc];
        for (r, reader) in topo.readers.iter().enumerate() {
            for loc in reader.antennas.iter().flatten() {
                if let Some(v) = loc_readers.get_mut(usize::from(*loc)) {
                    if !v.contains(&(r as ReaderIdx)) {
                        v.push(r as ReaderIdx);
                    }
                }
            }
        }
        let loc_base = kinds
            .iter()
            .map(|kind| LocBaseline {
                done: !kind.is_stock(),
                ready_at: 0,
            })
            .collect();
        let mut e = Engine {
            topo,
            kinds,
            tags: TagTable::new(),
            skus: Vec::new(),
            sku_ids: FxHashMap::default(),
            stock: StockBook::new(n_loc),
            readers: vec![Liveness::default(); n_rd],
            loc_gap: vec![0; n_loc],
            loc_level: vec![None; n_loc],
            loc_floor: vec![None; n_loc],
            snap: vec![SnapMeta::default(); n_loc],
            rules: RuleState::new(n_loc),
            forecast: ForecastBook::new(n_loc),
            now: 0,
            next_sweep: 0,
            next_seq: 1,
            baseline: Baseline::NotStarted,
            last_checkpoint: 0,
            dirty: Dirty {
                tags: FxHashSet::default(),
                locations: vec![false; n_loc],
                readers: vec![false; n_rd],
                snapshots: vec![false; n_loc],
                meta: false,
            },
            stats: EngineStats::default(),
            lanes: LaneBook::default(),
            docks: crate::dock::DockBook::default(),
            loc_cadence: vec![Cadence::default(); n_loc],
            loc_base,
            loc_visits: vec![VisitLog::default(); n_loc],
            loc_knobs: Vec::new(),
            loc_readers,
            reader_memory: Vec::new(),
            loc_established: Vec::new(),
            loc_residents: vec![0; n_loc],
            k,
        };
        e.refresh_knobs();
        e
    }

    /// Recomputes every location's scaled knobs from the tuning and the learned cadences.
    pub(super) fn refresh_knobs(&mut self) {
        let own: Vec<bool> = self
            .loc_cadence
            .iter()
            .zip(&self.loc_visits)
            .map(|(c, v)| v.established(*c))
            .collect();
        // A location that has not shown a clock of its own and has no tag at home (an empty
        // shelf, read only as a neighbour's cross-reads) runs on its readers' slowest
        // established one: a reader that reads all its antennas every round reads it as often,
        // a multiplexing one visits it in turn like the others.
        let borrowed: Vec<Option<Cadence>> = (0..self.kinds.len())
            .map(|l| {
                if own[l] || self.loc_residents.get(l).copied().unwrap_or(0) > 0 {
                    return None;
                }
                self.loc_readers[l]
                    .iter()
                    .filter_map(|r| self.topo.readers.get(usize::from(*r)))
                    .flat_map(|r| r.antennas.iter().flatten())
                    .map(|o| usize::from(*o))
                    .filter(|&o| own.get(o).copied().unwrap_or(false))
                    .map(|o| self.loc_cadence[o])
                    .max_by_key(|c| c.mean_ms())
            })
            .collect();
        self.loc_knobs = (0..self.kinds.len())
            .map(|l| {
                // Pallets pass through a dock portal; no population there keeps a clock.
                if self.kinds[l] == LocationKind::Dock {
                    return self.k.at_portal();
                }
                let learning = !self.loc_base[l].done;
                match borrowed[l] {
                    // Borrowed: its clock, not the two-read rule of a slow population of its
                    // own (a tag read only as a cross-read there needs the usual evidence).
                    Some(c) => cadence::scaled(&self.k, c, true, learning)
                        .with_arrive_min_reads(self.k.arrive_min_reads),
                    None => cadence::scaled(&self.k, self.loc_cadence[l], own[l], learning),
                }
            })
            .collect();
        self.loc_established = (0..self.kinds.len())
            .map(|l| own[l] || borrowed[l].is_some())
            .collect();
        self.reader_memory = self
            .topo
            .readers
            .iter()
            .map(|r| {
                r.antennas
                    .iter()
                    .flatten()
                    .filter_map(|l| self.loc_knobs.get(usize::from(*l)))
                    .map(|k| k.candidate_timeout)
                    .max()
                    .unwrap_or(self.k.candidate_timeout)
            })
            .collect();
    }

    /// The learned read cadence of a location (see [`super::cadence`]).
    pub fn cadence(&self, loc: LocIdx) -> Option<Cadence> {
        self.loc_cadence.get(usize::from(loc)).copied()
    }

    /// The topology the engine runs on.
    pub fn topology(&self) -> &Topology {
        &self.topo
    }

    /// Gateway time of the latest input (0 before the first).
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The seq the next event will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Counters.
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// Whether the engine holds a tag (a candidate, present, departed or sold).
    pub fn holds(&self, epc: &[u8]) -> bool {
        self.tags.contains_key(&EpcKey::new(epc))
    }

    /// Where a tag is in stock (its location index), if it is.
    pub fn location_of(&self, epc: &[u8]) -> Option<LocIdx> {
        self.tags
            .get(&EpcKey::new(epc))
            .filter(|t| t.status == Status::Present)
            .map(|t| t.slots[0].loc)
    }

    /// Number of tags held in memory (candidates, present, departed and sold).
    pub fn tracked_tags(&self) -> usize {
        self.tags.len()
    }

    /// Bytes the tag table occupies per tag held (see [`TagTable::bytes`]).
    pub fn bytes_per_tag(&self) -> f64 {
        self.tags.bytes() as f64 / self.tags.len().max(1) as f64
    }

    /// Number of tags present per location index.
    pub fn present_per_location(&self) -> Vec<usize> {
        let mut v = vec![0; self.kinds.len()];
        for t in self.tags.values() {
            if t.status == Status::Present {
                if let Some(c) = v.get_mut(usize::from(t.slots[0].loc)) {
                    *c += 1;
                }
            }
        }
        v
    }

    /// Replaces the tuning (a config reload). Takes effect from the next input or timer; state
    /// already built (evidence, learned intervals, pending deltas) is kept.
    pub fn set_knobs(&mut self, k: Knobs) {
        self.k = k;
        self.refresh_knobs();
    }

    /// The current tuning.
    pub fn knobs(&self) -> &Knobs {
        &self.k
    }

    /// The baseline state.
    pub fn baseline(&self) -> Baseline {
        self.baseline
    }

    /// Processes one input; events it causes (and those of timers due before it) are appended
    /// to `out`.
    pub fn handle(&mut self, input: Input<'_>, out: &mut Vec<Event>) {
        let t = input.t();
        self.advance(t, out);
        match input {
            Input::Read {
                t,
                reader,
                antenna,
                epc,
                rssi,
            } => self.on_read(t, reader, antenna, epc, rssi, out),
            Input::Link { t, reader, state } => self.on_link(t, reader, state, out),
            Input::Lane {
                t,
                reader,
                node,
                lane,
                change,
            } => self.on_lane(t, reader, node, lane, change),
        }
    }

    /// Moves gateway time forward to `t`, running every sweep due by then. Time never goes
    /// backwards: an earlier `t` changes nothing.
    pub fn advance(&mut self, t: u64, out: &mut Vec<Event>) {
        if self.baseline == Baseline::NotStarted {
            self.baseline = Baseline::Until(t.saturating_add(self.k.baseline_window));
            self.dirty.meta = true;
        }
        if self.next_sweep == 0 {
            self.next_sweep = (t / SWEEP_MS).saturating_add(1).saturating_mul(SWEEP_MS);
        }
        if t <= self.now {
            return;
        }
        self.now = t;
        if self.next_sweep <= t {
            let behind = (t - self.next_sweep) / SWEEP_MS;
            if behind > MAX_CATCH_UP_SWEEPS {
                self.next_sweep = (t / SWEEP_MS) * SWEEP_MS;
            }
            while self.next_sweep <= t {
                let at = self.next_sweep;
                self.sweep(at, out);
                // Terminates for any `t`: at the end of time there is no next sweep.
                let Some(next) = at.checked_add(SWEEP_MS) else {
                    break;
                };
                self.next_sweep = next;
            }
            self.dirty.meta = true;
        }
    }

    /// A clean stop at the current time: publishes pending stock deltas and checkpoints every
    /// tag, so a restart resumes exactly here.
    pub fn shutdown(&mut self, out: &mut Vec<Event>) {
        let now = self.now;
        self.flush_stock(now, true, out);
        self.checkpoint(now);
        self.dirty.meta = true;
    }

    pub(super) fn emit(&mut self, out: &mut Vec<Event>, time_ms: u64, body: EventBody) {
        out.push(Event {
            seq: self.next_seq,
            time_ms,
            body,
        });
        self.next_seq += 1;
        self.dirty.meta = true;
    }

    /// Some location is still in its first-start baseline.
    pub(super) fn in_baseline(&self) -> bool {
        matches!(self.baseline, Baseline::Until(_) | Baseline::NotStarted)
    }

    /// Location `loc` is still in its first-start baseline: what is confirmed there forms it,
    /// and nothing departs from it.
    #[inline]
    pub(super) fn in_baseline_at(&self, loc: LocIdx) -> bool {
        self.loc_base.get(usize::from(loc)).is_some_and(|b| !b.done)
    }

    fn intern_sku(&mut self, epc: &[u8]) -> Option<u32> {
        match self.topo.sku_of(epc) {
            Some(s) => Some(self.intern(s)),
            None if self.k.undecoded == UndecodedPolicy::Ignore => None,
            None => Some(NO_SKU),
        }
    }

    pub(super) fn intern(&mut self, s: Arc<str>) -> u32 {
        if let Some(&i) = self.sku_ids.get(&s) {
            return i;
        }
        let i = u32::try_from(self.skus.len())
            .unwrap_or(NO_SKU - 1)
            .min(NO_SKU - 1);
        self.skus.push(s.clone());
        self.sku_ids.insert(s, i);
        i
    }

    pub(super) fn sku_str(&self, sku: u32) -> Option<String> {
        self.skus.get(sku as usize).map(|s| s.to_string())
    }

    pub(super) fn loc_id(&self, loc: LocIdx) -> String {
        self.topo
            .locations
            .get(usize::from(loc))
            .map(|l| l.id.to_string())
            .unwrap_or_default()
    }

    fn counts_stock(&self, sku: u32) -> bool {
        sku != NO_SKU || self.k.undecoded == UndecodedPolicy::Count
    }

    fn report_reader(
        &mut self,
        reader: ReaderIdx,
        change: Option<StatusChange>,
        t: u64,
        out: &mut Vec<Event>,
    ) {
        if let Some(c) = change {
            let id = self.topo.readers[usize::from(reader)].id.to_string();
            self.dirty.readers[usize::from(reader)] = true;
            let since = crate::timefmt::rfc3339_ms(c.since);
            self.emit(
                out,
                t,
                EventBody::ReaderStatus {
                    reader: id,
                    state: c.state,
                    since,
                },
            );
        }
    }

    fn on_link(&mut self, t: u64, reader: ReaderIdx, state: LinkState, out: &mut Vec<Event>) {
        let Some(live) = self.readers.get_mut(usize::from(reader)) else {
            return;
        };
        let change = match state {
            LinkState::Up | LinkState::Alive => live.activity(t, self.k.reader_silence),
            LinkState::Down => live.down(t),
        };
        self.report_reader(reader, change, t, out);
    }

    fn on_read(
        &mut self,
        t: u64,
        reader: ReaderIdx,
        antenna: u16,
        epc: &[u8],
        rssi: Option<f32>,
        out: &mut Vec<Event>,
    ) {
        self.stats.reads += 1;
        let Some(live) = self.readers.get_mut(usize::from(reader)) else {
            return;
        };
        let change = live.activity(t, self.k.reader_silence);
        let alive_since = live.alive_since;
        if change.is_some() {
            self.report_reader(reader, change, t, out);
        }
        let Some(loc) = self.topo.location_of(reader, antenna) else {
            self.stats.unmapped_reads += 1;
            return;
        };
        if let Some(r) = rssi {
            if r < self.k.min_rssi_dbm {
                self.stats.weak_reads += 1;
                return;
            }
        }
        let w = read_weight(rssi, self.k.rssi_ref_dbm);
        let lvl = level_of(rssi, self.k.rssi_ref_dbm);
        let li = usize::from(loc);
        let kind = self.kinds[li];
        // A dock portal has no population with a clock of its own: pallets pass through it.
        let slow = kind != LocationKind::Dock && self.loc_cadence[li].slow();
        self.loc_visits[li].read(t);
        let key = EpcKey::new(epc);
        let expected = if kind == LocationKind::Dock {
            self.docks.expects(t, loc, epc)
        } else {
            Expected::Nowhere
        };
        if expected == Expected::Here {
            // The door's own pallet: its reads teach the door's level from the first one on
            // (a portal has no residents to learn it from), so that the adjacent door's
            // cross-reads can be told apart within seconds of a session opening.
            let l = &mut self.loc_level[li];
            let v = f32::from(lvl);
            let spread = portal_spread(Expected::Here) * f32::from(self.k.cross_read_margin);
            match *l {
                None => *l = Some(v),
                Some(old) if v >= old - spread => *l = Some(old + (v - old) / LOC_LEVEL_DIV),
                Some(_) => {}
            }
        }
        let outcome = match self.tags.get_mut(&key) {
            Some(tag) => {
                let loc_gap = self.loc_gap[usize::from(loc)];
                let own_read = tag.status == Status::Present && tag.slots[0].loc == loc;
                let resident_floor = if own_read {
                    None
                } else {
                    resident_floor(&self.topo, &self.kinds, &self.loc_floor, reader, loc)
                };
                let r = read_known(
                    tag,
                    (&self.loc_knobs[li], &self.loc_knobs, &self.loc_cadence),
                    Read {
                        reader,
                        loc,
                        kind,
                        t,
                        w,
                        lvl,
                        resident_floor,
                        slow,
                        expected,
                    },
                    alive_since,
                    loc_gap,
                    &self.loc_level,
                );
                if let Some(gap) = r.gap {
                    learn_gap(&mut self.loc_gap[usize::from(loc)], gap, LOC_GAP_FALL_DIV);
                }
                if let Some((envelope, gap)) = r.cadence.filter(|_| kind != LocationKind::Dock) {
                    self.loc_cadence[li].learn(envelope, gap);
                }
                if let Some((streak_level, streak_reads)) = r.own {
                    let l = &mut self.loc_level[usize::from(loc)];
                    let v = f32::from(lvl);
                    *l = Some(l.map_or(v, |old| old + (v - old) / LOC_LEVEL_DIV));
                    if streak_reads >= FLOOR_MIN_READS {
                        learn_floor(
                            &mut self.loc_floor[usize::from(loc)],
                            f32::from(streak_level),
                        );
                    }
                }
                r.outcome
            }
            None => {
                if !kind.is_stock() {
                    return; // a first read at a POS or an exit creates nothing
                }
                let Some(sku) = self.intern_sku(epc) else {
                    return;
                };
                let mut tag = Tag::candidate(sku, reader, loc, t, w, lvl);
                let initial_gap = self.initial_gap(loc);
                let read = Read {
                    reader,
                    loc,
                    kind,
                    t,
                    w,
                    lvl,
                    resident_floor: resident_floor(
                        &self.topo,
                        &self.kinds,
                        &self.loc_floor,
                        reader,
                        loc,
                    ),
                    slow,
                    expected,
                };
                let o = try_confirm(
                    &mut tag,
                    (&self.loc_knobs[li], &self.loc_knobs),
                    &read,
                    0,
                    initial_gap,
                    &self.loc_level,
                );
                self.tags.insert(key.clone(), tag);
                o
            }
        };
        match outcome {
            Outcome::Nothing => {}
            Outcome::Stale => {
                self.stats.stale_reads += 1;
            }
            o => self.apply(&key, o, t, out),
        }
    }

    fn initial_gap(&self, loc: LocIdx) -> u32 {
        let learned = self.loc_gap.get(usize::from(loc)).copied().unwrap_or(0);
        let prior = self
            .loc_knobs
            .get(usize::from(loc))
            .map_or(self.k.initial_reread_interval, |k| {
                k.initial_reread_interval
            });
        seed_gap(learned, prior)
    }

    /// Applies an outcome: stock changes, events, persistence marks.
    pub(super) fn apply(&mut self, key: &EpcKey, o: Outcome, t: u64, out: &mut Vec<Event>) {
        let Some(tag) = self.tags.get_mut(key) else {
            return;
        };
        let new_stay = matches!(
            o,
            Outcome::Arrived { .. } | Outcome::Moved { .. } | Outcome::Returned { .. }
        );
        if new_stay {
            tag.misplaced = false;
        }
        let sku = tag.sku;
        let live = |e: &Engine, loc: LocIdx| !e.in_baseline_at(loc);
        let counts = self.counts_stock(sku);
        let epc = || key.to_hex();
        match o {
            Outcome::Nothing | Outcome::Stale => {}
            Outcome::Forget => {
                self.tags.remove(key);
            }
            Outcome::Arrived { loc } => {
                let publish = live(self, loc);
                if counts {
                    self.count(loc, sku, true, t, publish);
                }
                if publish {
                    let body = EventBody::TagArrived {
                        epc: epc(),
                        sku: self.sku_str(sku),
                        location: self.loc_id(loc),
                    };
                    self.emit(out, t, body);
                }
            }
            Outcome::Returned { loc } => {
                if counts {
                    let publish = live(self, loc);
                    self.count(loc, sku, true, t, publish);
                }
                let body = EventBody::TagReturned {
                    epc: epc(),
                    sku: self.sku_str(sku),
                    location: self.loc_id(loc),
                };
                self.emit(out, t, body);
            }
            Outcome::Moved { from, to } => {
                let publish = live(self, to);
                if counts {
                    let from_live = live(self, from);
                    self.count(from, sku, false, t, from_live);
                    self.count(to, sku, true, t, publish);
                }
                if publish {
                    let body = EventBody::TagMoved {
                        epc: epc(),
                        sku: self.sku_str(sku),
                        from: self.loc_id(from),
                        to: self.loc_id(to),
                    };
                    self.emit(out, t, body);
                }
            }
            Outcome::Departed {
                from,
                last_seen,
                cause,
            } => {
                let publish = live(self, from);
                if counts {
                    self.count(from, sku, false, t, publish);
                }
                if publish {
                    let body = self.departed(key, sku, from, last_seen, cause);
                    self.emit(out, t, body);
                }
            }
            Outcome::Sold {
                pos,
                from,
                was_present,
            } => {
                if was_present && counts {
                    let publish = live(self, from);
                    self.count(from, sku, false, t, publish);
                }
                let body = EventBody::TagSold {
                    epc: epc(),
                    sku: self.sku_str(sku),
                    location: self.loc_id(pos),
                    from: self.loc_id(from),
                };
                self.emit(out, t, body);
            }
            Outcome::Exited {
                exit,
                from,
                was_present,
                last_seen,
            } => {
                let body = EventBody::AlertExit {
                    epc: epc(),
                    sku: self.sku_str(sku),
                    location: self.loc_id(exit),
                    from: self.loc_id(from),
                };
                self.emit(out, t, body);
                if was_present {
                    let publish = live(self, from);
                    if counts {
                        self.count(from, sku, false, t, publish);
                    }
                    if publish {
                        let body = self.departed(key, sku, from, last_seen, DepartCause::Exit);
                        self.emit(out, t, body);
                    }
                }
            }
        }
        if let Outcome::Arrived { loc }
        | Outcome::Returned { loc }
        | Outcome::Moved { to: loc, .. } = o
        {
            self.dock_confirmed(key, loc, sku, t);
        }
        self.dirty.tags.insert(key.clone());
        let stay = match o {
            Outcome::Arrived { loc }
            | Outcome::Returned { loc }
            | Outcome::Moved { to: loc, .. } => Some(loc),
            _ => None,
        };
        if stay.is_some_and(|loc| !self.in_baseline_at(loc)) {
            self.check_misplaced(key, t, out);
        }
    }

    /// Applies a ±1 to a location's stock and marks its record for the next commit.
    pub(super) fn count(&mut self, loc: LocIdx, sku: u32, up: bool, t: u64, publish: bool) {
        self.stock.change(loc, sku, up, t, publish);
        self.dirty.locations[usize::from(loc)] = true;
    }

    fn departed(
        &self,
        key: &EpcKey,
        sku: u32,
        from: LocIdx,
        last_seen: u64,
        cause: DepartCause,
    ) -> EventBody {
        EventBody::TagDeparted {
            epc: key.to_hex(),
            sku: self.sku_str(sku),
            from: self.loc_id(from),
            last_seen: crate::timefmt::rfc3339_ms(last_seen),
            cause,
        }
    }

    /// The timers of one whole second of gateway time.
    fn sweep(&mut self, now: u64, out: &mut Vec<Event>) {
        let silence = self.k.reader_silence;
        for r in 0..self.readers.len() {
            let change = self.readers[r].check_silence(now, silence);
            self.report_reader(r as ReaderIdx, change, now, out);
        }
        self.refresh_knobs();
        // Candidates first read before a location was ready hold its baseline open.
        let counting = self.loc_base.iter().any(|b| !b.done && b.ready_at != 0);
        let mut pending = vec![0u32; if counting { self.kinds.len() } else { 0 }];
        let mut actions: Vec<(EpcKey, Outcome)> = Vec::new();
        let mut residents = vec![0u32; self.kinds.len()];
        for (key, tag) in self.tags.iter_mut() {
            if counting && tag.status == Status::Candidate {
                // It holds the baseline of its home (its stronger evidence) and of every slow
                // location of the reader that read it: a Session-2 tag's first reads may all
                // be a neighbour's cross-reads.
                let home = if !tag.slots[1].is_empty() && tag.slots[1].level > tag.slots[0].level {
                    tag.slots[1].loc
                } else {
                    tag.slots[0].loc
                };
                let reader_locs = self
                    .topo
                    .readers
                    .get(usize::from(tag.reader))
                    .map_or(&[][..], |r| &r.antennas[..]);
                for (l, b) in self.loc_base.iter().enumerate() {
                    if b.done || b.ready_at == 0 || tag.mark >= b.ready_at {
                        continue;
                    }
                    let slow_here =
                        self.loc_cadence[l].slow() && reader_locs.contains(&Some(l as LocIdx));
                    if usize::from(home) == l || slow_here {
                        if let Some(p) = pending.get_mut(l) {
                            *p += 1;
                        }
                    }
                }
            }
            let home = tag.slots[0];
            let at_home = match tag.status {
                Status::Present => true,
                Status::Candidate => tag.slots[1].is_empty() || home.level >= tag.slots[1].level,
                _ => false,
            };
            if at_home {
                if let Some(n) = residents.get_mut(usize::from(home.loc)) {
                    *n += 1;
                }
            }
            let o = sweep_tag(
                tag,
                (
                    &self.k,
                    &self.loc_knobs,
                    &self.loc_base,
                    &self.reader_memory,
                ),
                (&self.loc_cadence, &self.loc_established),
                &self.kinds,
                &self.readers,
                (&self.loc_gap, &self.loc_level),
                now,
            );
            if o != Outcome::Nothing {
                actions.push((key.clone(), o));
            }
        }
        actions.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (key, o) in actions {
            if let Outcome::Forget = o {
                // Candidates were never persisted; departed and sold tags were.
                if self
                    .tags
                    .get(&key)
                    .is_some_and(|t| t.status != Status::Candidate)
                {
                    self.dirty.tags.insert(key.clone());
                }
                self.tags.remove(&key);
            } else {
                self.apply(&key, o, now, out);
            }
        }
        self.loc_residents = residents;
        self.dock_sweep(now, out);
        self.close_baselines(now, &pending);
        self.sweep_lanes(now, out);
        self.flush_stock(now, false, out);
        self.credit_profiles(now);
        if self.rules.due && !self.in_baseline() {
            self.recheck_rules(now, out);
        } else if now % super::forecast::CHECK_MS == 0 {
            self.check_stockout_forecasts(now, out);
        }
        if now.saturating_sub(self.last_checkpoint) >= self.k.checkpoint_interval {
            self.checkpoint(now);
        }
    }

    /// Closes the first-start baseline of every location that has had enough inventory rounds
    /// (see [`super::cadence`]) and whose earlier candidates are resolved (`pending`: per
    /// location, candidates first read before it was ready; empty when none was ready).
    fn close_baselines(&mut self, now: u64, pending: &[u32]) {
        let Baseline::Until(end) = self.baseline else {
            return;
        };
        if now < end {
            return;
        }
        let as_of = self.next_seq - 1;
        let mut closed_any = false;
        for i in 0..self.kinds.len() {
            if self.loc_base[i].done {
                continue;
            }
            if self.k.baseline_window == 0 {
                self.loc_base[i].ready_at = now;
            } else if self.loc_base[i].ready_at == 0 {
                if !self.location_ready(i, now) {
                    continue;
                }
                self.loc_base[i].ready_at = now;
                self.dirty.locations[i] = true;
                // Candidates first read before now are counted from the next sweep on.
                continue;
            } else if pending.get(i).copied().unwrap_or(0) > 0 {
                continue;
            }
            self.loc_base[i].done = true;
            closed_any = true;
            self.snap[i] = SnapMeta {
                time_ms: now,
                baseline: true,
                as_of_seq: as_of,
            };
            self.dirty.snapshots[i] = true;
            self.dirty.locations[i] = true;
        }
        if closed_any {
            self.rules.due = true;
            self.dirty.meta = true;
            self.refresh_knobs();
        }
        if self.loc_base.iter().all(|b| b.done) {
            self.baseline = Baseline::Done;
            self.dirty.meta = true;
        }
    }

    /// Whether location `i` has had enough inventory rounds to have read its population: a
    /// reader covering it alive for `baseline_window`; reads there over two visits (or reading
    /// without a break for the window) spanning twice its cadence; a location never read at
    /// all waits twice the slowest cadence its readers show elsewhere (a multiplexed antenna's
    /// turn comes once per cycle).
    fn location_ready(&self, i: usize, now: u64) -> bool {
        let window = self.k.baseline_window;
        let readers = &self.loc_readers[i];
        if readers.is_empty() {
            return true;
        }
        let alive_for = readers
            .iter()
            .filter_map(|r| self.readers.get(usize::from(*r)))
            .filter(|l| l.alive_at(now, self.k.reader_silence))
            .map(|l| now.saturating_sub(l.alive_since))
            .max();
        let Some(alive_for) = alive_for else {
            return false;
        };
        if alive_for < window {
            return false;
        }
        let v = self.loc_visits[i];
        if v.first == 0 {
            let cycle = readers
                .iter()
                .flat_map(|r| self.topo.readers[usize::from(*r)].antennas.iter().flatten())
                .map(|l| usize::from(*l))
                .filter(|&l| self.loc_visits[l].established(self.loc_cadence[l]))
                .map(|l| u64::from(self.loc_cadence[l].mean_ms()))
                .max()
                .unwrap_or(0);
            return alive_for >= 2 * cycle;
        }
        let span = now.saturating_sub(v.first);
        let reading = now.saturating_sub(v.last) <= cadence::VISIT_SILENCE_MS;
        let visits = v.silences >= 1 || (reading && span >= window);
        let c = self.loc_cadence[i];
        let cycle = u64::from(c.mean_ms());
        visits && span >= window.max(2 * cycle)
    }

    fn flush_stock(&mut self, now: u64, force: bool, out: &mut Vec<Event>) {
        let mut due = self
            .stock
            .take_due(now, self.k.settle_quiet, self.k.settle_max, force);
        if due.is_empty() {
            return;
        }
        let skus = &self.skus;
        let name = |s: u32| skus.get(s as usize).map(|a| a.as_ref()).unwrap_or("");
        due.sort_unstable_by(|a, b| (a.loc, name(a.sku)).cmp(&(b.loc, name(b.sku))));
        let mut touched = Vec::new();
        for d in &due {
            let body = EventBody::StockChanged {
                location: self.loc_id(d.loc),
                sku: self.sku_str(d.sku),
                delta: d.delta,
                count: u64::from(d.count),
            };
            self.emit(out, now, body);
            touched.push(d.loc);
        }
        let as_of = self.next_seq - 1;
        for d in &due {
            self.check_low_stock(d.loc, d.sku, d.count, now, out);
            self.learn_depletion(d.loc, d.sku, d.delta, d.count, now);
            let restocked = u32::try_from(d.delta.max(0)).unwrap_or(u32::MAX);
            self.check_stockout_forecast(d.loc, d.sku, restocked, now, out);
        }
        for loc in touched {
            let i = usize::from(loc);
            self.snap[i] = SnapMeta {
                time_ms: now,
                baseline: false,
                as_of_seq: as_of,
            };
            self.dirty.snapshots[i] = true;
            self.dirty.locations[i] = true;
        }
    }

    fn checkpoint(&mut self, now: u64) {
        let since = self.last_checkpoint;
        // Every persisted tag with evidence newer than the last checkpoint (a present tag's own
        // or challenger slot, a departed or sold tag's reads since): a restore after a clean stop
        // then equals the engine that stopped (candidates excepted: they are never persisted).
        // `>=`: a read at the very time of the last checkpoint's sweep came after it.
        for (key, tag) in self.tags.iter() {
            if tag.status != Status::Candidate && tag.last_read() >= since {
                self.dirty.tags.insert(key.clone());
            }
        }
        // Learned re-read envelopes and resident levels change with reads, without a record
        // write of their own.
        self.dirty.locations.fill(true);
        self.last_checkpoint = now;
        self.dirty.meta = true;
    }

    /// The retained snapshot of every stock location, in config order.
    pub fn snapshots(&self) -> Vec<StockSnapshot> {
        (0..self.kinds.len())
            .filter(|&i| self.kinds[i].is_stock())
            .map(|i| self.snapshot(i as LocIdx))
            .collect()
    }

    /// The retained snapshot of one location.
    pub fn snapshot(&self, loc: LocIdx) -> StockSnapshot {
        let mut m = self.snap.get(usize::from(loc)).copied().unwrap_or_default();
        if m.time_ms == 0 {
            // No published change yet (e.g. still inside the baseline window): as of now.
            m = SnapMeta {
                time_ms: self.now,
                baseline: false,
                as_of_seq: self.next_seq - 1,
            };
        }
        let counts = self
            .stock
            .published(loc)
            .map(|(sku, n)| {
                (
                    self.sku_str(sku).unwrap_or_else(|| "null".to_string()),
                    u64::from(n),
                )
            })
            .collect();
        StockSnapshot {
            location: self.loc_id(loc),
            time_ms: m.time_ms,
            counts,
            baseline: m.baseline,
            as_of_seq: m.as_of_seq,
            forecast: self.forecasts(loc, m.time_ms),
        }
    }
}

/// The re-read interval a newly confirmed tag starts from: its location's learned envelope, but
/// never less than the configured prior (early on, a location has only seen its fastest tags).
fn seed_gap(loc_gap: u32, prior: u64) -> u32 {
    loc_gap.max(u32::try_from(prior).unwrap_or(u32::MAX))
}

/// Updates a location's floor with the mean level of an own streak.
fn learn_floor(floor: &mut Option<f32>, level: f32) {
    *floor = Some(match *floor {
        None => level,
        Some(f) if level < f => f - (f - level) / FLOOR_FALL_DIV,
        Some(f) => f + (level - f) / FLOOR_RISE_DIV,
    });
}

/// Updates a learned re-read interval envelope: quick to rise, slow to fall.
fn learn_gap(gap_hi: &mut u32, gap: u64, down_div: u32) {
    let gap = u32::try_from(gap).unwrap_or(u32::MAX);
    if *gap_hi == 0 {
        *gap_hi = gap;
    } else if gap > *gap_hi {
        *gap_hi += (gap - *gap_hi) / 2;
    } else {
        *gap_hi -= (*gap_hi - gap) / down_div;
    }
}

/// The level tags resident at `loc` read down to on `reader`: the location's learned floor or,
/// while it has none, the lowest floor of the reader's other stock locations (a neighbour's
/// cross-reads sit well below it) or, while the reader has taught nothing at all,
/// `rssi_ref_dbm`'s level (0).
fn resident_floor(
    topo: &Topology,
    kinds: &[LocationKind],
    loc_floor: &[Option<f32>],
    reader: ReaderIdx,
    loc: LocIdx,
) -> Option<f32> {
    if let Some(l) = loc_floor.get(usize::from(loc)).copied().flatten() {
        return Some(l);
    }
    let antennas = topo
        .readers
        .get(usize::from(reader))
        .map_or(&[][..], |r| &r.antennas[..]);
    let learned = antennas
        .iter()
        .flatten()
        .filter(|&&l| kinds.get(usize::from(l)).is_some_and(|k| k.is_stock()))
        .filter_map(|&l| loc_floor.get(usize::from(l)).copied().flatten())
        .reduce(f32::min);
    Some(learned.unwrap_or(0.0))
}

/// One read, as the per-tag decisions see it.
#[derive(Debug, Clone, Copy)]
struct Read {
    reader: ReaderIdx,
    loc: LocIdx,
    kind: LocationKind,
    t: u64,
    /// Evidence weight ([`read_weight`]).
    w: f32,
    /// RSSI level ([`level_of`]).
    lvl: i8,
    /// The level tags resident at `loc` read down to (see [`resident_floor`]). Only filled in
    /// for reads that may confirm or move a tag.
    resident_floor: Option<f32>,
    /// `loc` is read slowly ([`Cadence::slow`]): a tag there may be read only once or twice in
    /// a while, so weaker reads of it elsewhere (cross-reads) count towards confirming it.
    slow: bool,
    /// At a dock: which receiving dock's open ASN lists this EPC. One clean read at the door's
    /// own level receives an EPC expected here ([`portal_read`]).
    expected: Expected,
}

/// What a read of a known tag decided.
struct ReadResult {
    outcome: Outcome,
    /// For a re-read at the tag's own location while its reader was alive, the gap since the
    /// previous read (for learning).
    gap: Option<u64>,
    /// The read was an own read of a present tag: its streak's (level, reads) after it (they
    /// teach the location's resident level and floor).
    own: Option<(i8, u8)>,
    /// A re-read at the tag's own or best location while its reader was alive: the tag's
    /// re-read envelope after it and the gap since its previous read there (a sample of the
    /// location's cadence).
    cadence: Option<(u32, u64)>,
}

impl ReadResult {
    fn of(outcome: Outcome) -> Self {
        ReadResult {
            outcome,
            gap: None,
            own: None,
            cadence: None,
        }
    }
}

/// Whether a slot's reads look like the tag really is at the slot's location, judged against
/// `home`, the evidence of where it is (or most likely is): cross-reads, a neighbour's antennas
/// hearing a tag that sits elsewhere, read well below the tag's own level. The reference is the
/// home slot's level, or the slot location's resident level when that is lower (a location whose
/// antennas read every tag weakly). Readers that report no RSSI give level 0 everywhere, so this
/// never refuses anything for them.
#[inline]
fn looks_resident(s: &Slot, home: &Slot, loc_level: &[Option<f32>], margin: i16) -> bool {
    let mut reference = f32::from(home.level);
    if let Some(Some(l)) = loc_level.get(usize::from(s.loc)) {
        reference = reference.min(*l);
    }
    f32::from(s.level) >= reference - f32::from(margin)
}

/// [`looks_resident`] for a challenger of a present tag. Leaving a slow location, its reads must
/// match the tag's own level: a Session-2 tag's own antennas may miss it for many minutes while
/// a neighbour's cross-reads (which silence it too) keep coming, and a neighbour that once
/// hosted a weakly read tag has learned a weak resident level.
#[inline]
fn resident_against(
    c: &Slot,
    home: &Slot,
    loc_level: &[Option<f32>],
    margin: i16,
    from_slow: bool,
) -> bool {
    if from_slow {
        f32::from(c.level) >= f32::from(home.level) - f32::from(margin)
    } else {
        looks_resident(c, home, loc_level, margin)
    }
}

/// A slot's score at `t`, decayed on its own location's clock (a slow location's evidence
/// fades slowly).
#[inline]
fn score_of(s: &Slot, t: u64, k: &Knobs, loc_knobs: &[Knobs]) -> f32 {
    let hl = loc_knobs
        .get(usize::from(s.loc))
        .map_or(k.evidence_half_life, |lk| lk.evidence_half_life);
    s.score_at(t, hl)
}

/// Places a read in a slot: its own, or one it may take over. Returns the slot index, or None
/// when the read was a duplicate or weaker than the evidence it would displace.
fn place(
    tag: &mut Tag,
    r: &Read,
    (k, loc_knobs): (&Knobs, &[Knobs]),
    streak_gap: u64,
    fixed_first: bool,
    portal: bool,
    fast_move: bool,
) -> Option<usize> {
    let (loc, t, w) = (r.loc, r.t, r.w);
    let hl = k.evidence_half_life;
    if let Some(i) = tag.slot_of(loc) {
        let sl = &mut tag.slots[i];
        // A present tag read here far stronger than this location's streak of it so far: it
        // came here, and what this location heard of it before were cross-reads. The streak
        // goes on at its new level (or the move waits for the average to climb). Between fast
        // locations only (`fast_move`): a slow location's few reads decide on their own clock.
        if fast_move
            && t > sl.last
            && sl.reads >= 2
            && i16::from(r.lvl) >= i16::from(sl.level) + k.cross_read_margin
        {
            sl.level = r.lvl;
        }
        return sl.add(t, w, r.lvl, hl, streak_gap).then_some(i);
    }
    let victim = if fixed_first || tag.slots[1].is_empty() {
        1
    } else if score_of(&tag.slots[0], t, k, loc_knobs) < score_of(&tag.slots[1], t, k, loc_knobs) {
        0
    } else {
        1
    };
    let v = tag.slots[victim];
    // A present tag read at a third location while both its location and its challenger (a
    // neighbour's cross-reads, typically) have been silent for `move_dwell`: it left them both,
    // and the new location is the hypothesis worth tracking (or it would depart and re-arrive
    // instead of moving, e.g. a pallet put away from a dock door with a reading neighbour).
    // Silent "for a while" on each location's own clock: a multiplexed antenna is silent
    // between its visits.
    let dwell_at = |l: LocIdx| {
        loc_knobs.get(usize::from(l)).map_or(k.move_dwell, |lk| {
            lk.move_dwell
                .max(lk.initial_reread_interval.min(lk.candidate_timeout))
        })
    };
    let left_both = fixed_first
        && t.saturating_sub(v.last) > dwell_at(v.loc)
        && t.saturating_sub(tag.slots[0].last) > dwell_at(tag.slots[0].loc);
    let stale = left_both || t.saturating_sub(v.last) > streak_gap.max(k.candidate_timeout);
    // A POS or exit read of a present tag always takes the challenger slot: portals are decisive
    // and must not be crowded out by a neighbour's cross-reads.
    if v.is_empty() || stale || score_of(&v, t, k, loc_knobs) < w || (portal && fixed_first) {
        tag.slots[victim] = Slot::first(loc, t, w, r.lvl);
        Some(victim)
    } else {
        None
    }
}

fn streak_gap_for(kind: LocationKind, k: &Knobs) -> u64 {
    if kind.is_stock() {
        k.candidate_timeout
    } else {
        PORTAL_STREAK_MS.min(k.candidate_timeout)
    }
}

/// Whether a slot's reads sit noticeably (half the cross-read margin) below the level tags
/// resident at its location read down to: they may be a neighbour's cross-reads of a tag its
/// own antennas have not read for a while, so confirming or moving the tag there waits
/// `weak_arrive_dwell`. Readers without RSSI never read weak.
#[inline]
fn reads_weak(s: &Slot, r: &Read, k: &Knobs) -> bool {
    r.resident_floor
        .is_some_and(|l| f32::from(s.level) < l - f32::from(k.cross_read_margin) / 2.0)
}

/// A candidate (or a departed / sold tag coming back) is confirmed at slot `i` when that slot
/// is the best supported one, has enough reads over a long enough span, and does not look like
/// cross-reads of a tag whose recent, stronger reads put it at the other slot's location. At a
/// dock portal, reads are first classified against the door's level ([`portal_read`]): an EPC
/// the door's open ASN lists is received on one clean read, weak reads never confirm there.
fn try_confirm(
    tag: &mut Tag,
    (k, loc_knobs): (&Knobs, &[Knobs]),
    r: &Read,
    i: usize,
    initial_gap: u32,
    loc_level: &[Option<f32>],
) -> Outcome {
    let t = r.t;
    let s = tag.slots[i];
    let other = tag.slots[1 - i];
    if r.kind == LocationKind::Dock && s.loc == r.loc {
        match portal_read(&s, &other, r, k, loc_level) {
            // An expected EPC read cleanly at its door: received on this one read.
            PortalRead::Clean if r.expected == Expected::Here => {
                return confirmed(tag, r, i, initial_gap, 1, t);
            }
            PortalRead::Clean => {}
            // A portal's weak reads are the adjacent door's pallet: never received here.
            PortalRead::Weak => return Outcome::Nothing,
        }
    }
    let best =
        other.is_empty() || score_of(&s, t, k, loc_knobs) >= score_of(&other, t, k, loc_knobs);
    // Reads well below the level resident tags show there may be a neighbour's cross-reads of
    // a tag its own antennas have not read yet: give those a while to turn up. (A portal's
    // reads were classified against its door's level above.)
    let weak = r.kind != LocationKind::Dock && reads_weak(&s, r, k);
    let dwell = if weak {
        k.arrive_dwell.max(k.weak_arrive_dwell)
    } else {
        k.arrive_dwell
    };
    // At a slow location, a tag's weaker reads elsewhere (a neighbour's cross-reads, which
    // silence a Session-2 tag as well as its own antennas' reads do) show it is real too.
    let cross_support = r.slow
        && !other.is_empty()
        && f32::from(other.level) + f32::from(k.cross_read_margin) <= f32::from(s.level);
    // Its reads elsewhere are cross-reads: they support it here however fresh they are.
    let best = best || cross_support;
    let (reads, since) = if cross_support {
        (
            s.reads.saturating_add(other.reads),
            s.streak_start().min(other.streak_start()),
        )
    } else {
        (s.reads, s.streak_start())
    };
    if !(best && reads >= k.arrive_min_reads && t.saturating_sub(since) >= dwell) {
        return Outcome::Nothing;
    }
    // Stronger reads elsewhere keep weak ones from confirming for as long as they are held.
    let other_window = if weak { dwell } else { k.candidate_timeout };
    let other_recent = !other.is_empty() && t.saturating_sub(other.last) <= other_window;
    if other_recent && !looks_resident(&s, &other, loc_level, k.cross_read_margin) {
        return Outcome::Nothing;
    }
    confirmed(tag, r, i, initial_gap, reads, since)
}

/// Whether a read at a dock portal is at the door's own level.
enum PortalRead {
    /// At the door's level (or the door has none yet), and the tag reads no stronger
    /// elsewhere right now.
    Clean,
    /// Well below the door's level, or much weaker than the tag's recent reads elsewhere: a
    /// cross-read of a pallet at another door.
    Weak,
}

/// How far below a door's level (in multiples of the cross-read margin) a read still counts
/// as the door's own pallet: a pallet's tags spread a few dB around the door's level (depth in
/// the pallet, orientation, one pallet to the next), while an adjacent door hears them at
/// least 15 dB weaker. The more the ASNs expect the tag here, the wider: an EPC this door's
/// ASN lists (one read: 12 dB with the default 6 dB margin); an EPC no ASN lists (its reads'
/// average: 9 dB); an EPC another receiving door's ASN lists, whose reads here are most
/// likely that pallet's cross-reads (its reads' average: 6 dB).
fn portal_spread(expected: Expected) -> f32 {
    match expected {
        Expected::Here => 2.0,
        Expected::Nowhere => 1.5,
        Expected::Elsewhere => 1.0,
    }
}

/// Classifies the read `r` in slot `s` at a dock: against the level the door's own tags read
/// at (learned from its confirmed tags' reads) and against the tag's other slot `other` when
/// that was read within a portal streak.
fn portal_read(
    s: &Slot,
    other: &Slot,
    r: &Read,
    k: &Knobs,
    loc_level: &[Option<f32>],
) -> PortalRead {
    let margin = f32::from(k.cross_read_margin);
    // One read decides an expected EPC; otherwise the streak's average level does.
    let lvl = f32::from(if r.expected == Expected::Here {
        r.lvl
    } else {
        s.level
    });
    let door = loc_level.get(usize::from(s.loc)).copied().flatten();
    match door {
        Some(d) if lvl < d - portal_spread(r.expected) * margin => return PortalRead::Weak,
        // A door that has not read a pallet of its own yet cannot tell another door's
        // expected tags from their cross-reads: they wait for its level.
        None if r.expected == Expected::Elsewhere => return PortalRead::Weak,
        _ => {}
    }
    let stronger_elsewhere = !other.is_empty()
        && r.t.saturating_sub(other.last) <= PORTAL_STREAK_MS
        && f32::from(other.level) >= f32::from(s.level) + margin;
    if stronger_elsewhere {
        PortalRead::Weak
    } else {
        PortalRead::Clean
    }
}

/// Confirms `tag` at slot `i` (an arrival, or a return of a sold tag): `reads` reads since
/// `since` supported it.
fn confirmed(
    tag: &mut Tag,
    r: &Read,
    i: usize,
    initial_gap: u32,
    reads: u8,
    since: u64,
) -> Outcome {
    let (reader, t) = (r.reader, r.t);
    if i == 1 {
        tag.slots.swap(0, 1);
    }
    tag.slots[1].lead_age = u32::MAX;
    tag.slots[0].lead_age = u32::MAX;
    let was = tag.status;
    tag.status = Status::Present;
    tag.reader = reader;
    // Seed the re-read interval with what the confirming streak showed (a slow Session-2 tag
    // confirms with long gaps) or the location's learned interval, whichever is longer.
    // A candidate's own envelope counts too (learned from its re-reads before it confirmed).
    // (With cross-read support, over all the reads that confirmed it.)
    let observed = t.saturating_sub(since) / u64::from(reads.max(2) - 1);
    let own = if was == Status::Candidate {
        tag.gap_hi
    } else {
        0
    };
    tag.gap_hi = initial_gap
        .max(u32::try_from(observed * 2).unwrap_or(u32::MAX))
        .max(own);
    tag.loc = NO_LOC;
    tag.mark = 0;
    let loc = tag.slots[0].loc;
    if was == Status::Sold {
        Outcome::Returned { loc }
    } else {
        Outcome::Arrived { loc }
    }
}

/// A read of a tag the engine already holds. `loc_gap` is the learned re-read envelope of the
/// read's location, `loc_level` every location's resident level.
fn read_known(
    tag: &mut Tag,
    (k, loc_knobs, loc_cadence): (&Knobs, &[Knobs], &[Cadence]),
    r: Read,
    alive_since: u64,
    loc_gap: u32,
    loc_level: &[Option<f32>],
) -> ReadResult {
    let Read {
        reader,
        loc,
        kind,
        t,
        w,
        lvl,
        ..
    } = r;
    let hl = k.evidence_half_life;
    let gap = streak_gap_for(kind, k);
    let initial_gap = seed_gap(loc_gap, k.initial_reread_interval);
    let portal = !kind.is_stock();
    let nothing = ReadResult::of(Outcome::Nothing);
    let stale = ReadResult::of(Outcome::Stale);
    match tag.status {
        Status::Sold => {
            if t < tag.mark.saturating_add(k.sold_hold_off) || !kind.is_stock() {
                return nothing;
            }
            match place(tag, &r, (k, loc_knobs), gap, false, portal, false) {
                Some(i) => ReadResult::of(try_confirm(
                    tag,
                    (k, loc_knobs),
                    &r,
                    i,
                    initial_gap,
                    loc_level,
                )),
                None => stale,
            }
        }
        Status::Candidate | Status::DepartedMissing | Status::DepartedExit => match kind {
            LocationKind::Pos | LocationKind::Exit => {
                if tag.status != Status::DepartedMissing || tag.loc == NO_LOC {
                    return nothing;
                }
                let Some(i) = place(tag, &r, (k, loc_knobs), gap, false, portal, false) else {
                    return stale;
                };
                let from = tag.loc;
                if kind == LocationKind::Pos && tag.slots[i].reads >= k.pos_min_reads {
                    tag.status = Status::Sold;
                    tag.mark = t;
                    tag.slots = [Slot::EMPTY; 2];
                    return ReadResult::of(Outcome::Sold {
                        pos: loc,
                        from,
                        was_present: false,
                    });
                }
                if kind == LocationKind::Exit && tag.slots[i].reads >= k.exit_min_reads {
                    tag.status = Status::DepartedExit;
                    tag.mark = t;
                    tag.slots = [Slot::EMPTY; 2];
                    return ReadResult::of(Outcome::Exited {
                        exit: loc,
                        from,
                        was_present: false,
                        last_seen: t,
                    });
                }
                nothing
            }
            _ => {
                // A re-read where the tag already has evidence teaches its own re-read
                // envelope (kept while it is a candidate) and, at its best location, that
                // location's cadence.
                let prev = tag.slot_of(loc).map(|i| tag.slots[i].last);
                match place(tag, &r, (k, loc_knobs), gap, false, portal, false) {
                    Some(i) => {
                        if score_of(&tag.slots[1], t, k, loc_knobs)
                            > score_of(&tag.slots[0], t, k, loc_knobs)
                        {
                            tag.slots.swap(0, 1);
                        }
                        let i = tag.slot_of(loc).unwrap_or(i);
                        let mut cadence = None;
                        if let Some(prev) = prev.filter(|p| *p >= alive_since && *p > 0 && *p < t) {
                            // Weak reads may be a neighbour's cross-reads of a tag that is not
                            // here: they teach nothing about this location's clock.
                            if tag.status == Status::Candidate && !reads_weak(&tag.slots[i], &r, k)
                            {
                                learn_gap(&mut tag.gap_hi, t - prev, TAG_GAP_FALL_DIV);
                                cadence = (i == 0).then_some((tag.gap_hi, t - prev));
                            }
                        }
                        let mut outcome =
                            try_confirm(tag, (k, loc_knobs), &r, i, initial_gap, loc_level);
                        // A weak read here may be a cross-read of a tag whose stronger reads
                        // put it at a slow neighbour: it counts towards confirming it there.
                        let j = 1 - i;
                        let o = tag.slots[j];
                        let slow_other = !o.is_empty()
                            && loc_cadence
                                .get(usize::from(o.loc))
                                .is_some_and(|c| c.slow());
                        if outcome == Outcome::Nothing
                            && tag.status == Status::Candidate
                            && slow_other
                        {
                            if let Some(ok) = loc_knobs.get(usize::from(o.loc)) {
                                let there = Read {
                                    loc: o.loc,
                                    lvl: o.level,
                                    resident_floor: None,
                                    slow: true,
                                    expected: Expected::Nowhere,
                                    ..r
                                };
                                outcome = try_confirm(
                                    tag,
                                    (ok, loc_knobs),
                                    &there,
                                    j,
                                    initial_gap,
                                    loc_level,
                                );
                            }
                        }
                        ReadResult {
                            cadence,
                            ..ReadResult::of(outcome)
                        }
                    }
                    None => stale,
                }
            }
        },
        Status::Present => {
            let cur = tag.slots[0].loc;
            let slow_at = |l: LocIdx| loc_cadence.get(usize::from(l)).is_some_and(|c| c.slow());
            if loc == cur {
                // Read here well below its own level while another location reads it, right
                // now, at least as much stronger: it has left, and this is that location's
                // neighbour hearing it. Such a read keeps nothing alive here (or a moved
                // tag's cross-reads would hold it until its evidence decays).
                // (Fast locations only: at a slow one, evidence is seconds of reads minutes
                // apart, and the move follows its own clock.)
                let c = tag.slots[1];
                let margin = k.cross_read_margin;
                let heard_from_away = !c.is_empty()
                    && !slow_at(cur)
                    && !slow_at(c.loc)
                    && t.saturating_sub(c.last) <= k.move_dwell
                    && i16::from(lvl) + margin <= i16::from(c.level)
                    && i16::from(lvl) + margin <= i16::from(tag.slots[0].level);
                if heard_from_away {
                    return nothing;
                }
                let prev = tag.slots[0].last;
                let streak_gap = k.candidate_timeout.max(k.depart_max_absence);
                if !tag.slots[0].add(t, w, lvl, hl, streak_gap) {
                    return stale;
                }
                tag.reader = reader;
                let learned = (prev >= alive_since && prev > 0).then(|| t - prev);
                if let Some(g) = learned {
                    learn_gap(&mut tag.gap_hi, g, TAG_GAP_FALL_DIV);
                }
                return ReadResult {
                    outcome: Outcome::Nothing,
                    gap: learned,
                    own: Some((tag.slots[0].level, tag.slots[0].reads)),
                    cadence: learned.map(|g| (tag.gap_hi, g)),
                };
            }
            let fast_move = !r.slow && !slow_at(cur);
            let Some(i) = place(tag, &r, (k, loc_knobs), gap, true, portal, fast_move) else {
                return stale;
            };
            debug_assert_eq!(i, 1);
            let c = tag.slots[1];
            match kind {
                LocationKind::Pos => {
                    if c.reads >= k.pos_min_reads {
                        tag.status = Status::Sold;
                        tag.loc = cur;
                        tag.mark = t;
                        tag.slots = [Slot::EMPTY; 2];
                        return ReadResult::of(Outcome::Sold {
                            pos: loc,
                            from: cur,
                            was_present: true,
                        });
                    }
                    nothing
                }
                LocationKind::Exit => {
                    if c.reads >= k.exit_min_reads {
                        let last_seen = tag.slots[0].last;
                        tag.status = Status::DepartedExit;
                        tag.loc = cur;
                        tag.mark = t;
                        tag.slots = [Slot::EMPTY; 2];
                        return ReadResult::of(Outcome::Exited {
                            exit: loc,
                            from: cur,
                            was_present: true,
                            last_seen,
                        });
                    }
                    nothing
                }
                _ => {
                    let cur_score = score_of(&tag.slots[0], t, k, loc_knobs);
                    let from_slow = loc_cadence.get(usize::from(cur)).is_some_and(|c| c.slow());
                    // Not read at its own level where it is for longer than its re-reads
                    // there take (twice its learned envelope, at least that location's move
                    // dwell): its evidence there is history, however slowly it decays.
                    let silent_for = loc_knobs
                        .get(usize::from(cur))
                        .map_or(k.move_dwell, |ck| ck.move_dwell)
                        .max(u64::from(tag.gap_hi));
                    let cur_silent = t.saturating_sub(tag.slots[0].last) > silent_for;
                    let leads = c.reads >= k.arrive_min_reads
                        && t.saturating_sub(c.streak_start()) >= k.arrive_dwell
                        && (c.score >= k.move_ratio * cur_score || cur_silent)
                        && resident_against(
                            &c,
                            &tag.slots[0],
                            loc_level,
                            k.cross_read_margin,
                            from_slow,
                        );
                    if !leads {
                        tag.slots[1].set_lead(None);
                        return nothing;
                    }
                    let lead = c.lead_start().unwrap_or(t);
                    tag.slots[1].set_lead(Some(lead));
                    let dwell = if reads_weak(&c, &r, k) {
                        k.move_dwell.max(k.weak_arrive_dwell)
                    } else {
                        k.move_dwell
                    };
                    if t.saturating_sub(lead) < dwell {
                        return nothing;
                    }
                    tag.slots.swap(0, 1);
                    tag.slots[0].set_lead(None);
                    tag.slots[1].set_lead(None);
                    tag.reader = reader;
                    tag.gap_hi = initial_gap;
                    ReadResult::of(Outcome::Moved { from: cur, to: loc })
                }
            }
        }
    }
}

/// The timers of one tag at sweep time `now`.
fn sweep_tag(
    tag: &mut Tag,
    (k, loc_knobs, loc_base, reader_memory): (&Knobs, &[Knobs], &[LocBaseline], &[u64]),
    (loc_cadence, loc_established): (&[Cadence], &[bool]),
    kinds: &[LocationKind],
    readers: &[Liveness],
    (loc_gap, loc_level): (&[u32], &[Option<f32>]),
    now: u64,
) -> Outcome {
    match tag.status {
        Status::Candidate => {
            // The longest memory of its reader's locations: reads at a fast shelf may be
            // cross-reads of a tag its slow neighbour's antennas read once in a while, and
            // must not be forgotten on the fast shelf's clock.
            let memory = reader_memory
                .get(usize::from(tag.reader))
                .copied()
                .into_iter()
                .chain(
                    tag.slots
                        .iter()
                        .filter_map(|s| loc_knobs.get(usize::from(s.loc)))
                        .map(|lk| lk.candidate_timeout),
                )
                .max()
                .unwrap_or(k.candidate_timeout);
            if now.saturating_sub(tag.last_read()) > memory {
                Outcome::Forget
            } else {
                Outcome::Nothing
            }
        }
        Status::DepartedMissing | Status::DepartedExit => {
            if now.saturating_sub(tag.mark) >= k.departed_memory {
                Outcome::Forget
            } else {
                Outcome::Nothing
            }
        }
        Status::Sold => {
            if now.saturating_sub(tag.mark) >= k.sold_hold_off.saturating_add(SOLD_MEMORY_MS) {
                Outcome::Forget
            } else {
                Outcome::Nothing
            }
        }
        Status::Present => {
            let Some(live) = readers.get(usize::from(tag.reader)) else {
                return Outcome::Nothing;
            };
            if !live.alive_at(now, k.reader_silence) || !live.fresh_at(now) {
                return Outcome::Nothing;
            }
            let s0 = tag.slots[0];
            // Nothing departs from a location still learning its cadence in its first-start
            // baseline (a multiplexed antenna's next visit may be a minute away).
            if loc_base.get(usize::from(s0.loc)).is_some_and(|b| !b.done) {
                return Outcome::Nothing;
            }
            // At a slow location, a neighbour's cross-reads (weaker than the tag's own reads, and
            // not leading towards a move) show the tag is still there: a Session-2 tag silenced
            // by them misses its own antennas' reads for as long.
            let slow = loc_cadence
                .get(usize::from(s0.loc))
                .is_some_and(|c| c.slow());
            let c1 = tag.slots[1];
            let heard =
                if slow && !c1.is_empty() && c1.lead_start().is_none() && c1.level < s0.level {
                    c1.last
                } else {
                    0
                };
            let from = s0.last.max(heard).max(live.alive_since);
            // The tag's own re-read envelope, or its location's when that is longer (a tag
            // that confirmed quickly among a slow population has not shown its slow side yet).
            // Where the location's cadence is established, its mean of the tags' envelopes (a
            // visit cycle, a persistence); before that, the envelope of all its re-read gaps.
            let l = usize::from(tag.slots[0].loc);
            let floor = match loc_cadence.get(l) {
                Some(c) if loc_established.get(l).copied().unwrap_or(false) => c.mean_ms(),
                _ => loc_gap.get(l).copied().unwrap_or(0),
            };
            let gap = tag.gap_hi.max(floor);
            let absence = (u64::from(gap) * u64::from(k.depart_missed_reads)).clamp(
                k.depart_min_absence,
                k.depart_max_absence.max(k.depart_min_absence),
            );
            if now.saturating_sub(from) < absence {
                return Outcome::Nothing;
            }
            let cur = s0.loc;
            let c = tag.slots[1];
            let challenger_holds = !c.is_empty()
                && kinds
                    .get(usize::from(c.loc))
                    .is_some_and(|kd| kd.is_stock())
                && c.reads
                    >= loc_knobs
                        .get(usize::from(c.loc))
                        .map_or(k.arrive_min_reads, |lk| lk.arrive_min_reads)
                && c.last > s0.last
                && now.saturating_sub(c.last) < absence
                && resident_against(&c, &s0, loc_level, k.cross_read_margin, slow);
            if challenger_holds {
                tag.slots.swap(0, 1);
                tag.slots[0].set_lead(None);
                tag.slots[1].set_lead(None);
                return Outcome::Moved {
                    from: cur,
                    to: c.loc,
                };
            }
            tag.status = Status::DepartedMissing;
            tag.loc = cur;
            tag.mark = now;
            tag.slots = [Slot::EMPTY; 2];
            Outcome::Departed {
                from: cur,
                last_seen: s0.last,
                cause: DepartCause::Missing,
            }
        }
    }
}
