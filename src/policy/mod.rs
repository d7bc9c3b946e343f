//! The safety policy: refuse harmful queries, drop harmful results, rank child-friendly sites
//! first — from plain files in `allowlist/` that an ICT technician can read and edit.
//!
//! Invariants:
//! - a refused query never reaches an upstream engine (checked before the cache);
//! - a result from a blocked domain, or whose title or snippet trips a term list, is never
//!   shown; only counts of dropped results leave this module, never their content;
//! - matching always compares normalised forms (see `normalise`), so tricks that change how a
//!   word is written do not change whether it is refused.

pub mod domains;
pub mod golink;
pub mod normalise;
pub mod terms;

mod load;

use serde::Serialize;

use crate::search::merge::MergedResult;
use crate::search::Query;
pub use domains::DomainSet;
pub use load::load_policy;
pub use terms::TermLists;

/// Everything the policy needs, loaded once at start-up.
#[derive(Debug, Default)]
pub struct Policy {
    pub terms: TermLists,
    /// Block lists by category (UT1 folder name).
    pub blocked: Vec<(String, DomainSet)>,
    /// "Written for children": ranked first.
    pub kids: DomainSet,
    /// "Simple and trusted": ranked next.
    pub trusted: DomainSet,
    /// Walled-garden mode: only these domains are shown, when set.
    pub garden: Option<DomainSet>,
}

/// How many results were dropped, by reason (never what they were).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Filtered {
    pub domain: usize,
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
    /// The category a query trips, if any.
    pub fn check_query(&self, query: &Query) -> Option<&str> {
        self.terms.check(query.as_str())
    }

    /// The block-list category of a host (or a parent domain), if any.
    pub fn domain_category(&self, host: &str) -> Option<&str> {
        self.blocked.iter().find(|(_, set)| set.covers(host)).map(|(c, _)| c.as_str())
    }

    /// Drops blocked and harmful results, then ranks kids' sites, then trusted sites, then the
    /// rest, keeping the merge order within each tier.
    pub fn filter_and_rank(&self, results: Vec<MergedResult>) -> (Vec<MergedResult>, Filtered) {
        let mut filtered = Filtered::default();
        let mut kept: Vec<(u8, MergedResult)> = Vec::with_capacity(results.len());
        for result in results {
            let host = result.host.clone();
            if self.domain_category(&host).is_some() {
                filtered.domain += 1;
            } else if self.terms.check(&result.title).is_some() || self.terms.check(&result.snippet).is_some() {
                filtered.terms += 1;
            } else if self.garden.as_ref().is_some_and(|g| !g.covers(&host)) {
                filtered.garden += 1;
            } else {
                let tier = if self.kids.covers(&host) {
                    0
                } else if self.trusted.covers(&host) {
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
