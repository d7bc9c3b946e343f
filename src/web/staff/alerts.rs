//! Live alerts for staff dashboards, and what a teacher does about one.
//!
//! - `GET /staff/alerts/stream`: Server-Sent Events. Each new incident is sent as
//!   `event: incident` with the incident as JSON (`cleared` and `result` events follow
//!   decisions); `event: catch-up` when alerts may have been missed (the dashboard re-reads
//!   its list; it does the same whenever its stream reconnects); a comment every 15 s keeps
//!   proxies from closing an idle stream.
//! - `POST /staff/incidents/{id}/clear`: clear the covered screen of that press.
//! - `POST /staff/incidents/{id}/keep-hidden` / `release`: decide on the reported result.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use maud::{html, Markup};
use tokio::sync::broadcast::error::RecvError;

use super::{require, require_form, see_other, store_failed, ANY_STAFF, SAFEGUARDING_LEADS};
use crate::safeguarding::export::local_time;
use crate::safeguarding::{Alert, Authority, Incident, IncidentKind, ToDashboards};
use crate::schools::SchoolId;
use crate::staff::accounts::security_event;
use crate::staff::StaffAccount;
use crate::web::{form, paths, AppState};
use serde::Serialize;

const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);
/// A stream ends after this long; the dashboard's `EventSource` reconnects at once, through
/// the session check every staff request passes (and so keeps an open dashboard signed in).
const STREAM_LIFETIME: std::time::Duration = std::time::Duration::from_secs(10 * 60);
/// The event that makes a dashboard re-read its alerts (kidsearch.js `catchUp`).
const CATCH_UP: &[u8] = b"event: catch-up\ndata: \n\n";

/// What a dashboard's stream carries of an incident: what a teacher needs to act, never the
/// DSL's review (status, notes, who reviewed), which only the register's readers may see.
#[derive(Serialize)]
struct DashboardIncident<'a> {
    id: i64,
    school: SchoolId,
    at_ms: i64,
    kind: IncidentKind,
    device: Option<&'a str>,
    class: Option<&'a str>,
    query: Option<&'a str>,
    page: Option<u32>,
    result_url: Option<&'a str>,
    result_title: Option<&'a str>,
    category: Option<&'a str>,
    cleared_ms: Option<i64>,
    result_state: Option<&'a str>,
}

#[derive(Serialize)]
struct DashboardAlert<'a> {
    event: &'a str,
    incident: DashboardIncident<'a>,
}

fn event_data(alert: &Alert) -> String {
    let i = &alert.incident;
    let view = DashboardAlert {
        event: alert.event,
        incident: DashboardIncident {
            id: i.id,
            school: i.school,
            at_ms: i.at_ms,
            kind: i.kind,
            device: i.device.as_deref(),
            class: i.class.as_deref(),
            query: i.query.as_deref(),
            page: i.page,
            result_url: i.result_url.as_deref(),
            result_title: i.result_title.as_deref(),
            category: i.category.as_deref(),
            cleared_ms: i.cleared_ms,
            result_state: i.result_state.as_deref(),
        },
    };
    serde_json::to_string(&view).unwrap_or_default()
}

