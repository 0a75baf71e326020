//! GRAI-96 and GRAI-170: Global Returnable Asset Identifier in the partitioned TDS 1.x layout.
//!
//! Owns their bit layout (header 8 | filter 3 | partition 3 | GCP + asset type 44 |
//! serial 38-bit integer or 112-bit 7-bit string) and the AI (8003) value they imply:
//! `0` + GCP + asset type + recomputed check digit + serial. An asset type of 0 digits is an
//! empty URI component.

use super::ai;
use super::bits::BitReader;
use super::check_digit::gs1_check_digit;
use super::digital_link::CANONICAL_HOST;
use super::error::{EpcError, Field};
use super::partition::{self, Digits, GRAI_ASSET_TYPE};
use super::scheme::Scheme;
use super::sgtin::Serial;
use super::text::read_seven_bit;
use super::{Decoded, uri};

/// A validated GRAI.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grai {
    scheme: Scheme,
    filter: u8,
    company_prefix: Digits,
    asset_type: Digits,
    serial: Serial,
}

/// Validates a GRAI-96 or GRAI-170 (trailing zero padding allowed).
pub(crate) fn parse(bytes: &[u8], scheme: Scheme) -> Result<Grai, EpcError> {
    let total = if scheme == Scheme::Grai96 { 96 } else { 170 };
    partition::require_bits(bytes, scheme, total)?;
    let mut r = BitReader::new(bytes, scheme);
    let front = partition::read_front(&mut r)?;
    let (bits, digits) = GRAI_ASSET_TYPE[front.partition];
    let asset_type = partition::read_digits(&mut r, bits, digits, "asset type")?;
    let serial = if scheme == Scheme::Grai96 {
        Serial::Integer(r.read(38, Field::Named("serial"))?)
    } else {
        Serial::Text(read_seven_bit(&mut r, 112, 16, "serial")?)
    };
    r.expect_zero_tail()?;
    Ok(Grai {
        scheme,
        filter: front.filter,
        company_prefix: front.company_prefix,
        asset_type,
        serial,
    })
}

impl Grai {
    /// The full decoded form.
    pub(crate) fn to_decoded(self, bytes: &[u8]) -> Decoded {
        let cp = self.company_prefix.to_padded();
        let at = self.asset_type.to_padded();
        let serial = self.serial.to_text(bytes);
        let mut key = String::with_capacity(14 + serial.len());
        key.push('0');
        key.push_str(&cp);
        key.push_str(&at);
        key.push(char::from(b'0' + gs1_check_digit(key.as_bytes())));
        key.push_str(&serial);
        let mut d = Decoded::empty(self.scheme);
        d.filter = Some(self.filter);
        d.pure_identity = Some(uri::pure_identity("grai", &[&cp, &at, &serial]));
        d.tag_uri = Some(uri::tag_uri(
            self.scheme.json_name(),
            &[&self.filter.to_string(), &cp, &at, &serial],
        ));
        d.set_gs1_elements(CANONICAL_HOST, &[(ai::GRAI, &key)]);
        d.company_prefix = Some(cp);
        d.grai = Some(key);
        d.serial = Some(serial);
        d
    }
}
