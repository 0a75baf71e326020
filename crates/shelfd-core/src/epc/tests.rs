//! Tests of the EPC decoder: the GS1 TDS worked examples (annex E.3 as transcribed in GS1.md and
//! by the GS1 Digital Link resolver tests), every rejection the decoder checklist names, +AIDC
//! data, '++' hostnames, and property tests (encode → decode round trips; arbitrary input never
//! panics and `gtin14` always agrees with `decode`).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use proptest::prelude::*;

use super::*;

/// Hex as read from a tag: zero-padded to a whole 16-bit word.
fn words(hex: &str) -> String {
    let mut s = hex.to_owned();
    while s.len() % 4 != 0 {
        s.push('0');
    }
    s
}

fn ok(hex: &str) -> Decoded {
    match decode_hex(&words(hex)) {
        Ok(d) => d,
        Err(e) => panic!("{hex}: {e}"),
    }
}

fn err(hex: &str) -> String {
    match decode_hex(&words(hex)) {
        Ok(d) => panic!("{hex} decoded but must be rejected: {d:?}"),
        Err(e) => e.to_string(),
    }
}

/// The Digital Link without `https://id.gs1.org`.
fn dl_path(d: &Decoded) -> &str {
    d.digital_link
        .as_deref()
        .and_then(|l| l.strip_prefix("https://id.gs1.org"))
        .unwrap_or("<no id.gs1.org digital link>")
}

// ------------------------------------------------------------------------------ bit builder

/// A '0'/'1' string builder mirroring the TDS field encodings, for hand-made vectors.
fn b(value: u128, width: usize) -> String {
    format!("{value:0width$b}")
}

fn nibbles(digits: &str) -> String {
    digits
        .chars()
        .map(|c| b(u128::from(c.to_digit(16).unwrap()), 4))
        .collect()
}

const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// TDS 14.5.6 with 5 length bits: numeric, else base 64, else 7-bit.
fn alnum(value: &str) -> String {
    let n = value.len() as u128;
    if value.chars().all(|c| c.is_ascii_digit()) {
        let bits = ai_value::int_bits(value.len()) as usize;
        return format!("000{}{}", b(n, 5), b(value.parse().unwrap(), bits));
    }
    if value.chars().all(|c| B64.contains(c)) {
        let chars: String = value
            .chars()
            .map(|c| b(B64.find(c).unwrap() as u128, 6))
            .collect();
        return format!("011{}{chars}", b(n, 5));
    }
    let chars: String = value.bytes().map(|c| b(u128::from(c), 7)).collect();
    format!("100{}{chars}", b(n, 5))
}

fn date(yymmdd: &str) -> String {
    let p = |i: usize| yymmdd[i..i + 2].parse::<u128>().unwrap();
    format!("{}{}{}", b(p(0), 7), b(p(2), 4), b(p(4), 5))
}

fn aidc(ai: &str, value_bits: &str) -> String {
    format!("{}{value_bits}", nibbles(ai))
}

const G: &str = "09506000134352";

fn sgtin_plus_bits(toggle: &str, serial: &str, tail: &str) -> String {
    format!("11110111{toggle}011{}{}{tail}", nibbles(G), alnum(serial))
}

/// Bits → bytes, zero-padded to a 16-bit word.
fn bytes_of(bits: &str) -> Vec<u8> {
    let mut bits = bits.to_owned();
    while bits.len() % 16 != 0 {
        bits.push('0');
    }
    bits.as_bytes()
        .chunks(8)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap())
        .collect()
}

fn decode_bits(bits: &str) -> Result<Decoded, EpcError> {
    decode(&bytes_of(bits))
}

// ------------------------------------------------------------------------------ TDS 1.x vectors

#[test]
fn sgtin96_tds_example() {
    let d = ok("3074257BF7194E4000001A85");
    assert_eq!(d.scheme, Scheme::Sgtin96);
    assert_eq!(d.filter, Some(3));
    assert_eq!(d.company_prefix.as_deref(), Some("0614141"));
    assert_eq!(
        d.pure_identity.as_deref(),
        Some("urn:epc:id:sgtin:0614141.812345.6789")
    );
    assert_eq!(
        d.tag_uri.as_deref(),
        Some("urn:epc:tag:sgtin-96:3.0614141.812345.6789")
    );
    assert_eq!(d.gtin.as_deref(), Some("80614141123458"));
    assert_eq!(d.serial.as_deref(), Some("6789"));
    assert_eq!(
        d.element_string.as_deref(),
        Some("(01)80614141123458(21)6789")
    );
    assert_eq!(
        d.digital_link.as_deref(),
        Some("https://id.gs1.org/01/80614141123458/21/6789")
    );
    assert_eq!(
        gtin14(&parse_hex("3074257BF7194E4000001A85").unwrap()).as_deref(),
        Some("80614141123458")
    );
}

#[test]
fn sgtin96_json_golden() {
    let v = describe_json("3074257BF7194E4000001A85");
    assert_eq!(
        v,
        serde_json::json!({
            "epc": "3074257BF7194E4000001A85",
            "ok": {
                "scheme": "sgtin-96",
                "filter": 3,
                "company_prefix": "0614141",
                "pure_identity": "urn:epc:id:sgtin:0614141.812345.6789",
                "tag_uri": "urn:epc:tag:sgtin-96:3.0614141.812345.6789",
                "gtin": "80614141123458",
                "serial": "6789",
                "element_string": "(01)80614141123458(21)6789",
                "digital_link": "https://id.gs1.org/01/80614141123458/21/6789"
            }
        })
    );
    assert_eq!(
        describe_json("E2801160600002054E3A7A2B"),
        serde_json::json!({
            "epc": "E2801160600002054E3A7A2B",
            "error": "unknown EPC header 0xe2 (not a GS1 EPC scheme)"
        })
    );
}

#[test]
fn epcb_worked_example() {
    // GS1 Digital Link compression of EPC binary strings 1.0.0, §4.2.
    let d = ok("30164596f40c0e5cbe991a83");
    assert_eq!(dl_path(&d), "/01/09528765123457/21/123456789123");
    assert_eq!(d.filter, Some(0));
}

