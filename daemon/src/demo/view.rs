//! What the demo prints: the opening lines (broker and a ready-to-paste `mosquitto_sub`), the
//! live terminal screen ([`live_frame`], redrawn in place with ANSI escapes), the plain lines
//! for a pipe or a log ([`plain_line`]), and the closing summary ([`summary`]). Pure functions
//! from the [`CentralView`] and a few facts to text: nothing here reads a clock, a socket or a
//! terminal.

use super::central::{Applied, CentralView, LocationStock};
use super::describe::{SkuNames, describe_with};
use crate::config::Protocol;
use shelfd_core::events::EventBody;
use shelfd_readers::ReaderHealthSnapshot;
use std::fmt::Write as _;
use std::time::Duration;

/// How the demo shows what happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewMode {
    /// A live screen redrawn in place (stdout is a terminal).
    Live,
    /// One line per event, then a summary (a pipe, a file, `--plain`).
    Plain,
    /// Every MQTT message as `topic payload`, like `mosquitto_sub -v` (`--json`).
    Json,
}

/// Facts about the run the screens show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFacts {
    /// Store id.
    pub store: String,
    /// Gateway id.
    pub gateway: String,
    /// The embedded broker's port on 127.0.0.1.
    pub port: u16,
    /// The topic filter that matches everything shelfd publishes (`shelfd/v1/#`).
    pub filter: String,
    /// The sled state dir.
    pub state_dir: String,
    /// How long the demo runs.
    pub duration: Duration,
    /// Reader id and protocol, in config order.
    pub readers: Vec<(String, Protocol)>,
}

const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const RESET: &str = "\x1b[0m";
/// Clears the rest of the line.
const EOL: &str = "\x1b[K";
/// Cursor home.
pub const HOME: &str = "\x1b[H";
/// Clears the screen below the cursor.
pub const CLEAR_BELOW: &str = "\x1b[J";
/// Hides the cursor (the live screen).
pub const HIDE_CURSOR: &str = "\x1b[?25l";
/// Shows the cursor again.
pub const SHOW_CURSOR: &str = "\x1b[?25h";

/// The command that shows the same messages in another terminal.
///
/// ```
/// assert_eq!(shelfd::demo::view::mosquitto_sub(41883, "shelfd/v1/#"),
///     "mosquitto_sub -h 127.0.0.1 -p 41883 -t 'shelfd/v1/#' -v");
/// ```
pub fn mosquitto_sub(port: u16, filter: &str) -> String {
    format!("mosquitto_sub -h 127.0.0.1 -p {port} -t '{filter}' -v")
}

/// The opening lines: what runs, the broker, and the `mosquitto_sub` line.
pub fn opening(f: &RunFacts) -> Vec<String> {
    let readers: Vec<String> = f
        .readers
        .iter()
        .map(|(id, protocol)| format!("{id} {protocol}"))
        .collect();
    vec![
        format!(
            "shelfd demo: store {:?}, gateway {:?}, for {} (Ctrl-C stops earlier)",
            f.store,
            f.gateway,
            crate::config::format_duration(f.duration),
        ),
        format!(
            "pipeline: {} simulated readers on PTYs and LLRP/TCP ({}) → engine → sled in {} → MQTT",
            f.readers.len(),
            readers.join(", "),
            f.state_dir,
        ),
        format!(
            "broker: mqtt://127.0.0.1:{} (embedded rumqttd, this run only)",
            f.port
        ),
        format!("watch it: {}", mosquitto_sub(f.port, &f.filter)),
    ]
}

/// `[HH:MM:SS]` of a gateway time.
fn clock(ms: u64) -> String {
    let t = shelfd_core::timefmt::rfc3339_ms(ms);
    format!("[{}]", t.get(11..19).unwrap_or(""))
}

/// `shirt×6  cap×1`, or `empty`.
fn counts_text(s: &LocationStock, names: &dyn SkuNames) -> String {
    if s.counts.is_empty() {
        return "empty".into();
    }
    s.counts
        .iter()
        .map(|(sku, n)| format!("{}×{n}", names.name(sku).unwrap_or(sku)))
        .collect::<Vec<_>>()
        .join("  ")
}

