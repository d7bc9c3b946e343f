//! Teacher-approved searches: a frozen copy of the pages a teacher checked, served to pupils
//! all day with no upstream request, until midnight in the school's time zone or until the
//! teacher withdraws it.
//!
//! Invariants:
//! - an approval is committed to SQLite before the teacher's page says it is approved, so a
//!   crash or kill -9 never loses one;
//! - pupils get only the frozen pages, with the hidden results removed before freezing, and
//!   never past its page limit (enforced here, not in the page);
//! - a withdrawal or a new approval invalidates the in-memory copy at once.

pub mod preview;
pub mod school_day;

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use crate::args;
use crate::cache::LoadingCache;
use crate::changes::Change;
use crate::store::transaction;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::schools::{SchoolId, Scope};
use crate::store::{Db, DbError, Row, Store, StoreError};

/// Picture searches are approved apart from web searches of the same words: their query key is
/// the words' approval key after this prefix. Its separator is a control character, which
/// `Query` never keeps, so no typed search has a key that starts with it.
pub const PICTURES_KEY_PREFIX: &str = "pictures\u{1f}";

/// The key a picture search of `query` is approved under.
pub fn pictures_key(query: &crate::query::Query) -> String {
    format!("{PICTURES_KEY_PREFIX}{}", query.approval_key())
}

/// One result as frozen in an approval.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FrozenResult {
    pub title: String,
    pub url: String,
    pub snippet: String,
    pub site: String,
    pub engines: Vec<String>,
    /// The picture's signed path; its JPEG is frozen too (`images::stored`). Empty: none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub picture: String,
}

/// The answer card a teacher saw at the top of page 1 (`search::card`), as frozen in an
/// approval: pupils get exactly this text and picture, never a fresh summary.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FrozenCard {
    pub title: String,
    pub text: String,
    /// The article's address: the card's `/go` link is signed from it for each pupil's school,
    /// and hiding it (a tick on the pre-run, a tell-an-adult press) names it.
    pub url: String,
    /// The picture's signed path; its JPEG is frozen with the results' (`images::stored`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub picture: String,
}

/// An approval as pupils get it.
#[derive(Debug)]
pub struct Approval {
    pub id: i64,
    pub school: SchoolId,
    pub query_key: String,
    pub query: String,
    pub picture: Option<String>,
    pub class: Option<String>,
    pub max_pages: u32,
    pub engines: Vec<String>,
    pub hidden: Vec<String>,
    pub approved_by: String,
    pub school_day: String,
    pub expires_ms: i64,
    pub withdrawn: bool,
    pub pages: Vec<Vec<FrozenResult>>,
    /// Page 1's answer card as the teacher saw it, unless there was none or it was hidden.
    pub card: Option<FrozenCard>,
}

/// What a teacher approves.
pub struct NewApproval {
    pub school: SchoolId,
    pub query_key: String,
    pub query: String,
    pub picture: Option<String>,
    pub class: Option<String>,
    pub max_pages: u32,
    pub engines: Vec<String>,
    pub hidden: Vec<String>,
    pub approved_by: i64,
    pub pages: Vec<Vec<FrozenResult>>,
    pub card: Option<FrozenCard>,
}

pub struct Approvals {
    store: Store,
    clock: Arc<dyn Clock>,
    tz: jiff::tz::TimeZone,
    /// The approvals not withdrawn per school and query key (newest first: one per class it
    /// was approved for, or for the whole school), in front of the database.
    live: LoadingCache<(SchoolId, String), Arc<Vec<Arc<Approval>>>>,
    /// Every (school, query key) that has had a live approval since start-up. A key outside it
    /// has none, so a pupil's new search costs no database round trip; a key inside it is
    /// looked up (through `live`) as before. It only grows: filled from the database at
    /// start-up and on a resync, added to before each approval is written here and when
    /// another instance announces one. Tens of keys a school day.
    approved_keys: RwLock<HashSet<(SchoolId, String)>>,
}

/// (school, query key) of every approval live at `now`.
fn approved_keys_at(db: &mut dyn Db, now: i64) -> Result<Vec<(SchoolId, String)>, DbError> {
    db.query("SELECT school_id, query_key FROM approvals WHERE withdrawn_ms IS NULL AND expires_ms > ?1", args![now])?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect()
}

const COLUMNS: &str =
    "a.id, a.query_key, a.query, a.picture, a.class, a.max_pages, a.engines, a.hidden, s.name, a.school_day, a.expires_ms, a.withdrawn_ms, a.frozen, a.school_id, a.card";

