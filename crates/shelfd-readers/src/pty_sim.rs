//! Simulated readers on pseudo-terminals: the reader side of any protocol speaking its real
//! bytes through a PTY pair, so the real driver ([`super::session`]) can open the slave
//! path exactly as it opens `/dev/serial/by-id/…` ([`SimulatedReader`],
//! [`spawn_simulated_reader`]), and a player that feeds them the tag population of a seeded
//! [`StoreSim`] ([`play_store_sim`]). The demo and the end-to-end tests use these.
//!
//! It owns the PTY master (and one idle slave fd that keeps the PTY from reporting a hang-up
//! while the driver is between opens) and the protocol's [`ReaderSimulator`]. It never reads
//! the slave, never decodes what the host means beyond what the simulator answers, and never
//! opens anything but the PTYs it created.
//!
//! Unplugging ([`SimulatedReaderHandle::unplug`], or dropping the handle) closes the master:
//! the driver's open fd hangs up (reads return end of file or `EIO`) and the `/dev/pts/N` node
//! disappears. The kernel reuses the lowest free PTY number, so another PTY may appear at the
//! same path later: point the driver at a symlink you control (as udev's by-id links are) and
//! remove or re-point it on unplug, rather than at the bare `/dev/pts/N` path.

use super::frame::{ReaderSimulator, TagReport};
use super::wire::{self, WireOptions};
use crate::kinds::Protocol;
use shelfd_core::readlog::{LinkState, Record};
use shelfd_core::sim::StoreSim;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_serial::{SerialPort, SerialStream};
use tokio_util::sync::CancellationToken;

/// Rounds (or raw writes) queued for a simulated reader before senders wait.
pub const INPUT_QUEUE: usize = 64;
/// Bytes a simulated reader holds for a host that is not reading before it stops taking new
/// rounds (the PTY itself buffers a few KiB more).
pub const MAX_PENDING_BYTES: usize = 64 * 1024;

/// A simulated reader not yet running: a fresh PTY pair and the protocol's simulator.
pub struct SimulatedReader {
    master: SerialStream,
    slave: SerialStream,
    path: PathBuf,
    simulator: Box<dyn ReaderSimulator>,
}

impl std::fmt::Debug for SimulatedReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimulatedReader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SimulatedReader {
    /// Creates the PTY pair and the simulator of `protocol`. Must run inside a tokio runtime.
    /// Fails when the protocol has no wire format (`replay`, or not built yet) or no PTY can
    /// be created.
    pub fn new(protocol: Protocol, options: &WireOptions) -> io::Result<Self> {
        let simulator = wire::simulator(protocol, options)
            .map_err(|e| io::Error::new(io::ErrorKind::Unsupported, e))?;
        let (master, slave) = SerialStream::pair().map_err(io::Error::from)?;
        let path = slave.name().map(PathBuf::from).ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "PTY slave has no device name")
        })?;
        Ok(SimulatedReader {
            master,
            slave,
            path,
            simulator,
        })
    }

    /// The slave's device path (`/dev/pts/N`): what the driver opens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts answering the host and writing rounds. The reader runs until
    /// [`SimulatedReaderHandle::unplug`], the handle is dropped, or `cancel` fires.
    pub fn spawn(self, cancel: CancellationToken) -> SimulatedReaderHandle {
        let (tx, rx) = mpsc::channel(INPUT_QUEUE);
        let stop = cancel.child_token();
        let stats = Arc::new(SimStats::default());
        let path = self.path.clone();
        let task = tokio::spawn(self.run(rx, stop.clone(), stats.clone()));
        SimulatedReaderHandle {
            path,
            rounds: RoundSender { tx },
            stop,
            stats,
            task: Some(task),
        }
    }

    async fn run(
        self,
        mut inputs: mpsc::Receiver<SimInput>,
        stop: CancellationToken,
        stats: Arc<SimStats>,
    ) {
        let SimulatedReader {
            master,
            slave,
            path,
            mut simulator,
        } = self;
        let (mut from_host, mut to_host) = tokio::io::split(master);
        let mut pending: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; 1024];
        let mut host_readable = true;
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                read = from_host.read(&mut buf), if host_readable => match read {
                    Ok(n) if n > 0 => {
                        stats.host_bytes.fetch_add(n as u64, Ordering::Relaxed);
                        pending.extend(simulator.on_host_bytes(&buf[..n]));
                    }
                    other => {
                        // Cannot happen while we hold the slave; stop polling rather than spin.
                        tracing::debug!(path = %path.display(), "simulated reader: host side unreadable: {other:?}");
                        host_readable = false;
                    }
                },
                written = to_host.write(&pending), if !pending.is_empty() => match written {
                    Ok(n) => {
                        pending.drain(..n);
                    }
                    Err(e) => {
                        tracing::debug!(path = %path.display(), "simulated reader: write failed: {e}");
                        break;
                    }
                },
                input = inputs.recv(), if pending.len() < MAX_PENDING_BYTES => match input {
                    None => break,
                    Some(SimInput::Round(tags)) => {
                        pending.extend(simulator.round(&tags));
                        stats.rounds.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(SimInput::Raw(bytes)) => pending.extend(bytes),
                },
            }
        }
        let _ = to_host.flush().await;
        // Closing the master is the unplug; the idle slave goes with it.
        drop((from_host, to_host));
        drop(slave);
    }
}

