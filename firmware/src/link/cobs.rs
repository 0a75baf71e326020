//! Consistent Overhead Byte Stuffing: removes every 0x00 from a frame so that 0x00 can mark the
//! end of a frame on the wire.
//!
//! A group is a code byte `c` (1..=255) followed by `c - 1` non-zero bytes; a group with
//! `c < 255` stands for its bytes plus one 0x00, except at the very end of the frame. The
//! overhead is one byte per started 254 bytes. Owns only the byte stuffing: it never looks at
//! what the bytes mean and never panics on any input.

/// Why a run of bytes between two delimiters is not valid COBS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CobsError {
    /// A 0x00 inside the encoded bytes (the delimiter is never part of a frame).
    ZeroByte {
        /// Offset of the zero in the encoded bytes.
        at: usize,
    },
    /// A code byte announces more bytes than the frame has left.
    Truncated {
        /// Offset of the code byte.
        at: usize,
        /// The code byte.
        code: u8,
    },
}

/// The most bytes `len` bytes encode to (without the delimiter): exact when they hold no zero.
pub const fn encoded_len(len: usize) -> usize {
    len + len / 254 + 1
}

/// COBS-encodes `src` into `dst` and returns the encoded length (no delimiter is written), or
/// `None` when `dst` is shorter than [`encoded_len`]`(src.len())`.
pub fn encode(src: &[u8], dst: &mut [u8]) -> Option<usize> {
    if dst.len() < encoded_len(src.len()) {
        return None;
    }
    let mut code_at = 0;
    let mut out = 1;
    let mut code: u8 = 1;
    for &byte in src {
        if byte == 0 {
            dst[code_at] = code;
            code_at = out;
            out += 1;
            code = 1;
        } else {
            dst[out] = byte;
            out += 1;
            code += 1;
            if code == 0xFF {
                dst[code_at] = code;
                code_at = out;
                out += 1;
                code = 1;
            }
        }
    }
    dst[code_at] = code;
    Some(out)
}

/// Decodes the COBS bytes in `buf` in place and returns the decoded length: the frame is then
/// `buf[..len]`. The decoded bytes never overtake the encoded ones, so no second buffer is needed.
pub fn decode_in_place(buf: &mut [u8]) -> Result<usize, CobsError> {
    let mut read = 0;
    let mut write = 0;
    while read < buf.len() {
        let code = buf[read];
        if code == 0 {
            return Err(CobsError::ZeroByte { at: read });
        }
        let group = usize::from(code) - 1;
        let end = read + 1 + group;
        if end > buf.len() {
            return Err(CobsError::Truncated { at: read, code });
        }
        for i in read + 1..end {
            let byte = buf[i];
            if byte == 0 {
                return Err(CobsError::ZeroByte { at: i });
            }
            buf[write] = byte;
            write += 1;
        }
        read = end;
        if code != 0xFF && read < buf.len() {
            buf[write] = 0;
            write += 1;
        }
    }
    Ok(write)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(src: &[u8]) {
        let mut enc = [0u8; 600];
        let n = encode(src, &mut enc).expect("buffer is large enough");
        assert!(n <= encoded_len(src.len()), "{n} bytes for {}", src.len());
        assert!(!enc[..n].contains(&0), "no zero survives encoding");
        let len = decode_in_place(&mut enc[..n]).expect("own encoding decodes");
        assert_eq!(&enc[..len], src);
    }

    #[test]
    fn known_vectors() {
        // The examples of the original COBS paper / common test vectors.
        let mut out = [0u8; 16];
        let n = encode(&[0x00], &mut out).expect("room");
        assert_eq!(&out[..n], &[0x01, 0x01]);
        let n = encode(&[0x00, 0x00], &mut out).expect("room");
        assert_eq!(&out[..n], &[0x01, 0x01, 0x01]);
        let n = encode(&[0x11, 0x22, 0x00, 0x33], &mut out).expect("room");
        assert_eq!(&out[..n], &[0x03, 0x11, 0x22, 0x02, 0x33]);
        let n = encode(&[0x11, 0x00, 0x00, 0x00], &mut out).expect("room");
        assert_eq!(&out[..n], &[0x02, 0x11, 0x01, 0x01, 0x01]);
        let n = encode(&[], &mut out).expect("room");
        assert_eq!(&out[..n], &[0x01]);
    }

    #[test]
    fn long_runs_split_into_254_byte_groups() {
        for len in [253, 254, 255, 300, 508, 509] {
            let src: [u8; 520] = core::array::from_fn(|i| (i % 255) as u8 + 1);
            round_trip(&src[..len]);
        }
        let mixed: [u8; 520] = core::array::from_fn(|i| if i % 97 == 0 { 0 } else { i as u8 | 1 });
        for len in 0..mixed.len() {
            round_trip(&mixed[..len]);
        }
    }

    #[test]
    fn bad_input_is_an_error_naming_the_offset() {
        assert_eq!(
            decode_in_place(&mut [0x05, 0x11, 0x22]),
            Err(CobsError::Truncated { at: 0, code: 5 })
        );
        assert_eq!(
            decode_in_place(&mut [0x03, 0x11, 0x00]),
            Err(CobsError::ZeroByte { at: 2 })
        );
        assert_eq!(
            decode_in_place(&mut [0x00]),
            Err(CobsError::ZeroByte { at: 0 })
        );
        assert_eq!(encode(&[1, 2, 3], &mut [0u8; 3]), None);
    }
}
