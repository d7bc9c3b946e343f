//! `/search?q=…&page=N[&format=json]`: the results page, or the same outcome as JSON.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::approvals::Approval;
use crate::devices::Device;
use crate::query::{Query, QueryError};
use crate::search::card::AnswerCard;
use crate::search::merge::MergedResult;
use crate::search::{SearchOutcome, Status};
use crate::store::{Activity, ActivityKind};
use crate::web::layout::{
    closing_soon, help_button, message_card, pupil_page, pupil_page_showing, search_box, speak_card_button, OnScreen, CLOSING_SOON_MINUTES,
};
use crate::web::{compress, paths, AppState};

/// A results page slower than this is logged with the time each step took.
const SLOW_PAGE: Duration = Duration::from_secs(1);

/// The query string, read leniently: a malformed parameter is treated as absent, never a 400
/// from the framework with a developer's message.
pub(super) struct Params {
    q: String,
    pub(super) page: u32,
    pub(super) json: bool,
}

impl Params {
    pub(super) fn from_request(req: &HttpRequest) -> Params {
        let mut params = Params { q: String::new(), page: 1, json: false };
        for (k, v) in url::form_urlencoded::parse(req.query_string().as_bytes()) {
            match k.as_ref() {
                "q" => params.q = v.into_owned(),
                "page" => params.page = v.trim().parse::<u32>().ok().filter(|p| *p >= 1).unwrap_or(1),
                "format" => params.json = v == "json",
                _ => {}
            }
        }
        params
    }
}

/// A pupil's search as asked: past the gate, its words parsed.
pub(super) struct Asked {
    pub(super) params: Params,
    pub(super) device: super::gate::Pupil,
    pub(super) query: Query,
    pub(super) school: crate::schools::SchoolId,
    started: Instant,
    gated: Duration,
}

impl Asked {
    /// The pupil's class (None: a browser that is not enrolled).
    pub(super) fn class(&self) -> Option<&str> {
        self.device.as_deref().map(|d| d.class.as_str())
    }
}

/// The gate, then the words (web and picture search alike): the page to answer with instead
/// when the pupil may not search now or the words are empty or too long.
pub(super) async fn ask(req: &HttpRequest, state: &AppState) -> Result<Asked, HttpResponse> {
    let params = Params::from_request(req);
    let started = Instant::now();
    let device = super::gate::check(req, state, params.json).await?;
    let query = match Query::parse(&params.q) {
        Ok(q) => q,
        Err(e) => return Err(invalid_query(&params, e)),
    };
    let school = super::gate::school_of(device.as_deref());
    Ok(Asked { params, device, query, school, started, gated: started.elapsed() })
}

/// When live searching is off (for web pages or for pictures): no engine is asked, but the
/// query is still checked (and a refusal recorded as an incident): the DSL must see every
/// attempt to reach blocked material, whatever the school's setting.
pub(super) fn approved_only(state: &AppState, query: &Query, page: u32, pictures: bool) -> Arc<SearchOutcome> {
    let mut outcome = SearchOutcome { pictures, ..state.search.empty_outcome(query, page) };
    match state.policy.current().check_query(query) {
        Some(category) => {
            outcome.status = Status::Blocked;
            outcome.category = Some(category.to_string());
        }
        None => outcome.status = Status::ApprovedOnly,
    }
    Arc::new(outcome)
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let asked = match ask(&req, &state).await {
        Ok(asked) => asked,
        Err(stop) => return stop,
    };
    let (params, query, school) = (&asked.params, &asked.query, asked.school);
    // A teacher's approved search wins: pupils get the frozen copy, no engine is asked.
    let outcome = if let Some(approval) = state.approvals.live_for(school, asked.class(), &query.approval_key()).await {
        approved_page(&state, query, &approval, params.page).await
    } else if !state.pupil_live_search {
        approved_only(&state, query, params.page, false)
    } else {
        state.search.live_search(school, query, params.page).await
    };
    answer(&req, &state, &asked, outcome, results_page).await
}

