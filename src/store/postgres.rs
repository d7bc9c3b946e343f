//! The PostgreSQL backend (`database_url = "postgres://…"`): a trust's instances share one
//! database and stay stateless themselves.
//!
//! The modules' SQL is the same as on SQLite (see `db.rs`); this file turns `?N` into `$N`,
//! keeps each connection's prepared statements (one round trip per query, not two), and
//! converts values leniently: an integer goes into whatever integer, boolean or text
//! parameter the server inferred, as SQLite would take it.
//!
//! The driver is the synchronous `postgres` crate, run off the async workers (spawn_blocking,
//! the store's writer thread), in an r2d2 pool. Its client drives its own small runtime and
//! must not be dropped on an async worker, so a closed connection is dropped on a thread of
//! its own.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::{Client, Statement};

use super::db::{Db, DbError, Row, Value};
use super::StoreError;

/// The pool of connections the store's calls use.
pub(super) type Pool = r2d2::Pool<Manager>;

/// How many statements a connection keeps prepared; kidsearch's SQL is a fixed set of well
/// under this, so the cache is only cleared if something builds SQL on the fly.
const STATEMENTS: usize = 512;

/// The channel every instance listens on (see `Events`).
pub(super) const CHANNEL: &str = "kidsearch";

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> DbError {
        // The server's own message ("duplicate key value violates unique constraint …") says
        // more than the driver's summary ("db error").
        match e.as_db_error() {
            Some(db) => DbError(format!("{}: {}", db.severity(), db.message())),
            None => DbError(e.to_string()),
        }
    }
}

/// Parses and checks a `postgres://` URL without connecting (config validation); see
/// `pg_target.rs` for the password and TLS.
pub fn parse_url(url: &str) -> Result<super::pg_target::Target, String> {
    super::pg_target::Target::parse(url)
}

/// Connects the pool (checking the database answers) and brings the schema up to date.
/// Runs on a thread of its own: the driver must not block an async worker, and start-up and
/// the CLI call this from inside a runtime.
pub(super) fn open(url: &str, size: u32, origin: Arc<str>) -> Result<Pool, StoreError> {
    let target = parse_url(url).map_err(|e| StoreError::Migration(format!("database_url: {e}")))?;
    let opened = std::thread::spawn(move || -> Result<Pool, StoreError> {
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(5))
            .error_handler(Box::new(LogErrors))
            .build(Manager { target, origin })
            .map_err(|e| StoreError::Query(format!("cannot connect to PostgreSQL: {e}")))?;
        let mut conn = pool.get().map_err(|e| StoreError::Query(format!("cannot connect to PostgreSQL: {e}")))?;
        super::migrations::run_postgres(&mut *conn)?;
        drop(conn);
        Ok(pool)
    });
    opened.join().map_err(|_| StoreError::Migration("the database start-up thread panicked".into()))?
}

/// One pooled connection with its prepared statements.
pub(super) struct PgConn {
    client: Option<Client>,
    /// Prepared statements by their SQL (as the modules wrote it).
    statements: HashMap<String, Statement>,
    /// This instance's id, put in front of every notification so it can skip its own.
    origin: Arc<str>,
}

impl PgConn {
    fn client(&mut self) -> &mut Client {
        self.client.as_mut().expect("the client is only taken in drop")
    }

    fn prepare(&mut self, sql: &str) -> Result<Statement, DbError> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client().prepare(&numbered_placeholders(sql))?;
        if self.statements.len() >= STATEMENTS {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            // Closing blocks on the driver's runtime, which panics on an async worker.
            let _ = std::thread::Builder::new().name("kidsearch-pg-close".into()).spawn(move || drop(client));
        }
    }
}

