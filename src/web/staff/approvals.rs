//! Pre-running and approving searches (the school rule: "the teacher performs the same search
//! earlier that day and restricts it"). `/staff/prerun` shows the results as pupils would get
//! them — their cards, page by page, each with a "hide" tick and a link to open the page and
//! check it; approving freezes exactly those pages (carried in the form, signed for the
//! teacher: `approvals::preview`), never a fresh answer from the engines.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use maud::{html, Markup};

use super::{csrf_ok, csrf_token, expired_form, own_school, require_form, signed_in, to_login, ANY_STAFF};
use crate::approvals::preview::{Preview, PreviewProblem};
use crate::approvals::{pictures_key, Approval, NewApproval};
use crate::engines::Purpose;
use crate::query::Query;
use crate::schools::{SchoolId, DEFAULT_SCHOOL};
use crate::search::{SearchOutcome, Status};
use crate::staff::accounts::security_event;
use crate::web::layout::staff_page;
use crate::web::{paths, AppState};

/// Pages a teacher can approve at most.
const MAX_APPROVED_PAGES: u32 = 5;
const DEFAULT_PAGES: u32 = 2;

/// A form or query string, read leniently (repeated keys kept in order).
fn pairs(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

fn one<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn all(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
}

fn page_count(pairs: &[(String, String)]) -> u32 {
    one(pairs, "pages").and_then(|p| p.parse().ok()).unwrap_or(DEFAULT_PAGES).clamp(1, MAX_APPROVED_PAGES)
}

fn html_page(account: &crate::staff::StaffAccount, title: &str, body: Markup) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(staff_page(title, Some(account.role), body).into_string())
}

/// Runs the teacher's search for pages 1..=pages through the chosen engines.
/// (Results hidden at `school` are left out, as its pupils would never see them.)
async fn run_pages(state: &AppState, school: SchoolId, engines: &[String], query: &Query, pages: u32, pictures: bool) -> Vec<SearchOutcome> {
    let mut out = Vec::new();
    for page in 1..=pages {
        out.push(state.search.prerun(school, engines, query, page, pictures).await);
    }
    out
}

/// The key previews are signed with (the session key's signing half: every instance has it).
fn preview_key(req: &actix_web::HttpRequest) -> Vec<u8> {
    req.app_data::<web::Data<super::SessionCookieKey>>().map(|k| k.signing().to_vec()).unwrap_or_default()
}

