//! GTIN-14 checks for planograms: 14 digits with a valid GS1 mod-10 check digit. Owns only the
//! check; decoding GTINs out of EPCs is `crate::epc`'s job.

/// The GS1 mod-10 check digit of the first 13 digits of a GTIN-14 (weights 3, 1, 3, … from the
/// left). `digits` must be ASCII digits.
fn check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    // `sum % 10` is below 10, so the result is a single digit.
    ((10 - sum % 10) % 10) as u8
}

/// Checks a planogram GTIN. The error names the GTIN and, for a wrong check digit, the
/// expected one.
///
/// ```
/// use shelfd_core::gtin::check_gtin14;
/// assert_eq!(check_gtin14("00614141123452"), Ok(()));
/// assert_eq!(
///     check_gtin14("00614141123453").unwrap_err(),
///     r#"invalid GTIN "00614141123453": check digit is 3, expected 2"#
/// );
/// ```
pub fn check_gtin14(gtin: &str) -> Result<(), String> {
    let bytes = gtin.as_bytes();
    if !bytes.iter().all(u8::is_ascii_digit) || bytes.is_empty() {
        return Err(format!("invalid GTIN {gtin:?}: expected 14 digits"));
    }
    if bytes.len() != 14 {
        let hint = if [8, 12, 13].contains(&bytes.len()) {
            " (pad a GTIN-8, GTIN-12 or GTIN-13 with leading zeros to 14 digits)"
        } else {
            ""
        };
        return Err(format!(
            "invalid GTIN {gtin:?}: expected 14 digits, found {}{hint}",
            bytes.len()
        ));
    }
    let expected = check_digit(&bytes[..13]);
    let actual = bytes[13] - b'0';
    if actual != expected {
        return Err(format!(
            "invalid GTIN {gtin:?}: check digit is {actual}, expected {expected}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_gtins() {
        assert_eq!(check_gtin14("00614141123452"), Ok(()));
        assert_eq!(check_gtin14("10614141123459"), Ok(()));
        assert_eq!(check_gtin14("00000000000000"), Ok(()));
        assert!(check_gtin14("0614141123452").is_err_and(|e| e.contains("found 13 (pad")));
        assert!(check_gtin14("0061414112345x").is_err_and(|e| e.contains("expected 14 digits")));
        assert!(check_gtin14("").is_err());
    }

    proptest! {
        #[test]
        fn exactly_one_check_digit_is_valid(body in "[0-9]{13}") {
            let valid = (0..10).filter(|d| check_gtin14(&format!("{body}{d}")).is_ok()).count();
            prop_assert_eq!(valid, 1);
        }
    }
}
