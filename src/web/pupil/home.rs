//! `/`: one big search box, a friendly name and picture, "Today's board" — the searches and
//! videos teachers approved today, as big picture buttons for children who cannot yet spell —
//! and the school's own sites as picture tiles.

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
    let school = super::gate::school_of(device.as_deref());
    let today = state.approvals.board(school, class).await;
    let videos = state.videos.board(school, class).await;
    let sites = state.sites.for_pupils(school, class).await;
    let closes = super::gate::window_end(&state, device.as_deref()).await;
    let body = html! {
        @if let Some(ends) = closes { (closing_soon(ends, state.supervision.now_ms())) }
        section.home {
            h1 { "Let's find out!" }
            (search_box(""))
        }
        @if !today.is_empty() || !videos.is_empty() {
            section.board aria-labelledby="today" {
                h2 #today { "Today's board" }
                ul.board-buttons {
                    @for a in &today {
                        li {
                            // An approved picture search opens its picture grid.
                            a.board-button href=(if a.is_pictures() { paths::pictures(&a.query, 1) } else { paths::search(&a.query, 1) }) {
                                @if let Some(p) = &a.picture { span.picture aria-hidden="true" { (p) } }
                                span.words { @if a.is_pictures() { span.visually-hidden { "Pictures: " } } (a.query) }
                            }
                        }
                    }
                    @for v in &videos {
                        li {
                            a.board-button.video-tile href=(paths::video(v.id)) {
                                @match v.video.thumbnail_url().and_then(|u| state.images.path_for(crate::videos::THUMBNAILS, &u)) {
                                    Some(picture) => span.picture.video-picture { img src=(picture) alt="" width="160" height="120" loading="lazy"; span.play-badge aria-hidden="true" { "▶" } },
                                    None => span.picture.play aria-hidden="true" { "▶" },
                                }
                                span.words { span.visually-hidden { "Video: " } (v.title) }
                            }
                        }
                    }
                }
            }
        }
        @if !sites.is_empty() {
            section.board aria-labelledby="sites" {
                h2 #sites { "Our sites" }
                ul.board-buttons {
                    @for s in &sites {
                        li {
                            // Through /go: checked against the block lists when tapped, and recorded.
                            a.board-button.site-tile href=(state.links.go_link(school, &s.url)) {
                                @if s.photo {
                                    span.picture.site-picture { img src=(paths::site_picture(s.id)) alt="" width="128" height="96" loading="lazy"; }
                                } @else {
                                    span.picture aria-hidden="true" { (s.picture) }
                                }
                                span.words { (s.name) }
                            }
                        }
                    }
                }
            }
        }
    };
    HttpResponse::Ok().content_type("text/html; charset=utf-8").insert_header(("Cache-Control", "no-store")).body(pupil_page("Search", body).into_string())
}
