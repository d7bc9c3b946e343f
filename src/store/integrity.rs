//! Is the SQLite file whole? A failing disk can damage a page in the middle of the file, and
//! nothing notices until that page is read (the register's CSV export was the first to fail).
//! Three checks, each where its cost fits:
//! - at every start, SQLite's `quick_check`, stopped after `START_BUDGET` (a school's file
//!   checks in well under a second; a huge one is left to the full check with a warning). A
//!   damaged file refuses to start, like bad configuration: writing on into damaged b-trees can
//!   spread the damage and lose the very presses the server would acknowledge, while refusing
//!   is loud, and the way back (`kidsearch restore` of the nightly backup) takes a minute;
//! - `kidsearch check --database`: the full `integrity_check`, every finding printed;
//! - `kidsearch backup`: the copy's own `integrity_check`, and its key tables' row counts
//!   against the live database's just before and after the copy (`backup.rs`).

use std::path::Path;
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::StoreError;

/// How long the start-up check may take before the server starts without its verdict.
pub const START_BUDGET: Duration = Duration::from_secs(3);
/// Findings shown in a message (the full check prints every one).
const SHOWN: usize = 5;
/// The tables whose rows a backup must have all of: the register, the log, who may sign in,
/// the iPads, what teachers approved, the schools.
pub const KEY_TABLES: [&str; 6] = ["incidents", "activity", "staff", "devices", "approvals", "schools"];

/// What the way back is, for every message about a damaged file.
pub fn how_to_recover() -> &'static str {
    "Run `kidsearch check --database` for the full report, then put the last good backup back with `kidsearch restore PATH` (server stopped)"
}

/// The start-up `quick_check` on the store's own connection, stopped after `budget`.
pub(super) fn quick_check_at_start(conn: &Connection, path: &Path, budget: Duration) -> Result<(), StoreError> {
    let handle = conn.get_interrupt_handle();
    let (finished, wait) = channel::<()>();
    let timer = std::thread::spawn(move || {
        let timed_out = matches!(wait.recv_timeout(budget), Err(RecvTimeoutError::Timeout));
        if timed_out {
            handle.interrupt();
        }
        timed_out
    });
    let found = findings(conn, "quick_check");
    let _ = finished.send(());
    let timed_out = timer.join().unwrap_or(false);
    match found {
        Ok(lines) if is_ok(&lines) => Ok(()),
        Err(e) if timed_out || e.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted) => {
            tracing::warn!(database = %path.display(), "the start-up integrity check did not finish within {} s; run `kidsearch check --database` when the school is quiet", budget.as_secs());
            Ok(())
        }
        Ok(lines) => Err(damaged(path, &lines)),
        Err(e) => Err(damaged(path, &[e.to_string()])),
    }
}

/// `kidsearch check --database`: the full `integrity_check` of `path` (read-only); `Ok` with
/// "ok", or every finding.
pub fn full_check(path: &Path) -> Result<(), Vec<String>> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| vec![e.to_string()])?;
    let _ = conn.busy_timeout(Duration::from_secs(10));
    match findings(&conn, "integrity_check") {
        Ok(lines) if is_ok(&lines) => Ok(()),
        Ok(lines) => Err(lines),
        Err(e) => Err(vec![e.to_string()]),
    }
}

/// The rows of each of `KEY_TABLES`.
pub fn key_counts(conn: &Connection) -> rusqlite::Result<Vec<(&'static str, i64)>> {
    KEY_TABLES.iter().map(|t| conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0)).map(|n| (*t, n))).collect()
}

/// The error for a damaged file, with the first findings and the way back.
pub fn damaged(path: &Path, lines: &[String]) -> StoreError {
    let mut shown: Vec<&str> = lines.iter().take(SHOWN).map(String::as_str).collect();
    if lines.len() > SHOWN {
        shown.push("…");
    }
    StoreError::Damaged(format!(
        "the database {} is damaged (SQLite found: {}). kidsearch does not start on a damaged file: writing on could spread the damage and lose records it acknowledges. {}.",
        path.display(),
        shown.join("; "),
        how_to_recover()
    ))
}

fn findings(conn: &Connection, pragma: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA {pragma}"))?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.collect()
}

fn is_ok(lines: &[String]) -> bool {
    lines.len() == 1 && lines[0] == "ok"
}
