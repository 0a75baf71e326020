//! `shelfd run`: the live pipeline, wired from a validated config.
//!
//! ```text
//! reader tasks ──Record──▶ bounded channel ──▶ engine thread (engine + store, one commit per batch)
//! gpio inputs ───Record──▶        │                │ PipelineState / SnapshotBoard      ▲ OutboxRequest
//!                                                  ▼                                    │ (fetch, ack)
//!                                             publisher task (owns the MQTT connection) │ EngineCommand
//!                                                  light states (watch) ──▶ light-stack drivers
//! ```
//!
//! Configured `[[gpio]]` lines are opened by [`crate::gpio::spawn`]: door inputs feed the record
//! channel like readers, light stacks follow the engine's dock states. A missing
//! `/dev/gpiochip*` is logged and the daemon runs on without that line.
//!
//! One [`CancellationToken`] stops everything, in this order: readers stop and drop their
//! senders; the engine thread sees the channel close, runs the engine's clean stop, commits and
//! flushes, and announces `engine_done`; the publisher drains what it can within a grace
//! period, publishes `offline` and disconnects; the engine thread flushes once more and ends.

pub mod clock;
pub mod engine_loop;
pub mod reload;

use crate::config::{Config, LaneConfig, ReaderConfig, ReaderSource};
use crate::engine_store::{EngineStore, EngineStoreError};
use crate::health::{PipelineState, ReaderHealths};
use crate::ops::notify::{self, EngineHeartbeat};
use crate::ops::observers;
use crate::publish::status::{StatusDoc, new_boot_id};
use crate::publish::task::{Publisher, run_publisher};
use crate::publish::{SnapshotBoard, connect};
use crate::store::{DEFAULT_CACHE_BYTES, SledStore, StoreError};
use engine_loop::{DockIo, EngineLoop, OutboxCap};
use shelfd_core::readlog::Record;
use shelfd_core::topics::Topics;
use shelfd_readers::shelf_link::{BusSettings, LaneSetup, run_shelf_link_reader};
use shelfd_readers::{ReaderHealth, ReaderSettings, run_serial_reader};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Capacity of the readers → engine channel: a few seconds of a busy store's reads. When full,
/// readers wait (back-pressure) rather than the engine falling behind without bound.
pub const RECORD_CHANNEL: usize = 16 * 1024;

/// Capacity of the publisher → engine command channel; a command arriving when it is full is
/// answered "busy" at once.
pub const COMMAND_CHANNEL: usize = 64;