/// TDS 2.3 annex E.3 pairs for the schemes decoded here (GS1.md §6/§7).
const E3: &[(&str, &str, &str)] = &[
    (
        "sgtin-96",
        "3066C4409047E140075BCD15",
        "/01/09506000134352/21/123456789",
    ),
    (
        "sgtin-198",
        "3666C4409047E159B2C2BF100000000000000000000000000000",
        "/01/09506000134352/21/32a%2Fb",
    ),
    (
        "sgtin+",
        "F73795211411234538566CB0AFC4",
        "/01/79521141123453/21/32a%2Fb",
    ),
    (
        "dsgtin+",
        "FB342CDE795211411234538566CB0AFC4",
        "/01/79521141123453/21/32a%2Fb?17=220630",
    ),
    (
        "sscc-96",
        "311BA1B300CE0A6A83000000",
        "/00/095201234567891235",
    ),
    ("sscc+", "F90095201234567891235", "/00/095201234567891235"),
    (
        "sgln-96",
        "3276451FD46072000000162E",
        "/414/9521141123454/254/5678",
    ),
    (
        "sgln-195",
        "3976451FD46072CD9615F8800000000000000000000000000000",
        "/414/9521141123454/254/32a%2Fb",
    ),
    (
        "sgln+",
        "F2395211411234548566CB0AFC4",
        "/414/9521141123454/254/32a%2Fb",
    ),
    (
        "grai-96",
        "3376451FD40C0E400000162E",
        "/8003/095211411234545678",
    ),
    (
        "grai-170",
        "3776451FD40C0E59B2C2BF1000000000000000000000",
        "/8003/0952114112345432a%2Fb",
    ),
    (
        "grai+",
        "F13095211411234548566CB0AFC4",
        "/8003/0952114112345432a%2Fb",
    ),
    ("giai-96", "3476451FD40000000000162E", "/8004/95211415678"),
    (
        "giai-202",
        "3876451FD59B2C2BF10000000000000000000000000000000000",
        "/8004/952114132a%2Fb",
    ),
    ("giai+", "FA3952114132E83C2BF10", "/8004/952114132a%2Fb"),
];

#[test]
fn annex_e3_digital_links() {
    for &(scheme, hex, path) in E3 {
        let d = ok(hex);
        assert_eq!(serde_json::to_value(d.scheme).unwrap(), scheme, "{hex}");
        assert_eq!(dl_path(&d), path, "{scheme} {hex}");
    }
}

#[test]
fn annex_e3_classic_uris() {
    let d = ok("3066C4409047E140075BCD15");
    assert_eq!(
        d.pure_identity.as_deref(),
        Some("urn:epc:id:sgtin:95060001343.05.123456789")
    );
    assert_eq!(d.gtin.as_deref(), Some("09506000134352"));

    let d = ok("3666C4409047E159B2C2BF100000000000000000000000000000");
    assert_eq!(
        d.pure_identity.as_deref(),
        Some("urn:epc:id:sgtin:95060001343.05.32a%2Fb")
    );
    assert_eq!(
        d.tag_uri.as_deref(),
        Some("urn:epc:tag:sgtin-198:3.95060001343.05.32a%2Fb")
    );
    assert_eq!(d.serial.as_deref(), Some("32a/b"));
    assert_eq!(
        d.element_string.as_deref(),
        Some("(01)09506000134352(21)32a/b")
    );

    let d = ok("311BA1B300CE0A6A83000000");
    assert_eq!(
        d.pure_identity.as_deref(),
        Some("urn:epc:id:sscc:952012.03456789123")
    );
    assert_eq!(d.sscc.as_deref(), Some("095201234567891235"));

    let d = ok("3276451FD46072000000162E");
    assert_eq!(
        d.pure_identity.as_deref(),
        Some("urn:epc:id:sgln:9521141.12345.5678")
    );
    assert_eq!(d.gln.as_deref(), Some("9521141123454"));
    assert_eq!(d.gln_extension.as_deref(), Some("5678"));

    let d = ok("3376451FD40C0E400000162E");
    assert_eq!(
        d.pure_identity.as_deref(),
        Some("urn:epc:id:grai:9521141.12345.5678")
    );
    assert_eq!(d.grai.as_deref(), Some("095211411234545678"));
    assert_eq!(d.serial.as_deref(), Some("5678"));

    let d = ok("3776451FD40C0E59B2C2BF1000000000000000000000");
    assert_eq!(
        d.pure_identity.as_deref(),
        Some("urn:epc:id:grai:9521141.12345.32a%2Fb")
    );

    let d = ok("3476451FD40000000000162E");
    assert_eq!(
        d.pure_identity.as_deref(),
        Some("urn:epc:id:giai:9521141.5678")
    );
    assert_eq!(d.giai.as_deref(), Some("95211415678"));

    let d = ok("3876451FD59B2C2BF10000000000000000000000000000000000");
    assert_eq!(
        d.pure_identity.as_deref(),
        Some("urn:epc:id:giai:9521141.32a%2Fb")
    );
    assert_eq!(
        d.tag_uri.as_deref(),
        Some("urn:epc:tag:giai-202:3.9521141.32a%2Fb")
    );
}

#[test]
fn gid96_tds_example() {
    let d = ok("3500E86F8000A9E000000586");
    assert_eq!(d.scheme, Scheme::Gid96);
    assert_eq!(
        d.pure_identity.as_deref(),
        Some("urn:epc:id:gid:952056.2718.1414")
    );
    assert_eq!(
        d.tag_uri.as_deref(),
        Some("urn:epc:tag:gid-96:952056.2718.1414")
    );
    assert_eq!(d.filter, None);
    assert_eq!(d.digital_link, None);
    assert_eq!(d.gtin, None);
    assert_eq!(
        gtin14(&parse_hex("3500E86F8000A9E000000586").unwrap()),
        None
    );
}

#[test]
fn sscc_example_from_gs1_md() {
    let bytes = encode::sscc96(0, "0614141", "1234567890").unwrap();
    let d = decode(&bytes).unwrap();
    assert_eq!(
        d.pure_identity.as_deref(),
        Some("urn:epc:id:sscc:0614141.1234567890")
    );
    assert_eq!(d.sscc.as_deref(), Some("106141412345678908"));
}

