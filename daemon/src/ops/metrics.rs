//! Prometheus metrics: the counters, gauges and histograms the pipeline updates
//! ([`Metrics`]), and their text exposition ([`Metrics::render`], format 0.0.4).
//!
//! Owns only numbers and their names. Updates are lock-free (atomics) except the per-location
//! gauge, which the engine thread replaces once per tick. Label values come from the config
//! (reader and location ids) or from [`EventKind::ALL`] (event types, one counter per kind):
//! never from input data such as EPCs, so the number of series is bounded by the config.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `shelfd_build_info` | gauge (1) | version |
//! | `shelfd_reader_up` | gauge | reader |
//! | `shelfd_reader_reads_total` | counter | reader |
//! | `shelfd_reader_bad_frames_total` | counter | reader |
//! | `shelfd_reader_disconnects_total` | counter | reader |
//! | `shelfd_reader_info` | gauge (1), LLRP readers once identified | reader, vendor, model, firmware |
//! | `shelfd_reader_antennas` | gauge, LLRP readers once identified | reader |
//! | `shelfd_engine_records_total` | counter | |
//! | `shelfd_engine_step_seconds` | histogram | |
//! | `shelfd_tags_tracked` | gauge | |
//! | `shelfd_tags_present` | gauge | location |
//! | `shelfd_events_total` | counter | type |
//! | `shelfd_last_seq` | gauge | |
//! | `shelfd_outbox_entries` / `shelfd_outbox_bytes` | gauge | |
//! | `shelfd_outbox_dropped_total` | counter | |
//! | `shelfd_mqtt_connected` | gauge | |
//! | `shelfd_mqtt_disconnects_total` | counter | cause (`taken_over`, `closed`, `oversize`, `refused`, `lost`) |
//! | `shelfd_publish_latency_seconds` | histogram (publish → PUBACK) | |
//! | `shelfd_store_size_bytes` | gauge | |
//! | `shelfd_clock_synchronized` | gauge (1/0; absent when unknown) | |
//! | `shelfd_engine_failed` | gauge (1 once the engine thread stopped on a store error; the process then exits) | |

use crate::health::DisconnectCause;
use crate::health::PipelineState;
use shelfd_core::events::EventKind;
use shelfd_readers::ReaderHealthSnapshot;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the engine step histogram.
const STEP_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];
/// Upper bounds (seconds) of the publish latency histogram.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// A cumulative histogram with fixed buckets, in microseconds internally.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            buckets: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_us: AtomicU64::new(0),
        }
    }

    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = self.bounds.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        header(out, name, "histogram", help);
        let mut cumulative = 0;
        for (bound, bucket) in self.bounds.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count();
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// The pipeline's metrics; one per run, shared by the engine thread, the publisher and the
/// endpoint.
#[derive(Debug)]
pub struct Metrics {
    records: AtomicU64,
    tags_tracked: AtomicU64,
    store_bytes: AtomicU64,
    engine_failed: AtomicU64,
    /// 0 unknown, 1 not synchronized, 2 synchronized.
    clock_synchronized: AtomicU64,
    /// Committed events per kind, indexed by [`EventKind::index`].
    events: [AtomicU64; EventKind::ALL.len()],
    present: Mutex<Vec<(String, u64)>>,
    /// Ended broker connections per cause, indexed by [`DisconnectCause::index`].
    mqtt_disconnects: [AtomicU64; DisconnectCause::ALL.len()],
    /// Time of one engine step (a batch fed and committed, or a timer tick).
    pub engine_step: Histogram,
    /// Time from a publish to its PUBACK.
    pub publish_latency: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            records: AtomicU64::new(0),
            tags_tracked: AtomicU64::new(0),
            store_bytes: AtomicU64::new(0),
            engine_failed: AtomicU64::new(0),
            clock_synchronized: AtomicU64::new(0),
            events: std::array::from_fn(|_| AtomicU64::new(0)),
            present: Mutex::new(Vec::new()),
            mqtt_disconnects: std::array::from_fn(|_| AtomicU64::new(0)),
            engine_step: Histogram::new(&STEP_BUCKETS),
            publish_latency: Histogram::new(&LATENCY_BUCKETS),
        }
    }
}

