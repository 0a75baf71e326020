//! `shelfd replay`: drives the real engine on a virtual clock taken from a read log and writes
//! every event it would publish, one JSON object per line, then the retained snapshots. Same
//! input, same output, byte for byte. With a state dir, state persists across invocations exactly
//! as across a daemon restart: the end of the input is a clean stop, and the gap until the next
//! invocation's first `t` is downtime.
//!
//! GPIO lines are door inputs and command lines (`asn`, and `ping`/`resync`, which change
//! nothing) are executed as the daemon executes them over MQTT, so a replayed receiving dock
//! produces the same `dock.receipt`s. A malformed line (not UTF-8, longer than
//! [`MAX_LINE_BYTES`], which is not read further, or not a record), one naming a reader or gpio the config
//! does not have, or a rejected command (a malformed ASN, an unknown dock, a shipment id reused
//! with other content) stops the replay with an error naming the line number and the reason:
//! every line before it is applied and committed, nothing of it or after it is.
//!
//! With [`ReplayFormat::Epcis`] (`--format epcis`) it writes instead the GS1 EPCIS 2.0 document
//! of every event that has one ([`crate::publish::epcis`]), one JSON document per line: the
//! same bytes the daemon publishes on the `epcis` topic. Retained snapshots are left out in
//! that mode: they are state, not events, and shelfd publishes no EPCIS document for them.

use crate::config::Config;
use crate::engine_store::{EngineStore, EngineStoreError, RecordError};
use crate::publish::epcis::{EpcisError, EpcisMapping};
use crate::store::{MemoryStore, SledStore, Store, StoreError};
use shelfd_core::readlog::lines::{Cut, LineCutter, MAX_LINE_BYTES};
use shelfd_core::readlog::{ReadLogError, parse_line};
use std::io::{BufRead, Write};
use std::path::Path;

/// Lines applied between two store commits.
const COMMIT_EVERY_LINES: usize = 4096;

/// Why a replay stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A line is not a valid record.
    #[error("{input}:{line}: {source}")]
    Line {
        /// Input name.
        input: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        source: ReadLogError,
    },
    /// A line names something the config does not have.
    #[error("{input}:{line}: {source}")]
    Record {
        /// Input name.
        input: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        source: RecordError,
    },
    /// Reading the input or writing the output failed.
    #[error("{0}")]
    Io(String),
    /// The state dir could not be used.
    #[error(transparent)]
    Engine(#[from] EngineStoreError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event could not be mapped to EPCIS (a location or dock missing from the config, e.g.
    /// with a state dir written under another config).
    #[error("EPCIS: {0}")]
    Epcis(#[from] EpcisError),
}

/// What a replay writes.
#[derive(Debug, Clone, Default)]
pub enum ReplayFormat {
    /// Every event payload, then the retained snapshots (the default).
    #[default]
    Json,
    /// The EPCIS document of every event that has one; no snapshots.
    Epcis(EpcisMapping),
}

/// What a replay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplaySummary {
    /// Lines applied.
    pub lines: usize,
    /// Events the engine produced (in EPCIS format, also those without a document).
    pub events: usize,
    /// EPCIS documents written (EPCIS format only).
    pub documents: usize,
}

/// Replays `input` against `config`, with state in `state_dir` (in memory when `None`),
/// writing `format` to `out`: events and then snapshots, or EPCIS documents.
pub fn replay(
    config: &Config,
    input_name: &str,
    input: impl BufRead,
    state_dir: Option<&Path>,
    format: &ReplayFormat,
    out: &mut impl Write,
) -> Result<ReplaySummary, ReplayError> {
    match state_dir {
        Some(dir) => {
            let store = SledStore::open(dir, crate::store::DEFAULT_CACHE_BYTES)?;
            let es = EngineStore::open(config, store)?;
            run_formatted(es, input_name, input, format, out)
        }
        None => {
            let es = EngineStore::open(config, MemoryStore::new())?;
            run_formatted(es, input_name, input, format, out)
        }
    }
}

