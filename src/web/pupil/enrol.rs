//! `/enrol/<token>`: enrolling an iPad with a one-time link (or its QR code) made by staff.
//! GET only shows what will happen (link previews and prefetchers must not use the link up);
//! the big button POSTs, which uses the link and sets the long-lived device cookie.

use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;

use crate::devices::{SetupCode, SpentLink, SETUP_CODE_MINUTES};
use crate::web::layout::{message_card, pupil_page};
use crate::web::{origin, paths, AppState};

pub async fn confirm(token: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    match state.devices.peek_link(&token).await {
        Ok(Some((class, label))) => {
            let body = html! {
                section.message {
                    h1 { "Set up this iPad" }
                    p { "This iPad will be " strong { (class) " — " (label) } " for kidsearch." }
                    form method="post" action=(paths::enrol(&token)) {
                        button.big type="submit" { "Set up this iPad" }
                    }
                }
            };
            page(HttpResponse::Ok(), "Set up this iPad", body)
        }
        Ok(None) => spent(&state, &token).await,
        Err(e) => {
            tracing::error!(error = %e, "reading an enrolment link failed");
            not_saved()
        }
    }
}

pub async fn enrol(req: HttpRequest, token: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    // Only the button on the confirm page above uses the link: another site's auto-submitted
    // form must not enrol a browser of its choosing into a class.
    if !origin::same_origin_post(&req, &state.client(&req).host) {
        let body = html! { (message_card("🔧", "Open the set-up link itself", "This iPad can only be set up from the link's own page. Open the link again and press the button there.")) };
        return page(HttpResponse::Forbidden(), "Set up this iPad", body);
    }
    match state.devices.redeem(&token).await {
        Ok(Some((device, cookie))) => {
            tracing::info!(device = device.id, class = %device.class, "device enrolled");
            let body = all_set(&device);
            let mut response = HttpResponse::Ok();
            response.cookie(state.devices.cookie(cookie, state.secure_cookies));
            page(response, "All set", body)
        }
        Ok(None) => spent(&state, &token).await,
        Err(e) => {
            tracing::error!(error = %e, "enrolling a device failed");
            not_saved()
        }
    }
}

/// `POST /enrol`: a set-up code typed on the "not set up" page.
pub async fn by_code(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> HttpResponse {
    if !origin::same_origin_post(&req, &state.client(&req).host) {
        return HttpResponse::Forbidden().body("This form must be sent from kidsearch itself.");
    }
    let typed = crate::web::form::field(&body, "code").unwrap_or_default();
    let address = state.client(&req).ip.map(|ip| ip.to_string()).unwrap_or_default();
    let (status, problem) = match state.devices.redeem_code(&typed, &address).await {
        Ok(SetupCode::Enrolled(device, cookie)) => {
            tracing::info!(device = device.id, class = %device.class, "device enrolled with a set-up code");
            let mut response = HttpResponse::Ok();
            response.cookie(state.devices.cookie(cookie, state.secure_cookies));
            return page(response, "All set", all_set(&device));
        }
        Ok(SetupCode::Wrong) => (
            actix_web::http::StatusCode::BAD_REQUEST,
            format!("That code is not right, or it is older than {SETUP_CODE_MINUTES} minutes or used already. Check it on the Devices page, or make a new one there."),
        ),
        Ok(SetupCode::TooMany) => (
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            "Too many wrong codes. Wait 15 minutes, or open the set-up link or QR code from the Devices page instead.".to_string(),
        ),
        Err(e) => {
            tracing::error!(error = %e, "enrolling with a set-up code failed");
            return not_saved();
        }
    };
    let body = html! {
        (message_card("🔧", "This device is not set up yet", "Ask your teacher to set it up. (Staff: sign in at /staff and choose Devices.)"))
        (super::gate::setup_code_form(Some(&problem)))
    };
    page(HttpResponse::build(status), "Not set up yet", body)
}

fn all_set(device: &crate::devices::Device) -> maud::Markup {
    html! {
        (message_card("✅", "All set!", &format!("This iPad is now {}.", device.name())))
        p { a.button href=(paths::HOME) { "Start searching" } }
    }
}

/// A link that works no more, saying why: used already (this or another iPad was set up
/// with it) or past its hour.
async fn spent(state: &AppState, token: &str) -> HttpResponse {
    let (heading, text) = match state.devices.spent_link(token).await {
        Ok(Some(SpentLink::Used)) => (
            "This set-up link was already used",
            "Each link sets up one iPad, once. If this iPad still says it is not set up, make a new link on the staff Devices page.",
        ),
        _ => ("This set-up link has expired", "Links work once, for an hour. Ask for a new one on the staff Devices page."),
    };
    let body = html! { (message_card("⌛", heading, text)) };
    page(HttpResponse::Gone(), "Link used or expired", body)
}

/// The store failed: the link is not used up, and saying "expired" would send staff to make
/// new links that fail the same way.
fn not_saved() -> HttpResponse {
    let body = html! { (message_card("🔧", "This iPad could not be set up just now", "The set-up could not be saved: the server's data disk may be full or broken. The link was not used up: ask the ICT technician, then try the link again.")) };
    page(HttpResponse::ServiceUnavailable(), "Not set up yet", body)
}

fn page(mut builder: actix_web::HttpResponseBuilder, title: &str, body: maud::Markup) -> HttpResponse {
    builder.content_type("text/html; charset=utf-8").insert_header(("Cache-Control", "no-store")).body(pupil_page(title, body).into_string())
}
