//! GS1 EPC Tag Data Standard decoding: EPC bank bytes (or their hex) → typed identity.
//!
//! Owns the translation of one EPC into GS1 terms: scheme, filter, company prefix, pure identity
//! URI, GTIN-14/SSCC/GLN/GRAI/GIAI with recomputed check digits, serial, element string and
//! GS1 Digital Link. It is strict: an out-of-range partition or value, a bad length, an unknown
//! header or a bad character is rejected with a reason naming the offending value — it never
//! returns a wrong answer, and it never panics on any input. It does no I/O and keeps no state.
//!
//! Schemes: SGTIN-96/198, SSCC-96, SGLN-96/195, GRAI-96/170, GIAI-96/202, GID-96, and the TDS 2.x
//! '+' schemes SGTIN+, DSGTIN+, SSCC+, SGLN+, GRAI+, GIAI+ with their '++' (hostname) variants,
//! including +AIDC data after the EPC. '+' schemes carry no GCP length, so they get no
//! `urn:epc:id` URI or company prefix; their natural output is the Digital Link.
//!
//! ```
//! let d = shelfd_core::epc::decode_hex("3074257BF7194E4000001A85").unwrap();
//! assert_eq!(d.pure_identity.as_deref(), Some("urn:epc:id:sgtin:0614141.812345.6789"));
//! assert_eq!(d.gtin.as_deref(), Some("80614141123458"));
//! assert_eq!(d.filter, Some(3));
//! assert_eq!(
//!     shelfd_core::epc::gtin14(&shelfd_core::epc::parse_hex("3074257BF7194E4000001A85").unwrap()).as_deref(),
//!     Some("80614141123458")
//! );
//! ```
//!
//! Layout: `hex` (text → bytes), `bits` (bounds-checked bit access), `partition` (shared front
//! of the TDS 1.x schemes), one module per scheme family (`sgtin`, `sscc`, `sgln`, `grai`, `giai`,
//! `gid`), `plus_schemes` + `ai` + `ai_value` + `hostname` (TDS 2.x), `text` (7-bit strings),
//! `uri`, `digital_link`, `check_digit`, `error`, and [`encode`] (for round-trip tests and tools).

mod ai;
mod ai_value;
mod bits;
pub mod check_digit;
pub mod digital_link;
pub mod encode;
mod error;
mod giai;
mod gid;
mod grai;
mod hex;
mod hostname;
mod partition;
mod plus_schemes;
mod scheme;
mod sgln;
mod sgtin;
mod sscc;
mod text;
pub mod uri;

#[cfg(test)]
mod tests;

pub use ai::Ai;
pub use error::{EpcError, Field, Problem};
pub use hex::parse_hex;
pub use scheme::Scheme;

/// One GS1 Application Identifier element, e.g. `{"ai": "10", "value": "ABC123"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AiElement {
    /// The AI digits, e.g. `"10"`, `"3103"`.
    pub ai: String,
    /// The value as in a GS1 element string (unescaped).
    pub value: String,
}

/// The prioritised date of a DSGTIN+/DSGTIN++ (TDS 2.x date type indicator).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PrioritisedDate {
    /// The AI the date stands for: `11`, `13`, `15`, `16`, `17`, `7006` or `7007`.
    pub ai: String,
    /// What the date is: `production`, `packaging`, `best_before`, `sell_by`, `expiry`,
    /// `first_freeze` or `harvest`.
    pub kind: &'static str,
    /// The date as YYMMDD (DD may be `00`).
    pub yymmdd: String,
}

