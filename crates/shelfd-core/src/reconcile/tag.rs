//! Per-tag state: [`Tag`] and its per-location [`Slot`]s of read evidence.
//!
//! Evidence at a location is a decaying score: each read adds a weight that grows with RSSI
//! (×2 every 6 dB above `rssi_ref_dbm`), and the score halves every `evidence_half_life`.
//! A slot also keeps its current *streak*: reads since the first read that followed a silence
//! longer than the streak gap, and the streak's mean RSSI *level* (a running mean over its first
//! [`LEVEL_WINDOW`] reads, then a moving average). The level tells cross-reads (a neighbour's
//! antennas hearing the tag well below its usual strength) from a tag that really is there.
//! Two slots per tag: `slots[0]` is the tag's current location when it is present (the
//! best-supported one while it is a candidate), `slots[1]` is a challenger.

use super::topology::{LocIdx, ReaderIdx};

/// No location.
pub const NO_LOC: LocIdx = LocIdx::MAX;
/// No SKU.
pub const NO_SKU: u32 = u32::MAX;
/// Reads over which a slot's level is a plain mean; after that, each read moves it by
/// 1/`LEVEL_WINDOW` of the difference.
pub const LEVEL_WINDOW: u8 = 8;

/// What the engine believes about a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    /// Seen, not confirmed anywhere yet; never persisted.
    Candidate = 0,
    /// In stock at `slots[0].loc`.
    Present = 1,
    /// Left stock from `loc` (missing) at `mark`.
    DepartedMissing = 2,
    /// Left through an exit from `loc` at `mark`.
    DepartedExit = 3,
    /// Sold from `loc` at `mark`.
    Sold = 4,
}

impl Status {
    /// Decodes the persisted byte.
    pub fn from_u8(b: u8) -> Option<Status> {
        Some(match b {
            0 => Status::Candidate,
            1 => Status::Present,
            2 => Status::DepartedMissing,
            3 => Status::DepartedExit,
            4 => Status::Sold,
            _ => return None,
        })
    }
}

/// Read evidence of one tag at one location.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slot {
    /// Location, or [`NO_LOC`] for an empty slot.
    pub loc: LocIdx,
    /// Reads in the current streak (saturating at 255; every read threshold is at most 100).
    pub reads: u8,
    /// Mean RSSI of the streak relative to `rssi_ref_dbm`, in half-dB (see [`level_of`]).
    pub level: i8,
    /// Decayed evidence score as of `last`.
    pub score: f32,
    /// Time of the latest read counted here (ms).
    pub last: u64,
    /// How long before `last` the current streak started (ms, saturating).
    pub streak_age: u32,
    /// How long before `last` the challenger's lead began (ms); `u32::MAX` = no lead.
    pub lead_age: u32,
}

impl Slot {
    /// An empty slot.
    pub const EMPTY: Slot = Slot {
        loc: NO_LOC,
        reads: 0,
        level: 0,
        score: 0.0,
        last: 0,
        streak_age: 0,
        lead_age: u32::MAX,
    };

    /// A slot holding one first read of weight `w` and level `lvl`.
    pub fn first(loc: LocIdx, t: u64, w: f32, lvl: i8) -> Slot {
        Slot {
            loc,
            reads: 1,
            level: lvl,
            score: w,
            last: t,
            streak_age: 0,
            lead_age: u32::MAX,
        }
    }

    /// Whether the slot is in use.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.loc == NO_LOC
    }

    /// The score decayed to time `t` (`t` before `last` counts as `last`).
    #[inline]
    pub fn score_at(&self, t: u64, half_life: u64) -> f32 {
        if self.is_empty() {
            return 0.0;
        }
        let dt = t.saturating_sub(self.last);
        if dt == 0 {
            self.score
        } else {
            self.score * (-(dt as f32) / half_life as f32).exp2()
        }
    }

    /// When the current streak started.
    #[inline]
    pub fn streak_start(&self) -> u64 {
        self.last.saturating_sub(u64::from(self.streak_age))
    }

    /// When the challenger's lead began, if it leads.
    #[inline]
    pub fn lead_start(&self) -> Option<u64> {
        (self.lead_age != u32::MAX).then(|| self.last.saturating_sub(u64::from(self.lead_age)))
    }

    /// Counts a read at `t` with weight `w` and level `lvl`. Reads not newer than the last
    /// counted one are duplicates or late arrivals and change nothing (returns false). A silence
    /// longer than `streak_gap` starts a new streak.
    #[inline]
    pub fn add(&mut self, t: u64, w: f32, lvl: i8, half_life: u64, streak_gap: u64) -> bool {
        if t <= self.last {
            return false;
        }
        let lead_start = self.lead_start();
        if t - self.last > streak_gap {
            self.reads = 1;
            self.level = lvl;
            self.score = w;
            self.streak_age = 0;
            self.last = t;
            self.lead_age = u32::MAX;
            return true;
        }
        let start = self.streak_start();
        self.score = self.score_at(t, half_life) + w;
        self.reads = self.reads.saturating_add(1);
        let n = i16::from(self.reads.min(LEVEL_WINDOW));
        let diff = i16::from(lvl) - i16::from(self.level);
        // Round half away from zero, and move at least one step, so that a steady level is
        // reached exactly.
        let step = match (diff + diff.signum() * (n / 2)) / n {
            0 => diff.signum(),
            s => s,
        };
        self.level = (i16::from(self.level) + step).clamp(-128, 127) as i8;
        self.last = t;
        self.streak_age = u32::try_from(t - start).unwrap_or(u32::MAX);
        self.set_lead(lead_start);
        true
    }

    /// Records when the lead began (None clears it).
    #[inline]
    pub fn set_lead(&mut self, start: Option<u64>) {
        self.lead_age = match start {
            Some(s) => u32::try_from(self.last.saturating_sub(s)).unwrap_or(u32::MAX - 1),
            None => u32::MAX,
        };
    }
}

