//! The embedded SQLite database under the data dir: one writer thread owns the connection.
//!
//! Invariants:
//! - writes that must survive a crash (refused queries, blocked clicks; later approvals and
//!   incidents) are committed before `record_durable` returns, and the page is sent after;
//! - ordinary activity rows (page views, clicks) go into a shared buffer that the writer
//!   commits at most `LINGER` (10 ms) after its first row: one transaction and one fsync for
//!   everything that arrived meanwhile, and identical rows in it are stored once with a
//!   `repeats` count (a page reloaded over and over is one line "×12", not twelve inserts).
//!   Adding a row takes a short lock and wakes the writer only for the buffer's first row, so
//!   a busy classroom never waits on the disk or on the writer. If `BUFFERED` distinct rows
//!   are waiting, a row is dropped and counted, never blocking a pupil's page;
//! - a durable write commits the buffer with it, and readers of the log (`activity`, `flush`
//!   at a graceful stop) commit it first, so the log's order holds and nothing recorded is
//!   lost on a clean stop; other reads do not wait for it (no fsync in front of a lookup);
//! - WAL mode and `synchronous = FULL`: a kill -9 loses nothing acknowledged.

pub mod backup;
mod db;
pub mod integrity;
mod lost;
mod migrations;
mod pg_target;
mod pgpass;
pub mod postgres;
pub mod private;
pub mod probe;
pub mod schools;
mod sqlite;
mod writer;

pub use db::{transaction, Db, DbError, FromValue, Row, Value};
pub use lost::NewDatabase;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{broadcast, oneshot};

use crate::args;
use writer::{Buffer, Command, Connect, Job};

/// What a pupil device did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    /// A live search that was answered.
    Query,
    /// A query refused by the safety policy.
    Refused,
    /// A click-through to a result.
    Click,
    /// A click-through refused at click time.
    BlockedClick,
    /// A press of "Tell an adult" (read from the incidents: the press is one, with what was
    /// on screen, and the log shows it among what the iPad did around it).
    TellAdult,
}

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Query => "query",
            ActivityKind::Refused => "refused",
            ActivityKind::Click => "click",
            ActivityKind::BlockedClick => "blocked_click",
            ActivityKind::TellAdult => "tell_adult",
        }
    }

    pub fn parse(s: &str) -> Option<ActivityKind> {
        match s {
            "query" => Some(ActivityKind::Query),
            "refused" => Some(ActivityKind::Refused),
            "click" => Some(ActivityKind::Click),
            "blocked_click" => Some(ActivityKind::BlockedClick),
            "tell_adult" => Some(ActivityKind::TellAdult),
            _ => None,
        }
    }

    /// As staff read it.
    pub fn describe(self) -> &'static str {
        match self {
            ActivityKind::Query => "Searched",
            ActivityKind::Refused => "Refused search",
            ActivityKind::Click => "Opened a result",
            ActivityKind::BlockedClick => "Blocked page",
            ActivityKind::TellAdult => "Pressed \u{201c}Tell an adult\u{201d}",
        }
    }

    pub const ALL: [ActivityKind; 5] = [ActivityKind::Query, ActivityKind::Refused, ActivityKind::Click, ActivityKind::BlockedClick, ActivityKind::TellAdult];
}

/// What the staff activity log is narrowed to; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    /// The reader's schools (`None`: every school).
    pub school: crate::schools::Scope,
    pub kind: Option<ActivityKind>,
    pub class: Option<String>,
    pub device: Option<String>,
    pub since_ms: i64,
    /// Rows before this moment only (`None`: up to now).
    pub until_ms: Option<i64>,
}

/// One activity row. Devices, not children: `device` is an enrolled device's name, if any.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Activity {
    pub at_ms: i64,
    /// The device's school (a browser that is not enrolled: the default school).
    pub school: crate::schools::SchoolId,
    pub device: Option<String>,
    /// The enrolled device's class.
    pub class: Option<String>,
    pub kind: ActivityKind,
    pub category: Option<String>,
    pub query: Option<String>,
    pub url: Option<String>,
    /// How many identical rows arrived in one write batch (1 for most rows); `at_ms` is the first's.
    pub repeats: u32,
}

