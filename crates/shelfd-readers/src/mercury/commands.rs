//! What the host sends: the command builders (each one frame, bytes checked against the
//! TM-* vectors), the start-continuous-reading request ([`StartRequest`], built by the host and
//! parsed by the simulator) and [`Commands`], the driver's start-up / re-arm / nudge / shut-down
//! sequences.

use super::codes::*;
use super::host_frame;
use super::record::{
    OPTION_METADATA, SEARCH_DUTY_CYCLE, SEARCH_FLAGS_STREAMING, SEARCH_RETURN_ON_N_TAGS,
};
use crate::frame::{Decoded, HostCommands};
use crate::wire::WireOptions;

/// Get version (TM-9).
pub fn get_version() -> Vec<u8> {
    host_frame(OP_GET_VERSION, &[])
}

/// Boot firmware: leave the bootloader (TM-19).
pub fn boot_firmware() -> Vec<u8> {
    host_frame(OP_BOOT_FIRMWARE, &[])
}

/// Get current program, to tell the bootloader from the application (TM-18).
pub fn get_current_program() -> Vec<u8> {
    host_frame(OP_GET_CURRENT_PROGRAM, &[])
}

/// Set baud rate (u32).
pub fn set_baud_rate(baud: u32) -> Vec<u8> {
    host_frame(OP_SET_BAUD_RATE, &baud.to_be_bytes())
}

/// Set region (TM-11: 0x06 PRC; 0x0D NA2 for the Nano in North America).
pub fn set_region(region: u8) -> Vec<u8> {
    host_frame(OP_SET_REGION, &[region])
}

/// Set tag protocol (TM-12: 0x0005 Gen2).
pub fn set_tag_protocol(protocol: u16) -> Vec<u8> {
    host_frame(OP_SET_TAG_PROTOCOL, &protocol.to_be_bytes())
}

/// Set the logical antenna search list, each port transmitting and receiving on itself
/// (option 0x02, `tx rx` pairs; TM-13 for port 1).
pub fn set_antenna_search_list(ports: &[u8]) -> Vec<u8> {
    let mut data = vec![0x02];
    for &port in ports {
        data.extend_from_slice(&[port, port]);
    }
    host_frame(OP_SET_ANTENNA, &data)
}

/// Set read TX power in centi-dBm (TM-14: 1200 = 12.00 dBm).
pub fn set_read_power(centi_dbm: u16) -> Vec<u8> {
    host_frame(OP_SET_READ_POWER, &centi_dbm.to_be_bytes())
}

/// Set a reader optional parameter: `01 key value` (TM-10: key 0x0C read filter, value 0 =
/// report every read).
pub fn set_reader_param(key: u8, value: &[u8]) -> Vec<u8> {
    let mut data = vec![0x01, key];
    data.extend_from_slice(value);
    host_frame(OP_SET_READER_PARAM, &data)
}

/// Clear the tag-ID buffer (TM-15).
pub fn clear_tag_buffer() -> Vec<u8> {
    host_frame(OP_CLEAR_TAG_BUFFER, &[])
}

/// Stop continuous reading (TM-5): timeout 0, option 0x02.
pub fn stop_reading() -> Vec<u8> {
    host_frame(OP_MULTI_PROTOCOL, &[0x00, 0x00, 0x02])
}

/// Write tag data (TM-20): timeout, option 0, word address, memory bank, data.
pub fn write_tag_data(timeout_ms: u16, word_address: u32, bank: u8, data: &[u8]) -> Vec<u8> {
    let mut body = timeout_ms.to_be_bytes().to_vec();
    body.push(0x00);
    body.extend_from_slice(&word_address.to_be_bytes());
    body.push(bank);
    body.extend_from_slice(data);
    host_frame(OP_WRITE_TAG_DATA, &body)
}

/// The start-continuous-reading command (opcode 0x2F, option 0x01) with its embedded Gen2
/// read-multiple command (READERS.md §1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartRequest {
    /// Search flags of the embedded command (bit 0x0040 is set exactly when `stop_after` is).
    pub search_flags: u16,
    /// Per-search-cycle timeout, ms.
    pub cycle_timeout_ms: u16,
    /// Metadata the records carry ([`super::record`] `META_*` bits).
    pub metadata_flags: u16,
    /// Stop-after-N-tags count, when the run is bounded.
    pub stop_after: Option<u32>,
}

/// The start request the driver sends: TM-3's (antenna list, tag streaming, large population;
/// 1000 ms cycles; metadata 0x01FF = read count, RSSI, antenna, frequency, timestamp, phase,
/// protocol, embedded data, GPIO).
pub const STREAM_START: StartRequest = StartRequest {
    search_flags: SEARCH_FLAGS_STREAMING,
    cycle_timeout_ms: 1000,
    metadata_flags: 0x01FF,
    stop_after: None,
};

impl StartRequest {
    /// The command frame: `00 00 | 01 | 22 | 00 00 | 05 | sub-length | 22 10 search timeout
    /// metadata [count]`. Bit 0x0040 of the search flags follows `stop_after`; the duty-cycle
    /// bit 0x0400 is cleared (the request carries no off-time).
    pub fn encode(&self) -> Vec<u8> {
        let search = match self.stop_after {
            Some(_) => self.search_flags | SEARCH_RETURN_ON_N_TAGS,
            None => self.search_flags & !SEARCH_RETURN_ON_N_TAGS,
        } & !SEARCH_DUTY_CYCLE;
        let mut sub = vec![OP_READ_TAG_MULTIPLE, OPTION_METADATA];
        sub.extend_from_slice(&search.to_be_bytes());
        sub.extend_from_slice(&self.cycle_timeout_ms.to_be_bytes());
        sub.extend_from_slice(&self.metadata_flags.to_be_bytes());
        if let Some(n) = self.stop_after {
            sub.extend_from_slice(&n.to_be_bytes());
        }
        let mut data = vec![
            0x00,
            0x00,
            0x01,
            OP_READ_TAG_MULTIPLE,
            0x00,
            0x00,
            PROTOCOL_GEN2,
            (sub.len() - 1) as u8,
        ];
        data.extend_from_slice(&sub);
        host_frame(OP_MULTI_PROTOCOL, &data)
    }

