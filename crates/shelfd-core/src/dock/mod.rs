//! Receiving docks: door sessions, shipments (ASNs) and `dock.receipt`s. Pure and deterministic
//! like the engine that drives it: door levels, confirmed tags, ASNs and gateway time go in;
//! receipts, light states and changed records come out. It never touches I/O, threads or the
//! wall clock, and never decides where a tag is (that is [`crate::reconcile`]'s pooled evidence).
//!
//! # Sessions
//! - A dock with a `door_gpio` opens a session when the door opens (level true). When it closes,
//!   reads still count for `dwell`; a door that reopens within the dwell continues the same
//!   session. The session ends at the first engine sweep `dwell` after the last close.
//! - A dock without a door sensor uses the quiet rule: the session opens when the first tag is
//!   confirmed at the dock's location, and ends `quiet` (default 60 s) after the last tag that
//!   was newly confirmed there. New tags, not reads, keep it open: a pallet left standing in the
//!   portal is read for ever and would otherwise never let the session end.
//!
//! # Attribution (DESIGN.md behaviour 12)
//! An item counts for a door when the engine *confirms* it at the door's location during the
//! session, i.e. when the engine's pooled, RSSI-weighted evidence with hysteresis puts it there
//! (arrival, move or return). A pallet's cross-reads at the next door are weaker and never
//! confirm it there; should the evidence later move a tag from one dock to another, it leaves the
//! first door's session. Tags already confirmed at the dock before the session (a pallet from an
//! earlier delivery still standing there) are not received again. Received items are stock at the
//! dock's location like any other and move on from there.
//!
//! # Matching and receipts
//! At the session's end, one `dock.receipt` (see [`receipt`]) is emitted against one shipment:
//! among the ASNs still open for the dock (whenever they arrived, so an ASN sent after the door
//! opened still matches), the one whose announced items the session's reads cover most; ties go
//! to the oldest ASN, then the lowest shipment id. An ASN none of whose items was read is not
//! matched (it stays open for its own delivery); with no ASN matched the receipt has a null
//! shipment and everything read is unexpected. A session that received nothing emits no receipt
//! and leaves the ASNs open (a door opened for air is not a delivery).
//!
//! # Shipments and clean-up
//! ASNs are keyed by shipment id. The same id with the same content (same dock, same set of
//! EPCs or of `(sku, qty)`) is accepted again without change; with different content it is an
//! error. A receipt closes its shipment: the full list is dropped in the same commit as the
//! receipt, and a small tombstone (dock, times, content digest) is kept for `asn_ttl`, so a
//! repeated `asn` for a received shipment is recognised. An ASN no session matched expires
//! `asn_ttl` (default 7 days) after it was accepted, unless its dock is in a session; both clean-
//! ups happen in the sweep and are reported as [`Notice`]s for the log. At most
//! [`MAX_OPEN_ASNS`] ASNs wait at once.
//!
//! # Persistence
//! Every change marks a record dirty; [`DockBook::take_changes`] hands them to the caller for
//! the same atomic store commit as the events of that step, so a restart (clean or kill -9)
//! mid-session neither loses nor duplicates a receipt.

pub mod asn;
mod persist;
pub mod receipt;

use asn::{Asn, AsnContent, AsnError};
pub use receipt::{Receipt, Received};
use std::collections::{BTreeMap, BTreeSet};

/// A door input names a gpio the config does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("gpio {0:?} is not in the config")]
pub struct UnknownGpio(pub String);

/// An ASN the book refuses (unknown dock, conflicting shipment, too many waiting): `field` is
/// `dock` or `shipment`, `value` its JSON.
fn refused(field: &str, value: Option<&str>, reason: String) -> AsnError {
    AsnError {
        field: field.to_owned(),
        value: value.map(|v| serde_json::Value::from(v).to_string()),
        reason,
    }
}

/// Most ASNs waiting for their session at once (per gateway).
pub const MAX_OPEN_ASNS: usize = 1_000;
/// Quiet time of a dock without a door sensor, when not configured.
pub const DEFAULT_QUIET_MS: u64 = 60_000;

