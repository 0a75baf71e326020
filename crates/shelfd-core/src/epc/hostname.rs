//! The custom hostname of TDS 2.3 '++' schemes (TDS 14.5.16): URN Code 40, or 7-bit ASCII with
//! optimisation codes for common labels (`id.`, `.com`, `.co.uk`, …).
//!
//! Owns the hostname tables and their validation: the hostname must be non-empty, consume
//! exactly its length indicator, and contain only letters, digits, `-`, `.` and `_`, so it can
//! stand as the authority of a Digital Link. URN Code 40 hostnames are lower-cased.

use super::ai_value::read_code40;
use super::bits::BitReader;
use super::error::{EpcError, Field, Problem};

const FIELD: Field = Field::Named("hostname");

/// Single 7-bit optimisation codes (TDS Table 14-11).
fn table_a(code: u8) -> Option<&'static str> {
    Some(match code {
        0x1E => "qr.",
        0x1F => "www.",
        0x20 => "id.",
        0x5B => ".com",
        0x5C => ".org",
        0x5D => ".net",
        0x5E => ".int",
        0x60 => ".edu",
        0x7B => ".gov",
        0x7C => ".mil",
        0x7D => ".biz",
        0x7E => ".eco",
        0x7F => ".med",
        _ => return None,
    })
}

/// Two-code (14-bit) optimisation sequences (TDS Tables 14-12 to 14-15): the first 7-bit code
/// (0 to 3) selects the table, the second indexes it.
const TABLE_B0: &[&str] = &[
    ".ac", ".ad", ".ae", ".af", ".ag", ".ai", ".al", ".am", ".ao", ".aq", ".ar", ".as", ".at",
    ".au", ".aw", ".ax", ".az", ".ba", ".bb", ".bd", ".be", ".bf", ".bg", ".bh", ".bi", ".bj",
    ".bm", ".bn", ".bo", ".bq", ".br", ".bs", ".bt", ".bw", ".by", ".bz", ".ca", ".cc", ".cd",
    ".cf", ".cg", ".ch", ".ci", ".ck", ".cl", ".cm", ".cn", ".co", ".cr", ".cu", ".cv", ".cw",
    ".cx", ".cy", ".cz", ".de", ".dj", ".dk", ".dm", ".do", ".dz", ".ec", ".ee", ".eg", ".eh",
    ".er", ".es", ".et", ".eu", ".fi", ".fj", ".fk", ".fm", ".fo", ".fr", ".ga", ".gd", ".ge",
    ".gf", ".gg", ".gh", ".gi", ".gl", ".gm", ".gn", ".gp", ".gq", ".gr", ".gs", ".gt", ".gu",
    ".gw", ".gy", ".hk", ".hm", ".hn", ".hr", ".ht", ".hu", ".id", ".ie", ".il", ".im", ".in",
    ".io", ".iq", ".ir", ".is", ".it", ".je", ".jm", ".jo", ".jp", ".ke", ".kg", ".kh", ".ki",
    ".km", ".kn", ".kp", ".kr", ".kw", ".ky", ".kz", ".la", ".lb", ".lc", ".li",
];
const TABLE_B1: &[&str] = &[
    ".lk", ".lr", ".ls", ".lt", ".lu", ".lv", ".ly", ".ma", ".mc", ".md", ".me", ".mg", ".mh",
    ".mk", ".ml", ".mm", ".mn", ".mo", ".mp", ".mq", ".mr", ".ms", ".mt", ".mu", ".mv", ".mw",
    ".mx", ".my", ".mz", ".na", ".nc", ".ne", ".nf", ".ng", ".ni", ".nl", ".no", ".np", ".nr",
    ".nu", ".nz", ".om", ".pa", ".pe", ".pf", ".pg", ".ph", ".pk", ".pl", ".pm", ".pn", ".pr",
    ".ps", ".pt", ".pw", ".py", ".qa", ".re", ".ro", ".rs", ".ru", ".rw", ".sa", ".sb", ".sc",
    ".sd", ".se", ".sg", ".sh", ".si", ".sk", ".sl", ".sm", ".sn", ".sr", ".ss", ".st", ".su",
    ".sv", ".sx", ".sy", ".sz", ".tc", ".td", ".tf", ".tg", ".th", ".tj", ".tk", ".tl", ".tm",
    ".tn", ".to", ".tr", ".tt", ".tv", ".tw", ".tz", ".ua", ".ug", ".us", ".uy", ".uz", ".va",
    ".vc", ".ve", ".vg", ".vi", ".vn", ".vu", ".wf", ".ws", ".ye", ".yt", ".za", ".zm", ".zw",
];
const TABLE_B2: &[&str] = &[
    ".com.au", ".net.au", ".org.au", ".co.at", ".com.bd", ".co.bd", ".com.br", ".net.br", ".co.nz",
    ".com.ng", ".com.pk", ".co.in", ".com.in", ".co.il", ".co.jp", ".co.za", ".co.kr", ".com.es",
    ".com.lk", ".co.th", ".co.tt", ".com.tt", ".com.tr", ".biz.tr", ".com.ua", ".co.uk", ".co.zm",
    ".com.zm", ".com.cn", ".org.cn", ".net.cn", ".gov.cn",
];
const TABLE_B3: &[&str] = &[".tech"];

