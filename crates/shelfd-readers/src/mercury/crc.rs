//! The two 16-bit checks of the Mercury protocol: the frame CRC ([`crc`], READERS.md §1.3) and
//! the Gen2 tag CRC-16 a streamed record carries over PC + XPC + EPC ([`gen2_crc`], §0.4).

/// The polynomial 0x1021 times 0..=15 (the three shifted copies never overlap, so plain and
/// carry-less products agree).
const NIBBLE_TABLE: [u16; 16] = {
    let mut table = [0u16; 16];
    let mut i = 0;
    while i < 16 {
        table[i] = 0x1021 * i as u16;
        i += 1;
    }
    table
};

/// The Mercury frame CRC of `bytes` (every byte after the 0xFF start, up to the CRC itself).
///
/// The register starts at 0xFFFF; each byte is fed as two nibbles, high first: the nibble is
/// shifted into the low end of the register and the result is XOR-ed with the table entry of
/// the register's top nibble before the shift. This is not CRC-16/CCITT-FALSE.
///
/// ```
/// use shelfd_readers::mercury::crc;
/// assert_eq!(crc(&[0x00, 0x03]), 0x1D0C); // get version: FF 00 03 1D 0C
/// ```
pub fn crc(bytes: &[u8]) -> u16 {
    let mut reg: u16 = 0xFFFF;
    for &byte in bytes {
        for nibble in [byte >> 4, byte & 0x0F] {
            let top = usize::from(reg >> 12);
            reg = ((reg << 4) | u16::from(nibble)) ^ NIBBLE_TABLE[top];
        }
    }
    reg
}

/// The EPC Gen2 CRC-16 (ISO/IEC 13239: polynomial 0x1021, init 0xFFFF, no reflection, final
/// XOR 0xFFFF) of `bytes`: over PC (+ XPC words) + EPC it equals the tag CRC of a read.
///
/// ```
/// use shelfd_readers::mercury::gen2_crc;
/// assert_eq!(gen2_crc(b"123456789"), 0xD64E);
/// ```
pub fn gen2_crc(bytes: &[u8]) -> u16 {
    let mut reg: u16 = 0xFFFF;
    for &byte in bytes {
        reg ^= u16::from(byte) << 8;
        for _ in 0..8 {
            reg = if reg & 0x8000 != 0 {
                (reg << 1) ^ 0x1021
            } else {
                reg << 1
            };
        }
    }
    !reg
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// CRC-16/SPI-FUJITSU (poly 0x1021, init 0x1D0F, no reflection, no final XOR).
    fn spi_fujitsu(bytes: &[u8]) -> u16 {
        let mut reg: u16 = 0x1D0F;
        for &byte in bytes {
            reg ^= u16::from(byte) << 8;
            for _ in 0..8 {
                reg = if reg & 0x8000 != 0 {
                    (reg << 1) ^ 0x1021
                } else {
                    reg << 1
                };
            }
        }
        reg
    }

    #[test]
    fn table_ends_as_documented() {
        assert_eq!(NIBBLE_TABLE[1], 0x1021);
        assert_eq!(NIBBLE_TABLE[2], 0x2042);
        assert_eq!(NIBBLE_TABLE[15], 0xF1EF);
    }

    #[test]
    fn known_frames() {
        assert_eq!(crc(&[0x00, 0x03]), 0x1D0C);
        assert_eq!(crc(&[0x00, 0x22, 0x04, 0x00]), 0x84E0);
        assert_eq!(crc(&[0x01, 0x2F, 0x00, 0x00, 0x02]), 0x30E6);
    }

    proptest! {
        /// READERS.md §1.3: CRC(M) = SPI-FUJITSU(M minus its last two bytes) XOR those two bytes.
        #[test]
        fn closed_form_agrees(bytes in prop::collection::vec(any::<u8>(), 2..300)) {
            let n = bytes.len();
            let tail = u16::from_be_bytes([bytes[n - 2], bytes[n - 1]]);
            prop_assert_eq!(crc(&bytes), spi_fujitsu(&bytes[..n - 2]) ^ tail);
        }
    }
}
