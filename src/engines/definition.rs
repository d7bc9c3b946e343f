//! The shape of `allowlist/engines.toml`, exactly as written by a technician. Spans are kept on
//! the values that can be wrong in ways TOML cannot see (selectors, URLs) so that `check` can
//! name the line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnginesFile {
    pub engines: BTreeMap<String, Spanned<EngineDef>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// May be searched live by pupils.
    Pupils,
    /// General engines: only a teacher pre-running a search may use them.
    Staff,
}

/// What an engine finds: web pages (the results list) or pictures (the picture grid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    #[default]
    Web,
    /// Image search: each result is a picture (its `thumbnail`) and the page it is on.
    Pictures,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Html,
    Json,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineDef {
    pub name: String,
    pub audience: Audience,
    /// `"web"` (the default) or `"pictures"`: a picture engine is asked only by picture search.
    #[serde(default)]
    pub purpose: Purpose,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    #[serde(default)]
    pub needs_api_key: bool,
    pub kind: Kind,
    pub weight: Option<f64>,
    pub timeout_ms: Option<u64>,
    /// Programmable Search engine id, where the engine is one.
    pub cx: Option<String>,
    pub hosts: Vec<Spanned<String>>,
    /// Hosts the engine's pictures (result thumbnails) may come from: fetched by the gateway's
    /// image path only, never by a pupil's browser.
    #[serde(default)]
    pub image_hosts: Vec<Spanned<String>>,
    pub token: Option<TokenDef>,
    pub request: Option<RequestDef>,
    pub safe_search: Option<SafeSearchDef>,
    pub html: Option<HtmlDef>,
    pub json: Option<JsonDef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestDef {
    pub method: Method,
    pub url: Spanned<String>,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub paging: Option<PagingDef>,
}

/// Pages 2+ send `param = page2 + (page - 2) * step`; page 1 sends nothing (some engines
/// rate-limit a first page that carries an offset).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagingDef {
    pub param: String,
    pub page2: u32,
    pub step: u32,
}

/// A script to fetch first whose trailing `({ … })` JSON object supplies `{cse_tok}`,
/// `{cselibv}` and `{exp}` (Google Programmable Search element API).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenDef {
    pub url: Spanned<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafeSearchDef {
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    #[serde(default)]
    pub cookies: BTreeMap<String, String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl SafeSearchDef {
    pub fn is_empty(&self) -> bool {
        self.params.is_empty() && self.cookies.is_empty() && self.headers.is_empty()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HtmlDef {
    pub result: Spanned<String>,
    pub skip: Option<Spanned<String>>,
    pub title: Spanned<String>,
    pub link: Spanned<String>,
    pub snippet: Option<Spanned<String>>,
    pub no_results: Option<Spanned<String>>,
    pub blocked: Option<Spanned<String>>,
    #[serde(default)]
    pub blocked_text: Vec<String>,
    #[serde(default)]
    pub carry: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub unwrap: Vec<UnwrapRule>,
    pub strip: Option<Spanned<String>>,
    /// The link element's attribute holding a JSON object (Bing images' `m`) instead of
    /// `href`: `link_json` points at the page's URL in it, `thumbnail_json` at the picture's.
    pub link_attr: Option<String>,
    pub link_json: Option<String>,
    pub thumbnail_json: Option<String>,
    /// The result's picture, an `<img>` inside the result (its `data-src` or `src`), served
    /// through the image path from the engine's `image_hosts` only.
    pub thumbnail: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonDef {
    #[serde(default)]
    pub jsonp: bool,
    pub items: String,
    pub title: String,
    pub url: Option<String>,
    pub url_template: Option<String>,
    pub snippet: Option<String>,
    /// A pointer to the result's picture URL (served through the image path, from the
    /// engine's `image_hosts` only).
    pub thumbnail: Option<String>,
    pub error: Option<String>,
    pub response_marker: Option<String>,
    /// Which of `title` and `snippet` hold HTML (tags stripped, entities decoded); the others
    /// are plain text and shown exactly as sent.
    #[serde(default)]
    pub html: Vec<JsonTextField>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonTextField {
    Title,
    Snippet,
}

/// How a wrapped result link (an engine's click-tracking redirect) gives up its real target.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnwrapRule {
    /// Only links whose path starts with this are unwrapped.
    pub path: Option<String>,
    pub query_param: Option<String>,
    pub path_segment: Option<String>,
    pub strip_prefix: Option<String>,
    pub decode: Option<Decode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decode {
    Base64url,
}
