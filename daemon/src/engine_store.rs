//! [`EngineStore`]: an engine bound to its durable store. It restores the engine from the store
//! at open, feeds it read-log records, and commits each step's state changes together with the
//! events they caused (and the changed retained snapshots) in ONE atomic store commit, so an event
//! is in the outbox before anything depends on it and `seq` stays contiguous across restarts.
//!
//! Receiving docks ride along: the dock book is restored with the engine, `gpio` lines are door
//! inputs, `asn` commands (read-log command lines, or MQTT commands handed over by the daemon's
//! engine thread, see [`EngineStore::execute`]) are validated and stored, and dock and shipment
//! records are part of the same atomic commit as the events of that step.
//!
//! Used by `shelfd replay` and by the daemon's engine task. Blocking (sled): callers run it on a
//! dedicated thread.

use crate::config::{Config, engine_setup};
use crate::store::{Commit, Key, KeySpace, OutboxEntry, Store, StoreError};
use shelfd_core::commands::{Command, CommandError};
use shelfd_core::dock::{DockBook, DockRestoreError, DockRestoreReport, Notice};
use shelfd_core::events::{Event, Origin};
use shelfd_core::readlog::Record;
pub use shelfd_core::reconcile::RecordError;
use shelfd_core::reconcile::{
    Changes, Engine, Input, Knobs, Persisted, RestoreReport, StoreRules, Topology,
};

/// Meta key of the engine globals.
pub const ENGINE_META: &str = "engine";