/// Why the pipeline could not start or stopped on its own.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The state dir's store could not be opened.
    #[error("state dir {dir}: {source}")]
    Store {
        /// The state dir.
        dir: String,
        /// What failed.
        source: StoreError,
    },
    /// The engine could not be restored from the store.
    #[error("restoring the engine: {0}")]
    Restore(#[from] EngineStoreError),
    /// The engine thread failed (the store refused a commit).
    #[error("engine thread: {0}")]
    Engine(#[from] engine_loop::EngineLoopError),
    /// The engine thread could not be started or panicked.
    #[error("engine thread: {0}")]
    Thread(String),
    /// EPCIS output is enabled but cannot be set up (a validated config always can).
    #[error(transparent)]
    Epcis(#[from] crate::publish::epcis::EpcisSetupError),
}

/// Handles the running pipeline shares with status views and tests.
#[derive(Debug, Clone, Default)]
pub struct RunHandles {
    /// True while the broker connection is up.
    pub mqtt_connected: Arc<AtomicBool>,
    /// The counters of every serial reader, registered as its driver starts.
    pub readers: ReaderHealths,
    /// Engine and publisher metrics.
    pub metrics: Arc<crate::ops::metrics::Metrics>,
    /// Applies reloaded configs (SIGHUP); without one the run cannot be reloaded.
    pub reloader: Option<Arc<reload::Reloader>>,
}

/// Runs the pipeline of `config` until `cancel`, then stops cleanly (see the module docs).
pub async fn run(config: Config, cancel: CancellationToken) -> Result<(), RunError> {
    run_with(config, cancel, RunHandles::default()).await
}

/// [`run`] with handles the caller keeps.
pub async fn run_with(
    config: Config,
    cancel: CancellationToken,
    handles: RunHandles,
) -> Result<(), RunError> {
    connect::install_crypto_provider();
    let started_at = shelfd_core::timefmt::now_ms();
    let epcis = crate::publish::epcis::EpcisMapping::from_config(&config)?;
    let dir = config.gateway.state_dir.clone();
    let open_config = config.clone();
    let engine = tokio::task::spawn_blocking(move || {
        let store =
            SledStore::open(&dir, DEFAULT_CACHE_BYTES).map_err(|source| RunError::Store {
                dir: dir.display().to_string(),
                source,
            })?;
        Ok::<_, RunError>(EngineStore::open(&open_config, store)?)
    })
    .await
    .map_err(|e| RunError::Thread(e.to_string()))??;
    let report = engine.restore_report();
    tracing::info!(?report, "engine restored");

    let (record_tx, records) = mpsc::channel(RECORD_CHANNEL);
    let (outbox_tx, outbox_rx) = mpsc::channel(64);
    let (command_tx, command_rx) = mpsc::channel(COMMAND_CHANNEL);
    let (lights_tx, lights_rx) = watch::channel(engine.dock_lights());
    let (state_tx, state_rx) = watch::channel(PipelineState::default());
    let board = Arc::new(SnapshotBoard::default());
    let cap = OutboxCap {
        max_entries: config.mqtt.outbox_max_entries,
        max_bytes: config.mqtt.outbox_max_bytes,
    };
    let heartbeat = Arc::new(EngineHeartbeat::default());
    heartbeat.beat(shelfd_core::timefmt::now_ms());
    let mut engine_loop = EngineLoop {
        engine,
        records,
        outbox: outbox_rx,
        state: state_tx,
        board: board.clone(),
        cap,
        clock: clock::GatewayClock::system(),
        dropped_total: 0,
        heartbeat: heartbeat.clone(),
        docks: DockIo {
            commands: command_rx,
            lights: lights_tx,
        },
        metrics: handles.metrics.clone(),
        hot: handles.reloader.as_ref().map(|r| r.subscribe()),
    };
    engine_loop.prime().map_err(|source| RunError::Store {
        dir: config.gateway.state_dir.display().to_string(),
        source,
    })?;
    let (engine_done_tx, engine_done) = oneshot::channel();
    let engine_metrics = handles.metrics.clone();
    std::thread::Builder::new()
        .name("shelfd-engine".into())
        .spawn(move || {
            let result = engine_loop.run();
            if let Err(e) = &result {
                // Reported at once, with its cause; the rest of the pipeline stops and the
                // process exits non-zero (systemd restarts it). Nothing committed is lost.
                engine_metrics.engine_failed();
                tracing::error!(error = %e, "engine thread stopped: a commit failed; stopping shelfd");
            }
            let _ = engine_done_tx.send(result);
        })
        .map_err(|e| RunError::Thread(e.to_string()))?;

    let observed = observers::Observed {
        config: Arc::new(config.clone()),
        readers: handles.readers.clone(),
        metrics: handles.metrics.clone(),
        state: state_rx.clone(),
        mqtt_connected: handles.mqtt_connected.clone(),
        started_at_ms: started_at,
    };
    let tracker = TaskTracker::new();
    tracker.spawn(notify::supervise(
        heartbeat,
        observed.clone(),
        cancel.clone(),
    ));
    tracker.spawn(observers::keep_status_written(
        observed.clone(),
        cancel.clone(),
    ));
    tracker.spawn(observers::serve_metrics(observed.clone(), cancel.clone()));
    let mqtt = &config.mqtt;
    let publisher = Publisher {
        mqtt: mqtt.clone(),
        topics: Topics::new(
            &mqtt.topic_prefix,
            &config.gateway.store,
            &config.gateway.id,
        ),
        status: StatusDoc::new(
            &config.gateway.store,
            &config.gateway.id,
            &new_boot_id(),
            started_at,
        ),
        outbox: outbox_tx,
        state: state_rx,
        board,
        connected: handles.mqtt_connected.clone(),
        engine: command_tx,
        metrics: handles.metrics.clone(),
        epcis,
    };
    tracker.spawn(run_publisher(publisher, cancel.clone()));
    for reader in &config.readers {
        tracker.spawn(run_reader(
            reader.clone(),
            config.lanes.clone(),
            record_tx.clone(),
            handles.readers.clone(),
            cancel.clone(),
        ));
    }
    crate::gpio::spawn(
        &config,
        &record_tx,
        &lights_rx,
        &cancel,
        &tracker,
        shelfd_core::timefmt::now_ms,
    );
    // The engine ends when every sender is gone; hold one until shutdown so a reader that
    // ends early (a replay file played to its end, a driver that cannot start) does not stop
    // the engine while the daemon runs.
    let keep_open = cancel.clone();
    tracker.spawn(async move {
        keep_open.cancelled().await;
        drop(record_tx);
    });
    tracker.close();
    // Config, store and tasks are up; the broker may still be connecting (that is normal).
    notify::ready("running; connecting to the broker");

    // The engine thread ends after the readers and the publisher; if it fails first (store
    // error), everything else is stopped.
    let result = match engine_done.await {
        Ok(result) => result.map_err(RunError::from),
        Err(_) => Err(RunError::Thread("the engine thread panicked".into())),
    };
    if result.is_err() {
        cancel.cancel();
    }
    tracker.wait().await;
    match &result {
        Ok(()) => observers::write_stopped(&observed),
        Err(e) => observers::write_failed(&observed, &e.to_string()),
    }
    result
}

/// One reader's task: its protocol's source until `cancel`, on settings built from its
/// config. Every reader's counters (replay sources' too) are registered in `healths`.
async fn run_reader(
    reader: ReaderConfig,
    lanes: Vec<LaneConfig>,
    sink: mpsc::Sender<Record>,
    healths: ReaderHealths,
    cancel: CancellationToken,
) {
    let id = reader.id.clone();
    let wire = reader.wire_options();
    let protocol = reader.protocol();
    match reader.source {
        ReaderSource::Replay { file, speed } => {
            let health = Arc::new(ReaderHealth::new(&id));
            healths.register(health.clone());
            let settings = shelfd_readers::replay::ReplaySettings { id, file, speed };
            let source = shelfd_readers::replay::run_replay_reader(
                settings,
                sink,
                health,
                cancel.clone(),
                shelfd_core::timefmt::now_ms,
            );
            if let Err(e) = source.await {
                tracing::error!(reader = %reader.id, error = %e, "replay source failed");
            }
        }
        ReaderSource::ShelfLink { line, nodes } => {
            let health = Arc::new(ReaderHealth::new(&id));
            healths.register(health.clone());
            let lanes = lanes
                .iter()
                .filter(|l| l.reader.as_deref() == Some(id.as_str()))
                .map(|l| LaneSetup {
                    node: l.node,
                    lane: l.lane,
                    unit_mg: l.unit_mg(),
                    tolerance_mg: l.tolerance_mg(),
                })
                .collect();
            let bus = BusSettings {
                id,
                nodes,
                antennas: wire.antennas,
                lanes,
                watchdog: reader.watchdog,
            };
            let driver = run_shelf_link_reader(bus, line.port, line.baud, sink, health, cancel);
            if let Err(e) = driver.await {
                tracing::error!(reader = %reader.id, error = %e, "shelf-link reader cannot start");
            }
        }
        ReaderSource::Llrp(llrp) => {
            let health = Arc::new(ReaderHealth::new(&id));
            healths.register(health.clone());
            let settings = llrp_settings(id, wire.antennas, reader.power_dbm, llrp);
            shelfd_readers::llrp::client::run_llrp_reader(settings, sink, health, cancel).await;
        }
        ReaderSource::Mercury(line)
        | ReaderSource::MagicRf { line, .. }
        | ReaderSource::R2000(line)
        | ReaderSource::Line(line) => {
            let health = Arc::new(ReaderHealth::new(&id));
            healths.register(health.clone());
            let settings = ReaderSettings {
                id,
                protocol,
                wire,
                watchdog: reader.watchdog,
            };
            let driver = run_serial_reader(settings, line.port, line.baud, sink, health, cancel);
            if let Err(e) = driver.await {
                tracing::error!(reader = %reader.id, error = %e, "serial reader cannot start");
            }
        }
    }
}

/// The LLRP session's settings from an `llrp` reader's config.
pub fn llrp_settings(
    id: String,
    antennas: Vec<u16>,
    power_dbm: Option<f64>,
    llrp: crate::config::LlrpReader,
) -> shelfd_readers::llrp::client::LlrpSettings {
    let mut settings = shelfd_readers::llrp::client::LlrpSettings::new(id, llrp.address, antennas);
    settings.inventory = shelfd_readers::llrp::client::InventorySettings {
        session: llrp.session,
        search_mode: llrp.search_mode,
        population: llrp.population,
        rf_mode: llrp.rf_mode,
        power_dbm,
        antenna_power_dbm: llrp.antenna_power_dbm,
    };
    settings.keepalive = llrp.keepalive;
    settings.reset_to_factory = llrp.reset_to_factory;
    settings.max_message_bytes = usize::try_from(llrp.max_message_size).unwrap_or(usize::MAX);
    settings
}
