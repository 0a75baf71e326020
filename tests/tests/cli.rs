//! End-to-end tests of the `shelfd` command line: `check-config`, `epc`, `replay` and `demo`,
//! run as the real binary. Everything written goes to a fresh temp dir per test.

use serde_json::{Value, json};
use shelfd_testkit::config::{ConfigBuilder, Dock, Reader};
use shelfd_testkit::event_stream::{Stream, parse_time};
use shelfd_testkit::{Run, hex, line_of, shelfd, shelfd_with};
use std::path::{Path, PathBuf};

const EX_DATAERR: i32 = 65;
const EX_CONFIG: i32 = 78;

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

fn stderr_lines(run: &Run) -> Vec<&str> {
    run.stderr.lines().collect()
}

// ---------------------------------------------------------------------------------------------
// check-config
// ---------------------------------------------------------------------------------------------

/// A valid config; each error case below changes exactly one thing in it.
const BASE_CONFIG: &str = r#"# e2e base config
[gateway]
store = "s1"
id = "gw-1"
state_dir = "state"

[[reader]]
id = "r1"
protocol = "replay"
file = "reads.jsonl"
antennas = { 1 = "shelf-a1", 2 = "backroom" }

[[location]]
id = "shelf-a1"
kind = "shelf"

[[location]]
id = "backroom"
kind = "backroom"

[reconcile]
settle_quiet = "5s"
"#;

#[test]
fn check_config_accepts_the_shipped_configs_and_the_test_base() {
    let root = shelfd_testkit::workspace_root();
    for (name, readers, locations, docks) in
        [("shelfd.example.toml", 6, 8, 2), ("demo.toml", 6, 8, 1)]
    {
        let path = root.join("config").join(name);
        let run = shelfd([OsArg::from("check-config"), OsArg::from(&path)]);
        assert_eq!(run.code, Some(0), "{name}: {run:?}");
        assert_eq!(
            run.stdout,
            format!(
                "{}: ok ({readers} readers, {locations} locations, {docks} docks)\n",
                path.display()
            ),
            "{name}"
        );
        assert_eq!(run.stderr, "", "{name}");
    }
    let dir = tempdir();
    let path = write(dir.path(), "base.toml", BASE_CONFIG);
    let run = shelfd([OsArg::from("check-config"), OsArg::from(&path)]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        format!("{}: ok (1 readers, 2 locations, 0 docks)\n", path.display())
    );
}

/// Runs check-config on `text` and asserts exit 78 with exactly one error line that starts
/// with `file:line: field: ` and contains every one of `needles`.
fn assert_config_error(text: &str, line: usize, field: &str, needles: &[&str]) {
    let dir = tempdir();
    let path = write(dir.path(), "bad.toml", text);
    let run = shelfd([OsArg::from("check-config"), OsArg::from(&path)]);
    assert_eq!(run.code, Some(EX_CONFIG), "{run:?}");
    assert_eq!(run.stdout, "", "nothing on stdout for an invalid config");
    let lines = stderr_lines(&run);
    assert_eq!(
        lines.len(),
        1,
        "exactly one error expected: {:?}",
        run.stderr
    );
    let want = format!("{}:{line}: {field}: ", path.display());
    assert!(
        lines[0].starts_with(&want),
        "error should start with {want:?}: {:?}",
        lines[0]
    );
    for needle in needles {
        assert!(
            lines[0].contains(needle),
            "error should contain {needle:?}: {:?}",
            lines[0]
        );
    }
}

#[test]
fn check_config_rejects_an_unknown_key() {
    let text = BASE_CONFIG.replace("kind = \"shelf\"\n", "kind = \"shelf\"\ncolour = \"red\"\n");
    let line = line_of(&text, "colour");
    assert_eq!(line, 16);
    assert_config_error(
        &text,
        line,
        "location \"shelf-a1\": colour",
        &["unknown key \"colour\""],
    );
}

#[test]
fn check_config_rejects_a_duplicate_reader_id() {
    let text = format!(
        "{BASE_CONFIG}\n[[reader]]\nid = \"r1\"\nprotocol = \"replay\"\nfile = \"other.jsonl\"\n\
         antennas = {{ 1 = \"backroom\" }}\n"
    );
    // The second `id = "r1"`; the first is on line 8.
    let line = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "id = \"r1\"")
        .map(|(i, _)| i + 1)
        .nth(1)
        .expect("second reader id");
    assert_eq!(line, 25);
    assert_config_error(
        &text,
        line,
        "reader \"r1\": id",
        &["duplicate", "\"r1\"", "line 8"],
    );
}

#[test]
fn check_config_rejects_an_antenna_mapped_to_an_unknown_location() {
    let text = BASE_CONFIG.replace("2 = \"backroom\"", "2 = \"back-room\"");
    let line = line_of(&text, "back-room");
    assert_eq!(line, 11);
    assert_config_error(
        &text,
        line,
        "reader \"r1\": antennas.2",
        &["unknown location \"back-room\""],
    );
}

#[test]
fn check_config_rejects_a_bad_duration() {
    let text = BASE_CONFIG.replace("settle_quiet = \"5s\"", "settle_quiet = \"5 sec\"");
    let line = line_of(&text, "5 sec");
    assert_eq!(line, 22);
    assert_config_error(
        &text,
        line,
        "reconcile.settle_quiet",
        &["\"5 sec\"", "duration"],
    );
}

#[test]
fn check_config_rejects_invalid_toml_syntax() {
    // An unquoted string value on line 15, column 8.
    let text = BASE_CONFIG.replace("kind = \"shelf\"", "kind = shelf");
    let line = line_of(&text, "kind = shelf");
    assert_eq!(line, 15);
    let dir = tempdir();
    let path = write(dir.path(), "syntax.toml", &text);
    let run = shelfd([OsArg::from("check-config"), OsArg::from(&path)]);
    assert_eq!(run.code, Some(EX_CONFIG), "{run:?}");
    assert_eq!(run.stdout, "");
    let lines = stderr_lines(&run);
    assert_eq!(lines.len(), 1, "{:?}", run.stderr);
    // A syntax error has no decoded field; it names file, line and column of the bad value.
    let want = format!("{}:{line}: TOML syntax error at column 8: ", path.display());
    assert!(lines[0].starts_with(&want), "{:?}", lines[0]);
    assert!(lines[0].contains("quoted"), "{:?}", lines[0]);
}

