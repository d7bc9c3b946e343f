//! A pupil's query, parsed once at the edge: everything past this point can trust it.

use unicode_normalization::UnicodeNormalization;

/// Longest query accepted, in characters. Infant pupils type a few words; anything longer is
/// pasted text, not a search.
pub const MAX_QUERY_CHARS: usize = 100;

/// A trimmed, NFKC-normalised, whitespace-collapsed query of 1..=100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Query(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the search box was empty")]
    Empty,
    #[error("the search was longer than {MAX_QUERY_CHARS} letters")]
    TooLong,
}

impl Query {
    pub fn parse(raw: &str) -> Result<Query, QueryError> {
        // Refuse absurd input before normalising it, so a megabyte of text costs nothing.
        if raw.len() > MAX_QUERY_CHARS * 8 {
            return Err(QueryError::TooLong);
        }
        // ASCII is its own NFKC form (`policy::normalise`'s `ascii_text_is_already_nfkc`):
        // most searches skip the normaliser (asked on every page view).
        let normalised: std::borrow::Cow<'_, str> = if raw.is_ascii() { raw.into() } else { raw.nfkc().collect::<String>().into() };
        let text = crate::engines::text::tidy(&normalised, usize::MAX);
        match text.chars().count() {
            0 => Err(QueryError::Empty),
            n if n > MAX_QUERY_CHARS => Err(QueryError::TooLong),
            _ => Ok(Query(text)),
        }
    }

    /// The text as sent upstream and shown back to the pupil.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used to recognise the same search: case folded.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// The form a teacher's approval is matched on: what a child typing the same search differently
    /// still means the same — case, a leading "the", "a" or "an", simple English plurals
    /// ("the Gruffalo" = "gruffalo", "volcanoes" = "volcano"). Engines are still asked for the
    /// words as typed (`key`).
    pub fn approval_key(&self) -> String {
        let lower = self.0.to_lowercase();
        let mut words: Vec<&str> = lower.split(' ').filter(|w| !w.is_empty()).collect();
        if words.len() > 1 && matches!(words[0], "the" | "a" | "an") {
            words.remove(0);
        }
        words.iter().map(|w| singular(w)).collect::<Vec<_>>().join(" ")
    }
}

/// A simple English singular: "volcanoes" → "volcano", "ponies" → "pony", "foxes" → "fox",
/// "dinosaurs" → "dinosaur"; short words and "-ss" words are left alone ("bus", "glass").
fn singular(word: &str) -> String {
    let n = word.chars().count();
    if n <= 3 || !word.is_ascii() {
        return word.to_string();
    }
    if let Some(stem) = word.strip_suffix("ies") {
        return format!("{stem}y");
    }
    for ending in ["oes", "sses", "xes", "ches", "shes"] {
        if let Some(stem) = word.strip_suffix(ending) {
            return format!("{stem}{}", &ending[..ending.len() - 2]);
        }
    }
    // "shoe" and "shoes" meet at "sho", as "volcano" and "volcanoes" at "volcano".
    if let Some(stem) = word.strip_suffix("oe") {
        return format!("{stem}o");
    }
    match word.strip_suffix('s') {
        Some(stem) if !stem.ends_with('s') && !stem.ends_with('u') && !stem.ends_with('i') => stem.to_string(),
        _ => word.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_trimmed_collapsed_and_normalised() {
        assert_eq!(Query::parse("  ｖｏｌｃａｎｏｅｓ \n  lava ").unwrap().as_str(), "volcanoes lava");
    }

    #[test]
    fn an_approval_matches_the_same_search_typed_differently() {
        let key = |q: &str| Query::parse(q).unwrap().approval_key();
        assert_eq!(key("the Gruffalo"), key("gruffalo"));
        assert_eq!(key("Volcanoes"), key("volcano"));
        assert_eq!(key("dinosaurs"), key("Dinosaur"));
        assert_eq!(key("ponies"), "pony");
        assert_eq!(key("foxes"), "fox");
        assert_eq!(key("the  Very Hungry Caterpillars"), "very hungry caterpillar");
        assert_eq!(key("glass"), "glass");
        assert_eq!(key("bus"), "bus");
        assert_eq!(key("octopus"), "octopus");
        assert_eq!(key("shoes"), key("shoe"));
        assert_eq!(key("the"), "the", "a lone article is the search");
        assert_ne!(key("owls"), key("bowls"));
    }

    #[test]
    fn empty_and_long_queries_are_refused() {
        assert_eq!(Query::parse(" \u{200B} \t"), Err(QueryError::Empty));
        assert_eq!(Query::parse(&"a".repeat(MAX_QUERY_CHARS + 1)), Err(QueryError::TooLong));
        assert_eq!(Query::parse(&"a".repeat(100_000)), Err(QueryError::TooLong));
        assert!(Query::parse(&"é".repeat(MAX_QUERY_CHARS)).is_ok());
    }
}
