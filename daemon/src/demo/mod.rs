//! `shelfd demo`: the live demo store, with no hardware and no external broker.
//!
//! One command runs the real pipeline ([`crate::run::run_with`]: serial drivers, engine, sled
//! in a temp dir, the MQTT publisher) on the store of `config/demo.toml`:
//! - [`broker`]: an MQTT broker in-process (rumqttd) on a free port of 127.0.0.1, printed with
//!   a ready-to-paste `mosquitto_sub` line;
//! - [`rig`]: one simulated reader per configured reader, each speaking its protocol
//!   (mercury, magicrf, r2000, line) on a PTY behind the configured port path, and a simulated
//!   bus of shelf nodes (shelf-link) whose lane weighs the drinks shelf's untagged bottles;
//! - [`script`]: the store's day (baseline, delivery, a misplaced item, a sale, an unpaid item
//!   at the exit, a vanished item, then restocking and more sales), played in real time;
//! - [`feed`] and [`central`]: a subscriber on the broker that builds what central would see;
//! - [`inventory_api`]: the reference `shelfd-central` in-process on the same broker (SQLite in
//!   the temp dir), with a ready `curl` line for its availability API;
//! - [`view`]: a live terminal screen, plain lines, or raw `topic payload` lines;
//! - [`describe`](mod@describe): events in words.
//!
//! It runs until its duration is over or it is cancelled (Ctrl-C), then stops the way a daemon
//! does (readers down, final commit, `offline` published), unplugs the readers and removes its
//! temp dir. It never touches anything outside that temp dir and the loopback interface.

pub mod broker;
pub mod central;
pub mod describe;
pub mod feed;
pub mod inventory_api;
pub mod rig;
pub mod script;
pub mod view;

pub use describe::{describe, describe_with};
pub use view::ViewMode;

use crate::config::{self, Config, MqttUrl};
use crate::run::{RunError, RunHandles, run_with};
use broker::{BrokerError, EmbeddedBroker};
use central::{Applied, CentralView};
use feed::{CentralFeed, FeedError, FeedMessage};
use rig::{ReaderRig, RigError};
use script::{Catalog, StoreScript};
use shelfd_core::topics::{Topic, Topics};
use shelfd_readers::ReaderHealthSnapshot;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, interval, sleep_until};
use tokio_util::sync::CancellationToken;
use view::{RunFacts, Screen};

/// The demo store's config (also `config/demo.toml`): state dir and ports under
/// `/tmp/shelfd-demo`, which [`relocate`] moves.
pub const DEMO_CONFIG: &str = include_str!("../../../config/demo.toml");

/// How often the live screen is redrawn.
pub const REDRAW_EVERY: Duration = Duration::from_millis(500);
/// After the pipeline stopped, how long the demo waits for the `offline` status to come
/// through the broker.
const OFFLINE_WAIT: Duration = Duration::from_secs(3);
/// The longest run (a longer `--for` runs this long: a century).
const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 86_400);
/// MQTT client id of the demo's own subscriber.
const CENTRAL_CLIENT_ID: &str = "shelfd-demo-central";

/// The parsed demo config.
pub fn demo_config() -> Config {
    config::parse(DEMO_CONFIG, Path::new("config/demo.toml"))
        .expect("invariant: the built-in demo config is valid")
}

/// `config` with its state dir at `dir/state`, every reader port at `dir/ports/<file name>`,
/// and `broker` as the MQTT URL.
pub fn relocate(mut config: Config, dir: &Path, broker: MqttUrl) -> Config {
    config.gateway.state_dir = dir.join("state");
    for reader in &mut config.readers {
        if let Some(line) = reader.source.line_mut() {
            if let Some(name) = line.port.file_name() {
                line.port = dir.join("ports").join(name);
            }
        }
    }
    config.mqtt.url = broker;
    config
}

/// How to run the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// How long it runs before stopping by itself.
    pub duration: Duration,
    /// Seed of the simulation (read noise, RSSI).
    pub seed: u64,
    /// How it shows what happens.
    pub mode: ViewMode,
    /// Terminal size (columns, rows) for [`ViewMode::Live`]; [`view::DEFAULT_SIZE`] if unknown.
    pub terminal_size: Option<(usize, usize)>,
}

