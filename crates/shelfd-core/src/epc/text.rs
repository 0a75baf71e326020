//! Character strings inside EPCs: the GS1 AI encodable character set 82 and the fixed-width
//! 7-bit string fields of SGTIN-198, SGLN-195, GRAI-170 and GIAI-202.
//!
//! Owns string validation: a string ends at its first all-zero 7-bit character, everything after
//! it must be zero, and every character must be in set 82. It never formats URIs (see `uri`).

use super::bits::BitReader;
use super::error::{EpcError, Field, Problem};

/// True for the 82 characters of the GS1 AI encodable character set 82:
/// ``!"%&'()*+,-./0-9:;<=>?A-Z_a-z``.
pub(crate) fn is_cset82(c: u8) -> bool {
    matches!(c,
        b'!' | b'"' | b'%'..=b'?' | b'A'..=b'Z' | b'_' | b'a'..=b'z')
}

/// Where a fixed-width 7-bit string lies in the EPC; validated, decoded on demand.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SevenBitString {
    /// Absolute bit index of the first character.
    start: usize,
    /// Number of characters before the terminating zero (or the field end).
    len: usize,
}

impl SevenBitString {
    /// The characters, read again from `bytes` (which must be the bytes it was validated on).
    pub(crate) fn chars<'a>(&self, bytes: &'a [u8]) -> impl Iterator<Item = u8> + 'a {
        let start = self.start;
        (0..self.len).map(move |k| {
            let mut c = 0u8;
            for b in 0..7 {
                let i = start + k * 7 + b;
                let bit = bytes
                    .get(i / 8)
                    .map_or(0, |byte| (byte >> (7 - (i % 8))) & 1);
                c = (c << 1) | bit;
            }
            c
        })
    }

    /// The string as an owned `String` (set 82 is ASCII, so bytes are chars).
    pub(crate) fn to_string(self, bytes: &[u8]) -> String {
        self.chars(bytes).map(char::from).collect()
    }
}

/// Reads a `width`-bit field of 7-bit characters: stops at the first zero character, requires
/// every later bit (including a partial last character) to be zero, every character to be in
/// set 82, and between 1 and `max_chars` characters.
pub(crate) fn read_seven_bit(
    r: &mut BitReader<'_>,
    width: u32,
    max_chars: usize,
    field: &'static str,
) -> Result<SevenBitString, EpcError> {
    let f = Field::Named(field);
    r.ensure(width, f)?;
    let scheme = r.scheme();
    let start = r.position();
    let capacity = (width / 7) as usize;
    let mut len = 0usize;
    for k in 0..capacity {
        let c = r.read_u8(7, f)?;
        if c == 0 {
            break;
        }
        if !is_cset82(c) {
            return Err(EpcError::field(
                scheme,
                f,
                Problem::BadCharacter {
                    code: c,
                    position: u16::try_from(k).unwrap_or(u16::MAX),
                },
            ));
        }
        len = k + 1;
    }
    let field_end = start + width as usize;
    if r.first_set_bit(r.position(), field_end).is_some() {
        return Err(EpcError::field(scheme, f, Problem::NonZeroPadding));
    }
    r.skip(field_end - r.position());
    if len == 0 {
        return Err(EpcError::field(scheme, f, Problem::Empty));
    }
    if len > max_chars {
        return Err(EpcError::field(
            scheme,
            f,
            Problem::TooLong {
                length: u16::try_from(len).unwrap_or(u16::MAX),
                max: u16::try_from(max_chars).unwrap_or(u16::MAX),
            },
        ));
    }
    Ok(SevenBitString { start, len })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn set_82_has_82_members() {
        let members: Vec<u8> = (0u8..128).filter(|&c| is_cset82(c)).collect();
        assert_eq!(members.len(), 82);
        assert_eq!(
            String::from_utf8(members).unwrap(),
            "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
        );
        assert!(!is_cset82(b'#'));
        assert!(!is_cset82(b' '));
    }
}