pub async fn stream(req: HttpRequest, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, ANY_STAFF).await {
        Ok(account) => account,
        Err(answer) => return answer,
    };
    // The stream outlives the request that opened it: before each event it asks again
    // whether this session still stands (not logged out, expired, or ended by a password
    // change or removal), and it ends when it does not.
    let Some(signed_in) = SignedIn::of(&req, &session, &account) else { return super::to_login() };
    let scope = account.scope();
    let receiver = state.safeguarding.subscribe();
    let ends = tokio::time::Instant::now() + STREAM_LIFETIME;
    let hello = stream::once(async { Ok::<Bytes, actix_web::Error>(Bytes::from_static(b"retry: 2000\n: connected\n\n")) });
    let events = stream::unfold((receiver, state.clone()), move |(mut receiver, state)| {
        let signed_in = signed_in.clone();
        async move {
            let chunk = loop {
                let next = match tokio::time::timeout_at(ends.min(tokio::time::Instant::now() + KEEP_ALIVE), receiver.recv()).await {
                    Err(_) if tokio::time::Instant::now() >= ends => return None,
                    Err(_) => Bytes::from_static(b": keep-alive\n\n"),
                    // Only the alerts of the schools this account sees.
                    Ok(Ok(ToDashboards::Alert(alert))) if scope.is_some_and(|s| s != alert.incident.school) => continue,
                    Ok(Ok(ToDashboards::Alert(alert))) => {
                        Bytes::from(format!("event: {}\nid: {}\ndata: {}\n\n", alert.event, alert.incident.id, event_data(&alert)))
                    }
                    // Alerts may have been missed (this stream fell behind, or this instance lost
                    // its link to the others): the dashboard re-reads its list from the server.
                    Ok(Ok(ToDashboards::CatchUp)) | Ok(Err(RecvError::Lagged(_))) => Bytes::from_static(CATCH_UP),
                    Ok(Err(RecvError::Closed)) => return None,
                };
                if !signed_in.still(&state).await {
                    return None;
                }
                break next;
            };
            Some((Ok::<Bytes, actix_web::Error>(chunk), (receiver, state)))
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-store"))
        // Reverse proxies (nginx) must pass each event on at once.
        .insert_header(("X-Accel-Buffering", "no"))
        // Never compressed: each event must leave at once, not wait in an encoder's buffer.
        .insert_header(("Content-Encoding", "identity"))
        .streaming(hello.chain(events))
}

/// The session a stream was opened in, to ask again later whether it still stands.
#[derive(Clone)]
struct SignedIn {
    session_key: String,
    account: i64,
    generation: i64,
}

impl SignedIn {
    fn of(req: &HttpRequest, session: &Session, account: &StaffAccount) -> Option<SignedIn> {
        let session_key = super::session_key_of(req)?;
        Some(SignedIn { session_key, account: account.id, generation: super::session_generation(session) })
    }

    async fn still(&self, state: &AppState) -> bool {
        crate::staff::sessions::still_signed_in(&state.store, self.session_key.clone(), self.account, self.generation).await.unwrap_or(false)
    }
}

/// `GET /staff/alerts/open`: how many alerts wait for an adult now, and the newest one's iPad,
/// for the banner every staff page shows (kidsearch.js), as JSON.
pub async fn open_now(session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, ANY_STAFF).await {
        Ok(account) => account,
        Err(answer) => return answer,
    };
    let open = state.safeguarding.open_alerts(account.scope()).await.unwrap_or_default();
    let covered: Vec<&Incident> = open.iter().filter(|i| i.cleared_ms.is_none()).collect();
    let newest = covered.first().map(|i| i.device.clone().unwrap_or_else(|| "A browser that is not enrolled".into()));
    HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(serde_json::json!({ "open": covered.len(), "newest": newest }))
}

/// Where to go after an action: back to the page the form was on, if it is a plain staff path;
/// otherwise the dashboard. Read before acting, so a bad value never follows a done action.
fn back(body: &[u8]) -> String {
    form::field(body, "back").filter(|b| paths::is_staff_return(b)).unwrap_or_else(|| paths::STAFF.to_string())
}

pub async fn clear(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let id = path.into_inner();
    let back = back(&body);
    match state.safeguarding.clear_screen(id, account.scope(), account.name.clone()).await {
        Ok(false) => HttpResponse::NotFound().body("There is no such alert at your school, or its screen was already cleared."),
        Ok(true) => {
            security_event(&state.store, "screen_cleared", Some(&account.name), Some(&format!("incident {id}"))).await;
            see_other(&back)
        }
        Err(e) => store_failed("clearing the screen", &e),
    }
}

pub async fn keep_hidden(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    decide(path.into_inner(), true, body, session, state).await
}

pub async fn release(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    decide(path.into_inner(), false, body, session, state).await
}

async fn decide(id: i64, keep_hidden: bool, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let back = back(&body);
    let authority = if SAFEGUARDING_LEADS.contains(&account.role) { Authority::Lead } else { Authority::Teacher };
    match state.safeguarding.decide_result(id, account.scope(), keep_hidden, account.name.clone(), authority).await {
        Ok(false) => HttpResponse::Conflict().body(
            "There is no such reported result at your school, or it was already decided by the designated safeguarding lead: only they can change that now.",
        ),
        Ok(true) => {
            let what = if keep_hidden { "result_kept_hidden" } else { "result_released" };
            security_event(&state.store, what, Some(&account.name), Some(&format!("incident {id}"))).await;
            see_other(&back)
        }
        Err(e) => store_failed("deciding on the result", &e),
    }
}

/// What the alert's search was: on screen, or (a press right after a refused search) tried.
/// kidsearch.js words it the same for live alerts.
fn on_screen_label(refused: Option<&str>) -> String {
    match refused {
        Some(category) => format!("Just tried, refused ({category}): "),
        None => "On screen: ".to_string(),
    }
}

/// One alert on the dashboard: which device, what was on screen, and the three actions.
/// With `None` it is the `<template>` the dashboard's script fills in for live alerts (text
/// only; the form actions get the incident id).
pub fn alert_item(incident: Option<&Incident>, csrf: &str, tz: &jiff::tz::TimeZone) -> Markup {
    let action = |name: &str| match incident {
        Some(i) => paths::staff_incident(i.id, Some(name)),
        None => format!("{}/{{id}}/{name}", paths::STAFF_INCIDENTS),
    };
    let cleared = incident.is_some_and(|i| i.cleared_ms.is_some());
    let has_result = incident.is_none_or(|i| i.result_url.is_some());
    let result_pending = incident.is_none_or(|i| i.result_state.as_deref() == Some("hidden"));
    html! {
        li.cleared[cleared] data-incident=[incident.map(|i| i.id)] {
            strong.alert-device { (incident.map(|i| i.device.clone().unwrap_or_else(|| "A browser that is not enrolled".into())).unwrap_or_default()) }
            " at " span.alert-time { (incident.map(|i| local_time(i.at_ms, tz)).unwrap_or_default()) }
            // (In the template, hidden: the script shows it for an alert with a provisional id.)
            @if incident.is_none_or(|i| i.id < 0) {
                p.not-saved hidden[incident.is_none()] { strong { "Not yet saved." } " The server's disk is refusing writes: this alert is kept in memory and stored as soon as the disk takes it. If the server is stopped first, it is only in the server's log. Tell the ICT technician." }
            }
            p {
                span.alert-label { (on_screen_label(incident.and_then(|i| i.category.as_deref()))) }
                span.alert-query { (incident.and_then(|i| i.query.clone()).unwrap_or_default()) }
            }
            @if has_result { p.needs-result { "Reported result (hidden for everyone until you decide): " span.alert-result { (incident.and_then(|i| i.result_title.clone()).unwrap_or_default()) } } }
            @if !cleared {
                form method="post" action=[incident.map(|_| action("clear"))] data-action=(action("clear")) {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { "Clear the pupil's screen" }
                }
            }
            @if has_result && result_pending {
                form.needs-result method="post" action=[incident.map(|_| action("keep-hidden"))] data-action=(action("keep-hidden")) {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { "Keep it hidden for everyone" }
                }
                form.needs-result method="post" action=[incident.map(|_| action("release"))] data-action=(action("release")) {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { "Release it (it was fine)" }
                }
            }
        }
    }
}