pub async fn prerun(req: actix_web::HttpRequest, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let Some(account) = signed_in(&session, &state).await else {
        return to_login();
    };
    // A trust-wide account may look (as the default school would see it) but not approve.
    let school = account.school.unwrap_or(DEFAULT_SCHOOL);
    let params = pairs(req.query_string().as_bytes());
    let raw_query = one(&params, "q").unwrap_or("").to_string();
    // A picture search (`find=pictures`) asks the picture engines and shows every picture;
    // it is approved apart from a web search of the same words.
    let pictures = one(&params, "find") == Some("pictures");
    let purpose = if pictures { Purpose::Pictures } else { Purpose::Web };
    let finds = |id: &str| state.search.engines().get(id).is_some_and(|e| e.purpose == purpose);
    let mut engines = all(&params, "engine");
    engines.retain(|id| finds(id.as_str()));
    if engines.is_empty() {
        engines = state.search.engines().for_pupils_finding(purpose).map(|(_, e)| e.id.clone()).collect();
    }
    let pages = page_count(&params);
    let token = csrf_token(&session);
    let ready: Vec<(String, String, bool)> = state
        .search
        .engines()
        .all()
        .iter()
        .filter(|e| e.is_ready() && e.purpose == purpose)
        .map(|e| {
            (
                e.id.clone(),
                format!("{} ({})", e.name, if e.audience == crate::engines::Audience::Staff { "staff only" } else { "pupils" }),
                engines.contains(&e.id),
            )
        })
        .collect();

    let search_form = html! {
        h1 { "Pre-run a search" }
        form method="get" action=(paths::STAFF_PRERUN) {
            label for="q" { "Search words" }
            input #q type="text" name="q" value=(raw_query) required maxlength="100";
            fieldset {
                legend { "Find" }
                label.hide-result { input type="radio" name="find" value="web" checked[!pictures]; "Web pages (the results list)" }
                label.hide-result { input type="radio" name="find" value="pictures" checked[pictures]; "Pictures (the picture grid: see every picture before pupils do)" }
            }
            fieldset {
                legend { "Engines" }
                @for (id, label, checked) in &ready {
                    label.hide-result { input type="checkbox" name="engine" value=(id) checked[*checked]; (label) }
                }
            }
            label for="pages" { "Pages pupils may see" }
            input #pages type="number" name="pages" min="1" max=(MAX_APPROVED_PAGES) value=(pages);
            button type="submit" { "Show results" }
        }
        // A video for today's board is approved on its own page (`videos.rs`).
        (super::videos::link_form(""))
    };
    let Ok(query) = Query::parse(&raw_query) else {
        return html_page(&account, "Pre-run a search", search_form);
    };
    let outcomes = run_pages(&state, school, &engines, &query, pages, pictures).await;
    let classes = state.devices.classes(account.scope()).await.unwrap_or_default();
    let refused = outcomes.first().filter(|o| o.status == Status::Blocked).and_then(|o| o.category.clone());
    let preview = Preview {
        account: account.id,
        generation: super::session_generation(&session),
        school,
        query: query.as_str().to_string(),
        engines: engines.clone(),
        made_ms: state.approvals.now_ms(),
        pictures,
        pages: outcomes.iter().map(|o| o.results.iter().map(|r| r.to_frozen()).collect()).collect(),
        card: outcomes.first().and_then(|o| o.card.as_ref()).map(|c| c.to_frozen()),
    };
    let (preview_json, preview_sig) = preview.sign(&preview_key(&req));
    let body = html! {
        (search_form)
        @if let Some(category) = refused {
            p.notice role="alert" { "The safety policy refuses this search (" (category) "), so it cannot be approved for pupils." }
        } @else {
            p.notice role="status" {
                @if pictures {
                    "These are the pictures pupils will get, every one of them. \"Approve for today\" keeps exactly these pictures — the engines are not asked again, and pupils' iPads get them from kidsearch — less the ones you tick to hide."
                } @else {
                    "These are the cards pupils will get. \"Approve for today\" keeps exactly these pages — the engines are not asked again — less the ones you tick to hide."
                }
            }
            form method="post" action=(paths::STAFF_APPROVALS) {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="preview" value=(preview_json);
                input type="hidden" name="preview_sig" value=(preview_sig);
                @for outcome in &outcomes {
                    h2 { "Page " (outcome.page) }
                    @for failed in outcome.engines.iter().filter(|e| !e.ok) {
                        p.notice { (failed.id) ": " (failed.detail.clone().unwrap_or_default()) }
                    }
                    @if let Some(card) = &outcome.card { (card_preview(card)) }
                    @if outcome.results.is_empty() { p { "No results on this page." } }
                    @if pictures { (picture_preview(&outcome.results)) } @else {
                    ol.results.preview {
                        @for r in &outcome.results {
                            li { article.card.has-picture[!r.picture.is_empty()] {
                                @if !r.picture.is_empty() {
                                    // Every picture pupils would get, shown to the teacher first.
                                    span.card-picture { img src=(r.picture) alt={ "Picture for " (r.title) } width="128" height="96"; }
                                }
                                div.card-title { h3 { (r.title) } }
                                @if !r.snippet.is_empty() { p.snippet { (r.snippet) } }
                                p.site { (r.site) }
                                p { a href=(r.url) target="_blank" rel="noopener noreferrer" { "Open this page to check it" } }
                                label.hide-result {
                                    input type="checkbox" name="hide" value=(r.url);
                                    @if r.picture.is_empty() { "Hide this from pupils" } @else { "Hide this and its picture from pupils" }
                                }
                            } }
                        }
                    }
                    }
                }
                label for="picture" { "Picture for the button (an emoji or a word, optional)" }
                input #picture type="text" name="picture" maxlength="16";
                label for="class" { "For" }
                (crate::web::layout::class_choice("class", &classes, Some("The whole school")))
                button type="submit" { "Approve for today" }
            }
        }
    };
    html_page(&account, "Pre-run a search", body)
}

/// A picture search's pages for the teacher: every picture big enough to judge, its title, site
/// and page to open, and the tick that hides it from pupils.
fn picture_preview(results: &[crate::search::merge::MergedResult]) -> Markup {
    html! {
        ul.picture-grid.preview {
            @for r in results {
                li { article.picture-card {
                    figure {
                        img src=(r.picture) alt={ "Picture: " (r.title) } width="220" height="165";
                        figcaption { (r.title) }
                    }
                    p.site { (r.site) }
                    p { a href=(r.url) target="_blank" rel="noopener noreferrer" { "Open its page to check it" } }
                    label.hide-result {
                        input type="checkbox" name="hide" value=(r.url);
                        "Hide this picture from pupils"
                    }
                } }
            }
        }
    }
}

