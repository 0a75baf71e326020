//! The EPC schemes this decoder understands, named as the TDS names them.
//!
//! Owns only the names (upper case in error messages, lower case in JSON). It must never carry
//! layout knowledge: bit layouts live in the per-scheme modules.

use std::fmt;

/// An EPC binary encoding scheme (TDS 2.x header table), as decoded.
///
/// Serialized in lower case with the bit length or the `+`/`++` suffix, e.g. `"sgtin-96"`,
/// `"sgtin+"`, `"dsgtin++"`; displayed in upper case (`SGTIN-96`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Scheme {
    /// SGTIN-96 (header 0x30): GTIN + integer serial.
    #[serde(rename = "sgtin-96")]
    Sgtin96,
    /// SGTIN-198 (header 0x36): GTIN + 7-bit alphanumeric serial.
    #[serde(rename = "sgtin-198")]
    Sgtin198,
    /// SSCC-96 (header 0x31).
    #[serde(rename = "sscc-96")]
    Sscc96,
    /// SGLN-96 (header 0x32): GLN + integer extension.
    #[serde(rename = "sgln-96")]
    Sgln96,
    /// SGLN-195 (header 0x39): GLN + 7-bit alphanumeric extension.
    #[serde(rename = "sgln-195")]
    Sgln195,
    /// GRAI-96 (header 0x33): GRAI + integer serial.
    #[serde(rename = "grai-96")]
    Grai96,
    /// GRAI-170 (header 0x37): GRAI + 7-bit alphanumeric serial.
    #[serde(rename = "grai-170")]
    Grai170,
    /// GIAI-96 (header 0x34): GIAI with an integer asset reference.
    #[serde(rename = "giai-96")]
    Giai96,
    /// GIAI-202 (header 0x38): GIAI with a 7-bit alphanumeric asset reference.
    #[serde(rename = "giai-202")]
    Giai202,
    /// GID-96 (header 0x35): general identifier, no GS1 key.
    #[serde(rename = "gid-96")]
    Gid96,
    /// SGTIN+ (header 0xF7, TDS 2.0).
    #[serde(rename = "sgtin+")]
    SgtinPlus,
    /// DSGTIN+ (header 0xFB, TDS 2.0): SGTIN+ with a prioritised date.
    #[serde(rename = "dsgtin+")]
    DsgtinPlus,
    /// SSCC+ (header 0xF9, TDS 2.0).
    #[serde(rename = "sscc+")]
    SsccPlus,
    /// SGLN+ (header 0xF2, TDS 2.0).
    #[serde(rename = "sgln+")]
    SglnPlus,
    /// GRAI+ (header 0xF1, TDS 2.0).
    #[serde(rename = "grai+")]
    GraiPlus,
    /// GIAI+ (header 0xFA, TDS 2.0).
    #[serde(rename = "giai+")]
    GiaiPlus,
    /// SGTIN++ (header 0xFD, TDS 2.3): SGTIN+ with an encoded hostname.
    #[serde(rename = "sgtin++")]
    SgtinPlusPlus,
    /// DSGTIN++ (header 0xFC, TDS 2.3).
    #[serde(rename = "dsgtin++")]
    DsgtinPlusPlus,
    /// SSCC++ (header 0xEF, TDS 2.3).
    #[serde(rename = "sscc++")]
    SsccPlusPlus,
    /// SGLN++ (header 0xE9, TDS 2.3).
    #[serde(rename = "sgln++")]
    SglnPlusPlus,
    /// GRAI++ (header 0xEB, TDS 2.3).
    #[serde(rename = "grai++")]
    GraiPlusPlus,
    /// GIAI++ (header 0xEE, TDS 2.3).
    #[serde(rename = "giai++")]
    GiaiPlusPlus,
}

