//! EPC URIs: pure identity (`urn:epc:id:…`) and tag (`urn:epc:tag:…`) forms.
//!
//! Owns the URI grammar and its escaping: in EPC URIs only `" % & / < > ?` are percent-escaped
//! (`%22 %25 %26 %2F %3C %3E %3F`); every other set-82 character is written as itself.
//! It never decides field values; callers pass already-validated components.

/// Appends `value` to `out` with the EPC URI escaping of TDS (GS1.md §3.3).
///
/// ```
/// let mut uri = String::from("urn:epc:id:sgtin:0614141.812345.");
/// shelfd_core::epc::uri::push_escaped(&mut uri, "32a/b");
/// assert_eq!(uri, "urn:epc:id:sgtin:0614141.812345.32a%2Fb");
/// ```
pub fn push_escaped(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '"' => out.push_str("%22"),
            '%' => out.push_str("%25"),
            '&' => out.push_str("%26"),
            '/' => out.push_str("%2F"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '?' => out.push_str("%3F"),
            other => out.push(other),
        }
    }
}

/// `urn:epc:id:<kind>:` followed by the components joined with `.`, each escaped.
pub(crate) fn pure_identity(kind: &str, components: &[&str]) -> String {
    build(&format!("urn:epc:id:{kind}:"), components)
}

/// `urn:epc:tag:<scheme>:` followed by the components joined with `.`, each escaped.
pub(crate) fn tag_uri(scheme: &str, components: &[&str]) -> String {
    build(&format!("urn:epc:tag:{scheme}:"), components)
}

fn build(prefix: &str, components: &[&str]) -> String {
    let mut out = String::with_capacity(prefix.len() + 40);
    out.push_str(prefix);
    for (i, c) in components.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_escaped(&mut out, c);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn escapes_exactly_the_seven_characters() {
        let mut s = String::new();
        push_escaped(&mut s, "!\"%&'()*+,-./:;<=>?_Az09");
        assert_eq!(s, "!%22%25%26'()*+,-.%2F:;%3C=%3E%3F_Az09");
    }

    #[test]
    fn empty_components_stay_empty() {
        assert_eq!(
            pure_identity("sgln", &["061411123456", "", "01"]),
            "urn:epc:id:sgln:061411123456..01"
        );
    }
}