/// A decoded EPC. Fields that do not apply to the scheme are `None` (and left out of JSON).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decoded {
    /// The encoding scheme, serialized as e.g. `"sgtin-96"`, `"sgtin+"`.
    pub scheme: Scheme,
    /// The filter value (metadata only; identity never depends on it). None for GID-96.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<u8>,
    /// The GS1 Company Prefix with its significant leading zeros (TDS 1.x schemes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_prefix: Option<String>,
    /// `urn:epc:id:…`, percent-escaped; None for '+' schemes (no GCP length on the tag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pure_identity: Option<String>,
    /// `urn:epc:tag:<scheme>:<filter>.…` (TDS 1.x schemes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag_uri: Option<String>,
    /// GTIN-14 with its check digit (SGTIN family).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gtin: Option<String>,
    /// SSCC-18 with its check digit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sscc: Option<String>,
    /// GLN-13 with its check digit (SGLN family).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gln: Option<String>,
    /// The SGLN extension, AI (254); `"0"` means the GLN itself (no extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gln_extension: Option<String>,
    /// The AI (8003) value: `0` + GCP + asset type + check digit + serial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grai: Option<String>,
    /// The AI (8004) value: GCP + individual asset reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub giai: Option<String>,
    /// The serial: AI (21) for SGTINs, the GRAI serial, or the GID serial (unescaped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// GID-96 general manager number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid_manager: Option<String>,
    /// GID-96 object class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid_object_class: Option<String>,
    /// DSGTIN+ prioritised date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<PrioritisedDate>,
    /// Further AIs after a '+' EPC (+AIDC data), in tag order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aidc: Option<Vec<AiElement>>,
    /// The hostname encoded in a '++' EPC (lower case for URN Code 40).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// The GS1 element string, e.g. `(01)80614141123458(21)6789` (GS1 keys only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element_string: Option<String>,
    /// The GS1 Digital Link URI (on `id.gs1.org`, or on the tag's hostname for '++').
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digital_link: Option<String>,
}

impl Decoded {
    /// A result for `scheme` with every optional field empty.
    pub(crate) fn empty(scheme: Scheme) -> Self {
        Decoded {
            scheme,
            filter: None,
            company_prefix: None,
            pure_identity: None,
            tag_uri: None,
            gtin: None,
            sscc: None,
            gln: None,
            gln_extension: None,
            grai: None,
            giai: None,
            serial: None,
            gid_manager: None,
            gid_object_class: None,
            date: None,
            aidc: None,
            hostname: None,
            element_string: None,
            digital_link: None,
        }
    }

    /// Fills `element_string` and `digital_link` from the GS1 elements (primary key first).
    pub(crate) fn set_gs1_elements(&mut self, host: &str, elements: &[(Ai, &str)]) {
        self.element_string = Some(digital_link::element_string(elements));
        self.digital_link = Some(digital_link::digital_link(host, elements));
    }
}

/// Which decodable scheme `header` selects, or why none does.
fn scheme_of(header: u8) -> Result<Scheme, EpcError> {
    use Scheme::*;
    Ok(match header {
        0x30 => Sgtin96,
        0x36 => Sgtin198,
        0x31 => Sscc96,
        0x32 => Sgln96,
        0x39 => Sgln195,
        0x33 => Grai96,
        0x37 => Grai170,
        0x34 => Giai96,
        0x38 => Giai202,
        0x35 => Gid96,
        0xF7 => SgtinPlus,
        0xFB => DsgtinPlus,
        0xF9 => SsccPlus,
        0xF2 => SglnPlus,
        0xF1 => GraiPlus,
        0xFA => GiaiPlus,
        0xFD => SgtinPlusPlus,
        0xFC => DsgtinPlusPlus,
        0xEF => SsccPlusPlus,
        0xE9 => SglnPlusPlus,
        0xEB => GraiPlusPlus,
        0xEE => GiaiPlusPlus,
        0x00 => return Err(EpcError::Unprogrammed),
        _ => {
            return Err(match scheme::other_header(header) {
                Some(scheme::OtherHeader::Deprecated64(name)) => {
                    EpcError::Deprecated64 { header, name }
                }
                Some(scheme::OtherHeader::Unsupported(name)) => {
                    EpcError::Unsupported { header, name }
                }
                None => EpcError::UnknownHeader { header },
            });
        }
    })
}

