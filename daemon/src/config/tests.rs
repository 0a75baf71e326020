//! Tests of the whole config module: the example and demo configs are valid, and one test per
//! class of error asserts the message and the line. Grammar details (durations, sizes, URLs,
//! GTINs) are tested next to their parsers.

use super::*;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

const EXAMPLE: &str = include_str!("../../../config/shelfd.example.toml");
const DEMO: &str = include_str!("../../../config/demo.toml");

/// A minimal valid config; tests append to it or replace parts of it.
const BASE: &str = r#"[gateway]
store = "store-0042"
id = "gw-1"

[[reader]]
id = "r1"
protocol = "mercury"
port = "/dev/ttyUSB0"
antennas = { 1 = "shelf-a1" }

[[location]]
id = "shelf-a1"
kind = "shelf"
"#;

fn parse_str(text: &str) -> Result<Config, ConfigErrors> {
    parse(text, Path::new("shelfd.toml"))
}

fn valid(text: &str) -> Config {
    match parse_str(text) {
        Ok(config) => config,
        Err(errors) => panic!("expected a valid config, got:\n{errors}"),
    }
}

/// The rendered errors of an invalid config.
fn errors_of(text: &str) -> Vec<String> {
    match parse_str(text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(errors) => {
            assert!(!errors.is_empty());
            errors.iter().map(ToString::to_string).collect()
        }
    }
}

/// The only error of an invalid config.
fn error_of(text: &str) -> String {
    let errors = errors_of(text);
    assert_eq!(
        errors.len(),
        1,
        "expected exactly one error, got {errors:#?}"
    );
    errors.into_iter().next().unwrap_or_default()
}

/// 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    match text.lines().position(|l| l.contains(needle)) {
        Some(i) => i + 1,
        None => panic!("{needle:?} not in the text"),
    }
}

/// The `n`-th (1-based) line of `text` containing `needle`.
fn nth_line_of(text: &str, needle: &str, n: usize) -> usize {
    match text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .nth(n - 1)
    {
        Some((i, _)) => i + 1,
        None => panic!("{needle:?} not {n} times in the text"),
    }
}

// ---- valid configs ----------------------------------------------------------------------------

#[test]
fn example_config_is_valid_and_documents_the_defaults() {
    let config = parse(EXAMPLE, Path::new("config/shelfd.example.toml"))
        .unwrap_or_else(|e| panic!("example config:\n{e}"));
    assert_eq!(config.gateway.store, "store-0042");
    assert_eq!(config.mqtt.client_id, "shelfd-store-0042-gw-1");
    assert_eq!(
        config.mqtt.url,
        MqttUrl {
            tls: false,
            host: "127.0.0.1".into(),
            port: 1883
        }
    );
    assert_eq!(config.mqtt.outbox_max_bytes, 512 << 20);
    // The example's [reconcile] spells out exactly the defaults.
    assert_eq!(config.reconcile, ReconcileConfig::default());
    assert_eq!(
        config.readers[0].antennas.get(&2).map(String::as_str),
        Some("shelf-a1")
    );
    assert_eq!(
        config.readers[3].file(),
        Some(Path::new("config/reads.jsonl"))
    );
    assert_eq!(config.readers[3].baud_rate(), None);
    assert_eq!(config.readers[1].baud_rate(), Some(115_200));
    assert_eq!(
        config.products[0].epc_prefix_bytes(),
        vec![0xe2, 0x80, 0x11]
    );
    assert_eq!(config.metrics.listen, Some(([127, 0, 0, 1], 9464).into()));
    assert_eq!(config.location_index("dock-1"), Some(5));
    assert_eq!(config.reader_index("pos"), Some(1));
    assert_eq!(config.reader_index("nope"), None);
    let shelf_bus = &config.readers[4];
    assert_eq!(
        (shelf_bus.protocol(), shelf_bus.nodes()),
        (Protocol::ShelfLink, &[1, 2][..])
    );
    assert!(shelf_bus.antennas.is_empty());
    // The second lane names no reader: the only shelf-link reader with node 2 is filled in.
    assert_eq!(config.lanes[1].reader.as_deref(), Some("shelf-bus"));
    assert_eq!(
        (config.lanes[0].unit_mg(), config.lanes[0].tolerance_mg()),
        (1_012_500, 60_000)
    );
    assert_eq!(config.lanes[1].tolerance_mg(), 62_500);
}

#[test]
fn example_config_mentions_every_key() {
    let keys = [
        "store",
        "id",
        "state_dir",
        "url",
        "client_id",
        "credentials_file",
        "ca_file",
        "client_cert_file",
        "client_key_file",
        "topic_prefix",
        "keep_alive",
        "outbox_max_entries",
        "outbox_max_bytes",
        "protocol",
        "port",
        "baud",
        "file",
        "speed",
        "antennas",
        "nodes",
        "power_dbm",
        "watchdog",
        "address",
        "session",
        "search_mode",
        "population",
        "rf_mode",
        "antenna_power_dbm",
        "keepalive",
        "reset_to_factory",
        "max_message_size",
        "kind",
        "name",
        "planogram",
        "safety_stock",
        "location",
        "door_gpio",
        "lights",
        "dwell",
        "quiet",
        "asn_ttl",
        "chip",
        "line",
        "direction",
        "active_low",
        "epc_prefix",
        "sku",
        "reader",
        "node",
        "lane",
        "unit_weight",
        "tolerance",
        "tagged",
        "min_rssi_dbm",
        "rssi_ref_dbm",
        "evidence_half_life",
        "arrive_min_reads",
        "arrive_dwell",
        "candidate_timeout",
        "move_ratio",
        "move_dwell",
        "weak_arrive_dwell",
        "depart_missed_reads",
        "depart_min_absence",
        "depart_max_absence",
        "initial_reread_interval",
        "reader_silence",
        "pos_min_reads",
        "exit_min_reads",
        "sold_hold_off",
        "departed_memory",
        "settle_quiet",
        "settle_max",
        "baseline_window",
        "checkpoint_interval",
        "undecoded",
        "low_stock_rearm",
        "forecast_horizon",
        "depletion_half_life",
        "listen",
        "level",
        "sgln",
        "enabled",
        "time_zone_offset",
        "location_uri_prefix",
        "shipment_uri_prefix",
    ];
    for key in keys {
        let documented = EXAMPLE.lines().any(|l| {
            let l = l.trim_start_matches(['#', ' ']);
            l.starts_with(&format!("{key} = "))
        });
        assert!(
            documented,
            "key {key:?} has no example line in shelfd.example.toml"
        );
    }
}

