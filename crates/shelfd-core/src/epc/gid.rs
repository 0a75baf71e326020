//! GID-96: the General Identifier (header 8 | manager 28 | object class 24 | serial 36).
//!
//! Owns that layout. GID has no filter, no partition and no GS1 key, so it yields a pure
//! identity and tag URI but no element string or Digital Link. All three fields are plain
//! decimal integers.

use super::bits::BitReader;
use super::error::{EpcError, Field};
use super::partition;
use super::scheme::Scheme;
use super::{Decoded, uri};

/// A validated GID-96.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gid {
    manager: u64,
    object_class: u64,
    serial: u64,
}

/// Validates a GID-96 (trailing zero padding allowed).
pub(crate) fn parse(bytes: &[u8]) -> Result<Gid, EpcError> {
    let scheme = Scheme::Gid96;
    partition::require_bits(bytes, scheme, 96)?;
    let mut r = BitReader::new(bytes, scheme);
    r.read(8, Field::Named("header"))?;
    let manager = r.read(28, Field::Named("general manager number"))?;
    let object_class = r.read(24, Field::Named("object class"))?;
    let serial = r.read(36, Field::Named("serial"))?;
    r.expect_zero_tail()?;
    Ok(Gid {
        manager,
        object_class,
        serial,
    })
}

impl Gid {
    /// The full decoded form.
    pub(crate) fn to_decoded(self) -> Decoded {
        let m = self.manager.to_string();
        let c = self.object_class.to_string();
        let s = self.serial.to_string();
        let mut d = Decoded::empty(Scheme::Gid96);
        d.pure_identity = Some(uri::pure_identity("gid", &[&m, &c, &s]));
        d.tag_uri = Some(uri::tag_uri("gid-96", &[&m, &c, &s]));
        d.gid_manager = Some(m);
        d.gid_object_class = Some(c);
        d.serial = Some(s);
        d
    }
}
