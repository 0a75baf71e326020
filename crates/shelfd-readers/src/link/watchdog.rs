//! The silence watchdog of one open link ([`Watchdog`]): when nothing valid has come from the
//! reader for a period, nudge it once (if the protocol can) and give up one period later. Owns
//! only the timing and its counters: it never writes the nudge itself (the session knows the
//! bytes), never sleeps and never closes the link (the session ends it on
//! [`WatchdogAction::Trip`]).

use super::health::{Counter, ReaderHealth};
use std::time::Duration;
use tokio::time::Instant;

/// What the watchdog asks for once its deadline has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchdogAction {
    /// Write the protocol's nudge; the link gets one more period.
    Nudge,
    /// Give up: the link is dead. Carries how long the reader has been silent.
    Trip {
        /// Time since the last sign of life.
        silent_for: Duration,
    },
}

/// Silence timing of one open link; create one per session.
#[derive(Debug, Clone)]
pub struct Watchdog {
    period: Duration,
    nudges: bool,
    last_life: Instant,
    nudged_at: Option<Instant>,
}

impl Watchdog {
    /// A watchdog of `period` (at least 1 ms), started now. With `nudges`, the first expiry asks
    /// for a [`WatchdogAction::Nudge`] and the second trips; without, the first trips.
    pub fn new(period: Duration, nudges: bool) -> Self {
        Watchdog {
            period: period.max(Duration::from_millis(1)),
            nudges,
            last_life: Instant::now(),
            nudged_at: None,
        }
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// A sign of life (a valid frame, an answer): the period starts over.
    pub fn fed(&mut self) {
        self.last_life = Instant::now();
        self.nudged_at = None;
    }

    /// When [`Watchdog::check`] next has something to say.
    pub fn deadline(&self) -> Instant {
        self.nudged_at.unwrap_or(self.last_life) + self.period
    }

    /// What to do now: `None` before the deadline; after it a nudge (counted, once per silence)
    /// or a trip (counted).
    pub fn check(&mut self, health: &ReaderHealth) -> Option<WatchdogAction> {
        let now = Instant::now();
        if now < self.deadline() {
            return None;
        }
        if self.nudges && self.nudged_at.is_none() {
            health.count(Counter::Nudge);
            self.nudged_at = Some(now);
            return Some(WatchdogAction::Nudge);
        }
        health.count(Counter::WatchdogTrip);
        Some(WatchdogAction::Trip {
            silent_for: now.duration_since(self.last_life),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn nudges_once_then_trips() {
        let health = ReaderHealth::new("r1");
        let mut w = Watchdog::new(Duration::from_secs(10), true);
        assert_eq!(w.check(&health), None);
        tokio::time::sleep_until(w.deadline()).await;
        assert_eq!(w.check(&health), Some(WatchdogAction::Nudge));
        assert_eq!(w.check(&health), None, "one more period after a nudge");
        tokio::time::sleep_until(w.deadline()).await;
        assert_eq!(
            w.check(&health),
            Some(WatchdogAction::Trip {
                silent_for: Duration::from_secs(20)
            })
        );
        let s = health.snapshot();
        assert_eq!((s.nudges, s.watchdog_trips), (1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn life_resets_it_and_without_nudges_it_trips_at_once() {
        let health = ReaderHealth::new("r1");
        let mut w = Watchdog::new(Duration::from_secs(1), false);
        tokio::time::sleep(Duration::from_millis(900)).await;
        w.fed();
        tokio::time::sleep(Duration::from_millis(900)).await;
        assert_eq!(w.check(&health), None);
        tokio::time::sleep_until(w.deadline()).await;
        assert!(matches!(
            w.check(&health),
            Some(WatchdogAction::Trip { .. })
        ));
        assert_eq!(health.snapshot().nudges, 0);
    }
}
