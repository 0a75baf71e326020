//! The shelf-link bytes of a bus as [`FrameDecoder`] items, for `shelfd decode --protocol
//! shelf-link` (a capture of an RS-485 bus: both directions, every node). Owns only the mapping
//! of shelf-link frames to [`Decoded`] items; the checking is the firmware crate's
//! [`FrameAccumulator`], and the driver ([`super::run_shelf_link_reader`]) does not use this
//! module (it matches answers to its own requests). Never panics on any bytes.
//!
//! A node's tag read is a [`Decoded::Tag`]; every other frame is a [`Decoded::Frame`] named
//! after its message (`poll`, `ack`, `configure_lane`, `tare`, `calibrate`, `identify`,
//! `hello`, `heartbeat`, `lane_weight`, `pick_put`, `ambiguous`, `fault`, `command_result`),
//! with `code` the node address; a run of bytes that is not a valid frame is a
//! [`Decoded::Bad`] naming the reason, `skipped` its length without the delimiter. Offsets are
//! those of the run's first byte.
//!
//! ```
//! use shelf_node::link::{Frame, Report};
//! use shelfd_readers::frame::{decode_all, Decoded, FrameRole};
//! use shelfd_readers::shelf_link::decoder::Decoder;
//!
//! let pick = Frame::new(3, 9, Report::PickPut { lane: 1, units: -2, delta_mg: -498_700 });
//! let mut bytes = vec![0x42, 0x00, 0x00]; // noise, then an empty run
//! bytes.extend(pick.to_vec().unwrap());
//! let items = decode_all(&mut Decoder::new(), &bytes);
//! assert!(matches!(items[0], Decoded::Bad { offset: 0, skipped: 1, .. }), "{items:?}");
//! assert_eq!(
//!     items[1],
//!     Decoded::Frame { offset: 3, name: "pick_put", role: FrameRole::Info, code: Some(3) }
//! );
//! assert_eq!(items.len(), 2);
//! ```

use crate::frame::{Decoded, DecoderStats, FrameDecoder, FrameRole, TagReport};
use shelf_node::link::{Command, DELIMITER, FrameAccumulator, Report};
use std::collections::VecDeque;

/// Cuts shelf-link frames out of a bus capture. See the module docs.
#[derive(Debug, Default)]
pub struct Decoder {
    acc: FrameAccumulator,
    items: VecDeque<Decoded>,
    stats: DecoderStats,
    /// Stream offset of the first byte after the last delimiter.
    run_start: u64,
}

impl Decoder {
    /// A decoder at offset 0.
    pub fn new() -> Decoder {
        Decoder::default()
    }
}

fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Poll => "poll",
        Command::Ack { .. } => "ack",
        Command::ConfigureLane { .. } => "configure_lane",
        Command::Tare { .. } => "tare",
        Command::Calibrate { .. } => "calibrate",
        Command::Identify { .. } => "identify",
    }
}

fn report_name(report: &Report) -> (&'static str, FrameRole) {
    match report {
        Report::Hello { .. } => ("hello", FrameRole::Boot),
        Report::Heartbeat { .. } => ("heartbeat", FrameRole::Info),
        Report::LaneWeight { .. } => ("lane_weight", FrameRole::Info),
        Report::PickPut { .. } => ("pick_put", FrameRole::Info),
        Report::Ambiguous { .. } => ("ambiguous", FrameRole::Info),
        Report::TagRead { .. } => ("tag_read", FrameRole::Info),
        Report::Fault { .. } => ("fault", FrameRole::Error),
        Report::CommandResult { .. } => ("command_result", FrameRole::Ack),
    }
}