/// Page 1's answer card as pupils will get it (its picture and lead), with its own tick: the
/// teacher sees the card, and can hide it, before it is frozen with the approval. Hiding names
/// the article's address, as hiding a result names the result's.
fn card_preview(card: &crate::search::card::AnswerCard) -> Markup {
    html! {
        section.answer aria-label="What it is (the answer card)" {
            article.card.answer-card.has-picture[!card.picture.is_empty()] {
                @if !card.picture.is_empty() {
                    span.card-picture { img src=(card.picture) alt={ "Picture for " (card.title) } width="160" height="120"; }
                }
                div.card-title { h3 { "Answer card: " (card.title) } }
                p.snippet { (card.text) }
                p.site { "Simple English Wikipedia" }
                p { a href=(card.url) target="_blank" rel="noopener noreferrer" { "Open this page to check it" } }
                label.hide-result {
                    input type="checkbox" name="hide" value=(card.url);
                    @if card.picture.is_empty() { "Hide this card from pupils" } @else { "Hide this card and its picture from pupils" }
                }
            }
        }
    }
}

pub async fn approve(req: actix_web::HttpRequest, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let Some(account) = signed_in(&session, &state).await else {
        return to_login();
    };
    let form = pairs(&body);
    if !csrf_ok(&session, one(&form, "csrf")) {
        return expired_form();
    }
    let school = match own_school(&account) {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    // Exactly what this teacher was shown, or nothing.
    let checked = Preview::verify(
        &preview_key(&req),
        one(&form, "preview").unwrap_or(""),
        one(&form, "preview_sig").unwrap_or(""),
        account.id,
        super::session_generation(&session),
        state.approvals.now_ms(),
    );
    let preview = match checked {
        Ok(p) if p.school == school => p,
        Ok(_) | Err(PreviewProblem::NotYours) => {
            return rerun_first(&account, "This approval does not come from a pre-run of yours. Run the search again and approve what you see.")
        }
        Err(PreviewProblem::Old) => return rerun_first(&account, "This pre-run was shown too long ago. Run the search again and approve what you see now."),
    };
    let Ok(query) = Query::parse(&preview.query) else {
        return HttpResponse::BadRequest().body("The search words are missing or too long.");
    };
    let clean = |s: Option<&str>, max: usize| s.map(|s| crate::engines::text::tidy(s, max)).filter(|s| !s.is_empty());
    let request = ApprovalRequest {
        query,
        engines: preview.engines,
        pictures: preview.pictures,
        pages: Seen(preview.pages),
        card: preview.card,
        hidden: all(&form, "hide"),
        picture: clean(one(&form, "picture"), 16),
        class: clean(one(&form, "class"), 40),
    };
    match freeze_and_approve(&state, school, account.id, request).await {
        Ok(id) => {
            security_event(&state.store, "approval", Some(&account.name), Some(&format!("approval {id}"))).await;
            HttpResponse::SeeOther().insert_header(("Location", paths::STAFF_APPROVALS)).finish()
        }
        Err(why) => HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body(staff_page("Not approved", Some(account.role), html! { p.notice { (why) } }).into_string()),
    }
}

/// The pages a teacher has seen: in the pre-run just shown, or in an approval made before.
struct Seen(Vec<Vec<crate::approvals::FrozenResult>>);

struct ApprovalRequest {
    query: Query,
    engines: Vec<String>,
    /// A picture search (its own approval key: `approvals::pictures_key`).
    pictures: bool,
    pages: Seen,
    /// Page 1's answer card as the teacher saw it.
    card: Option<crate::approvals::FrozenCard>,
    hidden: Vec<String>,
    picture: Option<String>,
    class: Option<String>,
}

/// The answer when an approval does not come with the teacher's own pre-run: nothing approved.
fn rerun_first(account: &crate::staff::StaffAccount, why: &str) -> HttpResponse {
    let body = html! { p.notice role="alert" { (why) } p { a href=(paths::STAFF_PRERUN) { "Pre-run a search" } } };
    HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(staff_page("Not approved", Some(account.role), body).into_string())
}

/// Freezes the pages the teacher saw, less the ones ticked to hide, and stores the approval.
/// The words are checked against the policy as it is now (the lists may have changed since).
async fn freeze_and_approve(state: &AppState, school: SchoolId, staff_id: i64, r: ApprovalRequest) -> Result<i64, String> {
    if state.policy.current().check_query(&r.query).is_some() {
        return Err("The safety policy refuses this search, so it cannot be approved.".into());
    }
    let frozen: Vec<Vec<_>> = r.pages.0.into_iter().map(|page| page.into_iter().filter(|x| !r.hidden.contains(&x.url)).collect()).collect();
    let card = r.card.filter(|c| !r.hidden.contains(&c.url));
    let max_pages = (frozen.len() as u32).clamp(1, MAX_APPROVED_PAGES);
    let new = NewApproval {
        school,
        query_key: if r.pictures { pictures_key(&r.query) } else { r.query.approval_key() },
        query: r.query.as_str().to_string(),
        picture: r.picture,
        class: r.class,
        max_pages,
        engines: r.engines,
        hidden: r.hidden,
        approved_by: staff_id,
        pages: frozen,
        card,
    };
    let card_picture = new.card.iter().map(|c| c.picture.clone());
    let pictures: Vec<String> = new.pages.iter().flatten().map(|x| x.picture.clone()).chain(card_picture).filter(|p| !p.is_empty()).collect();
    state.search.learn_words(r.query.as_str());
    let id = state.approvals.approve(new).await.map_err(|e| format!("The approval could not be saved: {e}"))?;
    // The pictures the teacher saw, the answer card's too (re-encoded already, in memory since
    // the pre-run page loaded them) go into the database with the approval: pupils get exactly these, with no
    // upstream call, after a restart and on every instance.
    if let Err(e) = state.images.freeze(id, &pictures).await {
        tracing::error!(approval = id, error = %e, "the approval's pictures could not be kept; pupils' pages fetch them instead");
    }
    Ok(id)
}

pub async fn list(session: Session, state: web::Data<AppState>) -> HttpResponse {
    let Some(account) = signed_in(&session, &state).await else {
        return to_login();
    };
    let token = csrf_token(&session);
    let now = state.approvals.now_ms();
    let approvals = state.approvals.list(account.scope(), 7).await.unwrap_or_default();
    let status = |a: &Approval| {
        if a.withdrawn {
            "withdrawn"
        } else if a.expires_ms > now {
            "live today"
        } else {
            "ended"
        }
    };
    let body = html! {
        h1 { "Approved searches" }
        p { a href=(paths::STAFF_PRERUN) { "Pre-run a new search" } }
        table {
            thead { tr { th { "Search" } th { "For" } th { "Pages" } th { "By" } th { "Day" } th { "State" } th {} } }
            tbody {
                @for a in &approvals {
                    tr {
                        td { @if let Some(p) = &a.picture { (p) " " } (a.query) @if a.is_pictures() { " (pictures)" } }
                        td { (a.class.clone().unwrap_or_else(|| "whole school".into())) }
                        td { (a.max_pages) " (" (a.pages.iter().map(Vec::len).sum::<usize>()) " results)" }
                        td { (a.approved_by) }
                        td { (a.school_day) }
                        td { (status(a)) }
                        td {
                            @if status(a) == "live today" {
                                form method="post" action=(format!("{}/{}/withdraw", paths::STAFF_APPROVALS, a.id)) {
                                    input type="hidden" name="csrf" value=(token);
                                    button type="submit" { "Withdraw" }
                                }
                            } @else {
                                form method="post" action=(format!("{}/{}/renew", paths::STAFF_APPROVALS, a.id)) {
                                    input type="hidden" name="csrf" value=(token);
                                    button type="submit" { "Approve again for today" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    html_page(&account, "Approved searches", body)
}

pub async fn withdraw(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let id = path.into_inner();
    match state.approvals.withdraw(id, account.scope()).await {
        Ok(false) => HttpResponse::NotFound().body("There is no live approval with that number at your school."),
        Ok(true) => {
            security_event(&state.store, "approval_withdrawn", Some(&account.name), Some(&format!("approval {id}"))).await;
            HttpResponse::SeeOther().insert_header(("Location", paths::STAFF_APPROVALS)).finish()
        }
        Err(e) => HttpResponse::InternalServerError().body(format!("could not withdraw: {e}")),
    }
}

/// "Approve yesterday's search again in one click": the same words, pages (as the teacher saw
/// and approved them then, not a fresh answer from the engines), hidden results, picture and
/// class, for today.
pub async fn renew(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let school = match own_school(&account) {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let Ok(Some(old)) = state.approvals.by_id(path.into_inner(), account.scope()).await else {
        return HttpResponse::NotFound().body("No such approval.");
    };
    let Ok(query) = Query::parse(&old.query) else {
        return HttpResponse::BadRequest().body("The stored search words are not valid.");
    };
    let pictures = old.is_pictures();
    let request = ApprovalRequest {
        query,
        engines: old.engines,
        pictures,
        pages: Seen(old.pages),
        card: old.card,
        hidden: old.hidden,
        picture: old.picture,
        class: old.class,
    };
    match freeze_and_approve(&state, school, account.id, request).await {
        Ok(_) => HttpResponse::SeeOther().insert_header(("Location", paths::STAFF_APPROVALS)).finish(),
        Err(why) => HttpResponse::BadRequest().body(why),
    }
}
