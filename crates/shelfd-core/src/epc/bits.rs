//! Bit-level access to EPC bytes: a bounds-checked MSB-first reader and a writer for encoders.
//!
//! Owns every index computation on the input. Reads never slice past the end and never overflow:
//! a read that does not fit reports a `Truncated` problem for the field being read.

use super::error::{EpcError, Field, Problem};
use super::scheme::Scheme;

/// MSB-first reader over EPC bytes; errors name the scheme and the field being read.
pub(crate) struct BitReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    end: usize,
    scheme: Scheme,
}

impl<'a> BitReader<'a> {
    /// A reader at bit 0 of `bytes`.
    pub(crate) fn new(bytes: &'a [u8], scheme: Scheme) -> Self {
        BitReader {
            bytes,
            pos: 0,
            end: bytes.len().saturating_mul(8),
            scheme,
        }
    }

    /// The scheme errors are reported for.
    pub(crate) fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// Bits consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Bits not yet consumed.
    pub(crate) fn remaining(&self) -> usize {
        self.end - self.pos
    }

    /// The bit at absolute index `i` (0 past the end).
    fn bit_at(&self, i: usize) -> u8 {
        match self.bytes.get(i / 8) {
            Some(byte) => (byte >> (7 - (i % 8))) & 1,
            None => 0,
        }
    }

    /// Reads `n` (≤ 64) bits as an unsigned integer, or reports `field` as truncated.
    pub(crate) fn read(&mut self, n: u32, field: Field) -> Result<u64, EpcError> {
        debug_assert!(n <= 64);
        self.ensure(n, field)?;
        let mut value: u64 = 0;
        for _ in 0..n.min(64) {
            value = (value << 1) | u64::from(self.bit_at(self.pos));
            self.pos += 1;
        }
        Ok(value)
    }

    /// Reads `n` (≤ 8) bits as a byte.
    pub(crate) fn read_u8(&mut self, n: u32, field: Field) -> Result<u8, EpcError> {
        debug_assert!(n <= 8);
        // n ≤ 8, so the value fits in a byte.
        Ok((self.read(n.min(8), field)? & 0xff) as u8)
    }

    /// Reads one bit.
    pub(crate) fn read_bit(&mut self, field: Field) -> Result<u8, EpcError> {
        self.ensure(1, field)?;
        let bit = self.bit_at(self.pos);
        self.pos += 1;
        Ok(bit)
    }

    /// Fails with `Truncated` unless `n` more bits are available.
    pub(crate) fn ensure(&self, n: u32, field: Field) -> Result<(), EpcError> {
        let available = self.remaining();
        if (n as usize) > available {
            return Err(EpcError::field(
                self.scheme,
                field,
                Problem::Truncated {
                    needed: n,
                    available,
                },
            ));
        }
        Ok(())
    }

    /// The absolute index of the first set bit in `[from, to)`, if any.
    pub(crate) fn first_set_bit(&self, from: usize, to: usize) -> Option<usize> {
        let to = to.min(self.end);
        (from..to).find(|&i| self.bit_at(i) == 1)
    }

    /// True when every bit from the current position to the end is zero.
    pub(crate) fn rest_is_zero(&self) -> bool {
        self.first_set_bit(self.pos, self.end).is_none()
    }

    /// Fails with `TrailingBits` if any bit from the current position on is set.
    pub(crate) fn expect_zero_tail(&self) -> Result<(), EpcError> {
        match self.first_set_bit(self.pos, self.end) {
            Some(bit) => Err(EpcError::TrailingBits {
                scheme: self.scheme,
                bit,
            }),
            None => Ok(()),
        }
    }

    /// Skips `n` bits (callers have checked they exist).
    pub(crate) fn skip(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.end);
    }
}

/// MSB-first bit writer for the encoders; pads to a whole 16-bit word like a tag's EPC bank.
#[derive(Default)]
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    len: usize,
}

impl BitWriter {
    /// An empty writer.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Appends the low `n` (≤ 128) bits of `value`, most significant first.
    pub(crate) fn push(&mut self, value: u128, n: u32) {
        for i in (0..n.min(128)).rev() {
            self.push_bit(((value >> i) & 1) as u8);
        }
    }

    /// Appends `n` zero bits.
    pub(crate) fn push_zeros(&mut self, n: usize) {
        for _ in 0..n {
            self.push_bit(0);
        }
    }

    /// Appends one bit.
    pub(crate) fn push_bit(&mut self, bit: u8) {
        if self.len % 8 == 0 {
            self.bytes.push(0);
        }
        if let (1, Some(last)) = (bit & 1, self.bytes.last_mut()) {
            *last |= 0x80 >> (self.len % 8);
        }
        self.len += 1;
    }

    /// The bytes, zero-padded to a whole number of 16-bit words.
    pub(crate) fn into_words(mut self) -> Vec<u8> {
        if self.bytes.len() % 2 == 1 {
            self.bytes.push(0);
        }
        self.bytes
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    const F: Field = Field::Named("test");

    #[test]
    fn reads_msb_first_across_bytes() {
        let bytes = [0b1010_1100, 0b0101_0011];
        let mut r = BitReader::new(&bytes, Scheme::Sgtin96);
        assert_eq!(r.read(3, F).unwrap(), 0b101);
        assert_eq!(r.read(7, F).unwrap(), 0b011_0001);
        assert_eq!(r.remaining(), 6);
        assert_eq!(r.read(6, F).unwrap(), 0b010011);
        assert!(r.read(1, F).is_err());
    }

    #[test]
    fn truncation_names_the_field() {
        let mut r = BitReader::new(&[0xff], Scheme::Sgtin96);
        let err = r.read(9, Field::Named("serial")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "SGTIN-96 serial: the EPC ends inside it (needs 9 more bits, 8 left)"
        );
    }

    #[test]
    fn writer_round_trips_and_pads_to_words() {
        let mut w = BitWriter::new();
        w.push(0x30, 8);
        w.push(0b011, 3);
        let bytes = w.into_words();
        assert_eq!(bytes, vec![0x30, 0b0110_0000]);
        let mut w = BitWriter::new();
        w.push(0xABCDEF, 24);
        assert_eq!(w.into_words(), vec![0xAB, 0xCD, 0xEF, 0x00]);
    }
}
