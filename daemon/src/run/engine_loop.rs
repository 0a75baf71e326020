//! The engine thread: the single owner of the engine and the store. It feeds records from the
//! readers' bounded channel into the engine, moves gateway time forward on a tick, commits each
//! batch's state changes and events in one store commit, enforces the outbox cap, answers the
//! publisher's fetches and applies its acknowledgements, and tells the publisher what changed.
//! Commands that need the engine (`asn`) come from the publisher as [`EngineCommand`]s: each is
//! executed at the gateway clock, committed and flushed, and only then answered; dock light
//! states go out on a watch channel to the light-stack drivers.
//!
//! It runs on its own OS thread (sled blocks), driving a small current-thread runtime only to
//! wait on several channels at once. It must never wait on the publisher or the network.
//!
//! Safe terminal state (when every reader sender is gone, i.e. after cancellation): the engine
//! ran its clean-stop step, everything is committed and flushed, `engine_done` is announced;
//! it keeps serving the publisher until the publisher lets go, then flushes once more.

use crate::config::Config;
use crate::engine_store::EngineStore;
use crate::health::{OutboxHealth, PipelineState};
use crate::ops::metrics::Metrics;
use crate::publish::commands::EngineCommand;
use crate::publish::{OutboxRequest, SnapshotBoard};
use crate::run::clock::GatewayClock;
use crate::store::{Commit, Key, KeySpace, Store, StoreError, kept_when_full};
use shelfd_core::commands::CommandError;
use shelfd_core::dock::Light;
use shelfd_core::readlog::Record;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Meta key of the count of events dropped by the outbox cap.
pub const DROPPED_META: &str = "outbox_dropped";

/// How often gateway time moves forward without input (timers: departures, settle windows).
const TICK: Duration = Duration::from_millis(250);
/// Most records fed between two commits.
const BATCH: usize = 4096;
/// Ticks between two refreshes of the engine gauges (tags, per-location counts, store size).
const GAUGE_TICKS: u32 = 8;

/// The next reloaded config; `None` when the reloader is gone.
async fn changed(hot: &mut Option<watch::Receiver<Arc<Config>>>) -> Option<Arc<Config>> {
    let rx = hot.as_mut()?;
    rx.changed().await.ok()?;
    Some(rx.borrow_and_update().clone())
}

/// The outbox cap from `[mqtt]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxCap {
    /// Most entries.
    pub max_entries: u64,
    /// Most payload bytes.
    pub max_bytes: u64,
}

/// The engine thread's dock plumbing: commands from the publisher, light states out.
pub struct DockIo {
    /// Commands that need the engine, from the publisher.
    pub commands: mpsc::Receiver<EngineCommand>,
    /// Every dock's light state, for the light-stack drivers.
    pub lights: watch::Sender<Vec<(String, Light)>>,
}

impl DockIo {
    /// Plumbing nobody else holds the other ends of (tests, tools).
    pub fn detached() -> Self {
        DockIo {
            commands: mpsc::channel(1).1,
            lights: watch::channel(Vec::new()).0,
        }
    }
}

/// The engine thread's inputs and outputs.
pub struct EngineLoop<S: Store> {
    /// Engine and store.
    pub engine: EngineStore<S>,
    /// Records from the readers.
    pub records: mpsc::Receiver<Record>,
    /// Requests from the publisher.
    pub outbox: mpsc::Receiver<OutboxRequest>,
    /// What the publisher learns.
    pub state: watch::Sender<PipelineState>,
    /// Retained snapshots for the publisher.
    pub board: Arc<SnapshotBoard>,
    /// The outbox cap.
    pub cap: OutboxCap,
    /// The engine's timeline (timers) and the wall clock (event times).
    pub clock: GatewayClock,
    /// Events dropped by the cap so far (from the store at [`EngineLoop::prime`]).
    pub dropped_total: u64,
    /// Beats at every tick, for the systemd watchdog.
    pub heartbeat: Arc<crate::ops::notify::EngineHeartbeat>,
    /// Commands from the publisher and dock light states.
    pub docks: DockIo,
    /// Metrics the engine thread keeps up to date.
    pub metrics: Arc<Metrics>,
    /// Reloaded configs whose hot keys apply to the engine (none: no live reload).
    pub hot: Option<watch::Receiver<Arc<Config>>>,
}

