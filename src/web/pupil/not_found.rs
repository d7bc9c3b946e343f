//! Any unknown address: a friendly page, never a bare error.

use actix_web::HttpResponse;
use maud::html;

use crate::web::layout::{message_card, pupil_page, search_box};

pub async fn page() -> HttpResponse {
    let body = html! {
        (message_card("🧭", "This page isn't here", "Let's go back and search again."))
        (search_box(""))
    };
    HttpResponse::NotFound().content_type("text/html; charset=utf-8").body(pupil_page("Not here", body).into_string())
}
