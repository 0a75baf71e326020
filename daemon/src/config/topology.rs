//! Store-topology checks: `[[reader]]`, `[[location]]`, `[[dock]]`, `[[gpio]]`, `[[product]]`
//! and `[[lane]]`. Unique ids, per-protocol required keys, antenna → location and dock →
//! location/gpio references, planogram GTINs, lane → reader/node/location references. Ids are collected from the raw document, so an
//! element that failed to decode still counts as defined (no cascade of "unknown location"
//! errors after one typo).

use super::decode::{Draft, Item};
use super::kinds::{GpioDirection, LocationKind, Protocol, STANDARD_BAUD_RATES};
use super::report::{Place, Reporter, Section};
use super::sections::{
    ANTENNA_RANGE, DockConfig, GpioConfig, LLRP_KEYS, LaneConfig, LocationConfig, ProductMapping,
    ReaderEntry, ReaderSource, normalize_llrp_address,
};
use super::spans::{Document, Seg, key, raw_str};
use super::validate::{check_id, check_span};
use shelfd_core::gtin::check_gtin14;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;
use toml::de::DeValue;

/// Runs every topology check.
pub(crate) fn check(draft: &mut Draft, reporter: &mut Reporter<'_, '_>) {
    for section in [
        Section::Reader,
        Section::Location,
        Section::Dock,
        Section::Gpio,
        Section::Product,
    ] {
        check_unique_ids(section, reporter);
    }
    let doc = reporter.doc();
    let location_ids = raw_ids(doc, Section::Location);
    let gpio_names = raw_ids(doc, Section::Gpio);
    let mut kinds: HashMap<&str, LocationKind> = HashMap::new();
    for location in &draft.locations {
        kinds
            .entry(location.value.id.as_str())
            .or_insert(location.value.kind);
    }
    let mut directions: HashMap<&str, GpioDirection> = HashMap::new();
    for gpio in &draft.gpios {
        directions
            .entry(gpio.value.name.as_str())
            .or_insert(gpio.value.direction);
    }
    let known = Known {
        location_ids,
        kinds,
        gpio_names,
        directions,
    };
    check_readers(&draft.readers, &known, reporter);
    check_locations(&draft.locations, reporter);
    check_gpios(&draft.gpios, reporter);
    check_docks(&draft.docks, &known, reporter);
    check_products(&mut draft.products, reporter);
    check_lanes(&mut draft.lanes, &draft.readers, &known, reporter);
}

/// What other sections define, for cross-references.
struct Known<'a> {
    /// Every `[[location]]` id in the file.
    location_ids: HashSet<&'a str>,
    /// Kinds of the locations that decoded.
    kinds: HashMap<&'a str, LocationKind>,
    /// Every `[[gpio]]` name in the file.
    gpio_names: HashSet<&'a str>,
    /// Directions of the gpios that decoded.
    directions: HashMap<&'a str, GpioDirection>,
}

fn noun(section: Section) -> &'static str {
    match section {
        Section::Reader => "reader id",
        Section::Location => "location id",
        Section::Dock => "dock id",
        Section::Gpio => "gpio name",
        Section::Product => "epc_prefix",
        _ => "id",
    }
}

/// The raw elements of an array section.
fn raw_elements<'d, 'i>(
    doc: &'d Document<'i>,
    section: Section,
) -> &'d [toml::Spanned<DeValue<'i>>] {
    match doc.root.get(section.key()).map(|v| v.get_ref()) {
        Some(DeValue::Array(items)) => items,
        _ => &[],
    }
}

/// Every id defined in an array section, including by elements that failed to decode and by a
/// section mistakenly written as a single `[table]` (already reported), so that one mistake does
/// not also make every reference to it an error.
fn raw_ids<'d>(doc: &'d Document<'_>, section: Section) -> HashSet<&'d str> {
    let id_path = [key(section.id_key())];
    let mut ids: HashSet<&str> = (0..raw_elements(doc, section).len())
        .filter_map(|i| raw_str(doc, &Place::element(section, i).doc_path(&id_path)))
        .collect();
    ids.extend(raw_str(doc, &Place::table(section).doc_path(&id_path)));
    ids
}

