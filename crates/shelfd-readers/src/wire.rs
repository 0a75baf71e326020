//! Picks a protocol's parts (decoder, host commands, simulator) for a configured reader, and
//! the options those parts share ([`WireOptions`]). The only place that matches on
//! [`Protocol`] for wire work.

use super::frame::{FrameDecoder, HostCommands, ReaderSimulator};
use super::{line, magicrf, mercury, r2000};
use crate::kinds::{MagicRfFraming, Protocol};

/// Settings a protocol's parts need from the reader's config.
#[derive(Debug, Clone, PartialEq)]
pub struct WireOptions {
    /// The antenna ports in use (1-based, ascending), from the reader's `antennas` table.
    pub antennas: Vec<u16>,
    /// Transmit power to set at start-up, when configured.
    pub power_dbm: Option<f64>,
    /// 0xBB family: the header byte (0xBB, or 0xAA on some R200 boards).
    pub magicrf_header: u8,
    /// 0xBB family: the end byte (0x7E, or 0xDD on some R200 boards).
    pub magicrf_end: u8,
    /// 0xA0 family: the reader address the host sends to (0xFF = broadcast).
    pub r2000_address: u8,
    /// 0xA0 family, simulator only: end rounds with the longer (Len 0x0A, with read rate)
    /// completion frame instead of the Len 0x08 one.
    pub r2000_long_round_end: bool,
}

impl Default for WireOptions {
    fn default() -> Self {
        WireOptions {
            antennas: vec![1],
            power_dbm: None,
            magicrf_header: 0xBB,
            magicrf_end: 0x7E,
            r2000_address: 0xFF,
            r2000_long_round_end: false,
        }
    }
}

impl WireOptions {
    /// The header and end bytes of a `magicrf` framing.
    pub fn with_framing(mut self, framing: MagicRfFraming) -> Self {
        (self.magicrf_header, self.magicrf_end) = match framing {
            MagicRfFraming::Bb7e => (0xBB, 0x7E),
            MagicRfFraming::AaDd => (0xAA, 0xDD),
        };
        self
    }
}

/// A protocol has no byte-level parts (`replay`, or one whose driver is not built yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("protocol {0:?} has no serial wire format here")]
pub struct NoWire(pub String);

/// A new decoder for `protocol`.
pub fn decoder(protocol: Protocol, options: &WireOptions) -> Result<Box<dyn FrameDecoder>, NoWire> {
    match protocol {
        Protocol::Line => Ok(Box::new(line::Decoder::new())),
        Protocol::Mercury => Ok(Box::new(mercury::Decoder::new())),
        Protocol::MagicRf => Ok(Box::new(magicrf::Decoder::new(options))),
        Protocol::R2000 => Ok(Box::new(r2000::Decoder::new(options))),
        // A bus capture; the shelf-link driver itself polls and does not use it.
        Protocol::ShelfLink => Ok(Box::new(super::shelf_link::decoder::Decoder::new())),
        // A capture of both directions; the LLRP client has its own session.
        Protocol::Llrp => Ok(Box::new(super::llrp::decoder::Decoder::new())),
        other => Err(NoWire(other.to_string())),
    }
}

/// The host commands of `protocol`.
pub fn commands(
    protocol: Protocol,
    options: &WireOptions,
) -> Result<Box<dyn HostCommands>, NoWire> {
    match protocol {
        Protocol::Line => Ok(Box::new(line::Commands)),
        Protocol::Mercury => Ok(Box::new(mercury::Commands::new(options))),
        Protocol::MagicRf => Ok(Box::new(magicrf::Commands::new(options))),
        Protocol::R2000 => Ok(Box::new(r2000::Commands::new(options))),
        other => Err(NoWire(other.to_string())),
    }
}

/// A reader-side simulator of `protocol`.
pub fn simulator(
    protocol: Protocol,
    options: &WireOptions,
) -> Result<Box<dyn ReaderSimulator>, NoWire> {
    match protocol {
        Protocol::Line => Ok(Box::new(line::Simulator)),
        Protocol::Mercury => Ok(Box::new(mercury::Simulator::new(options))),
        Protocol::MagicRf => Ok(Box::new(magicrf::Simulator::new(options))),
        Protocol::R2000 => Ok(Box::new(r2000::Simulator::new(options))),
        other => Err(NoWire(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_sets_header_and_end() {
        let o = WireOptions::default().with_framing(MagicRfFraming::AaDd);
        assert_eq!((o.magicrf_header, o.magicrf_end), (0xAA, 0xDD));
        let o = o.with_framing(MagicRfFraming::default());
        assert_eq!((o.magicrf_header, o.magicrf_end), (0xBB, 0x7E));
    }

    #[test]
    fn replay_has_no_wire() {
        let err = commands(Protocol::Replay, &WireOptions::default()).err();
        assert_eq!(err, Some(NoWire("replay".into())));
    }
}
