//! The shared front of the partitioned TDS 1.x schemes: header, filter, partition and GS1
//! Company Prefix, plus the partition tables that split the remaining bits (GS1.md §3.2).
//!
//! Owns the strict rules common to SGTIN, SSCC, SGLN, GRAI and GIAI: partition 7 is reserved,
//! and each numeric field must be below 10^digits. Zero-digit fields must hold 0. It never
//! formats URIs or keys beyond the digit layout of GTIN/SSCC data.

use super::bits::BitReader;
use super::error::{EpcError, Field, Problem};

/// (bits, digits) per partition value 0..=6.
pub(crate) type PartitionTable = [(u8, u8); 7];

/// GS1 Company Prefix.
pub(crate) const COMPANY_PREFIX: PartitionTable = [
    (40, 12),
    (37, 11),
    (34, 10),
    (30, 9),
    (27, 8),
    (24, 7),
    (20, 6),
];
/// SGTIN indicator digit + item reference.
pub(crate) const SGTIN_ITEM_REF: PartitionTable =
    [(4, 1), (7, 2), (10, 3), (14, 4), (17, 5), (20, 6), (24, 7)];
/// SSCC extension digit + serial reference.
pub(crate) const SSCC_SERIAL_REF: PartitionTable = [
    (18, 5),
    (21, 6),
    (24, 7),
    (28, 8),
    (31, 9),
    (34, 10),
    (38, 11),
];
/// SGLN location reference.
pub(crate) const SGLN_LOCATION_REF: PartitionTable =
    [(1, 0), (4, 1), (7, 2), (11, 3), (14, 4), (17, 5), (21, 6)];
/// GRAI asset type.
pub(crate) const GRAI_ASSET_TYPE: PartitionTable =
    [(4, 0), (7, 1), (10, 2), (14, 3), (17, 4), (20, 5), (24, 6)];
/// GIAI-96 individual asset reference bits (an integer of any value).
pub(crate) const GIAI96_ASSET_REF_BITS: [u8; 7] = [42, 45, 48, 52, 55, 58, 62];
/// GIAI-202 asset reference: (bits, maximum characters = 30 − GCP digits).
pub(crate) const GIAI202_ASSET_REF: PartitionTable = [
    (148, 18),
    (151, 19),
    (154, 20),
    (158, 21),
    (161, 22),
    (164, 23),
    (168, 24),
];

/// A numeric field split off by the partition: its value and its fixed digit count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Digits {
    /// The integer.
    pub(crate) value: u64,
    /// Digits it is written with (leading zeros significant; 0 means an empty component).
    pub(crate) digits: u8,
}

impl Digits {
    /// The value as exactly `digits` ASCII digits (empty when `digits` is 0).
    pub(crate) fn write_to(self, out: &mut [u8]) {
        let mut v = self.value;
        for slot in out.iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }

    /// The value as a zero-padded string of `digits` characters.
    pub(crate) fn to_padded(self) -> String {
        let mut buf = [0u8; 20];
        let n = usize::from(self.digits).min(buf.len());
        self.write_to(&mut buf[..n]);
        buf[..n].iter().map(|&b| char::from(b)).collect()
    }
}

/// Writes the data digits of a GTIN or SSCC into `out`: the first digit of `second` (indicator
/// or extension digit), the company prefix, then the rest of `second`. Returns the digit count
/// (0 if `out` is too small or `second` is empty).
pub(crate) fn indicator_first(company_prefix: Digits, second: Digits, out: &mut [u8]) -> usize {
    let cp_len = usize::from(company_prefix.digits);
    let second_len = usize::from(second.digits);
    let n = cp_len + second_len;
    let mut tmp = [0u8; 20];
    if second_len == 0 || second_len > tmp.len() || n > out.len() {
        return 0;
    }
    second.write_to(&mut tmp[..second_len]);
    out[0] = tmp[0];
    company_prefix.write_to(&mut out[1..=cp_len]);
    out[cp_len + 1..n].copy_from_slice(&tmp[1..second_len]);
    n
}

/// Header, filter, partition and company prefix of a partitioned scheme.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Front {
    /// Filter value (metadata only).
    pub(crate) filter: u8,
    /// Partition value 0..=6.
    pub(crate) partition: usize,
    /// GS1 Company Prefix.
    pub(crate) company_prefix: Digits,
}

/// Reads header (skipped), filter, partition and the company prefix.
pub(crate) fn read_front(r: &mut BitReader<'_>) -> Result<Front, EpcError> {
    r.read(8, Field::Named("header"))?;
    let filter = r.read_u8(3, Field::Named("filter"))?;
    let partition = usize::from(r.read_u8(3, Field::Named("partition"))?);
    let Some(&(bits, digits)) = COMPANY_PREFIX.get(partition) else {
        return Err(EpcError::ReservedPartition { scheme: r.scheme() });
    };
    let company_prefix = read_digits(r, bits, digits, "company prefix")?;
    Ok(Front {
        filter,
        partition,
        company_prefix,
    })
}

/// Reads a `bits`-bit integer that must be below 10^`digits`.
pub(crate) fn read_digits(
    r: &mut BitReader<'_>,
    bits: u8,
    digits: u8,
    field: &'static str,
) -> Result<Digits, EpcError> {
    let value = r.read(u32::from(bits), Field::Named(field))?;
    // digits ≤ 12 here, so 10^digits fits easily.
    if value >= 10u64.pow(u32::from(digits)) {
        return Err(EpcError::field(
            r.scheme(),
            Field::Named(field),
            Problem::OutOfRange { value, digits },
        ));
    }
    Ok(Digits { value, digits })
}

/// Fails with `TooShort` unless `bytes` hold at least `bits` bits.
pub(crate) fn require_bits(
    bytes: &[u8],
    scheme: super::scheme::Scheme,
    bits: usize,
) -> Result<(), EpcError> {
    let available = bytes.len().saturating_mul(8);
    if available < bits {
        return Err(EpcError::TooShort {
            scheme,
            needed: bits,
            available,
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn tables_add_up() {
        for p in 0..7 {
            let (cp_bits, cp_digits) = COMPANY_PREFIX[p];
            assert_eq!(cp_bits + SGTIN_ITEM_REF[p].0, 44);
            assert_eq!(cp_digits + SGTIN_ITEM_REF[p].1, 13);
            assert_eq!(cp_bits + SSCC_SERIAL_REF[p].0, 58);
            assert_eq!(cp_digits + SSCC_SERIAL_REF[p].1, 17);
            assert_eq!(cp_bits + SGLN_LOCATION_REF[p].0, 41);
            assert_eq!(cp_digits + SGLN_LOCATION_REF[p].1, 12);
            assert_eq!(cp_bits + GRAI_ASSET_TYPE[p].0, 44);
            assert_eq!(cp_digits + GRAI_ASSET_TYPE[p].1, 12);
            assert_eq!(cp_bits + GIAI96_ASSET_REF_BITS[p], 82);
            assert_eq!(cp_bits + GIAI202_ASSET_REF[p].0, 188);
            assert_eq!(cp_digits + GIAI202_ASSET_REF[p].1, 30);
        }
    }

    #[test]
    fn padding_is_significant() {
        assert_eq!(
            Digits {
                value: 614141,
                digits: 7
            }
            .to_padded(),
            "0614141"
        );
        assert_eq!(
            Digits {
                value: 0,
                digits: 0
            }
            .to_padded(),
            ""
        );
    }
}
