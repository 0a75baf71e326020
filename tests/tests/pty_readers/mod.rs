//! Simulated serial readers for `shelfd run`: one simulated reader per spec on a PTY (the real
//! protocol bytes, [`spawn_simulated_reader`]), each behind a symlink in the test's temp dir as
//! udev's by-id links are (the kernel reuses `/dev/pts` numbers), a `[[reader]]`/`[[location]]`
//! config for them, and a player that sends every reader one inventory round every
//! [`ROUND_EVERY`]: empty (nothing in view) until [`PtyReaders::place_tags`], then carrying all
//! of the reader's tags. The simulators and the player run on their own small tokio runtime, so the
//! test thread is free to wait on the broker and the daemon.
//!
//! Start `shelfd run` *before* [`PtyReaders::start`]: the simulators' PTY descriptors are not
//! close-on-exec, so a child process spawned after them inherits the master and keeps the PTY
//! alive, and an unplug would never reach the daemon as a hang-up. The daemon retries a port
//! that does not exist yet, so it opens the links as soon as they appear.
//!
//! Only `readers_e2e` uses this, and it stays out of shelfd-testkit because it drives the
//! daemon's own simulators (`shelfd::readers::pty_sim`): the kit never depends on the `shelfd`
//! package. The PTY links and the config come from the kit.

use shelfd::config::Protocol;
use shelfd_readers::pty_sim::{RoundSender, SimulatedReaderHandle, spawn_simulated_reader};
use shelfd_readers::{TagReport, WireOptions};
use shelfd_testkit::config::{ConfigBuilder, Reader};
use shelfd_testkit::pty::{by_id_link, point};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often every reader is sent a round of its tags.
pub const ROUND_EVERY: Duration = Duration::from_millis(200);

/// One simulated reader to run: its id, protocol, antennas (port → location id) and how many
/// distinct tags sit in front of each antenna.
#[derive(Debug, Clone)]
pub struct ReaderSpec {
    /// Reader id in the config.
    pub id: &'static str,
    /// Wire protocol.
    pub protocol: Protocol,
    /// Antenna port → location id.
    pub antennas: &'static [(u16, &'static str)],
    /// Tags in view of each antenna.
    pub tags_per_antenna: usize,
}

/// A running simulated reader and what it reports.
pub struct PtyReader {
    /// The spec it runs.
    pub spec: ReaderSpec,
    /// The symlink the config names as its port.
    pub link: PathBuf,
    /// Its tags (distinct EPCs, SGTIN-96), each on one of its antennas.
    pub tags: Vec<TagReport>,
    handle: Option<SimulatedReaderHandle>,
}

impl PtyReader {
    /// (EPC hex, location id) of every tag.
    pub fn expected(&self) -> Vec<(String, String)> {
        self.tags
            .iter()
            .map(|t| (shelfd_testkit::hex(&t.epc), self.location_of(t.antenna)))
            .collect()
    }

    fn location_of(&self, antenna: u16) -> String {
        self.spec
            .antennas
            .iter()
            .find(|(a, _)| *a == antenna)
            .map(|(_, l)| (*l).to_string())
            .expect("tags are only placed on configured antennas")
    }
}

/// The simulated readers of one test, their runtime and their player.
pub struct PtyReaders {
    rt: Option<tokio::runtime::Runtime>,
    cancel: CancellationToken,
    tags_placed: Arc<AtomicBool>,
    /// The readers, in spec order.
    pub readers: Vec<PtyReader>,
}

