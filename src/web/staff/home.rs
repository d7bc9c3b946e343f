//! `/staff`: the signed-in home (the dashboard grows here with the teacher and safeguarding
//! issues), and logout.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use maud::html;

use super::{csrf_ok, csrf_token, expired_form, signed_in, to_login};
use crate::staff::accounts::security_event;
use crate::web::layout::staff_page;
use crate::web::{paths, AppState};

pub async fn page(session: Session, state: web::Data<AppState>) -> HttpResponse {
    let Some(account) = signed_in(&session, &state).await else {
        return to_login();
    };
    let token = csrf_token(&session);
    let body = html! {
        h1 { "kidsearch staff" }
        p { "Signed in as " strong { (account.name) } " (" (account.role.as_str()) ")." }
        ul {
            li { a href=(paths::STAFF_PRERUN) { "Pre-run a search and approve it for today" } }
            li { a href=(paths::STAFF_APPROVALS) { "Approved searches" } }
            @if account.role == crate::staff::Role::Admin { li { a href=(paths::STAFF_USERS) { "Staff accounts" } } }
        }
        form method="post" action=(paths::STAFF_LOGOUT) {
            input type="hidden" name="csrf" value=(token);
            button type="submit" { "Sign out" }
        }
    };
    HttpResponse::Ok().content_type("text/html; charset=utf-8").insert_header(("Cache-Control", "no-store")).body(staff_page("Staff", body).into_string())
}

pub async fn logout(body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let csrf = url::form_urlencoded::parse(&body).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned());
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
