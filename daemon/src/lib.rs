//! # shelfd
//!
//! The edge daemon of an RFID smart-shelf system: it reads UHF RFID readers and shelf nodes,
//! reconciles noisy tag reads into shelf-level stock, sale and receiving events, keeps its state
//! in a local sled store and publishes deltas and retained snapshots to the central inventory.
//!
//! ## Layout
//! - [`config`]: the typed TOML schema and its validation (errors name file, line and field).
//! - [`epc`]: GS1 EPC Tag Data Standard decoding (SGTIN, SSCC, SGLN, GRAI, GIAI, GID, "+").
//! - [`readlog`]: the JSON Lines read-log contract (input of `shelfd replay`).
//! - [`reconcile`]: the pure engine: inputs with timestamps in, domain events out. No I/O.
//! - [`dock`]: receiving docks: door sessions, shipments (ASNs), `dock.receipt`s. Pure, driven by
//!   the engine.
//! - [`gpio`]: door sensors and light stacks on Linux GPIO, behind embedded-hal traits.
//! - [`events`]: event payloads (JSON, version 1) and their envelope.
//! - [`store`]: sled behind the small [`store::Store`] trait: state, outbox and meta, atomically.
//! - [`sim`]: seeded store simulations that produce read logs (tests, benchmarks, demo).
//! - [`replay`]: `shelfd replay`: the engine on a virtual clock taken from a read log.
//! - `bench` (feature `bench`): `shelfd bench`: the figures recorded in `BENCHMARKS.md`.
//! - [`run`]: `shelfd run`: the live pipeline (readers, engine thread, store, MQTT publisher).
//! - `demo` (feature `demo`): `shelfd demo`: the live demo store (simulated readers, embedded
//!   broker, view).
//!
//! `demo` and `bench` are tooling, behind default-off features so that the daemon's build, its
//! package and its tests never compile them (nor the demo's embedded broker, rumqttd).
//!
//! Dependency direction is one way: `bin → (replay, store) → reconcile → epc, config`.

#[cfg(feature = "bench")]
pub mod bench;
pub mod config;
pub use shelfd_readers::decode as decode_cmd;
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