impl Activity {
    pub fn now(kind: ActivityKind) -> Activity {
        Activity {
            at_ms: now_ms(),
            school: crate::schools::DEFAULT_SCHOOL,
            device: None,
            class: None,
            kind,
            category: None,
            query: None,
            url: None,
            repeats: 1,
        }
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Query(String),
    #[error("the database writer has stopped")]
    WriterGone,
    /// The database file could not be made private (its mode, or creating it).
    #[error("the database file {0}")]
    File(String),
    /// The database file is missing or empty although the data dir was used before.
    #[error("{0}")]
    Lost(String),
    /// SQLite's check found the file damaged.
    #[error("{0}")]
    Damaged(String),
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The embedded default: one file under the data dir.
    Sqlite(PathBuf),
    /// A database shared by a trust's instances (`database_url`).
    Postgres,
}

/// A change another instance made, announced over PostgreSQL `LISTEN/NOTIFY`: the text a
/// module gave `Db::notify`, or `Resync` after the listening connection was lost and
/// re-made (changes may have been missed: drop every cached copy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Changed(String),
    Resync,
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    tx: SyncSender<Command>,
    buffer: Arc<Mutex<Buffer>>,
    dropped: Arc<AtomicU64>,
    location: Location,
    /// What only a PostgreSQL store has.
    shared: Option<Shared>,
    /// Other instances' changes, once somebody asked for them.
    changes: Arc<OnceLock<broadcast::Sender<Notice>>>,
    /// Held by every clone; the listener thread stops when the last is gone.
    alive: Arc<()>,
}

/// A PostgreSQL store's pool and its part in the instances' conversation.
#[derive(Clone)]
struct Shared {
    /// The pool `call` uses (the writer holds one connection of its own).
    pool: postgres::Pool,
    /// For the listener's own connection.
    url: Arc<str>,
    /// This instance's name in its notifications, so it skips its own.
    origin: Arc<str>,
}

const QUEUE: usize = 1024;
/// PostgreSQL connections per instance (the writer's among them): enough for the 2–8 worker
/// threads of a school server with lookups in flight, few enough that a trust's instances
/// stay well inside the server's `max_connections` (100 by default).
const POOL_SIZE: u32 = 8;
/// Commands taken together into one transaction.
const BATCH: usize = 256;
/// Distinct activity rows that may wait in the buffer.
const BUFFERED: usize = 4096;
/// The longest an ordinary activity row waits for its commit. Short: a busy server batches
/// anyway (rows pile up while the previous commit's fsync runs), and a long wait would make the
/// commit land on the next request's lookups (100 ms cost every live query ~4 ms in the bench).
const LINGER: Duration = Duration::from_millis(10);
pub const DB_FILE: &str = "kidsearch.sqlite3";

impl Store {
    /// Opens the database (creating and migrating it as needed) and starts the writer: the
    /// SQLite file in `data_dir`, or the PostgreSQL database at `database_url`.
    /// A missing or empty SQLite file beside an earlier install's keys is refused (`lost`).
    pub fn open(data_dir: &Path, database_url: Option<&str>) -> Result<Store, StoreError> {
        Store::open_with(data_dir, database_url, NewDatabase::Refused)
    }

    /// `open`, saying whether a lost database may be made new (`--new-database`).
    pub fn open_with(data_dir: &Path, database_url: Option<&str>, new_database: NewDatabase) -> Result<Store, StoreError> {
        let (location, shared, conn): (_, _, Box<dyn Connect>) = match database_url {
            None => {
                let path = data_dir.join(DB_FILE);
                lost::refuse_if_lost(data_dir, &path, new_database)?;
                let conn = sqlite::open(&path)?;
                (Location::Sqlite(path), None, Box::new(conn))
            }
            Some(url) => {
                let origin: Arc<str> = crate::secrets::random_hex(8).map_err(|e| StoreError::Migration(e.to_string()))?.into();
                let pool = postgres::open(url, POOL_SIZE, origin.clone())?;
                let shared = Shared { pool: pool.clone(), url: Arc::from(url), origin };
                (Location::Postgres, Some(shared), Box::new(postgres::PooledConn { pool, held: None }))
            }
        };
        let (tx, rx) = sync_channel(QUEUE);
        let buffer = Arc::new(Mutex::new(Buffer::default()));
        let for_writer = buffer.clone();
        std::thread::Builder::new()
            .name("kidsearch-db".into())
            .spawn(move || writer::writer(conn, rx, for_writer))
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(Store { tx, buffer, dropped: Arc::new(AtomicU64::new(0)), location, shared, changes: Arc::new(OnceLock::new()), alive: Arc::new(()) })
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Other instances' changes (see `Notice`), not this one's own. The first call starts
    /// listening; on SQLite there are no other instances and nothing ever arrives.
    pub fn changes(&self) -> broadcast::Receiver<Notice> {
        let sender = self.changes.get_or_init(|| {
            let (sender, _) = broadcast::channel(1024);
            if let Some(Shared { url, origin, .. }) = &self.shared {
                let (tx, origin) = (sender.clone(), origin.clone());
                postgres::listen(url.to_string(), Arc::downgrade(&self.alive), move |payload| {
                    let notice = match payload {
                        None => Notice::Resync,
                        Some(p) => match p.split_once('|') {
                            Some((from, _)) if *from == *origin => return,
                            Some((_, what)) => Notice::Changed(what.to_string()),
                            None => return,
                        },
                    };
                    let _ = tx.send(notice);
                });
            }
            sender
        });
        sender.subscribe()
    }

    /// Buffers a row without waiting; counted as dropped if the buffer is full.
    pub fn record(&self, row: Activity) {
        let first = {
            let mut buffer = self.buffer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if buffer.rows.len() >= BUFFERED {
                drop(buffer);
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(dropped_total = n, "activity row dropped: database buffer full");
                return;
            }
            buffer.add(row)
        };
        if first {
            // A full queue means the writer is busy and takes the buffer with its next commit.
            let _ = self.tx.try_send(Command::Wake);
        }
    }

    /// Writes a row and waits until it is committed (with every row buffered before it).
    pub async fn record_durable(&self, row: Activity) -> Result<(), StoreError> {
        let (reply, done) = oneshot::channel();
        self.send(Command::Append(row, reply)).await?;
        done.await.map_err(|_| StoreError::WriterGone)?.map_err(StoreError::Query)
    }

    /// Runs `f` on a connection and waits for its answer: reads see every committed write, and
    /// a write made here is committed (autocommit, or `db::transaction`) before the answer
    /// comes back. Activity rows still lingering in the buffer are not waited for (that would
    /// put an fsync in front of every approval lookup); readers of the log use
    /// `call_after_commit`. SQLite: on the writer's one connection; PostgreSQL: on a pooled
    /// connection, many at once.
    pub async fn call<T: Send + 'static>(&self, f: impl FnOnce(&mut dyn Db) -> Result<T, DbError> + Send + 'static) -> Result<T, StoreError> {
        match &self.shared {
            None => self.run(f, false).await,
            Some(Shared { pool, .. }) => {
                let pool = pool.clone();
                let answer = tokio::task::spawn_blocking(move || {
                    let mut conn = pool.get().map_err(|e| DbError(format!("cannot reach PostgreSQL: {e}")))?;
                    f(&mut *conn)
                });
                answer.await.map_err(|_| StoreError::WriterGone)?.map_err(|e| StoreError::Query(e.0))
            }
        }
    }

