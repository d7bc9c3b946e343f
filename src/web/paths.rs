//! Typed URLs: every link the pages make is built here, never by string pasting in templates.

pub const HOME: &str = "/";
pub const SEARCH: &str = "/search";
/// Picture search: the same words, answered as a grid of pictures.
pub const PICTURES: &str = "/pictures";
pub const HEALTHZ: &str = "/healthz";
pub const METRICS: &str = "/metrics";
pub const STYLESHEET: &str = "/static/kidsearch.css";
pub const LOGO: &str = "/static/logo.svg";
pub const HELP_ICON: &str = "/static/help.svg";
pub const SPEAKER_ICON: &str = "/static/speaker.svg";
pub const SCRIPT: &str = "/static/kidsearch.js";
/// POST: a tell-an-adult press; GET: the covered screen.
pub const HELP: &str = "/help";
pub const HELP_STATUS: &str = "/help/status";
/// Enrolling with a typed set-up code (the "not set up" page's form).
pub const ENROL_CODE: &str = "/enrol";
/// When the iPad's class window closes (JSON, for the "search rests soon" warning).
pub const WINDOW: &str = "/window";
pub const HELP_CLEAR: &str = "/help/clear";
pub const ENROL: &str = "/enrol";

/// `/enrol/<token>`: a one-time device enrolment link.
pub fn enrol(token: &str) -> String {
    format!("{ENROL}/{token}")
}

/// `/help?i=TOKEN`: the covered screen of the incident `token` names (for the browser that
/// pressed without being enrolled; see `Devices::help_token`).
pub fn help_incident(token: &str) -> String {
    format!("{HELP}?i={token}")
}

/// `/search?q=…&page=N` with the query encoded.
pub fn search(query: &str, page: u32) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("q", query);
    if page > 1 {
        s.append_pair("page", &page.to_string());
    }
    format!("{SEARCH}?{}", s.finish())
}

/// `/pictures?q=…&page=N` with the query encoded.
pub fn pictures(query: &str, page: u32) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("q", query);
    if page > 1 {
        s.append_pair("page", &page.to_string());
    }
    format!("{PICTURES}?{}", s.finish())
}

/// The signed click-through, whose format is `policy::golink`'s.
pub use crate::policy::golink::GO;
/// Pictures through the gateway: `/img/<sig>/<token>` (`images::sign`). Routed by this prefix
/// alone and split by `ImageSigner::split`: as a `{sig}/{token}` pattern, actix's router matched
/// the ~200-character path with a regex engine for half the picture route's CPU (issue 26).
pub use crate::images::sign::PREFIX as PICTURES_PREFIX;

/// `/site-picture/N`: school site N's uploaded tile picture (a JPEG kidsearch made).
pub const SITE_PICTURE: &str = "/site-picture/{id}";

pub fn site_picture(site: i64) -> String {
    format!("/site-picture/{site}")
}

/// `/video/N`: approved video N's page (the number is the approval's, never the video's id).
pub fn video(approval: i64) -> String {
    format!("/video/{approval}")
}

pub const STAFF: &str = "/staff";
pub const STAFF_LOGIN: &str = "/staff/login";
pub const STAFF_SETUP: &str = "/staff/setup";
pub const STAFF_LOGOUT: &str = "/staff/logout";
pub const STAFF_PRERUN: &str = "/staff/prerun";
pub const STAFF_APPROVALS: &str = "/staff/approvals";
pub const STAFF_USERS: &str = "/staff/users";
pub const STAFF_ALERTS_STREAM: &str = "/staff/alerts/stream";
pub const STAFF_INCIDENTS: &str = "/staff/incidents";
pub const STAFF_INCIDENTS_CSV: &str = "/staff/incidents.csv";
/// The reported results kept hidden for good, each with "release".
pub const STAFF_HIDDEN: &str = "/staff/hidden";
pub const STAFF_HIDDEN_RELEASE: &str = "/staff/hidden/release";
pub const STAFF_DEVICES: &str = "/staff/devices";
pub const STAFF_TRY_OUT: &str = "/staff/devices/try-out";
pub const STAFF_CLASSES_OPEN: &str = "/staff/classes/open";
pub const STAFF_CLASSES_CLOSE: &str = "/staff/classes/close";
pub const STAFF_CLASSES_EXTEND: &str = "/staff/classes/extend";
pub const STAFF_ACTIVITY: &str = "/staff/activity";
pub const STAFF_ACTIVITY_CSV: &str = "/staff/activity.csv";