/// Ids are well-formed and unique (EPC prefixes case-insensitively); checked on the raw
/// document so elements that failed to decode take part.
fn check_unique_ids(section: Section, reporter: &mut Reporter<'_, '_>) {
    let doc = reporter.doc();
    let path = [key(section.id_key())];
    let mut first_line: HashMap<String, Option<usize>> = HashMap::new();
    for index in 0..raw_elements(doc, section).len() {
        let place = Place::element(section, index);
        let Some(id) = raw_str(doc, &place.doc_path(&path)) else {
            continue;
        };
        if section != Section::Product {
            if let Err(message) = check_id(noun(section), id) {
                reporter.error(place, &path, message);
            }
        }
        let normalized = if section == Section::Product {
            id.to_ascii_lowercase()
        } else {
            id.to_owned()
        };
        match first_line.entry(normalized) {
            Entry::Occupied(first) => {
                let at = first
                    .get()
                    .map(|line| format!(" (first defined on line {line})"))
                    .unwrap_or_default();
                reporter.error(
                    place,
                    &path,
                    format!("duplicate {} {id:?}{at}", noun(section)),
                );
            }
            Entry::Vacant(slot) => {
                slot.insert(reporter.line_of(place, &path));
            }
        }
    }
}

/// Readers: no key of another protocol, the protocol's required keys, then each variant's
/// own values, then the keys every reader has.
fn check_readers(
    readers: &[Item<ReaderEntry>],
    known: &Known<'_>,
    reporter: &mut Reporter<'_, '_>,
) {
    let mut ports: HashMap<&Path, String> = HashMap::new();
    for item in readers {
        let (r, at) = (&item.value, item.place);
        let protocol = r.protocol;
        for &name in FOREIGN_KEYS {
            if r.has(name) && !ReaderSource::keys(protocol).contains(&name) {
                reporter.error(at, &[key(name)], foreign_key(name, protocol));
            }
        }
        let (source, missing) = ReaderSource::from_entry(r);
        for name in missing.into_iter().filter(|k| !item.is_tainted(k)) {
            reporter.error(at, &[key(name)], required_key(name, protocol));
        }
        match source {
            ReaderSource::Replay { speed, .. } => {
                if !(speed > 0.0 && speed.is_finite()) {
                    let message =
                        format!("{speed} is out of range (expected a number greater than 0)");
                    reporter.error(at, &[key("speed")], message);
                }
            }
            ReaderSource::ShelfLink { line, nodes } => {
                check_line(item, line.baud, &mut ports, reporter);
                let mut seen = HashSet::new();
                for (i, &node) in nodes.iter().enumerate() {
                    let path = [key("nodes"), Seg::Index(i)];
                    if !(1..=254).contains(&node) {
                        let message =
                            format!("node address {node} is out of range (expected 1..=254)");
                        reporter.error(at, &path, message);
                    } else if !seen.insert(node) {
                        reporter.error(at, &path, format!("duplicate node address {node}"));
                    }
                }
            }
            ReaderSource::Mercury(line)
            | ReaderSource::R2000(line)
            | ReaderSource::Line(line)
            | ReaderSource::MagicRf { line, .. } => {
                check_line(item, line.baud, &mut ports, reporter)
            }
            ReaderSource::Llrp(l) => check_llrp(item, &l, reporter),
        }
        if protocol != Protocol::Llrp {
            for antenna in r.antennas.keys().filter(|a| !ANTENNA_RANGE.contains(a)) {
                let path = [key("antennas"), Seg::Key(antenna.to_string())];
                let message =
                    format!("bad antenna \"{antenna}\": expected an antenna number 1..=64");
                reporter.error(at, &path, message);
            }
        }
        if r.antennas.is_empty() && !item.is_tainted("antennas") && protocol != Protocol::ShelfLink
        {
            reporter.error(
                at,
                &[key("antennas")],
                "at least one antenna is required, e.g. antennas = { 1 = \"shelf-a1\" }",
            );
        }
        for (antenna, location) in &r.antennas {
            if !known.location_ids.contains(location.as_str()) {
                let path = [key("antennas"), Seg::Key(antenna.to_string())];
                reporter.error(
                    at,
                    &path,
                    format!("unknown location {location:?} (no [[location]] has that id)"),
                );
            }
        }
        if let Some(power) = r.power_dbm {
            if !(0.0..=33.0).contains(&power) {
                reporter.error(
                    at,
                    &[key("power_dbm")],
                    format!("{power} is out of range (expected 0..=33)"),
                );
            }
        }
        check_span(
            item,
            "watchdog",
            r.watchdog,
            Duration::from_secs(1),
            Duration::from_secs(3600),
            reporter,
        );
    }
}

