//! The seam between kidsearch's modules and a database backend: SQL that SQLite and PostgreSQL
//! both understand (numbered `?1` placeholders, `RETURNING id` instead of last-insert-rowid,
//! `ON CONFLICT` instead of `INSERT OR …`, `CAST(?1 AS TEXT) IS NULL` where a parameter is
//! only tested for NULL, since PostgreSQL must know every parameter's type), values of four kinds, and rows read by column
//! number. Modules talk to `&mut dyn Db` inside `Store::call`; only `store/` knows which
//! database is underneath (`sqlite.rs`, `postgres.rs`).

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

/// What a backend does for the modules above it.
pub trait Db {
    /// Runs a statement; the number of rows it changed.
    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<usize, DbError>;
    /// Runs a query; every row it returned.
    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError>;

    /// Tells the other instances sharing this database that `what` changed (PostgreSQL
    /// `NOTIFY`, delivered when the surrounding transaction commits). SQLite has no other
    /// instances: nothing to do.
    fn notify(&mut self, what: &str) -> Result<(), DbError> {
        let _ = what;
        Ok(())
    }

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
        Ok(value) => match db.execute("COMMIT", &[]) {
            Ok(_) => Ok(value),
            Err(e) => {
                // SQLite keeps a transaction open when its COMMIT fails (a full disk): left
                // so, every later BEGIN on the connection would fail too.
                let _ = db.execute("ROLLBACK", &[]);
                Err(e)
            }
        },
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
