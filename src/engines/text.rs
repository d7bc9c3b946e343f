//! Turning hostile upstream text into plain, bounded text and safe links.
//!
//! Invariant: everything leaving this module is plain text (no markup survives, entities are
//! decoded exactly once) or an absolute `http`/`https` URL. Rendering escapes it again (maud).

use url::Url;

/// Longest title kept, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest snippet kept, in characters.
pub const MAX_SNIPPET_CHARS: usize = 400;

/// Collapses every run of whitespace to one space, drops control and invisible formatting
/// characters, trims, and cuts to `max_chars` (on a character boundary, with an ellipsis).
pub fn tidy(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    let mut pending_space = false;
    let mut count = 0;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if c.is_control() || is_invisible(c) {
            continue;
        }
        if count >= max_chars {
            out.push('…');
            break;
        }
        if pending_space {
            out.push(' ');
            count += 1;
            pending_space = false;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// Zero-width, bidi-control and other invisible characters: they can hide or reorder text on a
/// pupil's screen, or hide a word from a filter.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{115F}' | '\u{1160}' | '\u{3164}')
}

/// A picture URL as engines write it: absolute http(s), or protocol-relative (`//upload…`,
/// Wikipedia's), taken as https.
pub fn picture_url(text: &str) -> Option<Url> {
    let text = text.trim();
    let absolute = if text.starts_with("//") { format!("https:{text}") } else { text.to_string() };
    Url::parse(&absolute).ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// Resolves a link against the page it came from and keeps it only if it is an absolute
/// `http(s)` URL with a host. `javascript:`, `data:` and the like are dropped.
pub fn safe_link(href: &str, base: &Url) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let url = base.join(href).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    if !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_collapses_whitespace_and_drops_invisible_characters() {
        assert_eq!(tidy("  Lava \n\t flows\u{200B} ", 50), "Lava flows");
    }

    #[test]
    fn tidy_cuts_long_text_on_a_character_boundary() {
        assert_eq!(tidy("ééééé", 3), "ééé…");
    }

    #[test]
    fn safe_link_refuses_non_web_schemes() {
        let base = Url::parse("https://engine.example/search").unwrap();
        assert!(safe_link("javascript:alert(1)", &base).is_none());
        assert!(safe_link("data:text/html,hi", &base).is_none());
        assert!(safe_link("https://user:pw@example.org/", &base).is_none());
        assert_eq!(safe_link("//example.org/a", &base).unwrap().as_str(), "https://example.org/a");
    }
}
