//! `/`: one big search box, a friendly name and picture, and the "Today's searches" board of
//! teacher-approved searches as big picture buttons, for children who cannot yet spell.

use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;

use crate::web::layout::{closing_soon, pupil_page, search_box};
use crate::web::{paths, AppState};

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let device = match super::gate::check(&req, &state, false).await {
        Ok(device) => device,
        Err(stop) => return stop,
    };
    let class = device.as_deref().map(|d| d.class.as_str());
    let today = state.approvals.board(super::gate::school_of(device.as_deref()), class).await;
    let closes = super::gate::window_end(&state, device.as_deref()).await;
    let body = html! {
        @if let Some(ends) = closes { (closing_soon(ends, state.supervision.now_ms())) }
        section.home {
            h1 { "Let's find out!" }
            (search_box(""))
        }
        @if !today.is_empty() {
            section.board aria-labelledby="today" {
                h2 #today { "Today's searches" }
                ul.board-buttons {
                    @for a in &today {
                        li {
                            a.board-button href=(paths::search(&a.query, 1)) {
                                @if let Some(p) = &a.picture { span.picture aria-hidden="true" { (p) } }
                                span.words { (a.query) }
                            }
                        }
                    }
                }
            }
        }
    };
    HttpResponse::Ok().content_type("text/html; charset=utf-8").insert_header(("Cache-Control", "no-store")).body(pupil_page("Search", body).into_string())
}
