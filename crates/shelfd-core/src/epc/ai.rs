//! GS1 Application Identifiers as TDS 2.x encodes them: the AI code, how many digits an AI has
//! given its first two (TDT Table K), and the binary format of each supported AI's value (a subset
//! of TDT Table F).
//!
//! Owns only this table knowledge. AIs missing here are rejected by name ("not supported"),
//! never skipped or guessed. Values are read by `ai_value`.

use std::fmt;

/// A GS1 Application Identifier, e.g. `01`, `254`, `3103`, `8004`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ai {
    code: u16,
    digits: u8,
}

impl Ai {
    /// The AI with numeric `code` written in `digits` digits (2 to 4).
    pub const fn new(code: u16, digits: u8) -> Self {
        Ai { code, digits }
    }

    /// The numeric code (e.g. 1 for `01`).
    pub fn code(self) -> u16 {
        self.code
    }

    /// The number of digits of the AI.
    pub fn digits(self) -> u8 {
        self.digits
    }
}

impl fmt::Display for Ai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:0width$}", self.code, width = usize::from(self.digits))
    }
}

/// AI (00) SSCC.
pub const SSCC: Ai = Ai::new(0, 2);
/// AI (01) GTIN.
pub const GTIN: Ai = Ai::new(1, 2);
/// AI (10) batch/lot.
pub const BATCH: Ai = Ai::new(10, 2);
/// AI (21) serial.
pub const SERIAL: Ai = Ai::new(21, 2);
/// AI (22) consumer product variant.
pub const CPV: Ai = Ai::new(22, 2);
/// AI (254) GLN extension.
pub const GLN_EXTENSION: Ai = Ai::new(254, 3);
/// AI (414) GLN of a physical location.
pub const GLN: Ai = Ai::new(414, 3);
/// AI (8003) GRAI.
pub const GRAI: Ai = Ai::new(8003, 4);
/// AI (8004) GIAI.
pub const GIAI: Ai = Ai::new(8004, 4);

/// How many digits an AI starting with the two digits `prefix` has (TDT Table K, from the GS1
/// General Specifications AI list); `None` if no AI starts with them.
pub(crate) fn ai_length(prefix: u8) -> Option<u8> {
    Some(match prefix {
        0..=2 => 2,
        10..=13 | 15..=17 | 20..=22 => 2,
        23..=25 => 3,
        30 | 37 => 2,
        31..=36 | 39 => 4,
        40..=42 => 3,
        43 => 4,
        70 | 72 => 4,
        71 => 3,
        80..=82 => 4,
        90..=99 => 2,
        _ => return None,
    })
}

/// The binary format of one component of an AI value (TDS 14.5, TDT Table F).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Component {
    /// 14.5.4: `digits` BCD nibbles.
    FixedNumeric { digits: u8 },
    /// 14.5.2: an integer in `bits` bits, zero-padded to `digits` digits.
    FixedBitNumeric { digits: u8, bits: u8 },
    /// 14.5.6: 3-bit encoding indicator, `li_bits` length indicator, then characters.
    VarAlnum { li_bits: u8, min: u8, max: u8 },
    /// 14.5.13: `li_bits` length indicator, then an integer of that many digits.
    VarNumeric { li_bits: u8, max: u8 },
    /// 14.5.5: BCD digits ended by 1111, or by 1110 and an alphanumeric remainder.
    Delimited { li_bits: u8, max: u8 },
    /// 14.5.8: YYMMDD in 16 bits.
    Date,
    /// 14.5.9: YYMMDDhhmm.
    DateTime,
    /// 14.5.10: one date, or a range of two.
    DateRange,
    /// 14.5.11: YYMMDDhh[mm[ss]] with a 2-bit precision code.
    VarPrecisionDateTime,
    /// 14.5.12: ISO 3166-1 alpha-2 in 2 × 6 bits.
    Country,
    /// 14.5.7: one bit, `0` or `1`.
    Bit,
    /// 14.5.14: one bit, `-` when set.
    MinusSign,
    /// 14.5.15: `n/m` in 2 × 4 bits.
    Sequence,
}

/// The value format of a supported AI, and the GS1 key check that applies to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AiFormat {
    /// First component.
    pub(crate) first: Component,
    /// Optional second component, appended to the first.
    pub(crate) second: Option<Component>,
    /// Length of a leading GS1 key (with its check digit at the end) to verify; 0 for none.
    pub(crate) key_len: u8,
}

const fn one(first: Component) -> AiFormat {
    AiFormat {
        first,
        second: None,
        key_len: 0,
    }
}

const fn keyed(first: Component, key_len: u8) -> AiFormat {
    AiFormat {
        first,
        second: None,
        key_len,
    }
}

const fn two(first: Component, second: Component, key_len: u8) -> AiFormat {
    AiFormat {
        first,
        second: Some(second),
        key_len,
    }
}

const fn alnum(li_bits: u8, max: u8) -> Component {
    Component::VarAlnum {
        li_bits,
        min: 1,
        max,
    }
}

const fn fixed_bits(digits: u8, bits: u8) -> Component {
    Component::FixedBitNumeric { digits, bits }
}

const fn var_num(li_bits: u8, max: u8) -> Component {
    Component::VarNumeric { li_bits, max }
}

const fn bcd(digits: u8) -> Component {
    Component::FixedNumeric { digits }
}

