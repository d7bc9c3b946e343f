//! Safeguarding: "Turn off screen and tell an adult" presses and refused harmful queries become
//! incidents for the DSL; teachers get them live; a reported result is hidden school-wide.
//!
//! Invariants:
//! - an incident is committed to SQLite before the pupil's page or the alert goes out, so a
//!   crash never loses one — unless the disk refuses it (full, read-only, damaged) or has not
//!   started the write within `DISK_DEADLINE`: then the alert goes out at once, the screen is
//!   covered in memory and the incident waits in `waiting` (a provisional, negative id) and is
//!   retried every `RETRY_EVERY` until stored; dashboards say it is not yet safe;
//! - a reported result is hidden for every pupil before the press is answered, and stays
//!   hidden (across restarts) until a teacher releases it;
//! - alerts carry what staff need to act (device, class, what was on screen) and nothing else
//!   leaves the school: there is no pupil data to send.

pub mod export;
pub mod hidden;
pub mod kept;
pub mod retention;
pub mod waiting;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::args;
use crate::changes::Change;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::clock::Clock;
use crate::devices::{Device, Devices};
use crate::schools::{SchoolId, Scope, DEFAULT_SCHOOL};
use crate::store::{transaction, Activity, Db, DbError, Row, Store, StoreError};
use hidden::HiddenResults;
use waiting::{Record, Waiting};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// A pupil pressed "Turn off screen and tell an adult".
    TellAdult,
    /// A query the safety policy refused (an attempt to reach blocked material).
    RefusedQuery,
}

impl IncidentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::TellAdult => "tell_adult",
            IncidentKind::RefusedQuery => "refused_query",
        }
    }

    /// As staff read it.
    pub fn describe(self) -> &'static str {
        match self {
            IncidentKind::TellAdult => "Tell-an-adult button",
            IncidentKind::RefusedQuery => "Refused search",
        }
    }
}

/// Where an incident is in the DSL's review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    New,
    Reviewed,
    /// Recorded in the school's safeguarding system (CPOMS, My Concern).
    Recorded,
}

impl ReviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::New => "new",
            ReviewStatus::Reviewed => "reviewed",
            ReviewStatus::Recorded => "recorded",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewStatus> {
        match s {
            "new" => Some(ReviewStatus::New),
            "reviewed" => Some(ReviewStatus::Reviewed),
            "recorded" => Some(ReviewStatus::Recorded),
            _ => None,
        }
    }

    pub const ALL: [ReviewStatus; 3] = [ReviewStatus::New, ReviewStatus::Reviewed, ReviewStatus::Recorded];
}

/// Whose decision on a reported result it is: a lead's (the DSL, or an admin standing in)
/// outranks a teacher's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    Teacher,
    Lead,
}

impl Authority {
    fn as_str(self) -> &'static str {
        match self {
            Authority::Teacher => "teacher",
            Authority::Lead => "lead",
        }
    }

    fn rank(self) -> i64 {
        match self {
            Authority::Teacher => 1,
            Authority::Lead => 2,
        }
    }
}

/// One incident, as the register shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    pub id: i64,
    /// The school of the device (or, for a browser that is not enrolled, the default school).
    pub school: SchoolId,
    pub at_ms: i64,
    pub kind: IncidentKind,
    pub device_id: Option<i64>,
    pub device: Option<String>,
    pub class: Option<String>,
    pub query: Option<String>,
    pub page: Option<u32>,
    pub result_url: Option<String>,
    pub result_title: Option<String>,
    pub category: Option<String>,
    pub status: ReviewStatus,
    pub reviewed_by: Option<String>,
    pub reviewed_ms: Option<i64>,
    pub notes: String,
    pub cleared_by: Option<String>,
    pub cleared_ms: Option<i64>,
    /// The reported result's school-wide state: hidden (awaiting a teacher), blocked, released.
    pub result_state: Option<String>,
}

const COLUMNS: &str = "i.id, i.at_ms, i.kind, i.device_id, i.device, i.class, i.query, i.page, i.result_url, i.result_title, i.category, i.status, i.reviewed_by, i.reviewed_ms, i.notes, i.cleared_by, i.cleared_ms, h.state, i.school_id";
const FROM: &str = "incidents i LEFT JOIN hidden_results h ON h.school_id = i.school_id AND h.url = i.result_url AND h.incident_id = i.id";

