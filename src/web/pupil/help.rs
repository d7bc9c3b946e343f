//! "Turn off screen and tell an adult".
//!
//! - `POST /help`: the press. The incident is committed (with what was on screen), a result
//!   reported from its card is hidden for every pupil, the device's screen is covered and
//!   teachers are alerted; then the pupil lands on the dark covered screen.
//! - `GET /help`: the covered screen. It stays until an adult clears it from a dashboard or
//!   types today's adult code here; every other pupil page sends a covered device back here.
//! - `GET /help/status`: `{"covered": bool}` for the covered screen's script to poll.
//! - `POST /help/clear`: the adult code.
//!
//! The press is never refused for being outside a supervised window or on an un-enrolled
//! browser: a child must always be able to ask for help.

use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, DOCTYPE};

use super::gate;
use crate::approvals::school_day::school_day;
use crate::devices::CodeCheck;
use crate::safeguarding::Report;
use crate::search::Query;
use crate::web::form::{field, non_empty, query};
use crate::web::{paths, AppState};

/// Longest reported title kept (it came from the pupil's form, so it is bounded here).
const MAX_TITLE_CHARS: usize = 200;

pub async fn press(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> HttpResponse {
    if !same_origin(&req, &state) {
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
        result_url: reported_result(&state, &body),
        result_title: non_empty(&body, "t").map(|t| t.chars().take(MAX_TITLE_CHARS).collect()),
        category: None,
    };
    let report = Report { result_title: report.result_url.as_ref().and(report.result_title), ..report };
    match state.safeguarding.tell_adult(device.as_deref(), report).await {
        Ok(incident) if device.is_some() => {
            tracing::info!(incident = incident.id, "tell-an-adult pressed");
            see_other(paths::HELP)
        }
        Ok(incident) => see_other(&paths::help_incident(incident.id)),
        Err(e) => {
            // The child still gets the covered screen; staff see the error in the logs.
            tracing::error!(error = %e, "a tell-an-adult press could not be recorded");
            covered_page(None, None)
        }
    }
}

/// The result a pupil reported from its card: only a link the gateway signed counts.
fn reported_result(state: &AppState, body: &[u8]) -> Option<String> {
    let go = field(body, "go")?;
    let query_string = go.strip_prefix(paths::GO)?.strip_prefix('?')?;
    let (url, signature) = (field(query_string.as_bytes(), "u")?, field(query_string.as_bytes(), "s")?);
    state.links.verify(&url, &signature).then_some(url)
}

/// A pupil POST must come from our own page: if the browser says where it came from, that must
/// be this host (the device cookie is `SameSite=Lax`, so a cross-site form carries no device).
fn same_origin(req: &HttpRequest, state: &AppState) -> bool {
    let Some(origin) = req.headers().get("Origin").and_then(|o| o.to_str().ok()) else { return true };
    let host = state.client(req).host;
    origin == "null"
        || url::Url::parse(origin).ok().is_some_and(|o| {
            o.host_str().map(|h| match o.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            }) == Some(host)
        })
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("Location", location)).insert_header(("Cache-Control", "no-store")).finish()
}

/// The incident whose covered screen this request belongs to.
async fn incident_of(req: &HttpRequest, state: &AppState, form: Option<&[u8]>) -> Option<i64> {
    incident_for(gate::device_of(req, state).await.as_deref(), req, form)
}

/// As `incident_of`, for a device already looked up.
fn incident_for(device: Option<&crate::devices::Device>, req: &HttpRequest, form: Option<&[u8]>) -> Option<i64> {
    if let Some(id) = device.and_then(|d| d.covered_incident) {
        return Some(id);
    }
    let given = match form {
        Some(body) => field(body, "i"),
        None => query(req, "i"),
    };
    given.and_then(|i| i.parse().ok())
}

pub async fn covered(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    match incident_of(&req, &state, None).await {
        Some(id) if state.safeguarding.screen_covered(id).await => covered_page(Some(id), None),
        _ => see_other(paths::HOME),
    }
}

pub async fn status(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let covered = match incident_of(&req, &state, None).await {
        Some(id) => state.safeguarding.screen_covered(id).await,
        None => false,
    };
    HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(serde_json::json!({ "covered": covered }))
}

pub async fn clear(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> HttpResponse {
    if !same_origin(&req, &state) {
        return HttpResponse::Forbidden().body("This form must be sent from kidsearch itself.");
    }
    let device = gate::device_of(&req, &state).await;
    let Some(id) = incident_for(device.as_deref(), &req, Some(&body)) else { return see_other(paths::HOME) };
    if !state.safeguarding.screen_covered(id).await {
        return see_other(paths::HOME);
    }
    let who = match &device {
        Some(d) => format!("device:{}", d.id),
        None => format!("address:{}", state.client(&req).ip.map(|ip| ip.to_string()).unwrap_or_default()),
    };
    let (day, _) = school_day(state.safeguarding.now_ms(), &state.tz);
    match state.devices.check_adult_code(gate::school_of(device.as_deref()), &who, &field(&body, "code").unwrap_or_default(), &day) {
        CodeCheck::Right => {
            let by = match &device {
                Some(d) => format!("adult code on {}", d.name()),
                None => "adult code on the device".to_string(),
            };
            // The incident is this device's own (checked above): no staff scope applies.
            if let Err(e) = state.safeguarding.clear_screen(id, None, by).await {
                tracing::error!(error = %e, "clearing a covered screen failed");
                return covered_page(Some(id), Some("Something went wrong. Please clear it from the staff dashboard."));
            }
            see_other(paths::HOME)
        }
        CodeCheck::Wrong => covered_page(Some(id), Some("That code didn't work. Today's code is on the staff dashboard.")),
        CodeCheck::TooMany => covered_page(Some(id), Some("Too many wrong codes. Please clear this screen from the staff dashboard.")),
    }
}

/// The dark, calm covered screen. Nothing from before the press shows through: this is a whole
/// page, not a layer over the old one. It refreshes itself (script, or every 10 s without)
/// and goes home once an adult has cleared it.
fn covered_page(incident: Option<i64>, message: Option<&str>) -> HttpResponse {
    let page = html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { "Tell an adult now – kidsearch" }
                link rel="stylesheet" href=(paths::STYLESHEET);
                script src=(paths::SCRIPT) defer {}
                noscript { meta http-equiv="refresh" content="10"; }
            }
            body.covered data-status=(status_url(incident)) {
                main.cover-message role="alert" {
                    img src=(paths::HELP_ICON) alt="" width="120" height="120";
                    h1 { "Well done." }
                    p { "Tell an adult now." }
                }
                details.grown-ups {
                    summary { "For grown-ups" }
                    form method="post" action=(paths::HELP_CLEAR) {
                        @if let Some(i) = incident { input type="hidden" name="i" value=(i); }
                        label for="code" { "Today's adult code (on the staff dashboard)" }
                        input #code name="code" type="password" inputmode="numeric" autocomplete="off" maxlength="12";
                        button type="submit" { "Clear this screen" }
                    }
                    @if let Some(m) = message { p.code-message role="status" { (m) } }
                }
            }
        }
    };
    HttpResponse::Ok().content_type("text/html; charset=utf-8").insert_header(("Cache-Control", "no-store")).body(page.into_string())
}

fn status_url(incident: Option<i64>) -> String {
    match incident {
        Some(i) => format!("{}?i={i}", paths::HELP_STATUS),
        None => paths::HELP_STATUS.to_string(),
    }
}
