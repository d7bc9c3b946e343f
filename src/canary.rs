//! The engine canary: one known query per engine, to spot a changed upstream page in the
//! morning, not when a child searches. Run by `kidsearch check --canary` (a systemd timer can
//! do it every school morning) or from the staff Engine health page; the last result per
//! engine is kept in SQLite and shown there.

use std::time::Duration;

use crate::args;
use crate::store::transaction;

use crate::engines::{Audience, EngineError, EnginePage, EngineSet};
use crate::store::{Store, StoreError};

/// The known query: common, harmless, answered by every engine.
pub const QUERY: &str = "volcanoes";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryResult {
    pub engine: String,
    /// Answered, and its results page parsed into at least one result.
    pub ok: bool,
    pub results: usize,
    pub error: Option<String>,
    pub millis: u64,
    pub at_ms: i64,
}

impl CanaryResult {
    pub fn from_answer(engine: &str, answer: &Result<EnginePage, EngineError>, took: Duration) -> CanaryResult {
        let (ok, results, error) = match answer {
            Ok(page) if !page.results.is_empty() => (true, page.results.len(), None),
            // An answer with nothing in it for "volcanoes" means the markup changed under us.
            Ok(_) => (false, 0, Some("answered, but no results could be read: has its page changed?".to_string())),
            Err(e) => (false, 0, Some(e.to_string())),
        };
        CanaryResult { engine: engine.to_string(), ok, results, error, millis: took.as_millis() as u64, at_ms: crate::store::now_ms() }
    }
}

/// A canary run in one sentence, naming the engines that failed by their names and saying of
/// a staff-only one that only pre-runs miss it ("7 engines answered; Google, Yahoo failed —
/// pre-runs only: pupils never search staff-only engines"): a teacher should not think pupils lost search.
pub fn summary(results: &[CanaryResult], engines: &EngineSet) -> String {
    let answered = results.iter().filter(|r| r.ok).count();
    let name = |id: &str| engines.get(id).map_or_else(|| id.to_string(), |e| e.name.clone());
    let staff_only = |id: &str| engines.get(id).is_some_and(|e| e.audience == Audience::Staff);
    let failed = |staff: bool| -> Vec<String> { results.iter().filter(|r| !r.ok && staff_only(&r.engine) == staff).map(|r| name(&r.engine)).collect() };
    let (pupils, staff) = (failed(false), failed(true));
    let mut parts = vec![format!("{answered} {} answered", if answered == 1 { "engine" } else { "engines" })];
    if !pupils.is_empty() {
        parts.push(format!("{} failed — pupils' searches go to the other engines", pupils.join(", ")));
    }
    if !staff.is_empty() {
        parts.push(format!("{} failed — {}", staff.join(", "), STAFF_ONLY));
    }
    parts.join("; ")
}

/// What a failing staff-only engine means for pupils: nothing.
pub const STAFF_ONLY: &str = "pre-runs only: pupils never search staff-only engines";

/// Keeps the latest result per engine, and the run itself in the checks' history
/// (`checks`: `summary` as `summary` made it; `by` the staff account, `None` from the command line).
pub async fn record(store: &Store, results: Vec<CanaryResult>, summary: String, by: Option<String>) -> Result<(), StoreError> {
    let at_ms = results.iter().map(|r| r.at_ms).max().unwrap_or_else(crate::store::now_ms);
    let run = crate::checks::CheckRun { at_ms, kind: crate::checks::CANARY.into(), ok: results.iter().all(|r| r.ok), summary, by };
    store
        .call(move |db| {
            transaction(db, |db| {
                for r in &results {
                    db.execute(
                        "INSERT INTO engine_canary (engine, at_ms, ok, results, error, millis) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT (engine) DO UPDATE SET at_ms = ?2, ok = ?3, results = ?4, error = ?5, millis = ?6",
                        args![&r.engine, r.at_ms, r.ok, r.results, r.error.as_deref(), r.millis],
                    )?;
                }
                crate::checks::insert(db, &run)
            })
        })
        .await
}

/// The latest result per engine.
pub async fn latest(store: &Store) -> Result<Vec<CanaryResult>, StoreError> {
    store
        .call(|db| {
            db.query("SELECT engine, ok, results, error, millis, at_ms FROM engine_canary ORDER BY engine", &[])?
                .iter()
                .map(|r| Ok(CanaryResult { engine: r.get(0)?, ok: r.get(1)?, results: r.get(2)?, error: r.get(3)?, millis: r.get(4)?, at_ms: r.get(5)? }))
                .collect()
        })
        .await
}
