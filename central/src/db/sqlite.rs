//! The SQLite backend: a file opened in WAL mode (readers never block the writer), a busy
//! timeout, `$N` placeholders rewritten to SQLite's `?N`.

use super::{Backend, Cell, DbError, Param, Row, Sql};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};

/// One SQLite connection.
pub struct SqliteDb {
    conn: rusqlite::Connection,
    path: String,
}

impl SqliteDb {
    /// Opens (creating) the database file.
    pub fn open(path: &std::path::Path) -> Result<SqliteDb, DbError> {
        let what = path.display().to_string();
        let open = |reason: String| DbError::Open {
            what: what.clone(),
            reason,
        };
        let conn = rusqlite::Connection::open(path).map_err(|e| open(e.to_string()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| open(e.to_string()))?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            .map_err(|e| open(e.to_string()))?;
        Ok(SqliteDb { conn, path: what })
    }

    /// The file.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// `$12` → `?12` (outside quotes: our statements hold no `$` in string literals).
fn placeholders(sql: &str) -> String {
    sql.replace('$', "?")
}

fn bind(p: &Param) -> ToSqlOutput<'_> {
    match p {
        Param::Int(Some(v)) => ToSqlOutput::Owned(Value::Integer(*v)),
        Param::Text(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        Param::Int(None) | Param::Text(None) => ToSqlOutput::Owned(Value::Null),
    }
}

impl Sql for SqliteDb {
    fn exec(&mut self, sql: &str, params: &[Param]) -> Result<u64, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached(&placeholders(sql))
            .map_err(|e| DbError::statement(sql, e))?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params.iter().map(bind)))
            .map_err(|e| DbError::statement(sql, e))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached(&placeholders(sql))
            .map_err(|e| DbError::statement(sql, e))?;
        let columns = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter().map(bind)))
            .map_err(|e| DbError::statement(sql, e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| DbError::statement(sql, e))? {
            let mut cells = Vec::with_capacity(columns);
            for i in 0..columns {
                let cell = match row.get_ref(i).map_err(|e| DbError::statement(sql, e))? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(v) => Cell::Int(v),
                    ValueRef::Real(v) => Cell::Int(v as i64),
                    ValueRef::Text(t) | ValueRef::Blob(t) => {
                        Cell::Text(String::from_utf8_lossy(t).into_owned())
                    }
                };
                cells.push(cell);
            }
            out.push(cells);
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn
            .execute_batch(sql)
            .map_err(|e| DbError::statement(sql, e))
    }

    fn begin(&mut self) -> Result<(), DbError> {
        self.batch("BEGIN IMMEDIATE")
    }

    fn commit(&mut self) -> Result<(), DbError> {
        self.batch("COMMIT")
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        self.batch("ROLLBACK")
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
}
