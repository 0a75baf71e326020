//! Decoding: raw document → typed sections ([`Draft`]), with serde doing the shape checks
//! (`deny_unknown_fields`, types, required keys, value grammars). Each section and each array
//! element is decoded on its own, and after an error the offending entry is dropped and the
//! element decoded again, so that one run reports every unknown key and every bad value, not
//! just the first. Nothing here checks ranges or cross-references (that is `validate`).

use super::epcis_section::EpcisConfig;
use super::report::{Place, Reporter, Section};
use super::sections::{
    DockConfig, GatewayConfig, GpioConfig, LaneConfig, LocationConfig, LogConfig, MetricsConfig,
    MqttConfig, ProductMapping, ReaderEntry,
};
use super::spans::{RawValue, Seg, locate, remove, value_at};
use serde::de::DeserializeOwned;
use shelfd_core::reconcile::config::ReconcileConfig;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// Upper bound on recoveries per element (each one drops one entry).
const MAX_RECOVERIES: usize = 64;

/// A decoded section or element, with where it came from.
#[derive(Debug)]
pub(crate) struct Item<T> {
    /// The typed value.
    pub(crate) value: T,
    /// Where it is in the file.
    pub(crate) place: Place,
    /// Top-level keys dropped after an error (their values are defaults now): checks that
    /// depend on them are skipped, so one mistake is not reported twice.
    pub(crate) tainted: Vec<String>,
}

impl<T> Item<T> {
    /// True when `key` was dropped after an error.
    pub(crate) fn is_tainted(&self, key: &str) -> bool {
        self.tainted.iter().any(|k| k == key)
    }
}

/// Everything that decoded; a section that failed is `None` or missing from its list (and an
/// error was reported for it).
#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub(crate) gateway: Option<Item<GatewayConfig>>,
    pub(crate) mqtt: Option<Item<MqttConfig>>,
    pub(crate) readers: Vec<Item<ReaderEntry>>,
    pub(crate) locations: Vec<Item<LocationConfig>>,
    pub(crate) docks: Vec<Item<DockConfig>>,
    pub(crate) gpios: Vec<Item<GpioConfig>>,
    pub(crate) products: Vec<Item<ProductMapping>>,
    pub(crate) lanes: Vec<Item<LaneConfig>>,
    pub(crate) reconcile: Option<Item<ReconcileConfig>>,
    pub(crate) metrics: Option<Item<MetricsConfig>>,
    pub(crate) log: Option<Item<LogConfig>>,
    pub(crate) epcis: Option<Item<EpcisConfig>>,
}

/// Decodes every section of the document, reporting shape errors.
pub(crate) fn decode(reporter: &mut Reporter<'_, '_>) -> Draft {
    let doc = reporter.doc();
    let mut draft = Draft::default();
    for (spanned_name, value) in doc.root.iter() {
        let name: &str = spanned_name.get_ref();
        let Some(section) = Section::from_key(name) else {
            let expected: Vec<&str> = Section::ALL.iter().map(|s| s.key()).collect();
            let message = format!(
                "unknown section {name:?} (expected one of {})",
                expected.join(", ")
            );
            reporter.error_at(Some(spanned_name.span()), name.to_owned(), message);
            continue;
        };
        if section.is_array() {
            decode_array(section, value, reporter, &mut draft);
        } else {
            decode_table(section, value, reporter, &mut draft);
        }
    }
    if doc.root.get("gateway").is_none() {
        reporter.error_at(
            None,
            "gateway".to_owned(),
            "missing required section [gateway] (with store and id)",
        );
    }
    let empty = Spanned::new(0..0, DeValue::Table(DeTable::new()));
    for section in [
        Section::Mqtt,
        Section::Reconcile,
        Section::Metrics,
        Section::Log,
        Section::Epcis,
    ] {
        if doc.root.get(section.key()).is_none() {
            decode_table(section, &empty, reporter, &mut draft);
        }
    }
    draft
}

