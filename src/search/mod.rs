//! The pupil's live search: cache → concurrent fan-out to the pupil engines → merge → page limit.
//!
//! Invariants:
//! - each (engine, query, page) is fetched at most once at a time: concurrent identical
//!   queries wait for the same upstream request (`LoadingCache` runs one load per key), and
//!   each fetch runs in a task of its own, so one a pupil stopped waiting for (the answer
//!   deadline) still finishes into the cache;
//! - a new search answers once `answer_deadline_ms` has passed and one engine answered well;
//!   an answer built without the late engines is cached only until they have answered, then
//!   built again (never for the cache TTL);
//! - a failing engine's error is remembered briefly (`engine_error_ttl_secs`) so a stalled
//!   engine does not make every pupil wait out its timeout, and an engine that keeps failing
//!   rests altogether (`breaker`);
//! - only engines with `audience = "pupils"` that are ready are ever asked from here;
//! - pages past `max_pages` are never fetched.

pub mod breaker;
pub mod card;
pub mod in_force;
pub mod merge;

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cache::LoadingCache;
use futures_util::future::join_all;
use futures_util::stream::{FuturesUnordered, StreamExt};
use moka::sync::Cache;
use moka::Expiry;
use serde::Serialize;

use crate::config::ServerConfig;
use crate::engines::budget::{ReadBudget, PAGE_READ_LIMIT};
use crate::engines::{EngineError, EnginePage, EngineSet, Purpose};
use crate::metrics::{CacheLabels, Metrics};
use crate::outbound::fetch::{fetch_answer, fetch_token, read_answer};
use crate::policy::golink::LinkSigner;
use crate::policy::{Filtered, LivePolicy, Policy};
use crate::query::Query;
use crate::safeguarding::hidden::HiddenResults;
use crate::same_page::dedupe_key;
use crate::schools::SchoolId;
use crate::spelling::Vocabulary;
use breaker::{BreakerState, Permit};
pub use in_force::EnginesInForce;
use merge::{merge, EngineAnswer, MergedResult};
use prometheus_client::metrics::counter::Counter;

type PageAnswer = Arc<Result<EnginePage, EngineError>>;
type TokenAnswer = Arc<Result<Vec<(String, String)>, EngineError>>;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PageKey {
    engine: usize,
    query: String,
    page: u32,
    /// The policy generation the page was screened under (`Policy::screen_words`).
    policy: u64,
    /// The engines' generation (`EnginesInForce`): `engine` is an index into that set.
    engines: u64,
}

/// Good answers live for the cache TTL, failures only for the (short) error TTL.
struct AnswerExpiry {
    ok: Duration,
    failed: Duration,
}

impl<K, T> Expiry<K, Arc<Result<T, EngineError>>> for AnswerExpiry {
    fn expire_after_create(&self, _key: &K, value: &Arc<Result<T, EngineError>>, _now: Instant) -> Option<Duration> {
        Some(if value.is_ok() { self.ok } else { self.failed })
    }
}

/// How long the element-API token is reused (Google rotates it; about an hour is safe).
const TOKEN_TTL: Duration = Duration::from_secs(3600);

