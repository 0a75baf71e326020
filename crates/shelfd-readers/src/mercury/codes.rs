//! Opcodes and status words of the Mercury protocol (READERS.md §1.4 and §1.5), and the short
//! English text of a status word for logs.

/// 0x03: get version (reply: bootloader, hardware, firmware date, firmware version, protocols).
pub const OP_GET_VERSION: u8 = 0x03;
/// 0x04: boot firmware (leave the bootloader); also the opcode of the power-up broadcast.
pub const OP_BOOT_FIRMWARE: u8 = 0x04;
/// 0x06: set baud rate (u32).
pub const OP_SET_BAUD_RATE: u8 = 0x06;
/// 0x0C: get current program (`(byte & 0x03) == 1`: the bootloader is running).
pub const OP_GET_CURRENT_PROGRAM: u8 = 0x0C;
/// 0x21: read tag single.
pub const OP_READ_TAG_SINGLE: u8 = 0x21;
/// 0x22: read tag multiple; also the opcode of every streamed tag record.
pub const OP_READ_TAG_MULTIPLE: u8 = 0x22;
/// 0x24: write tag data.
pub const OP_WRITE_TAG_DATA: u8 = 0x24;
/// 0x28: read tag data.
pub const OP_READ_TAG_DATA: u8 = 0x28;
/// 0x29: get tag-ID buffer.
pub const OP_GET_TAG_BUFFER: u8 = 0x29;
/// 0x2A: clear tag-ID buffer.
pub const OP_CLEAR_TAG_BUFFER: u8 = 0x2A;
/// 0x2F: multi-protocol tag operation (start / stop continuous reading).
pub const OP_MULTI_PROTOCOL: u8 = 0x2F;
/// 0x61: get antenna port.
pub const OP_GET_ANTENNA: u8 = 0x61;
/// 0x62: get read TX power.
pub const OP_GET_READ_POWER: u8 = 0x62;
/// 0x63: get tag protocol.
pub const OP_GET_TAG_PROTOCOL: u8 = 0x63;
/// 0x64: get write TX power.
pub const OP_GET_WRITE_POWER: u8 = 0x64;
/// 0x66: get GPIO inputs.
pub const OP_GET_GPIO: u8 = 0x66;
/// 0x67: get region.
pub const OP_GET_REGION: u8 = 0x67;
/// 0x6A: get reader optional parameter.
pub const OP_GET_READER_PARAM: u8 = 0x6A;
/// 0x6B: get protocol parameter.
pub const OP_GET_PROTOCOL_PARAM: u8 = 0x6B;
/// 0x72: get temperature.
pub const OP_GET_TEMPERATURE: u8 = 0x72;
/// 0x91: set antenna port (option 0x02: logical antenna search list).
pub const OP_SET_ANTENNA: u8 = 0x91;
/// 0x92: set read TX power (u16 centi-dBm).
pub const OP_SET_READ_POWER: u8 = 0x92;
/// 0x93: set tag protocol (u16, [`PROTOCOL_GEN2`]).
pub const OP_SET_TAG_PROTOCOL: u8 = 0x93;
/// 0x94: set write TX power (u16 centi-dBm).
pub const OP_SET_WRITE_POWER: u8 = 0x94;
/// 0x96: set GPIO outputs.
pub const OP_SET_GPIO: u8 = 0x96;
/// 0x97: set region.
pub const OP_SET_REGION: u8 = 0x97;
/// 0x9A: set reader optional parameter (`01 key value`).
pub const OP_SET_READER_PARAM: u8 = 0x9A;
/// 0x9B: set protocol parameter (Gen2 session, target, Q…).
pub const OP_SET_PROTOCOL_PARAM: u8 = 0x9B;
/// 0x9D: user profile; also pushed after a reset when autonomous reading is stored (TM-8).
pub const OP_USER_PROFILE: u8 = 0x9D;

/// Tag protocol number of EPC Gen2 (ISO 18000-63), as sent with [`OP_SET_TAG_PROTOCOL`] and
/// carried in the start command and in the protocol metadata field.
pub const PROTOCOL_GEN2: u8 = 0x05;

