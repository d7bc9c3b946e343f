//! `/staff/security`: the security log, for admins. Who signed in and from where, failed
//! sign-ins and lockouts, role, school and password changes, removals, exports — newest first,
//! at most `SHOWN` rows, filterable by kind and days; narrowed to the admin's school.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;

use super::{html_page, require, store_failed};
use crate::safeguarding::export::local_time;
use crate::staff::security_log::{kinds, recent, LogFilter};
use crate::staff::Role;
use crate::web::{form, paths, AppState};

const SHOWN: usize = 500;
const DAY_MS: i64 = 86_400_000;

pub async fn page(req: HttpRequest, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, &[Role::Admin]).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let known = match kinds(&state.store, account.scope()).await {
        Ok(k) => k,
        Err(e) => return store_failed("reading the security log", &e),
    };
    // Only a kind the log has: anything else typed into the address shows everything.
    let kind = form::query(&req, "kind").filter(|k| known.contains(k));
    let days = form::query(&req, "days").and_then(|d| d.trim().parse::<i64>().ok()).unwrap_or(30).clamp(1, 3650);
    let filter = LogFilter { scope: account.scope(), kind: kind.clone(), since_ms: state.safeguarding.now_ms() - days * DAY_MS, limit: SHOWN };
    let events = match recent(&state.store, filter).await {
        Ok(events) => events,
        Err(e) => return store_failed("reading the security log", &e),
    };
    let trust_wide = account.school.is_none();
    let schools = if trust_wide { crate::store::schools::names(&state.store).await.unwrap_or_default() } else { Default::default() };
    let body = html! {
        h1 { "Security log" }
        p { "Sign-ins, failed sign-ins and lockouts, role, school and password changes, removed accounts, exports and other staff actions"
            @if !trust_wide { " at your school" } ". Kept for " (state.retention.incident_days) " days, as incidents are." }
        form.inline-form method="get" action=(paths::STAFF_SECURITY) {
            div { label for="kind" { "What" }
                select #kind name="kind" {
                    option value="" { "Everything" }
                    @for k in &known { option value=(k) selected[Some(k) == kind.as_ref()] { (k) } }
                } }
            div { label for="days" { "Days" } input #days type="number" name="days" min="1" max="3650" value=(days); }
            button type="submit" { "Show" }
        }
        p { (events.len()) " events" @if events.len() == SHOWN { " (the newest " (SHOWN) ")" } "." }
        table {
            thead { tr { th { "When" } th { "What" } th { "Account" } th { "Detail" } @if trust_wide { th { "School" } } } }
            tbody {
                @for e in &events {
                    tr {
                        td { (local_time(e.at_ms, &state.tz)) }
                        td { (e.kind) }
                        td { (e.name.clone().unwrap_or_else(|| "—".into())) }
                        td { (e.detail.clone().unwrap_or_default()) }
                        @if trust_wide { td { (e.school.and_then(|s| schools.get(&s).cloned()).unwrap_or_else(|| "—".into())) } }
                    }
                }
            }
        }
    };
    html_page(&account, "Security log", body)
}
