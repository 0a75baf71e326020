//! Semantic validation of a decoded [`Draft`]: charsets, ranges, required-by-protocol keys,
//! files that must exist, unique ids and cross-references (antenna → location, dock →
//! location/gpio). Every problem is reported (never just the first) at the line of the offending
//! value. Also completes the draft: relative paths are resolved against the config file's
//! directory, `mqtt.client_id` gets its default, EPC prefixes are lower-cased.
//!
//! Store topology checks (readers, locations, docks, gpios, products) live in `topology`.

use super::credentials::MqttCredentials;
use super::decode::{Draft, Item};
use super::report::Reporter;
use super::size::format_size;
use super::spans::key;
use super::{ReconcileConfig, epcis_section, topology};
use shelfd_core::duration::format_duration;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Checks `draft`, reporting every problem; completes it in place.
pub(crate) fn validate(draft: &mut Draft, base_dir: &Path, reporter: &mut Reporter<'_, '_>) {
    resolve_paths(draft, base_dir);
    check_gateway(draft, reporter);
    check_mqtt(draft, reporter);
    topology::check(draft, reporter);
    epcis_section::check(draft, reporter);
    if let Some(reconcile) = &draft.reconcile {
        check_reconcile(reconcile, reporter);
    }
    if let Some(log) = &draft.log {
        if let Err(message) = check_log_level(&log.value.level) {
            reporter.error(log.place, &[key("level")], message);
        }
    }
}

fn resolve(base_dir: &Path, path: &mut PathBuf) {
    if path.is_relative() {
        *path = base_dir.join(&*path);
    }
}

fn resolve_paths(draft: &mut Draft, base_dir: &Path) {
    if let Some(gateway) = &mut draft.gateway {
        resolve(base_dir, &mut gateway.value.state_dir);
    }
    if let Some(mqtt) = &mut draft.mqtt {
        let m = &mut mqtt.value;
        for path in [
            &mut m.credentials_file,
            &mut m.ca_file,
            &mut m.client_cert_file,
            &mut m.client_key_file,
        ]
        .into_iter()
        .flatten()
        {
            resolve(base_dir, path);
        }
    }
    for reader in &mut draft.readers {
        if let Some(file) = &mut reader.value.file {
            resolve(base_dir, file);
        }
    }
}

/// Checks an id that becomes an MQTT topic level or names something in messages.
pub(crate) fn check_id(noun: &str, id: &str) -> Result<(), String> {
    if !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(())
    } else {
        Err(format!(
            "bad {noun} {id:?}: expected 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'"
        ))
    }
}

fn check_gateway(draft: &Draft, reporter: &mut Reporter<'_, '_>) {
    let Some(gateway) = &draft.gateway else {
        return;
    };
    if let Err(message) = check_id("store id", &gateway.value.store) {
        reporter.error(gateway.place, &[key("store")], message);
    }
    if let Err(message) = check_id("gateway id", &gateway.value.id) {
        reporter.error(gateway.place, &[key("id")], message);
    }
}

/// An inclusive duration range check, skipped for dropped (already reported) keys.
pub(crate) fn check_span<T>(
    item: &Item<T>,
    name: &str,
    value: Duration,
    min: Duration,
    max: Duration,
    reporter: &mut Reporter<'_, '_>,
) {
    if !item.is_tainted(name) && !(min..=max).contains(&value) {
        let message = format!(
            "{} is out of range (expected {}..={})",
            format_duration(value),
            format_duration(min),
            format_duration(max)
        );
        reporter.error(item.place, &[key(name)], message);
    }
}

fn check_float<T>(
    item: &Item<T>,
    name: &str,
    value: f64,
    min: f64,
    max: f64,
    reporter: &mut Reporter<'_, '_>,
) {
    if !item.is_tainted(name) && !(min..=max).contains(&value) {
        reporter.error(
            item.place,
            &[key(name)],
            format!("{value} is out of range (expected {min}..={max})"),
        );
    }
}