/// The format of `ai` if this decoder supports it (TDT Table F rows; GS1 General Specifications
/// for the measure families 310n–369n, n = 0..5).
pub(crate) fn ai_format(ai: Ai) -> Option<AiFormat> {
    use Component::*;
    let c = ai.code;
    let f = match ai.digits {
        2 => match c {
            0 => keyed(bcd(18), 18),
            1 | 2 => keyed(bcd(14), 14),
            10 | 21 | 22 => one(alnum(5, 20)),
            11..=13 | 15..=17 => one(Date),
            20 => one(fixed_bits(2, 7)),
            30 | 37 => one(var_num(4, 8)),
            90 => one(alnum(5, 30)),
            91..=99 => one(alnum(7, 90)),
            _ => return None,
        },
        3 => match c {
            235 => one(alnum(5, 28)),
            240 | 241 | 250 | 251 | 400 | 401 | 403 => one(alnum(5, 30)),
            242 => one(var_num(3, 6)),
            243 | 254 | 420 | 710..=716 => one(alnum(5, 20)),
            253 => two(bcd(13), alnum(5, 17), 13),
            255 => two(bcd(13), var_num(4, 12), 13),
            402 => one(fixed_bits(17, 57)),
            410..=417 => keyed(bcd(13), 13),
            421 => two(fixed_bits(3, 10), alnum(4, 9), 0),
            422 | 424 | 426 => one(fixed_bits(3, 10)),
            423 | 425 => one(var_num(4, 15)),
            427 => one(alnum(2, 3)),
            _ => return None,
        },
        4 => match c {
            3100..=3699 => {
                let (family, n) = (c / 10, c % 10);
                let known = matches!(family, 310..=316 | 320..=329 | 330..=337 | 340..=349)
                    || matches!(family, 350..=357 | 360..=369);
                if !known || n > 5 {
                    return None;
                }
                one(fixed_bits(6, 20))
            }
            3900..=3909 | 3920..=3929 => one(var_num(4, 15)),
            3910..=3919 | 3930..=3939 => two(fixed_bits(3, 10), var_num(4, 15), 0),
            3940..=3943 => one(fixed_bits(4, 14)),
            3950..=3953 => one(fixed_bits(6, 20)),
            4300 | 4301 | 4310 | 4311 | 4320 => one(alnum(6, 35)),
            4302..=4306 | 4312..=4316 => one(alnum(7, 70)),
            4307 | 4317 => one(Country),
            4308 | 4319 => one(alnum(5, 30)),
            4309 => one(fixed_bits(20, 67)),
            4318 => one(alnum(5, 20)),
            4321..=4323 => one(Bit),
            4324 | 4325 => one(DateTime),
            4326 => one(Date),
            4330..=4333 => two(fixed_bits(6, 20), MinusSign, 0),
            7001 => one(fixed_bits(13, 44)),
            7002 | 7230..=7239 => one(alnum(5, 30)),
            7003 => one(DateTime),
            7004 => one(var_num(3, 4)),
            7005 => one(alnum(4, 12)),
            7006 => one(Date),
            7007 => one(DateRange),
            7008 => one(alnum(2, 3)),
            7009 | 7255 => one(alnum(4, 10)),
            7010 => one(alnum(2, 2)),
            7020..=7022 | 7240 | 8002 | 8012 => one(alnum(5, 20)),
            7023 | 8010 => one(Delimited {
                li_bits: 5,
                max: 30,
            }),
            7030..=7039 => two(fixed_bits(3, 10), alnum(5, 27), 0),
            7040 | 7041 => one(alnum(3, 4)),
            7241 => one(bcd(2)),
            7242 | 8013 | 8020 => one(alnum(5, 25)),
            7250 => one(fixed_bits(8, 27)),
            7251 => one(fixed_bits(12, 40)),
            7252 => one(fixed_bits(1, 4)),
            7253 | 7254 | 7259 => one(alnum(6, 40)),
            7256 | 8030 => one(alnum(7, 90)),
            7257 | 8110 | 8112 | 8200 => one(alnum(7, 70)),
            7258 => one(Sequence),
            8001 => one(fixed_bits(14, 47)),
            8003 => two(
                bcd(14),
                VarAlnum {
                    li_bits: 5,
                    min: 0,
                    max: 16,
                },
                14,
            ),
            8004 => one(Delimited {
                li_bits: 5,
                max: 30,
            }),
            8005 => one(fixed_bits(6, 20)),
            8006 | 8026 => keyed(bcd(18), 14),
            8007 => one(alnum(5, 24)),
            8008 => one(VarPrecisionDateTime),
            8009 => one(alnum(6, 50)),
            8011 => one(var_num(4, 12)),
            8017 | 8018 => keyed(bcd(18), 18),
            8019 => one(var_num(4, 10)),
            8111 => one(fixed_bits(4, 14)),
            _ => return None,
        },
        _ => return None,
    };
    Some(f)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn displays_with_leading_zeros() {
        assert_eq!(SSCC.to_string(), "00");
        assert_eq!(GTIN.to_string(), "01");
        assert_eq!(Ai::new(3103, 4).to_string(), "3103");
    }

    #[test]
    fn table_k_lengths() {
        assert_eq!(ai_length(1), Some(2));
        assert_eq!(ai_length(14), None);
        assert_eq!(ai_length(25), Some(3));
        assert_eq!(ai_length(31), Some(4));
        assert_eq!(ai_length(80), Some(4));
    }

    #[test]
    fn measure_families() {
        assert!(ai_format(Ai::new(3103, 4)).is_some());
        assert!(ai_format(Ai::new(3106, 4)).is_none());
        assert!(ai_format(Ai::new(3170, 4)).is_none());
        assert!(ai_format(Ai::new(3375, 4)).is_some());
        assert!(ai_format(Ai::new(3385, 4)).is_none());
    }
}