#[test]
fn demo_config_is_valid() {
    let config =
        parse(DEMO, Path::new("config/demo.toml")).unwrap_or_else(|e| panic!("demo config:\n{e}"));
    assert_eq!(
        (config.gateway.store.as_str(), config.gateway.id.as_str()),
        ("demo-store", "gw-1")
    );
    assert_eq!(
        config.gateway.state_dir,
        PathBuf::from("/tmp/shelfd-demo/state")
    );
    type ReaderView<'a> = (&'a str, Protocol, Option<&'a Path>, Vec<(u16, &'a str)>);
    let readers: Vec<ReaderView<'_>> = config
        .readers
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                r.protocol(),
                r.port(),
                r.antennas.iter().map(|(a, l)| (*a, l.as_str())).collect(),
            )
        })
        .collect();
    let port = |name: &str| PathBuf::from("/tmp/shelfd-demo/ports").join(name);
    let (p1, p2, p3, p4, p5) = (
        port("r1-mercury"),
        port("r2-magicrf"),
        port("r3-r2000"),
        port("r4-line"),
        port("n1-shelf-link"),
    );
    assert_eq!(
        readers,
        [
            (
                "r1",
                Protocol::Mercury,
                Some(p1.as_path()),
                vec![(1, "shelf-a1"), (2, "shelf-a1"), (3, "shelf-a2")]
            ),
            (
                "r2",
                Protocol::MagicRf,
                Some(p2.as_path()),
                vec![(1, "shelf-b1")]
            ),
            (
                "r3",
                Protocol::R2000,
                Some(p3.as_path()),
                vec![(1, "pos-1"), (2, "exit-1")]
            ),
            (
                "r4",
                Protocol::Line,
                Some(p4.as_path()),
                vec![(1, "backroom")]
            ),
            ("r5", Protocol::Llrp, None, vec![(1, "dock-1")]),
            ("n1", Protocol::ShelfLink, Some(p5.as_path()), vec![]),
        ]
    );
    assert_eq!(config.readers[5].nodes(), [1]);
    assert_eq!(
        (
            config.lanes[0].reader.as_deref(),
            config.lanes[0].location.as_str()
        ),
        (Some("n1"), "shelf-c1")
    );
    let kinds: Vec<(&str, LocationKind)> = config
        .locations
        .iter()
        .map(|l| (l.id.as_str(), l.kind))
        .collect();
    use LocationKind::*;
    assert_eq!(
        kinds,
        [
            ("shelf-a1", Shelf),
            ("shelf-a2", Shelf),
            ("shelf-b1", Shelf),
            ("shelf-c1", Shelf),
            ("backroom", Backroom),
            ("pos-1", Pos),
            ("exit-1", Exit),
            ("dock-1", Dock)
        ]
    );
    assert_eq!(config.docks.len(), 1);
    // Shortened knobs, so that the demo shows every kind of event within a minute.
    let r = &config.reconcile;
    assert_eq!(
        (r.baseline_window, r.settle_quiet, r.settle_max),
        (
            Duration::from_secs(10),
            Duration::from_secs(2),
            Duration::from_secs(10)
        )
    );
    assert_eq!(
        (r.depart_min_absence, r.depart_max_absence),
        (Duration::from_secs(5), Duration::from_secs(15))
    );
}

#[test]
fn defaults_apply_when_sections_are_absent() {
    let config = valid(BASE);
    assert_eq!(config.gateway.state_dir, PathBuf::from("/var/lib/shelfd"));
    assert_eq!(config.mqtt.url.to_string(), "mqtt://127.0.0.1:1883");
    assert_eq!(config.mqtt.client_id, "shelfd-store-0042-gw-1");
    assert_eq!(config.mqtt.topic_prefix, "shelfd/v1");
    assert_eq!(config.mqtt.keep_alive, Duration::from_secs(30));
    assert_eq!(config.mqtt.outbox_max_entries, 1_000_000);
    assert_eq!(config.mqtt.outbox_max_bytes, 512 * 1024 * 1024);
    assert_eq!(config.readers[0].watchdog, Duration::from_secs(10));
    assert_eq!(config.readers[0].baud_rate(), Some(115_200));
    assert_eq!(config.reconcile, ReconcileConfig::default());
    assert_eq!(config.metrics.listen, None);
    assert_eq!(config.log.level, "info");
    assert_eq!(config.epcis, EpcisConfig::default());
    assert!(!config.epcis.enabled);
    assert_eq!(config.epcis.time_zone_offset, "+00:00");
    assert_eq!(config.locations[0].sgln, None);
}

#[test]
fn reconcile_defaults_are_the_documented_ones() {
    let r = ReconcileConfig::default();
    assert_eq!(
        (r.min_rssi_dbm, r.rssi_ref_dbm, r.move_ratio),
        (-85.0, -60.0, 3.0)
    );
    assert_eq!(
        (
            r.arrive_min_reads,
            r.depart_missed_reads,
            r.pos_min_reads,
            r.exit_min_reads
        ),
        (3, 6, 2, 2)
    );
    let s = Duration::from_secs;
    assert_eq!(
        [
            r.evidence_half_life,
            r.arrive_dwell,
            r.candidate_timeout,
            r.move_dwell,
            r.depart_min_absence,
            r.depart_max_absence
        ],
        [s(10), s(2), s(30), s(5), s(20), s(1800)]
    );
    assert_eq!(
        [
            r.initial_reread_interval,
            r.reader_silence,
            r.sold_hold_off,
            r.departed_memory,
            r.settle_quiet,
            r.settle_max
        ],
        [s(5), s(30), s(86_400), s(3600), s(30), s(120)]
    );
    assert_eq!([r.baseline_window, r.checkpoint_interval], [s(120), s(600)]);
    assert_eq!(r.undecoded, UndecodedPolicy::Track);
    assert_eq!((r.cross_read_margin_db, r.low_stock_rearm), (6.0, 2));
}

#[test]
fn store_rule_and_cross_read_knobs_are_range_checked() {
    let text = format!("{BASE}[reconcile]\ncross_read_margin_db = 61\nlow_stock_rearm = 10001\n");
    let errors = errors_of(&text).join("\n");
    assert!(
        errors.contains("reconcile.cross_read_margin_db: 61 is out of range (expected 0..=60)"),
        "{errors}"
    );
    assert!(
        errors.contains("reconcile.low_stock_rearm: 10001 is out of range (expected 0..=10000)"),
        "{errors}"
    );
    let config = valid(&format!(
        "{BASE}[reconcile]\ncross_read_margin_db = 0\nlow_stock_rearm = 0\n"
    ));
    assert_eq!(
        (
            config.reconcile.cross_read_margin_db,
            config.reconcile.low_stock_rearm
        ),
        (0.0, 0)
    );
}

#[test]
fn mqtts_url_is_parsed_and_client_id_can_be_set() {
    let text =
        format!("{BASE}[mqtt]\nurl = \"mqtts://broker.example.com\"\nclient_id = \"gw-one\"\n");
    let config = valid(&text);
    assert_eq!(
        config.mqtt.url,
        MqttUrl {
            tls: true,
            host: "broker.example.com".into(),
            port: 8883
        }
    );
    assert_eq!(config.mqtt.client_id, "gw-one");
}

// ---- one test per class of error -------------------------------------------------------------

#[test]
fn documented_message_shape() {
    let text = BASE
        .replace("protocol = \"mercury\"", "protocol = \"mercuri\"")
        .replace("id = \"r1\"", "id = \"r2\"");
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: reader \"r2\": protocol: unknown protocol \"mercuri\" (expected one of mercury, magicrf, r2000, line, \
             replay, shelf-link, llrp)",
            line_of(&text, "mercuri")
        )
    );
}

#[test]
fn toml_syntax_error_has_line_and_column() {
    let text = format!("{BASE}[reconcile]\nmove_ratio = = 3\n");
    let errors = parse_str(&text).expect_err("syntax error");
    assert_eq!(errors.len(), 1);
    let error = &errors.0[0];
    assert_eq!(error.line, Some(line_of(&text, "move_ratio")));
    assert!(
        error
            .message
            .starts_with("TOML syntax error at column 14: "),
        "{}",
        error.message
    );
    assert_eq!(error.field, "");
}

