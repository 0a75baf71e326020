//! Seeded store simulations that produce read logs: a physical model of tags sitting at
//! locations, readers running inventory rounds on their antennas, and the noise real stores have
//! (RSSI jitter, read probability below 1, cross-reads from neighbouring shelves, occlusion gaps,
//! reader outages, stray reads, slow Session-2 populations). Scenario tests, benchmarks and the
//! demo all drive the engine from here. The same seed always gives the same log.
//!
//! This module only *generates* [`Record`]s; it never decides what they mean.

mod rng;

pub use rng::SimRng;

use crate::readlog::{LinkState, Record, TagRead};
use std::collections::BTreeMap;

/// How a tag responds to a reader.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TagProfile {
    /// Probability that an antenna covering the tag's location reads it in one round.
    pub read_prob: f64,
    /// Mean RSSI at its own location's antennas (dBm).
    pub rssi: f32,
    /// RSSI standard deviation (dB).
    pub rssi_sd: f32,
}

impl TagProfile {
    /// A well-read tag in Session 1: read in 80 % of rounds around −55 dBm.
    pub const SHELF: TagProfile = TagProfile {
        read_prob: 0.8,
        rssi: -55.0,
        rssi_sd: 3.0,
    };
    /// A slow Session-2 population: read in 8 % of rounds (every ~6 s with 500 ms rounds).
    pub const SESSION2: TagProfile = TagProfile {
        read_prob: 0.08,
        rssi: -58.0,
        rssi_sd: 3.0,
    };
}

#[derive(Debug, Clone)]
struct SimTag {
    epc: Vec<u8>,
    at: Option<String>,
    profile: TagProfile,
    occluded_until: u64,
}

#[derive(Debug, Clone)]
struct SimReader {
    id: String,
    antennas: Vec<(u16, String)>,
    round_ms: u64,
    next_round: u64,
    up: bool,
    heartbeat: bool,
}

#[derive(Debug, Clone, Copy)]
struct CrossRead {
    prob: f64,
    attenuation_db: f32,
}

/// A simulated store. See the module docs.
#[derive(Debug, Clone)]
pub struct StoreSim {
    rng: SimRng,
    now: u64,
    readers: Vec<SimReader>,
    tags: Vec<SimTag>,
    index: BTreeMap<Vec<u8>, usize>,
    cross: BTreeMap<(String, String), CrossRead>,
    records: Vec<Record>,
    next_serial: u64,
}

/// The SGTIN-96 EPC of item `serial` of simulated product `product` (GTIN 0614141 + item ref).
pub fn sim_epc(product: u32, serial: u64) -> Vec<u8> {
    let item_ref = format!("0{:05}", product % 100_000);
    crate::epc::encode::sgtin96(1, "0614141", &item_ref, serial)
        .expect("invariant: simulated SGTIN fields are in range")
}

impl StoreSim {
    /// An empty store whose clock starts at `start_ms`.
    pub fn new(seed: u64, start_ms: u64) -> Self {
        StoreSim {
            rng: SimRng::new(seed),
            now: start_ms,
            readers: Vec::new(),
            tags: Vec::new(),
            index: BTreeMap::new(),
            cross: BTreeMap::new(),
            records: Vec::new(),
            next_serial: 1,
        }
    }

    /// Current simulated time.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Adds a reader that runs an inventory round every `round_ms` over its antennas
    /// (`(port, location id)`), and sends a heartbeat after each round when `heartbeat` is set.
    pub fn reader(
        &mut self,
        id: &str,
        round_ms: u64,
        antennas: &[(u16, &str)],
        heartbeat: bool,
    ) -> &mut Self {
        self.readers.push(SimReader {
            id: id.into(),
            antennas: antennas
                .iter()
                .map(|(p, l)| (*p, (*l).to_string()))
                .collect(),
            round_ms: round_ms.max(1),
            next_round: self.now,
            up: true,
            heartbeat,
        });
        self
    }

    /// Antennas of location `at` also read tags sitting at `from`, with probability `prob` per
    /// round (relative to the tag's own read probability) and `attenuation_db` weaker.
    pub fn cross_read(
        &mut self,
        from: &str,
        at: &str,
        prob: f64,
        attenuation_db: f32,
    ) -> &mut Self {
        self.cross.insert(
            (from.into(), at.into()),
            CrossRead {
                prob,
                attenuation_db,
            },
        );
        self
    }

    /// Places `n` new items of `product` at location `at`; returns their EPCs.
    pub fn add_tags(
        &mut self,
        n: usize,
        product: u32,
        at: &str,
        profile: TagProfile,
    ) -> Vec<Vec<u8>> {
        (0..n)
            .map(|_| {
                let epc = sim_epc(product, self.next_serial);
                self.next_serial += 1;
                self.put(epc.clone(), Some(at), profile);
                epc
            })
            .collect()
    }

    /// Places a tag with a given EPC (e.g. one that decodes to no product).
    pub fn put(&mut self, epc: Vec<u8>, at: Option<&str>, profile: TagProfile) {
        let tag = SimTag {
            epc: epc.clone(),
            at: at.map(String::from),
            profile,
            occluded_until: 0,
        };
        match self.index.get(&epc) {
            Some(&i) => self.tags[i] = tag,
            None => {
                self.index.insert(epc, self.tags.len());
                self.tags.push(tag);
            }
        }
    }

    /// Moves a tag to another location (`None` removes it from every antenna's field).
    pub fn move_tag(&mut self, epc: &[u8], to: Option<&str>) {
        if let Some(&i) = self.index.get(epc) {
            self.tags[i].at = to.map(String::from);
        }
    }