/// What a simulated reader is asked to write.
#[derive(Debug)]
pub(crate) enum SimInput {
    Round(Vec<TagReport>),
    Raw(Vec<u8>),
}

#[derive(Debug, Default)]
struct SimStats {
    host_bytes: AtomicU64,
    rounds: AtomicU64,
}

/// The simulated reader is gone (unplugged, or its task ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("simulated reader is unplugged")]
pub struct Unplugged;

/// Why [`RoundSender::try_send_round`] did not queue a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RoundNotSent {
    /// The reader's queue is full (its host is not reading): the round is dropped, as a real
    /// reader's buffer would overflow.
    #[error("simulated reader's queue is full")]
    Full,
    /// The reader is unplugged.
    #[error("simulated reader is unplugged")]
    Unplugged,
}

/// Queues inventory rounds for one simulated reader; cheap to clone.
#[derive(Debug, Clone)]
pub struct RoundSender {
    tx: mpsc::Sender<SimInput>,
}

impl RoundSender {
    /// A sender and the receiving end a simulator reads its rounds from (network simulators
    /// share [`play_store_sim`] this way).
    pub(crate) fn channel() -> (RoundSender, mpsc::Receiver<SimInput>) {
        let (tx, rx) = mpsc::channel(INPUT_QUEUE);
        (RoundSender { tx }, rx)
    }

    /// Queues one inventory round carrying `tags` (waits while the queue is full). The
    /// protocol's simulator turns it into bytes, or nothing while the host has not started
    /// the inventory.
    pub async fn send_round(&self, tags: Vec<TagReport>) -> Result<(), Unplugged> {
        self.tx
            .send(SimInput::Round(tags))
            .await
            .map_err(|_| Unplugged)
    }

    /// Queues one round unless the queue is full.
    pub fn try_send_round(&self, tags: Vec<TagReport>) -> Result<(), RoundNotSent> {
        self.tx
            .try_send(SimInput::Round(tags))
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => RoundNotSent::Full,
                mpsc::error::TrySendError::Closed(_) => RoundNotSent::Unplugged,
            })
    }

    /// Queues raw bytes to write as they are (line noise, truncated frames), in order with
    /// the rounds.
    pub async fn send_raw(&self, bytes: Vec<u8>) -> Result<(), Unplugged> {
        self.tx
            .send(SimInput::Raw(bytes))
            .await
            .map_err(|_| Unplugged)
    }
}

/// A running simulated reader. Dropping it unplugs the reader.
#[derive(Debug)]
pub struct SimulatedReaderHandle {
    path: PathBuf,
    rounds: RoundSender,
    stop: CancellationToken,
    stats: Arc<SimStats>,
    task: Option<JoinHandle<()>>,
}

impl SimulatedReaderHandle {
    /// The slave's device path (`/dev/pts/N`) the driver opens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A sender of rounds to this reader (for [`play_store_sim`]).
    pub fn rounds(&self) -> RoundSender {
        self.rounds.clone()
    }

