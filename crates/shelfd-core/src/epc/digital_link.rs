//! GS1 Digital Link URIs and GS1 element strings built from decoded AI elements.
//!
//! Owns the path/query layout (primary key, then its key qualifiers in the standard order, then
//! every other AI as a query attribute in decoding order) and Digital Link percent-encoding:
//! everything but RFC 3986 unreserved characters is `%XX`-encoded. It never decodes bits.

use super::ai::{self, Ai};

/// The canonical Digital Link host.
pub const CANONICAL_HOST: &str = "id.gs1.org";

/// Key qualifiers of a primary key, in path order (GS1.md §6).
fn qualifiers(primary: Ai) -> &'static [Ai] {
    const GTIN_QUALIFIERS: [Ai; 3] = [ai::CPV, ai::BATCH, ai::SERIAL];
    const GLN_QUALIFIERS: [Ai; 1] = [ai::GLN_EXTENSION];
    if primary == ai::GTIN {
        &GTIN_QUALIFIERS
    } else if primary == ai::GLN {
        &GLN_QUALIFIERS
    } else {
        &[]
    }
}

/// Appends `value` percent-encoded for a Digital Link path segment or query value.
///
/// ```
/// let mut s = String::new();
/// shelfd_core::epc::digital_link::push_percent_encoded(&mut s, "32a/b!~");
/// assert_eq!(s, "32a%2Fb%21~");
/// ```
pub fn push_percent_encoded(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

/// Elements in Digital Link order: the primary key (the first element), its qualifiers, then
/// the rest. Returns (path elements, query elements) as index lists over `elements`.
fn layout(elements: &[(Ai, &str)]) -> (Vec<usize>, Vec<usize>) {
    let Some(&(primary, _)) = elements.first() else {
        return (Vec::new(), Vec::new());
    };
    let quals = qualifiers(primary);
    let mut path = vec![0];
    for q in quals {
        if let Some(i) = elements.iter().position(|(a, _)| a == q) {
            path.push(i);
        }
    }
    let query = (1..elements.len()).filter(|i| !path.contains(i)).collect();
    (path, query)
}

/// `https://<host>/<primary AI>/<value>[/<qualifier>/<value>…][?<AI>=<value>&…]`.
/// The first element must be the primary key.
pub(crate) fn digital_link(host: &str, elements: &[(Ai, &str)]) -> String {
    let (path, query) = layout(elements);
    let mut out = String::with_capacity(64);
    out.push_str("https://");
    out.push_str(host);
    for i in path {
        if let Some((a, v)) = elements.get(i) {
            out.push('/');
            out.push_str(&a.to_string());
            out.push('/');
            push_percent_encoded(&mut out, v);
        }
    }
    for (n, i) in query.into_iter().enumerate() {
        if let Some((a, v)) = elements.get(i) {
            out.push(if n == 0 { '?' } else { '&' });
            out.push_str(&a.to_string());
            out.push('=');
            push_percent_encoded(&mut out, v);
        }
    }
    out
}

/// The human-readable GS1 element string, `(01)…(21)…`, in the same order as the Digital Link.
pub(crate) fn element_string(elements: &[(Ai, &str)]) -> String {
    let (path, query) = layout(elements);
    let mut out = String::with_capacity(64);
    for i in path.into_iter().chain(query) {
        if let Some((a, v)) = elements.get(i) {
            out.push('(');
            out.push_str(&a.to_string());
            out.push(')');
            out.push_str(v);
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn gtin_qualifiers_go_in_the_path_in_order() {
        let elements = [
            (ai::GTIN, "09506000134352"),
            (ai::SERIAL, "S1"),
            (Ai::new(17, 2), "261231"),
            (ai::BATCH, "ABC123"),
        ];
        assert_eq!(
            digital_link(CANONICAL_HOST, &elements),
            "https://id.gs1.org/01/09506000134352/10/ABC123/21/S1?17=261231"
        );
        assert_eq!(
            element_string(&elements),
            "(01)09506000134352(10)ABC123(21)S1(17)261231"
        );
    }

    #[test]
    fn percent_encodes_everything_but_unreserved() {
        let mut s = String::new();
        push_percent_encoded(&mut s, "!\"%&'()*+,-./:;<=>?_Az09");
        assert_eq!(
            s,
            "%21%22%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F_Az09"
        );
    }
}