fn row_to_incident(r: &Row) -> Result<Incident, DbError> {
    let kind: String = r.get(2)?;
    let status: String = r.get(11)?;
    Ok(Incident {
        id: r.get(0)?,
        at_ms: r.get(1)?,
        kind: if kind == "tell_adult" { IncidentKind::TellAdult } else { IncidentKind::RefusedQuery },
        device_id: r.get(3)?,
        device: r.get(4)?,
        class: r.get(5)?,
        query: r.get(6)?,
        page: r.get(7)?,
        result_url: r.get(8)?,
        result_title: r.get(9)?,
        category: r.get(10)?,
        status: ReviewStatus::parse(&status).unwrap_or(ReviewStatus::New),
        reviewed_by: r.get(12)?,
        reviewed_ms: r.get(13)?,
        notes: r.get(14)?,
        cleared_by: r.get(15)?,
        cleared_ms: r.get(16)?,
        result_state: r.get(17)?,
        school: r.get(18)?,
    })
}

/// What a pupil's device reports.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub query: Option<String>,
    pub page: Option<u32>,
    /// The result the pupil reported from its card (URL checked against its `/go` signature).
    pub result_url: Option<String>,
    pub result_title: Option<String>,
    pub category: Option<String>,
}

/// What staff dashboards receive live.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    /// "incident" for a new incident, "cleared" when a covered screen was cleared, "result"
    /// when a reported result was kept hidden or released.
    pub event: &'static str,
    pub incident: Incident,
}

/// What goes down each dashboard's live stream.
// Nearly every message is an alert: boxing it would only add an allocation per alert.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum ToDashboards {
    Alert(Alert),
    /// Alerts may have been missed (this instance lost its link to the others, or a dashboard
    /// fell behind): each dashboard re-reads its list from the database, the record.
    CatchUp,
}

/// Pages the register shows at once.
pub const REGISTER_LIMIT: usize = 500;

/// Alerts a browser that is not enrolled may raise from one address in `ANONYMOUS_WINDOW`.
/// (An enrolled iPad's presses are never limited.)
const ANONYMOUS_PRESSES: u32 = 5;
const ANONYMOUS_WINDOW: std::time::Duration = std::time::Duration::from_secs(10 * 60);
/// Open alerts of browsers that are not enrolled shown on a dashboard (every enrolled iPad's
/// open alert is shown).
const ANONYMOUS_ALERTS_SHOWN: i64 = 50;

/// The incident is in the reader's scope (always parameter 2).
const IN_SCOPE: &str = "(CAST(?2 AS BIGINT) IS NULL OR i.school_id = ?2)";

/// The results hidden from pupils now.
const HIDDEN_NOW: &str = "SELECT school_id, url FROM hidden_results WHERE state IN ('hidden', 'blocked')";

/// The longest a press's alert waits for the disk to start its write; after that the press
/// waits in memory (a disk that fails, fails at once: this is for one that hangs).
const DISK_DEADLINE: Duration = Duration::from_secs(1);
/// How often records waiting in memory are offered to the disk again.
pub const RETRY_EVERY: Duration = Duration::from_secs(2);

pub struct Safeguarding {
    store: Store,
    /// Records the disk refused, retried until it takes them.
    waiting: Waiting,
    clock: Arc<dyn Clock>,
    devices: Arc<Devices>,
    hidden: Arc<HiddenResults>,
    alerts: broadcast::Sender<ToDashboards>,
    /// Presses per address from browsers that are not enrolled, in the last `ANONYMOUS_WINDOW`.
    anonymous_presses: moka::sync::Cache<String, u32>,
}

impl Safeguarding {
    /// Loads the results hidden school-wide from the database (at start-up, before serving).
    pub fn open(store: Store, clock: Arc<dyn Clock>, devices: Arc<Devices>) -> Result<Safeguarding, StoreError> {
        // Start-up is not async: wait for the writer thread plainly.
        let urls: Vec<(SchoolId, String)> = store.call_blocking(|db| db.query(HIDDEN_NOW, &[])?.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect())?;
        let (alerts, _) = broadcast::channel(1024);
        let anonymous_presses = moka::sync::Cache::builder().max_capacity(10_000).time_to_live(ANONYMOUS_WINDOW).build();
        Ok(Safeguarding { store, waiting: Waiting::default(), clock, devices, hidden: Arc::new(HiddenResults::new(urls)), alerts, anonymous_presses })
    }

