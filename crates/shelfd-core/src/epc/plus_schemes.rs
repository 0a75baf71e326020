//! The TDS 2.x '+' schemes (SGTIN+, DSGTIN+, SSCC+, SGLN+, GRAI+, GIAI+) and their TDS 2.3 '++'
//! variants, which add an encoded hostname.
//!
//! Owns their layout: header 8 | +AIDC toggle 1 | filter 3 | [DSGTIN: date type 4 + date 16] |
//! the scheme's own AIs (no AI prefix) | ['++': hostname] | [toggle = 1: +AIDC data, each element
//! an AI in BCD nibbles then its value]. No partition or GCP length is encoded, so these schemes
//! yield GS1 elements and a Digital Link but never a `urn:epc:id` URI. Strict rules: embedded
//! check digits must be right, the toggle must match the data, no AI may appear twice, and only
//! zero padding may follow.

use super::ai::{self, Ai, ai_format, ai_length};
use super::ai_value::{Collect, ElementSink, read_ai_value, read_date};
use super::bits::BitReader;
use super::digital_link::CANONICAL_HOST;
use super::error::{EpcError, Field, Problem};
use super::hostname::read_hostname;
use super::scheme::Scheme;
use super::{AiElement, Decoded, PrioritisedDate};

/// The fixed part of one '+' scheme.
struct Layout {
    /// Carries a DSGTIN date type and date.
    dated: bool,
    /// Carries a '++' hostname after its own AIs.
    hostname: bool,
    /// Its own AIs, primary key first.
    ais: &'static [Ai],
}

fn layout(scheme: Scheme) -> Layout {
    const SGTIN: &[Ai] = &[ai::GTIN, ai::SERIAL];
    const SSCC: &[Ai] = &[ai::SSCC];
    const SGLN: &[Ai] = &[ai::GLN, ai::GLN_EXTENSION];
    const GRAI: &[Ai] = &[ai::GRAI];
    const GIAI: &[Ai] = &[ai::GIAI];
    let (ais, dated, hostname) = match scheme {
        Scheme::SgtinPlus => (SGTIN, false, false),
        Scheme::DsgtinPlus => (SGTIN, true, false),
        Scheme::SsccPlus => (SSCC, false, false),
        Scheme::SglnPlus => (SGLN, false, false),
        Scheme::GraiPlus => (GRAI, false, false),
        Scheme::GiaiPlus => (GIAI, false, false),
        Scheme::SgtinPlusPlus => (SGTIN, false, true),
        Scheme::DsgtinPlusPlus => (SGTIN, true, true),
        Scheme::SsccPlusPlus => (SSCC, false, true),
        Scheme::SglnPlusPlus => (SGLN, false, true),
        Scheme::GraiPlusPlus => (GRAI, false, true),
        _ => (GIAI, false, true),
    };
    Layout {
        dated,
        hostname,
        ais,
    }
}

/// DSGTIN+ date type indicator → (AI, kind) (TDS 14.5.3).
fn date_type(code: u8) -> Option<(Ai, &'static str)> {
    Some(match code {
        0 => (Ai::new(11, 2), "production"),
        1 => (Ai::new(13, 2), "packaging"),
        2 => (Ai::new(15, 2), "best_before"),
        3 => (Ai::new(16, 2), "sell_by"),
        4 => (Ai::new(17, 2), "expiry"),
        5 => (Ai::new(7006, 4), "first_freeze"),
        6 => (Ai::new(7007, 4), "harvest"),
        _ => return None,
    })
}

/// Most AIs tracked for duplicates in one EPC.
const MAX_ELEMENTS: usize = 64;

/// AIs seen so far (fixed capacity, no allocation).
struct Seen {
    ais: [Ai; MAX_ELEMENTS],
    len: usize,
}

impl Seen {
    fn new() -> Self {
        Seen {
            ais: [ai::GTIN; MAX_ELEMENTS],
            len: 0,
        }
    }

    fn insert(&mut self, scheme: Scheme, a: Ai) -> Result<(), EpcError> {
        if self.ais[..self.len].contains(&a) {
            return Err(EpcError::DuplicateAi { scheme, ai: a });
        }
        let slot = self.ais.get_mut(self.len).ok_or(EpcError::TooManyAis {
            scheme,
            max: MAX_ELEMENTS,
        })?;
        *slot = a;
        self.len += 1;
        Ok(())
    }
}