/// What ends a dock's sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionRule {
    /// A door sensor: open while the input is active, plus `dwell` ms after it closes.
    Door {
        /// The input's `[[gpio]]` name.
        gpio: String,
        /// Reads still count this long after the door closes (ms).
        dwell: u64,
    },
    /// No sensor: `quiet` ms without a newly confirmed tag ends the session.
    Quiet {
        /// Quiet time (ms).
        quiet: u64,
    },
}

/// One configured dock, as the book needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockSpec {
    /// Dock id.
    pub id: String,
    /// Index of its location in the engine's topology.
    pub location: u16,
    /// What opens and ends its sessions.
    pub rule: SessionRule,
    /// How long unmatched ASNs and received-shipment tombstones are kept (ms).
    pub asn_ttl: u64,
}

/// What a dock's light stack shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Light {
    /// Nothing (no session yet, or the last one received nothing).
    #[default]
    Off,
    /// A session is open.
    Receiving,
    /// The last receipt was complete.
    Complete,
    /// The last receipt was short, over or a mismatch.
    Problem,
}

/// An open receiving session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// When it opened.
    pub opened: u64,
    /// Door docks: when the door last closed (the dwell runs from here); None while open.
    pub closed_at: Option<u64>,
    /// When the latest item was newly received.
    pub last_new: u64,
    /// Items received so far, by EPC.
    pub received: BTreeMap<Vec<u8>, Received>,
}

impl Session {
    fn new(t: u64) -> Self {
        Session {
            opened: t,
            closed_at: None,
            last_new: t,
            received: BTreeMap::new(),
        }
    }
}

/// A stored shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredAsn {
    /// Waiting for its session.
    Open {
        /// The ASN.
        asn: Asn,
        /// When it was accepted.
        accepted: u64,
    },
    /// Received (its receipt was emitted); kept as a tombstone until `asn_ttl` after that.
    Received {
        /// Its dock.
        dock: String,
        /// When it was accepted.
        accepted: u64,
        /// When its receipt was emitted.
        completed: u64,
        /// [`Asn::digest`] of its content.
        digest: u64,
    },
}

impl StoredAsn {
    fn dock(&self) -> &str {
        match self {
            StoredAsn::Open { asn, .. } => &asn.dock,
            StoredAsn::Received { dock, .. } => dock,
        }
    }
}

/// What accepting an ASN did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsnAccepted {
    /// Stored; it waits for its session.
    Stored,
    /// Already stored with the same content; nothing changed.
    Unchanged,
    /// Already received with the same content; nothing changed.
    AlreadyReceived,
}

/// Something worth a log line (the book itself never logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// An ASN expired unmatched.
    AsnExpired {
        /// Shipment id.
        shipment: String,
        /// Dock id.
        dock: String,
        /// When it was accepted.
        accepted: u64,
    },
    /// A session ended without receiving anything; no receipt.
    EmptySession {
        /// Dock id.
        dock: String,
        /// When it opened.
        opened: u64,
    },
    /// A session opened.
    SessionOpened {
        /// Dock id.
        dock: String,
    },
}

/// Dock and shipment records changed since the last [`DockBook::take_changes`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockChanges {
    /// `(dock id, record)` to write.
    pub docks: Vec<(String, Vec<u8>)>,
    /// Records of docks no longer configured, to delete.
    pub dock_deletes: Vec<String>,
    /// `(shipment, record)` to write.
    pub asn_puts: Vec<(String, Vec<u8>)>,
    /// Shipments to delete.
    pub asn_deletes: Vec<String>,
}

impl DockChanges {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.docks.is_empty()
            && self.dock_deletes.is_empty()
            && self.asn_puts.is_empty()
            && self.asn_deletes.is_empty()
    }
}

/// A persisted record that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt {what} record {key:?}: {reason}")]
pub struct DockRestoreError {
    /// `dock` or `shipment`.
    pub what: &'static str,
    /// Its id.
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

/// What a restore found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DockRestoreReport {
    /// Sessions restored (open at the stop).
    pub sessions: usize,
    /// Shipments restored (waiting or received).
    pub shipments: usize,
    /// Records of docks no longer configured, dropped.
    pub dropped: usize,
}

#[derive(Debug, Clone)]
struct DockState {
    spec: DockSpec,
    door_open: bool,
    session: Option<Session>,
    light: Light,
    dirty: bool,
}

