//! The MQTT side of central: one persistent session (stable client id, clean session off,
//! QoS 1, manual acknowledgements) feeding one writer thread that applies messages in batches
//! ([`crate::apply::Applier`]) and acknowledges each message only after the transaction that
//! applied it committed. A crash between commit and ack makes the broker deliver the message
//! again, and the seq check ignores it; a crash before the commit loses nothing, since the
//! broker never got the ack.
//!
//! A PUBACK carries a packet id that the broker reuses after a reconnect, so an ack is sent
//! only on the connection that delivered the message (a generation counter): messages of an
//! older connection are redelivered by the broker and deduplicated.
//!
//! Safe terminal state: everything committed is committed; unacknowledged messages stay queued
//! at the broker for the next start.

use crate::apply::{Applier, Message, classify};
use crate::config::CentralConfig;
use crate::db::{DbUrl, Sql};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, Publish, QoS};
use shelfd_core::backoff::{Backoff, BackoffPolicy};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Most messages applied in one transaction.
pub const BATCH: usize = 512;
/// How often gaps are swept and reservations expired.
pub const SWEEP_EVERY: Duration = Duration::from_millis(250);

/// Figures of the running consumer.
#[derive(Debug, Default)]
pub struct ConsumerStats {
    /// Messages received.
    pub received: AtomicU64,
    /// Events applied.
    pub applied: AtomicU64,
    /// Duplicate events ignored.
    pub duplicates: AtomicU64,
    /// Messages rejected (malformed, foreign topics).
    pub rejected: AtomicU64,
    /// Transactions committed.
    pub batches: AtomicU64,
}

struct Inbound {
    publish: Publish,
    generation: u64,
}

enum Outbound {
    Ack(Vec<(Publish, u64)>),
    Command { topic: String, payload: String },
}

/// Runs the consumer until `cancel`.
pub async fn run_consumer(
    config: &CentralConfig,
    url: DbUrl,
    stats: Arc<ConsumerStats>,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let db = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || url.open_migrated()).await??
    };
    let mut options = MqttOptions::new(
        config.mqtt.client_id.clone(),
        config.mqtt.host.clone(),
        config.mqtt.port,
    );
    options
        .set_clean_session(false)
        .set_manual_acks(true)
        .set_keep_alive(Duration::from_secs(config.mqtt.keep_alive_s.max(1)))
        .set_max_packet_size(4 << 20, 1 << 20)
        .set_inflight(100);
    let (client, mut eventloop) = AsyncClient::new(options, 4096);
    let (in_tx, in_rx) = std::sync::mpsc::channel::<Inbound>();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Outbound>();
    let applier = Applier::new(
        &config.mqtt.topic_prefix,
        config.inventory.gap_wait_ms,
        config.inventory.resync_retry_ms,
        &config.mqtt.client_id,
    );
    let prefix = config.mqtt.topic_prefix.clone();
    let writer_stats = stats.clone();
    let writer = std::thread::Builder::new()
        .name("central-writer".into())
        .spawn(move || writer(db, applier, &prefix, in_rx, out_tx, &writer_stats))?;
    let generation = Arc::new(AtomicU64::new(0));
    let acker = {
        let client = client.clone();
        let generation = generation.clone();
        tokio::spawn(async move {
            while let Some(out) = out_rx.recv().await {
                match out {
                    Outbound::Ack(publishes) => {
                        let current = generation.load(Ordering::SeqCst);
                        for (p, g) in publishes {
                            if g == current && client.ack(&p).await.is_err() {
                                return;
                            }
                        }
                    }
                    Outbound::Command { topic, payload } => {
                        tracing::info!(%topic, %payload, "sending a command");
                        if client
                            .publish(topic, QoS::AtLeastOnce, false, payload)
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                }
            }
        })
    };
    let filter = config.filter();
    // The project's one reconnect policy (shelfd_core::backoff); a CONNACK starts it over.
    let mut backoff = Backoff::new(BackoffPolicy::BROKER);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            event = eventloop.poll() => match event {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    backoff.reset();
                    let g = generation.fetch_add(1, Ordering::SeqCst) + 1;
                    tracing::info!(session_present = ack.session_present, generation = g, "connected to the broker");
                    if let Err(e) = client.try_subscribe(filter.clone(), QoS::AtLeastOnce) {
                        tracing::error!(error = %e, "cannot subscribe");
                    }
                }
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    stats.received.fetch_add(1, Ordering::Relaxed);
                    let generation = generation.load(Ordering::SeqCst);
                    if in_tx.send(Inbound { publish, generation }).is_err() {
                        anyhow::bail!("the database writer stopped");
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let delay = backoff.next_delay();
                    tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "broker connection lost; reconnecting");
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = cancel.cancelled() => break,
                    }
                }
            }
        }
    }
    tracing::info!(
        received = stats.received.load(Ordering::Relaxed),
        applied = stats.applied.load(Ordering::Relaxed),
        duplicates = stats.duplicates.load(Ordering::Relaxed),
        rejected = stats.rejected.load(Ordering::Relaxed),
        "consumer stopped"
    );
    let _ = client.try_disconnect();
    drop(in_tx);
    acker.abort();
    let _ = tokio::task::spawn_blocking(move || writer.join()).await;
    Ok(())
}