fn table_b(table: u8, index: u8) -> Option<&'static str> {
    let t = match table {
        0 => TABLE_B0,
        1 => TABLE_B1,
        2 => TABLE_B2,
        3 => TABLE_B3,
        _ => return None,
    };
    t.get(usize::from(index)).copied()
}

fn is_host_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_')
}

fn bad(r: &BitReader<'_>, code: u8) -> EpcError {
    EpcError::field(r.scheme(), FIELD, Problem::BadHostname { code })
}

/// Reads a '++' hostname, writing its characters to `sink`.
pub(crate) fn read_hostname(
    r: &mut BitReader<'_>,
    sink: &mut impl FnMut(u8),
) -> Result<(), EpcError> {
    let seven_bit = r.read_bit(FIELD)? == 1;
    let length = r.read_u8(6, FIELD)?;
    if length == 0 {
        return Err(EpcError::field(r.scheme(), FIELD, Problem::Empty));
    }
    if !seven_bit {
        let mut rejected = None;
        read_code40(r, FIELD, usize::from(length), &mut |c: u8| {
            if c == b':' {
                rejected.get_or_insert(c);
            } else {
                sink(c.to_ascii_lowercase());
            }
        })?;
        return match rejected {
            Some(code) => Err(bad(r, code)),
            None => Ok(()),
        };
    }
    let mut units = i32::from(length);
    while units > 0 {
        let code = r.read_u8(7, FIELD)?;
        if code <= 3 {
            let index = r.read_u8(7, FIELD)?;
            let label = table_b(code, index).ok_or_else(|| bad(r, index))?;
            label.bytes().for_each(&mut *sink);
            units -= 2;
        } else if let Some(label) = table_a(code) {
            label.bytes().for_each(&mut *sink);
            units -= 1;
        } else if is_host_char(code) {
            sink(code);
            units -= 1;
        } else {
            return Err(bad(r, code));
        }
    }
    if units < 0 {
        return Err(EpcError::field(
            r.scheme(),
            FIELD,
            Problem::TooLong {
                length: u16::from(length) + 1,
                max: u16::from(length),
            },
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn tables_fit_seven_bit_indexes() {
        assert!(TABLE_B0.len() <= 128 && TABLE_B1.len() <= 128);
        assert_eq!(table_b(0, 55), Some(".de"));
        assert_eq!(table_b(2, 6), Some(".com.br"));
        assert_eq!(table_b(2, 25), Some(".co.uk"));
        assert_eq!(table_b(3, 0), Some(".tech"));
        assert_eq!(table_b(3, 1), None);
    }
}
