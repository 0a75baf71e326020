//! [`ReaderLiveness`]: whether each reader is demonstrably alive (behaviour 6). A reader is alive
//! while its link is up and it produced a read or a heartbeat within `reader_silence`.
//! `alive_since` is the start of the current uninterrupted alive streak: absence is only counted
//! from it, so an outage, a silent spell or the daemon's own downtime never makes tags depart.

use crate::events::ReaderState;

/// Liveness of one reader (not persisted, except `reported`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    /// Link is up (false after a `down` until the next `up`, read or heartbeat).
    pub link_up: bool,
    /// Latest activity (read or heartbeat), 0 = none since start.
    pub last_activity: u64,
    /// Start of the current alive streak.
    pub alive_since: u64,
    /// The state last published in `reader.status`, and since when.
    pub reported: Option<(ReaderState, u64)>,
    /// Learned upper envelope of the gap between two activities (ms).
    pub gap_hi: u32,
}

/// A reader is "fresh" (departures may be decided on it) while its latest activity is no older
/// than this many of its usual activity gaps...
pub const FRESH_GAPS: u64 = 3;
/// ...and never less than this (ms).
pub const FRESH_MIN_MS: u64 = 2000;

impl Default for Liveness {
    fn default() -> Self {
        Liveness {
            link_up: false,
            last_activity: 0,
            alive_since: u64::MAX,
            reported: None,
            gap_hi: 0,
        }
    }
}

/// A state change to publish as `reader.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    /// New state.
    pub state: ReaderState,
    /// Since when.
    pub since: u64,
}

impl Liveness {
    /// Whether the reader counts as alive at `now`.
    #[inline]
    pub fn alive_at(&self, now: u64, silence: u64) -> bool {
        self.link_up && self.last_activity != 0 && now.saturating_sub(self.last_activity) <= silence
    }

    /// Whether the reader showed activity recently enough, against its own usual rhythm, to
    /// prove *now* that a tag it does not read is really gone (a reader that just went quiet
    /// proves nothing, even before `reader_silence` reports it offline).
    #[inline]
    pub fn fresh_at(&self, now: u64) -> bool {
        now.saturating_sub(self.last_activity)
            <= (FRESH_GAPS * u64::from(self.gap_hi)).max(FRESH_MIN_MS)
    }

    /// A read or heartbeat at `t`.
    #[inline]
    pub fn activity(&mut self, t: u64, silence: u64) -> Option<StatusChange> {
        if !self.link_up
            || self.last_activity == 0
            || t.saturating_sub(self.last_activity) > silence
        {
            self.alive_since = t;
            self.link_up = true;
        } else if t > self.last_activity {
            let gap = u32::try_from(t - self.last_activity).unwrap_or(u32::MAX);
            if gap > self.gap_hi {
                self.gap_hi += (gap - self.gap_hi) / 2;
            } else {
                self.gap_hi -= (self.gap_hi - gap) / 64;
            }
        }
        if t > self.last_activity {
            self.last_activity = t;
        }
        self.report(ReaderState::Online, t)
    }

    /// The link went down at `t`.
    pub fn down(&mut self, t: u64) -> Option<StatusChange> {
        self.link_up = false;
        self.report(ReaderState::Offline, t)
    }

    /// Periodic check: a reader silent for longer than `silence` is reported offline.
    pub fn check_silence(&mut self, now: u64, silence: u64) -> Option<StatusChange> {
        if self.link_up
            && self.last_activity != 0
            && now.saturating_sub(self.last_activity) > silence
        {
            self.link_up = false;
            return self.report(ReaderState::Offline, self.last_activity + silence);
        }
        None
    }

    fn report(&mut self, state: ReaderState, t: u64) -> Option<StatusChange> {
        match self.reported {
            Some((s, _)) if s == state => None,
            _ => {
                self.reported = Some((state, t));
                Some(StatusChange { state, since: t })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaks_restart_after_silence_and_outage() {
        let mut l = Liveness::default();
        assert_eq!(
            l.activity(1000, 30_000).map(|c| c.state),
            Some(ReaderState::Online)
        );
        assert_eq!(l.activity(2000, 30_000), None);
        assert_eq!(l.alive_since, 1000);
        assert!(l.alive_at(20_000, 30_000));
        assert_eq!(
            l.check_silence(40_000, 30_000).map(|c| (c.state, c.since)),
            Some((ReaderState::Offline, 32_000))
        );
        assert!(!l.alive_at(40_000, 30_000));
        l.activity(50_000, 30_000);
        assert_eq!(l.alive_since, 50_000);
        l.down(51_000);
        assert!(!l.alive_at(51_000, 30_000));
        l.activity(52_000, 30_000);
        assert_eq!(l.alive_since, 52_000);
    }
}
