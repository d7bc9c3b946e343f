//! `/staff/users` (admins only): the staff list, adding an account, another role for one (and,
//! for a trust-wide admin, another school), setting a new password for one (a forgotten
//! password) and removing one (someone who left). The first admin is made
//! with `kidsearch user add --role admin NAME`; admins manage the rest here. A school's admin
//! sees and manages its own school's staff; a trust-wide admin sees every school's and chooses
//! the school of a new account. A new password and a removal end the account's sessions at
//! once (a new role applies from its next request); an admin's
//! own account is changed at `/staff/password`, never removed from here. An account locked
//! after wrong passwords shows "Unlock sign-in" (a new password unlocks it too).

use actix_session::Session;
use actix_web::{web, HttpResponse};
use maud::html;

use super::{csrf_ok, csrf_token, expired_form, signed_in, to_login};
use crate::schools::SchoolId;
use crate::staff::accounts::{
    account_by_id, add_account, list_accounts, remove_account, security_event, set_password, set_role, set_school, MIN_PASSWORD_CHARS,
};
use crate::staff::{Role, StaffAccount};
use crate::store::schools;
use crate::web::layout::staff_page;
use crate::web::{paths, AppState};

fn forbidden(role: Role) -> HttpResponse {
    HttpResponse::Forbidden()
        .content_type("text/html; charset=utf-8")
        .body(staff_page("Admins only", Some(role), html! { p.notice { "Only an admin (the ICT technician) can manage staff accounts." } }).into_string())
}

