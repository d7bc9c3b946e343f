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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_trimmed_collapsed_and_normalised() {
        assert_eq!(Query::parse("  ｖｏｌｃａｎｏｅｓ \n  lava ").unwrap().as_str(), "volcanoes lava");
    }

    #[test]
    fn empty_and_long_queries_are_refused() {
        assert_eq!(Query::parse(" \u{200B} \t"), Err(QueryError::Empty));
        assert_eq!(Query::parse(&"a".repeat(MAX_QUERY_CHARS + 1)), Err(QueryError::TooLong));
        assert_eq!(Query::parse(&"a".repeat(100_000)), Err(QueryError::TooLong));
        assert!(Query::parse(&"é".repeat(MAX_QUERY_CHARS)).is_ok());
    }
}
