//! What a config reload (SIGHUP, `systemctl reload shelfd`) may change while the daemon runs.
//!
//! Hot keys apply at once: `[log] level`, every `[reconcile]` knob but `undecoded`, and per
//! `[[location]]` its `name`, `planogram` and `safety_stock`. Everything else (gateway ids and
//! state dir, the broker, readers and their antennas, the set and kinds of locations, docks,
//! gpios, products, lanes, metrics, `reconcile.undecoded`, and any key added later) needs a restart:
//! [`plan`] names each such change, and [`hot_applied`] gives the config to run with until
//! then (the running one with only the hot keys taken from the new file).
//!
//! Pure: no I/O, no logging. The caller validates the new file first ([`super::load`]); an
//! invalid file never gets here.

use super::Config;

/// What changed between the running config and a new one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadPlan {
    /// Hot changes, applied at once (e.g. `[log] level`, `location shelf-a1: planogram`).
    pub hot: Vec<String>,
    /// Changes that wait for a restart (e.g. `[mqtt]`, `[[reader]]`).
    pub restart: Vec<String>,
}

impl ReloadPlan {
    /// True when the new file changes nothing.
    pub fn is_empty(&self) -> bool {
        self.hot.is_empty() && self.restart.is_empty()
    }
}

/// `running` with the hot keys of `new`.
pub fn hot_applied(running: &Config, new: &Config) -> Config {
    let mut next = running.clone();
    next.log = new.log.clone();
    let undecoded = running.reconcile.undecoded;
    next.reconcile = new.reconcile.clone();
    next.reconcile.undecoded = undecoded;
    if same_location_layout(running, new) {
        for (l, n) in next.locations.iter_mut().zip(&new.locations) {
            l.name = n.name.clone();
            l.planogram = n.planogram.clone();
            l.safety_stock = n.safety_stock;
        }
    }
    next
}

fn same_location_layout(a: &Config, b: &Config) -> bool {
    a.locations.len() == b.locations.len()
        && a.locations
            .iter()
            .zip(&b.locations)
            .all(|(x, y)| x.id == y.id && x.kind == y.kind)
}

