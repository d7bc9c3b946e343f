//! Which network addresses the gateway may connect to.

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// A name resolved only to addresses we refuse.
#[derive(Debug)]
pub struct RefusedAddress(pub String);

impl std::fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} resolves to a private or loopback address", self.0)
    }
}

impl std::error::Error for RefusedAddress {}

/// True for addresses on the public internet: not loopback, private, link-local, shared
/// (CGNAT), documentation, multicast, broadcast or unspecified.
pub fn is_public_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// An IP-literal host is checked here (the resolver never sees it).
pub fn literal_allowed(url: &Url, private_ok: bool) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => private_ok || is_public_address(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => private_ok || is_public_address(IpAddr::V6(ip)),
        Some(Host::Domain(_)) => true,
        None => false,
    }
}

/// System DNS, with non-public answers removed unless the engine's hosts are a local override.
#[derive(Debug)]
pub struct GuardedResolver {
    pub private_ok: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let private_ok = self.private_ok;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found.into_iter().filter(|a| private_ok || is_public_address(a.ip())).collect();
            if kept.is_empty() {
                return Err(Box::new(RefusedAddress(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_loopback_addresses_are_not_public() {
        for ip in
            ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.5", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1"]
        {
            assert!(!is_public_address(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["1.1.1.1", "151.101.0.1", "2a00:1450::1"] {
            assert!(is_public_address(ip.parse().unwrap()), "{ip}");
        }
    }
}
