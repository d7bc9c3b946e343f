//! Upstream search engines as data: definitions from `allowlist/engines.toml`, compiled once at
//! start-up into [`Engine`]s with their selectors, request templates and safe-search locks.
//!
//! Invariant: an engine whose audience is `pupils` always has a non-empty safe-search lock, and
//! that lock is applied after every other parameter (see [`request`]).

pub mod budget;
mod compile;
pub mod definition;
pub mod html;
pub mod json;
pub mod request;
pub mod text;
pub mod unwrap;

use std::time::Duration;

pub use compile::{EngineSet, Unsearchable};
pub use definition::{Audience, Purpose};

/// The engine definitions shipped with the binary, used when no `allowlist/` folder is present.
pub const EMBEDDED_ENGINES_TOML: &str = include_str!("../../allowlist/engines.toml");

/// One result as an engine gave it, already cleaned: plain-text title and snippet, an absolute
/// `http(s)` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResult {
    pub title: String,
    pub url: url::Url,
    pub snippet: String,
    /// The engine's own picture for this result (an absolute http(s) URL on one of its picture
    /// hosts, checked when the page is built), if it gave one.
    pub thumbnail: Option<url::Url>,
}

/// What one engine answered for one query and page.
#[derive(Debug, Clone, Default)]
pub struct EnginePage {
    pub results: Vec<RawResult>,
    /// Hidden form values that later pages must send back (DuckDuckGo's `vqd`).
    pub carried: Vec<(String, String)>,
    /// Results the word lists took out of this page (`Policy::screen_words`): never shown,
    /// whichever engine returns the same page.
    pub refused: Vec<url::Url>,
}

/// Why an engine gave no usable answer. The message is shown to staff and in the JSON API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("turned off: {0}")]
    Off(String),
    #[error("took longer than {0} ms")]
    Timeout(u64),
    #[error("resting: the engine answered with a bot check or rate limit")]
    Blocked,
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("answer could not be read as results: {0}")]
    Unparseable(String),
    #[error("refused to contact {0}: not one of this engine's allowed hosts")]
    HostRefused(String),
    #[error("refused to contact {0}: it resolves to a private or loopback address")]
    AddressRefused(String),
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
    #[error("engine reported an error: {0}")]
    Upstream(String),
    #[error("could not reach the engine: {0}")]
    Transport(String),
    #[error("resting after failing again and again; asked again in {0} s")]
    Resting(u64),
}

impl EngineError {
    /// What kind of failure this is, in a word: all a pupil's answer says about it (the
    /// detail — internal addresses, parser messages — is for staff pages and the log).
    pub fn kind(&self) -> &'static str {
        match self {
            EngineError::Off(_) => "off",
            EngineError::Timeout(_) => "timeout",
            EngineError::Blocked => "rate_limited",
            EngineError::Status(_) => "http_status",
            EngineError::Unparseable(_) => "unreadable",
            EngineError::HostRefused(_) => "host_not_allowed",
            EngineError::AddressRefused(_) => "private_address",
            EngineError::TooLarge(_) => "too_large",
            EngineError::Upstream(_) => "engine_error",
            EngineError::Transport(_) => "unreachable",
            EngineError::Resting(_) => "resting",
        }
    }
}

/// Whether an engine can be asked at all, and if not, why (shown by `check` and to staff).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Ready,
    Off(String),
}

/// A compiled engine: everything needed to ask it and read its answer.
#[derive(Debug)]
pub struct Engine {
    pub id: String,
    pub name: String,
    pub audience: Audience,
    /// Web pages or pictures: picture engines answer picture search only.
    pub purpose: Purpose,
    pub weight: f64,
    pub timeout: Duration,
    pub availability: Availability,
    /// Hosts this engine may contact (lowercase). Nothing else is ever fetched for it.
    pub hosts: Vec<String>,
    /// True when the hosts came from a `base_url` override: only then may they be private or
    /// loopback addresses (fixture servers in tests, a local mirror).
    pub private_hosts_allowed: bool,
    pub request: request::RequestTemplate,
    pub parser: Parser,
    /// Where this engine's pictures may come from.
    pub images: ImageHosts,
}