impl Db for PgConn {
    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<usize, DbError> {
        // Transaction control is not prepared (nothing to gain, and it has no parameters).
        if matches!(sql, "BEGIN" | "COMMIT" | "ROLLBACK") {
            self.client().batch_execute(sql)?;
            return Ok(0);
        }
        let stmt = self.prepare(sql)?;
        let changed = self.client().execute(&stmt, &params(args))?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError> {
        let stmt = self.prepare(sql)?;
        self.client().query(&stmt, &params(args))?.iter().map(read_row).collect()
    }

    fn notify(&mut self, what: &str) -> Result<(), DbError> {
        let payload = format!("{}|{what}", self.origin);
        self.query("SELECT pg_notify(?1, ?2)", crate::args![CHANNEL, payload]).map(drop)
    }
}

fn params(args: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// The store writer's connection: checked out of the pool and kept, replaced when it breaks.
pub(super) struct PooledConn {
    pub pool: Pool,
    pub held: Option<r2d2::PooledConnection<Manager>>,
}

impl super::writer::Connect for PooledConn {
    fn db(&mut self) -> Result<&mut dyn Db, DbError> {
        let broken = self.held.as_mut().is_none_or(|c| c.client().is_closed());
        if broken {
            self.held = None;
            self.held = Some(self.pool.get().map_err(|e| DbError(format!("cannot reach PostgreSQL: {e}")))?);
        }
        Ok(&mut **self.held.as_mut().expect("just checked out"))
    }
}

/// `?1` → `$1`: SQLite's numbered placeholders in PostgreSQL's spelling. kidsearch's SQL has
/// no `?` inside string literals.
fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

fn read_row(row: &postgres::Row) -> Result<Row, DbError> {
    (0..row.len()).map(|i| read_value(row, i)).collect::<Result<Vec<_>, _>>().map(Row)
}

fn read_value(row: &postgres::Row, i: usize) -> Result<Value, DbError> {
    let int = |n: Option<i64>| n.map_or(Value::Null, Value::Int);
    let ty = row.columns()[i].type_();
    Ok(match *ty {
        Type::INT8 => int(row.try_get::<_, Option<i64>>(i)?),
        Type::INT4 => int(row.try_get::<_, Option<i32>>(i)?.map(i64::from)),
        Type::INT2 => int(row.try_get::<_, Option<i16>>(i)?.map(i64::from)),
        Type::BOOL => int(row.try_get::<_, Option<bool>>(i)?.map(i64::from)),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map_or(Value::Null, Value::Real),
        Type::FLOAT4 => row.try_get::<_, Option<f32>>(i)?.map_or(Value::Null, |x| Value::Real(f64::from(x))),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => row.try_get::<_, Option<String>>(i)?.map_or(Value::Null, Value::Text),
        // pg_advisory_xact_lock and friends return void.
        Type::VOID => Value::Null,
        ref other => return Err(DbError(format!("column {i} is of type {other}, which kidsearch does not read (cast it in the query)"))),
    })
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) => match *ty {
                Type::INT8 => n.to_sql(ty, out),
                Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
                Type::BOOL => (*n != 0).to_sql(ty, out),
                Type::FLOAT8 => (*n as f64).to_sql(ty, out),
                Type::FLOAT4 => (*n as f32).to_sql(ty, out),
                _ => n.to_string().to_sql(ty, out),
            },
            Value::Real(x) => match *ty {
                Type::FLOAT8 => x.to_sql(ty, out),
                Type::FLOAT4 => (*x as f32).to_sql(ty, out),
                _ => x.to_string().to_sql(ty, out),
            },
            Value::Text(s) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => s.to_sql(ty, out),
                _ => Err(format!("text given for a {ty} parameter").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// Makes and checks the pool's connections.
pub(super) struct Manager {
    target: super::pg_target::Target,
    origin: Arc<str>,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = ConnectError;

    fn connect(&self) -> Result<PgConn, ConnectError> {
        let client = self.target.connect().map_err(|e| ConnectError(describe(&e)))?;
        Ok(PgConn { client: Some(client), statements: HashMap::new(), origin: self.origin.clone() })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), ConnectError> {
        conn.client().simple_query("").map(|_| ()).map_err(|e| ConnectError(describe(&e)))
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.client().is_closed()
    }
}

/// Why a connection could not be made, causes included.
#[derive(Debug)]
pub(super) struct ConnectError(String);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConnectError {}

/// An error with its causes: the driver's "error performing TLS handshake" alone hides the
/// "invalid peer certificate: UnknownIssuer" a technician needs.
pub(super) fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let more = e.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = e.source();
    }
    text
}

/// The pool's connection errors go to the log (r2d2 would otherwise print them nowhere).
#[derive(Debug)]
struct LogErrors;

impl r2d2::HandleError<ConnectError> for LogErrors {
    fn handle_error(&self, error: ConnectError) {
        tracing::warn!(error = %error, "PostgreSQL connection failed");
    }
}

/// Listens on `CHANNEL` on a connection of its own and hands every payload to `deliver`;
/// reconnects after a second when the connection drops, and then delivers `None`: events may
/// have been missed meanwhile, so whoever caches must drop everything. Stops within a second
/// of `alive` having no strong owner left (the store was dropped).
pub(super) fn listen(url: String, alive: std::sync::Weak<()>, deliver: impl Fn(Option<String>) + Send + 'static) {
    use postgres::fallible_iterator::FallibleIterator;
    let spawned = std::thread::Builder::new().name("kidsearch-pg-listen".into()).spawn(move || {
        let Ok(target) = parse_url(&url) else { return };
        let mut first = true;
        while alive.strong_count() > 0 {
            let mut client = match target.connect().and_then(|mut client| client.batch_execute(&format!("LISTEN {CHANNEL}")).map(|()| client)) {
                Ok(client) => client,
                Err(e) => {
                    tracing::warn!(error = %describe(&e), "cannot listen for other instances' changes; retrying");
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
            };
            if !first {
                tracing::info!("listening for other instances' changes again");
                deliver(None);
            }
            first = false;
            // Wakes at least once a second to see whether the store is still wanted.
            'connected: while alive.strong_count() > 0 {
                {
                    let mut notifications = client.notifications();
                    let mut arrived = notifications.timeout_iter(Duration::from_secs(1));
                    loop {
                        match arrived.next() {
                            Ok(Some(n)) => deliver(Some(n.payload().to_string())),
                            Ok(None) => break,
                            Err(_) => break 'connected,
                        }
                    }
                }
                if client.is_closed() {
                    break;
                }
            }
            if alive.strong_count() > 0 {
                tracing::warn!("lost the PostgreSQL connection that listens for other instances' changes; reconnecting");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the PostgreSQL listener thread");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_renumbered_in_postgres_spelling() {
        assert_eq!(
            numbered_placeholders("SELECT a FROM t WHERE b = ?1 AND (?2 IS NULL OR c = ?2) LIMIT ?10"),
            "SELECT a FROM t WHERE b = $1 AND ($2 IS NULL OR c = $2) LIMIT $10"
        );
        assert_eq!(numbered_placeholders("SELECT '?' , x ? y"), "SELECT '?' , x ? y", "a ? not followed by a digit is left alone");
    }

    #[test]
    fn a_good_url_parses_and_a_bad_one_is_named() {
        assert!(parse_url("postgres://kidsearch@db.trust.lan/kidsearch").is_ok());
        assert!(parse_url("postgres://kidsearch@db.trust.lan:notaport/x").is_err());
    }
}
