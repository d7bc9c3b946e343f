//! The generic HTML adapter: CSS selectors from `engines.toml`, read in one streaming pass.
//!
//! Why streaming (lol_html) and not a document tree (scraper): a results page is read on
//! every new pupil search while the pupil waits, three pages at once on a school server's two
//! cores. Building the tree cost ~1.1 ms per 24 KB page (~1.4 ms with cold caches, after the
//! server idled while the engines answered), more than all the rest of a live query's own work;
//! one pass that only looks at the selected elements costs about a quarter of that
//! (BENCHMARKS.md). Nothing else needs the tree.
//!
//! How a tree's "inside this result" is kept without a tree: every selector that reads inside
//! a result is compiled prefixed with the result selector (`title` becomes `result title`),
//! so it can only match inside some result, and results do not nest (a result inside a result
//! is part of the outer one, as before). So selectors read inside a result are relative to it:
//! all of a title selector's elements must be inside the result. The parser tracks open
//! elements the way lol_html does: an element whose end tag is left out (`<li>`, `<p>`) stays
//! open until an ancestor's end tag. The fixture pages, `tests/parser_props.rs` and
//! `tests/html_reader_agrees.rs` (this reader against a scraper tree on the shipped pages and
//! on generated ones) hold it to the tree's answers.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use lol_html::errors::RewritingError;
use lol_html::html_content::{Element, TextChunk};
use lol_html::{DocumentContentHandlers, ElementContentHandlers, HandlerResult, HtmlRewriter, Selector, Settings};
use url::Url;

use super::budget::ReadBudget;
use super::definition::UnwrapRule;
use super::text::{safe_link, tidy, MAX_SNIPPET_CHARS, MAX_TITLE_CHARS};
use super::unwrap::unwrap_link;
use super::{EngineError, EnginePage, RawResult};

/// One engine's selectors as written in `engines.toml`.
#[derive(Debug, Clone, Default)]
pub struct HtmlSelectors {
    pub result: String,
    /// Ads: a result that matches this, or has something inside that does, is left out.
    pub skip: Option<String>,
    pub title: String,
    pub link: String,
    pub snippet: Option<String>,
    pub no_results: Option<String>,
    pub blocked: Option<String>,
    /// Hidden form values later pages must send back: (name, selector of an `<input>`).
    pub carry: Vec<(String, String)>,
    /// Elements whose text is not part of a title or snippet (Bing's "WEB" slug icon).
    pub strip: Option<String>,
    /// The result's picture: an `<img>` whose `data-src` or `src` (`THUMBNAIL_ATTRIBUTES`)
    /// names it. Shown only from the engine's `image_hosts`, through the image path.
    pub thumbnail: Option<String>,
}

/// Where a thumbnail `<img>` names its picture, in the order they are tried: a lazy-loaded
/// picture's `src` is a placeholder (often a `data:` GIF) and `data-src` the real address.
/// The first that is an http(s) URL (after resolving against the page) is the picture.
pub const THUMBNAIL_ATTRIBUTES: [&str; 2] = ["data-src", "src"];
/// Candidate addresses kept per result: a real result has one or two.
const MAX_THUMBNAIL_CANDIDATES: usize = 16;

/// A selector the reader cannot use, for the config check to report.
#[derive(Debug)]
pub struct SelectorProblem {
    pub field: &'static str,
    pub error: String,
}

/// A result link kept as JSON in an attribute of the link element instead of `href` (Bing
/// images: `<a class="iusc" m='{"purl": …, "turl": …}'>`).
#[derive(Debug, Clone)]
pub struct LinkJson {
    pub attr: String,
    /// Pointer to the result page's URL.
    pub url: String,
    /// Pointer to the result's picture.
    pub thumbnail: Option<String>,
}

impl LinkJson {
    /// The page URL and picture of an attribute's value (entities already decoded).
    pub fn read(&self, value: &str) -> Option<(String, Option<Url>)> {
        let doc: serde_json::Value = serde_json::from_str(value).ok()?;
        let url = doc.pointer(&self.url)?.as_str()?.to_string();
        let thumbnail = self.thumbnail.as_deref().and_then(|p| doc.pointer(p)).and_then(serde_json::Value::as_str).and_then(super::text::picture_url);
        Some((url, thumbnail))
    }
}

