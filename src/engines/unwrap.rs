//! Unwrapping engines' click-tracking links to the page they point at, so a pupil's click goes
//! straight to the destination (and, later, through our own checked `/go`).

use base64::Engine as _;
use url::Url;

use super::definition::{Decode, UnwrapRule};

/// Applies the first rule that matches. A link no rule matches is returned as it is; a wrapped
/// link whose target is missing or not `http(s)` is dropped (`None`), never passed on.
pub fn unwrap_link(link: Url, rules: &[UnwrapRule]) -> Option<Url> {
    for rule in rules {
        if applies(rule, &link) {
            return target(rule, &link);
        }
    }
    Some(link)
}

fn applies(rule: &UnwrapRule, link: &Url) -> bool {
    let path_ok = rule.path.as_ref().is_none_or(|prefix| link.path().starts_with(prefix.as_str()));
    let carrier_present = match (&rule.query_param, &rule.path_segment) {
        (Some(name), _) => link.query_pairs().any(|(k, _)| k == name.as_str()),
        (None, Some(segment)) => link.path().contains(&format!("/{segment}=")),
        (None, None) => false,
    };
    path_ok && carrier_present
}

fn target(rule: &UnwrapRule, link: &Url) -> Option<Url> {
    let raw = if let Some(name) = &rule.query_param {
        link.query_pairs().find(|(k, _)| k == name.as_str()).map(|(_, v)| v.into_owned())?
    } else if let Some(segment) = &rule.path_segment {
        // Yahoo: /…/RU=<percent-encoded target>/RK=…
        let marker = format!("/{segment}=");
        let path = link.path();
        let start = path.find(&marker)? + marker.len();
        let rest = &path[start..];
        let encoded = rest.split('/').next()?;
        percent_decode(encoded)?
    } else {
        return None;
    };
    let raw = match &rule.strip_prefix {
        Some(prefix) => raw.strip_prefix(prefix.as_str())?.to_string(),
        None => raw,
    };
    let target = match rule.decode {
        Some(Decode::Base64url) => decode_base64url(&raw)?,
        None => raw,
    };
    let url = Url::parse(&target).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

fn percent_decode(s: &str) -> Option<String> {
    url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned())
}

/// Bing's base64url without padding; padding is tolerated either way.
fn decode_base64url(s: &str) -> Option<String> {
    let trimmed = s.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(trimmed).ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(path: Option<&str>, q: Option<&str>, seg: Option<&str>, strip: Option<&str>, decode: Option<Decode>) -> UnwrapRule {
        UnwrapRule {
            path: path.map(String::from),
            query_param: q.map(String::from),
            path_segment: seg.map(String::from),
            strip_prefix: strip.map(String::from),
            decode,
        }
    }

    #[test]
    fn duckduckgo_uddg_links_are_unwrapped() {
        let link = Url::parse("https://duckduckgo.com/l/?uddg=https%3A%2F%2Fkids.example%2Fa%3Fb%3D1&rut=x").unwrap();
        let out = unwrap_link(link, &[rule(Some("/l/"), Some("uddg"), None, None, None)]);
        assert_eq!(out.unwrap().as_str(), "https://kids.example/a?b=1");
    }

    #[test]
    fn bing_base64_links_are_unwrapped() {
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("https://www.bbc.co.uk/bitesize");
        let link = Url::parse(&format!("https://www.bing.com/ck/a?!&&p=1&u=a1{encoded}&ntb=1")).unwrap();
        let out = unwrap_link(link, &[rule(Some("/ck/a"), Some("u"), None, Some("a1"), Some(Decode::Base64url))]);
        assert_eq!(out.unwrap().as_str(), "https://www.bbc.co.uk/bitesize");
    }

    #[test]
    fn yahoo_ru_links_are_unwrapped() {
        let link = Url::parse("https://r.search.yahoo.com/_ylt=A/RV=2/RU=https%3a%2f%2fnasa.example%2fvolcano/RK=2/RS=x-").unwrap();
        let out = unwrap_link(link, &[rule(None, None, Some("RU"), None, None)]);
        assert_eq!(out.unwrap().as_str(), "https://nasa.example/volcano");
    }

    #[test]
    fn a_wrapped_link_to_a_non_web_scheme_is_dropped() {
        let link = Url::parse("https://duckduckgo.com/l/?uddg=javascript%3Aalert(1)").unwrap();
        let out = unwrap_link(link, &[rule(Some("/l/"), Some("uddg"), None, None, None)]);
        assert_eq!(out, None);
    }

    #[test]
    fn links_outside_the_rule_path_are_left_alone() {
        let link = Url::parse("https://kids.example/search?q=lava").unwrap();
        let out = unwrap_link(link.clone(), &[rule(Some("/url"), Some("q"), None, None, None)]);
        assert_eq!(out, Some(link));
    }
}
