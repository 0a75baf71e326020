//! The database behind central: one small synchronous interface ([`Sql`]) over two backends,
//! SQLite ([`sqlite`], the embedded default: a file path, nothing to install) and PostgreSQL
//! ([`postgres`], by URL), one schema with numbered migrations ([`schema`]) and one set of
//! queries written in the SQL both accept (`$1…` placeholders, `INSERT … ON CONFLICT`,
//! `BIGINT`/`TEXT` columns, `CAST(SUM(…) AS BIGINT)`).
//!
//! This module owns connections, transactions and the schema. It never decides what a message
//! means (that is [`crate::apply`]) nor who may read what (that is [`crate::api`]).

pub mod postgres;
pub mod schema;
pub mod sqlite;

use std::sync::Mutex;

/// A bound parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// An integer (BIGINT), or NULL.
    Int(Option<i64>),
    /// A text, or NULL.
    Text(Option<String>),
}

impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(Some(v))
    }
}
impl From<u64> for Param {
    fn from(v: u64) -> Self {
        Param::Int(Some(i64::try_from(v).unwrap_or(i64::MAX)))
    }
}
impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(Some(v.to_owned()))
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(Some(v))
    }
}
impl From<&String> for Param {
    fn from(v: &String) -> Self {
        Param::Text(Some(v.clone()))
    }
}
impl From<Option<&str>> for Param {
    fn from(v: Option<&str>) -> Self {
        Param::Text(v.map(str::to_owned))
    }
}

/// A value read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A text.
    Text(String),
}

impl Cell {
    /// The integer (NULL reads as 0).
    pub fn int(&self) -> i64 {
        match self {
            Cell::Int(v) => *v,
            _ => 0,
        }
    }
    /// The text (NULL and integers read as their text).
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(v) => v.to_string(),
            Cell::Null => String::new(),
        }
    }
    /// The text, `None` for NULL.
    pub fn opt_text(&self) -> Option<String> {
        match self {
            Cell::Null => None,
            other => Some(other.text()),
        }
    }
}

/// One row.
pub type Row = Vec<Cell>;

/// A database error, with the statement that failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL is not one central understands.
    #[error("database url {url:?}: {reason}")]
    Url {
        /// The URL as configured.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Connecting failed.
    #[error("cannot open the database {what}: {reason}")]
    Open {
        /// Which database (path or host).
        what: String,
        /// Why.
        reason: String,
    },
    /// A statement failed.
    #[error("{reason} (in: {sql})")]
    Statement {
        /// The statement.
        sql: String,
        /// Why.
        reason: String,
    },
}

impl DbError {
    fn statement(sql: &str, reason: impl std::fmt::Display) -> DbError {
        DbError::Statement {
            sql: sql.split_whitespace().collect::<Vec<_>>().join(" "),
            reason: reason.to_string(),
        }
    }

    /// True for a serialization failure or deadlock the caller should retry (PostgreSQL
    /// `40001`/`40P01`, SQLite busy).
    pub fn is_retryable(&self) -> bool {
        match self {
            DbError::Statement { reason, .. } => {
                reason.contains("40001")
                    || reason.contains("40P01")
                    || reason.contains("deadlock")
                    || reason.contains("could not serialize")
                    || reason.contains("database is locked")
            }
            _ => false,
        }
    }
}

/// The two backends' connections, behind one interface. Statements use `$1…` placeholders.
pub trait Sql: Send {
    /// Runs a statement; the number of rows it changed.
    fn exec(&mut self, sql: &str, params: &[Param]) -> Result<u64, DbError>;
    /// Runs a query; its rows.
    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>, DbError>;
    /// Runs several statements separated by `;` (schema scripts), no parameters.
    fn batch(&mut self, sql: &str) -> Result<(), DbError>;
    /// Starts a transaction (SQLite: `BEGIN IMMEDIATE`, the writer lock up front).
    fn begin(&mut self) -> Result<(), DbError>;
    /// Commits it.
    fn commit(&mut self) -> Result<(), DbError>;
    /// Rolls it back.
    fn rollback(&mut self) -> Result<(), DbError>;
    /// The backend (for the few places the dialects differ: row locks).
    fn backend(&self) -> Backend;
}

/// Which backend a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// ` FOR UPDATE` on PostgreSQL (row lock inside a transaction); nothing on SQLite, whose
    /// `BEGIN IMMEDIATE` already holds the only write lock.
    pub fn for_update(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }
}

/// Runs `f` in a transaction: commits on `Ok`, rolls back on `Err`; retries a few times on a
/// retryable error (deadlock, serialization failure, busy).
pub fn transaction<T>(
    db: &mut dyn Sql,
    mut f: impl FnMut(&mut dyn Sql) -> Result<T, DbError>,
) -> Result<T, DbError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        db.begin()?;
        let out = f(db).and_then(|v| db.commit().map(|()| v));
        match out {
            Ok(v) => return Ok(v),
            Err(e) => {
                let _ = db.rollback();
                if !e.is_retryable() || attempt >= 5 {
                    return Err(e);
                }
                std::thread::sleep(std::time::Duration::from_millis(20 * attempt));
            }
        }
    }
}

/// A parsed `[database] url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// `sqlite:PATH`.
    Sqlite(std::path::PathBuf),
    /// `postgres://…` or `postgresql://…` (passed to the driver as is).
    Postgres(String),
}

impl DbUrl {
    /// Parses a URL.
    pub fn parse(url: &str) -> Result<DbUrl, DbError> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(DbError::Url {
                    url: url.into(),
                    reason: "no path after sqlite:".into(),
                });
            }
            Ok(DbUrl::Sqlite(path.into()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DbUrl::Postgres(url.into()))
        } else {
            Err(DbError::Url {
                url: url.into(),
                reason: "expected sqlite:PATH or postgres://…".into(),
            })
        }
    }

    /// Opens a connection (no migration).
    pub fn connect(&self) -> Result<Box<dyn Sql>, DbError> {
        Ok(match self {
            DbUrl::Sqlite(path) => Box::new(sqlite::SqliteDb::open(path)?),
            DbUrl::Postgres(url) => Box::new(postgres::PgDb::open(url)?),
        })
    }

    /// Opens a connection and brings the schema up to date.
    pub fn open_migrated(&self) -> Result<Box<dyn Sql>, DbError> {
        let mut db = self.connect()?;
        schema::migrate(db.as_mut())?;
        Ok(db)
    }
}

/// A small pool of connections for the API's blocking handlers.
pub struct Pool {
    url: DbUrl,
    idle: Mutex<Vec<Box<dyn Sql>>>,
}

impl Pool {
    /// A pool over `url` (connections are opened on demand).
    pub fn new(url: DbUrl) -> Pool {
        Pool {
            url,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` on a pooled connection; a connection whose statement failed is dropped.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut dyn Sql) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let conn = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let mut conn = match conn {
            Some(c) => c,
            None => self.url.connect()?,
        };
        let out = f(conn.as_mut());
        if out.is_ok() {
            self.idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(conn);
        }
        out
    }
}