#[test]
fn check_config_rejects_a_missing_file() {
    let dir = tempdir();
    let path = dir.path().join("does-not-exist.toml");
    let run = shelfd([OsArg::from("check-config"), OsArg::from(&path)]);
    assert_eq!(run.code, Some(EX_CONFIG), "{run:?}");
    assert_eq!(run.stdout, "");
    let lines = stderr_lines(&run);
    assert_eq!(lines.len(), 1, "{:?}", run.stderr);
    assert!(
        lines[0].starts_with(&format!("{}: ", path.display())),
        "{:?}",
        lines[0]
    );
    assert!(
        lines[0].contains("cannot read config file"),
        "{:?}",
        lines[0]
    );
}

// ---------------------------------------------------------------------------------------------
// epc
// ---------------------------------------------------------------------------------------------

#[test]
fn epc_prints_one_json_line_per_input_and_exits_65_on_any_error() {
    // GS1.md section 5: urn:epc:id:sgtin:0614141.812345.6789 gives GTIN 80614141123458.
    let good = "3074257bf7194e4000001a85";
    let run = shelfd(["epc", good, "zz", "30f0"]);
    assert_eq!(run.code, Some(EX_DATAERR), "{run:?}");
    let lines: Vec<Value> = run
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);

    assert_eq!(
        lines[0],
        json!({
            "epc": good,
            "ok": {
                "scheme": "sgtin-96",
                "filter": 3,
                "company_prefix": "0614141",
                "gtin": "80614141123458",
                "serial": "6789",
                "pure_identity": "urn:epc:id:sgtin:0614141.812345.6789",
                "tag_uri": "urn:epc:tag:sgtin-96:3.0614141.812345.6789",
                "element_string": "(01)80614141123458(21)6789",
                "digital_link": "https://id.gs1.org/01/80614141123458/21/6789",
            }
        })
    );
    let gtin = lines[0]["ok"]["gtin"].as_str().expect("gtin");
    assert!(gtin.len() == 14 && gtin.bytes().all(|b| b.is_ascii_digit()));

    for (line, input) in lines[1..].iter().zip(["zz", "30f0"]) {
        let obj = line.as_object().expect("object");
        assert_eq!(obj.len(), 2, "only epc and error: {line}");
        assert_eq!(line["epc"], input, "{line}");
        let error = line["error"].as_str().expect("error is a string");
        assert!(!error.is_empty());
    }
    // The error strings say what is wrong with that input.
    let e1 = lines[1]["error"].as_str().expect("error");
    assert!(e1.contains("\"zz\"") && e1.contains("'z'"), "{e1}");
    let e2 = lines[2]["error"].as_str().expect("error");
    assert!(e2.contains("SGTIN-96") && e2.contains("16"), "{e2}");
}

#[test]
fn epc_exits_0_when_every_input_decodes() {
    let a = hex(&shelfd_core::sim::sim_epc(1, 1));
    let b = "3074257BF7194E4000001A85";
    let run = shelfd(["epc", a.as_str(), b]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let lines: Vec<Value> = run
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["epc"], a.as_str());
    assert_eq!(lines[0]["ok"]["scheme"], "sgtin-96");
    // sim_epc(1, 1) = SGTIN-96, filter 1, GCP 0614141, item reference 000001, serial 1:
    // GTIN 0 0614141 00001 + check digit 2.
    assert_eq!(lines[0]["ok"]["gtin"], "00614141000012");
    assert_eq!(
        lines[0]["ok"]["pure_identity"],
        "urn:epc:id:sgtin:0614141.000001.1"
    );
    assert_eq!(lines[1]["epc"], b);
    assert_eq!(lines[1]["ok"]["gtin"], "80614141123458");
}

// ---------------------------------------------------------------------------------------------
// replay
// ---------------------------------------------------------------------------------------------

/// 2025-11-22T08:26:40.000Z
const T0: u64 = 1_763_800_000_000;
/// Reads (and heartbeats) every 500 ms.
const PERIOD: u64 = 500;
/// All three tags are read for the first 60 s; tag 3 then vanishes and the log runs 2 more min.
const TAG3_UNTIL: u64 = T0 + 60_000;
const END: u64 = T0 + 180_000;
/// The GTIN every `sim_epc(1, _)` decodes to.
const SKU: &str = "00614141000012";
const STORE: &str = "demo-store";
const GATEWAY: &str = "gw-1";
/// Downtime inserted before the second half of a split log.
const DOWNTIME: u64 = 10 * 60_000;

fn epc(serial: u64) -> String {
    hex(&shelfd_core::sim::sim_epc(1, serial))
}

/// One read-log line, written by hand (independent of shelfd's own writer).
#[derive(Clone, Debug)]
enum Rec {
    Read { t: u64, serial: u64, rssi: f32 },
    Alive { t: u64 },
}

impl Rec {
    fn t(&self) -> u64 {
        match self {
            Rec::Read { t, .. } | Rec::Alive { t } => *t,
        }
    }

