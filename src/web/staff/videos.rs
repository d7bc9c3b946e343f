//! Approved videos (issue 27): a teacher pastes a YouTube link, kidsearch asks YouTube's
//! oEmbed endpoint for its title and channel, the term lists screen them, and the teacher sees
//! them before "Approve for today" puts the video on Today's board. Approving stores exactly
//! what she was shown (signed in the form: `videos::VideoPreview`), for her class or the
//! whole school, until midnight; "Withdraw" takes it off at once.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

use super::{csrf_ok, csrf_token, expired_form, html_page, own_school, require, require_form, see_other, session_generation, store_failed, ANY_STAFF};
use crate::staff::accounts::security_event;
use crate::videos::link::{parse_link, VideoId};
use crate::videos::{ApprovedVideo, NewVideo, VideoPreview};
use crate::web::form::field;
use crate::web::{paths, AppState};

/// The key previews are signed with (as a search's pre-run: every instance has it).
fn preview_key(req: &HttpRequest) -> Vec<u8> {
    req.app_data::<web::Data<super::SessionCookieKey>>().map(|k| k.signing().to_vec()).unwrap_or_default()
}

/// The box a teacher pastes a link into (also on the pre-run page).
pub fn link_form(value: &str) -> Markup {
    html! {
        form method="get" action=(paths::STAFF_VIDEOS) {
            label for="video-link" { "Show a YouTube video today: paste its link" }
            input #video-link type="text" name="link" value=(value) maxlength="2000" placeholder="https://www.youtube.com/watch?v=…" required;
            button type="submit" { "Look it up" }
        }
    }
}

/// `GET /staff/videos[?link=…]`: the video a link names (looked up and screened), ready to
/// approve, and the videos of the last week.
pub async fn page(req: HttpRequest, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let link = crate::web::form::query(&req, "link").unwrap_or_default();
    let token = csrf_token(&session);
    let mut refused = false;
    let looked_up = if link.trim().is_empty() {
        html! {}
    } else {
        match look_up(&state, &link).await {
            Err(why) => {
                refused = true;
                html! { p.notice role="alert" { (why) } }
            }
            Ok((video, title, channel)) => {
                let school = account.school.unwrap_or(crate::schools::DEFAULT_SCHOOL);
                let preview = VideoPreview {
                    account: account.id,
                    generation: session_generation(&session),
                    school,
                    video: video.as_str().to_string(),
                    title: title.clone(),
                    channel: channel.clone(),
                    made_ms: state.videos.now_ms(),
                };
                let (json, sig) = preview.sign(&preview_key(&req));
                let classes = state.devices.classes(account.scope()).await.unwrap_or_default();
                html! {
                    section.video-check aria-labelledby="found" {
                        h2 #found { "Pupils will see: " (title) }
                        @if !channel.is_empty() { p { "From the channel " strong { (channel) } } }
                        // The picture pupils' tile will show, through the gateway as theirs is.
                        @if let Some(picture) = video.thumbnail_url().and_then(|u| state.images.path_for(crate::videos::THUMBNAILS, &u)) {
                            p { img.video-check-picture src=(picture) alt=(format!("The picture on pupils' tile for {title}")) width="160" height="120"; }
                        }
                        p { a href=(video.watch_url()) target="_blank" rel="noopener noreferrer" { "Watch it on YouTube first" } }
                        p.notice role="status" {
                            "Pupils get this one video in YouTube's privacy-enhanced player, without comments, adverts around it or suggestions from other channels, until midnight."
                        }
                        form method="post" action=(paths::STAFF_VIDEOS) {
                            input type="hidden" name="csrf" value=(token);
                            input type="hidden" name="preview" value=(json);
                            input type="hidden" name="preview_sig" value=(sig);
                            label for="class" { "For" }
                            (crate::web::layout::class_choice("class", &classes, Some("The whole school")))
                            button type="submit" { "Approve for today" }
                        }
                    }
                }
            }
        }
    };
    let now = state.videos.now_ms();
    let videos = state.videos.list(account.scope(), 7).await.unwrap_or_default();
    let body = html! {
        h1 { "Videos for today's board" }
        (link_form(&link))
        (looked_up)
        h2 { "Approved videos" }
        @if videos.is_empty() { p { "No videos approved this week." } }
        @else {
            table {
                thead { tr { th { "Video" } th { "For" } th { "By" } th { "Day" } th { "State" } th {} } }
                tbody { @for v in &videos { (video_row(v, now, &token)) } }
            }
        }
    };
    let mut answer = html_page(&account, "Videos", body);
    if refused {
        *answer.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    }
    answer
}