    pub fn hidden(&self) -> Arc<HiddenResults> {
        self.hidden.clone()
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A receiver of every alert from now on (one per connected dashboard).
    pub fn subscribe(&self) -> broadcast::Receiver<ToDashboards> {
        self.alerts.subscribe()
    }

    /// Tells every connected dashboard to re-read its alerts: this instance may have missed
    /// other instances' (see `cluster::follow`).
    pub fn dashboards_catch_up(&self) {
        let _ = self.alerts.send(ToDashboards::CatchUp);
    }

    pub fn dashboards_connected(&self) -> usize {
        self.alerts.receiver_count()
    }

    /// Records a tell-an-adult press: the incident is committed, the reported result hidden
    /// school-wide and the device's screen covered (one transaction), then teachers alerted.
    /// If the disk refuses (or does not start within `DISK_DEADLINE`), the alert still goes out,
    /// the result is hidden and the screen covered in memory, and the incident waits (see
    /// `waiting`): a press always reaches an adult. Never an error.
    pub async fn tell_adult(&self, device: Option<&Device>, report: Report) -> Incident {
        let incident = self.new_incident(IncidentKind::TellAdult, device, report);
        let cover = device.map(|d| d.id);
        let incident = match self.store_now(incident.clone(), cover).await {
            Ok(id) => {
                self.after_stored(&incident, cover);
                self.get(id, None).await.ok().flatten().unwrap_or(Incident { id, ..incident })
            }
            Err(e) => {
                let incident = Incident { id: self.waiting.provisional_id(), ..incident };
                tracing::error!(error = %e, incident = incident.id, "a tell-an-adult press could not be stored: alerting anyway, kept in memory and retried");
                if let Some(url) = &incident.result_url {
                    self.hidden.hide(incident.school, url);
                }
                if let Some(device) = cover {
                    self.devices.cover_in_memory(device, incident.id);
                }
                self.waiting.push(Record::Incident(incident.clone()));
                incident
            }
        };
        self.alert("incident", incident.clone()).await;
        incident
    }

    /// Records a query the policy refused — its activity row and its incident — and tells
    /// dashboards. What the disk refuses waits in memory like a press.
    pub async fn refused_query(&self, device: Option<&Device>, row: Activity, query: String, category: String) -> Incident {
        if let Err(e) = self.store.record_durable(row.clone()).await {
            tracing::error!(error = %e, "a refused query's activity row could not be stored: kept in memory and retried");
            self.waiting.push(Record::Activity(row));
        }
        let incident = self.new_incident(IncidentKind::RefusedQuery, device, Report { query: Some(query), category: Some(category), ..Report::default() });
        let incident = match self.store_now(incident.clone(), None).await {
            Ok(id) => Incident { id, ..incident },
            Err(e) => {
                let incident = Incident { id: self.waiting.provisional_id(), ..incident };
                tracing::error!(error = %e, incident = incident.id, "a refused query's incident could not be stored: kept in memory and retried");
                self.waiting.push(Record::Incident(incident.clone()));
                incident
            }
        };
        self.alert("incident", incident.clone()).await;
        incident
    }

    /// Stores `incident` (covering device `cover`), unless the disk has not started on it
    /// within `DISK_DEADLINE`: then it is never written by this call (the job gives up when it
    /// finally runs), so a press is never both stored and waiting.
    async fn store_now(&self, incident: Incident, cover: Option<i64>) -> Result<i64, StoreError> {
        const WAITING: u8 = 0;
        const RUNNING: u8 = 1;
        const ABANDONED: u8 = 2;
        let claim = Arc::new(AtomicU8::new(WAITING));
        let job_claim = claim.clone();
        let write = self.store.call(move |db| {
            if job_claim.compare_exchange(WAITING, RUNNING, Ordering::AcqRel, Ordering::Acquire).is_err() {
                return Err(DbError("the press was kept in memory instead".into()));
            }
            store_incident(db, &incident, cover)
        });
        tokio::pin!(write);
        match tokio::time::timeout(DISK_DEADLINE, &mut write).await {
            Ok(answer) => answer,
            // The write started: its answer is the truth, however long it takes.
            Err(_) if claim.compare_exchange(WAITING, ABANDONED, Ordering::AcqRel, Ordering::Acquire).is_err() => write.await,
            Err(_) => Err(StoreError::Query(format!("the disk did not take the write within {DISK_DEADLINE:?}"))),
        }
    }

    /// The in-memory state after `incident` was stored: its result hidden here too, and the
    /// device's cover now read from the database (any in-memory cover for it dropped).
    fn after_stored(&self, incident: &Incident, cover: Option<i64>) {
        if let Some(url) = &incident.result_url {
            self.hidden.hide(incident.school, url);
        }
        if let Some(device) = cover {
            self.devices.covered_on_disk(device, incident.id);
        }
    }

    /// Offers the records waiting in memory to the disk again, oldest first, until one is
    /// refused. Dashboards re-read their alerts afterwards (their provisional ids are gone).
    pub async fn retry_waiting(&self) {
        let mut stored_any = false;
        while let Some(record) = self.waiting.front() {
            match record {
                Record::Activity(row) => match self.store.record_durable(row).await {
                    Ok(()) => self.waiting.stored_front(None),
                    Err(_) => break,
                },
                Record::Incident(incident) => {
                    let cover = incident.device_id.filter(|_| incident.kind == IncidentKind::TellAdult && incident.cleared_ms.is_none());
                    let provisional = incident.id;
                    match self
                        .store
                        .call({
                            let incident = incident.clone();
                            move |db| store_incident(db, &incident, cover)
                        })
                        .await
                    {
                        Ok(id) => {
                            self.waiting.stored_front(Some(id));
                            self.after_stored(&incident, cover);
                            tracing::info!(incident = id, provisional, "a safeguarding record kept in memory is now stored");
                            stored_any = true;
                            // Other instances' dashboards learn of it now, from the database.
                            let change = Change::Alert { event: "incident".into(), incident: id };
                            let _ = self.store.notify(change.payload()).await;
                        }
                        Err(_) => break,
                    }
                }
            }
        }
        if stored_any {
            self.dashboards_catch_up();
        }
    }

    /// Retries the waiting records every `RETRY_EVERY`, for as long as `this` is alive.
    pub fn spawn_retry(this: &Arc<Safeguarding>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let weak = Arc::downgrade(this);
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(RETRY_EVERY);
            loop {
                tick.tick().await;
                let Some(this) = weak.upgrade() else { return };
                if !this.waiting.is_empty() {
                    this.retry_waiting().await;
                }
            }
        });
    }

    /// At a graceful stop: one more try, then every record still waiting is written to the
    /// log in full (ERROR), the only place it still exists.
    pub async fn flush_waiting(&self) {
        if self.waiting.is_empty() {
            return;
        }
        self.retry_waiting().await;
        for record in self.waiting.drain() {
            tracing::error!(record = ?record, "stopping with a safeguarding record the disk never took: it is only in this log");
        }
    }

    /// (records waiting in memory for the disk, records lost because that queue was full).
    pub fn waiting_counts(&self) -> (usize, u64) {
        (self.waiting.len(), self.waiting.lost())
    }

    fn new_incident(&self, kind: IncidentKind, device: Option<&Device>, report: Report) -> Incident {
        let (device_id, device_name, class, school) = match device {
            Some(d) => (Some(d.id), Some(d.name()), Some(d.class.clone()), d.school),
            None => (None, None, None, DEFAULT_SCHOOL),
        };
        Incident {
            id: 0,
            school,
            at_ms: self.clock.now_ms(),
            kind,
            device_id,
            device: device_name,
            class,
            query: report.query,
            page: report.page,
            result_state: report.result_url.as_ref().map(|_| "hidden".to_string()),
            result_url: report.result_url,
            result_title: report.result_title,
            category: report.category,
            status: ReviewStatus::New,
            reviewed_by: None,
            reviewed_ms: None,
            notes: String::new(),
            cleared_by: None,
            cleared_ms: None,
        }
    }

    /// Incident `id`, if `scope` may see it.
    pub async fn get(&self, id: i64, scope: Scope) -> Result<Option<Incident>, StoreError> {
        let id = self.waiting.resolve(id);
        if id < 0 {
            return Ok(self.waiting.incident(id).filter(|i| scope.is_none_or(|s| s == i.school)));
        }
        let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE i.id = ?1 AND {IN_SCOPE}");
        self.store.call(move |db| db.query_opt(&sql, args![id, scope])?.as_ref().map(row_to_incident).transpose()).await
    }

    /// The press whose screen is still covered (pressed, not yet cleared), if `id` is one.
    pub async fn covered_screen(&self, id: i64) -> Option<Incident> {
        self.get(id, None).await.ok().flatten().filter(|i| i.kind == IncidentKind::TellAdult && i.cleared_ms.is_none())
    }

    /// May a browser that is not enrolled, at `address`, raise another alert now? An
    /// enrolled iPad's press is never asked this: it is never refused.
    pub fn anonymous_press_allowed(&self, address: &str) -> bool {
        let n = self.anonymous_presses.get(address).unwrap_or(0) + 1;
        self.anonymous_presses.insert(address.to_string(), n);
        n <= ANONYMOUS_PRESSES
    }

    /// The register `scope` may see: newest first, optionally only one review status.
    pub async fn list(&self, scope: Scope, status: Option<ReviewStatus>, limit: usize) -> Result<Vec<Incident>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE {IN_SCOPE} AND (CAST(?1 AS TEXT) IS NULL OR i.status = ?1) ORDER BY i.id DESC LIMIT ?3");
        self.store.call(move |db| db.query(&sql, args![status.map(ReviewStatus::as_str), scope, limit])?.iter().map(row_to_incident).collect()).await
    }

    /// What needs a teacher now: covered screens and reported results awaiting a decision.
    /// Every open alert from an enrolled iPad is listed, however many anonymous presses came
    /// after it; browsers that are not enrolled get the newest `ANONYMOUS_ALERTS_SHOWN` of
    /// theirs beside them. Newest first.
    pub async fn open_alerts(&self, scope: Scope) -> Result<Vec<Incident>, StoreError> {
        let open = format!("SELECT {COLUMNS} FROM {FROM} WHERE i.kind = ?1 AND {IN_SCOPE} AND (i.cleared_ms IS NULL OR h.state = 'hidden')");
        let (enrolled, anonymous) =
            (format!("{open} AND i.device_id IS NOT NULL ORDER BY i.id DESC"), format!("{open} AND i.device_id IS NULL ORDER BY i.id DESC LIMIT ?3"));
        let waiting = self.waiting.incidents().into_iter().filter(|i| i.kind == IncidentKind::TellAdult && scope.is_none_or(|s| s == i.school));
        let mut alerts: Vec<Incident> = waiting.filter(|i| i.cleared_ms.is_none() || i.result_state.as_deref() == Some("hidden")).collect();
        let stored = self
            .store
            .call(move |db| {
                let kind = IncidentKind::TellAdult.as_str();
                let mut alerts: Vec<Incident> = db.query(&enrolled, args![kind, scope])?.iter().map(row_to_incident).collect::<Result<_, _>>()?;
                for row in db.query(&anonymous, args![kind, scope, ANONYMOUS_ALERTS_SHOWN])? {
                    alerts.push(row_to_incident(&row)?);
                }
                Ok(alerts)
            })
            .await;
        match stored {
            Ok(stored) => alerts.extend(stored),
            // The alerts in memory are shown even when the database cannot be read.
            Err(e) if !alerts.is_empty() => tracing::error!(error = %e, "reading the stored alerts failed; showing those kept in memory"),
            Err(e) => return Err(e),
        }
        // Newest first; those kept in memory (negative ids) are the newest.
        alerts.sort_by_key(|a| (a.id >= 0, std::cmp::Reverse(a.id), std::cmp::Reverse(a.at_ms)));
        Ok(alerts)
    }

    /// Incidents since `since_ms` (the dashboard's "refused searches today").
    pub async fn since(&self, scope: Scope, since_ms: i64, kind: IncidentKind) -> Result<Vec<Incident>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE i.at_ms >= ?1 AND {IN_SCOPE} AND i.kind = ?3 ORDER BY i.id DESC LIMIT 200");
        self.store.call(move |db| db.query(&sql, args![since_ms, scope, kind.as_str()])?.iter().map(row_to_incident).collect()).await
    }

    /// An adult cleared the covered screen (from a dashboard of a school `scope` covers, or
    /// the adult code on the device).
    pub async fn clear_screen(&self, id: i64, scope: Scope, by: String) -> Result<bool, StoreError> {
        let now = self.clock.now_ms();
        let Some(incident) = self.get(id, scope).await? else { return Ok(false) };
        let id = incident.id;
        if id < 0 {
            // Not stored yet: cleared in memory, and stored cleared (without covering) later.
            let changed = self.waiting.update(id, |i| {
                if i.cleared_ms.is_none() {
                    (i.cleared_by, i.cleared_ms) = (Some(by), Some(now));
                }
            });
            self.devices.uncover_in_memory(id);
            if let Some(incident) = self.waiting.incident(id).filter(|_| changed) {
                self.alert("cleared", incident).await;
            }
            return Ok(changed);
        }
        let changed = self
            .store
            .call(move |db| {
                db.execute(
                    "UPDATE incidents SET cleared_by = ?2, cleared_ms = ?3 WHERE id = ?1 AND cleared_ms IS NULL AND kind = 'tell_adult'",
                    args![id, by, now],
                )
            })
            .await?;
        self.devices.uncover_incident(id).await?;
        if changed > 0 {
            self.announce("cleared", id).await;
        }
        Ok(changed > 0)
    }

    /// A teacher's decision on a reported result: keep it hidden for good (the local block
    /// list) or release it back to pupils. A decision stands against anyone of less
    /// `authority` than whoever made it (a teacher cannot release what the DSL kept hidden);
    /// the changing statement itself checks the state it changes, so no decision made
    /// meanwhile is overwritten unseen.
    pub async fn decide_result(&self, id: i64, scope: Scope, keep_hidden: bool, by: String, authority: Authority) -> Result<bool, StoreError> {
        let Some(incident) = self.get(id, scope).await? else { return Ok(false) };
        let school = incident.school;
        let Some(url) = incident.result_url.clone() else { return Ok(false) };
        let now = self.clock.now_ms();
        let state = if keep_hidden { "blocked" } else { "released" };
        let u = url.clone();
        let changed = self
            .store
            .call(move |db| {
                // A decision from before decisions remembered their authority counts as the
                // highest: only a lead may change it.
                let changed = db.execute(
                    "UPDATE hidden_results SET state = ?2, decided_by = ?3, decided_ms = ?4, decided_authority = ?7
                     WHERE school_id = ?6 AND url = ?1 AND incident_id = ?5
                       AND (state = 'hidden' OR ?8 >= CASE decided_authority WHEN 'teacher' THEN 1 ELSE 2 END)",
                    args![&u, state, by, now, id, school, authority.as_str(), authority.rank()],
                )?;
                if changed > 0 {
                    db.notify(&Change::Hidden { school, url: u, hidden: keep_hidden }.payload())?;
                }
                Ok(changed)
            })
            .await?;
        if changed > 0 {
            if keep_hidden {
                self.hidden.hide(school, &url);
            } else {
                self.hidden.release(school, &url);
            }
            self.announce("result", id).await;
        }
        Ok(changed > 0)
    }

    /// The DSL's review (of an incident `scope` covers): status, notes, who and when.
    pub async fn review(&self, id: i64, scope: Scope, status: ReviewStatus, notes: String, by: String) -> Result<bool, StoreError> {
        let now = self.clock.now_ms();
        let n = self
            .store
            .call(move |db| {
                db.execute(
                    "UPDATE incidents SET status = ?2, notes = ?3, reviewed_by = ?4, reviewed_ms = ?5 WHERE id = ?1 AND (CAST(?6 AS BIGINT) IS NULL OR school_id = ?6)",
                    args![id, status.as_str(), notes, by, now, scope],
                )
            })
            .await?;
        Ok(n > 0)
    }

    /// (incidents not yet reviewed, screens still covered), for `/metrics`.
    pub async fn open_counts(&self) -> Result<(u64, u64), StoreError> {
        self.store
            .call(|db| {
                let new = db.query_one("SELECT COUNT(*) FROM incidents WHERE status = 'new'", &[])?.get(0)?;
                let covered = db.query_one("SELECT COUNT(*) FROM incidents WHERE kind = 'tell_adult' AND cleared_ms IS NULL", &[])?.get(0)?;
                Ok((new, covered))
            })
            .await
    }

    async fn announce(&self, event: &'static str, id: i64) {
        if let Ok(Some(incident)) = self.get(id, None).await {
            self.alert(event, incident).await;
        }
    }

    /// Tells this instance's dashboards, and the other instances (which `relay` it to theirs).
    async fn alert(&self, event: &'static str, incident: Incident) {
        let change = Change::Alert { event: event.to_string(), incident: incident.id };
        let provisional = incident.id < 0;
        let _ = self.alerts.send(ToDashboards::Alert(Alert { event, incident }));
        // Other instances read an alert from the database: a record kept in memory is
        // announced when it is stored.
        if provisional {
            return;
        }
        if let Err(e) = self.store.notify(change.payload()).await {
            tracing::warn!(error = %e, "could not tell the other instances' dashboards about an alert");
        }
    }

    /// Another instance's alert, shown on this instance's dashboards.
    pub async fn relay(&self, event: &str, id: i64) {
        let event = match event {
            "incident" => "incident",
            "cleared" => "cleared",
            "result" => "result",
            _ => return,
        };
        if let Ok(Some(incident)) = self.get(id, None).await {
            let _ = self.alerts.send(ToDashboards::Alert(Alert { event, incident }));
        }
    }

    /// Another instance hid (or released) a result for `school`.
    pub fn hidden_elsewhere(&self, school: SchoolId, url: &str, hidden: bool) {
        if hidden {
            self.hidden.hide(school, url);
        } else {
            self.hidden.release(school, url);
        }
    }

    /// Re-reads the hidden results (after missing other instances' changes).
    pub async fn reload_hidden(&self) -> Result<(), StoreError> {
        let urls: Vec<(SchoolId, String)> = self.store.call(|db| db.query(HIDDEN_NOW, &[])?.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()).await?;
        self.hidden.replace(urls);
        Ok(())
    }
}

