//! Durations as written in the config: a number followed by a unit, `"250ms"`, `"10s"`, `"5m"`,
//! `"2h"`, `"1d"`, `"1.5h"`. Owns the grammar, the canonical formatting (used in messages and the
//! example config) and the serde adapter. It never checks ranges: that is `validate`'s job.

use serde::Deserializer;
use serde::de::{self, Visitor};
use std::fmt;
use std::time::Duration;

/// A duration string that does not follow the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a number followed by one of the units.
    #[error("bad duration {0:?}: expected a number followed by ms, s, m, h or d")]
    Syntax(String),
    /// Larger than `Duration` can hold in nanoseconds (about 584 years).
    #[error("bad duration {0:?}: too large")]
    TooLarge(String),
}

const NANOS_PER_MS: u128 = 1_000_000;
const NANOS_PER_S: u128 = 1_000 * NANOS_PER_MS;

/// Units, largest first (the order [`format_duration`] tries them in).
const UNITS: [(&str, u128); 5] = [
    ("d", 86_400 * NANOS_PER_S),
    ("h", 3_600 * NANOS_PER_S),
    ("m", 60 * NANOS_PER_S),
    ("s", NANOS_PER_S),
    ("ms", NANOS_PER_MS),
];

/// Why a decimal number could not be scaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    /// Not `digits` or `digits.digits`.
    Syntax,
    /// The result does not fit in `u128`.
    Overflow,
}

/// `number * unit` for a decimal `number` (`"12"`, `"1.5"`; no sign, no exponent), truncated
/// towards zero. Fraction digits beyond the 18th are ignored.
pub fn scale_decimal(number: &str, unit: u128) -> Result<u128, DecimalError> {
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (number, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
        return Err(DecimalError::Syntax);
    }
    let mut value: u128 = 0;
    for digit in whole.bytes() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u128::from(digit - b'0')))
            .ok_or(DecimalError::Overflow)?;
    }
    let mut scaled = value.checked_mul(unit).ok_or(DecimalError::Overflow)?;
    if let Some(fraction) = fraction {
        let mut numerator: u128 = 0;
        let mut denominator: u128 = 1;
        for digit in fraction.bytes().take(18) {
            numerator = numerator * 10 + u128::from(digit - b'0');
            denominator *= 10;
        }
        // numerator < 10^18 and unit < 2^70 in practice; checked anyway.
        let part = numerator.checked_mul(unit).ok_or(DecimalError::Overflow)? / denominator;
        scaled = scaled.checked_add(part).ok_or(DecimalError::Overflow)?;
    }
    Ok(scaled)
}

/// Parses `"250ms"`, `"10s"`, `"5m"`, `"2h"`, `"1d"` (decimals allowed: `"1.5h"`).
///
/// ```
/// use shelfd_core::duration::parse_duration;
/// use std::time::Duration;
/// assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
/// assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
/// assert_eq!(
///     parse_duration("5 sec").unwrap_err().to_string(),
///     r#"bad duration "5 sec": expected a number followed by ms, s, m, h or d"#
/// );
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let syntax = || DurationError::Syntax(text.to_owned());
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(syntax)?;
    let (number, unit) = text.split_at(split);
    let unit_nanos = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, n)| *n)
        .ok_or_else(syntax)?;
    let nanos = scale_decimal(number, unit_nanos).map_err(|e| match e {
        DecimalError::Syntax => syntax(),
        DecimalError::Overflow => DurationError::TooLarge(text.to_owned()),
    })?;
    let nanos = u64::try_from(nanos).map_err(|_| DurationError::TooLarge(text.to_owned()))?;
    Ok(Duration::from_nanos(nanos))
}

/// The shortest exact spelling of a duration in the config grammar: `"30s"`, `"10m"`,
/// `"250ms"`, `"1d"`; sub-millisecond parts as a decimal of ms (`"1.5ms"`); zero is `"0s"`.
///
/// ```
/// use shelfd_core::duration::format_duration;
/// use std::time::Duration;
/// assert_eq!(format_duration(Duration::from_secs(1800)), "30m");
/// assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
/// assert_eq!(format_duration(Duration::ZERO), "0s");
/// ```
pub fn format_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    for (name, unit) in UNITS {
        if nanos % unit == 0 {
            return format!("{}{name}", nanos / unit);
        }
    }
    let fraction = format!("{:06}", nanos % NANOS_PER_MS);
    format!(
        "{}.{}ms",
        nanos / NANOS_PER_MS,
        fraction.trim_end_matches('0')
    )
}

/// Serde adapter (`deserialize_with`): a duration string. A bare number is rejected with a hint
/// (is `30` seconds or milliseconds?).
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    deserializer.deserialize_any(DurationVisitor)
}

/// Serde adapter (`deserialize_with`, with `#[serde(default)]`) for an optional duration: a
/// present key must hold a duration string as for [`deserialize`].
pub fn deserialize_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    deserialize(deserializer).map(Some)
}

struct DurationVisitor;

impl DurationVisitor {
    fn bare_number<E: de::Error>(shown: impl fmt::Display) -> E {
        E::custom(format!(
            "bad duration {shown}: a duration is a string with a unit, e.g. \"{shown}s\" \
             (units: ms, s, m, h, d)"
        ))
    }
}

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration string like \"10s\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse_duration(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
        Err(Self::bare_number(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
        Err(Self::bare_number(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Duration, E> {
        Err(Self::bare_number(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("0.5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.25ms"), Ok(Duration::from_micros(1250)));
    }

    #[test]
    fn rejects_what_is_not_the_grammar() {
        for bad in [
            "", "5", "s", "5 s", "5 sec", "5sec", "-5s", "+5s", "5S", ".5s", "5.s", "1h30m", " 5s",
            "5s ", "1e3s", "5.5.5s",
        ] {
            assert_eq!(
                parse_duration(bad),
                Err(DurationError::Syntax(bad.to_owned())),
                "{bad:?} should be a syntax error"
            );
        }
        assert_eq!(
            parse_duration("5 sec").map_err(|e| e.to_string()),
            Err(
                "bad duration \"5 sec\": expected a number followed by ms, s, m, h or d".to_owned()
            )
        );
        assert_eq!(
            parse_duration("99999999999d"),
            Err(DurationError::TooLarge("99999999999d".into()))
        );
        assert!(parse_duration(&format!("{}s", "9".repeat(60))).is_err());
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(nanos in 0u64..u64::MAX / 2) {
            let d = Duration::from_nanos(nanos);
            prop_assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }

        #[test]
        fn whole_milliseconds_round_trip(ms in 0u64..10_000_000_000) {
            let d = Duration::from_millis(ms);
            let text = format_duration(d);
            prop_assert_eq!(parse_duration(&text), Ok(d));
        }

        #[test]
        fn number_times_unit(n in 0u64..1_000_000, unit in 0usize..UNITS.len()) {
            let (name, nanos) = UNITS[unit];
            let expected = u64::try_from(u128::from(n) * nanos).ok().map(Duration::from_nanos);
            prop_assert_eq!(parse_duration(&format!("{n}{name}")).ok(), expected);
        }

        #[test]
        fn arbitrary_strings_never_panic(s in "\\PC{0,24}") {
            let _ = parse_duration(&s);
        }

        #[test]
        fn digit_heavy_strings_never_panic(s in "[0-9.]{0,50}(ms|s|m|h|d|x)?") {
            let _ = parse_duration(&s);
        }
    }
}
