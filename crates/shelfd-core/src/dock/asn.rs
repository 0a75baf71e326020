//! Advance shipping notices (ASNs): the expected content of one shipment at one dock, parsed and
//! validated from the JSON body of an `asn` command (over MQTT or as a read-log command line).
//!
//! Owns the `asn` body grammar, its limits and the canonical form two ASNs are compared in. It
//! never decides whether the dock exists or whether the shipment is already known (that is the
//! [`super::DockBook`]'s job, against the config and the stored ASNs), and never panics on input:
//! every rejection names the offending field and value.
//!
//! ```text
//! {"id":"c1","shipment":"SHP-7","dock":"dock-1","epcs":["3074257bf7194e4000001a85", …]}
//! {"id":"c2","shipment":"SHP-8","dock":"dock-1","lines":[{"sku":"00614141000012","qty":24}]}
//! ```
//!
//! Limits: at most [`MAX_ASN_EPCS`] EPCs (each hex of whole 16-bit words or a GS1 EPC printed at
//! its own bit length, at most 496 bits, no duplicates, either case) or [`MAX_ASN_LINES`] lines (each a GTIN-14 with a valid check
//! digit, no SKU twice, `qty` 1..=[`MAX_LINE_QTY`]); exactly one of `epcs` and `lines`.

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Most EPCs one ASN may list.
pub const MAX_ASN_EPCS: usize = 10_000;
/// Most lines one class-level ASN may have.
pub const MAX_ASN_LINES: usize = 1_000;
/// Largest `qty` of one line.
pub const MAX_LINE_QTY: u64 = 100_000;
/// Longest shipment id, in characters.
pub const MAX_SHIPMENT_CHARS: usize = 64;

/// What a shipment contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsnContent {
    /// Item-level: the EPCs expected (bytes, sorted, unique).
    Epcs(BTreeSet<Vec<u8>>),
    /// Class-level: quantity per GTIN-14.
    Lines(BTreeMap<String, u32>),
}

impl AsnContent {
    /// Number of items announced.
    pub fn items(&self) -> u64 {
        match self {
            AsnContent::Epcs(e) => e.len() as u64,
            AsnContent::Lines(l) => l.values().map(|q| u64::from(*q)).sum(),
        }
    }

    /// A short description for messages: `12 EPCs` or `3 lines, 40 items`.
    pub fn describe(&self) -> String {
        match self {
            AsnContent::Epcs(e) => format!("{} EPCs", e.len()),
            AsnContent::Lines(l) => format!("{} lines, {} items", l.len(), self.items()),
        }
    }
}

/// A validated ASN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asn {
    /// Shipment id (the key ASNs are stored and deduplicated by).
    pub shipment: String,
    /// Dock id the shipment is expected at.
    pub dock: String,
    /// What it contains.
    pub content: AsnContent,
}

impl Asn {
    /// A stable 64-bit digest (FNV-1a) of the dock and the canonical content: equal for two
    /// ASNs exactly when they announce the same items at the same dock (up to hash
    /// collisions). Kept for received shipments, so a repeated `asn` can be recognised after
    /// the full list was dropped. The encoding is part of the store format: do not change it.
    pub fn digest(&self) -> u64 {
        let mut h = Fnv::default();
        h.bytes(self.dock.as_bytes());
        h.bytes(&[0]);
        match &self.content {
            AsnContent::Epcs(epcs) => {
                h.bytes(&[1]);
                for e in epcs {
                    h.bytes(&[e.len() as u8]);
                    h.bytes(e);
                }
            }
            AsnContent::Lines(lines) => {
                h.bytes(&[2]);
                for (sku, qty) in lines {
                    h.bytes(sku.as_bytes());
                    h.bytes(&qty.to_be_bytes());
                }
            }
        }
        h.0
    }
}

struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Why an ASN was refused. `field` is the JSON path of the offending part (`shipment`, `dock`,
/// `epcs`, `epcs[3]`, `lines[0].sku`, `lines[0].qty`, or the unknown key itself), `value` the
/// offending value as JSON cut to 40 characters when there is one, and `reason` the whole
/// sentence a command result carries (it names the field and the value too).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct AsnError {
    /// JSON path of the offending part.
    pub field: String,
    /// The offending value (JSON, shortened), when there is one.
    pub value: Option<String>,
    /// What is wrong, as one sentence naming field and value.
    pub reason: String,
}