/// Compiled selectors for one engine's results page.
#[derive(Debug)]
pub struct HtmlParser {
    pub selectors: HtmlSelectors,
    pub blocked_text: Vec<String>,
    pub unwrap: Vec<UnwrapRule>,
    /// Where the link is, when it is not the link element's `href`.
    pub link_json: Option<LinkJson>,
    /// Boxed: an engine is an HTML or a JSON one, and this is the bigger of the two.
    compiled: Box<Compiled>,
}

#[derive(Debug)]
struct Compiled {
    /// `result *`: an element inside a result. A result that is one belongs to the outer
    /// result (not `result result`: the result selector's context, `div#main` in
    /// `div#main div.g`, would have to appear twice above it).
    nested: Selector,
    /// `skip` (the result itself is an ad) and `result skip` (something inside it is).
    skip: Option<(Selector, Selector)>,
    result: Selector,
    title: Selector,
    link: Selector,
    snippet: Option<Selector>,
    /// `result title strip` and `result snippet strip`.
    strip: Option<(Selector, Option<Selector>)>,
    thumbnail: Option<Selector>,
    no_results: Option<Selector>,
    blocked: Option<Selector>,
    carry: Vec<Selector>,
}

/// Results kept from one page at most; a page with thousands of matches is not a results page.
const MAX_RESULTS_PER_PAGE: usize = 50;

/// Checks one selector as the reader will use it (lol_html supports type, class, id,
/// attribute, `:not`, `:nth-child`, descendant and child selectors; not `+`, `~` or `:has`).
pub fn check_selector(selector: &str) -> Result<(), String> {
    selector.parse::<Selector>().map(|_| ()).map_err(|e| e.to_string())
}

impl HtmlParser {
    pub fn new(selectors: HtmlSelectors, blocked_text: Vec<String>, unwrap: Vec<UnwrapRule>) -> Result<HtmlParser, SelectorProblem> {
        let s = &selectors;
        let compile = |field: &'static str, text: &str| text.parse::<Selector>().map_err(|e| SelectorProblem { field, error: e.to_string() });
        let optional = |field: &'static str, text: &Option<String>| text.as_deref().map(|t| compile(field, t)).transpose();
        let inside = |field: &'static str, outer: &str, inner: &str| compile(field, &descendants(outer, inner));
        let compiled = Compiled {
            nested: inside("result", &s.result, "*")?,
            skip: match &s.skip {
                Some(skip) => Some((compile("skip", skip)?, inside("skip", &s.result, skip)?)),
                None => None,
            },
            result: compile("result", &s.result)?,
            title: inside("title", &s.result, &s.title)?,
            link: inside("link", &s.result, &s.link)?,
            snippet: s.snippet.as_deref().map(|snippet| inside("snippet", &s.result, snippet)).transpose()?,
            strip: match &s.strip {
                Some(strip) => Some((
                    inside("strip", &descendants(&s.result, &s.title), strip)?,
                    s.snippet.as_deref().map(|snippet| inside("strip", &descendants(&s.result, snippet), strip)).transpose()?,
                )),
                None => None,
            },
            thumbnail: s.thumbnail.as_deref().map(|thumbnail| inside("thumbnail", &s.result, thumbnail)).transpose()?,
            no_results: optional("no_results", &s.no_results)?,
            blocked: optional("blocked", &s.blocked)?,
            carry: s.carry.iter().map(|(_, selector)| compile("carry", selector)).collect::<Result<_, _>>()?,
        };
        Ok(HtmlParser { selectors, blocked_text, unwrap, link_json: None, compiled: Box::new(compiled) })
    }

    /// The same parser, reading each result's link (and picture) from JSON in an attribute.
    pub fn with_link_json(mut self, link_json: LinkJson) -> HtmlParser {
        self.link_json = Some(link_json);
        self
    }

