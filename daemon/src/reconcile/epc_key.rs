//! [`EpcKey`]: the compact, hashable EPC identity the engine keys its tag table by.
//! EPCs up to 176 bits (SGTIN-96, GRAI-170, …) are stored inline; longer ones on the heap.

use std::fmt;

const INLINE: usize = 22;

/// An EPC's bytes, 24 bytes in size whatever its length.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EpcKey {
    /// EPCs of at most 22 bytes: length and bytes (the tail is zero).
    Inline(u8, [u8; INLINE]),
    /// Longer EPCs.
    Heap(Box<[u8]>),
}

impl EpcKey {
    /// Builds a key from EPC bytes.
    pub fn new(bytes: &[u8]) -> Self {
        if bytes.len() <= INLINE {
            let mut b = [0u8; INLINE];
            b[..bytes.len()].copy_from_slice(bytes);
            // INLINE < 256, so the length fits a u8.
            EpcKey::Inline(bytes.len() as u8, b)
        } else {
            EpcKey::Heap(bytes.into())
        }
    }

    /// The EPC bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            EpcKey::Inline(n, b) => &b[..usize::from(*n).min(INLINE)],
            EpcKey::Heap(b) => b,
        }
    }

    /// Lowercase hex, as events carry it.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(self.as_bytes().len() * 2);
        for b in self.as_bytes() {
            use fmt::Write;
            let _ = write!(s, "{b:02x}");
        }
        s
    }
}

impl fmt::Debug for EpcKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_heap_keep_bytes() {
        let short = EpcKey::new(&[0x30, 0x74]);
        assert_eq!(short.as_bytes(), [0x30, 0x74]);
        assert_eq!(short.to_hex(), "3074");
        let long: Vec<u8> = (0..26).collect();
        assert_eq!(EpcKey::new(&long).as_bytes(), &long[..]);
        assert_ne!(EpcKey::new(&[0, 0]), EpcKey::new(&[0, 0, 0, 0]));
        assert_eq!(std::mem::size_of::<EpcKey>(), 24);
    }
}
