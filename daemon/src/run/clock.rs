//! The gateway's two clocks, kept apart: the engine's timeline for timers and the wall clock for
//! the times events carry.
//!
//! Gateways without an RTC boot at a stale time and step when NTP syncs. The engine's timeline
//! ([`shelfd_core::timefmt::now_ms`]: the wall clock read once at start, then advanced by the
//! monotonic clock) never jumps, so a step of years forward or back departs nothing and freezes
//! nothing. The times events carry follow the wall clock: [`GatewayClock::event_offset`] is how
//! far the wall clock has moved from the timeline since start, added to each event's time when
//! it is committed. A wall clock that reads before [`PLAUSIBLE_WALL_MS`] (2020) is not a
//! correction (a board that lost its time) and is ignored; drift under [`STEP_MS`] is no step.
//!
//! Whether the system clock is synchronized is read without privileges or unsafe code from
//! systemd-timesyncd's flag file (`/run/systemd/timesync/synchronized`): `Some(true)` when it
//! exists, `Some(false)` when timesyncd runs but has not synchronized yet, `None` (unknown)
//! without timesyncd (chrony, ntpd: see the README).

use std::path::Path;

/// Wall-clock readings before 2020-01-01T00:00:00Z are not a time to stamp events with.
pub const PLAUSIBLE_WALL_MS: u64 = 1_577_836_800_000;

/// A difference between wall clock and timeline below this is drift, not a step.
pub const STEP_MS: i64 = 1_000;

/// systemd-timesyncd creates this file once the clock is synchronized (systemd ≥ 239).
const TIMESYNCD_SYNCHRONIZED: &str = "/run/systemd/timesync/synchronized";
/// systemd-timesyncd's runtime dir: present while it runs.
const TIMESYNCD_DIR: &str = "/run/systemd/timesync";

/// The engine's timeline and the wall clock, and what was last seen of their difference.
#[derive(Debug, Clone)]
pub struct GatewayClock {
    timeline: fn() -> u64,
    wall: fn() -> u64,
    offset: i64,
    synchronized: Option<Option<bool>>,
}

impl GatewayClock {
    /// The system's clocks.
    pub fn system() -> Self {
        Self::new(shelfd_core::timefmt::now_ms, wall_ms)
    }

    /// A clock whose wall clock is its timeline (tests, benchmarks: events carry timeline time).
    pub fn fixed(timeline: fn() -> u64) -> Self {
        Self::new(timeline, timeline)
    }

    /// A clock of these two readings.
    pub fn new(timeline: fn() -> u64, wall: fn() -> u64) -> Self {
        GatewayClock {
            timeline,
            wall,
            offset: 0,
            synchronized: None,
        }
    }

    /// The engine's timeline now (ms): the only time timers see.
    pub fn timeline(&self) -> u64 {
        (self.timeline)()
    }

    /// What to add to an event's (timeline) time to stamp it with the wall clock; logs a step.
    pub fn event_offset(&mut self) -> i64 {
        let timeline = self.timeline();
        let wall = (self.wall)();
        let raw = i128::from(wall) - i128::from(timeline);
        let offset = if wall < PLAUSIBLE_WALL_MS || raw.abs() < i128::from(STEP_MS) {
            0
        } else {
            i64::try_from(raw).unwrap_or(0)
        };
        if (offset - self.offset).abs() >= STEP_MS {
            tracing::warn!(
                step_ms = offset - self.offset,
                offset_ms = offset,
                wall = %shelfd_core::timefmt::rfc3339_ms(wall),
                "system clock stepped: event times follow it from now on; timers and absences do not"
            );
        }
        self.offset = offset;
        offset
    }

    /// Checks whether the system clock is synchronized ([module docs](self)) and logs a change.
    pub fn check_synchronized(&mut self) -> Option<bool> {
        let now = synchronized(Path::new(TIMESYNCD_DIR), Path::new(TIMESYNCD_SYNCHRONIZED));
        if self.synchronized != Some(now) {
            match now {
                Some(true) => tracing::info!("system clock synchronized (systemd-timesyncd)"),
                Some(false) => tracing::warn!(
                    "system clock NOT synchronized yet (systemd-timesyncd): event times may be stale until it steps"
                ),
                None => tracing::info!(
                    "system clock synchronization unknown (no systemd-timesyncd); event times follow the wall clock as it is"
                ),
            }
            self.synchronized = Some(now);
        }
        now
    }
}

pub use shelfd_core::timefmt::wall_ms;

fn synchronized(timesyncd_dir: &Path, flag: &Path) -> Option<bool> {
    if flag.exists() {
        Some(true)
    } else if timesyncd_dir.is_dir() {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    static WALL: AtomicU64 = AtomicU64::new(0);
    const START_2020: u64 = 1_577_836_800_000 + 86_400_000;

    #[test]
    fn event_times_follow_steps_of_a_plausible_wall_clock_only() {
        let mut clock = GatewayClock::new(|| START_2020, || WALL.load(Ordering::Relaxed));
        WALL.store(START_2020 + 300, Ordering::Relaxed);
        assert_eq!(clock.event_offset(), 0, "drift is no step");
        // NTP steps the clock six years forward.
        let now = 1_765_152_000_000;
        WALL.store(now, Ordering::Relaxed);
        assert_eq!(clock.event_offset(), (now - START_2020) as i64);
        // A step back to 1970 (a lost RTC) is not a correction: events keep the timeline.
        WALL.store(5_000, Ordering::Relaxed);
        assert_eq!(clock.event_offset(), 0);
        // A plausible step backwards is followed too.
        WALL.store(START_2020 - 3_600_000, Ordering::Relaxed);
        assert_eq!(clock.event_offset(), -3_600_000);
        assert_eq!(
            clock.timeline(),
            START_2020,
            "the timeline never moves with the wall"
        );
    }

    #[test]
    fn synchronization_is_read_from_timesyncd() {
        let dir = tempfile::tempdir().expect("tempdir");
        let flag = dir.path().join("synchronized");
        assert_eq!(synchronized(&dir.path().join("none"), &flag), None);
        assert_eq!(synchronized(dir.path(), &flag), Some(false));
        std::fs::write(&flag, "").expect("touch");
        assert_eq!(synchronized(dir.path(), &flag), Some(true));
    }
}
