//! Reading one GS1 AI value from '+' scheme bits with the TDS 2.x encoding methods (§14.5):
//! BCD digits, fixed-bit integers, variable-length alphanumerics with an encoding indicator,
//! variable-length numerics, delimited numerics, dates, times, country codes, flags.
//!
//! Owns value validation: digits are digits, integers fit their digit count, characters are in
//! set 82, dates and times exist, embedded GS1 keys carry the right check digit. It never
//! repairs or skips a bad value. It writes characters to an [`ElementSink`], so validating
//! (the GTIN fast path) need not allocate.

use super::ai::{Ai, AiFormat, Component, GIAI, GRAI};
use super::bits::BitReader;
use super::check_digit::has_valid_check_digit;
use super::error::{EpcError, Field, Problem};
use super::text::is_cset82;

/// Receives decoded AI values character by character.
pub(crate) trait ElementSink {
    /// A new element with this AI starts; its characters follow.
    fn start(&mut self, ai: Ai);
    /// One ASCII character of the current element's value.
    fn push(&mut self, c: u8);
}

/// Collects elements as `(AI, value)` pairs.
#[derive(Default)]
pub(crate) struct Collect {
    /// The elements in decoding order.
    pub(crate) elements: Vec<(Ai, String)>,
}

impl ElementSink for Collect {
    fn start(&mut self, ai: Ai) {
        self.elements.push((ai, String::new()));
    }
    fn push(&mut self, c: u8) {
        if let Some((_, value)) = self.elements.last_mut() {
            value.push(char::from(c));
        }
    }
}

/// URL-safe base 64 alphabet (TDS Table 14-7).
const BASE64_URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// URN Code 40 alphabet (TDS Table 14-8); index 0 is padding.
const CODE40: &[u8; 40] = b"\0ABCDEFGHIJKLMNOPQRSTUVWXYZ-.:0123456789";

/// Longest digit string a length indicator can announce (7 bits).
const MAX_DIGITS: usize = 127;

/// Bits of an integer holding any `digits`-digit decimal number: ⌈digits · log2 10⌉ (TDT Table B).
pub(crate) fn int_bits(digits: usize) -> u32 {
    if digits == 0 {
        return 0;
    }
    // digits · log2(10) is irrational, so ⌈x⌉ = ⌊x⌋ + 1; f64 is exact enough up to 127 digits
    // (checked against exact powers of ten in the tests).
    let x = digits as f64 * std::f64::consts::LOG2_10;
    x.floor() as u32 + 1
}

fn too_long(length: usize, max: usize) -> Problem {
    Problem::TooLong {
        length: u16::try_from(length).unwrap_or(u16::MAX),
        max: u16::try_from(max).unwrap_or(u16::MAX),
    }
}

/// Reads an integer of `nbits` bits that must be below 10^`digits`, and pushes it as exactly
/// `digits` decimal digits (leading zeros kept). Works for any width (no 64-bit limit).
pub(crate) fn read_decimal(
    r: &mut BitReader<'_>,
    field: Field,
    nbits: u32,
    digits: usize,
    sink: &mut impl FnMut(u8),
) -> Result<(), EpcError> {
    let digits = digits.min(MAX_DIGITS);
    r.ensure(nbits, field)?;
    let mut buf = [0u8; MAX_DIGITS];
    let d = &mut buf[..digits];
    for _ in 0..nbits {
        let mut carry = r.read_bit(field)?;
        for x in d.iter_mut().rev() {
            let v = *x * 2 + carry;
            *x = v % 10;
            carry = v / 10;
        }
        if carry != 0 {
            return Err(EpcError::field(
                r.scheme(),
                field,
                Problem::NumberTooLarge {
                    digits: u16::try_from(digits).unwrap_or(u16::MAX),
                },
            ));
        }
    }
    for &x in d.iter() {
        sink(b'0' + x);
    }
    Ok(())
}