fn check_count<T>(
    item: &Item<T>,
    name: &str,
    value: u32,
    min: u32,
    max: u32,
    reporter: &mut Reporter<'_, '_>,
) {
    if !item.is_tainted(name) && !(min..=max).contains(&value) {
        reporter.error(
            item.place,
            &[key(name)],
            format!("{value} is out of range (expected {min}..={max})"),
        );
    }
}

/// A file the daemon will open (TLS files): it must be a readable regular file of at most
/// [`super::small_file::MAX_TLS_FILE_BYTES`].
pub(crate) fn check_readable_file(path: &Path) -> Result<(), String> {
    super::small_file::open_regular(path, super::small_file::MAX_TLS_FILE_BYTES)
        .map(|_| ())
        .map_err(|e| format!("cannot read {:?}: {e}", path.display().to_string()))
}

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn check_mqtt(draft: &mut Draft, reporter: &mut Reporter<'_, '_>) {
    let default_client_id = draft
        .gateway
        .as_ref()
        .map(|g| format!("shelfd-{}-{}", g.value.store, g.value.id));
    let Some(mqtt) = &mut draft.mqtt else { return };
    let place = mqtt.place;
    let client_id_given = reporter
        .doc()
        .get(&place.doc_path(&[key("client_id")]))
        .is_some();
    if !client_id_given {
        mqtt.value.client_id = default_client_id.unwrap_or_default();
    } else if !mqtt.is_tainted("client_id") {
        let id = &mqtt.value.client_id;
        if id.is_empty()
            || id.len() > 256
            || id.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            reporter.error(
                place,
                &[key("client_id")],
                format!("bad client id {id:?}: expected 1 to 256 characters without whitespace"),
            );
        }
    }
    let mqtt = &*mqtt;
    let m = &mqtt.value;

    if let Some(path) = &m.credentials_file {
        if let Some(warning) = super::small_file::exposure_warning(path) {
            tracing::warn!("mqtt.credentials_file: {warning}");
        }
        if let Err(e) = MqttCredentials::load(path) {
            reporter.error(place, &[key("credentials_file")], e.to_string());
        }
    }
    let url_known = !mqtt.is_tainted("url");
    let tls_files = [
        ("ca_file", &m.ca_file),
        ("client_cert_file", &m.client_cert_file),
        ("client_key_file", &m.client_key_file),
    ];
    for (name, path) in tls_files {
        let Some(path) = path else { continue };
        if url_known && !m.url.tls {
            let message = format!(
                "{name} is only used with TLS, but the url {:?} is mqtt://; use mqtts://",
                m.url.to_string()
            );
            reporter.error(place, &[key(name)], message);
        }
        if let Err(message) = check_readable_file(path) {
            reporter.error(place, &[key(name)], message);
        }
    }
    match (&m.client_cert_file, &m.client_key_file) {
        (Some(_), None) if !mqtt.is_tainted("client_key_file") => {
            reporter.error(
                place,
                &[key("client_cert_file")],
                "client_cert_file needs client_key_file (the certificate's private key)",
            );
        }
        (None, Some(_)) if !mqtt.is_tainted("client_cert_file") => {
            reporter.error(
                place,
                &[key("client_key_file")],
                "client_key_file needs client_cert_file (the certificate of the key)",
            );
        }
        _ => {}
    }
    if let Err(message) = check_topic_prefix(&m.topic_prefix) {
        reporter.error(place, &[key("topic_prefix")], message);
    }
    check_span(
        mqtt,
        "keep_alive",
        m.keep_alive,
        secs(5),
        secs(3600),
        reporter,
    );
    if !mqtt.is_tainted("outbox_max_entries") && m.outbox_max_entries < 1000 {
        reporter.error(
            place,
            &[key("outbox_max_entries")],
            format!(
                "{} is too small (expected at least 1000)",
                m.outbox_max_entries
            ),
        );
    }
    if !mqtt.is_tainted("outbox_max_bytes") && m.outbox_max_bytes < 1 << 20 {
        let message = format!(
            "{} is too small (expected at least 1MiB)",
            format_size(m.outbox_max_bytes)
        );
        reporter.error(place, &[key("outbox_max_bytes")], message);
    }
}

