//! Per-location read cadence (DESIGN.md behaviour 5, issue #15): how long a tag that sits at a
//! location normally goes between two reads there, learned from every re-read of a tag at its
//! own or best location while its reader is alive (candidates included), and the engine's time scales derived from it. A shelf read every second and a
//! multiplexed shelf or a Session-2 population read every few minutes are both right in one
//! store because every decision about a location uses [`scaled`] knobs of that location:
//!
//! | knob | at a location with learned cadence `c` |
//! |---|---|
//! | `candidate_timeout` (candidate memory, streak gap) | `max(candidate_timeout, 3·c)`; while `c` is unknown, or the location is slow and still in its first-start baseline: at least [`UNKNOWN_CADENCE_MEMORY_MS`] |
//! | `evidence_half_life` | `max(evidence_half_life, c/2)`; until `c` is established: at least [`UNESTABLISHED_HALF_LIFE_MS`] |
//! | `arrive_min_reads` | at most 2 where `c` ≥ [`SLOW_CADENCE_MS`] (a Session-2 tag is read once per persistence) |
//! | `initial_reread_interval` | `max(initial_reread_interval, c)` |
//! | `move_dwell` (how long a challenger must lead) | `max(move_dwell, c/2)`: led at one visit, it moves at the next |
//!
//! Departures follow each tag's own learned re-read envelope (seeded from `c`), so
//! `depart_missed_reads` counts missed reads, or visits of a multiplexed antenna, at any cadence.
//!
//! `c` is [`Cadence::mean_ms`]: the mean of the tags' own re-read envelopes there (a visit
//! cycle, a persistence, or a round-to-round re-read interval).
//!
//! The first-start baseline of a location ([`LocBaseline`]) lasts until its antennas have had
//! enough inventory rounds to have read its population: at least `baseline_window` of its
//! readers being alive, two visits of its antennas (or that long of continuous reading), twice
//! its cadence, and then until every candidate first read before that point is confirmed or
//! forgotten. Departures there wait for it.
//!
//! Owns the estimators and the scaling rules; the engine decides when to feed them. Pure.

use super::knobs::Knobs;

/// A location whose tags are re-read this far apart or more is slow: two reads confirm a tag.
pub const SLOW_CADENCE_MS: u32 = 20_000;
/// Candidate memory where no cadence is known yet (and at a slow location during its baseline):
/// the slowest re-read interval the engine follows from its first read on.
pub const UNKNOWN_CADENCE_MEMORY_MS: u64 = 15 * 60_000;
/// Evidence half-life at a location whose cadence is not established yet.
pub const UNESTABLISHED_HALF_LIFE_MS: u64 = UNKNOWN_CADENCE_MEMORY_MS / 3;
/// Candidate memory in cadences.
pub const CADENCE_MEMORY_MULT: u64 = 3;
/// Samples before a location's cadence is trusted.
pub const MATURE_SAMPLES: u16 = 16;
/// Each sample moves a mean by 1/this of the difference.
const CADENCE_DIV: i64 = 8;
/// Reads at a location separated by a silence longer than this belong to different visits of
/// its antennas.
pub const VISIT_SILENCE_MS: u64 = 5_000;
/// Reading a location without a break for this long shows its cadence as well as a second
/// visit does.
pub const ESTABLISHED_SPAN_MS: u64 = 30_000;

/// The learned cadence of one location: a running mean of its tags' own re-read envelopes
/// (each tag learns the upper envelope of its re-read gaps, which is robust to bursts: a
/// multiplexed antenna reads a tag many times per visit, then not at all until the next one).
/// A sample is taken at every re-read, except a quick re-read of a tag whose envelope is long
/// (a read inside a visit tells nothing new).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cadence {
    /// Running mean of the samples, ms.
    pub mean: u32,
    /// Samples so far (saturating).
    pub samples: u16,
}

impl Cadence {
    /// Counts one tag's re-read envelope (ms), taken after a re-read `gap_ms` after its
    /// previous read here.
    #[inline]
    pub fn learn(&mut self, envelope_ms: u32, gap_ms: u64) {
        if gap_ms <= VISIT_SILENCE_MS && u64::from(envelope_ms) > VISIT_SILENCE_MS {
            return;
        }
        if self.samples == 0 {
            self.mean = envelope_ms;
        } else {
            let diff = i64::from(envelope_ms) - i64::from(self.mean);
            let step = diff / CADENCE_DIV;
            let step = if step == 0 { diff.signum() } else { step };
            self.mean = (i64::from(self.mean) + step).clamp(1, i64::from(u32::MAX)) as u32;
        }
        self.samples = self.samples.saturating_add(1);
    }

    /// The typical time a tag at this location goes unread, ms.
    #[inline]
    pub fn mean_ms(&self) -> u32 {
        self.mean
    }

    /// Enough samples to trust the mean.
    #[inline]
    pub fn mature(&self) -> bool {
        self.samples >= MATURE_SAMPLES
    }

    /// Whether the location's tags are re-read slowly (any sample counts: the first re-reads
    /// of a Session-2 population already show it).
    #[inline]
    pub fn slow(&self) -> bool {
        self.samples > 0 && self.mean >= SLOW_CADENCE_MS
    }
}

