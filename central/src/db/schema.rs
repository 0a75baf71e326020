//! The one schema of both backends, as numbered migrations applied in order and recorded in
//! `schema_migrations`. A migration is never edited once released: a change is a new one.
//! A gateway that lost its state counts its seqs from 1 again: each such life is an `epoch`
//! of the gateway, and rows keyed by seq (sales, history, alerts) are keyed by epoch too.
//! Column types are `BIGINT` and `TEXT` only, so the same statements read back the same cells
//! on SQLite and PostgreSQL.

use super::{Backend, DbError, Sql};

/// (version, statements).
pub const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "
CREATE TABLE IF NOT EXISTS gateways (
    store TEXT NOT NULL,
    gateway TEXT NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0,
    epoch BIGINT NOT NULL DEFAULT 0,
    parked BIGINT NOT NULL DEFAULT 0,
    boot_id TEXT,
    online BIGINT NOT NULL DEFAULT 0,
    outbox_entries BIGINT NOT NULL DEFAULT 0,
    outbox_dropped BIGINT NOT NULL DEFAULT 0,
    outbox_last_seq BIGINT NOT NULL DEFAULT 0,
    stale BIGINT NOT NULL DEFAULT 0,
    resync_id TEXT,
    resync_sent_ms BIGINT NOT NULL DEFAULT 0,
    resyncs BIGINT NOT NULL DEFAULT 0,
    gaps BIGINT NOT NULL DEFAULT 0,
    gaps_healed BIGINT NOT NULL DEFAULT 0,
    missed BIGINT NOT NULL DEFAULT 0,
    duplicates BIGINT NOT NULL DEFAULT 0,
    events BIGINT NOT NULL DEFAULT 0,
    last_event_ms BIGINT NOT NULL DEFAULT 0,
    seen_ms BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (store, gateway)
);
CREATE TABLE IF NOT EXISTS locations (
    store TEXT NOT NULL,
    gateway TEXT NOT NULL,
    location TEXT NOT NULL,
    as_of_seq BIGINT NOT NULL,
    PRIMARY KEY (store, gateway, location)
);
CREATE TABLE IF NOT EXISTS stock (
    store TEXT NOT NULL,
    gateway TEXT NOT NULL,
    location TEXT NOT NULL,
    sku TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (store, gateway, location, sku)
);
CREATE INDEX IF NOT EXISTS stock_by_sku ON stock (sku, store);
CREATE TABLE IF NOT EXISTS pending (
    store TEXT NOT NULL,
    gateway TEXT NOT NULL,
    seq BIGINT NOT NULL,
    payload TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    PRIMARY KEY (store, gateway, seq)
);
CREATE TABLE IF NOT EXISTS sales (
    store TEXT NOT NULL,
    gateway TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    epc TEXT NOT NULL,
    sku TEXT NOT NULL,
    pos TEXT NOT NULL,
    from_location TEXT NOT NULL,
    day TEXT NOT NULL,
    time_ms BIGINT NOT NULL,
    PRIMARY KEY (store, gateway, epoch, seq)
);
CREATE INDEX IF NOT EXISTS sales_by_day ON sales (store, sku, day);
CREATE TABLE IF NOT EXISTS history (
    store TEXT NOT NULL,
    gateway TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    epc TEXT NOT NULL,
    kind TEXT NOT NULL,
    location TEXT,
    from_location TEXT,
    time_ms BIGINT NOT NULL,
    PRIMARY KEY (store, gateway, epoch, seq)
);
CREATE INDEX IF NOT EXISTS history_by_epc ON history (epc, time_ms);
CREATE TABLE IF NOT EXISTS alerts (
    store TEXT NOT NULL,
    gateway TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    location TEXT,
    sku TEXT,
    epc TEXT,
    time_ms BIGINT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (store, gateway, epoch, seq)
);
CREATE INDEX IF NOT EXISTS alerts_by_store ON alerts (store, time_ms);
CREATE TABLE IF NOT EXISTS reservations (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    store TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    closed_ms BIGINT
);
CREATE INDEX IF NOT EXISTS reservations_open ON reservations (store, sku, status);
CREATE TABLE IF NOT EXISTS safety_stock (
    store TEXT NOT NULL,
    sku TEXT NOT NULL,
    qty BIGINT NOT NULL,
    PRIMARY KEY (store, sku)
);
",
)];

/// Applies every migration newer than the database's, each in its own transaction. On
/// PostgreSQL an advisory lock keeps concurrent instances from migrating at once.
pub fn migrate(db: &mut dyn Sql) -> Result<(), DbError> {
    db.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)",
    )?;
    let pg = db.backend() == Backend::Postgres;
    if pg {
        db.query("SELECT CAST(pg_advisory_lock(7263001) AS TEXT)", &[])?;
    }
    let out = (|| {
        for (version, script) in MIGRATIONS {
            let done = db.query(
                "SELECT version FROM schema_migrations WHERE version = $1",
                &[(*version).into()],
            )?;
            if !done.is_empty() {
                continue;
            }
            super::transaction(db, |tx| {
                tx.batch(script)?;
                tx.exec(
                    "INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)",
                    &[(*version).into(), crate::now_ms().into()],
                )?;
                Ok(())
            })?;
            tracing::info!(version, "applied database migration");
        }
        Ok(())
    })();
    if pg {
        db.query("SELECT CAST(pg_advisory_unlock(7263001) AS TEXT)", &[])?;
    }
    out
}

/// The newest migration applied.
pub fn version(db: &mut dyn Sql) -> Result<i64, DbError> {
    let rows = db.query(
        "SELECT CAST(MAX(version) AS BIGINT) FROM schema_migrations",
        &[],
    )?;
    Ok(rows.first().map_or(0, |r| r[0].int()))
}
