//! The generic JSON adapter: JSON pointers from `engines.toml` (RFC 6901, as `serde_json` reads them).

use serde_json::Value;
use url::Url;

use super::html::strip_html;
use super::text::{picture_url, tidy, MAX_SNIPPET_CHARS, MAX_TITLE_CHARS};
use super::{EngineError, EnginePage, RawResult};

#[derive(Debug)]
pub struct JsonParser {
    /// The answer is JSONP (`callback({...})`): read from the first `{` to the last `}`.
    pub jsonp: bool,
    pub items: String,
    pub title: String,
    pub url: UrlSource,
    pub snippet: Option<String>,
    pub error: Option<String>,
    /// A pointer that exists in every genuine answer; with it and no items, the answer is
    /// "no results" rather than garbage.
    pub response_marker: Option<String>,
    pub title_is_html: bool,
    pub snippet_is_html: bool,
    /// Where a result's picture URL is (`thumbnail` in engines.toml).
    pub thumbnail: Option<String>,
}

#[derive(Debug)]
pub enum UrlSource {
    Pointer(String),
    /// `{title}` is replaced by the title with spaces as underscores (MediaWiki page URLs).
    TitleTemplate(String),
}

const MAX_RESULTS_PER_PAGE: usize = 50;

impl JsonParser {
    pub fn parse(&self, body: &str) -> Result<EnginePage, EngineError> {
        let json_text = if self.jsonp { jsonp_payload(body)? } else { body };
        let doc: Value = serde_json::from_str(json_text).map_err(|e| EngineError::Unparseable(format!("not JSON: {e}")))?;
        if let Some(message) = self.error.as_deref().and_then(|p| doc.pointer(p)) {
            return Err(classify_error(&doc, message));
        }
        let items = match doc.pointer(&self.items) {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(EngineError::Unparseable(format!("{} is not a list", self.items))),
            None if self.response_marker.as_deref().is_some_and(|m| doc.pointer(m).is_some()) => {
                return Ok(EnginePage::default());
            }
            None => return Err(EngineError::Unparseable(format!("no {} in the answer", self.items))),
        };
        let results = items.iter().take(MAX_RESULTS_PER_PAGE).filter_map(|item| self.read_item(item)).collect();
        Ok(EnginePage { results, ..EnginePage::default() })
    }

    fn read_item(&self, item: &Value) -> Option<RawResult> {
        let raw_title = item.pointer(&self.title)?.as_str()?;
        let title = self.text(raw_title, self.title_is_html, MAX_TITLE_CHARS);
        let url_text = match &self.url {
            UrlSource::Pointer(p) => item.pointer(p)?.as_str()?.to_string(),
            UrlSource::TitleTemplate(t) => t.replace("{title}", &raw_title.trim().replace(' ', "_")),
        };
        let url = Url::parse(&url_text).ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())?;
        let snippet = self
            .snippet
            .as_deref()
            .and_then(|p| item.pointer(p))
            .and_then(Value::as_str)
            .map(|s| self.text(s, self.snippet_is_html, MAX_SNIPPET_CHARS))
            .unwrap_or_default();
        if title.is_empty() {
            return None;
        }
        let thumbnail = self.thumbnail.as_deref().and_then(|p| item.pointer(p)).and_then(Value::as_str).and_then(picture_url);
        Some(RawResult { title, url, snippet, thumbnail })
    }
}

impl JsonParser {
    fn text(&self, raw: &str, is_html: bool, max: usize) -> String {
        if is_html {
            strip_html(raw, max)
        } else {
            tidy(raw, max)
        }
    }
}

fn jsonp_payload(body: &str) -> Result<&str, EngineError> {
    match (body.find('{'), body.rfind('}')) {
        (Some(start), Some(end)) if start < end => Ok(&body[start..=end]),
        _ => Err(EngineError::Unparseable("no JSON object in the JSONP answer".into())),
    }
}

/// Rate limits and quota errors mean "resting"; anything else is the engine's own error.
fn classify_error(doc: &Value, message: &Value) -> EngineError {
    let text = match message {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let whole = doc.to_string().to_ascii_lowercase();
    // Openverse's limit says "Request was throttled".
    if whole.contains("429") || whole.contains("rate") || whole.contains("quota") || whole.contains("throttl") {
        EngineError::Blocked
    } else {
        EngineError::Upstream(super::text::tidy(&text, 200))
    }
}