/// The knobs the engine uses for decisions at a location (see the module docs).
/// `established`: the cadence can be trusted ([`VisitLog::established`]); `learning`: the
/// location is still in its first-start baseline.
pub fn scaled(k: &Knobs, c: Cadence, established: bool, learning: bool) -> Knobs {
    let mut s = k.clone();
    let mean = u64::from(c.mean_ms());
    let memory = k.candidate_timeout.max(CADENCE_MEMORY_MULT * mean);
    s.candidate_timeout = if !established || (learning && c.slow()) {
        memory.max(UNKNOWN_CADENCE_MEMORY_MS)
    } else {
        memory
    };
    if !established {
        // Until a location shows its clock, its evidence is not assumed to fade fast: the next
        // visit of a multiplexed antenna may be minutes away.
        s.evidence_half_life = k.evidence_half_life.max(UNESTABLISHED_HALF_LIFE_MS);
    }
    if established {
        s.evidence_half_life = k.evidence_half_life.max(mean / 2);
        s.initial_reread_interval = k.initial_reread_interval.max(mean);
        s.move_dwell = k.move_dwell.max(mean / 2);
    }
    if c.slow() {
        s.arrive_min_reads = k.arrive_min_reads.min(2);
    }
    s
}

/// When the engine has read a location: its first and latest read, and how many visit
/// boundaries lay between (persisted with the location).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VisitLog {
    /// First read at the location (0: none yet).
    pub first: u64,
    /// Latest read at the location.
    pub last: u64,
    /// Silences longer than [`VISIT_SILENCE_MS`] between reads (visit boundaries).
    pub silences: u16,
}

impl VisitLog {
    /// Whether `c`, learned at this location, can be trusted: enough samples, taken over a
    /// visit boundary or a long enough stretch of reading (the first visit of a multiplexed
    /// antenna shows only its quick re-reads within the visit).
    pub fn established(&self, c: Cadence) -> bool {
        c.mature()
            && (self.silences >= 1 || self.last.saturating_sub(self.first) >= ESTABLISHED_SPAN_MS)
    }

    /// A read at the location at `t`.
    #[inline]
    pub fn read(&mut self, t: u64) {
        if self.first == 0 {
            self.first = t;
        } else if t > self.last.saturating_add(VISIT_SILENCE_MS) {
            self.silences = self.silences.saturating_add(1);
        }
        self.last = self.last.max(t);
    }
}

/// A location's first-start baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LocBaseline {
    /// The baseline is closed (its snapshot published): arrivals and departures are events.
    pub done: bool,
    /// When the location had had enough rounds; it closes once every candidate first read
    /// before this is confirmed or forgotten (0: not yet).
    pub ready_at: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_and_persistence_are_slow_and_rounds_are_fast() {
        let mut c = Cadence::default();
        assert!(!c.slow() && !c.mature());
        // A multiplexed antenna's tag: its envelope near the visit cycle, sampled at each visit
        // and not at the quick re-reads inside it.
        for _ in 0..20 {
            c.learn(52_000, 60_000);
            for _ in 0..10 {
                c.learn(51_000, 250);
            }
        }
        assert!(c.mature() && c.slow(), "{c:?}");
        assert!((51_000..=52_000).contains(&c.mean_ms()), "{c:?}");
        // A shelf read every round, one tag occluded for a minute now and then.
        let mut f = Cadence::default();
        for i in 0..2_000 {
            if i % 500 == 0 {
                f.learn(30_000, 60_000);
            } else {
                f.learn(700, 500);
            }
        }
        assert!(f.mature() && !f.slow(), "{f:?}");
        assert!(f.mean_ms() < 800, "{f:?}");
    }

    #[test]
    fn scaling_keeps_fast_locations_as_configured() {
        let k = Knobs::default();
        let mut fast = Cadence::default();
        for _ in 0..100 {
            fast.learn(1_200, 1_000);
        }
        assert_eq!(scaled(&k, fast, true, false), k);
        assert_eq!(scaled(&k, fast, true, true), k);
        let unknown = scaled(&k, Cadence::default(), false, false);
        assert_eq!(unknown.candidate_timeout, UNKNOWN_CADENCE_MEMORY_MS);
        assert_eq!(unknown.evidence_half_life, UNESTABLISHED_HALF_LIFE_MS);
        let mut slow = Cadence::default();
        for _ in 0..100 {
            slow.learn(90_000, 90_000);
        }
        assert_eq!(
            scaled(&k, fast, false, false).candidate_timeout,
            UNKNOWN_CADENCE_MEMORY_MS,
            "not established yet"
        );
        let s = scaled(&k, slow, true, false);
        assert_eq!(
            (
                s.candidate_timeout,
                s.evidence_half_life,
                s.arrive_min_reads,
                s.initial_reread_interval
            ),
            (270_000, 45_000, 2, 90_000)
        );
        assert_eq!(s.move_dwell, 45_000);
        assert_eq!((s.candidate_timeout, s.arrive_min_reads), (270_000, 2));
        assert_eq!(
            scaled(&k, slow, true, true).candidate_timeout,
            UNKNOWN_CADENCE_MEMORY_MS
        );
    }

    #[test]
    fn visits_are_separated_by_silences() {
        let mut v = VisitLog::default();
        for t in [1_000, 1_250, 1_500, 61_000, 61_250, 121_000] {
            v.read(t);
        }
        assert_eq!((v.first, v.last, v.silences), (1_000, 121_000, 2));
        let mut c = Cadence::default();
        for _ in 0..50 {
            c.learn(300, 250);
        }
        assert!(v.established(c));
        let mut first_visit = VisitLog::default();
        for t in [1_000, 1_250, 1_500, 3_000] {
            first_visit.read(t);
        }
        assert!(!first_visit.established(c), "one short visit shows nothing");
    }
}
