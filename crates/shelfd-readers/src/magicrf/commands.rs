//! 0xBB host side: the command frames a host sends and when. Start-up stops a multi-poll a
//! previous host left running, sets TX power when configured and starts a multi-poll of
//! [`MULTI_POLL_COUNT`] rounds; the multi-poll is re-armed when an unexpected stop or an
//! inventory error arrives, and by the watchdog's nudge once the count has run out (the module
//! just goes quiet then). It never re-arms in a loop: errors re-arm at most
//! [`MAX_ERROR_REARMS`] times in a row, and never after "invalid command".

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use super::codec::{Framing, MULTI_POLL_RESERVED, cmd, encode_command, errors};
use super::names;
use crate::frame::{Decoded, FrameRole, HostCommands};
use crate::wire::WireOptions;

/// Rounds asked for by every multi-poll: the largest count, the usual "until stopped".
pub const MULTI_POLL_COUNT: u16 = 0xFFFF;

/// Consecutive errors that each re-arm the multi-poll before the host leaves it to the nudge.
pub const MAX_ERROR_REARMS: u32 = 3;

/// `0x27`: multiple inventory of `count` rounds.
pub fn multi_poll_command(framing: Framing, count: u16) -> Vec<u8> {
    let [hi, lo] = count.to_be_bytes();
    encode_command(framing, cmd::MULTI_POLL, &[MULTI_POLL_RESERVED, hi, lo])
}

/// `0x22`: one inventory round.
pub fn single_poll_command(framing: Framing) -> Vec<u8> {
    encode_command(framing, cmd::SINGLE_POLL, &[])
}

/// `0x28`: stop multiple inventory.
pub fn stop_command(framing: Framing) -> Vec<u8> {
    encode_command(framing, cmd::STOP_MULTI_POLL, &[])
}

/// `0x03`: module information (0 hardware, 1 software, 2 manufacturer).
pub fn info_command(framing: Framing, info: u8) -> Vec<u8> {
    encode_command(framing, cmd::INFO, &[info])
}

/// `0xB6`: set TX power in centi-dBm.
pub fn set_tx_power_command(framing: Framing, centi_dbm: u16) -> Vec<u8> {
    encode_command(framing, cmd::SET_TX_POWER, &centi_dbm.to_be_bytes())
}

/// `0x07`: set work region (0x01 China 900, 0x04 China 800, 0x02 US, 0x03 Europe, 0x06 Korea).
pub fn set_region_command(framing: Framing, region: u8) -> Vec<u8> {
    encode_command(framing, cmd::SET_REGION, &[region])
}

/// `0x11`: set baud rate (the module does not answer; reopen the port at the new rate).
pub fn set_baud_command(framing: Framing, baud: u32) -> Vec<u8> {
    let value = u16::try_from(baud / 100).unwrap_or(u16::MAX);
    encode_command(framing, cmd::SET_BAUD, &value.to_be_bytes())
}

/// `0x0C`: set Select. `sel_param` packs target (bits 7..5), action (4..2) and bank (1..0);
/// `pointer_bits` and `mask_bits` locate the mask in that bank.
pub fn set_select_command(
    framing: Framing,
    sel_param: u8,
    pointer_bits: u32,
    mask_bits: u8,
    truncate: bool,
    mask: &[u8],
) -> Vec<u8> {
    let mut param = vec![sel_param];
    param.extend_from_slice(&pointer_bits.to_be_bytes());
    param.push(mask_bits);
    param.push(if truncate { 0x80 } else { 0x00 });
    param.extend_from_slice(mask);
    encode_command(framing, cmd::SET_SELECT, &param)
}

/// TX power in centi-dBm for a configured dBm value (clamped to 0..=655.35 dBm).
pub fn centi_dbm(dbm: f64) -> u16 {
    (dbm * 100.0).round().clamp(0.0, f64::from(u16::MAX)) as u16
}

/// The host side of one 0xBB reader.
#[derive(Debug)]
pub struct Commands {
    framing: Framing,
    tx_power: Option<u16>,
    /// Our own stop (start-up or shutdown) is waiting for its ack: that ack re-arms nothing.
    own_stop_pending: AtomicBool,
    /// Shutdown was sent: nothing re-arms any more (until the next start-up).
    stopped: AtomicBool,
    /// Re-arms caused by errors since the last frame that was not an error.
    error_rearms: AtomicU32,
}

impl Commands {
    /// The host side for a reader configured with `options` (framing, TX power).
    pub fn new(options: &WireOptions) -> Self {
        Commands {
            framing: Framing::from_options(options),
            tx_power: options.power_dbm.map(centi_dbm),
            own_stop_pending: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            error_rearms: AtomicU32::new(0),
        }
    }

    /// The multi-poll start this host sends.
    pub fn start(&self) -> Vec<u8> {
        multi_poll_command(self.framing, MULTI_POLL_COUNT)
    }
}

impl HostCommands for Commands {
    fn startup(&self) -> Vec<Vec<u8>> {
        self.stopped.store(false, Ordering::SeqCst);
        self.own_stop_pending.store(true, Ordering::SeqCst);
        self.error_rearms.store(0, Ordering::SeqCst);
        let mut out = vec![stop_command(self.framing)];
        if let Some(power) = self.tx_power {
            out.push(set_tx_power_command(self.framing, power));
        }
        out.push(self.start());
        out
    }

    fn respond(&self, frame: &Decoded) -> Option<Vec<u8>> {
        if self.stopped.load(Ordering::SeqCst) {
            return None;
        }
        let Decoded::Frame {
            name, role, code, ..
        } = frame
        else {
            if matches!(frame, Decoded::Tag { .. }) {
                self.error_rearms.store(0, Ordering::SeqCst);
            }
            return None;
        };
        if *role != FrameRole::Error {
            self.error_rearms.store(0, Ordering::SeqCst);
        }
        match (*name, role) {
            (names::STOP_ACK, _) => {
                if self.own_stop_pending.swap(false, Ordering::SeqCst) {
                    None
                } else {
                    // Someone else stopped the multi-poll: start it again.
                    Some(self.start())
                }
            }
            (_, FrameRole::Error) => {
                if *code == Some(u16::from(errors::INVALID_COMMAND)) {
                    return None;
                }
                let done = self.error_rearms.fetch_add(1, Ordering::SeqCst);
                (done < MAX_ERROR_REARMS).then(|| self.start())
            }
            _ => None,
        }
    }

    fn nudge(&self) -> Vec<Vec<u8>> {
        self.error_rearms.store(0, Ordering::SeqCst);
        vec![self.start()]
    }

    fn shutdown(&self) -> Vec<Vec<u8>> {
        self.stopped.store(true, Ordering::SeqCst);
        self.own_stop_pending.store(true, Ordering::SeqCst);
        vec![stop_command(self.framing)]
    }
}
