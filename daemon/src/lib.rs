//! # shelfd
//!
//! The edge daemon of an RFID smart-shelf system: it reads UHF RFID readers and shelf nodes,
//! reconciles noisy tag reads into shelf-level stock, sale and receiving events, keeps its state
//! in a local sled store and publishes deltas and retained snapshots to the central inventory.
//!
//! ## Layout
//! The daemon is the I/O around two crates it builds on: `shelfd_core` (the pure domain: EPCs,
//! the read-log and event contracts, topics, commands, the engine, docks) and `shelfd_readers`
//! (wire protocols, their simulators and the one reader-link lifecycle). Here:
//! - [`config`]: the typed TOML schema and its validation (errors name file, line and field),
//!   and [`config::engine_setup`], the one place config sections become the engine's types.
//! - [`store`]: sled behind the small [`store::Store`] trait: state, outbox (with each entry's
//!   event kind) and meta, atomically.
//! - [`engine_store`]: the engine bound to its store: restore, feed, one atomic commit per step.
//! - [`replay`]: `shelfd replay`: the engine on a virtual clock taken from a read log.
//! - [`publish`]: the MQTT side: connection options, the publisher task, commands handed to the
//!   engine thread, presence, EPCIS documents.
//! - [`gpio`]: door sensors and light stacks on Linux GPIO, behind embedded-hal traits.
//! - [`health`]: the live figures the pipeline's parts share (outbox, last seq, reader counters).
//! - [`ops`]: systemd notify, logging, metrics, `status`: they read [`health`], never `run` or
//!   `publish`.
//! - [`run`]: `shelfd run`: the live pipeline (readers, engine thread, store, MQTT publisher).
//! - `bench` (feature `bench`): `shelfd bench`: the figures recorded in `BENCHMARKS.md`.
//! - `demo` (feature `demo`): `shelfd demo`: the live demo store (simulated readers, embedded
//!   broker, view).
//!
//! `demo` and `bench` are tooling, behind default-off features so that the daemon's build, its
//! package and its tests never compile them (nor the demo's embedded broker, rumqttd).
//!
//! Dependencies between the modules go one way (no cycles; `tests/tests/layering.rs` checks it):
//! `run → (ops, publish, engine_store, gpio)`, `publish → (ops, health)`, `replay →
//! (engine_store, publish)`, `engine_store → (config, store)`, `ops → health`; `config`,
//! `store` and `health` depend on no other module here.

#[cfg(feature = "bench")]
pub mod bench;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod engine_store;
pub mod gpio;
pub mod health;
pub mod ops;
pub mod publish;
pub mod replay;
pub mod run;
pub mod store;
