//! Typed URLs: every link the pages make is built here, never by string pasting in templates.

pub const HOME: &str = "/";
pub const SEARCH: &str = "/search";
pub const HEALTHZ: &str = "/healthz";
pub const METRICS: &str = "/metrics";
pub const STYLESHEET: &str = "/static/kidsearch.css";
pub const LOGO: &str = "/static/logo.svg";

/// `/search?q=…&page=N` with the query encoded.
pub fn search(query: &str, page: u32) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("q", query);
    if page > 1 {
        s.append_pair("page", &page.to_string());
    }
    format!("{SEARCH}?{}", s.finish())
}

pub const GO: &str = "/go";

/// `/go?u=…&s=…`: the signed click-through for a result link.
pub fn go(url: &str, signature: &str) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("u", url);
    s.append_pair("s", signature);
    format!("{GO}?{}", s.finish())
}

pub const STAFF: &str = "/staff";
pub const STAFF_LOGIN: &str = "/staff/login";
pub const STAFF_LOGOUT: &str = "/staff/logout";
pub const STAFF_PRERUN: &str = "/staff/prerun";
pub const STAFF_APPROVALS: &str = "/staff/approvals";
pub const STAFF_USERS: &str = "/staff/users";