/// An `llrp` reader's own keys: the address, the inventory settings' ranges, per-antenna
/// powers of configured antennas.
fn check_llrp(
    item: &Item<ReaderEntry>,
    l: &super::sections::LlrpReader,
    reporter: &mut Reporter<'_, '_>,
) {
    let (r, at) = (&item.value, item.place);
    if let Some(text) = &r.address {
        if let Err(message) = normalize_llrp_address(text) {
            reporter.error(at, &[key("address")], message);
        }
    }
    if let Some(session) = l.session {
        if session > 3 {
            let message = format!("{session} is out of range (expected 0..=3)");
            reporter.error(at, &[key("session")], message);
        }
    }
    if l.population == Some(0) {
        reporter.error(
            at,
            &[key("population")],
            "0 is out of range (expected 1..=65535)",
        );
    }
    for (antenna, dbm) in &l.antenna_power_dbm {
        let path = [key("antenna_power_dbm"), Seg::Key(antenna.to_string())];
        if !r.antennas.contains_key(antenna) {
            let message = format!("antenna {antenna} is not in this reader's antennas");
            reporter.error(at, &path, message);
        } else if !(0.0..=33.0).contains(dbm) {
            reporter.error(
                at,
                &path,
                format!("{dbm} is out of range (expected 0..=33)"),
            );
        }
    }
    check_span(
        item,
        "keepalive",
        l.keepalive,
        Duration::from_secs(1),
        Duration::from_secs(600),
        reporter,
    );
    if !item.is_tainted("max_message_size")
        && !(64 * 1024..=16 * 1024 * 1024).contains(&l.max_message_size)
    {
        let message = format!(
            "{} is out of range (expected 64KiB..=16MiB)",
            super::size::format_size(l.max_message_size)
        );
        reporter.error(at, &[key("max_message_size")], message);
    }
}

/// The keys only some protocols have ([`ReaderSource::keys`]).
const FOREIGN_KEYS: &[&str] = &[
    "port",
    "baud",
    "file",
    "speed",
    "nodes",
    "framing",
    "address",
    "session",
    "search_mode",
    "population",
    "rf_mode",
    "antenna_power_dbm",
    "keepalive",
    "reset_to_factory",
    "max_message_size",
];

/// Why `key` is wrong on a reader of `protocol`, naming the protocols that have it.
fn foreign_key(key: &str, protocol: Protocol) -> String {
    let owners: Vec<Protocol> = Protocol::ALL
        .iter()
        .copied()
        .filter(|p| ReaderSource::keys(*p).contains(&key))
        .collect();
    match (key, owners.as_slice()) {
        ("port", _) if protocol == Protocol::Llrp => {
            "protocol llrp connects to `address` (host[:port]), not a serial port; remove port"
                .to_owned()
        }
        ("port", _) => format!("protocol {protocol} reads `file`, not a serial port; remove port"),
        ("baud", _) => format!("protocol {protocol} has no baud rate; remove baud"),
        (_, [owner]) => {
            let has = match key {
                "file" => "reads a file",
                "speed" => "has a speed",
                "nodes" => "has nodes",
                "framing" => "has a framing",
                k if LLRP_KEYS.contains(&k) => {
                    return format!(
                        "only protocol llrp has {k} (this reader's protocol is {protocol})"
                    );
                }
                other => return format!("protocol {protocol} has no key {other}"),
            };
            format!("only protocol {owner} {has} (this reader's protocol is {protocol})")
        }
        _ => format!("protocol {protocol} has no key {key}"),
    }
}

/// The message of a required key `key` that a reader of `protocol` lacks.
fn required_key(key: &str, protocol: Protocol) -> String {
    let what = match key {
        "port" => "the serial device, e.g. \"/dev/serial/by-id/usb-…\"",
        "file" => "the read-log file (JSON Lines)",
        "nodes" => "the node addresses on the bus, e.g. nodes = [1, 2]",
        _ => "",
    };
    format!("required for protocol {protocol}: {what}")
}

/// A serial line: an absolute port used by no other reader (the entry's own, borrowed for as
/// long as `ports` lives; a missing one is already reported), a standard baud rate.
fn check_line<'a>(
    item: &'a Item<ReaderEntry>,
    baud: u32,
    ports: &mut HashMap<&'a Path, String>,
    reporter: &mut Reporter<'_, '_>,
) {
    let at = item.place;
    if let Some(port) = item.value.port.as_deref() {
        check_port(item, port, ports, reporter);
    }
    if !STANDARD_BAUD_RATES.contains(&baud) {
        let rates: Vec<String> = STANDARD_BAUD_RATES.iter().map(u32::to_string).collect();
        let message = format!(
            "{baud} is not a standard baud rate (expected one of {})",
            rates.join(", ")
        );
        reporter.error(at, &[key("baud")], message);
    }
}

