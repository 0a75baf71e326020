//! Test configs from typed calls instead of hand-written TOML: [`ConfigBuilder`] renders the
//! file `shelfd` reads (`[gateway]`, `[mqtt]`, any other single table, `[[reader]]`,
//! `[[location]]`, `[[dock]]`, `[[gpio]]`, `[reconcile]`, in that order; keys in the order they
//! were set). Values go through `toml`, so strings and paths are quoted and escaped right.
//!
//! The builder knows the shape of the file, not its rules: it renders what it is told, valid or
//! not, so that a test of the daemon's validation can build an invalid config as easily as a
//! valid one. The daemon, not the kit, decides what a config means.
//!
//! ```
//! use shelfd_testkit::config::{ConfigBuilder, Reader};
//!
//! let text = ConfigBuilder::new("s1", "gw-1")
//!     .state_dir("state")
//!     .mqtt_port(1883)
//!     .reader(Reader::replay("r1", "reads.jsonl").antennas(&[(1, "shelf-a")]))
//!     .location("shelf-a", "shelf")
//!     .reconcile("baseline_window", "0s")
//!     .render();
//! assert_eq!(
//!     text,
//!     "[gateway]\nstore = \"s1\"\nid = \"gw-1\"\nstate_dir = \"state\"\n\n\
//!      [mqtt]\nurl = \"mqtt://127.0.0.1:1883\"\n\n\
//!      [[reader]]\nid = \"r1\"\nprotocol = \"replay\"\nfile = \"reads.jsonl\"\n\
//!      antennas = { 1 = \"shelf-a\" }\n\n\
//!      [[location]]\nid = \"shelf-a\"\nkind = \"shelf\"\n\n\
//!      [reconcile]\nbaseline_window = \"0s\"\n"
//! );
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use toml::Value;

/// The keys of one table, in the order they were first set.
#[derive(Debug, Clone, Default)]
struct Entries(Vec<(String, Value)>);

impl Entries {
    /// Sets `key` (in place when it is already there, so the order stays the first one).
    fn set(&mut self, key: &str, value: Value) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key.to_owned(), value)),
        }
    }

    fn render(&self, header: &str, out: &mut String) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(header);
        out.push('\n');
        for (key, value) in &self.0 {
            let _ = writeln!(out, "{} = {}", render_key(key), render_value(value));
        }
    }
}

/// A bare key when TOML allows one (letters, digits, `_`, `-`), a quoted one otherwise.
fn render_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.to_owned()
    } else {
        Value::from(key).to_string()
    }
}

