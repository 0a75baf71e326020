//! The closed vocabularies of the config: reader [`Protocol`], [`MagicRfFraming`] and
//! [`GpioDirection`] here; [`LocationKind`] and [`UndecodedPolicy`] are the engine's, from
//! `shelfd_core::kinds`. Each parses from exactly one spelling and rejects
//! anything else with a message that lists the accepted spellings.

pub use shelfd_core::kinds::{LocationKind, UndecodedPolicy, UnknownName};
use shelfd_core::string_enum;

string_enum! {
    /// The wire protocol a `[[reader]]` speaks.
    pub enum Protocol ("protocol") {
        /// ThingMagic Mercury API serial protocol (M6E, M7E modules).
        Mercury = "mercury",
        /// The `0xBB … 0x7E` framed protocol of the M100/R200 reader family.
        MagicRf = "magicrf",
        /// The `0xA0`-headed protocol of Impinj R2000/E710 based readers.
        R2000 = "r2000",
        /// ASCII lines `EPC[,antenna[,rssi]]`, one read per line.
        Line = "line",
        /// A read-log file (JSON Lines) replayed at a configurable pace; no serial port.
        Replay = "replay",
        /// The shelf-link protocol of the `shelf-node` firmware (smart-shelf nodes).
        ShelfLink = "shelf-link",
    }
}

impl Protocol {
    /// True for the protocols spoken over a serial port (all but `replay`).
    pub const fn is_serial(self) -> bool {
        !matches!(self, Protocol::Replay)
    }

    /// The baud rate used when `baud` is not set; `None` for `replay`.
    pub const fn default_baud(self) -> Option<u32> {
        if self.is_serial() {
            Some(DEFAULT_BAUD)
        } else {
            None
        }
    }
}

/// Baud rate of every serial protocol when `baud` is not set.
pub const DEFAULT_BAUD: u32 = 115_200;

/// The baud rates a `[[reader]]` may use.
pub const STANDARD_BAUD_RATES: &[u32] = &[
    9_600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800, 500_000, 576_000, 921_600,
];

string_enum! {
    /// Header and end bytes of a `magicrf` reader's frames.
    #[derive(Default)]
    pub enum MagicRfFraming ("framing") {
        /// `0xBB … 0x7E`: M100, JRD-4035, YRM100, M5Stack and most R200 boards.
        #[default]
        Bb7e = "bb-7e",
        /// `0xAA … 0xDD`: some R200 boards (otherwise the same format).
        AaDd = "aa-dd",
    }
}

string_enum! {
    /// Whether a `[[gpio]]` line is read or driven.
    pub enum GpioDirection ("gpio direction") {
        /// A sensor, e.g. a door contact.
        Input = "input",
        /// An actuator, e.g. a light stack.
        Output = "output",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for p in Protocol::ALL {
            assert_eq!(p.as_str().parse::<Protocol>(), Ok(*p));
        }
    }

    #[test]
    fn unknown_names_list_the_accepted_ones() {
        let err = "mercuri".parse::<Protocol>().map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("unknown protocol \"mercuri\" (expected one of mercury, magicrf, r2000, line, replay, shelf-link)"
                .to_owned())
        );
    }

    #[test]
    fn default_baud() {
        assert_eq!(Protocol::Replay.default_baud(), None);
        assert_eq!(Protocol::Mercury.default_baud(), Some(115_200));
    }
}