impl DockState {
    /// Whether reads at the dock count for a session at `t`: its door is open or closed less
    /// than the dwell ago, or it has no door sensor.
    fn receiving(&self, t: u64) -> bool {
        match self.spec.rule {
            SessionRule::Door { dwell, .. } => self
                .session
                .as_ref()
                .is_some_and(|s| s.closed_at.is_none_or(|c| t < c.saturating_add(dwell))),
            SessionRule::Quiet { .. } => true,
        }
    }
}

/// Which receiving dock expects an EPC ([`DockBook::expects`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expected {
    /// No receiving dock's open ASN lists it.
    #[default]
    Nowhere,
    /// The dock at the read's location lists it.
    Here,
    /// Another receiving dock lists it (and this one does not).
    Elsewhere,
}

/// Every dock's state and the stored shipments. See the module docs.
#[derive(Debug, Clone, Default)]
pub struct DockBook {
    docks: Vec<DockState>,
    /// Location index → dock index.
    by_loc: Vec<Option<usize>>,
    /// Every configured `[[gpio]]` name (door inputs and others).
    gpios: BTreeSet<String>,
    asns: BTreeMap<String, StoredAsn>,
    dirty_asns: BTreeSet<String>,
    stale_docks: Vec<String>,
    open_asns: usize,
    next_expiry: u64,
    notices: Vec<Notice>,
}

impl DockBook {
    /// A book for `docks`; `gpios` are every configured `[[gpio]]` name.
    pub fn new(docks: Vec<DockSpec>, gpios: impl IntoIterator<Item = String>) -> Self {
        let mut by_loc = Vec::new();
        for (i, d) in docks.iter().enumerate() {
            let l = usize::from(d.location);
            if by_loc.len() <= l {
                by_loc.resize(l + 1, None);
            }
            by_loc[l] = Some(i);
        }
        DockBook {
            docks: docks
                .into_iter()
                .map(|spec| DockState {
                    spec,
                    door_open: false,
                    session: None,
                    light: Light::Off,
                    dirty: false,
                })
                .collect(),
            by_loc,
            gpios: gpios.into_iter().collect(),
            next_expiry: u64::MAX,
            ..DockBook::default()
        }
    }

    /// True when no dock is configured.
    pub fn is_empty(&self) -> bool {
        self.docks.is_empty()
    }

    /// The dock (index) covering a location.
    #[inline]
    pub fn dock_at(&self, location: u16) -> Option<usize> {
        self.by_loc.get(usize::from(location)).copied().flatten()
    }

    /// Whether `gpio` is a configured `[[gpio]]`.
    pub fn knows_gpio(&self, gpio: &str) -> bool {
        self.gpios.contains(gpio)
    }

    /// The open session of dock `id`.
    pub fn session(&self, id: &str) -> Option<&Session> {
        self.docks
            .iter()
            .find(|d| d.spec.id == id)
            .and_then(|d| d.session.as_ref())
    }

    /// Every stored shipment, by id.
    pub fn shipments(&self) -> &BTreeMap<String, StoredAsn> {
        &self.asns
    }

    /// What each dock's light stack shows, in config order.
    pub fn lights(&self) -> Vec<(String, Light)> {
        self.docks
            .iter()
            .map(|d| (d.spec.id.clone(), d.light))
            .collect()
    }

    /// A door input changed level (`true` = open) at `now`. Inputs that are no door are
    /// ignored; a name that is no configured gpio is an error (and changes nothing).
    pub fn door(&mut self, now: u64, gpio: &str, level: bool) -> Result<(), UnknownGpio> {
        if !self.knows_gpio(gpio) {
            return Err(UnknownGpio(gpio.to_owned()));
        }
        for i in 0..self.docks.len() {
            let d = &mut self.docks[i];
            let SessionRule::Door { gpio: g, .. } = &d.spec.rule else {
                continue;
            };
            if g != gpio || d.door_open == level {
                continue;
            }
            d.door_open = level;
            d.dirty = true;
            match (&mut d.session, level) {
                (Some(s), true) => s.closed_at = None,
                (Some(s), false) => s.closed_at = Some(now),
                (None, true) => {
                    d.session = Some(Session::new(now));
                    d.light = Light::Receiving;
                    self.notices.push(Notice::SessionOpened {
                        dock: d.spec.id.clone(),
                    });
                }
                (None, false) => {}
            }
        }
        Ok(())
    }

