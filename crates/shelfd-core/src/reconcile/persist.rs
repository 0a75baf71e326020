//! Persistence of the engine: compact binary records for tags, locations, readers and the
//! engine globals, the set of changes since the last commit ([`Changes`]), and restoring an
//! engine from records ([`Engine::restore`]). Records name locations, readers and SKUs by their
//! ids, never by index, so reordering the config between restarts is harmless; records naming a
//! location or reader that is no longer configured are dropped (and counted).
//!
//! Owns only the codec: it never touches the store (the caller moves bytes in and out).

use super::cadence::{Cadence, LocBaseline, VisitLog};
use super::engine::{Baseline, Dirty, Engine, SnapMeta};
use super::epc_key::EpcKey;
use super::forecast::{Depletion, WeekProfile};
use super::knobs::Knobs;
use super::liveness::Liveness;
use super::stock::SkuCount;
use super::tag::{NO_LOC, NO_SKU, Slot, Status, Tag};
use super::topology::{LocIdx, Topology};
use crate::codec::{R, W};
use crate::events::{ReaderState, StockSnapshot};
use rustc_hash::FxHashSet;
use std::collections::BTreeMap;

/// Version written. Version 1 records (before RSSI levels and store rules) are still read:
/// their levels start at 0 (a no-RSSI read's level), no alert is raised and no stay alerted.
/// Version 2 location records have no level floor: it starts unknown and is learned again.
/// Version 3 location records have no cadence or visit log (learned again) and no baseline state
/// of their own (the location's baseline is closed exactly when the engine's was).
/// Version 4 location records have no forecast state: depletion rates and the week profile
/// are learned again, and no stock-out forecast alert is raised.
const VERSION: u8 = 5;

/// Everything a store holds for the engine, as raw records.
#[derive(Debug, Default, Clone)]
pub struct Persisted {
    /// Engine globals (`m/engine`), absent on a first start.
    pub meta: Option<Vec<u8>>,
    /// `(epc bytes, tag record)`.
    pub tags: Vec<(Vec<u8>, Vec<u8>)>,
    /// `(location id, location record)`.
    pub locations: Vec<(String, Vec<u8>)>,
    /// `(reader id, reader record)`.
    pub readers: Vec<(String, Vec<u8>)>,
    /// The store's next seq.
    pub next_seq: u64,
}

/// Records changed since the last [`Engine::take_changes`].
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Changes {
    /// `(epc bytes, Some(record))` to write, `(epc bytes, None)` to delete.
    pub tags: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// `(location id, record)`.
    pub locations: Vec<(String, Vec<u8>)>,
    /// `(reader id, record)`.
    pub readers: Vec<(String, Vec<u8>)>,
    /// Engine globals, when changed.
    pub meta: Option<Vec<u8>>,
    /// Retained snapshots to (re)publish.
    pub snapshots: Vec<StockSnapshot>,
}

/// The engine's records as a store holds them, in memory: each [`Changes`] applied in commit
/// order, and the seq after the last committed event. What tests and tools restore an engine
/// from ([`RecordImage::persisted`]) without a store; the daemon's sled store keeps the same.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RecordImage {
    /// Engine globals.
    pub meta: Option<Vec<u8>>,
    /// Tag records by EPC bytes.
    pub tags: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Location records by id.
    pub locations: BTreeMap<String, Vec<u8>>,
    /// Reader records by id.
    pub readers: BTreeMap<String, Vec<u8>>,
    /// The seq after the last committed event (0 before any).
    pub next_seq: u64,
}

impl RecordImage {
    /// Applies one commit: its record changes and the events committed with them.
    pub fn commit(&mut self, c: Changes, events: &[crate::events::Event]) {
        for (epc, rec) in c.tags {
            match rec {
                Some(v) => self.tags.insert(epc, v),
                None => self.tags.remove(&epc),
            };
        }
        self.locations.extend(c.locations);
        self.readers.extend(c.readers);
        if c.meta.is_some() {
            self.meta = c.meta;
        }
        if let Some(e) = events.last() {
            self.next_seq = e.seq + 1;
        }
    }

    /// The records as [`Engine::restore`] takes them.
    pub fn persisted(&self) -> Persisted {
        Persisted {
            meta: self.meta.clone(),
            tags: self.tags.clone().into_iter().collect(),
            locations: self.locations.clone().into_iter().collect(),
            readers: self.readers.clone().into_iter().collect(),
            next_seq: self.next_seq.max(1),
        }
    }
}

impl Changes {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
            && self.locations.is_empty()
            && self.readers.is_empty()
            && self.meta.is_none()
            && self.snapshots.is_empty()
    }
}