/// Replays `input` through an already opened engine and store (benchmarks, tests), writing
/// events and snapshots.
pub fn run_with<S: Store>(
    es: EngineStore<S>,
    input_name: &str,
    input: impl BufRead,
    out: &mut impl Write,
) -> Result<ReplaySummary, ReplayError> {
    run_formatted(es, input_name, input, &ReplayFormat::Json, out)
}

/// [`run_with`] writing `format`.
pub fn run_formatted<S: Store>(
    mut es: EngineStore<S>,
    input_name: &str,
    input: impl BufRead,
    format: &ReplayFormat,
    out: &mut impl Write,
) -> Result<ReplaySummary, ReplayError> {
    let io = |e: std::io::Error| ReplayError::Io(format!("{input_name}: {e}"));
    let mut summary = ReplaySummary::default();
    let mut since_commit = 0;
    let mut buf = String::new();
    let mut input = input;
    let mut cutter = LineCutter::new();
    loop {
        let chunk = input.fill_buf().map_err(io)?;
        let cut = if chunk.is_empty() {
            match cutter.finish() {
                Some(cut) => cut,
                None => break,
            }
        } else {
            let (used, cut) = cutter.feed(chunk);
            input.consume(used);
            match cut {
                Some(cut) => cut,
                None => continue,
            }
        };
        // A line too long, not UTF-8 or not a record stops the replay here, naming it.
        let parsed = match cut {
            Cut::TooLong { number } => Err((
                number,
                ReadLogError::TooLong {
                    max: MAX_LINE_BYTES,
                },
            )),
            Cut::Line { number } => match cutter.text() {
                Err(source) => Err((number, source)),
                Ok(line) if line.trim().is_empty() => continue,
                Ok(line) => parse_line(line)
                    .map(|rec| (number, rec))
                    .map_err(|e| (number, e)),
            },
        };
        let (n, rec) = match parsed {
            Ok(parsed) => parsed,
            Err((number, source)) => {
                commit_and_print(&mut es, format, out, &mut buf, &mut summary)?;
                es.flush()?;
                return Err(ReplayError::Line {
                    input: input_name.into(),
                    line: line_number(number),
                    source,
                });
            }
        };
        match es.feed(&rec) {
            Ok(()) => summary.lines += 1,
            Err(source) => {
                commit_and_print(&mut es, format, out, &mut buf, &mut summary)?;
                es.flush()?;
                return Err(ReplayError::Record {
                    input: input_name.into(),
                    line: line_number(n),
                    source,
                });
            }
        }
        since_commit += 1;
        if since_commit >= COMMIT_EVERY_LINES {
            commit_and_print(&mut es, format, out, &mut buf, &mut summary)?;
            since_commit = 0;
        }
    }
    es.shutdown();
    commit_and_print(&mut es, format, out, &mut buf, &mut summary)?;
    es.flush()?;
    if let ReplayFormat::Json = format {
        let origin = es.origin().clone();
        for s in es.engine().snapshots() {
            writeln!(out, "{}", s.to_json(&origin))
                .map_err(|e| ReplayError::Io(format!("output: {e}")))?;
        }
    }
    out.flush()
        .map_err(|e| ReplayError::Io(format!("output: {e}")))?;
    Ok(summary)
}

/// A line number as the error reports it (saturating on 32-bit targets).
fn line_number(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn commit_and_print<S: Store>(
    es: &mut EngineStore<S>,
    format: &ReplayFormat,
    out: &mut impl Write,
    buf: &mut String,
    summary: &mut ReplaySummary,
) -> Result<(), ReplayError> {
    let (events, _) = es.commit()?;
    buf.clear();
    for e in &events {
        match format {
            ReplayFormat::Json => buf.push_str(&e.to_json(es.origin())),
            ReplayFormat::Epcis(mapping) => match mapping.event_document(es.origin(), e)? {
                Some(document) => {
                    buf.push_str(&document);
                    summary.documents += 1;
                }
                None => continue,
            },
        }
        buf.push('\n');
    }
    summary.events += events.len();
    out.write_all(buf.as_bytes())
        .map_err(|e| ReplayError::Io(format!("output: {e}")))?;
    Ok(())
}
