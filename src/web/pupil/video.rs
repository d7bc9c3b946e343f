//! `/video/N`: approved video N, full-screen and calm, in ViewPure's spirit: the
//! privacy-enhanced player (no related videos from other channels, no annotations, inline on
//! an iPad), its title with "Read it to me", the tell-an-adult button, a big "Back" — and
//! nothing else.
//!
//! This is the only page whose CSP allows a frame, and only from `www.youtube-nocookie.com`.
//! The frame is sandboxed without popups or top navigation, so YouTube's own title and logo
//! links cannot take a child out to youtube.com. The video's id comes from the stored
//! approval, re-checked (`VideoId::parse`), never from the request.

use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;

use crate::store::{Activity, ActivityKind};
use crate::web::layout::{message_card, pupil_page, pupil_page_about, speak_button};
use crate::web::{paths, AppState, VIDEO_PAGE_CSP};

pub async fn page(req: HttpRequest, path: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    let device = match super::gate::check(&req, &state, false).await {
        Ok(device) => device,
        Err(stop) => return stop,
    };
    let school = super::gate::school_of(device.as_deref());
    let class = device.as_deref().map(|d| d.class.as_str());
    // A number, or this is no video page; a video withdrawn, ended or for another class is not
    // shown either, whatever the link.
    let found = match path.parse::<i64>() {
        Ok(id) => state.videos.live_for(school, class, id).await,
        Err(_) => None,
    };
    let Some(video) = found else { return gone() };
    let watch = video.video.watch_url();
    // Reported by a pupil's tell-an-adult press: hidden for the school until a teacher looks.
    if state.search.hidden().is_hidden(school, &watch) {
        let body = html! {
            (message_card("🙈", "This video is hidden for now", "A grown-up is checking it."))
            (back_button())
        };
        return HttpResponse::Forbidden().content_type("text/html; charset=utf-8").body(pupil_page("Hidden for now", body).into_string());
    }
    if crate::web::origin::pupil_started(&req) {
        state.store.record(Activity {
            url: Some(watch.clone()),
            device: device.as_ref().map(|d| d.name()),
            class: device.as_ref().map(|d| d.class.clone()),
            school,
            ..Activity::now(ActivityKind::Click)
        });
    }
    let go = state.links.go_link(school, &watch);
    let body = html! {
        section.video-page {
            div.video-title {
                h1 { (video.title) }
                (speak_button(&video.title, None))
            }
            div.video-frame {
                iframe src=(video.video.embed_url()) title=(video.title)
                    allow="autoplay; encrypted-media; picture-in-picture; fullscreen" allowfullscreen
                    referrerpolicy="strict-origin"
                    sandbox="allow-scripts allow-same-origin allow-presentation" {}
            }
            (back_button())
        }
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Content-Security-Policy", VIDEO_PAGE_CSP))
        .body(pupil_page_about(&video.title, body, (&go, &video.title)).into_string())
}

fn back_button() -> maud::Markup {
    html! { a.back-button href=(paths::HOME) { span aria-hidden="true" { "⬅️ " } "Back" } }
}

/// No such video today (withdrawn, ended at midnight, another class's, or a made-up number).
fn gone() -> HttpResponse {
    let body = html! {
        (message_card("📺", "This video isn't on today's board", "Let's go back and choose another one."))
        (back_button())
    };
    HttpResponse::NotFound().content_type("text/html; charset=utf-8").body(pupil_page("Not on the board", body).into_string())
}