#[test]
fn unknown_keys_are_reported_with_their_lines_all_of_them() {
    let text = BASE.replace(
        "port = \"/dev/ttyUSB0\"",
        "port = \"/dev/ttyUSB0\"\nbuad = 9600\nantena = 2",
    );
    let errors = errors_of(&text);
    let expected = "(expected one of id, protocol, port, baud, file, speed, antennas, nodes, framing, power_dbm, watchdog, address, session, search_mode, population, rf_mode, antenna_power_dbm, keepalive, reset_to_factory, max_message_size)";
    assert_eq!(
        errors,
        [
            format!(
                "shelfd.toml:{}: reader \"r1\": buad: unknown key \"buad\" {expected}",
                line_of(&text, "buad")
            ),
            format!(
                "shelfd.toml:{}: reader \"r1\": antena: unknown key \"antena\" {expected}",
                line_of(&text, "antena")
            ),
        ]
    );
}

#[test]
fn unknown_sections_and_single_tables_for_arrays() {
    let text = format!("{BASE}[readers]\nid = \"x\"\n");
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: readers: unknown section \"readers\" (expected one of gateway, mqtt, reader, location, dock, gpio, \
             product, lane, reconcile, metrics, log, epcis)",
            line_of(&text, "[readers]")
        )
    );
    let text = BASE.replace("[[location]]", "[location]");
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: location: expected [[location]] tables (one per location), found a single [location] table; write \
             [[location]]",
            line_of(&text, "[location]")
        )
    );
}

#[test]
fn wrong_types_name_what_was_expected_and_found() {
    let text = BASE.replace(
        "port = \"/dev/ttyUSB0\"",
        "port = \"/dev/ttyUSB0\"\nbaud = \"fast\"",
    );
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: reader \"r1\": baud: wrong type: expected an integer 0..=4294967295, found string \"fast\"",
            line_of(&text, "baud")
        )
    );
    let text = format!(
        "{BASE}[[gpio]]\nname = \"door\"\nchip = \"/dev/gpiochip0\"\nline = 3\ndirection = \"input\"\nactive_low = \"yes\"\n"
    );
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: gpio \"door\": active_low: wrong type: expected a boolean, found string \"yes\"",
            line_of(&text, "active_low")
        )
    );
    // TOML dates and times are not durations.
    let text =
        format!("{BASE}[mqtt]\nkeep_alive = 00:00:30\noutbox_max_entries = 99999999999999999999\n");
    assert_eq!(
        errors_of(&text),
        [
            format!(
                "shelfd.toml:{}: mqtt.keep_alive: wrong type: expected a duration string like \"10s\", found the date/time 00:00:30",
                line_of(&text, "keep_alive")
            ),
            format!(
                "shelfd.toml:{}: mqtt.outbox_max_entries: wrong type: expected a non-negative integer, found integer \
                 99999999999999999999",
                line_of(&text, "outbox_max_entries")
            ),
        ]
    );
}

#[test]
fn missing_required_keys_point_at_the_table() {
    let text = BASE.replace("protocol = \"mercury\"\n", "");
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: reader \"r1\": protocol: missing required key \"protocol\"",
            line_of(&text, "[[reader]]")
        )
    );
    let text = BASE.replace("[gateway]\nstore = \"store-0042\"\nid = \"gw-1\"\n", "");
    assert_eq!(
        error_of(&text),
        "shelfd.toml: gateway: missing required section [gateway] (with store and id)"
    );
    let text = BASE.replace("port = \"/dev/ttyUSB0\"\n", "");
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: reader \"r1\": port: required for protocol mercury: the serial device, e.g. \"/dev/serial/by-id/usb-…\"",
            line_of(&text, "[[reader]]")
        )
    );
}

#[test]
fn duplicate_ids_name_the_first_definition() {
    let text = format!(
        "{BASE}[[reader]]\nid = \"r1\"\nprotocol = \"line\"\nport = \"/dev/ttyUSB1\"\nantennas = {{ 1 = \"shelf-a1\" }}\n\
         [[location]]\nid = \"shelf-a1\"\nkind = \"backroom\"\n\
         [[dock]]\nid = \"d\"\nlocation = \"dk\"\n[[dock]]\nid = \"d\"\nlocation = \"dk2\"\n\
         [[location]]\nid = \"dk\"\nkind = \"dock\"\n[[location]]\nid = \"dk2\"\nkind = \"dock\"\n\
         [[gpio]]\nname = \"g\"\nchip = \"/dev/gpiochip0\"\nline = 1\ndirection = \"input\"\n\
         [[gpio]]\nname = \"g\"\nchip = \"/dev/gpiochip0\"\nline = 2\ndirection = \"input\"\n\
         [[product]]\nepc_prefix = \"E280\"\nsku = \"A\"\n[[product]]\nepc_prefix = \"e280\"\nsku = \"B\"\n"
    );
    let errors = errors_of(&text);
    let expected = [
        format!(
            "shelfd.toml:{}: reader \"r1\": id: duplicate reader id \"r1\" (first defined on line 6)",
            nth_line_of(&text, "id = \"r1\"", 2)
        ),
        format!(
            "shelfd.toml:{}: location \"shelf-a1\": id: duplicate location id \"shelf-a1\" (first defined on line 12)",
            nth_line_of(&text, "id = \"shelf-a1\"", 2)
        ),
        format!(
            "shelfd.toml:{}: dock \"d\": id: duplicate dock id \"d\" (first defined on line {})",
            nth_line_of(&text, "id = \"d\"", 2),
            line_of(&text, "id = \"d\"")
        ),
        format!(
            "shelfd.toml:{}: gpio \"g\": name: duplicate gpio name \"g\" (first defined on line {})",
            nth_line_of(&text, "name = \"g\"", 2),
            line_of(&text, "name = \"g\"")
        ),
        format!(
            "shelfd.toml:{}: product \"e280\": epc_prefix: duplicate epc_prefix \"e280\" (first defined on line {})",
            line_of(&text, "\"e280\""),
            line_of(&text, "\"E280\"")
        ),
    ];
    assert_eq!(errors, expected);
}

#[test]
fn bad_ids_are_rejected() {
    let text = BASE.replace("store = \"store-0042\"", "store = \"store/42\"");
    assert_eq!(
        error_of(&text),
        "shelfd.toml:2: gateway.store: bad store id \"store/42\": expected 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'"
    );
}

#[test]
fn antennas_must_map_to_known_locations() {
    let text = BASE.replace(
        "antennas = { 1 = \"shelf-a1\" }",
        "antennas = { 1 = \"shelf-a1\", 2 = \"shelf-zz\", 65 = \"shelf-a1\" }",
    );
    let line = line_of(&text, "antennas");
    assert_eq!(
        errors_of(&text),
        [
            format!(
                "shelfd.toml:{line}: reader \"r1\": antennas.65: bad antenna \"65\": expected an antenna number 1..=64"
            ),
            // Reported too: the dropped antenna does not hide the next problem.
            format!(
                "shelfd.toml:{line}: reader \"r1\": antennas.2: unknown location \"shelf-zz\" (no [[location]] has that id)"
            ),
        ]
    );
    let text = BASE.replace("antennas = { 1 = \"shelf-a1\" }", "antennas = {}");
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: reader \"r1\": antennas: at least one antenna is required, e.g. antennas = {{ 1 = \"shelf-a1\" }}",
            line_of(&text, "antennas")
        )
    );
}

