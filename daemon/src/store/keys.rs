//! The key layout of the one sled tree: which prefix holds what, and how keys are encoded.
//!
//! Owns the byte grammar of every key the store writes (`a/`, `d/`, `m/`, `t/`, `l/`, `r/`, `s/`,
//! `o/`) and
//! its round trip. It must never touch sled, know what a value means, or build a key anywhere
//! else: every other module goes through [`Key`], [`outbox_key`] and [`NEXT_SEQ_KEY`].
//!
//! Layout (one prefix per key space, then the id, no separator after it):
//!
//! | key | holds |
//! |---|---|
//! | `a/<shipment id, UTF-8>` | shipments (ASNs): waiting ones in full, received ones as tombstones |
//! | `d/<dock id, UTF-8>` | a dock's door and receiving-session state |
//! | `m/<name>` | meta values (engine globals); `m/next_seq` is the store's own |
//! | `t/<epc bytes>` | tag records |
//! | `l/<location id, UTF-8>` | location records |
//! | `r/<reader id, UTF-8>` | reader records |
//! | `s/<location id, UTF-8>` | retained snapshot payloads |
//! | `o/<seq, u64 big-endian>` | outbox entries, so byte order is seq order |
//!
//! ```
//! use shelfd::store::keys::{outbox_key, outbox_seq, Key};
//!
//! assert_eq!(Key::Location("shelf-1".into()).to_bytes(), b"l/shelf-1");
//! assert_eq!(Key::Asn("SHP-7".into()).to_bytes(), b"a/SHP-7");
//! assert_eq!(Key::Tag(vec![0x30, 0x74]).to_bytes(), b"t/\x30\x74");
//! assert_eq!(outbox_key(258), *b"o/\0\0\0\0\0\0\x01\x02");
//! assert_eq!(outbox_seq(&outbox_key(258)), Some(258));
//! ```

use std::fmt;

/// Meta key the store maintains itself: the u64 big-endian of the next seq to assign.
pub const NEXT_SEQ_KEY: &[u8] = b"m/next_seq";

/// Name of [`NEXT_SEQ_KEY`] inside the meta space; reserved, a [`Key::Meta`] may not use it.
pub const NEXT_SEQ_NAME: &str = "next_seq";

/// Prefix of every outbox key.
pub const OUTBOX_PREFIX: &[u8] = b"o/";

/// Length of an outbox key: the prefix and a u64.
pub const OUTBOX_KEY_LEN: usize = OUTBOX_PREFIX.len() + 8;

/// One key space of the state (everything but the outbox, which is addressed by seq).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeySpace {
    /// `a/`: shipments (ASNs), keyed by shipment id.
    Asn,
    /// `d/`: dock door and session records, keyed by dock id.
    Dock,
    /// `m/`: meta values.
    Meta,
    /// `t/`: tag records, keyed by EPC bytes.
    Tag,
    /// `l/`: location records, keyed by location id.
    Location,
    /// `r/`: reader records, keyed by reader id.
    Reader,
    /// `s/`: retained snapshot payloads, keyed by location id.
    Snapshot,
}

impl KeySpace {
    /// Every state key space, in key order.
    pub const ALL: [KeySpace; 7] = [
        KeySpace::Asn,
        KeySpace::Dock,
        KeySpace::Location,
        KeySpace::Meta,
        KeySpace::Reader,
        KeySpace::Snapshot,
        KeySpace::Tag,
    ];

    /// The two-byte prefix of this space's keys.
    pub const fn prefix(self) -> &'static [u8] {
        match self {
            KeySpace::Asn => b"a/",
            KeySpace::Dock => b"d/",
            KeySpace::Meta => b"m/",
            KeySpace::Tag => b"t/",
            KeySpace::Location => b"l/",
            KeySpace::Reader => b"r/",
            KeySpace::Snapshot => b"s/",
        }
    }
}

/// A typed key of the state: the key space and the id inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// `a/<shipment id>`: a shipment (ASN) record.
    Asn(String),
    /// `d/<dock id>`: a dock's door and session record.
    Dock(String),
    /// `m/<name>`: a meta value. The name `next_seq` is reserved for the store.
    Meta(String),
    /// `t/<epc bytes>`: a tag record.
    Tag(Vec<u8>),
    /// `l/<location id>`: a location record.
    Location(String),
    /// `r/<reader id>`: a reader record.
    Reader(String),
    /// `s/<location id>`: the retained snapshot payload of a location.
    Snapshot(String),
}

