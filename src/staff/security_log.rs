//! Reading the security log (`security_events`): sign-ins, failed sign-ins, lockouts, role,
//! school and password changes, removals, exports and the other staff actions that
//! `accounts::security_event` records. Narrowed by the reader's `Scope` like every staff read:
//! an event belongs to the school of the account it names.
//!
//! An event that names no account (a failed sign-in under a name nobody has) belongs to no
//! school. With one school, that is the whole install's, so its admin sees it; in a trust only
//! trust-wide admins do (a school's admin must not read names and addresses another school's
//! staff typed).

use crate::args;
use crate::schools::{SchoolId, Scope};
use crate::store::{Store, StoreError};

/// One recorded event, as the log page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityEvent {
    pub at_ms: i64,
    pub kind: String,
    pub name: Option<String>,
    pub detail: Option<String>,
    pub school: Option<SchoolId>,
}

/// What to show: the reader's scope, one kind or all, events since when, at most how many.
#[derive(Debug, Clone)]
pub struct LogFilter {
    pub scope: Scope,
    pub kind: Option<String>,
    pub since_ms: i64,
    pub limit: usize,
}

/// The scope test every read here shares (`?1` is the scope).
const IN_SCOPE: &str = "(CAST(?1 AS BIGINT) IS NULL OR school_id = ?1 OR (school_id IS NULL AND (SELECT COUNT(*) FROM schools) = 1))";

/// The newest events first, at most `filter.limit`.
pub async fn recent(store: &Store, filter: LogFilter) -> Result<Vec<SecurityEvent>, StoreError> {
    store
        .call(move |db| {
            let sql = format!(
                "SELECT at_ms, kind, name, detail, school_id FROM security_events
                 WHERE {IN_SCOPE} AND (CAST(?2 AS TEXT) IS NULL OR kind = ?2) AND at_ms >= ?3
                 ORDER BY at_ms DESC, id DESC LIMIT ?4"
            );
            let rows = db.query(&sql, args![filter.scope, filter.kind, filter.since_ms, filter.limit])?;
            rows.iter().map(|r| Ok(SecurityEvent { at_ms: r.get(0)?, kind: r.get(1)?, name: r.get(2)?, detail: r.get(3)?, school: r.get(4)? })).collect()
        })
        .await
}

/// The kinds of event the reader could see, for the filter's choices.
pub async fn kinds(store: &Store, scope: Scope) -> Result<Vec<String>, StoreError> {
    store
        .call(move |db| {
            let sql = format!("SELECT DISTINCT kind FROM security_events WHERE {IN_SCOPE} ORDER BY kind");
            db.query(&sql, args![scope])?.iter().map(|r| r.get(0)).collect()
        })
        .await
}
