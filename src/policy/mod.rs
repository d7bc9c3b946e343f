//! The safety policy: refuse harmful queries, drop harmful results, rank child-friendly sites
//! first — from plain files in `allowlist/` that an ICT technician can read and edit.
//!
//! Invariants:
//! - a refused query never reaches an upstream engine (checked before the cache);
//! - a result from a blocked domain, or whose title or snippet trips a term list, is never
//!   shown; only counts of dropped results leave this module, never their content (the URLs
//!   `screen_words` keeps stay in the cached engine page, for the merge to drop other copies);
//! - matching always compares normalised forms (see `normalise`), so tricks that change how a
//!   word is written do not change whether it is refused.

pub mod domains;
pub mod exceptions;
pub mod golink;
pub mod letter_filter;
pub mod live;
pub mod local;
pub mod normalise;
pub mod probes;
pub mod segment;
pub mod terms;

mod load;

use serde::Serialize;

use crate::engines::EnginePage;
use crate::query::Query;
pub use domains::DomainSet;
pub use live::{LivePolicy, PolicySource};
pub use load::{category_of, garden_domains, load_policy, load_policy_with, FetchedLists};
pub use terms::TermLists;

/// Everything the policy needs, loaded at start-up and again on each reload (`live`).
#[derive(Debug, Default)]
pub struct Policy {
    pub terms: TermLists,
    /// Block lists by category (UT1 folder name).
    pub blocked: Vec<(String, DomainSet)>,
    /// The UT1 lists `kidsearch lists update` fetched into the data dir, by category: blocked
    /// like `blocked` (a category may be in both: the shipped few and UT1's many).
    pub fetched: Vec<(String, DomainSet)>,
    /// "Written for children": ranked first.
    pub kids: DomainSet,
    /// "Simple and trusted": ranked next.
    pub trusted: DomainSet,
    /// Walled-garden mode: only these domains are shown, when set.
    pub garden: Option<DomainSet>,
    /// Phrases an admin made exceptions while the server runs (`overblocks`): swapped in
    /// place, so every holder of this policy sees a change at once.
    pub local: local::LocalExceptions,
    /// Which load this is (0 at start-up, one more at each reload): part of every search
    /// cache's key, so nothing built under older lists is served.
    pub generation: u64,
}

/// How many results were dropped, by reason (never what they were).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Filtered {
    pub domain: usize,
    /// Pages the word lists refused, each counted once however many engines returned it.
    pub terms: usize,
    #[serde(skip_serializing_if = "is_zero")]
    pub garden: usize,
    /// Results a pupil reported, hidden school-wide until a teacher releases them.
    #[serde(skip_serializing_if = "is_zero")]
    pub hidden: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Policy {
    /// The category a query trips, if any: the term lists, then the intent rules; the words
    /// an exception covers (`terms/exceptions.txt` and the local exceptions) are never refused.
    pub fn check_query(&self, query: &Query) -> Option<&str> {
        let refused = self.terms.check_query(query.as_str())?;
        // Local exceptions are few and rarely there: only a refusal is looked at again.
        let local = self.local.snapshot();
        if local.is_empty() {
            return Some(refused);
        }
        self.terms.check_query_with(query.as_str(), Some(&local))
    }

    /// The category a piece of text shown to pupils trips (a video's title, its channel),
    /// as the term lists judge result titles and snippets (`screen_words`).
    pub fn check_text(&self, text: &str) -> Option<&str> {
        self.terms.check(text)
    }

    /// The block-list category of a host (or a parent domain), if any.
    pub fn domain_category(&self, host: &str) -> Option<&str> {
        self.blocked.iter().chain(&self.fetched).find(|(_, set)| set.covers(host)).map(|(c, _)| c.as_str())
    }

    /// The word lists' pass over one engine's page: takes out every result whose title or
    /// snippet trips a term list and keeps its URL in `page.refused`, so the merge drops that
    /// page whichever engine returns it, however that engine words it. Made where the page is
    /// read (`search::load_page`, on the blocking pool beside the other engines' pages), not
    /// after the merge, where it was the longest step left on a new search's path.
    pub fn screen_words(&self, page: &mut EnginePage) {
        let EnginePage { results, refused, .. } = page;
        results.retain(|r| {
            let harmful = self.terms.check(&r.title).is_some() || self.terms.check(&r.snippet).is_some();
            if harmful {
                refused.push(r.url.clone());
            }
            !harmful
        });
    }

    /// Drops results from blocked domains (and outside the walled garden), then ranks kids'
    /// sites, then trusted sites, then the rest, keeping the merge order within each tier. The
    /// word lists were applied to each engine's page before the merge (`screen_words`).
    pub fn filter_and_rank<R: Hosted>(&self, results: Vec<R>) -> (Vec<R>, Filtered) {
        let mut filtered = Filtered::default();
        let mut kept: Vec<(u8, R)> = Vec::with_capacity(results.len());
        for result in results {
            let host = result.host();
            if self.domain_category(host).is_some() {
                filtered.domain += 1;
            } else if self.garden.as_ref().is_some_and(|g| !g.covers(host)) {
                filtered.garden += 1;
            } else {
                let tier = if self.kids.covers(host) {
                    0
                } else if self.trusted.covers(host) {
                    1
                } else {
                    2
                };
                kept.push((tier, result));
            }
        }
        kept.sort_by_key(|(tier, _)| *tier);
        (kept.into_iter().map(|(_, r)| r).collect(), filtered)
    }
}

/// What the domain lists need of a result: its host as they compare it (lowercase, no `www.`).
/// The search's merged results carry it; the policy knows nothing else of them.
pub trait Hosted {
    fn host(&self) -> &str;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::RawResult;
    use terms::{ListFile, ListReport};

    fn raw(title: &str, snippet: &str, url: &str) -> RawResult {
        RawResult { title: title.into(), url: url::Url::parse(url).unwrap(), snippet: snippet.into(), thumbnail: None }
    }

    #[test]
    fn screening_a_page_takes_out_results_whose_title_or_snippet_trips_a_list_and_keeps_their_urls() {
        let mut report = ListReport::default();
        let terms = TermLists::build(&[ListFile { category: "violence", file: "violence.txt".into(), text: "gore\n" }], &mut report);
        let policy = Policy { terms, ..Policy::default() };
        let mut page = EnginePage {
            results: vec![
                raw("Volcanoes for kids", "Hot lava", "https://kids.example/volcano"),
                raw("G0RE pictures", "", "https://bad.example/a"),
                raw("Fine title", "lots of gore here", "https://bad.example/b"),
            ],
            ..EnginePage::default()
        };
        policy.screen_words(&mut page);
        assert_eq!(page.results.iter().map(|r| r.title.as_str()).collect::<Vec<_>>(), ["Volcanoes for kids"]);
        assert_eq!(page.refused.iter().map(url::Url::as_str).collect::<Vec<_>>(), ["https://bad.example/a", "https://bad.example/b"]);
    }
}
