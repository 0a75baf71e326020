//! Config → engine construction: the [`Topology`], [`StoreRules`] and [`DockBook`] of a
//! validated [`Config`]. The engine's crate knows nothing of the config file; this module is the
//! one place that turns its sections into the engine's types. It never validates (that is
//! `config::validate`): it assumes a config that passed it and skips what it cannot resolve.

use super::Config;
use shelfd_core::dock::{DEFAULT_QUIET_MS, DockBook, DockSpec, SessionRule};
use shelfd_core::kinds::LocationKind;
use shelfd_core::reconcile::rules::{LocationRules, StoreRules};
use shelfd_core::reconcile::topology::{Lane, Topology};
use std::sync::Arc;

fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The topology of a validated config: locations, readers' antenna maps, `[[product]]`
/// mappings (longest prefix first) and shelf-node lanes.
pub fn topology(config: &Config) -> Topology {
    let locations: Vec<(&str, LocationKind)> = config
        .locations
        .iter()
        .map(|l| (l.id.as_str(), l.kind))
        .collect();
    let antennas: Vec<Vec<(u16, &str)>> = config
        .readers
        .iter()
        .map(|r| {
            r.antennas
                .iter()
                .map(|(a, loc)| (*a, loc.as_str()))
                .collect()
        })
        .collect();
    let readers: Vec<(&str, &[(u16, &str)])> = config
        .readers
        .iter()
        .zip(&antennas)
        .map(|(r, a)| (r.id.as_str(), a.as_slice()))
        .collect();
    let mut topo = Topology::new(&locations, &readers);
    topo.products = config
        .products
        .iter()
        .filter_map(|p| Some((hex_prefix(&p.epc_prefix)?, Arc::from(p.sku.as_str()))))
        .collect();
    topo.products.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
    topo.lanes = config
        .lanes
        .iter()
        .filter_map(|l| {
            Some(Lane {
                reader: topo.reader_index(l.reader.as_deref()?)?,
                node: l.node,
                lane: l.lane,
                loc: topo.location_index(&l.location)?,
                sku: Arc::from(l.sku.as_str()),
                unit_mg: l.unit_mg(),
                tolerance_mg: l.tolerance_mg(),
                tagged: l.tagged,
            })
        })
        .collect();
    topo
}

/// Decodes an even-length hex prefix (validated by the config) into bytes.
fn hex_prefix(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The store rules of a validated config, for the locations of `topo` (matched by id; a
/// location the config does not name has no rules).
pub fn rules(config: &Config, topo: &Topology) -> StoreRules {
    let locations = topo
        .locations
        .iter()
        .map(|l| {
            config
                .locations
                .iter()
                .find(|c| c.id == *l.id)
                .map(|c| LocationRules {
                    planogram: c.planogram.iter().map(|g| Arc::from(g.as_str())).collect(),
                    safety_stock: c.safety_stock,
                })
                .unwrap_or_default()
        })
        .collect();
    StoreRules { locations }
}

/// The dock book of a validated config; `location_index` maps a location id to the engine's
/// index (docks whose location it does not know are left out).
pub fn dock_book(config: &Config, location_index: impl Fn(&str) -> Option<u16>) -> DockBook {
    let specs = config
        .docks
        .iter()
        .filter_map(|d| {
            let location = location_index(&d.location)?;
            let rule = match &d.door_gpio {
                Some(gpio) => SessionRule::Door {
                    gpio: gpio.clone(),
                    dwell: ms(d.dwell),
                },
                None => SessionRule::Quiet {
                    quiet: d.quiet.map_or(DEFAULT_QUIET_MS, ms),
                },
            };
            Some(DockSpec {
                id: d.id.clone(),
                location,
                rule,
                asn_ttl: ms(d.asn_ttl),
            })
        })
        .collect();
    DockBook::new(specs, config.gpios.iter().map(|g| g.name.clone()))
}
