//! `/staff/hidden` (the DSL and the admin): the reported results kept hidden for good — what,
//! at which school, who decided and when — each with "Release it": a result kept hidden by
//! mistake must not stay hidden only because its alert has gone from every dashboard.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use maud::html;

use super::{csrf_token, flash, flash_notice, html_page, require, require_form, see_other, store_failed, SAFEGUARDING_LEADS};
use crate::safeguarding::export::local_time;
use crate::staff::accounts::security_event;
use crate::web::{form, paths, AppState};

pub async fn page(session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, SAFEGUARDING_LEADS).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let kept = match state.safeguarding.kept_hidden(account.scope()).await {
        Ok(k) => k,
        Err(e) => return store_failed("reading the results kept hidden", &e),
    };
    let schools = if account.school.is_none() { crate::store::schools::names(&state.store).await.unwrap_or_default() } else { Default::default() };
    let token = csrf_token(&session);
    let body = html! {
        h1 { "Results kept hidden" }
        (flash_notice(&session))
        p { "Results a member of staff chose to keep hidden after a pupil reported them. Pupils never get them, in any search, until they are released here." }
        @if kept.is_empty() {
            p { "No results are kept hidden." }
        } @else {
            table {
                thead { tr { th { "Result" } @if account.school.is_none() { th { "School" } } th { "Kept hidden by" } th {} } }
                tbody {
                    @for k in &kept {
                        tr {
                            td { (k.title.clone().unwrap_or_default()) br; code { (k.url) }
                                @if let Some(id) = k.incident { br; a href=(paths::staff_incident(id, None)) { "The report (incident " (id) ")" } } }
                            @if account.school.is_none() { td { (schools.get(&k.school).cloned().unwrap_or_default()) } }
                            td { (k.decided_by.clone().unwrap_or_default()) @if let Some(at) = k.decided_ms { ", " (local_time(at, &state.tz)) } }
                            td {
                                form method="post" action=(paths::STAFF_HIDDEN_RELEASE) {
                                    input type="hidden" name="csrf" value=(token);
                                    input type="hidden" name="school" value=(k.school);
                                    input type="hidden" name="url" value=(k.url);
                                    button type="submit" { "Release it" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    html_page(&account, "Results kept hidden", body)
}

pub async fn release(body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, SAFEGUARDING_LEADS).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let (Some(school), Some(url)) = (form::field(&body, "school").and_then(|s| s.parse().ok()), form::field(&body, "url")) else {
        return HttpResponse::BadRequest().body("Which result? Release it from the list of results kept hidden.");
    };
    // Only a school the account reads: an admin of one school cannot release another's.
    if account.school.is_some_and(|own| own != school) {
        return HttpResponse::NotFound().body("There is no such result kept hidden at your school.");
    }
    match state.safeguarding.release_kept(school, url.clone(), account.name.clone()).await {
        Ok(true) => {
            security_event(&state.store, "result_released", Some(&account.name), Some(&url)).await;
            flash(&session, format!("Released: pupils can get {url} again."));
            see_other(paths::STAFF_HIDDEN)
        }
        Ok(false) => {
            flash(&session, "That result was not kept hidden any more (someone released it already).");
            see_other(paths::STAFF_HIDDEN)
        }
        Err(e) => store_failed("releasing the result", &e),
    }
}
