//! Stream properties: simulator round trip of arbitrary batches under arbitrary metadata
//! flags, no panic on any bytes, garbage and corruption lose only the frames they touch, and
//! chunking never changes the output.

use super::*;

fn arb_tag() -> impl Strategy<Value = TagReport> {
    (
        (1usize..=31).prop_flat_map(|words| prop::collection::vec(any::<u8>(), words * 2)),
        1u16..=16,
        -128i8..=127,
        0u16..0x0800,
        0u32..=0x00FF_FFFF,
        any::<u16>(),
        0u32..=255,
        any::<u32>(),
    )
        .prop_map(
            |(epc, antenna, rssi, pc_low, khz, phase, count, ms)| TagReport {
                antenna,
                pc: Some(pc_low | ((epc.len() as u16 / 2) << 11)),
                epc,
                rssi_dbm: Some(f32::from(rssi)),
                frequency_khz: Some(khz),
                phase_deg: Some(phase),
                read_count: Some(count),
                reader_time_ms: Some(u64::from(ms)),
            },
        )
}

/// What a record carrying only `flags` gives back for `tag`.
fn as_flags_allow(flags: u16, tag: &TagReport) -> TagReport {
    let keep = |bit: u16| flags & bit != 0;
    TagReport {
        antenna: if keep(META_ANTENNA) { tag.antenna } else { 1 },
        epc: tag.epc.clone(),
        pc: tag.pc,
        rssi_dbm: tag.rssi_dbm.filter(|_| keep(META_RSSI)),
        frequency_khz: tag.frequency_khz.filter(|_| keep(META_FREQUENCY)),
        phase_deg: tag.phase_deg.filter(|_| keep(META_PHASE)),
        read_count: tag.read_count.filter(|_| keep(META_READ_COUNT)),
        reader_time_ms: tag.reader_time_ms.filter(|_| keep(META_TIMESTAMP)),
    }
}

/// A stream of valid module frames (tags, keep-alives, acks).
fn arb_frames() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(
        prop_oneof![
            3 => arb_tag().prop_map(|t| encode_tag_record(0x01FF, &t)),
            1 => Just(hex(KEEPALIVE)),
            1 => Just(hex(TM4)),
            1 => Just(hex(TM7)),
            1 => Just(hex(THROTTLE)),
        ],
        1..12,
    )
}

/// True when some 0xFF of `stream` other than at `starts` opens a CRC-valid frame: garbage that
/// by chance (2^-16 per candidate) forms a frame is outside the resynchronisation property.
fn has_spurious_frame(stream: &[u8], starts: &[usize]) -> bool {
    (0..stream.len()).any(|p| {
        if stream[p] != 0xFF || starts.contains(&p) {
            return false;
        }
        let Some(&len) = stream.get(p + 1) else {
            return false;
        };
        let end = p + usize::from(len) + 7;
        len <= MAX_LEN
            && end <= stream.len()
            && crc(&stream[p + 1..end - 2])
                == u16::from_be_bytes([stream[end - 2], stream[end - 1]])
    })
}

/// The items decoded from `stream`, fed in `chunk`-byte pieces.
fn decode_chunked(stream: &[u8], chunk: usize) -> Vec<Decoded> {
    let mut d = Decoder::new();
    let mut items = Vec::new();
    for piece in stream.chunks(chunk.max(1)) {
        d.feed(piece);
        items.extend(std::iter::from_fn(|| d.next_frame()));
    }
    items
}

