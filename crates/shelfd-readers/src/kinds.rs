//! The reader vocabulary the config names and the drivers act on: the wire [`Protocol`] of a
//! reader, the [`MagicRfFraming`] of a `magicrf` reader, and the serial line speeds
//! ([`DEFAULT_BAUD`], [`STANDARD_BAUD_RATES`]). Each name parses from exactly one spelling and
//! rejects anything else with a message that lists the accepted spellings. Owns names only:
//! it never opens a port and never decides which keys a config section has.

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
        /// EPCglobal LLRP over TCP (fixed readers: Impinj, Zebra, …).
        Llrp = "llrp",
    }
}

impl Protocol {
    /// True for the protocols whose bytes go through a serial port (all but `replay`, which
    /// reads a file, and `llrp`, which speaks TCP).
    pub const fn has_port(self) -> bool {
        !matches!(self, Protocol::Replay | Protocol::Llrp)
    }

    /// The baud rate used when `baud` is not set; `None` for `replay` and `llrp`.
    pub const fn default_baud(self) -> Option<u32> {
        if self.has_port() {
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
    /// An Impinj reader's inventory search mode (ImpinjInventorySearchMode); other vendors
    /// have no such setting.
    #[derive(Default)]
    pub enum SearchMode ("search_mode") {
        /// Leave it to the reader (mode 0).
        #[default]
        ReaderDefault = "reader-default",
        /// Single target (mode 1): tags flip A→B and stay quiet while their session persists.
        Single = "single",
        /// Dual target (mode 2): A→B then B→A, tags re-read continuously.
        Dual = "dual",
        /// Single target with suppression, Impinj "TagFocus" (mode 3).
        TagFocus = "tag-focus",
    }
}

impl SearchMode {
    /// The ImpinjInventorySearchMode value.
    pub const fn impinj_value(self) -> u16 {
        match self {
            SearchMode::ReaderDefault => 0,
            SearchMode::Single => 1,
            SearchMode::Dual => 2,
            SearchMode::TagFocus => 3,
        }
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
        for f in MagicRfFraming::ALL {
            assert_eq!(f.as_str().parse::<MagicRfFraming>(), Ok(*f));
        }
    }

    #[test]
    fn unknown_names_list_the_accepted_ones() {
        let err = "mercuri".parse::<Protocol>().map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("unknown protocol \"mercuri\" (expected one of mercury, magicrf, r2000, line, replay, shelf-link, llrp)"
                .to_owned())
        );
    }

    #[test]
    fn default_baud() {
        assert_eq!(Protocol::Replay.default_baud(), None);
        assert_eq!(Protocol::Llrp.default_baud(), None);
        assert_eq!(Protocol::Mercury.default_baud(), Some(115_200));
    }
}
