//! "Turn off screen and tell an adult".
//!
//! - `POST /help`: the press. The incident is committed (with what was on screen), a result
//!   reported from its card is hidden for every pupil, the device's screen is covered and
//!   teachers are alerted; then the pupil lands on the dark covered screen. When the disk
//!   refuses the write, all of that still happens, in memory, and the incident waits to be
//!   stored (`safeguarding::waiting`).
//! - `GET /help`: the covered screen. It stays until an adult clears it from a dashboard or
//!   types today's adult code here; every other pupil page sends a covered device back here.
//! - `GET /help/status`: `{"covered": bool}` for the covered screen's script to poll.
//! - `POST /help/clear`: the adult code.
//!
//! A request only ever sees or clears its own covered screen: an enrolled device's own
//! incident, or for a browser that is not enrolled the incident its signed token names (the
//! token is handed out only in the answer to that browser's press). The adult code is the
//! code of the incident's school; wrong codes are counted per screen and per school.
//!
//! The press is never refused for being outside a supervised window or on an un-enrolled
//! browser: a child must always be able to ask for help.

use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, DOCTYPE};

use super::gate::{self, Pupil};
use crate::approvals::school_day::school_day;
use crate::devices::CodeCheck;
use crate::query::Query;
use crate::safeguarding::Report;
use crate::web::form::{field, non_empty, query};
use crate::web::{origin, paths, AppState};

/// Longest reported title kept (it came from the pupil's form, so it is bounded here).
const MAX_TITLE_CHARS: usize = 200;

pub async fn press(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> HttpResponse {
    if !origin::same_origin_post(&req, &state.client(&req).host) {
        return HttpResponse::Forbidden().body("This form must be sent from kidsearch itself.");
    }
    let device = gate::device_of(&req, &state).await;
    if let Some(d) = &device {
        // Pressed again while covered (a double tap): one incident is enough.
        if d.covered_incident.is_some() {
            return see_other(paths::HELP);
        }
    }
    let report = Report {
        query: field(&body, "q").and_then(|q| Query::parse(&q).ok()).map(|q| q.as_str().to_string()),
        page: field(&body, "page").and_then(|p| p.trim().parse::<u32>().ok()).map(|p| p.clamp(1, 100)),
        result_url: reported_result(&state, gate::school_of(device.as_deref()), &body),
        result_title: non_empty(&body, "t").map(|t| t.chars().take(MAX_TITLE_CHARS).collect()),
        category: None,
    };
    // What the pupil had just tried may be a search the policy refused (its page shows no
    // words): say so, as the policy says it now, not as the form claims.
    let policy = state.policy.current();
    let refused = report.query.as_deref().and_then(|q| Query::parse(q).ok()).and_then(|q| policy.check_query(&q)).map(str::to_string);
    let report = Report { result_title: report.result_url.as_ref().and(report.result_title), category: refused, ..report };
    if device.is_none() {
        let address = state.client(&req).ip.map(|ip| ip.to_string()).unwrap_or_default();
        if !state.safeguarding.anonymous_press_allowed(&address) {
            // Many presses from one browser that is not enrolled: the child still sees the
            // covered screen, but no more alerts are raised from this address for a while
            // (they would push real pupils' alerts down the dashboard).
            tracing::warn!("anonymous tell-an-adult presses from one address are being rate-limited");
            let mut page = covered_page(None, None, None);
            *page.status_mut() = actix_web::http::StatusCode::TOO_MANY_REQUESTS;
            return page;
        }
    }
    // Never an error: a press the disk refuses still alerts and covers (kept in memory).
    let incident = state.safeguarding.tell_adult(device.as_deref(), report).await;
    tracing::info!(incident = incident.id, "tell-an-adult pressed");
    match device {
        Some(_) => see_other(paths::HELP),
        None => see_other(&paths::help_incident(&state.devices.help_token(incident.id))),
    }
}

/// The result a pupil reported from its card: only a link the gateway signed for the pupil's
/// school counts.
fn reported_result(state: &AppState, school: crate::schools::SchoolId, body: &[u8]) -> Option<String> {
    let go = field(body, "go")?;
    let query_string = go.strip_prefix(paths::GO)?.strip_prefix('?')?;
    state.links.verify(school, query_string).ok()
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("Location", location)).insert_header(("Cache-Control", "no-store")).finish()
}

