//! Cross-part tests of the Mercury module: the shared vectors of reader-vectors.md §1 (TM-*),
//! golden command bytes, rejected frames, the simulator conversation and the stream
//! properties (round trip, never panic, resynchronisation, chunking). This file holds the
//! vectors as hex and the helpers the test files share.

mod conversation;
mod properties;
mod rejects;
mod vectors;

use super::record::*;
use super::*;
use crate::frame::{
    Decoded, FrameDecoder, FrameRole, HostCommands, ReaderSimulator, TagReport, decode_all,
};
use crate::kinds::Protocol;
use crate::wire::{self, WireOptions};
use proptest::prelude::*;

fn hex(text: &str) -> Vec<u8> {
    text.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).expect("hex byte"))
        .collect()
}

const TM1: &str = "FF 28 22 00 00 10 00 1B 01 FF 01 01 C4 11 0E 16 40 00 00 01 27 00 00 05 00 00 \
                   0F 00 80 30 00 00 00 00 00 00 00 00 00 00 00 15 45 E9 4A 56 1D";
const TM3: &str = "FF 10 2F 00 00 01 22 00 00 05 07 22 10 00 1B 03 E8 01 FF DD 2B";
const TM4: &str = "FF 04 2F 00 00 01 22 00 00 6D C3";
const TM5: &str = "FF 03 2F 00 00 02 5E 86";
const TM6: &str = "FF 01 2F 00 00 02 30 E6";
const TM7: &str = "FF 07 22 00 00 01 00 40 00 00 00 05 26 93";
const TM8: &str = "FF 02 9D 00 00 02 01 DB 11";
const KEEPALIVE: &str = "FF 00 22 04 00 84 E0";
const THROTTLE: &str = "FF 00 22 05 04 85 E4";

fn decode(bytes: &[u8]) -> Vec<Decoded> {
    decode_all(&mut Decoder::new(), bytes)
}

/// The single item `bytes` decode to.
fn one(bytes: &[u8]) -> Decoded {
    let items = decode(bytes);
    assert_eq!(items.len(), 1, "{items:?}");
    items.into_iter().next().expect("one item")
}

fn frame_of(item: &Decoded) -> (u64, &'static str, FrameRole, Option<u16>) {
    match item {
        Decoded::Frame {
            offset,
            name,
            role,
            code,
        } => (*offset, *name, *role, *code),
        other => panic!("not a frame: {other:?}"),
    }
}

fn tags(items: &[Decoded]) -> Vec<TagReport> {
    items
        .iter()
        .filter_map(|d| match d {
            Decoded::Tag { tag, .. } => Some(tag.clone()),
            _ => None,
        })
        .collect()
}

fn names(items: &[Decoded]) -> Vec<&'static str> {
    items
        .iter()
        .map(|d| match d {
            Decoded::Tag { .. } => "tag",
            Decoded::Frame { name, .. } => name,
            Decoded::Bad { .. } => "bad",
        })
        .collect()
}

/// The frame `bytes` with its CRC recomputed (module frames and host frames alike).
fn recrc(mut bytes: Vec<u8>) -> Vec<u8> {
    let n = bytes.len();
    let check = crc(&bytes[1..n - 2]);
    bytes[n - 2..].copy_from_slice(&check.to_be_bytes());
    bytes
}

/// A single bad frame followed by a keep-alive: the reason of the one Bad, which must cover
/// exactly the bad frame.
fn rejection(bad: &[u8]) -> String {
    let mut bytes = bad.to_vec();
    bytes.extend(hex(KEEPALIVE));
    let items = decode(&bytes);
    match &items[..] {
        [
            Decoded::Bad {
                offset: 0,
                skipped,
                reason,
            },
            Decoded::Frame {
                name: "keepalive", ..
            },
        ] => {
            assert_eq!(*skipped, bad.len(), "{reason}");
            reason.clone()
        }
        other => panic!("{other:?}"),
    }
}