/// What the rest of the process knows when the endpoint is scraped.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    /// Serial reader counters.
    pub readers: Vec<ReaderHealthSnapshot>,
    /// Outbox and seq figures.
    pub pipeline: PipelineState,
    /// Broker connection up.
    pub mqtt_connected: bool,
}

impl Metrics {
    /// The engine thread stopped on a store error (a failed commit: a full disk, a damaged
    /// store).
    pub fn engine_failed(&self) {
        self.engine_failed.store(1, Ordering::Relaxed);
    }

    /// Whether the system clock is synchronized (`None`: unknown).
    pub fn set_clock_synchronized(&self, synced: Option<bool>) {
        let v = match synced {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        };
        self.clock_synchronized.store(v, Ordering::Relaxed);
    }

    /// Whether the system clock is synchronized, as last checked (`None`: unknown).
    pub fn clock_synchronized(&self) -> Option<bool> {
        match self.clock_synchronized.load(Ordering::Relaxed) {
            1 => Some(false),
            2 => Some(true),
            _ => None,
        }
    }

    /// Counts records fed to the engine.
    pub fn add_records(&self, n: u64) {
        self.records.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts one ended broker connection of `cause`.
    pub fn count_mqtt_disconnect(&self, cause: DisconnectCause) {
        self.mqtt_disconnects[cause.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Broker connections that ended for `cause` so far.
    pub fn mqtt_disconnects(&self, cause: DisconnectCause) -> u64 {
        self.mqtt_disconnects[cause.index()].load(Ordering::Relaxed)
    }

    /// Counts one committed event of `kind`.
    pub fn count_event(&self, kind: EventKind) {
        self.events[kind.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Committed events of `kind` so far.
    pub fn events(&self, kind: EventKind) -> u64 {
        self.events[kind.index()].load(Ordering::Relaxed)
    }

    /// Sets the engine gauges: tags tracked, tags present per location, store size.
    pub fn set_engine(&self, tags_tracked: u64, present: Vec<(String, u64)>, store_bytes: u64) {
        self.tags_tracked.store(tags_tracked, Ordering::Relaxed);
        self.store_bytes.store(store_bytes, Ordering::Relaxed);
        *self.present.lock().unwrap_or_else(|e| e.into_inner()) = present;
    }

    /// Tags tracked at the last engine update.
    pub fn tags_tracked(&self) -> u64 {
        self.tags_tracked.load(Ordering::Relaxed)
    }

    /// Tags present per location at the last engine update.
    pub fn present(&self) -> Vec<(String, u64)> {
        self.present
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The Prometheus text exposition (format 0.0.4).
    ///
    /// ```
    /// use shelfd::ops::metrics::{Metrics, Scrape};
    /// use shelfd_core::events::EventKind;
    /// let m = Metrics::default();
    /// m.count_event(EventKind::TagArrived);
    /// let text = m.render(&Scrape::default());
    /// assert!(text.contains("shelfd_events_total{type=\"tag.arrived\"} 1\n"));
    /// assert!(text.contains("# TYPE shelfd_publish_latency_seconds histogram\n"));
    /// ```
    pub fn render(&self, s: &Scrape) -> String {
        let mut out = String::with_capacity(4096);
        header(
            &mut out,
            "shelfd_build_info",
            "gauge",
            "Version of this shelfd.",
        );
        let _ = writeln!(
            out,
            "shelfd_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        per_reader(
            &mut out,
            s,
            "shelfd_reader_up",
            "gauge",
            "1 while the reader's serial link is up.",
            |r| u64::from(r.link_up),
        );
        per_reader(
            &mut out,
            s,
            "shelfd_reader_reads_total",
            "counter",
            "Tag reads forwarded to the engine.",
            |r| r.reads,
        );
        per_reader(
            &mut out,
            s,
            "shelfd_reader_bad_frames_total",
            "counter",
            "Runs of bytes skipped as not a valid frame.",
            |r| r.bad_frames,
        );
        per_reader(
            &mut out,
            s,
            "shelfd_reader_disconnects_total",
            "counter",
            "Serial sessions that ended in a disconnect.",
            |r| r.disconnects,
        );
        reader_identities(&mut out, s);
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        gauge(
            &mut out,
            "shelfd_engine_records_total",
            "counter",
            "Read-log records fed to the engine.",
            load(&self.records),
        );
        self.engine_step.render(
            &mut out,
            "shelfd_engine_step_seconds",
            "Time of one engine step: a batch fed and committed, or a timer tick.",
        );
        gauge(
            &mut out,
            "shelfd_tags_tracked",
            "gauge",
            "Tags the engine tracks (present, candidates, sold).",
            load(&self.tags_tracked),
        );
        header(
            &mut out,
            "shelfd_tags_present",
            "gauge",
            "Tags present per location.",
        );
        for (location, n) in self.present() {
            let _ = writeln!(
                out,
                "shelfd_tags_present{{location=\"{}\"}} {n}",
                escape(&location)
            );
        }
        header(
            &mut out,
            "shelfd_events_total",
            "counter",
            "Events committed to the outbox, by type.",
        );
        for kind in EventKind::ALL {
            let _ = writeln!(
                out,
                "shelfd_events_total{{type=\"{kind}\"}} {}",
                load(&self.events[kind.index()])
            );
        }
        let p = &s.pipeline;
        gauge(
            &mut out,
            "shelfd_last_seq",
            "gauge",
            "The last event seq assigned.",
            p.last_seq,
        );
        gauge(
            &mut out,
            "shelfd_outbox_entries",
            "gauge",
            "Events waiting for their PUBACK.",
            p.outbox.entries,
        );
        gauge(
            &mut out,
            "shelfd_outbox_bytes",
            "gauge",
            "Payload bytes waiting for their PUBACK.",
            p.outbox.bytes,
        );
        gauge(
            &mut out,
            "shelfd_outbox_dropped_total",
            "counter",
            "Events dropped because the outbox was full.",
            p.outbox.dropped,
        );
        gauge(
            &mut out,
            "shelfd_mqtt_connected",
            "gauge",
            "1 while the broker connection is up.",
            u64::from(s.mqtt_connected),
        );
        header(
            &mut out,
            "shelfd_mqtt_disconnects_total",
            "counter",
            "Broker connections that ended, by cause.",
        );
        for cause in DisconnectCause::ALL {
            let _ = writeln!(
                out,
                "shelfd_mqtt_disconnects_total{{cause=\"{}\"}} {}",
                cause.as_str(),
                self.mqtt_disconnects(cause)
            );
        }
        self.publish_latency.render(
            &mut out,
            "shelfd_publish_latency_seconds",
            "Time from publishing an event to its PUBACK.",
        );
        gauge(
            &mut out,
            "shelfd_store_size_bytes",
            "gauge",
            "Size of the state dir's store on disk.",
            load(&self.store_bytes),
        );
        if let Some(synced) = self.clock_synchronized() {
            gauge(
                &mut out,
                "shelfd_clock_synchronized",
                "gauge",
                "1 when the system clock is synchronized (systemd-timesyncd), else 0.",
                u64::from(synced),
            );
        }
        gauge(
            &mut out,
            "shelfd_engine_failed",
            "gauge",
            "1 once the engine thread stopped on a store error (the process then exits).",
            load(&self.engine_failed),
        );
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn gauge(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

fn per_reader(
    out: &mut String,
    s: &Scrape,
    name: &str,
    kind: &str,
    help: &str,
    value: impl Fn(&ReaderHealthSnapshot) -> u64,
) {
    header(out, name, kind, help);
    for r in &s.readers {
        let _ = writeln!(
            out,
            "{name}{{reader=\"{}\"}} {}",
            escape(&r.reader),
            value(r)
        );
    }
}

/// What identified (LLRP) readers said about themselves: one series per reader.
fn reader_identities(out: &mut String, s: &Scrape) {
    let known: Vec<_> = s
        .readers
        .iter()
        .filter_map(|r| r.identity.as_ref().map(|i| (r, i)))
        .collect();
    if known.is_empty() {
        return;
    }
    header(
        out,
        "shelfd_reader_info",
        "gauge",
        "What an LLRP reader reported about itself (GET_READER_CAPABILITIES).",
    );
    for (r, i) in &known {
        let _ = writeln!(
            out,
            "shelfd_reader_info{{reader=\"{}\",vendor=\"{}\",model=\"{}\",firmware=\"{}\"}} 1",
            escape(&r.reader),
            escape(&i.vendor),
            i.model,
            escape(&i.firmware)
        );
    }
    header(
        out,
        "shelfd_reader_antennas",
        "gauge",
        "Antenna ports an LLRP reader reports.",
    );
    for (r, i) in &known {
        let _ = writeln!(
            out,
            "shelfd_reader_antennas{{reader=\"{}\"}} {}",
            escape(&r.reader),
            i.antennas
        );
    }
}

/// Label value escaping (ids are validated to `[A-Za-z0-9_-]`, so this is belt and braces).
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.publish_latency.observe(Duration::from_micros(500));
        m.publish_latency.observe(Duration::from_millis(20));
        m.publish_latency.observe(Duration::from_secs(30));
        let text = m.render(&Scrape::default());
        assert!(text.contains("shelfd_publish_latency_seconds_bucket{le=\"0.001\"} 1\n"));
        assert!(text.contains("shelfd_publish_latency_seconds_bucket{le=\"0.025\"} 2\n"));
        assert!(text.contains("shelfd_publish_latency_seconds_bucket{le=\"10\"} 2\n"));
        assert!(text.contains("shelfd_publish_latency_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("shelfd_publish_latency_seconds_count 3\n"));
        assert!(text.contains("shelfd_publish_latency_seconds_sum 30.0205\n"));
    }

    #[test]
    fn labels_come_from_the_config_and_the_event_kinds() {
        let m = Metrics::default();
        m.count_event(EventKind::TagMoved);
        m.set_engine(7, vec![("shelf-a1".into(), 5), ("dock-1".into(), 2)], 4096);
        let scrape = Scrape {
            readers: vec![
                ReaderHealthSnapshot {
                    reader: "r1".into(),
                    link_up: true,
                    reads: 42,
                    bad_frames: 3,
                    ..ReaderHealthSnapshot::default()
                },
                ReaderHealthSnapshot {
                    reader: "fx".into(),
                    identity: Some(shelfd_readers::ReaderIdentity {
                        vendor: "impinj".into(),
                        model: 2_001_002,
                        firmware: "5.14.0.240".into(),
                        antennas: 4,
                        ..shelfd_readers::ReaderIdentity::default()
                    }),
                    ..ReaderHealthSnapshot::default()
                },
            ],
            mqtt_connected: true,
            ..Scrape::default()
        };
        let text = m.render(&scrape);
        for line in [
            "shelfd_reader_up{reader=\"r1\"} 1",
            "shelfd_reader_reads_total{reader=\"r1\"} 42",
            "shelfd_reader_bad_frames_total{reader=\"r1\"} 3",
            "shelfd_reader_info{reader=\"fx\",vendor=\"impinj\",model=\"2001002\",firmware=\"5.14.0.240\"} 1",
            "shelfd_reader_antennas{reader=\"fx\"} 4",
            "shelfd_tags_tracked 7",
            "shelfd_tags_present{location=\"shelf-a1\"} 5",
            "shelfd_events_total{type=\"tag.moved\"} 1",
            "shelfd_events_total{type=\"dock.receipt\"} 0",
            "shelfd_mqtt_connected 1",
            "shelfd_store_size_bytes 4096",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        // Every sample line belongs to a declared metric.
        let declared: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .collect();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap_or_default();
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .filter(|b| declared.contains(b))
                .unwrap_or(name);
            assert!(declared.contains(&base), "undeclared {name}");
        }
    }
}

#[cfg(test)]
mod kind_tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_counter_and_series() {
        let m = Metrics::default();
        for (n, kind) in EventKind::ALL.into_iter().enumerate() {
            for _ in 0..=n {
                m.count_event(kind);
            }
        }
        let text = m.render(&Scrape::default());
        for (n, kind) in EventKind::ALL.into_iter().enumerate() {
            assert_eq!(m.events(kind), n as u64 + 1);
            let line = format!(
                "shelfd_events_total{{type=\"{}\"}} {}",
                kind.as_str(),
                n + 1
            );
            assert!(text.lines().any(|l| l == line), "missing {line:?}");
        }
        let series = text
            .lines()
            .filter(|l| l.starts_with("shelfd_events_total{"))
            .count();
        assert_eq!(series, EventKind::ALL.len());
    }
}