/// Counts the characters of the current element while passing them on.
struct Counting<'s, S: ElementSink> {
    inner: &'s mut S,
    chars: usize,
}

impl<S: ElementSink> ElementSink for Counting<'_, S> {
    fn start(&mut self, a: Ai) {
        self.chars = 0;
        self.inner.start(a);
    }
    fn push(&mut self, c: u8) {
        self.chars += 1;
        self.inner.push(c);
    }
}

/// What the walk found besides the elements.
struct Front {
    filter: u8,
    date_kind: Option<&'static str>,
    /// Bits the EPC uses (its last element's end; only zero padding follows).
    end: usize,
}

/// Walks and validates a '+'/'++' EPC, reporting every element (the date, the scheme's AIs,
/// then +AIDC data) to `sink` and the hostname to `host`.
fn walk<S: ElementSink>(
    bytes: &[u8],
    scheme: Scheme,
    sink: &mut S,
    host: &mut impl FnMut(u8),
) -> Result<Front, EpcError> {
    let layout = layout(scheme);
    let mut r = BitReader::new(bytes, scheme);
    let mut sink = Counting {
        inner: sink,
        chars: 0,
    };
    let mut seen = Seen::new();
    r.read(8, Field::Named("header"))?;
    let toggle = r.read_bit(Field::Named("+AIDC toggle"))? == 1;
    let filter = r.read_u8(3, Field::Named("filter"))?;
    let mut date_kind = None;
    if layout.dated {
        let code = r.read_u8(4, Field::Named("date type"))?;
        let (date_ai, kind) = date_type(code).ok_or(EpcError::ReservedDateType { scheme, code })?;
        seen.insert(scheme, date_ai)?;
        sink.start(date_ai);
        read_date(&mut r, Field::Ai(date_ai), &mut |c| sink.push(c))?;
        date_kind = Some(kind);
    }
    for &own in layout.ais {
        let format = ai_format(own).ok_or(EpcError::UnsupportedAi { scheme, ai: own })?;
        seen.insert(scheme, own)?;
        read_ai_value(&mut r, own, format, &mut sink)?;
        // An EPC GRAI is serialised: AI (8003) must have serial characters after its 14 digits.
        if own == ai::GRAI && sink.chars <= 14 {
            return Err(EpcError::field(
                scheme,
                Field::Named("serial"),
                Problem::Empty,
            ));
        }
    }
    if layout.hostname {
        read_hostname(&mut r, host)?;
    }
    if toggle {
        let mut count = 0usize;
        while !r.rest_is_zero() {
            let a = read_aidc_ai(&mut r)?;
            let format = ai_format(a).ok_or(EpcError::UnsupportedAi { scheme, ai: a })?;
            seen.insert(scheme, a)?;
            read_ai_value(&mut r, a, format, &mut sink)?;
            count += 1;
        }
        if count == 0 {
            return Err(EpcError::MissingAidc { scheme });
        }
    } else {
        r.expect_zero_tail()?;
    }
    Ok(Front {
        filter,
        date_kind,
        end: r.position(),
    })
}

/// Reads the AI of one +AIDC element: two BCD digits, then as many more as Table K says.
fn read_aidc_ai(r: &mut BitReader<'_>) -> Result<Ai, EpcError> {
    let scheme = r.scheme();
    let field = Field::Named("+AIDC data header");
    let header = r.read_u8(8, field)?;
    let (d1, d2) = (header >> 4, header & 0x0f);
    if d1 > 9 || d2 > 9 {
        return Err(EpcError::AidcHeader { scheme, header });
    }
    let prefix = d1 * 10 + d2;
    let digits = ai_length(prefix).ok_or(EpcError::UnknownAiPrefix { scheme, prefix })?;
    let mut code = u16::from(prefix);
    for _ in 2..digits {
        let nibble = r.read_u8(4, field)?;
        if nibble > 9 {
            return Err(EpcError::field(
                scheme,
                field,
                Problem::NotADigit { nibble },
            ));
        }
        code = code * 10 + u16::from(nibble);
    }
    Ok(Ai::new(code, digits))
}

/// Captures the GTIN (AI 01) without allocating.
struct GtinCapture {
    active: bool,
    digits: [u8; 14],
    len: usize,
}