/// What a finished demo saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReport {
    /// Events received over MQTT.
    pub events: u64,
    /// The last counters of every simulated reader's serial driver.
    pub readers: Vec<ReaderHealthSnapshot>,
}

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The temp dir could not be made.
    #[error("demo dir {dir}: {source}")]
    Dir {
        /// The dir.
        dir: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The embedded broker did not start.
    #[error(transparent)]
    Broker(#[from] BrokerError),
    /// The demo's subscriber could not subscribe.
    #[error(transparent)]
    Feed(#[from] FeedError),
    /// A simulated reader could not be set up.
    #[error(transparent)]
    Rig(#[from] RigError),
    /// The pipeline failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The in-process central did not start.
    #[error(transparent)]
    Central(#[from] inventory_api::CentralError),
    /// The pipeline task panicked.
    #[error("the pipeline task failed: {0}")]
    Task(String),
    /// Writing the output failed (a closed pipe, say).
    #[error("writing the demo's output: {0}")]
    Output(std::io::Error),
}

/// Runs the demo for `options.duration` or until `cancel`, writing its view to `out` (and, in
/// [`ViewMode::Json`], its opening lines and summary to `notes`). Works in a temp dir under
/// [`std::env::temp_dir`] that it removes at the end.
pub async fn run(
    options: &DemoOptions,
    cancel: CancellationToken,
    out: &mut dyn Write,
    notes: &mut dyn Write,
) -> Result<DemoReport, DemoError> {
    let dir = std::env::temp_dir().join(format!("shelfd-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("ports")).map_err(|source| DemoError::Dir {
        dir: dir.clone(),
        source,
    })?;
    let result = run_in(&dir, options, cancel, out, notes).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Writes lines until the first failure, then remembers it (so a closed pipe stops the demo
/// cleanly instead of aborting it halfway).
struct Printer<'a> {
    out: &'a mut dyn Write,
    failed: Option<std::io::Error>,
}

impl Printer<'_> {
    fn write(&mut self, text: &str) {
        if self.failed.is_none() {
            if let Err(e) = self
                .out
                .write_all(text.as_bytes())
                .and_then(|()| self.out.flush())
            {
                self.failed = Some(e);
            }
        }
    }

    fn line(&mut self, text: &str) {
        self.write(&format!("{text}\n"));
    }
}

/// Everything the main loop updates and draws.
struct Viewer<'a> {
    mode: ViewMode,
    view: CentralView,
    facts: RunFacts,
    names: Catalog,
    config: &'a Config,
    narration: String,
    started: Instant,
    size: (usize, usize),
}

impl Viewer<'_> {
    fn kind_of(&self, location: &str) -> String {
        self.config
            .locations
            .iter()
            .find(|l| l.id == location)
            .map(|l| l.kind.to_string())
            .unwrap_or_default()
    }

    fn message(&mut self, m: &FeedMessage, out: &mut Printer<'_>) {
        let status_before = self.view.status().map(str::to_owned);
        let applied = self.view.apply(&m.topic, &m.payload);
        // The retained `online` document is refreshed now and then: show changes only.
        let repeated =
            matches!(&applied, Applied::Status(s) if status_before.as_deref() == Some(s));
        match self.mode {
            ViewMode::Json => out.line(&format!(
                "{} {}",
                m.topic,
                String::from_utf8_lossy(&m.payload)
            )),
            ViewMode::Plain if !repeated => {
                if let Some(line) = view::plain_line(
                    &applied,
                    &self.view,
                    &self.names,
                    shelfd_core::timefmt::now_ms(),
                ) {
                    out.line(&line);
                }
            }
            ViewMode::Plain | ViewMode::Live => {}
        }
        if let Applied::Foreign = applied {
            tracing::debug!(topic = %m.topic, "demo: message not understood");
        }
    }

    fn narrate(&mut self, say: String, out: &mut Printer<'_>) {
        if self.mode == ViewMode::Plain {
            out.line(&view::plain_narration(&say, shelfd_core::timefmt::now_ms()));
        }
        self.narration = say;
    }

    fn draw(&self, health: &[ReaderHealthSnapshot], out: &mut Printer<'_>) {
        if self.mode != ViewMode::Live {
            return;
        }
        let screen = Screen {
            facts: &self.facts,
            elapsed: self.started.elapsed().min(self.facts.duration),
            narration: &self.narration,
            health,
            size: self.size,
        };
        out.write(&view::live_frame(&self.view, &screen, &self.names));
    }

    fn summary(&self, health: &[ReaderHealthSnapshot]) -> Vec<String> {
        let kinds = |l: &str| self.kind_of(l);
        view::summary(&self.view, &self.facts, health, &kinds, &self.names)
    }
}

async fn run_in(
    dir: &Path,
    options: &DemoOptions,
    cancel: CancellationToken,
    out: &mut dyn Write,
    notes: &mut dyn Write,
) -> Result<DemoReport, DemoError> {
    let broker = EmbeddedBroker::start().await?;
    let mut config = relocate(demo_config(), dir, broker.url());
    let prefix = config.mqtt.topic_prefix.clone();
    let filter = format!("{prefix}/#");
    // The reference central first, so that its session and subscription are in place before
    // the demo's own view subscribes and the gateway starts publishing.
    let central = inventory_api::DemoCentral::start(dir, broker.port(), &prefix).await?;
    let mut feed = CentralFeed::subscribe(broker.port(), CENTRAL_CLIENT_ID, &filter).await?;
    let readers_cancel = CancellationToken::new();
    let rig = ReaderRig::plug_in(&mut config, &readers_cancel)?;
    let mut viewer = Viewer {
        mode: options.mode,
        view: CentralView::new(
            Topics::new(&prefix, &config.gateway.store, &config.gateway.id),
            config
                .locations
                .iter()
                .filter(|l| l.kind.is_stock())
                .map(|l| l.id.clone()),
        ),
        facts: RunFacts {
            store: config.gateway.store.clone(),
            gateway: config.gateway.id.clone(),
            port: broker.port(),
            filter,
            state_dir: config.gateway.state_dir.display().to_string(),
            duration: options.duration,
            readers: config
                .readers
                .iter()
                .map(|r| (r.id.clone(), r.protocol()))
                .collect(),
        },
        names: Catalog::demo(),
        config: &config,
        narration: String::new(),
        started: Instant::now(),
        size: options.terminal_size.unwrap_or(view::DEFAULT_SIZE),
    };

    let mut out = Printer { out, failed: None };
    let mut notes = Printer {
        out: notes,
        failed: None,
    };
    for line in view::opening(&viewer.facts) {
        if viewer.mode == ViewMode::Json {
            notes.line(&line);
        } else {
            out.line(&line);
        }
    }
    let gtin = config
        .locations
        .iter()
        .flat_map(|l| l.planogram.iter())
        .next()
        .cloned()
        .unwrap_or_else(|| "00614141000012".into());
    notes.line(&central.curl_line(&gtin, &config.gateway.store));
    if viewer.mode == ViewMode::Live {
        out.write(&format!("{}\x1b[2J", view::HIDE_CURSOR));
    }

    let handles = RunHandles::default();
    let pipeline_cancel = CancellationToken::new();
    let mut pipeline = tokio::spawn(run_with(
        config.clone(),
        pipeline_cancel.clone(),
        handles.clone(),
    ));
    let script_cancel = CancellationToken::new();
    let (narration_tx, mut narration) = mpsc::unbounded_channel();
    let (commands_tx, mut commands) = mpsc::unbounded_channel();
    let topics = Topics::new(&prefix, &config.gateway.store, &config.gateway.id);
    let (script, sim) = StoreScript::new(options.seed, shelfd_core::timefmt::now_ms(), &config);
    let player = tokio::spawn(script::play(
        script,
        sim,
        rig.senders(),
        rig.buses(),
        script_cancel.clone(),
        narration_tx,
        commands_tx,
    ));

    let deadline = viewer.started + options.duration.min(MAX_DURATION);
    let mut redraw = interval(REDRAW_EVERY);
    redraw.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let live = viewer.mode == ViewMode::Live;
    let mut ended = None;
    while out.failed.is_none() {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = sleep_until(deadline) => break,
            result = &mut pipeline => {
                ended = Some(result);
                break;
            }
            Some(m) = feed.recv() => viewer.message(&m, &mut out),
            Some(say) = narration.recv() => viewer.narrate(say, &mut out),
            Some(c) = commands.recv() => {
                let topic = topics.build(&Topic::Cmd(c.op.into()));
                feed.command(topic, c.body.to_string().into_bytes());
            }
            _ = redraw.tick(), if live => viewer.draw(&handles.readers.snapshots(), &mut out),
        }
    }

    // Stop as a daemon stops, and keep showing what the stop publishes (readers going
    // offline, the last deltas, the gateway's `offline`).
    script_cancel.cancel();
    pipeline_cancel.cancel();
    let ended = match ended {
        Some(result) => result,
        None => loop {
            tokio::select! {
                result = &mut pipeline => break result,
                Some(m) = feed.recv() => viewer.message(&m, &mut out),
                _ = redraw.tick(), if live => viewer.draw(&handles.readers.snapshots(), &mut out),
            }
        },
    };
    let offline_by = Instant::now() + OFFLINE_WAIT;
    while viewer.view.status() != Some("offline") {
        tokio::select! {
            Some(m) = feed.recv() => viewer.message(&m, &mut out),
            _ = sleep_until(offline_by) => break,
        }
    }
    while let Some(m) = feed.try_recv() {
        viewer.message(&m, &mut out);
    }
    feed.stop().await;
    central.stop().await;
    let _ = player.await;
    let health = handles.readers.snapshots();
    rig.unplug().await;
    readers_cancel.cancel();

    let summary = viewer.summary(&health);
    match viewer.mode {
        ViewMode::Live => {
            viewer.draw(&health, &mut out);
            out.write(view::SHOW_CURSOR);
            for line in &summary {
                out.line(line);
            }
        }
        ViewMode::Plain => {
            for line in &summary {
                out.line(line);
            }
        }
        ViewMode::Json => {
            for line in &summary {
                notes.line(line);
            }
        }
    }

    match ended {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e.into()),
        Err(e) => return Err(DemoError::Task(e.to_string())),
    }
    if let Some(e) = out.failed {
        // A reader that went away (`| head`) is not the demo's failure.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(DemoError::Output(e));
        }
    }
    Ok(DemoReport {
        events: viewer.view.events(),
        readers: health,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Protocol;

    #[test]
    fn the_demo_store_has_a_reader_of_every_serial_protocol_and_a_shelf_node() {
        let config = demo_config();
        let protocols: Vec<Protocol> = config.readers.iter().map(|r| r.protocol()).collect();
        assert_eq!(
            protocols,
            [
                Protocol::Mercury,
                Protocol::MagicRf,
                Protocol::R2000,
                Protocol::Line,
                Protocol::Llrp,
                Protocol::ShelfLink
            ]
        );
        // The drinks shelf is counted by weight only: a node's lane, no antenna.
        assert_eq!(config.lanes.len(), 1);
        assert_eq!(config.lanes[0].location, "shelf-c1");
        assert!(!config.lanes[0].tagged);
        for location in [
            "shelf-a1", "shelf-a2", "shelf-b1", "backroom", "pos-1", "exit-1", "dock-1",
        ] {
            assert!(
                config
                    .readers
                    .iter()
                    .any(|r| r.antennas.values().any(|l| l == location)),
                "no antenna covers {location}"
            );
        }
    }

    #[test]
    fn relocate_moves_state_ports_and_broker() {
        let dir = Path::new("/tmp/shelfd-demo-123");
        let url = MqttUrl {
            tls: false,
            host: "127.0.0.1".into(),
            port: 41883,
        };
        let config = relocate(demo_config(), dir, url.clone());
        assert_eq!(config.gateway.state_dir, dir.join("state"));
        assert_eq!(config.mqtt.url, url);
        let ports: Vec<PathBuf> = config
            .readers
            .iter()
            .filter_map(|r| r.port().map(Path::to_path_buf))
            .collect();
        assert_eq!(
            ports,
            [
                "r1-mercury",
                "r2-magicrf",
                "r3-r2000",
                "r4-line",
                "n1-shelf-link"
            ]
            .map(|p| dir.join("ports").join(p))
        );
    }
}