fn check_port<'a>(
    item: &Item<ReaderEntry>,
    port: &'a Path,
    ports: &mut HashMap<&'a Path, String>,
    reporter: &mut Reporter<'_, '_>,
) {
    let at = item.place;
    if !port.is_absolute() {
        let message = format!(
            "bad port {port:?}: expected an absolute path such as \"/dev/serial/by-id/usb-…\""
        );
        reporter.error(at, &[key("port")], message);
    } else {
        match ports.entry(port) {
            Entry::Occupied(other) => {
                let message = format!("port {port:?} is also used by {}", other.get());
                reporter.error(at, &[key("port")], message);
            }
            Entry::Vacant(slot) => {
                slot.insert(reporter.label(at, &[]));
            }
        }
    }
}

fn check_locations(locations: &[Item<LocationConfig>], reporter: &mut Reporter<'_, '_>) {
    for item in locations {
        let (l, at) = (&item.value, item.place);
        if let Some(name) = &l.name {
            if name.trim().is_empty()
                || name.chars().count() > 256
                || name.chars().any(char::is_control)
            {
                reporter.error(
                    at,
                    &[key("name")],
                    format!("bad name {name:?}: expected 1 to 256 printable characters"),
                );
            }
        }
        if !l.planogram.is_empty() && !l.kind.allows_planogram() {
            let message = format!(
                "a planogram is only for shelf and backroom locations, not for kind {}",
                l.kind
            );
            reporter.error(at, &[key("planogram")], message);
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, gtin) in l.planogram.iter().enumerate() {
            let path = [key("planogram"), Seg::Index(i)];
            if let Err(message) = check_gtin14(gtin) {
                reporter.error(at, &path, message);
            } else if let Some(first) = seen.get(gtin.as_str()) {
                reporter.error(
                    at,
                    &path,
                    format!("duplicate GTIN {gtin:?} (already planogram #{})", first + 1),
                );
            } else {
                seen.insert(gtin, i);
            }
        }
        if l.safety_stock.is_some() && l.planogram.is_empty() && !item.is_tainted("planogram") {
            reporter.error(
                at,
                &[key("safety_stock")],
                "safety_stock needs a planogram (low-stock alerts are per planogram GTIN)",
            );
        }
    }
}

fn check_gpios(gpios: &[Item<GpioConfig>], reporter: &mut Reporter<'_, '_>) {
    let mut lines: HashMap<(&Path, u32), String> = HashMap::new();
    for item in gpios {
        let (g, at) = (&item.value, item.place);
        if !g.chip.is_absolute() {
            reporter.error(
                at,
                &[key("chip")],
                format!(
                    "bad chip {:?}: expected an absolute path such as \"/dev/gpiochip0\"",
                    g.chip
                ),
            );
            continue;
        }
        match lines.entry((g.chip.as_path(), g.line)) {
            Entry::Occupied(other) => {
                let message = format!(
                    "line {} of {:?} is also used by {}",
                    g.line,
                    g.chip,
                    other.get()
                );
                reporter.error(at, &[key("line")], message);
            }
            Entry::Vacant(slot) => {
                slot.insert(reporter.label(at, &[]));
            }
        }
    }
}

