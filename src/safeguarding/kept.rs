//! Results kept hidden for good (a teacher or the DSL chose "keep it hidden" on a reported
//! result): the list the DSL reads, and releasing one back to pupils from it. Kept apart from
//! the incident a result was reported with, which may have passed its retention long before.

use crate::args;
use crate::changes::Change;
use crate::schools::{SchoolId, Scope};
use crate::store::StoreError;

use super::Safeguarding;

/// A result pupils of `school` never get, and who decided so.
#[derive(Debug, Clone)]
pub struct KeptHidden {
    pub school: SchoolId,
    pub url: String,
    pub title: Option<String>,
    pub decided_by: Option<String>,
    pub decided_ms: Option<i64>,
    /// The press it was reported with (gone once past its retention).
    pub incident: Option<i64>,
}

impl Safeguarding {
    /// The results kept hidden at the schools `scope` covers, the latest decided first.
    pub async fn kept_hidden(&self, scope: Scope) -> Result<Vec<KeptHidden>, StoreError> {
        self.store
            .call(move |db| {
                db.query(
                    "SELECT h.school_id, h.url, h.title, h.decided_by, h.decided_ms, i.id FROM hidden_results h LEFT JOIN incidents i ON i.id = h.incident_id
                     WHERE h.state = 'blocked' AND (CAST(?1 AS BIGINT) IS NULL OR h.school_id = ?1) ORDER BY h.at_ms DESC, h.url",
                    args![scope],
                )?
                .iter()
                .map(|r| {
                    Ok(KeptHidden { school: r.get(0)?, url: r.get(1)?, title: r.get(2)?, decided_by: r.get(3)?, decided_ms: r.get(4)?, incident: r.get(5)? })
                })
                .collect()
            })
            .await
    }

    /// Releases a result kept hidden at `school` (a lead's decision: it overrides anyone's),
    /// recording who did; false when it is not kept hidden there (already released).
    pub async fn release_kept(&self, school: SchoolId, url: String, by: String) -> Result<bool, StoreError> {
        let now = self.clock.now_ms();
        let u = url.clone();
        let changed = self
            .store
            .call(move |db| {
                let changed = db.execute(
                    "UPDATE hidden_results SET state = 'released', decided_by = ?3, decided_ms = ?4, decided_authority = 'lead' WHERE school_id = ?1 AND url = ?2 AND state = 'blocked'",
                    args![school, &u, by, now],
                )?;
                if changed > 0 {
                    db.notify(&Change::Hidden { school, url: u, hidden: false }.payload())?;
                }
                Ok(changed)
            })
            .await?;
        if changed > 0 {
            self.hidden.release(school, &url);
        }
        Ok(changed > 0)
    }
}