/// A record that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt {what} record {key:?}: {reason}")]
pub struct RestoreError {
    /// Record kind.
    pub what: &'static str,
    /// Its key (hex EPC or id).
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

/// What a restore dropped because the config no longer names it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RestoreReport {
    /// Tags restored.
    pub tags: usize,
    /// Tag records dropped (unknown location or reader).
    pub dropped_tags: usize,
    /// Location or reader records dropped.
    pub dropped_records: usize,
    /// Store records deleted at start because they name locations or readers the config no
    /// longer has (set by [`crate::engine_store::EngineStore::open_with`]).
    pub deleted: usize,
}

impl Engine {
    fn loc_name(&self, loc: LocIdx) -> Option<&str> {
        self.topo.locations.get(usize::from(loc)).map(|l| &*l.id)
    }

    fn encode_tag(&self, tag: &Tag) -> Vec<u8> {
        let mut w = W(Vec::with_capacity(64));
        w.u8(VERSION);
        w.u8(tag.status as u8);
        w.str(
            self.topo
                .readers
                .get(usize::from(tag.reader))
                .map(|r| &*r.id),
        );
        w.str(self.loc_name(tag.loc));
        w.str(self.skus.get(tag.sku as usize).map(|s| &**s));
        w.u32(tag.gap_hi);
        w.u64(tag.mark);
        w.u8(u8::from(tag.misplaced));
        for s in &tag.slots {
            w.str(self.loc_name(s.loc));
            w.u8(s.reads);
            w.u8(s.level as u8);
            w.f32(s.score);
            w.u64(s.last);
            w.u32(s.streak_age);
            w.u32(s.lead_age);
        }
        w.0
    }

    fn decode_tag(&mut self, bytes: &[u8]) -> Result<Option<Tag>, String> {
        let mut r = R(bytes);
        let v = r.version(1..=VERSION)?;
        let status = Status::from_u8(r.u8()?).ok_or("unknown status")?;
        let reader = r.str()?.map(|id| self.topo.reader_index(id));
        let loc = r.str()?.map(|id| self.topo.location_index(id));
        let sku = r.str()?.map(|s| s.to_string());
        let gap_hi = r.u32()?;
        let mark = r.u64()?;
        let misplaced = v >= 2 && r.u8()? != 0;
        let mut slots = [Slot::EMPTY; 2];
        for slot in &mut slots {
            let sloc = r.str()?.map(|id| self.topo.location_index(id));
            let (reads, level) = if v >= 2 {
                (r.u8()?, r.u8()? as i8)
            } else {
                (u8::try_from(r.u16()?).unwrap_or(u8::MAX), 0)
            };
            *slot = Slot {
                loc: match sloc {
                    Some(Some(l)) => l,
                    _ => NO_LOC,
                },
                reads,
                level,
                score: r.f32()?,
                last: r.u64()?,
                streak_age: r.u32()?,
                lead_age: r.u32()?,
            };
            if slot.loc == NO_LOC {
                *slot = Slot::EMPTY;
            }
        }
        r.end()?;
        // A present tag needs its location and reader; others need their location.
        let reader = match reader {
            Some(Some(i)) => i,
            Some(None) if status == Status::Present => return Ok(None),
            _ => 0,
        };
        let loc = match loc {
            Some(Some(l)) => l,
            Some(None) => return Ok(None),
            None => NO_LOC,
        };
        if status == Status::Present && slots[0].is_empty() {
            return Ok(None);
        }
        let sku = match sku {
            Some(s) => self.intern(s.into()),
            None => NO_SKU,
        };
        Ok(Some(Tag {
            status,
            reader,
            loc,
            sku,
            gap_hi,
            mark,
            misplaced,
            slots,
        }))
    }

    fn encode_location(&self, i: usize) -> Vec<u8> {
        let mut w = W(Vec::with_capacity(64));
        w.u8(VERSION);
        w.u32(self.loc_gap[i]);
        w.opt_f32(self.loc_level[i]);
        w.opt_f32(self.loc_floor[i]);
        let m = self.snap[i];
        w.u64(m.time_ms);
        w.u8(u8::from(m.baseline));
        w.u64(m.as_of_seq);
        let mut entries: Vec<(&u32, &SkuCount)> = self.stock.per_loc[i]
            .iter()
            .filter(|(_, e)| e.count > 0 || e.published > 0)
            .collect();
        entries.sort_unstable_by_key(|(s, _)| self.skus.get(**s as usize).map(|a| a.to_string()));
        w.u32(entries.len() as u32);
        for (sku, e) in entries {
            w.str(self.skus.get(*sku as usize).map(|s| &**s));
            w.u32(e.count);
            w.u32(e.published);
            w.u64(e.first_change);
            w.u64(e.last_change);
        }
        let mut low: Vec<Option<&str>> = self.rules.low[i]
            .iter()
            .map(|s| self.skus.get(*s as usize).map(|a| &**a))
            .collect();
        low.sort_unstable();
        w.u32(low.len() as u32);
        for sku in low {
            w.str(sku);
        }
        let c = self.loc_cadence[i];
        w.u32(c.mean);
        w.u16(c.samples);
        let v = self.loc_visits[i];
        w.u64(v.first);
        w.u64(v.last);
        w.u16(v.silences);

        let b = self.loc_base[i];
        w.u8(u8::from(b.done));
        w.u64(b.ready_at);
        self.encode_forecast(i, &mut w);
        w.0
    }