/// An engine's picture hosts, compiled from `image_hosts` and a local `image_base_url`.
#[derive(Debug, Clone, Default)]
pub struct ImageHosts {
    /// As `engines.toml` declares them: a picture URL in an answer must name one of these.
    pub declared: Vec<String>,
    /// What the picture client may contact: the declared hosts, or the override's one host.
    pub hosts: Vec<String>,
    /// True only with an `image_base_url` override (fixtures, a local mirror).
    pub private_ok: bool,
    /// The override: declared picture URLs are fetched from here instead.
    pub base: Option<url::Url>,
}

/// Replaces `url`'s scheme, host and port with `base`'s (a local override).
pub fn rebase(url: &mut url::Url, base: &url::Url) {
    // set_scheme refuses some special-scheme changes; http<->https is allowed.
    let _ = url.set_scheme(base.scheme());
    let _ = url.set_host(base.host_str());
    let _ = url.set_port(base.port());
}

/// How an engine's answer is read.
#[derive(Debug)]
pub enum Parser {
    Html(html::HtmlParser),
    Json(json::JsonParser),
}

impl Engine {
    /// Whether later pages need values read from page 1.
    pub fn carries_state(&self) -> bool {
        matches!(&self.parser, Parser::Html(p) if !p.selectors.carry.is_empty())
    }

    pub fn is_ready(&self) -> bool {
        self.availability == Availability::Ready
    }

    /// Reads an answer body into results. Never panics, whatever the body; an HTML page that
    /// takes longer than `budget::PAGE_READ_LIMIT` to read is `Unparseable`.
    pub fn parse(&self, body: &str, page_url: &url::Url) -> Result<EnginePage, EngineError> {
        self.parse_within(body, page_url, &budget::ReadBudget::page())
    }

    /// As `parse`, stopping when `budget` is spent (its time is up or its waiter gave up).
    pub fn parse_within(&self, body: &str, page_url: &url::Url, budget: &budget::ReadBudget) -> Result<EnginePage, EngineError> {
        match &self.parser {
            Parser::Html(p) => p.parse_within(body, page_url, budget),
            // serde_json reads in linear time and refuses nesting past 128 levels.
            Parser::Json(p) => p.parse(body),
        }
    }

    /// As `parse_within`, reading an answer piece by piece as it arrives (see
    /// `html::HtmlParser::parse_stream`): an HTML page is read as it comes and never held
    /// whole. A JSON answer is gathered first (it is read as one document), up to the same cap.
    pub fn parse_stream<B: AsRef<[u8]>>(
        &self,
        pieces: impl Iterator<Item = Result<B, EngineError>>,
        page_url: &url::Url,
        budget: budget::ReadBudget,
    ) -> Result<EnginePage, EngineError> {
        match &self.parser {
            Parser::Html(p) => p.parse_stream(pieces, page_url, budget),
            Parser::Json(p) => {
                let mut body = Vec::new();
                for piece in pieces {
                    body.extend_from_slice(piece?.as_ref());
                }
                p.parse(&String::from_utf8_lossy(&body))
            }
        }
    }
}

/// Is the URL's host (and port) one of `hosts`? An entry without a port allows only the
/// scheme's default port, so `www.bing.com` does not open `www.bing.com:8443`.
pub fn host_listed(hosts: &[String], url: &url::Url) -> bool {
    let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
        return false;
    };
    let with_port = url.port_or_known_default().map(|p| format!("{host}:{p}"));
    hosts.iter().any(|entry| {
        if entry.contains(':') && !entry.starts_with('[') || entry.contains("]:") {
            with_port.as_deref() == Some(entry.as_str())
        } else {
            *entry == host && url.port().is_none()
        }
    })
}
