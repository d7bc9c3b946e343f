//! Did this request come from kidsearch's own pages? Pupil pages have no login, so the
//! browser's own word is what stands between another web site and a pupil's safeguarding
//! record: a page elsewhere can navigate an iPad to `/search?q=…` or auto-submit a form to
//! `/help`, and the browser sends the device cookie (`SameSite=Lax`) with a navigation.
//!
//! Two headers say where a request came from, and browsers send them themselves (a page cannot
//! forge them): Fetch Metadata's `Sec-Fetch-Site` (Safari 16.4+, Chrome, Firefox) and, on
//! POSTs, `Origin`. Pages are served with `Referrer-Policy: same-origin`, under which a
//! same-origin POST carries its real origin, so `Origin: null` means a sandboxed frame, a
//! `data:` page or a policy of another site's: never ours.

use actix_web::HttpRequest;

/// What `Sec-Fetch-Site` says, if the browser sent it.
fn fetch_site(req: &HttpRequest) -> Option<&str> {
    req.headers().get("sec-fetch-site").and_then(|v| v.to_str().ok())
}

/// A form POST (or script `fetch`) from one of kidsearch's own pages at `host` (the Host the
/// client used, as `web::client` believes it). A client that sends neither header (an old
/// browser, `curl`) is let through: both headers only ever narrow what a browser may do.
pub fn same_origin_post(req: &HttpRequest, host: &str) -> bool {
    if let Some(site) = fetch_site(req) {
        if site != "same-origin" {
            return false;
        }
    }
    let Some(origin) = req.headers().get("origin") else { return true };
    let Ok(origin) = origin.to_str() else { return false };
    url::Url::parse(origin).ok().is_some_and(|o| {
        o.host_str().map(|h| match o.port() {
            Some(p) => format!("{h}:{p}"),
            None => h.to_string(),
        }) == Some(host.to_string())
    })
}

/// May this page view be written to a pupil's record (activity, refused-search incident,
/// live alert)? Yes for our own pages' links and forms, for what the pupil typed or tapped
/// (address bar, bookmark, home-screen web clip: `none`) and for a browser that does not say;
/// no for a navigation another site started (`cross-site`, `same-site`), which the pupil may
/// never have seen.
pub fn pupil_started(req: &HttpRequest) -> bool {
    !matches!(fetch_site(req), Some("cross-site" | "same-site"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn post(headers: &[(&str, &str)]) -> bool {
        let mut req = TestRequest::post();
        for h in headers {
            req = req.insert_header(*h);
        }
        same_origin_post(&req.to_http_request(), "kidsearch.school.lan:8080")
    }

    #[test]
    fn only_our_own_origin_may_post() {
        assert!(post(&[]), "no header: an old browser or a script");
        assert!(post(&[("origin", "http://kidsearch.school.lan:8080")]));
        assert!(post(&[("origin", "http://kidsearch.school.lan:8080"), ("sec-fetch-site", "same-origin")]));
        assert!(!post(&[("origin", "null")]), "a sandboxed frame or data: page");
        assert!(!post(&[("origin", "https://evil.example")]));
        assert!(!post(&[("origin", "http://kidsearch.school.lan")]), "another port is another origin");
        assert!(!post(&[("sec-fetch-site", "cross-site")]));
        assert!(!post(&[("sec-fetch-site", "same-site"), ("origin", "http://kidsearch.school.lan:8080")]));
    }

    #[test]
    fn navigations_another_site_started_are_not_the_pupils() {
        let nav = |site: Option<&str>| {
            let mut req = TestRequest::get();
            if let Some(s) = site {
                req = req.insert_header(("sec-fetch-site", s));
            }
            pupil_started(&req.to_http_request())
        };
        assert!(nav(None) && nav(Some("none")) && nav(Some("same-origin")));
        assert!(!nav(Some("cross-site")) && !nav(Some("same-site")));
    }
}
