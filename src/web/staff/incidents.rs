//! The incident register for the DSL (and the admin): tell-an-adult presses and refused
//! searches, with review status (new → reviewed → recorded elsewhere), who reviewed, notes,
//! and a CSV export for CPOMS / My Concern.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;

use super::{csrf_token, html_page, require, require_form, see_other, store_failed, SAFEGUARDING_LEADS};
use crate::safeguarding::export::{local_time, to_csv};
use crate::safeguarding::{IncidentKind, ReviewStatus, REGISTER_LIMIT};
use crate::staff::accounts::security_event;
use crate::web::{form, paths, AppState};

/// Longest note kept.
const MAX_NOTES_CHARS: usize = 4_000;

pub async fn register(req: HttpRequest, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, SAFEGUARDING_LEADS).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let status = form::query(&req, "status").and_then(|s| ReviewStatus::parse(&s));
    let incidents = match state.safeguarding.list(account.scope(), status, REGISTER_LIMIT).await {
        Ok(list) => list,
        Err(e) => return store_failed("reading the register", &e),
    };
    // The trust view says which school each incident is at.
    let schools = if account.school.is_none() { crate::schools::names(&state.store).await.unwrap_or_default() } else { Default::default() };
    let retention = state.retention;
    let token = csrf_token(&session);
    let body = html! {
        p { a href=(paths::STAFF) { "← Dashboard" } }
        h1 { "Incident register" }
        p { "Kept for " (retention.incident_days) " days, then deleted automatically. "
            a href=(paths::STAFF_INCIDENTS_CSV) { "Download as CSV" } " (for CPOMS or My Concern)." }
        nav aria-label="Filter by status" {
            a href=(paths::STAFF_INCIDENTS) { "All" }
            @for s in ReviewStatus::ALL { " · " a href=(format!("{}?status={}", paths::STAFF_INCIDENTS, s.as_str())) { (s.as_str()) } }
        }
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
    html_page("Incident register", body)
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
        table {
            tr { th { "When" } td { (local_time(incident.at_ms, &state.tz)) } }
            tr { th { "What" } td { (incident.kind.describe()) } }
            tr { th { "Device" } td { (incident.device.clone().unwrap_or_else(|| "not enrolled".into())) } }
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
        ul.alerts { @if incident.cleared_ms.is_none() || incident.result_state.as_deref() == Some("hidden") { (super::alerts::alert_item(Some(&incident), &token, &state.tz)) } }
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
    html_page(&format!("Incident {id}"), body)
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
            see_other(&paths::staff_incident(id, None))
        }
        Ok(false) => HttpResponse::NotFound().body("No such incident."),
        Err(e) => store_failed("saving the review", &e),
    }
}

pub async fn csv(session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, SAFEGUARDING_LEADS).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let incidents = match state.safeguarding.list(account.scope(), None, usize::MAX >> 1).await {
        Ok(list) => list,
        Err(e) => return store_failed("reading the register", &e),
    };
    let schools = crate::schools::names(&state.store).await.unwrap_or_default();
    match to_csv(&incidents, &state.tz, &schools) {
        Ok(bytes) => {
            security_event(&state.store, "incidents_exported", Some(&account.name), Some(&format!("{} incidents", incidents.len()))).await;
            HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header(("Content-Disposition", "attachment; filename=\"kidsearch-incidents.csv\""))
                .insert_header(("Cache-Control", "no-store"))
                .body(bytes)
        }
        Err(e) => HttpResponse::InternalServerError().body(format!("could not write the CSV: {e}")),
    }
}