/// Strictly decodes EPC bank bytes (starting at the EPC header; trailing zero padding allowed).
///
/// ```
/// use shelfd_core::epc::{decode, parse_hex};
/// let err = decode(&parse_hex("E2801160600002054E3A7A2B").unwrap()).unwrap_err();
/// assert_eq!(err.to_string(), "unknown EPC header 0xe2 (not a GS1 EPC scheme)");
/// ```
pub fn decode(bytes: &[u8]) -> Result<Decoded, EpcError> {
    let &header = bytes.first().ok_or(EpcError::Empty)?;
    let scheme = scheme_of(header)?;
    match scheme {
        Scheme::Sgtin96 | Scheme::Sgtin198 => Ok(sgtin::parse(bytes, scheme)?.to_decoded(bytes)),
        Scheme::Sscc96 => Ok(sscc::parse(bytes)?.to_decoded()),
        Scheme::Sgln96 | Scheme::Sgln195 => Ok(sgln::parse(bytes, scheme)?.to_decoded(bytes)),
        Scheme::Grai96 | Scheme::Grai170 => Ok(grai::parse(bytes, scheme)?.to_decoded(bytes)),
        Scheme::Giai96 | Scheme::Giai202 => Ok(giai::parse(bytes, scheme)?.to_decoded(bytes)),
        Scheme::Gid96 => Ok(gid::parse(bytes)?.to_decoded()),
        _ => plus_schemes::decode(bytes, scheme),
    }
}

/// The scheme of the EPC in `bytes` (validated strictly) and the number of bits it uses without
/// its zero padding: the fixed length of a TDS 1.x scheme, or where the last element of a '+'
/// scheme ends.
pub(crate) fn encoded_bits(bytes: &[u8]) -> Result<(Scheme, usize), EpcError> {
    use Scheme::*;
    let scheme = decode(bytes)?.scheme;
    let bits = match scheme {
        Sgtin96 | Sscc96 | Sgln96 | Grai96 | Giai96 | Gid96 => 96,
        Sgtin198 => 198,
        Sgln195 => 195,
        Grai170 => 170,
        Giai202 => 202,
        plus => plus_schemes::encoded_bits(bytes, plus)?,
    };
    Ok((scheme, bits))
}

/// [`parse_hex`] then [`decode`].
///
/// ```
/// let err = shelfd_core::epc::decode_hex("30f").unwrap_err();
/// assert_eq!(err.to_string(), r#"hex "30f" has 12 bits (3 hex digits), too few for SGTIN-96, which needs 96"#);
/// // SGTIN-198 printed at its own length (50 digits) is the tag's 52-digit EPC.
/// let d = shelfd_core::epc::decode_hex("3666C4409047E159B2C2BF1000000000000000000000000000").unwrap();
/// assert_eq!(d.serial.as_deref(), Some("32a/b"));
/// ```
pub fn decode_hex(s: &str) -> Result<Decoded, EpcError> {
    decode(&parse_hex(s)?)
}

/// The GTIN-14 (with check digit) of an SGTIN-96, SGTIN-198, SGTIN+, DSGTIN+, SGTIN++ or
/// DSGTIN++ EPC, or `None` for any other or any invalid EPC.
///
/// Agrees with `decode(bytes)?.gtin` but allocates nothing besides the returned string; this
/// is the per-tag fast path of the engine.
pub fn gtin14(bytes: &[u8]) -> Option<String> {
    let scheme = scheme_of(*bytes.first()?).ok()?;
    match scheme {
        Scheme::Sgtin96 | Scheme::Sgtin198 => sgtin::parse(bytes, scheme).ok().map(|s| s.gtin()),
        Scheme::SgtinPlus | Scheme::DsgtinPlus | Scheme::SgtinPlusPlus | Scheme::DsgtinPlusPlus => {
            plus_schemes::gtin(bytes, scheme)
        }
        _ => None,
    }
}

/// One JSON object per EPC for `shelfd epc HEX…`:
/// `{"epc": "<input>", "ok": {…}}` or `{"epc": "<input>", "error": "<reason>"}`.
///
/// ```
/// let v = shelfd_core::epc::describe_json("30f");
/// assert_eq!(v["epc"], "30f");
/// assert!(v["error"].as_str().unwrap().contains("too few for SGTIN-96"));
/// let v = shelfd_core::epc::describe_json("3074257BF7194E4000001A85");
/// assert_eq!(v["ok"]["scheme"], "sgtin-96");
/// assert_eq!(v["ok"]["gtin"], "80614141123458");
/// ```
pub fn describe_json(hex: &str) -> serde_json::Value {
    let outcome = decode_hex(hex).map_err(|e| e.to_string()).and_then(|d| {
        serde_json::to_value(&d).map_err(|e| format!("cannot serialize decoded EPC: {e}"))
    });
    match outcome {
        Ok(value) => serde_json::json!({ "epc": hex, "ok": value }),
        Err(error) => serde_json::json!({ "epc": hex, "error": error }),
    }
}