    /// The forecast part of a location record (version 5): its history start, week profile,
    /// per-SKU depletions and raised stock-out forecast alerts, SKUs by name in name order.
    fn encode_forecast(&self, i: usize, w: &mut W) {
        let f = &self.forecast.locs[i];
        w.u64(f.since);
        match &f.profile {
            None => w.u8(0),
            Some(p) => {
                w.u8(1);
                for v in p.units.iter().chain(p.hours.iter()) {
                    w.f32(*v);
                }
                w.u64(p.hour);
                w.f32(p.cur_units);
                w.u32(p.cur_ms);
                w.u64(p.last);
            }
        }
        let name = |s: u32| self.skus.get(s as usize).map(|a| &**a);
        let mut skus: Vec<(Option<&str>, &Depletion)> =
            f.skus.iter().map(|(s, d)| (name(*s), d)).collect();
        skus.sort_unstable_by_key(|(n, _)| *n);
        w.u32(skus.len() as u32);
        for (sku, d) in skus {
            w.str(sku);
            w.f32(d.demand);
            w.f32(d.exposure);
            w.u64(d.at);
            w.u64(d.since);
            w.u32(d.units);
        }
        let mut raised: Vec<(Option<&str>, u32)> = self.rules.forecast[i]
            .iter()
            .map(|(s, c)| (name(*s), *c))
            .collect();
        raised.sort_unstable();
        w.u32(raised.len() as u32);
        for (sku, count) in raised {
            w.str(sku);
            w.u32(count);
        }
    }

    fn decode_forecast(&mut self, i: usize, r: &mut R<'_>) -> Result<(), String> {
        let since = r.u64()?;
        let profile = if r.flag()? {
            let mut p = WeekProfile::new(0);
            for v in p.units.iter_mut() {
                *v = r.f32()?;
            }
            for v in p.hours.iter_mut() {
                *v = r.f32()?;
            }
            p.hour = r.u64()?;
            p.cur_units = r.f32()?;
            p.cur_ms = r.u32()?;
            p.last = r.u64()?;
            Some(Box::new(p))
        } else {
            None
        };
        let mut skus = rustc_hash::FxHashMap::default();
        for _ in 0..r.u32()? {
            let sku = match r.str()? {
                Some(s) => self.intern(s.into()),
                None => NO_SKU,
            };
            let d = Depletion {
                demand: r.f32()?,
                exposure: r.f32()?,
                at: r.u64()?,
                since: r.u64()?,
                units: r.u32()?,
            };
            skus.insert(sku, d);
        }
        for _ in 0..r.u32()? {
            let sku = match r.str()? {
                Some(s) => self.intern(s.into()),
                None => NO_SKU,
            };
            let count = r.u32()?;
            self.rules.forecast[i].insert(sku, count);
        }
        let f = &mut self.forecast.locs[i];
        f.since = since;
        f.profile = profile;
        f.skus = skus;
        Ok(())
    }

    fn decode_location(&mut self, i: usize, bytes: &[u8]) -> Result<(), String> {
        let mut r = R(bytes);
        let v = r.version(1..=VERSION)?;
        self.loc_gap[i] = r.u32()?;
        if v >= 2 {
            self.loc_level[i] = r.opt_f32()?;
        }
        if v >= 3 {
            self.loc_floor[i] = r.opt_f32()?;
        }
        self.snap[i] = SnapMeta {
            time_ms: r.u64()?,
            baseline: r.u8()? != 0,
            as_of_seq: r.u64()?,
        };
        let n = r.u32()?;
        for _ in 0..n {
            let sku = match r.str()? {
                Some(s) => self.intern(s.into()),
                None => NO_SKU,
            };
            let e = SkuCount {
                count: r.u32()?,
                published: r.u32()?,
                first_change: r.u64()?,
                last_change: r.u64()?,
            };
            self.stock.per_loc[i].insert(sku, e);
        }
        if v >= 2 {
            for _ in 0..r.u32()? {
                if let Some(s) = r.str()? {
                    let sku = self.intern(s.into());
                    self.rules.low[i].insert(sku);
                }
            }
        }
        if v >= 4 {
            self.loc_cadence[i] = Cadence {
                mean: r.u32()?,
                samples: r.u16()?,
            };
            self.loc_visits[i] = VisitLog {
                first: r.u64()?,
                last: r.u64()?,
                silences: r.u16()?,
            };
            self.loc_base[i] = LocBaseline {
                done: r.flag()?,
                ready_at: r.u64()?,
            };
        } else {
            self.loc_base[i].done = self.baseline == Baseline::Done;
        }
        if v >= 5 {
            self.decode_forecast(i, &mut r)?;
        }
        r.end()
    }