proptest! {
    #[test]
    fn simulator_round_trips_tag_batches(
        batch in prop::collection::vec(arb_tag(), 0..20),
        flags in 0u16..=META_SUPPORTED,
    ) {
        let mut sim = Simulator::new(&WireOptions::default());
        let start = StartRequest { metadata_flags: flags, ..STREAM_START };
        let acks = decode(&sim.on_host_bytes(&start.encode()));
        prop_assert_eq!(names(&acks), ["boot", "start_ack"]);
        let items = decode(&sim.round(&batch));
        prop_assert!(items.iter().all(|d| !matches!(d, Decoded::Bad { .. })), "{:?}", items);
        let expected: Vec<_> = batch.iter().map(|t| as_flags_allow(flags, t)).collect();
        prop_assert_eq!(tags(&items), expected);
    }

    #[test]
    fn encoded_records_decode_with_full_metadata(tag in arb_tag()) {
        let items = decode(&encode_tag_record(0x01FF, &tag));
        prop_assert_eq!(tags(&items), vec![tag]);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..400), 0..8),
    ) {
        let mut d = Decoder::new();
        let mut skipped = 0;
        for c in &chunks {
            d.feed(c);
            while let Some(item) = d.next_frame() {
                if let Decoded::Bad { skipped: n, .. } = item {
                    prop_assert!(n > 0);
                    skipped += n;
                }
            }
            prop_assert!(d.pending_bytes() < MAX_FRAME);
        }
        let total: usize = chunks.iter().map(Vec::len).sum();
        prop_assert!(skipped <= total);
    }

    #[test]
    fn random_frame_like_bytes_never_panic(
        len in 0u8..=0xF8,
        body in prop::collection::vec(any::<u8>(), 0..260),
        op in prop_oneof![Just(0x22u8), Just(0x2F), Just(0x0C), any::<u8>()],
        status in prop_oneof![Just(0u16), any::<u16>()],
    ) {
        // A valid CRC over random content: only the field checks stand between it and a panic.
        let mut data = body;
        data.truncate(usize::from(len));
        let frame = reply_frame(op, status, &data);
        let items = decode(&frame);
        prop_assert!(items.len() <= 1);
        let mut with_tail = frame.clone();
        with_tail.extend(hex(KEEPALIVE));
        let items = decode(&with_tail);
        prop_assert!(!items.is_empty());
    }

    #[test]
    fn garbage_between_frames_loses_no_frame(
        frames in arb_frames(),
        gaps in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 12),
    ) {
        let mut stream = Vec::new();
        let mut starts = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            stream.extend(&gaps[i]);
            starts.push(stream.len());
            stream.extend(f);
        }
        // A garbage 0xFF with a plausible LEN waits for its bytes: a live stream brings them.
        stream.extend([0u8; MAX_FRAME]);
        prop_assume!(!has_spurious_frame(&stream, &starts));
        let items = decode(&stream);
        let offsets: Vec<usize> = items
            .iter()
            .filter_map(|d| match d {
                Decoded::Tag { offset, .. } | Decoded::Frame { offset, .. } => Some(*offset as usize),
                Decoded::Bad { .. } => None,
            })
            .collect();
        prop_assert_eq!(offsets, starts);
        let bad: usize = items
            .iter()
            .map(|d| match d {
                Decoded::Bad { skipped, .. } => *skipped,
                _ => 0,
            })
            .sum();
        let garbage: usize = gaps[..frames.len()].iter().map(Vec::len).sum();
        prop_assert_eq!(bad, garbage);
    }

    #[test]
    fn corruption_loses_only_the_frames_it_hits(
        frames in arb_frames(),
        hits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut stream = Vec::new();
        let mut spans = Vec::new();
        for f in &frames {
            spans.push((stream.len(), stream.len() + f.len()));
            stream.extend(f);
        }
        let mut hit_at = Vec::new();
        for (index, value) in &hits {
            let at = index.index(stream.len());
            if stream[at] != *value {
                stream[at] = *value;
                hit_at.push(at);
            }
        }
        let intact: Vec<usize> = spans
            .iter()
            .filter(|(s, e)| !hit_at.iter().any(|h| (*s..*e).contains(h)))
            .map(|(s, _)| *s)
            .collect();
        stream.extend([0u8; MAX_FRAME]);
        prop_assume!(!has_spurious_frame(&stream, &intact));
        let offsets: Vec<usize> = decode(&stream)
            .iter()
            .filter_map(|d| match d {
                Decoded::Tag { offset, .. } | Decoded::Frame { offset, .. } => Some(*offset as usize),
                Decoded::Bad { .. } => None,
            })
            .collect();
        prop_assert_eq!(offsets, intact);
    }

    #[test]
    fn chunking_does_not_change_the_output(
        frames in arb_frames(),
        gaps in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 12),
        chunk in 2usize..64,
    ) {
        let mut stream = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            stream.extend(&gaps[i]);
            stream.extend(f);
        }
        let whole = decode(&stream);
        prop_assert_eq!(&decode_chunked(&stream, 1), &whole);
        prop_assert_eq!(&decode_chunked(&stream, chunk), &whole);
    }
}