    /// Reads a results page. A page that is neither results, nor a recognised "no results"
    /// page, nor a bot check is `Unparseable`: a changed page must not pass as "nothing found".
    pub fn parse(&self, body: &str, page_url: &Url) -> Result<EnginePage, EngineError> {
        self.parse_within(body, page_url, &ReadBudget::page())
    }

    /// As `parse`; a page not read before `budget` is spent is `Unparseable` (see `budget`).
    pub fn parse_within(&self, body: &str, page_url: &Url, budget: &ReadBudget) -> Result<EnginePage, EngineError> {
        self.parse_stream(std::iter::once(Ok(body.as_bytes())), page_url, budget.clone())
    }

    /// As `parse_within`, reading the page piece by piece as it arrives (`pieces` blocks until
    /// the next one comes; an `Err` piece ends the reading with that error: the answer grew
    /// past the cap, or the connection failed). Nothing of the page is kept but what the
    /// selectors take, so a big answer costs no more memory than a small one. Time spent
    /// waiting for the next piece does not count against `budget`.
    pub fn parse_stream<B: AsRef<[u8]>>(
        &self,
        pieces: impl Iterator<Item = Result<B, EngineError>>,
        page_url: &Url,
        budget: ReadBudget,
    ) -> Result<EnginePage, EngineError> {
        let mut blocked_text = TextFinder::new(&self.blocked_text);
        let pieces = pieces.inspect(|piece| {
            if let Ok(bytes) = piece {
                blocked_text.look_in(bytes.as_ref());
            }
        });
        let link_attr = self.link_json.as_ref().map_or("href", |j| j.attr.as_str()).to_string();
        let reading = Rc::new(RefCell::new(Reading { carried: vec![None; self.compiled.carry.len()], link_attr, ..Reading::default() }));
        let read = self.read(pieces, &reading, budget);
        // A bot check's words anywhere in what was read make it a bot check, however the
        // rest of the reading went (the words were looked for before reading, when the whole
        // page was held).
        if blocked_text.found() && !matches!(read, Err(EngineError::TooLarge(_))) {
            return Err(EngineError::Blocked);
        }
        read?;
        let reading = reading.take();
        if reading.blocked {
            return Err(EngineError::Blocked);
        }
        // Ads count here: a page of only ads is still a results page.
        if reading.results.is_empty() && (self.compiled.no_results.is_none() || !reading.no_results) {
            return Err(EngineError::Unparseable("no results and no \"no results\" marker".into()));
        }
        let results = reading.results.into_iter().filter(|r| !r.ad).filter_map(|r| self.finish(r, page_url)).collect();
        let carried = self.selectors.carry.iter().zip(reading.carried).filter_map(|((name, _), value)| Some((name.clone(), decode(&value?)))).collect();
        Ok(EnginePage { results, carried, refused: Vec::new() })
    }