pub struct SearchService {
    /// The engines with their clients, breakers and reading turns, replaced whole when
    /// `engines.toml` is reloaded (`replace_engines`); a search holds the set it started with.
    in_force: std::sync::RwLock<Arc<EnginesInForce>>,
    /// What a reloaded set's clients and breakers are made with.
    config: ServerConfig,
    clock: Arc<dyn crate::clock::Clock>,
    pages: LoadingCache<PageKey, PageAnswer>,
    /// The element-API token by (engines' generation, engine index).
    tokens: LoadingCache<(u64, usize), TokenAnswer>,
    /// Whole answers (merged, filtered, ranked) by query and page, so a cached page costs a
    /// lookup, not a merge and a policy pass over every result.
    /// Keyed by the hidden-results generation too: a result hidden school-wide is never served
    /// from an answer built before it was hidden; and by the policy's, so no answer built under
    /// lists a reload replaced is served after it; and by the engines', likewise.
    outcomes: LoadingCache<OutcomeKey, Arc<SearchOutcome>>,
    hidden: Arc<HiddenResults>,
    max_pages: u32,
    /// The child vocabulary for spelling help, and words of searches approved since start.
    vocabulary: Vocabulary,
    learned: std::sync::RwLock<Vocabulary>,
    policy: Arc<LivePolicy>,
    links: LinkSigner,
    metrics: Arc<Metrics>,
    /// The answer cache's two counters, looked up in their family once.
    answer_hits: Counter,
    answer_misses: Counter,
    /// How long a new search waits for its slower engines once one has answered well
    /// (`answer_deadline_ms`; None: for every engine).
    answer_deadline: Option<Duration>,
    /// Signs each result's picture onto the image path (none: pages without pictures, as in
    /// `check --canary`).
    pictures: Option<Arc<crate::images::Images>>,
    /// Answer cards' leads by query key (`card.rs`); `None`: the query names no article.
    cards: LoadingCache<String, Option<Arc<card::Lead>>>,
    answer_cards: bool,
}

/// The key of a whole answer in the outcome cache.
/// (school, query key, page, hidden-results generation, policy generation, engines' generation,
/// web or pictures)
type OutcomeKey = (SchoolId, String, u32, u64, u64, u64, Purpose);

/// A whole answer lives as long as its engines' answers: the cache TTL when every engine
/// answered, the error TTL when one was left out (so it is asked again soon).
struct OutcomeExpiry {
    ok: Duration,
    degraded: Duration,
}

impl Expiry<OutcomeKey, Arc<SearchOutcome>> for OutcomeExpiry {
    fn expire_after_create(&self, _key: &OutcomeKey, value: &Arc<SearchOutcome>, _now: Instant) -> Option<Duration> {
        // An answer with late engines is also forgotten as soon as they have answered
        // (`answers_by_deadline`); this bounds it should that never happen.
        Some(if value.engines.iter().all(|e| e.ok) { self.ok } else { self.degraded })
    }
}

/// Overall state of a search, as the JSON `status` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// `pupil_live_search = false` and no approved search matches: ask the teacher.
    #[serde(rename = "approved_only")]
    ApprovedOnly,
    /// Refused by the safety policy; nothing was fetched.
    Blocked,
    Unavailable,
}

/// How one engine did, for the JSON `engines` field and staff.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EngineReport {
    pub id: String,
    pub ok: bool,
    /// Still answering when the page was built (past `answer_deadline_ms`): its results come
    /// with the next identical search.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub late: bool,
    /// The kind of failure (`EngineError::kind`): what the pupil's JSON says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
    /// The whole reason, for staff pages only (never serialised to pupils).
    #[serde(skip)]
    pub detail: Option<String>,
}

/// Everything a results page shows.
#[derive(Debug, Clone, Serialize)]
pub struct SearchOutcome {
    pub status: Status,
    pub query: String,
    pub page: u32,
    pub max_pages: u32,
    /// True when the pupil asked past the page limit: nothing was fetched.
    pub page_limit_reached: bool,
    pub results: Vec<MergedResult>,
    pub engines: Vec<EngineReport>,
    /// The policy category that refused the query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// How many results the policy dropped, by reason.
    pub filtered: Filtered,
    /// Served from a teacher's approved, frozen copy (no engine was asked).
    pub approved: bool,
    /// The class the approval is for; `null` for the whole school. Only when `approved`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by_class: Option<Option<String>>,
    /// Spelling help: the query with misspelt words replaced from the child vocabulary, only
    /// when that suggestion passes the safety policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub did_you_mean: Option<String>,
    /// Page 1's answer card, for a search naming a thing (`card.rs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<card::AnswerCard>,
    /// A picture search: every result is a picture (results without one are left out).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pictures: bool,
    /// The rendered page and JSON, made once per cached answer (see `web::pupil::results`).
    #[serde(skip)]
    pub rendered: Rendered,
}

