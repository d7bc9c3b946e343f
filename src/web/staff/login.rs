//! `/staff/login`: name and password, CSRF-protected (a stateless signed token: showing the
//! form stores nothing), throttled (`staff::throttle`). The same answer for an unknown
//! name and a wrong password.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;

use super::{sign_session_in, SessionCookieKey};
use crate::staff::accounts::{dummy_hash, find_account, security_event, verify_password, Credentials};
use crate::staff::throttle::Attempt;
use crate::store::now_ms;
use crate::web::layout::staff_page;
use crate::web::{paths, AppState};
use actix_web::http::StatusCode;

pub async fn form(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    // The first run: no account to sign in with yet, so the page says how to make one.
    let first_run = state.first_run.open(&state.store).await.unwrap_or(false);
    login_page_with(&req, None, StatusCode::OK, first_run)
}

/// How long a login form's token is good for.
const FORM_TOKEN_MS: i64 = 2 * 3600 * 1000;

/// The login form's CSRF token, `<expiry ms>.<HMAC>`: stateless, so showing the form (which
/// anyone may ask for, as often as they like) stores nothing; a session row exists only once
/// someone has signed in.
pub(super) fn form_token(req: &HttpRequest) -> String {
    let expires = now_ms() + FORM_TOKEN_MS;
    format!("{expires}.{}", token_signature(req, expires).unwrap_or_default())
}

fn token_signature(req: &HttpRequest, expires: i64) -> Option<String> {
    let key = req.app_data::<web::Data<SessionCookieKey>>()?;
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.signing()), format!("login-form:{expires}").as_bytes());
    Some(crate::secrets::hex(&tag.as_ref()[..16]))
}

pub(super) fn form_token_ok(req: &HttpRequest, token: Option<&str>) -> bool {
    let Some((expires, signature)) = token.and_then(|t| t.split_once('.')) else { return false };
    let Ok(expires) = expires.parse::<i64>() else { return false };
    expires > now_ms() && token_signature(req, expires).is_some_and(|expected| crate::secrets::constant_time_eq(&expected, signature))
}

fn login_page(req: &HttpRequest, message: Option<&str>, status: StatusCode) -> HttpResponse {
    login_page_with(req, message, status, false)
}

fn login_page_with(req: &HttpRequest, message: Option<&str>, status: StatusCode, first_run: bool) -> HttpResponse {
    let token = form_token(req);
    let body = html! {
        @if first_run {
            section.checklist.first-run aria-labelledby="first-run" {
                h2 #first-run { "Welcome to kidsearch" }
                p { "No staff account exists yet. The first one is an admin, who then adds the teachers and the safeguarding lead." }
                p { a.button href=(paths::STAFF_SETUP) { "Create the first admin" } }
                p { "On the server's own computer this needs nothing more; from another computer, the setup code kidsearch printed in its log when it started." }
            }
        }
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
        .body(staff_page("Staff sign in", None, body).into_string())
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
    // The token says the form came from us; the origin check that another site's page did not
    // post it (signing a teacher's browser into someone else's account).
    if !form_token_ok(&req, csrf.as_deref()) || !crate::web::origin::same_origin_post(&req, &state.client(&req).host) {
        return login_page(&req, Some("This form has expired. Please sign in again."), StatusCode::FORBIDDEN);
    }
    let address = state.client(&req).ip.map(|ip| ip.to_string()).unwrap_or_default();
    let permit = match state.login_throttle.begin(&name, &address).await {
        Ok(Attempt::Check(permit)) => permit,
        Ok(Attempt::Locked) => {
            security_event(&state.store, "login_locked", Some(&name), Some(&address)).await;
            return login_page(
                &req,
                Some("Too many attempts from here. Please wait 15 minutes and try again, or ask an admin to unlock your sign-in."),
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Ok(Attempt::Wait(wait)) => {
            security_event(&state.store, "login_slowed", Some(&name), Some(&address)).await;
            let message = format!(
                "Many wrong passwords have been tried for this name. Please wait {} seconds and try again, or ask an admin to unlock your sign-in.",
                wait.as_secs().max(1)
            );
            return login_page(&req, Some(&message), StatusCode::TOO_MANY_REQUESTS);
        }
        Ok(Attempt::Busy) => return login_page(&req, Some("Many people are signing in at once. Please try again in a moment."), StatusCode::TOO_MANY_REQUESTS),
        Err(e) => {
            tracing::error!(error = %e, "counting a sign-in attempt failed");
            return login_page(
                &req,
                Some("Signing in is not possible right now: kidsearch could not write to its database (the server's data disk may be full, read-only or damaged). Please try again in a minute, or tell the ICT technician."),
                StatusCode::SERVICE_UNAVAILABLE,
            );
        }
    };

    let account = find_account(&state.store, &name).await.ok().flatten();
    // argon2 is deliberately slow: verify off the async worker, and against a dummy hash when
    // the name is unknown, so both failures look and take the same.
    let hash = account.as_ref().map_or_else(|| dummy_hash().to_string(), |c| c.hash.clone());
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false);
    drop(permit);
    match account {
        Some(Credentials { account, generation, .. }) if verified => {
            if let Err(e) = state.login_throttle.succeeded(&name, &address).await {
                tracing::warn!(error = %e, "could not clear the sign-in attempts after a sign-in");
            }
            // A fresh session id at login (no fixation), a fresh CSRF token.
            session.clear();
            sign_session_in(&session, account.id, generation);
            security_event(&state.store, "login", Some(&account.name), Some(&address)).await;
            HttpResponse::SeeOther().insert_header(("Location", paths::STAFF)).finish()
        }
        _ => {
            security_event(&state.store, "login_failed", Some(&name), Some(&address)).await;
            login_page(&req, Some("That name or password is not right."), StatusCode::UNAUTHORIZED)
        }
    }
}
