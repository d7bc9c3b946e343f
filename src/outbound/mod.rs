//! The gateway's only way out: one HTTP client per engine that can reach that engine's declared
//! hosts and nothing else.
//!
//! Invariants (the SSRF guard is built in, not bolted on):
//! - a request to a host outside the engine's `hosts` is refused before any connection is made;
//! - a redirect is followed only to one of those hosts (at most 3 hops);
//! - a host name that resolves to a private, loopback or link-local address is refused unless
//!   the engine's hosts came from a local `base_url` override (tests, a local mirror);
//! - bodies are capped in size and every request in time.

mod address;
pub mod fetch;

use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use url::Url;

use crate::engines::definition::Method;
use crate::engines::request::UpstreamRequest;
use crate::engines::{host_listed, Engine, EngineError};

pub use address::is_public_address;

/// An answer read in full (up to the cap).
#[derive(Debug)]
pub struct UpstreamResponse {
    pub status: u16,
    pub url: Url,
    pub body: String,
}

/// An answer whose headers have arrived and whose body is read piece by piece, up to the cap.
/// Dropping it before the end closes the connection: nothing more of the body is received.
#[derive(Debug)]
pub struct UpstreamAnswer {
    pub status: u16,
    pub url: Url,
    response: reqwest::Response,
    read: usize,
    max_body: usize,
    timeout: Duration,
}

impl UpstreamAnswer {
    /// The next piece of the body as the connection gave it, `None` at its end, `TooLarge`
    /// as soon as the body passes the cap (the caller drops the answer, and with it the
    /// connection, rather than receiving the rest).
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, EngineError> {
        let Some(piece) = self.response.chunk().await.map_err(|e| classify(e, self.timeout))? else {
            return Ok(None);
        };
        self.read += piece.len();
        if self.read > self.max_body {
            return Err(EngineError::TooLarge(self.max_body));
        }
        Ok(Some(piece))
    }
}

/// The outbound client for one engine.
#[derive(Debug, Clone)]
pub struct GuardedClient {
    client: reqwest::Client,
    hosts: Arc<Vec<String>>,
    private_ok: bool,
    max_body: usize,
    timeout: Duration,
}

/// Raised by the redirect policy; found again in the error chain to report the refused host.
#[derive(Debug)]
struct RefusedRedirect(String);

impl std::fmt::Display for RefusedRedirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "redirect to {} refused", self.0)
    }
}

impl std::error::Error for RefusedRedirect {}

const MAX_REDIRECTS: usize = 3;

impl GuardedClient {
    pub fn for_engine(engine: &Engine, user_agent: &str, max_body: usize) -> Result<GuardedClient, String> {
        GuardedClient::for_hosts(engine.hosts.clone(), engine.private_hosts_allowed, engine.timeout, user_agent, max_body)
    }

    /// A client for `hosts` only (`host` or `host:port`), under the same guard as an engine's:
    /// `private_ok` only for hosts a local base URL override named. (An engine's pictures come
    /// from hosts of their own: `images::Images` builds one per engine from its `image_hosts`.)
    pub fn for_hosts(hosts: Vec<String>, private_ok: bool, timeout: Duration, user_agent: &str, max_body: usize) -> Result<GuardedClient, String> {
        let hosts = Arc::new(hosts);
        let policy_hosts = hosts.clone();
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            let host = attempt.url().host_str().unwrap_or_default().to_ascii_lowercase();
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error(RefusedRedirect(format!("{host} (too many redirects)")))
            } else if host_listed(&policy_hosts, attempt.url()) && address::literal_allowed(attempt.url(), private_ok) {
                attempt.follow()
            } else {
                attempt.error(RefusedRedirect(host))
            }
        });
        let mut default_headers = HeaderMap::new();
        default_headers.insert(USER_AGENT, HeaderValue::from_str(user_agent).map_err(|e| format!("user_agent: {e}"))?);
        let client = reqwest::Client::builder()
            .redirect(redirect)
            .no_proxy()
            .default_headers(default_headers)
            .connect_timeout(timeout)
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            .dns_resolver(Arc::new(address::GuardedResolver { private_ok }))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(GuardedClient { client, hosts, private_ok, max_body, timeout })
    }

    /// May this client contact `url` at all? Checked before any connection is made.
    pub fn allows(&self, url: &Url) -> bool {
        matches!(url.scheme(), "http" | "https") && host_listed(&self.hosts, url) && address::literal_allowed(url, self.private_ok)
    }

    /// Sends `req` and waits for the answer's headers; the body is read with
    /// [`UpstreamAnswer::chunk`]. A body whose declared length passes the cap is refused here.
    pub async fn open(&self, req: &UpstreamRequest) -> Result<UpstreamAnswer, EngineError> {
        if !self.allows(&req.url) {
            return Err(EngineError::HostRefused(req.url.host_str().unwrap_or("?").to_string()));
        }
        let mut builder = match req.method {
            Method::Get => self.client.get(req.url.clone()),
            Method::Post => self.client.post(req.url.clone()).form(req.form.as_deref().unwrap_or(&[])),
        };
        for (name, value) in &req.headers {
            let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) else {
                return Err(EngineError::Transport(format!("header {name} is not valid")));
            };
            builder = builder.header(name, value);
        }
        let response = builder.send().await.map_err(|e| classify(e, self.timeout))?;
        if response.content_length().is_some_and(|len| len as usize > self.max_body) {
            return Err(EngineError::TooLarge(self.max_body));
        }
        let (status, url) = (response.status().as_u16(), response.url().clone());
        Ok(UpstreamAnswer { status, url, response, read: 0, max_body: self.max_body, timeout: self.timeout })
    }

    /// `GET url` for its bytes as sent (pictures): the same host, redirect, address, size and
    /// time guards as `open`. Returns the status and the body.
    pub async fn get_bytes(&self, url: &Url) -> Result<(u16, Vec<u8>), EngineError> {
        let req = UpstreamRequest { method: Method::Get, url: url.clone(), form: None, headers: Vec::new() };
        let mut answer = self.open(&req).await?;
        let mut body = Vec::new();
        while let Some(piece) = answer.chunk().await? {
            body.extend_from_slice(&piece);
        }
        Ok((answer.status, body))
    }

    /// As `open`, with the whole body read (up to the cap): for small answers such as a token
    /// script. Results pages are read as they arrive (`fetch::read_answer`).
    pub async fn send(&self, req: &UpstreamRequest) -> Result<UpstreamResponse, EngineError> {
        let mut answer = self.open(req).await?;
        let mut body = Vec::new();
        while let Some(piece) = answer.chunk().await? {
            body.extend_from_slice(&piece);
        }
        Ok(UpstreamResponse { status: answer.status, url: answer.url, body: String::from_utf8_lossy(&body).into_owned() })
    }
}

fn classify(e: reqwest::Error, timeout: Duration) -> EngineError {
    if e.is_timeout() {
        return EngineError::Timeout(timeout.as_millis() as u64);
    }
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<RefusedRedirect>() {
            return EngineError::HostRefused(refused.0.clone());
        }
        if let Some(refused) = s.downcast_ref::<address::RefusedAddress>() {
            return EngineError::AddressRefused(refused.0.clone());
        }
        source = s.source();
    }
    EngineError::Transport(if e.is_connect() { "connection failed".into() } else { "request failed".into() })
}
