//! `/staff/devices`: the enrolled iPads, a one-time enrolment link (and its QR code) for the
//! next one, and revoking a lost device. Any staff member may enrol: a teacher sets up their
//! own class's iPads.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;

use super::{
    confirm_page, confirmed, csrf_token, flash, flash_notice, html_page, own_school, require, require_form, see_other, store_failed, Confirm, ANY_STAFF,
};
use crate::devices::{clean_name, LINK_MINUTES, SETUP_CODE_MINUTES};
use crate::safeguarding::export::local_time;
use crate::staff::accounts::security_event;
use crate::staff::StaffAccount;
use crate::web::{form, paths, AppState};

pub async fn page(session: Session, state: web::Data<AppState>) -> HttpResponse {
    match require(&session, &state, ANY_STAFF).await {
        Ok(account) => render(&session, &state, &account, None).await,
        Err(answer) => answer,
    }
}

/// A link just made: its absolute URL (for the QR code) and the token; the class and iPad it
/// is for (the form then offers the same class and the next iPad's number).
struct NewLink {
    url: String,
    token: String,
    class: String,
    label: String,
}

/// "iPad 3" → "iPad 4"; a label that does not end in a number gets none.
fn next_label(label: &str) -> String {
    let digits = label.chars().rev().take_while(char::is_ascii_digit).count();
    let (stem, number) = label.split_at(label.len() - digits);
    match number.parse::<u64>() {
        Ok(n) => format!("{stem}{}", n + 1),
        Err(_) => String::new(),
    }
}

