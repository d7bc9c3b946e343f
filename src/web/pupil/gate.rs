//! The checks in front of every pupil page, in order: is this an enrolled device (when
//! enrolment is required)? is its screen covered after a tell-an-adult press? is search open
//! for its class (when supervised sessions are required)?
//!
//! Each "no" is a calm page a child understands (or a JSON `status`), never an error.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use maud::html;

use crate::devices::{Device, COOKIE};
use crate::schools::{SchoolId, DEFAULT_SCHOOL};
use crate::web::layout::{message_card, pupil_page};
use crate::web::{paths, AppState};

/// Who is asking, once the gate let them through: an enrolled device, or (when enrolment is
/// not required) an anonymous browser.
pub type Pupil = Option<Arc<Device>>;

/// The school a pupil belongs to: their device's, or (a browser that is not enrolled, when
/// enrolment is off) the default school.
pub fn school_of(device: Option<&Device>) -> SchoolId {
    device.map_or(DEFAULT_SCHOOL, |d| d.school)
}

/// The enrolled device this request comes from, if its cookie is good.
pub async fn device_of(req: &HttpRequest, state: &AppState) -> Pupil {
    state.devices.from_cookie(device_cookie(req)?).await
}

/// The device cookie's value, read straight from the Cookie headers: this runs on every pupil
/// request, and `HttpRequest::cookie` would parse and store every cookie the browser sends.
fn device_cookie(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
        .map(|v| v.trim_matches('"'))
}

/// Lets the request through, or answers it with the page that says why not.
pub async fn check(req: &HttpRequest, state: &AppState, json: bool) -> Result<Pupil, HttpResponse> {
    let device = device_of(req, state).await;
    let Some(d) = &device else {
        if state.require_enrolment {
            return Err(not_enrolled(json));
        }
        if !state.supervision.any_open(DEFAULT_SCHOOL).await {
            return Err(resting(json));
        }
        return Ok(None);
    };
    if d.covered_incident.is_some() {
        return Err(covered(json));
    }
    if !state.supervision.is_open(d.school, &d.class).await {
        return Err(resting(json));
    }
    Ok(device)
}

/// When the search window of `device`'s class closes (None: no end, supervision being off or
/// the browser not enrolled).
pub async fn window_end(state: &AppState, device: Option<&Device>) -> Option<i64> {
    let d = device?;
    state.supervision.ends_at(d.school, &d.class).await
}

/// `/window`: `{"ends_ms", "now_ms"}` of the asking iPad's class window (`ends_ms` null: search
/// does not end), or the gate's `status`, for the script's "search rests soon" on a page that
/// was drawn without it. The script asks at most once a minute.
pub async fn window(req: HttpRequest, state: actix_web::web::Data<AppState>) -> HttpResponse {
    let device = match check(&req, &state, true).await {
        Ok(device) => device,
        Err(stop) => return stop,
    };
    let ends = window_end(&state, device.as_deref()).await;
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({ "status": "open", "ends_ms": ends, "now_ms": state.supervision.now_ms() }))
}

fn status_json(status: StatusCode, value: &str) -> HttpResponse {
    HttpResponse::build(status).insert_header(("Cache-Control", "no-store")).json(serde_json::json!({ "status": value }))
}

fn calm_page(status: StatusCode, title: &str, picture: &str, heading: &str, text: &str) -> HttpResponse {
    let body = html! { (message_card(picture, heading, text)) };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(pupil_page(title, body).into_string())
}

pub fn not_enrolled(json: bool) -> HttpResponse {
    if json {
        return status_json(StatusCode::FORBIDDEN, "not_enrolled");
    }
    let body = html! {
        (message_card("🔧", "This device is not set up yet", "Ask your teacher to set it up. (Staff: sign in at /staff and choose Devices.)"))
        (setup_code_form(None))
    };
    HttpResponse::build(StatusCode::FORBIDDEN)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(pupil_page("Not set up yet", body).into_string())
}

/// "Staff: type the set-up code": enrols the iPad where this page is open — inside a Home
/// Screen web clip too, which keeps its cookies apart from Safari (a link or QR code opened
/// from the camera enrols Safari, not the clip). `problem` says why the last code did not work.
pub fn setup_code_form(problem: Option<&str>) -> maud::Markup {
    html! {
        section.setup-code aria-labelledby="setup-code-heading" {
            h2 #setup-code-heading { "Staff: set up this iPad with a code" }
            form method="post" action=(paths::ENROL_CODE) {
                label for="setup-code" { "The set-up code from the Devices page" }
                @if let Some(problem) = problem { p.code-problem #setup-code-problem role="alert" { (problem) } }
                input #setup-code type="text" name="code" required maxlength="12" autocomplete="off" autocapitalize="characters" spellcheck="false" aria-describedby=[problem.map(|_| "setup-code-problem")];
                button type="submit" { "Set up this iPad" }
            }
        }
    }
}

pub fn resting(json: bool) -> HttpResponse {
    if json {
        return status_json(StatusCode::OK, "closed");
    }
    calm_page(StatusCode::OK, "Search is resting", "🌙", "Search is resting", "Ask your teacher when we can search again.")
}

/// A covered device always goes back to its covered screen until an adult clears it.
fn covered(json: bool) -> HttpResponse {
    if json {
        return status_json(StatusCode::OK, "covered");
    }
    HttpResponse::SeeOther().insert_header(("Location", paths::HELP)).insert_header(("Cache-Control", "no-store")).finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_device_cookie_is_found_among_others_and_not_confused_with_a_longer_name() {
        let req = TestRequest::default().insert_header(("Cookie", "a=1; kidsearch_device_x=no; kidsearch_device=7.abc; b=2")).to_http_request();
        assert_eq!(device_cookie(&req), Some("7.abc"));
        let req = TestRequest::default().insert_header(("Cookie", "kidsearch_devicex=1")).to_http_request();
        assert_eq!(device_cookie(&req), None);
        assert_eq!(device_cookie(&TestRequest::default().to_http_request()), None);
    }
}