/// Reads `digits` BCD nibbles (TDS 14.5.4) into `out` (which must be at least that long).
pub(crate) fn read_bcd(
    r: &mut BitReader<'_>,
    field: Field,
    out: &mut [u8],
) -> Result<(), EpcError> {
    r.ensure(
        u32::try_from(out.len().saturating_mul(4)).unwrap_or(u32::MAX),
        field,
    )?;
    for slot in out.iter_mut() {
        let nibble = r.read_u8(4, field)?;
        if nibble > 9 {
            return Err(EpcError::field(
                r.scheme(),
                field,
                Problem::NotADigit { nibble },
            ));
        }
        *slot = b'0' + nibble;
    }
    Ok(())
}

/// Days in month `mm` of two-digit year `yy` (0 for an invalid month).
pub(crate) fn days_in_month(yy: u8, mm: u8) -> u8 {
    match mm {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        // Two-digit years resolve to 1950–2049-ish windows in which YY % 4 == 0 is a leap year.
        2 if yy % 4 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Reads a YYMMDD date packed in 16 bits (TDS 14.5.8); DD = 00 is allowed (end of month).
pub(crate) fn read_date(
    r: &mut BitReader<'_>,
    field: Field,
    sink: &mut impl FnMut(u8),
) -> Result<(), EpcError> {
    r.ensure(16, field)?;
    let yy = r.read_u8(7, field)?;
    let mm = r.read_u8(4, field)?;
    let dd = r.read_u8(5, field)?;
    if yy > 99 || !(1..=12).contains(&mm) || dd > days_in_month(yy, mm) {
        return Err(EpcError::field(
            r.scheme(),
            field,
            Problem::BadDate { yy, mm, dd },
        ));
    }
    push_two(sink, yy);
    push_two(sink, mm);
    push_two(sink, dd);
    Ok(())
}

fn push_two(sink: &mut impl FnMut(u8), v: u8) {
    sink(b'0' + (v / 10) % 10);
    sink(b'0' + v % 10);
}

/// Reads hh (5 bits), then mm and ss (6 bits each) as `parts` asks (1 to 3).
fn read_time(
    r: &mut BitReader<'_>,
    field: Field,
    parts: u8,
    sink: &mut impl FnMut(u8),
) -> Result<(), EpcError> {
    let hh = r.read_u8(5, field)?;
    let mm = if parts >= 2 { r.read_u8(6, field)? } else { 0 };
    let ss = if parts >= 3 { r.read_u8(6, field)? } else { 0 };
    if hh > 23 || mm > 59 || ss > 59 {
        return Err(EpcError::field(
            r.scheme(),
            field,
            Problem::BadTime { hh, mm, ss },
        ));
    }
    push_two(sink, hh);
    if parts >= 2 {
        push_two(sink, mm);
    }
    if parts >= 3 {
        push_two(sink, ss);
    }
    Ok(())
}

/// Reads a variable-length alphanumeric (TDS 14.5.6): 3-bit encoding indicator, `li_bits`
/// length, then the characters. Returns the number of characters.
pub(crate) fn read_var_alnum(
    r: &mut BitReader<'_>,
    field: Field,
    li_bits: u8,
    min: usize,
    max: usize,
    sink: &mut impl FnMut(u8),
) -> Result<usize, EpcError> {
    let scheme = r.scheme();
    let indicator = r.read_u8(3, field)?;
    let len = r.read(u32::from(li_bits), field)? as usize;
    if indicator >= 6 {
        return Err(EpcError::field(
            scheme,
            field,
            Problem::ReservedEncoding { indicator },
        ));
    }
    if len < min {
        return Err(EpcError::field(scheme, field, Problem::Empty));
    }
    if len > max {
        return Err(EpcError::field(scheme, field, too_long(len, max)));
    }
    let n = u32::try_from(len).unwrap_or(u32::MAX);
    match indicator {
        0 => read_decimal(r, field, int_bits(len), len, sink)?,
        1 | 2 => {
            r.ensure(n.saturating_mul(4), field)?;
            let alphabet: &[u8; 16] = if indicator == 1 {
                b"0123456789ABCDEF"
            } else {
                b"0123456789abcdef"
            };
            for _ in 0..len {
                sink(alphabet[usize::from(r.read_u8(4, field)? & 0x0f)]);
            }
        }
        3 => {
            r.ensure(n.saturating_mul(6), field)?;
            for _ in 0..len {
                sink(BASE64_URL[usize::from(r.read_u8(6, field)? & 0x3f)]);
            }
        }
        4 => {
            r.ensure(n.saturating_mul(7), field)?;
            for position in 0..len {
                let code = r.read_u8(7, field)?;
                if !is_cset82(code) {
                    return Err(EpcError::field(
                        scheme,
                        field,
                        Problem::BadCharacter {
                            code,
                            position: u16::try_from(position).unwrap_or(u16::MAX),
                        },
                    ));
                }
                sink(code);
            }
        }
        _ => read_code40(r, field, len, sink)?,
    }
    Ok(len)
}

/// URN Code 40 (TDS 14.5.6.5): 16 bits per 3 characters; padding (index 0) only at the end.
pub(crate) fn read_code40(
    r: &mut BitReader<'_>,
    field: Field,
    len: usize,
    sink: &mut impl FnMut(u8),
) -> Result<(), EpcError> {
    let groups = len.div_ceil(3);
    r.ensure(u32::try_from(groups * 16).unwrap_or(u32::MAX), field)?;
    for g in 0..groups {
        let raw = r.read(16, field)?;
        // 16 bits, so raw ≤ 65535.
        let value = u16::try_from(raw).unwrap_or(u16::MAX);
        let bad = EpcError::field(r.scheme(), field, Problem::BadCode40 { value });
        if value == 0 || value > 64000 {
            return Err(bad);
        }
        let v = usize::from(value - 1);
        let idx = [v / 1600, (v / 40) % 40, v % 40];
        for (k, &i) in idx.iter().enumerate() {
            let position = g * 3 + k;
            match (position < len, i) {
                (true, 0) => return Err(bad),
                (true, i) => sink(CODE40[i]),
                (false, 0) => {}
                (false, _) => return Err(bad),
            }
        }
    }
    Ok(())
}

/// Reads the value of `ai` in format `format`, reporting it to `sink` (which gets `start(ai)`).
pub(crate) fn read_ai_value<S: ElementSink>(
    r: &mut BitReader<'_>,
    ai: Ai,
    format: AiFormat,
    sink: &mut S,
) -> Result<(), EpcError> {
    sink.start(ai);
    read_component(r, ai, format.first, format.key_len, sink)?;
    if let Some(second) = format.second {
        read_component(r, ai, second, 0, sink)?;
    }
    Ok(())
}

fn read_component<S: ElementSink>(
    r: &mut BitReader<'_>,
    ai: Ai,
    component: Component,
    key_len: u8,
    sink: &mut S,
) -> Result<(), EpcError> {
    let field = Field::Ai(ai);
    let scheme = r.scheme();
    let mut push = |c: u8| sink.push(c);
    match component {
        Component::FixedNumeric { digits } => {
            let mut buf = [0u8; 18];
            let n = usize::from(digits).min(buf.len());
            let digits_buf = &mut buf[..n];
            read_bcd(r, field, digits_buf)?;
            let key = &digits_buf[..usize::from(key_len).min(n)];
            if ai == GRAI && key.first().is_some_and(|&d| d != b'0') {
                let found = key.first().map_or(0, |d| d - b'0');
                return Err(EpcError::field(
                    scheme,
                    field,
                    Problem::FillerDigit { found },
                ));
            }
            if !key.is_empty() && !has_valid_check_digit(key) {
                let (data, last) = key.split_at(key.len() - 1);
                return Err(EpcError::field(
                    scheme,
                    field,
                    Problem::CheckDigit {
                        found: last.first().map_or(0, |d| d - b'0'),
                        expected: super::check_digit::gs1_check_digit(data),
                    },
                ));
            }
            digits_buf.iter().for_each(|&d| push(d));
        }
        Component::FixedBitNumeric { digits, bits } => {
            read_decimal(r, field, u32::from(bits), usize::from(digits), &mut push)?;
        }
        Component::VarAlnum { li_bits, min, max } => {
            read_var_alnum(
                r,
                field,
                li_bits,
                usize::from(min),
                usize::from(max),
                &mut push,
            )?;
        }
        Component::VarNumeric { li_bits, max } => {
            let len = r.read(u32::from(li_bits), field)? as usize;
            if len == 0 {
                return Err(EpcError::field(scheme, field, Problem::Empty));
            }
            if len > usize::from(max) {
                return Err(EpcError::field(
                    scheme,
                    field,
                    too_long(len, usize::from(max)),
                ));
            }
            read_decimal(r, field, int_bits(len), len, &mut push)?;
        }
        Component::Delimited { li_bits, max } => {
            let max = usize::from(max);
            let mut digits = 0usize;
            loop {
                let nibble = r.read_u8(4, field)?;
                match nibble {
                    0..=9 => {
                        digits += 1;
                        if digits > max {
                            return Err(EpcError::field(scheme, field, too_long(digits, max)));
                        }
                        push(b'0' + nibble);
                    }
                    0b1111 => break,
                    0b1110 => {
                        let rest = max.saturating_sub(digits);
                        read_var_alnum(r, field, li_bits, 1, rest, &mut push)?;
                        break;
                    }
                    _ => {
                        return Err(EpcError::field(
                            scheme,
                            field,
                            Problem::BadDelimiter { nibble },
                        ));
                    }
                }
            }
            if digits == 0 && ai != GIAI {
                return Err(EpcError::field(scheme, field, Problem::Empty));
            }
            if ai == GIAI && digits < 4 {
                return Err(EpcError::field(
                    scheme,
                    field,
                    Problem::PrefixTooShort {
                        digits: u16::try_from(digits).unwrap_or(u16::MAX),
                    },
                ));
            }
        }
        Component::Date => read_date(r, field, &mut push)?,
        Component::DateTime => {
            read_date(r, field, &mut push)?;
            read_time(r, field, 2, &mut push)?;
        }
        Component::DateRange => {
            let range = r.read_bit(field)? == 1;
            read_date(r, field, &mut push)?;
            if range {
                read_date(r, field, &mut push)?;
            }
        }
        Component::VarPrecisionDateTime => {
            let code = r.read_u8(2, field)?;
            read_date(r, field, &mut push)?;
            let parts = match code {
                0 => 1,
                1 => 2,
                2 => 3,
                _ => {
                    return Err(EpcError::field(
                        scheme,
                        field,
                        Problem::ReservedPrecision { code },
                    ));
                }
            };
            read_time(r, field, parts, &mut push)?;
        }
        Component::Country => {
            for _ in 0..2 {
                let code = r.read_u8(6, field)?;
                if code > 25 {
                    return Err(EpcError::field(scheme, field, Problem::BadCountry { code }));
                }
                push(b'A' + code);
            }
        }
        Component::Bit => {
            let bit = r.read_bit(field)?;
            push(b'0' + bit);
        }
        Component::MinusSign => {
            if r.read_bit(field)? == 1 {
                push(b'-');
            }
        }
        Component::Sequence => {
            let n = r.read_u8(4, field)?;
            let m = r.read_u8(4, field)?;
            if !(1..=9).contains(&n) || !(1..=9).contains(&m) {
                return Err(EpcError::field(
                    scheme,
                    field,
                    Problem::BadSequence { n, m },
                ));
            }
            push(b'0' + n);
            push(b'/');
            push(b'0' + m);
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    /// Bit length of 10^digits − 1, computed exactly with a little big-integer in base 2^32.
    fn exact_bits(digits: usize) -> u32 {
        let mut limbs: Vec<u64> = vec![1];
        for _ in 0..digits {
            let mut carry = 0u64;
            for limb in limbs.iter_mut() {
                let v = *limb * 10 + carry;
                *limb = v & 0xffff_ffff;
                carry = v >> 32;
            }
            if carry > 0 {
                limbs.push(carry);
            }
        }
        // 10^d is not a power of two for d ≥ 1, so bitlen(10^d − 1) == bitlen(10^d).
        let top = *limbs.last().unwrap();
        (limbs.len() as u32 - 1) * 32 + (64 - top.leading_zeros())
    }

    #[test]
    fn int_bits_matches_exact_powers_of_ten() {
        assert_eq!(int_bits(0), 0);
        for d in 1..=MAX_DIGITS {
            assert_eq!(int_bits(d), exact_bits(d), "digits {d}");
        }
        assert_eq!(int_bits(12), 40);
        assert_eq!(int_bits(20), 67);
    }
}
