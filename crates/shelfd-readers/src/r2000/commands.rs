//! 0xA0 host side: the command frames a host sends and when. A real-time inventory (0x89) is
//! one bounded command, so "continuous" reading is re-issuing it at every completion frame.
//! With several ports the host cycles through them: at a round's end it sets the next work
//! antenna (0x74) and, once the reader acknowledges that, starts the next round on it, so a
//! multi-port reader reads every configured port in turn. An inventory error (antenna
//! missing, …) moves on to the next port; when every port has failed in a row, the host stops
//! re-arming and leaves it to the watchdog's nudge, so a reader with nothing connected is never
//! driven in a loop. V2.2 has no stop command: the host stops by not re-issuing.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::codec::{cmd, encode_frame};
use super::names;
use crate::frame::{Decoded, HostCommands};
use crate::wire::WireOptions;

/// Rounds per real-time inventory command: one, so ports alternate quickly and every
/// completion frame is a liveness beat.
pub const INVENTORY_REPEAT: u8 = 1;

/// Ports a work antenna can name (ids 0..=3; the Freq_Ant byte has two antenna bits).
pub const PORTS: std::ops::RangeInclusive<u16> = 1..=4;

/// `0x89`: real-time inventory of `repeat` rounds.
pub fn real_time_inventory_command(address: u8, repeat: u8) -> Vec<u8> {
    encode_frame(address, cmd::REAL_TIME_INVENTORY, &[repeat])
}

/// `0x74`: set the work antenna to port `port` (1-based; sent as id `port − 1`).
pub fn set_work_antenna_command(address: u8, port: u16) -> Vec<u8> {
    let id = u8::try_from(port.saturating_sub(1)).unwrap_or(u8::MAX);
    encode_frame(address, cmd::SET_WORK_ANTENNA, &[id])
}

/// `0x76`: set output power, one byte of dBm (V2.2: 20..=33).
pub fn set_output_power_command(address: u8, dbm: u8) -> Vec<u8> {
    encode_frame(address, cmd::SET_OUTPUT_POWER, &[dbm])
}

/// `0x72`: get firmware version.
pub fn get_firmware_version_command(address: u8) -> Vec<u8> {
    encode_frame(address, cmd::GET_FIRMWARE_VERSION, &[])
}

/// `0x70`: reset the reader.
pub fn reset_command(address: u8) -> Vec<u8> {
    encode_frame(address, cmd::RESET, &[])
}

/// The host side of one 0xA0 reader.
#[derive(Debug)]
pub struct Commands {
    address: u8,
    ports: Vec<u16>,
    power: Option<u8>,
    /// Index into `ports` of the work antenna set (or being set).
    cursor: AtomicUsize,
    /// A 0x74 sent at a round's end is outstanding: its ack starts the round.
    awaiting_antenna: AtomicBool,
    /// Inventory failures in a row (reset by a completed round).
    failures: AtomicUsize,
    /// Shutdown was called: nothing re-arms (until the next start-up).
    stopped: AtomicBool,
}

impl Commands {
    /// The host side for a reader configured with `options`: its address, the ports of its
    /// antenna table that a work antenna can name (port 1 when none), and its output power
    /// (rounded to whole dBm).
    pub fn new(options: &WireOptions) -> Self {
        let mut ports: Vec<u16> = options
            .antennas
            .iter()
            .copied()
            .filter(|p| PORTS.contains(p))
            .collect();
        ports.sort_unstable();
        ports.dedup();
        if ports.is_empty() {
            ports.push(1);
        }
        Commands {
            address: options.r2000_address,
            ports,
            power: options
                .power_dbm
                .map(|dbm| dbm.round().clamp(0.0, f64::from(u8::MAX)) as u8),
            cursor: AtomicUsize::new(0),
            awaiting_antenna: AtomicBool::new(false),
            failures: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
        }
    }

    /// The ports this host cycles through, ascending.
    pub fn ports(&self) -> &[u16] {
        &self.ports
    }

    /// The real-time inventory command this host sends.
    pub fn inventory(&self) -> Vec<u8> {
        real_time_inventory_command(self.address, INVENTORY_REPEAT)
    }

    fn current_port(&self) -> u16 {
        let i = self.cursor.load(Ordering::SeqCst);
        self.ports.get(i).copied().unwrap_or(1)
    }

    /// What starts the next round: the inventory again on a single port, else the next port.
    fn next_round(&self) -> Vec<u8> {
        if self.ports.len() == 1 {
            return self.inventory();
        }
        let next = (self.cursor.load(Ordering::SeqCst) + 1) % self.ports.len();
        self.cursor.store(next, Ordering::SeqCst);
        self.awaiting_antenna.store(true, Ordering::SeqCst);
        set_work_antenna_command(self.address, self.current_port())
    }

    /// A round failed: the next port, unless every port has failed in a row.
    fn after_failure(&self) -> Option<Vec<u8>> {
        let failures = self.failures.fetch_add(1, Ordering::SeqCst) + 1;
        (failures < self.ports.len()).then(|| self.next_round())
    }
}

impl HostCommands for Commands {
    fn startup(&self) -> Vec<Vec<u8>> {
        self.stopped.store(false, Ordering::SeqCst);
        self.cursor.store(0, Ordering::SeqCst);
        self.failures.store(0, Ordering::SeqCst);
        self.awaiting_antenna.store(false, Ordering::SeqCst);
        let mut out = vec![set_work_antenna_command(self.address, self.current_port())];
        if let Some(dbm) = self.power {
            out.push(set_output_power_command(self.address, dbm));
        }
        out.push(self.inventory());
        out
    }

    fn respond(&self, frame: &Decoded) -> Option<Vec<u8>> {
        if self.stopped.load(Ordering::SeqCst) {
            return None;
        }
        let Decoded::Frame { name, .. } = frame else {
            return None;
        };
        match *name {
            names::ROUND_END | names::NO_TAG => {
                self.failures.store(0, Ordering::SeqCst);
                Some(self.next_round())
            }
            names::INVENTORY_ERROR => self.after_failure(),
            names::SET_WORK_ANTENNA_ACK => self
                .awaiting_antenna
                .swap(false, Ordering::SeqCst)
                .then(|| self.inventory()),
            names::SET_WORK_ANTENNA_ERROR => {
                if self.awaiting_antenna.swap(false, Ordering::SeqCst) {
                    self.after_failure()
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    fn nudge(&self) -> Vec<Vec<u8>> {
        self.failures.store(0, Ordering::SeqCst);
        self.awaiting_antenna.store(false, Ordering::SeqCst);
        vec![
            set_work_antenna_command(self.address, self.current_port()),
            self.inventory(),
        ]
    }

    fn shutdown(&self) -> Vec<Vec<u8>> {
        self.stopped.store(true, Ordering::SeqCst);
        Vec::new()
    }
}