fn writer(
    mut db: Box<dyn Sql>,
    mut applier: Applier,
    prefix: &str,
    rx: std::sync::mpsc::Receiver<Inbound>,
    out: mpsc::UnboundedSender<Outbound>,
    stats: &ConsumerStats,
) {
    let mut last_sweep = std::time::Instant::now();
    loop {
        let mut batch = Vec::new();
        match rx.recv_timeout(SWEEP_EVERY) {
            Ok(first) => {
                batch.push(first);
                while batch.len() < BATCH {
                    match rx.try_recv() {
                        Ok(more) => batch.push(more),
                        Err(_) => break,
                    }
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        }
        if !batch.is_empty() {
            let messages: Vec<Message> = batch
                .iter()
                .map(|m| {
                    classify(prefix, &m.publish.topic, &m.publish.payload).unwrap_or_else(|e| {
                        stats.rejected.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(error = %e, "ignoring a message");
                        Message::Ignored
                    })
                })
                .collect();
            let mut retry = Backoff::new(BackoffPolicy::READER_LINK);
            let report = loop {
                match applier.apply_batch(db.as_mut(), &messages, crate::now_ms()) {
                    Ok(report) => break report,
                    Err(e) => {
                        // Nothing was acknowledged: retry, backing off, until the database is
                        // back.
                        let delay = retry.next_delay();
                        tracing::error!(error = %e, retry_in_ms = delay.as_millis() as u64, "cannot apply a batch; retrying");
                        std::thread::sleep(delay);
                    }
                }
            };
            stats.batches.fetch_add(1, Ordering::Relaxed);
            stats.applied.fetch_add(report.applied, Ordering::Relaxed);
            stats
                .duplicates
                .fetch_add(report.duplicates, Ordering::Relaxed);
            let acks = batch
                .into_iter()
                .map(|m| (m.publish, m.generation))
                .collect();
            if out.send(Outbound::Ack(acks)).is_err() {
                return;
            }
            for c in report.commands {
                let _ = out.send(Outbound::Command {
                    topic: c.topic,
                    payload: c.payload,
                });
            }
        }
        if last_sweep.elapsed() >= SWEEP_EVERY {
            last_sweep = std::time::Instant::now();
            let now = crate::now_ms();
            match applier.sweep(db.as_mut(), now) {
                Ok(report) => {
                    stats.applied.fetch_add(report.applied, Ordering::Relaxed);
                    for c in report.commands {
                        let _ = out.send(Outbound::Command {
                            topic: c.topic,
                            payload: c.payload,
                        });
                    }
                }
                Err(e) => tracing::error!(error = %e, "gap sweep failed"),
            }
            if let Err(e) = crate::inventory::expire_reservations(db.as_mut(), now) {
                tracing::error!(error = %e, "expiring reservations failed");
            }
        }
    }
}