/// One or more `/`-separated levels of `[A-Za-z0-9_.-]`: no wildcards, no empty levels.
fn check_topic_prefix(prefix: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("bad topic prefix {prefix:?}: {why}"));
    if prefix.is_empty() {
        return bad("expected one or more levels, e.g. \"shelfd/v1\"");
    }
    if prefix.starts_with('/') || prefix.ends_with('/') {
        return bad("no leading or trailing '/'");
    }
    if prefix.contains(['+', '#']) {
        return bad("the wildcards '+' and '#' are not allowed");
    }
    if prefix.split('/').any(str::is_empty) {
        return bad("empty level ('//')");
    }
    if !prefix
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-/".contains(&b))
    {
        return bad("levels may contain only A-Z, a-z, 0-9, '_', '-' and '.'");
    }
    Ok(())
}

fn check_reconcile(item: &Item<ReconcileConfig>, reporter: &mut Reporter<'_, '_>) {
    const MIN: u64 = 60;
    const HOUR: u64 = 3600;
    const DAY: u64 = 86_400;
    let c = &item.value;
    let zero = Duration::ZERO;
    check_float(item, "min_rssi_dbm", c.min_rssi_dbm, -120.0, 0.0, reporter);
    check_float(item, "rssi_ref_dbm", c.rssi_ref_dbm, -120.0, 0.0, reporter);
    check_span(
        item,
        "evidence_half_life",
        c.evidence_half_life,
        secs(1),
        secs(10 * MIN),
        reporter,
    );
    check_count(
        item,
        "arrive_min_reads",
        c.arrive_min_reads,
        1,
        100,
        reporter,
    );
    check_span(
        item,
        "arrive_dwell",
        c.arrive_dwell,
        zero,
        secs(10 * MIN),
        reporter,
    );
    check_span(
        item,
        "candidate_timeout",
        c.candidate_timeout,
        secs(1),
        secs(HOUR),
        reporter,
    );
    check_float(item, "move_ratio", c.move_ratio, 1.1, 100.0, reporter);
    check_float(
        item,
        "cross_read_margin_db",
        c.cross_read_margin_db,
        0.0,
        60.0,
        reporter,
    );
    check_span(
        item,
        "weak_arrive_dwell",
        c.weak_arrive_dwell,
        zero,
        secs(10 * MIN),
        reporter,
    );
    check_span(
        item,
        "move_dwell",
        c.move_dwell,
        zero,
        secs(10 * MIN),
        reporter,
    );
    check_count(
        item,
        "depart_missed_reads",
        c.depart_missed_reads,
        1,
        1000,
        reporter,
    );
    check_span(
        item,
        "depart_min_absence",
        c.depart_min_absence,
        secs(1),
        secs(DAY),
        reporter,
    );
    check_span(
        item,
        "initial_reread_interval",
        c.initial_reread_interval,
        Duration::from_millis(100),
        secs(HOUR),
        reporter,
    );
    check_span(
        item,
        "reader_silence",
        c.reader_silence,
        secs(1),
        secs(HOUR),
        reporter,
    );
    check_count(item, "pos_min_reads", c.pos_min_reads, 1, 100, reporter);
    check_count(item, "exit_min_reads", c.exit_min_reads, 1, 100, reporter);
    check_span(
        item,
        "sold_hold_off",
        c.sold_hold_off,
        zero,
        secs(365 * DAY),
        reporter,
    );
    check_span(
        item,
        "departed_memory",
        c.departed_memory,
        zero,
        secs(7 * DAY),
        reporter,
    );
    check_span(
        item,
        "settle_quiet",
        c.settle_quiet,
        zero,
        secs(HOUR),
        reporter,
    );
    check_span(
        item,
        "baseline_window",
        c.baseline_window,
        zero,
        secs(HOUR),
        reporter,
    );
    check_count(
        item,
        "low_stock_rearm",
        c.low_stock_rearm,
        0,
        10_000,
        reporter,
    );
    check_span(
        item,
        "forecast_horizon",
        c.forecast_horizon,
        secs(60),
        secs(7 * DAY),
        reporter,
    );
    check_span(
        item,
        "depletion_half_life",
        c.depletion_half_life,
        secs(10),
        secs(7 * DAY),
        reporter,
    );
    check_span(
        item,
        "checkpoint_interval",
        c.checkpoint_interval,
        secs(1),
        secs(DAY),
        reporter,
    );
    let pairs = [
        (
            "depart_max_absence",
            c.depart_max_absence,
            "depart_min_absence",
            c.depart_min_absence,
        ),
        ("settle_max", c.settle_max, "settle_quiet", c.settle_quiet),
    ];
    for (upper, upper_value, lower, lower_value) in pairs {
        if upper_value < lower_value && !item.is_tainted(upper) && !item.is_tainted(lower) {
            let message = format!(
                "{} is less than {lower} ({}); it must be at least that",
                format_duration(upper_value),
                format_duration(lower_value)
            );
            reporter.error(item.place, &[key(upper)], message);
        }
    }
}