/// One tracked tag.
#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    /// Current belief.
    pub status: Status,
    /// Reader that last read the tag at its location (departure liveness is judged on it).
    pub reader: ReaderIdx,
    /// Present: unused (see `slots[0]`); departed/sold: the stock location it left.
    pub loc: LocIdx,
    /// Interned SKU or [`NO_SKU`].
    pub sku: u32,
    /// Learned upper envelope of the tag's re-read interval at its location (ms).
    pub gap_hi: u32,
    /// Departed/sold: when; candidate: its first read; present: unused.
    pub mark: u64,
    /// Present: `alert.misplaced` was raised for the current stay (see [`super::rules`]).
    pub misplaced: bool,
    /// Evidence: `[current or best, challenger]`.
    pub slots: [Slot; 2],
}

impl Tag {
    /// A new candidate with a first read of weight `w` and level `lvl`.
    pub fn candidate(sku: u32, reader: ReaderIdx, loc: LocIdx, t: u64, w: f32, lvl: i8) -> Tag {
        Tag {
            status: Status::Candidate,
            reader,
            loc: NO_LOC,
            sku,
            gap_hi: 0,
            mark: t,
            misplaced: false,
            slots: [Slot::first(loc, t, w, lvl), Slot::EMPTY],
        }
    }

    /// Index of the slot holding `loc`.
    #[inline]
    pub fn slot_of(&self, loc: LocIdx) -> Option<usize> {
        if self.slots[0].loc == loc {
            Some(0)
        } else if self.slots[1].loc == loc {
            Some(1)
        } else {
            None
        }
    }

    /// Latest time the tag was read anywhere we kept evidence for.
    pub fn last_read(&self) -> u64 {
        self.slots[0].last.max(self.slots[1].last)
    }
}

/// Level of a read: its RSSI relative to `ref_dbm` in half-dB, clamped to ±63.5 dB; a read
/// without RSSI sits at the reference (0).
#[inline]
pub fn level_of(rssi: Option<f32>, ref_dbm: f32) -> i8 {
    match rssi {
        None => 0,
        // In range after the clamp, so the cast is exact.
        Some(r) => ((r - ref_dbm) * 2.0).round().clamp(-127.0, 127.0) as i8,
    }
}

/// Weight of a read: 1.0 at `ref_dbm`, doubling every 6 dB, clamped to [1/64, 64].
#[inline]
pub fn read_weight(rssi: Option<f32>, ref_dbm: f32) -> f32 {
    match rssi {
        None => 1.0,
        Some(r) => ((r - ref_dbm) / 6.0).clamp(-6.0, 6.0).exp2(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_stays_small() {
        // A tag table bucket is key + state (+ one control byte): 88 + 1 bytes, so 100 k tags
        // take 131 072 buckets = 117 bytes per tag (DESIGN.md: ≤ 200). See BENCHMARKS.md.
        assert!(
            std::mem::size_of::<Tag>() <= 72,
            "{}",
            std::mem::size_of::<Tag>()
        );
        assert_eq!(
            std::mem::size_of::<(super::super::epc_key::EpcKey, Tag)>(),
            88
        );
    }

    #[test]
    fn weights_and_decay() {
        assert_eq!(read_weight(None, -60.0), 1.0);
        assert!((read_weight(Some(-54.0), -60.0) - 2.0).abs() < 1e-5);
        assert!((read_weight(Some(-200.0), -60.0) - 1.0 / 64.0).abs() < 1e-6);
        let s = Slot::first(0, 1000, 4.0, 0);
        assert!((s.score_at(11_000, 10_000) - 2.0).abs() < 1e-5);
    }

    #[test]
    fn level_is_the_streak_mean_then_a_moving_average() {
        assert_eq!(level_of(Some(-55.0), -60.0), 10);
        assert_eq!(level_of(Some(-72.5), -60.0), -25);
        assert_eq!(level_of(None, -60.0), 0);
        assert_eq!(level_of(Some(-300.0), -60.0), -127);
        let mut s = Slot::first(0, 0, 1.0, 10);
        for (i, lvl) in [20, 30, 40].into_iter().enumerate() {
            s.add(1000 * (i as u64 + 1), 1.0, lvl, 10_000, 30_000);
        }
        assert_eq!(s.level, 25, "plain mean of 10, 20, 30, 40");
        for i in 0..300u64 {
            s.add(10_000 + i * 1000, 1.0, -20, 10_000, 30_000);
        }
        assert_eq!(s.level, -20, "a steady level is reached exactly");
        assert_eq!(s.reads, 255, "reads saturate");
        // A new streak starts from its first read's level.
        s.add(100_000_000, 1.0, 7, 10_000, 30_000);
        assert_eq!((s.reads, s.level), (1, 7));
    }

    #[test]
    fn duplicates_and_late_reads_change_nothing() {
        let mut s = Slot::first(0, 1000, 1.0, 0);
        assert!(s.add(2000, 1.0, 0, 10_000, 30_000));
        let before = s;
        assert!(!s.add(2000, 1.0, 0, 10_000, 30_000));
        assert!(!s.add(1500, 1.0, 0, 10_000, 30_000));
        assert_eq!(s, before);
        assert_eq!((s.reads, s.streak_start()), (2, 1000));
        assert!(s.add(40_000, 1.0, 0, 10_000, 30_000));
        assert_eq!((s.reads, s.streak_start()), (1, 40_000));
    }
}