    fn line(&self, shift: u64) -> String {
        match self {
            Rec::Read { t, serial, rssi } => format!(
                r#"{{"t":{},"reader":"r1","antenna":1,"epc":"{}","rssi":{rssi:.1}}}"#,
                t + shift,
                epc(*serial)
            ),
            Rec::Alive { t } => format!(r#"{{"t":{},"reader":"r1","link":"alive"}}"#, t + shift),
        }
    }
}

/// Tags 1, 2, 3 at shelf-a1 (r1 antenna 1, RSSI -56..-54) every 500 ms for 60 s, then only
/// tags 1 and 2 for 2 minutes; an `alive` heartbeat from r1 every 500 ms throughout.
fn scenario() -> Vec<Rec> {
    let mut recs = Vec::new();
    let mut t = T0;
    let mut round = 0u64;
    while t < END {
        for serial in 1..=3u64 {
            if serial == 3 && t >= TAG3_UNTIL {
                continue;
            }
            let rssi = -56.0 + ((round + serial) % 3) as f32;
            recs.push(Rec::Read { t, serial, rssi });
        }
        recs.push(Rec::Alive { t });
        t += PERIOD;
        round += 1;
    }
    recs
}

fn render(recs: &[Rec], shift: u64) -> String {
    let mut s = String::new();
    for r in recs {
        s.push_str(&r.line(shift));
        s.push('\n');
    }
    s
}

/// `config/demo.toml`'s store, with its state dir in `dir` and no baseline window.
fn replay_config(dir: &Path) -> PathBuf {
    let mut config = ConfigBuilder::new(STORE, GATEWAY)
        .state_dir(dir.join("config-state"))
        .mqtt("url", "mqtt://127.0.0.1:1883")
        .reader(Reader::replay("r1", "demo.jsonl").antennas(&[
            (1, "shelf-a1"),
            (2, "shelf-a1"),
            (3, "shelf-a2"),
            (4, "shelf-b1"),
        ]))
        .reader(Reader::replay("r2", "demo.jsonl").antennas(&[
            (1, "backroom"),
            (2, "pos-1"),
            (3, "exit-1"),
            (4, "dock-1"),
        ]));
    for (id, kind) in [
        ("shelf-a1", "shelf"),
        ("shelf-a2", "shelf"),
        ("shelf-b1", "shelf"),
        ("backroom", "backroom"),
        ("pos-1", "pos"),
        ("exit-1", "exit"),
        ("dock-1", "dock"),
    ] {
        config = config.location(id, kind);
    }
    config
        .dock(Dock::new("dock-1", "dock-1"))
        .reconcile("baseline_window", "0s")
        .write(dir)
}

/// The locations that hold stock (shelf, backroom, dock) in [`replay_config`].
const STOCK_LOCATIONS: [&str; 5] = ["shelf-a1", "shelf-a2", "shelf-b1", "backroom", "dock-1"];

fn replay(config: &Path, input: &Path, state_dir: Option<&Path>) -> Run {
    let mut args: Vec<OsArg> = vec![
        "replay".into(),
        "--config".into(),
        config.into(),
        "--input".into(),
        input.into(),
    ];
    if let Some(d) = state_dir {
        args.push("--state-dir".into());
        args.push(d.into());
    }
    shelfd(args)
}

fn replay_ok(config: &Path, input: &Path, state_dir: Option<&Path>) -> Run {
    let run = replay(config, input, state_dir);
    assert_eq!(run.code, Some(0), "replay failed: {}", run.stderr);
    run
}

/// The stock-relevant content of an event, without seq and time.
fn essence(e: &Value) -> Value {
    let mut e = e.clone();
    let obj = e.as_object_mut().expect("object");
    for k in ["v", "store", "gateway", "seq", "time", "last_seen"] {
        obj.remove(k);
    }
    e
}

fn tag_and_stock_essence(s: &Stream) -> Vec<Value> {
    s.events
        .iter()
        .filter(|e| {
            let ty = e["type"].as_str().unwrap_or("");
            ty.starts_with("tag.") || ty == "stock.changed"
        })
        .map(essence)
        .collect()
}

fn time_of(e: &Value) -> u64 {
    parse_time(e["time"].as_str().expect("time"))
}

#[test]
fn replay_reports_arrivals_a_missing_departure_and_consistent_stock() {
    assert_eq!(parse_time("2025-11-22T08:26:40.000Z"), T0);
    let dir = tempdir();
    let config = replay_config(dir.path());
    let input = write(dir.path(), "reads.jsonl", &render(&scenario(), 0));
    let run = replay_ok(&config, &input, None);
    let s = Stream::parse(&run.stdout, STORE, GATEWAY, 1);
    let last_seq = s.last_seq().expect("events");

    // Arrivals: the three tags, at shelf-a1, each once, after the 2 s arrive dwell.
    let mut arrived: Vec<&str> = Vec::new();
    for e in s.of_type("tag.arrived") {
        assert_eq!(e["location"], "shelf-a1", "{e}");
        assert_eq!(e["sku"], SKU, "{e}");
        let t = time_of(e);
        assert!((T0 + 2_000..=T0 + 10_000).contains(&t), "arrival time: {e}");
        arrived.push(e["epc"].as_str().expect("epc"));
    }
    arrived.sort_unstable();
    assert_eq!(arrived, [epc(1), epc(2), epc(3)]);

    // Exactly one departure: tag 3, missing, after its arrival, with its true last-seen time,
    // not before depart_min_absence (20 s) and not much after.
    let departed: Vec<&Value> = s.of_type("tag.departed").collect();
    assert_eq!(departed.len(), 1, "{departed:?}");
    let d = departed[0];
    assert_eq!(d["epc"], epc(3));
    assert_eq!(d["sku"], SKU);
    assert_eq!(d["from"], "shelf-a1");
    assert_eq!(d["cause"], "missing");
    let last_read_3 = TAG3_UNTIL - PERIOD;
    assert_eq!(d["last_seen"], "2025-11-22T08:27:39.500Z");
    assert_eq!(
        parse_time(d["last_seen"].as_str().expect("last_seen")),
        last_read_3
    );
    let td = time_of(d);
    assert!(
        (last_read_3 + 20_000..=last_read_3 + 30_000).contains(&td),
        "departure time {td} vs last read {last_read_3}"
    );
    let arrived_seq_max = s
        .of_type("tag.arrived")
        .filter_map(|e| e["seq"].as_u64())
        .max()
        .expect("arrivals");
    assert!(d["seq"].as_u64().expect("seq") > arrived_seq_max);
    assert_eq!(s.of_type("tag.moved").count(), 0);
    assert_eq!(s.of_type("tag.sold").count(), 0);

    // Stock deltas: a running count, summing to the final snapshot (2).
    let mut count = 0i64;
    let mut last_change_seq = 0;
    for e in s.of_type("stock.changed") {
        assert_eq!(e["location"], "shelf-a1", "{e}");
        assert_eq!(e["sku"], SKU, "{e}");
        let delta = e["delta"].as_i64().expect("delta");
        assert_ne!(delta, 0, "{e}");
        count += delta;
        assert_eq!(e["count"].as_i64(), Some(count), "{e}");
        last_change_seq = e["seq"].as_u64().expect("seq");
    }
    assert_eq!(count, 2);

    // Snapshots: one per stock-holding location, after every event.
    let mut locs: Vec<&str> = s
        .snapshots
        .iter()
        .map(|x| x["location"].as_str().expect("location"))
        .collect();
    locs.sort_unstable();
    let mut want = STOCK_LOCATIONS.to_vec();
    want.sort_unstable();
    assert_eq!(locs, want);
    let a1 = s.snapshot("shelf-a1");
    assert_eq!(a1["counts"], json!({ SKU: 2 }));
    assert_eq!(a1["baseline"], false);
    let as_of = a1["as_of_seq"].as_u64().expect("as_of_seq");
    assert!(
        (last_change_seq..=last_seq).contains(&as_of),
        "shelf-a1 as_of_seq {as_of}, last change {last_change_seq}, last seq {last_seq}"
    );
    for loc in ["shelf-a2", "shelf-b1", "backroom", "dock-1"] {
        let snap = s.snapshot(loc);
        assert_eq!(snap["counts"], json!({}), "{snap}");
        assert!(snap["as_of_seq"].as_u64().expect("as_of_seq") <= last_seq);
    }
}

#[test]
fn replay_output_is_byte_identical_across_runs_and_from_stdin() {
    let dir = tempdir();
    let config = replay_config(dir.path());
    let log = render(&scenario(), 0);
    let input = write(dir.path(), "reads.jsonl", &log);
    let first = replay_ok(&config, &input, None);
    let second = replay_ok(&config, &input, None);
    assert!(first.stdout.lines().count() > 5, "{}", first.stdout);
    assert_eq!(first.stdout, second.stdout);
    let piped = shelfd_with(
        [
            OsArg::from("replay"),
            "--config".into(),
            (&config).into(),
            "--input".into(),
            "-".into(),
        ],
        &[],
        Some(log.as_bytes()),
    );
    assert_eq!(piped.code, Some(0), "{}", piped.stderr);
    assert_eq!(piped.stdout, first.stdout);
}

/// [`replay`] with `--format FORMAT`, expecting success.
fn replay_format(config: &Path, input: &Path, format: &str) -> Run {
    let run = shelfd([
        OsArg::from("replay"),
        "--config".into(),
        config.into(),
        "--input".into(),
        input.into(),
        "--format".into(),
        format.into(),
    ]);
    assert_eq!(
        run.code,
        Some(0),
        "replay --format {format}: {}",
        run.stderr
    );
    run
}

#[test]
fn replay_format_epcis_prints_one_deterministic_document_per_mappable_event() {
    let dir = tempdir();
    let config = replay_config(dir.path());
    // [epcis] settings without `enabled`: replay uses them either way.
    let text = std::fs::read_to_string(&config).expect("config")
        + "\n[epcis]\ntime_zone_offset = \"+01:00\"\nlocation_uri_prefix = \"urn:example:demo-store:loc:\"\n";
    let config = write(dir.path(), "shelfd-epcis.toml", &text);
    let log = render(&scenario(), 0);
    let input = write(dir.path(), "reads.jsonl", &log);

    let first = replay_format(&config, &input, "epcis");
    let second = replay_format(&config, &input, "epcis");
    assert_eq!(first.stdout, second.stdout, "byte-identical across runs");
    let piped = shelfd_with(
        [
            OsArg::from("replay"),
            "--config".into(),
            (&config).into(),
            "--input".into(),
            "-".into(),
            "--format".into(),
            "epcis".into(),
        ],
        &[],
        Some(log.as_bytes()),
    );
    assert_eq!(piped.code, Some(0), "{}", piped.stderr);
    assert_eq!(piped.stdout, first.stdout, "byte-identical from stdin");

    // `--format json` is the default, byte for byte.
    let json = replay_format(&config, &input, "json");
    assert_eq!(json.stdout, replay_ok(&config, &input, None).stdout);
    let stream = Stream::parse(&json.stdout, STORE, GATEWAY, 1);
    let mappable: Vec<&Value> = stream
        .events
        .iter()
        .filter(|e| {
            shelfd::publish::epcis::MAPPED_TYPES
                .iter()
                .any(|k| e["type"].as_str() == Some(k.as_str()))
        })
        .collect();
    // Three arrivals and the missing departure of tag 3.
    assert_eq!(mappable.len(), 4, "{}", json.stdout);
    let docs: Vec<Value> = first
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON document per line"))
        .collect();
    assert_eq!(docs.len(), mappable.len(), "{}", first.stdout);
    for (doc, event) in docs.iter().zip(&mappable) {
        assert_eq!(doc["type"], "EPCISDocument");
        assert_eq!(doc["schemaVersion"], "2.0");
        assert_eq!(doc["creationDate"], event["time"]);
        let e = &doc["epcisBody"]["eventList"][0];
        let seq = event["seq"].as_u64().expect("seq");
        assert_eq!(
            e["eventID"],
            shelfd::publish::epcis::event_id::event_id(STORE, GATEWAY, seq)
        );
        assert_eq!(e["eventTime"], event["time"]);
        assert_eq!(e["eventTimeZoneOffset"], "+01:00");
        assert_eq!(e["action"], "OBSERVE");
        let (step, disposition, read_point) = match event["type"].as_str() {
            Some("tag.arrived") => (
                "stocking",
                "sellable_accessible",
                "urn:example:demo-store:loc:shelf-a1",
            ),
            Some("tag.departed") => (
                "cycle_counting",
                "unknown",
                "urn:example:demo-store:loc:shelf-a1",
            ),
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(
            (e["bizStep"].as_str(), e["disposition"].as_str()),
            (Some(step), Some(disposition))
        );
        assert_eq!(e["readPoint"]["id"], read_point);
        let serial = (1..=3u64)
            .find(|s| event["epc"] == epc(*s))
            .expect("a scenario tag");
        let epc_uri = format!("urn:epc:id:sgtin:0614141.000001.{serial}");
        assert_eq!(e["epcList"], json!([epc_uri]));
    }
    assert!(
        !first.stdout.contains("stock.snapshot"),
        "no snapshots in EPCIS format"
    );

    // Without location URIs there is nothing to map to: a config error naming the locations.
    let bare_dir = dir.path().join("bare");
    std::fs::create_dir(&bare_dir).expect("mkdir");
    let bare = replay_config(&bare_dir);
    let run = shelfd([
        OsArg::from("replay"),
        "--config".into(),
        (&bare).into(),
        "--input".into(),
        (&input).into(),
        "--format".into(),
        "epcis".into(),
    ]);
    assert_eq!(run.code, Some(EX_CONFIG), "{run:?}");
    assert!(
        run.stderr.contains("\"shelf-a1\"") && run.stderr.contains("location_uri_prefix"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
    let run = shelfd([
        OsArg::from("replay"),
        "--config".into(),
        (&config).into(),
        "--input".into(),
        (&input).into(),
        "--format".into(),
        "xml".into(),
    ]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("xml"), "{}", run.stderr);
}

/// Replays the scenario uninterrupted, and again split at `split` (a read-round boundary) into
/// two invocations sharing a state dir, with [`DOWNTIME`] added to every `t` of the second half.
/// Checks seq continuity and that the restart itself changes nothing; returns both runs.
fn split_replay(split: u64) -> (Stream, Stream, Stream) {
    assert_eq!((split - T0) % PERIOD, 0, "split on a round boundary");
    let dir = tempdir();
    let config = replay_config(dir.path());
    let recs = scenario();
    let (a, b): (Vec<Rec>, Vec<Rec>) = recs.iter().cloned().partition(|r| r.t() < split);
    assert!(!a.is_empty() && !b.is_empty());
    let whole = write(dir.path(), "whole.jsonl", &render(&recs, 0));
    let first = write(dir.path(), "first.jsonl", &render(&a, 0));
    let second = write(dir.path(), "second.jsonl", &render(&b, DOWNTIME));
    let state = dir.path().join("state");

    let whole = Stream::parse(&replay_ok(&config, &whole, None).stdout, STORE, GATEWAY, 1);
    let run1 = Stream::parse(
        &replay_ok(&config, &first, Some(&state)).stdout,
        STORE,
        GATEWAY,
        1,
    );
    let last1 = run1.last_seq().expect("the first run publishes events");
    // The second run's seqs continue the first's (checked by parse).
    let run2 = Stream::parse(
        &replay_ok(&config, &second, Some(&state)).stdout,
        STORE,
        GATEWAY,
        last1 + 1,
    );

    // The restart causes no arrival or move, and no departure of the tags still being read.
    assert_eq!(run2.of_type("tag.arrived").count(), 0, "{:?}", run2.events);
    assert_eq!(run2.of_type("tag.moved").count(), 0, "{:?}", run2.events);
    for d in run2.of_type("tag.departed") {
        assert_eq!(d["epc"], epc(3), "a tag still being read departed: {d}");
    }
    // Two invocations tell the same story as one.
    let mut split_story = tag_and_stock_essence(&run1);
    split_story.extend(tag_and_stock_essence(&run2));
    assert_eq!(split_story, tag_and_stock_essence(&whole));
    // And end in the same stock.
    let a1 = run2.snapshot("shelf-a1");
    assert_eq!(a1["counts"], json!({ SKU: 2 }));
    let last = run2.last_seq().unwrap_or(last1);
    assert!(a1["as_of_seq"].as_u64().expect("as_of_seq") <= last);
    (whole, run1, run2)
}

#[test]
fn replay_state_dir_split_before_the_tag_vanishes() {
    // Tag 3 is still read in the second half and departs there, 20+ s after its last read.
    let split = T0 + 30_000;
    let (_, run1, run2) = split_replay(split);
    assert_eq!(run1.of_type("tag.arrived").count(), 3);
    assert_eq!(run1.of_type("tag.departed").count(), 0);
    let departed: Vec<&Value> = run2.of_type("tag.departed").collect();
    assert_eq!(departed.len(), 1, "{:?}", run2.events);
    let last_read_3 = TAG3_UNTIL - PERIOD + DOWNTIME;
    let last_seen = departed[0]["last_seen"].as_str().expect("last_seen");
    assert_eq!(parse_time(last_seen), last_read_3);
    assert!(time_of(departed[0]) >= last_read_3 + 20_000);
    let first_seq2 = run2.events[0]["seq"].as_u64().expect("seq");
    assert_eq!(first_seq2, run1.last_seq().expect("seq") + 1);
}

#[test]
fn replay_state_dir_split_while_the_tag_is_already_missing() {
    // At the stop, tag 3 has been unread for 10 s; 10 minutes of downtime follow. Downtime is
    // not absence: it departs only after 20 s of absence counting the restart's own clock, and
    // tags 1 and 2 never depart.
    let split = T0 + 70_000;
    let (_, run1, run2) = split_replay(split);
    assert_eq!(run1.of_type("tag.departed").count(), 0);
    let departed: Vec<&Value> = run2.of_type("tag.departed").collect();
    assert_eq!(departed.len(), 1, "{:?}", run2.events);
    let d = departed[0];
    assert_eq!(d["cause"], "missing");
    // Last seen in the first run, on the first run's clock.
    assert_eq!(
        parse_time(d["last_seen"].as_str().expect("last_seen")),
        TAG3_UNTIL - PERIOD
    );
    let absent_at_stop = (split - PERIOD) - (TAG3_UNTIL - PERIOD);
    let restart = split + DOWNTIME;
    assert!(
        time_of(d) >= restart + (20_000 - absent_at_stop),
        "departed at {} only {} ms after the restart",
        d["time"],
        time_of(d) - restart
    );
    assert_eq!(
        run2.events[0]["seq"].as_u64(),
        Some(run1.last_seq().expect("seq") + 1)
    );
}

#[test]
fn replay_state_dir_split_after_everything_settled() {
    // Everything happened in the first half; the second half (after downtime) changes nothing,
    // and its snapshots are the first run's, byte for byte.
    let split = T0 + 90_000;
    let dir = tempdir();
    let config = replay_config(dir.path());
    let (a, b): (Vec<Rec>, Vec<Rec>) = scenario().into_iter().partition(|r| r.t() < split);
    let first = write(dir.path(), "first.jsonl", &render(&a, 0));
    let second = write(dir.path(), "second.jsonl", &render(&b, DOWNTIME));
    let state = dir.path().join("state");
    let run1 = replay_ok(&config, &first, Some(&state));
    let run2 = replay_ok(&config, &second, Some(&state));
    let s1 = Stream::parse(&run1.stdout, STORE, GATEWAY, 1);
    let s2 = Stream::parse(
        &run2.stdout,
        STORE,
        GATEWAY,
        s1.last_seq().expect("seq") + 1,
    );
    assert_eq!(s1.of_type("tag.departed").count(), 1);
    assert!(s2.events.is_empty(), "{:?}", s2.events);
    let snaps1: Vec<&str> = run1.stdout.lines().skip(s1.events.len()).collect();
    let snaps2: Vec<&str> = run2.stdout.lines().collect();
    assert_eq!(snaps2, snaps1);
    assert_eq!(s2.snapshot("shelf-a1")["as_of_seq"].as_u64(), s1.last_seq());
    // The shared assertions of split_replay hold here too.
    split_replay(split);
}

/// Replays the first `n` lines of `log` (a clean stop) and returns the events it printed.
fn events_of_prefix(config: &Path, dir: &Path, log: &[String], n: usize) -> String {
    let mut text = log[..n].join("\n");
    text.push('\n');
    let input = write(dir, "prefix.jsonl", &text);
    let run = replay_ok(config, &input, None);
    let s = Stream::parse(&run.stdout, STORE, GATEWAY, 1);
    let mut out = String::new();
    for line in run.stdout.lines().take(s.events.len()) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn replay_stops_at_a_malformed_line_with_65() {
    let dir = tempdir();
    let config = replay_config(dir.path());
    let mut log: Vec<String> = scenario().iter().map(|r| r.line(0)).collect();
    let bad = r#"{"t":1,"reader":"r1","antenna":1,"epc":"30z4"}"#;
    log.insert(4, bad.to_string());
    let mut text = log.join("\n");
    text.push('\n');
    assert_eq!(line_of(&text, "30z4"), 5);
    let input = write(dir.path(), "bad.jsonl", &text);
    let run = replay(&config, &input, None);
    assert_eq!(run.code, Some(EX_DATAERR), "{run:?}");
    let err = run.stderr.trim_end();
    assert!(
        err.contains(&format!("{}:5: ", input.display())),
        "stderr should name the file and line 5: {err}"
    );
    assert!(
        err.contains("\"30z4\""),
        "stderr should name the value: {err}"
    );
    assert!(err.contains("epc"), "stderr should name the field: {err}");
    // Lines 1-4 are applied (and their events printed), nothing from line 5 on: exactly what a
    // clean replay of lines 1-4 publishes, and no snapshots.
    let expected = events_of_prefix(&config, dir.path(), &log, 4);
    assert_eq!(run.stdout, expected);
    let s = Stream::parse(&run.stdout, STORE, GATEWAY, 1);
    assert!(s.snapshots.is_empty());
    assert_eq!(s.of_type("tag.arrived").count(), 0);
}

#[test]
fn replay_stops_at_an_unknown_reader_with_65() {
    let dir = tempdir();
    let config = replay_config(dir.path());
    let mut log: Vec<String> = scenario().iter().map(|r| r.line(0)).collect();
    let bad = format!(
        r#"{{"t":{},"reader":"r9","antenna":1,"epc":"{}","rssi":-55.0}}"#,
        T0 + 1_000,
        epc(1)
    );
    log.insert(7, bad);
    let mut text = log.join("\n");
    text.push('\n');
    assert_eq!(line_of(&text, "\"r9\""), 8);
    let input = write(dir.path(), "unknown-reader.jsonl", &text);
    let run = replay(&config, &input, None);
    assert_eq!(run.code, Some(EX_DATAERR), "{run:?}");
    let err = run.stderr.trim_end();
    assert!(
        err.contains(&format!("{}:8: ", input.display())),
        "stderr should name the file and line 8: {err}"
    );
    assert!(
        err.contains("\"r9\""),
        "stderr should name the reader: {err}"
    );
    let expected = events_of_prefix(&config, dir.path(), &log, 7);
    assert_eq!(run.stdout, expected);
}

// ---------------------------------------------------------------------------------------------
// demo
// ---------------------------------------------------------------------------------------------

/// Runs `shelfd demo` for `seconds` with extra `args`, its temp dir under `dir`. Stdout is a
/// pipe, so the view is the plain one.
fn demo(dir: &Path, seconds: u64, args: &[&str]) -> Run {
    let duration = format!("{seconds}s");
    let mut all = vec!["demo", "--for", duration.as_str()];
    all.extend_from_slice(args);
    // The demo keeps its sled state and PTY links under the temp dir; point that at this
    // test's own.
    shelfd_with(all, &[("TMPDIR", dir.as_os_str())], None)
}

/// The port of the `mosquitto_sub -h 127.0.0.1 -p PORT -t 'shelfd/v1/#' -v` line.
fn subscribe_port(line: &str) -> u16 {
    let rest = line
        .strip_prefix("watch it: mosquitto_sub -h 127.0.0.1 -p ")
        .unwrap_or_else(|| panic!("not the mosquitto_sub line: {line:?}"));
    let (port, tail) = rest.split_once(' ').expect("port, then the topic");
    assert_eq!(tail, "-t 'shelfd/v1/#' -v");
    port.parse().expect("port number")
}

/// One run of the live demo (simulated readers of every protocol on PTYs, the real pipeline,
/// the embedded broker) shows a newcomer everything within 40 s, and stops cleanly.
#[test]
fn demo_shows_the_store_live_over_its_own_broker_and_stops_cleanly() {
    let dir = tempdir();
    let run = demo(dir.path(), 40, &[]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let lines = run.lines();
    let out = &run.stdout;

    // First what runs and where to watch it.
    assert!(
        lines[0].starts_with("shelfd demo: store \"demo-store\", gateway \"gw-1\", for 40s"),
        "{out}"
    );
    assert!(
        lines[1].contains("(r1 mercury, r2 magicrf, r3 r2000, r4 line, r5 llrp, n1 shelf-link)"),
        "{out}"
    );
    let port = subscribe_port(lines[3]);
    assert_eq!(
        lines[2],
        format!("broker: mqtt://127.0.0.1:{port} (embedded rumqttd, this run only)")
    );
    assert!(port > 0);

    // What a viewer must see, in words.
    let count = |needle: &str| lines.iter().filter(|l| l.contains(needle)).count();
    for (needle, what) in [
        ("gateway   online", "the gateway online"),
        ("baseline  shelf-a1 holds 6: shirt×6", "the baseline"),
        (
            "baseline  shelf-c1 holds 8: water×8",
            "the untagged bottles the shelf node weighs, in the baseline",
        ),
        ("reader    n1 online", "the shelf-node bus online"),
        ("arrived   ", "tag.arrived"),
        ("moved     ", "tag.moved"),
        ("SOLD      ", "tag.sold"),
        ("ALERT     unsold ", "alert.exit"),
        ("(through the exit)", "tag.departed through the exit"),
        ("(missing)", "tag.departed missing"),
        ("stock     ", "stock.changed"),
        (
            "RECEIPT   dock-1 SHP-1001: complete, 4/4 received",
            "the delivery received against central's ASN",
        ),
        (
            "(shirt) at shelf-b1 (belongs at shelf-a1)",
            "alert.misplaced",
        ),
        ("ALERT     low stock of cap at shelf-b1", "alert.low_stock"),
        (
            "ALERT     stock-out forecast of water at shelf-c1",
            "alert.stockout_forecast",
        ),
        ("in the store: ", "the script's acts"),
        ("gateway   offline", "the clean stop's offline status"),
    ] {
        assert!(count(needle) > 0, "no {what} ({needle:?}) in:\n{out}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("moved") && l.contains("(shirt) shelf-a1 → shelf-b1")),
        "the misplaced shirt: {out}"
    );
    // The paid jeans leave without an alarm: one exit alert only, for the shirt.
    assert_eq!(count("ALERT     unsold "), 1, "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ALERT") && l.contains("(shirt)")),
        "{out}"
    );

    // Every event published arrived, numbered 1..=N without a gap.
    let seqs: Vec<u64> = lines
        .iter()
        .filter_map(|l| l.get(11..).and_then(|r| r.strip_prefix('#')))
        .filter_map(|r| r.split_whitespace().next()?.parse().ok())
        .collect();
    let n = seqs.len() as u64;
    assert!(n > 15, "{out}");
    assert_eq!(seqs, (1..=n).collect::<Vec<_>>(), "{out}");
    assert!(
        out.contains(&format!("{n} events received (last seq {n}): ")),
        "{out}"
    );
    assert!(out.trim_end().ends_with("; gateway offline"), "{out}");

    // The final stock table and reader summary.
    let table = &out[out
        .find("\nstock (as central sees it):\n")
        .expect("stock table")..];
    for location in [
        "shelf-a1", "shelf-a2", "shelf-b1", "shelf-c1", "backroom", "dock-1",
    ] {
        assert!(
            table.contains(&format!("\n  {location:<10} ")),
            "{location}: {table}"
        );
    }
    for (reader, protocol) in [
        ("r1", "mercury"),
        ("r2", "magicrf"),
        ("r3", "r2000"),
        ("r4", "line"),
    ] {
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("  {reader:<3} {protocol:<10} reads ")))
            .unwrap_or_else(|| panic!("no summary of {reader}: {out}"));
        let reads: u64 = line
            .split_whitespace()
            .nth(3)
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("reads of {line:?}"));
        assert!(reads > 0, "{protocol} delivered no reads: {line}");
        assert!(line.contains(" bad 0 "), "{line}");
    }

    // The demo cleans up its temp dir (state, PTY links).
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read temp dir")
        .collect();
    assert!(left.is_empty(), "demo left {left:?}");
}

/// `--json` prints every MQTT message as `topic payload`, like `mosquitto_sub -v`: events
/// with their envelope and contiguous seqs, retained snapshots, the status; the opening lines
/// and the summary go to stderr.
#[test]
fn demo_json_prints_every_message_as_topic_and_payload() {
    let dir = tempdir();
    let run = demo(dir.path(), 20, &["--json"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    let port = subscribe_port(
        run.stderr
            .lines()
            .find(|l| l.starts_with("watch it: "))
            .unwrap_or_else(|| panic!("no mosquitto_sub line on stderr: {}", run.stderr)),
    );
    assert!(port > 0);
    // The demo runs the reference central too and says how to ask it.
    assert!(
        run.stderr.lines().any(
            |l| l.contains("curl -H 'Authorization: Bearer demo-customer.")
                && l.contains("/v1/availability/")
                && l.contains(&format!("store={STORE}"))
        ),
        "no ready curl line for central on stderr: {}",
        run.stderr
    );
    let base = format!("shelfd/v1/{STORE}/{GATEWAY}/");
    let mut events = String::new();
    let mut snapshots = 0;
    let mut states = Vec::new();
    let (mut asns, mut accepted) = (0, 0);
    for line in run.lines() {
        let (topic, payload) = line
            .split_once(' ')
            .unwrap_or_else(|| panic!("not `topic payload`: {line}"));
        let rest = topic
            .strip_prefix(&base)
            .unwrap_or_else(|| panic!("foreign topic: {line}"));
        let v: Value = serde_json::from_str(payload).unwrap_or_else(|e| panic!("{e}: {line}"));
        // Every message the demo produces follows contract/schemas (commands too).
        shelfd_testkit::contract::check_message(topic, payload.as_bytes())
            .unwrap_or_else(|e| panic!("the demo broke the contract: {e}"));
        if let Some(op) = rest.strip_prefix("cmd/").filter(|op| !op.contains('/')) {
            shelfd_testkit::contract::contract()
                .validate(&format!("commands/{op}.json"), &v)
                .unwrap_or_else(|e| panic!("the demo's command breaks the contract: {e}"));
        }
        if let Some(kind) = rest.strip_prefix("event/") {
            assert_eq!(v["type"], kind, "{line}");
            events.push_str(payload);
            events.push('\n');
        } else if let Some(location) = rest.strip_prefix("stock/") {
            assert_eq!(
                (v["type"].as_str(), v["location"].as_str()),
                (Some("stock.snapshot"), Some(location)),
                "{line}"
            );
            snapshots += 1;
        } else if rest == "cmd/asn" {
            // Central's shipment notice (the subscription sees it too).
            assert_eq!(v["dock"], "dock-1", "{line}");
            asns += 1;
        } else if rest == "cmd/asn/result" {
            assert_eq!(
                (v["op"].as_str(), v["ok"].as_bool()),
                (Some("asn"), Some(true)),
                "{line}"
            );
            accepted += 1;
        } else {
            assert_eq!(rest, "status", "{line}");
            states.push(v["state"].as_str().unwrap_or("").to_owned());
        }
    }
    assert!(
        asns >= 1 && accepted >= 1,
        "asns {asns}, accepted {accepted}"
    );
    let stream = Stream::parse(&events, STORE, GATEWAY, 1);
    // Each of the four readers comes online, and goes offline at the clean stop.
    for reader in ["r1", "r2", "r3", "r4"] {
        let states: Vec<&str> = stream
            .of_type("reader.status")
            .filter(|e| e["reader"] == reader)
            .filter_map(|e| e["state"].as_str())
            .collect();
        assert_eq!(states.first(), Some(&"online"), "{reader}: {events}");
        assert_eq!(states.last(), Some(&"offline"), "{reader}: {events}");
    }
    assert!(snapshots >= 5, "the baseline snapshots: {}", run.stdout);
    assert_eq!(states.first().map(String::as_str), Some("online"));
    assert_eq!(states.last().map(String::as_str), Some("offline"));
    let n = stream.last_seq().unwrap_or(0);
    assert!(
        run.stderr
            .contains(&format!("{n} events received (last seq {n})")),
        "{}",
        run.stderr
    );
}

/// An owned command-line argument (paths and strings alike).
struct OsArg(std::ffi::OsString);

impl AsRef<std::ffi::OsStr> for OsArg {
    fn as_ref(&self) -> &std::ffi::OsStr {
        &self.0
    }
}

impl From<&str> for OsArg {
    fn from(s: &str) -> Self {
        OsArg(s.into())
    }
}

impl From<&Path> for OsArg {
    fn from(p: &Path) -> Self {
        OsArg(p.as_os_str().to_owned())
    }
}

impl From<&PathBuf> for OsArg {
    fn from(p: &PathBuf) -> Self {
        OsArg(p.as_os_str().to_owned())
    }
}

#[test]
fn decode_prints_one_json_line_per_frame_and_names_bad_bytes() {
    // BB-1 (a verified 0xBB tag notification), two garbage bytes, then BB-1 again.
    let frame = "BB 02 22 00 11 C9 34 00 30 75 1F EB 70 5C 59 04 E3 D5 0D 70 3A 76 EF 7E";
    let input = format!("{frame}\n00 01\n{frame}\n");
    let run = shelfd_testkit::shelfd_with(
        ["decode", "--protocol", "magicrf", "--hex"],
        &[],
        Some(input.as_bytes()),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert_eq!(lines[0]["kind"], "tag");
    assert_eq!(lines[0]["epc"], "30751feb705c5904e3d50d70");
    assert_eq!(lines[0]["rssi_dbm"], -55.0);
    assert_eq!(
        (lines[1]["kind"].clone(), lines[1]["offset"].clone()),
        ("bad".into(), 24.into())
    );
    assert_eq!(
        (lines[2]["kind"].clone(), lines[2]["offset"].clone()),
        ("tag".into(), 26.into())
    );

    let bad = shelfd_testkit::shelfd_with(
        ["decode", "--protocol", "line", "--hex"],
        &[],
        Some(b"30 0g\n"),
    );
    assert_eq!(bad.code, Some(65), "{}", bad.stderr);
    assert!(
        bad.stderr.contains("0g") || bad.stderr.contains('g'),
        "{}",
        bad.stderr
    );
    let unknown = shelfd_testkit::shelfd_with(["decode", "--protocol", "octane"], &[], Some(b""));
    assert_eq!(unknown.code, Some(2), "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("octane") && unknown.stderr.contains("llrp"),
        "{}",
        unknown.stderr
    );
}
