//! # shelfd-central
//!
//! The reference consumer of shelfd's MQTT contract (`contract/asyncapi.yaml`): it subscribes to
//! every gateway (`{prefix}/+/+/#`, QoS 1, persistent session), applies each gateway's events
//! exactly once and in seq order into one database (SQLite by default, PostgreSQL by URL),
//! heals gaps with `cmd/resync` and the retained snapshots, and serves the one inventory over
//! HTTP/JSON behind role-scoped bearer tokens (customer, staff, fulfilment, admin).
//!
//! `shelfd-central run --config central.toml` is [`run::run`]; the binary only wires.
//!
//! ## Layout
//! - [`config`] — `central.toml`.
//! - [`db`] — the [`db::Sql`] interface, its SQLite and PostgreSQL backends, the schema and its
//!   migrations, a small pool.
//! - [`apply`] — messages → inventory: dedupe, order, gaps, snapshots, status (pure SQL, no I/O
//!   but the database).
//! - [`consumer`] — the MQTT session and the writer thread (ack after commit).
//! - [`auth`] — the tokens file (Argon2id hashes), roles and store scopes.
//! - [`products`] — the products file (GTIN → category).
//! - [`inventory`] — the queries behind the API (availability, reservations, demand, …).
//! - [`api`] — the HTTP routes, their role table and the OpenAPI file they must match.
//! - [`run`] — everything together until shutdown.
//!
//! Depends on `shelfd-core` only (never on the gateway's crates).

pub mod api;
pub mod apply;
pub mod auth;
pub mod config;
pub mod consumer;
pub mod db;
pub mod inventory;
pub mod products;
pub mod run;

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    shelfd_core::timefmt::now_ms()
}