impl AsnError {
    fn new(field: impl Into<String>, value: Option<&Value>, reason: String) -> Self {
        AsnError {
            field: field.into(),
            value: value.map(short),
            reason,
        }
    }
}

/// Parses the body of an `asn` command (the `id` is read by the caller and allowed here).
/// The error names the field and the offending value.
///
/// ```
/// use shelfd_core::dock::asn::parse_asn;
/// let body = serde_json::json!({"id":"c1","shipment":"SHP-7","dock":"dock-1",
///     "epcs":["3074257bf7194e4000001a85","3074257BF7194E4000001A85"]});
/// let err = parse_asn(body.as_object().unwrap()).unwrap_err();
/// assert_eq!(err.to_string(), r#"epcs[1]: "3074257BF7194E4000001A85" repeats epcs[0]"#);
/// assert_eq!((err.field.as_str(), err.value.as_deref()),
///     ("epcs[1]", Some(r#""3074257BF7194E4000001A85""#)));
/// ```
pub fn parse_asn(map: &Map<String, Value>) -> Result<Asn, AsnError> {
    if let Some((extra, v)) = map
        .iter()
        .find(|(k, _)| !matches!(k.as_str(), "id" | "shipment" | "dock" | "epcs" | "lines"))
    {
        return Err(AsnError::new(
            extra.as_str(),
            Some(v),
            format!(
                "unknown field {extra:?} (asn takes \"id\", \"shipment\", \"dock\" and \"epcs\" or \"lines\")"
            ),
        ));
    }
    let shipment = shipment(map.get("shipment"))?;
    let dock = dock(map.get("dock"))?;
    let content = match (map.get("epcs"), map.get("lines")) {
        (Some(_), Some(v)) => {
            return Err(AsnError::new(
                "lines",
                Some(v),
                "an asn carries either \"epcs\" or \"lines\", not both".into(),
            ));
        }
        (None, None) => {
            return Err(AsnError::new(
                "epcs",
                None,
                "an asn needs \"epcs\" (a list of hex EPCs) or \"lines\" (a list of {\"sku\",\"qty\"})"
                    .into(),
            ));
        }
        (Some(epcs), None) => AsnContent::Epcs(parse_epcs(epcs)?),
        (None, Some(lines)) => AsnContent::Lines(parse_lines(lines)?),
    };
    Ok(Asn {
        shipment,
        dock,
        content,
    })
}

fn shipment(v: Option<&Value>) -> Result<String, AsnError> {
    match v {
        None => Err(AsnError::new(
            "shipment",
            None,
            "missing \"shipment\"".into(),
        )),
        Some(Value::String(s))
            if !s.is_empty()
                && s.chars().count() <= MAX_SHIPMENT_CHARS
                && s.chars().all(|c| c.is_ascii_graphic()) =>
        {
            Ok(s.clone())
        }
        Some(other) => Err(AsnError::new(
            "shipment",
            Some(other),
            format!(
                "bad \"shipment\" {}: expected 1..={MAX_SHIPMENT_CHARS} printable ASCII characters without spaces",
                short(other)
            ),
        )),
    }
}

fn dock(v: Option<&Value>) -> Result<String, AsnError> {
    match v {
        None => Err(AsnError::new("dock", None, "missing \"dock\"".into())),
        Some(Value::String(s))
            if !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(s.clone())
        }
        Some(other) => Err(AsnError::new(
            "dock",
            Some(other),
            format!(
                "bad \"dock\" {}: expected a dock id (1-64 characters of A-Z a-z 0-9 - _)",
                short(other)
            ),
        )),
    }
}

/// Checks the shape of a list field (`epcs` or `lines`): an array of 1..=`max` items.
fn list<'a>(
    name: &str,
    v: &'a Value,
    of_what: &str,
    empty_hint: &str,
    max: usize,
) -> Result<&'a [Value], AsnError> {
    let Value::Array(items) = v else {
        return Err(AsnError::new(
            name,
            Some(v),
            format!("{name:?} must be an array of {of_what}, got {}", kind_of(v)),
        ));
    };
    if items.is_empty() {
        return Err(AsnError::new(
            name,
            Some(v),
            format!("{name:?} is empty ({empty_hint})"),
        ));
    }
    if items.len() > max {
        return Err(AsnError::new(
            name,
            None,
            format!(
                "{name:?} has {} entries, more than the {max} allowed",
                items.len()
            ),
        ));
    }
    Ok(items)
}

