//! The answer card: for a search that names a thing ("volcano", "hedgehog"), the lead of the
//! Simple English Wikipedia article and its picture at the top of page 1, so a child who
//! cannot read the results sees the picture and hears what it is ("Read it to me").
//!
//! The summary comes from Wikipedia's REST API (`/api/rest_v1/page/summary/<Title>`) on the
//! `simple_wikipedia` engine's own host, with that engine's guarded client (its `base_url`
//! override moves it too). Its text is screened by the term lists like every snippet, its
//! picture goes through the image path, its link through `/go`; a page the school hid has no
//! card. The card never holds up the page: one that is not there within `CARD_WAIT` is left
//! out.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use super::{EnginesInForce, Query, SearchService};
use crate::engines::text::tidy;
use crate::engines::{Audience, EnginePage, RawResult};
use crate::policy::Policy;
use crate::schools::SchoolId;

/// The engine whose host and client the summary is fetched with.
pub const CARD_ENGINE: &str = "simple_wikipedia";
/// Searches of more words than this are questions or phrases, not the name of a thing.
const MAX_WORDS: usize = 3;
/// The lead: a sentence or two, as much as a child listens to.
const MAX_CHARS: usize = 300;
/// How long a page waits for its card.
pub const CARD_WAIT: Duration = Duration::from_millis(1_000);

/// The card as a page shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AnswerCard {
    pub title: String,
    pub text: String,
    pub url: String,
    /// The signed `/go` link to the article.
    pub go: String,
    /// The signed `/img/` path of its picture, or empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub picture: String,
}

impl AnswerCard {
    /// The card as an approval freezes it (the `/go` link is signed again for each pupil).
    pub fn to_frozen(&self) -> crate::approvals::FrozenCard {
        crate::approvals::FrozenCard { title: self.title.clone(), text: self.text.clone(), url: self.url.clone(), picture: self.picture.clone() }
    }

    /// A card served from a teacher's frozen approval: no summary is fetched.
    pub fn from_frozen(f: &crate::approvals::FrozenCard, go: String) -> AnswerCard {
        AnswerCard { title: f.title.clone(), text: f.text.clone(), url: f.url.clone(), go, picture: f.picture.clone() }
    }
}

/// What the summary says, the same for every school.
#[derive(Debug)]
pub struct Lead {
    title: String,
    text: String,
    url: Url,
    thumbnail: Option<Url>,
}

/// The REST summary's fields the card reads.
#[derive(Deserialize)]
struct Summary {
    #[serde(rename = "type")]
    kind: String,
    title: String,
    #[serde(default)]
    extract: String,
    thumbnail: Option<Thumbnail>,
    content_urls: Option<ContentUrls>,
}

#[derive(Deserialize)]
struct Thumbnail {
    source: String,
}

#[derive(Deserialize)]
struct ContentUrls {
    desktop: Option<PageUrl>,
}

#[derive(Deserialize)]
struct PageUrl {
    page: String,
}

impl SearchService {
    /// The card for `query` at `school`, if the query names an article that passes the lists.
    pub async fn answer_card(&self, policy: &Policy, engines: &EnginesInForce, school: SchoolId, query: &Query) -> Option<AnswerCard> {
        let words = query.as_str().split_whitespace().count();
        if !self.answer_cards || words == 0 || words > MAX_WORDS {
            return None;
        }
        let lead = self.cards.get_with(query.key(), async { self.fetch_lead(engines, query).await.map(Arc::new) }).await?;
        if self.hidden.is_hidden(school, lead.url.as_str()) {
            return None;
        }
        // Screened like every snippet, by the lists in force now (the lead is cached across
        // reloads): a lead that a term list refuses is no card.
        let mut screened = EnginePage {
            results: vec![RawResult { title: lead.title.clone(), url: lead.url.clone(), snippet: lead.text.clone(), thumbnail: None }],
            ..EnginePage::default()
        };
        policy.screen_words(&mut screened);
        if screened.results.is_empty() {
            return None;
        }
        let picture = match (&self.pictures, &lead.thumbnail) {
            (Some(pictures), Some(url)) => pictures.path_for(CARD_ENGINE, url).unwrap_or_default(),
            _ => String::new(),
        };
        Some(AnswerCard {
            title: lead.title.clone(),
            text: lead.text.clone(),
            url: lead.url.to_string(),
            go: self.links.go_link(school, lead.url.as_str()),
            picture,
        })
    }

    async fn fetch_lead(&self, engines: &EnginesInForce, query: &Query) -> Option<Lead> {
        let (i, engine) = engines.set.all().iter().enumerate().find(|(_, e)| e.id == CARD_ENGINE && e.is_ready() && e.audience == Audience::Pupils)?;
        let mut url = engine.request.url.clone();
        url.set_query(None);
        url.path_segments_mut().ok()?.clear().extend(["api", "rest_v1", "page", "summary", &title_of(query.as_str())]);
        let (status, body) = match engines.clients[i].get_bytes(&url).await {
            Ok(answer) => answer,
            Err(e) => {
                tracing::info!(error = %e, "no answer card: the summary could not be fetched");
                return None;
            }
        };
        if status != 200 {
            return None;
        }
        let summary: Summary = serde_json::from_slice(&body).ok()?;
        // Disambiguation pages, missing extracts and the like are no answer.
        if summary.kind != "standard" || summary.extract.trim().is_empty() {
            return None;
        }
        let page = summary.content_urls.and_then(|c| c.desktop).and_then(|d| Url::parse(&d.page).ok())?;
        let text = lead_sentences(&tidy(&summary.extract, 2_000));
        let title = tidy(&summary.title, 120);
        let thumbnail = summary.thumbnail.and_then(|t| Url::parse(&t.source).ok());
        Some(Lead { title, text, url: page, thumbnail })
    }
}

/// The article title a search names: MediaWiki titles start with a capital and use `_`.
fn title_of(query: &str) -> String {
    let words = query.split_whitespace().collect::<Vec<_>>().join("_");
    let mut chars = words.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The first sentence, and the second if both fit in `MAX_CHARS`.
fn lead_sentences(text: &str) -> String {
    let mut out = String::new();
    for sentence in text.split_inclusive(". ") {
        if !out.is_empty() && out.len() + sentence.len() > MAX_CHARS {
            break;
        }
        out.push_str(sentence);
        if out.len() >= MAX_CHARS || out.matches(". ").count() >= 2 {
            break;
        }
    }
    let out = out.trim();
    if out.chars().count() > MAX_CHARS {
        format!("{}…", out.chars().take(MAX_CHARS).collect::<String>().trim_end())
    } else {
        out.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_leads_are_cut_as_a_child_hears_them() {
        assert_eq!(title_of("hedgehog"), "Hedgehog");
        assert_eq!(title_of("  solar   system "), "Solar_system");
        let lead = lead_sentences("A volcano is a mountain. It has lava inside. It can erupt. More text follows.");
        assert_eq!(lead, "A volcano is a mountain. It has lava inside.");
        assert!(lead_sentences(&"word ".repeat(200)).chars().count() <= MAX_CHARS + 1);
    }
}
