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
mod migrations;

pub use db::{transaction, Db, DbError, FromValue, Row, Value};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection};

use crate::args;
use tokio::sync::oneshot;

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
}

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Query => "query",
            ActivityKind::Refused => "refused",
            ActivityKind::Click => "click",
            ActivityKind::BlockedClick => "blocked_click",
        }
    }

    pub fn parse(s: &str) -> Option<ActivityKind> {
        match s {
            "query" => Some(ActivityKind::Query),
            "refused" => Some(ActivityKind::Refused),
            "click" => Some(ActivityKind::Click),
            "blocked_click" => Some(ActivityKind::BlockedClick),
            _ => None,
        }
    }

    pub const ALL: [ActivityKind; 4] = [ActivityKind::Query, ActivityKind::Refused, ActivityKind::Click, ActivityKind::BlockedClick];
}

/// What the staff activity log is narrowed to; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub kind: Option<ActivityKind>,
    pub class: Option<String>,
    pub device: Option<String>,
    pub since_ms: i64,
}

/// One activity row. Devices, not children: `device` is an enrolled device's name, if any.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Activity {
    pub at_ms: i64,
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
        Activity { at_ms: now_ms(), device: None, class: None, kind, category: None, query: None, url: None, repeats: 1 }
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
}

type Reply<T> = oneshot::Sender<Result<T, String>>;

enum Command {
    /// The activity buffer got its first row.
    Wake,
    /// A row to commit (with everything buffered) before answering.
    Append(Activity, Reply<()>),
    /// A job on the connection; `true`: commit the activity buffer first (readers of the log).
    Run(Box<dyn FnOnce(&mut Connection) + Send>, bool),
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    tx: SyncSender<Command>,
    buffer: Arc<Mutex<Buffer>>,
    dropped: Arc<AtomicU64>,
    path: PathBuf,
}

