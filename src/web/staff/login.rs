//! `/staff/login`: name and password, CSRF-protected, throttled. The same answer for an unknown
//! name and a wrong password.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;

use super::{csrf_ok, csrf_token, sign_session_in};
use crate::staff::accounts::{dummy_hash, find_account, security_event, verify_password, Credentials};
use crate::web::layout::staff_page;
use crate::web::{paths, AppState};

pub async fn form(session: Session) -> HttpResponse {
    login_page(&session, None, actix_web::http::StatusCode::OK)
}

fn login_page(session: &Session, message: Option<&str>, status: actix_web::http::StatusCode) -> HttpResponse {
    let token = csrf_token(session);
    let body = html! {
        h1 { "Staff sign in" }
        @if let Some(m) = message { p.notice role="alert" { (m) } }
        form method="post" action=(paths::STAFF_LOGIN) {
            input type="hidden" name="csrf" value=(token);
            label for="name" { "Name" }
            input #name type="text" name="name" autocomplete="username" required;
            label for="password" { "Password" }
            input #password type="password" name="password" autocomplete="current-password" required;
            button type="submit" { "Sign in" }
        }
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(staff_page("Staff sign in", body).into_string())
}

pub async fn submit(req: HttpRequest, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let (mut name, mut password, mut csrf) = (String::new(), String::new(), None);
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "name" => name = v.into_owned(),
            "password" => password = v.into_owned(),
            "csrf" => csrf = Some(v.into_owned()),
            _ => {}
        }
    }
    if !csrf_ok(&session, csrf.as_deref()) {
        return login_page(&session, Some("This form has expired. Please sign in again."), actix_web::http::StatusCode::FORBIDDEN);
    }
    let address = state.client(&req).ip.map(|ip| ip.to_string()).unwrap_or_default();
    let throttle = &state.login_throttle;
    if throttle.locked(&name, &address) {
        security_event(&state.store, "login_locked", Some(&name), Some(&address)).await;
        return login_page(
            &session,
            Some("Too many attempts. Please wait 15 minutes and try again, or ask the ICT technician."),
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        );
    }
    tokio::time::sleep(throttle.delay(&name, &address)).await;

    let account = find_account(&state.store, &name).await.ok().flatten();
    // argon2 is deliberately slow: verify off the async worker, and against a dummy hash when
    // the name is unknown, so both failures look and take the same.
    let hash = account.as_ref().map_or_else(|| dummy_hash().to_string(), |c| c.hash.clone());
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false);
    match account {
        Some(Credentials { account, generation, .. }) if verified => {
            throttle.succeeded(&name);
            // A fresh session id at login (no fixation), a fresh CSRF token.
            session.clear();
            sign_session_in(&session, account.id, generation);
            security_event(&state.store, "login", Some(&account.name), Some(&address)).await;
            HttpResponse::SeeOther().insert_header(("Location", paths::STAFF)).finish()
        }
        _ => {
            throttle.failed(&name, &address);
            security_event(&state.store, "login_failed", Some(&name), Some(&address)).await;
            login_page(&session, Some("That name or password is not right."), actix_web::http::StatusCode::UNAUTHORIZED)
        }
    }
}