#[test]
fn zero_digit_fields_are_empty_components() {
    // GS1.md §3.2: partition 0 of SGLN has a 0-digit location reference.
    let d = decode(&encode::sgln195(0, "061411123456", "", "01").unwrap()).unwrap();
    assert_eq!(
        d.pure_identity.as_deref(),
        Some("urn:epc:id:sgln:061411123456..01")
    );
    assert_eq!(d.gln.as_deref(), Some("0614111234560"));
    let d = decode(&encode::grai96(0, "061411123456", "", 7).unwrap()).unwrap();
    assert_eq!(
        d.pure_identity.as_deref(),
        Some("urn:epc:id:grai:061411123456..7")
    );
    assert_eq!(d.grai.as_deref(), Some("006141112345607"));
}

#[test]
fn sgln_extension_zero_is_the_gln_itself() {
    let d = decode(&encode::sgln96(1, "0614141", "12345", 0).unwrap()).unwrap();
    assert_eq!(
        d.pure_identity.as_deref(),
        Some("urn:epc:id:sgln:0614141.12345.0")
    );
    assert_eq!(
        d.digital_link.as_deref(),
        Some("https://id.gs1.org/414/0614141123452")
    );
    assert_eq!(d.element_string.as_deref(), Some("(414)0614141123452"));
    assert_eq!(d.gln_extension.as_deref(), Some("0"));
}

#[test]
fn leading_zeros_of_the_company_prefix_are_kept() {
    let d = decode(&encode::sgtin96(1, "000123", "0000001", 5).unwrap()).unwrap();
    assert_eq!(d.company_prefix.as_deref(), Some("000123"));
    assert_eq!(
        d.pure_identity.as_deref(),
        Some("urn:epc:id:sgtin:000123.0000001.5")
    );
    assert_eq!(d.gtin.as_deref(), Some("00001230000013"));
}

#[test]
fn uri_escaping_of_string_serials() {
    let serial = "\"%&/<>?!'()*+,-.:;=_";
    let d = decode(&encode::sgtin198(1, "0614141", "812345", serial).unwrap()).unwrap();
    assert_eq!(
        d.pure_identity.as_deref(),
        Some("urn:epc:id:sgtin:0614141.812345.%22%25%26%2F%3C%3E%3F!'()*+,-.:;=_")
    );
    assert_eq!(
        d.digital_link.as_deref(),
        Some(
            "https://id.gs1.org/01/80614141123458/21/\
             %22%25%26%2F%3C%3E%3F%21%27%28%29%2A%2B%2C-.%3A%3B%3D_"
        )
    );
    assert_eq!(d.serial.as_deref(), Some(serial));
}

#[test]
fn sgtin198_is_accepted_as_198_200_and_208_bits() {
    let hex = "3666C4409047E159B2C2BF100000000000000000000000000000";
    let full = parse_hex(hex).unwrap();
    assert_eq!(full.len(), 26);
    for len in [25usize, 26] {
        let d = decode(&full[..len]).unwrap();
        assert_eq!(d.serial.as_deref(), Some("32a/b"));
    }
    assert_eq!(
        decode(&full[..24]).unwrap_err().to_string(),
        "SGTIN-198 needs 198 bits but the EPC has only 192"
    );
    // Extra zero words after a 96-bit EPC are padding.
    assert!(decode_hex("3074257BF7194E4000001A8500000000").is_ok());
}

// ------------------------------------------------------------------------------ hex as peers print it

/// EPCs printed at their exact bit length instead of whole 16-bit words, with the same EPC as a
/// tag's EPC bank holds it (padded to words).
///
/// Sources: the '+' vectors are TDS 2.3 annex E.3 as transcribed in
/// `dev-tests/resolver/test_epc_binary.py` of ricardomelo/GS1_DigitalLink_Resolver_CE (printed
/// there with odd digit counts); the 198/195/170/202-bit forms are the annex E.3 vectors cut to
/// ⌈bits / 4⌉ digits, the way pyepc prints SGTIN-198 (50 digits; GS1.md §1).
const PEER_PRINTED: &[(&str, &str)] = &[
    ("F90095201234567891235", "F90095201234567891235000"),
    (
        "FB342CDE795211411234538566CB0AFC4",
        "FB342CDE795211411234538566CB0AFC4000",
    ),
    (
        "F2395211411234548566CB0AFC4",
        "F2395211411234548566CB0AFC40",
    ),
    ("FA3952114132E83C2BF10", "FA3952114132E83C2BF10000"),
    (
        "3666C4409047E159B2C2BF1000000000000000000000000000",
        "3666C4409047E159B2C2BF100000000000000000000000000000",
    ),
    (
        "3976451FD46072CD9615F8800000000000000000000000000",
        "3976451FD46072CD9615F8800000000000000000000000000000",
    ),
    (
        "3776451FD40C0E59B2C2BF100000000000000000000",
        "3776451FD40C0E59B2C2BF1000000000000000000000",
    ),
    (
        "3876451FD59B2C2BF1000000000000000000000000000000000",
        "3876451FD59B2C2BF10000000000000000000000000000000000",
    ),
];

