//! SGTIN-96 and SGTIN-198: GTIN + serial in the partitioned TDS 1.x layout.
//!
//! Owns their bit layout (header 8 | filter 3 | partition 3 | GCP + item reference 44 |
//! serial 38-bit integer or 140-bit 7-bit string) and the GTIN-14 they imply. Parsing validates
//! everything without allocating, so [`crate::epc::gtin14`] can use it per tag; it must never
//! accept what `decode` would reject.

use super::ai;
use super::bits::BitReader;
use super::check_digit::gs1_check_digit;
use super::digital_link::CANONICAL_HOST;
use super::error::{EpcError, Field};
use super::partition::{self, Digits, SGTIN_ITEM_REF};
use super::scheme::Scheme;
use super::text::{SevenBitString, read_seven_bit};
use super::{Decoded, uri};

/// An SGTIN serial: an integer (96) or a validated 7-bit string (198).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Serial {
    /// SGTIN-96: 38-bit integer, written without leading zeros.
    Integer(u64),
    /// SGTIN-198: up to 20 characters of set 82.
    Text(SevenBitString),
}

impl Serial {
    /// The serial as text (unescaped).
    pub(crate) fn to_text(self, bytes: &[u8]) -> String {
        match self {
            Serial::Integer(v) => v.to_string(),
            Serial::Text(s) => s.to_string(bytes),
        }
    }
}

/// A validated SGTIN.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sgtin {
    scheme: Scheme,
    filter: u8,
    company_prefix: Digits,
    item_ref: Digits,
    serial: Serial,
}

/// Validates an SGTIN-96 or SGTIN-198 (trailing zero padding allowed).
pub(crate) fn parse(bytes: &[u8], scheme: Scheme) -> Result<Sgtin, EpcError> {
    let total = if scheme == Scheme::Sgtin96 { 96 } else { 198 };
    partition::require_bits(bytes, scheme, total)?;
    let mut r = BitReader::new(bytes, scheme);
    let front = partition::read_front(&mut r)?;
    let (bits, digits) = SGTIN_ITEM_REF[front.partition];
    let item_ref = partition::read_digits(&mut r, bits, digits, "item reference")?;
    let serial = if scheme == Scheme::Sgtin96 {
        Serial::Integer(r.read(38, Field::Named("serial"))?)
    } else {
        Serial::Text(read_seven_bit(&mut r, 140, 20, "serial")?)
    };
    r.expect_zero_tail()?;
    Ok(Sgtin {
        scheme,
        filter: front.filter,
        company_prefix: front.company_prefix,
        item_ref,
        serial,
    })
}

/// GTIN-14 from company prefix and item reference: indicator digit (first item-reference
/// digit), GCP, rest of the item reference, recomputed check digit.
pub(crate) fn gtin_from(company_prefix: Digits, item_ref: Digits) -> String {
    let mut gtin = [b'0'; 14];
    partition::indicator_first(company_prefix, item_ref, &mut gtin[..13]);
    gtin[13] = b'0' + gs1_check_digit(&gtin[..13]);
    gtin.iter().map(|&b| char::from(b)).collect()
}

impl Sgtin {
    /// The GTIN-14 with recomputed check digit.
    pub(crate) fn gtin(&self) -> String {
        gtin_from(self.company_prefix, self.item_ref)
    }

    /// The full decoded form.
    pub(crate) fn to_decoded(self, bytes: &[u8]) -> Decoded {
        let cp = self.company_prefix.to_padded();
        let ir = self.item_ref.to_padded();
        let serial = self.serial.to_text(bytes);
        let gtin = self.gtin();
        let mut d = Decoded::empty(self.scheme);
        d.filter = Some(self.filter);
        d.pure_identity = Some(uri::pure_identity("sgtin", &[&cp, &ir, &serial]));
        d.tag_uri = Some(uri::tag_uri(
            self.scheme.json_name(),
            &[&self.filter.to_string(), &cp, &ir, &serial],
        ));
        d.set_gs1_elements(CANONICAL_HOST, &[(ai::GTIN, &gtin), (ai::SERIAL, &serial)]);
        d.company_prefix = Some(cp);
        d.gtin = Some(gtin);
        d.serial = Some(serial);
        d
    }
}
