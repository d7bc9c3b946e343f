//! Domain lists in the squidGuard/UT1 `domains` format: one domain per line, `#` comments.
//! A listed domain covers itself and every subdomain (`evil.github.io` covers
//! `www.evil.github.io`, not `good.github.io`).
//!
//! Stored compactly for million-line lists: every domain in one string arena, and a sorted
//! array of (offset, length) into it; a lookup binary-searches each parent of the host.

use crate::config::ConfigProblem;

/// A set of domains (and their subdomains).
#[derive(Debug, Default)]
pub struct DomainSet {
    arena: String,
    /// (offset, length) into `arena`, sorted by the text they point at, deduplicated.
    spans: Vec<(u32, u16)>,
}

/// What [`DomainSet::parse_counting`] read: entries (not blank, not a comment) and those skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseCounts {
    pub entries: usize,
    pub skipped: usize,
}

/// Problems reported per file at most; a million-line list with a broken export should not
/// print a million lines.
const MAX_PROBLEMS_PER_FILE: usize = 20;

impl DomainSet {
    /// Reads a list. Lines that are not domains, and public suffixes (which would block every
    /// site under them, e.g. `co.uk`), are skipped and reported.
    pub fn parse(text: &str, file: &str, problems: &mut Vec<ConfigProblem>) -> DomainSet {
        DomainSet::parse_counting(text, file, problems).0
    }

    /// As [`DomainSet::parse`], also saying how many entries (lines that are not blank or a
    /// comment) there were and how many of them were skipped: `lists update` refuses a fetched
    /// file that is mostly not domains.
    pub fn parse_counting(text: &str, file: &str, problems: &mut Vec<ConfigProblem>) -> (DomainSet, ParseCounts) {
        let mut entries = 0;
        let mut arena = String::with_capacity(text.len());
        let mut spans = Vec::new();
        let mut reported = 0;
        let mut skipped = 0;
        for (i, line) in text.lines().enumerate() {
            let entry = line.split('#').next().unwrap_or("").trim();
            if entry.is_empty() {
                continue;
            }
            entries += 1;
            match normalise_host(entry) {
                Some(host) if !is_public_suffix(&host) && host.len() <= u16::MAX as usize && arena.len() <= u32::MAX as usize - host.len() => {
                    spans.push((arena.len() as u32, host.len() as u16));
                    arena.push_str(&host);
                }
                other => {
                    skipped += 1;
                    if reported < MAX_PROBLEMS_PER_FILE {
                        reported += 1;
                        let what = match other {
                            Some(h) => format!("{h} is a public suffix: it would block every site under it; skipped"),
                            None => format!("{entry:?} is not a domain name; skipped"),
                        };
                        problems.push(ConfigProblem {
                            file: file.to_string(),
                            line: Some(i + 1),
                            what,
                            fix: "one registrable domain per line, e.g. example.com".into(),
                        });
                    }
                }
            }
        }
        if skipped > reported {
            problems.push(ConfigProblem::whole_file(file, format!("{} more lines skipped", skipped - reported), "see the lines reported above"));
        }
        let text_of = |&(o, l): &(u32, u16)| &arena[o as usize..o as usize + l as usize];
        spans.sort_unstable_by(|a, b| text_of(a).cmp(text_of(b)));
        spans.dedup_by(|a, b| text_of(a) == text_of(b));
        spans.shrink_to_fit();
        (DomainSet { arena, spans }, ParseCounts { entries, skipped })
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    fn contains_exact(&self, host: &str) -> bool {
        self.spans.binary_search_by(|&(o, l)| self.arena[o as usize..o as usize + l as usize].cmp(host)).is_ok()
    }

    /// Is `host` or any parent domain of it in the set? `host` must already be normalised
    /// (lowercase ASCII, no trailing dot), as [`normalise_host`] and `url::Url` give it.
    pub fn covers(&self, host: &str) -> bool {
        let mut rest = host;
        loop {
            if self.contains_exact(rest) {
                return true;
            }
            match rest.split_once('.') {
                Some((_, parent)) if !parent.is_empty() => rest = parent,
                _ => return false,
            }
        }
    }

    /// Bytes held, for the load benchmark.
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity() + self.spans.capacity() * std::mem::size_of::<(u32, u16)>()
    }
}

