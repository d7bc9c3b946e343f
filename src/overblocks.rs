//! A way back for over-blocks (issue 22; UKSIC: "users can report content to be unblocked"):
//! staff report a refused search that should not have been refused; an admin turns the report
//! into a **local exception** (a phrase the term lists never refuse, kept in the database with
//! who and when) or dismisses it.
//!
//! Invariants:
//! - a local exception applies at once, on every instance, without a restart: it is written
//!   and announced (`Change::Exceptions`) in one `Store::call`, this instance swaps the
//!   policy's set (`Policy::local`) and forgets its cached answers (a cached refusal would
//!   otherwise outlive the exception), and `cluster::follow` does the same elsewhere;
//! - local exceptions cover words exactly as `terms/exceptions.txt` does (normalised, never
//!   stretched): the rest of a query is still checked;
//! - local exceptions are install-wide, like the lists in `allowlist/` (an admin's decision
//!   is recorded with their name; a trust-wide install shares them across its schools).

use std::sync::Arc;

use crate::args;
use crate::changes::Change;
use crate::clock::Clock;
use crate::policy::LivePolicy;
use crate::schools::{SchoolId, Scope};
use crate::search::SearchService;
use crate::store::{Store, StoreError};

/// A report that a refused search should not have been refused.
#[derive(Debug, Clone)]
pub struct Report {
    pub id: i64,
    pub at_ms: i64,
    pub school: SchoolId,
    pub query: String,
    pub category: Option<String>,
    pub reported_by: String,
}

/// A phrase an admin made an exception, with who and when.
#[derive(Debug, Clone)]
pub struct LocalException {
    pub id: i64,
    pub phrase: String,
    pub added_by: String,
    pub added_ms: i64,
}

pub struct OverBlocks {
    store: Store,
    clock: Arc<dyn Clock>,
    policy: Arc<LivePolicy>,
    search: Arc<SearchService>,
}

const PHRASES: &str = "SELECT phrase FROM local_exceptions ORDER BY id";

impl OverBlocks {
    /// Loads the local exceptions into the policy before the first pupil is answered.
    pub fn open(store: Store, clock: Arc<dyn Clock>, policy: Arc<LivePolicy>, search: Arc<SearchService>) -> Result<OverBlocks, StoreError> {
        let phrases: Vec<String> = store.call_blocking(|db| db.query(PHRASES, &[])?.iter().map(|r| r.get(0)).collect())?;
        policy.current().local.replace(&phrases);
        Ok(OverBlocks { store, clock, policy, search })
    }

    /// Re-reads the local exceptions (another instance changed them, or notices were missed).
    pub async fn reload(&self) -> Result<(), StoreError> {
        let phrases: Vec<String> = self.store.call(|db| db.query(PHRASES, &[])?.iter().map(|r| r.get(0)).collect()).await?;
        self.apply(&phrases);
        Ok(())
    }

    fn apply(&self, phrases: &[String]) {
        // The same live set in every generation of the policy (`LivePolicy::reload`).
        self.policy.current().local.replace(phrases);
        // Refusals are cached with the answers: none may outlive the exception.
        self.search.forget_answers();
    }

    /// A member of staff says this refused search should not have been refused. Only a query
    /// the policy refuses today can be reported (nothing else needs a way back).
    pub async fn report(&self, school: SchoolId, query: String, by: String) -> Result<Option<i64>, StoreError> {
        let Ok(parsed) = crate::query::Query::parse(&query) else { return Ok(None) };
        let Some(category) = self.policy.current().check_query(&parsed).map(str::to_string) else { return Ok(None) };
        let now = self.clock.now_ms();
        let id = self
            .store
            .call(move |db| {
                // One open report per query and school: pressing twice, or two teachers, is one.
                let open = db.query("SELECT id FROM over_block_reports WHERE school_id = ?1 AND query = ?2 AND status = 'new'", args![school, &query])?;
                if let Some(row) = open.first() {
                    return row.get(0);
                }
                db.query_one(
                    "INSERT INTO over_block_reports (at_ms, school_id, query, category, reported_by) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                    args![now, school, &query, category, by],
                )?
                .get(0)
            })
            .await?;
        Ok(Some(id))
    }