/// A page of an approval. Each is built (and later rendered) once; withdrawal and expiry are
/// checked by `live_for` on every request, before this cache.
pub(super) async fn approved_page(state: &AppState, query: &Query, approval: &Approval, page: u32) -> Arc<SearchOutcome> {
    let page = page.max(1);
    let key = (approval.id, page, state.search.hidden().generation());
    state.approved_pages.get_with(key, async { Arc::new(from_approval(state, query, approval, page)) }).await
}

/// Records the search and sends its page (rendered by `render`) or its JSON.
pub(super) async fn answer(
    req: &HttpRequest,
    state: &AppState,
    asked: &Asked,
    outcome: Arc<SearchOutcome>,
    render: fn(&SearchOutcome, Option<Markup>) -> Markup,
) -> HttpResponse {
    let (params, device, started, gated) = (&asked.params, &asked.device, asked.started, asked.gated);
    let answered = started.elapsed();
    // Another site may navigate an iPad here (its cookie goes along): what it makes the iPad
    // ask is answered, but never written to that pupil's record.
    if crate::web::origin::pupil_started(req) {
        record(state, &outcome, device.as_deref()).await;
    }
    let took = started.elapsed();
    if took > SLOW_PAGE {
        // Which step a slow page waited in, for the technician's log (and the benchmark's
        // rare slow answers under 3,000 connections): a new search waits for its engines,
        // the gate and the activity row never should.
        let ms = |d: Duration| d.as_millis() as u64;
        tracing::warn!(gate_ms = ms(gated), answer_ms = ms(answered - gated), record_ms = ms(took - answered), "a results page took over a second");
    }
    let status = match outcome.status {
        Status::Ok | Status::Blocked | Status::ApprovedOnly => StatusCode::OK,
        Status::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    };
    // The page for a cached answer is rendered (and gzipped) once and its bytes shared by
    // later requests. no-store: a covered or closed device must not be shown an old page from
    // the browser's cache.
    // In a class's last minutes the page says that search rests soon: drawn for this iPad
    // then, not from the shared bytes (a page drawn earlier learns it from `/window`).
    if !params.json {
        if let Some(ends) = super::gate::window_end(state, device.as_deref()).await {
            let now = state.supervision.now_ms();
            if ends - now <= CLOSING_SOON_MINUTES * 60_000 {
                return HttpResponse::build(status)
                    .content_type("text/html; charset=utf-8")
                    .insert_header(("Cache-Control", "no-store"))
                    .body(render(&outcome, Some(closing_soon(ends, now))).into_string());
            }
        }
    }
    let rendered = &outcome.rendered;
    let (plain, packed, content_type) = if params.json {
        (rendered.json.get_or_init(|| serde_json::to_vec(outcome.as_ref()).unwrap_or_default().into()), &rendered.json_gzip, "application/json")
    } else {
        (rendered.html.get_or_init(|| render(&outcome, None).into_string().into()), &rendered.html_gzip, "text/html; charset=utf-8")
    };
    use actix_web::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
    let mut response = HttpResponse::build(status);
    response
        .insert_header((CONTENT_TYPE, HeaderValue::from_static(content_type)))
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((VARY, HeaderValue::from_static("Accept-Encoding")));
    if compress::accepts_gzip(req) {
        let body = packed.get_or_init(|| compress::gzip(plain));
        return response.insert_header((CONTENT_ENCODING, HeaderValue::from_static("gzip"))).body(body.clone());
    }
    response.body(plain.clone())
}

/// The page of a frozen approval, with its own page limit enforced here.
fn from_approval(state: &AppState, query: &Query, approval: &Approval, page: u32) -> SearchOutcome {
    let mut outcome = state.search.empty_outcome(query, page);
    outcome.query = approval.query.clone();
    outcome.max_pages = approval.max_pages;
    outcome.page_limit_reached = page > approval.max_pages;
    outcome.approved = true;
    outcome.approved_by_class = Some(approval.class.clone());
    outcome.pictures = approval.is_pictures();
    if !outcome.page_limit_reached {
        if let Some(results) = approval.pages.get(page as usize - 1) {
            let links = state.search.links();
            let hidden = state.search.hidden();
            outcome.results = results
                .iter()
                .filter(|f| !hidden.is_hidden(approval.school, &f.url))
                .map(|f| MergedResult::from_frozen(f, links.go_link(approval.school, &f.url)))
                .collect();
            outcome.filtered.hidden = results.len() - outcome.results.len();
        }
        // Page 1's card as the teacher saw it: no summary is fetched, its picture is frozen
        // too. A card a pupil reported since (hidden at the school) is gone, as a result is.
        if page == 1 {
            outcome.card = approval
                .card
                .as_ref()
                .filter(|c| !state.search.hidden().is_hidden(approval.school, &c.url))
                .map(|c| AnswerCard::from_frozen(c, state.search.links().go_link(approval.school, &c.url)));
        }
    }
    outcome
}

