//! Merging several engines' answers into one list: dedupe by normalised URL (keeping every
//! engine's name) and rank by position and engine weight.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use url::Url;

use crate::engines::RawResult;
use crate::same_page::dedupe_key;

/// One result as shown to a pupil.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MergedResult {
    pub title: String,
    pub url: String,
    pub snippet: String,
    /// Engine ids that returned this result, best first.
    pub engines: Vec<String>,
    #[serde(skip)]
    pub site: String,
    /// The URL's host as the policy lists compare it.
    #[serde(skip)]
    pub host: String,
    /// The signed `/go` link the page uses (set by the web layer).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub go: String,
    /// The result's picture at its signed gateway path (`/img/…`), or empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub picture: String,
    /// The engine and upstream URL of the picture, before it is signed.
    #[serde(skip)]
    pub thumbnail: Option<(String, Url)>,
    #[serde(skip)]
    score: f64,
}

impl crate::policy::Hosted for MergedResult {
    fn host(&self) -> &str {
        &self.host
    }
}

impl MergedResult {
    /// A result served from a teacher's frozen approval.
    pub fn from_frozen(f: &crate::approvals::FrozenResult, go: String) -> MergedResult {
        MergedResult {
            title: f.title.clone(),
            url: f.url.clone(),
            snippet: f.snippet.clone(),
            engines: f.engines.clone(),
            site: f.site.clone(),
            host: String::new(),
            go,
            picture: f.picture.clone(),
            thumbnail: None,
            score: 0.0,
        }
    }

    /// The result as it is frozen into an approval.
    pub fn to_frozen(&self) -> crate::approvals::FrozenResult {
        crate::approvals::FrozenResult {
            title: self.title.clone(),
            url: self.url.clone(),
            snippet: self.snippet.clone(),
            site: self.site.clone(),
            engines: self.engines.clone(),
            picture: self.picture.clone(),
        }
    }
}

/// One engine's answer for merging.
pub struct EngineAnswer<'a> {
    pub engine: &'a str,
    pub weight: f64,
    pub results: &'a [RawResult],
}

/// Reciprocal-rank fusion weighted per engine: a result high on several engines rises.
/// `refused` holds the `dedupe_key`s of pages the policy refused on any engine's page
/// (`Policy::screen_words`): another engine's copy of such a page is left out too.
pub fn merge(answers: &[EngineAnswer<'_>], refused: &HashSet<String>) -> Vec<MergedResult> {
    let mut merged: Vec<MergedResult> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for answer in answers {
        for (position, raw) in answer.results.iter().enumerate() {
            let score = answer.weight / (position as f64 + 1.0);
            let key = dedupe_key(&raw.url);
            if refused.contains(&key) {
                continue;
            }
            match index.get(&key) {
                Some(&i) => {
                    let existing = &mut merged[i];
                    existing.score += score;
                    if !existing.engines.iter().any(|e| e == answer.engine) {
                        existing.engines.push(answer.engine.to_string());
                    }
                    if existing.snippet.is_empty() && !raw.snippet.is_empty() {
                        existing.snippet = raw.snippet.clone();
                    }
                    if existing.thumbnail.is_none() {
                        existing.thumbnail = raw.thumbnail.clone().map(|t| (answer.engine.to_string(), t));
                    }
                }
                None => {
                    index.insert(key, merged.len());
                    merged.push(MergedResult {
                        title: raw.title.clone(),
                        url: raw.url.to_string(),
                        snippet: raw.snippet.clone(),
                        engines: vec![answer.engine.to_string()],
                        site: site_name(&raw.url),
                        host: crate::policy::domains::host_of(&raw.url).unwrap_or_default(),
                        go: String::new(),
                        picture: String::new(),
                        thumbnail: raw.thumbnail.clone().map(|t| (answer.engine.to_string(), t)),
                        score,
                    });
                }
            }
        }
    }
    // Stable sort: equal scores keep engine order, so the page does not shuffle between loads.
    merged.sort_by(|a, b| b.score.total_cmp(&a.score));
    merged
}

/// What a pupil sees as the site's name: the host without `www.`.
pub fn site_name(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    host.strip_prefix("www.").unwrap_or(host).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(title: &str, url: &str) -> RawResult {
        RawResult { title: title.into(), url: Url::parse(url).unwrap(), snippet: String::new(), thumbnail: None }
    }

    #[test]
    fn the_same_page_from_two_engines_is_one_result_naming_both() {
        let a = [raw("Volcano", "https://www.kids.example/volcano/"), raw("Other", "https://other.example/")];
        let b = [raw("Volcano!", "http://kids.example/volcano#top")];
        let merged = merge(&[EngineAnswer { engine: "a", weight: 1.0, results: &a }, EngineAnswer { engine: "b", weight: 1.0, results: &b }], &HashSet::new());
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].title, "Volcano");
        assert_eq!(merged[0].engines, vec!["a", "b"]);
    }

    #[test]
    fn a_heavier_engine_ranks_first_at_equal_position() {
        let a = [raw("A", "https://a.example/")];
        let b = [raw("B", "https://b.example/")];
        let merged = merge(&[EngineAnswer { engine: "a", weight: 1.0, results: &a }, EngineAnswer { engine: "b", weight: 2.0, results: &b }], &HashSet::new());
        assert_eq!(merged[0].title, "B");
    }

    #[test]
    fn a_page_refused_on_one_engine_is_left_out_from_every_engine() {
        let a = [raw("Volcano", "https://kids.example/volcano"), raw("Other", "https://other.example/")];
        let b = [raw("Volcano, worded another way", "http://www.kids.example/volcano/")];
        let refused = HashSet::from([dedupe_key(&Url::parse("https://kids.example/volcano").unwrap())]);
        let merged = merge(&[EngineAnswer { engine: "a", weight: 1.0, results: &a }, EngineAnswer { engine: "b", weight: 1.0, results: &b }], &refused);
        assert_eq!(merged.iter().map(|r| r.title.as_str()).collect::<Vec<_>>(), ["Other"]);
    }
}
