//! `/staff/users` (admins only): the staff list and adding an account. The first admin is made
//! with `kidsearch user add --role admin NAME`; admins manage the rest here. A school's admin
//! sees and adds its own school's staff; a trust-wide admin sees every school's and chooses
//! the school of a new account.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use maud::html;

use super::{csrf_ok, csrf_token, expired_form, signed_in, to_login};
use crate::schools::{self, SchoolId};
use crate::staff::accounts::{add_account, list_accounts, security_event, MIN_PASSWORD_CHARS};
use crate::staff::{Role, StaffAccount};
use crate::web::layout::staff_page;
use crate::web::{paths, AppState};

fn forbidden() -> HttpResponse {
    HttpResponse::Forbidden()
        .content_type("text/html; charset=utf-8")
        .body(staff_page("Admins only", html! { p.notice { "Only an admin (the ICT technician) can manage staff accounts." } }).into_string())
}

pub async fn page(session: Session, state: web::Data<AppState>) -> HttpResponse {
    let Some(account) = signed_in(&session, &state).await else {
        return to_login();
    };
    if account.role != Role::Admin {
        return forbidden();
    }
    render(&session, &state, &account, None).await
}

async fn render(session: &Session, state: &AppState, admin: &StaffAccount, message: Option<String>) -> HttpResponse {
    let token = csrf_token(session);
    let staff = list_accounts(&state.store, admin.scope()).await.unwrap_or_default();
    // The trust view names each account's school and lets the admin choose one.
    let schools = if admin.school.is_none() { schools::list(&state.store).await.unwrap_or_default() } else { Vec::new() };
    let school_name = |id: Option<SchoolId>| match id {
        None => "Trust-wide".to_string(),
        Some(id) => schools.iter().find(|s| s.id == id).map_or_else(|| id.to_string(), |s| s.name.clone()),
    };
    let body = html! {
        h1 { "Staff accounts" }
        @if let Some(m) = message { p.notice role="status" { (m) } }
        table {
            thead { tr { th { "Name" } th { "Role" } @if admin.school.is_none() { th { "School" } } } }
            tbody { @for s in &staff { tr { td { (s.name) } td { (s.role.as_str()) } @if admin.school.is_none() { td { (school_name(s.school)) } } } } }
        }
        h2 { "Add a staff account" }
        form method="post" action=(paths::STAFF_USERS) {
            input type="hidden" name="csrf" value=(token);
            label for="name" { "Name" }
            input #name type="text" name="name" required maxlength="64" autocomplete="off";
            label for="role" { "Role" }
            select #role name="role" {
                option value="teacher" { "Teacher" }
                option value="dsl" { "Designated Safeguarding Lead" }
                option value="admin" { "Admin (ICT technician)" }
            }
            @if admin.school.is_none() {
                label for="school" { "School" }
                select #school name="school" {
                    @for s in &schools { option value=(s.id) { (s.name) } }
                    option value="trust" { "Trust-wide (admins only)" }
                }
            }
            label for="password" { "First password (at least " (MIN_PASSWORD_CHARS) " characters)" }
            input #password type="password" name="password" required minlength=(MIN_PASSWORD_CHARS) autocomplete="new-password";
            button type="submit" { "Add account" }
        }
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(staff_page("Staff accounts", body).into_string())
}

pub async fn add(body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let Some(admin) = signed_in(&session, &state).await else {
        return to_login();
    };
    if admin.role != Role::Admin {
        return forbidden();
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str()).unwrap_or("");
    if !csrf_ok(&session, Some(get("csrf"))) {
        return expired_form();
    }
    let Some(role) = Role::parse(get("role")) else {
        return render(&session, &state, &admin, Some("Choose a role.".into())).await;
    };
    // A school's admin adds to their own school; a trust-wide admin to the school chosen.
    let school = match admin.school {
        Some(own) => Some(own),
        None if get("school") == "trust" => None,
        None => match get("school").parse::<SchoolId>() {
            Ok(id) if schools::list(&state.store).await.unwrap_or_default().iter().any(|s| s.id == id) => Some(id),
            _ => return render(&session, &state, &admin, Some("Choose a school.".into())).await,
        },
    };
    let message = match add_account(&state.store, get("name"), role, get("password"), school).await {
        Ok(account) => {
            security_event(&state.store, "role_granted", Some(&account.name), Some(&format!("{} by {}", role.as_str(), admin.name))).await;
            format!("Added {} ({}).", account.name, role.as_str())
        }
        Err(e) => format!("Not added: {e}."),
    };
    render(&session, &state, &admin, Some(message)).await
}
