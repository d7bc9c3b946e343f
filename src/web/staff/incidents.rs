//! The incident register for the DSL (and the admin): tell-an-adult presses and refused
//! searches, with review status (new → reviewed → recorded elsewhere), who reviewed, notes,
//! filters by kind, status, class, iPad and days (the page says which are on), and a CSV export
//! of what is shown for CPOMS / My Concern.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;

use super::{csrf_token, html_page, require, require_form, see_other, store_failed, SAFEGUARDING_LEADS};
use crate::safeguarding::export::{local_time, to_csv};
use crate::safeguarding::{Incident, IncidentKind, ReviewStatus, REGISTER_LIMIT};
use crate::staff::accounts::security_event;
use crate::web::{form, paths, AppState};

/// Longest note kept.
const MAX_NOTES_CHARS: usize = 4_000;

/// The register's filters, from the query string (the page's form and the CSV link share it).
#[derive(Debug, Default)]
struct Filter {
    status: Option<ReviewStatus>,
    kind: Option<IncidentKind>,
    class: Option<String>,
    device: Option<String>,
    from: Option<jiff::civil::Date>,
    to: Option<jiff::civil::Date>,
}

impl Filter {
    fn from_request(req: &HttpRequest) -> Filter {
        let text = |name: &str| form::query(req, name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        Filter {
            status: text("status").and_then(|s| ReviewStatus::parse(&s)),
            kind: text("kind").and_then(|k| match k.as_str() {
                "tell_adult" => Some(IncidentKind::TellAdult),
                "refused_query" => Some(IncidentKind::RefusedQuery),
                _ => None,
            }),
            class: text("class"),
            device: text("device"),
            from: text("from").and_then(|d| d.parse().ok()),
            to: text("to").and_then(|d| d.parse().ok()),
        }
    }

    /// Start (inclusive) and end (exclusive) of the chosen days, in the school's time zone.
    fn range_ms(&self, tz: &jiff::tz::TimeZone) -> (i64, i64) {
        let start = |d: jiff::civil::Date| d.to_zoned(tz.clone()).map(|z| z.timestamp().as_millisecond()).ok();
        let from = self.from.and_then(start).unwrap_or(i64::MIN);
        let to = self.to.and_then(|d| d.tomorrow().ok()).and_then(start).unwrap_or(i64::MAX);
        (from, to)
    }

    fn keeps(&self, i: &Incident, range: (i64, i64)) -> bool {
        let same =
            |want: &Option<String>, have: &Option<String>| want.as_ref().is_none_or(|w| have.as_ref().is_some_and(|h| h.to_lowercase() == w.to_lowercase()));
        self.status.is_none_or(|s| s == i.status)
            && self.kind.is_none_or(|k| k == i.kind)
            && same(&self.class, &i.class)
            && same(&self.device, &i.device)
            && (range.0..range.1).contains(&i.at_ms)
    }

    /// The same filters as a query string (for the CSV link).
    fn query_string(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(s) = self.status {
            q.append_pair("status", s.as_str());
        }
        if let Some(k) = self.kind {
            q.append_pair("kind", k.as_str());
        }
        if let Some(c) = &self.class {
            q.append_pair("class", c);
        }
        if let Some(d) = &self.device {
            q.append_pair("device", d);
        }
        if let Some(d) = self.from {
            q.append_pair("from", &d.to_string());
        }
        if let Some(d) = self.to {
            q.append_pair("to", &d.to_string());
        }
        q.finish()
    }

    /// What is being shown, in words ("Showing: refused searches, class Oak, from 2026-11-02").
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(k) = self.kind {
            parts.push(k.describe().to_lowercase());
        }
        if let Some(s) = self.status {
            parts.push(format!("status {}", s.as_str()));
        }
        if let Some(c) = &self.class {
            parts.push(format!("class {c}"));
        }
        if let Some(d) = &self.device {
            parts.push(format!("iPad {d}"));
        }
        if let Some(d) = self.from {
            parts.push(format!("from {d}"));
        }
        if let Some(d) = self.to {
            parts.push(format!("to {d}"));
        }
        if parts.is_empty() {
            "Showing: everything".into()
        } else {
            format!("Showing: {}", parts.join(", "))
        }
    }
}

/// The incidents `account` may see that `filter` keeps, newest first (`limit` at most).
async fn filtered(state: &AppState, account: &crate::staff::StaffAccount, filter: &Filter, limit: usize) -> Result<Vec<Incident>, crate::store::StoreError> {
    let all = state.safeguarding.list(account.scope(), filter.status, usize::MAX >> 1).await?;
    let range = filter.range_ms(&state.tz);
    Ok(all.into_iter().filter(|i| filter.keeps(i, range)).take(limit).collect())
}

