//! The JSON lines `shelfd replay` and `shelfd demo --json` print, checked against the event
//! contract's envelope (key order, contiguous seqs, snapshots last), and an independent parser
//! of its event times.

use serde_json::Value;

/// Milliseconds since the Unix epoch of an event time `YYYY-MM-DDTHH:MM:SS.mmmZ`.
/// (Independent of shelfd's own formatter: days-from-civil after H. Hinnant.)
pub fn parse_time(s: &str) -> u64 {
    let b = s.as_bytes();
    assert!(
        b.len() == 24
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && b[19] == b'.'
            && b[23] == b'Z',
        "not a YYYY-MM-DDTHH:MM:SS.mmmZ time: {s:?}"
    );
    let num = |r: std::ops::Range<usize>| -> i64 {
        s[r].parse()
            .unwrap_or_else(|_| panic!("not a number in {s:?}"))
    };
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    let (hh, mm, ss, ms) = (num(11..13), num(14..16), num(17..19), num(20..23));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let total = ((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000) + ms;
    u64::try_from(total).expect("time after 1970")
}

/// The lines `shelfd replay` or `shelfd demo --json` printed, checked against the event contract.
#[derive(Debug)]
pub struct Stream {
    /// Events (everything with a `seq`), in output order.
    pub events: Vec<Value>,
    /// `stock.snapshot` lines, in output order (all after the last event).
    pub snapshots: Vec<Value>,
}

impl Stream {
    /// Parses `stdout`, asserting that every line is a JSON object with the envelope
    /// `v, type, store, gateway, seq, time` in that key order (snapshots: no `seq`, but an
    /// `as_of_seq`), that snapshots come only after every event, and that the seqs are contiguous
    /// from `first_seq`.
    pub fn parse(stdout: &str, store: &str, gateway: &str, first_seq: u64) -> Stream {
        let mut events = Vec::new();
        let mut snapshots: Vec<Value> = Vec::new();
        for (i, raw) in stdout.lines().enumerate() {
            let n = i + 1;
            let v: Value = serde_json::from_str(raw)
                .unwrap_or_else(|e| panic!("stdout line {n} is not JSON ({e}): {raw}"));
            assert!(v.is_object(), "line {n} is not an object: {raw}");
            assert!(
                raw.starts_with(r#"{"v":1,"type":"#),
                "line {n} does not start with the envelope: {raw}"
            );
            if let Err(e) = crate::contract::check_payload(&v) {
                panic!("line {n} breaks contract/schemas: {e}");
            }
            let ty = v["type"].as_str().unwrap_or_else(|| panic!("type: {raw}"));
            let time = v["time"].as_str().unwrap_or_else(|| panic!("time: {raw}"));
            parse_time(time);
            if ty == "stock.snapshot" {
                assert!(v.get("seq").is_none(), "a snapshot has no seq: {raw}");
                assert!(v["as_of_seq"].is_u64(), "snapshot without as_of_seq: {raw}");
                let prefix = format!(
                    r#"{{"v":1,"type":"stock.snapshot","store":{},"gateway":{},"time":{},"#,
                    Value::from(store),
                    Value::from(gateway),
                    Value::from(time)
                );
                assert!(raw.starts_with(&prefix), "envelope of line {n}: {raw}");
                snapshots.push(v);
            } else {
                assert!(
                    snapshots.is_empty(),
                    "event after the snapshots (line {n}): {raw}"
                );
                let seq = v["seq"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("event without seq (line {n}): {raw}"));
                let want = first_seq + events.len() as u64;
                assert_eq!(seq, want, "seq not contiguous at line {n}: {raw}");
                // Rebuilding the prefix from the parsed values checks key order and values.
                let prefix = format!(
                    r#"{{"v":1,"type":{},"store":{},"gateway":{},"seq":{seq},"time":{},"#,
                    Value::from(ty),
                    Value::from(store),
                    Value::from(gateway),
                    Value::from(time)
                );
                assert!(raw.starts_with(&prefix), "envelope of line {n}: {raw}");
                events.push(v);
            }
        }
        Stream { events, snapshots }
    }

    /// Seq of the last event, if any.
    pub fn last_seq(&self) -> Option<u64> {
        self.events.last().and_then(|e| e["seq"].as_u64())
    }

    /// Events of type `ty`.
    pub fn of_type<'a>(&'a self, ty: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.events.iter().filter(move |e| e["type"] == ty)
    }

    /// The snapshot of `location` (exactly one).
    pub fn snapshot(&self, location: &str) -> &Value {
        let found: Vec<&Value> = self
            .snapshots
            .iter()
            .filter(|s| s["location"] == location)
            .collect();
        assert_eq!(found.len(), 1, "snapshots of {location}: {found:?}");
        found[0]
    }
}