    /// Tells the other instances that `what` changed (see `Db::notify`), for a change that was
    /// not written in a `call` of its own. Nothing to do, and no round trip, on SQLite.
    pub async fn notify(&self, what: String) -> Result<(), StoreError> {
        if self.shared.is_none() {
            return Ok(());
        }
        self.call(move |db| db.notify(&what)).await
    }

    /// `call`, after committing every activity row recorded before it.
    pub async fn call_after_commit<T: Send + 'static>(&self, f: impl FnOnce(&mut dyn Db) -> Result<T, DbError> + Send + 'static) -> Result<T, StoreError> {
        self.run(f, true).await
    }

    /// `f` as a job for the writer, answering through `reply`.
    fn job<T: Send + 'static>(
        f: impl FnOnce(&mut dyn Db) -> Result<T, DbError> + Send + 'static,
        reply: impl FnOnce(Result<T, String>) + Send + 'static,
    ) -> Job {
        Box::new(move |db: Result<&mut dyn Db, DbError>| reply(db.and_then(f).map_err(|e| e.to_string())))
    }

    /// Runs `f` on the writer's connection, in order with the activity rows.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce(&mut dyn Db) -> Result<T, DbError> + Send + 'static, commit_first: bool) -> Result<T, StoreError> {
        let (reply, done) = oneshot::channel::<Result<T, String>>();
        let job = Store::job(f, move |answer| {
            let _ = reply.send(answer);
        });
        self.send(Command::Run(job, commit_first)).await?;
        done.await.map_err(|_| StoreError::WriterGone)?.map_err(StoreError::Query)
    }

    /// Queues a command for the writer; the queue is bounded, and waiting for room happens off
    /// the async worker. Only then: while the queue has room (nearly always) the command goes
    /// straight in, with no blocking-pool thread taken for it — under issue 21's soak each
    /// database call took one, and a thread kept alive keeps an allocator heap of its own.
    async fn send(&self, command: Command) -> Result<(), StoreError> {
        let command = match self.tx.try_send(command) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Disconnected(_)) => return Err(StoreError::WriterGone),
            Err(TrySendError::Full(command)) => command,
        };
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || tx.send(command).is_ok()).await.ok().filter(|sent| *sent).map(drop).ok_or(StoreError::WriterGone)
    }

    /// `call` for code that is not async (start-up): blocks this thread until the answer. Runs
    /// on the writer's thread, so the PostgreSQL driver never blocks inside the runtime.
    pub fn call_blocking<T: Send + 'static>(&self, f: impl FnOnce(&mut dyn Db) -> Result<T, DbError> + Send + 'static) -> Result<T, StoreError> {
        let (reply, done) = std::sync::mpsc::channel::<Result<T, String>>();
        let job = Store::job(f, move |answer| {
            let _ = reply.send(answer);
        });
        self.tx.send(Command::Run(job, false)).map_err(|_| StoreError::WriterGone)?;
        done.recv().map_err(|_| StoreError::WriterGone)?.map_err(StoreError::Query)
    }

    /// The latest activity rows, newest first.
    pub async fn recent_activity(&self, limit: usize) -> Result<Vec<Activity>, StoreError> {
        self.activity(ActivityFilter::default(), limit).await
    }

    /// Activity rows matching `filter`, newest first (the staff activity log).
    pub async fn activity(&self, filter: ActivityFilter, limit: usize) -> Result<Vec<Activity>, StoreError> {
        self.call_after_commit(move |db| {
            // Tell-an-adult presses are incidents; the log shows them among the rest, where
            // a reader looks for what happened on an iPad.
            let rows = db.query(
                "SELECT at_ms, device, class, kind, category, query, url, repeats, school_id FROM (
                     SELECT id, at_ms, device, class, kind, category, query, url, repeats, school_id FROM activity
                     UNION ALL
                     SELECT id, at_ms, device, class, kind, NULL, query, result_url, 1, school_id FROM incidents WHERE kind = 'tell_adult'
                 ) rows
                 WHERE (CAST(?1 AS TEXT) IS NULL OR kind = ?1) AND (CAST(?2 AS TEXT) IS NULL OR lower(class) = lower(?2)) AND (CAST(?3 AS TEXT) IS NULL OR device = ?3) AND at_ms >= ?4
                   AND (CAST(?6 AS BIGINT) IS NULL OR school_id = ?6) AND (CAST(?7 AS BIGINT) IS NULL OR at_ms < ?7)
                 ORDER BY at_ms DESC, id DESC LIMIT ?5",
                args![filter.kind.map(ActivityKind::as_str), filter.class, filter.device, filter.since_ms, limit, filter.school, filter.until_ms],
            )?;
            rows.iter()
                .map(|r| {
                    Ok(Activity {
                        at_ms: r.get(0)?,
                        device: r.get(1)?,
                        class: r.get(2)?,
                        kind: ActivityKind::parse(&r.get::<String>(3)?).unwrap_or(ActivityKind::Query),
                        category: r.get(4)?,
                        query: r.get(5)?,
                        url: r.get(6)?,
                        repeats: r.get(7)?,
                        school: r.get(8)?,
                    })
                })
                .collect()
        })
        .await
    }

    /// Waits until every row queued before this call is committed (the writer works in order).
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.call_after_commit(|_| Ok(())).await
    }

    pub fn dropped_rows(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn data_dir(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kidsearch-test-store-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("data dir");
        dir
    }

    fn view(query: &str) -> Activity {
        Activity { device: Some("Oak — iPad 1".into()), class: Some("Oak".into()), query: Some(query.into()), ..Activity::now(ActivityKind::Query) }
    }

    #[tokio::test]
    async fn identical_rows_in_one_batch_are_stored_once_with_their_count_and_durable_rows_never_merge() {
        let dir = data_dir("merge");
        let store = Store::open(&dir, None).expect("open");
        for _ in 0..50 {
            store.record(view("volcanoes"));
        }
        store.record(view("rainbows"));
        store.record_durable(Activity { query: Some("free p0rn".into()), ..Activity::now(ActivityKind::Refused) }).await.expect("durable");
        store.record_durable(Activity { query: Some("free p0rn".into()), ..Activity::now(ActivityKind::Refused) }).await.expect("durable");
        let rows = store.recent_activity(100).await.expect("read");
        let count = |q: &str| rows.iter().filter(|r| r.query.as_deref() == Some(q)).map(|r| r.repeats).sum::<u32>();
        assert_eq!((count("volcanoes"), count("rainbows"), count("free p0rn")), (50, 1, 2), "{rows:?}");
        assert!(rows.iter().filter(|r| r.query.as_deref() == Some("volcanoes")).count() < 50, "repeats were merged: {rows:?}");
        assert_eq!(rows.iter().filter(|r| r.kind == ActivityKind::Refused).count(), 2, "each refused query is its own row");
    }

    #[tokio::test]
    async fn a_lingering_row_is_committed_within_the_linger_time_without_any_read() {
        let dir = data_dir("linger");
        let store = Store::open(&dir, None).expect("open");
        store.record(view("volcanoes"));
        let other = rusqlite::Connection::open(dir.join(DB_FILE)).expect("second connection");
        let count = || other.query_row("SELECT COUNT(*) FROM activity", [], |r| r.get::<_, i64>(0)).expect("count");
        let started = Instant::now();
        while count() == 0 {
            assert!(started.elapsed() < Duration::from_secs(5), "the row was never committed");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(count(), 1);
    }
}