fn row_to_approval(r: &Row) -> Result<Approval, DbError> {
    let engines: String = r.get(6)?;
    let hidden: String = r.get(7)?;
    let frozen: String = r.get(12)?;
    Ok(Approval {
        id: r.get(0)?,
        school: r.get(13)?,
        query_key: r.get(1)?,
        query: r.get(2)?,
        picture: r.get(3)?,
        class: r.get(4)?,
        max_pages: r.get(5)?,
        engines: engines.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        hidden: serde_json::from_str(&hidden).unwrap_or_default(),
        approved_by: r.get(8)?,
        school_day: r.get(9)?,
        expires_ms: r.get(10)?,
        withdrawn: r.get::<Option<i64>>(11)?.is_some(),
        pages: serde_json::from_str(&frozen).unwrap_or_default(),
        // NULL: no card (or an approval from before cards were frozen).
        card: r.get::<Option<String>>(14)?.and_then(|json| serde_json::from_str(&json).ok()),
    })
}

impl Approvals {
    pub fn new(store: Store, clock: Arc<dyn Clock>, time_zone: &str) -> Result<Approvals, String> {
        let tz = jiff::tz::TimeZone::get(time_zone).map_err(|e| format!("time_zone {time_zone:?}: {e}"))?;
        let live = LoadingCache::new(moka::sync::Cache::builder().max_capacity(10_000).time_to_live(std::time::Duration::from_secs(300)).build());
        let now = clock.now_ms();
        let keys = store.call_blocking(move |db| approved_keys_at(db, now)).map_err(|e| format!("reading today's approvals: {e}"))?;
        Ok(Approvals { store, clock, tz, live, approved_keys: RwLock::new(keys.into_iter().collect()) })
    }

    fn may_be_approved(&self, key: &(SchoolId, String)) -> bool {
        self.approved_keys.read().unwrap_or_else(|e| e.into_inner()).contains(key)
    }