/// Writes `incident` — with the reported result hidden at its school and, with `cover`, the
/// device's screen covered — in one transaction, announced to the other instances with it.
fn store_incident(db: &mut dyn Db, incident: &Incident, cover: Option<i64>) -> Result<i64, DbError> {
    let i = incident.clone();
    transaction(db, move |db| {
        let id: i64 = db
            .query_one(
                "INSERT INTO incidents (at_ms, kind, device_id, device, class, query, page, result_url, result_title, category, school_id, cleared_by, cleared_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING id",
                args![
                    i.at_ms,
                    i.kind.as_str(),
                    i.device_id,
                    i.device.clone(),
                    i.class.clone(),
                    i.query.clone(),
                    i.page,
                    i.result_url.clone(),
                    i.result_title.clone(),
                    i.category.clone(),
                    i.school,
                    i.cleared_by.clone(),
                    i.cleared_ms
                ],
            )?
            .get(0)?;
        if let (IncidentKind::TellAdult, Some(url)) = (i.kind, &i.result_url) {
            db.execute(
                // Reported again: pending a decision again — unless it is kept hidden
                // for good, which a new press must not reopen for a teacher to release.
                "INSERT INTO hidden_results (school_id, url, title, incident_id, state, at_ms) VALUES (?5, ?1, ?2, ?3, 'hidden', ?4)
                 ON CONFLICT (school_id, url) DO UPDATE SET incident_id = ?3, state = 'hidden', at_ms = ?4, decided_by = NULL, decided_ms = NULL, decided_authority = NULL
                 WHERE hidden_results.state <> 'blocked'",
                args![url, i.result_title.clone(), id, i.at_ms, i.school],
            )?;
            db.notify(&Change::Hidden { school: i.school, url: url.clone(), hidden: true }.payload())?;
        }
        if let Some(device) = cover {
            db.execute("UPDATE devices SET covered_incident = ?2 WHERE id = ?1", args![device, id])?;
            db.notify(&Change::Device(device).payload())?;
        }
        Ok(id)
    })
}