fn check_docks(docks: &[Item<DockConfig>], known: &Known<'_>, reporter: &mut Reporter<'_, '_>) {
    let mut locations: HashMap<&str, String> = HashMap::new();
    for item in docks {
        let (d, at) = (&item.value, item.place);
        let location = d.location.as_str();
        if !known.location_ids.contains(location) {
            reporter.error(
                at,
                &[key("location")],
                format!("unknown location {location:?} (no [[location]] has that id)"),
            );
        } else if let Some(kind) = known
            .kinds
            .get(location)
            .filter(|k| **k != LocationKind::Dock)
        {
            let message = format!(
                "location {location:?} is of kind {kind}; a dock needs a location of kind dock"
            );
            reporter.error(at, &[key("location")], message);
        } else {
            match locations.entry(location) {
                Entry::Occupied(other) => {
                    reporter.error(
                        at,
                        &[key("location")],
                        format!("location {location:?} is already used by {}", other.get()),
                    );
                }
                Entry::Vacant(slot) => {
                    slot.insert(reporter.label(at, &[]));
                }
            }
        }
        if let Some(gpio) = &d.door_gpio {
            check_gpio_reference(
                at,
                &[key("door_gpio")],
                "door_gpio",
                gpio,
                GpioDirection::Input,
                known,
                reporter,
            );
        }
        if let Some(lights) = &d.lights {
            let outputs = lights.outputs();
            if outputs.is_empty() {
                reporter.error(
                    at,
                    &[key("lights")],
                    "lights needs at least one of receiving, complete, problem",
                );
            }
            let mut used: HashMap<&str, &str> = HashMap::new();
            for (light, gpio) in outputs {
                let path = [key("lights"), key(light)];
                if let Some(other) = used.insert(gpio, light) {
                    reporter.error(
                        at,
                        &path,
                        format!("gpio {gpio:?} is already the {other} light"),
                    );
                } else {
                    let field = format!("lights.{light}");
                    check_gpio_reference(
                        at,
                        &path,
                        &field,
                        gpio,
                        GpioDirection::Output,
                        known,
                        reporter,
                    );
                }
            }
        }
        check_span(
            item,
            "dwell",
            d.dwell,
            Duration::ZERO,
            Duration::from_secs(3600),
            reporter,
        );
        if let Some(quiet) = d.quiet {
            if d.door_gpio.is_some() {
                reporter.error(
                    at,
                    &[key("quiet")],
                    "quiet applies only to docks without door_gpio (a door sensor ends sessions with dwell)",
                );
            } else {
                check_span(
                    item,
                    "quiet",
                    quiet,
                    Duration::from_secs(1),
                    Duration::from_secs(3600),
                    reporter,
                );
            }
        }
        check_span(
            item,
            "asn_ttl",
            d.asn_ttl,
            Duration::from_secs(3600),
            Duration::from_secs(365 * 24 * 3600),
            reporter,
        );
    }
}

fn check_gpio_reference(
    at: Place,
    path: &[Seg],
    field: &str,
    gpio: &str,
    wanted: GpioDirection,
    known: &Known<'_>,
    reporter: &mut Reporter<'_, '_>,
) {
    if !known.gpio_names.contains(gpio) {
        reporter.error(
            at,
            path,
            format!("unknown gpio {gpio:?} (no [[gpio]] has that name)"),
        );
    } else if let Some(direction) = known.directions.get(gpio).filter(|d| **d != wanted) {
        reporter.error(
            at,
            path,
            format!("gpio {gpio:?} is an {direction}; {field} needs an {wanted}"),
        );
    }
}

fn check_products(products: &mut [Item<ProductMapping>], reporter: &mut Reporter<'_, '_>) {
    for item in products {
        let at = item.place;
        let p = &mut item.value;
        let prefix = &p.epc_prefix;
        if (2..=62).contains(&prefix.len())
            && prefix.len() % 2 == 0
            && prefix.bytes().all(|b| b.is_ascii_hexdigit())
        {
            p.epc_prefix = prefix.to_ascii_lowercase();
        } else {
            let message = format!(
                "bad epc_prefix {prefix:?}: expected an even number (2 to 62) of hex digits"
            );
            reporter.error(at, &[key("epc_prefix")], message);
        }
        let sku = &p.sku;
        if sku.is_empty()
            || sku.chars().count() > 64
            || sku.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            reporter.error(
                at,
                &[key("sku")],
                format!(
                    "bad sku {sku:?}: expected 1 to 64 printable characters without whitespace"
                ),
            );
        }
    }
}

