//! The PostgreSQL backend: the synchronous `postgres` client (one connection per [`PgDb`]),
//! parameters typed from [`Param`], cells read by column type (BIGINT and TEXT only: the
//! schema uses nothing else, and aggregates are cast to BIGINT).

use super::{Backend, Cell, DbError, Param, Row, Sql};
use postgres::types::{ToSql, Type};

/// One PostgreSQL connection, with its prepared statements (each statement is prepared once
/// per connection: a round trip saved on every later use).
pub struct PgDb {
    client: postgres::Client,
    prepared: std::collections::HashMap<String, postgres::Statement>,
}

impl PgDb {
    /// Connects to `url` (no TLS: loopback or a trusted network; TLS is a later addition).
    pub fn open(url: &str) -> Result<PgDb, DbError> {
        let client =
            postgres::Client::connect(url, postgres::NoTls).map_err(|e| DbError::Open {
                what: redact(url),
                reason: e.to_string(),
            })?;
        Ok(PgDb {
            client,
            prepared: std::collections::HashMap::new(),
        })
    }
}

/// The URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn params(params: &[Param]) -> Vec<Box<dyn ToSql + Sync>> {
    params
        .iter()
        .map(|p| -> Box<dyn ToSql + Sync> {
            match p {
                Param::Int(v) => Box::new(*v),
                Param::Text(v) => Box::new(v.clone()),
            }
        })
        .collect()
}

fn err(sql: &str, e: postgres::Error) -> DbError {
    // The SQLSTATE code makes deadlocks and serialization failures recognisable.
    let reason = match e.code() {
        Some(code) => format!("{e} [{}]", code.code()),
        None => e.to_string(),
    };
    DbError::statement(sql, reason)
}

impl PgDb {
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, DbError> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).map_err(|e| err(sql, e))?;
        self.prepared.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

impl Sql for PgDb {
    fn exec(&mut self, sql: &str, ps: &[Param]) -> Result<u64, DbError> {
        let statement = self.statement(sql)?;
        let boxed = params(ps);
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
        self.client
            .execute(&statement, &refs)
            .map_err(|e| err(sql, e))
    }

    fn query(&mut self, sql: &str, ps: &[Param]) -> Result<Vec<Row>, DbError> {
        let statement = self.statement(sql)?;
        let boxed = params(ps);
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
        let rows = self
            .client
            .query(&statement, &refs)
            .map_err(|e| err(sql, e))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut cells = Vec::with_capacity(row.len());
            for (i, column) in row.columns().iter().enumerate() {
                let ty = column.type_();
                let cell = if *ty == Type::INT8 {
                    row.try_get::<_, Option<i64>>(i)
                        .map(|v| v.map_or(Cell::Null, Cell::Int))
                } else if *ty == Type::INT4 {
                    row.try_get::<_, Option<i32>>(i)
                        .map(|v| v.map_or(Cell::Null, |v| Cell::Int(i64::from(v))))
                } else {
                    row.try_get::<_, Option<String>>(i)
                        .map(|v| v.map_or(Cell::Null, Cell::Text))
                };
                cells.push(cell.map_err(|e| err(sql, e))?);
            }
            out.push(cells);
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.client.batch_execute(sql).map_err(|e| err(sql, e))
    }

    fn begin(&mut self) -> Result<(), DbError> {
        self.batch("BEGIN")
    }

    fn commit(&mut self) -> Result<(), DbError> {
        self.batch("COMMIT")
    }

    fn rollback(&mut self) -> Result<(), DbError> {
        self.batch("ROLLBACK")
    }

    fn backend(&self) -> Backend {
        Backend::Postgres
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            super::redact("postgres://central:s3cret@127.0.0.1:5432/inv"),
            "postgres://central:***@127.0.0.1:5432/inv"
        );
        assert_eq!(
            super::redact("postgres://127.0.0.1/inv"),
            "postgres://127.0.0.1/inv"
        );
    }
}