pub async fn register(req: HttpRequest, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, SAFEGUARDING_LEADS).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let filter = Filter::from_request(&req);
    let incidents = match filtered(&state, &account, &filter, REGISTER_LIMIT).await {
        Ok(list) => list,
        Err(e) => return store_failed("reading the register", &e),
    };
    let unreviewed = incidents.iter().filter(|i| i.status == ReviewStatus::New).count();
    let devices = state.devices.list(account.scope()).await.unwrap_or_default();
    let classes = state.devices.classes(account.scope()).await.unwrap_or_default();
    // The trust view says which school each incident is at.
    let schools = if account.school.is_none() { crate::store::schools::names(&state.store).await.unwrap_or_default() } else { Default::default() };
    let retention = state.retention;
    let csv_link = match filter.query_string() {
        q if q.is_empty() => paths::STAFF_INCIDENTS_CSV.to_string(),
        q => format!("{}?{q}", paths::STAFF_INCIDENTS_CSV),
    };
    let token = csrf_token(&session);
    let body = html! {
        h1 { "Incident register" }
        p { "Kept for " (retention.incident_days) " days, then deleted automatically. "
            a href=(csv_link) { "Download these as CSV" } " (for CPOMS or My Concern)." }
        form.inline-form method="get" action=(paths::STAFF_INCIDENTS) {
            div { label for="f-kind" { "What" }
                select #f-kind name="kind" {
                    option value="" { "Everything" }
                    option value="tell_adult" selected[filter.kind == Some(IncidentKind::TellAdult)] { (IncidentKind::TellAdult.describe()) }
                    option value="refused_query" selected[filter.kind == Some(IncidentKind::RefusedQuery)] { (IncidentKind::RefusedQuery.describe()) }
                } }
            div { label for="f-status" { "Status" }
                select #f-status name="status" {
                    option value="" { "Any" }
                    @for s in ReviewStatus::ALL { option value=(s.as_str()) selected[filter.status == Some(s)] { (s.as_str()) } }
                } }
            div { label for="f-class" { "Class" }
                select #f-class name="class" {
                    option value="" { "Any" }
                    @for (c, _) in &classes { option value=(c) selected[filter.class.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(c))] { (c) } }
                } }
            div { label for="f-device" { "iPad" }
                select #f-device name="device" {
                    option value="" { "Any" }
                    @for d in &devices { option value=(d.device.name()) selected[filter.device.as_deref() == Some(d.device.name().as_str())] { (d.device.name()) } }
                } }
            div { label for="f-from" { "From" } input #f-from type="date" name="from" value=[filter.from.map(|d| d.to_string())]; }
            div { label for="f-to" { "To" } input #f-to type="date" name="to" value=[filter.to.map(|d| d.to_string())]; }
            button type="submit" { "Show" }
        }
        p role="status" { (filter.describe()) " — " (incidents.len()) " incidents, " strong { (unreviewed) " not yet reviewed" } "." }
        @if incidents.is_empty() {
            p { "No incidents." }
        } @else {
            table {
                thead { tr { th { "When" } @if account.school.is_none() { th { "School" } } th { "What" } th { "Device" } th { "On screen" } th { "Status" } } }
                tbody {
                    @for i in &incidents {
                        tr {
                            td { a href=(paths::staff_incident(i.id, None)) { (local_time(i.at_ms, &state.tz)) } }
                            @if account.school.is_none() { td { (schools.get(&i.school).cloned().unwrap_or_default()) } }
                            td { (i.kind.describe()) @if let Some(c) = &i.category { " (" (c) ")" } }
                            td { (i.device.clone().unwrap_or_else(|| "not enrolled".into())) }
                            td {
                                (i.query.clone().unwrap_or_default()) @if let Some(t) = &i.result_title { br; "Result: " (t) }
                                @if i.kind == IncidentKind::RefusedQuery { @if let Some(q) = &i.query { (super::overblocks::report_button(q, &token)) } }
                            }
                            td { (i.status.as_str()) @if let Some(by) = &i.reviewed_by { " by " (by) } }
                        }
                    }
                }
            }
        }
    };
    html_page(&account, "Incident register", body)
}