    /// Parses the data of an opcode-0x2F start command; the error is the status word a
    /// module answers (wrong length, unsupported protocol or feature).
    pub fn parse(data: &[u8]) -> Result<StartRequest, u16> {
        let [_, _, option, sub_op, _, _, protocol, sub_len, rest @ ..] = data else {
            return Err(STATUS_WRONG_DATA_LENGTH);
        };
        if *option != 0x01 || *sub_op != OP_READ_TAG_MULTIPLE {
            return Err(STATUS_UNIMPLEMENTED_FEATURE);
        }
        if *protocol != PROTOCOL_GEN2 {
            return Err(STATUS_INVALID_PROTOCOL);
        }
        let [embedded_op, sub @ ..] = rest else {
            return Err(STATUS_WRONG_DATA_LENGTH);
        };
        if *embedded_op != OP_READ_TAG_MULTIPLE || sub.len() != usize::from(*sub_len) {
            return Err(STATUS_WRONG_DATA_LENGTH);
        }
        let [sub_option, s0, s1, t0, t1, tail @ ..] = sub else {
            return Err(STATUS_WRONG_DATA_LENGTH);
        };
        if sub_option & 0x0F != 0 {
            // A select / filter follows: not simulated.
            return Err(STATUS_UNIMPLEMENTED_FEATURE);
        }
        let search_flags = u16::from_be_bytes([*s0, *s1]);
        let (metadata_flags, tail) = if sub_option & OPTION_METADATA != 0 {
            let [m0, m1, tail @ ..] = tail else {
                return Err(STATUS_WRONG_DATA_LENGTH);
            };
            (u16::from_be_bytes([*m0, *m1]), tail)
        } else {
            (0, tail)
        };
        let (stop_after, tail) = if search_flags & SEARCH_RETURN_ON_N_TAGS != 0 {
            let [c0, c1, c2, c3, tail @ ..] = tail else {
                return Err(STATUS_WRONG_DATA_LENGTH);
            };
            (Some(u32::from_be_bytes([*c0, *c1, *c2, *c3])), tail)
        } else {
            (None, tail)
        };
        let tail = if search_flags & SEARCH_DUTY_CYCLE != 0 {
            let [_, _, tail @ ..] = tail else {
                return Err(STATUS_WRONG_DATA_LENGTH);
            };
            tail
        } else {
            tail
        };
        if !tail.is_empty() {
            return Err(STATUS_WRONG_DATA_LENGTH);
        }
        Ok(StartRequest {
            search_flags,
            cycle_timeout_ms: u16::from_be_bytes([*t0, *t1]),
            metadata_flags,
            stop_after,
        })
    }
}

/// Read TX power in centi-dBm for a configured dBm value, saturated to 0..=65535.
fn centi_dbm(dbm: f64) -> u16 {
    (dbm * 100.0).round().clamp(0.0, f64::from(u16::MAX)) as u16
}

/// The host side of a Mercury reader.
///
/// - start-up: stop continuous reading (a stale run from a previous session), get current
///   program, set protocol Gen2, set the antenna search list (`options.antennas`, port 1 when
///   empty), set read power (only when `options.power_dbm` is set), disable the read filter,
///   start continuous reading ([`STREAM_START`], byte for byte TM-3);
/// - `respond`: re-send the start when a run ends on its own (`"stream_end"`), boot firmware
///   when the module reports it is in its bootloader (`"bootloader"`); nothing otherwise (not
///   on `"stop_ack"`, which answers the host's own stop);
/// - nudge: the start again; shut-down: stop continuous reading.
///
/// The region is not set (the options carry none): the module keeps its own setting.
#[derive(Debug, Clone)]
pub struct Commands {
    startup: Vec<Vec<u8>>,
    start: Vec<u8>,
}

impl Commands {
    /// The commands for a reader with `options`.
    pub fn new(options: &WireOptions) -> Self {
        let mut ports: Vec<u8> = options
            .antennas
            .iter()
            .filter_map(|&a| u8::try_from(a).ok())
            .collect();
        if ports.is_empty() {
            ports.push(1);
        }
        let start = STREAM_START.encode();
        let mut startup = vec![
            stop_reading(),
            get_current_program(),
            set_tag_protocol(u16::from(PROTOCOL_GEN2)),
            set_antenna_search_list(&ports),
        ];
        if let Some(dbm) = options.power_dbm {
            startup.push(set_read_power(centi_dbm(dbm)));
        }
        startup.push(set_reader_param(0x0C, &[0x00]));
        startup.push(start.clone());
        Commands { startup, start }
    }
}

impl HostCommands for Commands {
    fn startup(&self) -> Vec<Vec<u8>> {
        self.startup.clone()
    }

    fn respond(&self, frame: &Decoded) -> Option<Vec<u8>> {
        match frame {
            Decoded::Frame {
                name: "stream_end", ..
            } => Some(self.start.clone()),
            Decoded::Frame {
                name: "bootloader", ..
            } => Some(boot_firmware()),
            _ => None,
        }
    }

    fn nudge(&self) -> Vec<Vec<u8>> {
        vec![self.start.clone()]
    }

    fn shutdown(&self) -> Vec<Vec<u8>> {
        vec![stop_reading()]
    }
}