/// The plain line for one applied message (`None` for messages the plain view skips: later
/// snapshots, foreign topics). `now_ms` stamps lines that carry no time of their own.
pub fn plain_line(
    applied: &Applied,
    view: &CentralView,
    names: &dyn SkuNames,
    now_ms: u64,
) -> Option<String> {
    match applied {
        Applied::Event(e) => Some(describe_with(e, names)),
        Applied::Snapshot {
            location,
            baseline: true,
        } => {
            let s = view.stock_of(location)?;
            Some(format!(
                "{}       baseline  {location} holds {}: {} (stock found at start-up; no arrivals published)",
                clock(now_ms),
                s.total(),
                counts_text(s, names)
            ))
        }
        Applied::Status(state) => Some(format!("{}       gateway   {state}", clock(now_ms))),
        Applied::Snapshot { .. } | Applied::Other | Applied::Foreign => None,
    }
}

/// The plain line of a script act starting.
pub fn plain_narration(say: &str, now_ms: u64) -> String {
    format!("{}       in the store: {say}", clock(now_ms))
}

/// The stock table: one line per location (`  shelf-a1   shelf      6  shirt×6`).
pub fn stock_lines(
    view: &CentralView,
    kinds: &dyn Fn(&str) -> String,
    names: &dyn SkuNames,
) -> Vec<String> {
    view.stock()
        .iter()
        .map(|s| {
            let kind = kinds(&s.location);
            if s.known || !s.counts.is_empty() {
                format!(
                    "  {:<10} {:<9} {:>3}  {}",
                    s.location,
                    kind,
                    s.total(),
                    counts_text(s, names)
                )
            } else {
                format!("  {:<10} {:<9}   ?  (no snapshot yet)", s.location, kind)
            }
        })
        .collect()
}

/// One line per reader: `  r1  mercury    reads 1234  frames 1502  bad 0  reconnects 0  link up`.
pub fn reader_lines(
    readers: &[(String, Protocol)],
    health: &[ReaderHealthSnapshot],
) -> Vec<String> {
    readers
        .iter()
        .map(
            |(id, protocol)| match health.iter().find(|h| &h.reader == id) {
                Some(h) => format!(
                    "  {id:<3} {:<10} reads {:<6} frames {:<6} bad {:<3} reconnects {:<2} link {}",
                    protocol.to_string(),
                    h.reads,
                    h.frames,
                    h.bad_frames,
                    h.connects.saturating_sub(1),
                    if h.link_up { "up" } else { "down" }
                ),
                None => format!("  {id:<3} {:<8} not started", protocol.to_string()),
            },
        )
        .collect()
}

/// Events per type, e.g. `tag.arrived 4, tag.moved 5`.
/// Kinds in the alphabetical order of their spelling, as the summary always printed them.
fn per_type_text(view: &CentralView) -> String {
    let mut counts: Vec<(&str, u64)> = view
        .per_type()
        .iter()
        .map(|(kind, n)| (kind.as_str(), *n))
        .collect();
    counts.sort_unstable();
    counts
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Everything the live screen needs besides the view.
#[derive(Debug, Clone, Copy)]
pub struct Screen<'a> {
    /// The run.
    pub facts: &'a RunFacts,
    /// Time since the start.
    pub elapsed: Duration,
    /// The current act of the script.
    pub narration: &'a str,
    /// Reader counters.
    pub health: &'a [ReaderHealthSnapshot],
    /// Terminal size: columns, rows.
    pub size: (usize, usize),
}

/// Terminal size assumed when it cannot be read.
pub const DEFAULT_SIZE: (usize, usize) = (80, 24);
/// Width of the stock column of the live screen.
const STOCK_COLUMN: usize = 42;