impl FrameDecoder for Decoder {
    fn feed(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let (used, item) = self.acc.feed(rest);
            let at = self.stats.bytes;
            let consumed = &rest[..used];
            self.stats.bytes += used as u64;
            rest = &rest[used..];
            // The run that ended (if one did) ends at the last byte consumed, a delimiter; any
            // earlier delimiter in what was consumed ended an empty run the accumulator skipped.
            let before_end = if item.is_some() {
                &consumed[..used.saturating_sub(1)]
            } else {
                consumed
            };
            if let Some(p) = before_end.iter().rposition(|&b| b == DELIMITER) {
                self.run_start = at + p as u64 + 1;
            }
            let Some(item) = item else {
                continue;
            };
            let offset = self.run_start;
            let end = at + used as u64 - 1;
            let skipped = end.saturating_sub(offset) as usize;
            self.run_start = end + 1;
            let decoded = item.and_then(|raw| {
                if raw.is_command() {
                    raw.decode::<Command>().map(|f| Decoded::Frame {
                        offset,
                        name: command_name(&f.message),
                        role: FrameRole::Info,
                        code: Some(u16::from(f.address)),
                    })
                } else {
                    raw.decode::<Report>().map(|f| match f.message {
                        Report::TagRead {
                            antenna,
                            rssi_ddbm,
                            epc,
                        } => Decoded::Tag {
                            offset,
                            tag: TagReport {
                                antenna: u16::from(antenna),
                                epc: epc.as_bytes().to_vec(),
                                rssi_dbm: Some(f32::from(rssi_ddbm) / 10.0),
                                ..TagReport::default()
                            },
                        },
                        message => {
                            let (name, role) = report_name(&message);
                            Decoded::Frame {
                                offset,
                                name,
                                role,
                                code: Some(u16::from(f.address)),
                            }
                        }
                    })
                }
            });
            let decoded = decoded.unwrap_or_else(|e| Decoded::Bad {
                offset,
                skipped,
                reason: e.to_string(),
            });
            match &decoded {
                Decoded::Tag { .. } => {
                    self.stats.frames += 1;
                    self.stats.tags += 1;
                }
                Decoded::Frame { .. } => self.stats.frames += 1,
                Decoded::Bad { .. } => self.stats.bad_frames += 1,
            }
            self.items.push_back(decoded);
        }
    }

    fn next_frame(&mut self) -> Option<Decoded> {
        self.items.pop_front()
    }

    fn stats(&self) -> DecoderStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::decode_all;
    use proptest::prelude::*;
    use shelf_node::link::Frame;

    fn offset(item: &Decoded) -> u64 {
        match item {
            Decoded::Tag { offset, .. }
            | Decoded::Frame { offset, .. }
            | Decoded::Bad { offset, .. } => *offset,
        }
    }

    proptest! {
        /// Any bytes, in any chunks, around a valid frame: no panic, the same items as in one
        /// piece, increasing offsets, counters that match, and the frame found where it is.
        #[test]
        fn any_bytes_in_any_chunks(
            before in proptest::collection::vec(any::<u8>(), 0..64),
            after in proptest::collection::vec(any::<u8>(), 0..64),
            chunk in 1usize..17,
        ) {
            let frame = Frame::new(7, 1, Report::Heartbeat {
                uptime_s: 5, queued: 0, dropped: 0, identifying: false,
            }).to_vec().expect("encodes");
            let mut bytes = before.clone();
            bytes.push(DELIMITER);
            let at = bytes.len() as u64;
            bytes.extend(&frame);
            bytes.extend(&after);
            let whole = decode_all(&mut Decoder::new(), &bytes);
            let mut chunked = Decoder::new();
            let mut items = Vec::new();
            for piece in bytes.chunks(chunk) {
                chunked.feed(piece);
                items.extend(std::iter::from_fn(|| chunked.next_frame()));
            }
            prop_assert_eq!(&items, &whole);
            prop_assert!(whole.windows(2).all(|w| offset(&w[0]) < offset(&w[1])));
            let stats = chunked.stats();
            prop_assert_eq!(stats.bytes, bytes.len() as u64);
            prop_assert_eq!(stats.frames + stats.bad_frames, whole.len() as u64);
            prop_assert!(whole.iter().any(|i| matches!(
                i,
                Decoded::Frame { name: "heartbeat", offset, code: Some(7), .. } if *offset == at
            )), "{:?}", whole);
        }
    }
}
