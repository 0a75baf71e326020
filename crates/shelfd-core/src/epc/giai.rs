//! GIAI-96 and GIAI-202: Global Individual Asset Identifier in the partitioned TDS 1.x layout.
//!
//! Owns their bit layout (header 8 | filter 3 | partition 3 | GCP + asset reference: 82 bits
//! holding an integer, or 188 bits holding at most 30 − GCP-digits 7-bit characters) and the
//! AI (8004) value GCP + asset reference.

use super::ai;
use super::bits::BitReader;
use super::digital_link::CANONICAL_HOST;
use super::error::{EpcError, Field};
use super::partition::{self, Digits, GIAI96_ASSET_REF_BITS, GIAI202_ASSET_REF};
use super::scheme::Scheme;
use super::sgtin::Serial;
use super::text::read_seven_bit;
use super::{Decoded, uri};

/// A validated GIAI.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Giai {
    scheme: Scheme,
    filter: u8,
    company_prefix: Digits,
    asset_ref: Serial,
}

/// Validates a GIAI-96 or GIAI-202 (trailing zero padding allowed).
pub(crate) fn parse(bytes: &[u8], scheme: Scheme) -> Result<Giai, EpcError> {
    let total = if scheme == Scheme::Giai96 { 96 } else { 202 };
    partition::require_bits(bytes, scheme, total)?;
    let mut r = BitReader::new(bytes, scheme);
    let front = partition::read_front(&mut r)?;
    let asset_ref = if scheme == Scheme::Giai96 {
        let bits = u32::from(GIAI96_ASSET_REF_BITS[front.partition]);
        Serial::Integer(r.read(bits, Field::Named("asset reference"))?)
    } else {
        let (bits, max) = GIAI202_ASSET_REF[front.partition];
        Serial::Text(read_seven_bit(
            &mut r,
            u32::from(bits),
            usize::from(max),
            "asset reference",
        )?)
    };
    r.expect_zero_tail()?;
    Ok(Giai {
        scheme,
        filter: front.filter,
        company_prefix: front.company_prefix,
        asset_ref,
    })
}

impl Giai {
    /// The full decoded form.
    pub(crate) fn to_decoded(self, bytes: &[u8]) -> Decoded {
        let cp = self.company_prefix.to_padded();
        let asset_ref = self.asset_ref.to_text(bytes);
        let giai = format!("{cp}{asset_ref}");
        let mut d = Decoded::empty(self.scheme);
        d.filter = Some(self.filter);
        d.pure_identity = Some(uri::pure_identity("giai", &[&cp, &asset_ref]));
        d.tag_uri = Some(uri::tag_uri(
            self.scheme.json_name(),
            &[&self.filter.to_string(), &cp, &asset_ref],
        ));
        d.set_gs1_elements(CANONICAL_HOST, &[(ai::GIAI, &giai)]);
        d.company_prefix = Some(cp);
        d.giai = Some(giai);
        d
    }
}