    /// One pass over the page. Handlers run in the order they are listed for an element that
    /// several selectors match, which the result handler relies on: it comes after the
    /// `nested` and `skip` ones, which mark the element before it is counted.
    fn read<B: AsRef<[u8]>>(
        &self,
        pieces: impl Iterator<Item = Result<B, EngineError>>,
        reading: &Rc<RefCell<Reading>>,
        budget: ReadBudget,
    ) -> Result<(), EngineError> {
        let limit = budget.limit();
        let c = &self.compiled;
        let mut handlers: Vec<(Cow<'_, Selector>, ElementContentHandlers<'_>)> = Vec::new();
        let on_element = |f: fn(&mut Reading, &mut Element<'_, '_>, &Rc<RefCell<Reading>>)| {
            let reading = reading.clone();
            ElementContentHandlers::default().element(move |el: &mut Element<'_, '_>| -> HandlerResult {
                f(&mut reading.borrow_mut(), el, &reading);
                Ok(())
            })
        };
        handlers.push((Cow::Borrowed(&c.nested), on_element(|r, el, _| r.nested_at = Some(at(el)))));
        if let Some((skip, skip_inside)) = &c.skip {
            handlers.push((Cow::Borrowed(skip), on_element(|r, el, _| r.skip_at = Some(at(el)))));
            handlers.push((Cow::Borrowed(skip_inside), on_element(|r, _, _| r.current_mut().into_iter().for_each(|p| p.ad = true))));
        }
        handlers.push((Cow::Borrowed(&c.result), on_element(Reading::result_starts)));
        handlers.push((Cow::Borrowed(&c.title), on_element(|r, el, rc| r.field_starts(el, rc, Which::Title)).text(text_into(reading, Which::Title))));
        handlers.push((Cow::Borrowed(&c.link), on_element(Reading::link)));
        if let Some(snippet) = &c.snippet {
            handlers.push((Cow::Borrowed(snippet), on_element(|r, el, rc| r.field_starts(el, rc, Which::Snippet)).text(text_into(reading, Which::Snippet))));
        }
        if let Some((in_title, in_snippet)) = &c.strip {
            handlers.push((Cow::Borrowed(in_title), on_element(|r, el, rc| r.strip_starts(el, rc, Which::Title))));
            if let Some(in_snippet) = in_snippet {
                handlers.push((Cow::Borrowed(in_snippet), on_element(|r, el, rc| r.strip_starts(el, rc, Which::Snippet))));
            }
        }
        if let Some(thumbnail) = &c.thumbnail {
            handlers.push((Cow::Borrowed(thumbnail), on_element(Reading::thumbnail)));
        }
        if let Some(no_results) = &c.no_results {
            handlers.push((Cow::Borrowed(no_results), on_element(|r, _, _| r.no_results = true)));
        }
        if let Some(blocked) = &c.blocked {
            handlers.push((Cow::Borrowed(blocked), on_element(|r, _, _| r.blocked = true)));
        }
        for (i, carry) in c.carry.iter().enumerate() {
            let reading = reading.clone();
            let first_value = move |el: &mut Element<'_, '_>| -> HandlerResult {
                let mut r = reading.borrow_mut();
                if r.carried[i].is_none() {
                    r.carried[i] = el.get_attribute("value");
                }
                Ok(())
            };
            handlers.push((Cow::Borrowed(carry), ElementContentHandlers::default().element(first_value)));
        }
        read_stream(pieces, handlers, Vec::new(), budget).map_err(|e| match e {
            ReadError::Html(e) => EngineError::Unparseable(format!("the page could not be read: {e}")),
            ReadError::Spent { read } => EngineError::Unparseable(format!("reading the page was stopped after {} ms ({read} bytes read)", limit.as_millis())),
            ReadError::Answer(e) => e,
        })
    }

    fn finish(&self, result: Partial, page_url: &Url) -> Option<RawResult> {
        if !result.title.seen {
            return None;
        }
        let title = tidy(&decode(&result.title.text), MAX_TITLE_CHARS);
        let (href, json_thumbnail) = match &self.link_json {
            Some(json) => json.read(&decode(&result.href?))?,
            None => (decode(&result.href?), None),
        };
        let url = unwrap_link(safe_link(&href, page_url)?, &self.unwrap)?;
        let snippet = if result.snippet.seen { tidy(&decode(&result.snippet.text), MAX_SNIPPET_CHARS) } else { String::new() };
        if title.is_empty() {
            return None;
        }
        // Bing images' picture comes with its link; otherwise the first thumbnail candidate that
        // is a web address (`data:` placeholders and the like are not).
        let thumbnail = json_thumbnail.or_else(|| result.thumbnails.iter().find_map(|raw| safe_link(&decode(raw), page_url)));
        Some(RawResult { title, url, snippet, thumbnail })
    }
}

/// How much of a page is given to the reader between two looks at its budget: small enough
/// that a hostile page overruns its budget by little (tens of ms at the depth a page can reach
/// within it), large enough that a real page (~24 KB) is a handful of writes.
const CHUNK_BYTES: usize = 4096;

/// Why `read_only` stopped early.
#[derive(Debug)]
pub(super) enum ReadError {
    Html(RewritingError),
    /// The budget was spent after `read` bytes.
    Spent {
        read: usize,
    },
    /// The answer itself failed while it arrived (too big, the connection broke).
    Answer(EngineError),
}