#[test]
fn docks_need_dock_locations_and_matching_gpios() {
    let text = format!(
        "{BASE}[[dock]]\nid = \"dock-1\"\nlocation = \"shelf-a1\"\ndoor_gpio = \"light\"\nlights = {{ problem = \"nope\" }}\n\
         [[gpio]]\nname = \"light\"\nchip = \"/dev/gpiochip0\"\nline = 4\ndirection = \"output\"\n"
    );
    assert_eq!(
        errors_of(&text),
        [
            format!(
                "shelfd.toml:{}: dock \"dock-1\": location: location \"shelf-a1\" is of kind shelf; a dock needs a location of kind dock",
                line_of(&text, "location = \"shelf-a1\"")
            ),
            format!(
                "shelfd.toml:{}: dock \"dock-1\": door_gpio: gpio \"light\" is an output; door_gpio needs an input",
                line_of(&text, "door_gpio")
            ),
            format!(
                "shelfd.toml:{}: dock \"dock-1\": lights.problem: unknown gpio \"nope\" (no [[gpio]] has that name)",
                line_of(&text, "lights")
            ),
        ]
    );
}

#[test]
fn dock_lights_quiet_and_asn_ttl_are_checked() {
    let gpios = "[[gpio]]\nname = \"door\"\nchip = \"/dev/gpiochip0\"\nline = 1\ndirection = \"input\"\n\
                 [[gpio]]\nname = \"green\"\nchip = \"/dev/gpiochip0\"\nline = 2\ndirection = \"output\"\n";
    let dock = |lines: &str| {
        format!(
            "{BASE}[[location]]\nid = \"dk\"\nkind = \"dock\"\n[[dock]]\nid = \"d\"\nlocation = \"dk\"\n{lines}{gpios}"
        )
    };
    let text = dock("lights = {}\n");
    assert_eq!(
        errors_of(&text),
        [format!(
            "shelfd.toml:{}: dock \"d\": lights: lights needs at least one of receiving, complete, problem",
            line_of(&text, "lights")
        )]
    );
    let text =
        dock("lights = { complete = \"green\", problem = \"green\", receiving = \"door\" }\n");
    assert_eq!(
        errors_of(&text),
        [
            format!(
                "shelfd.toml:{}: dock \"d\": lights.receiving: gpio \"door\" is an input; lights.receiving needs an output",
                line_of(&text, "lights")
            ),
            format!(
                "shelfd.toml:{}: dock \"d\": lights.problem: gpio \"green\" is already the complete light",
                line_of(&text, "lights")
            ),
        ]
    );
    let text = dock("lights = { complete = \"green\", blue = \"green\" }\n");
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("lights.blue: unknown key \"blue\""),
        "{errors:?}"
    );
    let text = dock("door_gpio = \"door\"\nquiet = \"10s\"\n");
    assert_eq!(
        errors_of(&text),
        [format!(
            "shelfd.toml:{}: dock \"d\": quiet: quiet applies only to docks without door_gpio (a door sensor ends sessions with dwell)",
            line_of(&text, "quiet")
        )]
    );
    let text = dock("quiet = \"2h\"\nasn_ttl = \"30m\"\n");
    assert_eq!(
        errors_of(&text),
        [
            format!(
                "shelfd.toml:{}: dock \"d\": quiet: 2h is out of range (expected 1s..=1h)",
                line_of(&text, "quiet")
            ),
            format!(
                "shelfd.toml:{}: dock \"d\": asn_ttl: 30m is out of range (expected 1h..=365d)",
                line_of(&text, "asn_ttl")
            ),
        ]
    );
    let config = parse(
        &dock("quiet = \"45s\"\nlights = { complete = \"green\" }\n"),
        Path::new("shelfd.toml"),
    )
    .expect("valid");
    let d = &config.docks[0];
    assert_eq!(
        (d.quiet, d.asn_ttl),
        (
            Some(std::time::Duration::from_secs(45)),
            std::time::Duration::from_secs(7 * 24 * 3600)
        )
    );
    assert_eq!(
        d.lights.as_ref().map(|l| l.outputs()),
        Some(vec![("complete", "green")])
    );
}

#[test]
fn epcis_section_is_read_and_every_location_gets_a_uri() {
    let with_sgln = BASE.replace(
        "kind = \"shelf\"",
        "kind = \"shelf\"\nsgln = \"urn:epc:id:sgln:0614141.12345.0\"",
    );
    let config = valid(&format!(
        "{with_sgln}[epcis]\nenabled = true\ntime_zone_offset = \"-05:30\"\n\
         shipment_uri_prefix = \"https://id.example.com/asn/\"\n"
    ));
    assert_eq!(
        config.epcis,
        EpcisConfig {
            enabled: true,
            time_zone_offset: "-05:30".into(),
            location_uri_prefix: None,
            shipment_uri_prefix: Some("https://id.example.com/asn/".into()),
        }
    );
    assert_eq!(
        config.locations[0].sgln.as_deref(),
        Some("urn:epc:id:sgln:0614141.12345.0")
    );
    // A prefix covers locations without an sgln.
    let config = valid(&format!(
        "{BASE}[epcis]\nenabled = true\nlocation_uri_prefix = \"urn:example:s42:loc:\"\n"
    ));
    assert_eq!(
        config.epcis.location_uri_prefix.as_deref(),
        Some("urn:example:s42:loc:")
    );
    // Disabled, nothing is required.
    valid(&format!("{BASE}[epcis]\nenabled = false\n"));
}

#[test]
fn epcis_errors_name_the_field() {
    let text = format!(
        "{}[epcis]\nenabled = true\ntime_zone_offset = \"+1:00\"\nshipment_uri_prefix = \"asn/\"\n",
        BASE.replace(
            "kind = \"shelf\"",
            "kind = \"shelf\"\nsgln = \"urn:epc:id:sgln:0614141.1234.0\""
        )
    );
    assert_eq!(
        errors_of(&text),
        [
            format!(
                "shelfd.toml:{}: location \"shelf-a1\": sgln: bad SGLN \"urn:epc:id:sgln:0614141.1234.0\": company prefix and \
                 location reference must be 12 digits together (expected urn:epc:id:sgln:<company prefix>.<location ref>.<extension>, \
                 e.g. \"urn:epc:id:sgln:0614141.12345.0\")",
                line_of(&text, "sgln")
            ),
            format!(
                "shelfd.toml:{}: epcis.time_zone_offset: bad time zone offset \"+1:00\": expected \"+hh:mm\" or \"-hh:mm\" from \
                 -14:00 to +14:00, e.g. \"+01:00\"",
                line_of(&text, "time_zone_offset")
            ),
            format!(
                "shelfd.toml:{}: epcis.shipment_uri_prefix: bad URI prefix \"asn/\": expected an absolute URI (scheme:…), e.g. \
                 \"https://id.example.com/loc/\"",
                line_of(&text, "shipment_uri_prefix")
            ),
        ]
    );
    // Enabled without a prefix: every location without an sgln is named, at the [epcis] table.
    let text = format!(
        "{BASE}[[location]]\nid = \"backroom\"\nkind = \"backroom\"\n\n[epcis]\nenabled = true\n"
    );
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: epcis.location_uri_prefix: missing: EPCIS is enabled and locations \"shelf-a1\", \"backroom\" have \
             no sgln; set location_uri_prefix (location URIs are the prefix followed by the location id) or give every location an sgln",
            line_of(&text, "[epcis]")
        )
    );
    let text = format!("{BASE}[epcis]\nenabled = \"yes\"\nlocation_uri_prefix = \"urn:x:\"\n");
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: epcis.enabled: wrong type: expected a boolean, found string \"yes\"",
            line_of(&text, "enabled")
        )
    );
}

