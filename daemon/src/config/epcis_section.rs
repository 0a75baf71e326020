//! [`EpcisConfig`]: the `[epcis]` section (GS1 EPCIS 2.0 documents on the `epcis` topic), and
//! the checks of its values and of the `sgln` key of `[[location]]`: the time-zone offset
//! grammar of EPCIS (`±hh:mm`, −14:00..=+14:00), absolute URI prefixes, SGLN pure-identity URNs,
//! and — when EPCIS is enabled — that every location has a location URI (its `sgln`, or the
//! `location_uri_prefix` followed by its id). It never builds documents (that is
//! `crate::publish::epcis`).

use super::decode::{Draft, Item};
use super::report::Reporter;
use super::spans::key;
use serde::Deserialize;

/// `[epcis]`: GS1 EPCIS 2.0 output. The whole section is optional (off by default).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EpcisConfig {
    /// Publish an EPCISDocument for every event with an EPCIS meaning on
    /// `{prefix}/{store}/{gateway}/epcis`. Default false.
    pub enabled: bool,
    /// The store's UTC offset, `±hh:mm` from `-14:00` to `+14:00`, written as each event's
    /// `eventTimeZoneOffset` (event times themselves are UTC). A fixed offset: daylight saving
    /// time is not applied. Default `+00:00`.
    pub time_zone_offset: String,
    /// Base of the location URIs of locations without `sgln`: readPoint and bizLocation are
    /// `{location_uri_prefix}{location id}`. An absolute URI (`scheme:…`), e.g.
    /// `https://id.example.com/store-0042/loc/`. Optional; when EPCIS is enabled, every location
    /// needs either its `sgln` or this prefix.
    pub location_uri_prefix: Option<String>,
    /// Base of the business-transaction URI of a dock receipt's shipment (ASN): the receipt's
    /// ObjectEvent carries `bizTransactionList` `[{type: "desadv", bizTransaction:
    /// "{shipment_uri_prefix}{shipment id, percent-encoded}"}]`. An absolute URI. Optional (no
    /// `bizTransactionList`).
    pub shipment_uri_prefix: Option<String>,
}

impl Default for EpcisConfig {
    fn default() -> Self {
        EpcisConfig {
            enabled: false,
            time_zone_offset: "+00:00".to_owned(),
            location_uri_prefix: None,
            shipment_uri_prefix: None,
        }
    }
}

/// An EPCIS `eventTimeZoneOffset`: `+hh:mm` or `-hh:mm`, from `-14:00` to `+14:00`.
///
/// ```
/// use shelfd::config::check_time_zone_offset;
/// assert_eq!(check_time_zone_offset("+01:00"), Ok(()));
/// assert_eq!(check_time_zone_offset("-14:00"), Ok(()));
/// assert!(check_time_zone_offset("+14:30").is_err());
/// assert!(check_time_zone_offset("01:00").is_err());
/// ```
pub fn check_time_zone_offset(offset: &str) -> Result<(), String> {
    let b = offset.as_bytes();
    let digits = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let shaped = b.len() == 6
        && matches!(b[0], b'+' | b'-')
        && b[3] == b':'
        && [1, 2, 4, 5].into_iter().all(digits);
    if shaped {
        let hours = u32::from(b[1] - b'0') * 10 + u32::from(b[2] - b'0');
        let minutes = u32::from(b[4] - b'0') * 10 + u32::from(b[5] - b'0');
        if minutes < 60 && (hours < 14 || (hours == 14 && minutes == 0)) {
            return Ok(());
        }
    }
    Err(format!(
        "bad time zone offset {offset:?}: expected \"+hh:mm\" or \"-hh:mm\" from -14:00 to +14:00, e.g. \"+01:00\""
    ))
}