pub async fn detail(path: web::Path<i64>, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, SAFEGUARDING_LEADS).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let id = path.into_inner();
    let incident = match state.safeguarding.get(id, account.scope()).await {
        Ok(Some(i)) => i,
        Ok(None) => return HttpResponse::NotFound().body("No such incident (it may have passed its retention period)."),
        Err(e) => return store_failed("reading the incident", &e),
    };
    let token = csrf_token(&session);
    let back = paths::staff_incident(id, None);
    let body = html! {
        p { a href=(paths::STAFF_INCIDENTS) { "← Incident register" } }
        h1 { "Incident " (incident.id) }
        (super::flash_notice(&session))
        table {
            tr { th { "When" } td { (local_time(incident.at_ms, &state.tz)) } }
            tr { th { "What" } td { (incident.kind.describe()) } }
            tr { th { "Device" } td { (incident.device.clone().unwrap_or_else(|| "not enrolled".into()))
                @if let Some(device) = &incident.device { " " a href=(paths::staff_activity_around(device, incident.at_ms)) { "What this iPad did " (super::activity::AROUND_MINUTES) " minutes either side" } } } }
            tr { th { "Class" } td { (incident.class.clone().unwrap_or_default()) } }
            tr { th { "Search on screen" } td { (incident.query.clone().unwrap_or_default()) @if let Some(p) = incident.page { " (page " (p) ")" } } }
            @if let Some(c) = &incident.category { tr { th { "Refused as" } td { (c)
                @if incident.kind == IncidentKind::RefusedQuery { @if let Some(q) = &incident.query { (super::overblocks::report_button(q, &token)) } } } } }
            @if let Some(url) = &incident.result_url {
                tr { th { "Reported result" } td { (incident.result_title.clone().unwrap_or_default()) br; code { (url) } br;
                    "Now: " (incident.result_state.clone().unwrap_or_else(|| "—".into())) } }
            }
            @if let Some(by) = &incident.cleared_by { tr { th { "Screen cleared" } td { (by) ", " (incident.cleared_ms.map(|m| local_time(m, &state.tz)).unwrap_or_default()) } } }
            @if let Some(by) = &incident.reviewed_by { tr { th { "Reviewed" } td { (by) ", " (incident.reviewed_ms.map(|m| local_time(m, &state.tz)).unwrap_or_default()) } } }
        }
        // A refused search covered no screen: nothing to clear, so no button for it.
        ul.alerts { @if incident.kind == IncidentKind::TellAdult && (incident.cleared_ms.is_none() || incident.result_state.as_deref() == Some("hidden")) { (super::alerts::alert_item(Some(&incident), &token, &state.tz)) } }
        h2 { "Review" }
        form method="post" action=(paths::staff_incident(id, Some("review"))) {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="back" value=(back);
            label for="status" { "Status" }
            select #status name="status" {
                @for s in ReviewStatus::ALL { option value=(s.as_str()) selected[s == incident.status] { (s.as_str()) } }
            }
            label for="notes" { "Notes (what was done, where it is recorded)" }
            textarea #notes name="notes" rows="5" cols="60" maxlength=(MAX_NOTES_CHARS) { (incident.notes) }
            button type="submit" { "Save review" }
        }
    };
    html_page(&account, &format!("Incident {id}"), body)
}

pub async fn review(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, SAFEGUARDING_LEADS).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let id = path.into_inner();
    let Some(status) = form::field(&body, "status").and_then(|s| ReviewStatus::parse(&s)) else {
        return HttpResponse::BadRequest().body("Choose a status: new, reviewed or recorded.");
    };
    let notes: String = form::field(&body, "notes").unwrap_or_default().chars().take(MAX_NOTES_CHARS).collect();
    match state.safeguarding.review(id, account.scope(), status, notes, account.name.clone()).await {
        Ok(true) => {
            security_event(&state.store, "incident_reviewed", Some(&account.name), Some(&format!("incident {id}: {}", status.as_str()))).await;
            super::flash(&session, format!("Saved: incident {id} is now {}, with your notes.", status.as_str()));
            see_other(&paths::staff_incident(id, None))
        }
        Ok(false) => HttpResponse::NotFound().body("No such incident."),
        Err(e) => store_failed("saving the review", &e),
    }
}

pub async fn csv(req: HttpRequest, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, SAFEGUARDING_LEADS).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let filter = Filter::from_request(&req);
    let incidents = match filtered(&state, &account, &filter, usize::MAX >> 1).await {
        Ok(list) => list,
        Err(e) => return store_failed("reading the register", &e),
    };
    let schools = crate::store::schools::names(&state.store).await.unwrap_or_default();
    // A dated name (and the range, when one was chosen), so a week's exports do not overwrite
    // each other in Downloads.
    let today = jiff::Timestamp::from_millisecond(state.safeguarding.now_ms()).map(|t| t.to_zoned(state.tz.clone()).date().to_string()).unwrap_or_default();
    let range = match (filter.from, filter.to) {
        (None, None) => String::new(),
        (from, to) => {
            format!("-{}-to-{}", from.map(|d| d.to_string()).unwrap_or_else(|| "start".into()), to.map(|d| d.to_string()).unwrap_or_else(|| today.clone()))
        }
    };
    match to_csv(&incidents, &state.tz, &schools) {
        Ok(bytes) => {
            security_event(&state.store, "incidents_exported", Some(&account.name), Some(&format!("{} incidents", incidents.len()))).await;
            HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header(("Content-Disposition", format!("attachment; filename=\"kidsearch-incidents-{today}{range}.csv\"")))
                .insert_header(("Cache-Control", "no-store"))
                .body(bytes)
        }
        Err(e) => HttpResponse::InternalServerError().body(format!("could not write the CSV: {e}")),
    }
}
