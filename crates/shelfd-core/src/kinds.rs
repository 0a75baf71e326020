//! Closed vocabularies spelled by fixed strings: the [`string_enum!`](crate::string_enum) macro
//! (also used by the config's own vocabularies in the daemon and reader crates), and the two the
//! engine needs, [`LocationKind`] and [`UndecodedPolicy`]. Each parses from exactly one spelling
//! and rejects anything else with a message that lists the accepted spellings.

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
#[macro_export]
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

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::kinds::UnknownName;

            fn from_str(s: &str) -> Result<Self, $crate::kinds::UnknownName> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::kinds::UnknownName { what: $what, value: s.to_owned(), expected: $name::NAMES }),
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

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
        for k in LocationKind::ALL {
            assert_eq!(k.to_string().parse::<LocationKind>(), Ok(*k));
        }
        for u in UndecodedPolicy::ALL {
            assert_eq!(u.as_str().parse::<UndecodedPolicy>(), Ok(*u));
        }
    }

    #[test]
    fn unknown_names_list_the_accepted_ones() {
        let err = "aisle".parse::<LocationKind>().map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("unknown location kind \"aisle\" (expected one of shelf, backroom, dock, pos, exit)"
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
    }
}