/// A value on one line; tables inline (`{ 1 = "a", 2 = "b" }`), keys in their map's order.
fn render_value(value: &Value) -> String {
    match value {
        Value::Table(table) => {
            let fields: Vec<String> = table
                .iter()
                .map(|(k, v)| format!("{} = {}", render_key(k), render_value(v)))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(render_value).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// An inline table of `(key, value)` pairs (antennas, lights).
fn inline_table<K: ToString, V: Into<Value> + Clone>(pairs: &[(K, V)]) -> Value {
    let mut table = toml::Table::new();
    for (k, v) in pairs {
        table.insert(k.to_string(), v.clone().into());
    }
    Value::Table(table)
}

/// A test config being built; [`ConfigBuilder::render`] gives its TOML text,
/// [`ConfigBuilder::write`] writes it to `shelfd.toml` in a directory.
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    gateway: Entries,
    mqtt: Entries,
    /// Single tables other than gateway, mqtt and reconcile (`epcis`, `metrics`, `log`, …).
    tables: Vec<(String, Entries)>,
    readers: Vec<Entries>,
    locations: Vec<Entries>,
    docks: Vec<Entries>,
    gpios: Vec<Entries>,
    reconcile: Entries,
}

impl ConfigBuilder {
    /// A config of gateway `gateway` in store `store`: `[gateway] store, id` and nothing else.
    pub fn new(store: &str, gateway: &str) -> ConfigBuilder {
        let mut builder = ConfigBuilder {
            gateway: Entries::default(),
            mqtt: Entries::default(),
            tables: Vec::new(),
            readers: Vec::new(),
            locations: Vec::new(),
            docks: Vec::new(),
            gpios: Vec::new(),
            reconcile: Entries::default(),
        };
        builder.gateway.set("store", store.into());
        builder.gateway.set("id", gateway.into());
        builder
    }

    /// Sets `[gateway] key = value`.
    pub fn gateway(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.gateway.set(key, value.into());
        self
    }

    /// `[gateway] state_dir` (relative paths are relative to the config file).
    pub fn state_dir(self, dir: impl AsRef<Path>) -> Self {
        let dir = dir.as_ref().display().to_string();
        self.gateway("state_dir", dir)
    }

    /// Sets `[mqtt] key = value`.
    pub fn mqtt(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.mqtt.set(key, value.into());
        self
    }

    /// `[mqtt] url = "mqtt://127.0.0.1:{port}"`.
    pub fn mqtt_port(self, port: u16) -> Self {
        self.mqtt("url", format!("mqtt://127.0.0.1:{port}"))
    }

    /// Sets `key = value` in the single table `[name]` (`epcis`, `metrics`, `log`, …; for
    /// gateway, mqtt and reconcile use their own methods), created on first use.
    pub fn table(mut self, name: &str, key: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        match self.tables.iter_mut().find(|(n, _)| n == name) {
            Some((_, entries)) => entries.set(key, value),
            None => {
                let mut entries = Entries::default();
                entries.set(key, value);
                self.tables.push((name.to_owned(), entries));
            }
        }
        self
    }

    /// Adds a `[[reader]]`.
    pub fn reader(mut self, reader: Reader) -> Self {
        self.readers.push(reader.0);
        self
    }

    /// Adds a `[[location]]` with `id` and `kind` (`shelf`, `backroom`, `pos`, `exit`, `dock`).
    pub fn location(mut self, id: &str, kind: &str) -> Self {
        let mut entries = Entries::default();
        entries.set("id", id.into());
        entries.set("kind", kind.into());
        self.locations.push(entries);
        self
    }

    /// Adds a `[[dock]]`.
    pub fn dock(mut self, dock: Dock) -> Self {
        self.docks.push(dock.0);
        self
    }

    /// Adds a `[[gpio]]` line: `name` on `chip` line `line`, `direction` `input` or `output`.
    pub fn gpio(mut self, name: &str, chip: &str, line: u32, direction: &str) -> Self {
        let mut entries = Entries::default();
        entries.set("name", name.into());
        entries.set("chip", chip.into());
        entries.set("line", line.into());
        entries.set("direction", direction.into());
        self.gpios.push(entries);
        self
    }

    /// Sets `[reconcile] key = value`.
    pub fn reconcile(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.reconcile.set(key, value.into());
        self
    }

    /// The reconcile knobs of tests that wait for events to happen: no baseline window, an
    /// arrival confirmed on its second read without dwell, no settle delay.
    pub fn quick_reconcile(self) -> Self {
        self.reconcile("baseline_window", "0s")
            .reconcile("arrive_dwell", "0s")
            .reconcile("arrive_min_reads", 2)
            .reconcile("settle_quiet", "0s")
            .reconcile("settle_max", "0s")
    }

    /// The config's TOML text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.gateway.render("[gateway]", &mut out);
        if !self.mqtt.0.is_empty() {
            self.mqtt.render("[mqtt]", &mut out);
        }
        for (name, entries) in &self.tables {
            entries.render(&format!("[{}]", render_key(name)), &mut out);
        }
        for (header, tables) in [
            ("[[reader]]", &self.readers),
            ("[[location]]", &self.locations),
            ("[[dock]]", &self.docks),
            ("[[gpio]]", &self.gpios),
        ] {
            for entries in tables {
                entries.render(header, &mut out);
            }
        }
        if !self.reconcile.0.is_empty() {
            self.reconcile.render("[reconcile]", &mut out);
        }
        out
    }

    /// Writes the config to `dir/shelfd.toml` and returns that path.
    pub fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join("shelfd.toml");
        std::fs::write(&path, self.render())
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }
}

/// One `[[reader]]` table.
#[derive(Debug, Clone)]
pub struct Reader(Entries);

impl Reader {
    /// A replay reader `id` playing the read log `file` (relative to the config file).
    pub fn replay(id: &str, file: impl AsRef<Path>) -> Reader {
        let mut entries = Entries::default();
        entries.set("id", id.into());
        entries.set("protocol", "replay".into());
        entries.set("file", file.as_ref().display().to_string().into());
        Reader(entries)
    }

