//! The embedded SQLite backend, the default: one file under the data dir, owned by the
//! store's writer thread (SQLite allows one writer; one connection keeps every read
//! consistent with every write, and the file's WAL plus `synchronous = FULL` make each commit
//! survive a kill -9).

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::db::{Db, DbError, Row, Value};
use super::StoreError;

/// Opens (creating if needed) the database file, refuses it if SQLite's quick check finds it
/// damaged (`integrity`), and brings its schema up to date. The file is made 0600 before
/// SQLite opens it: SQLite gives its -wal and -shm the database file's mode.
pub(super) fn open(path: &Path) -> Result<Connection, StoreError> {
    let private = |e: std::io::Error| StoreError::File(format!("{}: {e}", path.display()));
    match super::private::create_file(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => super::private::tighten_file(path).map_err(private)?,
        Err(e) => return Err(private(e)),
    }
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Left by an older kidsearch with the database's mode of then.
    for side in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(side);
        super::private::tighten_file(Path::new(&name)).map_err(private)?;
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // Before the migrations write anything into it.
    super::integrity::quick_check_at_start(&conn, path, super::integrity::START_BUDGET)?;
    super::migrations::run_sqlite(&mut conn)?;
    Ok(conn)
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> DbError {
        DbError(e.to_string())
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            Value::Real(x) => ToSqlOutput::Borrowed(ValueRef::Real(*x)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

impl Db for rusqlite::Connection {
    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<usize, DbError> {
        Ok(self.prepare_cached(sql)?.execute(rusqlite::params_from_iter(args))?)
    }

    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.prepare_cached(sql)?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(n) => Value::Int(n),
                    ValueRef::Real(x) => Value::Real(x),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(_) => return Err(DbError(format!("column {i} is a blob; kidsearch stores none"))),
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }
}

impl super::writer::Connect for Connection {
    fn db(&mut self) -> Result<&mut dyn Db, DbError> {
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args;
    use crate::store::db::transaction;

    #[test]
    fn values_round_trip_through_sqlite_and_a_failed_transaction_leaves_nothing() {
        let mut conn = rusqlite::Connection::open_in_memory().expect("open");
        let db: &mut dyn Db = &mut conn;
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, n INTEGER, x REAL)", &[]).expect("create");
        let id: i64 = db.query_one("INSERT INTO t (name, n, x) VALUES (?1, ?2, ?3) RETURNING id", args!["oak", Some(7u32), 0.5]).unwrap().get(0).unwrap();
        let row = db.query_one("SELECT name, n, x, NULL FROM t WHERE id = ?1", args![id]).expect("row");
        assert_eq!(row.get::<String>(0).unwrap(), "oak");
        assert_eq!(row.get::<u32>(1).unwrap(), 7);
        assert_eq!(row.get::<f64>(2).unwrap(), 0.5);
        assert_eq!(row.get::<Option<String>>(3).unwrap(), None);
        assert!(row.get::<i64>(0).is_err(), "text is not read as a number");
        let failed: Result<(), DbError> = transaction(db, |db| {
            db.execute("INSERT INTO t (name) VALUES (?1)", args!["ash"])?;
            Err(DbError("changed my mind".into()))
        });
        assert!(failed.is_err());
        assert_eq!(db.query_one("SELECT COUNT(*) FROM t", &[]).unwrap().get::<i64>(0).unwrap(), 1, "rolled back");
        assert!(db.query_opt("SELECT name FROM t WHERE id = ?1", args![99]).unwrap().is_none());
    }
}