fn parse_epcs(v: &Value) -> Result<BTreeSet<Vec<u8>>, AsnError> {
    let items = list(
        "epcs",
        v,
        "hex strings",
        "announce at least one EPC",
        MAX_ASN_EPCS,
    )?;
    let mut first: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let field = || format!("epcs[{i}]");
        let Value::String(text) = item else {
            return Err(AsnError::new(
                field(),
                Some(item),
                format!(
                    "epcs[{i}]: expected a hex string, got {} {}",
                    kind_of(item),
                    short(item)
                ),
            ));
        };
        let epc = crate::readlog::epc_from_hex(text)
            .map_err(|e| AsnError::new(field(), Some(item), format!("epcs[{i}]: {e}")))?;
        if let Some(j) = first.get(&epc) {
            return Err(AsnError::new(
                field(),
                Some(item),
                format!("epcs[{i}]: {text:?} repeats epcs[{j}]"),
            ));
        }
        first.insert(epc, i);
    }
    Ok(first.into_keys().collect())
}

fn parse_lines(v: &Value) -> Result<BTreeMap<String, u32>, AsnError> {
    let items = list(
        "lines",
        v,
        "{\"sku\",\"qty\"} objects",
        "announce at least one line",
        MAX_ASN_LINES,
    )?;
    let mut out = BTreeMap::new();
    let mut first: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let Value::Object(line) = item else {
            return Err(AsnError::new(
                format!("lines[{i}]"),
                Some(item),
                format!(
                    "lines[{i}]: expected an object {{\"sku\",\"qty\"}}, got {}",
                    kind_of(item)
                ),
            ));
        };
        if let Some((extra, v)) = line
            .iter()
            .find(|(k, _)| !matches!(k.as_str(), "sku" | "qty"))
        {
            return Err(AsnError::new(
                format!("lines[{i}].{extra}"),
                Some(v),
                format!("lines[{i}]: unknown field {extra:?} (a line takes \"sku\" and \"qty\")"),
            ));
        }
        let sku_field = || format!("lines[{i}].sku");
        let sku = match line.get("sku") {
            None => {
                return Err(AsnError::new(
                    sku_field(),
                    None,
                    format!("lines[{i}]: missing \"sku\""),
                ));
            }
            Some(Value::String(s)) => s.as_str(),
            Some(other) => {
                return Err(AsnError::new(
                    sku_field(),
                    Some(other),
                    format!(
                        "lines[{i}]: \"sku\" must be a GTIN-14 string, got {} {}",
                        kind_of(other),
                        short(other)
                    ),
                ));
            }
        };
        let sku_value = line.get("sku");
        crate::gtin::check_gtin14(sku)
            .map_err(|e| AsnError::new(sku_field(), sku_value, format!("lines[{i}]: sku: {e}")))?;
        if let Some(j) = first.get(sku) {
            return Err(AsnError::new(
                sku_field(),
                sku_value,
                format!("lines[{i}]: sku {sku:?} repeats lines[{j}]"),
            ));
        }
        first.insert(sku, i);
        let qty_field = || format!("lines[{i}].qty");
        let qty = match line.get("qty") {
            None => {
                return Err(AsnError::new(
                    qty_field(),
                    None,
                    format!("lines[{i}]: missing \"qty\""),
                ));
            }
            Some(q) => match q.as_u64() {
                Some(n) if (1..=MAX_LINE_QTY).contains(&n) => n,
                _ => {
                    return Err(AsnError::new(
                        qty_field(),
                        Some(q),
                        format!(
                            "lines[{i}]: qty {} is not an integer in 1..={MAX_LINE_QTY}",
                            short(q)
                        ),
                    ));
                }
            },
        };
        // In range 1..=100 000, so it fits.
        out.insert(sku.to_owned(), qty as u32);
    }
    Ok(out)
}