/// Why bytes read from the tree are not a [`Key`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The prefix names no state key space.
    #[error("unknown key prefix")]
    UnknownPrefix,
    /// The id of a UTF-8 key space is not UTF-8.
    #[error("id is not UTF-8")]
    NotUtf8,
}

impl Key {
    /// The key space this key lives in.
    pub fn space(&self) -> KeySpace {
        match self {
            Key::Asn(_) => KeySpace::Asn,
            Key::Dock(_) => KeySpace::Dock,
            Key::Meta(_) => KeySpace::Meta,
            Key::Tag(_) => KeySpace::Tag,
            Key::Location(_) => KeySpace::Location,
            Key::Reader(_) => KeySpace::Reader,
            Key::Snapshot(_) => KeySpace::Snapshot,
        }
    }

    fn id(&self) -> &[u8] {
        match self {
            Key::Asn(s)
            | Key::Dock(s)
            | Key::Meta(s)
            | Key::Location(s)
            | Key::Reader(s)
            | Key::Snapshot(s) => s.as_bytes(),
            Key::Tag(epc) => epc,
        }
    }

    /// The bytes of this key in the tree: prefix, then id.
    pub fn to_bytes(&self) -> Vec<u8> {
        let prefix = self.space().prefix();
        let id = self.id();
        let mut out = Vec::with_capacity(prefix.len() + id.len());
        out.extend_from_slice(prefix);
        out.extend_from_slice(id);
        out
    }

    /// Parses tree bytes back into a key. Outbox keys are not state keys and fail here.
    pub fn from_bytes(bytes: &[u8]) -> Result<Key, KeyError> {
        let (prefix, id) = bytes.split_at_checked(2).ok_or(KeyError::UnknownPrefix)?;
        let text = || {
            std::str::from_utf8(id)
                .map(str::to_owned)
                .map_err(|_| KeyError::NotUtf8)
        };
        match prefix {
            b"a/" => Ok(Key::Asn(text()?)),
            b"d/" => Ok(Key::Dock(text()?)),
            b"m/" => Ok(Key::Meta(text()?)),
            b"t/" => Ok(Key::Tag(id.to_vec())),
            b"l/" => Ok(Key::Location(text()?)),
            b"r/" => Ok(Key::Reader(text()?)),
            b"s/" => Ok(Key::Snapshot(text()?)),
            _ => Err(KeyError::UnknownPrefix),
        }
    }

    /// Whether this is the meta key the store maintains itself (`m/next_seq`).
    pub fn is_reserved(&self) -> bool {
        matches!(self, Key::Meta(name) if name == NEXT_SEQ_NAME)
    }
}

/// Displays the key as it is laid out: `l/shelf-1`, `t/3074257bf7194e4000001a85` (EPC in hex).
/// Ids are escaped, so a hostile id cannot inject control characters into a log line.
impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.space() {
            KeySpace::Asn => "a/",
            KeySpace::Dock => "d/",
            KeySpace::Meta => "m/",
            KeySpace::Tag => "t/",
            KeySpace::Location => "l/",
            KeySpace::Reader => "r/",
            KeySpace::Snapshot => "s/",
        };
        f.write_str(prefix)?;
        match self {
            Key::Tag(epc) => epc.iter().try_for_each(|b| write!(f, "{b:02x}")),
            Key::Asn(s)
            | Key::Dock(s)
            | Key::Meta(s)
            | Key::Location(s)
            | Key::Reader(s)
            | Key::Snapshot(s) => {
                write!(f, "{}", s.escape_debug())
            }
        }
    }
}