/// Bytes of a rendered answer, built on first use and shared by every later request.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub html: std::sync::OnceLock<bytes::Bytes>,
    pub json: std::sync::OnceLock<bytes::Bytes>,
    /// The same, gzipped (for the browsers that ask, i.e. all of them).
    pub html_gzip: std::sync::OnceLock<bytes::Bytes>,
    pub json_gzip: std::sync::OnceLock<bytes::Bytes>,
}

impl SearchService {
    pub fn new(
        engines: EngineSet,
        policy: Arc<LivePolicy>,
        links: LinkSigner,
        hidden: Arc<HiddenResults>,
        metrics: Arc<Metrics>,
        clock: Arc<dyn crate::clock::Clock>,
        config: &ServerConfig,
    ) -> Result<SearchService, String> {
        let pages = LoadingCache::new(
            Cache::builder()
                .max_capacity(config.cache_capacity)
                .expire_after(AnswerExpiry { ok: Duration::from_secs(config.cache_ttl_secs), failed: Duration::from_secs(config.engine_error_ttl_secs) })
                .build(),
        );
        let tokens = LoadingCache::new(
            Cache::builder()
                .max_capacity(engines.all().len() as u64 + 1)
                .expire_after(AnswerExpiry { ok: TOKEN_TTL, failed: Duration::from_secs(config.engine_error_ttl_secs) })
                .build(),
        );
        // Each whole answer also keeps its rendered HTML and JSON (~15 KB together), so this
        // cache holds fewer entries than the per-engine one to keep memory bounded (~30 MB).
        let outcomes = LoadingCache::new(
            Cache::builder()
                .max_capacity((config.cache_capacity / 5).max(100))
                .expire_after(OutcomeExpiry { ok: Duration::from_secs(config.cache_ttl_secs), degraded: Duration::from_secs(config.engine_error_ttl_secs) })
                .build(),
        );
        let vocabulary = Vocabulary::parse(
            &std::fs::read_to_string(config.allowlist_dir.join("vocabulary/words.txt")).unwrap_or_else(|_| crate::spelling::BUILT_IN.to_string()),
        );
        let counter = |result: &str| metrics.answer_cache.get_or_create(&CacheLabels { result: result.into() }).clone();
        let (answer_hits, answer_misses) = (counter("hit"), counter("miss"));
        let in_force = EnginesInForce::new(engines, 0, clock.clone(), config)?;
        Ok(SearchService {
            in_force: std::sync::RwLock::new(Arc::new(in_force)),
            config: config.clone(),
            clock,
            answer_deadline: (config.answer_deadline_ms > 0).then(|| Duration::from_millis(config.answer_deadline_ms)),
            pages,
            tokens,
            outcomes,
            hidden,
            max_pages: config.max_pages,
            vocabulary,
            learned: Default::default(),
            policy,
            links,
            answer_hits,
            answer_misses,
            metrics,
            pictures: None,
            cards: LoadingCache::new(Cache::builder().max_capacity(2_000).time_to_live(Duration::from_secs(config.cache_ttl_secs)).build()),
            answer_cards: config.answer_cards,
        })
    }

    /// Results' pictures signed onto `images`' path from now on.
    pub fn with_pictures(mut self, images: Arc<crate::images::Images>) -> SearchService {
        self.pictures = Some(images);
        self
    }

    /// The engines in force now. Hold it for one whole page: a reload replaces the set, not
    /// what is in it.
    pub fn engines(&self) -> Arc<EngineSet> {
        self.in_force().set.clone()
    }