/// Lowercase, no trailing dot, IDN as punycode (`bücher.de` → `xn--bcher-kva.de`), IP literals
/// kept. `None` for anything that is not a host name.
pub fn normalise_host(raw: &str) -> Option<String> {
    let trimmed = raw.trim().trim_end_matches('.');
    if is_plain_domain(trimmed) {
        return Some(trimmed.to_string());
    }
    if trimmed.is_empty() || trimmed.contains(['/', ' ', '*', ':', '@']) && !trimmed.starts_with('[') {
        return None;
    }
    match url::Host::parse(trimmed).ok()? {
        url::Host::Domain(d) => {
            let d = d.to_ascii_lowercase();
            (d.contains('.') && !d.starts_with('.') && !d.contains("..")).then_some(d)
        }
        url::Host::Ipv4(ip) => Some(ip.to_string()),
        url::Host::Ipv6(ip) => Some(format!("[{ip}]")),
    }
}

/// Is `host` already in the form [`normalise_host`] gives, so that the full WHATWG host parse
/// (IDNA mapping, IPv4 forms) would return it unchanged? Lowercase ASCII letters, digits and
/// hyphens in non-empty labels, at least two labels, no punycode label (`xn--` is decoded and
/// checked by the full parse), and a last label starting with a letter (one that is a number,
/// e.g. `1.2.3.4` or `x.0x7f`, is read as an IPv4 address). Nearly every line of a
/// million-domain UT1 list is this, and skipping the IDNA machinery for it makes the reload
/// several times quicker. `tests/policy_props.rs` checks it agrees with the full parse.
pub fn is_plain_domain(host: &str) -> bool {
    let mut labels = 0;
    for label in host.split('.') {
        labels += 1;
        let b = label.as_bytes();
        if b.is_empty() || b.len() > 63 || b.starts_with(b"xn--") || !b.iter().all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'-')) {
            return false;
        }
    }
    labels >= 2 && host.len() <= 253 && host.rsplit('.').next().is_some_and(|last| last.as_bytes()[0].is_ascii_lowercase())
}

/// `co.uk`, `github.io`, `com`: names under which anyone can register.
pub fn is_public_suffix(host: &str) -> bool {
    psl::suffix_str(host) == Some(host)
}

/// The host of a URL as the lists compare it.
pub fn host_of(url: &url::Url) -> Option<String> {
    url.host_str().and_then(normalise_host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(lines: &str) -> DomainSet {
        let mut problems = Vec::new();
        DomainSet::parse(lines, "test", &mut problems)
    }

    #[test]
    fn subdomains_are_covered_and_siblings_are_not() {
        let s = set("evil.github.io\nbad.example\n");
        assert!(s.covers("evil.github.io"));
        assert!(s.covers("www.evil.github.io"));
        assert!(!s.covers("good.github.io"));
        assert!(s.covers("a.b.bad.example"));
        assert!(!s.covers("notbad.example"));
    }

    #[test]
    fn entries_are_normalised_like_hosts() {
        let s = set("BAD.Example.\nbücher.de\n");
        assert!(s.covers("bad.example"));
        assert!(s.covers(&normalise_host("www.BÜCHER.de.").unwrap()));
        assert!(s.covers("xn--bcher-kva.de"));
    }

    #[test]
    fn public_suffixes_and_junk_are_skipped_and_reported() {
        let mut problems = Vec::new();
        let s = DomainSet::parse("co.uk\ngithub.io\nhttp://x.example/\nok.example\n", "adult/domains", &mut problems);
        assert_eq!(s.len(), 1);
        assert!(!s.covers("bbc.co.uk"));
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].to_string().starts_with("adult/domains:1:"));
    }
}
