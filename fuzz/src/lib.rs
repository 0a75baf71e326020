//! Shared harness of the decoder fuzz targets: splits a fuzz input into chunk sizes and a byte
//! stream, feeds the stream to a [`FrameDecoder`] in those chunks (draining after each), and
//! asserts what every decoder promises whatever the bytes: counters that match what was
//! emitted, strictly increasing offsets, skipped runs that stay inside the stream, checked EPCs
//! (a whole number of 16-bit words, at most 62 bytes), 1-based antennas in the protocol's range, finite RSSI, and the
//! same valid frames whether the stream arrives in one piece or in chunks.
//!
//!
//! [`check_protocol`] adds a structure-aware mode, so the fuzzer reaches past the checksums:
//! half the inputs are read as scripted tags that the protocol's own simulator turns into a
//! reader's byte stream (the host answering as its commands say, over an in-memory line), which
//! must decode without a bad frame into exactly tags that were scripted; then a few bytes of it
//! are corrupted as the input says and the general invariants must still hold.
//!
//! It owns no decoder and never decides what a protocol means: a target names the protocol,
//! its options and the antenna range its reads can report.

use shelfd_readers::Protocol;
use shelfd_readers::frame::{Decoded, FrameDecoder, TagReport};
use shelfd_readers::{WireOptions, wire};
use std::ops::RangeInclusive;

/// Longest EPC a PC word can announce, in bytes (31 words).
pub const MAX_EPC_BYTES: usize = 62;

/// Splits `data` into chunk sizes and the stream: the first byte says how many size bytes
/// follow (1..=8), each size byte gives a chunk of 1..=256 bytes, cycled over the stream.
/// Inputs too short to hold that header are one chunk of everything.
pub fn split_input(data: &[u8]) -> (Vec<usize>, &[u8]) {
    let Some((&head, rest)) = data.split_first() else {
        return (vec![1], data);
    };
    let n = usize::from(head % 8) + 1;
    if rest.len() < n {
        return (vec![data.len().max(1)], data);
    }
    let (sizes, stream) = rest.split_at(n);
    (sizes.iter().map(|&s| usize::from(s) + 1).collect(), stream)
}

/// Feeds `stream` to `decoder` in `sizes` (cycled), draining after every chunk, and returns
/// every item in order.
pub fn decode_chunked(
    decoder: &mut dyn FrameDecoder,
    stream: &[u8],
    sizes: &[usize],
) -> Vec<Decoded> {
    let mut items = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < stream.len() {
        let size = sizes
            .get(i % sizes.len().max(1))
            .copied()
            .unwrap_or(1)
            .max(1);
        let end = (at + size).min(stream.len());
        decoder.feed(&stream[at..end]);
        items.extend(std::iter::from_fn(|| decoder.next_frame()));
        at = end;
        i += 1;
    }
    items
}

fn offset_of(item: &Decoded) -> u64 {
    match item {
        Decoded::Tag { offset, .. }
        | Decoded::Frame { offset, .. }
        | Decoded::Bad { offset, .. } => *offset,
    }
}

