//! CRC-16/IBM-SDLC (also called CRC-16/X-25): the checksum that closes every shelf-link frame.
//!
//! Reflected polynomial 0x1021 (0x8408 reflected), initial value 0xFFFF, final XOR 0xFFFF; the
//! check value of the ASCII bytes `123456789` is 0x906E. Table-driven (512 bytes of flash, built
//! at compile time). Owns only the arithmetic: it never decides what a mismatch means.

/// The 256-entry table of the reflected polynomial, computed at compile time.
const TABLE: [u16; 256] = build_table();

const fn build_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u16;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x8408
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// CRC-16/IBM-SDLC of `data`.
///
/// ```
/// assert_eq!(shelf_node::link::crc16(b"123456789"), 0x906E);
/// assert_eq!(shelf_node::link::crc16(&[]), 0x0000);
/// ```
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &byte in data {
        crc = (crc >> 8) ^ TABLE[usize::from((crc as u8) ^ byte)];
    }
    crc ^ 0xFFFF
}

#[cfg(test)]
mod tests {
    use super::crc16;

    /// Bit-by-bit reference, to check the table.
    fn reference(data: &[u8]) -> u16 {
        let mut crc: u16 = 0xFFFF;
        for &byte in data {
            crc ^= u16::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0x8408
                } else {
                    crc >> 1
                };
            }
        }
        crc ^ 0xFFFF
    }

    #[test]
    fn check_value_and_table_match_the_bitwise_reference() {
        assert_eq!(crc16(b"123456789"), 0x906E);
        let data: [u8; 64] = core::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5A);
        for n in 0..data.len() {
            assert_eq!(crc16(&data[..n]), reference(&data[..n]), "length {n}");
        }
    }
}
