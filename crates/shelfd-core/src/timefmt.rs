//! RFC 3339 UTC timestamps with millisecond precision (`2026-11-22T10:00:00.000Z`) from integer
//! milliseconds since the Unix epoch, and back ([`parse_rfc3339_ms`], for consumers of the
//! payloads shelfd writes). Owns only the format: the one clock read is [`now_ms`].

/// Formats `ms` (milliseconds since 1970-01-01T00:00:00Z) as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
///
/// ```
/// assert_eq!(shelfd_core::timefmt::rfc3339_ms(1_763_800_000_000), "2025-11-22T08:26:40.000Z");
/// assert_eq!(shelfd_core::timefmt::rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
/// ```
pub fn rfc3339_ms(ms: u64) -> String {
    let mut out = String::with_capacity(24);
    write_rfc3339_ms(&mut out, ms);
    out
}

/// Appends the RFC 3339 form of `ms` to `out` (see [`rfc3339_ms`]).
pub fn write_rfc3339_ms(out: &mut String, ms: u64) {
    let secs = ms / 1000;
    let millis = ms % 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    use std::fmt::Write;
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{millis:03}Z"
    );
}

/// Parses exactly the form [`rfc3339_ms`] writes (`YYYY-MM-DDTHH:MM:SS.mmmZ`, UTC, from 1970)
/// back into milliseconds since the Unix epoch; `None` for anything else.
///
/// ```
/// use shelfd_core::timefmt::{parse_rfc3339_ms, rfc3339_ms};
/// assert_eq!(parse_rfc3339_ms("2026-11-22T10:00:00.123Z"), Some(1_795_341_600_123));
/// assert_eq!(parse_rfc3339_ms(&rfc3339_ms(951_782_400_000)), Some(951_782_400_000));
/// assert_eq!(parse_rfc3339_ms("2026-11-22 10:00:00Z"), None);
/// ```
pub fn parse_rfc3339_ms(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 24 || b[23] != b'Z' {
        return None;
    }
    for (i, sep) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ] {
        if b[i] != sep {
            return None;
        }
    }
    let num = |from: usize, to: usize| -> Option<u64> {
        let part = s.get(from..to)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hh, mm, ss, ms) = (num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 23)?);
    if y < 1970 || !(1..=12).contains(&m) || d == 0 || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    if civil_from_days(days) != (y, m, d) {
        return None; // 31 April and the like
    }
    Some(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000) + ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date from 1970 on (the inverse of
/// [`civil_from_days`] for valid dates).
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}

/// Converts days since 1970-01-01 into a proleptic Gregorian (year, month, day).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a 400-year era.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097; // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // year of era, 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of year from March 1st, 0..=365
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// The gateway's clock now, ms since the Unix epoch: the wall clock read once per process,
/// then advanced by the monotonic clock. The only clock read of the live pipeline: drivers
/// stamp reads with it, the engine never calls it.
///
/// A wall clock that steps backwards while the daemon runs (NTP syncing after boot on boards
/// without an RTC, a manual `date`) would otherwise freeze the engine's timers, which never let
/// time go backwards, until the clock caught up. The cost: a step of the wall clock shows in
/// event times only after the next restart.
pub fn now_ms() -> u64 {
    static ANCHOR: std::sync::OnceLock<(u64, std::time::Instant)> = std::sync::OnceLock::new();
    let (wall, at) = ANCHOR.get_or_init(|| (wall_ms(), std::time::Instant::now()));
    let elapsed = u64::try_from(at.elapsed().as_millis()).unwrap_or(u64::MAX);
    wall.saturating_add(elapsed)
}

/// The system wall clock now, ms since the Unix epoch (0 before 1970). Unlike [`now_ms`] it
/// follows clock steps: for the times a person reads (status files), never for timers.
pub fn wall_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_795_341_600_123), "2026-11-22T10:00:00.123Z");
        assert_eq!(rfc3339_ms(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }

    #[test]
    fn parse_inverts_format() {
        for ms in [
            0,
            951_782_400_000,
            1_795_341_600_123,
            4_102_444_799_999,
            1_709_164_800_999,
        ] {
            assert_eq!(parse_rfc3339_ms(&rfc3339_ms(ms)), Some(ms), "{ms}");
        }
        for bad in [
            "",
            "2026-02-30T00:00:00.000Z",
            "2026-11-22T24:00:00.000Z",
            "1969-12-31T23:59:59.999Z",
            "2026-11-22T10:00:00.000+01:00",
            "2026-11-22T10:00:00Z",
            "+026-11-22T10:00:00.000Z",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn days_round_trip_through_month_lengths() {
        // Walk 600 years day by day and check the calendar advances by exactly one day.
        let mut prev = civil_from_days(0);
        for day in 1..(600 * 366) {
            let cur = civil_from_days(day);
            let next_expected = if cur.2 == 1 {
                assert!(prev.2 >= 28, "month ended early at {prev:?}");
                if cur.1 == 1 {
                    (prev.0 + 1, 1, 1)
                } else {
                    (prev.0, prev.1 + 1, 1)
                }
            } else {
                (prev.0, prev.1, prev.2 + 1)
            };
            assert_eq!(cur, next_expected);
            prev = cur;
        }
    }
}
