//! Correlates rumqttc's packet ids with outbox seqs, since rumqttc's `publish` returns no
//! handle: publishes leave the client strictly in the order they were requested, so every
//! `Outgoing::Publish(pkid)` belongs to the oldest request not yet seen on the wire. Pure
//! bookkeeping, no I/O; the publisher task owns one per connection and drops it when the
//! connection ends (a new connection starts with fresh packet ids and resends from the
//! outbox's oldest entry).
//!
//! ```
//! use shelfd::publish::inflight::{InFlight, Sent};
//! let mut f = InFlight::default();
//! f.requested(Sent::Outbox(41));
//! f.requested(Sent::Other);
//! f.requested(Sent::Outbox(42));
//! f.on_outgoing_publish(1);
//! f.on_outgoing_publish(2);
//! f.on_outgoing_publish(3);
//! assert_eq!(f.on_puback(3), Some(42));
//! assert_eq!(f.on_puback(2), None); // a status or snapshot publish
//! assert_eq!(f.outstanding(), 1);    // seq 41 still waits for its PUBACK
//! ```

use std::collections::{HashMap, VecDeque};

/// What a publish request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// An outbox entry: deleted when its PUBACK arrives.
    Outbox(u64),
    /// Anything else (status, snapshot, command result): nothing to delete.
    Other,
}

/// Requests handed to the client and publishes awaiting their PUBACK, for one connection.
#[derive(Debug, Default)]
pub struct InFlight {
    requested: VecDeque<Sent>,
    on_wire: HashMap<u16, u64>,
    outbox_requested: usize,
    highest: u64,
}

impl InFlight {
    /// A request was accepted by the client (`try_publish` returned Ok).
    pub fn requested(&mut self, sent: Sent) {
        if let Sent::Outbox(seq) = sent {
            self.outbox_requested += 1;
            self.highest = self.highest.max(seq);
        }
        self.requested.push_back(sent);
    }

    /// The client put a publish on the wire with `pkid` (0 for QoS 0). Returns what it was.
    pub fn on_outgoing_publish(&mut self, pkid: u16) -> Option<Sent> {
        let sent = self.requested.pop_front()?;
        if let Sent::Outbox(seq) = sent {
            self.outbox_requested -= 1;
            if pkid != 0 {
                self.on_wire.insert(pkid, seq);
            }
        }
        Some(sent)
    }

    /// The broker acknowledged `pkid`: the outbox seq to delete, if it was an outbox entry.
    pub fn on_puback(&mut self, pkid: u16) -> Option<u64> {
        self.on_wire.remove(&pkid)
    }

    /// Outbox entries requested or on the wire, not yet acknowledged.
    pub fn outstanding(&self) -> usize {
        self.outbox_requested + self.on_wire.len()
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

    proptest! {
        /// Whatever the mix of request kinds and the order of PUBACKs, each outbox seq is
        /// reported exactly once, and only for its own packet id.
        #[test]
        fn every_outbox_seq_is_acked_once(kinds in prop::collection::vec(any::<bool>(), 1..60), order in any::<u64>()) {
            let mut f = InFlight::default();
            let mut expected = Vec::new();
            for (i, outbox) in kinds.iter().enumerate() {
                if *outbox {
                    f.requested(Sent::Outbox(i as u64 + 1));
                    expected.push(i as u64 + 1);
                } else {
                    f.requested(Sent::Other);
                }
            }
            let mut pkids: Vec<u16> = (1..=kinds.len() as u16).collect();
            for p in &pkids {
                f.on_outgoing_publish(*p);
            }
            // A deterministic shuffle of the ack order.
            let n = pkids.len();
            for i in 0..n {
                let j = (order.wrapping_mul(i as u64 + 7) % n as u64) as usize;
                pkids.swap(i, j);
            }
            let mut acked: Vec<u64> = pkids.iter().filter_map(|p| f.on_puback(*p)).collect();
            acked.sort_unstable();
            prop_assert_eq!(acked, expected);
            prop_assert_eq!(f.outstanding(), 0);
            prop_assert!(pkids.iter().all(|p| f.on_puback(*p).is_none()));
        }
    }
}