#[test]
fn bad_durations_name_the_string() {
    let text = format!("{BASE}[mqtt]\nkeep_alive = \"5 sec\"\n[reconcile]\nsettle_quiet = 5\n");
    assert_eq!(
        errors_of(&text),
        [
            format!(
                "shelfd.toml:{}: mqtt.keep_alive: bad duration \"5 sec\": expected a number followed by ms, s, m, h or d",
                line_of(&text, "keep_alive")
            ),
            format!(
                "shelfd.toml:{}: reconcile.settle_quiet: bad duration 5: a duration is a string with a unit, e.g. \"5s\" (units: ms, s, \
                 m, h, d)",
                line_of(&text, "settle_quiet")
            ),
        ]
    );
}

#[test]
fn bad_sizes_name_the_string() {
    let text = format!("{BASE}[mqtt]\noutbox_max_bytes = \"512MB\"\n");
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: mqtt.outbox_max_bytes: bad size \"512MB\": use the binary units B, KiB, MiB or GiB (1 MiB = 1048576 bytes)",
            line_of(&text, "outbox_max_bytes")
        )
    );
    let config = valid(&format!("{BASE}[mqtt]\noutbox_max_bytes = 2097152\n"));
    assert_eq!(config.mqtt.outbox_max_bytes, 2 << 20);
}

#[test]
fn out_of_range_values() {
    let text = format!(
        "{}[mqtt]\nkeep_alive = \"2s\"\noutbox_max_entries = 10\noutbox_max_bytes = \"1KiB\"\n\
         [reconcile]\nmove_ratio = 1.0\nmin_rssi_dbm = -130\narrive_min_reads = 0\ndepart_min_absence = \"1m\"\ndepart_max_absence = \"30s\"\n",
        BASE.replace(
            "port = \"/dev/ttyUSB0\"",
            "port = \"/dev/ttyUSB0\"\nbaud = 12345\npower_dbm = 40.0\nwatchdog = \"0s\""
        )
    );
    let at = |needle: &str| line_of(&text, needle);
    assert_eq!(
        errors_of(&text),
        [
            format!(
                "shelfd.toml:{}: reader \"r1\": baud: 12345 is not a standard baud rate (expected one of 9600, 19200, 38400, 57600, \
                 115200, 230400, 460800, 500000, 576000, 921600)",
                at("baud")
            ),
            format!(
                "shelfd.toml:{}: reader \"r1\": power_dbm: 40 is out of range (expected 0..=33)",
                at("power_dbm")
            ),
            format!(
                "shelfd.toml:{}: reader \"r1\": watchdog: 0s is out of range (expected 1s..=1h)",
                at("watchdog")
            ),
            format!(
                "shelfd.toml:{}: mqtt.keep_alive: 2s is out of range (expected 5s..=1h)",
                at("keep_alive")
            ),
            format!(
                "shelfd.toml:{}: mqtt.outbox_max_entries: 10 is too small (expected at least 1000)",
                at("outbox_max_entries")
            ),
            format!(
                "shelfd.toml:{}: mqtt.outbox_max_bytes: 1KiB is too small (expected at least 1MiB)",
                at("outbox_max_bytes")
            ),
            format!(
                "shelfd.toml:{}: reconcile.move_ratio: 1 is out of range (expected 1.1..=100)",
                at("move_ratio")
            ),
            format!(
                "shelfd.toml:{}: reconcile.min_rssi_dbm: -130 is out of range (expected -120..=0)",
                at("min_rssi_dbm")
            ),
            format!(
                "shelfd.toml:{}: reconcile.arrive_min_reads: 0 is out of range (expected 1..=100)",
                at("arrive_min_reads")
            ),
            format!(
                "shelfd.toml:{}: reconcile.depart_max_absence: 30s is less than depart_min_absence (1m); it must be at least that",
                at("depart_max_absence")
            ),
        ]
    );
}

#[test]
fn invalid_gtins_name_the_expected_check_digit() {
    let text = BASE.replace(
        "kind = \"shelf\"",
        "kind = \"shelf\"\nplanogram = [\n  \"00614141123452\",\n  \"00614141123453\",\n  \"00614141123452\",\n]\nsafety_stock = 2",
    );
    assert_eq!(
        errors_of(&text),
        [
            format!(
                "shelfd.toml:{}: location \"shelf-a1\": planogram #2: invalid GTIN \"00614141123453\": check digit is 3, expected 2",
                line_of(&text, "123453")
            ),
            format!(
                "shelfd.toml:{}: location \"shelf-a1\": planogram #3: duplicate GTIN \"00614141123452\" (already planogram #1)",
                nth_line_of(&text, "123452", 2)
            ),
        ]
    );
    let text = format!(
        "{BASE}[[location]]\nid = \"till\"\nkind = \"pos\"\nplanogram = [\"00614141123452\"]\n"
    );
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: location \"till\": planogram: a planogram is only for shelf and backroom locations, not for kind pos",
            line_of(&text, "planogram")
        )
    );
    let text = BASE.replace("kind = \"shelf\"", "kind = \"shelf\"\nsafety_stock = 2");
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: location \"shelf-a1\": safety_stock: safety_stock needs a planogram (low-stock alerts are per planogram GTIN)",
            line_of(&text, "safety_stock")
        )
    );
}

#[test]
fn files_that_must_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let origin = dir.path().join("shelfd.toml");
    std::fs::write(dir.path().join("good.credentials"), "shelfd\nhunter2\n").expect("write");
    std::fs::write(
        dir.path().join("bad.credentials"),
        "shelfd\nhunter2\nextra\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("ca.pem"), "pem").expect("write");

    let good = format!(
        "{BASE}[mqtt]\nurl = \"mqtts://broker\"\ncredentials_file = \"good.credentials\"\nca_file = \"ca.pem\"\n"
    );
    let config = parse(&good, &origin).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        config.mqtt.credentials_file,
        Some(dir.path().join("good.credentials"))
    );
    assert_eq!(config.mqtt.ca_file, Some(dir.path().join("ca.pem")));

    let text = format!(
        "{BASE}[mqtt]\nurl = \"mqtt://broker\"\ncredentials_file = \"bad.credentials\"\nca_file = \"missing.pem\"\nclient_cert_file = \"ca.pem\"\n"
    );
    let errors: Vec<String> = parse(&text, &origin)
        .expect_err("invalid")
        .iter()
        .map(ToString::to_string)
        .collect();
    let file = origin.display();
    let shown = |name: &str| format!("{:?}", dir.path().join(name).display().to_string());
    let at = |needle: &str| line_of(&text, needle);
    assert_eq!(
        errors,
        [
            format!(
                "{file}:{}: mqtt.credentials_file: credentials file {}: found 3 lines (expected two lines: user name, then password)",
                at("credentials_file"),
                shown("bad.credentials")
            ),
            format!(
                "{file}:{}: mqtt.ca_file: ca_file is only used with TLS, but the url \"mqtt://broker:1883\" is mqtt://; use mqtts://",
                at("ca_file")
            ),
            format!(
                "{file}:{}: mqtt.ca_file: cannot read {}: No such file or directory (os error 2)",
                at("ca_file"),
                shown("missing.pem")
            ),
            format!(
                "{file}:{}: mqtt.client_cert_file: client_cert_file is only used with TLS, but the url \"mqtt://broker:1883\" is \
                 mqtt://; use mqtts://",
                at("client_cert_file")
            ),
            format!(
                "{file}:{}: mqtt.client_cert_file: client_cert_file needs client_key_file (the certificate's private key)",
                at("client_cert_file")
            ),
        ]
    );
    assert!(errors.iter().all(|e| !e.contains("hunter2")));
}