/// The covered screen this request may see, and the token that names it for a browser that is
/// not enrolled: an enrolled device's own covered incident (never one named in the request),
/// or, for a browser without a device, the incident its signed `i` token names.
async fn own_screen(req: &HttpRequest, state: &AppState, form: Option<&[u8]>) -> (Pupil, Option<(i64, Option<String>)>) {
    let device = gate::device_of(req, state).await;
    let screen = match &device {
        Some(d) => d.covered_incident.map(|id| (id, None)),
        None => {
            let given = match form {
                Some(body) => field(body, "i"),
                None => query(req, "i"),
            };
            given.and_then(|token| state.devices.incident_of_token(&token).map(|id| (id, Some(token))))
        }
    };
    (device, screen)
}

pub async fn covered(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    match own_screen(&req, &state, None).await {
        (_, Some((id, token))) if state.safeguarding.covered_screen(id).await.is_some() => covered_page(token.as_deref(), None, None),
        _ => see_other(paths::HOME),
    }
}

pub async fn status(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let covered = match own_screen(&req, &state, None).await {
        (_, Some((id, _))) => state.safeguarding.covered_screen(id).await.is_some(),
        _ => false,
    };
    HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(serde_json::json!({ "covered": covered }))
}

pub async fn clear(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> HttpResponse {
    if !origin::same_origin_post(&req, &state.client(&req).host) {
        return HttpResponse::Forbidden().body("This form must be sent from kidsearch itself.");
    }
    let (device, Some((id, token))) = own_screen(&req, &state, Some(&body)).await else { return see_other(paths::HOME) };
    let Some(incident) = state.safeguarding.covered_screen(id).await else { return see_other(paths::HOME) };
    let (day, _) = school_day(state.safeguarding.now_ms(), &state.tz);
    // The code of the school the pressing device belongs to, and no other school's.
    let typed = field(&body, "code").unwrap_or_default();
    match state.devices.check_adult_code(incident.school, id, &typed, &day) {
        CodeCheck::Right => {
            let by = match &device {
                Some(d) => format!("adult code on {}", d.name()),
                None => "adult code on the device".to_string(),
            };
            // The incident is this device's own (checked above): no staff scope applies.
            if let Err(e) = state.safeguarding.clear_screen(id, None, by).await {
                tracing::error!(error = %e, "clearing a covered screen failed");
                return covered_page(token.as_deref(), Some("Something went wrong. Please clear it from the staff dashboard."), None);
            }
            see_other(paths::HOME)
        }
        // The wrong try stays in the box, so the grown-up sees what was typed and mends it.
        CodeCheck::Wrong => covered_page(token.as_deref(), Some("That code is not right. Today's code is on the staff dashboard."), Some(&typed)),
        CodeCheck::TooMany => covered_page(token.as_deref(), Some("Too many wrong codes. Please clear this screen from the staff dashboard."), None),
    }
}

/// The dark, calm covered screen. Nothing from before the press shows through: this is a whole
/// page, not a layer over the old one. It refreshes itself (script, or every 10 s without)
/// and goes home once an adult has cleared it.
/// `typed`: a wrong try, shown again in the box (digits and spaces only, as the box takes).
fn covered_page(token: Option<&str>, message: Option<&str>, typed: Option<&str>) -> HttpResponse {
    let typed: Option<String> = typed.map(|t| t.chars().filter(|c| c.is_ascii_digit() || *c == ' ').take(12).collect());
    let page = html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="same-origin";
                title { "Tell an adult now – kidsearch" }
                link rel="stylesheet" href=(paths::STYLESHEET);
                script src=(paths::SCRIPT) defer {}
                noscript { meta http-equiv="refresh" content="10"; }
            }
            body.covered data-status=(status_url(token)) {
                main.cover-message role="alert" {
                    img src=(paths::HELP_ICON) alt="" width="120" height="120";
                    h1 { "Well done." }
                    p { "Tell an adult now." }
                }
                // Open again after a try, so the grown-up sees what happened.
                details.grown-ups open[message.is_some()] {
                    summary { "For grown-ups" }
                    form method="post" action=(paths::HELP_CLEAR) {
                        @if let Some(t) = token { input type="hidden" name="i" value=(t); }
                        label for="code" { "Today's adult code (on the staff dashboard)" }
                        // Digits shown as typed: a code for today that the grown-up reads off the
                        // dashboard, not a password a child must not see.
                        input #code name="code" type="text" inputmode="numeric" pattern="[0-9 ]*" autocomplete="off" maxlength="12" value=[typed.as_deref()];
                        button type="submit" { "Clear this screen" }
                    }
                    @if let Some(m) = message { p.code-message role="status" { (m) } }
                }
            }
        }
    };
    HttpResponse::Ok().content_type("text/html; charset=utf-8").insert_header(("Cache-Control", "no-store")).body(page.into_string())
}

fn status_url(token: Option<&str>) -> String {
    match token {
        Some(t) => format!("{}?i={t}", paths::HELP_STATUS),
        None => paths::HELP_STATUS.to_string(),
    }
}
