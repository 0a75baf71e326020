//! A simulated shelf-node bus on a pseudo-terminal: real `shelf-node` state machines
//! ([`NodeSimulator`], the firmware's own code on seeded, noisy simulated load cells) answering
//! the gateway's polls through a PTY pair, so the real driver ([`super::run_shelf_link_reader`])
//! opens the slave path exactly as it opens `/dev/serial/by-id/…`. The demo and the end-to-end
//! tests use it; [`NodeBusHandle`] puts weight on lanes and makes nodes read tags.
//!
//! It owns the PTY master (and one idle slave fd, so the PTY does not hang up between the
//! driver's opens) and the simulated nodes; every node hears every byte the host writes, as on
//! a multi-drop bus. Simulated time follows the wall clock in 10 ms steps. It never opens
//! anything but its own PTY and never decodes what it does not have to: the nodes do.

use shelf_node::link::{Epc, FirmwareVersion};
use shelf_node::node::NodeConfig;
use shelf_node::scale::{Calibration, NOMINAL_COUNTS_PER_KG};
use shelf_node::sim::NodeSimulator;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_serial::{SerialPort, SerialStream};
use tokio_util::sync::CancellationToken;

/// Load-cell lanes of every simulated node.
pub const SIM_LANES: usize = 4;

/// A change to the simulated shelf.
#[derive(Debug, Clone)]
enum BusInput {
    AddGrams { node: u8, lane: u8, grams: f64 },
    TagRead { node: u8, antenna: u8, epc: Epc },
}

/// A simulated bus not yet running: a PTY pair and its nodes.
pub struct NodeBusSimulator {
    master: SerialStream,
    slave: SerialStream,
    path: PathBuf,
    nodes: Vec<NodeSimulator<SIM_LANES>>,
}

impl std::fmt::Debug for NodeBusSimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeBusSimulator")
            .field("path", &self.path)
            .field("nodes", &self.addresses())
            .finish_non_exhaustive()
    }
}

impl NodeBusSimulator {
    /// A PTY pair with a node at each of `addresses` (1..=254), [`SIM_LANES`] empty, tared and
    /// calibrated lanes each, seeded from `seed` (event numbers start from it too). Must run
    /// inside a tokio runtime.
    pub fn new(addresses: &[u8], seed: u64) -> io::Result<Self> {
        let (master, slave) = SerialStream::pair().map_err(io::Error::from)?;
        let path = slave.name().map(PathBuf::from).ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "PTY slave has no device name")
        })?;
        let nodes = addresses
            .iter()
            .map(|&address| simulated_node(address, seed))
            .collect();
        Ok(NodeBusSimulator {
            master,
            slave,
            path,
            nodes,
        })
    }

    /// The slave's device path (`/dev/pts/N`): what the driver opens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The node addresses, in bus order.
    pub fn addresses(&self) -> Vec<u8> {
        self.nodes.iter().map(|n| n.node().address()).collect()
    }

    /// Puts `grams` on a lane before the bus starts (stock already on the shelf at boot).
    /// Unknown nodes and lanes are ignored.
    pub fn set_grams(&mut self, node: u8, lane: u8, grams: f64) {
        if let Some(scale) = self
            .nodes
            .iter_mut()
            .find(|n| n.node().address() == node)
            .and_then(|n| n.scale_mut(usize::from(lane)))
        {
            scale.set_weight_mg((grams * 1000.0).round() as i64);
        }
    }

    /// Starts the bus: the nodes answer the host until [`NodeBusHandle::unplug`], the handle is
    /// dropped, or `cancel` fires.
    pub fn spawn(self, cancel: CancellationToken) -> NodeBusHandle {
        let (tx, rx) = mpsc::channel(64);
        let stop = cancel.child_token();
        let path = self.path.clone();
        let task = tokio::spawn(self.run(rx, stop.clone()));
        NodeBusHandle {
            path,
            tx,
            stop,
            task: Some(task),
        }
    }

    async fn run(self, mut inputs: mpsc::Receiver<BusInput>, stop: CancellationToken) {
        let NodeBusSimulator {
            master,
            slave,
            path,
            mut nodes,
        } = self;
        let (mut from_host, mut to_host) = tokio::io::split(master);
        let mut buf = [0u8; 512];
        let start = Instant::now();
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                read = from_host.read(&mut buf) => {
                    let n = match read {
                        Ok(n) if n > 0 => n,
                        _ => break,
                    };
                    let mut answers = Vec::new();
                    for node in &mut nodes {
                        node.on_bytes(&buf[..n], |answer| answers.extend_from_slice(answer));
                    }
                    if !answers.is_empty() && to_host.write_all(&answers).await.is_err() {
                        break;
                    }
                }
                input = inputs.recv() => match input {
                    None => break,
                    Some(BusInput::AddGrams { node, lane, grams }) => {
                        if let Some(scale) = nodes
                            .iter_mut()
                            .find(|n| n.node().address() == node)
                            .and_then(|n| n.scale_mut(usize::from(lane)))
                        {
                            scale.add_mg((grams * 1000.0).round() as i64);
                            tracing::trace!(node, lane, grams, now_mg = scale.weight_mg(), "simulated weight change");
                        }
                    }
                    Some(BusInput::TagRead { node, antenna, epc }) => {
                        if let Some(n) = nodes.iter_mut().find(|n| n.node().address() == node) {
                            n.node_mut().tag_read(antenna, -550, epc);
                        }
                    }
                },
                _ = tick.tick() => {
                    let now = start.elapsed().as_millis() as u64;
                    for node in &mut nodes {
                        let behind = now.saturating_sub(node.now_ms());
                        if behind > 0 {
                            node.advance(behind);
                        }
                    }
                }
            }
        }
        drop(slave);
        tracing::debug!(path = %path.display(), "simulated shelf-node bus stopped");
    }
}

