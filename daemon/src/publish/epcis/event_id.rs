//! Deterministic EPCIS `eventID`s: a name-based (version 5, SHA-1) UUID URN of the event's
//! identity `{store}/{gateway}/{seq}`, in shelfd's own UUID namespace [`EVENT_NAMESPACE`]. The
//! same event always gets the same id, so a document re-sent after a reconnect carries the
//! eventID of the first copy and a consumer dedupes on it. Anyone can recompute an id, e.g. in
//! Python: `uuid.uuid5(uuid.UUID("18c5ec1a-3904-4b78-8cc8-08ec12d89e68"), "s1/gw-1/7")`.
//!
//! Owns only the UUID computation (RFC 9562 §5.5: SHA-1 of namespace bytes then name bytes,
//! first 16 bytes, version and variant bits set); it never decides what an event is.

use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};

/// The UUID namespace of shelfd event ids (a random UUID fixed once for shelfd).
pub const EVENT_NAMESPACE: [u8; 16] = [
    0x18, 0xc5, 0xec, 0x1a, 0x39, 0x04, 0x4b, 0x78, 0x8c, 0xc8, 0x08, 0xec, 0x12, 0xd8, 0x9e, 0x68,
];

/// The eventID of event `seq` of `gateway` in `store`: `urn:uuid:` and a version 5 UUID.
///
/// ```
/// use shelfd::publish::epcis::event_id::event_id;
/// // Computed independently with Python's uuid.uuid5.
/// assert_eq!(event_id("s1", "gw-1", 7), "urn:uuid:a2597533-e270-5e4e-a2df-3cdf8ef55c56");
/// ```
pub fn event_id(store: &str, gateway: &str, seq: u64) -> String {
    format!(
        "urn:uuid:{}",
        uuid_v5(
            &EVENT_NAMESPACE,
            format!("{store}/{gateway}/{seq}").as_bytes()
        )
    )
}

/// A name-based UUID (version 5, SHA-1) in its canonical lower-case text form.
///
/// ```
/// // RFC 9562's DNS namespace and a name from Python's uuid documentation.
/// let dns = [0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8];
/// assert_eq!(
///     shelfd::publish::epcis::event_id::uuid_v5(&dns, b"python.org"),
///     "886313e1-3b8a-5372-9b90-0c9aee199e5d"
/// );
/// ```
pub fn uuid_v5(namespace: &[u8; 16], name: &[u8]) -> String {
    let mut input = Vec::with_capacity(16 + name.len());
    input.extend_from_slice(namespace);
    input.extend_from_slice(name);
    let hash = digest(&SHA1_FOR_LEGACY_USE_ONLY, &input);
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_distinct_and_well_formed() {
        assert_eq!(event_id("s1", "gw-1", 1), event_id("s1", "gw-1", 1));
        let ids: std::collections::BTreeSet<String> = (1..=1000)
            .map(|seq| event_id("s1", "gw-1", seq))
            .chain([event_id("s2", "gw-1", 1), event_id("s1", "gw-2", 1)])
            .collect();
        assert_eq!(ids.len(), 1002);
        for id in &ids {
            let uuid = id.strip_prefix("urn:uuid:").expect("urn:uuid:");
            let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
            assert_eq!(groups, [8, 4, 4, 4, 12], "{id}");
            assert_eq!(&uuid[14..15], "5", "version 5: {id}");
            assert!("89ab".contains(&uuid[19..20]), "RFC variant: {id}");
        }
    }
}