/// The activity of `device` around the moment `at_ms` (an incident's link).
pub fn staff_activity_around(device: &str, at_ms: i64) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("device", device).append_pair("around", &at_ms.to_string()).finish();
    format!("{STAFF_ACTIVITY}?{query}")
}
pub const STAFF_HEALTH: &str = "/staff/health";
pub const STAFF_HEALTH_CANARY: &str = "/staff/health/canary";
pub const STAFF_HEALTH_FILTER_TEST: &str = "/staff/health/filter-test";
pub const STAFF_RETENTION_PURGE: &str = "/staff/retention/purge";
/// Over-block reports and local exceptions (admins); any staff member reports.
pub const STAFF_OVER_BLOCKS: &str = "/staff/over-blocks";
pub const STAFF_OVER_BLOCKS_REPORT: &str = "/staff/over-blocks/report";

/// An admin's decision on an over-block report: `exception` or `dismiss`.
pub fn staff_over_block(id: i64, action: &str) -> String {
    format!("{STAFF_OVER_BLOCKS}/{id}/{action}")
}

pub fn staff_local_exception_remove(id: i64) -> String {
    format!("{STAFF_OVER_BLOCKS}/exceptions/{id}/remove")
}
/// Approved videos: GET lists them (and, with `?link=`, looks one up), POST approves.
pub const STAFF_VIDEOS: &str = "/staff/videos";

pub fn staff_video_withdraw(id: i64) -> String {
    format!("{STAFF_VIDEOS}/{id}/withdraw")
}

/// The school's sites (admins).
pub const STAFF_SITES: &str = "/staff/sites";

pub fn staff_site_remove(id: i64) -> String {
    format!("{STAFF_SITES}/{id}/remove")
}

/// The security log (admins).
pub const STAFF_SECURITY: &str = "/staff/security";
pub const STAFF_REVIEW: &str = "/staff/review";
/// Any staff member's own password.
pub const STAFF_PASSWORD: &str = "/staff/password";

/// May a staff form's `back` be followed? Only a plain staff path: `/staff` or below it, in
/// visible ASCII only. A CR or LF would break the `Location` header (the action
/// done, then a 500), a backslash some browsers read as `/`, and `/staffroom` is not ours.
pub fn is_staff_return(given: &str) -> bool {
    let below_staff = given.strip_prefix(STAFF).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']));
    let plain = given.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    below_staff && plain && !given.contains("//")
}

/// An admin's actions on a staff account (`role`, `school`, `password`, `remove`).
pub fn staff_user(id: i64, action: &str) -> String {
    format!("{STAFF_USERS}/{id}/{action}")
}

/// `/staff/incidents/N`, and its actions (`clear`, `keep-hidden`, `release`, `review`).
pub fn staff_incident(id: i64, action: Option<&str>) -> String {
    match action {
        Some(a) => format!("{STAFF_INCIDENTS}/{id}/{a}"),
        None => format!("{STAFF_INCIDENTS}/{id}"),
    }
}

pub fn staff_device_revoke(id: i64) -> String {
    format!("{STAFF_DEVICES}/{id}/revoke")
}

/// The enrolment link's QR code (an SVG image, staff only).
pub fn staff_enrol_qr(token: &str) -> String {
    format!("{STAFF_DEVICES}/qr/{token}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_staff_paths_are_followed_back() {
        for good in ["/staff", "/staff/incidents/4", "/staff?x=1", "/staff/activity?kind=refused&class=Oak"] {
            assert!(is_staff_return(good), "{good}");
        }
        for bad in [
            "/staff\r\nX-Evil: 1",
            "/staff/\n",
            "/staffroom",
            "//evil.example/staff",
            "/staff//evil.example",
            "/staff/\\evil",
            "/staff/ x",
            "https://evil.example/staff",
            "/",
        ] {
            assert!(!is_staff_return(bad), "{bad:?}");
        }
    }
}
