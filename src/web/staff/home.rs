//! `/staff`: the signed-in home (the dashboard grows here with the teacher and safeguarding
//! issues), and logout.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use maud::html;

use super::alerts::alert_item;
use super::charts;
use super::{csrf_ok, csrf_token, expired_form, signed_in, to_login};
use crate::approvals::school_day::school_day;
use crate::safeguarding::export::local_time;
use crate::safeguarding::IncidentKind;
use crate::staff::accounts::security_event;
use crate::supervision::MAX_MINUTES;
use crate::web::layout::staff_page;
use crate::web::{paths, AppState};

pub async fn page(session: Session, state: web::Data<AppState>) -> HttpResponse {
    let Some(account) = signed_in(&session, &state).await else {
        return to_login();
    };
    let token = csrf_token(&session);
    let now = state.safeguarding.now_ms();
    let (day, _) = school_day(now, &state.tz);
    let scope = account.scope();
    let alerts = state.safeguarding.open_alerts(scope).await.unwrap_or_default();
    let midnight = jiff::Timestamp::from_millisecond(now).ok().and_then(|t| t.to_zoned(state.tz.clone()).start_of_day().ok());
    let day_start = midnight.as_ref().map_or(now, |z| z.timestamp().as_millisecond());
    let refused_today = state.safeguarding.since(scope, day_start, IncidentKind::RefusedQuery).await.unwrap_or_default();
    let windows = state.supervision.open_windows(scope).await.unwrap_or_default();
    let classes = state.devices.classes(scope).await.unwrap_or_default();
    let school_name = match account.school {
        Some(id) => crate::store::schools::list(&state.store).await.unwrap_or_default().into_iter().find(|s| s.id == id).map(|s| s.name),
        None => None,
    };
    let approved_today = state.approvals.today(scope).await;
    let canaries = crate::canary::latest(&state.store).await.unwrap_or_default();
    let engines_ready = state.search.engines().all().iter().filter(|e| e.is_ready()).count();
    let engines = state.search.engines();
    // Named as staff read them, a staff-only one saying pupils are not affected.
    let canary_failed: Vec<String> = canaries
        .iter()
        .filter(|c| !c.ok)
        .map(|c| match engines.get(&c.engine) {
            Some(e) if e.audience == crate::engines::Audience::Staff => format!("{} ({})", e.name, crate::canary::STAFF_ONLY),
            Some(e) => e.name.clone(),
            None => c.engine.clone(),
        })
        .collect();
    let per_hour = match &midnight {
        Some(midnight) => charts::searches_per_hour(&state.store, scope, midnight).await.unwrap_or_default(),
        None => Vec::new(),
    };
    let by_category = charts::refusals_by_category(&state.store, scope, now).await.unwrap_or_default();
    let per_week = charts::incidents_per_week(&state.store, scope, now).await.unwrap_or_default();
    let (waiting, lost) = state.safeguarding.waiting_counts();
    let first_steps = super::checklist::block(&state, &account, &token).await;
    let body = html! {
        h1 { "kidsearch staff" }
        (super::flash_notice(&session))
        @if !state.storage.writable() {
            div.banner.storage role="alert" {
                strong { "kidsearch cannot save anything right now." }
                " Its database does not take writes: the server's data disk may be full, read-only or damaged. Alerts still reach this dashboard; tell the ICT technician (the server's log and /healthz say more)."
            }
        }
        @if waiting > 0 || lost > 0 {
            div.banner.storage role="alert" {
                strong { (waiting) " safeguarding records are not yet saved." }
                " The server's disk is refusing writes (full, read-only or damaged). Alerts still reach this dashboard and covered screens stay covered; the records are kept in memory and stored as soon as the disk takes them. Tell the ICT technician."
                @if lost > 0 { " " (lost) " could not even be kept in memory: they are only in the server's log." }
            }
        }
        p { "Signed in as " strong { (account.name) } " (" (account.role.as_str()) ")"
            @match (&account.school, &school_name) {
                (None, _) => { ", trust-wide: you see every school's alerts, incidents and activity." }
                (Some(_), Some(name)) => { ", " (name) "." }
                (Some(_), None) => { "." }
            } }
        @if let Some(steps) = first_steps { (steps) }
        section aria-labelledby="alerts-heading" {
            h2 #alerts-heading { "Alerts" }
            ul.alerts #alerts data-stream=(paths::STAFF_ALERTS_STREAM) aria-live="assertive" {
                @if alerts.is_empty() { li #no-alerts .cleared { "No alerts. New ones appear here at once." } }
                @for i in &alerts { (alert_item(Some(i), &token, &state.tz)) }
            }
            template #alert-template { (alert_item(None, &token, &state.tz)) }
            @if let Some(school) = account.school {
                p { "Today's adult code (type it on a covered iPad to clear it there): " span.adult-code { (state.devices.adult_code(school, &day)) } }
            }
        }
        section aria-labelledby="search-heading" {
            h2 #search-heading { "Search for classes" }
            @if !state.supervision.required() {
                p { "Supervised sessions are off for the whole school (setting " code { "supervised_sessions" } "): enrolled iPads can search at any time." }
            } @else {
                @if windows.is_empty() { p { "Search is resting for every class." } }
                ul.windows {
                    @for w in &windows {
                        li.inline-form {
                            span { strong { (w.class) } " can search until " (local_time(w.ends_ms, &state.tz)) ": "
                                // Counted down by the script; without it, as it was when the page was drawn.
                                span.countdown data-ends=(w.ends_ms) data-now=(now) { (minutes_left(w.ends_ms, now)) } " (opened by " (w.opened_by) ")." }
                            form method="post" action=(paths::STAFF_CLASSES_EXTEND) {
                                input type="hidden" name="csrf" value=(token);
                                input type="hidden" name="class" value=(w.class);
                                button type="submit" aria-label=(format!("+10 min for {}", w.class)) { "+10 min" }
                            }
                            form method="post" action=(paths::STAFF_CLASSES_CLOSE) {
                                input type="hidden" name="csrf" value=(token);
                                input type="hidden" name="class" value=(w.class);
                                button type="submit" { "Close now" }
                            }
                        }
                    }
                }
                form.inline-form method="post" action=(paths::STAFF_CLASSES_OPEN) {
                    input type="hidden" name="csrf" value=(token);
                    div { label for="open-class" { "Class" } (crate::web::layout::class_choice("open-class", &classes, None)) }
                    div { label for="minutes" { "Minutes" } input #minutes type="number" name="minutes" min="1" max=(MAX_MINUTES) value="45" required; }
                    button type="submit" { "Open search" }
                }
            }
        }
        section aria-labelledby="glance-heading" {
            h2 #glance-heading { "At a glance" }
            p { "Approved for today: "
                @if approved_today.is_empty() { "none yet." }
                @for (i, a) in approved_today.iter().enumerate() {
                    @if i > 0 { ", " }
                    strong { (a.query) } @if let Some(c) = &a.class { " (" (c) ")" }
                }
            }
            p { "Engines: " (engines_ready) " ready. "
                @if canaries.is_empty() { "The canary has not run yet. " }
                @else if canary_failed.is_empty() { "The last canary found every engine answering. " }
                @else { strong { "The last canary found a problem with: " (canary_failed.join(", ")) ". " } }
                a href=(paths::STAFF_HEALTH) { "Engine health" } }
            div.charts {
                (charts::bar_chart("chart-hours", "Pupil searches per hour today", &per_hour))
                (charts::bar_chart("chart-refusals", "Refused searches by category, last 7 days", &by_category))
                (charts::bar_chart("chart-incidents", "Incidents per week, last 8 weeks", &per_week))
            }
        }
        section aria-labelledby="today-heading" {
            h2 #today-heading { "Today" }
            p { (state.devices.active_since(scope, 5)) " iPads active in the last 5 minutes. "
                span #refused-today-count { (refused_today.len()) } " refused searches today." }
            // Always there, so the dashboard's script can add a refused search as it happens.
            ul #refused-today { @for i in refused_today.iter().take(10) {
                li data-incident=(i.id) { (local_time(i.at_ms, &state.tz)) ": " (i.device.clone().unwrap_or_else(|| "not enrolled".into())) " — " (i.category.clone().unwrap_or_default()) }
            } }
        }
        p { "Data kept: activity " (state.retention.activity_days) " days, incidents " (state.retention.incident_days) " days." }
        form method="post" action=(paths::STAFF_LOGOUT) {
            input type="hidden" name="csrf" value=(token);
            button type="submit" { "Sign out" }
        }
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(staff_page("Staff", Some(account.role), body).into_string())
}

/// "38 minutes left", as the dashboard's script words it too (kidsearch.js `countdowns`).
fn minutes_left(ends_ms: i64, now_ms: i64) -> String {
    match (ends_ms - now_ms) / 60_000 {
        ..=0 => "less than a minute left".into(),
        1 => "1 minute left".into(),
        n => format!("{n} minutes left"),
    }
}

pub async fn logout(body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let csrf = crate::web::form::field(&body, "csrf");
    if !csrf_ok(&session, csrf.as_deref()) {
        return expired_form();
    }
    if let Some(account) = signed_in(&session, &state).await {
        security_event(&state.store, "logout", Some(&account.name), None).await;
    }
    // purge() deletes the session server-side, so the old cookie is worthless.
    session.purge();
    to_login()
}