/// A node at `address` with [`SIM_LANES`] empty lanes, calibrated as a board restores them
/// from flash (empty lane = 0 g), seeded from `seed` and `address`.
fn simulated_node(address: u8, seed: u64) -> NodeSimulator<SIM_LANES> {
    let node_seed = seed.wrapping_mul(257).wrapping_add(u64::from(address));
    let config = NodeConfig::new(
        address,
        0x5100_0000 + u64::from(address),
        FirmwareVersion {
            major: 1,
            minor: 0,
            patch: 0,
        },
        node_seed as u16,
    );
    let mut sim = NodeSimulator::<SIM_LANES>::new(config, node_seed);
    for lane in 0..SIM_LANES {
        let tare = sim.scale_mut(lane).map_or(0, |s| s.offset_counts);
        sim.node_mut().set_calibration(
            lane,
            Calibration {
                tare_counts: tare,
                counts_per_kg: NOMINAL_COUNTS_PER_KG,
            },
        );
    }
    sim
}

/// A running simulated bus.
#[derive(Debug)]
pub struct NodeBusHandle {
    path: PathBuf,
    tx: mpsc::Sender<BusInput>,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl NodeBusHandle {
    /// The slave's device path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A clonable remote for the bus's shelves.
    pub fn controls(&self) -> NodeBusControls {
        NodeBusControls {
            tx: self.tx.clone(),
        }
    }

    /// Adds (or with a negative value removes) `grams` on a lane: a put-back or a pick, which
    /// the node reports once the weight settles (about a second and a half).
    pub async fn add_grams(&self, node: u8, lane: u8, grams: f64) -> io::Result<()> {
        self.controls().add_grams(node, lane, grams).await
    }

    /// Makes a node's own RFID module read `epc` on `antenna`.
    pub async fn tag_read(&self, node: u8, antenna: u8, epc: &[u8]) -> io::Result<()> {
        let epc = Epc::new(epc).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        self.tx
            .send(BusInput::TagRead { node, antenna, epc })
            .await
            .map_err(|_| stopped())
    }

    /// Unplugs the bus: the PTY closes and the driver sees a hang-up. Waits for the task.
    pub async fn unplug(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

fn stopped() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the simulated bus stopped")
}

/// A clonable remote for a running bus's shelves (what the demo's script holds).
#[derive(Debug, Clone)]
pub struct NodeBusControls {
    tx: mpsc::Sender<BusInput>,
}

impl NodeBusControls {
    /// See [`NodeBusHandle::add_grams`].
    pub async fn add_grams(&self, node: u8, lane: u8, grams: f64) -> io::Result<()> {
        self.tx
            .send(BusInput::AddGrams { node, lane, grams })
            .await
            .map_err(|_| stopped())
    }
}

impl Drop for NodeBusHandle {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shelf_node::link::{Command, Frame, Report};

    #[test]
    fn a_simulated_node_weighs_from_zero_and_reports_a_configured_pick() {
        let mut node = simulated_node(3, 42);
        node.scale_mut(0).expect("lane 0").set_weight_mg(1_000_000);
        for _ in 0..300 {
            node.advance(10);
        }
        let weight = node
            .node()
            .lane(0)
            .and_then(|l| l.weight_mg())
            .expect("weighed");
        assert!((weight - 1_000_000).abs() < 2_000, "{weight} mg");
        let configure = Frame::new(
            3,
            1,
            Command::ConfigureLane {
                lane: 0,
                unit_mg: 250_000,
                tolerance_mg: 62_500,
            },
        );
        let answer = node.on_bytes_vec(&configure.to_vec().expect("encodes"));
        assert!(!answer.is_empty());
        node.scale_mut(0).expect("lane 0").add_mg(-500_000);
        node.advance(3_000);
        let pending: Vec<Report> = node.node().pending().map(|(_, r)| *r).collect();
        assert!(
            pending.iter().any(|r| matches!(
                r,
                Report::PickPut {
                    lane: 0,
                    units: -2,
                    ..
                }
            )),
            "{pending:?}"
        );
    }
}
