//! EPC encoders: GS1 fields → EPC bank bytes, zero-padded to whole 16-bit words as a tag holds
//! them. Used by round-trip property tests, simulators and tools.
//!
//! Owns input validation for encoding (digit counts, character set, ranges, check digits of
//! keys given whole) and the bit layouts in the write direction. It must stay the exact inverse
//! of the decoders: every output decodes back to its inputs.

use super::ai_value::{days_in_month, int_bits};
use super::bits::BitWriter;
use super::check_digit::has_valid_check_digit;
use super::error::EpcError;
use super::partition::{
    COMPANY_PREFIX, GIAI96_ASSET_REF_BITS, GIAI202_ASSET_REF, GRAI_ASSET_TYPE, PartitionTable,
    SGLN_LOCATION_REF, SGTIN_ITEM_REF, SSCC_SERIAL_REF,
};
use super::scheme::Scheme;
use super::text::is_cset82;

fn invalid(scheme: Scheme, field: &'static str, value: &str, reason: &'static str) -> EpcError {
    EpcError::Encode {
        scheme,
        field,
        value: value.to_owned(),
        reason,
    }
}

fn check_filter(scheme: Scheme, filter: u8) -> Result<(), EpcError> {
    if filter > 7 {
        return Err(invalid(scheme, "filter", &filter.to_string(), "is above 7"));
    }
    Ok(())
}

fn all_digits(scheme: Scheme, field: &'static str, s: &str) -> Result<(), EpcError> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(scheme, field, s, "is not all digits"));
    }
    Ok(())
}

/// Digits → integer (callers limit the length to ≤ 19 digits).
fn value_of(s: &str) -> u64 {
    s.bytes().fold(0u64, |v, b| {
        v.wrapping_mul(10).wrapping_add(u64::from(b - b'0'))
    })
}

