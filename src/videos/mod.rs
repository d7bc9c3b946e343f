//! Approved videos: one YouTube video a teacher chose and watched, on Today's board for the
//! rest of the school day, shown to pupils in the privacy-enhanced player with nothing around
//! it (ViewPure's way, inside kidsearch).
//!
//! Invariants:
//! - a video's id only comes from `link::parse_link` or a stored row read back through
//!   `VideoId::parse`, so it is never text a teacher typed spliced into a page or URL;
//! - its title and channel passed the term lists when the teacher approved it, and the
//!   approval stores exactly the details the teacher was shown (`VideoPreview`, signed);
//! - an approval is committed before the teacher is told, lasts until midnight in the school's
//!   zone (checked at every use), and a withdrawal or approval reaches every instance at once
//!   (`Change::Videos`).

pub mod link;
pub mod oembed;

/// The picture source approved videos' thumbnails are signed under (`images::Images::add_source`),
/// and the one host they come from.
pub const THUMBNAILS: &str = "video-thumbnails";
pub const THUMBNAIL_HOSTS: &[&str] = &["i.ytimg.com"];

use std::sync::Arc;

use ring::hmac;
use serde::{Deserialize, Serialize};

use crate::approvals::school_day::school_day;
use crate::args;
use crate::cache::LoadingCache;
use crate::changes::Change;
use crate::clock::Clock;
use crate::schools::{SchoolId, Scope};
use crate::store::{transaction, DbError, Row, Store, StoreError};
use link::VideoId;

/// An approved video as pupils and staff get it.
#[derive(Debug, Clone)]
pub struct ApprovedVideo {
    pub id: i64,
    pub school: SchoolId,
    pub video: VideoId,
    pub title: String,
    pub channel: String,
    pub class: Option<String>,
    pub approved_by: String,
    pub school_day: String,
    pub expires_ms: i64,
    pub withdrawn: bool,
}

impl ApprovedVideo {
    /// Is it for pupils of `class` (None: a browser that is not enrolled)?
    pub fn is_for(&self, class: Option<&str>) -> bool {
        crate::approvals::for_class(self.class.as_deref(), class)
    }

    fn live_at(&self, now_ms: i64) -> bool {
        !self.withdrawn && self.expires_ms > now_ms
    }
}

/// What a teacher approves: the details she was shown.
pub struct NewVideo {
    pub school: SchoolId,
    pub video: VideoId,
    pub title: String,
    pub channel: String,
    pub class: Option<String>,
    pub approved_by: i64,
}

/// The details a teacher was shown for a video, carried to "Approve for today" in the form,
/// signed for her account and session like a search's pre-run (`approvals::preview`): approving
/// stores exactly these, and YouTube is not asked again.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VideoPreview {
    pub account: i64,
    pub generation: i64,
    pub school: SchoolId,
    pub video: String,
    pub title: String,
    pub channel: String,
    pub made_ms: i64,
}

fn preview_signature(key: &[u8], json: &str) -> String {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), format!("video-preview:{json}").as_bytes());
    crate::secrets::hex(tag.as_ref())
}

impl VideoPreview {
    pub fn sign(&self, key: &[u8]) -> (String, String) {
        let json = serde_json::to_string(self).unwrap_or_default();
        let sig = preview_signature(key, &json);
        (json, sig)
    }

    /// The preview, if it was signed here for `account` at `generation` within the pre-run's
    /// validity; None otherwise (altered, someone else's, or old).
    pub fn verify(key: &[u8], json: &str, sig: &str, account: i64, generation: i64, now_ms: i64) -> Option<VideoPreview> {
        if !crate::secrets::constant_time_eq(&preview_signature(key, json), sig) {
            return None;
        }
        let p: VideoPreview = serde_json::from_str(json).ok()?;
        let fresh = now_ms - p.made_ms <= crate::approvals::preview::VALID_MS && p.made_ms <= now_ms + 60_000;
        (p.account == account && p.generation == generation && fresh).then_some(p)
    }
}

const COLUMNS: &str = "v.id, v.school_id, v.video_id, v.title, v.channel, v.class, s.name, v.school_day, v.expires_ms, v.withdrawn_ms";

fn row_to_video(r: &Row) -> Result<Option<ApprovedVideo>, DbError> {
    let stored: String = r.get(2)?;
    // A row whose id is not a video id (written by hand?) is skipped, never shown.
    let Some(video) = VideoId::parse(&stored) else { return Ok(None) };
    Ok(Some(ApprovedVideo {
        id: r.get(0)?,
        school: r.get(1)?,
        video,
        title: r.get(3)?,
        channel: r.get(4)?,
        class: r.get(5)?,
        approved_by: r.get(6)?,
        school_day: r.get(7)?,
        expires_ms: r.get(8)?,
        withdrawn: r.get::<Option<i64>>(9)?.is_some(),
    }))
}

fn rows_to_videos(rows: Vec<Row>) -> Result<Vec<ApprovedVideo>, DbError> {
    Ok(rows.iter().map(row_to_video).collect::<Result<Vec<_>, _>>()?.into_iter().flatten().collect())
}

pub struct Videos {
    store: Store,
    clock: Arc<dyn Clock>,
    tz: jiff::tz::TimeZone,
    /// Each school's videos not withdrawn and not ended when read, in front of the database
    /// (the home page reads it on every visit).
    live: LoadingCache<SchoolId, Arc<Vec<Arc<ApprovedVideo>>>>,
}