/// Why the engine thread stopped early.
#[derive(Debug, thiserror::Error)]
pub enum EngineLoopError {
    /// The store failed: nothing more can be committed safely.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The thread's runtime could not be built.
    #[error("engine thread runtime: {0}")]
    Runtime(std::io::Error),
}

impl<S: Store + 'static> EngineLoop<S> {
    /// Loads the retained snapshots into the board and announces the current state. Call
    /// before starting the publisher.
    pub fn prime(&mut self) -> Result<(), StoreError> {
        self.dropped_total = self
            .engine
            .store()
            .get(&Key::Meta(DROPPED_META.into()))?
            .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
            .map_or(0, u64::from_be_bytes);
        for (key, payload) in self.engine.store().scan(KeySpace::Snapshot)? {
            if let Key::Snapshot(location) = key {
                self.board
                    .update(&location, String::from_utf8_lossy(&payload).into_owned());
            }
        }
        self.announce(false);
        Ok(())
    }

    /// Runs the loop on the calling thread until the readers and the publisher are gone.
    pub fn run(mut self) -> Result<(), EngineLoopError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(EngineLoopError::Runtime)?;
        rt.block_on(self.run_async())?;
        Ok(())
    }

    async fn run_async(&mut self) -> Result<(), StoreError> {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut readers_open = true;
        let mut publisher_open = true;
        let mut commands_open = true;
        let mut batch = Vec::with_capacity(BATCH);
        let mut ticks = 0u32;
        self.refresh_gauges();
        while readers_open || publisher_open {
            tokio::select! {
                biased;
                request = self.outbox.recv(), if publisher_open => match request {
                    Some(request) => self.serve(request)?,
                    None => publisher_open = false,
                },
                command = self.docks.commands.recv(), if commands_open => match command {
                    Some(command) => self.execute(command, readers_open)?,
                    None => commands_open = false,
                },
                // A reload applies before the records that follow it.
                changed = changed(&mut self.hot), if readers_open && self.hot.is_some() => {
                    match changed {
                        Some(config) => self.engine.reconfigure(&config),
                        None => self.hot = None,
                    }
                }
                n = self.records.recv_many(&mut batch, BATCH), if readers_open => {
                    if n == 0 {
                        readers_open = false;
                        self.finish()?;
                    } else {
                        let started = Instant::now();
                        self.metrics.add_records(n as u64);
                        self.feed(&mut batch);
                        self.commit()?;
                        self.metrics.engine_step.observe(started.elapsed());
                    }
                }
                _ = tick.tick(), if readers_open => {
                    let started = Instant::now();
                    let now = self.clock.timeline();
                    self.heartbeat.beat(now);
                    self.engine.advance(now);
                    self.commit()?;
                    self.metrics.engine_step.observe(started.elapsed());
                    if ticks % GAUGE_TICKS == 0 {
                        self.refresh_gauges();
                        let synced = self.clock.check_synchronized();
                        self.metrics.set_clock_synchronized(synced);
                    }
                    ticks += 1;
                }
            }
        }
        self.engine.flush()?;
        Ok(())
    }

    fn feed(&mut self, batch: &mut Vec<Record>) {
        for record in batch.drain(..) {
            if let Err(e) = self.engine.feed(&record) {
                tracing::debug!(error = %e, "record skipped");
            }
        }
    }

    /// Executes a command at the gateway clock, commits and flushes, then answers: the result
    /// a consumer sees describes a durable change. After the engine's clean stop, commands are
    /// refused.
    fn execute(&mut self, request: EngineCommand, running: bool) -> Result<(), StoreError> {
        let EngineCommand { command, reply } = request;
        if !running {
            let _ = reply.send(Err(CommandError::rejected(
                Some(command.id()),
                "the daemon is stopping; send it again",
            )));
            return Ok(());
        }
        let result = self.engine.execute(self.clock.timeline(), &command);
        self.commit()?;
        self.engine.flush()?;
        let _ = reply.send(result);
        Ok(())
    }

    /// The clean stop: the engine's shutdown step, a last commit, a flush, `engine_done`.
    fn finish(&mut self) -> Result<(), StoreError> {
        self.engine.advance(self.clock.timeline());
        self.engine.shutdown();
        self.commit()?;
        self.engine.flush()?;
        self.announce(true);
        self.refresh_gauges();
        tracing::info!(
            next_seq = self.engine.store().next_seq(),
            "engine stopped; state committed and flushed"
        );
        Ok(())
    }

    /// Commits, and before anything is published flushes to disk: an event a consumer has
    /// seen must survive a kill -9, or its seq could be reused after the restart.
    fn commit(&mut self) -> Result<(), StoreError> {
        let offset = self.clock.event_offset();
        self.engine.set_wall_offset(offset);
        let (events, snapshots) = self.engine.commit()?;
        self.docks.lights.send_if_modified(|shown| {
            let now = self.engine.dock_lights();
            let changed = *shown != now;
            *shown = now;
            changed
        });
        if events.is_empty() && snapshots.is_empty() {
            return Ok(());
        }
        if !events.is_empty() {
            for e in &events {
                self.metrics.count_event(e.body.kind());
            }
            self.enforce_cap()?;
        }
        self.engine.flush()?;
        let origin = self.engine.origin().clone();
        for s in &snapshots {
            self.board.update(&s.location, s.to_json(&origin));
        }
        let done = self.state.borrow().engine_done;
        self.announce(done);
        Ok(())
    }

    /// Applies the outbox cap ([`kept_when_full`]): oldest `tag.*` events go first (snapshots
    /// restore the truth they carried), then anything oldest. Counts the drops durably.
    fn enforce_cap(&mut self) -> Result<(), StoreError> {
        let stats = self.engine.store().outbox_stats();
        if stats.entries <= self.cap.max_entries && stats.bytes <= self.cap.max_bytes {
            return Ok(());
        }
        let dropped = self.engine.store_mut().outbox_drop_oldest(
            self.cap.max_entries,
            self.cap.max_bytes,
            &kept_when_full,
        )?;
        if dropped > 0 {
            self.dropped_total += dropped;
            let total = self.dropped_total;
            let commit = Commit {
                puts: vec![(Key::Meta(DROPPED_META.into()), total.to_be_bytes().to_vec())],
                ..Commit::default()
            };
            self.engine.store_mut().commit(commit)?;
            tracing::warn!(
                dropped,
                total,
                "outbox full: dropped the oldest events (consumers see a seq gap; snapshots carry the current stock)"
            );
        }
        Ok(())
    }

    fn serve(&mut self, request: OutboxRequest) -> Result<(), StoreError> {
        match request {
            OutboxRequest::Ack(mut seqs) => {
                // Gather every ack already queued into one store batch; a fetch queued behind
                // them is served after the batch (requests keep their order).
                let mut next = None;
                while let Ok(request) = self.outbox.try_recv() {
                    match request {
                        OutboxRequest::Ack(more) => seqs.extend(more),
                        other => {
                            next = Some(other);
                            break;
                        }
                    }
                }
                self.engine.store_mut().outbox_ack(&seqs)?;
                let done = self.state.borrow().engine_done;
                self.announce(done);
                if let Some(request) = next {
                    self.serve(request)?;
                }
            }
            OutboxRequest::Fetch {
                after,
                limit,
                reply,
            } => {
                let entries = self.engine.store().outbox_after(after, limit)?;
                let _ = reply.send(entries);
            }
        }
        Ok(())
    }

    /// Refreshes the engine gauges of the metrics (and so of `shelfd status`).
    fn refresh_gauges(&self) {
        let engine = self.engine.engine();
        let present = engine
            .present_per_location()
            .into_iter()
            .zip(&engine.topology().locations)
            .map(|(n, l)| (l.id.to_string(), n as u64))
            .collect();
        self.metrics.set_engine(
            engine.tracked_tags() as u64,
            present,
            self.engine.store().size_on_disk(),
        );
    }

    fn announce(&self, engine_done: bool) {
        let store = self.engine.store();
        let stats = store.outbox_stats();
        let state = PipelineState {
            last_seq: store.next_seq().saturating_sub(1),
            outbox: OutboxHealth {
                entries: stats.entries,
                bytes: stats.bytes,
                dropped: self.dropped_total,
                last_seq: store.next_seq().saturating_sub(1),
            },
            engine_done,
        };
        self.state.send_if_modified(|s| {
            let changed = *s != state;
            *s = state;
            changed
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use shelfd_core::events::EventKind;
    use shelfd_core::readlog::TagRead;
    use std::path::Path;
    use tokio_util::sync::CancellationToken;

    const CONFIG: &str = r#"
[gateway]
store = "s1"
id = "gw-1"
[[reader]]
id = "r1"
protocol = "replay"
file = "x.jsonl"
antennas = { 1 = "shelf-a" }
[[location]]
id = "shelf-a"
kind = "shelf"
[reconcile]
baseline_window = "0s"
arrive_dwell = "0s"
arrive_min_reads = 2
settle_quiet = "0s"
settle_max = "0s"
"#;

    fn read(t: u64, serial: u64) -> Record {
        Record::Read(TagRead {
            t,
            reader: "r1".into(),
            antenna: 1,
            epc: shelfd_core::sim::sim_epc(1, serial),
            rssi: Some(-50.0),
        })
    }

    /// With the broker away and a tiny cap, the outbox stays within it, `tag.*` events go
    /// first, the drop is counted durably and announced to the publisher.
    #[test]
    fn a_full_outbox_drops_tag_events_first_and_counts() {
        let config = crate::config::parse(CONFIG, Path::new("t.toml")).expect("config");
        let engine = EngineStore::open(&config, MemoryStore::new()).expect("open");
        let (_record_tx, records) = mpsc::channel(1);
        let (_outbox_tx, outbox) = mpsc::channel(1);
        let (state, state_rx) = watch::channel(PipelineState::default());
        let mut lp = EngineLoop {
            engine,
            records,
            outbox,
            state,
            board: Arc::new(SnapshotBoard::default()),
            cap: OutboxCap {
                max_entries: 20,
                max_bytes: u64::MAX,
            },
            clock: GatewayClock::fixed(|| 0),
            dropped_total: 0,
            heartbeat: Arc::default(),
            docks: DockIo::detached(),
            metrics: Arc::default(),
            hot: None,
        };
        lp.prime().expect("prime");
        let t0 = 1_795_341_600_000;
        for serial in 1..=40u64 {
            let mut batch = vec![
                read(t0 + serial * 1000, serial),
                read(t0 + serial * 1000 + 500, serial),
            ];
            lp.feed(&mut batch);
            lp.engine.advance(t0 + serial * 1000 + 900);
            lp.commit().expect("commit");
        }
        let stats = lp.engine.store().outbox_stats();
        assert!(stats.entries <= 20, "{stats:?}");
        let kept = lp.engine.store().outbox_first(100).expect("outbox");
        let kinds: Vec<EventKind> = kept.iter().map(|e| e.kind).collect();
        // Arrivals and stock changes: every surviving event is a stock change.
        assert!(
            kinds.iter().all(|k| *k == EventKind::StockChanged),
            "{kinds:?}"
        );
        let announced = *state_rx.borrow();
        assert!(announced.last_seq >= 60, "{announced:?}");
        let dropped = announced.last_seq - stats.entries;
        assert_eq!(announced.outbox.dropped, dropped);
        let stored = lp
            .engine
            .store()
            .get(&Key::Meta(DROPPED_META.into()))
            .expect("get")
            .expect("dropped count stored");
        assert_eq!(u64::from_be_bytes(stored.try_into().expect("u64")), dropped);
    }

    /// A reload's hot knobs reach the running engine thread: with `arrive_min_reads = 50` the
    /// tag's 30 reads could never confirm it; after the reload lowers it to 2, they do.
    #[test]
    fn reloaded_knobs_reach_the_engine_thread() {
        let strict = CONFIG.replace("arrive_min_reads = 2", "arrive_min_reads = 50");
        let config = crate::config::parse(&strict, Path::new("t.toml")).expect("config");
        let engine = EngineStore::open(&config, MemoryStore::new()).expect("open");
        let (record_tx, records) = mpsc::channel(64);
        let (outbox_tx, outbox) = mpsc::channel(8);
        let (state, mut state_rx) = watch::channel(PipelineState::default());
        let (hot_tx, hot_rx) = watch::channel(Arc::new(config));
        let board = Arc::new(SnapshotBoard::default());
        let lp = EngineLoop {
            engine,
            records,
            outbox,
            state,
            board: board.clone(),
            cap: OutboxCap {
                max_entries: 1000,
                max_bytes: u64::MAX,
            },
            clock: GatewayClock::fixed(|| 1_795_341_600_000),
            dropped_total: 0,
            heartbeat: Arc::default(),
            docks: DockIo::detached(),
            metrics: Arc::default(),
            hot: Some(hot_rx),
        };
        let thread = std::thread::spawn(move || lp.run());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let t0 = 1_795_341_600_000;
        rt.block_on(async {
            // Past the first sweep, which closes the (empty) baseline: later confirmations are
            // arrivals.
            for i in 0..15 {
                record_tx.send(read(t0 + i * 100, 7)).await.expect("send");
            }
            // The reload must land after that sweep (the engine thread serves a reload before
            // records waiting in the channel): the sweep's snapshots on the board say it ran.
            tokio::time::timeout(std::time::Duration::from_secs(10), async {
                while board.is_empty() {
                    board.changed().await;
                }
            })
            .await
            .expect("the first sweep publishes the baseline snapshots");
            // Nothing confirmed under the strict knobs.
            let fetch = |tx: &mpsc::Sender<OutboxRequest>| {
                let tx = tx.clone();
                async move {
                    let (reply, rx) = tokio::sync::oneshot::channel();
                    tx.send(OutboxRequest::Fetch {
                        after: 0,
                        limit: 100,
                        reply,
                    })
                    .await
                    .expect("fetch");
                    rx.await.expect("reply")
                }
            };
            let arrived = |entries: &[crate::store::OutboxEntry]| {
                entries
                    .iter()
                    .filter(|e| e.kind == EventKind::TagArrived)
                    .count()
            };
            assert_eq!(arrived(&fetch(&outbox_tx).await), 0);
            let lenient = crate::config::parse(CONFIG, Path::new("t.toml")).expect("config");
            hot_tx.send_replace(Arc::new(lenient));
            // Confirmations happen in the engine's whole-second sweep: read past two of them.
            for i in 16..30 {
                record_tx.send(read(t0 + i * 100, 7)).await.expect("send");
            }
            tokio::time::timeout(std::time::Duration::from_secs(10), async {
                while arrived(&fetch(&outbox_tx).await) == 0 {
                    state_rx.changed().await.expect("state");
                }
            })
            .await
            .expect("an arrival after the reload");
        });
        drop(record_tx);
        drop(outbox_tx);
        thread.join().expect("engine thread").expect("engine loop");
    }

    /// An output pin that counts the levels it was set to, so the test can wait for the light
    /// driver to have applied a state before the next one (a watch keeps only the latest).
    struct Tap {
        pin: embedded_hal_mock::eh1::digital::Mock,
        sets: watch::Sender<usize>,
    }

    impl embedded_hal::digital::ErrorType for Tap {
        type Error = embedded_hal_mock::eh1::MockError;
    }

    impl embedded_hal::digital::OutputPin for Tap {
        fn set_low(&mut self) -> Result<(), Self::Error> {
            let r = self.pin.set_low();
            self.sets.send_modify(|n| *n += 1);
            r
        }
        fn set_high(&mut self) -> Result<(), Self::Error> {
            let r = self.pin.set_high();
            self.sets.send_modify(|n| *n += 1);
            r
        }
    }

    /// The running engine thread drives a dock end to end: an `asn` command handed over by the
    /// publisher is answered only once stored, a door record opens a session (receiving lamp),
    /// reads are received, the close plus the dwell ends it with a complete receipt (complete
    /// lamp), and the light-stack driver follows on eh-mock pins whose scripts end with done().
    #[test]
    fn the_engine_thread_drives_asns_receipts_and_the_light_stack() {
        use crate::gpio::lights::{Lamp, LightStack, run_lights};
        use embedded_hal_mock::eh1::digital::{Mock, State, Transaction as T};
        let text = r#"
[gateway]
store = "s1"
id = "gw-1"
[[reader]]
id = "r1"
protocol = "replay"
file = "x.jsonl"
antennas = { 1 = "dock-1" }
[[location]]
id = "dock-1"
kind = "dock"
[[dock]]
id = "door-1"
location = "dock-1"
door_gpio = "door"
dwell = "2s"
lights = { receiving = "amber", complete = "green", problem = "red" }
[[gpio]]
name = "door"
chip = "/dev/gpiochip0"
line = 1
direction = "input"
[[gpio]]
name = "amber"
chip = "/dev/gpiochip0"
line = 2
direction = "output"
[[gpio]]
name = "green"
chip = "/dev/gpiochip0"
line = 3
direction = "output"
[[gpio]]
name = "red"
chip = "/dev/gpiochip0"
line = 4
direction = "output"
[reconcile]
baseline_window = "0s"
arrive_dwell = "0s"
arrive_min_reads = 2
settle_quiet = "0s"
settle_max = "0s"
"#;
        let config = crate::config::parse(text, Path::new("t.toml")).expect("config");
        let engine = EngineStore::open(&config, MemoryStore::new()).expect("open");
        let (record_tx, records) = mpsc::channel(64);
        let (outbox_tx, outbox) = mpsc::channel(8);
        let (command_tx, commands) = mpsc::channel(8);
        let (lights_tx, lights_rx) = watch::channel(engine.dock_lights());
        let (state, _state_rx) = watch::channel(PipelineState::default());
        let t0 = 1_795_341_600_000;
        let lp = EngineLoop {
            engine,
            records,
            outbox,
            state,
            board: Arc::new(SnapshotBoard::default()),
            cap: OutboxCap {
                max_entries: 1000,
                max_bytes: u64::MAX,
            },
            clock: GatewayClock::fixed(|| 1_795_341_600_000),
            dropped_total: 0,
            heartbeat: Arc::default(),
            docks: DockIo {
                commands,
                lights: lights_tx,
            },
            metrics: Arc::default(),
            hot: None,
        };
        let thread = std::thread::spawn(move || lp.run());
        // Off, receiving, complete, and off again when the driver stops.
        let (lo, hi) = (T::set(State::Low), T::set(State::High));
        let amber = Mock::new(&[lo.clone(), hi.clone(), lo.clone(), lo.clone()]);
        let green = Mock::new(&[lo.clone(), lo.clone(), hi.clone(), lo.clone()]);
        let red = Mock::new(&[lo.clone(), lo.clone(), lo.clone(), lo.clone()]);
        let (sets_tx, mut sets) = watch::channel(0usize);
        let lamp = |pin: &Mock| {
            Some(Lamp::new(
                Tap {
                    pin: pin.clone(),
                    sets: sets_tx.clone(),
                },
                false,
            ))
        };
        let stack = LightStack {
            receiving: lamp(&amber),
            complete: lamp(&green),
            problem: lamp(&red),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let epc = |serial| shelfd_core::sim::sim_epc(1, serial);
        rt.block_on(async {
            let cancel = CancellationToken::new();
            let driver = tokio::spawn(run_lights(
                "door-1".into(),
                stack,
                lights_rx,
                cancel.clone(),
            ));
            let within = |what: &'static str, n: usize, sets: &mut watch::Receiver<usize>| {
                let mut sets = sets.clone();
                async move {
                    tokio::time::timeout(
                        std::time::Duration::from_secs(10),
                        sets.wait_for(|s| *s >= n),
                    )
                    .await
                    .unwrap_or_else(|_| panic!("{what}"))
                    .expect("taps");
                }
            };
            within("the stack dark at start", 3, &mut sets).await;
            let asn = |id: &str, epcs: &[u64]| {
                let list: Vec<String> = epcs
                    .iter()
                    .map(|s| epc(*s).iter().map(|b| format!("{b:02x}")).collect())
                    .collect();
                let body =
                    serde_json::json!({"id": id, "shipment": "S1", "dock": "door-1", "epcs": list});
                shelfd_core::commands::parse("asn", body.to_string().as_bytes()).expect("asn")
            };
            let send = |command| {
                let tx = command_tx.clone();
                async move {
                    let (reply, rx) = tokio::sync::oneshot::channel();
                    tx.send(EngineCommand { command, reply })
                        .await
                        .expect("send");
                    rx.await.expect("reply")
                }
            };
            let ok = send(asn("c1", &[1, 2])).await.expect("stored");
            assert_eq!(ok["new"], true);
            let err = send(asn("c2", &[1])).await.expect_err("conflict");
            assert_eq!(err.id(), Some("c2"));
            record_tx
                .send(Record::Gpio {
                    t: t0,
                    gpio: "door".into(),
                    level: true,
                })
                .await
                .expect("send");
            within("the receiving lamp", 6, &mut sets).await;
            for i in 1..=4u64 {
                for serial in [1, 2] {
                    let mut r = read(t0 + i * 300, serial);
                    if let Record::Read(read) = &mut r {
                        read.epc = epc(serial);
                    }
                    record_tx.send(r).await.expect("send");
                }
            }
            record_tx
                .send(Record::Gpio {
                    t: t0 + 2_000,
                    gpio: "door".into(),
                    level: false,
                })
                .await
                .expect("send");
            for i in 0..4 {
                let alive = Record::Link {
                    t: t0 + 3_000 + i * 1_000,
                    reader: "r1".into(),
                    link: shelfd_core::readlog::LinkState::Alive,
                };
                record_tx.send(alive).await.expect("send");
            }
            within("the complete lamp", 9, &mut sets).await;
            // The receipt is in the outbox.
            let (reply, rx) = tokio::sync::oneshot::channel();
            outbox_tx
                .send(OutboxRequest::Fetch {
                    after: 0,
                    limit: 100,
                    reply,
                })
                .await
                .expect("fetch");
            let entries = rx.await.expect("entries");
            let receipts: Vec<serde_json::Value> = entries
                .iter()
                .filter(|e| e.kind == EventKind::DockReceipt)
                .map(|e| serde_json::from_slice(&e.payload).expect("json"))
                .collect();
            assert_eq!(receipts.len(), 1);
            assert_eq!(receipts[0]["status"], "complete");
            assert_eq!(receipts[0]["shipment"], "S1");
            cancel.cancel();
            driver.await.expect("driver");
        });
        drop(record_tx);
        drop(outbox_tx);
        drop(command_tx);
        thread.join().expect("engine thread").expect("engine loop");
        for mut pin in [amber, green, red] {
            pin.done();
        }
    }
}
