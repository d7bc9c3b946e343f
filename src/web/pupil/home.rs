//! `/`: one big search box, a friendly name and picture, nothing else to get lost in.

use actix_web::HttpResponse;
use maud::html;

use crate::web::layout::{pupil_page, search_box};

pub async fn page() -> HttpResponse {
    let body = html! {
        section.home {
            h1 { "Let's find out!" }
            (search_box(""))
        }
    };
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(pupil_page("Search", body).into_string())
}