/// An absolute URI used as a prefix: `scheme:` then at least one character, only characters
/// RFC 3986 allows (percent-escapes well-formed), at most 512 characters.
///
/// ```
/// use shelfd::config::check_uri_prefix;
/// assert_eq!(check_uri_prefix("https://id.example.com/s42/loc/"), Ok(()));
/// assert_eq!(check_uri_prefix("urn:example:loc:"), Ok(()));
/// assert!(check_uri_prefix("id.example.com/loc/").is_err());
/// assert!(check_uri_prefix("https://example.com/a b/").is_err());
/// ```
pub fn check_uri_prefix(uri: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("bad URI prefix {uri:?}: {why}"));
    if uri.len() > 512 {
        return bad("longer than 512 characters");
    }
    let Some((scheme, rest)) = uri.split_once(':') else {
        return bad("expected an absolute URI (scheme:…), e.g. \"https://id.example.com/loc/\"");
    };
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !scheme_ok {
        return bad(
            "the scheme before ':' must be a letter followed by letters, digits, '+', '-' or '.'",
        );
    }
    if rest.is_empty() {
        return bad("nothing after the scheme");
    }
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return bad("'%' must start a percent-escape like %2F");
            }
            i += 3;
            continue;
        }
        let allowed = b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&b);
        if !allowed {
            let shown = char::from(b);
            return if b.is_ascii_graphic() {
                bad(&format!(
                    "character {shown:?} is not allowed in a URI (percent-encode it)"
                ))
            } else {
                bad(
                    "whitespace, control and non-ASCII characters are not allowed in a URI (percent-encode them)",
                )
            };
        }
        i += 1;
    }
    Ok(())
}

