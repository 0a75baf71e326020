//! The engine's hooks into receiving docks: door inputs and ASNs come in through the engine
//! (so they share its clock and its sweep), tags it confirms at a dock location go to the
//! [`DockBook`], and the book's session ends become `dock.receipt` events with their `seq`.
//!
//! Owns only this glue: where a tag is stays the engine's pooled evidence, sessions and matching
//! stay the book's ([`crate::dock`]). No I/O, no clock: time is the engine's gateway time.

use super::engine::Engine;
use super::epc_key::EpcKey;
use super::topology::LocIdx;
use crate::dock::asn::{Asn, AsnError};
use crate::dock::{AsnAccepted, DockBook, DockChanges, Notice, UnknownGpio};
use crate::events::Event;
use crate::kinds::LocationKind;

impl Engine {
    /// Gives the engine its docks (an engine starts with none). Call before the first input.
    pub fn attach_docks(&mut self, docks: DockBook) {
        self.docks = docks;
    }

    /// The docks.
    pub fn docks(&self) -> &DockBook {
        &self.docks
    }

    /// A GPIO input changed level at `t` (door sensors). A gpio the config does not name is an
    /// error and changes nothing, time included.
    pub fn gpio(
        &mut self,
        t: u64,
        gpio: &str,
        level: bool,
        out: &mut Vec<Event>,
    ) -> Result<(), UnknownGpio> {
        if !self.docks.knows_gpio(gpio) {
            return Err(UnknownGpio(gpio.to_owned()));
        }
        self.advance(t, out);
        let now = self.now;
        self.docks.door(now, gpio, level)
    }

    /// Accepts an ASN at `t`. A refused ASN (unknown dock, conflicting content, too many
    /// waiting) is an error naming why, and changes nothing, time included.
    pub fn accept_asn(
        &mut self,
        t: u64,
        asn: Asn,
        out: &mut Vec<Event>,
    ) -> Result<AsnAccepted, AsnError> {
        self.docks.check(&asn)?;
        self.advance(t, out);
        let now = self.now;
        self.docks.accept(now, asn)
    }

    /// Dock and shipment records changed since the last call (for the store commit).
    pub fn take_dock_changes(&mut self) -> DockChanges {
        self.docks.take_changes()
    }

    /// Dock notices (expired ASNs, empty sessions) since the last call, for the log.
    pub fn take_dock_notices(&mut self) -> Vec<Notice> {
        self.docks.take_notices()
    }

    /// A tag was confirmed at `loc` (arrival, move or return).
    pub(super) fn dock_confirmed(&mut self, key: &EpcKey, loc: LocIdx, sku: u32, t: u64) {
        if self.kinds.get(usize::from(loc)) != Some(&LocationKind::Dock) || self.docks.is_empty() {
            return;
        }
        let sku = self.sku_str(sku);
        self.docks.confirmed(t, loc, key.as_bytes(), sku.as_deref());
    }

    /// The docks' timers at sweep time `now`: receipts of the sessions that end.
    pub(super) fn dock_sweep(&mut self, now: u64, out: &mut Vec<Event>) {
        if self.docks.is_empty() {
            return;
        }
        let topo = &self.topo;
        let sku_of = |epc: &[u8]| topo.sku_of(epc).map(|s| s.to_string());
        let receipts = self.docks.sweep(now, &sku_of);
        for r in receipts {
            self.emit(out, now, r.into_event());
        }
    }
}
