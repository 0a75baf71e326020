//! The bytes of one outbox value, so that an entry keeps its [`EventKind`] next to its payload.
//!
//! Layout (since the kind is stored): `0x01`, the length of the kind's spelling (one byte), the
//! spelling (`tag.arrived`, …, `dock.receipt`), then the payload as published. A value written
//! by an earlier shelfd is the bare payload, a JSON object starting with `{`; its kind is read
//! once, when the entry is loaded, with the typed parse of the event contract
//! ([`Event::from_slice`]) — the one place the store reads a payload. Owns this layout; it never
//! writes the bare form, never changes a payload and never guesses a kind from payload bytes.

use shelfd_core::events::{Event, EventKind, PayloadError, UnknownEventKind};

/// First byte of a value that carries its kind.
const KIND_PREFIXED: u8 = 0x01;

/// First byte of a value written before the kind was stored: the payload's opening `{`.
const LEGACY_PAYLOAD: u8 = b'{';

/// Why an outbox value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboxValueError {
    /// The value is empty.
    #[error("empty outbox value")]
    Empty,
    /// The first byte is neither the kind-prefixed format nor a JSON payload.
    #[error(
        "outbox value starts with byte 0x{first:02x}, neither 0x01 (kind and payload) nor '{{' (a payload)"
    )]
    UnknownFormat {
        /// The first byte.
        first: u8,
    },
    /// The value is shorter than its kind header says.
    #[error("outbox value of {len} bytes is shorter than its kind header")]
    Truncated {
        /// The value's length.
        len: usize,
    },
    /// The stored kind is not one this build knows.
    #[error("outbox value names {0}")]
    Kind(#[from] UnknownEventKind),
    /// A value from before the kind was stored whose payload is not an event.
    #[error("outbox value written before kinds were stored is not an event payload: {0}")]
    Legacy(#[from] PayloadError),
}

/// The value stored for an entry of `kind` with `payload`.
pub(crate) fn encode(kind: EventKind, payload: &[u8]) -> Vec<u8> {
    let spelling = kind.as_str().as_bytes();
    let len = u8::try_from(spelling.len()).expect("invariant: event kinds are short names");
    let mut value = Vec::with_capacity(2 + spelling.len() + payload.len());
    value.push(KIND_PREFIXED);
    value.push(len);
    value.extend_from_slice(spelling);
    value.extend_from_slice(payload);
    value
}

/// The kind and payload of a stored value, in either format.
pub(crate) fn decode(value: &[u8]) -> Result<(EventKind, &[u8]), OutboxValueError> {
    match value.first() {
        None => Err(OutboxValueError::Empty),
        Some(&KIND_PREFIXED) => {
            let truncated = || OutboxValueError::Truncated { len: value.len() };
            let len = usize::from(*value.get(1).ok_or_else(truncated)?);
            let spelling = value.get(2..2 + len).ok_or_else(truncated)?;
            let kind = String::from_utf8_lossy(spelling).parse()?;
            Ok((kind, &value[2 + len..]))
        }
        Some(&LEGACY_PAYLOAD) => {
            let (_, event) = Event::from_slice(value)?;
            Ok((event.body.kind(), value))
        }
        Some(&first) => Err(OutboxValueError::UnknownFormat { first }),
    }
}

/// The payload length of a stored value without reading the payload (outbox byte counts are
/// payload bytes); a value too short for its header counts whole.
pub(crate) fn payload_len(value: &[u8]) -> u64 {
    let header = match (value.first(), value.get(1)) {
        (Some(&KIND_PREFIXED), Some(&len)) => 2 + usize::from(len),
        _ => 0,
    };
    value.len().saturating_sub(header) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use shelfd_core::events::{EventBody, Origin};

    #[test]
    fn every_kind_round_trips() {
        for kind in EventKind::ALL {
            let value = encode(kind, b"{\"v\":1}");
            assert_eq!(decode(&value), Ok((kind, &b"{\"v\":1}"[..])));
            assert_eq!(payload_len(&value), 7);
        }
    }

    #[test]
    fn a_bare_payload_of_an_earlier_shelfd_reads_with_its_kind() {
        let payload = Event {
            seq: 4,
            time_ms: 0,
            body: EventBody::ReaderStatus {
                reader: "r1".into(),
                state: shelfd_core::events::ReaderState::Online,
                since: "x".into(),
            },
        }
        .to_json(&Origin {
            store: "s".into(),
            gateway: "g".into(),
        });
        let value = payload.as_bytes();
        assert_eq!(
            decode(value),
            Ok((EventKind::ReaderStatus, value)),
            "{payload}"
        );
        assert_eq!(payload_len(value), value.len() as u64);
    }

    #[test]
    fn malformed_values_are_errors_naming_the_problem() {
        assert_eq!(decode(b""), Err(OutboxValueError::Empty));
        assert_eq!(
            decode(b"x"),
            Err(OutboxValueError::UnknownFormat { first: b'x' })
        );
        assert_eq!(
            decode(b"\x01\x0btag.arr"),
            Err(OutboxValueError::Truncated { len: 9 })
        );
        assert_eq!(
            decode(b"\x01\x03tag{}").map_err(|e| e.to_string()),
            Err("outbox value names unknown event type \"tag\"".to_owned())
        );
        assert!(matches!(
            decode(br#"{"v":1}"#),
            Err(OutboxValueError::Legacy(_))
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_values_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = decode(&bytes);
            prop_assert!(payload_len(&bytes) <= bytes.len() as u64);
        }
    }
}