fn decode_table(
    section: Section,
    value: &RawValue<'_>,
    reporter: &mut Reporter<'_, '_>,
    draft: &mut Draft,
) {
    let key = section.key();
    if !matches!(value.get_ref(), DeValue::Table(_)) {
        let found = match value.get_ref() {
            DeValue::Array(_) => format!("an array (write one [{key}] table, not [[{key}]])"),
            other => other.type_str().to_owned(),
        };
        reporter.error_at(
            Some(value.span()),
            key.to_owned(),
            format!("expected a [{key}] table, found {found}"),
        );
        return;
    }
    let place = Place::table(section);
    match section {
        Section::Gateway => draft.gateway = decode_value(value, place, reporter),
        Section::Mqtt => draft.mqtt = decode_value(value, place, reporter),
        Section::Reconcile => draft.reconcile = decode_value(value, place, reporter),
        Section::Metrics => draft.metrics = decode_value(value, place, reporter),
        Section::Log => draft.log = decode_value(value, place, reporter),
        Section::Epcis => draft.epcis = decode_value(value, place, reporter),
        Section::Reader
        | Section::Location
        | Section::Dock
        | Section::Gpio
        | Section::Product
        | Section::Lane => {}
    }
}

fn decode_array(
    section: Section,
    value: &RawValue<'_>,
    reporter: &mut Reporter<'_, '_>,
    draft: &mut Draft,
) {
    let key = section.key();
    let items = match value.get_ref() {
        DeValue::Array(items) => items,
        DeValue::Table(_) => {
            let message = format!(
                "expected [[{key}]] tables (one per {key}), found a single [{key}] table; write [[{key}]]"
            );
            reporter.error_at(Some(value.span()), key.to_owned(), message);
            return;
        }
        other => {
            let message = format!(
                "expected [[{key}]] tables (one per {key}), found {}",
                other.type_str()
            );
            reporter.error_at(Some(value.span()), key.to_owned(), message);
            return;
        }
    };
    for (index, item) in items.iter().enumerate() {
        let place = Place::element(section, index);
        match section {
            Section::Reader => draft.readers.extend(decode_value(item, place, reporter)),
            Section::Location => draft.locations.extend(decode_value(item, place, reporter)),
            Section::Dock => draft.docks.extend(decode_value(item, place, reporter)),
            Section::Gpio => draft.gpios.extend(decode_value(item, place, reporter)),
            Section::Product => draft.products.extend(decode_value(item, place, reporter)),
            Section::Lane => draft.lanes.extend(decode_value(item, place, reporter)),
            Section::Gateway
            | Section::Mqtt
            | Section::Reconcile
            | Section::Metrics
            | Section::Log
            | Section::Epcis => {}
        }
    }
}

/// Decodes one table into `T`, reporting every shape error: after each error the offending
/// top-level entry is dropped and decoding retried. `None` when the table cannot be decoded
/// even so (a required key missing or bad).
fn decode_value<T: DeserializeOwned>(
    raw: &RawValue<'_>,
    place: Place,
    reporter: &mut Reporter<'_, '_>,
) -> Option<Item<T>> {
    let mut work = raw.clone();
    let mut tainted: Vec<String> = Vec::new();
    let mut removed: Vec<Vec<Seg>> = Vec::new();
    for _ in 0..MAX_RECOVERIES {
        let error = match T::deserialize(ValueDeserializer::from(work.clone())) {
            Ok(value) => {
                return Some(Item {
                    value,
                    place,
                    tainted,
                });
            }
            Err(error) => error,
        };
        if let Some(missing) = missing_field(error.message()) {
            if !tainted.iter().any(|k| k == missing) {
                let field = reporter.label(place, &[Seg::Key(missing.to_owned())]);
                let span = error.span().or_else(|| Some(raw.span()));
                reporter.error_at(span, field, format!("missing required key {missing:?}"));
            }
            return None;
        }
        let located = error
            .span()
            .and_then(|span| locate(work.get_ref(), &span))
            .unwrap_or_default();
        // The entry to drop before retrying: the located one, or the whole array holding it.
        let mut drop = located.clone();
        if let Some(first_index) = drop.iter().position(|seg| matches!(seg, Seg::Index(_))) {
            drop.truncate(first_index);
        }
        if removed.contains(&drop) {
            return None; // dropping it did not help: already reported
        }
        let field = reporter.label(place, &located);
        let mut message = polish(error.message());
        if let Some(DeValue::Datetime(datetime)) = value_at(&work, &located).map(|v| v.get_ref()) {
            // serde sees TOML dates and times as maps.
            message = message.replace("found a table", &format!("found the date/time {datetime}"));
        }
        reporter.error_at(error.span().or_else(|| Some(raw.span())), field, message);
        let Some(Seg::Key(top)) = drop.first() else {
            return None;
        };
        tainted.push(top.clone());
        remove(work.get_mut(), &drop);
        removed.push(drop);
    }
    None
}

