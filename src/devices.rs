//! Enrolled pupil devices: devices, not children. A teacher makes a one-time enrolment link
//! for "Oak class — iPad 3"; opening it on the iPad sets a long-lived signed device cookie.
//! No pupil names, photos or accounts exist anywhere.
//!
//! Invariants:
//! - the cookie is `<id>.<HMAC(key, id:secret)>`: it cannot be forged or moved to another id,
//!   and revoking the device (or deleting its row) makes the cookie worthless;
//! - an enrolment link works once, within an hour;
//! - a device's "screen covered" state lives in SQLite, so a restart keeps the screen covered
//!   until an adult clears it (written with the press, `safeguarding::store_incident`); a press
//!   the disk refused covers the screen in memory until it is stored or cleared.

use std::sync::Arc;

use crate::args;
use crate::cache::LoadingCache;
use crate::changes::Change;
use ring::hmac;

use crate::clock::Clock;
use crate::schools::{SchoolId, Scope};
use crate::secrets;
use crate::store::{transaction, DbError, Row, Store, StoreError};

pub const COOKIE: &str = "kidsearch_device";
/// How long an enrolment link can be used.
pub const LINK_MINUTES: i64 = 60;
/// The device cookie's lifetime (the most browsers keep a cookie: 400 days).
pub const COOKIE_DAYS: i64 = 400;
const KEY_FILE: &str = "device-signing.key";

/// An enrolled device as the gateway sees it on each request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: i64,
    /// The school the device was enrolled for (by one of its staff).
    pub school: SchoolId,
    pub class: String,
    pub label: String,
    /// The incident whose "tell an adult" screen is still up on this device.
    pub covered_incident: Option<i64>,
    pub revoked: bool,
    secret: String,
    /// The cookie signature this device's cookie must carry, computed once when loaded.
    signature: String,
}

impl Device {
    /// "Oak class — iPad 3", as staff see it.
    pub fn name(&self) -> String {
        format!("{} — {}", self.class, self.label)
    }
}

/// A device row for the staff list.
#[derive(Debug, Clone)]
pub struct DeviceSummary {
    pub device: Device,
    pub enrolled_ms: i64,
    pub last_seen_ms: Option<i64>,
}

/// A class or label staff typed: trimmed, one line, 1..=40 characters.
pub fn clean_name(s: &str) -> Option<String> {
    let s: String = s.trim().chars().filter(|c| !c.is_control()).collect();
    (!s.is_empty() && s.chars().count() <= 40).then_some(s)
}

pub struct Devices {
    store: Store,
    clock: Arc<dyn Clock>,
    key: hmac::Key,
    by_id: LoadingCache<i64, Option<Arc<Device>>>,
    /// When each device last asked for a page (in memory: a write per page view would cost
    /// more than it is worth; the staff dashboard only asks "active in the last minutes?").
    seen: moka::sync::Cache<i64, (SchoolId, i64)>,
    /// Wrong adult codes per covered incident and per school, for 15 minutes.
    code_attempts: moka::sync::Cache<String, u32>,
    /// Screens covered by a press the disk has not taken yet: device → provisional incident.
    /// Read in front of the cached row on every lookup (a restart forgets them: the press is
    /// then only in the log).
    covered_in_memory: std::sync::RwLock<std::collections::HashMap<i64, i64>>,
    /// `covered_in_memory` is not empty (the hot path then skips its lock).
    any_covered_in_memory: std::sync::atomic::AtomicBool,
}

/// Why an enrolment link no longer works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpentLink {
    Used,
    Expired,
}

/// How a typed adult code went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Right,
    Wrong,
    /// Too many wrong codes from this device: only a dashboard can clear it for a while.
    TooMany,
}

/// How long a set-up code works (the link it stands for works for `LINK_MINUTES`): it is
/// short, so it is short-lived.
pub const SETUP_CODE_MINUTES: i64 = 15;
/// Letters and digits that cannot be misread for each other (no 0/O, 1/I/L).
const SETUP_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const SETUP_CODE_CHARS: usize = 6;
/// Wrong set-up codes allowed from one address, and from everywhere, in 15 minutes: with a
/// billion codes and a handful live, guessing one is hopeless at that pace.
const SETUP_CODE_ATTEMPTS: u32 = 5;
const ALL_SETUP_CODE_ATTEMPTS: u32 = 50;

/// How a typed set-up code went.
#[derive(Debug)]
pub enum SetupCode {
    /// The iPad is enrolled: the device and its cookie value.
    Enrolled(Device, String),
    Wrong,
    TooMany,
}

