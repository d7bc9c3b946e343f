//! Supervised sessions: pupils search only while a teacher has opened search for their class
//! ("Oak, for 45 minutes"); outside an open window their devices see "Search is resting".
//! A school-wide setting (`supervised_sessions = false`) turns the requirement off.
//!
//! Windows live in SQLite (a restart keeps them); the open/closed answer per class is cached
//! briefly and dropped at once when a teacher opens or closes a window.

use std::sync::Arc;

use crate::args;
use crate::cache::LoadingCache;
use crate::changes::Change;
use crate::store::transaction;

use crate::clock::Clock;
use crate::schools::{SchoolId, Scope};
use crate::store::{Store, StoreError};

/// The longest window a teacher can open at once (a school day).
pub const MAX_MINUTES: i64 = 8 * 60;

/// An open window, for the staff dashboard.
#[derive(Debug, Clone)]
pub struct OpenWindow {
    pub school: SchoolId,
    pub class: String,
    pub ends_ms: i64,
    pub opened_by: String,
}

pub struct Supervision {
    store: Store,
    clock: Arc<dyn Clock>,
    required: bool,
    /// (school, class) → when its latest open window ends (None: no window).
    ends: LoadingCache<(SchoolId, String), Option<i64>>,
}

impl Supervision {
    pub fn new(store: Store, clock: Arc<dyn Clock>, required: bool) -> Supervision {
        Supervision {
            store,
            clock,
            required,
            ends: LoadingCache::new(moka::sync::Cache::builder().max_capacity(1_000).time_to_live(std::time::Duration::from_secs(60)).build()),
        }
    }

    pub fn required(&self) -> bool {
        self.required
    }

    /// May pupils of `class` search now? Always yes when supervision is not required.
    pub async fn is_open(&self, school: SchoolId, class: &str) -> bool {
        !self.required || self.ends_at(school, class).await.is_some()
    }

    /// When the open window of `class` ends (None: no window open now, or supervision is
    /// not required — then search does not end), for the pupils' "search rests soon".
    pub async fn ends_at(&self, school: SchoolId, class: &str) -> Option<i64> {
        if !self.required {
            return None;
        }
        // The hot path (every pupil page): one lookup (its key owns a copy of the class name:
        // a tuple key cannot be borrowed as (school, &str)).
        // Class names match whatever their case: "oak" opened on the dashboard is class Oak.
        let ends = match self.ends.get(&(school, class.to_lowercase())) {
            Some(ends) => ends,
            None => self.load_end(school, class).await,
        };
        // The end is compared with the clock on every request, not when cached.
        ends.filter(|end| *end > self.clock.now_ms())
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    async fn load_end(&self, school: SchoolId, class: &str) -> Option<i64> {
        let store = self.store.clone();
        let key = class.to_string();
        self.ends
            .get_with((school, class.to_lowercase()), async move {
                store
                    .call(move |db| {
                        db.query_one(
                            "SELECT MAX(ends_ms) FROM class_windows WHERE school_id = ?1 AND lower(class) = lower(?2) AND closed_ms IS NULL",
                            args![school, key],
                        )?
                        .get::<Option<i64>>(0)
                    })
                    .await
                    .ok()
                    .flatten()
            })
            .await
    }

    /// Is any class's window open at `school` (for browsers that are not enrolled, when
    /// enrolment is off)?
    pub async fn any_open(&self, school: SchoolId) -> bool {
        !self.required || !self.open_windows(Some(school)).await.unwrap_or_default().is_empty()
    }

    /// Opens search for `class` for `minutes` from now; returns when it ends.
    pub async fn open(&self, school: SchoolId, class: String, minutes: i64, staff_id: i64) -> Result<i64, StoreError> {
        let now = self.clock.now_ms();
        let ends = now + minutes.clamp(1, MAX_MINUTES) * 60_000;
        let key = class.clone();
        self.store
            .call(move |db| {
                // A new window replaces whatever was open for the class.
                transaction(db, |db| {
                    db.execute(
                        "UPDATE class_windows SET closed_ms = ?2 WHERE school_id = ?3 AND lower(class) = lower(?1) AND closed_ms IS NULL",
                        args![&class, now, school],
                    )?;
                    db.execute(
                        "INSERT INTO class_windows (class, opened_by, opened_ms, ends_ms, school_id) VALUES (?1, ?2, ?3, ?4, ?5)",
                        args![&class, staff_id, now, ends, school],
                    )?;
                    db.notify(&Change::Class { school, class: class.clone() }.payload())
                })
            })
            .await?;
        self.ends.invalidate(&(school, key.to_lowercase()));
        Ok(ends)
    }

    /// Gives the open window of `class` `minutes` more (never past `MAX_MINUTES` from now);
    /// returns its new end, or None when no window is open (it has ended meanwhile: open it).
    pub async fn extend(&self, school: SchoolId, class: String, minutes: i64) -> Result<Option<i64>, StoreError> {
        let now = self.clock.now_ms();
        let key = class.clone();
        let ends = self
            .store
            .call(move |db| {
                transaction(db, |db| {
                    let Some(row) = db.query_opt(
                        "SELECT id, ends_ms FROM class_windows WHERE school_id = ?1 AND lower(class) = lower(?2) AND closed_ms IS NULL AND ends_ms > ?3 ORDER BY ends_ms DESC LIMIT 1",
                        args![school, &class, now],
                    )?
                    else {
                        return Ok(None);
                    };
                    let (id, ends): (i64, i64) = (row.get(0)?, row.get(1)?);
                    let ends = (ends + minutes * 60_000).min(now + MAX_MINUTES * 60_000);
                    db.execute("UPDATE class_windows SET ends_ms = ?2 WHERE id = ?1", args![id, ends])?;
                    db.notify(&Change::Class { school, class: class.clone() }.payload())?;
                    Ok(Some(ends))
                })
            })
            .await?;
        self.ends.invalidate(&(school, key.to_lowercase()));
        Ok(ends)
    }

    /// Closes search for `class` at once.
    pub async fn close(&self, school: SchoolId, class: String) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let key = class.clone();
        self.store
            .call(move |db| {
                db.execute(
                    "UPDATE class_windows SET closed_ms = ?2 WHERE school_id = ?3 AND lower(class) = lower(?1) AND closed_ms IS NULL",
                    args![&class, now, school],
                )?;
                db.notify(&Change::Class { school, class }.payload())
            })
            .await?;
        self.ends.invalidate(&(school, key.to_lowercase()));
        Ok(())
    }

    /// Drops the cached window of `class` (another instance opened or closed it).
    pub async fn forget(&self, school: SchoolId, class: String) {
        self.ends.invalidate(&(school, class.to_lowercase()));
    }

    pub fn forget_all(&self) {
        self.ends.invalidate_all();
    }

    /// Windows open now that `scope` may see, soonest ending first.
    pub async fn open_windows(&self, scope: Scope) -> Result<Vec<OpenWindow>, StoreError> {
        let now = self.clock.now_ms();
        self.store
            .call(move |db| {
                db.query(
                    "SELECT w.class, w.ends_ms, s.name, w.school_id FROM class_windows w JOIN staff s ON s.id = w.opened_by
                     WHERE w.closed_ms IS NULL AND w.ends_ms > ?1 AND (CAST(?2 AS BIGINT) IS NULL OR w.school_id = ?2) ORDER BY w.ends_ms",
                    args![now, scope],
                )?
                .iter()
                .map(|r| Ok(OpenWindow { class: r.get(0)?, ends_ms: r.get(1)?, opened_by: r.get(2)?, school: r.get(3)? }))
                .collect()
            })
            .await
    }
}
