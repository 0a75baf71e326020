//! Hex text → EPC bytes, as readers and read logs report an EPC bank.
//!
//! Owns only the text form: upper- or lower-case hex digits, no separators, whole 16-bit words.
//! It never guesses (no trimming, no `0x` prefix, no odd-length padding).

use super::error::{EpcError, echo};

/// Parses hex text (upper or lower case, no separators) into bytes.
///
/// The text must be a non-empty whole number of 16-bit words (`len % 4 == 0`), as the EPC bank
/// of a Gen2 tag is organised in words.
///
/// ```
/// use shelfd_core::epc::parse_hex;
/// assert_eq!(parse_hex("30f1").unwrap(), vec![0x30, 0xf1]);
/// assert_eq!(
///     parse_hex("30f").unwrap_err().to_string(),
///     r#"hex "30f" is not a whole number of 16-bit words (3 hex digits)"#
/// );
/// ```
pub fn parse_hex(s: &str) -> Result<Vec<u8>, EpcError> {
    if s.is_empty() {
        return Err(EpcError::EmptyHex);
    }
    if let Some((position, ch)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(EpcError::HexCharacter {
            hex: echo(s),
            ch,
            position,
        });
    }
    // Only ASCII hex digits from here on, so bytes == characters.
    let digits = s.as_bytes();
    if digits.len() % 4 != 0 {
        return Err(EpcError::HexNotWords {
            hex: echo(s),
            len: digits.len(),
        });
    }
    Ok(digits
        .chunks_exact(2)
        .map(|pair| (nibble(pair[0]) << 4) | nibble(pair[1]))
        .collect())
}

/// The value of one ASCII hex digit (callers have checked it is one).
fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn parses_upper_and_lower_case() {
        assert_eq!(
            parse_hex("3074257bF719").unwrap(),
            vec![0x30, 0x74, 0x25, 0x7b, 0xf7, 0x19]
        );
    }

    #[test]
    fn rejects_with_the_offending_value() {
        assert_eq!(parse_hex("").unwrap_err(), EpcError::EmptyHex);
        assert_eq!(
            parse_hex("30 74").unwrap_err().to_string(),
            r#"hex "30 74" has ' ' at position 2, which is not a hex digit"#
        );
        assert_eq!(
            parse_hex("0x3074").unwrap_err().to_string(),
            r#"hex "0x3074" has 'x' at position 1, which is not a hex digit"#
        );
        assert_eq!(
            parse_hex("30f").unwrap_err().to_string(),
            r#"hex "30f" is not a whole number of 16-bit words (3 hex digits)"#
        );
        assert_eq!(parse_hex("3074257B").unwrap(), vec![0x30, 0x74, 0x25, 0x7b]);
        assert!(matches!(
            parse_hex("30ä0"),
            Err(EpcError::HexCharacter { ch: 'ä', .. })
        ));
    }

    #[test]
    fn long_input_is_shortened_in_messages() {
        let long = "g".repeat(500);
        let msg = parse_hex(&long).unwrap_err().to_string();
        assert!(msg.len() < 200, "{msg}");
        assert!(msg.contains('…'));
    }
}
