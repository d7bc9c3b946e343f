//! `/staff/over-blocks`: staff report a refused search that should not have been refused (from
//! the activity log or the incident register); an admin makes a report a local exception or
//! dismisses it, and removes exceptions no longer wanted (`crate::overblocks`).

use actix_session::Session;
use actix_web::{web, HttpResponse};
use maud::{html, Markup};

use super::{csrf_token, html_page, require, require_form, see_other, store_failed, ANY_STAFF};
use crate::safeguarding::export::local_time;
use crate::schools::DEFAULT_SCHOOL;
use crate::staff::accounts::security_event;
use crate::staff::Role;
use crate::web::{form, paths, AppState};

/// The "This should not have been refused" button for a refused search `query`.
pub fn report_button(query: &str, token: &str) -> Markup {
    html! {
        form.inline-form method="post" action=(paths::STAFF_OVER_BLOCKS_REPORT) {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="q" value=(query);
            button type="submit" { "This should not have been refused" }
        }
    }
}

pub async fn report(body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let Some(query) = form::non_empty(&body, "q") else { return HttpResponse::BadRequest().body("Which search?") };
    let school = account.school.unwrap_or(DEFAULT_SCHOOL);
    match state.overblocks.report(school, query.clone(), account.name.clone()).await {
        Ok(Some(_)) => html_page(
            &account,
            "Reported",
            html! {
                p.notice role="status" { "Thank you: an admin will look at \u{201c}" (query) "\u{201d} and can let pupils search it." }
                p { a href=(paths::STAFF_ACTIVITY) { "Back to activity" } " · " a href=(paths::STAFF) { "Dashboard" } }
            },
        ),
        Ok(None) => html_page(&account, "Not refused", html! { p.notice { "\u{201c}" (query) "\u{201d} is not refused now: nothing to report." } }),
        Err(e) => store_failed("reporting the search", &e),
    }
}

pub async fn page(session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, &[Role::Admin]).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let (reports, exceptions) = match (state.overblocks.open_reports(account.scope()).await, state.overblocks.exceptions().await) {
        (Ok(r), Ok(e)) => (r, e),
        (Err(e), _) | (_, Err(e)) => return store_failed("reading the over-block reports", &e),
    };
    let token = csrf_token(&session);
    let body = html! {
        h1 { "Over-blocks" }
        p { "Searches staff said should not have been refused. Making one a local exception lets pupils search it at once, "
            "on every server; the rest of a search is still checked." }
        h2 { "Reports" }
        @if reports.is_empty() { p { "No reports waiting." } }
        @else {
            table {
                thead { tr { th { "When" } th { "Search" } th { "Refused as" } th { "Reported by" } th { "Decision" } } }
                tbody {
                    @for r in &reports {
                        tr {
                            td { (local_time(r.at_ms, &state.tz)) }
                            td { (r.query) }
                            td { (r.category.clone().unwrap_or_default()) }
                            td { (r.reported_by) }
                            td {
                                form.inline-form method="post" action=(paths::staff_over_block(r.id, "exception")) {
                                    input type="hidden" name="csrf" value=(token);
                                    label for=(format!("phrase-{}", r.id)) { "Exception" }
                                    input id=(format!("phrase-{}", r.id)) type="text" name="phrase" value=(r.query);
                                    button type="submit" { "Make it a local exception" }
                                }
                                form.inline-form method="post" action=(paths::staff_over_block(r.id, "dismiss")) {
                                    input type="hidden" name="csrf" value=(token);
                                    button type="submit" { "Dismiss" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Local exceptions" }
        @if exceptions.is_empty() { p { "None yet." } }
        @else {
            table {
                thead { tr { th { "Never refused" } th { "Added by" } th { "When" } th {} } }
                tbody {
                    @for x in &exceptions {
                        tr {
                            td { (x.phrase) }
                            td { (x.added_by) }
                            td { (local_time(x.added_ms, &state.tz)) }
                            td {
                                form.inline-form method="post" action=(paths::staff_local_exception_remove(x.id)) {
                                    input type="hidden" name="csrf" value=(token);
                                    button type="submit" { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    html_page(&account, "Over-blocks", body)
}

pub async fn make_exception(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, &[Role::Admin]).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let Some(phrase) = form::non_empty(&body, "phrase") else { return HttpResponse::BadRequest().body("Which words?") };
    match state.overblocks.make_exception(path.into_inner(), account.scope(), phrase.clone(), account.name.clone()).await {
        Ok(true) => {
            security_event(&state.store, "local_exception_added", Some(&account.name), Some(&phrase)).await;
            see_other(paths::STAFF_OVER_BLOCKS)
        }
        Ok(false) => HttpResponse::NotFound().body("No such report waiting (decided already?)"),
        Err(e) => store_failed("making the exception", &e),
    }
}

pub async fn dismiss(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, &[Role::Admin]).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    match state.overblocks.dismiss(path.into_inner(), account.scope(), account.name.clone()).await {
        Ok(true) => see_other(paths::STAFF_OVER_BLOCKS),
        Ok(false) => HttpResponse::NotFound().body("No such report waiting (decided already?)"),
        Err(e) => store_failed("dismissing the report", &e),
    }
}

pub async fn remove_exception(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, &[Role::Admin]).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let id = path.into_inner();
    match state.overblocks.remove_exception(id).await {
        Ok(true) => {
            security_event(&state.store, "local_exception_removed", Some(&account.name), Some(&id.to_string())).await;
            see_other(paths::STAFF_OVER_BLOCKS)
        }
        Ok(false) => HttpResponse::NotFound().body("No such exception"),
        Err(e) => store_failed("removing the exception", &e),
    }
}
