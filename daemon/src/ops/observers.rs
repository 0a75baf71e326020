//! What a running pipeline shows to observers: the `status.json` file in the state dir (read by
//! `shelfd status`) and the Prometheus endpoint of `[metrics] listen`. Both are built from the
//! same shared handles ([`Observed`]); neither ever waits on the engine thread or the broker.

use super::metrics::{Metrics, Scrape};
use super::metrics_http;
use super::status_view::{ReaderLine, StatusReport};
use crate::config::{Config, Protocol};
use crate::health::{PipelineState, ReaderHealths};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How often `status.json` is rewritten.
pub const STATUS_EVERY: Duration = Duration::from_secs(2);

/// The shared handles observers read.
#[derive(Clone)]
pub struct Observed {
    /// The running config.
    pub config: Arc<Config>,
    /// Serial reader counters.
    pub readers: ReaderHealths,
    /// Engine and publisher metrics.
    pub metrics: Arc<Metrics>,
    /// Outbox figures and last seq.
    pub state: watch::Receiver<PipelineState>,
    /// Broker connection up.
    pub mqtt_connected: Arc<AtomicBool>,
    /// When the run started, ms since the epoch.
    pub started_at_ms: u64,
}

impl Observed {
    /// What the metrics endpoint needs beyond [`Metrics`].
    pub fn scrape(&self) -> Scrape {
        Scrape {
            readers: self.readers.snapshots(),
            pipeline: *self.state.borrow(),
            mqtt_connected: self.mqtt_connected.load(Ordering::Relaxed),
        }
    }

    /// Serial readers whose link is up, and how many serial readers the config has.
    pub fn readers_up(&self) -> (usize, usize) {
        let up = self
            .readers
            .snapshots()
            .iter()
            .filter(|r| r.link_up)
            .count();
        let serial = self
            .config
            .readers
            .iter()
            .filter(|r| r.protocol() != Protocol::Replay)
            .count();
        (up, serial)
    }

    /// The `status.json` document as of now.
    pub fn report(&self, state: &str) -> StatusReport {
        let health = self.readers.snapshots();
        let gw = &self.config.gateway;
        let readers = self
            .config
            .readers
            .iter()
            .map(|r| {
                let h = health.iter().find(|h| h.reader == r.id);
                let (source, link) = match r.protocol() {
                    Protocol::Replay => (
                        r.file()
                            .map_or_else(String::new, |f| f.display().to_string()),
                        "replay".to_owned(),
                    ),
                    Protocol::Llrp => (
                        r.llrp().map_or_else(String::new, |l| l.address.clone()),
                        if h.is_some_and(|h| h.link_up) {
                            "up"
                        } else {
                            "down"
                        }
                        .to_owned(),
                    ),
                    _ => (
                        r.port()
                            .map_or_else(String::new, |p| p.display().to_string()),
                        if h.is_some_and(|h| h.link_up) {
                            "up"
                        } else {
                            "down"
                        }
                        .to_owned(),
                    ),
                };
                ReaderLine {
                    id: r.id.clone(),
                    protocol: r.protocol().to_string(),
                    source,
                    link,
                    reads: h.map_or(0, |h| h.reads),
                    bad_frames: h.map_or(0, |h| h.bad_frames),
                    last_frame_ms: h.and_then(|h| h.last_frame_ms),
                    identity: h.and_then(|h| h.identity.clone()),
                }
            })
            .collect();
        StatusReport {
            v: 1,
            state: state.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            pid: std::process::id(),
            store: gw.store.clone(),
            gateway: gw.id.clone(),
            started_at_ms: self.started_at_ms,
            updated_at_ms: shelfd_core::timefmt::wall_ms(),
            broker: self.config.mqtt.url.to_string(),
            broker_connected: self.mqtt_connected.load(Ordering::Relaxed),
            readers,
            tags_tracked: self.metrics.tags_tracked(),
            locations: self.metrics.present(),
            outbox: self.state.borrow().outbox,
            error: None,
            clock_synchronized: self.metrics.clock_synchronized(),
        }
    }

    fn write_report(&self, state: &str) {
        let dir = &self.config.gateway.state_dir;
        if let Err(e) = self.report(state).write(dir) {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot write status.json");
        }
    }
}

/// Rewrites `status.json` every [`STATUS_EVERY`] until `cancel`. The caller writes the final
/// `stopped` report with [`write_stopped`] once everything has stopped.
pub async fn keep_status_written(observed: Observed, cancel: CancellationToken) {
    let mut tick = tokio::time::interval(STATUS_EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => observed.write_report("running"),
            _ = cancel.cancelled() => return,
        }
    }
}

/// Writes the final `stopped` report.
pub fn write_stopped(observed: &Observed) {
    observed.write_report("stopped");
}

/// Writes the status file of a run that stopped on an error (state `failed`, with the error).
pub fn write_failed(observed: &Observed, error: &str) {
    let mut report = observed.report("failed");
    report.error = Some(error.to_owned());
    if let Err(e) = report.write(&observed.config.gateway.state_dir) {
        tracing::warn!(error = %e, "cannot write the status file");
    }
}

/// Binds the metrics endpoint when configured and serves it until `cancel`. A bind failure is
/// logged and the daemon runs on without metrics (stock keeps flowing).
pub async fn serve_metrics(observed: Observed, cancel: CancellationToken) {
    let Some(addr) = observed.config.metrics.listen else {
        return;
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(%addr, error = %e, "cannot serve metrics; running without them");
            return;
        }
    };
    tracing::info!(%addr, "serving Prometheus metrics on /metrics");
    let metrics = observed.metrics.clone();
    let scrape = Arc::new(move || observed.scrape());
    metrics_http::serve(listener, metrics, scrape, cancel).await;
}