/// An SGLN pure-identity URN, `urn:epc:id:sgln:<company prefix>.<location reference>.<extension>`:
/// a 6 to 12 digit company prefix and a location reference of digits that together make 12
/// digits (the GLN without its check digit), and an extension of 1 to 20 characters of GS1
/// character set 82 in EPC URI escaping (`0` means the GLN itself, no extension).
///
/// ```
/// use shelfd::config::check_sgln;
/// assert_eq!(check_sgln("urn:epc:id:sgln:0614141.12345.0"), Ok(()));
/// assert_eq!(check_sgln("urn:epc:id:sgln:061411123456..01"), Ok(()));
/// assert!(check_sgln("urn:epc:id:sgln:0614141.1234.0").is_err()); // 11 digits
/// assert!(check_sgln("urn:epc:id:sgtin:0614141.12345.0").is_err());
/// ```
pub fn check_sgln(urn: &str) -> Result<(), String> {
    let bad = |why: &str| {
        Err(format!(
            "bad SGLN {urn:?}: {why} (expected urn:epc:id:sgln:<company prefix>.<location ref>.<extension>, e.g. \"urn:epc:id:sgln:0614141.12345.0\")"
        ))
    };
    let Some(rest) = urn.strip_prefix("urn:epc:id:sgln:") else {
        return bad("not an SGLN pure-identity URN");
    };
    let mut parts = rest.splitn(3, '.');
    let (Some(gcp), Some(location), Some(extension)) = (parts.next(), parts.next(), parts.next())
    else {
        return bad("expected three '.'-separated parts");
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !(6..=12).contains(&gcp.len()) || !all_digits(gcp) {
        return bad("the company prefix must be 6 to 12 digits");
    }
    if !all_digits(location) || gcp.len() + location.len() != 12 {
        return bad("company prefix and location reference must be 12 digits together");
    }
    let ext = extension.as_bytes();
    let mut chars = 0;
    let mut i = 0;
    while i < ext.len() {
        if ext[i] == b'%' {
            let escape = extension.get(i..i + 3).map(str::to_ascii_uppercase);
            if !matches!(
                escape.as_deref(),
                Some("%22" | "%25" | "%26" | "%2F" | "%3C" | "%3E" | "%3F")
            ) {
                return bad("the extension's only escapes are %22 %25 %26 %2F %3C %3E %3F");
            }
            i += 3;
        } else {
            let b = ext[i];
            let plain = b.is_ascii_alphanumeric() || b"!'()*+,-.:;=_".contains(&b);
            if !plain {
                return bad("the extension holds a character outside GS1 character set 82");
            }
            i += 1;
        }
        chars += 1;
    }
    if !(1..=20).contains(&chars) {
        return bad("the extension must be 1 to 20 characters");
    }
    Ok(())
}

/// Checks `[epcis]` and every location's `sgln`; when EPCIS is enabled without a
/// `location_uri_prefix`, every location needs an `sgln`.
pub(crate) fn check(draft: &Draft, reporter: &mut Reporter<'_, '_>) {
    let mut sglns_ok = true;
    for location in &draft.locations {
        if let Some(sgln) = &location.value.sgln {
            if let Err(message) = check_sgln(sgln) {
                reporter.error(location.place, &[key("sgln")], message);
            }
        }
        sglns_ok &= !location.is_tainted("sgln");
    }
    let Some(epcis) = &draft.epcis else { return };
    check_values(epcis, reporter);
    let e = &epcis.value;
    if !e.enabled || e.location_uri_prefix.is_some() || epcis.is_tainted("location_uri_prefix") {
        return;
    }
    let without: Vec<String> = draft
        .locations
        .iter()
        .filter(|l| l.value.sgln.is_none() && !l.is_tainted("sgln"))
        .map(|l| format!("{:?}", l.value.id))
        .collect();
    if !without.is_empty() && sglns_ok {
        let message = format!(
            "missing: EPCIS is enabled and location{} {} ha{} no sgln; set location_uri_prefix (location URIs are the prefix followed by the location id) or give every location an sgln",
            if without.len() == 1 { "" } else { "s" },
            without.join(", "),
            if without.len() == 1 { "s" } else { "ve" },
        );
        reporter.error(epcis.place, &[key("location_uri_prefix")], message);
    }
}

fn check_values(epcis: &Item<EpcisConfig>, reporter: &mut Reporter<'_, '_>) {
    let e = &epcis.value;
    if !epcis.is_tainted("time_zone_offset") {
        if let Err(message) = check_time_zone_offset(&e.time_zone_offset) {
            reporter.error(epcis.place, &[key("time_zone_offset")], message);
        }
    }
    for (name, value) in [
        ("location_uri_prefix", &e.location_uri_prefix),
        ("shipment_uri_prefix", &e.shipment_uri_prefix),
    ] {
        let Some(value) = value else { continue };
        if let Err(message) = check_uri_prefix(value) {
            reporter.error(epcis.place, &[key(name)], message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zone_offsets() {
        for ok in [
            "+00:00", "-00:00", "+05:30", "-09:59", "+13:59", "+14:00", "-14:00",
        ] {
            assert_eq!(check_time_zone_offset(ok), Ok(()), "{ok}");
        }
        for bad in [
            "", "Z", "+1:00", "+01:0", "01:00", "+0100", "+14:01", "+15:00", "+01:60", "+01:00 ",
            "−01:00",
        ] {
            assert!(check_time_zone_offset(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn uri_prefixes() {
        for ok in [
            "https://id.example.com/s42/loc/",
            "urn:example:loc:",
            "http://x/%2Fy/",
            "tag:example.com,2026:loc/",
        ] {
            assert_eq!(check_uri_prefix(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            ":x",
            "1http://x/",
            "https:",
            "https://x/a b",
            "https://x/%zz",
            "https://x/%2",
            "https://x/\"q\"",
            "https://x/ä",
            "https://x/{id}",
        ] {
            assert!(check_uri_prefix(bad).is_err(), "{bad:?}");
        }
        assert!(check_uri_prefix(&format!("https://x/{}", "a".repeat(600))).is_err());
    }

    #[test]
    fn sglns() {
        for ok in [
            "urn:epc:id:sgln:0614141.12345.0",
            "urn:epc:id:sgln:0614141.12345.400",
            "urn:epc:id:sgln:061411123456..01",
            "urn:epc:id:sgln:061411.123456.a%2Fb",
            "urn:epc:id:sgln:0614141.12345.ABCDEFGHIJKLMNOPQRST",
        ] {
            assert_eq!(check_sgln(ok), Ok(()), "{ok}");
        }
        for bad in [
            "urn:epc:id:sgln:0614141.12345",
            "urn:epc:id:sgln:0614141.12345.",
            "urn:epc:id:sgln:0614141.1234.0",
            "urn:epc:id:sgln:06141.1234567.0",
            "urn:epc:id:sgln:0614141.1234x.0",
            "urn:epc:id:sgln:0614141.12345.a/b",
            "urn:epc:id:sgln:0614141.12345.a%41",
            "urn:epc:id:sgln:0614141.12345.ABCDEFGHIJKLMNOPQRSTU",
            "urn:epc:id:sgtin:0614141.12345.0",
            "URN:EPC:ID:SGLN:0614141.12345.0",
        ] {
            assert!(check_sgln(bad).is_err(), "{bad:?}");
        }
    }
}
