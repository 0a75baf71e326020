//! [`EpcKey`]: the compact, hashable EPC identity the engine keys its tag table by.
//! EPCs up to 112 bits (SGTIN-96, SSCC-96, every 96-bit scheme) are stored inline in the 16-byte
//! key; longer ones (SGTIN-198, GRAI-170, …) on the heap. The key is a third of each entry of the
//! tag table, so its size is the engine's memory per tag (DESIGN.md: ≤ 200 bytes per tag).

use std::cmp::Ordering;
use std::fmt;

const INLINE: usize = 14;

/// An EPC's bytes, 16 bytes in size whatever its length. Ordered by length, then bytes (the
/// engine's deterministic event order), whatever the representation.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum EpcKey {
    /// EPCs of at most 14 bytes: length and bytes (the tail is zero).
    Inline(u8, [u8; INLINE]),
    /// Longer EPCs.
    Heap(Box<LongEpc>),
}

/// The bytes of an EPC longer than an inline key holds (boxed again so that the key stays one
/// pointer wide).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LongEpc(Box<[u8]>);

impl EpcKey {
    /// Builds a key from EPC bytes. Each byte string has exactly one representation, so the
    /// derived equality and hash are those of the bytes.
    pub fn new(bytes: &[u8]) -> Self {
        if bytes.len() <= INLINE {
            let mut b = [0u8; INLINE];
            b[..bytes.len()].copy_from_slice(bytes);
            // INLINE < 256, so the length fits a u8.
            EpcKey::Inline(bytes.len() as u8, b)
        } else {
            EpcKey::Heap(Box::new(LongEpc(bytes.into())))
        }
    }

    /// The EPC bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            EpcKey::Inline(n, b) => &b[..usize::from(*n).min(INLINE)],
            EpcKey::Heap(b) => &b.0,
        }
    }

    /// Heap bytes the key holds beyond its own 16 (0 for inline keys).
    pub fn heap_bytes(&self) -> usize {
        match self {
            EpcKey::Inline(..) => 0,
            EpcKey::Heap(b) => std::mem::size_of::<LongEpc>() + b.0.len(),
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

impl Ord for EpcKey {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.as_bytes(), other.as_bytes());
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }
}

impl PartialOrd for EpcKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
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
        assert_eq!(std::mem::size_of::<EpcKey>(), 16);
        let at_edge: Vec<u8> = (0..14).collect();
        assert!(matches!(EpcKey::new(&at_edge), EpcKey::Inline(14, _)));
        assert!(matches!(EpcKey::new(&at_edge[..12]), EpcKey::Inline(12, _)));
        assert!(matches!(EpcKey::new(&[0; 16]), EpcKey::Heap(_)));
        assert_eq!(EpcKey::new(&[0; 16]).as_bytes(), [0; 16]);
    }

    #[test]
    fn order_is_length_then_bytes_across_representations() {
        let mut keys: Vec<EpcKey> = [
            vec![9u8; 16],
            vec![1; 12],
            vec![0; 22],
            vec![2; 2],
            vec![0; 12],
            vec![1; 16],
        ]
        .iter()
        .map(|b| EpcKey::new(b))
        .collect();
        keys.sort();
        let lens: Vec<(usize, u8)> = keys
            .iter()
            .map(|k| (k.as_bytes().len(), k.as_bytes()[0]))
            .collect();
        assert_eq!(lens, [(2, 2), (12, 0), (12, 1), (16, 1), (16, 9), (22, 0)]);
    }
}
