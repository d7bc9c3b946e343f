//! The checks made, kept for the annual review (`review`): every engine canary run and every
//! filter self-test, with when, what it found and who asked (`None`: the nightly command).
//! The DfE's filtering standard asks that checks are made and recorded; the canary's own table
//! keeps only each engine's latest answer, this keeps the history.

use crate::args;
use crate::store::{Db, DbError, Row, Store, StoreError};

/// What was checked.
pub const CANARY: &str = "canary";
pub const FILTER_TEST: &str = "filter_test";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    pub at_ms: i64,
    /// `CANARY` or `FILTER_TEST`.
    pub kind: String,
    pub ok: bool,
    /// One line: what it found ("4 of 4 engines answered", "filter test: 2 problem(s) …").
    pub summary: String,
    /// The staff account that ran it from a page; `None` from the command line.
    pub by: Option<String>,
}

impl CheckRun {
    /// How a reader names the check.
    pub fn what(&self) -> &'static str {
        match self.kind.as_str() {
            CANARY => "Engine canary",
            FILTER_TEST => "Filter self-test",
            _ => "Check",
        }
    }
}

/// Keeps one run.
pub async fn record(store: &Store, run: CheckRun) -> Result<(), StoreError> {
    store.call(move |db| insert(db, &run)).await
}

/// Writes `run` in the caller's transaction (the canary writes its run with its results). A
/// summary is cut to 500 characters: it is a line, not a report.
pub fn insert(db: &mut dyn Db, run: &CheckRun) -> Result<(), DbError> {
    let summary: String = run.summary.chars().take(500).collect();
    db.execute(
        "INSERT INTO check_runs (at_ms, kind, ok, summary, by_name) VALUES (?1, ?2, ?3, ?4, ?5)",
        args![run.at_ms, &run.kind, run.ok, summary, run.by.as_deref()],
    )
    .map(|_| ())
}

/// Every run from `from_ms` (inclusive) to `to_ms` (exclusive), oldest first.
pub async fn between(store: &Store, from_ms: i64, to_ms: i64) -> Result<Vec<CheckRun>, StoreError> {
    store
        .call(move |db| {
            db.query("SELECT at_ms, kind, ok, summary, by_name FROM check_runs WHERE at_ms >= ?1 AND at_ms < ?2 ORDER BY at_ms, id", args![from_ms, to_ms])?
                .iter()
                .map(row_to_run)
                .collect()
        })
        .await
}

fn row_to_run(r: &Row) -> Result<CheckRun, DbError> {
    Ok(CheckRun { at_ms: r.get(0)?, kind: r.get(1)?, ok: r.get(2)?, summary: r.get(3)?, by: r.get(4)? })
}