    /// A serial reader `id` speaking `protocol` (`mercury`, `magicrf`, `r2000`, `line`,
    /// `shelf-link`) on `port`.
    pub fn serial(id: &str, protocol: &str, port: impl AsRef<Path>) -> Reader {
        let mut entries = Entries::default();
        entries.set("id", id.into());
        entries.set("protocol", protocol.into());
        entries.set("port", port.as_ref().display().to_string().into());
        Reader(entries)
    }

    /// An LLRP reader `id` at `address` (`host:port`).
    pub fn llrp(id: &str, address: &str) -> Reader {
        let mut entries = Entries::default();
        entries.set("id", id.into());
        entries.set("protocol", "llrp".into());
        entries.set("address", address.into());
        Reader(entries)
    }

    /// `antennas = { port = "location", … }`.
    pub fn antennas(self, antennas: &[(u16, &str)]) -> Reader {
        let table = inline_table(antennas);
        self.set("antennas", table)
    }

    /// Sets any other key (`speed`, `watchdog`, `baud`, …).
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> Reader {
        self.0.set(key, value.into());
        self
    }
}

/// One `[[dock]]` table.
#[derive(Debug, Clone)]
pub struct Dock(Entries);

impl Dock {
    /// Door `id` receiving into location `location`.
    pub fn new(id: &str, location: &str) -> Dock {
        let mut entries = Entries::default();
        entries.set("id", id.into());
        entries.set("location", location.into());
        Dock(entries)
    }

    /// `door_gpio`: the `[[gpio]]` input of the door sensor.
    pub fn door_gpio(self, name: &str) -> Dock {
        self.set("door_gpio", name)
    }

    /// `lights = { state = "gpio output", … }` (`receiving`, `complete`, `problem`).
    pub fn lights(self, lights: &[(&str, &str)]) -> Dock {
        let table = inline_table(lights);
        self.set("lights", table)
    }

    /// Sets any other key (`dwell`, `quiet`, `asn_ttl`, …).
    pub fn set(mut self, key: &str, value: impl Into<Value>) -> Dock {
        self.0.set(key, value.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_section_in_order_and_parses_back_as_toml() {
        let text = ConfigBuilder::new("s1", "gw-1")
            .state_dir("/tmp/a \"quoted\" dir")
            .mqtt_port(1883)
            .mqtt("keep_alive", "5s")
            .table("epcis", "enabled", true)
            .reader(
                Reader::serial("r1", "mercury", "/dev/pts/7")
                    .antennas(&[(1, "a"), (2, "b")])
                    .set("watchdog", "60s"),
            )
            .location("a", "shelf")
            .location("b", "backroom")
            .dock(
                Dock::new("door-1", "a")
                    .door_gpio("door")
                    .lights(&[("receiving", "amber")])
                    .set("dwell", "1s"),
            )
            .gpio("door", "/dev/gpiochip0", 1, "input")
            .quick_reconcile()
            .reconcile("settle_max", "2s")
            .render();
        let headers: Vec<&str> = text.lines().filter(|l| l.starts_with('[')).collect();
        assert_eq!(
            headers,
            [
                "[gateway]",
                "[mqtt]",
                "[epcis]",
                "[[reader]]",
                "[[location]]",
                "[[location]]",
                "[[dock]]",
                "[[gpio]]",
                "[reconcile]"
            ]
        );
        let doc: toml::Table = text.parse().expect("valid TOML");
        assert_eq!(
            doc["gateway"]["state_dir"].as_str(),
            Some("/tmp/a \"quoted\" dir")
        );
        assert_eq!(doc["reader"][0]["antennas"]["2"].as_str(), Some("b"));
        assert_eq!(
            doc["dock"][0]["lights"]["receiving"].as_str(),
            Some("amber")
        );
        assert_eq!(doc["gpio"][0]["line"].as_integer(), Some(1));
        assert_eq!(doc["reconcile"]["arrive_min_reads"].as_integer(), Some(2));
        // Setting a key again replaces it in place.
        assert_eq!(doc["reconcile"]["settle_max"].as_str(), Some("2s"));
        assert!(text.contains("settle_quiet = \"0s\"\nsettle_max = \"2s\"\n"));
    }

    #[test]
    fn floats_keep_their_point() {
        let text = ConfigBuilder::new("s", "g")
            .reader(Reader::replay("r", "x.jsonl").set("speed", 4.0))
            .render();
        assert!(text.contains("speed = 4.0\n"), "{text}");
    }
}