    /// The engine confirmed a tag at `location` at time `t` (an arrival, a move or a return).
    /// Counts for the dock's session when one is open (the quiet rule opens one).
    pub fn confirmed(&mut self, t: u64, location: u16, epc: &[u8], sku: Option<&str>) {
        let Some(i) = self.dock_at(location) else {
            return;
        };
        // Stronger evidence at this door: the tag no longer counts for another door.
        for (j, d) in self.docks.iter_mut().enumerate() {
            if j != i {
                if let Some(s) = &mut d.session {
                    if s.received.remove(epc).is_some() {
                        d.dirty = true;
                    }
                }
            }
        }
        let d = &mut self.docks[i];
        match d.spec.rule {
            SessionRule::Door { dwell, .. } => {
                let open = d
                    .session
                    .as_ref()
                    .is_some_and(|s| s.closed_at.is_none_or(|c| t < c.saturating_add(dwell)));
                if !open {
                    return;
                }
            }
            SessionRule::Quiet { .. } => {
                if d.session.is_none() {
                    d.session = Some(Session::new(t));
                    d.light = Light::Receiving;
                    self.notices.push(Notice::SessionOpened {
                        dock: d.spec.id.clone(),
                    });
                }
            }
        }
        let Some(s) = &mut d.session else {
            return;
        };
        if s.received.contains_key(epc) {
            return;
        }
        s.received.insert(
            epc.to_vec(),
            Received {
                sku: sku.map(str::to_owned),
                t,
            },
        );
        s.last_new = s.last_new.max(t);
        d.dirty = true;
    }

    /// Which receiving dock expects `epc` at `t`, seen from the dock covering `location`: an
    /// open ASN of a dock that is receiving (its session is open, or it has no door sensor)
    /// lists it. Cross-reads of a pallet at the next door are expected there, not here.
    pub fn expects(&self, t: u64, location: u16, epc: &[u8]) -> Expected {
        let here = self.dock_at(location);
        let mut found = Expected::Nowhere;
        for a in self.asns.values() {
            let StoredAsn::Open { asn, .. } = a else {
                continue;
            };
            let AsnContent::Epcs(epcs) = &asn.content else {
                continue;
            };
            let Some(i) = self.docks.iter().position(|d| d.spec.id == asn.dock) else {
                continue;
            };
            if !self.docks[i].receiving(t) || !epcs.contains(epc) {
                continue;
            }
            if Some(i) == here {
                return Expected::Here;
            }
            found = Expected::Elsewhere;
        }
        found
    }

    /// Checks an ASN against the docks and the stored shipments without changing anything.
    pub fn check(&self, asn: &Asn) -> Result<AsnAccepted, AsnError> {
        if !self.docks.iter().any(|d| d.spec.id == asn.dock) {
            let known: Vec<&str> = self.docks.iter().map(|d| d.spec.id.as_str()).collect();
            let reason = if known.is_empty() {
                format!("unknown dock {:?} (no [[dock]] is configured)", asn.dock)
            } else {
                format!(
                    "unknown dock {:?} (configured: {})",
                    asn.dock,
                    known.join(", ")
                )
            };
            return Err(refused("dock", Some(&asn.dock), reason));
        }
        match self.asns.get(&asn.shipment) {
            Some(StoredAsn::Open { asn: stored, .. }) => {
                if stored == asn {
                    Ok(AsnAccepted::Unchanged)
                } else {
                    Err(refused(
                        "shipment",
                        Some(&asn.shipment),
                        format!(
                            "shipment {:?} is already stored for dock {:?} with different content \
                             ({}, this one has {}); send changes under a new shipment id",
                            asn.shipment,
                            stored.dock,
                            stored.content.describe(),
                            asn.content.describe()
                        ),
                    ))
                }
            }
            Some(StoredAsn::Received { dock, digest, .. }) => {
                if *digest == asn.digest() {
                    Ok(AsnAccepted::AlreadyReceived)
                } else {
                    Err(refused(
                        "shipment",
                        Some(&asn.shipment),
                        format!(
                            "shipment {:?} was already received at dock {dock:?} with different content",
                            asn.shipment
                        ),
                    ))
                }
            }
            None if self.open_asns >= MAX_OPEN_ASNS => Err(refused(
                "shipment",
                Some(&asn.shipment),
                format!(
                    "{} shipments are already waiting, the most kept; a receipt or an expiry frees room",
                    self.open_asns
                ),
            )),
            None => Ok(AsnAccepted::Stored),
        }
    }