/// Why an engine could not be opened or stepped.
#[derive(Debug, thiserror::Error)]
pub enum EngineStoreError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A persisted record is corrupt.
    #[error(transparent)]
    Restore(#[from] shelfd_core::reconcile::RestoreError),
    /// A persisted dock or shipment record is corrupt.
    #[error(transparent)]
    DockRestore(#[from] DockRestoreError),
}

/// An engine with its store. See the module docs.
pub struct EngineStore<S: Store> {
    engine: Engine,
    store: S,
    origin: Origin,
    pending: Vec<Event>,
    report: RestoreReport,
    dock_report: DockRestoreReport,
    /// Added to every event's time when it is committed: how far the wall clock has stepped
    /// from the engine's timeline ([`crate::run::clock`]); 0 in replays.
    wall_offset_ms: i64,
}

impl<S: Store> EngineStore<S> {
    /// Restores the engine for `config` from `store` (a fresh engine on an empty store), with
    /// the config's store rules.
    pub fn open(config: &Config, store: S) -> Result<Self, EngineStoreError> {
        let topo = engine_setup::topology(config);
        let knobs = Knobs::from_config(&config.reconcile);
        let origin = Origin {
            store: config.gateway.store.clone(),
            gateway: config.gateway.id.clone(),
        };
        let rules = engine_setup::rules(config, &topo);
        let docks = engine_setup::dock_book(config, |id| topo.location_index(id));
        let mut es = Self::open_with_docks(topo, knobs, origin, docks, store)?;
        es.engine.set_rules(&rules);
        Ok(es)
    }

    /// Like [`EngineStore::open`] with an explicit topology and knobs, and no store rules
    /// (tests, benchmarks; see [`EngineStore::set_rules`]).
    ///
    /// Records the restore drops — of locations and readers the topology no longer has, the
    /// tags that were at them, and the retained snapshots of those locations — are deleted from
    /// the store here, in one commit, and the count is logged and reported
    /// ([`RestoreReport::deleted`]).
    pub fn open_with(
        topo: Topology,
        knobs: Knobs,
        origin: Origin,
        store: S,
    ) -> Result<Self, EngineStoreError> {
        Self::open_with_docks(topo, knobs, origin, DockBook::default(), store)
    }

    /// Like [`EngineStore::open_with`] with docks; their persisted state is restored into
    /// `docks`.
    pub fn open_with_docks(
        topo: Topology,
        knobs: Knobs,
        origin: Origin,
        mut docks: DockBook,
        store: S,
    ) -> Result<Self, EngineStoreError> {
        let mut p = Persisted {
            next_seq: store.next_seq(),
            ..Persisted::default()
        };
        p.meta = store.get(&Key::Meta(ENGINE_META.into()))?;
        for (key, value) in store.scan(KeySpace::Tag)? {
            if let Key::Tag(epc) = key {
                p.tags.push((epc, value));
            }
        }
        for (key, value) in store.scan(KeySpace::Location)? {
            if let Key::Location(id) = key {
                p.locations.push((id, value));
            }
        }
        for (key, value) in store.scan(KeySpace::Reader)? {
            if let Key::Reader(id) = key {
                p.readers.push((id, value));
            }
        }
        let (mut engine, mut report) = Engine::restore(topo, knobs, &p)?;
        let mut gone = Commit::default();
        let topo = engine.topology();
        for (epc, _) in &p.tags {
            if !engine.holds(epc) {
                gone.deletes.push(Key::Tag(epc.clone()));
            }
        }
        for (id, _) in &p.locations {
            if topo.location_index(id).is_none() {
                gone.deletes.push(Key::Location(id.clone()));
            }
        }
        for (id, _) in &p.readers {
            if topo.reader_index(id).is_none() {
                gone.deletes.push(Key::Reader(id.clone()));
            }
        }
        for (key, _) in store.scan(KeySpace::Snapshot)? {
            if let Key::Snapshot(id) = key {
                if topo.location_index(&id).is_none() {
                    gone.deletes.push(Key::Snapshot(id));
                }
            }
        }
        report.deleted = gone.deletes.len();
        let mut store = store;
        if !gone.is_empty() {
            store.commit(gone)?;
            tracing::info!(
                deleted = report.deleted,
                tags = report.dropped_tags,
                "start: deleted {} stored records of locations and readers no longer in the config",
                report.deleted
            );
        }
        let mut dock_records = Vec::new();
        for (key, value) in store.scan(KeySpace::Dock)? {
            if let Key::Dock(id) = key {
                dock_records.push((id, value));
            }
        }
        let mut shipments = Vec::new();
        for (key, value) in store.scan(KeySpace::Asn)? {
            if let Key::Asn(id) = key {
                shipments.push((id, value));
            }
        }
        let dock_report = docks.restore(dock_records, shipments)?;
        engine.attach_docks(docks);
        Ok(EngineStore {
            engine,
            store,
            origin,
            pending: Vec::new(),
            wall_offset_ms: 0,
            report,
            dock_report,
        })
    }

    /// What the restore of the docks found.
    pub fn dock_restore_report(&self) -> DockRestoreReport {
        self.dock_report
    }

    /// Replaces the store rules (planograms and safety stocks); they are re-checked at the next
    /// sweep, whose events the next [`EngineStore::commit`] takes.
    pub fn set_rules(&mut self, rules: &StoreRules) {
        self.engine.set_rules(rules);
    }

    /// What the restore found.
    pub fn restore_report(&self) -> RestoreReport {
        self.report
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably (the publisher acknowledges outbox entries through it).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The engine and the store, taken apart (tests compare a restored engine with the one
    /// that wrote the store).
    pub fn into_parts(self) -> (Engine, S) {
        (self.engine, self.store)
    }

    /// The envelope origin.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Feeds one read-log record. Events wait in memory until [`EngineStore::commit`].
    /// A rejected record (unknown reader or gpio, rejected command) changes nothing.
    pub fn feed(&mut self, record: &Record) -> Result<(), RecordError> {
        if let Record::Command { t, op, command } = record {
            let (command, detail) = self
                .engine
                .command_line(*t, op, command, &mut self.pending)?;
            log_accepted(&command, &detail);
            return Ok(());
        }
        self.engine.feed_record(record, &mut self.pending)
    }

    /// Executes a command that needs the engine at gateway time `t` and returns the detail of
    /// its result (see [`Engine::execute`]); a rejected command is an error naming why, and
    /// changes nothing. The change is durable after the next [`EngineStore::commit`] and
    /// [`EngineStore::flush`] (the daemon answers only then).
    pub fn execute(
        &mut self,
        t: u64,
        command: &Command,
    ) -> Result<serde_json::Map<String, serde_json::Value>, CommandError> {
        let detail = self.engine.execute(t, command, &mut self.pending)?;
        log_accepted(command, &detail);
        Ok(detail)
    }

    /// What each dock's light stack shows now.
    pub fn dock_lights(&self) -> Vec<(String, shelfd_core::dock::Light)> {
        self.engine.docks().lights()
    }

    /// Applies the hot keys of a reloaded config (see [`crate::config::reload`]): the
    /// `[reconcile]` knobs, and each location's planogram and safety stock (the store rules,
    /// re-checked at the next sweep: a raised safety stock alerts at once).
    pub fn reconfigure(&mut self, config: &Config) {
        self.engine.set_knobs(Knobs::from_config(&config.reconcile));
        let rules = engine_setup::rules(config, self.engine.topology());
        self.engine.set_rules(&rules);
    }

    /// Feeds an engine input directly (drivers that already resolved reader indices).
    pub fn feed_input(&mut self, input: Input<'_>) {
        self.engine.handle(input, &mut self.pending);
    }

    /// Moves gateway time forward (timers) without an input.
    pub fn advance(&mut self, t: u64) {
        self.engine.advance(t, &mut self.pending);
    }

    /// A clean stop: publishes pending stock deltas and checkpoints; call [`EngineStore::commit`]
    /// and [`EngineStore::flush`] after it.
    pub fn shutdown(&mut self) {
        self.engine.shutdown(&mut self.pending);
    }

    /// Commits the state changed and the events emitted since the last commit, atomically.
    /// Returns the committed events and the snapshots that changed.
    pub fn commit(
        &mut self,
    ) -> Result<(Vec<Event>, Vec<shelfd_core::events::StockSnapshot>), StoreError> {
        let changes = self.engine.take_changes();
        let docks = self.engine.take_dock_changes();
        let mut events = std::mem::take(&mut self.pending);
        if self.wall_offset_ms != 0 {
            for e in &mut events {
                e.time_ms = e.time_ms.saturating_add_signed(self.wall_offset_ms);
            }
        }
        if changes.is_empty() && docks.is_empty() && events.is_empty() {
            return Ok((events, Vec::new()));
        }
        let snapshots = changes.snapshots.clone();
        let mut commit = self.build_commit(changes, &events);
        commit
            .puts
            .extend(docks.docks.into_iter().map(|(id, v)| (Key::Dock(id), v)));
        commit
            .deletes
            .extend(docks.dock_deletes.into_iter().map(Key::Dock));
        commit
            .puts
            .extend(docks.asn_puts.into_iter().map(|(id, v)| (Key::Asn(id), v)));
        commit
            .deletes
            .extend(docks.asn_deletes.into_iter().map(Key::Asn));
        self.store.commit(commit)?;
        for notice in self.engine.take_dock_notices() {
            log_notice(&notice);
        }
        Ok((events, snapshots))
    }

    fn build_commit(&self, c: Changes, events: &[Event]) -> Commit {
        let mut commit = Commit::default();
        for (epc, rec) in c.tags {
            match rec {
                Some(v) => commit.puts.push((Key::Tag(epc), v)),
                None => commit.deletes.push(Key::Tag(epc)),
            }
        }
        for (id, v) in c.locations {
            commit.puts.push((Key::Location(id), v));
        }
        for (id, v) in c.readers {
            commit.puts.push((Key::Reader(id), v));
        }
        if let Some(meta) = c.meta {
            commit.puts.push((Key::Meta(ENGINE_META.into()), meta));
        }
        for s in &c.snapshots {
            commit.puts.push((
                Key::Snapshot(s.location.clone()),
                s.to_json(&self.origin).into_bytes(),
            ));
        }
        commit.events = events
            .iter()
            .map(|e| OutboxEntry {
                seq: e.seq,
                kind: e.body.kind(),
                payload: e.to_json(&self.origin).into_bytes(),
            })
            .collect();
        commit
    }

    /// Sets what is added to the time of the events committed from now on: the wall clock's
    /// step away from the engine's timeline (the engine's own timers never see it).
    pub fn set_wall_offset(&mut self, offset_ms: i64) {
        self.wall_offset_ms = offset_ms;
    }

    /// Flushes the store to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.store.flush()
    }
}

/// Logs an accepted `asn` with the state its result reports.
fn log_accepted(command: &Command, detail: &serde_json::Map<String, serde_json::Value>) {
    if let Command::Asn { asn, .. } = command {
        let field = |k: &str| detail.get(k).map(ToString::to_string).unwrap_or_default();
        tracing::info!(shipment = %asn.shipment, dock = %asn.dock, state = %field("state"), new = %field("new"), items = asn.content.items(), "asn accepted");
    }
}

fn log_notice(notice: &Notice) {
    match notice {
        Notice::AsnExpired {
            shipment,
            dock,
            accepted,
        } => tracing::info!(
            shipment = %shipment,
            dock = %dock,
            accepted = %shelfd_core::timefmt::rfc3339_ms(*accepted),
            "shipment expired: no receiving session matched it within asn_ttl; dropped"
        ),
        Notice::EmptySession { dock, opened } => tracing::info!(
            dock = %dock,
            opened = %shelfd_core::timefmt::rfc3339_ms(*opened),
            "receiving session ended with nothing received; no receipt, shipments stay open"
        ),
        Notice::SessionOpened { dock } => {
            tracing::info!(dock = %dock, "receiving session opened")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use shelfd_core::events::{EventBody, EventKind};
    use shelfd_core::sim::{StoreSim, TagProfile, sim_epc};
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    const T0: u64 = 1_795_338_000_000;

    /// A config with shelves `a` (and `b` when `with_b`), one reader, and `a`'s rules.
    fn config(with_b: bool, safety_stock: u32) -> Config {
        let p1 = shelfd_core::epc::gtin14(&sim_epc(1, 1)).expect("gtin");
        let (antennas, b) = if with_b {
            (
                "{ 1 = \"a\", 2 = \"b\" }",
                "[[location]]\nid = \"b\"\nkind = \"shelf\"\n",
            )
        } else {
            ("{ 1 = \"a\" }", "")
        };
        let text = format!(
            "[gateway]\nstore = \"s1\"\nid = \"gw-1\"\n\
             [[reader]]\nid = \"r1\"\nprotocol = \"line\"\nport = \"/dev/ttyUSB0\"\nantennas = {antennas}\n\
             [[location]]\nid = \"a\"\nkind = \"shelf\"\nplanogram = [\"{p1}\"]\nsafety_stock = {safety_stock}\n{b}\
             [reconcile]\nbaseline_window = \"30s\"\n\
             [epcis]\nenabled = true\nlocation_uri_prefix = \"urn:example:loc:\"\n"
        );
        crate::config::parse(&text, std::path::Path::new("test.toml")).expect("valid config")
    }

    fn sim(with_b: bool) -> StoreSim {
        let mut s = StoreSim::new(5, T0);
        let antennas: &[(u16, &str)] = if with_b {
            &[(1, "a"), (2, "b")]
        } else {
            &[(1, "a")]
        };
        s.reader("r1", 500, antennas, true);
        s
    }

    fn run<S: Store>(es: &mut EngineStore<S>, s: &mut StoreSim, ms: u64) -> Vec<Event> {
        s.run_for(ms);
        for r in s.take_records() {
            es.feed(&r).expect("feed");
        }
        es.commit().expect("commit").0
    }

    fn low(events: &[Event]) -> Vec<(u64, u64)> {
        events
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::AlertLowStock {
                    count, threshold, ..
                } => Some((*count, *threshold)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_reloaded_safety_stock_changes_when_the_low_stock_alert_fires() {
        let mut s = sim(false);
        let epcs = s.add_tags(4, 1, "a", TagProfile::SHELF);
        let mut es = EngineStore::open(&config(false, 2), MemoryStore::new()).expect("open");
        let ev = run(&mut es, &mut s, 60_000);
        assert_eq!(low(&ev), [], "4 on the shelf, safety stock 2");
        // Two taken: 2 is not below 2.
        s.move_tag(&epcs[0], None);
        s.move_tag(&epcs[1], None);
        let ev = run(&mut es, &mut s, 150_000);
        assert_eq!(count_of(&ev, EventKind::TagDeparted), 2);
        assert_eq!(low(&ev), []);
        // A reload raises the safety stock to 3: the next sweep alerts, and it is committed to
        // the outbox with the next seq.
        let seq = es.engine().next_seq();
        es.reconfigure(&config(false, 3));
        let now = es.engine().now();
        es.advance(now + 1_000);
        let (ev, _) = es.commit().expect("commit");
        assert_eq!(low(&ev), [(2, 3)]);
        assert_eq!(ev[0].seq, seq);
        let outbox = es.store().outbox_after(seq - 1, 10).expect("outbox");
        assert_eq!(outbox[0].kind, EventKind::AlertLowStock);
        // Alerts are not EPCIS events: the mapping skips them without an error.
        let epcis = crate::publish::epcis::EpcisMapping::from_config(&config(false, 3))
            .expect("epcis setup")
            .expect("epcis enabled");
        assert_eq!(epcis.document(&outbox[0].payload).expect("no error"), None);
        // The same config again changes nothing; lowering it back to 2 does not re-arm (2 < 2 + 2)
        // and raising it to 3 again repeats nothing.
        es.reconfigure(&config(false, 3));
        assert_eq!(low(&run(&mut es, &mut s, 5_000)), []);
        es.reconfigure(&config(false, 2));
        assert_eq!(low(&run(&mut es, &mut s, 5_000)), []);
        es.reconfigure(&config(false, 3));
        assert_eq!(low(&run(&mut es, &mut s, 5_000)), []);
    }

    /// The config of [`config`] (`a` alone, safety stock 2) with the forecast knobs.
    fn forecast_config(horizon: &str) -> Config {
        let p1 = shelfd_core::epc::gtin14(&sim_epc(1, 1)).expect("gtin");
        let text = format!(
            "[gateway]\nstore = \"s1\"\nid = \"gw-1\"\n\
             [[reader]]\nid = \"r1\"\nprotocol = \"line\"\nport = \"/dev/ttyUSB0\"\nantennas = {{ 1 = \"a\" }}\n\
             [[location]]\nid = \"a\"\nkind = \"shelf\"\nplanogram = [\"{p1}\"]\nsafety_stock = 2\n\
             [reconcile]\nbaseline_window = \"30s\"\ndepletion_half_life = \"10m\"\nforecast_horizon = \"{horizon}\"\n\
             [epcis]\nenabled = true\nlocation_uri_prefix = \"urn:example:loc:\"\n"
        );
        crate::config::parse(&text, std::path::Path::new("test.toml")).expect("valid config")
    }

    #[test]
    fn a_reloaded_forecast_horizon_applies_at_the_next_check() {
        let mut s = sim(false);
        let epcs = s.add_tags(40, 1, "a", TagProfile::SHELF);
        let mut es = EngineStore::open(&forecast_config("1m"), MemoryStore::new()).expect("open");
        run(&mut es, &mut s, 60_000);
        // One item walks out every 30 s for 6 minutes: about 120 an hour, 28 left, below 2 in
        // about 13 minutes: beyond a 1-minute horizon.
        let mut events = Vec::new();
        for epc in &epcs[..12] {
            s.move_tag(epc, None);
            events.extend(run(&mut es, &mut s, 30_000));
        }
        events.extend(run(&mut es, &mut s, 60_000));
        assert_eq!(count_of(&events, EventKind::TagDeparted), 12);
        assert_eq!(count_of(&events, EventKind::AlertStockoutForecast), 0);
        let snapshot = es.engine().snapshot(0);
        let forecast = snapshot
            .forecast
            .values()
            .next()
            .expect("a forecast once learned");
        let below = forecast.below_safety_at.expect("a has a safety stock");
        assert!(below > es.engine().now() + 60_000, "{forecast:?}");
        // A reload to a 1-hour horizon: the next check (at the latest a minute on) alerts,
        // committed to the outbox with its kind; EPCIS maps it to no document.
        let seq = es.engine().next_seq();
        es.reconfigure(&forecast_config("1h"));
        let ev = run(&mut es, &mut s, 61_000);
        assert_eq!(count_of(&ev, EventKind::AlertStockoutForecast), 1, "{ev:?}");
        let outbox = es.store().outbox_after(seq - 1, 10).expect("outbox");
        let alert = outbox
            .iter()
            .find(|e| e.kind == EventKind::AlertStockoutForecast)
            .expect("in the outbox");
        let epcis = crate::publish::epcis::EpcisMapping::from_config(&forecast_config("1h"))
            .expect("epcis setup")
            .expect("epcis enabled");
        assert_eq!(epcis.document(&alert.payload).expect("no error"), None);
        // Raised once: the same reload again and more time repeat nothing.
        es.reconfigure(&forecast_config("1h"));
        let ev = run(&mut es, &mut s, 120_000);
        assert_eq!(count_of(&ev, EventKind::AlertStockoutForecast), 0);
    }

    fn count_of(events: &[Event], kind: EventKind) -> usize {
        events.iter().filter(|e| e.body.kind() == kind).count()
    }

    /// Log output captured for one test.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log buffer").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn records_of_locations_gone_from_the_config_are_deleted_at_start() {
        let mut s = sim(true);
        s.add_tags(3, 1, "a", TagProfile::SHELF);
        s.add_tags(2, 2, "b", TagProfile::SHELF);
        let mut es = EngineStore::open(&config(true, 1), MemoryStore::new()).expect("open");
        run(&mut es, &mut s, 60_000);
        es.shutdown();
        es.commit().expect("commit");
        let (_, store) = es.into_parts();
        let ids = |store: &MemoryStore, space| -> Vec<Key> {
            store
                .scan(space)
                .expect("scan")
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        };
        assert!(ids(&store, KeySpace::Location).contains(&Key::Location("b".into())));
        assert!(ids(&store, KeySpace::Snapshot).contains(&Key::Snapshot("b".into())));
        assert_eq!(ids(&store, KeySpace::Tag).len(), 5);

        // Restarted with a config that no longer has b.
        let log = Captured::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let es = tracing::subscriber::with_default(subscriber, || {
            EngineStore::open(&config(false, 1), store).expect("reopen")
        });
        let report = es.restore_report();
        // b's location record, its snapshot, and the two tags that were on it.
        assert_eq!(
            (report.deleted, report.dropped_tags, report.tags),
            (4, 2, 3)
        );
        let store = es.store();
        assert_eq!(ids(store, KeySpace::Location), [Key::Location("a".into())]);
        assert_eq!(ids(store, KeySpace::Snapshot), [Key::Snapshot("a".into())]);
        assert_eq!(ids(store, KeySpace::Tag).len(), 3);
        let text = String::from_utf8_lossy(&log.0.lock().expect("log")).into_owned();
        assert!(
            text.contains(
                "deleted 4 stored records of locations and readers no longer in the config"
            ),
            "{text}"
        );
        // The next start finds nothing more to delete, and logs nothing about it.
        let (_, store) = es.into_parts();
        let es = EngineStore::open(&config(false, 1), store).expect("third open");
        assert_eq!(es.restore_report().deleted, 0);
    }
}
