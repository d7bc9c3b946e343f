//! When two URLs are the same page: the one normalisation that merging (one result for a page
//! several engines return) and hiding (a hidden result stays hidden however it is linked) share,
//! below both.

use url::Url;

/// The same page reached by `http`/`https`, with or without `www.`, a trailing slash, a
/// fragment or tracking parameters, is one result.
pub fn dedupe_key(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let path = url.path().trim_end_matches('/');
    let mut pairs: Vec<(String, String)> =
        url.query_pairs().filter(|(k, _)| !k.starts_with("utm_") && k != "fbclid" && k != "gclid").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    pairs.sort();
    let query: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{host}{}{path}?{}", url.port().map(|p| format!(":{p}")).unwrap_or_default(), query.join("&"))
}
