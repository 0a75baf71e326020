//! [`Debouncer`]: turns raw samples of a bouncing contact (a door's reed switch) into stable
//! level changes. Pure: timestamps are inputs, so the rule is tested with explicit times.

/// Reports a level once the raw samples have shown it, without interruption, for `hold_ms`.
/// The first stable level is reported too (the door's state at start-up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debouncer {
    hold_ms: u64,
    stable: Option<bool>,
    candidate: Option<(bool, u64)>,
}

impl Debouncer {
    /// A debouncer that needs `hold_ms` of an unchanged level (0: every change at once).
    pub fn new(hold_ms: u64) -> Self {
        Debouncer {
            hold_ms,
            stable: None,
            candidate: None,
        }
    }

    /// The last reported level.
    pub fn stable(&self) -> Option<bool> {
        self.stable
    }

    /// One raw sample at `t_ms` (monotonic). Returns the new stable level when it changes.
    ///
    /// ```
    /// use shelfd::gpio::Debouncer;
    /// let mut d = Debouncer::new(50);
    /// assert_eq!(d.sample(0, true), None);
    /// assert_eq!(d.sample(30, false), None); // a bounce restarts the wait
    /// assert_eq!(d.sample(40, true), None);
    /// assert_eq!(d.sample(90, true), Some(true));
    /// assert_eq!(d.sample(95, true), None);
    /// ```
    pub fn sample(&mut self, t_ms: u64, level: bool) -> Option<bool> {
        if self.stable == Some(level) {
            self.candidate = None;
            return None;
        }
        let since = match self.candidate {
            Some((l, since)) if l == level => since,
            _ => {
                self.candidate = Some((level, t_ms));
                t_ms
            }
        };
        if t_ms.saturating_sub(since) >= self.hold_ms {
            self.stable = Some(level);
            self.candidate = None;
            Some(level)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_edge_is_reported_after_the_hold() {
        let mut d = Debouncer::new(50);
        assert_eq!(d.sample(0, false), None);
        assert_eq!(d.sample(50, false), Some(false));
        assert_eq!(d.sample(60, true), None);
        assert_eq!(d.sample(109, true), None);
        assert_eq!(d.sample(110, true), Some(true));
        assert_eq!(d.stable(), Some(true));
    }

    #[test]
    fn bounces_shorter_than_the_hold_are_ignored() {
        let mut d = Debouncer::new(50);
        d.sample(0, false);
        assert_eq!(d.sample(50, false), Some(false));
        // Contact chatter: 10 ms pulses never reach the hold.
        for i in 0..20u64 {
            assert_eq!(d.sample(100 + i * 10, i % 2 == 0), None, "sample {i}");
        }
        // Back to the stable level: nothing to report, and the chatter is forgotten.
        assert_eq!(d.sample(300, false), None);
        assert_eq!(d.sample(400, false), None);
        assert_eq!(d.stable(), Some(false));
    }

    #[test]
    fn zero_hold_reports_every_change() {
        let mut d = Debouncer::new(0);
        assert_eq!(d.sample(0, true), Some(true));
        assert_eq!(d.sample(1, false), Some(false));
        assert_eq!(d.sample(2, false), None);
    }
}