#[test]
fn hex_printed_at_the_schemes_own_length_is_accepted() {
    for &(printed, words) in PEER_PRINTED {
        assert_ne!(
            printed.len() % 4,
            0,
            "{printed} is a peer's exact-length form"
        );
        assert_eq!(words.len() % 4, 0);
        let bytes = parse_hex(printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
        assert_eq!(bytes, parse_hex(words).unwrap(), "{printed}");
        assert_eq!(decode_hex(printed).unwrap(), decode_hex(words).unwrap());
        assert!(describe_json(printed).get("ok").is_some(), "{printed}");
    }
    // The E.3 pairs by scheme name and Digital Link, straight from their printed form.
    for &(scheme, hex, path) in E3 {
        let d = decode_hex(hex).unwrap_or_else(|e| panic!("{scheme} {hex}: {e}"));
        assert_eq!(dl_path(&d), path, "{scheme} {hex}");
    }
}

#[test]
fn hex_shorter_than_its_scheme_or_with_pad_bits_is_rejected() {
    let cases = [
        // SGTIN-198 as 49 digits: 196 bits.
        (
            "3666C4409047E159B2C2BF100000000000000000000000000",
            r#"hex "3666C4409047E159B2C2BF100000000000000000000000000" has 196 bits (49 hex digits), too few for SGTIN-198, which needs 198"#,
        ),
        // SSCC+ missing its last digit.
        (
            "F900952012345678912",
            "SSCC+ AI (00): the EPC ends inside it",
        ),
        // SGTIN-198 as 50 digits whose last (pad) bit is set.
        (
            "3666C4409047E159B2C2BF1000000000000000000000000001",
            "SGTIN-198 has non-zero bits after its end (first at bit 199)",
        ),
        // SSCC+ with a non-zero digit after its end.
        (
            "F900952012345678912351",
            "SSCC+ has non-zero bits after its end (first at bit 87)",
        ),
        // Not GS1 and not whole words: the reader's TID-like form.
        ("E2801160600002054E3A7A2", "unknown EPC header 0xe2"),
        ("0", "unprogrammed tag"),
    ];
    for (hex, why) in cases {
        let message = parse_hex(hex).unwrap_err().to_string();
        assert!(message.contains(why), "{hex}: {message}");
        assert!(message.contains(hex), "{hex}: {message}");
        assert!(decode_hex(hex).is_err());
    }
    // Whole words stay any EPC (GS1 or not), as readers report them.
    assert_eq!(parse_hex("E2801160600002054E3A7A2B").unwrap().len(), 12);
}

// ------------------------------------------------------------------------------ rejections

#[test]
fn rejects_headers() {
    assert_eq!(
        err("E2801160600002054E3A7A2B"),
        "unknown EPC header 0xe2 (not a GS1 EPC scheme)"
    );
    assert_eq!(
        err("000000000000000000000000"),
        "EPC header 0x00 is an unprogrammed tag (not a GS1 EPC scheme)"
    );
    assert_eq!(
        err("FE00000000000000"),
        "unknown EPC header 0xfe (not a GS1 EPC scheme)"
    );
    assert_eq!(
        err("2D76451FD4499602D2000000"),
        "EPC header 0x2d is GSRN-96, a GS1 scheme this decoder does not support"
    );
    assert_eq!(
        err("B074257BF7194E40"),
        "EPC header 0xb0 is SGTIN-64, a deprecated 64-bit encoding (not supported)"
    );
    assert_eq!(decode(&[]).unwrap_err(), EpcError::Empty);
    for unsupported in [
        "2C76451FD46072000000162E",
        "3C76451FD400C0E680003039",
        "3F76451FD612640000019907",
        "4076451FD40C0E40820000000F54",
        "2F320434147455900000162E",
        "3B0E0CF5E76C9047759AD00373DC7602E7200",
        "F43952114112345678906",
    ] {
        assert!(
            err(unsupported).contains("does not support"),
            "{unsupported}"
        );
    }
}

#[test]
fn rejects_short_and_trailing_data() {
    assert_eq!(
        err("30164596"),
        "SGTIN-96 needs 96 bits but the EPC has only 32"
    );
    assert_eq!(
        err("3074257BF7194E4000001A850001"),
        "SGTIN-96 has non-zero bits after its end (first at bit 111)"
    );
    assert_eq!(
        decode(&parse_hex("3074257BF7194E4000001A85").unwrap()[..10])
            .unwrap_err()
            .to_string(),
        "SGTIN-96 needs 96 bits but the EPC has only 80"
    );
}

#[test]
fn rejects_partition_7() {
    let bits = format!("00110000011111{}", "0".repeat(82));
    assert_eq!(
        decode_bits(&bits).unwrap_err().to_string(),
        "SGTIN-96 partition 7 is reserved"
    );
    let bits = format!("00110001000111{}", "0".repeat(82));
    assert_eq!(
        decode_bits(&bits).unwrap_err().to_string(),
        "SSCC-96 partition 7 is reserved"
    );
}

#[test]
fn rejects_out_of_range_fields() {
    // GS1.md §3.1: company prefix field 16777215 with P=5 (7 digits).
    let bits = format!(
        "00110000001101{}{}{}",
        b(16_777_215, 24),
        b(1, 20),
        b(1, 38)
    );
    assert_eq!(
        decode_bits(&bits).unwrap_err().to_string(),
        "SGTIN-96 company prefix: 16777215 does not fit in 7 digits"
    );
    // Item reference 1 000 000 with P=5 (6 digits).
    let bits = format!(
        "00110000001101{}{}{}",
        b(614_141, 24),
        b(1_000_000, 20),
        b(1, 38)
    );
    assert_eq!(
        decode_bits(&bits).unwrap_err().to_string(),
        "SGTIN-96 item reference: 1000000 does not fit in 6 digits"
    );
    // SGLN partition 0: the 1-bit location reference must be 0.
    let bits = format!("00110010000000{}1{}", b(61_411_123_456, 40), b(1, 41));
    assert_eq!(
        decode_bits(&bits).unwrap_err().to_string(),
        "SGLN-96 location reference: 1 does not fit in 0 digits"
    );
    // SSCC unallocated bits.
    let bits = format!("00110001000101{}{}{}", b(614_141, 24), b(1, 34), b(5, 24));
    assert_eq!(
        decode_bits(&bits).unwrap_err().to_string(),
        "SSCC-96 unallocated bits: must be zero, found 5"
    );
}

#[test]
fn rejects_bad_string_characters_and_padding() {
    let front = "00110110001101".to_owned() + &b(614_141, 24) + &b(812_345, 20);
    let serial = |s: &[u8]| -> String {
        let mut bits: String = s.iter().map(|&c| b(u128::from(c), 7)).collect();
        while bits.len() < 140 {
            bits.push('0');
        }
        bits
    };
    // '#' (0x23) is not in set 82.
    assert_eq!(
        decode_bits(&(front.clone() + &serial(b"12#4")))
            .unwrap_err()
            .to_string(),
        "SGTIN-198 serial: character 0x23 '#' at position 2 is not allowed \
         (GS1 AI encodable character set 82)"
    );
    // A character after the terminating zero.
    assert_eq!(
        decode_bits(&(front.clone() + &serial(b"12\x004")))
            .unwrap_err()
            .to_string(),
        "SGTIN-198 serial: non-zero bits after its last character"
    );
    // Empty serial.
    assert_eq!(
        decode_bits(&(front.clone() + &serial(b"")))
            .unwrap_err()
            .to_string(),
        "SGTIN-198 serial: is empty"
    );
    // GIAI-202 with P=0 (12-digit GCP): 148 bits hold 21 characters, but at most 18 allowed.
    let giai = "00111000000000".to_owned() + &b(952_114_100_000, 40);
    let mut ref19: String = (0..19).map(|_| b(u128::from(b'A'), 7)).collect();
    while ref19.len() < 148 {
        ref19.push('0');
    }
    assert_eq!(
        decode_bits(&(giai + &ref19)).unwrap_err().to_string(),
        "GIAI-202 asset reference: 19 characters, at most 18 allowed"
    );
}

// ------------------------------------------------------------------------------ '+' schemes

#[test]
fn sgtin_plus_fields() {
    let d = ok("F73795211411234538566CB0AFC4");
    assert_eq!(d.scheme, Scheme::SgtinPlus);
    assert_eq!(d.filter, Some(3));
    assert_eq!(d.gtin.as_deref(), Some("79521141123453"));
    assert_eq!(d.serial.as_deref(), Some("32a/b"));
    assert_eq!(d.pure_identity, None);
    assert_eq!(d.company_prefix, None);
    assert_eq!(
        d.element_string.as_deref(),
        Some("(01)79521141123453(21)32a/b")
    );
    assert_eq!(
        gtin14(&parse_hex("F73795211411234538566CB0AFC4").unwrap()).as_deref(),
        Some("79521141123453")
    );
    let v = describe_json("F73795211411234538566CB0AFC4");
    assert_eq!(v["ok"]["scheme"], "sgtin+");
}

#[test]
fn dsgtin_plus_date() {
    let d = ok("FB342CDE795211411234538566CB0AFC4");
    assert_eq!(d.scheme, Scheme::DsgtinPlus);
    assert_eq!(
        d.date,
        Some(PrioritisedDate {
            ai: "17".into(),
            kind: "expiry",
            yymmdd: "220630".into()
        })
    );
    assert_eq!(d.aidc, None);
    assert_eq!(d.gtin.as_deref(), Some("79521141123453"));
    assert_eq!(
        d.element_string.as_deref(),
        Some("(01)79521141123453(21)32a/b(17)220630")
    );
    assert_eq!(
        gtin14(&parse_hex(&words("FB342CDE795211411234538566CB0AFC4")).unwrap()).as_deref(),
        Some("79521141123453")
    );
}

#[test]
fn other_plus_fields() {
    let d = ok("F90095201234567891235");
    assert_eq!(d.sscc.as_deref(), Some("095201234567891235"));
    let d = ok("F2395211411234548566CB0AFC4");
    assert_eq!(d.gln.as_deref(), Some("9521141123454"));
    assert_eq!(d.gln_extension.as_deref(), Some("32a/b"));
    let d = ok("F13095211411234548566CB0AFC4");
    assert_eq!(d.grai.as_deref(), Some("0952114112345432a/b"));
    assert_eq!(d.serial.as_deref(), Some("32a/b"));
    let d = ok("FA3952114132E83C2BF10");
    assert_eq!(d.giai.as_deref(), Some("952114132a/b"));
}

#[test]
fn plus_plus_hostnames() {
    let cases = [
        (
            "FD3795211411234538566CB0AFC525065F1876F0D996D800",
            Scheme::SgtinPlusPlus,
            "/01/79521141123453/21/32a%2Fb",
        ),
        (
            "FC342CDE795211411234538566CB0AFC525065F1876F0D996D80",
            Scheme::DsgtinPlusPlus,
            "/01/79521141123453/21/32a%2Fb?17=220630",
        ),
        (
            "E9395211411234548566CB0AFC525065F1876F0D996D8000",
            Scheme::SglnPlusPlus,
            "/414/9521141123454/254/32a%2Fb",
        ),
        (
            "EB3095211411234548566CB0AFC525065F1876F0D996D800",
            Scheme::GraiPlusPlus,
            "/8003/0952114112345432a%2Fb",
        ),
        (
            "EE3952114132E83C2BF1494197C61DBC3665B600",
            Scheme::GiaiPlusPlus,
            "/8004/952114132a%2Fb",
        ),
        // Erratum: annex E.3 prints SSCC++ with the SSCC+ header F9; with EF it decodes.
        (
            "EF009520123456789123592832F8C3B786CCB6C0",
            Scheme::SsccPlusPlus,
            "/00/095201234567891235",
        ),
    ];
    for (hex, scheme, path) in cases {
        let d = ok(hex);
        assert_eq!(d.scheme, scheme, "{hex}");
        assert_eq!(d.hostname.as_deref(), Some("id.example.com"), "{hex}");
        assert_eq!(
            d.digital_link.as_deref(),
            Some(format!("https://id.example.com{path}").as_str()),
            "{hex}"
        );
    }
    assert_eq!(
        gtin14(&parse_hex("FD3795211411234538566CB0AFC525065F1876F0D996D800").unwrap()).as_deref(),
        Some("79521141123453")
    );
    // As printed (header F9 = SSCC+), the hostname bits are data after the end: rejected.
    assert!(err("F9009520123456789123592832F8C3B786CCB6C0").starts_with("SSCC+ has non-zero bits"));
}

fn urn40(text: &str) -> String {
    const T: &str = "\0ABCDEFGHIJKLMNOPQRSTUVWXYZ-.:0123456789";
    let idx: Vec<u128> = text.chars().map(|c| T.find(c).unwrap() as u128).collect();
    idx.chunks(3)
        .map(|g| {
            let g: Vec<u128> = g.iter().copied().chain([0, 0]).take(3).collect();
            b(1600 * g[0] + 40 * g[1] + g[2] + 1, 16)
        })
        .collect()
}

#[test]
fn hostname_encodings() {
    let seven = |s: &str| -> String { s.bytes().map(|c| b(u128::from(c), 7)).collect() };
    let cases = [
        (
            format!("0{}{}", b(14, 6), urn40("ID.EXAMPLE.ORG")),
            "id.example.org",
        ),
        (format!("1{}{}", b(7, 6), seven("a-b.c_d")), "a-b.c_d"),
        (
            format!(
                "1{}{}{}0000010{}",
                b(7, 6),
                b(0x1E, 7),
                seven("loja"),
                b(6, 7)
            ),
            "qr.loja.com.br",
        ),
        (
            format!(
                "1{}{}{}0000000{}",
                b(6, 6),
                b(0x1F, 7),
                seven("abc"),
                b(55, 7)
            ),
            "www.abc.de",
        ),
        (
            format!("1{}{}00000110000000", b(3, 6), seven("x")),
            "x.tech",
        ),
    ];
    for (host_bits, expected) in cases {
        let bits =
            "11111101".to_owned() /* SGTIN++ */ + "0011" + &nibbles(G) + &alnum("S1") + &host_bits;
        let d = decode_bits(&bits).unwrap();
        assert_eq!(d.hostname.as_deref(), Some(expected));
        assert_eq!(
            d.digital_link.as_deref(),
            Some(format!("https://{expected}/01/{G}/21/S1").as_str())
        );
    }
    // Hostname followed by +AIDC data.
    let bits = "111111011011".to_owned()
        + &nibbles(G)
        + &alnum("S1")
        + "0"
        + &b(3, 6)
        + &urn40("A.B")
        + &aidc("17", &date("261231"));
    let d = decode_bits(&bits).unwrap();
    assert_eq!(d.hostname.as_deref(), Some("a.b"));
    assert_eq!(
        d.digital_link.as_deref(),
        Some(format!("https://a.b/01/{G}/21/S1?17=261231").as_str())
    );
    // ':' is URN Code 40 but not a hostname character.
    let bits =
        "111111010011".to_owned() + &nibbles(G) + &alnum("S1") + "0" + &b(3, 6) + &urn40("A:B");
    assert!(
        decode_bits(&bits)
            .unwrap_err()
            .to_string()
            .contains("hostname")
    );
}

#[test]
fn aidc_data_after_the_epc() {
    let cases: Vec<(String, String)> = vec![
        (
            aidc("10", &alnum("ABC123")) + &aidc("17", &date("261231")),
            format!("/01/{G}/10/ABC123/21/S1?17=261231"),
        ),
        (
            aidc("10", &alnum("L1")) + &aidc("22", &alnum("V1")),
            format!("/01/{G}/22/V1/10/L1/21/S1"),
        ),
        (aidc("10", &alnum("A/B")), format!("/01/{G}/10/A%2FB/21/S1")),
        (
            aidc("10", &alnum("00123")),
            format!("/01/{G}/10/00123/21/S1"),
        ),
        (
            aidc(
                "8008",
                &format!("01{}{}{}", date("260115"), b(14, 5), b(30, 6)),
            ),
            format!("/01/{G}/21/S1?8008=2601151430"),
        ),
        (
            aidc("7007", &format!("1{}{}", date("260101"), date("260131"))),
            format!("/01/{G}/21/S1?7007=260101260131"),
        ),
        (
            aidc("3103", &b(1250, 20)),
            format!("/01/{G}/21/S1?3103=001250"),
        ),
        (
            aidc("4330", &(b(1850, 20) + "1")),
            format!("/01/{G}/21/S1?4330=001850-"),
        ),
        (
            aidc("4307", &(b(1, 6) + &b(17, 6))),
            format!("/01/{G}/21/S1?4307=BR"),
        ),
        (
            aidc("00", &nibbles("095060001343520000")),
            format!("/01/{G}/21/S1?00=095060001343520000"),
        ),
    ];
    for (tail, path) in cases {
        let d = decode_bits(&sgtin_plus_bits("1", "S1", &tail)).unwrap();
        assert_eq!(dl_path(&d), path);
        assert!(d.aidc.is_some());
    }
    let d = decode_bits(&sgtin_plus_bits(
        "1",
        "S1",
        &(aidc("10", &alnum("ABC123")) + &aidc("17", &date("261231"))),
    ))
    .unwrap();
    assert_eq!(
        d.aidc,
        Some(vec![
            AiElement {
                ai: "10".into(),
                value: "ABC123".into()
            },
            AiElement {
                ai: "17".into(),
                value: "261231".into()
            },
        ])
    );
    assert_eq!(
        d.element_string.as_deref(),
        Some(format!("(01){G}(10)ABC123(21)S1(17)261231").as_str())
    );

    // DSGTIN+ with a best-before date and a batch.
    let bits = "111110111011".to_owned()
        + "0010"
        + &date("270101")
        + &nibbles(G)
        + &alnum("S1")
        + &aidc("10", &alnum("L9"));
    let d = decode_bits(&bits).unwrap();
    assert_eq!(dl_path(&d), format!("/01/{G}/10/L9/21/S1?15=270101"));
    assert_eq!(d.date.as_ref().map(|x| x.kind), Some("best_before"));

    // GIAI+ with an alphanumeric remainder after the delimiter.
    let bits = "111110100000".to_owned() + &nibbles("9506000") + "1110" + &alnum("A-1");
    assert_eq!(dl_path(&decode_bits(&bits).unwrap()), "/8004/9506000A-1");
}

#[test]
fn aidc_keys_do_not_change_identity() {
    // Found by fuzzing: a GIAI+ carrying an (01) in its +AIDC data has no GTIN identity.
    let bytes = parse_hex("FAB908003F0170000000000023000000").unwrap();
    let d = decode(&bytes).unwrap();
    assert_eq!(d.scheme, Scheme::GiaiPlus);
    assert_eq!(d.gtin, None);
    assert_eq!(gtin14(&bytes), None);
    let aidc = d.aidc.unwrap();
    assert_eq!(aidc[0].ai, "01");
    assert!(d.digital_link.unwrap().contains("?01="));
}

#[test]
fn aidc_rejections() {
    let reject = |tail: &str| -> String {
        decode_bits(&sgtin_plus_bits("1", "S1", tail))
            .map(|d| panic!("accepted {d:?}"))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        reject(&(nibbles("A0") + "11111111")),
        "SGTIN+ +AIDC data header 0xa0 is not the start of a GS1 Application Identifier"
    );
    assert_eq!(
        reject(&aidc("14", &"0".repeat(16))),
        "SGTIN+ +AIDC data: no GS1 Application Identifier starts with 14"
    );
    assert_eq!(
        reject(&aidc("21", &alnum("S2"))),
        "SGTIN+: AI (21) appears twice"
    );
    assert_eq!(
        reject(&aidc("17", &(b(26, 7) + &b(2, 4) + &b(30, 5)))),
        "SGTIN+ AI (17): 260230 is not a valid YYMMDD date"
    );
    assert_eq!(
        reject(&aidc(
            "10",
            &("110".to_owned() + &b(2, 5) + &"0".repeat(12))
        )),
        "SGTIN+ AI (10): encoding indicator 110 is reserved"
    );
    assert!(
        reject(&aidc(
            "10",
            &("011".to_owned() + &b(20, 5) + &alnum("ABCDEF")[8..])
        ))
        .starts_with("SGTIN+ AI (10): the EPC ends inside it")
    );
    // The SSCC of the resolver's test carries a wrong check digit (…0001, should be …0000).
    assert_eq!(
        reject(&aidc("00", &nibbles("095060001343520001"))),
        "SGTIN+ AI (00): check digit 1 is wrong (expected 0)"
    );
    assert_eq!(
        reject(&aidc("7011", &"0".repeat(30))),
        "SGTIN+ +AIDC data: AI (7011) is not supported by this decoder"
    );
    // Toggle 1 with nothing after the EPC.
    assert_eq!(
        decode_bits(&sgtin_plus_bits("1", "S1", ""))
            .unwrap_err()
            .to_string(),
        "SGTIN+ +AIDC toggle is 1 but no +AIDC data follows"
    );
    // Toggle 0 with data after the EPC: rejected (the resolver would read it anyway).
    assert!(
        decode_bits(&sgtin_plus_bits("0", "S1", &aidc("17", &date("261231"))))
            .unwrap_err()
            .to_string()
            .starts_with("SGTIN+ has non-zero bits after its end")
    );
}

#[test]
fn plus_scheme_rejections() {
    // DSGTIN+ date type 0111 is reserved.
    let bits = "111110110011".to_owned() + "0111" + &date("270101") + &nibbles(G) + &alnum("S1");
    assert_eq!(
        decode_bits(&bits).unwrap_err().to_string(),
        "DSGTIN+ date type 0111 is reserved"
    );
    // A GTIN nibble above 9.
    let bits = "111101110011".to_owned() + &nibbles("0950600013435A") + &alnum("S1");
    assert_eq!(
        decode_bits(&bits).unwrap_err().to_string(),
        "SGTIN+ AI (01): nibble 0xa is not a decimal digit"
    );
    // A GTIN whose check digit is wrong.
    assert_eq!(
        err("F73795211411234518566CB0AFC4"),
        "SGTIN+ AI (01): check digit 1 is wrong (expected 3)"
    );
    // GRAI+ without serial characters.
    let bits = "111100010011".to_owned() + &nibbles("09521141123454") + "100" + "00000";
    assert_eq!(
        decode_bits(&bits).unwrap_err().to_string(),
        "GRAI+ serial: is empty"
    );
    // GIAI+ needs a GCP's worth of leading digits.
    let bits = "111110100000".to_owned() + &nibbles("95") + "1110" + &alnum("A-1");
    assert!(
        decode_bits(&bits)
            .unwrap_err()
            .to_string()
            .contains("too few for a GS1 Company Prefix")
    );
    // Cut short.
    assert!(err("F7379521").starts_with("SGTIN+ AI (01): the EPC ends inside it"));
}

// ------------------------------------------------------------------------------ properties

fn cset82() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[!\"%&'()*+,\\-./0-9:;<=>?A-Z_a-z]{1,20}").unwrap()
}

