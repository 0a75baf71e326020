//! The demo's reader hardware: one simulated reader per configured serial reader, speaking that
//! reader's protocol on a fresh PTY ([`ReaderRig::plug_in`]) — for a `shelf-link` reader a bus
//! of simulated shelf nodes, its lanes stocked with [`LANE_STOCK`] items — with the configured
//! port path made a symlink to the PTY's slave, as udev's `/dev/serial/by-id` links are (the kernel reuses
//! `/dev/pts` numbers, so the driver is never pointed at a bare one).
//!
//! An `llrp` reader gets a simulated LLRP reader on a free 127.0.0.1 port instead, its
//! `address` pointed there.
//!
//! It owns the simulated readers and the symlinks; it never opens the slave side (the serial
//! driver does) and never touches a path outside the ports the config names.

use crate::config::{Config, Protocol, ReaderSource};
use shelfd_readers::llrp::simulator::{
    LlrpSimHandle, SimReaderConfig, Vendor, spawn_llrp_simulator_on,
};
use shelfd_readers::pty_sim::{RoundSender, SimulatedReaderHandle, spawn_simulated_reader};
use shelfd_readers::shelf_link::sim::{NodeBusControls, NodeBusHandle, NodeBusSimulator};

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use tokio_util::sync::CancellationToken;

/// A simulated reader could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RigError {
    /// A configured reader has no serial port (a `replay` reader, say).
    #[error("reader {0:?} has no serial port to simulate")]
    NoPort(String),
    /// The PTY or the simulator could not be made.
    #[error("reader {reader:?}: simulated {protocol} reader: {source}")]
    Simulator {
        /// Reader id.
        reader: String,
        /// Its protocol.
        protocol: Protocol,
        /// What failed.
        source: io::Error,
    },
    /// The port symlink could not be made.
    #[error("reader {reader:?}: port link {link}: {source}")]
    Link {
        /// Reader id.
        reader: String,
        /// The configured port path.
        link: PathBuf,
        /// What failed.
        source: io::Error,
    },
}

/// Items on each lane of a simulated shelf node when the demo starts.
pub const LANE_STOCK: u32 = 8;

/// A simulated RFID reader, or a simulated bus of shelf nodes.
#[derive(Debug)]
enum RigHandle {
    Reader(SimulatedReaderHandle),
    Bus(NodeBusHandle),
    /// A simulated LLRP reader on 127.0.0.1 (no port link).
    Llrp(LlrpSimHandle),
}

/// One plugged-in simulated reader.
#[derive(Debug)]
pub struct RigReader {
    /// Reader id.
    pub id: String,
    /// Its protocol.
    pub protocol: Protocol,
    /// The configured port (a symlink to the PTY).
    pub port: PathBuf,
    handle: RigHandle,
}

impl RigReader {
    /// The PTY slave the port links to.
    pub fn pty(&self) -> PathBuf {
        match &self.handle {
            RigHandle::Reader(h) => h.path().to_path_buf(),
            RigHandle::Bus(h) => h.path().to_path_buf(),
            RigHandle::Llrp(h) => PathBuf::from(h.address().to_string()),
        }
    }
}

/// Every simulated reader of the demo. Dropping it unplugs them all.
#[derive(Debug)]
pub struct ReaderRig {
    readers: Vec<RigReader>,
}

