//! The store's writer thread: the one place activity rows are written, in batches.
//!
//! Ordinary rows wait in a shared `Buffer` (identical ones merged) and are committed `LINGER`
//! after the first; durable rows and log readers commit the buffer with them. On SQLite the
//! writer also runs every other job (the file has one writer); on PostgreSQL it keeps one
//! pooled connection for the log and the pool serves everything else.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::db::{transaction, Db, DbError};
use super::{Activity, BATCH, LINGER};
use crate::args;

/// Where the writer gets its connection: SQLite's one connection, or a pooled PostgreSQL one
/// (checked out again if it broke).
pub(super) trait Connect: Send {
    fn db(&mut self) -> Result<&mut dyn Db, DbError>;
}

pub(super) type Reply<T> = oneshot::Sender<Result<T, String>>;

/// A job on the writer's connection (an error if there is none to be had).
pub(super) type Job = Box<dyn FnOnce(Result<&mut dyn Db, DbError>) + Send>;

pub(super) enum Command {
    /// The activity buffer got its first row.
    Wake,
    /// A row to commit (with everything buffered) before answering.
    Append(Activity, Reply<()>),
    /// A job on the connection; `true`: commit the activity buffer first (readers of the log).
    Run(Job, bool),
}

/// Ordinary rows waiting for their commit, identical ones merged.
#[derive(Default)]
pub(super) struct Buffer {
    pub(super) rows: Vec<Activity>,
    /// A row without its time and count → its place in `rows`.
    index: HashMap<Activity, usize>,
}

impl Buffer {
    /// Adds a row (merging it into an identical one); true if it is the buffer's first.
    pub(super) fn add(&mut self, mut row: Activity) -> bool {
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

    pub(super) fn take(&mut self) -> Vec<Activity> {
        self.index.clear();
        std::mem::take(&mut self.rows)
    }
}

/// The writer. Ordinary rows are committed `LINGER` after the buffer's first (or sooner, with
/// the next durable row or log reader); commands are taken in batches, and the buffer and the
/// durable rows are committed in one transaction before any of them is answered.
pub(super) fn writer(mut conn: Box<dyn Connect>, rx: Receiver<Command>, buffer: Arc<Mutex<Buffer>>) {
    let take_buffer = || buffer.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
    let commit = |conn: &mut Box<dyn Connect>, mut rows: Vec<Activity>, durable: Vec<Activity>| -> Result<(), String> {
        rows.extend(durable);
        if rows.is_empty() {
            return Ok(());
        }
        let result = conn.db().and_then(|db| append_all(db, &rows)).map_err(|e| e.to_string());
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
            job(conn.db());
        }
    }
}

fn append_all(db: &mut dyn Db, rows: &[Activity]) -> Result<(), DbError> {
    transaction(db, |db| {
        for row in rows {
            db.execute(
                "INSERT INTO activity (at_ms, device, class, kind, category, query, url, repeats, school_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                args![
                    row.at_ms,
                    row.device.as_deref(),
                    row.class.as_deref(),
                    row.kind.as_str(),
                    row.category.as_deref(),
                    row.query.as_deref(),
                    row.url.as_deref(),
                    row.repeats,
                    row.school
                ],
            )?;
        }
        Ok(())
    })
}