    /// Hides a tag from every antenna for `ms` (a hand, a box, a person in front of the shelf).
    pub fn occlude(&mut self, epc: &[u8], ms: u64) {
        if let Some(&i) = self.index.get(epc) {
            self.tags[i].occluded_until = self.now + ms;
        }
    }

    /// Takes a reader off line (a `down` link record; no reads until [`StoreSim::reader_up`]).
    pub fn reader_down(&mut self, id: &str) {
        let now = self.now;
        if let Some(r) = self.readers.iter_mut().find(|r| r.id == id) {
            r.up = false;
            self.records.push(Record::Link {
                t: now,
                reader: id.into(),
                link: LinkState::Down,
            });
        }
    }

    /// Brings a reader back (an `up` link record).
    pub fn reader_up(&mut self, id: &str) {
        let now = self.now;
        if let Some(r) = self.readers.iter_mut().find(|r| r.id == id) {
            r.up = true;
            r.next_round = now;
            self.records.push(Record::Link {
                t: now,
                reader: id.into(),
                link: LinkState::Up,
            });
        }
    }

    /// Silences a reader without a link record (it stays "up" but reads nothing, like a reader
    /// whose RF stopped): no reads and no heartbeats until [`StoreSim::reader_up`].
    pub fn reader_silent(&mut self, id: &str) {
        if let Some(r) = self.readers.iter_mut().find(|r| r.id == id) {
            r.up = false;
        }
    }

    /// One read of `epc` on `reader`/`antenna` now, outside the physical model (a passer-by).
    pub fn stray_read(&mut self, epc: &[u8], reader: &str, antenna: u16, rssi: f32) {
        self.records.push(Record::Read(TagRead {
            t: self.now,
            reader: reader.into(),
            antenna,
            epc: epc.to_vec(),
            rssi: Some(rssi),
        }));
    }

    /// Advances the clock by `ms`, producing every round due meanwhile.
    pub fn run_for(&mut self, ms: u64) {
        let end = self.now + ms;
        loop {
            let next = self
                .readers
                .iter()
                .filter(|r| r.up)
                .map(|r| r.next_round)
                .min();
            match next {
                Some(t) if t < end => {
                    self.now = t;
                    for ri in 0..self.readers.len() {
                        if self.readers[ri].up && self.readers[ri].next_round == t {
                            self.round(ri);
                            self.readers[ri].next_round += self.readers[ri].round_ms;
                        }
                    }
                }
                _ => break,
            }
        }
        self.now = end;
        for r in &mut self.readers {
            if r.next_round < end {
                r.next_round = end;
            }
        }
    }

    fn round(&mut self, ri: usize) {
        let t = self.now;
        let reader = self.readers[ri].id.clone();
        let antennas = self.readers[ri].antennas.clone();
        for (port, loc) in &antennas {
            for ti in 0..self.tags.len() {
                let tag = &self.tags[ti];
                if tag.occluded_until > t {
                    continue;
                }
                let Some(at) = tag.at.as_deref() else {
                    continue;
                };
                let (prob, atten) = if at == loc {
                    (tag.profile.read_prob, 0.0)
                } else if let Some(c) = self.cross.get(&(at.to_string(), loc.clone())) {
                    (tag.profile.read_prob * c.prob, c.attenuation_db)
                } else {
                    continue;
                };
                let (mean, sd) = (tag.profile.rssi, tag.profile.rssi_sd);
                let epc = tag.epc.clone();
                if self.rng.chance(prob) {
                    let rssi = mean - atten + sd * self.rng.normal() as f32;
                    let rssi = (rssi * 2.0).round() / 2.0;
                    self.records.push(Record::Read(TagRead {
                        t,
                        reader: reader.clone(),
                        antenna: *port,
                        epc,
                        rssi: Some(rssi),
                    }));
                }
            }
        }
        if self.readers[ri].heartbeat {
            self.records.push(Record::Link {
                t,
                reader,
                link: LinkState::Alive,
            });
        }
    }

    /// Records produced so far, in time order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Takes the records produced so far.
    pub fn take_records(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.records)
    }

    /// The random source (for scenario tweaks that need randomness of the same seed).
    pub fn rng(&mut self) -> &mut SimRng {
        &mut self.rng
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_log() {
        let make = |seed| {
            let mut s = StoreSim::new(seed, 1_000_000);
            s.reader("r1", 500, &[(1, "a"), (2, "b")], true);
            s.cross_read("a", "b", 0.3, 12.0);
            s.add_tags(5, 1, "a", TagProfile::SHELF);
            s.run_for(10_000);
            s.take_records()
        };
        assert_eq!(make(7), make(7));
        assert_ne!(make(7), make(8));
    }

    #[test]
    fn cross_reads_are_weaker_and_rarer() {
        let mut s = StoreSim::new(3, 0);
        s.reader("r1", 500, &[(1, "a"), (2, "b")], false);
        s.cross_read("a", "b", 0.2, 12.0);
        s.add_tags(20, 1, "a", TagProfile::SHELF);
        s.run_for(60_000);
        let (mut own, mut cross) = (Vec::new(), Vec::new());
        for r in s.records() {
            if let Record::Read(r) = r {
                if r.antenna == 1 {
                    own.push(r.rssi.unwrap_or(0.0))
                } else {
                    cross.push(r.rssi.unwrap_or(0.0))
                }
            }
        }
        assert!(
            cross.len() * 3 < own.len(),
            "{} cross vs {} own",
            cross.len(),
            own.len()
        );
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        assert!(mean(&cross) < mean(&own) - 8.0);
    }
}