fn mm_ss(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

/// `text` cut to `width` characters (an ellipsis marks the cut).
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// One compact reader line of the live screen: `r1  mercury    1234 reads  up`.
fn reader_cell(id: &str, protocol: Protocol, health: &[ReaderHealthSnapshot]) -> String {
    match health.iter().find(|h| h.reader == id) {
        Some(h) => format!(
            "{id:<3} {:<8} {:>6} reads  {}",
            protocol.to_string(),
            h.reads,
            if h.link_up { "up" } else { "down" }
        ),
        None => format!("{id:<3} {:<8} starting", protocol.to_string()),
    }
}

/// The live screen, drawn from the top left within `screen.size`: every line is cut to the
/// width and clears its rest, the screen below is cleared, so redrawing in place never
/// flickers or scrolls. As many of the latest events as fit are shown (at most
/// [`RECENT_EVENTS`](super::central::RECENT_EVENTS)).
pub fn live_frame(view: &CentralView, screen: &Screen<'_>, names: &dyn SkuNames) -> String {
    let f = screen.facts;
    let (cols, rows) = screen.size;
    let width = cols.saturating_sub(1).max(20);
    let mut lines: Vec<(Option<&str>, String)> = vec![
        (
            Some(BOLD),
            format!(
                "shelfd demo · store {} · gateway {} · {} of {} · Ctrl-C stops",
                f.store,
                f.gateway,
                mm_ss(screen.elapsed),
                mm_ss(f.duration)
            ),
        ),
        (
            None,
            format!("watch it: {}", mosquitto_sub(f.port, &f.filter)),
        ),
        (None, format!("in the store: {}", screen.narration)),
        (
            Some(BOLD),
            format!(
                "{:<STOCK_COLUMN$}{}",
                "STOCK as central sees it", "READERS simulated on PTYs"
            ),
        ),
    ];
    let stock: Vec<String> = view
        .stock()
        .iter()
        .map(|s| {
            let counts = if s.known || !s.counts.is_empty() {
                format!(
                    "{:>3}  {}",
                    s.total(),
                    counts_text(s, names).replace("  ", " ")
                )
            } else {
                "  ?".to_owned()
            };
            format!("  {:<9} {counts}", s.location)
        })
        .collect();
    let readers: Vec<String> = f
        .readers
        .iter()
        .map(|(id, protocol)| reader_cell(id, *protocol, screen.health))
        .collect();
    for i in 0..stock.len().max(readers.len()) {
        let left = stock.get(i).map(String::as_str).unwrap_or("");
        let right = readers.get(i).map(String::as_str).unwrap_or("");
        let left = fit(left, STOCK_COLUMN - 1);
        lines.push((None, format!("{left:<STOCK_COLUMN$}{right}")));
    }
    lines.push((
        Some(BOLD),
        format!(
            "LATEST EVENTS · {} received, last seq {} · gateway {}",
            view.events(),
            view.last_seq(),
            view.status().unwrap_or("connecting")
        ),
    ));
    let room = rows.saturating_sub(lines.len() + 1).max(3);
    let recent: Vec<_> = view.recent().collect();
    for e in &recent[recent.len().saturating_sub(room)..] {
        let style = match e.body {
            EventBody::AlertExit { .. } => Some(RED),
            EventBody::TagSold { .. } => Some(GREEN),
            _ => None,
        };
        lines.push((style, format!("  {}", describe_with(e, names))));
    }
    let mut out = String::from(HOME);
    for (style, text) in lines {
        let text = fit(&text, width);
        match style {
            Some(style) => {
                let _ = writeln!(out, "{style}{text}{RESET}{EOL}");
            }
            None => {
                let _ = writeln!(out, "{text}{EOL}");
            }
        }
    }
    out.push_str(CLEAR_BELOW);
    out
}

/// The closing summary: stock, readers and event counts.
pub fn summary(
    view: &CentralView,
    facts: &RunFacts,
    health: &[ReaderHealthSnapshot],
    kinds: &dyn Fn(&str) -> String,
    names: &dyn SkuNames,
) -> Vec<String> {
    let mut lines = vec![String::new(), "stock (as central sees it):".to_owned()];
    lines.extend(stock_lines(view, kinds, names));
    lines.push(String::new());
    lines.push("readers:".to_owned());
    lines.extend(reader_lines(&facts.readers, health));
    lines.push(String::new());
    lines.push(format!(
        "{} events received (last seq {}): {}; gateway {}",
        view.events(),
        view.last_seq(),
        per_type_text(view),
        view.status().unwrap_or("unknown")
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use shelfd_core::events::{Event, Origin, StockSnapshot};
    use shelfd_core::topics::Topics;

    fn facts() -> RunFacts {
        RunFacts {
            store: "demo-store".into(),
            gateway: "gw-1".into(),
            port: 41883,
            filter: "shelfd/v1/#".into(),
            state_dir: "/tmp/x/state".into(),
            duration: Duration::from_secs(600),
            readers: vec![
                ("r1".into(), Protocol::Mercury),
                ("r4".into(), Protocol::Line),
            ],
        }
    }

    fn kinds(location: &str) -> String {
        if location.starts_with("shelf") {
            "shelf".into()
        } else {
            "pos".into()
        }
    }

    fn view_with_stock() -> (CentralView, Applied) {
        let mut view = CentralView::new(
            Topics::new("shelfd/v1", "demo-store", "gw-1"),
            ["shelf-a1".to_owned(), "pos-1".to_owned()],
        );
        let origin = Origin {
            store: "demo-store".into(),
            gateway: "gw-1".into(),
        };
        let snap = StockSnapshot {
            location: "shelf-a1".into(),
            time_ms: 0,
            counts: [("00614141000012".to_owned(), 6)].into(),
            baseline: true,
            as_of_seq: 0,
            forecast: Default::default(),
        };
        let applied = view.apply(
            "shelfd/v1/demo-store/gw-1/stock/shelf-a1",
            snap.to_json(&origin).as_bytes(),
        );
        let alert = Event {
            seq: 1,
            time_ms: 1_795_341_600_000,
            body: EventBody::AlertExit {
                epc: "30".into(),
                sku: Some("00614141000012".into()),
                location: "exit-1".into(),
                from: "shelf-a1".into(),
            },
        };
        view.apply(
            "shelfd/v1/demo-store/gw-1/event/alert.exit",
            alert.to_json(&origin).as_bytes(),
        );
        (view, applied)
    }

    #[test]
    fn opening_names_the_broker_and_the_subscribe_command() {
        let lines = opening(&facts());
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0],
            "shelfd demo: store \"demo-store\", gateway \"gw-1\", for 10m (Ctrl-C stops earlier)"
        );
        assert!(lines[1].contains("(r1 mercury, r4 line)"), "{}", lines[1]);
        assert_eq!(
            lines[2],
            "broker: mqtt://127.0.0.1:41883 (embedded rumqttd, this run only)"
        );
        assert_eq!(
            lines[3],
            "watch it: mosquitto_sub -h 127.0.0.1 -p 41883 -t 'shelfd/v1/#' -v"
        );
    }

    #[test]
    fn plain_lines_and_stock_table() {
        let (view, applied) = view_with_stock();
        let names = super::super::script::Catalog::demo();
        let line = plain_line(&applied, &view, &names, 1_795_341_600_000).expect("baseline line");
        assert_eq!(
            line,
            "[10:00:00]       baseline  shelf-a1 holds 6: shirt×6 (stock found at start-up; no arrivals published)"
        );
        assert_eq!(
            stock_lines(&view, &kinds, &names),
            [
                "  shelf-a1   shelf       6  shirt×6",
                "  pos-1      pos         ?  (no snapshot yet)"
            ]
        );
        let later = Applied::Snapshot {
            location: "shelf-a1".into(),
            baseline: false,
        };
        assert_eq!(plain_line(&later, &view, &names, 0), None);
    }

    #[test]
    fn live_frame_redraws_in_place_and_colours_alerts() {
        let (view, _) = view_with_stock();
        let names = super::super::script::Catalog::demo();
        let health = [ReaderHealthSnapshot {
            reader: "r1".into(),
            reads: 12,
            frames: 14,
            connects: 1,
            link_up: true,
            ..ReaderHealthSnapshot::default()
        }];
        let facts = facts();
        let screen = Screen {
            facts: &facts,
            elapsed: Duration::from_secs(62),
            narration: "a shopper pays for a cap at the POS",
            health: &health,
            size: DEFAULT_SIZE,
        };
        let frame = live_frame(&view, &screen, &names);
        assert!(frame.starts_with(HOME) && frame.ends_with(CLEAR_BELOW));
        assert!(frame.contains("1:02 of 10:00"), "{frame}");
        assert!(frame.contains("-p 41883 -t 'shelfd/v1/#'"), "{frame}");
        assert!(frame.contains(&format!("{RED}  [10:00:00] #1")), "{frame}");
        assert!(
            frame.contains(
                "  shelf-a1    6  shirt×6                  r1  mercury      12 reads  up"
            ),
            "{frame}"
        );
        assert!(frame.contains("r4  line     starting"), "{frame}");
        assert!(
            frame
                .lines()
                .all(|l| l.ends_with(EOL) || l.ends_with(CLEAR_BELOW))
        );
        // Every line fits 80 columns once the escapes are taken out.
        for l in frame.lines() {
            let visible = l
                .replace(HOME, "")
                .replace(EOL, "")
                .replace(BOLD, "")
                .replace(RED, "")
                .replace(RESET, "");
            assert!(visible.chars().count() < 80, "{visible:?}");
        }
        // A short terminal shows fewer events, never fewer than three rows of them.
        let small = Screen {
            size: (80, 10),
            ..screen
        };
        assert!(live_frame(&view, &small, &names).contains("#1"));
    }

    #[test]
    fn summary_counts_events_per_type() {
        let (view, _) = view_with_stock();
        let lines = summary(&view, &facts(), &[], &kinds, &());
        assert_eq!(
            lines.last().map(String::as_str),
            Some("1 events received (last seq 1): alert.exit 1; gateway unknown")
        );
        assert!(lines.contains(&"  shelf-a1   shelf       6  00614141000012×6".to_owned()));
    }
}
