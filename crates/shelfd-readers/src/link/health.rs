//! Live counters of one reader link ([`ReaderHealth`]), shared between its driver task and
//! whoever reports status or metrics, and their plain copy ([`ReaderHealthSnapshot`]). Owns
//! only the numbers: it never decides anything from them and never blocks (atomics, no locks).

use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Counters of one reader's link, updated by
/// the link lifecycle ([`super::run_link`]) and read with [`ReaderHealth::snapshot`].
/// Counters only grow (they span reconnects); `link_up` and `last_frame_ms` are current values.
#[derive(Debug, Default)]
pub struct ReaderHealth {
    reader: String,
    link_up: AtomicBool,
    opens: AtomicU64,
    connects: AtomicU64,
    disconnects: AtomicU64,
    reads: AtomicU64,
    dropped_reads: AtomicU64,
    bad_frames: AtomicU64,
    frames: AtomicU64,
    nudges: AtomicU64,
    watchdog_trips: AtomicU64,
    last_frame_ms: AtomicU64,
    identity: Mutex<Option<ReaderIdentity>>,
}

/// What a network reader says about itself (LLRP capabilities), for the status view and
/// metrics: set once per connection by the session that asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReaderIdentity {
    /// Vendor, by name when known (`impinj`, `zebra`), else `pen-N`.
    pub vendor: String,
    /// The vendor's IANA private enterprise number.
    pub manufacturer: u32,
    /// The vendor's model number.
    pub model: u32,
    /// Firmware version.
    pub firmware: String,
    /// Antenna ports.
    pub antennas: u16,
    /// Lowest transmit power in the reader's table, hundredths of a dBm.
    pub power_min_cdbm: i16,
    /// Highest transmit power, hundredths of a dBm.
    pub power_max_cdbm: i16,
    /// Entries in the power table.
    pub power_levels: u32,
    /// Gen2 mode identifiers of the mode table.
    pub modes: Vec<u32>,
    /// LLRP version in use (1 = 1.0.1).
    pub llrp_version: u8,
    /// The reader holds reports while no client is connected.
    pub holds_reports: bool,
}

/// A plain copy of a [`ReaderHealth`] at one moment, for the status view and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReaderHealthSnapshot {
    /// Reader id from the config.
    pub reader: String,
    /// The port is open and the driver is reading it.
    pub link_up: bool,
    /// Open attempts, successful or not.
    pub opens: u64,
    /// Successful opens.
    pub connects: u64,
    /// Open sessions that ended in a disconnect (end of file, I/O error or watchdog), not
    /// counting a shutdown.
    pub disconnects: u64,
    /// Tag reads forwarded to the engine.
    pub reads: u64,
    /// Tag reads dropped because their antenna is not in the reader's `antennas` table.
    pub dropped_reads: u64,
    /// Runs of bytes the decoder skipped as not a valid frame.
    pub bad_frames: u64,
    /// Valid frames decoded (tag reads included, dropped ones too).
    pub frames: u64,
    /// Times the watchdog nudged a silent reader.
    pub nudges: u64,
    /// Times the watchdog gave up on a silent reader and reopened the port.
    pub watchdog_trips: u64,
    /// Gateway time (ms since the Unix epoch) of the last valid frame; `None` before the first.
    pub last_frame_ms: Option<u64>,
    /// What the reader said about itself (network readers), once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<ReaderIdentity>,
}

impl ReaderHealth {
    /// Zeroed counters for reader `reader`.
    pub fn new(reader: impl Into<String>) -> Self {
        ReaderHealth {
            reader: reader.into(),
            ..ReaderHealth::default()
        }
    }

    /// The reader id these counters belong to.
    pub fn reader(&self) -> &str {
        &self.reader
    }

    /// A copy of every counter (each read atomically; the set is not one atomic view).
    pub fn snapshot(&self) -> ReaderHealthSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let last = get(&self.last_frame_ms);
        ReaderHealthSnapshot {
            reader: self.reader.clone(),
            link_up: self.link_up.load(Ordering::Relaxed),
            opens: get(&self.opens),
            connects: get(&self.connects),
            disconnects: get(&self.disconnects),
            reads: get(&self.reads),
            dropped_reads: get(&self.dropped_reads),
            bad_frames: get(&self.bad_frames),
            frames: get(&self.frames),
            nudges: get(&self.nudges),
            watchdog_trips: get(&self.watchdog_trips),
            last_frame_ms: (last != 0).then_some(last),
            identity: self.identity().clone(),
        }
    }

    /// What the reader said about itself, once known.
    pub fn identity(&self) -> std::sync::MutexGuard<'_, Option<ReaderIdentity>> {
        // A poisoned lock only means a panic elsewhere mid-update: the value is still whole.
        self.identity.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records what the reader said about itself.
    pub fn set_identity(&self, identity: ReaderIdentity) {
        *self.identity() = Some(identity);
    }

    pub(crate) fn set_link_up(&self, up: bool) {
        self.link_up.store(up, Ordering::Relaxed);
    }

    pub(crate) fn count(&self, counter: Counter) {
        let c = match counter {
            Counter::Open => &self.opens,
            Counter::Connect => &self.connects,
            Counter::Disconnect => &self.disconnects,
            Counter::Read => &self.reads,
            Counter::DroppedRead => &self.dropped_reads,
            Counter::BadFrame => &self.bad_frames,
            Counter::Nudge => &self.nudges,
            Counter::WatchdogTrip => &self.watchdog_trips,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn frame_at(&self, now_ms: u64) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        self.last_frame_ms.store(now_ms, Ordering::Relaxed);
    }
}

/// The counters the driver bumps by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counter {
    Open,
    Connect,
    Disconnect,
    Read,
    DroppedRead,
    BadFrame,
    Nudge,
    WatchdogTrip,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_copies_every_counter() {
        let h = ReaderHealth::new("r1");
        assert_eq!(h.snapshot().last_frame_ms, None);
        h.set_link_up(true);
        h.count(Counter::Open);
        h.count(Counter::Open);
        h.count(Counter::Connect);
        h.count(Counter::Read);
        h.count(Counter::DroppedRead);
        h.count(Counter::BadFrame);
        h.count(Counter::Nudge);
        h.count(Counter::WatchdogTrip);
        h.count(Counter::Disconnect);
        h.frame_at(1_763_800_000_000);
        let s = h.snapshot();
        assert_eq!(
            s,
            ReaderHealthSnapshot {
                reader: "r1".into(),
                link_up: true,
                opens: 2,
                connects: 1,
                disconnects: 1,
                reads: 1,
                dropped_reads: 1,
                bad_frames: 1,
                frames: 1,
                nudges: 1,
                watchdog_trips: 1,
                last_frame_ms: Some(1_763_800_000_000),
                identity: None,
            }
        );
        let json = serde_json::to_string(&s).expect("serializes");
        assert!(
            json.starts_with(r#"{"reader":"r1","link_up":true,"opens":2,"#),
            "{json}"
        );
    }
}
