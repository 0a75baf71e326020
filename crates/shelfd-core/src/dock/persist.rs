//! The byte codec of the dock records the store keeps: a dock's door and session state
//! (`d/<dock id>`) and a shipment (`a/<shipment>`). Versioned, big-endian, length-prefixed.
//! Owns only the codec: it never touches the store and never decides what a record means.

use super::asn::{Asn, AsnContent};
use super::receipt::Received;
use super::{Light, Session, StoredAsn};
use crate::codec::{R, W};
use std::collections::BTreeMap;

const VERSION: u8 = 1;

/// A dock's persisted state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DockRecord {
    pub(super) door_open: bool,
    pub(super) light: Light,
    pub(super) session: Option<Session>,
}

fn light_byte(l: Light) -> u8 {
    match l {
        Light::Off => 0,
        Light::Receiving => 1,
        Light::Complete => 2,
        Light::Problem => 3,
    }
}

pub(super) fn encode_dock(rec: &DockRecord) -> Vec<u8> {
    let mut w = W(Vec::with_capacity(32));
    w.u8(VERSION);
    w.u8(u8::from(rec.door_open));
    w.u8(light_byte(rec.light));
    match &rec.session {
        None => w.u8(0),
        Some(s) => {
            w.u8(1);
            w.u64(s.opened);
            match s.closed_at {
                None => w.u8(0),
                Some(c) => {
                    w.u8(1);
                    w.u64(c);
                }
            }
            w.u64(s.last_new);
            w.u32(s.received.len() as u32);
            for (epc, r) in &s.received {
                w.bytes(epc);
                w.opt_str(r.sku.as_deref());
                w.u64(r.t);
            }
        }
    }
    w.0
}

pub(super) fn decode_dock(bytes: &[u8]) -> Result<DockRecord, String> {
    let mut r = R(bytes);
    r.version(VERSION..=VERSION)?;
    let door_open = r.flag()?;
    let light = match r.u8()? {
        0 => Light::Off,
        1 => Light::Receiving,
        2 => Light::Complete,
        3 => Light::Problem,
        b => return Err(format!("unknown light state {b}")),
    };
    let session = if r.flag()? {
        let opened = r.u64()?;
        let closed_at = if r.flag()? { Some(r.u64()?) } else { None };
        let last_new = r.u64()?;
        let n = r.u32()?;
        let mut received = BTreeMap::new();
        for _ in 0..n {
            let epc = r.bytes()?.to_vec();
            let sku = r.opt_str()?;
            let t = r.u64()?;
            received.insert(epc, Received { sku, t });
        }
        Some(Session {
            opened,
            closed_at,
            last_new,
            received,
        })
    } else {
        None
    };
    r.end()?;
    Ok(DockRecord {
        door_open,
        light,
        session,
    })
}

pub(super) fn encode_asn(a: &StoredAsn) -> Vec<u8> {
    let mut w = W(Vec::with_capacity(64));
    w.u8(VERSION);
    match a {
        StoredAsn::Open { asn, accepted } => {
            w.u8(0);
            w.bytes(asn.dock.as_bytes());
            w.u64(*accepted);
            match &asn.content {
                AsnContent::Epcs(epcs) => {
                    w.u8(1);
                    w.u32(epcs.len() as u32);
                    for e in epcs {
                        w.bytes(e);
                    }
                }
                AsnContent::Lines(lines) => {
                    w.u8(2);
                    w.u32(lines.len() as u32);
                    for (sku, qty) in lines {
                        w.bytes(sku.as_bytes());
                        w.u32(*qty);
                    }
                }
            }
        }
        StoredAsn::Received {
            dock,
            accepted,
            completed,
            digest,
        } => {
            w.u8(1);
            w.bytes(dock.as_bytes());
            w.u64(*accepted);
            w.u64(*completed);
            w.u64(*digest);
        }
    }
    w.0
}

pub(super) fn decode_asn(shipment: &str, bytes: &[u8]) -> Result<StoredAsn, String> {
    let mut r = R(bytes);
    r.version(VERSION..=VERSION)?;
    let state = r.u8()?;
    let dock = r.string()?;
    let accepted = r.u64()?;
    let out = match state {
        0 => {
            let content = match r.u8()? {
                1 => {
                    let n = r.u32()?;
                    let mut epcs = std::collections::BTreeSet::new();
                    for _ in 0..n {
                        epcs.insert(r.bytes()?.to_vec());
                    }
                    AsnContent::Epcs(epcs)
                }
                2 => {
                    let n = r.u32()?;
                    let mut lines = BTreeMap::new();
                    for _ in 0..n {
                        let sku = r.string()?;
                        lines.insert(sku, r.u32()?);
                    }
                    AsnContent::Lines(lines)
                }
                b => return Err(format!("unknown content kind {b}")),
            };
            StoredAsn::Open {
                asn: Asn {
                    shipment: shipment.to_owned(),
                    dock,
                    content,
                },
                accepted,
            }
        }
        1 => StoredAsn::Received {
            dock,
            accepted,
            completed: r.u64()?,
            digest: r.u64()?,
        },
        b => return Err(format!("unknown shipment state {b}")),
    };
    r.end()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dock_records_round_trip() {
        let mut received = BTreeMap::new();
        received.insert(
            vec![0x30, 0x74],
            Received {
                sku: Some("00614141000015".into()),
                t: 7,
            },
        );
        received.insert(vec![0xe2, 0x80], Received { sku: None, t: 9 });
        for rec in [
            DockRecord {
                door_open: false,
                light: Light::Off,
                session: None,
            },
            DockRecord {
                door_open: true,
                light: Light::Receiving,
                session: Some(Session {
                    opened: 1,
                    closed_at: Some(12),
                    last_new: 9,
                    received,
                }),
            },
        ] {
            assert_eq!(decode_dock(&encode_dock(&rec)), Ok(rec));
        }
    }

    #[test]
    fn asn_records_round_trip() {
        let open = StoredAsn::Open {
            asn: Asn {
                shipment: "S".into(),
                dock: "d".into(),
                content: AsnContent::Lines([("00614141000015".to_string(), 4)].into()),
            },
            accepted: 5,
        };
        assert_eq!(decode_asn("S", &encode_asn(&open)), Ok(open));
        let open = StoredAsn::Open {
            asn: Asn {
                shipment: "S".into(),
                dock: "d".into(),
                content: AsnContent::Epcs([vec![1, 2], vec![3, 4]].into()),
            },
            accepted: 5,
        };
        assert_eq!(decode_asn("S", &encode_asn(&open)), Ok(open));
        let done = StoredAsn::Received {
            dock: "d".into(),
            accepted: 1,
            completed: 2,
            digest: 3,
        };
        assert_eq!(decode_asn("S", &encode_asn(&done)), Ok(done));
    }

    #[test]
    fn corrupt_records_are_errors() {
        assert!(decode_dock(&[]).is_err());
        assert!(
            decode_dock(&[9])
                .expect_err("corrupt")
                .contains("version 9")
        );
        assert!(
            decode_dock(&[1, 0, 7, 0])
                .expect_err("corrupt")
                .contains("light state 7")
        );
        assert!(
            decode_dock(&[1, 0, 0, 0, 0])
                .expect_err("corrupt")
                .contains("1 bytes left over")
        );
        assert!(decode_asn("S", &[1, 5, 0, 0]).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_dock(&b);
            let _ = decode_asn("S", &b);
        }
    }
}