impl PtyReaders {
    /// Starts one simulated reader per spec on a PTY, with symlinks in `dir/by-id/`, and the
    /// player (empty rounds until [`PtyReaders::place_tags`]). Reader `i`'s tags are SGTIN-96s of products `2i+1` and `2i+2` (alternating),
    /// serials distinct across all readers.
    pub fn start(dir: &Path, specs: &[ReaderSpec]) -> PtyReaders {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .thread_name("pty-readers")
            .build()
            .expect("tokio runtime");
        let cancel = CancellationToken::new();
        std::fs::create_dir_all(dir.join("by-id")).expect("by-id dir");
        let mut readers = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let options = WireOptions {
                antennas: spec.antennas.iter().map(|(a, _)| *a).collect(),
                ..WireOptions::default()
            };
            let handle = rt
                .block_on(async {
                    spawn_simulated_reader(spec.protocol, options, cancel.child_token())
                })
                .unwrap_or_else(|e| panic!("PTY for {}: {e}", spec.id));
            let link = by_id_link(dir, spec.id);
            point(&link, handle.path());
            let mut tags = Vec::new();
            for (a, (antenna, _)) in spec.antennas.iter().enumerate() {
                for k in 0..spec.tags_per_antenna {
                    let product = (2 * i + k % 2 + 1) as u32;
                    let serial = (i * 1000 + a * 100 + k + 1) as u64;
                    tags.push(TagReport {
                        antenna: *antenna,
                        epc: shelfd_core::sim::sim_epc(product, serial),
                        rssi_dbm: Some(-55.0),
                        ..TagReport::default()
                    });
                }
            }
            readers.push(PtyReader {
                spec: spec.clone(),
                link,
                tags,
                handle: Some(handle),
            });
        }
        let rounds: Vec<(RoundSender, Vec<TagReport>)> = readers
            .iter()
            .map(|r| {
                let handle = r.handle.as_ref().expect("just started");
                (handle.rounds(), r.tags.clone())
            })
            .collect();
        let tags_placed = Arc::new(AtomicBool::new(false));
        rt.spawn(play(rounds, tags_placed.clone(), cancel.clone()));
        PtyReaders {
            rt: Some(rt),
            cancel,
            tags_placed,
            readers,
        }
    }

    /// Puts every reader's tags in view: from the next round on, rounds carry them.
    pub fn place_tags(&self) {
        self.tags_placed.store(true, Ordering::Relaxed);
    }

    /// Unplugs reader `id`: closes its PTY (the driver's fd hangs up) and removes its symlink,
    /// as a USB unplug removes the by-id link.
    pub fn unplug(&mut self, id: &str) {
        let rt = self.rt.as_ref().expect("running");
        let reader = self
            .readers
            .iter_mut()
            .find(|r| r.spec.id == id)
            .unwrap_or_else(|| panic!("no reader {id}"));
        let handle = reader.handle.take().expect("plugged in");
        rt.block_on(handle.unplug());
        std::fs::remove_file(&reader.link).expect("remove the by-id link");
    }
}
impl Drop for PtyReaders {
    fn drop(&mut self) {
        self.cancel.cancel();
        for r in &mut self.readers {
            drop(r.handle.take());
        }
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

/// Sends every reader one round every [`ROUND_EVERY`] until `cancel`: empty until
/// `tags_placed`, then with all its tags. A reader that is unplugged or not keeping up just
/// misses the round.
async fn play(
    readers: Vec<(RoundSender, Vec<TagReport>)>,
    tags_placed: Arc<AtomicBool>,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(ROUND_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let placed = tags_placed.load(Ordering::Relaxed);
        for (sender, tags) in &readers {
            let round = if placed { tags.clone() } else { Vec::new() };
            let _ = sender.try_send_round(round);
        }
    }
}

/// `dir/shelfd.toml`: store `s1`, gateway `gw-1`, `[mqtt]` to 127.0.0.1:`port`, one
/// `[[reader]]` per spec (its port the spec's [`by_id_link`] in `dir`, `watchdog` as given), a
/// `[[location]]` (a shelf) for every location they name, and
/// [`ConfigBuilder::quick_reconcile`].
pub fn write_config(dir: &Path, port: u16, specs: &[ReaderSpec], watchdog: &str) -> PathBuf {
    let mut config = ConfigBuilder::new("s1", "gw-1")
        .state_dir("state")
        .mqtt_port(port)
        .mqtt("keep_alive", "5s")
        .quick_reconcile();
    let mut locations = BTreeSet::new();
    for spec in specs {
        config = config.reader(
            Reader::serial(
                spec.id,
                &spec.protocol.to_string(),
                by_id_link(dir, spec.id),
            )
            .antennas(spec.antennas)
            .set("watchdog", watchdog),
        );
        locations.extend(spec.antennas.iter().map(|(_, l)| *l));
    }
    for l in locations {
        config = config.location(l, "shelf");
    }
    config.write(dir)
}