fn video_row(v: &ApprovedVideo, now: i64, token: &str) -> Markup {
    let state = if v.withdrawn {
        "withdrawn"
    } else if v.expires_ms > now {
        "live today"
    } else {
        "ended"
    };
    html! {
        tr {
            td { (v.title) @if !v.channel.is_empty() { " (" (v.channel) ")" } }
            td { (v.class.clone().unwrap_or_else(|| "whole school".into())) }
            td { (v.approved_by) }
            td { (v.school_day) }
            td { (state) }
            td {
                @if state == "live today" {
                    form method="post" action=(paths::staff_video_withdraw(v.id)) {
                        input type="hidden" name="csrf" value=(token);
                        button type="submit" { "Withdraw" }
                    }
                }
            }
        }
    }
}

/// The video a pasted link names, with its title and channel, if the lists allow them.
async fn look_up(state: &AppState, link: &str) -> Result<(VideoId, String, String), String> {
    let video = parse_link(link).map_err(|why| why.to_string())?;
    let info = state.oembed.lookup(&video).await.map_err(|why| why.to_string())?;
    screen(state, &info.title, &info.channel)?;
    Ok((video, info.title, info.channel))
}

/// Refuses a title or channel the term lists refuse (as they would a result's).
fn screen(state: &AppState, title: &str, channel: &str) -> Result<(), String> {
    let policy = state.policy.current();
    match policy.check_text(title).or_else(|| policy.check_text(channel)) {
        Some(category) => Err(format!("The safety policy refuses this video's title or channel ({category}), so it cannot be shown to pupils.")),
        None => Ok(()),
    }
}

/// `POST /staff/videos`: approves the looked-up video for today.
pub async fn approve(req: HttpRequest, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    if !csrf_ok(&session, field(&body, "csrf").as_deref()) {
        return expired_form();
    }
    let school = match own_school(&account) {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let (json, sig) = (field(&body, "preview").unwrap_or_default(), field(&body, "preview_sig").unwrap_or_default());
    let preview =
        VideoPreview::verify(&preview_key(&req), &json, &sig, account.id, session_generation(&session), state.videos.now_ms()).filter(|p| p.school == school);
    let Some((preview, video)) = preview.and_then(|p| VideoId::parse(&p.video).map(|v| (p, v))) else {
        return not_approved(&account, "This approval does not come from a video you looked up just now. Paste the link again and approve what you see.");
    };
    // The lists as they are now (they may have changed since the look-up).
    if let Err(why) = screen(&state, &preview.title, &preview.channel) {
        return not_approved(&account, &why);
    }
    let class = field(&body, "class").map(|c| crate::engines::text::tidy(&c, 40)).filter(|c| !c.is_empty());
    let new = NewVideo { school, video, title: preview.title, channel: preview.channel, class, approved_by: account.id };
    match state.videos.approve(new).await {
        Ok(id) => {
            security_event(&state.store, "video_approval", Some(&account.name), Some(&format!("video {id}: {}", preview.video))).await;
            see_other(paths::STAFF_VIDEOS)
        }
        Err(e) => store_failed("Approving the video", &e),
    }
}

/// `POST /staff/videos/{id}/withdraw`.
pub async fn withdraw(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let id = path.into_inner();
    match state.videos.withdraw(id, account.scope()).await {
        Ok(true) => {
            security_event(&state.store, "video_withdrawn", Some(&account.name), Some(&format!("video {id}"))).await;
            see_other(paths::STAFF_VIDEOS)
        }
        Ok(false) => HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("There is no live video with that number at your school."),
        Err(e) => store_failed("Withdrawing the video", &e),
    }
}

fn not_approved(account: &crate::staff::StaffAccount, why: &str) -> HttpResponse {
    let body = html! { p.notice role="alert" { (why) } p { a href=(paths::STAFF_VIDEOS) { "Videos for today's board" } } };
    let mut answer = html_page(account, "Not approved", body);
    *answer.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    answer
}
