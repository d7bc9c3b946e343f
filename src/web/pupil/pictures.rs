//! `/pictures?q=…&page=N[&format=json]`: picture search, a grid of pictures.
//!
//! Pictures are the riskiest thing a pupil can see (the schools' policies: "if they see an
//! unacceptable image … turn the screen off"), so by default a pupil gets pictures only from a
//! picture search a teacher pre-ran, looked at picture by picture and approved: its frozen
//! pictures, served from the database with no engine asked. A school that sets
//! `pupil_live_picture_search = true` (and keeps `pupil_live_search` on) lets pupils search
//! pictures live through the picture engines. Either way the words go through the same policy
//! check, and a refusal is recorded, as a web search's.

use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

use super::results::{answer, approved_only, approved_page, ask, end_of_search};
use crate::approvals::pictures_key;
use crate::search::merge::MergedResult;
use crate::search::{SearchOutcome, Status};
use crate::web::layout::{help_button, message_card, pupil_page_showing, search_box, OnScreen};
use crate::web::{paths, AppState};

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let asked = match ask(&req, &state).await {
        Ok(asked) => asked,
        Err(stop) => return stop,
    };
    let (query, page) = (&asked.query, asked.params.page);
    let outcome = if let Some(approval) = state.approvals.live_for(asked.school, asked.class(), &pictures_key(query)).await {
        approved_page(&state, query, &approval, page).await
    } else if state.pupil_live_picture_search && state.pupil_live_search {
        state.search.live_pictures(asked.school, query, page).await
    } else {
        approved_only(&state, query, page, true)
    };
    answer(&req, &state, &asked, outcome, pictures_page).await
}

fn pictures_page(outcome: &SearchOutcome, closing: Option<Markup>) -> Markup {
    // A refused query is not shown back on the screen, where other children can see it.
    let shown_query = if outcome.status == Status::Blocked { "" } else { outcome.query.as_str() };
    let on_screen = OnScreen { query: outcome.query.as_str(), page: outcome.page };
    let body = html! {
        @if let Some(closing) = closing { (closing) }
        (search_box(shown_query))
        @if outcome.status == Status::ApprovedOnly {
            (message_card("🧑‍🏫", "Let's ask your teacher", "Pictures come from the picture searches your teacher chose. Ask your teacher to find pictures with you."))
        } @else if outcome.status == Status::Blocked {
            (message_card("🤝", "Let's ask a grown-up to help with this search", "A grown-up can help you find what you are looking for."))
        } @else if outcome.page_limit_reached {
            (end_of_search())
        } @else if outcome.status == Status::Unavailable {
            (message_card("😴", "Pictures are having a rest", "Please try again in a little while, or ask a grown-up."))
        } @else if outcome.results.is_empty() {
            (message_card("🔍", "No pictures found", "Try a different word, or ask a grown-up."))
        } @else {
            h1.visually-hidden { "Pictures of " (outcome.query) }
            ul.picture-grid {
                @for (i, result) in outcome.results.iter().enumerate() { li { (picture_card(result, i, on_screen)) } }
            }
            nav.pager aria-label="Pages of pictures" {
                @if outcome.page > 1 {
                    a.button href=(paths::pictures(&outcome.query, outcome.page - 1)) { "◀ Back" }
                }
                @if outcome.page < outcome.max_pages {
                    a.button href=(paths::pictures(&outcome.query, outcome.page + 1)) { "More pictures ▶" }
                }
            }
            @if outcome.page >= outcome.max_pages { (end_of_search()) }
        }
    };
    pupil_page_showing(if shown_query.is_empty() { "Ask a grown-up" } else { shown_query }, body, on_screen)
}

/// One picture: it and its title open the page it is on (the checked `/go` link), with the
/// site's name and the card's own "Tell an adult about this", which hides it for everyone.
/// The picture is always the gateway's own JPEG (`/img/…`); those past the first rows load as
/// the child scrolls.
fn picture_card(result: &MergedResult, index: usize, on_screen: OnScreen<'_>) -> Markup {
    html! {
        article.picture-card {
            a.picture-link href=(result.go) rel="noopener noreferrer" {
                // The title beside it names the link; the picture itself is decoration to a
                // screen reader (its words are the engine's title, already there).
                img src=(result.picture) alt="" width="220" height="165" decoding="async" loading=(if index < 6 { "eager" } else { "lazy" });
                span.picture-title { (result.title) }
            }
            p.site { (result.site) }
            (help_button(on_screen, Some((&result.go, &result.title))))
        }
    }
}
