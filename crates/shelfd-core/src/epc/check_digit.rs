//! The GS1 mod-10 check digit (GTIN, SSCC, GLN, GRAI, GSRN …).
//!
//! Owns only the arithmetic; it never validates lengths or character sets. EPC binaries never
//! store a check digit, so decoders recompute it; '+' schemes do store one, and their decoders
//! compare it with this.

/// The GS1 check digit of `data` (ASCII digits, without the check digit): weights 3,1,3,1…
/// from the rightmost digit, check = (10 − sum mod 10) mod 10. Non-digits count as 0.
///
/// ```
/// use shelfd_core::epc::check_digit::gs1_check_digit;
/// assert_eq!(gs1_check_digit(b"8061414112345"), 8);
/// assert_eq!(gs1_check_digit(b"10614141234567890"), 8);
/// ```
pub fn gs1_check_digit(data: &[u8]) -> u8 {
    let sum: u32 = data
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &c)| {
            let d = u32::from(c.wrapping_sub(b'0')).min(10) % 10;
            if i % 2 == 0 { 3 * d } else { d }
        })
        .sum();
    // sum % 10 < 10, so the result is a single digit.
    ((10 - sum % 10) % 10) as u8
}

/// True when the last ASCII digit of `key` is the check digit of the ones before it.
pub fn has_valid_check_digit(key: &[u8]) -> bool {
    match key.split_last() {
        Some((&last, data)) => last.wrapping_sub(b'0') == gs1_check_digit(data),
        None => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn examples_from_gs1_md() {
        // GS1.md §5: 8061414112345 → 8; SSCC 0614141.1234567890 → 106141412345678908.
        assert_eq!(gs1_check_digit(b"8061414112345"), 8);
        assert!(has_valid_check_digit(b"80614141123458"));
        assert!(has_valid_check_digit(b"106141412345678908"));
        assert!(!has_valid_check_digit(b"106141412345678907"));
        assert!(has_valid_check_digit(b"09506000134352"));
        assert!(has_valid_check_digit(b"9521141123454"));
        assert!(!has_valid_check_digit(b""));
    }
}
