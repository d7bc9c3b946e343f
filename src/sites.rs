//! The school's own sites: a short list an admin keeps (GoBubble, Purple Mash, a phonics
//! site…) that pupils open from big picture tiles on the home page. A tile is a signed `/go`
//! link made when the page is drawn, so every open is checked against the block lists and the
//! walled garden at click time and recorded like any click-through.
//!
//! Invariant: a stored address is an absolute http(s) URL with a host and no login part
//! (`SiteForm::check`); names and pictures are bounded plain text (maud escapes them again).

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use url::Url;

use crate::args;
use crate::cache::LoadingCache;
use crate::changes::Change;
use crate::clock::Clock;
use crate::schools::{SchoolId, Scope};
use crate::store::{DbError, Row, Store, StoreError};

/// A school keeps at most this many sites: the tiles must fit one iPad screen.
pub const MAX_SITES: usize = 12;
const MAX_NAME_CHARS: usize = 40;
const MAX_PICTURE_CHARS: usize = 8;

#[derive(Debug, Clone)]
pub struct Site {
    pub id: i64,
    pub school: SchoolId,
    pub name: String,
    pub url: String,
    pub picture: String,
    pub class: Option<String>,
    /// An uploaded picture is kept for the tile (`Sites::photo`), shown instead of `picture`.
    pub photo: bool,
}

impl Site {
    pub fn is_for(&self, class: Option<&str>) -> bool {
        crate::approvals::for_class(self.class.as_deref(), class)
    }
}

/// An admin's new site, as typed.
pub struct SiteForm<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub picture: &'a str,
    pub class: Option<&'a str>,
    /// An uploaded picture file's bytes (empty: none chosen).
    pub photo: &'a [u8],
}

/// A site that may be stored.
pub struct NewSite {
    pub name: String,
    pub url: String,
    pub picture: String,
    pub class: Option<String>,
    /// The uploaded picture, re-encoded: a small baseline JPEG kidsearch made (`images::encode`).
    pub photo: Option<Vec<u8>>,
}

/// An uploaded picture's largest size: a phone photo, not a video.
pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;

impl SiteForm<'_> {
    /// The site to store, or what to fix (in words for the admin).
    pub fn check(&self) -> Result<NewSite, String> {
        let tidy = crate::engines::text::tidy;
        let name = tidy(self.name, MAX_NAME_CHARS + 1);
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
            return Err(format!("Give the site a name of 1 to {MAX_NAME_CHARS} characters, as pupils will see it (\"GoBubble\")."));
        }
        let given = self.url.trim();
        let url = Url::parse(given).map_err(|_| format!("{given:?} is not a web address: copy it from the browser's address bar, starting with https://"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err("The address must start with https:// (or http://) and name a site.".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("Leave the login out of the address: pupils sign in on the site itself.".into());
        }
        let picture = tidy(self.picture, MAX_PICTURE_CHARS + 1);
        if picture.chars().count() > MAX_PICTURE_CHARS || (picture.is_empty() && self.photo.is_empty()) {
            return Err("Choose a picture for the tile: one emoji (🫧, 🎨, 🔤) or a short word, or a picture file.".into());
        }
        // The file's own bytes decide what it is (JPEG, PNG, GIF or WebP, within the decoder's
        // limits); only pixels kidsearch re-encoded are kept and shown.
        let photo = match self.photo {
            [] => None,
            bytes if bytes.len() > MAX_PHOTO_BYTES => {
                return Err(format!("That picture file is over {} MB: choose a smaller one.", MAX_PHOTO_BYTES / (1024 * 1024)))
            }
            bytes => Some(
                crate::images::encode::reencode(bytes)
                    .map_err(|e| format!("That picture file cannot be used ({e}): choose a JPEG, PNG, GIF or WebP picture."))?,
            ),
        };
        let class = self.class.map(|c| tidy(c, 40)).filter(|c| !c.is_empty());
        Ok(NewSite { name, url: url.to_string(), picture, class, photo })
    }
}

fn row_to_site(r: &Row) -> Result<Site, DbError> {
    Ok(Site { id: r.get(0)?, school: r.get(1)?, name: r.get(2)?, url: r.get(3)?, picture: r.get(4)?, class: r.get(5)?, photo: r.get(6)? })
}

const COLUMNS: &str =
    "id, school_id, name, url, picture, class, CASE WHEN EXISTS (SELECT 1 FROM site_pictures p WHERE p.site_id = school_sites.id) THEN 1 ELSE 0 END";

pub struct Sites {
    store: Store,
    clock: Arc<dyn Clock>,
    /// Each school's sites, in front of the database (the home page reads them on every visit).
    by_school: LoadingCache<SchoolId, Arc<Vec<Site>>>,
}

impl Sites {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Sites {
        let by_school = LoadingCache::new(moka::sync::Cache::builder().max_capacity(1_000).time_to_live(std::time::Duration::from_secs(600)).build());
        Sites { store, clock, by_school }
    }

