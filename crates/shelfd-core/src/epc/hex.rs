//! Hex text → EPC bytes, as readers, read logs, ASNs and people write an EPC.
//!
//! Owns only the text form: upper- or lower-case hex digits, no separators, no `0x`, no
//! trimming. The result is always what a tag's EPC bank holds: whole 16-bit words, zero-padded.
//! Hex of whole words is taken as it is (any EPC, GS1 or not). Shorter hex is how GS1's own
//! examples and other EPC libraries print an EPC at its exact bit length (SGTIN-198 as 50 digits,
//! TDS 2.x '+' schemes with odd digit counts): it is accepted only when it is a valid GS1 EPC
//! whose bits it covers, with zero pad bits. It never guesses beyond that.

use super::error::{EpcError, echo};

/// Parses hex text (upper or lower case, no separators) into EPC bank bytes (whole 16-bit
/// words; trailing pad bits zero).
///
/// Hex that is a whole number of 16-bit words (`len % 4 == 0`) is any EPC. Other lengths must
/// be a strictly valid GS1 EPC whose scheme length they cover (e.g. an SGTIN-198 as 50 digits,
/// an SSCC+ as 21); anything else is rejected with the reason.
///
/// ```
/// use shelfd_core::epc::parse_hex;
/// assert_eq!(parse_hex("30f1").unwrap(), vec![0x30, 0xf1]);
/// // TDS 2.3 annex E.3: SSCC+ printed with 21 digits, padded to the 6 words a tag holds.
/// assert_eq!(parse_hex("F90095201234567891235").unwrap().len(), 12);
/// assert_eq!(
///     parse_hex("30f").unwrap_err().to_string(),
///     r#"hex "30f" has 12 bits (3 hex digits), too few for SGTIN-96, which needs 96"#
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
    let mut bytes: Vec<u8> = digits
        .chunks(2)
        .map(|pair| (nibble(pair[0]) << 4) | pair.get(1).map_or(0, |&c| nibble(c)))
        .collect();
    if bytes.len() % 2 == 1 {
        bytes.push(0);
    }
    if digits.len() % 4 == 0 {
        return Ok(bytes);
    }
    let bits = digits.len() * 4;
    match super::encoded_bits(&bytes) {
        Ok((_, needed)) if needed <= bits => Ok(bytes),
        Ok((scheme, needed)) | Err(EpcError::TooShort { scheme, needed, .. }) => {
            Err(EpcError::HexTooShort {
                hex: echo(s),
                len: digits.len(),
                bits,
                scheme,
                needed,
            })
        }
        Err(cause) => Err(EpcError::HexNotWords {
            hex: echo(s),
            len: digits.len(),
            cause: Box::new(cause),
        }),
    }
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
            r#"hex "30f" has 12 bits (3 hex digits), too few for SGTIN-96, which needs 96"#
        );
        assert_eq!(
            parse_hex("E28").unwrap_err().to_string(),
            r#"hex "E28" is not a whole number of 16-bit words (3 hex digits) nor a GS1 EPC printed at its own length: unknown EPC header 0xe2 (not a GS1 EPC scheme)"#
        );
        assert_eq!(
            parse_hex("3").unwrap_err().to_string(),
            r#"hex "3" has 4 bits (1 hex digits), too few for SGTIN-96, which needs 96"#
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