    /// The reports waiting for an admin, newest first.
    pub async fn open_reports(&self, scope: Scope) -> Result<Vec<Report>, StoreError> {
        self.store
            .call(move |db| {
                db.query(
                    "SELECT id, at_ms, school_id, query, category, reported_by FROM over_block_reports
                     WHERE status = 'new' AND (CAST(?1 AS BIGINT) IS NULL OR school_id = ?1) ORDER BY at_ms DESC, id DESC LIMIT 500",
                    args![scope],
                )?
                .iter()
                .map(|r| Ok(Report { id: r.get(0)?, at_ms: r.get(1)?, school: r.get(2)?, query: r.get(3)?, category: r.get(4)?, reported_by: r.get(5)? }))
                .collect()
            })
            .await
    }

    /// Every local exception, oldest first.
    pub async fn exceptions(&self) -> Result<Vec<LocalException>, StoreError> {
        self.store
            .call(|db| {
                db.query("SELECT id, phrase, added_by, added_ms FROM local_exceptions ORDER BY id", &[])?
                    .iter()
                    .map(|r| Ok(LocalException { id: r.get(0)?, phrase: r.get(1)?, added_by: r.get(2)?, added_ms: r.get(3)? }))
                    .collect()
            })
            .await
    }

    /// Turns report `id` (in `scope`) into the local exception `phrase` (the reported query,
    /// or the part of it the admin kept). False when there is no such open report.
    pub async fn make_exception(&self, id: i64, scope: Scope, phrase: String, by: String) -> Result<bool, StoreError> {
        let phrase = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
        if phrase.is_empty() || phrase.chars().count() > crate::query::MAX_QUERY_CHARS {
            return Ok(false);
        }
        let now = self.clock.now_ms();
        let phrases = self
            .store
            .call(move |db| {
                crate::store::transaction(db, move |db| {
                    let changed = db.execute(
                        "UPDATE over_block_reports SET status = 'exception', decided_by = ?3, decided_ms = ?4
                         WHERE id = ?1 AND status = 'new' AND (CAST(?2 AS BIGINT) IS NULL OR school_id = ?2)",
                        args![id, scope, &by, now],
                    )?;
                    if changed == 0 {
                        return Ok(None);
                    }
                    db.execute(
                        "INSERT INTO local_exceptions (phrase, added_by, added_ms, report_id) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (phrase) DO NOTHING",
                        args![&phrase, &by, now, id],
                    )?;
                    db.notify(&Change::Exceptions.payload())?;
                    let phrases: Vec<String> = db.query(PHRASES, &[])?.iter().map(|r| r.get(0)).collect::<Result<_, _>>()?;
                    Ok(Some(phrases))
                })
            })
            .await?;
        match phrases {
            Some(phrases) => {
                self.apply(&phrases);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Dismisses report `id` (in `scope`): the refusal stands.
    pub async fn dismiss(&self, id: i64, scope: Scope, by: String) -> Result<bool, StoreError> {
        let now = self.clock.now_ms();
        let changed = self
            .store
            .call(move |db| {
                db.execute(
                    "UPDATE over_block_reports SET status = 'dismissed', decided_by = ?3, decided_ms = ?4
                     WHERE id = ?1 AND status = 'new' AND (CAST(?2 AS BIGINT) IS NULL OR school_id = ?2)",
                    args![id, scope, by, now],
                )
            })
            .await?;
        Ok(changed > 0)
    }

    /// Removes local exception `id`: the phrase is refused again, here and everywhere.
    pub async fn remove_exception(&self, id: i64) -> Result<bool, StoreError> {
        let phrases = self
            .store
            .call(move |db| {
                if db.execute("DELETE FROM local_exceptions WHERE id = ?1", args![id])? == 0 {
                    return Ok(None);
                }
                db.notify(&Change::Exceptions.payload())?;
                Ok(Some(db.query(PHRASES, &[])?.iter().map(|r| r.get(0)).collect::<Result<Vec<String>, _>>()?))
            })
            .await?;
        match phrases {
            Some(phrases) => {
                self.apply(&phrases);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
