//! The generic HTML adapter: CSS selectors from `engines.toml`, compiled once at start-up.

use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::definition::UnwrapRule;
use super::text::{safe_link, tidy, MAX_SNIPPET_CHARS, MAX_TITLE_CHARS};
use super::unwrap::unwrap_link;
use super::{EngineError, EnginePage, RawResult};

/// Compiled selectors for one engine's results page.
#[derive(Debug)]
pub struct HtmlParser {
    pub result: Selector,
    pub skip: Option<Selector>,
    pub title: Selector,
    pub link: Selector,
    pub snippet: Option<Selector>,
    pub no_results: Option<Selector>,
    pub blocked: Option<Selector>,
    pub blocked_text: Vec<String>,
    pub carry: Vec<(String, Selector)>,
    pub unwrap: Vec<UnwrapRule>,
    /// Elements whose text is not part of a title or snippet (Bing's "WEB" slug icon).
    pub strip: Option<Selector>,
}

/// Results kept from one page at most; a page with thousands of matches is not a results page.
const MAX_RESULTS_PER_PAGE: usize = 50;

impl HtmlParser {
    /// Reads a results page. A page that is neither results, nor a recognised "no results"
    /// page, nor a bot check is `Unparseable`: a changed page must not pass as "nothing found".
    pub fn parse(&self, body: &str, page_url: &Url) -> Result<EnginePage, EngineError> {
        if self.blocked_text.iter().any(|t| body.contains(t.as_str())) {
            return Err(EngineError::Blocked);
        }
        let doc = Html::parse_document(body);
        if let Some(blocked) = &self.blocked {
            if doc.select(blocked).next().is_some() {
                return Err(EngineError::Blocked);
            }
        }
        let mut matched = 0;
        let mut results = Vec::new();
        let mut seen = Vec::new();
        for element in doc.select(&self.result).take(MAX_RESULTS_PER_PAGE) {
            // A selector list such as "div.MjjYud, div.g" can match a result and its own inner
            // block; the outer match is the result.
            if element.ancestors().any(|a| seen.contains(&a.id())) {
                continue;
            }
            seen.push(element.id());
            matched += 1;
            if self.is_ad(element) {
                continue;
            }
            if let Some(result) = self.read_result(element, page_url) {
                results.push(result);
            }
        }
        if matched == 0 && self.no_results.as_ref().is_none_or(|s| doc.select(s).next().is_none()) {
            return Err(EngineError::Unparseable("no results and no \"no results\" marker".into()));
        }
        let carried = self
            .carry
            .iter()
            .filter_map(|(name, sel)| {
                let value = doc.select(sel).next()?.value().attr("value")?;
                Some((name.clone(), value.to_string()))
            })
            .collect();
        Ok(EnginePage { results, carried, refused: Vec::new() })
    }

    /// The element's text, leaving out any `strip` elements inside it.
    fn text_of(&self, element: ElementRef<'_>) -> String {
        let Some(strip) = &self.strip else {
            return element.text().collect();
        };
        let mut out = String::new();
        for node in element.descendants() {
            if let Some(text) = node.value().as_text() {
                let stripped = node.ancestors().take_while(|a| a.id() != element.id()).filter_map(ElementRef::wrap).any(|a| strip.matches(&a));
                if !stripped {
                    out.push_str(text);
                }
            }
        }
        out
    }

    fn is_ad(&self, element: ElementRef<'_>) -> bool {
        self.skip.as_ref().is_some_and(|skip| skip.matches(&element) || element.select(skip).next().is_some())
    }

    fn read_result(&self, element: ElementRef<'_>, page_url: &Url) -> Option<RawResult> {
        let title_el = element.select(&self.title).next()?;
        let title = tidy(&self.text_of(title_el), MAX_TITLE_CHARS);
        let href = element.select(&self.link).find_map(|a| a.value().attr("href"))?;
        let url = unwrap_link(safe_link(href, page_url)?, &self.unwrap)?;
        let snippet = self.snippet.as_ref().and_then(|s| element.select(s).next()).map(|el| tidy(&self.text_of(el), MAX_SNIPPET_CHARS)).unwrap_or_default();
        if title.is_empty() {
            return None;
        }
        Some(RawResult { title, url, snippet })
    }
}