impl ReaderRig {
    /// Starts a simulated reader for every reader of `config` (which must all have a port whose
    /// parent directory exists) and links each port to its PTY. Runs inside a tokio runtime;
    /// the readers stop on `cancel` or when the rig is dropped.
    /// An `llrp` reader gets a simulated LLRP reader on a free loopback port, and its
    /// `address` in `config` is pointed at it.
    pub fn plug_in(config: &mut Config, cancel: &CancellationToken) -> Result<ReaderRig, RigError> {
        let mut readers = Vec::new();
        for reader in &mut config.readers {
            if let ReaderSource::Llrp(llrp) = &mut reader.source {
                let simulator_error = |source| RigError::Simulator {
                    reader: reader.id.clone(),
                    protocol: Protocol::Llrp,
                    source,
                };
                let listener =
                    std::net::TcpListener::bind("127.0.0.1:0").map_err(simulator_error)?;
                let handle = spawn_llrp_simulator_on(
                    listener,
                    SimReaderConfig::new(Vendor::Impinj),
                    cancel.clone(),
                )
                .map_err(simulator_error)?;
                llrp.address = handle.address().to_string();
                readers.push(RigReader {
                    id: reader.id.clone(),
                    protocol: Protocol::Llrp,
                    port: PathBuf::new(),
                    handle: RigHandle::Llrp(handle),
                });
            }
        }
        for reader in config
            .readers
            .iter()
            .filter(|r| r.protocol() != Protocol::Llrp)
        {
            let port = reader
                .port()
                .map(Path::to_path_buf)
                .ok_or_else(|| RigError::NoPort(reader.id.clone()))?;
            let simulator_error = |source| RigError::Simulator {
                reader: reader.id.clone(),
                protocol: reader.protocol(),
                source,
            };
            let handle = if reader.protocol() == Protocol::ShelfLink {
                let mut bus = NodeBusSimulator::new(reader.nodes(), 7).map_err(simulator_error)?;
                for lane in config
                    .lanes
                    .iter()
                    .filter(|l| l.reader.as_deref() == Some(reader.id.as_str()))
                {
                    bus.set_grams(
                        lane.node,
                        lane.lane,
                        lane.unit_weight * f64::from(LANE_STOCK),
                    );
                }
                RigHandle::Bus(bus.spawn(cancel.clone()))
            } else {
                let handle = spawn_simulated_reader(
                    reader.protocol(),
                    reader.wire_options(),
                    cancel.clone(),
                )
                .map_err(simulator_error)?;
                RigHandle::Reader(handle)
            };
            let link_error = |source| RigError::Link {
                reader: reader.id.clone(),
                link: port.clone(),
                source,
            };
            match std::fs::remove_file(&port) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(link_error(e)),
            }
            let plugged = RigReader {
                id: reader.id.clone(),
                protocol: reader.protocol(),
                port: port.clone(),
                handle,
            };
            std::os::unix::fs::symlink(plugged.pty(), &port).map_err(link_error)?;
            readers.push(plugged);
        }
        Ok(ReaderRig { readers })
    }

    /// The round senders by reader id (for the script's player).
    pub fn senders(&self) -> HashMap<String, RoundSender> {
        self.readers
            .iter()
            .filter_map(|r| match &r.handle {
                RigHandle::Reader(h) => Some((r.id.clone(), h.rounds())),
                RigHandle::Llrp(h) => Some((r.id.clone(), h.rounds())),
                RigHandle::Bus(_) => None,
            })
            .collect()
    }

    /// The shelf-node buses' remotes by reader id (for the script's player).
    pub fn buses(&self) -> HashMap<String, NodeBusControls> {
        self.readers
            .iter()
            .filter_map(|r| match &r.handle {
                RigHandle::Bus(h) => Some((r.id.clone(), h.controls())),
                RigHandle::Reader(_) | RigHandle::Llrp(_) => None,
            })
            .collect()
    }

    /// The readers, in config order.
    pub fn readers(&self) -> &[RigReader] {
        &self.readers
    }

    /// Unplugs every reader and removes its port link.
    pub async fn unplug(self) {
        for reader in self.readers {
            match reader.handle {
                RigHandle::Reader(h) => {
                    let _ = std::fs::remove_file(&reader.port);
                    h.unplug().await;
                }
                RigHandle::Bus(h) => {
                    let _ = std::fs::remove_file(&reader.port);
                    h.unplug().await;
                }
                RigHandle::Llrp(h) => h.stop().await,
            }
        }
    }
}