pub async fn page(session: Session, state: web::Data<AppState>) -> HttpResponse {
    let Some(account) = signed_in(&session, &state).await else {
        return to_login();
    };
    if account.role != Role::Admin {
        return forbidden(account.role);
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
    // Accounts someone is locked out of (or must wait to try), for the "Unlock sign-in" button.
    let locked = state.login_throttle.locked_names().await.unwrap_or_default();
    let body = html! {
        h1 { "Staff accounts" }
        @if let Some(m) = message { p.notice role="status" { (m) } }
        table {
            thead { tr { th { "Name" } th { "Role" } @if admin.school.is_none() { th { "School" } } th { "Role, forgotten password, or left" } } }
            tbody { @for s in &staff { tr {
                td { (s.name) } td { (s.role.as_str()) } @if admin.school.is_none() { td { (school_name(s.school)) } }
                td {
                    @if s.id == admin.id {
                        a href=(paths::STAFF_PASSWORD) { "Change my password" }
                    } @else {
                        form.inline-form method="post" action=(paths::staff_user(s.id, "role")) {
                            input type="hidden" name="csrf" value=(token);
                            label for=(format!("role-{}", s.id)) { "Role of " (s.name) }
                            select id=(format!("role-{}", s.id)) name="role" {
                                @for role in [Role::Teacher, Role::Dsl, Role::Admin] {
                                    option value=(role.as_str()) selected[role == s.role] { (role.as_str()) }
                                }
                            }
                            button type="submit" { "Change role" }
                        }
                        @if admin.school.is_none() {
                            form.inline-form method="post" action=(paths::staff_user(s.id, "school")) {
                                input type="hidden" name="csrf" value=(token);
                                label for=(format!("school-{}", s.id)) { "School of " (s.name) }
                                select id=(format!("school-{}", s.id)) name="school" {
                                    @for school in &schools { option value=(school.id) selected[s.school == Some(school.id)] { (school.name) } }
                                    option value="trust" selected[s.school.is_none()] { "Trust-wide (admins only)" }
                                }
                                button type="submit" { "Move" }
                            }
                        }
                        form.inline-form method="post" action=(paths::staff_user(s.id, "password")) {
                            input type="hidden" name="csrf" value=(token);
                            label for=(format!("password-{}", s.id)) { "New password for " (s.name) }
                            input id=(format!("password-{}", s.id)) type="password" name="password" required minlength=(MIN_PASSWORD_CHARS) autocomplete="new-password";
                            button type="submit" { "Set new password" }
                        }
                        @if locked.contains(&s.name.trim().to_lowercase()) {
                            form.inline-form method="post" action=(paths::staff_user(s.id, "unlock")) {
                                input type="hidden" name="csrf" value=(token);
                                p.notice { "Sign-in is locked after many wrong passwords." }
                                button type="submit" { "Unlock sign-in for " (s.name) }
                            }
                        }
                        form.inline-form method="post" action=(paths::staff_user(s.id, "remove")) {
                            input type="hidden" name="csrf" value=(token);
                            label.hide-result for=(format!("left-{}", s.id)) {
                                input id=(format!("left-{}", s.id)) type="checkbox" name="left" value="yes" required;
                                (s.name) " has left: remove the account"
                            }
                            button.danger type="submit" { "Remove " (s.name) }
                        }
                    }
                }
            } } }
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
        .body(staff_page("Staff accounts", Some(admin.role), body).into_string())
}

pub async fn add(body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let Some(admin) = signed_in(&session, &state).await else {
        return to_login();
    };
    if admin.role != Role::Admin {
        return forbidden(admin.role);
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

/// The account `admin` may manage: one of their school's (any, for a trust-wide admin), not
/// their own, not removed. Otherwise the answer to send.
async fn managed(admin: &StaffAccount, id: i64, state: &AppState, session: &Session) -> Result<StaffAccount, HttpResponse> {
    if id == admin.id {
        return Err(
            render(session, state, admin, Some("Change your own password at \"Change my password\"; your own account cannot be removed here.".into())).await
        );
    }
    match account_by_id(&state.store, id).await {
        Ok(Some(account)) if admin.school.is_none() || account.school == admin.school => Ok(account),
        Ok(_) => Err(HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("There is no such staff account at your school.")),
        Err(e) => Err(super::store_failed("finding the account", &e)),
    }
}

/// An admin's form on `/staff/users/{id}/…`: an admin, the CSRF token, an account they manage.
async fn admin_action(id: i64, body: &[u8], session: &Session, state: &AppState) -> Result<(StaffAccount, StaffAccount), HttpResponse> {
    let Some(admin) = signed_in(session, state).await else { return Err(to_login()) };
    if admin.role != Role::Admin {
        return Err(forbidden(admin.role));
    }
    if !csrf_ok(session, crate::web::form::field(body, "csrf").as_deref()) {
        return Err(expired_form());
    }
    let account = managed(&admin, id, state, session).await?;
    Ok((admin, account))
}

pub async fn reset_password(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let (admin, account) = match admin_action(path.into_inner(), &body, &session, &state).await {
        Ok(both) => both,
        Err(answer) => return answer,
    };
    let password = crate::web::form::field(&body, "password").unwrap_or_default();
    let message = match set_password(&state.store, &account, &password).await {
        Ok(_) => {
            // A forgotten password is often found out by being locked out.
            let _ = state.login_throttle.unlock(&account.name).await;
            security_event(&state.store, "password_reset", Some(&account.name), Some(&format!("by {}", admin.name))).await;
            format!("{} has a new password; they were signed out everywhere. Tell them in person, not by email.", account.name)
        }
        Err(e) => format!("Not changed: {e}."),
    };
    render(&session, &state, &admin, Some(message)).await
}

/// Clears the wrong-password counts that lock `id` out (from some address, or everywhere).
pub async fn unlock(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let (admin, account) = match admin_action(path.into_inner(), &body, &session, &state).await {
        Ok(both) => both,
        Err(answer) => return answer,
    };
    let message = match state.login_throttle.unlock(&account.name).await {
        Ok(_) => {
            security_event(&state.store, "login_unlocked", Some(&account.name), Some(&format!("by {}", admin.name))).await;
            format!("{} can sign in again.", account.name)
        }
        Err(e) => return super::store_failed("unlocking the sign-in", &e),
    };
    render(&session, &state, &admin, Some(message)).await
}

pub async fn change_role(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let (admin, account) = match admin_action(path.into_inner(), &body, &session, &state).await {
        Ok(both) => both,
        Err(answer) => return answer,
    };
    let Some(role) = crate::web::form::field(&body, "role").as_deref().and_then(Role::parse) else {
        return render(&session, &state, &admin, Some("Choose a role.".into())).await;
    };
    let message = match set_role(&state.store, &account, role).await {
        Ok(()) => {
            security_event(
                &state.store,
                "role_changed",
                Some(&account.name),
                Some(&format!("{} → {} by {}", account.role.as_str(), role.as_str(), admin.name)),
            )
            .await;
            format!("{} is now {}.", account.name, role.as_str())
        }
        Err(e) => format!("Not changed: {e}."),
    };
    render(&session, &state, &admin, Some(message)).await
}

/// A trust-wide admin moves an account to another school (or makes an admin trust-wide).
pub async fn move_school(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let (admin, account) = match admin_action(path.into_inner(), &body, &session, &state).await {
        Ok(both) => both,
        Err(answer) => return answer,
    };
    if admin.school.is_some() {
        return forbidden(admin.role);
    }
    let known = schools::list(&state.store).await.unwrap_or_default();
    let school = match crate::web::form::field(&body, "school").as_deref() {
        Some("trust") => None,
        Some(id) => match id.parse::<SchoolId>() {
            Ok(id) if known.iter().any(|s| s.id == id) => Some(id),
            _ => return render(&session, &state, &admin, Some("Choose a school.".into())).await,
        },
        None => return render(&session, &state, &admin, Some("Choose a school.".into())).await,
    };
    let to = school.map_or_else(|| "trust-wide".to_string(), |id| known.iter().find(|s| s.id == id).map(|s| s.name.clone()).unwrap_or_default());
    let message = match set_school(&state.store, &account, school).await {
        Ok(()) => {
            security_event(&state.store, "school_changed", Some(&account.name), Some(&format!("to {to} by {}", admin.name))).await;
            format!("{} is now at {to}.", account.name)
        }
        Err(e) => format!("Not moved: {e}."),
    };
    render(&session, &state, &admin, Some(message)).await
}

pub async fn remove(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let (admin, account) = match admin_action(path.into_inner(), &body, &session, &state).await {
        Ok(both) => both,
        Err(answer) => return answer,
    };
    // A removal cannot be undone: the box says it was meant (a slip of the finger on an iPad).
    if crate::web::form::field(&body, "left").as_deref() != Some("yes") {
        return render(&session, &state, &admin, Some(format!("Not removed: tick \"{} has left\" first.", account.name))).await;
    }
    let message = match remove_account(&state.store, &account).await {
        Ok(_) => {
            security_event(&state.store, "account_removed", Some(&account.name), Some(&format!("by {}", admin.name))).await;
            format!(
                "Removed {}: they can no longer sign in, and were signed out everywhere. What they did stays in the records under their name.",
                account.name
            )
        }
        Err(e) => return super::store_failed("removing the account", &e),
    };
    render(&session, &state, &admin, Some(message)).await
}