async fn render(session: &Session, state: &AppState, account: &StaffAccount, new_link: Option<NewLink>) -> HttpResponse {
    let token = csrf_token(session);
    let devices = match state.devices.list(account.scope()).await {
        Ok(d) => d,
        Err(e) => return store_failed("reading the devices", &e),
    };
    let classes = state.devices.classes(account.scope()).await.unwrap_or_default();
    let body = html! {
        h1 { "Devices" }
        (flash_notice(session))
        @if let Some(link) = &new_link {
            section.notice role="status" {
                h2 { "Enrol " (link.class) " — " (link.label) }
                p { "Open this link on the iPad (or scan the code with its camera). It works once, for " (LINK_MINUTES) " minutes." }
                p { a #enrol-link href=(link.url) { (link.url) } }
                img src=(paths::staff_enrol_qr(&link.token)) alt="QR code of the enrolment link" width="240" height="240";
                p { "Or, for kidsearch on the iPad's Home Screen (it keeps apart from Safari, so a link opened in Safari would set up Safari instead): open it, and on its \"This device is not set up yet\" page type the set-up code "
                    span.setup-code-shown #setup-code { (state.devices.setup_code(&link.token)) }
                    " — it works once, for " (SETUP_CODE_MINUTES) " minutes." }
            }
        }
        h2 { "Enrol an iPad" }
        form.inline-form method="post" action=(paths::STAFF_DEVICES) {
            input type="hidden" name="csrf" value=(token);
            div {
                label for="class" { "Class" }
                input #class type="text" name="class" required maxlength="40" placeholder="Oak" list="enrolled-classes" value=[new_link.as_ref().map(|l| l.class.as_str())];
                datalist #enrolled-classes { @for (class, _) in &classes { option value=(class) {} } }
            }
            div {
                label for="label" { "Which iPad" }
                input #label type="text" name="label" required maxlength="40" placeholder="iPad 3" value=[new_link.as_ref().map(|l| next_label(&l.label)).filter(|l| !l.is_empty())];
            }
            button type="submit" { "Make an enrolment link" }
        }
        h2 { "Enrolled (" (devices.len()) ")" }
        @if devices.is_empty() {
            p { "No iPads yet." }
        } @else {
            table {
                thead { tr { th { "Class" } th { "iPad" } th { "Enrolled" } th { "Last seen" } th { "Screen" } th {} } }
                tbody {
                    @for d in &devices {
                        tr {
                            td { (d.device.class) }
                            td { (d.device.label) }
                            td { (local_time(d.enrolled_ms, &state.tz)) }
                            td { (d.last_seen_ms.map(|m| local_time(m, &state.tz)).unwrap_or_else(|| "—".into())) }
                            td { @if d.device.covered_incident.is_some() { strong { "covered — see alerts" } } @else { "ok" } }
                            td {
                                form method="post" action=(paths::staff_device_revoke(d.device.id)) {
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
    html_page(account, "Devices", body)
}

pub async fn create_link(req: HttpRequest, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let (Some(class), Some(label)) = (form::field(&body, "class").and_then(|c| clean_name(&c)), form::field(&body, "label").and_then(|l| clean_name(&l)))
    else {
        return HttpResponse::BadRequest().body("Give a class and an iPad name, each 1 to 40 characters.");
    };
    let school = match own_school(&account) {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    match state.devices.create_link(school, class.clone(), label.clone(), account.id).await {
        Ok(token) => {
            security_event(&state.store, "enrol_link_made", Some(&account.name), Some(&format!("{class} — {label}"))).await;
            let url = state.client(&req).url(&paths::enrol(&token));
            render(&session, &state, &account, Some(NewLink { url, token, class, label })).await
        }
        Err(e) => store_failed("making the enrolment link", &e),
    }
}

/// The QR code of an unused enrolment link, as SVG.
pub async fn qr(req: HttpRequest, path: web::Path<String>, session: Session, state: web::Data<AppState>) -> HttpResponse {
    if let Err(answer) = require(&session, &state, ANY_STAFF).await {
        return answer;
    }
    let token = path.into_inner();
    if !matches!(state.devices.peek_link(&token).await, Ok(Some(_))) {
        return HttpResponse::NotFound().body("This enrolment link was used or has expired.");
    }
    let url = state.client(&req).url(&paths::enrol(&token));
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => {
            let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(240, 240).build();
            HttpResponse::Ok().content_type("image/svg+xml").insert_header(("Cache-Control", "no-store")).body(svg)
        }
        Err(e) => HttpResponse::InternalServerError().body(format!("could not draw the QR code: {e}")),
    }
}

pub async fn revoke(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let id = path.into_inner();
    let devices = match state.devices.list(account.scope()).await {
        Ok(d) => d,
        Err(e) => return store_failed("reading the devices", &e),
    };
    let Some(name) = devices.iter().find(|d| d.device.id == id).map(|d| d.device.name()) else {
        return HttpResponse::NotFound().body("There is no such device at your school (it may have been removed already).");
    };
    // Removing cannot be undone (the iPad must be enrolled again): asked first.
    if !confirmed(&body) {
        return confirm_page(
            &session,
            &account,
            Confirm {
                title: "Remove this iPad?",
                question: format!("Remove {name}?"),
                consequence: "It stops working for kidsearch at once (its next search says it is not set up). To use it again, enrol it again with a new link. What it did stays in the activity log.".into(),
                action: &paths::staff_device_revoke(id),
                yes: "Yes, remove it",
                fields: Vec::new(),
                back: paths::STAFF_DEVICES,
            },
        );
    }
    match state.devices.revoke(id, account.scope()).await {
        Ok(false) => HttpResponse::NotFound().body("There is no such device at your school."),
        Ok(true) => {
            security_event(&state.store, "device_removed", Some(&account.name), Some(&format!("device {id}"))).await;
            flash(&session, format!("Removed {name}. It can no longer search; enrol it again with a new link to use it."));
            see_other(paths::STAFF_DEVICES)
        }
        Err(e) => store_failed("removing the device", &e),
    }
}

#[cfg(test)]
mod tests {
    use super::next_label;

    #[test]
    fn the_next_ipad_gets_the_next_number() {
        assert_eq!(next_label("iPad 3"), "iPad 4");
        assert_eq!(next_label("iPad 9"), "iPad 10");
        assert_eq!(next_label("teacher's iPad"), "");
    }
}