const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// A level, or comma-separated directives `level` / `target=level` / `target[span]=level`
/// (a subset of tracing's EnvFilter syntax; a bare target is rejected as a likely typo).
fn check_log_level(spec: &str) -> Result<(), String> {
    let bad = |why: String| {
        Err(format!(
            "bad log level {spec:?}: {why} (expected error, warn, info, debug, trace or directives like \"info,shelfd_core::reconcile=debug\")"
        ))
    };
    let is_level = |s: &str| LEVELS.iter().any(|l| l.eq_ignore_ascii_case(s));
    if spec.trim().is_empty() {
        return bad("empty".to_owned());
    }
    for directive in spec.split(',').map(str::trim) {
        if directive.is_empty() {
            return bad("empty directive".to_owned());
        }
        let Some((target, level)) = directive.rsplit_once('=') else {
            if is_level(directive) {
                continue;
            }
            return bad(format!("{directive:?} is not a level"));
        };
        if !is_level(level.trim()) {
            return bad(format!("{:?} is not a level", level.trim()));
        }
        let target_name = target.split('[').next().unwrap_or_default().trim();
        let target_ok = target_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_:-.".contains(&b));
        let span_ok = !target.contains('[') || target.trim_end().ends_with(']');
        if (target_name.is_empty() && !target.contains('[')) || !target_ok || !span_ok {
            return bad(format!("{:?} is not a target", target.trim()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels() {
        for ok in [
            "info",
            "WARN",
            "info,shelfd=debug",
            "shelfd_core::reconcile=trace",
            "warn, shelfd[engine]=debug",
            "off",
        ] {
            assert_eq!(check_log_level(ok), Ok(()), "{ok:?}");
        }
        for bad in ["", "verbose", "info,", "shelfd=loud", "=debug", "a b=info"] {
            assert!(check_log_level(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn topic_prefixes() {
        for ok in ["shelfd/v1", "a", "acme.retail/shelfd-v1/eu_1"] {
            assert_eq!(check_topic_prefix(ok), Ok(()), "{ok:?}");
        }
        for bad in ["", "/a", "a/", "a//b", "a/+/b", "#", "a b", "ä"] {
            assert!(check_topic_prefix(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ids() {
        assert_eq!(check_id("store id", "store-0042"), Ok(()));
        assert!(check_id("store id", "").is_err());
        assert!(check_id("store id", "a/b").is_err());
        assert!(check_id("store id", &"x".repeat(65)).is_err());
    }
}