/// Runs lol_html over `html` for its handlers alone (the rewritten output is dropped), in
/// chunks, looking at `budget` between them. Used for results pages here and for JSON
/// engines' snippets (`strip_html`).
pub(super) fn read_only<'h>(
    html: &str,
    element_content_handlers: Vec<(Cow<'_, Selector>, ElementContentHandlers<'h>)>,
    document_content_handlers: Vec<DocumentContentHandlers<'h>>,
    budget: &ReadBudget,
) -> Result<(), ReadError> {
    read_stream(std::iter::once(Ok(html.as_bytes())), element_content_handlers, document_content_handlers, budget.clone())
}

/// As `read_only`, over a page that arrives in pieces (see `HtmlParser::parse_stream`).
fn read_stream<'h, B: AsRef<[u8]>>(
    mut pieces: impl Iterator<Item = Result<B, EngineError>>,
    element_content_handlers: Vec<(Cow<'_, Selector>, ElementContentHandlers<'h>)>,
    document_content_handlers: Vec<DocumentContentHandlers<'h>>,
    mut budget: ReadBudget,
) -> Result<(), ReadError> {
    let settings = Settings {
        element_content_handlers,
        document_content_handlers,
        // Not strict: markup that leaves lol_html unsure whether it is reading text or tags
        // (its docs' example: `<select><xmp><script>`) is read on a best guess rather than
        // failing the whole page.
        strict: false,
        ..Settings::new()
    };
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    let mut read = 0;
    loop {
        let waiting = Instant::now();
        let Some(piece) = pieces.next() else { break };
        budget.pause(waiting.elapsed());
        // lol_html reads chunks split anywhere (inside a tag, an entity or a UTF-8 sequence)
        // as one stream; source locations count from the start of the page.
        for chunk in piece.map_err(ReadError::Answer)?.as_ref().chunks(CHUNK_BYTES) {
            if budget.is_spent() {
                return Err(ReadError::Spent { read });
            }
            rewriter.write(chunk).map_err(ReadError::Html)?;
            read += chunk.len();
        }
    }
    rewriter.end().map_err(ReadError::Html)
}

/// Looks for any of a few texts in a page read in pieces: a text split between two pieces is
/// found too (the end of the last piece is kept, one byte shorter than the longest text).
struct TextFinder<'t> {
    texts: &'t [String],
    tail: Vec<u8>,
    found: bool,
}

