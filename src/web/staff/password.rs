//! `/staff/password`: any staff member changes their own password. The current one is asked
//! for (a session left open on a classroom PC must not be enough to take the account over);
//! every other session of the account ends, this one carries on under a new session id.

use crate::staff::throttle::Attempt;
use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;

use super::{csrf_token, html_page, require, require_form, sign_session_in, ANY_STAFF};
use crate::staff::accounts::{find_account, security_event, set_password, verify_password, MIN_PASSWORD_CHARS};
use crate::web::{form, paths, AppState};

pub async fn page(session: Session, state: web::Data<AppState>) -> HttpResponse {
    match require(&session, &state, ANY_STAFF).await {
        Ok(account) => render(&session, &account, None, actix_web::http::StatusCode::OK),
        Err(answer) => answer,
    }
}

fn render(session: &Session, account: &crate::staff::StaffAccount, message: Option<&str>, status: actix_web::http::StatusCode) -> HttpResponse {
    let token = csrf_token(session);
    let body = html! {
        h1 { "Change my password" }
        @if let Some(m) = message { p.notice role="status" { (m) } }
        p { "Every other place you are signed in is signed out when you change it." }
        form method="post" action=(paths::STAFF_PASSWORD) {
            input type="hidden" name="csrf" value=(token);
            label for="current" { "Your password now" }
            input #current type="password" name="current" required autocomplete="current-password";
            label for="password" { "New password (at least " (MIN_PASSWORD_CHARS) " characters)" }
            input #password type="password" name="password" required minlength=(MIN_PASSWORD_CHARS) autocomplete="new-password";
            button type="submit" { "Change my password" }
        }
    };
    let mut page = html_page(account, "Change my password", body);
    *page.status_mut() = status;
    page
}

pub async fn change(req: HttpRequest, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, ANY_STAFF).await {
        Ok(account) => account,
        Err(answer) => return answer,
    };
    // Guessing the current password from an open session counts as guessing at the login.
    let address = state.client(&req).ip.map(|ip| ip.to_string()).unwrap_or_default();
    let permit = match state.login_throttle.begin(&account.name, &address).await {
        Ok(Attempt::Check(permit)) => permit,
        Ok(Attempt::Locked | Attempt::Wait(_)) => {
            security_event(&state.store, "login_locked", Some(&account.name), Some(&address)).await;
            return render(
                &session,
                &account,
                Some("Too many attempts. Please wait 15 minutes and try again."),
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Ok(Attempt::Busy) => {
            return render(
                &session,
                &account,
                Some("Many people are signing in at once. Please try again in a moment."),
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            )
        }
        Err(e) => return super::store_failed("checking your password", &e),
    };
    let current = form::field(&body, "current").unwrap_or_default();
    let new = form::field(&body, "password").unwrap_or_default();
    let hash = find_account(&state.store, &account.name).await.ok().flatten().map(|c| c.hash).unwrap_or_default();
    // argon2 is deliberately slow: off the async worker.
    let verified = tokio::task::spawn_blocking(move || verify_password(&current, &hash)).await.unwrap_or(false);
    drop(permit);
    if !verified {
        security_event(&state.store, "password_change_failed", Some(&account.name), Some(&address)).await;
        return render(&session, &account, Some("Your password now is not right. Nothing was changed."), actix_web::http::StatusCode::UNAUTHORIZED);
    }
    match set_password(&state.store, &account, &new).await {
        Ok(generation) => {
            let _ = state.login_throttle.succeeded(&account.name, &address).await;
            sign_session_in(&session, account.id, generation);
            security_event(&state.store, "password_changed", Some(&account.name), None).await;
            render(&session, &account, Some("Your password is changed. Every other place you were signed in is signed out."), actix_web::http::StatusCode::OK)
        }
        Err(e) => render(&session, &account, Some(&format!("Not changed: {e}.")), actix_web::http::StatusCode::BAD_REQUEST),
    }
}