impl Videos {
    pub fn new(store: Store, clock: Arc<dyn Clock>, time_zone: &str) -> Result<Videos, String> {
        let tz = jiff::tz::TimeZone::get(time_zone).map_err(|e| format!("time_zone {time_zone:?}: {e}"))?;
        let live = LoadingCache::new(moka::sync::Cache::builder().max_capacity(1_000).time_to_live(std::time::Duration::from_secs(300)).build());
        Ok(Videos { store, clock, tz, live })
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    async fn live_at_school(&self, school: SchoolId) -> Arc<Vec<Arc<ApprovedVideo>>> {
        if let Some(found) = self.live.get(&school) {
            return found;
        }
        let (store, now) = (self.store.clone(), self.clock.now_ms());
        self.live
            .get_with(school, async move {
                let sql = format!(
                    "SELECT {COLUMNS} FROM approved_videos v JOIN staff s ON s.id = v.approved_by
                     WHERE v.school_id = ?1 AND v.withdrawn_ms IS NULL AND v.expires_ms > ?2 ORDER BY v.id DESC LIMIT 100"
                );
                let rows = store.call(move |db| rows_to_videos(db.query(&sql, args![school, now])?)).await;
                Arc::new(
                    rows.unwrap_or_else(|e| {
                        tracing::error!(error = %e, "could not read today's videos");
                        Vec::new()
                    })
                    .into_iter()
                    .map(Arc::new)
                    .collect(),
                )
            })
            .await
    }

    /// Today's videos for pupils of `class` at `school`, newest first, each video once.
    pub async fn board(&self, school: SchoolId, class: Option<&str>) -> Vec<Arc<ApprovedVideo>> {
        let now = self.clock.now_ms();
        let mut seen = std::collections::HashSet::new();
        // Expiry is checked against the clock at every use, not when cached.
        self.live_at_school(school).await.iter().filter(|v| v.live_at(now) && v.is_for(class) && seen.insert(v.video.clone())).cloned().collect()
    }

    /// Approved video `id`, if it is live now for pupils of `class` at `school`.
    pub async fn live_for(&self, school: SchoolId, class: Option<&str>, id: i64) -> Option<Arc<ApprovedVideo>> {
        let now = self.clock.now_ms();
        self.live_at_school(school).await.iter().find(|v| v.id == id && v.live_at(now) && v.is_for(class)).cloned()
    }

    /// Stores an approval for today; pupils see it on their next visit.
    pub async fn approve(&self, new: NewVideo) -> Result<i64, StoreError> {
        let now = self.clock.now_ms();
        let (day, expires) = school_day(now, &self.tz);
        let school = new.school;
        let id = self
            .store
            .call(move |db| {
                transaction(db, |db| {
                    let id = db
                        .query_one(
                            "INSERT INTO approved_videos (school_id, video_id, title, channel, class, approved_by, school_day, expires_ms, created_ms)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
                            args![new.school, new.video.as_str(), new.title, new.channel, new.class, new.approved_by, day, expires, now],
                        )?
                        .get(0)?;
                    db.notify(&Change::Videos { school }.payload())?;
                    Ok(id)
                })
            })
            .await?;
        self.live.invalidate(&school);
        Ok(id)
    }

    /// Withdraws an approved video `scope` may see; pupils lose it on their next request.
    /// False if there was no live one.
    pub async fn withdraw(&self, id: i64, scope: Scope) -> Result<bool, StoreError> {
        let now = self.clock.now_ms();
        let school: Option<SchoolId> = self
            .store
            .call(move |db| {
                transaction(db, |db| {
                    let school: Option<SchoolId> = db
                        .query_opt(
                            "UPDATE approved_videos SET withdrawn_ms = ?2 WHERE id = ?1 AND withdrawn_ms IS NULL AND (CAST(?3 AS BIGINT) IS NULL OR school_id = ?3)
                             RETURNING school_id",
                            args![id, now, scope],
                        )?
                        .map(|r| r.get(0))
                        .transpose()?;
                    if let Some(school) = school {
                        db.notify(&Change::Videos { school }.payload())?;
                    }
                    Ok(school)
                })
            })
            .await?;
        if let Some(school) = school {
            self.live.invalidate(&school);
        }
        Ok(school.is_some())
    }

    /// Approved videos `scope` may see from the last `days_back` days (0: today's), newest first.
    pub async fn list(&self, scope: Scope, days_back: i64) -> Result<Vec<ApprovedVideo>, StoreError> {
        let since = self.clock.now_ms() - days_back * 86_400_000;
        let sql = format!(
            "SELECT {COLUMNS} FROM approved_videos v JOIN staff s ON s.id = v.approved_by
             WHERE v.expires_ms > ?1 AND (CAST(?2 AS BIGINT) IS NULL OR v.school_id = ?2) ORDER BY v.id DESC LIMIT 200"
        );
        self.store.call(move |db| rows_to_videos(db.query(&sql, args![since, scope])?)).await
    }

    /// Another instance changed `school`'s videos.
    pub fn forget(&self, school: SchoolId) {
        self.live.invalidate(&school);
    }

    /// Notices may have been missed: forget every school's copy.
    pub fn forget_all(&self) {
        self.live.invalidate_all();
    }
}