    /// Accepts an ASN at `now` (see [`DockBook::check`] for what is refused).
    pub fn accept(&mut self, now: u64, asn: Asn) -> Result<AsnAccepted, AsnError> {
        let outcome = self.check(&asn)?;
        if outcome == AsnAccepted::Stored {
            let ttl = self.ttl_of(&asn.dock);
            self.next_expiry = self.next_expiry.min(now.saturating_add(ttl));
            self.dirty_asns.insert(asn.shipment.clone());
            self.open_asns += 1;
            self.asns
                .insert(asn.shipment.clone(), StoredAsn::Open { asn, accepted: now });
        }
        Ok(outcome)
    }

    fn ttl_of(&self, dock: &str) -> u64 {
        self.docks
            .iter()
            .find(|d| d.spec.id == dock)
            .map_or(u64::MAX, |d| d.spec.asn_ttl)
    }

    /// The timers at sweep time `now`: sessions that end (their receipts, in config order) and
    /// shipments that expire.
    pub fn sweep(&mut self, now: u64, sku_of: &dyn Fn(&[u8]) -> Option<String>) -> Vec<Receipt> {
        let mut receipts = Vec::new();
        for i in 0..self.docks.len() {
            let d = &self.docks[i];
            let Some(s) = &d.session else {
                continue;
            };
            let due = match d.spec.rule {
                SessionRule::Door { dwell, .. } => {
                    s.closed_at.is_some_and(|c| now >= c.saturating_add(dwell))
                }
                SessionRule::Quiet { quiet } => now >= s.last_new.saturating_add(quiet),
            };
            if due {
                if let Some(r) = self.end_session(i, now, sku_of) {
                    receipts.push(r);
                }
            }
        }
        if now >= self.next_expiry {
            self.expire(now);
        }
        receipts
    }

    fn end_session(
        &mut self,
        i: usize,
        now: u64,
        sku_of: &dyn Fn(&[u8]) -> Option<String>,
    ) -> Option<Receipt> {
        let d = &mut self.docks[i];
        let s = d.session.take()?;
        d.dirty = true;
        let id = d.spec.id.clone();
        if s.received.is_empty() {
            d.light = Light::Off;
            self.notices.push(Notice::EmptySession {
                dock: id,
                opened: s.opened,
            });
            return None;
        }
        let best = self
            .asns
            .iter()
            .filter_map(|(shipment, a)| match a {
                StoredAsn::Open { asn, accepted } if asn.dock == id => Some((
                    receipt::overlap(&asn.content, &s.received),
                    std::cmp::Reverse(*accepted),
                    std::cmp::Reverse(shipment.as_str()),
                )),
                _ => None,
            })
            // A shipment none of whose items came is not this delivery: it stays open.
            .filter(|(overlap, _, _)| *overlap > 0)
            .max()
            .map(|(_, _, std::cmp::Reverse(shipment))| shipment.to_owned());
        let matched = best.and_then(|shipment| match self.asns.get(&shipment) {
            Some(StoredAsn::Open { asn, accepted }) => Some((asn.clone(), *accepted)),
            _ => None,
        });
        let r = receipt::build(
            &id,
            matched
                .as_ref()
                .map(|(a, _)| (a.shipment.as_str(), &a.content)),
            &s.received,
            sku_of,
        );
        if let Some((asn, accepted)) = matched {
            let ttl = self.docks[i].spec.asn_ttl;
            self.next_expiry = self.next_expiry.min(now.saturating_add(ttl));
            self.open_asns = self.open_asns.saturating_sub(1);
            self.dirty_asns.insert(asn.shipment.clone());
            self.asns.insert(
                asn.shipment.clone(),
                StoredAsn::Received {
                    dock: asn.dock.clone(),
                    accepted,
                    completed: now,
                    digest: asn.digest(),
                },
            );
        }
        self.docks[i].light = if r.status == crate::events::ReceiptStatus::Complete {
            Light::Complete
        } else {
            Light::Problem
        };
        Some(r)
    }

