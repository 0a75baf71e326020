//! [`Topology`]: what the engine knows of the store's layout: readers, antennas → locations,
//! location kinds and the SKU mapping for EPCs that decode to no GTIN. Built once from the daemon's config (`shelfd::config::engine_setup`);
//! the engine indexes everything by small integers from here.

use crate::kinds::LocationKind;
use std::sync::Arc;

/// Index of a location in [`Topology::locations`].
pub type LocIdx = u16;
/// Index of a reader in [`Topology::readers`].
pub type ReaderIdx = u16;

/// One location.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    /// Location id from the config.
    pub id: Arc<str>,
    /// What kind of place it is.
    pub kind: LocationKind,
}

/// One reader and its antenna map.
#[derive(Debug, Clone, PartialEq)]
pub struct Reader {
    /// Reader id from the config.
    pub id: Arc<str>,
    /// `antennas[port]` = the location that antenna port covers (port 0 is unused).
    pub antennas: Vec<Option<LocIdx>>,
}

/// One shelf-node lane (`[[lane]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    /// The shelf-link reader (bus) the node is on.
    pub reader: ReaderIdx,
    /// Node address.
    pub node: u8,
    /// Lane on the node.
    pub lane: u8,
    /// The location the lane is part of.
    pub loc: LocIdx,
    /// SKU of its items.
    pub sku: Arc<str>,
    /// Weight of one item, mg.
    pub unit_mg: u32,
    /// Accepted distance from a whole number of items, mg.
    pub tolerance_mg: u32,
    /// Its items carry RFID tags (picks corroborate departures instead of counting stock).
    pub tagged: bool,
}

/// The store layout as the engine sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Topology {
    /// Locations, in config order.
    pub locations: Vec<Location>,
    /// Readers, in config order.
    pub readers: Vec<Reader>,
    /// `(epc prefix, sku)` for EPCs that decode to no GTIN, longest prefix first.
    pub products: Vec<(Vec<u8>, Arc<str>)>,
    /// Shelf-node lanes, in config order.
    pub lanes: Vec<Lane>,
}

impl Topology {
    /// Builds a topology from `(location id, kind)` pairs and `(reader id, [(antenna, location
    /// id)])` maps. Unknown location ids are skipped (the config validation rejects them first).
    pub fn new(locations: &[(&str, LocationKind)], readers: &[(&str, &[(u16, &str)])]) -> Self {
        let locations: Vec<Location> = locations
            .iter()
            .map(|(id, kind)| Location {
                id: (*id).into(),
                kind: *kind,
            })
            .collect();
        let readers = readers
            .iter()
            .map(|(id, ants)| {
                let max = ants.iter().map(|(a, _)| usize::from(*a)).max().unwrap_or(0);
                let mut antennas = vec![None; max + 1];
                for (a, loc) in ants.iter() {
                    antennas[usize::from(*a)] = locations
                        .iter()
                        .position(|l| &*l.id == *loc)
                        .map(|i| i as LocIdx);
                }
                Reader {
                    id: (*id).into(),
                    antennas,
                }
            })
            .collect();
        Topology {
            locations,
            readers,
            products: Vec::new(),
            lanes: Vec::new(),
        }
    }

    /// The location an antenna port of a reader covers.
    #[inline]
    pub fn location_of(&self, reader: ReaderIdx, antenna: u16) -> Option<LocIdx> {
        self.readers
            .get(usize::from(reader))?
            .antennas
            .get(usize::from(antenna))
            .copied()
            .flatten()
    }

    /// Reader index by id.
    pub fn reader_index(&self, id: &str) -> Option<ReaderIdx> {
        self.readers
            .iter()
            .position(|r| &*r.id == id)
            .map(|i| i as ReaderIdx)
    }

    /// Location index by id.
    pub fn location_index(&self, id: &str) -> Option<LocIdx> {
        self.locations
            .iter()
            .position(|l| &*l.id == id)
            .map(|i| i as LocIdx)
    }

    /// The SKU of an EPC: its GTIN-14 when it decodes to one, else a configured mapping.
    pub fn sku_of(&self, epc: &[u8]) -> Option<Arc<str>> {
        if let Some(gtin) = crate::epc::gtin14(epc) {
            return Some(gtin.into());
        }
        self.products
            .iter()
            .find(|(prefix, _)| epc.starts_with(prefix))
            .map(|(_, sku)| sku.clone())
    }
}