#[test]
fn replay_readers_read_a_file_not_a_port() {
    let text = BASE.replace(
        "protocol = \"mercury\"",
        "protocol = \"replay\"\nspeed = 0.0",
    );
    assert_eq!(
        errors_of(&text),
        [
            format!(
                "shelfd.toml:{}: reader \"r1\": file: required for protocol replay: the read-log file (JSON Lines)",
                line_of(&text, "[[reader]]")
            ),
            format!(
                "shelfd.toml:{}: reader \"r1\": speed: 0 is out of range (expected a number greater than 0)",
                line_of(&text, "speed")
            ),
            format!(
                "shelfd.toml:{}: reader \"r1\": port: protocol replay reads `file`, not a serial port; remove port",
                line_of(&text, "port")
            ),
        ]
    );
    let text = BASE.replace(
        "port = \"/dev/ttyUSB0\"",
        "port = \"/dev/ttyUSB0\"\nfile = \"reads.jsonl\"",
    );
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: reader \"r1\": file: only protocol replay reads a file (this reader's protocol is mercury)",
            line_of(&text, "file")
        )
    );
    let text = BASE.replace("port = \"/dev/ttyUSB0\"", "port = \"ttyUSB0\"");
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: reader \"r1\": port: bad port \"ttyUSB0\": expected an absolute path such as \"/dev/serial/by-id/usb-…\"",
            line_of(&text, "port")
        )
    );
}

#[test]
fn bad_mqtt_urls_and_prefixes() {
    let text = format!("{BASE}[mqtt]\nurl = \"tcp://broker\"\ntopic_prefix = \"shelfd/+/v1\"\n");
    assert_eq!(
        errors_of(&text),
        [
            format!(
                "shelfd.toml:{}: mqtt.url: bad mqtt url \"tcp://broker\": the scheme must be mqtt:// or mqtts:// (TLS)",
                line_of(&text, "url")
            ),
            format!(
                "shelfd.toml:{}: mqtt.topic_prefix: bad topic prefix \"shelfd/+/v1\": the wildcards '+' and '#' are not allowed",
                line_of(&text, "topic_prefix")
            ),
        ]
    );
}

#[test]
fn one_mistake_is_reported_once() {
    // A bad kind drops the location, but antennas naming it are not "unknown location" errors.
    let text = BASE.replace("kind = \"shelf\"", "kind = \"shelve\"");
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: location \"shelf-a1\": kind: unknown location kind \"shelve\" (expected one of shelf, backroom, dock, \
             pos, exit)",
            line_of(&text, "shelve")
        )
    );
    // A bad min does not also make max < min an error.
    let text =
        format!("{BASE}[reconcile]\ndepart_min_absence = \"1 h\"\ndepart_max_absence = \"1m\"\n");
    assert_eq!(errors_of(&text).len(), 1);
}

#[test]
fn all_errors_are_collected_in_line_order() {
    let text = format!(
        "{}[[location]]\nid = \"x y\"\nkind = \"exit\"\n[reconcile]\nundecoded = \"drop\"\n[metrics]\nlisten = \"localhost:9464\"\n[log]\nlevel = \"verbose\"\n",
        BASE.replace("store = \"store-0042\"", "store = \"\"")
    );
    let errors = parse_str(&text).expect_err("invalid");
    let lines: Vec<Option<usize>> = errors.iter().map(|e| e.line).collect();
    assert_eq!(
        lines,
        [
            Some(2),
            Some(line_of(&text, "x y")),
            Some(line_of(&text, "drop")),
            Some(line_of(&text, "localhost")),
            Some(line_of(&text, "verbose"))
        ]
    );
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "gateway.store",
            "location \"x y\": id",
            "reconcile.undecoded",
            "metrics.listen",
            "log.level"
        ]
    );
    assert_eq!(errors.to_string().lines().count(), 5);
}

#[test]
fn load_names_an_unreadable_file() {
    let errors = load(Path::new("/nonexistent/shelfd.toml")).expect_err("missing file");
    assert_eq!(
        errors.to_string(),
        "/nonexistent/shelfd.toml: cannot read config file: No such file or directory (os error 2)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shelfd.toml");
    std::fs::write(&path, BASE).expect("write");
    assert_eq!(load(&path).map(|c| c.gateway.id), Ok("gw-1".to_owned()));
}

// ---- bad input never panics --------------------------------------------------------------------

/// Lines that are valid TOML in many combinations and exercise every section and check.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[gateway]".to_owned()),
        Just("[mqtt]".to_owned()),
        Just("[[reader]]".to_owned()),
        Just("[[location]]".to_owned()),
        Just("[[dock]]".to_owned()),
        Just("[[gpio]]".to_owned()),
        Just("[[product]]".to_owned()),
        Just("[reconcile]".to_owned()),
        Just("[metrics]".to_owned()),
        Just("[log]".to_owned()),
        Just("[epcis]".to_owned()),
        Just("[reader.antennas]".to_owned()),
        (
            prop::sample::select(vec![
                "id",
                "store",
                "protocol",
                "port",
                "file",
                "kind",
                "location",
                "door_gpio",
                "lights",
                "quiet",
                "name",
                "chip",
                "direction",
                "epc_prefix",
                "sku",
                "url",
                "keep_alive",
                "outbox_max_bytes",
                "level",
                "listen",
                "planogram",
                "antennas",
                "move_ratio",
                "speed",
                "baud",
                "line",
                "settle_max",
                "credentials_file",
                "enabled",
                "sgln",
                "time_zone_offset",
                "location_uri_prefix",
                "1",
                "bogus",
            ]),
            prop_oneof![
                "\"[a-z0-9/:.\\- ]{0,12}\"".prop_map(|s| s),
                Just("\"shelf-a1\"".to_owned()),
                Just("\"replay\"".to_owned()),
                Just("\"dock\"".to_owned()),
                Just("\"5s\"".to_owned()),
                Just("\"mqtts://x\"".to_owned()),
                Just("{ 1 = \"a\", 2 = \"b\" }".to_owned()),
                Just("[\"00614141123452\", 3]".to_owned()),
                Just("[]".to_owned()),
                any::<i64>().prop_map(|n| n.to_string()),
                any::<f64>().prop_map(|f| format!("{f:?}")),
                any::<bool>().prop_map(|b| b.to_string()),
                Just("nan".to_owned()),
                Just("-inf".to_owned()),
            ],
        )
            .prop_map(|(k, v)| format!("{k} = {v}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let _ = parse_str(&text);
    }

    #[test]
    fn toml_like_documents_never_panic(lines in prop::collection::vec(fragment(), 0..30)) {
        let text = lines.join("\n");
        if let Err(errors) = parse_str(&text) {
            prop_assert!(!errors.is_empty());
            for error in errors.iter() {
                prop_assert!(!error.message.is_empty());
            }
        }
    }

    #[test]
    fn mutated_example_never_panics(cut in 0usize..EXAMPLE.len(), insert in "\\PC{0,8}") {
        let cut = (0..=cut).rev().find(|i| EXAMPLE.is_char_boundary(*i)).unwrap_or(0);
        let text = format!("{}{insert}{}", &EXAMPLE[..cut], &EXAMPLE[cut..]);
        let _ = parse_str(&text);
    }
}