/// Decodes the fuzz input with a decoder from `new_decoder`, in the chunks the input names and
/// again in one piece, and asserts every decoder invariant. Tags must report an antenna in
/// `antennas`.
pub fn check_decoder(
    data: &[u8],
    new_decoder: impl Fn() -> Box<dyn FrameDecoder>,
    antennas: RangeInclusive<u16>,
) {
    let (sizes, stream) = split_input(data);
    let mut decoder = new_decoder();
    let items = decode_chunked(decoder.as_mut(), stream, &sizes);
    let stats = decoder.stats();
    let len = stream.len() as u64;

    assert_eq!(stats.bytes, len, "stats.bytes counts every byte fed");
    assert!(
        stats.frames >= stats.tags,
        "frames {} < tags {}",
        stats.frames,
        stats.tags
    );
    let tags = items
        .iter()
        .filter(|i| matches!(i, Decoded::Tag { .. }))
        .count() as u64;
    let frames = items
        .iter()
        .filter(|i| !matches!(i, Decoded::Bad { .. }))
        .count() as u64;
    let bad = items.len() as u64 - frames;
    assert_eq!(stats.tags, tags, "stats.tags vs Tag items");
    assert_eq!(stats.frames, frames, "stats.frames vs Tag + Frame items");
    assert_eq!(stats.bad_frames, bad, "stats.bad_frames vs Bad items");

    // Items come in stream order and never overlap a run of bytes reported as skipped.
    let mut next_free = 0u64;
    let mut last: Option<u64> = None;
    for item in &items {
        let offset = offset_of(item);
        assert!(
            offset < len,
            "offset {offset} beyond the {len} bytes fed: {item:?}"
        );
        if let Some(prev) = last {
            assert!(offset > prev, "offset {offset} after {prev}: {item:?}");
        }
        assert!(
            offset >= next_free,
            "offset {offset} inside a skipped run ending at {next_free}"
        );
        last = Some(offset);
        match item {
            Decoded::Bad {
                skipped, reason, ..
            } => {
                assert!(*skipped > 0, "empty bad run at {offset}");
                assert!(!reason.is_empty(), "bad run at {offset} without a reason");
                next_free = offset + *skipped as u64;
                assert!(next_free <= len, "bad run {offset}+{skipped} beyond {len}");
            }
            Decoded::Tag { tag, .. } => {
                let n = tag.epc.len();
                assert!(
                    n > 0 && n % 2 == 0 && n <= MAX_EPC_BYTES,
                    "EPC of {n} bytes: {tag:?}"
                );
                assert!(
                    antennas.contains(&tag.antenna),
                    "antenna {} not in {antennas:?}",
                    tag.antenna
                );
                if let Some(rssi) = tag.rssi_dbm {
                    assert!(rssi.is_finite(), "rssi {rssi}");
                }
                next_free = offset + 1;
            }
            Decoded::Frame { name, .. } => {
                assert!(!name.is_empty(), "frame at {offset} without a name");
                next_free = offset + 1;
            }
        }
    }

    // Chunking changes nothing about the valid frames (a skipped run may be reported in
    // different pieces).
    let mut whole = new_decoder();
    whole.feed(stream);
    let in_one: Vec<Decoded> = std::iter::from_fn(|| whole.next_frame()).collect();
    let valid = |v: &[Decoded]| -> Vec<Decoded> {
        v.iter()
            .filter(|i| !matches!(i, Decoded::Bad { .. }))
            .cloned()
            .collect()
    };
    assert_eq!(
        valid(&items),
        valid(&in_one),
        "chunked and whole decoding disagree"
    );
    assert_eq!(whole.stats().tags, stats.tags);
}

/// The fuzz entry of a protocol: the first byte picks raw bytes (even: [`check_decoder`] on
/// the rest) or scripted tags (odd: [`check_scripted`] on the rest).
pub fn check_protocol(
    data: &[u8],
    protocol: Protocol,
    options: &WireOptions,
    antennas: RangeInclusive<u16>,
) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let new_decoder =
        || wire::decoder(protocol, options).expect("the target names a serial protocol");
    if mode % 2 == 0 {
        check_decoder(rest, new_decoder, antennas);
    } else {
        check_scripted(rest, protocol, options, antennas);
    }
}

/// Reads scripted rounds out of `data`: per tag, a head byte (bits 0..5: EPC words − 1, capped
/// at 31; bit 6: no RSSI; bit 7: the round ends after this tag), an antenna byte (an index into
/// `antennas`), an RSSI byte (−dBm) and the EPC bytes (zero-padded when the input runs out).
fn scripted_rounds(data: &[u8], antennas: &[u16]) -> Vec<Vec<TagReport>> {
    let mut rounds = vec![Vec::new()];
    let mut at = 0;
    while at + 3 <= data.len() && rounds.len() < 64 {
        let head = data[at];
        let antenna = antennas
            .get(usize::from(data[at + 1]) % antennas.len().max(1))
            .copied()
            .unwrap_or(1);
        let rssi = (head & 0x40 == 0).then(|| -f32::from(data[at + 2] % 100));
        at += 3;
        let len = 2 * (usize::from(head & 0x3F) % 31 + 1);
        let mut epc: Vec<u8> = data
            .get(at..(at + len).min(data.len()))
            .unwrap_or_default()
            .to_vec();
        epc.resize(len, 0);
        at += len;
        let round = rounds.last_mut().expect("invariant: rounds is never empty");
        round.push(TagReport {
            antenna,
            epc,
            rssi_dbm: rssi,
            ..TagReport::default()
        });
        if head & 0x80 != 0 {
            rounds.push(Vec::new());
        }
    }
    rounds
}