impl<'t> TextFinder<'t> {
    fn new(texts: &'t [String]) -> TextFinder<'t> {
        TextFinder { texts, tail: Vec::new(), found: false }
    }

    fn look_in(&mut self, piece: &[u8]) {
        let keep = self.texts.iter().map(String::len).max().unwrap_or(0).saturating_sub(1);
        if self.found || self.texts.is_empty() {
            return;
        }
        // Only the seam needs the kept tail: the tail and the piece's first bytes.
        let seam: Vec<u8> = self.tail.iter().chain(&piece[..piece.len().min(keep)]).copied().collect();
        self.found = self.texts.iter().any(|t| contains(&seam, t.as_bytes()) || contains(piece, t.as_bytes()));
        let joined = if piece.len() >= keep { &piece[piece.len() - keep..] } else { &seam[seam.len().saturating_sub(keep)..] };
        self.tail = joined.to_vec();
    }

    fn found(&self) -> bool {
        self.found
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// `outer inner` for selector lists: every part of one, then every part of the other.
fn descendants(outer: &str, inner: &str) -> String {
    let (outer, inner) = (split_list(outer), split_list(inner));
    outer.iter().flat_map(|o| inner.iter().map(move |i| format!("{o} {i}"))).collect::<Vec<_>>().join(", ")
}

/// The parts of a selector list, split at top-level commas (not inside quotes, brackets or
/// parentheses).
fn split_list(list: &str) -> Vec<&str> {
    let (mut parts, mut start, mut depth, mut quote) = (Vec::new(), 0, 0i32, None);
    for (i, c) in list.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '(') => depth += 1,
            (None, ']' | ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(list[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(list[start..].trim());
    parts
}

/// Text and attribute values arrive as written, entities and all.
fn decode(raw: &str) -> String {
    html_escape::decode_html_entities(raw).into_owned()
}

/// Where an element's start tag is: the same element seen by two handlers has the same.
fn at(el: &Element<'_, '_>) -> usize {
    el.source_location().bytes().start
}

#[derive(Clone, Copy)]
enum Which {
    Title,
    Snippet,
}

/// What one pass has read so far.
#[derive(Default)]
struct Reading {
    results: Vec<Partial>,
    /// The result that elements being read belong to; `None` before the first and after the
    /// per-page limit.
    current: Option<usize>,
    /// Result elements seen, nested ones included (the limit counts them all, as before).
    considered: usize,
    nested_at: Option<usize>,
    skip_at: Option<usize>,
    no_results: bool,
    blocked: bool,
    carried: Vec<Option<String>>,
    /// The link element's attribute read as the link (`href`, or `LinkJson::attr`).
    link_attr: String,
}

#[derive(Default)]
struct Partial {
    ad: bool,
    title: Field,
    snippet: Field,
    href: Option<String>,
    /// `THUMBNAIL_ATTRIBUTES` of the thumbnail elements, as written, in order.
    thumbnails: Vec<String>,
}

/// A title or snippet: the text of the first matching element in a result.
#[derive(Default)]
struct Field {
    seen: bool,
    /// Until that element's end tag.
    open: bool,
    /// Inside how many `strip` elements within it.
    stripping: u32,
    text: String,
}

impl Reading {
    fn current_mut(&mut self) -> Option<&mut Partial> {
        self.current.and_then(|i| self.results.get_mut(i))
    }

    fn field(&mut self, which: Which) -> Option<&mut Field> {
        self.current_mut().map(|p| p.field_of(which))
    }

    fn result_starts(&mut self, el: &mut Element<'_, '_>, _: &Rc<RefCell<Reading>>) {
        let at = at(el);
        let nested = self.nested_at == Some(at);
        if self.considered >= MAX_RESULTS_PER_PAGE {
            if !nested {
                self.current = None;
            }
            return;
        }
        self.considered += 1;
        if nested {
            return;
        }
        self.results.push(Partial { ad: self.skip_at == Some(at), ..Partial::default() });
        self.current = Some(self.results.len() - 1);
    }

    fn link(&mut self, el: &mut Element<'_, '_>, _: &Rc<RefCell<Reading>>) {
        // Fields borrowed apart: the attribute's name beside the result being read.
        let (attr, result) = (&self.link_attr, self.current.and_then(|i| self.results.get_mut(i)));
        if let Some(result) = result {
            if result.href.is_none() {
                result.href = el.get_attribute(attr);
            }
        }
    }

    fn thumbnail(&mut self, el: &mut Element<'_, '_>, _: &Rc<RefCell<Reading>>) {
        if let Some(result) = self.current_mut() {
            for name in THUMBNAIL_ATTRIBUTES {
                if result.thumbnails.len() < MAX_THUMBNAIL_CANDIDATES {
                    result.thumbnails.extend(el.get_attribute(name));
                }
            }
        }
    }

    /// The first title (or snippet) element of a result opens it until its end tag; later
    /// ones are not read.
    fn field_starts(&mut self, el: &mut Element<'_, '_>, rc: &Rc<RefCell<Reading>>, which: Which) {
        let (Some(index), Some(field)) = (self.current, self.field(which)) else {
            return;
        };
        if field.seen {
            return;
        }
        field.seen = true;
        field.open = true;
        let rc = rc.clone();
        let close = move |_: &mut lol_html::html_content::EndTag<'_>| -> HandlerResult {
            if let Some(field) = rc.borrow_mut().results.get_mut(index).map(|p| p.field_of(which)) {
                field.open = false;
            }
            Ok(())
        };
        // An element that cannot have content (`<img>`) has no text to read either.
        if let Some(handlers) = el.end_tag_handlers() {
            handlers.push(Box::new(close));
        } else {
            field.open = false;
        }
    }

    fn strip_starts(&mut self, el: &mut Element<'_, '_>, rc: &Rc<RefCell<Reading>>, which: Which) {
        let (Some(index), Some(field)) = (self.current, self.field(which)) else {
            return;
        };
        if !field.open {
            return;
        }
        let Some(handlers) = el.end_tag_handlers() else {
            return;
        };
        field.stripping += 1;
        let rc = rc.clone();
        handlers.push(Box::new(move |_: &mut lol_html::html_content::EndTag<'_>| -> HandlerResult {
            if let Some(field) = rc.borrow_mut().results.get_mut(index).map(|p| p.field_of(which)) {
                field.stripping = field.stripping.saturating_sub(1);
            }
            Ok(())
        }));
    }
}

impl Partial {
    fn field_of(&mut self, which: Which) -> &mut Field {
        match which {
            Which::Title => &mut self.title,
            Which::Snippet => &mut self.snippet,
        }
    }
}

fn text_into(reading: &Rc<RefCell<Reading>>, which: Which) -> impl FnMut(&mut TextChunk<'_>) -> HandlerResult + 'static {
    let reading = reading.clone();
    move |chunk: &mut TextChunk<'_>| -> HandlerResult {
        if let Some(field) = reading.borrow_mut().field(which) {
            if field.open && field.stripping == 0 {
                field.text.push_str(chunk.as_str());
            }
        }
        Ok(())
    }
}

/// Text of an HTML fragment (as JSON APIs embed `<b>`/`<span>` in snippets): tags removed,
/// entities decoded once. Read in one streaming pass like results pages: a
/// document tree per snippet cost more than the rest of reading a JSON answer.
pub fn strip_html(fragment: &str, max_chars: usize) -> String {
    if !fragment.contains('<') && !fragment.contains('&') {
        return tidy(fragment, max_chars);
    }
    let text = std::cell::RefCell::new(String::with_capacity(fragment.len()));
    let collect = |chunk: &mut lol_html::html_content::TextChunk<'_>| -> lol_html::HandlerResult {
        text.borrow_mut().push_str(chunk.as_str());
        Ok(())
    };
    // Never fails without selectors or memory limits; a fragment it could not read would
    // leave only the text read so far, never markup. Without selectors reading is linear in
    // the fragment's length, so the page budget is only a backstop.
    let budget = super::budget::ReadBudget::page();
    let _ = read_only(fragment, Vec::new(), vec![lol_html::DocumentContentHandlers::default().text(collect)], &budget);
    let raw = text.take();
    tidy(&html_escape::decode_html_entities(&raw), max_chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_html_decodes_entities_once() {
        assert_eq!(strip_html("<b>Rock</b> &amp;amp; <span class=\"searchmatch\">roll</span>", 50), "Rock &amp; roll");
    }

    #[test]
    fn selector_lists_split_at_top_level_commas_only() {
        assert_eq!(split_list("div.a, div.b"), ["div.a", "div.b"]);
        assert_eq!(split_list("a[title=\"x, y\"], b:not(.c, .d)"), ["a[title=\"x, y\"]", "b:not(.c, .d)"]);
        assert_eq!(descendants("ol > li, div.g", "h2 > a, h3"), "ol > li h2 > a, ol > li h3, div.g h2 > a, div.g h3");
    }

    #[test]
    fn a_bot_checks_words_are_found_across_pieces_of_any_size() {
        let texts = vec!["unusual traffic".to_string(), "/sorry/index".to_string()];
        let page = "<p>Our systems have detected unusual traffic from your computer network.</p>";
        for size in [1, 2, 5, 14, 15, 16, 40, page.len()] {
            let mut finder = TextFinder::new(&texts);
            page.as_bytes().chunks(size).for_each(|piece| finder.look_in(piece));
            assert!(finder.found(), "pieces of {size} bytes");
        }
        let mut finder = TextFinder::new(&texts);
        b"unusual traf".chunks(3).chain(std::iter::once(&b"fic? no: unusual tra"[..])).for_each(|piece| finder.look_in(piece));
        assert!(finder.found(), "split right at a seam");
        let mut finder = TextFinder::new(&texts);
        b"unusual traf fic".chunks(4).for_each(|piece| finder.look_in(piece));
        assert!(!finder.found(), "words that are not there are not found");
    }
}