    /// Queues one inventory round (see [`RoundSender::send_round`]).
    pub async fn push_round(&self, tags: Vec<TagReport>) -> Result<(), Unplugged> {
        self.rounds.send_round(tags).await
    }

    /// Queues raw bytes (see [`RoundSender::send_raw`]).
    pub async fn push_raw(&self, bytes: Vec<u8>) -> Result<(), Unplugged> {
        self.rounds.send_raw(bytes).await
    }

    /// Bytes the host has written to this reader so far.
    pub fn host_bytes(&self) -> u64 {
        self.stats.host_bytes.load(Ordering::Relaxed)
    }

    /// Rounds turned into bytes so far.
    pub fn rounds_played(&self) -> u64 {
        self.stats.rounds.load(Ordering::Relaxed)
    }

    /// Unplugs the reader: closes the PTY master and returns once it is closed. Bytes still
    /// queued are lost, as on a real unplug.
    pub async fn unplug(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            if let Err(e) = task.await {
                tracing::warn!(path = %self.path.display(), "simulated reader task failed: {e}");
            }
        }
    }
}

impl Drop for SimulatedReaderHandle {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Creates a simulated reader of `protocol` on a new PTY and starts it (see
/// [`SimulatedReader::new`] and [`SimulatedReader::spawn`]).
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use shelfd_readers::Protocol;
/// use shelfd_readers::{TagReport, WireOptions, pty_sim::spawn_simulated_reader};
/// let cancel = tokio_util::sync::CancellationToken::new();
/// let reader = spawn_simulated_reader(Protocol::Line, WireOptions::default(), cancel)?;
/// println!("point the driver at {}", reader.path().display());
/// let tag = TagReport { antenna: 1, epc: vec![0x30, 0x74], ..TagReport::default() };
/// let _ = reader.push_round(vec![tag]).await;
/// reader.unplug().await;
/// # Ok(()) }
/// ```
pub fn spawn_simulated_reader(
    protocol: Protocol,
    options: WireOptions,
    cancel: CancellationToken,
) -> io::Result<SimulatedReaderHandle> {
    Ok(SimulatedReader::new(protocol, &options)?.spawn(cancel))
}

/// Plays `sim` in real time through simulated readers until `cancel` fires, then returns the
/// simulation (to inspect what it did).
///
/// Every `tick` it advances the simulation by `tick`, takes its records and sends each
/// reader's reads of that tick as one round to the reader of the same id in `readers` (a
/// reader with a heartbeat but no reads gets an empty round, which protocols with a
/// round-end frame turn into proof of life). A `Link{Down}` record stops rounds for that
/// reader until its `Link{Up}`; a silenced reader sends nothing. Readers missing from
/// `readers` are skipped; a reader whose queue is full loses that round (logged at debug).
/// Simulated time is only the source of the tag population: the driver stamps reads with the
/// gateway clock.
pub async fn play_store_sim(
    mut sim: StoreSim,
    readers: HashMap<String, RoundSender>,
    tick: Duration,
    cancel: CancellationToken,
) -> StoreSim {
    let tick_ms = u64::try_from(tick.as_millis()).unwrap_or(u64::MAX).max(1);
    let mut interval = tokio::time::interval(Duration::from_millis(tick_ms));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut down: HashSet<String> = HashSet::new();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return sim,
            _ = interval.tick() => {}
        }
        sim.run_for(tick_ms);
        for (reader, tags) in rounds_of(sim.take_records(), &mut down) {
            let Some(sender) = readers.get(&reader) else {
                continue;
            };
            if let Err(e) = sender.try_send_round(tags) {
                tracing::debug!(reader = %reader, "simulated round dropped: {e}");
            }
        }
    }
}

