//! systemd notify (`Type=notify`): `READY=1` once config, store and tasks are up (a broker that
//! is down is normal and does not delay it), `WATCHDOG=1` at half the watchdog interval but
//! only while the engine thread makes progress (so a wedged engine gets the process
//! restarted), a one-line `STATUS=` (outbox depth, last seq, broker), and `STOPPING=1` when
//! shutdown starts. Without `NOTIFY_SOCKET` (not under systemd) every call is a no-op.
//! Never blocks: a notify is one datagram.

use super::observers::Observed;
use crate::health::PipelineState;
use sd_notify::NotifyState;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// When the engine thread last made progress (gateway ms); written by the engine loop at every
/// tick, read by the watchdog.
#[derive(Debug, Default)]
pub struct EngineHeartbeat(AtomicU64);

impl EngineHeartbeat {
    /// The engine made progress at `now_ms`.
    pub fn beat(&self, now_ms: u64) {
        self.0.store(now_ms, Ordering::Relaxed);
    }

    /// The last beat.
    pub fn last(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!(error = %e, "sd_notify failed");
    }
}

/// `READY=1` with a first status line.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// `STOPPING=1`.
pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

/// The one-line status: serial readers up, outbox depth, last seq, broker connection.
pub fn status_line(
    readers_up: (usize, usize),
    state: &PipelineState,
    broker_connected: bool,
) -> String {
    format!(
        "readers {}/{} up, outbox {} events ({} dropped), last seq {}, broker {}",
        readers_up.0,
        readers_up.1,
        state.outbox.entries,
        state.outbox.dropped,
        state.last_seq,
        if broker_connected {
            "connected"
        } else {
            "disconnected"
        }
    )
}

/// Pings the watchdog (when systemd set one) while the engine beats, and refreshes `STATUS=`,
/// until `cancel`; then sends `STOPPING=1`.
pub async fn supervise(
    heartbeat: Arc<EngineHeartbeat>,
    observed: Observed,
    cancel: CancellationToken,
) {
    let watchdog = sd_notify::watchdog_enabled();
    let period = watchdog.map_or(Duration::from_secs(10), |w| w / 2);
    let mut tick = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = cancel.cancelled() => break,
        }
        let scrape = observed.scrape();
        let status = status_line(
            observed.readers_up(),
            &scrape.pipeline,
            scrape.mqtt_connected,
        );
        let fresh = watchdog.is_some_and(|w| {
            let age = shelfd_core::timefmt::now_ms().saturating_sub(heartbeat.last());
            u128::from(age) < w.as_millis()
        });
        if fresh {
            send(&[NotifyState::Watchdog, NotifyState::Status(&status)]);
        } else {
            if watchdog.is_some() {
                tracing::warn!("engine thread made no progress: withholding the watchdog ping");
            }
            send(&[NotifyState::Status(&status)]);
        }
    }
    stopping();
}