/// Picks the partition from the company prefix length and checks the second field's length.
fn partition_of(
    scheme: Scheme,
    company_prefix: &str,
    second: Option<(&'static str, &str, &PartitionTable)>,
) -> Result<usize, EpcError> {
    all_digits(scheme, "company prefix", company_prefix)?;
    let p = COMPANY_PREFIX
        .iter()
        .position(|&(_, d)| usize::from(d) == company_prefix.len())
        .ok_or_else(|| {
            invalid(
                scheme,
                "company prefix",
                company_prefix,
                "must have 6 to 12 digits",
            )
        })?;
    if let Some((field, value, table)) = second {
        all_digits(scheme, field, value)?;
        if value.len() != usize::from(table[p].1) {
            return Err(invalid(
                scheme,
                field,
                value,
                "has the wrong number of digits for this company prefix length",
            ));
        }
    }
    Ok(p)
}

/// header | filter | partition | company prefix | second field.
fn front(
    scheme: Scheme,
    filter: u8,
    company_prefix: &str,
    second: Option<(&'static str, &str, &PartitionTable)>,
) -> Result<(BitWriter, usize), EpcError> {
    check_filter(scheme, filter)?;
    let p = partition_of(scheme, company_prefix, second)?;
    let mut w = BitWriter::new();
    w.push(u128::from(scheme.header()), 8);
    w.push(u128::from(filter), 3);
    w.push(p as u128, 3);
    w.push(
        u128::from(value_of(company_prefix)),
        u32::from(COMPANY_PREFIX[p].0),
    );
    if let Some((_, value, table)) = second {
        w.push(u128::from(value_of(value)), u32::from(table[p].0));
    }
    Ok((w, p))
}

fn integer(scheme: Scheme, field: &'static str, v: u64, bits: u32) -> Result<u128, EpcError> {
    if bits < 64 && v >> bits != 0 {
        return Err(invalid(
            scheme,
            field,
            &v.to_string(),
            "does not fit its bits",
        ));
    }
    Ok(u128::from(v))
}

/// Writes a 7-bit string field of `width` bits (1..=`max` set-82 characters, zero-padded).
fn seven_bit(
    w: &mut BitWriter,
    scheme: Scheme,
    field: &'static str,
    s: &str,
    width: u32,
    max: usize,
) -> Result<(), EpcError> {
    if s.is_empty() {
        return Err(invalid(scheme, field, s, "is empty"));
    }
    if s.len() > max {
        return Err(invalid(scheme, field, s, "is too long"));
    }
    if !s.bytes().all(is_cset82) {
        return Err(invalid(
            scheme,
            field,
            s,
            "has a character outside the GS1 AI encodable character set 82",
        ));
    }
    for b in s.bytes() {
        w.push(u128::from(b), 7);
    }
    w.push_zeros((width as usize).saturating_sub(s.len() * 7));
    Ok(())
}

/// SGTIN-96 from filter, company prefix (6–12 digits), indicator + item reference
/// (13 − GCP digits) and a serial below 2^38.
///
/// ```
/// let bytes = shelfd_core::epc::encode::sgtin96(3, "0614141", "812345", 6789).unwrap();
/// assert_eq!(bytes, shelfd_core::epc::parse_hex("3074257BF7194E4000001A85").unwrap());
/// ```
pub fn sgtin96(
    filter: u8,
    company_prefix: &str,
    item_ref: &str,
    serial: u64,
) -> Result<Vec<u8>, EpcError> {
    let s = Scheme::Sgtin96;
    let (mut w, _) = front(
        s,
        filter,
        company_prefix,
        Some(("item reference", item_ref, &SGTIN_ITEM_REF)),
    )?;
    w.push(integer(s, "serial", serial, 38)?, 38);
    Ok(w.into_words())
}

/// SGTIN-198 with an alphanumeric serial (1–20 characters of set 82).
pub fn sgtin198(
    filter: u8,
    company_prefix: &str,
    item_ref: &str,
    serial: &str,
) -> Result<Vec<u8>, EpcError> {
    let s = Scheme::Sgtin198;
    let (mut w, _) = front(
        s,
        filter,
        company_prefix,
        Some(("item reference", item_ref, &SGTIN_ITEM_REF)),
    )?;
    seven_bit(&mut w, s, "serial", serial, 140, 20)?;
    Ok(w.into_words())
}

/// SSCC-96 from company prefix and extension digit + serial reference (17 − GCP digits).
pub fn sscc96(filter: u8, company_prefix: &str, serial_ref: &str) -> Result<Vec<u8>, EpcError> {
    let (mut w, _) = front(
        Scheme::Sscc96,
        filter,
        company_prefix,
        Some(("serial reference", serial_ref, &SSCC_SERIAL_REF)),
    )?;
    w.push(0, 24);
    Ok(w.into_words())
}

/// SGLN-96 from company prefix, location reference (12 − GCP digits, may be empty) and an
/// integer extension below 2^41 (0 = no extension).
pub fn sgln96(
    filter: u8,
    company_prefix: &str,
    location_ref: &str,
    extension: u64,
) -> Result<Vec<u8>, EpcError> {
    let s = Scheme::Sgln96;
    let (mut w, _) = front(
        s,
        filter,
        company_prefix,
        Some(("location reference", location_ref, &SGLN_LOCATION_REF)),
    )?;
    w.push(integer(s, "extension", extension, 41)?, 41);
    Ok(w.into_words())
}

/// SGLN-195 with an alphanumeric extension (1–20 characters of set 82).
pub fn sgln195(
    filter: u8,
    company_prefix: &str,
    location_ref: &str,
    extension: &str,
) -> Result<Vec<u8>, EpcError> {
    let s = Scheme::Sgln195;
    let (mut w, _) = front(
        s,
        filter,
        company_prefix,
        Some(("location reference", location_ref, &SGLN_LOCATION_REF)),
    )?;
    seven_bit(&mut w, s, "extension", extension, 140, 20)?;
    Ok(w.into_words())
}

/// GRAI-96 from company prefix, asset type (12 − GCP digits, may be empty) and a serial below
/// 2^38.
pub fn grai96(
    filter: u8,
    company_prefix: &str,
    asset_type: &str,
    serial: u64,
) -> Result<Vec<u8>, EpcError> {
    let s = Scheme::Grai96;
    let (mut w, _) = front(
        s,
        filter,
        company_prefix,
        Some(("asset type", asset_type, &GRAI_ASSET_TYPE)),
    )?;
    w.push(integer(s, "serial", serial, 38)?, 38);
    Ok(w.into_words())
}

/// GRAI-170 with an alphanumeric serial (1–16 characters of set 82).
pub fn grai170(
    filter: u8,
    company_prefix: &str,
    asset_type: &str,
    serial: &str,
) -> Result<Vec<u8>, EpcError> {
    let s = Scheme::Grai170;
    let (mut w, _) = front(
        s,
        filter,
        company_prefix,
        Some(("asset type", asset_type, &GRAI_ASSET_TYPE)),
    )?;
    seven_bit(&mut w, s, "serial", serial, 112, 16)?;
    Ok(w.into_words())
}

/// GIAI-96 with an integer asset reference that fits the partition's bits.
pub fn giai96(filter: u8, company_prefix: &str, asset_ref: u64) -> Result<Vec<u8>, EpcError> {
    let s = Scheme::Giai96;
    let (mut w, p) = front(s, filter, company_prefix, None)?;
    let bits = u32::from(GIAI96_ASSET_REF_BITS[p]);
    w.push(integer(s, "asset reference", asset_ref, bits)?, bits);
    Ok(w.into_words())
}

/// GIAI-202 with an alphanumeric asset reference (1 to 30 − GCP digits characters of set 82).
pub fn giai202(filter: u8, company_prefix: &str, asset_ref: &str) -> Result<Vec<u8>, EpcError> {
    let s = Scheme::Giai202;
    let (mut w, p) = front(s, filter, company_prefix, None)?;
    let (bits, max) = GIAI202_ASSET_REF[p];
    seven_bit(
        &mut w,
        s,
        "asset reference",
        asset_ref,
        u32::from(bits),
        usize::from(max),
    )?;
    Ok(w.into_words())
}

/// GID-96 from manager (< 2^28), object class (< 2^24) and serial (< 2^36).
pub fn gid96(manager: u32, object_class: u32, serial: u64) -> Result<Vec<u8>, EpcError> {
    let s = Scheme::Gid96;
    let mut w = BitWriter::new();
    w.push(u128::from(s.header()), 8);
    w.push(
        integer(s, "general manager number", u64::from(manager), 28)?,
        28,
    );
    w.push(integer(s, "object class", u64::from(object_class), 24)?, 24);
    w.push(integer(s, "serial", serial, 36)?, 36);
    Ok(w.into_words())
}

// ---------------------------------------------------------------------------- '+' schemes

const BASE64_URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Writes a variable-length alphanumeric (TDS 14.5.6) in its shortest encoding among numeric,
/// upper/lower hex, URL-safe base 64 and 7-bit ASCII (URN Code 40 is never chosen).
fn var_alnum(
    w: &mut BitWriter,
    scheme: Scheme,
    field: &'static str,
    s: &str,
    max: usize,
) -> Result<(), EpcError> {
    if s.is_empty() {
        return Err(invalid(scheme, field, s, "is empty"));
    }
    if s.len() > max || s.len() > 31 {
        return Err(invalid(scheme, field, s, "is too long"));
    }
    if !s.bytes().all(is_cset82) {
        return Err(invalid(
            scheme,
            field,
            s,
            "has a character outside the GS1 AI encodable character set 82",
        ));
    }
    let n = s.len();
    let bits = |indicator: u8| -> Option<usize> {
        let fits = match indicator {
            0 => s.bytes().all(|b| b.is_ascii_digit()) && n <= 38,
            1 => s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F')),
            2 => s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            3 => s.bytes().all(|b| BASE64_URL.contains(&b)),
            _ => true,
        };
        fits.then(|| match indicator {
            0 => int_bits(n) as usize,
            1 | 2 => 4 * n,
            3 => 6 * n,
            _ => 7 * n,
        })
    };
    let indicator = (0u8..=4)
        .filter_map(|i| bits(i).map(|b| (b, i)))
        .min()
        .map_or(4, |(_, i)| i);
    w.push(u128::from(indicator), 3);
    w.push(n as u128, 5);
    match indicator {
        0 => {
            let v = s.bytes().fold(0u128, |v, b| v * 10 + u128::from(b - b'0'));
            w.push(v, int_bits(n));
        }
        1 | 2 => {
            for b in s.bytes() {
                let nibble = match b {
                    b'0'..=b'9' => b - b'0',
                    b'A'..=b'F' => b - b'A' + 10,
                    _ => b.wrapping_sub(b'a').wrapping_add(10),
                };
                w.push(u128::from(nibble), 4);
            }
        }
        3 => {
            for b in s.bytes() {
                let i = BASE64_URL.iter().position(|&c| c == b).unwrap_or(0);
                w.push(i as u128, 6);
            }
        }
        _ => {
            for b in s.bytes() {
                w.push(u128::from(b), 7);
            }
        }
    }
    Ok(())
}

/// Writes `digits` as BCD after checking the count and (optionally) the check digit.
fn bcd_key(
    w: &mut BitWriter,
    scheme: Scheme,
    field: &'static str,
    digits: &str,
    len: usize,
    checked: bool,
) -> Result<(), EpcError> {
    all_digits(scheme, field, digits)?;
    if digits.len() != len {
        return Err(invalid(
            scheme,
            field,
            digits,
            "has the wrong number of digits",
        ));
    }
    if checked && !has_valid_check_digit(digits.as_bytes()) {
        return Err(invalid(scheme, field, digits, "has a wrong check digit"));
    }
    for b in digits.bytes() {
        w.push(u128::from(b - b'0'), 4);
    }
    Ok(())
}

fn plus_front(scheme: Scheme, filter: u8) -> Result<BitWriter, EpcError> {
    check_filter(scheme, filter)?;
    let mut w = BitWriter::new();
    w.push(u128::from(scheme.header()), 8);
    w.push(0, 1); // no +AIDC data
    w.push(u128::from(filter), 3);
    Ok(w)
}

/// SGTIN+ from a GTIN-14 (with a correct check digit) and a serial (1–20 characters of set 82).
///
/// ```
/// let bytes = shelfd_core::epc::encode::sgtin_plus(3, "79521141123453", "32a/b").unwrap();
/// assert_eq!(bytes, shelfd_core::epc::parse_hex("F73795211411234538566CB0AFC4").unwrap());
/// ```
pub fn sgtin_plus(filter: u8, gtin: &str, serial: &str) -> Result<Vec<u8>, EpcError> {
    let s = Scheme::SgtinPlus;
    let mut w = plus_front(s, filter)?;
    bcd_key(&mut w, s, "GTIN", gtin, 14, true)?;
    var_alnum(&mut w, s, "serial", serial, 20)?;
    Ok(w.into_words())
}

/// DSGTIN+ with a date type indicator (0–6, e.g. 4 = expiry) and a YYMMDD date.
pub fn dsgtin_plus(
    filter: u8,
    date_type: u8,
    yymmdd: &str,
    gtin: &str,
    serial: &str,
) -> Result<Vec<u8>, EpcError> {
    let s = Scheme::DsgtinPlus;
    let mut w = plus_front(s, filter)?;
    if date_type > 6 {
        return Err(invalid(
            s,
            "date type",
            &date_type.to_string(),
            "is reserved",
        ));
    }
    all_digits(s, "date", yymmdd)?;
    if yymmdd.len() != 6 {
        return Err(invalid(s, "date", yymmdd, "is not YYMMDD"));
    }
    let part = |i: usize| value_of(yymmdd.get(i..i + 2).unwrap_or("0"));
    let (yy, mm, dd) = (part(0), part(2), part(4));
    let days = u64::from(days_in_month(yy as u8, mm as u8));
    if mm == 0 || mm > 12 || dd > days {
        return Err(invalid(s, "date", yymmdd, "is not a valid YYMMDD date"));
    }
    w.push(u128::from(date_type), 4);
    w.push(u128::from(part(0)), 7);
    w.push(u128::from(part(2)), 4);
    w.push(u128::from(part(4)), 5);
    bcd_key(&mut w, s, "GTIN", gtin, 14, true)?;
    var_alnum(&mut w, s, "serial", serial, 20)?;
    Ok(w.into_words())
}

/// SSCC+ from an SSCC-18 with a correct check digit.
pub fn sscc_plus(filter: u8, sscc: &str) -> Result<Vec<u8>, EpcError> {
    let s = Scheme::SsccPlus;
    let mut w = plus_front(s, filter)?;
    bcd_key(&mut w, s, "SSCC", sscc, 18, true)?;
    Ok(w.into_words())
}

/// SGLN+ from a GLN-13 with a correct check digit and an extension (`"0"` for none).
pub fn sgln_plus(filter: u8, gln: &str, extension: &str) -> Result<Vec<u8>, EpcError> {
    let s = Scheme::SglnPlus;
    let mut w = plus_front(s, filter)?;
    bcd_key(&mut w, s, "GLN", gln, 13, true)?;
    var_alnum(&mut w, s, "extension", extension, 20)?;
    Ok(w.into_words())
}

/// GRAI+ from an AI (8003) value: `0` + GRAI-13 with a correct check digit + serial (1–16).
pub fn grai_plus(filter: u8, grai: &str) -> Result<Vec<u8>, EpcError> {
    let s = Scheme::GraiPlus;
    let mut w = plus_front(s, filter)?;
    if !grai.is_ascii() {
        return Err(invalid(s, "GRAI", grai, "has a non-ASCII character"));
    }
    let (key, serial) = grai.split_at(grai.len().min(14));
    if !key.starts_with('0') {
        return Err(invalid(
            s,
            "GRAI",
            grai,
            "must start with the filler digit 0",
        ));
    }
    bcd_key(&mut w, s, "GRAI", key, 14, true)?;
    var_alnum(&mut w, s, "serial", serial, 16)?;
    Ok(w.into_words())
}

/// GIAI+ from an AI (8004) value: at least 4 leading digits (the GCP), then any set-82 text;
/// at most 30 characters.
pub fn giai_plus(filter: u8, giai: &str) -> Result<Vec<u8>, EpcError> {
    let s = Scheme::GiaiPlus;
    let mut w = plus_front(s, filter)?;
    if giai.len() > 30 {
        return Err(invalid(s, "GIAI", giai, "is longer than 30 characters"));
    }
    let digits = giai.bytes().take_while(u8::is_ascii_digit).count();
    if digits < 4 {
        return Err(invalid(
            s,
            "GIAI",
            giai,
            "must start with at least 4 digits",
        ));
    }
    let (numeric, rest) = giai.split_at(digits);
    for b in numeric.bytes() {
        w.push(u128::from(b - b'0'), 4);
    }
    if rest.is_empty() {
        w.push(0b1111, 4);
    } else {
        w.push(0b1110, 4);
        var_alnum(&mut w, s, "GIAI", rest, 30 - digits)?;
    }
    Ok(w.into_words())
}