fn digits(n: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[0-9]{{{n}}}")).unwrap()
}

fn gcp_and(rest_total: usize) -> impl Strategy<Value = (String, String)> {
    (6usize..=12).prop_flat_map(move |n| (digits(n), digits(rest_total - n)))
}

fn with_check(data: &str) -> String {
    let c = check_digit::gs1_check_digit(data.as_bytes());
    format!("{data}{c}")
}

proptest! {
    #[test]
    fn sgtin96_round_trip(filter in 0u8..8, (cp, ir) in gcp_and(13), serial in 0u64..(1 << 38)) {
        let bytes = encode::sgtin96(filter, &cp, &ir, serial).unwrap();
        let d = decode(&bytes).unwrap();
        prop_assert_eq!(d.filter, Some(filter));
        prop_assert_eq!(d.pure_identity, Some(format!("urn:epc:id:sgtin:{cp}.{ir}.{serial}")));
        let gtin = with_check(&format!("{}{cp}{}", &ir[..1], &ir[1..]));
        prop_assert_eq!(d.gtin.as_deref(), Some(gtin.as_str()));
        prop_assert_eq!(gtin14(&bytes), Some(gtin));
    }

    #[test]
    fn sgtin198_round_trip(filter in 0u8..8, (cp, ir) in gcp_and(13), serial in cset82()) {
        let bytes = encode::sgtin198(filter, &cp, &ir, &serial).unwrap();
        prop_assert_eq!(bytes.len(), 26);
        let d = decode(&bytes).unwrap();
        prop_assert_eq!(d.serial.as_deref(), Some(serial.as_str()));
        let mut uri = format!("urn:epc:id:sgtin:{cp}.{ir}.");
        uri::push_escaped(&mut uri, &serial);
        prop_assert_eq!(d.pure_identity, Some(uri));
        prop_assert_eq!(gtin14(&bytes), d.gtin);
    }

    #[test]
    fn sscc96_round_trip(filter in 0u8..8, (cp, sr) in gcp_and(17)) {
        let d = decode(&encode::sscc96(filter, &cp, &sr).unwrap()).unwrap();
        prop_assert_eq!(d.pure_identity, Some(format!("urn:epc:id:sscc:{cp}.{sr}")));
        prop_assert_eq!(d.sscc, Some(with_check(&format!("{}{cp}{}", &sr[..1], &sr[1..]))));
    }

    #[test]
    fn sgln_round_trip((cp, lr) in gcp_and(12), ext in 0u64..(1 << 41), text in cset82()) {
        let d = decode(&encode::sgln96(0, &cp, &lr, ext).unwrap()).unwrap();
        prop_assert_eq!(d.pure_identity, Some(format!("urn:epc:id:sgln:{cp}.{lr}.{ext}")));
        prop_assert_eq!(d.gln, Some(with_check(&format!("{cp}{lr}"))));
        let d = decode(&encode::sgln195(0, &cp, &lr, &text).unwrap()).unwrap();
        prop_assert_eq!(d.gln_extension.as_deref(), Some(text.as_str()));
    }

    #[test]
    fn grai_round_trip((cp, at) in gcp_and(12), serial in 0u64..(1 << 38), text in cset82()) {
        let d = decode(&encode::grai96(2, &cp, &at, serial).unwrap()).unwrap();
        prop_assert_eq!(d.pure_identity, Some(format!("urn:epc:id:grai:{cp}.{at}.{serial}")));
        prop_assert_eq!(d.grai, Some(format!("{}{serial}", with_check(&format!("0{cp}{at}")))));
        let text: String = text.chars().take(16).collect();
        let d = decode(&encode::grai170(2, &cp, &at, &text).unwrap()).unwrap();
        prop_assert_eq!(d.serial.as_deref(), Some(text.as_str()));
    }

    #[test]
    fn giai_round_trip(cp in (6usize..=12).prop_flat_map(digits), asset in any::<u64>(), text in cset82()) {
        let p = 12 - cp.len();
        let asset = asset >> (64 - partition::GIAI96_ASSET_REF_BITS[p]);
        let d = decode(&encode::giai96(0, &cp, asset).unwrap()).unwrap();
        prop_assert_eq!(d.pure_identity, Some(format!("urn:epc:id:giai:{cp}.{asset}")));
        let max = 30 - cp.len();
        let text: String = text.chars().take(max).collect();
        let d = decode(&encode::giai202(0, &cp, &text).unwrap()).unwrap();
        prop_assert_eq!(d.giai, Some(format!("{cp}{text}")));
    }

    #[test]
    fn gid96_round_trip(m in 0u32..(1 << 28), c in 0u32..(1 << 24), s in 0u64..(1 << 36)) {
        let d = decode(&encode::gid96(m, c, s).unwrap()).unwrap();
        prop_assert_eq!(d.pure_identity, Some(format!("urn:epc:id:gid:{m}.{c}.{s}")));
    }

    #[test]
    fn plus_round_trip(filter in 0u8..8, data in digits(13), serial in cset82(), dt in 0u8..7) {
        let gtin = with_check(&data);
        let bytes = encode::sgtin_plus(filter, &gtin, &serial).unwrap();
        let d = decode(&bytes).unwrap();
        prop_assert_eq!(d.gtin.as_deref(), Some(gtin.as_str()));
        prop_assert_eq!(d.serial.as_deref(), Some(serial.as_str()));
        prop_assert_eq!(d.filter, Some(filter));
        prop_assert_eq!(gtin14(&bytes), Some(gtin.clone()));

        let bytes = encode::dsgtin_plus(filter, dt, "251231", &gtin, &serial).unwrap();
        let d = decode(&bytes).unwrap();
        prop_assert_eq!(d.date.map(|x| x.yymmdd), Some("251231".to_owned()));
        prop_assert_eq!(gtin14(&bytes), Some(gtin.clone()));

        let sscc = with_check(&format!("{data}1234"));
        let d = decode(&encode::sscc_plus(filter, &sscc).unwrap()).unwrap();
        prop_assert_eq!(d.sscc, Some(sscc));

        let gln = with_check(&data[..12]);
        let d = decode(&encode::sgln_plus(filter, &gln, &serial).unwrap()).unwrap();
        prop_assert_eq!(d.gln, Some(gln.clone()));
        prop_assert_eq!(d.gln_extension.as_deref(), Some(serial.as_str()));

        let grai_serial: String = serial.chars().take(16).collect();
        let grai = format!("{}{grai_serial}", with_check(&format!("0{}", &data[..12])));
        let d = decode(&encode::grai_plus(filter, &grai).unwrap()).unwrap();
        prop_assert_eq!(d.grai, Some(grai));

        let giai: String = format!("{}{}", &data[..7], serial).chars().take(30).collect();
        let d = decode(&encode::giai_plus(filter, &giai).unwrap()).unwrap();
        prop_assert_eq!(d.giai, Some(giai));
    }

    #[test]
    fn exact_length_hex_parses_to_the_tag_bytes(
        filter in 0u8..8, data in digits(13), serial in cset82(), serial96 in 0u64..(1 << 38),
    ) {
        let gtin = with_check(&data);
        let sscc = with_check(&format!("{data}1234"));
        let giai: String = format!("{}{}", &data[..7], serial).chars().take(30).collect();
        let epcs = [
            encode::sgtin_plus(filter, &gtin, &serial).unwrap(),
            encode::dsgtin_plus(filter, 4, "251231", &gtin, &serial).unwrap(),
            encode::sscc_plus(filter, &sscc).unwrap(),
            encode::giai_plus(filter, &giai).unwrap(),
            encode::sgtin198(filter, &data[..7], &data[7..13], &serial).unwrap(),
            encode::sgtin96(filter, &data[..7], &data[7..13], serial96).unwrap(),
        ];
        for bytes in epcs {
            let (_, bits) = encoded_bits(&bytes).unwrap();
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let exact = bits.div_ceil(4);
            prop_assert_eq!(parse_hex(&hex[..exact]).unwrap(), bytes.clone());
            prop_assert!(decode_hex(&hex[..exact - 1]).is_err(), "{} cut to {}", hex, exact - 1);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let decoded = decode(&bytes);
        // The fast path agrees with the full decoder.
        prop_assert_eq!(gtin14(&bytes), decoded.ok().and_then(|d| d.gtin));
    }

    #[test]
    fn arbitrary_known_headers_never_panic(
        header in proptest::sample::select(vec![
            0x30u8, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
            0xF1, 0xF2, 0xF7, 0xF9, 0xFA, 0xFB, 0xE9, 0xEB, 0xEE, 0xEF, 0xFC, 0xFD,
        ]),
        rest in proptest::collection::vec(any::<u8>(), 0..63),
    ) {
        let mut bytes = vec![header];
        bytes.extend(rest);
        let decoded = decode(&bytes);
        prop_assert_eq!(gtin14(&bytes), decoded.ok().and_then(|d| d.gtin));
    }

    #[test]
    fn arbitrary_text_never_panics(s in ".{0,80}") {
        let _ = decode_hex(&s);
        let v = describe_json(&s);
        prop_assert!(v.get("ok").is_some() || v.get("error").is_some());
    }

    #[test]
    fn arbitrary_hex_never_panics(s in "[0-9a-fA-F]{0,128}") {
        let _ = decode_hex(&s);
        let v = describe_json(&s);
        prop_assert_eq!(v["epc"].as_str(), Some(s.as_str()));
    }
}