/// Success.
pub const STATUS_OK: u16 = 0x0000;
/// Wrong number of data bytes.
pub const STATUS_WRONG_DATA_LENGTH: u16 = 0x0100;
/// Invalid opcode.
pub const STATUS_INVALID_OPCODE: u16 = 0x0101;
/// Unimplemented opcode.
pub const STATUS_UNIMPLEMENTED_OPCODE: u16 = 0x0102;
/// Power too high.
pub const STATUS_POWER_TOO_HIGH: u16 = 0x0103;
/// Invalid parameter value.
pub const STATUS_INVALID_PARAMETER: u16 = 0x0105;
/// Unimplemented feature.
pub const STATUS_UNIMPLEMENTED_FEATURE: u16 = 0x0109;
/// Invalid baud rate.
pub const STATUS_INVALID_BAUD: u16 = 0x010A;
/// Invalid region.
pub const STATUS_INVALID_REGION: u16 = 0x010B;
/// No tags found (while streaming: the per-cycle keep-alive).
pub const STATUS_NO_TAGS_FOUND: u16 = 0x0400;
/// Invalid protocol.
pub const STATUS_INVALID_PROTOCOL: u16 = 0x0402;
/// Invalid antenna configuration.
pub const STATUS_INVALID_ANTENNA_CONFIG: u16 = 0x0507;
/// Temperature exceeds limits (the module throttles; arrives like a keep-alive).
pub const STATUS_TEMPERATURE_THROTTLE: u16 = 0x0504;
/// High return loss (antenna problem; arrives like a keep-alive).
pub const STATUS_HIGH_RETURN_LOSS: u16 = 0x0505;

/// Short English text of a status word (READERS.md §1.5), for logs; `"unknown status"` for a
/// word not listed there.
pub fn status_text(status: u16) -> &'static str {
    match status {
        0x0000 => "success",
        0x0100 => "wrong number of data bytes",
        0x0101 => "invalid opcode",
        0x0102 => "unimplemented opcode",
        0x0103 => "power too high",
        0x0104 => "invalid frequency",
        0x0105 => "invalid parameter value",
        0x0106 => "power too low",
        0x0109 => "unimplemented feature",
        0x010A => "invalid baud rate",
        0x010B => "invalid region",
        0x010C => "invalid licence key",
        0x0200..=0x02FF => "bootloader image error",
        0x0300..=0x03FF => "flash error",
        0x0400 => "no tags found",
        0x0401 => "no protocol defined",
        0x0402 => "invalid protocol",
        0x0403 => "write passed but lock failed",
        0x0404 => "no data read",
        0x0405 => "AFE not on",
        0x0406 => "write failed",
        0x0407 => "not implemented for this protocol",
        0x0408 => "invalid write data",
        0x0409 => "invalid address",
        0x040A => "general tag error",
        0x040B => "data too large",
        0x040C => "invalid kill password",
        0x040E => "kill failed",
        0x040F => "bit decoding failed",
        0x0410 => "invalid EPC",
        0x0411 => "invalid number of data",
        0x0413 => "invalid tag operation",
        0x0420 => "Gen2 other error",
        0x0423 => "Gen2 memory overrun or bad PC",
        0x0424 => "Gen2 memory locked",
        0x042B => "Gen2 insufficient power",
        0x042F => "Gen2 non-specific error",
        0x0430 => "Gen2 unknown error",
        0x0500 => "invalid frequency",
        0x0501 => "channel occupied",
        0x0502 => "transmitter on",
        0x0503 => "antenna not connected",
        0x0504 => "temperature exceeds limits",
        0x0505 => "high return loss",
        0x0507 => "invalid antenna configuration",
        0x0509 => "input voltage out of limits",
        0x0600 => "not enough tags in buffer",
        0x0601 => "tag buffer full",
        0x0602 => "repeated tag ID",
        0x0603 => "too many tags requested",
        0x0604 => "tag authentication request",
        0x7F00 => "unknown system error",
        0x7F01 => "firmware assertion",
        _ => "unknown status",
    }
}
