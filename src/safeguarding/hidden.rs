//! Results hidden for every pupil at once: a result reported from a card is hidden school-wide
//! until a teacher releases it (or keeps it hidden for good, on the local block list).
//!
//! The set is read on every answer that is built, and its `generation` is part of every
//! whole-answer cache key: bumping it after a change means no cached page built before the
//! change is ever served again, without a race between "hide" and an answer being built.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

use url::Url;

use crate::schools::SchoolId;

/// Hidden results per school: a report at one school hides nothing at another.
#[derive(Default)]
pub struct HiddenResults {
    urls: RwLock<HashSet<(SchoolId, String)>>,
    generation: AtomicU64,
}

/// The form of a URL that hiding compares: the same normalisation merging uses to dedupe.
pub fn hide_key(url: &str) -> String {
    Url::parse(url).map(|u| crate::same_page::dedupe_key(&u)).unwrap_or_else(|_| url.to_string())
}

impl HiddenResults {
    pub fn new(urls: impl IntoIterator<Item = (SchoolId, String)>) -> HiddenResults {
        HiddenResults { urls: RwLock::new(urls.into_iter().map(|(s, u)| (s, hide_key(&u))).collect()), generation: AtomicU64::new(0) }
    }

    /// Is `url` hidden for `school`'s pupils?
    pub fn is_hidden(&self, school: SchoolId, url: &str) -> bool {
        let urls = self.urls.read().unwrap_or_else(|e| e.into_inner());
        !urls.is_empty() && urls.contains(&(school, hide_key(url)))
    }

    pub fn hide(&self, school: SchoolId, url: &str) {
        self.urls.write().unwrap_or_else(|e| e.into_inner()).insert((school, hide_key(url)));
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub fn release(&self, school: SchoolId, url: &str) {
        self.urls.write().unwrap_or_else(|e| e.into_inner()).remove(&(school, hide_key(url)));
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Puts `urls` in place of the whole set.
    pub fn replace(&self, urls: impl IntoIterator<Item = (SchoolId, String)>) {
        *self.urls.write().unwrap_or_else(|e| e.into_inner()) = urls.into_iter().map(|(s, u)| (s, hide_key(&u))).collect();
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Changes whenever the set changes (at any school); part of the answer caches' keys.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    pub fn len(&self) -> usize {
        self.urls.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hiding_matches_the_same_page_written_differently_and_moves_the_generation() {
        let hidden = HiddenResults::default();
        let g = hidden.generation();
        hidden.hide(1, "https://www.Example.org/page/");
        assert!(hidden.generation() > g);
        assert!(hidden.is_hidden(1, "https://example.org/page"));
        assert!(!hidden.is_hidden(1, "https://example.org/other"));
        assert!(!hidden.is_hidden(2, "https://example.org/page"), "another school's pupils still see it");
        hidden.release(1, "https://example.org/page");
        assert!(!hidden.is_hidden(1, "https://www.example.org/page/"));
    }
}
