//! `/staff/setup`: "Create the first admin" (issue 28), while no staff account has ever
//! existed — for a browser on the server's own machine (`client::on_this_machine`), or with
//! the one-time setup code from the server's log (`staff::first_admin`). The login page
//! offers it; once an account exists this page is gone (404).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;

use super::login::{form_token, form_token_ok};
use super::sign_session_in;
use crate::web::layout::staff_page;
use crate::web::{paths, AppState};

fn page(status: StatusCode, body: maud::Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(staff_page("Create the first admin", None, body).into_string())
}

fn gone() -> HttpResponse {
    page(
        StatusCode::NOT_FOUND,
        html! {
            h1 { "kidsearch is set up" }
            p { "Staff accounts exist already. " a href=(paths::STAFF_LOGIN) { "Sign in" } "; an admin adds more accounts under Users." }
        },
    )
}

fn form(req: &HttpRequest, local: bool, message: Option<&str>, status: StatusCode) -> HttpResponse {
    let token = form_token(req);
    page(
        status,
        html! {
            h1 { "Create the first admin" }
            p { "No staff account exists yet. The first is an admin: the ICT technician or the head teacher, who then adds the teachers and the designated safeguarding lead under Users." }
            @if let Some(m) = message { p.notice role="alert" { (m) } }
            @if !local {
                p { "This browser is not on the server's own machine, so type the " strong { "setup code" }
                    " kidsearch printed in its log when it started (" code { "journalctl -u kidsearch" } " or the terminal it runs in)." }
            }
            form method="post" action=(paths::STAFF_SETUP) {
                input type="hidden" name="csrf" value=(token);
                @if !local {
                    label for="code" { "Setup code" }
                    input #code type="text" name="code" autocomplete="off" required;
                }
                label for="name" { "Your name (for signing in)" }
                input #name type="text" name="name" autocomplete="username" required;
                label for="password" { "Password (at least 12 characters)" }
                input #password type="password" name="password" autocomplete="new-password" required;
                button type="submit" { "Create the first admin" }
            }
        },
    )
}

pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    match state.first_run.open(&state.store).await {
        Ok(true) => form(&req, crate::web::client::on_this_machine(&req, &state.trusted_proxies), None, StatusCode::OK),
        Ok(false) => gone(),
        Err(e) => super::store_failed("checking for staff accounts", &e),
    }
}

pub async fn create(req: HttpRequest, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let (mut name, mut password, mut code, mut csrf) = (String::new(), String::new(), String::new(), None);
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "name" => name = v.into_owned(),
            "password" => password = v.into_owned(),
            "code" => code = v.into_owned(),
            "csrf" => csrf = Some(v.into_owned()),
            _ => {}
        }
    }
    match state.first_run.open(&state.store).await {
        Ok(true) => {}
        Ok(false) => return gone(),
        Err(e) => return super::store_failed("checking for staff accounts", &e),
    }
    let local = crate::web::client::on_this_machine(&req, &state.trusted_proxies);
    if !form_token_ok(&req, csrf.as_deref()) || !crate::web::origin::same_origin_post(&req, &state.client(&req).host) {
        return form(&req, local, Some("This form has expired. Please try again."), StatusCode::FORBIDDEN);
    }
    let address = state.client(&req).ip.map(|ip| ip.to_string()).unwrap_or_default();
    if !local && !state.first_run.code_matches(&code) {
        crate::staff::accounts::security_event(&state.store, "first_admin_refused", None, Some(&address)).await;
        return form(&req, local, Some("That setup code is not right. It is in the server's log, printed when kidsearch started."), StatusCode::FORBIDDEN);
    }
    match state.first_run.create(&state.store, &name, &password).await {
        Ok(Some(account)) => {
            session.clear();
            sign_session_in(&session, account.id, 0);
            tracing::info!(name = %account.name, from = %address, "the first admin was created in the browser");
            HttpResponse::SeeOther().insert_header(("Location", paths::STAFF)).finish()
        }
        Ok(None) => gone(),
        Err(crate::staff::accounts::AddUserError::Store(e)) => super::store_failed("creating the first admin", &e),
        Err(e) => form(&req, local, Some(&format!("Not created: {e}.")), StatusCode::UNPROCESSABLE_ENTITY),
    }
}
