//! Per-tag state: [`Tag`] and its per-location [`Slot`]s of read evidence.
//!
//! Evidence at a location is a decaying score: each read adds a weight that grows with RSSI
//! (×2 every 6 dB above `rssi_ref_dbm`), and the score halves every `evidence_half_life`.
//! A slot also keeps its current *streak*: reads since the first read that followed a silence
//! longer than the streak gap. Two slots per tag: `slots[0]` is the tag's current location when it
//! is present (the best-supported one while it is a candidate), `slots[1]` is a challenger.

use super::topology::{LocIdx, ReaderIdx};

/// No location.
pub const NO_LOC: LocIdx = LocIdx::MAX;
/// No SKU.
pub const NO_SKU: u32 = u32::MAX;

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
    /// Reads in the current streak (saturating).
    pub reads: u16,
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
        score: 0.0,
        last: 0,
        streak_age: 0,
        lead_age: u32::MAX,
    };

    /// A slot holding one first read.
    pub fn first(loc: LocIdx, t: u64, w: f32) -> Slot {
        Slot {
            loc,
            reads: 1,
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

    /// Counts a read at `t` with weight `w`. Reads not newer than the last counted one are
    /// duplicates or late arrivals and change nothing (returns false). A silence longer than
    /// `streak_gap` starts a new streak.
    #[inline]
    pub fn add(&mut self, t: u64, w: f32, half_life: u64, streak_gap: u64) -> bool {
        if t <= self.last {
            return false;
        }
        let lead_start = self.lead_start();
        if t - self.last > streak_gap {
            self.reads = 1;
            self.score = w;
            self.streak_age = 0;
            self.last = t;
            self.lead_age = u32::MAX;
            return true;
        }
        let start = self.streak_start();
        self.score = self.score_at(t, half_life) + w;
        self.reads = self.reads.saturating_add(1);
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
    /// Departed/sold: when; present: unused.
    pub mark: u64,
    /// Evidence: `[current or best, challenger]`.
    pub slots: [Slot; 2],
}

impl Tag {
    /// A new candidate with a first read.
    pub fn candidate(sku: u32, reader: ReaderIdx, loc: LocIdx, t: u64, w: f32) -> Tag {
        Tag {
            status: Status::Candidate,
            reader,
            loc: NO_LOC,
            sku,
            gap_hi: 0,
            mark: 0,
            slots: [Slot::first(loc, t, w), Slot::EMPTY],
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
        assert!(
            std::mem::size_of::<Tag>() <= 80,
            "{}",
            std::mem::size_of::<Tag>()
        );
    }

    #[test]
    fn weights_and_decay() {
        assert_eq!(read_weight(None, -60.0), 1.0);
        assert!((read_weight(Some(-54.0), -60.0) - 2.0).abs() < 1e-5);
        assert!((read_weight(Some(-200.0), -60.0) - 1.0 / 64.0).abs() < 1e-6);
        let s = Slot::first(0, 1000, 4.0);
        assert!((s.score_at(11_000, 10_000) - 2.0).abs() < 1e-5);
    }

    #[test]
    fn duplicates_and_late_reads_change_nothing() {
        let mut s = Slot::first(0, 1000, 1.0);
        assert!(s.add(2000, 1.0, 10_000, 30_000));
        let before = s;
        assert!(!s.add(2000, 1.0, 10_000, 30_000));
        assert!(!s.add(1500, 1.0, 10_000, 30_000));
        assert_eq!(s, before);
        assert_eq!((s.reads, s.streak_start()), (2, 1000));
        assert!(s.add(40_000, 1.0, 10_000, 30_000));
        assert_eq!((s.reads, s.streak_start()), (1, 40_000));
    }
}
