//! `/staff/activity`: every pupil query (allowed, refused with its category, served from an
//! approval), click-through and blocked click, by device and class, filterable. Plus the
//! retention in force and the admin's "purge now".

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;

use super::{csrf_token, html_page, require, require_form, store_failed, ANY_STAFF};
use crate::safeguarding::export::local_time;
use crate::safeguarding::retention::purge;
use crate::staff::accounts::security_event;
use crate::staff::{Role, StaffAccount};
use crate::store::{ActivityFilter, ActivityKind};
use crate::web::{form, paths, AppState};

const SHOWN: usize = 500;

/// How far either side of a moment `around` shows (an incident's "what the iPad did then").
pub const AROUND_MINUTES: i64 = 10;

/// The log's filters from the query string (the page's form and its CSV link share them), and
/// the days asked for. `around=<ms>` (an incident's link) shows `AROUND_MINUTES` either side
/// of that moment instead of the last days.
fn filter_of(req: &HttpRequest, state: &AppState, account: &StaffAccount) -> (ActivityFilter, i64) {
    let kind = form::query(req, "kind").and_then(|k| ActivityKind::parse(&k));
    let class = form::query(req, "class").map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    let device = form::query(req, "device").map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    let days = form::query(req, "days").and_then(|d| d.parse::<i64>().ok()).unwrap_or(1).clamp(1, 3650);
    let (since_ms, until_ms) = match around(req) {
        Some(at) => (at - AROUND_MINUTES * 60_000, Some(at + AROUND_MINUTES * 60_000)),
        None => (state.safeguarding.now_ms() - days * 86_400_000, None),
    };
    (ActivityFilter { school: account.scope(), kind, class, device, since_ms, until_ms }, days)
}

fn around(req: &HttpRequest) -> Option<i64> {
    form::query(req, "around").and_then(|a| a.trim().parse::<i64>().ok())
}

/// `/staff/activity.csv`: the rows the same filters show, for a spreadsheet (UTF-8 with a BOM,
/// cells that would run as formulas defused).
pub async fn csv(req: HttpRequest, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let (filter, _) = filter_of(&req, &state, &account);
    let rows = match state.store.activity(filter, usize::MAX >> 1).await {
        Ok(rows) => rows,
        Err(e) => return store_failed("reading the activity log", &e),
    };
    let cells = rows.iter().map(|r| {
        vec![
            local_time(r.at_ms, &state.tz),
            r.kind.describe().to_string(),
            r.device.clone().unwrap_or_default(),
            r.class.clone().unwrap_or_default(),
            r.query.clone().unwrap_or_default(),
            r.url.clone().unwrap_or_default(),
            r.category.clone().unwrap_or_default(),
            r.repeats.to_string(),
        ]
    });
    match crate::safeguarding::export::rows_to_csv(&["at", "what", "device", "class", "query", "url", "category", "repeats"], cells) {
        Ok(bytes) => {
            security_event(&state.store, "activity_exported", Some(&account.name), Some(&format!("{} rows", rows.len()))).await;
            HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header(("Content-Disposition", "attachment; filename=\"kidsearch-activity.csv\""))
                .insert_header(("Cache-Control", "no-store"))
                .body(bytes)
        }
        Err(e) => HttpResponse::InternalServerError().body(format!("could not write the CSV: {e}")),
    }
}