/// Wrong adult codes allowed per covered screen before it must be cleared from a dashboard.
const CODE_ATTEMPTS: u32 = 5;
/// Wrong adult codes allowed at one school (every screen, every address) in 15 minutes before
/// only dashboards clear screens there: a million codes cannot be tried five at a time by
/// pressing the button again and again.
const SCHOOL_CODE_ATTEMPTS: u32 = 30;

fn row_to_device(r: &Row) -> Result<Device, DbError> {
    Ok(Device {
        id: r.get(0)?,
        class: r.get(1)?,
        label: r.get(2)?,
        secret: r.get(3)?,
        covered_incident: r.get(4)?,
        revoked: r.get::<Option<i64>>(5)?.is_some(),
        school: r.get(6)?,
        signature: String::new(),
    })
}

fn signature(key: &hmac::Key, id: i64, secret: &str) -> String {
    let tag = hmac::sign(key, format!("{id}:{secret}").as_bytes());
    secrets::hex(&tag.as_ref()[..16])
}

const COLUMNS: &str = "id, class, label, secret, covered_incident, revoked_ms, school_id";

impl Devices {
    pub fn new(store: Store, clock: Arc<dyn Clock>, keys: &secrets::Keys) -> std::io::Result<Devices> {
        let bytes = keys.key(KEY_FILE, 32, "every iPad will need enrolling again")?;
        Ok(Devices {
            store,
            clock,
            key: hmac::Key::new(hmac::HMAC_SHA256, &bytes),
            by_id: LoadingCache::new(moka::sync::Cache::builder().max_capacity(20_000).time_to_live(std::time::Duration::from_secs(300)).build()),
            seen: moka::sync::Cache::builder().max_capacity(20_000).time_to_idle(std::time::Duration::from_secs(3600)).build(),
            code_attempts: moka::sync::Cache::builder().max_capacity(10_000).time_to_live(std::time::Duration::from_secs(15 * 60)).build(),
            covered_in_memory: std::sync::RwLock::default(),
            any_covered_in_memory: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The cookie value for a device.
    fn cookie_value(&self, device: &Device) -> String {
        format!("{}.{}", device.id, signature(&self.key, device.id, &device.secret))
    }

    /// A one-time enrolment link token for `class`/`label` of `school`, valid for an hour.
    pub async fn create_link(&self, school: SchoolId, class: String, label: String, staff_id: i64) -> Result<String, StoreError> {
        let token = secrets::random_hex(16).map_err(|e| StoreError::Query(e.to_string()))?;
        let expires = self.clock.now_ms() + LINK_MINUTES * 60_000;
        let t = token.clone();
        self.store
            .call(move |db| {
                db.execute(
                    "INSERT INTO enrol_links (token, class, label, created_by, expires_ms, school_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    args![t, class, label, staff_id, expires, school],
                )
            })
            .await?;
        Ok(token)
    }

    /// The short set-up code of an enrolment link ("K7M 4QP"), for an iPad that cannot open
    /// the link itself (a Home Screen web clip keeps its cookies apart from Safari): derived
    /// from the link's secret token with the device key, so it is stored nowhere and cannot be
    /// worked out without the key.
    pub fn setup_code(&self, token: &str) -> String {
        let tag = hmac::sign(&self.key, format!("setup-code:{token}").as_bytes());
        let code: String =
            tag.as_ref()[..SETUP_CODE_CHARS].iter().map(|b| char::from(SETUP_CODE_ALPHABET[usize::from(*b) % SETUP_CODE_ALPHABET.len()])).collect();
        format!("{} {}", &code[..3], &code[3..])
    }

    /// Enrols this iPad with a typed set-up code: the code of an unused link made in the last
    /// `SETUP_CODE_MINUTES`. Wrong codes are counted per `address` and overall.
    pub async fn redeem_code(&self, typed: &str, address: &str) -> Result<SetupCode, StoreError> {
        let (here, everywhere) = (format!("setup:{address}"), "setup:*".to_string());
        let tries = |key: &str| self.code_attempts.get(key).unwrap_or(0);
        if tries(&here) >= SETUP_CODE_ATTEMPTS || tries(&everywhere) >= ALL_SETUP_CODE_ATTEMPTS {
            return Ok(SetupCode::TooMany);
        }
        let typed: String = typed.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect();
        // Links made in the last minutes only: a link's life is `LINK_MINUTES`, its code's less.
        let made_after = self.clock.now_ms() + (LINK_MINUTES - SETUP_CODE_MINUTES) * 60_000;
        let live: Vec<String> = if typed.len() == SETUP_CODE_CHARS {
            self.store
                .call(move |db| {
                    db.query("SELECT token FROM enrol_links WHERE used_ms IS NULL AND expires_ms > ?1", args![made_after])?.iter().map(|r| r.get(0)).collect()
                })
                .await?
        } else {
            Vec::new()
        };
        let found = live.into_iter().find(|token| secrets::constant_time_eq(&self.setup_code(token).replace(' ', ""), &typed));
        if let Some(token) = found {
            if let Some((device, cookie)) = self.redeem(&token).await? {
                return Ok(SetupCode::Enrolled(device, cookie));
            }
        }
        for key in [here, everywhere] {
            self.code_attempts.insert(key.clone(), tries(&key) + 1);
        }
        Ok(SetupCode::Wrong)
    }

    /// Why a link that cannot be used any more cannot: used already, or past its hour (None:
    /// no such link, or a mistyped one).
    pub async fn spent_link(&self, token: &str) -> Result<Option<SpentLink>, StoreError> {
        let token = token.to_string();
        let row = self
            .store
            .call(move |db| db.query_opt("SELECT used_ms FROM enrol_links WHERE token = ?1", args![token])?.map(|r| r.get::<Option<i64>>(0)).transpose())
            .await?;
        Ok(row.map(|used| if used.is_some() { SpentLink::Used } else { SpentLink::Expired }))
    }

    /// What an unused, unexpired link would enrol, without using it.
    pub async fn peek_link(&self, token: &str) -> Result<Option<(String, String)>, StoreError> {
        let (token, now) = (token.to_string(), self.clock.now_ms());
        self.store
            .call(move |db| {
                db.query_opt("SELECT class, label FROM enrol_links WHERE token = ?1 AND used_ms IS NULL AND expires_ms > ?2", args![token, now])?
                    .map(|r| Ok((r.get(0)?, r.get(1)?)))
                    .transpose()
            })
            .await
    }

    /// Uses the link (once) and enrols this device; returns it and its cookie value.
    pub async fn redeem(&self, token: &str) -> Result<Option<(Device, String)>, StoreError> {
        let (token, now) = (token.to_string(), self.clock.now_ms());
        let secret = secrets::random_hex(16).map_err(|e| StoreError::Query(e.to_string()))?;
        let device = self
            .store
            .call(move |db| {
                transaction(db, |db| {
                    // Using the link and reading what it enrols is one statement: two iPads
                    // racing for one link cannot both win.
                    let Some(link) = db.query_opt(
                        "UPDATE enrol_links SET used_ms = ?2 WHERE token = ?1 AND used_ms IS NULL AND expires_ms > ?2 RETURNING class, label, created_by, school_id",
                        args![token, now],
                    )?
                    else {
                        return Ok(None);
                    };
                    let (class, label, by, school): (String, String, i64, SchoolId) = (link.get(0)?, link.get(1)?, link.get(2)?, link.get(3)?);
                    let id = db
                        .query_one(
                            "INSERT INTO devices (class, label, secret, enrolled_by, enrolled_ms, school_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                            args![&class, &label, &secret, by, now, school],
                        )?
                        .get(0)?;
                    Ok(Some(Device { id, school, class, label, secret, covered_incident: None, revoked: false, signature: String::new() }))
                })
            })
            .await?;
        Ok(device.map(|d| {
            let cookie = self.cookie_value(&d);
            (d, cookie)
        }))
    }

    /// The device a cookie belongs to, if the signature holds and it is not revoked.
    pub async fn from_cookie(&self, value: &str) -> Option<Arc<Device>> {
        let (id, signature) = value.split_once('.')?;
        let id: i64 = id.parse().ok()?;
        let device = self.by_id(id).await?;
        if device.revoked || !secrets::constant_time_eq(&device.signature, signature) {
            return None;
        }
        // Last-seen is only kept to the half minute: an insert on every page view would cost
        // more than the dashboard's "active in the last minutes" needs.
        let now = self.clock.now_ms();
        if self.seen.get(&id).is_none_or(|(_, at)| now - at > 30_000) {
            self.seen.insert(id, (device.school, now));
        }
        Some(device)
    }

    pub async fn by_id(&self, id: i64) -> Option<Arc<Device>> {
        let device = self.stored(id).await?;
        if !self.any_covered_in_memory.load(std::sync::atomic::Ordering::Acquire) {
            return Some(device);
        }
        match self.covered_in_memory.read().unwrap_or_else(|p| p.into_inner()).get(&id) {
            Some(&incident) => Some(Arc::new(Device { covered_incident: Some(incident), ..(*device).clone() })),
            None => Some(device),
        }
    }

    /// Covers device `id`'s screen for `incident` in memory only: the disk refused the press.
    pub fn cover_in_memory(&self, id: i64, incident: i64) {
        self.covered_in_memory.write().unwrap_or_else(|p| p.into_inner()).insert(id, incident);
        self.any_covered_in_memory.store(true, std::sync::atomic::Ordering::Release);
    }

    /// Uncovers the screens covered in memory for `incident`.
    pub fn uncover_in_memory(&self, incident: i64) {
        let mut covered = self.covered_in_memory.write().unwrap_or_else(|p| p.into_inner());
        covered.retain(|_, i| *i != incident);
        self.any_covered_in_memory.store(!covered.is_empty(), std::sync::atomic::Ordering::Release);
    }

    /// Device `id`'s cover was written (the press once kept in memory as `incident`): read it
    /// from the database from now on.
    pub fn covered_on_disk(&self, id: i64, incident: i64) {
        {
            let mut covered = self.covered_in_memory.write().unwrap_or_else(|p| p.into_inner());
            if covered.get(&id) == Some(&incident) {
                covered.remove(&id);
            }
            self.any_covered_in_memory.store(!covered.is_empty(), std::sync::atomic::Ordering::Release);
        }
        self.by_id.invalidate(&id);
    }

    /// Device `id` as the database has it (through the cache).
    async fn stored(&self, id: i64) -> Option<Arc<Device>> {
        // The hot path (every pupil page) is a plain lookup; the loader is built only on a miss.
        if let Some(found) = self.by_id.get(&id) {
            return found;
        }
        let (store, key) = (self.store.clone(), self.key.clone());
        self.by_id
            .get_with(id, async move {
                let sql = format!("SELECT {COLUMNS} FROM devices WHERE id = ?1");
                let device = store.call(move |db| db.query_opt(&sql, args![id])?.as_ref().map(row_to_device).transpose()).await.ok().flatten();
                device.map(|d| Arc::new(Device { signature: signature(&key, d.id, &d.secret), ..d }))
            })
            .await
    }

    /// Uncovers every device whose screen is up for `incident`.
    pub async fn uncover_incident(&self, incident: i64) -> Result<(), StoreError> {
        let ids: Vec<i64> = self
            .store
            .call(move |db| {
                let ids: Vec<i64> = db
                    .query("UPDATE devices SET covered_incident = NULL WHERE covered_incident = ?1 RETURNING id", args![incident])?
                    .iter()
                    .map(|r| r.get(0))
                    .collect::<Result<_, _>>()?;
                for id in &ids {
                    db.notify(&Change::Device(*id).payload())?;
                }
                Ok(ids)
            })
            .await?;
        for id in ids {
            self.by_id.invalidate(&id);
        }
        Ok(())
    }

    /// Revokes device `id` if `scope` may see it; false if there was no such device.
    pub async fn revoke(&self, id: i64, scope: Scope) -> Result<bool, StoreError> {
        let now = self.clock.now_ms();
        let n = self
            .store
            .call(move |db| {
                let n = db.execute(
                    "UPDATE devices SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL AND (CAST(?3 AS BIGINT) IS NULL OR school_id = ?3)",
                    args![id, now, scope],
                )?;
                db.notify(&Change::Device(id).payload())?;
                Ok(n)
            })
            .await?;
        self.by_id.invalidate(&id);
        Ok(n > 0)
    }

    /// Drops the cached copy of device `id` (another instance changed it).
    pub async fn forget(&self, id: i64) {
        self.by_id.invalidate(&id);
    }

    pub fn forget_all(&self) {
        self.by_id.invalidate_all();
    }

    /// Enrolled (not revoked) devices `scope` may see, by school, class and label.
    pub async fn list(&self, scope: Scope) -> Result<Vec<DeviceSummary>, StoreError> {
        let sql = format!("SELECT {COLUMNS}, enrolled_ms FROM devices WHERE revoked_ms IS NULL AND (CAST(?1 AS BIGINT) IS NULL OR school_id = ?1) ORDER BY school_id, class, label, id");
        let rows: Vec<(Device, i64)> =
            self.store.call(move |db| db.query(&sql, args![scope])?.iter().map(|r| Ok((row_to_device(r)?, r.get(7)?))).collect()).await?;
        Ok(rows
            .into_iter()
            .map(|(device, enrolled_ms)| DeviceSummary { last_seen_ms: self.seen.get(&device.id).map(|(_, at)| at), device, enrolled_ms })
            .collect())
    }

    /// The classes of the iPads `scope` may see, each with its iPad count, by name (classes
    /// whose names differ only in case are one class, named as first enrolled).
    pub async fn classes(&self, scope: Scope) -> Result<Vec<(String, usize)>, StoreError> {
        let mut classes: Vec<(String, usize)> = Vec::new();
        for summary in self.list(scope).await? {
            match classes.iter_mut().find(|(c, _)| c.to_lowercase() == summary.device.class.to_lowercase()) {
                Some((_, n)) => *n += 1,
                None => classes.push((summary.device.class.clone(), 1)),
            }
        }
        classes.sort_by_key(|(c, _)| c.to_lowercase());
        Ok(classes)
    }

    /// Devices `scope` may see that asked for a page within the last `minutes`.
    pub fn active_since(&self, scope: Scope, minutes: i64) -> usize {
        let since = self.clock.now_ms() - minutes * 60_000;
        self.seen.iter().filter(|(_, (school, at))| *at >= since && scope.is_none_or(|s| s == *school)).count()
    }

    /// Today's adult code (6 digits) at `school`: shown to its staff on their dashboard, typed
    /// on a covered iPad to clear it there. Derived from the device key, the school and the
    /// school day, so it changes every day, differs between a trust's schools, and needs no
    /// set-up.
    pub fn adult_code(&self, school: SchoolId, school_day: &str) -> String {
        let tag = hmac::sign(&self.key, format!("adult-code:{school}:{school_day}").as_bytes());
        let n = u32::from_be_bytes([tag.as_ref()[0], tag.as_ref()[1], tag.as_ref()[2], tag.as_ref()[3]]) % 1_000_000;
        format!("{n:06}")
    }

    /// Checks an adult code typed on the covered screen of `incident` at `school`. Wrong
    /// tries are counted per covered screen and per school, whoever sends them (cookie or
    /// none, any address).
    pub fn check_adult_code(&self, school: SchoolId, incident: i64, typed: &str, school_day: &str) -> CodeCheck {
        let (screen_key, school_key) = (format!("incident:{incident}"), format!("school:{school}"));
        let (wrong, wrong_here) = (self.code_attempts.get(&screen_key).unwrap_or(0), self.code_attempts.get(&school_key).unwrap_or(0));
        if wrong >= CODE_ATTEMPTS || wrong_here >= SCHOOL_CODE_ATTEMPTS {
            return CodeCheck::TooMany;
        }
        let typed: String = typed.chars().filter(char::is_ascii_digit).collect();
        if secrets::constant_time_eq(&typed, &self.adult_code(school, school_day)) {
            self.code_attempts.invalidate(&screen_key);
            return CodeCheck::Right;
        }
        self.code_attempts.insert(screen_key, wrong + 1);
        self.code_attempts.insert(school_key, wrong_here + 1);
        if wrong + 1 >= CODE_ATTEMPTS {
            CodeCheck::TooMany
        } else {
            CodeCheck::Wrong
        }
    }

    /// The token that lets the browser that pressed (one that is not enrolled) see and clear
    /// its own covered screen: `<incident>.<HMAC>`, so no other browser can name it.
    pub fn help_token(&self, incident: i64) -> String {
        let tag = hmac::sign(&self.key, format!("help:{incident}").as_bytes());
        format!("{incident}.{}", secrets::hex(&tag.as_ref()[..16]))
    }

    /// The incident a `help_token` names, if the token is one this server made.
    pub fn incident_of_token(&self, token: &str) -> Option<i64> {
        let (id, _) = token.split_once('.')?;
        let id: i64 = id.parse().ok()?;
        secrets::constant_time_eq(&self.help_token(id), token).then_some(id)
    }

    /// The `Set-Cookie` for an enrolled device.
    pub fn cookie(&self, value: String, secure: bool) -> actix_web::cookie::Cookie<'static> {
        actix_web::cookie::Cookie::build(COOKIE, value)
            .path("/")
            .http_only(true)
            // Lax, not Strict: the iPad's home-screen web clip and QR code open kidsearch as a
            // top-level navigation; a cross-site POST still never carries it.
            .same_site(actix_web::cookie::SameSite::Lax)
            .secure(secure)
            .max_age(actix_web::cookie::time::Duration::days(COOKIE_DAYS))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_single_line_and_bounded() {
        assert_eq!(clean_name("  Oak  "), Some("Oak".into()));
        assert_eq!(clean_name("Oak\nclass"), Some("Oakclass".into()));
        assert_eq!(clean_name("   "), None);
        assert_eq!(clean_name(&"x".repeat(41)), None);
    }
}