/// Every pupil query goes to the activity log (approved ones with the category "approved",
/// picture searches "pictures" or "approved pictures"); a refused one is committed before the pupil's
/// page is sent (staff must be able to see every attempt to reach blocked material).
/// A refused query is also an incident for the DSL's register and teachers' dashboards.
async fn record(state: &AppState, outcome: &SearchOutcome, device: Option<&Device>) {
    let kind = if outcome.status == Status::Blocked { ActivityKind::Refused } else { ActivityKind::Query };
    // An answered picture search says so in the log: a DSL looking into what a child saw
    // needs to know it was a grid of pictures, not a list of titles.
    let category = match (kind, outcome.approved, outcome.pictures) {
        (ActivityKind::Query, true, true) => Some("approved pictures".to_string()),
        (ActivityKind::Query, false, true) => Some("pictures".to_string()),
        (ActivityKind::Query, true, false) => Some("approved".to_string()),
        _ => outcome.category.clone(),
    };
    let row = Activity {
        category,
        query: Some(outcome.query.clone()),
        device: device.map(Device::name),
        class: device.map(|d| d.class.clone()),
        school: super::gate::school_of(device),
        ..Activity::now(kind)
    };
    if kind == ActivityKind::Refused {
        let category = outcome.category.clone().unwrap_or_default();
        state.metrics.refused.get_or_create(&crate::metrics::CategoryLabels { category: category.clone() }).inc();
        // Stored before the page is sent, or (the disk refusing) kept in memory and retried.
        state.safeguarding.refused_query(device, row, outcome.query.clone(), category).await;
    } else if outcome.page == 1 {
        state.store.record(row);
    }
}

fn invalid_query(params: &Params, e: QueryError) -> HttpResponse {
    if params.json {
        return HttpResponse::BadRequest().json(serde_json::json!({ "status": "invalid", "error": e.to_string() }));
    }
    let (heading, text) = match e {
        QueryError::Empty => ("Type a word to search", "Try a word like \"dinosaurs\" or \"rainbows\"."),
        QueryError::TooLong => ("That's a lot of words!", "Try a shorter search, with just a few words."),
    };
    let body = html! {
        (message_card("✏️", heading, text))
        (search_box(""))
    };
    HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(pupil_page("Search", body).into_string())
}