/// Compares the running config with a new, valid one.
///
/// ```
/// use shelfd::config::{parse, reload::plan};
/// let base = "[gateway]\nstore = \"s\"\nid = \"g\"\n[[location]]\nid = \"a\"\nkind = \"shelf\"\n";
/// let old = parse(base, std::path::Path::new("old.toml")).unwrap();
/// let new = parse(&format!("{base}[reconcile]\nmove_ratio = 4.5\n[log]\nlevel = \"debug\"\n"), std::path::Path::new("new.toml")).unwrap();
/// let p = plan(&old, &new);
/// assert_eq!(p.hot, ["[log] level", "[reconcile]"]);
/// assert!(p.restart.is_empty());
/// ```
pub fn plan(running: &Config, new: &Config) -> ReloadPlan {
    let mut p = ReloadPlan::default();
    if running.log != new.log {
        p.hot.push("[log] level".into());
    }
    let mut knobs = new.reconcile.clone();
    knobs.undecoded = running.reconcile.undecoded;
    if running.reconcile != knobs {
        p.hot.push("[reconcile]".into());
    }
    if running.reconcile.undecoded != new.reconcile.undecoded {
        p.restart.push("[reconcile] undecoded".into());
    }
    if same_location_layout(running, new) {
        for (l, n) in running.locations.iter().zip(&new.locations) {
            if l.name != n.name {
                p.hot.push(format!("location {}: name", l.id));
            }
            if l.planogram != n.planogram {
                p.hot.push(format!("location {}: planogram", l.id));
            }
            if l.safety_stock != n.safety_stock {
                p.hot.push(format!("location {}: safety_stock", l.id));
            }
        }
    } else {
        p.restart.push("[[location]] (ids, kinds or order)".into());
    }
    let sections: [(&str, bool); 9] = [
        ("[gateway]", running.gateway != new.gateway),
        ("[mqtt]", running.mqtt != new.mqtt),
        ("[[reader]]", running.readers != new.readers),
        ("[[dock]]", running.docks != new.docks),
        ("[[gpio]]", running.gpios != new.gpios),
        ("[[product]]", running.products != new.products),
        ("[[lane]]", running.lanes != new.lanes),
        ("[metrics]", running.metrics != new.metrics),
        ("[epcis]", running.epcis != new.epcis),
    ];
    p.restart.extend(
        sections
            .iter()
            .filter(|(_, changed)| *changed)
            .map(|(name, _)| (*name).to_owned()),
    );
    // Anything not named above (a section added later) still needs a restart, and is still
    // reported rather than silently ignored.
    if p.restart.is_empty() && hot_applied(running, new) != *new {
        p.restart.push("other settings".into());
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    const BASE: &str = r#"
[gateway]
store = "s1"
id = "gw-1"
state_dir = "/tmp/x"

[mqtt]
url = "mqtt://127.0.0.1:1883"

[[reader]]
id = "r1"
protocol = "line"
port = "/dev/ttyUSB0"
antennas = { 1 = "shelf-a1" }

[[location]]
id = "shelf-a1"
kind = "shelf"
planogram = ["00614141123452"]
safety_stock = 2
"#;

    fn cfg(text: &str) -> Config {
        parse(text, std::path::Path::new("test.toml")).expect("valid test config")
    }

    #[test]
    fn no_change_is_an_empty_plan() {
        assert!(plan(&cfg(BASE), &cfg(BASE)).is_empty());
    }

    #[test]
    fn hot_keys_apply_and_the_rest_waits_for_a_restart() {
        let old = cfg(BASE);
        let text = BASE
            .replace("safety_stock = 2", "safety_stock = 5")
            .replace("mqtt://127.0.0.1:1883", "mqtt://127.0.0.1:1884")
            .replace("port = \"/dev/ttyUSB0\"", "port = \"/dev/ttyUSB1\"")
            + "[reconcile]\nmove_ratio = 4.0\nundecoded = \"ignore\"\n";
        let new = cfg(&text);
        let p = plan(&old, &new);
        assert_eq!(p.hot, ["[reconcile]", "location shelf-a1: safety_stock"]);
        assert_eq!(p.restart, ["[reconcile] undecoded", "[mqtt]", "[[reader]]"]);
        let running = hot_applied(&old, &new);
        assert_eq!(running.locations[0].safety_stock, Some(5));
        assert_eq!(running.reconcile.move_ratio, 4.0);
        assert_eq!(running.reconcile.undecoded, old.reconcile.undecoded);
        assert_eq!(running.mqtt, old.mqtt);
        assert_eq!(running.readers, old.readers);
    }

    #[test]
    fn a_changed_location_layout_needs_a_restart() {
        let old = cfg(BASE);
        let new = cfg(&(BASE.to_owned() + "\n[[location]]\nid = \"shelf-a2\"\nkind = \"shelf\"\n"));
        let p = plan(&old, &new);
        assert!(p.hot.is_empty(), "{p:?}");
        assert_eq!(p.restart, ["[[location]] (ids, kinds or order)"]);
        assert_eq!(hot_applied(&old, &new).locations, old.locations);
    }

    #[test]
    fn a_changed_lane_needs_a_restart() {
        let bus = "\n[[reader]]\nid = \"bus\"\nprotocol = \"shelf-link\"\nport = \"/dev/ttyUSB7\"\nnodes = [1]\n\
                   [[lane]]\nnode = 1\nlane = 0\nlocation = \"shelf-a1\"\nsku = \"W\"\nunit_weight = 500\n";
        let old = cfg(&(BASE.to_owned() + bus));
        let new = cfg(&(BASE.to_owned() + &bus.replace("unit_weight = 500", "unit_weight = 520")));
        let p = plan(&old, &new);
        assert!(p.hot.is_empty(), "{p:?}");
        assert_eq!(p.restart, ["[[lane]]"]);
        assert_eq!(hot_applied(&old, &new).lanes, old.lanes);
    }
}
