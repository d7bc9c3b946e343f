//! Data protection: rows older than the retention periods in config are deleted by an hourly
//! job (and by the admin's "purge now"). Defaults: activity 30 days, incidents one school year.
//! Staff security events are kept as long as incidents: a safeguarding review months later
//! asks who signed in, who failed to, and who changed whose role.

use crate::args;
use crate::store::transaction;

use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub activity_days: u32,
    pub incident_days: u32,
}

/// What one purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub activity: usize,
    pub incidents: usize,
}

const DAY_MS: i64 = 86_400_000;

/// Deletes what is older than the retention periods, as of `now_ms`.
pub async fn purge(store: &Store, now_ms: i64, retention: Retention) -> Result<Purged, StoreError> {
    let activity_before = now_ms - i64::from(retention.activity_days) * DAY_MS;
    let incidents_before = now_ms - i64::from(retention.incident_days) * DAY_MS;
    store
        .call(move |db| {
            transaction(db, |db| {
                let activity = db.execute("DELETE FROM activity WHERE at_ms < ?1", args![activity_before])?;
                // Class windows and used enrolment links are activity too.
                db.execute("DELETE FROM class_windows WHERE ends_ms < ?1", args![activity_before])?;
                db.execute("DELETE FROM enrol_links WHERE expires_ms < ?1", args![activity_before])?;
                let incidents = db.execute("DELETE FROM incidents WHERE at_ms < ?1", args![incidents_before])?;
                db.execute("DELETE FROM security_events WHERE at_ms < ?1", args![incidents_before])?;
                // Staff sessions that have expired, and sign-in attempts past their window
                // (both stamped with the system's time, not the retention clock).
                let wall = crate::store::now_ms();
                db.execute("DELETE FROM staff_sessions WHERE expires_ms <= ?1", args![wall])?;
                crate::staff::throttle::purge_stale(db, wall)?;
                // A released result's record goes with its incident; a blocked one stays blocked.
                db.execute("DELETE FROM hidden_results WHERE state = 'released' AND at_ms < ?1", args![incidents_before])?;
                Ok(Purged { activity, incidents })
            })
        })
        .await
}
