//! The seam between kidsearch's modules and a database backend: SQL that SQLite and PostgreSQL
//! both understand (numbered `?1` placeholders, `RETURNING id` instead of last-insert-rowid,
//! `ON CONFLICT` instead of `INSERT OR …`), values of four kinds, and rows read by column
//! number. Modules talk to `&mut dyn Db` inside `Store::call`; only `store/` knows which
//! database is underneath (SQLite today; PostgreSQL is issue 9's second implementation).

use std::fmt;

/// A value passed to or read from the database.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// A database error, as text: callers only log it or show that something failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError(pub String);

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DbError {}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> DbError {
        DbError(e.to_string())
    }
}

/// What a backend does for the modules above it.
pub trait Db {
    /// Runs a statement; the number of rows it changed.
    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<usize, DbError>;
    /// Runs a query; every row it returned.
    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError>;

    /// The first row, if any.
    fn query_opt(&mut self, sql: &str, args: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// The first row; an error if there is none.
    fn query_one(&mut self, sql: &str, args: &[Value]) -> Result<Row, DbError> {
        self.query_opt(sql, args)?.ok_or_else(|| DbError("the query returned no rows".into()))
    }
}

/// Runs `f` in one transaction: committed if it returns Ok, rolled back otherwise.
pub fn transaction<T>(db: &mut dyn Db, f: impl FnOnce(&mut dyn Db) -> Result<T, DbError>) -> Result<T, DbError> {
    db.execute("BEGIN", &[])?;
    match f(db) {
        Ok(value) => {
            db.execute("COMMIT", &[])?;
            Ok(value)
        }
        Err(e) => {
            let _ = db.execute("ROLLBACK", &[]);
            Err(e)
        }
    }
}

/// One row of a query's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Value>);

impl Row {
    /// Column `i`, converted; an error names the column when it is missing or of another kind.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T, DbError> {
        let value = self.0.get(i).ok_or_else(|| DbError(format!("no column {i}")))?;
        T::from_value(value).ok_or_else(|| DbError(format!("column {i} holds {value:?}, not a {}", std::any::type_name::<T>())))
    }
}

/// Types a column can be read as.
pub trait FromValue: Sized {
    fn from_value(value: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Option<i64> {
        match value {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: &Value) -> Option<$t> {
                i64::from_value(value).and_then(|n| <$t>::try_from(n).ok())
            }
        }
    )*};
}
from_int!(i32, u32, u64, usize);

impl FromValue for bool {
    fn from_value(value: &Value) -> Option<bool> {
        i64::from_value(value).map(|n| n != 0)
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Option<f64> {
        match value {
            Value::Real(x) => Some(*x),
            Value::Int(n) => Some(*n as f64),
            _ => None,
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Option<String> {
        match value {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Option<Option<T>> {
        match value {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}

macro_rules! into_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                Value::Int(n as i64)
            }
        }
    )*};
}
into_int!(i32, u32, u64, usize);

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Int(b as i64)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Real(x)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_string())
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Text(s.clone())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// `args![a, b, c]`: the values of a statement's `?1`, `?2`, `?3`.
#[macro_export]
macro_rules! args {
    ($($v:expr),* $(,)?) => { &[$($crate::store::Value::from($v)),*][..] };
}

// The SQLite backend.
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

#[cfg(test)]
mod tests {
    use super::*;

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