/// The structure-aware mode: `data` is chunk sizes (as in [`split_input`]), then a corruption
/// byte (low 2 bits: how many of the next 3-byte `position (u16), xor` entries apply), then
/// scripted rounds. The simulator's stream must decode cleanly into scripted tags; the
/// corrupted stream must keep every decoder invariant.
pub fn check_scripted(
    data: &[u8],
    protocol: Protocol,
    options: &WireOptions,
    antennas: RangeInclusive<u16>,
) {
    let (sizes, rest) = split_input(data);
    let Some((&corrupt, rest)) = rest.split_first() else {
        return;
    };
    let n = usize::from(corrupt % 4);
    let Some((flips, script)) = rest.split_at_checked(3 * n) else {
        return;
    };
    let rounds = scripted_rounds(script, &options.antennas);
    let new_decoder =
        || wire::decoder(protocol, options).expect("the target names a serial protocol");
    let mut simulator = wire::simulator(protocol, options).expect("serial protocol");
    let commands = wire::commands(protocol, options).expect("serial protocol");
    let mut host_decoder = new_decoder();
    let mut stream = Vec::new();
    let mut decoded = Vec::new();
    // The reader writes `bytes`; the host decodes them and answers, which may make the reader
    // write more.
    let mut exchange = |simulator: &mut Box<dyn shelfd_readers::ReaderSimulator>,
                        bytes: Vec<u8>| {
        let mut pending = bytes;
        let mut turns = 0;
        while !pending.is_empty() && turns < 64 {
            turns += 1;
            stream.extend_from_slice(&pending);
            host_decoder.feed(&pending);
            let mut answers = Vec::new();
            while let Some(item) = host_decoder.next_frame() {
                if let Some(answer) = commands.respond(&item) {
                    answers.extend(answer);
                }
                decoded.push(item);
            }
            pending = if answers.is_empty() {
                Vec::new()
            } else {
                simulator.on_host_bytes(&answers)
            };
        }
    };
    let startup = simulator.on_host_bytes(&commands.startup().concat());
    exchange(&mut simulator, startup);
    for round in &rounds {
        if !simulator.inventory_running() {
            let nudged = simulator.on_host_bytes(&commands.nudge().concat());
            exchange(&mut simulator, nudged);
        }
        let bytes = simulator.round(round);
        exchange(&mut simulator, bytes);
    }

    let scripted: Vec<(u16, &[u8])> = rounds
        .iter()
        .flatten()
        .map(|t| (t.antenna, t.epc.as_slice()))
        .collect();
    for item in &decoded {
        match item {
            Decoded::Bad { .. } => panic!("the simulator's own bytes decode to {item:?}"),
            Decoded::Tag { tag, .. } => assert!(
                scripted.contains(&(tag.antenna, tag.epc.as_slice())),
                "decoded a tag that was never scripted: {tag:?}"
            ),
            Decoded::Frame { .. } => {}
        }
    }

    // The clean stream, then the corrupted one, through the general checks.
    let mut input: Vec<u8> = vec![(sizes.len() - 1) as u8];
    input.extend(sizes.iter().map(|&s| (s - 1) as u8));
    let header = input.len();
    input.extend_from_slice(&stream);
    check_decoder(&input, new_decoder, antennas.clone());
    if !stream.is_empty() && n > 0 {
        for flip in flips.chunks_exact(3) {
            let at = usize::from(u16::from_be_bytes([flip[0], flip[1]])) % stream.len();
            input[header + at] ^= flip[2].max(1);
        }
        check_decoder(&input, new_decoder, antennas);
    }
}
