//! Correlates rumqttc's packet ids with outbox seqs, since rumqttc's `publish` returns no
//! handle: publishes leave the client strictly in the order they were requested, so every
//! `Outgoing::Publish(pkid)` belongs to the oldest request not yet seen on the wire. Pure
//! bookkeeping, no I/O; the publisher task owns one per connection and drops it when the
//! connection ends (a new connection starts with fresh packet ids and resends from the
//! outbox's oldest entry).
//!
//! An outbox entry may go out as more than one packet (the event, and its EPCIS document when
//! EPCIS output is on): every packet of it is requested as [`Sent::Outbox`] with the entry's
//! total packet count, and the entry is reported acknowledged only when the PUBACKs of all of
//! them arrived, in whatever order. Nothing else about acknowledgements changes: entries are
//! reported as they complete.
//!
//! ```
//! use shelfd::publish::inflight::{InFlight, Sent};
//! let mut f = InFlight::default();
//! f.requested(Sent::Outbox { seq: 41, packets: 1 });
//! f.requested(Sent::Other);
//! f.requested(Sent::Outbox { seq: 42, packets: 2 }); // the event…
//! f.requested(Sent::Outbox { seq: 42, packets: 2 }); // …and its EPCIS document
//! for pkid in 1..=4 {
//!     f.on_outgoing_publish(pkid);
//! }
//! assert_eq!(f.on_puback(4), None);     // seq 42 still waits for its event packet
//! assert_eq!(f.on_puback(3), Some(42)); // now both of its packets are acknowledged
//! assert_eq!(f.on_puback(2), None);     // a status or snapshot publish
//! assert_eq!(f.outstanding(), 1);       // seq 41 still waits for its PUBACK
//! assert_eq!(f.unacked_entries(), 1);
//! ```

use std::collections::{HashMap, VecDeque};

/// What a publish request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// One packet of an outbox entry, which is deleted when the PUBACKs of all its packets
    /// arrived.
    Outbox {
        /// The entry's seq.
        seq: u64,
        /// How many packets the entry has in all (every packet of it carries the same count).
        packets: u8,
    },
    /// Anything else (status, snapshot, command result): nothing to delete.
    Other,
}

/// Requests handed to the client and publishes awaiting their PUBACK, for one connection.
#[derive(Debug, Default)]
pub struct InFlight {
    requested: VecDeque<Sent>,
    /// Packet id → the seq of the outbox entry it belongs to.
    on_wire: HashMap<u16, u64>,
    /// Outbox entries with packets not yet acknowledged → how many.
    unacked: HashMap<u64, u8>,
    outbox_requested: usize,
    highest: u64,
}

impl InFlight {
    /// A request was accepted by the client (`try_publish` returned Ok).
    pub fn requested(&mut self, sent: Sent) {
        if let Sent::Outbox { seq, packets } = sent {
            self.outbox_requested += 1;
            self.highest = self.highest.max(seq);
            self.unacked.entry(seq).or_insert(packets.max(1));
        }
        self.requested.push_back(sent);
    }

    /// The client put a publish on the wire with `pkid` (0 for QoS 0). Returns what it was.
    pub fn on_outgoing_publish(&mut self, pkid: u16) -> Option<Sent> {
        let sent = self.requested.pop_front()?;
        if let Sent::Outbox { seq, .. } = sent {
            self.outbox_requested -= 1;
            if pkid != 0 {
                self.on_wire.insert(pkid, seq);
            }
        }
        Some(sent)
    }

    /// The broker acknowledged `pkid`: the outbox seq to delete when this was the last
    /// unacknowledged packet of its entry.
    pub fn on_puback(&mut self, pkid: u16) -> Option<u64> {
        let seq = self.on_wire.remove(&pkid)?;
        let left = self.unacked.get_mut(&seq)?;
        *left = left.saturating_sub(1);
        if *left == 0 {
            self.unacked.remove(&seq);
            Some(seq)
        } else {
            None
        }
    }

    /// Outbox packets requested or on the wire, not yet acknowledged (the in-flight window).
    pub fn outstanding(&self) -> usize {
        self.outbox_requested + self.on_wire.len()
    }

    /// Outbox entries with at least one packet not yet acknowledged (including packets not
    /// yet requested: an entry counts from its first request).
    pub fn unacked_entries(&self) -> usize {
        self.unacked.len()
    }