/// Groups one tick's records into a round per reader, tracking which readers are down.
fn rounds_of(records: Vec<Record>, down: &mut HashSet<String>) -> BTreeMap<String, Vec<TagReport>> {
    let mut rounds: BTreeMap<String, Vec<TagReport>> = BTreeMap::new();
    for record in records {
        match record {
            Record::Read(read) => {
                if !down.contains(&read.reader) {
                    rounds.entry(read.reader).or_default().push(TagReport {
                        antenna: read.antenna,
                        epc: read.epc,
                        rssi_dbm: read.rssi,
                        ..TagReport::default()
                    });
                }
            }
            Record::Link { reader, link, .. } => match link {
                LinkState::Down => {
                    down.insert(reader);
                }
                LinkState::Up => {
                    down.remove(&reader);
                }
                LinkState::Alive => {
                    if !down.contains(&reader) {
                        rounds.entry(reader).or_default();
                    }
                }
            },
            Record::Gpio { .. } | Record::Command { .. } | Record::Lane(_) => {}
        }
    }
    rounds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{FrameDecoder, decode_all};
    use crate::line;
    use shelfd_core::readlog::TagRead;

    fn read(reader: &str, antenna: u16, epc: u8) -> Record {
        Record::Read(TagRead {
            t: 0,
            reader: reader.into(),
            antenna,
            epc: vec![0x30, epc],
            rssi: Some(-50.0),
        })
    }

    fn link(reader: &str, link: LinkState) -> Record {
        Record::Link {
            t: 0,
            reader: reader.into(),
            link,
        }
    }

    #[test]
    fn rounds_group_by_reader_and_respect_down() {
        let mut down = HashSet::new();
        let rounds = rounds_of(
            vec![
                read("r1", 1, 1),
                read("r2", 2, 2),
                link("r3", LinkState::Alive),
                read("r1", 2, 3),
                link("r2", LinkState::Down),
                read("r2", 1, 4),
            ],
            &mut down,
        );
        let epcs = |r: &str| -> Vec<u8> { rounds[r].iter().map(|t| t.epc[1]).collect() };
        assert_eq!(epcs("r1"), [1, 3]);
        assert_eq!(epcs("r2"), [2], "reads before the Down still go out");
        assert!(
            rounds["r3"].is_empty(),
            "a heartbeat alone gives an empty round"
        );
        assert_eq!(rounds["r1"][1].antenna, 2);
        assert_eq!(rounds["r1"][0].rssi_dbm, Some(-50.0));

        let rounds = rounds_of(
            vec![read("r2", 1, 5), link("r2", LinkState::Alive)],
            &mut down,
        );
        assert!(rounds.is_empty(), "down until Up: {rounds:?}");
        let rounds = rounds_of(vec![link("r2", LinkState::Up), read("r2", 1, 6)], &mut down);
        assert_eq!(rounds["r2"].len(), 1);
    }

    /// The PTY carries the simulator's bytes: read them straight off the slave path.
    #[tokio::test]
    async fn rounds_reach_the_slave_path() {
        let cancel = CancellationToken::new();
        let reader = spawn_simulated_reader(Protocol::Line, WireOptions::default(), cancel.clone())
            .expect("PTY");
        assert!(reader.path().starts_with("/dev/pts"), "{:?}", reader.path());
        let path = reader.path().to_str().expect("utf-8").to_owned();
        let mut port =
            tokio_serial::SerialPortBuilderExt::open_native_async(tokio_serial::new(path, 115_200))
                .expect("the driver-side open of the slave path works");
        let tag = TagReport {
            antenna: 2,
            epc: vec![0x30, 0x74, 0x25, 0x7b],
            rssi_dbm: Some(-61.5),
            ..TagReport::default()
        };
        reader.push_round(vec![tag.clone()]).await.expect("plugged");
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        let mut decoder = line::Decoder::new();
        while decoder.stats().tags == 0 {
            let n = tokio::time::timeout(Duration::from_secs(5), port.read(&mut buf))
                .await
                .expect("bytes within 5 s")
                .expect("read");
            got.extend(decode_all(&mut decoder, &buf[..n]));
        }
        assert_eq!(got.len(), 1);
        assert!(
            matches!(&got[0], crate::Decoded::Tag { tag: t, .. } if *t == tag),
            "{got:?}"
        );
        assert_eq!(reader.rounds_played(), 1);

        reader.unplug().await;
        let eof = tokio::time::timeout(Duration::from_secs(5), port.read(&mut buf))
            .await
            .expect("hang-up seen within 5 s");
        assert!(matches!(eof, Ok(0) | Err(_)), "{eof:?}");
    }
}