impl Scheme {
    /// The TDS name in upper case, e.g. `SGTIN-96`, `DSGTIN+`.
    ///
    /// ```
    /// assert_eq!(shelfd_core::epc::Scheme::SgtinPlus.name(), "SGTIN+");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Sgtin96 => "SGTIN-96",
            Scheme::Sgtin198 => "SGTIN-198",
            Scheme::Sscc96 => "SSCC-96",
            Scheme::Sgln96 => "SGLN-96",
            Scheme::Sgln195 => "SGLN-195",
            Scheme::Grai96 => "GRAI-96",
            Scheme::Grai170 => "GRAI-170",
            Scheme::Giai96 => "GIAI-96",
            Scheme::Giai202 => "GIAI-202",
            Scheme::Gid96 => "GID-96",
            Scheme::SgtinPlus => "SGTIN+",
            Scheme::DsgtinPlus => "DSGTIN+",
            Scheme::SsccPlus => "SSCC+",
            Scheme::SglnPlus => "SGLN+",
            Scheme::GraiPlus => "GRAI+",
            Scheme::GiaiPlus => "GIAI+",
            Scheme::SgtinPlusPlus => "SGTIN++",
            Scheme::DsgtinPlusPlus => "DSGTIN++",
            Scheme::SsccPlusPlus => "SSCC++",
            Scheme::SglnPlusPlus => "SGLN++",
            Scheme::GraiPlusPlus => "GRAI++",
            Scheme::GiaiPlusPlus => "GIAI++",
        }
    }

    /// The 8-bit EPC header that selects this scheme.
    pub fn header(self) -> u8 {
        match self {
            Scheme::Sgtin96 => 0x30,
            Scheme::Sgtin198 => 0x36,
            Scheme::Sscc96 => 0x31,
            Scheme::Sgln96 => 0x32,
            Scheme::Sgln195 => 0x39,
            Scheme::Grai96 => 0x33,
            Scheme::Grai170 => 0x37,
            Scheme::Giai96 => 0x34,
            Scheme::Giai202 => 0x38,
            Scheme::Gid96 => 0x35,
            Scheme::SgtinPlus => 0xF7,
            Scheme::DsgtinPlus => 0xFB,
            Scheme::SsccPlus => 0xF9,
            Scheme::SglnPlus => 0xF2,
            Scheme::GraiPlus => 0xF1,
            Scheme::GiaiPlus => 0xFA,
            Scheme::SgtinPlusPlus => 0xFD,
            Scheme::DsgtinPlusPlus => 0xFC,
            Scheme::SsccPlusPlus => 0xEF,
            Scheme::SglnPlusPlus => 0xE9,
            Scheme::GraiPlusPlus => 0xEB,
            Scheme::GiaiPlusPlus => 0xEE,
        }
    }

    /// The lower-case name used in JSON and tag URIs, e.g. `sgtin-96`.
    pub fn json_name(self) -> &'static str {
        match self {
            Scheme::Sgtin96 => "sgtin-96",
            Scheme::Sgtin198 => "sgtin-198",
            Scheme::Sscc96 => "sscc-96",
            Scheme::Sgln96 => "sgln-96",
            Scheme::Sgln195 => "sgln-195",
            Scheme::Grai96 => "grai-96",
            Scheme::Grai170 => "grai-170",
            Scheme::Giai96 => "giai-96",
            Scheme::Giai202 => "giai-202",
            Scheme::Gid96 => "gid-96",
            Scheme::SgtinPlus => "sgtin+",
            Scheme::DsgtinPlus => "dsgtin+",
            Scheme::SsccPlus => "sscc+",
            Scheme::SglnPlus => "sgln+",
            Scheme::GraiPlus => "grai+",
            Scheme::GiaiPlus => "giai+",
            Scheme::SgtinPlusPlus => "sgtin++",
            Scheme::DsgtinPlusPlus => "dsgtin++",
            Scheme::SsccPlusPlus => "sscc++",
            Scheme::SglnPlusPlus => "sgln++",
            Scheme::GraiPlusPlus => "grai++",
            Scheme::GiaiPlusPlus => "giai++",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an EPC header names when it is not one of the decodable [`Scheme`]s.
pub(crate) enum OtherHeader {
    /// A deprecated 64-bit encoding (TDS 1.x), e.g. SGTIN-64.
    Deprecated64(&'static str),
    /// A GS1 scheme that exists but that this decoder does not decode.
    Unsupported(&'static str),
}

/// Classifies a header that [`Scheme`] does not cover (TDS header table; GS1.md §2).
pub(crate) fn other_header(header: u8) -> Option<OtherHeader> {
    use OtherHeader::{Deprecated64, Unsupported};
    Some(match header {
        0x08 => Deprecated64("SSCC-64"),
        0x09 => Deprecated64("SGLN-64"),
        0x0A => Deprecated64("GRAI-64"),
        0x0B => Deprecated64("GIAI-64"),
        0x2C => Unsupported("GDTI-96"),
        0x2D => Unsupported("GSRN-96"),
        0x2E => Unsupported("GSRNP-96"),
        0x2F => Unsupported("USDOD-96"),
        0x3A => Unsupported("GDTI-113"),
        0x3B => Unsupported("ADI-var"),
        0x3C => Unsupported("CPI-96"),
        0x3D => Unsupported("CPI-var"),
        0x3E => Unsupported("GDTI-174"),
        0x3F => Unsupported("SGCN-96"),
        0x40 => Unsupported("ITIP-110"),
        0x41 => Unsupported("ITIP-212"),
        0x80..=0xBF => Deprecated64("SGTIN-64"),
        0xE6 => Unsupported("CPI++"),
        0xE7 => Unsupported("GSRN++"),
        0xE8 => Unsupported("GSRNP++"),
        0xEA => Unsupported("GDTI++"),
        0xEC => Unsupported("SGCN++"),
        0xED => Unsupported("ITIP++"),
        0xF0 => Unsupported("CPI+"),
        0xF3 => Unsupported("ITIP+"),
        0xF4 => Unsupported("GSRN+"),
        0xF5 => Unsupported("GSRNP+"),
        0xF6 => Unsupported("GDTI+"),
        0xF8 => Unsupported("SGCN+"),
        _ => return None,
    })
}
