//! Who sent a request, believing `X-Forwarded-*` only from configured reverse proxies
//! (`trusted_proxies`). From anyone else those headers are ignored: a pupil's iPad cannot make
//! itself look like another address (login throttling, adult-code tries) or another host
//! (enrolment links, the same-origin check).

use std::net::IpAddr;

use actix_web::HttpRequest;

/// The client as kidsearch believes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub ip: Option<IpAddr>,
    /// "http" or "https", as the browser reached us.
    pub scheme: &'static str,
    /// `host[:port]`, as the browser reached us.
    pub host: String,
}

impl Client {
    /// `scheme://host` + `path`: an address the browser can open.
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.host)
    }
}

fn header<'r>(req: &'r HttpRequest, name: &str) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// A host header value we are willing to put into a URL.
fn plausible_host(host: &str) -> bool {
    !host.is_empty() && host.len() <= 255 && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

pub fn client(req: &HttpRequest, trusted: &[IpAddr]) -> Client {
    let peer = req.peer_addr().map(|a| a.ip());
    let direct_scheme = if req.app_config().secure() { "https" } else { "http" };
    let direct_host = header(req, "host").filter(|h| plausible_host(h)).map_or_else(|| req.app_config().host().to_string(), str::to_string);
    let Some(peer_ip) = peer.filter(|p| trusted.contains(p)) else {
        return Client { ip: peer, scheme: direct_scheme, host: direct_host };
    };
    // The client is the right-most address a trusted proxy did not add itself.
    let forwarded_ip = header(req, "x-forwarded-for")
        .and_then(|list| list.split(',').map(str::trim).filter_map(|a| a.parse::<IpAddr>().ok()).rev().find(|a| !trusted.contains(a)));
    let scheme = match header(req, "x-forwarded-proto").map(str::to_ascii_lowercase).as_deref() {
        Some("https") => "https",
        Some("http") => "http",
        _ => direct_scheme,
    };
    let host =
        header(req, "x-forwarded-host").and_then(|h| h.split(',').next()).map(str::trim).filter(|h| plausible_host(h)).map_or(direct_host, str::to_string);
    Client { ip: Some(forwarded_ip.unwrap_or(peer_ip)), scheme, host }
}

/// Is this a browser on the server's own machine? The client (as `client` believes it) is a
/// loopback address, no untrusted proxy on this machine is forwarding someone else's request
/// (a loopback peer that sends `X-Forwarded-For` or `Forwarded` without being in
/// `trusted_proxies`), and the page was asked for by a loopback name (`localhost`,
/// `127.0.0.1`, `[::1]`), so a site elsewhere cannot reach it by re-pointing its own name at
/// 127.0.0.1 (DNS rebinding).
pub fn on_this_machine(req: &HttpRequest, trusted: &[IpAddr]) -> bool {
    let seen = client(req, trusted);
    let peer_trusted = req.peer_addr().is_some_and(|a| trusted.contains(&a.ip()));
    let forwarded = header(req, "x-forwarded-for").is_some() || header(req, "forwarded").is_some();
    let host = seen.host.rsplit_once(':').filter(|(h, port)| !h.is_empty() && port.bytes().all(|b| b.is_ascii_digit())).map_or(seen.host.as_str(), |(h, _)| h);
    let loopback_name = matches!(host.to_ascii_lowercase().as_str(), "localhost" | "127.0.0.1" | "[::1]");
    seen.ip.is_some_and(|ip| ip.is_loopback()) && (peer_trusted || !forwarded) && loopback_name
}