    /// Requests of any kind the client has not yet put on the wire.
    pub fn queued(&self) -> usize {
        self.requested.len()
    }

    /// The highest outbox seq requested on this connection (0 before the first).
    pub fn highest_seq(&self) -> u64 {
        self.highest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Requests entries 1..=n, entry i with `packets[i]` packets (0 = a non-outbox publish in
    /// its place), every packet right after the previous one; returns the packet ids in
    /// request order with the seq each belongs to (None for others).
    fn request_all(f: &mut InFlight, packets: &[u8]) -> Vec<(u16, Option<u64>)> {
        let mut wire = Vec::new();
        for (i, &n) in packets.iter().enumerate() {
            let seq = i as u64 + 1;
            if n == 0 {
                f.requested(Sent::Other);
                wire.push(None);
            }
            for _ in 0..n {
                f.requested(Sent::Outbox { seq, packets: n });
                wire.push(Some(seq));
            }
        }
        wire.into_iter()
            .enumerate()
            .map(|(i, seq)| {
                let pkid = i as u16 + 1;
                assert!(f.on_outgoing_publish(pkid).is_some());
                (pkid, seq)
            })
            .collect()
    }

    proptest! {
        /// Whatever the mix of request kinds, the packets per entry and the order of PUBACKs,
        /// each outbox seq is reported exactly once, at the PUBACK of its last packet.
        #[test]
        fn every_outbox_seq_is_acked_once_after_all_its_packets(
            packets in prop::collection::vec(0u8..=2, 1..60),
            order in any::<u64>(),
        ) {
            let mut f = InFlight::default();
            let mut wire = request_all(&mut f, &packets);
            // A deterministic shuffle of the ack order.
            let n = wire.len();
            for i in 0..n {
                let j = (order.wrapping_mul(i as u64 + 7) % n as u64) as usize;
                wire.swap(i, j);
            }
            let mut acked = Vec::new();
            for (k, (pkid, seq)) in wire.iter().enumerate() {
                match f.on_puback(*pkid) {
                    Some(done) => {
                        prop_assert_eq!(Some(done), *seq);
                        // No packet of this entry is acknowledged later.
                        prop_assert!(wire[k + 1..].iter().all(|(_, s)| *s != Some(done)));
                        acked.push(done);
                    }
                    None => {
                        // Either not an outbox packet, or its entry has a later packet.
                        if let Some(s) = seq {
                            prop_assert!(wire[k + 1..].iter().any(|(_, later)| later == &Some(*s)));
                        }
                    }
                }
            }
            acked.sort_unstable();
            let expected: Vec<u64> = packets
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(i, _)| i as u64 + 1)
                .collect();
            prop_assert_eq!(acked, expected);
            prop_assert_eq!(f.outstanding(), 0);
            prop_assert_eq!(f.unacked_entries(), 0);
            prop_assert!(wire.iter().all(|(p, _)| f.on_puback(*p).is_none()));
        }
    }

    #[test]
    fn an_entry_whose_second_packet_is_requested_late_waits_for_it() {
        // The EPCIS packet did not fit in the client's channel at first: the event packet is
        // acknowledged before the document is even requested.
        let mut f = InFlight::default();
        f.requested(Sent::Outbox { seq: 5, packets: 2 });
        f.on_outgoing_publish(1);
        assert_eq!(f.on_puback(1), None);
        assert_eq!((f.outstanding(), f.unacked_entries()), (0, 1));
        f.requested(Sent::Outbox { seq: 5, packets: 2 });
        f.on_outgoing_publish(2);
        assert_eq!(f.outstanding(), 1);
        assert_eq!(f.on_puback(2), Some(5));
        assert_eq!((f.outstanding(), f.unacked_entries()), (0, 0));
        assert_eq!(f.highest_seq(), 5);
    }

    #[test]
    fn single_packet_entries_ack_on_their_puback_in_any_order() {
        let mut f = InFlight::default();
        for seq in 1..=3 {
            f.requested(Sent::Outbox { seq, packets: 1 });
        }
        for pkid in 1..=3 {
            f.on_outgoing_publish(pkid);
        }
        assert_eq!(f.queued(), 0);
        assert_eq!(f.on_puback(2), Some(2));
        assert_eq!(f.on_puback(3), Some(3));
        assert_eq!(f.on_puback(1), Some(1));
        assert_eq!(f.on_puback(1), None, "a duplicate PUBACK reports nothing");
    }
}