impl ElementSink for GtinCapture {
    fn start(&mut self, a: Ai) {
        self.active = a == ai::GTIN;
    }
    fn push(&mut self, c: u8) {
        if self.active {
            if let Some(slot) = self.digits.get_mut(self.len) {
                *slot = c;
            }
            self.len += 1;
        }
    }
}

/// The GTIN-14 of a valid SGTIN+/DSGTIN+/SGTIN++/DSGTIN++ EPC (fast path, no allocation but
/// the result).
pub(crate) fn gtin(bytes: &[u8], scheme: Scheme) -> Option<String> {
    let mut capture = GtinCapture {
        active: false,
        digits: [0; 14],
        len: 0,
    };
    walk(bytes, scheme, &mut capture, &mut |_| {}).ok()?;
    (capture.len == 14).then(|| capture.digits.iter().map(|&b| char::from(b)).collect())
}

/// The number of bits a valid '+'/'++' EPC uses, without its zero padding.
pub(crate) fn encoded_bits(bytes: &[u8], scheme: Scheme) -> Result<usize, EpcError> {
    struct Discard;
    impl ElementSink for Discard {
        fn start(&mut self, _: Ai) {}
        fn push(&mut self, _: u8) {}
    }
    Ok(walk(bytes, scheme, &mut Discard, &mut |_| {})?.end)
}

/// Fully decodes a '+'/'++' EPC.
pub(crate) fn decode(bytes: &[u8], scheme: Scheme) -> Result<Decoded, EpcError> {
    let mut collect = Collect::default();
    let mut host = String::new();
    let front = walk(bytes, scheme, &mut collect, &mut |c| {
        host.push(char::from(c))
    })?;
    let layout = layout(scheme);
    let elements = collect.elements;
    // Typed key fields come from the scheme's own AIs only; +AIDC data (which may hold, say, an
    // (01) on a GIAI+ tag) stays in `aidc` and never changes the tag's identity.
    let own = layout.ais.len() + usize::from(layout.dated);
    let value_of = |a: Ai| {
        elements
            .iter()
            .take(own)
            .find(|(x, _)| *x == a)
            .map(|(_, v)| v.clone())
    };

    let mut d = Decoded::empty(scheme);
    d.filter = Some(front.filter);
    if let (true, Some((date_ai, value)), Some(kind)) =
        (layout.dated, elements.first(), front.date_kind)
    {
        d.date = Some(PrioritisedDate {
            ai: date_ai.to_string(),
            kind,
            yymmdd: value.clone(),
        });
    }
    d.gtin = value_of(ai::GTIN);
    d.sscc = value_of(ai::SSCC);
    d.gln = value_of(ai::GLN);
    d.grai = value_of(ai::GRAI);
    d.giai = value_of(ai::GIAI);
    if layout.ais.contains(&ai::SERIAL) {
        d.serial = value_of(ai::SERIAL);
    }
    if layout.ais.contains(&ai::GLN_EXTENSION) {
        d.gln_extension = value_of(ai::GLN_EXTENSION);
    }
    if let Some(grai) = &d.grai {
        d.serial = grai.get(14..).map(str::to_owned);
    }
    let extra: Vec<AiElement> = elements
        .iter()
        .skip(own)
        .map(|(a, v)| AiElement {
            ai: a.to_string(),
            value: v.clone(),
        })
        .collect();
    if !extra.is_empty() {
        d.aidc = Some(extra);
    }

    // Digital Link / element string: primary key first, then everything in tag order; an SGLN
    // extension "0" means "no extension", as in SGLN-96.
    let primary = layout.ais.first().copied().unwrap_or(ai::GTIN);
    let mut gs1: Vec<(Ai, &str)> = Vec::with_capacity(elements.len());
    gs1.extend(
        elements
            .iter()
            .filter(|(a, _)| *a == primary)
            .map(|(a, v)| (*a, v.as_str())),
    );
    gs1.extend(
        elements
            .iter()
            .filter(|(a, v)| *a != primary && !(*a == ai::GLN_EXTENSION && v == "0"))
            .map(|(a, v)| (*a, v.as_str())),
    );
    if layout.hostname {
        d.set_gs1_elements(&host, &gs1);
        d.hostname = Some(host);
    } else {
        d.set_gs1_elements(CANONICAL_HOST, &gs1);
    }
    Ok(d)
}