    /// The engines with their clients and breakers, as one search uses them.
    pub fn in_force(&self) -> Arc<EnginesInForce> {
        self.in_force.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Puts a reloaded `engines.toml` in force: new clients, breakers and reading turns, the
    /// next generation. Searches already under way finish with the set they started with; no
    /// page or answer cached with the old set is served after this (their keys name its
    /// generation, and they are dropped now to free the memory). Returns the new generation.
    pub fn replace_engines(&self, set: EngineSet) -> Result<u64, String> {
        let mut in_force = self.in_force.write().unwrap_or_else(|e| e.into_inner());
        let next = EnginesInForce::new(set, in_force.generation + 1, self.clock.clone(), &self.config)?;
        let generation = next.generation;
        *in_force = Arc::new(next);
        drop(in_force);
        self.pages.invalidate_all();
        self.tokens.invalidate_all();
        self.outcomes.invalidate_all();
        self.cards.invalidate_all();
        Ok(generation)
    }

    pub fn links(&self) -> &LinkSigner {
        &self.links
    }

    pub fn hidden(&self) -> &HiddenResults {
        &self.hidden
    }

    /// The policy every search uses (reloaded in place).
    pub fn policy(&self) -> &Arc<LivePolicy> {
        &self.policy
    }

    /// Forgets every cached answer, refusals included (a local exception was made or removed).
    pub fn forget_answers(&self) {
        self.outcomes.invalidate_all();
    }

    pub fn max_pages(&self) -> u32 {
        self.max_pages
    }

    /// A pupil's live search of `page` (1-based) through every ready pupil engine, with the
    /// safety policy applied: a refused query returns `Blocked` before anything is fetched.
    /// The whole answer is cached, refusals included, so a repeated search costs one lookup.
    /// Per school: results hidden at one school are still shown at another (each engine's
    /// page underneath is shared).
    pub async fn live_search(self: &Arc<Self>, school: SchoolId, query: &Query, page: u32) -> Arc<SearchOutcome> {
        self.live(school, query, page, Purpose::Web).await
    }

    /// A pupil's live picture search (only where the school allows it: the web layer decides)
    /// through the ready pupil picture engines: the same policy, caches and merge as
    /// `live_search`, every result a picture on the gateway's path; no answer card or spelling.
    pub async fn live_pictures(self: &Arc<Self>, school: SchoolId, query: &Query, page: u32) -> Arc<SearchOutcome> {
        self.live(school, query, page, Purpose::Pictures).await
    }

    async fn live(self: &Arc<Self>, school: SchoolId, query: &Query, page: u32, purpose: Purpose) -> Arc<SearchOutcome> {
        let page = page.max(1);
        let policy = self.policy.current();
        let engines = self.in_force();
        let key = (school, query.key(), page, self.hidden.generation(), policy.generation, engines.generation, purpose);
        let pictures = purpose == Purpose::Pictures;
        // Most pupil requests are repeats: a plain lookup is cheaper than `get_with`'s.
        if let Some(outcome) = self.outcomes.get(&key) {
            self.answer_hits.inc();
            return outcome;
        }
        let built = std::sync::atomic::AtomicBool::new(false);
        let outcome = self
            .outcomes
            .get_with(key.clone(), async {
                built.store(true, std::sync::atomic::Ordering::Relaxed);
                let outcome = SearchOutcome { pictures, ..self.empty_outcome(query, page) };
                if let Some(category) = policy.check_query(query) {
                    return Arc::new(SearchOutcome { status: Status::Blocked, category: Some(category.to_string()), ..outcome });
                }
                if outcome.page_limit_reached {
                    return Arc::new(outcome);
                }
                // The spelling help (up to ~1 ms for a misspelt word against the whole
                // vocabulary) is worked out while the engines are answering, not after: the
                // yield first lets the engines' requests go out.
                let suggest = async {
                    tokio::task::yield_now().await;
                    // A suggestion leads to a web search: none on the picture grid.
                    if pictures {
                        return None;
                    }
                    self.misspelt(query)
                };
                // Page 1's answer card is looked up beside the engines, and never waited for
                // past `CARD_WAIT`.
                let card = async {
                    if page != 1 || pictures {
                        return None;
                    }
                    tokio::time::timeout(card::CARD_WAIT, self.answer_card(&policy, &engines, school, query)).await.ok().flatten()
                };
                let (mut outcome, suggestion, card) =
                    futures_util::future::join3(self.fetch_and_merge(&policy, &engines, school, query, outcome, key), suggest, card).await;
                outcome.did_you_mean = suggestion.and_then(|s| self.did_you_mean(&policy, query, &s, &outcome.results));
                if outcome.status == Status::Ok {
                    outcome.card = card;
                }
                Arc::new(outcome)
            })
            .await;
        // Another request's loader built it while this one waited: a hit too.
        let counter = if built.load(std::sync::atomic::Ordering::Relaxed) { &self.answer_misses } else { &self.answer_hits };
        counter.inc();
        outcome
    }

    pub fn empty_outcome(&self, query: &Query, page: u32) -> SearchOutcome {
        SearchOutcome {
            status: Status::Ok,
            query: query.as_str().to_string(),
            page,
            max_pages: self.max_pages,
            page_limit_reached: page > self.max_pages,
            results: Vec::new(),
            engines: Vec::new(),
            category: None,
            filtered: Filtered::default(),
            approved: false,
            approved_by_class: None,
            did_you_mean: None,
            card: None,
            pictures: false,
            rendered: Rendered::default(),
        }
    }

    /// Asks every ready pupil engine for the page concurrently, merges what has arrived by
    /// the answer deadline, applies the policy.
    async fn fetch_and_merge(
        self: &Arc<Self>,
        policy: &Arc<Policy>,
        engines: &Arc<EnginesInForce>,
        school: SchoolId,
        query: &Query,
        outcome: SearchOutcome,
        key: OutcomeKey,
    ) -> SearchOutcome {
        let purpose = if outcome.pictures { Purpose::Pictures } else { Purpose::Web };
        let chosen: Vec<usize> = engines.set.for_pupils_finding(purpose).map(|(i, _)| i).collect();
        let answers = self.answers_by_deadline(policy, engines, &chosen, query, outcome.page, key).await;
        self.merge_answers(policy, engines, school, answers, outcome)
    }

    /// Each chosen engine's page, as far as it has arrived by the answer deadline (None:
    /// late). Each fetch runs in its own task: one still running at the deadline is not
    /// cancelled but finishes into the engine cache, and then the answer built without it
    /// (cached under `key`) is forgotten, so the next identical search gets the full merge.
    /// With no good answer by the deadline, the first good one is waited for (each engine is
    /// bounded by its own timeout).
    async fn answers_by_deadline(
        self: &Arc<Self>,
        policy: &Arc<Policy>,
        engines: &Arc<EnginesInForce>,
        chosen: &[usize],
        query: &Query,
        page: u32,
        key: OutcomeKey,
    ) -> Vec<(usize, Option<PageAnswer>)> {
        let deadline = self.answer_deadline.map(|d| tokio::time::Instant::now() + d);
        let mut pending: FuturesUnordered<_> = chosen
            .iter()
            .map(|&i| {
                let (this, query, policy, engines) = (self.clone(), query.clone(), policy.clone(), engines.clone());
                let task = tokio::spawn(async move { this.engine_page(&policy, &engines, i, &query, page).await });
                async move { (i, task.await.unwrap_or_else(|_| Arc::new(Err(EngineError::Unparseable("reading the answer failed".into()))))) }
            })
            .collect();
        let mut arrived: Vec<(usize, PageAnswer)> = Vec::with_capacity(chosen.len());
        loop {
            let good_so_far = arrived.iter().any(|(_, a)| a.is_ok());
            let next = match deadline {
                Some(deadline) if good_so_far => match tokio::time::timeout_at(deadline, pending.next()).await {
                    Ok(next) => next,
                    Err(_) => break,
                },
                _ => pending.next().await,
            };
            let Some(answer) = next else { break };
            arrived.push(answer);
        }
        if !pending.is_empty() {
            let this = self.clone();
            tokio::spawn(async move {
                while pending.next().await.is_some() {}
                this.outcomes.invalidate(&key);
            });
        }
        chosen.iter().map(|i| (*i, arrived.iter().find(|(j, _)| j == i).map(|(_, a)| a.clone()))).collect()
    }

    /// The vocabulary's spelling of `query`, if a word in it is misspelt (the slow part of the
    /// spelling help, worked out while the engines answer).
    fn misspelt(&self, query: &Query) -> Option<String> {
        let learned = self.learned.read().unwrap_or_else(|e| e.into_inner());
        self.vocabulary.suggest(query.as_str(), &learned)
    }

    /// The suggestion a pupil is shown: `misspelt`'s, without the corrections of words the
    /// results themselves use (real words the child vocabulary lacks), if it still changes the
    /// query and is allowed.
    fn did_you_mean(&self, policy: &Policy, query: &Query, suggestion: &str, results: &[MergedResult]) -> Option<String> {
        let seen = crate::spelling::words_of(results.iter().flat_map(|r| [r.title.as_str(), r.snippet.as_str()]));
        let kept = crate::spelling::keep_real_words(query.as_str(), suggestion, |w| seen.contains(w))?;
        let parsed = Query::parse(&kept).ok()?;
        // A suggestion is a new query: it must pass the same policy before a child sees it.
        (policy.check_query(&parsed).is_none() && parsed.key() != query.key()).then_some(kept)
    }

    /// Words of a search a teacher approved: suggested from now on (the class is searching them).
    pub fn learn_words(&self, query: &str) {
        let mut learned = self.learned.write().unwrap_or_else(|e| e.into_inner());
        for word in query.split_whitespace() {
            learned.add(word);
        }
    }

    /// A teacher's pre-run: the same pipeline as a pupil's search (policy included) through the
    /// engines the teacher picked, which may include staff-only general engines. Not cached as a
    /// whole (each engine's answer is), and never offered to pupils except as a frozen approval.
    /// With `pictures`, a picture search (every result a picture; the teacher's picture engines).
    pub async fn prerun(&self, school: SchoolId, engine_ids: &[String], query: &Query, page: u32, pictures: bool) -> SearchOutcome {
        let outcome = SearchOutcome { pictures, ..self.empty_outcome(query, page.max(1)) };
        let policy = self.policy.current();
        if let Some(category) = policy.check_query(query) {
            return SearchOutcome { status: Status::Blocked, category: Some(category.to_string()), ..outcome };
        }
        let engines = self.in_force();
        let chosen: Vec<usize> = engines.set.all().iter().enumerate().filter(|(_, e)| e.is_ready() && engine_ids.contains(&e.id)).map(|(i, _)| i).collect();
        // Page 1's answer card as pupils' live page would have it (whichever engines were
        // picked: the card is not an engine's result), so the teacher sees it, and may hide it,
        // before it is frozen with the approval. A picture search has none, as pupils' has none.
        let card = async {
            if page > 1 || pictures {
                return None;
            }
            tokio::time::timeout(card::CARD_WAIT, self.answer_card(&policy, &engines, school, query)).await.ok().flatten()
        };
        let (mut outcome, card) = futures_util::future::join(self.merge_engines(&policy, &engines, school, &chosen, query, outcome), card).await;
        if outcome.status == Status::Ok {
            outcome.card = card;
        }
        outcome
    }

    /// Every chosen engine's page (a teacher's pre-run waits for all of them), merged.
    async fn merge_engines(
        &self,
        policy: &Arc<Policy>,
        engines: &Arc<EnginesInForce>,
        school: SchoolId,
        chosen: &[usize],
        query: &Query,
        outcome: SearchOutcome,
    ) -> SearchOutcome {
        let page = outcome.page;
        let answers = join_all(chosen.iter().map(|&i| self.engine_page(policy, engines, i, query, page))).await;
        self.merge_answers(policy, engines, school, chosen.iter().copied().zip(answers.into_iter().map(Some)).collect(), outcome)
    }

    /// Merges the engines' pages (None: late), applies the policy and the school's hidden
    /// results, and signs each result's link.
    fn merge_answers(
        &self,
        policy: &Policy,
        engines: &EnginesInForce,
        school: SchoolId,
        answers: Vec<(usize, Option<PageAnswer>)>,
        mut outcome: SearchOutcome,
    ) -> SearchOutcome {
        let all = engines.set.all();
        let mut good = Vec::new();
        // Pages the word lists refused on any engine's answer (read where each page was parsed,
        // `load_page`): left out of every engine's.
        let mut refused: HashSet<String> = HashSet::new();
        for (i, answer) in &answers {
            let engine = &all[*i];
            match answer.as_deref() {
                Some(Ok(page)) => {
                    good.push(EngineAnswer { engine: &engine.id, weight: engine.weight, results: &page.results });
                    refused.extend(page.refused.iter().map(dedupe_key));
                    outcome.engines.push(EngineReport { id: engine.id.clone(), ok: true, late: false, error: None, detail: None });
                }
                Some(Err(e)) => {
                    tracing::warn!(engine = %engine.id, error = %e, "engine left out of a search");
                    outcome.engines.push(EngineReport { id: engine.id.clone(), ok: false, late: false, error: Some(e.kind()), detail: Some(e.to_string()) });
                }
                None => outcome.engines.push(EngineReport { id: engine.id.clone(), ok: false, late: true, error: None, detail: None }),
            }
        }
        if good.is_empty() {
            outcome.status = Status::Unavailable;
        }
        let (mut results, mut filtered) = policy.filter_and_rank(merge(&good, &refused));
        filtered.terms = refused.len();
        let before = results.len();
        results.retain(|r| !self.hidden.is_hidden(school, &r.url));
        filtered.hidden = before - results.len();
        for result in &mut results {
            result.go = self.links.go_link(school, &result.url);
            if let (Some(pictures), Some((engine, url))) = (&self.pictures, &result.thumbnail) {
                result.picture = pictures.path_for(engine, url).unwrap_or_default();
            }
        }
        // A picture search shows pictures: a result without one (or with one from a host its
        // engine does not declare) has nothing to show on the grid.
        if outcome.pictures {
            results.retain(|r| !r.picture.is_empty());
        }
        outcome.results = results;
        outcome.filtered = filtered;
        outcome
    }

    /// The engine canary: one known query to every ready engine (pupil and staff engines),
    /// straight upstream (never from the cache, which could hide a breakage), concurrently.
    pub async fn canary(&self, query: &Query) -> Vec<crate::canary::CanaryResult> {
        let engines = self.in_force();
        let ready: Vec<usize> = engines.set.all().iter().enumerate().filter(|(_, e)| e.is_ready()).map(|(i, _)| i).collect();
        let policy = self.policy.current();
        let runs = ready.iter().map(|&i| {
            let (policy, engines) = (policy.clone(), engines.clone());
            async move {
                let started = Instant::now();
                let answer = self.load_page(&policy, &engines, i, query, 1).await;
                crate::canary::CanaryResult::from_answer(&engines.set.all()[i].id, answer.as_ref(), started.elapsed())
            }
        });
        join_all(runs).await
    }

    /// One engine's page, from the cache or from one shared upstream request (unless the
    /// engine is resting).
    /// `policy` screens the page, and its generation is in the key.
    fn engine_page<'a>(
        &'a self,
        policy: &'a Arc<Policy>,
        engines: &'a Arc<EnginesInForce>,
        engine: usize,
        query: &'a Query,
        page: u32,
    ) -> Pin<Box<dyn Future<Output = PageAnswer> + Send + 'a>> {
        Box::pin(async move {
            let key = PageKey { engine, query: query.key(), page, policy: policy.generation, engines: engines.generation };
            self.pages.get_with(key, self.ask_unless_resting(policy, engines, engine, query, page)).await
        })
    }

    /// Asks the engine upstream if its breaker lets it, and tells the breaker how it went.
    async fn ask_unless_resting(&self, policy: &Arc<Policy>, engines: &Arc<EnginesInForce>, engine: usize, query: &Query, page: u32) -> PageAnswer {
        let breakers = &engines.breakers;
        let probe = match breakers.permit(engine) {
            Permit::Rest { until_ms } => {
                let seconds = (until_ms - breakers.now_ms()).max(0) as u64 / 1000;
                return Arc::new(Err(EngineError::Resting(seconds)));
            }
            Permit::Probe => Some(breaker::ProbeOut::new(breakers, engine)),
            Permit::Ask => None,
        };
        let answer = self.load_page(policy, engines, engine, query, page).await;
        let result = answer.as_ref().as_ref().map(|_| ());
        match probe {
            Some(probe) => probe.finish(result),
            None => breakers.finish(engine, result, false),
        }
        answer
    }

    /// Every engine's circuit breaker, with the engine's id (staff Engine health, `/metrics`).
    pub fn breaker_states(&self) -> Vec<(String, BreakerState)> {
        let engines = self.in_force();
        engines.set.all().iter().map(|e| e.id.clone()).zip(engines.breakers.states()).collect()
    }

    async fn load_page(&self, policy: &Arc<Policy>, engines: &Arc<EnginesInForce>, index: usize, query: &Query, page: u32) -> PageAnswer {
        let engine = &engines.set.all()[index];
        let work = async {
            let token = match engine.request.token_url {
                Some(_) => self.token(engines, index).await.as_ref().clone()?,
                None => Vec::new(),
            };
            // Later pages of some engines need values from page 1 (DuckDuckGo's vqd).
            let carried = if page > 1 && engine.carries_state() {
                self.engine_page(policy, engines, index, query, 1).await.as_ref().clone()?.carried
            } else {
                Vec::new()
            };
            let answer = fetch_answer(engine, &engines.clients[index], query.as_str(), page, &token, &carried).await?;
            // Read on the blocking pool as it arrives (`read_answer` says why), with the word
            // lists' pass. The reading stops when its budget is spent or, through `_abandon`,
            // when this future is dropped (the engine's timeout): the blocking pool cannot be
            // cancelled, and a hostile page would go on costing CPU for an answer nobody waits for.
            // (`policy` is the one this search started with: a reload mid-search changes nothing.)
            let policy = policy.clone();
            // A turn to read (the engine's readings at once are bounded, `READINGS_PER_ENGINE`),
            // waited for within the engine's timeout; the answer waits in its connection.
            let turn = engines.readings[index].clone().acquire_owned().await.map_err(|_| EngineError::Unparseable("reading the answer failed".into()))?;
            let (budget, _abandon) = ReadBudget::new(PAGE_READ_LIMIT);
            read_answer(engines.set.clone(), index, answer, budget, turn, move |page| policy.screen_words(page)).await
        };
        let result = match tokio::time::timeout(engine.timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(EngineError::Timeout(engine.timeout.as_millis() as u64)),
        };
        let outcome = match &result {
            Ok(_) => "ok",
            Err(EngineError::Timeout(_)) => "timeout",
            Err(EngineError::Blocked) => "resting",
            Err(_) => "error",
        };
        self.metrics.engine_fetch(&engine.id, outcome);
        Arc::new(result)
    }

    async fn token(&self, engines: &EnginesInForce, index: usize) -> TokenAnswer {
        self.tokens
            .get_with((engines.generation, index), async {
                let engine = &engines.set.all()[index];
                Arc::new(fetch_token(engine, &engines.clients[index]).await)
            })
            .await
    }
}
