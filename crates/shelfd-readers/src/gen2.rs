//! Gen2 (ISO/IEC 18000-63) facts the binary reader protocols share: the tag's own CRC-16 and
//! the PC word that announces how long the EPC is. Pure functions, no protocol framing.

/// Longest EPC a PC word can announce: 31 words.
pub const MAX_EPC_BYTES: usize = 62;

/// PC bit 9 (XI): an XPC_W1 word follows the PC word.
pub const PC_XI: u16 = 0x0200;

/// XPC_W1 bit 15 (XEB): an XPC_W2 word follows XPC_W1.
pub const XPC_XEB: u16 = 0x8000;

/// PC used when a scripted read carries none: 96-bit EPC, no user memory, no XPC.
pub const DEFAULT_PC: u16 = 0x3000;

/// The tag's CRC-16 (poly 0x1021, init 0xFFFF, MSB first, final XOR 0xFFFF) over `bytes`
/// (PC + EPC as the tag backscattered them).
///
/// ```
/// use shelfd_readers::gen2::crc16;
/// let pc_epc = [0x34, 0x00, 0x30, 0x75, 0x1F, 0xEB, 0x70, 0x5C, 0x59, 0x04, 0xE3, 0xD5, 0x0D, 0x70];
/// assert_eq!(crc16(&pc_epc), 0x3A76);
/// ```
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in bytes {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    !crc
}

/// EPC length in bytes that a PC word announces (bits 15..11, in 16-bit words).
pub fn announced_epc_bytes(pc: u16) -> usize {
    usize::from(pc >> 11) * 2
}

/// The EPC inside `rest`, the bytes a frame carries after the PC word, checked against what
/// the PC announces. `rest` must be exactly the announced EPC, or (when XI is set) the XPC
/// word(s) then the EPC; XI set with no room for XPC is read as a plain EPC (real frames do
/// that). Anything else is an error naming the PC and both lengths.
pub fn epc_after_pc(pc: u16, rest: &[u8]) -> Result<&[u8], String> {
    let want = announced_epc_bytes(pc);
    if want == 0 {
        return Err(format!("PC 0x{pc:04X} announces an empty EPC"));
    }
    if rest.len() == want {
        return Ok(rest);
    }
    if pc & PC_XI != 0 {
        if rest.len() == want + 2 {
            return Ok(&rest[2..]);
        }
        if rest.len() == want + 4 && u16::from_be_bytes([rest[0], rest[1]]) & XPC_XEB != 0 {
            return Ok(&rest[4..]);
        }
    }
    Err(format!(
        "PC 0x{pc:04X} announces {want} EPC bytes, frame carries {}",
        rest.len()
    ))
}

/// The PC word to send for an EPC of `epc_len` bytes: `pc` (or [`DEFAULT_PC`]) with its
/// length bits set to the EPC's word count and XI cleared (simulators send no XPC).
pub fn pc_for(epc_len: usize, pc: Option<u16>) -> u16 {
    let words = u16::try_from(epc_len.div_ceil(2).min(MAX_EPC_BYTES / 2)).unwrap_or(31);
    (pc.unwrap_or(DEFAULT_PC) & 0x07FF & !PC_XI) | (words << 11)
}

/// The EPC as a simulator sends it: at most [`MAX_EPC_BYTES`], padded with a zero byte to a
/// whole number of words.
pub fn wire_epc(epc: &[u8]) -> Vec<u8> {
    let mut out = epc[..epc.len().min(MAX_EPC_BYTES)].to_vec();
    if out.len() % 2 == 1 {
        out.push(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_the_128_bit_example() {
        let pc_epc = [
            0x40, 0x00, 0xE2, 0x00, 0x00, 0x1D, 0x73, 0x15, 0x01, 0x65, 0x21, 0x40, 0x8F, 0xC6,
            0xAA, 0xBB, 0x00, 0x01,
        ];
        assert_eq!(crc16(&pc_epc), 0xB1C4);
    }

    #[test]
    fn pc_length_checks() {
        let epc = [0u8; 12];
        assert_eq!(epc_after_pc(0x3000, &epc).map(<[u8]>::len), Ok(12));
        // XI set, no room for XPC: plain EPC.
        assert_eq!(epc_after_pc(0x3200, &epc).map(<[u8]>::len), Ok(12));
        // XI set with one XPC word.
        let mut with_xpc = vec![0x00, 0x01];
        with_xpc.extend_from_slice(&epc);
        assert_eq!(epc_after_pc(0x3200, &with_xpc).map(<[u8]>::len), Ok(12));
        // Two XPC words need XEB in the first.
        let mut two = vec![0x80, 0x00, 0x00, 0x00];
        two.extend_from_slice(&epc);
        assert_eq!(epc_after_pc(0x3200, &two).map(<[u8]>::len), Ok(12));
        two[0] = 0;
        assert!(epc_after_pc(0x3200, &two).is_err());
        let err = epc_after_pc(0x3800, &epc).err().unwrap_or_default();
        assert!(
            err.contains("0x3800") && err.contains("14") && err.contains("12"),
            "{err}"
        );
        assert!(epc_after_pc(0x0000, &[]).is_err());
    }

    #[test]
    fn pc_for_sets_length_and_clears_xi() {
        assert_eq!(pc_for(12, None), 0x3000);
        assert_eq!(pc_for(16, Some(0x3200 | 0x0100)), 0x4100);
        assert_eq!(wire_epc(&[1, 2, 3]), vec![1, 2, 3, 0]);
    }
}
