//! Big-endian writer and reader of the primitives the store's binary records are made of
//! (engine records in `reconcile::persist`, dock records in `dock::persist`). Owns only the
//! primitives and their bounds checks: it never interprets a record, and reading never panics
//! (a short or malformed buffer is an error naming what was wrong).

/// Appends primitives to a record.
pub(crate) struct W(pub(crate) Vec<u8>);

impl W {
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub(crate) fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn f32(&mut self, v: f32) {
        self.0.extend_from_slice(&v.to_bits().to_be_bytes());
    }
    /// An optional short string: one length byte (0xFF for `None`) and at most 254 bytes, cut
    /// at a character boundary.
    pub(crate) fn str(&mut self, s: Option<&str>) {
        match s {
            None => self.0.push(0xFF),
            Some(s) => {
                let b = cut(s, 254).as_bytes();
                self.0.push(u8::try_from(b.len()).unwrap_or(0));
                self.0.extend_from_slice(b);
            }
        }
    }
    /// An optional float: a 0/1 tag, then [`W::f32`].
    pub(crate) fn opt_f32(&mut self, v: Option<f32>) {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.f32(v);
            }
        }
    }
    /// Bytes with a two-byte length, at most 65 535 of them.
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        let n = u16::try_from(b.len()).unwrap_or(u16::MAX);
        self.0.extend_from_slice(&n.to_be_bytes());
        self.0.extend_from_slice(&b[..usize::from(n)]);
    }
    /// An optional string with a two-byte length: a 0/1 tag, then [`W::bytes`] (cut at a
    /// character boundary).
    pub(crate) fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.bytes(cut(s, usize::from(u16::MAX)).as_bytes());
            }
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let mut n = s.len().min(max);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    &s[..n]
}

/// Reads primitives off a record, front to back.
pub(crate) struct R<'a>(pub(crate) &'a [u8]);

impl<'a> R<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!(
                "truncated: needed {n} more bytes, {} left",
                self.0.len()
            ));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    pub(crate) fn arr<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    pub(crate) fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_be_bytes(self.arr()?))
    }
    pub(crate) fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_be_bytes(self.arr()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_be_bytes(self.arr()?))
    }
    pub(crate) fn f32(&mut self) -> Result<f32, String> {
        Ok(f32::from_bits(self.u32()?))
    }
    /// See [`W::str`].
    pub(crate) fn str(&mut self) -> Result<Option<&'a str>, String> {
        let n = self.u8()?;
        if n == 0xFF {
            return Ok(None);
        }
        let b = self.take(usize::from(n))?;
        utf8(b).map(Some)
    }
    /// See [`W::bytes`].
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
    /// [`R::bytes`] as a string.
    pub(crate) fn string(&mut self) -> Result<String, String> {
        utf8(self.bytes()?).map(str::to_owned)
    }
    /// See [`W::opt_str`].
    pub(crate) fn opt_str(&mut self) -> Result<Option<String>, String> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.string().map(Some),
            b => Err(format!("bad option tag {b}")),
        }
    }
    /// See [`W::opt_f32`]. (Records written before it existed used any non-zero tag for
    /// `Some`, so any non-zero tag reads as one.)
    pub(crate) fn opt_f32(&mut self) -> Result<Option<f32>, String> {
        match self.u8()? {
            0 => Ok(None),
            _ => self.f32().map(Some),
        }
    }
    /// A 0/1 byte.
    pub(crate) fn flag(&mut self) -> Result<bool, String> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("bad flag {b}")),
        }
    }
    /// The leading version byte, which must be in `known`.
    pub(crate) fn version(&mut self, known: std::ops::RangeInclusive<u8>) -> Result<u8, String> {
        match self.u8()? {
            v if known.contains(&v) => Ok(v),
            v => Err(format!("unknown record version {v}")),
        }
    }
    /// Nothing may follow the last field.
    pub(crate) fn end(&self) -> Result<(), String> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(format!("{} bytes left over", self.0.len()))
        }
    }
}

fn utf8(b: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(b).map_err(|_| "string is not UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn strings_are_cut_at_a_character_boundary() {
        let long = "é".repeat(200); // 400 bytes
        let mut w = W(Vec::new());
        w.str(Some(&long));
        w.str(None);
        w.opt_str(Some("ok"));
        let mut r = R(&w.0);
        assert_eq!(r.str().expect("str").map(str::len), Some(254));
        assert_eq!(r.str().expect("none"), None);
        assert_eq!(r.opt_str().expect("opt"), Some("ok".to_string()));
        assert_eq!(r.end(), Ok(()));
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(
            R(&[0, 1]).u32(),
            Err("truncated: needed 4 more bytes, 2 left".to_string())
        );
        assert_eq!(
            R(&[7]).version(1..=2),
            Err("unknown record version 7".into())
        );
        assert_eq!(R(&[2]).flag(), Err("bad flag 2".into()));
        assert_eq!(R(&[1]).end(), Err("1 bytes left over".into()));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut r = R(&b);
            let _ = r.str();
            let _ = r.opt_str();
            let _ = r.bytes();
            let _ = r.f32();
            let _ = r.version(1..=1);
        }
    }
}