    fn encode_meta(&self) -> Vec<u8> {
        let mut w = W(Vec::with_capacity(32));
        w.u8(VERSION);
        w.u64(self.now);
        w.u64(self.next_sweep);
        match self.baseline {
            Baseline::NotStarted => w.u8(0),
            Baseline::Until(t) => {
                w.u8(1);
                w.u64(t);
            }
            Baseline::Done => w.u8(2),
        }
        w.u64(self.last_checkpoint);
        w.0
    }

    fn decode_meta(&mut self, bytes: &[u8]) -> Result<(), String> {
        let mut r = R(bytes);
        r.version(1..=VERSION)?;
        self.now = r.u64()?;
        self.next_sweep = r.u64()?;
        self.baseline = match r.u8()? {
            0 => Baseline::NotStarted,
            1 => Baseline::Until(r.u64()?),
            2 => Baseline::Done,
            b => return Err(format!("unknown baseline state {b}")),
        };
        self.last_checkpoint = r.u64()?;
        Ok(())
    }

    /// Restores an engine from a store's records: the result behaves exactly like the engine
    /// that wrote them after a clean stop, except that reader liveness starts afresh (downtime is
    /// never counted as absence).
    pub fn restore(
        topo: Topology,
        k: Knobs,
        p: &Persisted,
    ) -> Result<(Engine, RestoreReport), RestoreError> {
        let mut e = Engine::new(topo, k);
        let mut report = RestoreReport::default();
        e.next_seq = p.next_seq.max(1);
        if let Some(meta) = &p.meta {
            e.decode_meta(meta).map_err(|reason| RestoreError {
                what: "engine",
                key: "m/engine".into(),
                reason,
            })?;
        }
        for (id, bytes) in &p.locations {
            match e.topo.location_index(id) {
                Some(i) => {
                    e.decode_location(usize::from(i), bytes)
                        .map_err(|reason| RestoreError {
                            what: "location",
                            key: id.clone(),
                            reason,
                        })?
                }
                None => report.dropped_records += 1,
            }
        }
        e.stock.rebuild_pending();
        e.refresh_knobs();
        for (id, bytes) in &p.readers {
            let Some(i) = e.topo.reader_index(id) else {
                report.dropped_records += 1;
                continue;
            };
            let mut r = R(bytes);
            let decoded = (|| -> Result<Option<(ReaderState, u64)>, String> {
                r.version(1..=VERSION)?;
                let state = r.u8()?;
                let since = r.u64()?;
                Ok(match state {
                    1 => Some((ReaderState::Online, since)),
                    2 => Some((ReaderState::Offline, since)),
                    _ => None,
                })
            })()
            .map_err(|reason| RestoreError {
                what: "reader",
                key: id.clone(),
                reason,
            })?;
            e.readers[usize::from(i)] = Liveness {
                reported: decoded,
                ..Liveness::default()
            };
        }
        e.tags.reserve(p.tags.len());
        for (epc, bytes) in &p.tags {
            let key = EpcKey::new(epc);
            match e.decode_tag(bytes) {
                Ok(Some(tag)) => {
                    e.tags.insert(key, tag);
                    report.tags += 1;
                }
                Ok(None) => report.dropped_tags += 1,
                Err(reason) => {
                    return Err(RestoreError {
                        what: "tag",
                        key: key.to_hex(),
                        reason,
                    });
                }
            }
        }
        // Make the store agree with what was dropped.
        e.dirty = Dirty {
            tags: FxHashSet::default(),
            locations: vec![false; e.kinds.len()],
            readers: vec![false; e.readers.len()],
            snapshots: vec![false; e.kinds.len()],
            meta: false,
        };
        Ok((e, report))
    }

