//! # shelfd-core
//!
//! shelfd's pure domain: everything that decides *what* happened in a store, with no I/O, no
//! threads and no wall clock (time is an input). The daemon (`shelfd`), the reader drivers
//! (`shelfd-readers`) and any central-side consumer build on it; it depends on none of them,
//! and on no tokio, sled, serial, MQTT or Linux crate.
//!
//! ## Layout
//! - [`epc`]: GS1 EPC Tag Data Standard decoding (SGTIN, SSCC, SGLN, GRAI, GIAI, GID, "+").
//! - [`gtin`]: GTIN-14 check digits (planograms, class-level shipment lines).
//! - [`readlog`]: the JSON Lines read-log contract (input of `shelfd replay`).
//! - [`events`]: event payloads (JSON, version 1), their envelope and [`events::EventKind`].
//! - [`topics`]: the MQTT topic grammar (build and parse).
//! - [`commands`]: the MQTT command grammar (`cmd/{op}` payloads and their results).
//! - [`reconcile`]: the engine: reads with timestamps in, domain events out.
//! - [`dock`]: receiving docks: door sessions, shipments (ASNs), `dock.receipt`s.
//! - [`kinds`]: closed vocabularies (location kinds, undecoded policy) and their macro.
//! - [`duration`]: the duration grammar of the config (`"10s"`, `"1.5h"`).
//! - [`codec`]: the big-endian record writer/reader of persisted engine and dock state.
//! - [`timefmt`]: RFC 3339 formatting and parsing of millisecond timestamps.
//! - [`sim`]: seeded store simulations that produce read logs (tests, benchmarks, demo).
//!
//! Dependency direction inside the crate is one way:
//! `sim → reconcile → dock → (events, readlog, codec) → (epc, gtin, kinds, timefmt)`;
//! `commands → dock::asn`; `topics` and `duration` stand alone.

pub mod backoff;
pub mod codec;
pub mod commands;
pub mod dock;
pub mod duration;
pub mod epc;
pub mod events;
pub mod gtin;
pub mod kinds;
pub mod readlog;
pub mod reconcile;
pub mod sim;
pub mod timefmt;
pub mod topics;