    fn add_approved_keys(&self, keys: impl IntoIterator<Item = (SchoolId, String)>) {
        self.approved_keys.write().unwrap_or_else(|e| e.into_inner()).extend(keys);
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The approval pupils of `class` at `school` get for this query key right now, if any:
    /// the newest live one approved for their class (matched ignoring case) or for the whole
    /// school. A browser that is not enrolled (`class` None) gets only whole-school ones.
    pub async fn live_for(&self, school: SchoolId, class: Option<&str>, query_key: &str) -> Option<Arc<Approval>> {
        let now = self.clock.now_ms();
        let key = (school, query_key.to_string());
        if !self.may_be_approved(&key) {
            return None;
        }
        let found = match self.live.get(&key) {
            Some(found) => found,
            None => self.load_live(key).await,
        };
        // Expiry is checked against the clock at every use, not when cached.
        found.iter().find(|a| !a.withdrawn && a.expires_ms > now && a.is_for(class)).cloned()
    }

    async fn load_live(&self, key: (SchoolId, String)) -> Arc<Vec<Arc<Approval>>> {
        let store = self.store.clone();
        let (school, query_key) = key.clone();
        self.live
            .get_with(key, async move {
                let sql = format!(
                    "SELECT {COLUMNS} FROM approvals a JOIN staff s ON s.id = a.approved_by
                     WHERE a.school_id = ?1 AND a.query_key = ?2 AND a.withdrawn_ms IS NULL ORDER BY a.expires_ms DESC, a.id DESC LIMIT 50"
                );
                let rows = store.call(move |db| db.query(&sql, args![school, query_key])?.iter().map(row_to_approval).collect::<Result<Vec<_>, _>>()).await;
                Arc::new(rows.unwrap_or_default().into_iter().map(Arc::new).collect())
            })
            .await
    }

    /// Stores an approval for today and makes pupils see it at once.
    pub async fn approve(&self, new: NewApproval) -> Result<i64, StoreError> {
        let now = self.clock.now_ms();
        let (day, expires) = school_day::school_day(now, &self.tz);
        let frozen = serde_json::to_string(&new.pages).unwrap_or_else(|_| "[]".into());
        let hidden = serde_json::to_string(&new.hidden).unwrap_or_else(|_| "[]".into());
        let card = new.card.as_ref().and_then(|c| serde_json::to_string(c).ok());
        let key = (new.school, new.query_key.clone());
        // Before the write: once the row is committed, pupils' lookups must reach it.
        self.add_approved_keys([key.clone()]);
        let id = self
            .store
            .call(move |db| {
                transaction(db, |db| {
                    let id = db
                        .query_one(
                            "INSERT INTO approvals (query_key, query, picture, class, max_pages, engines, hidden, approved_by, school_day, expires_ms, created_ms, frozen, school_id, card)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) RETURNING id",
                            args![&new.query_key, new.query, new.picture, new.class, new.max_pages, new.engines.join(","), hidden, new.approved_by, day, expires, now, frozen, new.school, card],
                        )?
                        .get(0)?;
                    db.notify(&Change::Approval { school: new.school, key: new.query_key }.payload())?;
                    Ok(id)
                })
            })
            .await?;
        self.live.invalidate(&key);
        Ok(id)
    }

    /// Withdraws an approval `scope` may see; pupils lose it on their next request. False if
    /// there was none.
    pub async fn withdraw(&self, id: i64, scope: Scope) -> Result<bool, StoreError> {
        let now = self.clock.now_ms();
        let key: Option<(SchoolId, String)> = self
            .store
            .call(move |db| {
                transaction(db, |db| {
                    let key: Option<(SchoolId, String)> = db
                        .query_opt(
                            "UPDATE approvals SET withdrawn_ms = ?2 WHERE id = ?1 AND withdrawn_ms IS NULL AND (CAST(?3 AS BIGINT) IS NULL OR school_id = ?3)
                             RETURNING school_id, query_key",
                            args![id, now, scope],
                        )?
                        .map(|r| Ok::<_, DbError>((r.get(0)?, r.get(1)?)))
                        .transpose()?;
                    if let Some((school, k)) = &key {
                        db.notify(&Change::Approval { school: *school, key: k.clone() }.payload())?;
                    }
                    Ok(key)
                })
            })
            .await?;
        if let Some(k) = &key {
            self.live.invalidate(k);
        }
        Ok(key.is_some())
    }

    /// Drops the cached copy for `query_key` at `school` (another instance changed it: it may
    /// be a new approval).
    pub async fn forget(&self, school: SchoolId, query_key: String) {
        let key = (school, query_key);
        self.add_approved_keys([key.clone()]);
        self.live.invalidate(&key);
    }

    /// Drops every cached copy and re-reads which keys have approvals (another instance's
    /// notices may have been missed).
    pub async fn forget_all(&self) -> Result<(), StoreError> {
        self.live.invalidate_all();
        let now = self.clock.now_ms();
        let keys = self.store.call(move |db| approved_keys_at(db, now)).await?;
        self.add_approved_keys(keys);
        Ok(())
    }

    /// Approvals `scope` may see, live now, and (with `days_back` > 0) those of the last
    /// days, newest first.
    pub async fn list(&self, scope: Scope, days_back: i64) -> Result<Vec<Approval>, StoreError> {
        let since = self.clock.now_ms() - days_back * 86_400_000;
        let sql = format!(
            "SELECT {COLUMNS} FROM approvals a JOIN staff s ON s.id = a.approved_by
             WHERE a.expires_ms > ?1 AND (CAST(?2 AS BIGINT) IS NULL OR a.school_id = ?2) ORDER BY a.id DESC LIMIT 200"
        );
        self.store.call(move |db| db.query(&sql, args![since, scope])?.iter().map(row_to_approval).collect()).await
    }

    /// Approval `id`, if `scope` may see it.
    pub async fn by_id(&self, id: i64, scope: Scope) -> Result<Option<Approval>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM approvals a JOIN staff s ON s.id = a.approved_by WHERE a.id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR a.school_id = ?2)"
        );
        self.store.call(move |db| db.query_opt(&sql, args![id, scope])?.as_ref().map(row_to_approval).transpose()).await
    }

    /// Live approvals `scope` may see (staff's list of today's searches).
    pub async fn today(&self, scope: Scope) -> Vec<Approval> {
        let now = self.clock.now_ms();
        self.list(scope, 0).await.unwrap_or_default().into_iter().filter(|a| !a.withdrawn && a.expires_ms > now).collect()
    }

    /// The pupils' "Today's searches" board for `class` at `school`: the live approvals for
    /// their class or the whole school, each search once.
    pub async fn board(&self, school: SchoolId, class: Option<&str>) -> Vec<Approval> {
        let mut today = self.today(Some(school)).await;
        today.retain(|a| a.is_for(class));
        // A search approved twice (renewed, or for the class and the school) shows once.
        let mut seen = HashSet::new();
        today.retain(|a| seen.insert(a.query_key.clone()));
        today
    }
}

impl Approval {
    /// Is this an approved picture search (shown on the picture grid)?
    pub fn is_pictures(&self) -> bool {
        self.query_key.starts_with(PICTURES_KEY_PREFIX)
    }

    /// Is this approval for pupils of `class` (None: a browser that is not enrolled)?
    pub fn is_for(&self, class: Option<&str>) -> bool {
        for_class(self.class.as_deref(), class)
    }
}

/// Is something approved for `approved_for` (None: the whole school) shown to pupils of
/// `class` (None: a browser that is not enrolled, in no class)? Classes match ignoring case.
pub fn for_class(approved_for: Option<&str>, class: Option<&str>) -> bool {
    match (approved_for, class) {
        (None, _) => true,
        (Some(mine), Some(theirs)) => mine.trim().to_lowercase() == theirs.trim().to_lowercase(),
        (Some(_), None) => false,
    }
}