    fn expire(&mut self, now: u64) {
        let busy: BTreeSet<&str> = self
            .docks
            .iter()
            .filter(|d| d.session.is_some())
            .map(|d| d.spec.id.as_str())
            .collect();
        let ttl: BTreeMap<&str, u64> = self
            .docks
            .iter()
            .map(|d| (d.spec.id.as_str(), d.spec.asn_ttl))
            .collect();
        let mut gone = Vec::new();
        let mut next = u64::MAX;
        for (shipment, a) in &self.asns {
            let life = ttl.get(a.dock()).copied().unwrap_or(0);
            let (since, open) = match a {
                StoredAsn::Open { accepted, .. } => (*accepted, true),
                StoredAsn::Received { completed, .. } => (*completed, false),
            };
            let end = since.saturating_add(life);
            if now >= end && !(open && busy.contains(a.dock())) {
                gone.push(shipment.clone());
            } else {
                // A busy dock's expired ASN is looked at again at the next sweep.
                next = next.min(end.max(now.saturating_add(1)));
            }
        }
        self.next_expiry = next;
        for shipment in gone {
            if let Some(a) = self.asns.remove(&shipment) {
                self.dirty_asns.insert(shipment.clone());
                if let StoredAsn::Open { asn, accepted } = a {
                    self.open_asns = self.open_asns.saturating_sub(1);
                    self.notices.push(Notice::AsnExpired {
                        shipment,
                        dock: asn.dock,
                        accepted,
                    });
                }
            }
        }
    }

    /// Takes the notices raised since the last call.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// Takes the records changed since the last call, for the next atomic store commit.
    pub fn take_changes(&mut self) -> DockChanges {
        let mut c = DockChanges {
            dock_deletes: std::mem::take(&mut self.stale_docks),
            ..DockChanges::default()
        };
        for d in &mut self.docks {
            if std::mem::take(&mut d.dirty) {
                let rec = persist::DockRecord {
                    door_open: d.door_open,
                    light: d.light,
                    session: d.session.clone(),
                };
                c.docks
                    .push((d.spec.id.clone(), persist::encode_dock(&rec)));
            }
        }
        for shipment in std::mem::take(&mut self.dirty_asns) {
            match self.asns.get(&shipment) {
                Some(a) => c.asn_puts.push((shipment, persist::encode_asn(a))),
                None => c.asn_deletes.push(shipment),
            }
        }
        c
    }

    /// Restores dock records (`(dock id, record)`) and shipments (`(shipment, record)`) as a
    /// store holds them. Records of docks no longer configured are dropped (and deleted at the
    /// next commit).
    pub fn restore(
        &mut self,
        docks: Vec<(String, Vec<u8>)>,
        shipments: Vec<(String, Vec<u8>)>,
    ) -> Result<DockRestoreReport, DockRestoreError> {
        let mut report = DockRestoreReport::default();
        for (id, bytes) in docks {
            let rec = persist::decode_dock(&bytes).map_err(|reason| DockRestoreError {
                what: "dock",
                key: id.clone(),
                reason,
            })?;
            match self.docks.iter_mut().find(|d| d.spec.id == id) {
                Some(d) => {
                    // A door dock whose rule changed to quiet (or back) keeps its session; the
                    // next sweep applies the current rule.
                    d.door_open = rec.door_open && matches!(d.spec.rule, SessionRule::Door { .. });
                    d.light = rec.light;
                    report.sessions += usize::from(rec.session.is_some());
                    d.session = rec.session;
                }
                None => {
                    report.dropped += 1;
                    self.stale_docks.push(id);
                }
            }
        }
        for (shipment, bytes) in shipments {
            let a = persist::decode_asn(&shipment, &bytes).map_err(|reason| DockRestoreError {
                what: "shipment",
                key: shipment.clone(),
                reason,
            })?;
            if !self.docks.iter().any(|d| d.spec.id == a.dock()) {
                report.dropped += 1;
                self.dirty_asns.insert(shipment);
                continue;
            }
            if matches!(a, StoredAsn::Open { .. }) {
                self.open_asns += 1;
            }
            report.shipments += 1;
            self.asns.insert(shipment, a);
        }
        // Check every expiry at the first sweep.
        self.next_expiry = 0;
        Ok(report)
    }
}

#[cfg(test)]
mod tests;
