//! SSCC-96: Serial Shipping Container Code in the partitioned TDS 1.x layout.
//!
//! Owns its bit layout (header 8 | filter 3 | partition 3 | GCP + serial reference 58 |
//! 24 unallocated bits that must be zero) and the SSCC-18 it implies (extension digit, GCP,
//! rest of the serial reference, recomputed check digit).

use super::ai;
use super::bits::BitReader;
use super::check_digit::gs1_check_digit;
use super::digital_link::CANONICAL_HOST;
use super::error::{EpcError, Field, Problem};
use super::partition::{self, Digits, SSCC_SERIAL_REF};
use super::scheme::Scheme;
use super::{Decoded, uri};

/// A validated SSCC-96.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sscc {
    filter: u8,
    company_prefix: Digits,
    serial_ref: Digits,
}

/// Validates an SSCC-96 (trailing zero padding allowed).
pub(crate) fn parse(bytes: &[u8]) -> Result<Sscc, EpcError> {
    let scheme = Scheme::Sscc96;
    partition::require_bits(bytes, scheme, 96)?;
    let mut r = BitReader::new(bytes, scheme);
    let front = partition::read_front(&mut r)?;
    let (bits, digits) = SSCC_SERIAL_REF[front.partition];
    let serial_ref = partition::read_digits(&mut r, bits, digits, "serial reference")?;
    let unallocated = Field::Named("unallocated bits");
    let value = r.read(24, unallocated)?;
    if value != 0 {
        return Err(EpcError::field(
            scheme,
            unallocated,
            Problem::NotZero { value },
        ));
    }
    r.expect_zero_tail()?;
    Ok(Sscc {
        filter: front.filter,
        company_prefix: front.company_prefix,
        serial_ref,
    })
}

impl Sscc {
    /// SSCC-18: extension digit, GCP, rest of the serial reference, check digit.
    pub(crate) fn sscc18(&self) -> String {
        let mut sscc = [b'0'; 18];
        partition::indicator_first(self.company_prefix, self.serial_ref, &mut sscc[..17]);
        sscc[17] = b'0' + gs1_check_digit(&sscc[..17]);
        sscc.iter().map(|&b| char::from(b)).collect()
    }

    /// The full decoded form.
    pub(crate) fn to_decoded(self) -> Decoded {
        let cp = self.company_prefix.to_padded();
        let sr = self.serial_ref.to_padded();
        let sscc = self.sscc18();
        let mut d = Decoded::empty(Scheme::Sscc96);
        d.filter = Some(self.filter);
        d.pure_identity = Some(uri::pure_identity("sscc", &[&cp, &sr]));
        d.tag_uri = Some(uri::tag_uri(
            "sscc-96",
            &[&self.filter.to_string(), &cp, &sr],
        ));
        d.set_gs1_elements(CANONICAL_HOST, &[(ai::SSCC, &sscc)]);
        d.company_prefix = Some(cp);
        d.sscc = Some(sscc);
        d
    }
}