/// What kind of JSON value `v` is, as messages name it ("a string", "an array", …).
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The value as JSON, cut to 40 characters.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= 40 {
        s
    } else {
        format!("{}…", s.chars().take(40).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Asn, String> {
        parse_asn(v.as_object().expect("object")).map_err(|e| e.to_string())
    }

    const E1: &str = "3074257bf7194e4000001a85";
    const E2: &str = "3074257bf7194e4000001a86";

    #[test]
    fn parses_epc_and_class_level_asns() {
        let a = parse(json!({"id":"c","shipment":"SHP-1","dock":"dock-1","epcs":[E2, E1]}))
            .expect("valid");
        assert_eq!((a.shipment.as_str(), a.dock.as_str()), ("SHP-1", "dock-1"));
        let AsnContent::Epcs(epcs) = &a.content else {
            panic!("{a:?}")
        };
        assert_eq!(epcs.len(), 2);
        assert_eq!(a.content.items(), 2);
        let b = parse(json!({"shipment":"S/2","dock":"d","lines":[
            {"sku":"00614141000012","qty":3},{"sku":"00614141000029","qty":100000}]}))
        .expect("valid");
        assert_eq!(b.content.items(), 100_003);
        assert_eq!(b.content.describe(), "2 lines, 100003 items");
    }

    #[test]
    fn epcs_printed_at_their_own_length_are_the_tags_epcs() {
        // TDS 2.3 annex E.3 (SSCC+, odd digit count) and SGTIN-198 as 50 digits (pyepc's form).
        let sgtin198_50 = "3666C4409047E159B2C2BF1000000000000000000000000000";
        let sgtin198_52 = "3666C4409047E159B2C2BF100000000000000000000000000000";
        let a = parse(json!({"shipment":"S","dock":"d",
            "epcs":[sgtin198_50, "F90095201234567891235"]}))
        .expect("valid");
        let b = parse(json!({"shipment":"S","dock":"d",
            "epcs":[sgtin198_52, "F90095201234567891235000"]}))
        .expect("valid");
        assert_eq!(a.content, b.content);
        assert_eq!(a.digest(), b.digest());
        let err = parse(json!({"shipment":"S","dock":"d","epcs":[sgtin198_50, sgtin198_52]}))
            .expect_err("a repeat");
        assert!(
            err.contains("epcs[1]") && err.contains("repeats epcs[0]"),
            "{err}"
        );
    }

    #[test]
    fn order_and_case_do_not_change_the_content_or_its_digest() {
        let a = parse(json!({"shipment":"S","dock":"d","epcs":[E1, E2]})).expect("a");
        let b =
            parse(json!({"shipment":"S","dock":"d","epcs":[E2, E1.to_uppercase()]})).expect("b");
        assert_eq!(a, b);
        assert_eq!(a.digest(), b.digest());
        let c = parse(json!({"shipment":"S","dock":"d","epcs":[E1]})).expect("c");
        assert_ne!(a.digest(), c.digest());
        let d = parse(json!({"shipment":"S","dock":"d2","epcs":[E1, E2]})).expect("d");
        assert_ne!(a.digest(), d.digest());
    }

    #[test]
    fn rejections_name_the_field_and_value() {
        let long = "a".repeat(65);
        let cases: Vec<(Value, &str)> = vec![
            (json!({"dock":"d","epcs":[E1]}), "missing \"shipment\""),
            (
                json!({"shipment":"","dock":"d","epcs":[E1]}),
                "bad \"shipment\" \"\"",
            ),
            (
                json!({"shipment":"a b","dock":"d","epcs":[E1]}),
                "bad \"shipment\" \"a b\"",
            ),
            (
                json!({"shipment":long,"dock":"d","epcs":[E1]}),
                "bad \"shipment\" \"aaaa",
            ),
            (json!({"shipment":"S","epcs":[E1]}), "missing \"dock\""),
            (
                json!({"shipment":"S","dock":"dock 1","epcs":[E1]}),
                "bad \"dock\" \"dock 1\"",
            ),
            (
                json!({"shipment":"S","dock":"d"}),
                "needs \"epcs\" (a list of hex EPCs) or \"lines\"",
            ),
            (
                json!({"shipment":"S","dock":"d","epcs":[E1],"lines":[]}),
                "either \"epcs\" or \"lines\", not both",
            ),
            (
                json!({"shipment":"S","dock":"d","epcs":E1}),
                "\"epcs\" must be an array of hex strings, got a string",
            ),
            (
                json!({"shipment":"S","dock":"d","epcs":[]}),
                "\"epcs\" is empty",
            ),
            (
                json!({"shipment":"S","dock":"d","epcs":[E1, 7]}),
                "epcs[1]: expected a hex string, got a number 7",
            ),
            (
                json!({"shipment":"S","dock":"d","epcs":["30zz"]}),
                "epcs[0]: hex \"30zz\" has 'z' at position 2, which is not a hex digit",
            ),
            (
                json!({"shipment":"S","dock":"d","epcs":[E1, "307"]}),
                "epcs[1]: hex \"307\" has 12 bits (3 hex digits), too few for SGTIN-96, which needs 96",
            ),
            (
                json!({"shipment":"S","dock":"d","epcs":[E1, E2, E1]}),
                "epcs[2]: \"3074257bf7194e4000001a85\" repeats epcs[0]",
            ),
            (
                json!({"shipment":"S","dock":"d","epcs":[E1],"color":"red"}),
                "unknown field \"color\"",
            ),
            (
                json!({"shipment":"S","dock":"d","lines":{}}),
                "\"lines\" must be an array",
            ),
            (
                json!({"shipment":"S","dock":"d","lines":[]}),
                "\"lines\" is empty",
            ),
            (
                json!({"shipment":"S","dock":"d","lines":[1]}),
                "lines[0]: expected an object",
            ),
            (
                json!({"shipment":"S","dock":"d","lines":[{"qty":1}]}),
                "lines[0]: missing \"sku\"",
            ),
            (
                json!({"shipment":"S","dock":"d","lines":[{"sku":614141000015u64,"qty":1}]}),
                "lines[0]: \"sku\" must be a GTIN-14 string, got a number 614141000015",
            ),
            (
                json!({"shipment":"S","dock":"d","lines":[{"sku":"00614141000016","qty":1}]}),
                "lines[0]: sku: invalid GTIN \"00614141000016\": check digit is 6, expected 2",
            ),
            (
                json!({"shipment":"S","dock":"d","lines":[{"sku":"00614141000012"}]}),
                "lines[0]: missing \"qty\"",
            ),
            (
                json!({"shipment":"S","dock":"d","lines":[{"sku":"00614141000012","qty":0}]}),
                "lines[0]: qty 0 is not an integer in 1..=100000",
            ),
            (
                json!({"shipment":"S","dock":"d","lines":[{"sku":"00614141000012","qty":100001}]}),
                "lines[0]: qty 100001 is not",
            ),
            (
                json!({"shipment":"S","dock":"d","lines":[{"sku":"00614141000012","qty":2.5}]}),
                "lines[0]: qty 2.5 is not",
            ),
            (
                json!({"shipment":"S","dock":"d","lines":[{"sku":"00614141000012","qty":1},{"sku":"00614141000012","qty":2}]}),
                "lines[1]: sku \"00614141000012\" repeats lines[0]",
            ),
            (
                json!({"shipment":"S","dock":"d","lines":[{"sku":"00614141000012","qty":1,"lot":"x"}]}),
                "lines[0]: unknown field \"lot\"",
            ),
        ];
        for (body, needle) in cases {
            let err = parse(body.clone()).expect_err(needle);
            assert!(err.contains(needle), "{body}: {err}");
        }
    }

    #[test]
    fn size_limits_are_enforced_and_named() {
        let epcs: Vec<String> = (0..=MAX_ASN_EPCS as u64)
            .map(|i| format!("3074{i:020x}"))
            .collect();
        let err = parse(json!({"shipment":"S","dock":"d","epcs":epcs})).expect_err("too many");
        assert_eq!(
            err,
            "\"epcs\" has 10001 entries, more than the 10000 allowed"
        );
        let ok = parse(json!({"shipment":"S","dock":"d","epcs":epcs[..MAX_ASN_EPCS]}));
        assert_eq!(ok.expect("at the limit").content.items(), 10_000);
        let lines: Vec<Value> = (0..=MAX_ASN_LINES)
            .map(|_| json!({"sku":"00614141000012","qty":1}))
            .collect();
        let err = parse(json!({"shipment":"S","dock":"d","lines":lines})).expect_err("too many");
        assert_eq!(
            err,
            "\"lines\" has 1001 entries, more than the 1000 allowed"
        );
        let huge = "3".repeat(5000);
        let err = parse(json!({"shipment":"S","dock":"d","epcs":[huge]})).expect_err("long");
        assert!(err.starts_with("epcs[0]: \"3333"), "{err}");
        assert!(err.len() < 120, "the error quotes the whole value: {err}");
    }

    proptest! {
        #[test]
        fn arbitrary_json_never_panics(s in ".{0,300}") {
            if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&s) {
                let _ = parse_asn(&m);
            }
        }

        #[test]
        fn valid_epc_lists_parse_back(words in proptest::collection::btree_set(any::<u64>(), 1..40)) {
            let hex: Vec<String> = words.iter().map(|w| format!("{w:016x}")).collect();
            let a = parse(json!({"shipment":"S","dock":"d","epcs":hex})).expect("valid");
            prop_assert_eq!(a.content.items(), words.len() as u64);
        }
    }
}
