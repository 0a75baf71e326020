//! SGLN-96 and SGLN-195: GLN + extension in the partitioned TDS 1.x layout.
//!
//! Owns their bit layout (header 8 | filter 3 | partition 3 | GCP + location reference 41 |
//! extension 41-bit integer or 140-bit 7-bit string) and the GLN-13 they imply. A location
//! reference of 0 digits is an empty URI component; extension `0` means the GLN itself, so the
//! Digital Link and element string then carry no AI (254).

use super::ai;
use super::bits::BitReader;
use super::check_digit::gs1_check_digit;
use super::digital_link::CANONICAL_HOST;
use super::error::{EpcError, Field};
use super::partition::{self, Digits, SGLN_LOCATION_REF};
use super::scheme::Scheme;
use super::text::{SevenBitString, read_seven_bit};
use super::{Decoded, uri};

#[derive(Debug, Clone, Copy)]
enum Extension {
    Integer(u64),
    Text(SevenBitString),
}

/// A validated SGLN.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sgln {
    scheme: Scheme,
    filter: u8,
    company_prefix: Digits,
    location_ref: Digits,
    extension: Extension,
}

/// Validates an SGLN-96 or SGLN-195 (trailing zero padding allowed).
pub(crate) fn parse(bytes: &[u8], scheme: Scheme) -> Result<Sgln, EpcError> {
    let total = if scheme == Scheme::Sgln96 { 96 } else { 195 };
    partition::require_bits(bytes, scheme, total)?;
    let mut r = BitReader::new(bytes, scheme);
    let front = partition::read_front(&mut r)?;
    let (bits, digits) = SGLN_LOCATION_REF[front.partition];
    let location_ref = partition::read_digits(&mut r, bits, digits, "location reference")?;
    let extension = if scheme == Scheme::Sgln96 {
        Extension::Integer(r.read(41, Field::Named("extension"))?)
    } else {
        Extension::Text(read_seven_bit(&mut r, 140, 20, "extension")?)
    };
    r.expect_zero_tail()?;
    Ok(Sgln {
        scheme,
        filter: front.filter,
        company_prefix: front.company_prefix,
        location_ref,
        extension,
    })
}

impl Sgln {
    /// GLN-13: GCP, location reference, check digit.
    pub(crate) fn gln(&self) -> String {
        let mut data = [0u8; 12];
        let cp_len = usize::from(self.company_prefix.digits).min(12);
        self.company_prefix.write_to(&mut data[..cp_len]);
        let lr_len = usize::from(self.location_ref.digits).min(12 - cp_len);
        self.location_ref
            .write_to(&mut data[cp_len..cp_len + lr_len]);
        let mut out: String = data.iter().map(|&b| char::from(b)).collect();
        out.push(char::from(b'0' + gs1_check_digit(&data)));
        out
    }

    /// The full decoded form.
    pub(crate) fn to_decoded(self, bytes: &[u8]) -> Decoded {
        let cp = self.company_prefix.to_padded();
        let lr = self.location_ref.to_padded();
        let ext = match self.extension {
            Extension::Integer(v) => v.to_string(),
            Extension::Text(s) => s.to_string(bytes),
        };
        let gln = self.gln();
        let mut d = Decoded::empty(self.scheme);
        d.filter = Some(self.filter);
        d.pure_identity = Some(uri::pure_identity("sgln", &[&cp, &lr, &ext]));
        d.tag_uri = Some(uri::tag_uri(
            self.scheme.json_name(),
            &[&self.filter.to_string(), &cp, &lr, &ext],
        ));
        if ext == "0" {
            d.set_gs1_elements(CANONICAL_HOST, &[(ai::GLN, &gln)]);
        } else {
            d.set_gs1_elements(
                CANONICAL_HOST,
                &[(ai::GLN, &gln), (ai::GLN_EXTENSION, &ext)],
            );
        }
        d.company_prefix = Some(cp);
        d.gln = Some(gln);
        d.gln_extension = Some(ext);
        d
    }
}