    /// Takes the records changed since the last call, for one atomic store commit together with
    /// the events emitted meanwhile.
    pub fn take_changes(&mut self) -> Changes {
        let mut c = Changes::default();
        let tags = std::mem::take(&mut self.dirty.tags);
        let mut keys: Vec<EpcKey> = tags.into_iter().collect();
        keys.sort_unstable();
        for key in keys {
            let rec = self
                .tags
                .get(&key)
                .filter(|t| t.status != Status::Candidate)
                .map(|t| self.encode_tag(t));
            c.tags.push((key.as_bytes().to_vec(), rec));
        }
        for i in 0..self.kinds.len() {
            if std::mem::take(&mut self.dirty.locations[i]) {
                c.locations.push((
                    self.topo.locations[i].id.to_string(),
                    self.encode_location(i),
                ));
            }
            if std::mem::take(&mut self.dirty.snapshots[i]) {
                c.snapshots.push(self.snapshot(i as LocIdx));
            }
        }
        for i in 0..self.readers.len() {
            if std::mem::take(&mut self.dirty.readers[i]) {
                let mut w = W(Vec::with_capacity(10));
                w.u8(VERSION);
                match self.readers[i].reported {
                    Some((ReaderState::Online, since)) => {
                        w.u8(1);
                        w.u64(since);
                    }
                    Some((ReaderState::Offline, since)) => {
                        w.u8(2);
                        w.u64(since);
                    }
                    None => {
                        w.u8(0);
                        w.u64(0);
                    }
                }
                c.readers.push((self.topo.readers[i].id.to_string(), w.0));
            }
        }
        if std::mem::take(&mut self.dirty.meta) {
            c.meta = Some(self.encode_meta());
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::super::rules::StoreRules;
    use super::*;
    use crate::events::EventKind;
    use crate::kinds::LocationKind;
    use crate::sim::{StoreSim, TagProfile, sim_epc};
    use std::collections::BTreeMap;

    const T0: u64 = 1_795_338_000_000;

    fn topo() -> Topology {
        use LocationKind::*;
        Topology::new(
            &[
                ("a", Shelf),
                ("b", Shelf),
                ("c", Shelf),
                ("pos", Pos),
                ("exit", Exit),
            ],
            &[
                ("r1", &[(1, "a"), (2, "b"), (3, "c")]),
                ("r2", &[(1, "pos"), (2, "exit")]),
            ],
        )
    }

    fn knobs() -> Knobs {
        Knobs {
            baseline_window: 30_000,
            checkpoint_interval: 60_000,
            ..Knobs::default()
        }
    }

    type Records = RecordImage;

    fn tags_of(e: &Engine) -> BTreeMap<Vec<u8>, (Tag, Option<String>)> {
        e.tags
            .iter()
            .filter(|(_, t)| t.status != Status::Candidate)
            .map(|(k, t)| {
                let named = e.sku_str(t.sku);
                (
                    k.as_bytes().to_vec(),
                    (
                        Tag {
                            sku: 0,
                            ..t.clone()
                        },
                        named,
                    ),
                )
            })
            .collect()
    }

    /// Stock entries by location and SKU name (entries with nothing counted carry nothing).
    fn stock_of(e: &Engine) -> Vec<BTreeMap<Option<String>, SkuCount>> {
        e.stock
            .per_loc
            .iter()
            .map(|m| {
                m.iter()
                    .filter(|(_, c)| c.count > 0 || c.published > 0)
                    .map(|(s, c)| (e.sku_str(*s), *c))
                    .collect()
            })
            .collect()
    }

    fn names(e: &Engine, ids: &[u32]) -> Vec<Option<String>> {
        let mut v: Vec<Option<String>> = ids.iter().map(|s| e.sku_str(*s)).collect();
        v.sort();
        v
    }

    /// `restored` equals `w`, field by field. The destructuring names every field of [`Engine`],
    /// so a new one does not compile here until this test says how it is restored.
    fn assert_restored(w: &Engine, restored: &Engine) {
        let r = restored;
        let Engine {
            topo,
            kinds,
            k,
            tags: _,    // compared by EPC below
            skus: _,    // interning order differs; every SKU is compared by name
            sku_ids: _, // ditto
            stock: _,   // by name below; `pending` is rebuilt from the counts
            readers,
            loc_gap,
            loc_level,
            loc_floor,
            snap,
            rules,
            forecast,
            now,
            next_sweep,
            next_seq,
            baseline,
            last_checkpoint,
            dirty,
            stats: _, // counters for metrics, not state: they start at 0
            docks: _, // its own records, restored by the daemon's EngineStore (tests: dock::tests, daemon/tests/docks.rs)
            lanes: _, // pick credits live a minute and are not persisted (see reconcile::lanes)
            loc_cadence,
            loc_base,
            loc_visits,
            loc_knobs: _, // derived from `k`, the cadences and the visits (compared below)
            loc_readers: _, // derived from the topology
            reader_memory: _, // derived from the knobs
            loc_established: _, // derived from the cadences and visits
            loc_residents: _, // counted at every sweep
        } = w;
        assert_eq!((topo, kinds, k), (&r.topo, &r.kinds, &r.k));
        let (tw, tr) = (tags_of(w), tags_of(r));
        let differ: Vec<_> = tw
            .iter()
            .filter(|(k, t)| tr.get(*k) != Some(*t))
            .map(|(k, t)| (EpcKey::new(k), t, tr.get(k)))
            .collect();
        assert!(differ.is_empty(), "tags differ: {differ:#?}");
        assert_eq!(tw.len(), tr.len(), "tags");
        assert_eq!(stock_of(w), stock_of(r), "stock");
        // Liveness restarts by design (downtime is never absence); what was reported stays.
        let reported = |e: &Engine| e.readers.iter().map(|l| l.reported).collect::<Vec<_>>();
        assert_eq!(
            readers.iter().map(|l| l.reported).collect::<Vec<_>>(),
            reported(r)
        );
        assert_eq!(
            (loc_gap, loc_level, loc_floor, snap),
            (&r.loc_gap, &r.loc_level, &r.loc_floor, &r.snap)
        );
        assert_eq!(
            (loc_cadence, loc_base, loc_visits),
            (&r.loc_cadence, &r.loc_base, &r.loc_visits)
        );
        assert_eq!(
            w.loc_knobs, r.loc_knobs,
            "knobs follow the restored cadences"
        );
        // Rules: the configured ones (set again at open) and the raised alerts, by SKU name.
        // `due` is not state: a restored engine re-checks its rules once, which is idempotent.
        for i in 0..kinds.len() {
            assert_eq!(
                names(w, &rules.planogram[i]),
                names(r, &r.rules.planogram[i])
            );
            let low = |e: &Engine, set: &rustc_hash::FxHashSet<u32>| {
                names(e, &set.iter().copied().collect::<Vec<_>>())
            };
            assert_eq!(low(w, &rules.low[i]), low(r, &r.rules.low[i]), "low {i}");
            let raised = |e: &Engine, m: &rustc_hash::FxHashMap<u32, u32>| {
                let mut v: Vec<_> = m.iter().map(|(s, c)| (e.sku_str(*s), *c)).collect();
                v.sort();
                v
            };
            assert_eq!(
                raised(w, &rules.forecast[i]),
                raised(r, &r.rules.forecast[i]),
                "forecast alerts {i}"
            );
            // Forecast state: everything but the SKU interning, by name.
            let (fw, fr) = (&forecast.locs[i], &r.forecast.locs[i]);
            assert_eq!(
                (fw.since, &fw.profile),
                (fr.since, &fr.profile),
                "profile {i}"
            );
            let by_name = |e: &Engine, f: &super::super::forecast::LocForecast| {
                f.skus
                    .iter()
                    .map(|(s, d)| (e.sku_str(*s), *d))
                    .collect::<BTreeMap<_, _>>()
            };
            assert_eq!(by_name(w, fw), by_name(r, fr), "depletion {i}");
        }
        assert_eq!(
            w.snapshots(),
            r.snapshots(),
            "snapshots with their forecasts"
        );
        assert_eq!(rules.safety, r.rules.safety);
        assert_eq!(
            (now, next_sweep, next_seq, baseline, last_checkpoint),
            (
                &r.now,
                &r.next_sweep,
                &r.next_seq,
                &r.baseline,
                &r.last_checkpoint
            )
        );
        let clean = |d: &Dirty| {
            d.tags.is_empty()
                && !d.meta
                && !d
                    .locations
                    .iter()
                    .chain(&d.readers)
                    .chain(&d.snapshots)
                    .any(|b| *b)
        };
        assert!(clean(dirty) && clean(&r.dirty));
    }

    /// A store day with every kind of state: stock at three shelves with cross-reads, a slow
    /// Session-2 shelf, a move, a departure, a sale, an exit, a misplaced item, a raised
    /// low-stock alert, a pending challenger and a stray candidate.
    fn store_day() -> StoreSim {
        let mut s = StoreSim::new(80, T0);
        s.reader("r1", 500, &[(1, "a"), (2, "b"), (3, "c")], true);
        s.reader("r2", 500, &[(1, "pos"), (2, "exit")], true);
        s.cross_read("a", "b", 0.3, 12.0)
            .cross_read("b", "a", 0.3, 12.0);
        let a = s.add_tags(12, 1, "a", TagProfile::SHELF);
        let b = s.add_tags(8, 2, "b", TagProfile::SHELF);
        s.add_tags(10, 3, "c", TagProfile::SESSION2);
        s.add_tags(1, 2, "a", TagProfile::SHELF); // misplaced at a
        // Long enough for the Session-2 tags at c (re-read every few minutes) to confirm and
        // to read in streaks that teach c's floor.
        s.run_for(60 * 60_000);
        s.move_tag(&a[0], Some("b"));
        s.move_tag(&a[1], None);
        s.move_tag(&a[2], None);
        s.move_tag(&a[3], None);
        s.run_for(120_000);
        s.move_tag(&b[0], Some("pos"));
        s.run_for(3_000);
        s.move_tag(&b[0], None);
        s.move_tag(&b[1], Some("exit"));
        s.run_for(3_000);
        s.move_tag(&b[1], None);
        s.run_for(60_000);
        s.stray_read(&sim_epc(9, 1), "r1", 1, -50.0);
        // A departed tag read once again (evidence, not yet a return) after the last checkpoint.
        s.run_for(500);
        s.stray_read(&a[1], "r1", 1, -50.0);
        s.run_for(500);
        s
    }

    #[test]
    fn a_restored_engine_equals_the_engine_that_wrote_the_store() {
        let mut s = store_day();
        let p1 = crate::epc::gtin14(&sim_epc(1, 1)).expect("gtin");
        let p2 = crate::epc::gtin14(&sim_epc(2, 1)).expect("gtin");
        let rules = StoreRules::new(
            &topo(),
            &[
                // a: 12 of p1, 4 leave in the second hour: forecast to fall below 6 within the
                // hour (a stock-out forecast alert). b: 8 of p2, one sold and one exits: low.
                ("a", &[p1.as_str()], Some(6)),
                ("b", &[p2.as_str()], Some(7)),
            ],
        );
        let (mut writer, _) =
            Engine::restore(topo(), knobs(), &Records::default().persisted()).expect("open");
        writer.set_rules(&rules);
        // Committed in batches, as the daemon does: a record is written with the state of its
        // tag at that commit, not at the end.
        let mut records = Records::default();
        let mut events = Vec::new();
        for batch in s.take_records().chunks(64) {
            let mut step = Vec::new();
            for r in batch {
                writer.feed_record(r, &mut step).expect("feed");
            }
            records.commit(writer.take_changes(), &step);
            events.extend(step);
        }
        let mut step = Vec::new();
        writer.shutdown(&mut step);
        records.commit(writer.take_changes(), &step);
        events.extend(step);
        // The day produced what the comparison is meant to cover.
        let kinds: Vec<EventKind> = events.iter().map(|e| e.body.kind()).collect();
        for kind in [
            EventKind::TagMoved,
            EventKind::TagDeparted,
            EventKind::TagSold,
            EventKind::AlertExit,
            EventKind::AlertMisplaced,
            EventKind::AlertLowStock,
            EventKind::AlertStockoutForecast,
        ] {
            assert!(kinds.contains(&kind), "{kind} missing: {kinds:?}");
        }
        assert!(writer.tags.values().any(|t| t.status == Status::Candidate));
        assert!(writer.tags.values().any(|t| t.misplaced));
        assert!(writer.loc_level[0].is_some() && writer.loc_level[2].is_some());
        assert!(writer.loc_floor[0].is_some() && writer.loc_floor[2].is_some());
        assert!(!writer.rules.low[1].is_empty());
        assert!(!writer.rules.forecast[0].is_empty());
        assert!(
            writer.forecast.locs[0].skus.len() == 1 && writer.forecast.locs[0].profile.is_some()
        );
        assert!(
            !writer.snapshot(0).forecast.is_empty(),
            "{:?}",
            writer.snapshot(0)
        );

        let (mut restored, report) =
            Engine::restore(topo(), knobs(), &records.persisted()).expect("restore");
        restored.set_rules(&rules);
        assert_eq!((report.dropped_tags, report.dropped_records), (0, 0));
        assert_restored(&writer, &restored);
        // And it behaves like it: the re-check after the restore raises nothing again.
        let mut ev = Vec::new();
        let mut w = restored;
        let t = w.now + 5_000;
        w.advance(t, &mut ev);
        assert!(
            ev.iter().all(|e| !matches!(
                e.body.kind(),
                EventKind::AlertExit
                    | EventKind::AlertLowStock
                    | EventKind::AlertMisplaced
                    | EventKind::AlertStockoutForecast
            )),
            "{ev:#?}"
        );
    }

    #[test]
    fn version_4_location_records_load_without_forecast_state() {
        // A location record as version 4 wrote it: this build's record of a location with no
        // forecast state, without its forecast part (history start, no profile, no SKU, no
        // raised alert: 8 + 1 + 4 + 4 bytes) and with version 4.
        let mut e = Engine::new(topo(), Knobs::default());
        let mut v4 = e.encode_location(0);
        v4.truncate(v4.len() - 17);
        v4[0] = 4;
        e.decode_location(0, &v4).expect("v4 location");
        assert_eq!(
            e.forecast.locs[0],
            super::super::forecast::LocForecast::default()
        );
        assert!(e.rules.forecast[0].is_empty());
        // The same bytes as version 5 miss their forecast part: an error naming it, no panic.
        v4[0] = 5;
        assert!(e.decode_location(0, &v4).is_err());
    }

    proptest::proptest! {
        /// Any bytes after a known version decode to a location or to an error, never a panic
        /// (and never an endless loop: every count read is bounded by the bytes left).
        #[test]
        fn arbitrary_location_records_never_panic(
            version in 1u8..=VERSION,
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
        ) {
            let mut e = Engine::new(topo(), Knobs::default());
            let mut record = vec![version];
            record.extend(bytes);
            let _ = e.decode_location(1, &record);
            let _ = e.snapshot(1);
        }

        /// A valid version-5 record with forecast state, cut short or with a byte changed,
        /// decodes or errs, and the engine keeps working on whatever it decoded.
        #[test]
        fn damaged_forecast_records_never_panic(
            cut in 0usize..2000,
            at in 0usize..2000,
            byte in proptest::prelude::any::<u8>(),
        ) {
            let mut w = Engine::new(topo(), Knobs::default());
            let sku = w.intern("00614141000012".into());
            let mut profile = super::super::forecast::WeekProfile::new(T0);
            profile.add_demand(3);
            profile.credit(T0 + 3_600_000);
            let f = &mut w.forecast.locs[1];
            f.since = T0;
            f.profile = Some(Box::new(profile));
            let mut d = super::super::forecast::Depletion::new(T0);
            d.record(T0 + 60_000, true, 4, 3_600_000, &super::super::forecast::Shape::Flat);
            f.skus.insert(sku, d);
            w.rules.forecast[1].insert(sku, 12);
            w.stock.per_loc[1].insert(sku, SkuCount { count: 20, published: 20, ..SkuCount::default() });
            w.loc_base[1].done = true;
            let mut record = w.encode_location(1);
            let mut e = Engine::new(topo(), Knobs::default());
            e.decode_location(1, &record).expect("valid");
            proptest::prop_assert!(!e.forecasts(1, T0 + 3_600_000).is_empty());
            let i = at % record.len();
            if let Some(b) = record.get_mut(i) {
                *b = byte;
            }
            record.truncate(cut.max(1));
            let mut e = Engine::new(topo(), Knobs::default());
            e.set_rules(&StoreRules::new(&topo(), &[("b", &["00614141000012"], Some(5))]));
            let _ = e.decode_location(1, &record);
            let _ = e.snapshot(1);
            let _ = e.forecasts(1, T0 + 3_600_000);
            let mut out = Vec::new();
            e.advance(T0, &mut out);
            e.advance(T0 + 120_000, &mut out);
        }
    }

    #[test]
    fn version_1_and_2_records_are_still_read() {
        let mut e = Engine::new(topo(), Knobs::default());
        // A present tag at "a" (v1: u16 reads, no level, no misplaced flag) and a location.
        let mut w = W(Vec::new());
        w.u8(1);
        w.u8(Status::Present as u8);
        w.str(Some("r1"));
        w.str(None);
        w.str(Some("00614141000012"));
        w.u32(5000);
        w.u64(0);
        for (loc, reads) in [(Some("a"), 7u16), (None, 0)] {
            w.str(loc);
            w.0.extend_from_slice(&reads.to_be_bytes());
            w.f32(3.5);
            w.u64(T0);
            w.u32(2000);
            w.u32(u32::MAX);
        }
        let tag = e.decode_tag(&w.0).expect("v1 tag").expect("kept");
        assert_eq!(
            (
                tag.status,
                tag.slots[0].loc,
                tag.slots[0].reads,
                tag.slots[0].level
            ),
            (Status::Present, 0, 7, 0)
        );
        assert!(!tag.misplaced && tag.slots[1].is_empty());
        let mut w = W(Vec::new());
        w.u8(1);
        w.u32(4000);
        w.u64(T0);
        w.u8(1);
        w.u64(9);
        w.u32(0);
        e.decode_location(0, &w.0).expect("v1 location");
        assert_eq!(
            (e.loc_gap[0], e.loc_level[0], e.snap[0].as_of_seq),
            (4000, None, 9)
        );
        // v2: a level, no floor.
        let mut v2 = W(Vec::new());
        v2.u8(2);
        v2.u32(4000);
        v2.u8(1);
        v2.f32(-3.0);
        v2.u64(T0);
        v2.u8(1);
        v2.u64(9);
        v2.u32(0);
        v2.u32(0);
        e.decode_location(1, &v2.0).expect("v2 location");
        assert_eq!((e.loc_level[1], e.loc_floor[1]), (Some(-3.0), None));
        // Unknown versions and trailing bytes are errors naming the problem.
        let err = e.decode_location(0, &[6]).expect_err("v6");
        assert_eq!(err, "unknown record version 6");
        let mut bytes = w.0.clone();
        bytes.push(0);
        let err = e.decode_location(0, &bytes).expect_err("trailing");
        assert_eq!(err, "1 bytes left over");
    }
}
