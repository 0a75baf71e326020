//! Byte sizes as written in the config: a TOML integer (bytes) or a string with a binary unit,
//! `"512MiB"`, `"64KiB"`, `"1.5GiB"`, `"1000B"`, `"1000"`. Owns the grammar, the canonical
//! formatting and the serde adapter; ranges are checked by `validate`.

use serde::Deserializer;
use serde::de::{self, Visitor};
use shelfd_core::duration::{DecimalError, scale_decimal};
use std::fmt;

/// A size string that does not follow the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// Not a number optionally followed by B, KiB, MiB or GiB.
    #[error(
        "bad size {0:?}: expected a number of bytes, optionally followed by B, KiB, MiB or GiB"
    )]
    Syntax(String),
    /// A decimal (SI) unit or a lower-case spelling of one of the binary units.
    #[error("bad size {0:?}: use the binary units B, KiB, MiB or GiB (1 MiB = 1048576 bytes)")]
    Unit(String),
    /// More than `u64::MAX` bytes.
    #[error("bad size {0:?}: too large")]
    TooLarge(String),
}

/// Units, largest first (the order [`format_size`] tries them in).
const UNITS: [(&str, u128); 4] = [
    ("GiB", 1 << 30),
    ("MiB", 1 << 20),
    ("KiB", 1 << 10),
    ("B", 1),
];

/// Parses `"512MiB"`, `"64KiB"`, `"1.5GiB"`, `"100B"` or `"100"` into bytes (fractions of a
/// byte are truncated).
///
/// ```
/// use shelfd::config::parse_size;
/// assert_eq!(parse_size("512MiB"), Ok(512 * 1024 * 1024));
/// assert_eq!(parse_size("4096"), Ok(4096));
/// assert!(parse_size("512MB").is_err());
/// ```
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let multiplier = if unit.is_empty() {
        1
    } else if let Some((_, m)) = UNITS.iter().find(|(name, _)| *name == unit) {
        *m
    } else if [
        "k", "kb", "m", "mb", "g", "gb", "kib", "mib", "gib", "t", "tb",
    ]
    .contains(&unit.to_ascii_lowercase().as_str())
    {
        return Err(SizeError::Unit(text.to_owned()));
    } else {
        return Err(SizeError::Syntax(text.to_owned()));
    };
    let bytes = scale_decimal(number, multiplier).map_err(|e| match e {
        DecimalError::Syntax => SizeError::Syntax(text.to_owned()),
        DecimalError::Overflow => SizeError::TooLarge(text.to_owned()),
    })?;
    u64::try_from(bytes).map_err(|_| SizeError::TooLarge(text.to_owned()))
}

/// The shortest exact spelling of a size: `"512MiB"`, `"1000B"`.
///
/// ```
/// use shelfd::config::format_size;
/// assert_eq!(format_size(512 << 20), "512MiB");
/// assert_eq!(format_size(1000), "1000B");
/// ```
pub fn format_size(bytes: u64) -> String {
    let value = u128::from(bytes);
    for (name, unit) in UNITS {
        if value != 0 && value % unit == 0 {
            return format!("{}{name}", value / unit);
        }
    }
    format!("{bytes}B")
}

/// Serde adapter (`deserialize_with`): a TOML integer of bytes or a size string.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    deserializer.deserialize_any(SizeVisitor)
}

struct SizeVisitor;

impl Visitor<'_> for SizeVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a size like \"512MiB\" or an integer number of bytes")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        parse_size(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom(format!("bad size {v}: a size cannot be negative")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_units_and_plain_bytes() {
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("64KiB"), Ok(65_536));
        assert_eq!(parse_size("100B"), Ok(100));
        assert_eq!(parse_size("100"), Ok(100));
    }

    #[test]
    fn rejects_bad_sizes_with_the_value_in_the_message() {
        for bad in ["", "MiB", "-1MiB", "1 MiB", "1Mi", "1.MiB", "x"] {
            assert_eq!(
                parse_size(bad),
                Err(SizeError::Syntax(bad.to_owned())),
                "{bad:?}"
            );
        }
        for si in ["512MB", "1kb", "1mib", "2G"] {
            assert_eq!(
                parse_size(si),
                Err(SizeError::Unit(si.to_owned())),
                "{si:?}"
            );
        }
        assert_eq!(
            parse_size("512MB").map_err(|e| e.to_string()),
            Err("bad size \"512MB\": use the binary units B, KiB, MiB or GiB (1 MiB = 1048576 bytes)".to_owned())
        );
        assert_eq!(
            parse_size("99999999999GiB"),
            Err(SizeError::TooLarge("99999999999GiB".into()))
        );
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(bytes in any::<u64>()) {
            prop_assert_eq!(parse_size(&format_size(bytes)), Ok(bytes));
        }

        #[test]
        fn number_times_unit(n in 0u64..1_000_000_000, unit in 0usize..UNITS.len()) {
            let (name, multiplier) = UNITS[unit];
            let expected = u64::try_from(u128::from(n) * multiplier).ok();
            prop_assert_eq!(parse_size(&format!("{n}{name}")).ok(), expected);
        }

        #[test]
        fn arbitrary_strings_never_panic(s in "\\PC{0,24}") {
            let _ = parse_size(&s);
        }
    }
}