const QUEUE: usize = 1024;
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
    /// Opens (creating if needed) the database in `data_dir`, runs migrations, starts the writer.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join(DB_FILE);
        let mut conn = Connection::open(&path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations::run(&mut conn)?;
        let (tx, rx) = sync_channel(QUEUE);
        let buffer = Arc::new(Mutex::new(Buffer::default()));
        let shared = buffer.clone();
        std::thread::Builder::new().name("kidsearch-db".into()).spawn(move || writer(conn, rx, shared)).map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(Store { tx, buffer, dropped: Arc::new(AtomicU64::new(0)), path })
    }

    pub fn path(&self) -> &Path {
        &self.path
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
        let tx = self.tx.clone();
        // The queue is bounded; waiting for room happens off the async worker.
        tokio::task::spawn_blocking(move || tx.send(Command::Append(row, reply)).is_ok()).await.ok().filter(|sent| *sent).ok_or(StoreError::WriterGone)?;
        done.await.map_err(|_| StoreError::WriterGone)?.map_err(StoreError::Query)
    }

    /// Runs `f` on the writer's connection and waits for its answer: reads see every committed
    /// write, and a write made here is committed (autocommit, or `db::transaction`) before the
    /// answer comes back. Activity rows still lingering in the buffer are not waited for (that
    /// would put an fsync in front of every approval lookup); readers of the log use
    /// `call_after_commit`.
    pub async fn call<T: Send + 'static>(&self, f: impl FnOnce(&mut dyn Db) -> Result<T, DbError> + Send + 'static) -> Result<T, StoreError> {
        self.run(f, false).await
    }

    /// `call`, after committing every activity row recorded before it.
    pub async fn call_after_commit<T: Send + 'static>(&self, f: impl FnOnce(&mut dyn Db) -> Result<T, DbError> + Send + 'static) -> Result<T, StoreError> {
        self.run(f, true).await
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce(&mut dyn Db) -> Result<T, DbError> + Send + 'static, commit_first: bool) -> Result<T, StoreError> {
        let (reply, done) = oneshot::channel::<Result<T, String>>();
        let job = Box::new(move |conn: &mut Connection| {
            let _ = reply.send(f(conn).map_err(|e| e.to_string()));
        });
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || tx.send(Command::Run(job, commit_first)).is_ok()).await.ok().filter(|sent| *sent).ok_or(StoreError::WriterGone)?;
        done.await.map_err(|_| StoreError::WriterGone)?.map_err(StoreError::Query)
    }

    /// `call` for code that is not async (start-up): blocks this thread until the answer.
    pub fn call_blocking<T: Send + 'static>(&self, f: impl FnOnce(&mut dyn Db) -> Result<T, DbError> + Send + 'static) -> Result<T, StoreError> {
        let (reply, done) = std::sync::mpsc::channel::<Result<T, String>>();
        let job = Box::new(move |conn: &mut Connection| {
            let _ = reply.send(f(conn).map_err(|e| e.to_string()));
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
            let rows = db.query(
                "SELECT at_ms, device, class, kind, category, query, url, repeats FROM activity
                 WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR class = ?2) AND (?3 IS NULL OR device = ?3) AND at_ms >= ?4
                 ORDER BY id DESC LIMIT ?5",
                args![filter.kind.map(ActivityKind::as_str), filter.class, filter.device, filter.since_ms, limit],
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

/// Ordinary rows waiting for their commit, identical ones merged.
#[derive(Default)]
struct Buffer {
    rows: Vec<Activity>,
    /// A row without its time and count → its place in `rows`.
    index: HashMap<Activity, usize>,
}

impl Buffer {
    /// Adds a row (merging it into an identical one); true if it is the buffer's first.
    fn add(&mut self, mut row: Activity) -> bool {
        let (at_ms, repeats) = (row.at_ms, row.repeats);
        (row.at_ms, row.repeats) = (0, 0);
        if let Some(&i) = self.index.get(&row) {
            self.rows[i].repeats += repeats;
            return false;
        }
        self.index.insert(row.clone(), self.rows.len());
        (row.at_ms, row.repeats) = (at_ms, repeats);
        self.rows.push(row);
        self.rows.len() == 1
    }

    fn take(&mut self) -> Vec<Activity> {
        self.index.clear();
        std::mem::take(&mut self.rows)
    }
}

/// The writer. Ordinary rows are committed `LINGER` after the buffer's first (or sooner, with
/// the next durable row or log reader); commands are taken in batches, and the buffer and the
/// durable rows are committed in one transaction before any of them is answered.
fn writer(mut conn: Connection, rx: Receiver<Command>, buffer: Arc<Mutex<Buffer>>) {
    let take_buffer = || buffer.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
    let commit = |conn: &mut Connection, mut rows: Vec<Activity>, durable: Vec<Activity>| -> Result<(), String> {
        rows.extend(durable);
        if rows.is_empty() {
            return Ok(());
        }
        let result = append_all(conn, &rows).map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!(error = %e, rows = rows.len(), "could not write activity rows");
        }
        result
    };
    // A lost wake-up (full queue) is caught by this idle check.
    const IDLE_CHECK: Duration = Duration::from_secs(1);
    let mut due: Option<Instant> = None;
    loop {
        let wait = due.map_or(IDLE_CHECK, |d| d.saturating_duration_since(Instant::now()));
        let first = match rx.recv_timeout(wait) {
            Ok(c) => c,
            Err(RecvTimeoutError::Timeout) => {
                let _ = commit(&mut conn, take_buffer(), Vec::new());
                due = None;
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => {
                let _ = commit(&mut conn, take_buffer(), Vec::new());
                return;
            }
        };
        let (mut durable, mut replies, mut jobs, mut commit_first) = (Vec::new(), Vec::new(), Vec::new(), false);
        let mut sort = |c: Command| match c {
            Command::Wake => {
                due.get_or_insert_with(|| Instant::now() + LINGER);
            }
            Command::Append(row, reply) => {
                durable.push(row);
                replies.push(reply);
            }
            Command::Run(job, commit) => {
                commit_first |= commit;
                jobs.push(job);
            }
        };
        sort(first);
        for _ in 1..BATCH {
            match rx.try_recv() {
                Ok(c) => sort(c),
                Err(_) => break,
            }
        }
        if commit_first || !durable.is_empty() || due.is_some_and(|d| d <= Instant::now()) {
            let result = commit(&mut conn, take_buffer(), durable);
            due = None;
            for reply in replies {
                let _ = reply.send(result.clone());
            }
        }
        for job in jobs {
            job(&mut conn);
        }
    }
}

fn append_all(conn: &mut Connection, rows: &[Activity]) -> Result<(), rusqlite::Error> {
    let tx = conn.transaction()?;
    {
        let mut stmt =
            tx.prepare_cached("INSERT INTO activity (at_ms, device, class, kind, category, query, url, repeats) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
        for row in rows {
            stmt.execute(params![row.at_ms, row.device, row.class, row.kind.as_str(), row.category, row.query, row.url, row.repeats])?;
        }
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let store = Store::open(&dir).expect("open");
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
        let store = Store::open(&dir).expect("open");
        store.record(view("volcanoes"));
        let other = Connection::open(dir.join(DB_FILE)).expect("second connection");
        let count = || other.query_row("SELECT COUNT(*) FROM activity", [], |r| r.get::<_, i64>(0)).expect("count");
        let started = Instant::now();
        while count() == 0 {
            assert!(started.elapsed() < Duration::from_secs(5), "the row was never committed");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(count(), 1);
    }
}
