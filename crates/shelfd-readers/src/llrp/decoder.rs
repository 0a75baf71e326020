//! LLRP captures as a [`FrameDecoder`] (for `shelfd decode --protocol llrp`): messages of both
//! directions cut by their length; every TagReportData of an RO_ACCESS_REPORT is a tag item
//! (omitted fields carried forward as the client does), every other message a frame item named
//! by its type with its LLRPStatus code; bytes that cannot start a message are skipped one at a
//! time and reported as one bad run. Owns no socket and keeps at most one maximum-size message.

use super::client::carry_forward;
use super::codec::{DEFAULT_MAX_MESSAGE, MessageStream};
use super::message::{Message, Reply, impinj};
use super::params::TagData;
use crate::frame::{Decoded, DecoderStats, FrameDecoder, FrameRole, TagReport};
use std::collections::VecDeque;

/// Cuts LLRP messages out of a capture.
#[derive(Debug)]
pub struct Decoder {
    stream: MessageStream,
    queue: VecDeque<Decoded>,
    stats: DecoderStats,
    carry: TagData,
    /// A run of skipped bytes: (offset of its first byte, length, first reason).
    skipping: Option<(u64, usize, String)>,
    /// Stream offset of the next unconsumed byte.
    offset: u64,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder accepting messages up to the default maximum size.
    pub fn new() -> Self {
        Decoder {
            stream: MessageStream::new(DEFAULT_MAX_MESSAGE),
            queue: VecDeque::new(),
            stats: DecoderStats::default(),
            carry: TagData::default(),
            skipping: None,
            offset: 0,
        }
    }

    fn end_skip(&mut self) {
        if let Some((offset, skipped, reason)) = self.skipping.take() {
            self.stats.bad_frames += 1;
            self.queue.push_back(Decoded::Bad {
                offset,
                skipped,
                reason,
            });
        }
    }

    fn pump(&mut self) {
        while self.queue.is_empty() {
            match self.stream.next_message() {
                None => return,
                Some(Err(e)) => {
                    let at = self.offset;
                    match &mut self.skipping {
                        Some((_, n, _)) => *n += 1,
                        None => self.skipping = Some((at, 1, e.to_string())),
                    }
                    self.stream.skip(1);
                    self.offset += 1;
                }
                Some(Ok((offset, raw))) => {
                    self.end_skip();
                    self.offset = offset + 10 + raw.body.len() as u64;
                    self.stats.frames += 1;
                    match Message::decode(&raw) {
                        Err(e) => {
                            self.stats.bad_frames += 1;
                            self.queue.push_back(Decoded::Bad {
                                offset,
                                skipped: 10 + raw.body.len(),
                                reason: e.to_string(),
                            });
                        }
                        Ok(Message::RoAccessReport(tags)) if !tags.is_empty() => {
                            for mut tag in tags {
                                carry_forward(&mut tag, &mut self.carry);
                                self.stats.tags += 1;
                                let rssi = impinj::peak_rssi_of(&tag)
                                    .map(|c| f32::from(c) / 100.0)
                                    .or(tag.peak_rssi.map(f32::from));
                                self.queue.push_back(Decoded::Tag {
                                    offset,
                                    tag: TagReport {
                                        antenna: tag.antenna.unwrap_or(0),
                                        epc: tag.epc,
                                        pc: tag.pc,
                                        rssi_dbm: rssi,
                                        read_count: tag.tag_seen_count.map(u32::from),
                                        reader_time_ms: tag
                                            .last_seen_utc
                                            .or(tag.first_seen_utc)
                                            .map(|us| us / 1000),
                                        ..TagReport::default()
                                    },
                                });
                            }
                        }
                        Ok(message) => {
                            let (role, code) = match &message {
                                Message::Status {
                                    reply: Reply::Error,
                                    status,
                                } => (FrameRole::Error, Some(status.code)),
                                Message::Status { status, .. }
                                | Message::GetReaderCapabilitiesResponse { status, .. }
                                | Message::GetSupportedVersionResponse { status, .. } => (
                                    if status.is_success() {
                                        FrameRole::Ack
                                    } else {
                                        FrameRole::Error
                                    },
                                    Some(status.code),
                                ),
                                Message::ReaderEventNotification(e) => {
                                    (FrameRole::Info, e.connection_attempt)
                                }
                                Message::RoAccessReport(_) => (FrameRole::NoTag, None),
                                _ => (FrameRole::Info, None),
                            };
                            self.queue.push_back(Decoded::Frame {
                                offset,
                                name: Message::name_of(message.kind()),
                                role,
                                code,
                            });
                        }
                    }
                }
            }
        }
    }
}

impl FrameDecoder for Decoder {
    fn feed(&mut self, bytes: &[u8]) {
        self.stats.bytes += bytes.len() as u64;
        self.stream.feed(bytes);
    }

    fn next_frame(&mut self) -> Option<Decoded> {
        self.pump();
        self.queue.pop_front()
    }

    fn stats(&self) -> DecoderStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::decode_all;

    /// mchesser/llrp-rs `ro_access_report_inventory` and `close_connection` with garbage
    /// between them.
    #[test]
    fn tags_frames_and_garbage() {
        let mut bytes = vec![0xff, 0xee];
        bytes.extend([
            0x04, 0x3D, 0x00, 0x00, 0x00, 0x29, 0x3A, 0xFB, 0x30, 0xB6, 0x00, 0xF0, 0x00, 0x1F,
            0x8D, 0x0B, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x51, 0x02, 0x38, 0x81,
            0x00, 0x01, 0x86, 0xBC, 0x82, 0x00, 0x05, 0x88, 0x80, 0x19, 0x4B, 0xA9, 0xD5,
        ]);
        bytes.extend([0x04, 0x0E, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x23]);
        let items = decode_all(&mut Decoder::new(), &bytes);
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(matches!(
            &items[0],
            Decoded::Bad {
                offset: 0,
                skipped: 2,
                ..
            }
        ));
        let Decoded::Tag { offset, tag } = &items[1] else {
            panic!("{items:?}")
        };
        assert_eq!((*offset, tag.antenna, tag.rssi_dbm), (2, 1, Some(-68.0)));
        assert_eq!(tag.reader_time_ms, Some(1_557_458_645_133));
        assert!(matches!(
            &items[2],
            Decoded::Frame {
                name: "CLOSE_CONNECTION",
                offset: 43,
                ..
            }
        ));
    }
}
