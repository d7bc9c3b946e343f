//! Building one upstream request from an engine's template.
//!
//! Invariant: the pupil's query only ever enters a request as an encoded parameter value, and
//! the safe-search lock is applied last, replacing any same-named parameter, cookie or header.

use std::collections::BTreeMap;

use url::Url;

use super::definition::{Method, PagingDef};

#[derive(Debug, Clone)]
pub struct RequestTemplate {
    pub method: Method,
    pub url: Url,
    pub params: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub paging: Option<PagingDef>,
    pub safe_params: Vec<(String, String)>,
    pub safe_cookies: Vec<(String, String)>,
    pub safe_headers: Vec<(String, String)>,
    /// Engine-level template values: `cx`, `api_key`.
    pub vars: BTreeMap<String, String>,
    /// Where the element-API token script lives, for engines that need one.
    pub token_url: Option<Url>,
}

/// A request ready to send: method, URL (with query string for GET), form body for POST, headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamRequest {
    pub method: Method,
    pub url: Url,
    pub form: Option<Vec<(String, String)>>,
    pub headers: Vec<(String, String)>,
}

/// Placeholders a template may use; `check` refuses any other.
pub const KNOWN_PLACEHOLDERS: &[&str] = &["query", "cx", "api_key", "cse_tok", "cselibv", "exp"];

impl RequestTemplate {
    /// The request for `page` (1-based) of `query`. `extra` holds per-request values: the
    /// element-API token fields and values carried over from page 1.
    pub fn build(&self, query: &str, page: u32, token: &[(String, String)], carried: &[(String, String)]) -> UpstreamRequest {
        let fill = |template: &str| fill_placeholders(template, query, &self.vars, token);

        let mut pairs: Vec<(String, String)> = self.params.iter().map(|(k, v)| (k.clone(), fill(v))).collect();
        if page > 1 {
            if let Some(paging) = &self.paging {
                let value = paging.page2 as u64 + (page as u64 - 2) * paging.step as u64;
                set_pair(&mut pairs, &paging.param, value.to_string());
            }
            for (k, v) in carried {
                set_pair(&mut pairs, k, v.clone());
            }
        }
        for (k, v) in &self.safe_params {
            set_pair(&mut pairs, k, v.clone());
        }

        let mut headers: Vec<(String, String)> = self.headers.iter().map(|(k, v)| (k.clone(), fill(v))).collect();
        for (k, v) in &self.safe_headers {
            headers.retain(|(name, _)| !name.eq_ignore_ascii_case(k));
            headers.push((k.clone(), v.clone()));
        }
        if !self.safe_cookies.is_empty() {
            let cookie = self.safe_cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
            headers.retain(|(name, _)| !name.eq_ignore_ascii_case("cookie"));
            headers.push(("Cookie".to_string(), cookie));
        }

        let mut url = self.url.clone();
        let form = match self.method {
            Method::Get => {
                url.query_pairs_mut().extend_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                None
            }
            Method::Post => Some(pairs),
        };
        UpstreamRequest { method: self.method, url, form, headers }
    }

    /// The token script's URL with `{cx}` filled in.
    pub fn token_request_url(&self) -> Option<Url> {
        let url = self.token_url.as_ref()?;
        let filled = fill_placeholders(url.as_str(), "", &self.vars, &[]);
        Url::parse(&filled).ok()
    }
}

fn set_pair(pairs: &mut Vec<(String, String)>, key: &str, value: String) {
    pairs.retain(|(k, _)| k != key);
    pairs.push((key.to_string(), value));
}

/// Replaces `{name}` placeholders in one pass, so a value containing `{…}` (a pupil typing
/// `{api_key}`) is never expanded a second time.
fn fill_placeholders(template: &str, query: &str, vars: &BTreeMap<String, String>, token: &[(String, String)]) -> String {
    let mut out = String::with_capacity(template.len() + query.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                let value = match name {
                    "query" => Some(query),
                    _ => vars.get(name).map(String::as_str).or_else(|| token.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())),
                };
                match value {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{placeholder}` names a template uses.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                names.push(&after[..close]);
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(method: Method) -> RequestTemplate {
        RequestTemplate {
            method,
            url: Url::parse("https://engine.example/search").unwrap(),
            params: vec![("q".into(), "{query}".into()), ("safe".into(), "off".into())],
            headers: vec![],
            paging: Some(PagingDef { param: "first".into(), page2: 11, step: 10 }),
            safe_params: vec![("safe".into(), "active".into())],
            safe_cookies: vec![("p".into(), "1".into())],
            safe_headers: vec![],
            vars: BTreeMap::new(),
            token_url: None,
        }
    }

    #[test]
    fn the_safe_search_lock_replaces_a_template_value() {
        let req = template(Method::Get).build("lava", 1, &[], &[]);
        let pairs: Vec<_> = req.url.query_pairs().into_owned().collect();
        assert_eq!(pairs, vec![("q".into(), "lava".into()), ("safe".into(), "active".into())]);
        assert!(req.headers.contains(&("Cookie".into(), "p=1".into())));
    }

    #[test]
    fn a_query_that_smuggles_parameters_stays_one_encoded_value() {
        let req = template(Method::Get).build("lava&safe=off {api_key}", 1, &[], &[]);
        let safe: Vec<_> = req.url.query_pairs().filter(|(k, _)| k == "safe").map(|(_, v)| v.into_owned()).collect();
        assert_eq!(safe, vec!["active"]);
        assert!(req.url.query_pairs().any(|(k, v)| k == "q" && v == "lava&safe=off {api_key}"));
    }

    #[test]
    fn page_three_sends_the_offset_and_page_one_sends_none() {
        let p1 = template(Method::Get).build("x", 1, &[], &[]);
        assert!(!p1.url.query_pairs().any(|(k, _)| k == "first"));
        let p3 = template(Method::Get).build("x", 3, &[], &[]);
        assert!(p3.url.query_pairs().any(|(k, v)| k == "first" && v == "21"));
    }

    #[test]
    fn post_engines_get_a_form_body() {
        let req = template(Method::Post).build("x", 2, &[], &[("vqd".into(), "4-1".into())]);
        assert_eq!(req.url.query(), None);
        let form = req.form.unwrap();
        assert!(form.contains(&("vqd".into(), "4-1".into())));
        assert!(form.contains(&("safe".into(), "active".into())));
    }
}