// ---- shelf-link readers and [[lane]] ----------------------------------------------------------

/// BASE plus a shelf-link bus `bus` with nodes 3 and 7, a backroom and a POS.
fn with_bus(extra: &str) -> String {
    format!(
        "{BASE}[[reader]]\nid = \"bus\"\nprotocol = \"shelf-link\"\nport = \"/dev/ttyUSB9\"\nnodes = [3, 7]\n\n\
         [[location]]\nid = \"back\"\nkind = \"backroom\"\n\n[[location]]\nid = \"till\"\nkind = \"pos\"\n\n{extra}"
    )
}

#[test]
fn a_shelf_link_reader_needs_nodes_and_only_it_has_them() {
    let text = BASE.replace(
        "protocol = \"mercury\"",
        "protocol = \"shelf-link\"\nnodes = [0, 3, 3]",
    );
    let line = line_of(&text, "nodes");
    assert_eq!(
        errors_of(&text),
        [
            format!(
                "shelfd.toml:{line}: reader \"r1\": nodes #1: node address 0 is out of range (expected 1..=254)"
            ),
            format!("shelfd.toml:{line}: reader \"r1\": nodes #3: duplicate node address 3"),
        ]
    );
    let text = BASE.replace("protocol = \"mercury\"", "protocol = \"shelf-link\"");
    assert!(
        error_of(&text).contains("reader \"r1\": nodes: required for protocol shelf-link"),
        "{}",
        error_of(&text)
    );
    let text = BASE.replace(
        "protocol = \"mercury\"",
        "protocol = \"mercury\"\nnodes = [1]",
    );
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: reader \"r1\": nodes: only protocol shelf-link has nodes (this reader's protocol is mercury)",
            line_of(&text, "nodes")
        )
    );
    // A bus without antennas is fine; an RFID reader without them is not.
    let config = valid(&with_bus(""));
    assert!(config.readers[1].antennas.is_empty());
    let text = BASE.replace("antennas = { 1 = \"shelf-a1\" }\n", "");
    assert!(
        error_of(&text).contains("reader \"r1\": antennas: at least one antenna is required"),
        "{}",
        error_of(&text)
    );
}

#[test]
fn lanes_resolve_their_bus_and_default_their_tolerance() {
    let config = valid(&with_bus(
        "[[lane]]\nnode = 7\nlane = 2\nlocation = \"back\"\nsku = \"MILK-1L\"\nunit_weight = 1030\n",
    ));
    let lane = &config.lanes[0];
    assert_eq!(lane.reader.as_deref(), Some("bus"));
    assert_eq!(
        (lane.unit_mg(), lane.tolerance_mg(), lane.tagged),
        (1_030_000, 257_500, false)
    );
}

#[test]
fn lane_errors_name_the_field_and_the_value() {
    let lanes = "[[lane]]\nnode = 9\nlane = 0\nlocation = \"shelf-a1\"\nsku = \"A\"\nunit_weight = 100\n\n\
                 [[lane]]\nreader = \"r1\"\nnode = 3\nlane = 0\nlocation = \"nowhere\"\nsku = \"has space\"\nunit_weight = 0\n\n\
                 [[lane]]\nnode = 3\nlane = 1\nlocation = \"till\"\nsku = \"B\"\nunit_weight = 100\ntolerance = 50\n\n\
                 [[lane]]\nnode = 3\nlane = 1\nlocation = \"back\"\nsku = \"00614141123453\"\nunit_weight = 100\ntagged = true\n\n\
                 [[lane]]\nnode = 7\nlane = 0\nlocation = \"shelf-a1\"\nsku = \"C\"\nunit_weight = 100\nweight = 3\n";
    let text = with_bus(lanes);
    let at = |needle: &str, n: usize| nth_line_of(&text, needle, n);
    assert_eq!(
        errors_of(&text),
        [
            format!(
                "shelfd.toml:{}: lane #1: node: node 9 is in no shelf-link reader's nodes",
                at("node = 9", 1)
            ),
            format!(
                "shelfd.toml:{}: lane #2: reader: reader \"r1\" is of protocol mercury; a lane needs a shelf-link reader",
                at("reader = \"r1\"", 1)
            ),
            format!(
                "shelfd.toml:{}: lane #2: location: unknown location \"nowhere\" (no [[location]] has that id)",
                at("nowhere", 1)
            ),
            format!(
                "shelfd.toml:{}: lane #2: sku: bad sku \"has space\": expected 1 to 64 printable characters without whitespace",
                at("has space", 1)
            ),
            format!(
                "shelfd.toml:{}: lane #2: unit_weight: 0 g is out of range (expected 0.001 to 100000 grams)",
                at("unit_weight = 0", 1)
            ),
            format!(
                "shelfd.toml:{}: lane #3: location: location \"till\" is of kind pos; a lane needs a shelf or backroom location",
                at("\"till\"", 2)
            ),
            format!(
                "shelfd.toml:{}: lane #3: tolerance: 50 g is half of unit_weight (100 g) or more: one item more or less could not be told apart",
                at("tolerance = 50", 1)
            ),
            format!(
                "shelfd.toml:{}: lane #4: lane: lane 1 of node 3 on reader \"bus\" is also lane #3",
                at("lane = 1", 2)
            ),
            format!(
                "shelfd.toml:{}: lane #4: sku: invalid GTIN \"00614141123453\": check digit is 3, expected 2 \
                 (a tagged lane's sku is the GTIN-14 its EPCs decode to)",
                at("00614141123453", 1)
            ),
            format!(
                "shelfd.toml:{}: lane #4: tagged: location \"back\" is covered by no reader antenna, so a tagged lane there has no reads to corroborate",
                at("tagged = true", 1)
            ),
            format!(
                "shelfd.toml:{}: lane #5: weight: unknown key \"weight\" (expected one of reader, node, lane, location, sku, unit_weight, tolerance, tagged)",
                at("weight = 3", 1)
            ),
        ]
    );
}

#[test]
fn framing_comes_from_the_config_and_only_for_magicrf() {
    let reader = |protocol: &str, extra: &str| {
        BASE.replace(
            "protocol = \"mercury\"",
            &format!("protocol = \"{protocol}\"\n{extra}"),
        )
    };
    let config = valid(&reader("magicrf", "framing = \"aa-dd\""));
    assert!(matches!(
        config.readers[0].source,
        ReaderSource::MagicRf {
            framing: MagicRfFraming::AaDd,
            ..
        }
    ));
    let o = config.readers[0].wire_options();
    assert_eq!((o.magicrf_header, o.magicrf_end), (0xAA, 0xDD));
    assert_eq!(o.antennas, [1]);
    let o = valid(&reader("magicrf", "")).readers[0].wire_options();
    assert_eq!((o.magicrf_header, o.magicrf_end), (0xBB, 0x7E));
    let text = reader("r2000", "framing = \"aa-dd\"");
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: reader \"r1\": framing: only protocol magicrf has a framing (this reader's protocol is r2000)",
            line_of(&text, "framing")
        )
    );
    let err = error_of(&reader("magicrf", "framing = \"cc-ee\""));
    assert!(err.contains("cc-ee"), "{err}");
}