/// The key of outbox entry `seq`: `o/` then the seq big-endian, so byte order is seq order.
pub fn outbox_key(seq: u64) -> [u8; OUTBOX_KEY_LEN] {
    let mut key = [0u8; OUTBOX_KEY_LEN];
    key[..2].copy_from_slice(OUTBOX_PREFIX);
    key[2..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The seq of an outbox key, or `None` if the bytes are not one.
pub fn outbox_seq(key: &[u8]) -> Option<u64> {
    let rest = key.strip_prefix(OUTBOX_PREFIX)?;
    let bytes: [u8; 8] = rest.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// Encodes the value of [`NEXT_SEQ_KEY`].
pub fn encode_seq(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

/// Decodes the value of [`NEXT_SEQ_KEY`], or `None` if it is not 8 bytes.
pub fn decode_seq(value: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = value.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// Bytes for logs and error messages: printable ASCII as is, everything else `\xNN`.
pub(crate) fn escape_bytes(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn layout_is_prefix_then_id() {
        assert_eq!(Key::Meta("engine".into()).to_bytes(), b"m/engine");
        assert_eq!(Key::Tag(vec![0xde, 0xad]).to_bytes(), b"t/\xde\xad");
        assert_eq!(Key::Location("shelf-1".into()).to_bytes(), b"l/shelf-1");
        assert_eq!(Key::Reader("r1".into()).to_bytes(), b"r/r1");
        assert_eq!(Key::Snapshot("shelf-1".into()).to_bytes(), b"s/shelf-1");
        assert_eq!(Key::Asn("SHP/1".into()).to_bytes(), b"a/SHP/1");
        assert_eq!(Key::Dock("dock-1".into()).to_bytes(), b"d/dock-1");
        assert_eq!(outbox_key(1), *b"o/\0\0\0\0\0\0\0\x01");
        assert_eq!(Key::Meta(NEXT_SEQ_NAME.into()).to_bytes(), NEXT_SEQ_KEY);
    }

    #[test]
    fn every_space_prefix_is_distinct_and_all_is_in_key_order() {
        let prefixes: Vec<_> = KeySpace::ALL.iter().map(|s| s.prefix()).collect();
        let mut sorted = prefixes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(prefixes, sorted);
        assert!(!prefixes.contains(&OUTBOX_PREFIX));
    }

    #[test]
    fn display_names_the_key_and_escapes_ids() {
        let epc = vec![0x30, 0x74, 0x25, 0x7b];
        assert_eq!(Key::Tag(epc).to_string(), "t/3074257b");
        assert_eq!(Key::Location("shelf-1".into()).to_string(), "l/shelf-1");
        assert_eq!(
            Key::Reader("r\u{1b}[31m".into()).to_string(),
            "r/r\\u{1b}[31m"
        );
    }

    #[test]
    fn bad_bytes_are_errors() {
        assert_eq!(Key::from_bytes(b""), Err(KeyError::UnknownPrefix));
        assert_eq!(Key::from_bytes(b"x"), Err(KeyError::UnknownPrefix));
        assert_eq!(Key::from_bytes(b"x/y"), Err(KeyError::UnknownPrefix));
        assert_eq!(
            Key::from_bytes(&outbox_key(3)),
            Err(KeyError::UnknownPrefix)
        );
        assert_eq!(Key::from_bytes(b"l/\xff"), Err(KeyError::NotUtf8));
        assert_eq!(outbox_seq(b"o/\0"), None);
        assert_eq!(outbox_seq(b"t/\0\0\0\0\0\0\0\0"), None);
        assert_eq!(decode_seq(b"\0\0"), None);
    }

    #[test]
    fn only_next_seq_is_reserved() {
        assert!(Key::Meta("next_seq".into()).is_reserved());
        assert!(!Key::Meta("next_seq2".into()).is_reserved());
        assert!(!Key::Location("next_seq".into()).is_reserved());
    }

    fn any_key() -> impl Strategy<Value = Key> {
        prop_oneof![
            any::<String>().prop_map(Key::Meta),
            proptest::collection::vec(any::<u8>(), 0..16).prop_map(Key::Tag),
            any::<String>().prop_map(Key::Location),
            any::<String>().prop_map(Key::Reader),
            any::<String>().prop_map(Key::Snapshot),
            any::<String>().prop_map(Key::Asn),
            any::<String>().prop_map(Key::Dock),
        ]
    }

    proptest! {
        #[test]
        fn key_round_trips(key in any_key()) {
            let bytes = key.to_bytes();
            prop_assert!(bytes.starts_with(key.space().prefix()));
            prop_assert_eq!(Key::from_bytes(&bytes), Ok(key));
        }

        #[test]
        fn outbox_key_round_trips_and_orders_like_seq(a in any::<u64>(), b in any::<u64>()) {
            prop_assert_eq!(outbox_seq(&outbox_key(a)), Some(a));
            prop_assert_eq!(outbox_key(a).cmp(&outbox_key(b)), a.cmp(&b));
            prop_assert_eq!(decode_seq(&encode_seq(a)), Some(a));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..24)) {
            if let Ok(key) = Key::from_bytes(&bytes) {
                prop_assert_eq!(key.to_bytes(), bytes.clone());
            }
            let _ = outbox_seq(&bytes);
        }
    }
}
