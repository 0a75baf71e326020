//! The closed vocabularies of the config: reader [`Protocol`], [`LocationKind`],
//! [`GpioDirection`] and [`UndecodedPolicy`]. Each parses from exactly one spelling and rejects
//! anything else with a message that lists the accepted spellings.

use std::fmt;

/// A string that is not one of an enum's spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?} (expected one of {})", expected.join(", "))]
pub struct UnknownName {
    /// What was being named: `protocol`, `location kind`, …
    pub what: &'static str,
    /// The offending spelling.
    pub value: String,
    /// The accepted spellings.
    pub expected: &'static [&'static str],
}

/// Defines a fieldless enum spelled by fixed strings, with `ALL`, `as_str`, `Display`, `FromStr`
/// and serde impls whose error lists the accepted spellings.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in documentation order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every spelling, in documentation order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The spelling used in the config file.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<Self, UnknownName> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownName { what: $what, value: s.to_owned(), expected: $name::NAMES }),
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

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
    /// What kind of place a `[[location]]` is; decides how reads there are interpreted.
    pub enum LocationKind ("location kind") {
        /// A sales-floor shelf: holds stock, may have a planogram.
        Shelf = "shelf",
        /// A stock room: holds stock, may have a planogram.
        Backroom = "backroom",
        /// A receiving door's read zone: holds stock (received goods), feeds dock receipts.
        Dock = "dock",
        /// A point of sale: a confirmed read there sells the item.
        Pos = "pos",
        /// An exit portal: an unsold item read there raises `alert.exit`.
        Exit = "exit",
    }
}

impl LocationKind {
    /// True where tags count as stock: shelf, backroom and dock.
    pub const fn is_stock(self) -> bool {
        matches!(
            self,
            LocationKind::Shelf | LocationKind::Backroom | LocationKind::Dock
        )
    }

    /// True where a planogram (and so a safety stock) may be configured: shelf and backroom.
    pub const fn allows_planogram(self) -> bool {
        matches!(self, LocationKind::Shelf | LocationKind::Backroom)
    }
}

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

string_enum! {
    /// What the engine does with tags that decode to no product and match no `[[product]]`.
    /// Default: `track`.
    #[derive(Default)]
    pub enum UndecodedPolicy ("undecoded policy") {
        /// Drop their reads.
        Ignore = "ignore",
        /// Track them and publish tag events with `sku: null`, but count no stock for them.
        #[default]
        Track = "track",
        /// Track them and also count them as stock under `sku: null`.
        Count = "count",
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
        for k in LocationKind::ALL {
            assert_eq!(k.to_string().parse::<LocationKind>(), Ok(*k));
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
    fn stock_kinds() {
        assert!(
            LocationKind::Shelf.is_stock()
                && LocationKind::Backroom.is_stock()
                && LocationKind::Dock.is_stock()
        );
        assert!(!LocationKind::Pos.is_stock() && !LocationKind::Exit.is_stock());
        assert_eq!(Protocol::Replay.default_baud(), None);
        assert_eq!(Protocol::Mercury.default_baud(), Some(115_200));
    }
}