/// Each variant carries exactly its keys; a key of another protocol names the key and the
/// protocols that have it, at its line.
#[test]
fn readers_are_one_variant_per_protocol() {
    let config = valid(&BASE.replace(
        "port = \"/dev/ttyUSB0\"",
        "port = \"/dev/ttyUSB0\"\nbaud = 57600",
    ));
    assert_eq!(
        config.readers[0].source,
        ReaderSource::Mercury(SerialLine {
            port: PathBuf::from("/dev/ttyUSB0"),
            baud: 57_600,
        })
    );
    let text = BASE.replace(
        "protocol = \"mercury\"\nport = \"/dev/ttyUSB0\"",
        "protocol = \"replay\"\nfile = \"/dev/null\"\nbaud = 9600\nnodes = [1]",
    );
    assert_eq!(
        errors_of(&text),
        [
            format!(
                "shelfd.toml:{}: reader \"r1\": baud: protocol replay has no baud rate; remove baud",
                line_of(&text, "baud")
            ),
            format!(
                "shelfd.toml:{}: reader \"r1\": nodes: only protocol shelf-link has nodes (this reader's protocol is replay)",
                line_of(&text, "nodes")
            ),
        ]
    );
    let text = BASE.replace(
        "port = \"/dev/ttyUSB0\"",
        "port = \"/dev/ttyUSB0\"\nspeed = 2.0",
    );
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: reader \"r1\": speed: only protocol replay has a speed (this reader's protocol is mercury)",
            line_of(&text, "speed")
        )
    );
    let text = BASE.replace(
        "protocol = \"mercury\"\nport = \"/dev/ttyUSB0\"",
        "protocol = \"shelf-link\"",
    );
    assert_eq!(
        errors_of(&text),
        [
            format!(
                "shelfd.toml:{line}: reader \"r1\": port: required for protocol shelf-link: the serial device, e.g. \"/dev/serial/by-id/usb-…\"",
                line = line_of(&text, "[[reader]]")
            ),
            format!(
                "shelfd.toml:{line}: reader \"r1\": nodes: required for protocol shelf-link: the node addresses on the bus, e.g. nodes = [1, 2]",
                line = line_of(&text, "[[reader]]")
            ),
        ]
    );
}

#[test]
fn forecast_knobs_default_are_range_checked_and_hot() {
    let r = valid(BASE).reconcile;
    assert_eq!(
        (r.forecast_horizon, r.depletion_half_life),
        (Duration::from_secs(3600), Duration::from_secs(3600))
    );
    let text =
        format!("{BASE}[reconcile]\nforecast_horizon = \"30s\"\ndepletion_half_life = \"8d\"\n");
    let errors = errors_of(&text).join("\n");
    assert!(
        errors.contains("reconcile.forecast_horizon: 30s is out of range (expected 1m..=7d)"),
        "{errors}"
    );
    assert!(
        errors.contains("reconcile.depletion_half_life: 8d is out of range (expected 10s..=7d)"),
        "{errors}"
    );
    // A reload that changes the horizon applies at once (every [reconcile] knob but
    // `undecoded` is hot), so the engine's next check uses it.
    let new = valid(&format!(
        "{BASE}[reconcile]\nforecast_horizon = \"2h\"\ndepletion_half_life = \"30m\"\n"
    ));
    let p = super::reload::plan(&valid(BASE), &new);
    assert_eq!(
        (p.hot, p.restart.len()),
        (vec!["[reconcile]".to_string()], 0)
    );
}

/// An `llrp` reader: `address` with the default port, the documented defaults, antenna
/// numbers above 64, per-antenna power.
#[test]
fn llrp_reader_parses_with_its_defaults() {
    let text = BASE.replace(
        "protocol = \"mercury\"\nport = \"/dev/ttyUSB0\"\nantennas = { 1 = \"shelf-a1\" }",
        "protocol = \"llrp\"\naddress = \"192.168.1.20\"\nantennas = { 1 = \"shelf-a1\", 100 = \"shelf-a1\" }\npower_dbm = 27.0\nantenna_power_dbm = { 100 = 20.5 }\nsearch_mode = \"tag-focus\"\nsession = 2",
    );
    let config = valid(&text);
    let l = config.readers[0].llrp().expect("llrp");
    assert_eq!(l.address, "192.168.1.20:5084");
    assert_eq!(l.keepalive, Duration::from_secs(30));
    assert!(l.reset_to_factory);
    assert_eq!(l.max_message_size, 640 * 1024);
    assert_eq!((l.session, l.search_mode), (Some(2), SearchMode::TagFocus));
    assert_eq!(l.antenna_power_dbm.get(&100), Some(&20.5));
    assert_eq!(config.readers[0].port(), None);
    assert_eq!(
        normalize_llrp_address_for_test("[fe80::1]:5085"),
        Ok("[fe80::1]:5085".into())
    );
}

fn normalize_llrp_address_for_test(text: &str) -> Result<String, String> {
    sections::normalize_llrp_address(text)
}

/// check-config errors of `llrp` readers name the line, the field and the value.
#[test]
fn llrp_reader_errors_name_field_and_value() {
    let text = BASE.replace(
        "protocol = \"mercury\"\nport = \"/dev/ttyUSB0\"\nantennas = { 1 = \"shelf-a1\" }",
        "protocol = \"llrp\"\naddress = \"fe80::1:5084\"\nport = \"/dev/ttyUSB0\"\nantennas = { 1 = \"shelf-a1\" }\nsession = 4\nantenna_power_dbm = { 2 = 20.0 }\nkeepalive = \"0s\"\nmax_message_size = \"1KiB\"\nsearch_mode = \"focus\"",
    );
    let at = |k: &str| line_of(&text, k);
    assert_eq!(
        errors_of(&text),
        [
            format!(
                "shelfd.toml:{}: reader \"r1\": address: bad address \"fe80::1:5084\": write an IPv6 address in brackets, e.g. \"[fe80::1]:5084\"",
                at("address")
            ),
            format!(
                "shelfd.toml:{}: reader \"r1\": port: protocol llrp connects to `address` (host[:port]), not a serial port; remove port",
                at("port")
            ),
            format!(
                "shelfd.toml:{}: reader \"r1\": session: 4 is out of range (expected 0..=3)",
                at("session")
            ),
            format!(
                "shelfd.toml:{}: reader \"r1\": antenna_power_dbm.2: antenna 2 is not in this reader's antennas",
                at("antenna_power_dbm")
            ),
            format!(
                "shelfd.toml:{}: reader \"r1\": keepalive: 0s is out of range (expected 1s..=10m)",
                at("keepalive")
            ),
            format!(
                "shelfd.toml:{}: reader \"r1\": max_message_size: 1KiB is out of range (expected 64KiB..=16MiB)",
                at("max_message_size")
            ),
            format!(
                "shelfd.toml:{}: reader \"r1\": search_mode: unknown search_mode \"focus\" (expected one of reader-default, single, dual, tag-focus)",
                at("search_mode")
            ),
        ]
    );
    // LLRP keys on a serial reader, and an llrp reader without an address.
    let text = BASE.replace(
        "port = \"/dev/ttyUSB0\"",
        "port = \"/dev/ttyUSB0\"\nkeepalive = \"10s\"",
    );
    assert_eq!(
        error_of(&text),
        format!(
            "shelfd.toml:{}: reader \"r1\": keepalive: only protocol llrp has keepalive (this reader's protocol is mercury)",
            line_of(&text, "keepalive")
        )
    );
    let text = BASE.replace(
        "protocol = \"mercury\"\nport = \"/dev/ttyUSB0\"",
        "protocol = \"llrp\"",
    );
    let err = error_of(&text);
    assert!(err.contains("address"), "{err}");
}