fn results_page(outcome: &SearchOutcome, closing: Option<Markup>) -> Markup {
    // A refused query is not shown back on the screen, where other children can see it.
    let shown_query = if outcome.status == Status::Blocked { "" } else { outcome.query.as_str() };
    // A press of the button reports what was on screen, or for a refused search what the
    // pupil tried (carried in the form, never shown): "a press right after a refused search"
    // is about that search.
    let on_screen = OnScreen { query: outcome.query.as_str(), page: outcome.page };
    let body = html! {
        @if let Some(closing) = closing { (closing) }
        (search_box(shown_query))
        @if outcome.status == Status::ApprovedOnly {
            (message_card("🧑‍🏫", "Let's ask your teacher", "Today we use the searches your teacher chose. Tap one on the first page, or ask your teacher."))
        } @else if outcome.status == Status::Blocked {
            (message_card("🤝", "Let's ask a grown-up to help with this search", "A grown-up can help you find what you are looking for."))
        } @else if outcome.page_limit_reached {
            (end_of_search())
        } @else if outcome.status == Status::Unavailable {
            (message_card("😴", "Search is having a rest", "Please try again in a little while, or ask a grown-up."))
        } @else if outcome.results.is_empty() {
            (message_card("🔍", "Nothing found", "Try a different word, or check the spelling with a grown-up."))
            (did_you_mean(outcome))
        } @else {
            (did_you_mean(outcome))
            h1.visually-hidden { "Results for " (outcome.query) }
            @if let Some(card) = &outcome.card { (answer_card(card, on_screen)) }
            ol.results {
                @for (i, result) in outcome.results.iter().enumerate() { li { (result_card(result, i, on_screen)) } }
            }
            nav.pager aria-label="Pages of results" {
                @if outcome.page > 1 {
                    a.button href=(paths::search(&outcome.query, outcome.page - 1)) { "◀ Back" }
                }
                @if outcome.page < outcome.max_pages {
                    a.button href=(paths::search(&outcome.query, outcome.page + 1)) { "More results ▶" }
                }
            }
            // The real end of the pages a teacher allows: the friendly end card here, not only
            // past the limit (which a child reaches only by typing an address).
            @if outcome.page >= outcome.max_pages { (end_of_search()) }
        }
    };
    pupil_page_showing(if shown_query.is_empty() { "Ask a grown-up" } else { shown_query }, body, on_screen)
}

/// "That's all for this search": a picture, read aloud on a tap, and the way back to the
/// board of today's searches.
pub(super) fn end_of_search() -> Markup {
    html! {
        (message_card("🏁", "That's all for this search", "You have seen all the pages your teacher allows. Try a new search!"))
        p.end { a.button href=(paths::HOME) { "Back to today's searches" } }
    }
}

/// One big, plain card: title, short snippet, the site's name. Upstream text is text.
/// "Did you mean dinosaur?" as a big link to that search (already checked by the policy).
fn did_you_mean(outcome: &SearchOutcome) -> Markup {
    html! {
        @if let Some(better) = &outcome.did_you_mean {
            p.did-you-mean { "Did you mean " a href=(paths::search(better, 1)) { strong { (better) } } "?" }
        }
    }
}

/// The answer card at the top of page 1: the article's picture, its first sentences (read
/// aloud by the card's speaker button) and the way into the article.
fn answer_card(card: &AnswerCard, on_screen: OnScreen<'_>) -> Markup {
    let has_picture = !card.picture.is_empty();
    html! {
        section.answer aria-label="What it is" {
            article.card.answer-card.has-picture[has_picture] {
                @if has_picture {
                    a.card-picture href=(card.go) rel="noopener noreferrer" tabindex="-1" aria-hidden="true" {
                        img src=(card.picture) alt="" width="160" height="120" decoding="async";
                    }
                }
                div.card-title {
                    h2 { a href=(card.go) rel="noopener noreferrer" { (card.title) } }
                    (speak_card_button())
                }
                p.snippet { (card.text) }
                p.site { "Simple English Wikipedia" }
                (help_button(on_screen, Some((&card.go, &card.title))))
            }
        }
    }
}

/// The card's own tell-an-adult button reports this result, which is then hidden for everyone
/// (its picture with it). The picture, where the engine gave one, comes through the gateway's
/// image path (`/img/…`); tapping it opens the result, like the title. Pictures of the cards
/// below the first screen load as the child scrolls to them.
fn result_card(result: &MergedResult, index: usize, on_screen: OnScreen<'_>) -> Markup {
    let has_picture = !result.picture.is_empty();
    html! {
        article.card.has-picture[has_picture] {
            @if has_picture {
                // The title link names the result; this second way in is for fingers only.
                a.card-picture href=(result.go) rel="noopener noreferrer" tabindex="-1" aria-hidden="true" {
                    img src=(result.picture) alt="" width="128" height="96" decoding="async" loading=(if index < 3 { "eager" } else { "lazy" });
                }
            }
            div.card-title {
                h2 { a href=(result.go) rel="noopener noreferrer" { (result.title) } }
                (speak_card_button())
            }
            @if !result.snippet.is_empty() { p.snippet { (result.snippet) } }
            p.site { (result.site) }
            (help_button(on_screen, Some((&result.go, &result.title))))
        }
    }
}