    /// `school`'s sites, in the order they were added.
    pub async fn of_school(&self, school: SchoolId) -> Arc<Vec<Site>> {
        if let Some(found) = self.by_school.get(&school) {
            return found;
        }
        let store = self.store.clone();
        self.by_school
            .get_with(school, async move {
                let sql = format!("SELECT {COLUMNS} FROM school_sites WHERE school_id = ?1 ORDER BY id LIMIT 100");
                let rows = store.call(move |db| db.query(&sql, args![school])?.iter().map(row_to_site).collect::<Result<Vec<_>, _>>()).await;
                Arc::new(rows.unwrap_or_else(|e| {
                    tracing::error!(error = %e, "could not read the school's sites");
                    Vec::new()
                }))
            })
            .await
    }

    /// The tiles pupils of `class` at `school` get.
    pub async fn for_pupils(&self, school: SchoolId, class: Option<&str>) -> Vec<Site> {
        self.of_school(school).await.iter().filter(|s| s.is_for(class)).cloned().collect()
    }

    /// Adds a site (refused past `MAX_SITES`: Err(None)).
    pub async fn add(&self, school: SchoolId, site: NewSite, added_by: &str) -> Result<Option<i64>, StoreError> {
        let (now, added_by) = (self.clock.now_ms(), added_by.to_string());
        let id = self
            .store
            .call(move |db| {
                crate::store::transaction(db, |db| {
                    let count: i64 = db.query_one("SELECT COUNT(*) FROM school_sites WHERE school_id = ?1", args![school])?.get(0)?;
                    if count >= MAX_SITES as i64 {
                        return Ok(None);
                    }
                    let id: i64 = db
                        .query_one(
                            "INSERT INTO school_sites (school_id, name, url, picture, class, added_by, added_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                            args![school, site.name, site.url, site.picture, site.class, added_by, now],
                        )?
                        .get(0)?;
                    if let Some(jpeg) = &site.photo {
                        db.execute("INSERT INTO site_pictures (site_id, jpeg) VALUES (?1, ?2)", args![id, STANDARD.encode(jpeg)])?;
                    }
                    db.notify(&Change::Sites { school }.payload())?;
                    Ok(Some(id))
                })
            })
            .await?;
        self.by_school.invalidate(&school);
        Ok(id)
    }

    /// Removes site `id` if `scope` may see it.
    pub async fn remove(&self, id: i64, scope: Scope) -> Result<bool, StoreError> {
        let school: Option<SchoolId> = self
            .store
            .call(move |db| {
                crate::store::transaction(db, |db| {
                    let school: Option<SchoolId> = db
                        .query_opt(
                            "DELETE FROM school_sites WHERE id = ?1 AND (CAST(?2 AS BIGINT) IS NULL OR school_id = ?2) RETURNING school_id",
                            args![id, scope],
                        )?
                        .map(|r| r.get(0))
                        .transpose()?;
                    if let Some(school) = school {
                        db.execute("DELETE FROM site_pictures WHERE site_id = ?1", args![id])?;
                        db.notify(&Change::Sites { school }.payload())?;
                    }
                    Ok(school)
                })
            })
            .await?;
        if let Some(school) = school {
            self.by_school.invalidate(&school);
        }
        Ok(school.is_some())
    }

    /// Every site `scope` may see (the staff page), by school then order added.
    pub async fn list(&self, scope: Scope) -> Result<Vec<Site>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM school_sites WHERE (CAST(?1 AS BIGINT) IS NULL OR school_id = ?1) ORDER BY school_id, id LIMIT 500");
        self.store.call(move |db| db.query(&sql, args![scope])?.iter().map(row_to_site).collect()).await
    }

    /// Site `id`'s uploaded picture (a JPEG kidsearch made), if it has one.
    pub async fn photo(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        let b64: Option<String> =
            self.store.call(move |db| db.query_opt("SELECT jpeg FROM site_pictures WHERE site_id = ?1", args![id])?.map(|r| r.get(0)).transpose()).await?;
        Ok(b64.and_then(|b| STANDARD.decode(b).ok()))
    }

    pub fn forget(&self, school: SchoolId) {
        self.by_school.invalidate(&school);
    }

    pub fn forget_all(&self) {
        self.by_school.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form<'a>(name: &'a str, url: &'a str, picture: &'a str) -> SiteForm<'a> {
        SiteForm { name, url, picture, class: None, photo: &[] }
    }

    #[test]
    fn a_site_needs_a_name_a_web_address_and_a_picture() {
        let ok = form("GoBubble", "https://gobubble.school/login", "🫧").check().unwrap();
        assert_eq!((ok.name.as_str(), ok.url.as_str(), ok.picture.as_str()), ("GoBubble", "https://gobubble.school/login", "🫧"));
        for (bad, why) in [
            (form("", "https://gobubble.school", "🫧"), "name"),
            (form(&"x".repeat(41), "https://gobubble.school", "🫧"), "name"),
            (form("GoBubble", "gobubble.school", "🫧"), "web address"),
            (form("GoBubble", "javascript:alert(1)", "🫧"), "https://"),
            (form("GoBubble", "ftp://gobubble.school/", "🫧"), "https://"),
            (form("GoBubble", "https://kid:secret@gobubble.school/", "🫧"), "login"),
            (form("GoBubble", "https://gobubble.school", ""), "picture"),
            (form("GoBubble", "https://gobubble.school", "a very long word"), "picture"),
        ] {
            let got = bad.check().err().unwrap_or_default();
            assert!(got.contains(why), "{got}");
        }
    }
}