pub async fn page(req: HttpRequest, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let (filter, days) = filter_of(&req, &state, &account);
    let (kind, class, device) = (filter.kind, filter.class.clone(), filter.device.clone());
    let rows = match state.store.activity(filter, SHOWN).await {
        Ok(rows) => rows,
        Err(e) => return store_failed("reading the activity log", &e),
    };
    let token = csrf_token(&session);
    let devices = state.devices.list(account.scope()).await.unwrap_or_default();
    let classes = state.devices.classes(account.scope()).await.unwrap_or_default();
    let csv_link = format!("{}?{}", paths::STAFF_ACTIVITY_CSV, req.query_string());
    let around = around(&req);
    let body = html! {
        h1 { "Activity" }
        (super::flash_notice(&session))
        @if let Some(at) = around {
            p.notice role="status" { "Showing " (AROUND_MINUTES) " minutes either side of " (local_time(at, &state.tz))
                @if let Some(d) = &device { " on " strong { (d) } } ". " a href=(paths::STAFF_ACTIVITY) { "Show the last day instead" } }
        }
        p { "Activity is kept for " (state.retention.activity_days) " days and incidents for " (state.retention.incident_days)
            " days; older rows are deleted every hour. Nothing here identifies a pupil: rows name the iPad and class." }
        form.inline-form method="get" action=(paths::STAFF_ACTIVITY) {
            div { label for="kind" { "What" }
                select #kind name="kind" {
                    option value="" { "Everything" }
                    @for k in ActivityKind::ALL { option value=(k.as_str()) selected[Some(k) == kind] { (k.describe()) } }
                } }
            div { label for="class" { "Class" }
                select #class name="class" {
                    option value="" { "Any" }
                    @for (c, _) in &classes { option value=(c) selected[class.as_deref().is_some_and(|f| f.to_lowercase() == c.to_lowercase())] { (c) } }
                } }
            // Picked from the enrolled iPads: "Oak — iPad 3" has an em dash nobody types.
            div { label for="device" { "iPad" }
                select #device name="device" {
                    option value="" { "Any" }
                    @for d in &devices { option value=(d.device.name()) selected[device.as_deref() == Some(d.device.name().as_str())] { (d.device.name()) } }
                } }
            @if let Some(at) = around { input type="hidden" name="around" value=(at); }
            @else { div { label for="days" { "Days" } input #days type="number" name="days" min="1" max="3650" value=(days); } }
            button type="submit" { "Show" }
        }
        p { (rows.len()) " rows" @if rows.len() == SHOWN { " (the newest " (SHOWN) ")" } ". " a href=(csv_link) { "Download these as CSV" } }
        table {
            thead { tr { th { "When" } th { "What" } th { "Device" } th { "Search or page" } th { "Category" } } }
            tbody {
                @for r in &rows {
                    tr {
                        td { (local_time(r.at_ms, &state.tz)) }
                        td { (r.kind.describe()) }
                        td { (r.device.clone().unwrap_or_else(|| "—".into())) }
                        td {
                            (r.query.clone().or_else(|| r.url.clone()).unwrap_or_default())
                            @if r.repeats > 1 { " " span.repeats title=(format!("{} times in a row", r.repeats)) { "×" (r.repeats) } }
                        }
                        td {
                            (r.category.clone().unwrap_or_default())
                            @if r.kind == ActivityKind::Refused { @if let Some(q) = &r.query { (super::overblocks::report_button(q, &token)) } }
                        }
                    }
                }
            }
        }
        @if account.role == Role::Admin {
            h2 { "Data protection" }
            form method="post" action=(paths::STAFF_RETENTION_PURGE) {
                input type="hidden" name="csrf" value=(token);
                button type="submit" { "Delete everything past its retention now" }
            }
        }
    };
    html_page(&account, "Activity", body)
}

pub async fn purge_now(body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, &[Role::Admin]).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    // Deleting cannot be undone: asked first, saying what goes.
    if !super::confirmed(&body) {
        return super::confirm_page(
            &session,
            &account,
            super::Confirm {
                title: "Delete old records now?",
                question: "Delete everything past its retention now?".into(),
                consequence: format!(
                    "Activity older than {} days and incidents older than {} days are deleted for good (this is done every hour anyway). Nothing newer is touched.",
                    state.retention.activity_days, state.retention.incident_days
                ),
                action: paths::STAFF_RETENTION_PURGE,
                yes: "Yes, delete them now",
                fields: Vec::new(),
                back: paths::STAFF_ACTIVITY,
            },
        );
    }
    match purge(&state.store, state.safeguarding.now_ms(), state.retention).await {
        Ok(p) => {
            security_event(&state.store, "retention_purge", Some(&account.name), Some(&format!("{} activity rows, {} incidents", p.activity, p.incidents)))
                .await;
            super::flash(&session, format!("Deleted {} activity rows and {} incidents past their retention.", p.activity, p.incidents));
            super::see_other(paths::STAFF_ACTIVITY)
        }
        Err(e) => store_failed("the purge", &e),
    }
}