/// The key of serde's "missing field `x`" message.
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

/// Rewords serde's messages in config terms: keys and tables rather than fields and maps,
/// `found` values in TOML spelling. Unknown shapes pass through unchanged.
pub(crate) fn polish(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((name, expected)) = rest.split_once('`') {
            let names = |list: &str| list.replace('`', "");
            return match expected {
                s if s.starts_with(", expected one of ") => {
                    format!(
                        "unknown key {name:?} (expected one of {})",
                        names(&s[", expected one of ".len()..])
                    )
                }
                s if s.starts_with(", expected ") => format!(
                    "unknown key {name:?} (expected {})",
                    names(&s[", expected ".len()..])
                ),
                _ => format!("unknown key {name:?}"),
            };
        }
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            return format!(
                "wrong type: expected {}, found {}",
                expected_in_toml(expected),
                found_in_toml(found)
            );
        }
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            let found = found.replace('`', "");
            return match expected_in_toml(expected) {
                e if e != expected => format!("{found} is out of range (expected {e})"),
                _ => format!("invalid value {found} (expected {expected})"),
            };
        }
    }
    message.to_owned()
}

/// serde's "found" wording in TOML terms: `integer `3`` → `integer 3`, `map` → `a table`.
fn found_in_toml(found: &str) -> String {
    match found {
        "map" => "a table".to_owned(),
        "sequence" => "an array".to_owned(),
        other => other
            .trim_end_matches(" as i128")
            .trim_end_matches(" as u128")
            .replace("floating point", "float")
            .replace('`', ""),
    }
}

fn expected_in_toml(expected: &str) -> String {
    match expected {
        "u8" => "an integer 0..=255".to_owned(),
        "u16" => "an integer 0..=65535".to_owned(),
        "u32" => "an integer 0..=4294967295".to_owned(),
        "u64" => "a non-negative integer".to_owned(),
        "f64" | "f32" => "a number".to_owned(),
        "a sequence" => "an array".to_owned(),
        "a map" => "a table".to_owned(),
        "a borrowed string" => "a string".to_owned(),
        s if s.starts_with("struct ") => "a table".to_owned(),
        s => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::polish;

    #[test]
    fn serde_messages_are_reworded() {
        assert_eq!(
            polish("unknown field `bogus`, expected one of `id`, `port`"),
            "unknown key \"bogus\" (expected one of id, port)"
        );
        assert_eq!(
            polish("unknown field `x`, expected `listen`"),
            "unknown key \"x\" (expected listen)"
        );
        assert_eq!(
            polish("unknown field `x`, there are no fields"),
            "unknown key \"x\""
        );
        assert_eq!(
            polish("invalid type: string \"x\", expected u32"),
            "wrong type: expected an integer 0..=4294967295, found string \"x\""
        );
        assert_eq!(
            polish("invalid type: integer `3`, expected struct ReaderConfig"),
            "wrong type: expected a table, found integer 3"
        );
        assert_eq!(
            polish("invalid value: integer `-1`, expected u32"),
            "integer -1 is out of range (expected an integer 0..=4294967295)"
        );
        assert_eq!(
            polish("invalid type: map, expected a string"),
            "wrong type: expected a string, found a table"
        );
        assert_eq!(
            polish("invalid type: floating point `1.5`, expected u32"),
            "wrong type: expected an integer 0..=4294967295, found float 1.5"
        );
        assert_eq!(polish("something else"), "something else");
    }
}