/// Lanes: the node is on a shelf-link reader (which fills in `reader` when it was left out),
/// (reader, node, lane) is unique, the location is a stock location (covered by an antenna when
/// the lane is tagged), the SKU and the weights are sane.
fn check_lanes(
    lanes: &mut [Item<LaneConfig>],
    readers: &[Item<ReaderEntry>],
    known: &Known<'_>,
    reporter: &mut Reporter<'_, '_>,
) {
    let buses: Vec<&ReaderEntry> = readers
        .iter()
        .map(|r| &r.value)
        .filter(|r| r.protocol == Protocol::ShelfLink)
        .collect();
    let covered: HashSet<&str> = readers
        .iter()
        .flat_map(|r| r.value.antennas.values().map(String::as_str))
        .collect();
    let mut seen: HashMap<(String, u8, u8), String> = HashMap::new();
    for item in lanes.iter_mut() {
        let at = item.place;
        let lane = &mut item.value;
        let node = lane.node;
        let resolved = match &lane.reader {
            Some(id) => match readers.iter().find(|r| &r.value.id == id) {
                None => {
                    reporter.error(
                        at,
                        &[key("reader")],
                        format!("unknown reader {id:?} (no [[reader]] has that id)"),
                    );
                    None
                }
                Some(r) if r.value.protocol != Protocol::ShelfLink => {
                    let message = format!(
                        "reader {id:?} is of protocol {}; a lane needs a shelf-link reader",
                        r.value.protocol
                    );
                    reporter.error(at, &[key("reader")], message);
                    None
                }
                Some(r) if !r.value.nodes.contains(&node) => {
                    reporter.error(
                        at,
                        &[key("node")],
                        format!("node {node} is not in the nodes of reader {id:?}"),
                    );
                    None
                }
                Some(_) => Some(id.clone()),
            },
            None => {
                let on: Vec<&str> = buses
                    .iter()
                    .filter(|r| r.nodes.contains(&node))
                    .map(|r| r.id.as_str())
                    .collect();
                match on[..] {
                    [only] => Some(only.to_owned()),
                    [] => {
                        let message = if buses.is_empty() {
                            format!(
                                "node {node}: no [[reader]] of protocol shelf-link (add one with nodes = [{node}])"
                            )
                        } else {
                            format!("node {node} is in no shelf-link reader's nodes")
                        };
                        reporter.error(at, &[key("node")], message);
                        None
                    }
                    _ => {
                        let message = format!(
                            "node {node} is on several buses ({}): name the reader",
                            on.join(", ")
                        );
                        reporter.error(at, &[key("reader")], message);
                        None
                    }
                }
            }
        };
        if lane.lane == 255 {
            reporter.error(
                at,
                &[key("lane")],
                "lane 255 is out of range (expected 0..=254)",
            );
        }
        if let Some(reader) = resolved {
            let slot = (reader.clone(), node, lane.lane);
            match seen.entry(slot) {
                Entry::Occupied(other) => {
                    let message = format!(
                        "lane {} of node {node} on reader {reader:?} is also {}",
                        lane.lane,
                        other.get()
                    );
                    reporter.error(at, &[key("lane")], message);
                }
                Entry::Vacant(v) => {
                    v.insert(reporter.label(at, &[]));
                }
            }
            lane.reader = Some(reader);
        }
        let location = lane.location.as_str();
        if !known.location_ids.contains(location) {
            reporter.error(
                at,
                &[key("location")],
                format!("unknown location {location:?} (no [[location]] has that id)"),
            );
        } else if let Some(kind) = known.kinds.get(location).filter(|k| !k.allows_planogram()) {
            reporter.error(
                at,
                &[key("location")],
                format!(
                    "location {location:?} is of kind {kind}; a lane needs a shelf or backroom location"
                ),
            );
        } else if lane.tagged && !covered.contains(location) {
            reporter.error(
                at,
                &[key("tagged")],
                format!(
                    "location {location:?} is covered by no reader antenna, so a tagged lane there has no reads to corroborate"
                ),
            );
        }
        let sku = &lane.sku;
        if lane.tagged {
            if let Err(message) = check_gtin14(sku) {
                reporter.error(
                    at,
                    &[key("sku")],
                    format!("{message} (a tagged lane's sku is the GTIN-14 its EPCs decode to)"),
                );
            }
        } else if sku.is_empty()
            || sku.chars().count() > 64
            || sku.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            reporter.error(
                at,
                &[key("sku")],
                format!(
                    "bad sku {sku:?}: expected 1 to 64 printable characters without whitespace"
                ),
            );
        }
        let unit = lane.unit_weight;
        let unit_ok = unit.is_finite() && (0.001..=100_000.0).contains(&unit);
        if !unit_ok {
            reporter.error(
                at,
                &[key("unit_weight")],
                format!("{unit} g is out of range (expected 0.001 to 100000 grams)"),
            );
        }
        if let Some(tolerance) = lane.tolerance {
            if !(tolerance.is_finite() && tolerance >= 0.0) {
                reporter.error(
                    at,
                    &[key("tolerance")],
                    format!("{tolerance} g is out of range (expected 0 or more grams)"),
                );
            } else if unit_ok && u64::from(lane.tolerance_mg()) * 2 >= u64::from(lane.unit_mg()) {
                reporter.error(
                    at,
                    &[key("tolerance")],
                    format!(
                        "{tolerance} g is half of unit_weight ({unit} g) or more: one item more or less could not be told apart"
                    ),
                );
            }
        }
    }
}
