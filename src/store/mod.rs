//! The embedded SQLite database under the data dir: one writer thread owns the connection.
//!
//! Invariants:
//! - writes that must survive a crash (refused queries, blocked clicks; later approvals and
//!   incidents) are committed before `record_durable` returns, and the page is sent after;
//! - ordinary activity rows go through a bounded queue and are written in batches, so a busy
//!   classroom never waits on the disk; if the queue is full a row is dropped and counted,
//!   never blocking a pupil's page;
//! - WAL mode and `synchronous = FULL`: a kill -9 loses nothing acknowledged.

pub mod backup;
mod migrations;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection};
use tokio::sync::oneshot;

/// What a pupil device did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub at_ms: i64,
    pub device: Option<String>,
    /// The enrolled device's class.
    pub class: Option<String>,
    pub kind: ActivityKind,
    pub category: Option<String>,
    pub query: Option<String>,
    pub url: Option<String>,
}

impl Activity {
    pub fn now(kind: ActivityKind) -> Activity {
        Activity { at_ms: now_ms(), device: None, class: None, kind, category: None, query: None, url: None }
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
    Append(Activity, Option<Reply<()>>),
    Read(Box<dyn FnOnce(&Connection) + Send>),
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    tx: SyncSender<Command>,
    dropped: Arc<AtomicU64>,
    path: PathBuf,
}

const QUEUE: usize = 4096;
const BATCH: usize = 512;
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
        std::thread::Builder::new().name("kidsearch-db".into()).spawn(move || writer(conn, rx)).map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(Store { tx, dropped: Arc::new(AtomicU64::new(0)), path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queues a row without waiting; counted as dropped if the queue is full.
    pub fn record(&self, row: Activity) {
        match self.tx.try_send(Command::Append(row, None)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(dropped_total = n, "activity row dropped: database queue full");
            }
        }
    }

    /// Writes a row and waits until it is committed.
    pub async fn record_durable(&self, row: Activity) -> Result<(), StoreError> {
        let (reply, done) = oneshot::channel();
        let tx = self.tx.clone();
        // The queue is bounded; waiting for room happens off the async worker.
        tokio::task::spawn_blocking(move || tx.send(Command::Append(row, Some(reply))).is_ok())
            .await
            .ok()
            .filter(|sent| *sent)
            .ok_or(StoreError::WriterGone)?;
        done.await.map_err(|_| StoreError::WriterGone)?.map_err(StoreError::Query)
    }

    /// Runs `f` on the writer's connection and waits for its answer: reads see every committed
    /// write, and a write made here is committed (autocommit) before the answer comes back.
    pub async fn call<T: Send + 'static>(&self, f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error> + Send + 'static) -> Result<T, StoreError> {
        let (reply, done) = oneshot::channel::<Result<T, String>>();
        let job = Box::new(move |conn: &Connection| {
            let _ = reply.send(f(conn).map_err(|e| e.to_string()));
        });
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || tx.send(Command::Read(job)).is_ok()).await.ok().filter(|sent| *sent).ok_or(StoreError::WriterGone)?;
        done.await.map_err(|_| StoreError::WriterGone)?.map_err(StoreError::Query)
    }

    /// The latest activity rows, newest first.
    pub async fn recent_activity(&self, limit: usize) -> Result<Vec<Activity>, StoreError> {
        self.activity(ActivityFilter::default(), limit).await
    }

    /// Activity rows matching `filter`, newest first (the staff activity log).
    pub async fn activity(&self, filter: ActivityFilter, limit: usize) -> Result<Vec<Activity>, StoreError> {
        self.call(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT at_ms, device, class, kind, category, query, url FROM activity
                 WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR class = ?2) AND (?3 IS NULL OR device = ?3) AND at_ms >= ?4
                 ORDER BY id DESC LIMIT ?5",
            )?;
            let rows = stmt.query_map(params![filter.kind.map(ActivityKind::as_str), filter.class, filter.device, filter.since_ms, limit as i64], |r| {
                let kind: String = r.get(3)?;
                Ok(Activity {
                    at_ms: r.get(0)?,
                    device: r.get(1)?,
                    class: r.get(2)?,
                    kind: ActivityKind::parse(&kind).unwrap_or(ActivityKind::Query),
                    category: r.get(4)?,
                    query: r.get(5)?,
                    url: r.get(6)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// Waits until every row queued before this call is committed (the writer works in order).
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.call(|_| Ok(())).await
    }

    pub fn dropped_rows(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The writer: takes one command, then whatever else is already queued (up to a batch), and
/// commits the appends in one transaction before acknowledging any of them.
fn writer(mut conn: Connection, rx: Receiver<Command>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        let mut appends = Vec::new();
        let mut reads = Vec::new();
        for c in batch {
            match c {
                Command::Append(row, reply) => appends.push((row, reply)),
                Command::Read(job) => reads.push(job),
            }
        }
        if !appends.is_empty() {
            let result = append_all(&mut conn, &appends).map_err(|e| e.to_string());
            if let Err(e) = &result {
                tracing::error!(error = %e, rows = appends.len(), "could not write activity rows");
            }
            for (_, reply) in appends {
                if let Some(reply) = reply {
                    let _ = reply.send(result.clone());
                }
            }
        }
        for job in reads {
            job(&conn);
        }
    }
}

fn append_all(conn: &mut Connection, rows: &[(Activity, Option<Reply<()>>)]) -> Result<(), rusqlite::Error> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached("INSERT INTO activity (at_ms, device, class, kind, category, query, url) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
        for (row, _) in rows {
            stmt.execute(params![row.at_ms, row.device, row.class, row.kind.as_str(), row.category, row.query, row.url])?;
        }
    }
    tx.commit()
}
