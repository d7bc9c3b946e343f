//! Issue 27 through the real server: a teacher pastes a YouTube link, kidsearch asks the
//! oEmbed endpoint (a loopback fixture serving YouTube's real answers), screens the title and
//! channel, shows them, and "Approve for today" puts the video on Today's board until midnight,
//! for a class or the whole school, until withdrawn, across a restart. Admins keep the school's
//! sites, which pupils open through the checked `/go`. Every page's CSP forbids frames but the
//! video page's, which allows the privacy-enhanced host alone.

mod common;

use std::sync::Arc;

use common::oembed::{OEmbedFixture, NOT_EMBEDDABLE};
use common::{add_user, between, db_rows, enrol, hidden_field, spawn_app_with_clock, test_config, Browser, FixtureUpstream, RealServer, TestApp};
use kidsearch::clock::ManualClock;

const PASSWORD: &str = "plum tree under snow";
const VOLCANO: &str = "3Hk2fsxCvJY";
const VOLCANO_TITLE: &str = "Volcanoes for Kids | Learn all about volcanoes";
const BUTTERFLY: &str = "Yk9a7TUdAgE";

fn ms(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().expect("timestamp").as_millisecond()
}

struct Setup {
    upstream: FixtureUpstream,
    oembed: OEmbedFixture,
    app: TestApp,
}

async fn setup(clock: Arc<ManualClock>, tweak: impl FnOnce(&mut kidsearch::config::ServerConfig)) -> Setup {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let oembed = OEmbedFixture::start().await;
    let mut config = test_config(&upstream);
    config.video_oembed_url = oembed.url();
    tweak(&mut config);
    assert_eq!(add_user(&config.data_dir, "teacher", "Mr Oak", PASSWORD).0, 0);
    assert_eq!(add_user(&config.data_dir, "admin", "Ms Ash", PASSWORD).0, 0);
    let app = spawn_app_with_clock(config, clock).await;
    Setup { upstream: upstream, oembed, app }
}

async fn signed_in<'a>(app: &'a TestApp, name: &str) -> Browser<'a> {
    let mut b = Browser::new(app);
    assert_eq!(b.sign_in(name, PASSWORD).await.status(), 303);
    b
}

fn encoded(link: &str) -> String {
    url::form_urlencoded::byte_serialize(link.as_bytes()).collect()
}

/// Looks `link` up as `teacher`: the status and page.
async fn look_up(teacher: &mut Browser<'_>, link: &str) -> (u16, String) {
    let page = teacher.get(&format!("/staff/videos?link={}", encoded(link))).await;
    (page.status().as_u16(), page.text().await.expect("page"))
}

/// Looks `link` up and approves it (with `extra` fields, e.g. a class); returns the video's
/// board number.
async fn approve_video(teacher: &mut Browser<'_>, link: &str, extra: &[(&str, &str)]) {
    let (status, html) = look_up(teacher, link).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Approve for today"), "{html}");
    let (csrf, preview, sig) = (hidden_field(&html, "csrf"), hidden_field(&html, "preview"), hidden_field(&html, "preview_sig"));
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf), ("preview", &preview), ("preview_sig", &sig)];
    form.extend_from_slice(extra);
    let done = teacher.post("/staff/videos", &form).await;
    assert_eq!(done.status(), 303, "{:?}", done.text().await);
}

/// The `/video/N` links on a home page.
fn video_links(home: &str) -> Vec<String> {
    home.match_indices("href=\"/video/").map(|(at, _)| home[at + 6..].split('"').next().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn every_youtube_link_form_names_its_video_and_hostile_ones_get_a_clear_answer_without_asking_youtube() {
    let s = setup(Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z"))), |_| {}).await;
    let mut teacher = signed_in(&s.app, "Mr Oak").await;
    for link in [
        format!("https://www.youtube.com/watch?v={VOLCANO}"),
        format!("https://www.youtube.com/watch?v={VOLCANO}&t=42s&list=PLx&index=2"),
        format!("https://m.youtube.com/watch?v={VOLCANO}&pp=ygU"),
        format!("https://music.youtube.com/watch?v={VOLCANO}"),
        format!("https://youtu.be/{VOLCANO}?si=Ab12cD&t=5"),
        format!("youtu.be/{VOLCANO}"),
        format!("https://www.youtube.com/shorts/{VOLCANO}?feature=share"),
        format!("https://www.youtube.com/embed/{VOLCANO}?start=3"),
        format!("https://www.youtube-nocookie.com/embed/{VOLCANO}"),
    ] {
        let (status, html) = look_up(&mut teacher, &link).await;
        assert_eq!(status, 200, "{link}: {html}");
        assert!(html.contains("Pupils will see: Volcanoes for Kids | Learn all about volcanoes") && html.contains("Free School"), "{link}: {html}");
        // What YouTube was asked: the canonical address of the checked id, nothing pasted.
        let asked = s.oembed.requests().pop().expect("asked");
        assert_eq!(asked, format!("url=https%3A%2F%2Fwww.youtube.com%2Fwatch%3Fv%3D{VOLCANO}&format=json"), "{link}");
    }
    let asked_before = s.oembed.requests().len();
    for (link, says) in [
        ("javascript:alert(1)//www.youtube.com/watch?v=3Hk2fsxCvJY", "not a web link"),
        ("https://evil.example/watch?v=3Hk2fsxCvJY", "Only YouTube links"),
        ("https://www.youtube.com.evil.example/watch?v=3Hk2fsxCvJY", "Only YouTube links"),
        ("https://www.youtube.com@evil.example/watch?v=3Hk2fsxCvJY", "Only YouTube links"),
        ("https://www.youtube.com:8080/watch?v=3Hk2fsxCvJY", "Only YouTube links"),
        ("https://www.youtube.com/playlist?list=PL123", "does not name one video"),
        ("https://www.youtube.com/watch?v=3Hk2fsxCvJ\"><script>alert(1)</script>", "not a YouTube video code"),
        ("https://www.youtube.com/watch?v=%3Cscript%3E1", "not a YouTube video code"),
        ("https://youtu.be/3Hk2fsxCvJYX", "not a YouTube video code"),
    ] {
        let (status, html) = look_up(&mut teacher, link).await;
        assert_eq!(status, 400, "{link}: {html}");
        assert!(html.contains(says), "{link}: {html}");
        assert!(!html.contains("<script>alert"), "escaped: {html}");
        assert!(!html.contains("Approve for today"), "{link}");
    }
    assert_eq!(s.oembed.requests().len(), asked_before, "a refused link never reaches YouTube");

    // What YouTube itself refuses is said in words too.
    let (status, html) = look_up(&mut teacher, "https://youtu.be/Unknown0001").await;
    assert_eq!(status, 400);
    assert!(html.contains("no public video with that link"), "{html}");
    let (status, html) = look_up(&mut teacher, &format!("https://youtu.be/{NOT_EMBEDDABLE}")).await;
    assert_eq!(status, 400);
    assert!(html.contains("does not allow it to be shown outside YouTube"), "{html}");

    // The pre-run page offers the same box.
    let prerun = teacher.get("/staff/prerun").await.text().await.expect("prerun");
    assert!(prerun.contains("action=\"/staff/videos\"") && prerun.contains("name=\"link\""), "{prerun}");
}

#[tokio::test]
async fn a_title_or_channel_the_term_lists_refuse_is_never_approved_nor_a_preview_someone_altered() {
    let s = setup(Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z"))), |c| assert_eq!(add_user(&c.data_dir, "teacher", "Mrs Elm", PASSWORD).0, 0)).await;
    let mut teacher = signed_in(&s.app, "Mr Oak").await;
    for id in ["tr1ppedLst1", "RudeChannel"] {
        let (status, html) = look_up(&mut teacher, &format!("https://youtu.be/{id}")).await;
        assert_eq!(status, 400, "{html}");
        assert!(html.contains("The safety policy refuses this video's title or channel (drugs)"), "{html}");
        assert!(!html.contains("Approve for today") && !html.contains("heroin"), "neither shown nor approvable: {html}");
    }
    // A preview whose title was changed in the form approves nothing.
    let (_, html) = look_up(&mut teacher, &format!("https://youtu.be/{VOLCANO}")).await;
    let (csrf, preview, sig) = (hidden_field(&html, "csrf"), hidden_field(&html, "preview"), hidden_field(&html, "preview_sig"));
    let altered = preview.replace("Volcanoes for Kids", "How to buy heroin");
    let refused = teacher.post("/staff/videos", &[("csrf", &csrf), ("preview", &altered), ("preview_sig", &sig)]).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.expect("page").contains("does not come from a video you looked up"));
    // Without the CSRF token: nothing either.
    assert_eq!(teacher.post("/staff/videos", &[("preview", &preview), ("preview_sig", &sig)]).await.status(), 403);
    assert!(db_rows(&s.app.data_dir, "SELECT id FROM approved_videos", vec![]).await.is_empty());
    // Nor another teacher's preview.
    let mut other = signed_in(&s.app, "Mrs Elm").await;
    let csrf = other.csrf_from("/staff").await;
    assert_eq!(other.post("/staff/videos", &[("csrf", &csrf), ("preview", &preview), ("preview_sig", &sig)]).await.status(), 400);
    assert!(db_rows(&s.app.data_dir, "SELECT id FROM approved_videos", vec![]).await.is_empty());
}

#[tokio::test]
async fn an_approved_video_is_on_todays_board_plays_in_the_privacy_enhanced_player_and_is_logged() {
    let s = setup(Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z"))), |_| {}).await;
    let mut teacher = signed_in(&s.app, "Mr Oak").await;
    approve_video(&mut teacher, &format!("https://www.youtube.com/watch?v={VOLCANO}&t=10s"), &[]).await;
    let asked = s.oembed.requests().len();

    let home = s.app.get("/").await.text().await.expect("home");
    assert!(home.contains("Today's board") && home.contains(VOLCANO_TITLE), "{home}");
    let links = video_links(&home);
    assert_eq!(links.len(), 1, "{home}");
    let page = s.app.get(&links[0]).await;
    assert_eq!(page.status(), 200);
    let csp = page.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(csp, kidsearch::web::VIDEO_PAGE_CSP);
    let html = page.text().await.expect("video page");
    assert_eq!(html.matches("<iframe").count(), 1, "{html}");
    let src = between(&html, "<iframe src=\"", "\"").expect("frame src").replace("&amp;", "&");
    assert_eq!(src, format!("https://www.youtube-nocookie.com/embed/{VOLCANO}?rel=0&modestbranding=1&playsinline=1&iv_load_policy=3"));
    assert!(html.contains("sandbox=\"allow-scripts allow-same-origin allow-presentation\""), "no popups, no top navigation: {html}");
    assert!(html.contains(&format!("data-say=\"{VOLCANO_TITLE}\"")), "its title read aloud: {html}");
    assert!(html.contains("Turn off screen and tell an adult") && html.contains("class=\"back-button\""), "{html}");
    assert_eq!(s.oembed.requests().len(), asked, "pupils never make kidsearch ask YouTube");

    // Its tile shows the video's picture, re-encoded through the gateway from YouTube's picture
    // host (the fixture stands in for i.ytimg.com), never the upstream address.
    let tile = between(&home, "class=\"board-button video-tile\"", "</a>").expect("the tile");
    let picture = between(tile, "<img src=\"", "\"").unwrap_or_else(|| panic!("a picture in the tile: {tile}"));
    assert!(picture.starts_with("/img/") && !home.contains("ytimg"), "{tile}");
    let jpeg = s.app.get(picture).await;
    assert_eq!(jpeg.status(), 200);
    assert_eq!(jpeg.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("image/jpeg"));
    assert!(jpeg.bytes().await.expect("bytes").starts_with(&[0xFF, 0xD8]), "a JPEG kidsearch made");
    assert_eq!(s.upstream.pictures.requests(&format!("/vi/{VOLCANO}/hqdefault.jpg")), 1);
    // The teacher's look-up shows the same picture.
    let (_, looked) = look_up(&mut teacher, &format!("https://youtu.be/{VOLCANO}")).await;
    assert!(looked.contains(&format!("src=\"{picture}\"")), "{looked}");

    // Staff's activity log has the approval and the pupil's visit.
    let events = db_rows(&s.app.data_dir, "SELECT kind, detail FROM security_events WHERE kind = 'video_approval'", vec![]).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0][1].as_deref().unwrap_or_default().ends_with(VOLCANO), "{events:?}");
    let activity = teacher.get("/staff/activity").await.text().await.expect("activity");
    assert!(activity.contains(&format!("https://www.youtube.com/watch?v={VOLCANO}")), "{activity}");

    // A number that is no approved video, or no number: a calm page.
    for path in ["/video/999", "/video/abc", "/video/-1"] {
        let r = s.app.get(path).await;
        assert_eq!(r.status(), 404, "{path}");
        assert!(r.text().await.expect("page").contains("isn't on today's board"));
    }
}

#[tokio::test]
async fn an_approved_video_ends_at_midnight_in_the_schools_zone_and_a_withdrawal_takes_it_off_at_once() {
    let clock = Arc::new(ManualClock::new(ms("2026-06-15T13:00:00Z")));
    let s = setup(clock.clone(), |_| {}).await;
    let mut teacher = signed_in(&s.app, "Mr Oak").await;
    approve_video(&mut teacher, &format!("https://youtu.be/{VOLCANO}"), &[]).await;
    let link = video_links(&s.app.get("/").await.text().await.expect("home")).pop().expect("on the board");

    // Summer: midnight in London is 23:00 UTC.
    clock.set(ms("2026-06-15T22:59:00Z"));
    assert_eq!(s.app.get(&link).await.status(), 200, "still today");
    clock.set(ms("2026-06-15T23:00:01Z"));
    assert_eq!(s.app.get(&link).await.status(), 404, "tomorrow in London");
    assert!(video_links(&s.app.get("/").await.text().await.expect("home")).is_empty());
    let list = teacher.get("/staff/videos").await.text().await.expect("list");
    assert!(list.contains("ended"), "{list}");

    // A new day's approval, withdrawn: gone on the next request.
    approve_video(&mut teacher, &format!("https://youtu.be/{BUTTERFLY}"), &[]).await;
    let link = video_links(&s.app.get("/").await.text().await.expect("home")).pop().expect("on the board");
    assert_eq!(s.app.get(&link).await.status(), 200);
    let list = teacher.get("/staff/videos").await.text().await.expect("list");
    let withdraw = format!("/staff/videos/{}/withdraw", link.trim_start_matches("/video/"));
    assert!(list.contains(&withdraw), "{list}");
    let csrf = teacher.csrf_from("/staff").await;
    assert_eq!(teacher.post(&withdraw, &[]).await.status(), 403, "no CSRF, nothing withdrawn");
    assert_eq!(s.app.get(&link).await.status(), 200);
    assert_eq!(teacher.post(&withdraw, &[("csrf", &csrf)]).await.status(), 303);
    assert_eq!(s.app.get(&link).await.status(), 404);
    assert!(video_links(&s.app.get("/").await.text().await.expect("home")).is_empty());
    assert_eq!(teacher.post(&withdraw, &[("csrf", &csrf)]).await.status(), 404, "withdrawn once");
    let events = db_rows(&s.app.data_dir, "SELECT kind FROM security_events WHERE kind = 'video_withdrawn'", vec![]).await;
    assert_eq!(events.len(), 1);
}

#[tokio::test]
async fn a_video_or_site_for_one_class_reaches_that_class_only() {
    let s = setup(Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z"))), |c| c.require_enrolment = true).await;
    let mut teacher = signed_in(&s.app, "Mr Oak").await;
    let mut oak = enrol(&s.app, &mut teacher, "Oak", "iPad 1").await;
    let mut ash = enrol(&s.app, &mut teacher, "Ash", "iPad 2").await;
    approve_video(&mut teacher, &format!("https://youtu.be/{VOLCANO}"), &[("class", "oak")]).await;
    approve_video(&mut teacher, &format!("https://youtu.be/{BUTTERFLY}"), &[]).await;
    let mut admin = signed_in(&s.app, "Ms Ash").await;
    let csrf = admin.csrf_from("/staff/sites").await;
    let form = [("csrf", csrf.as_str()), ("name", "Purple Mash"), ("url", "https://www.purplemash.com/"), ("picture", "🎨"), ("class", "Ash")];
    assert_eq!(admin.post("/staff/sites", &form).await.status(), 303);

    let oak_home = oak.get("/").await.text().await.expect("home");
    let ash_home = ash.get("/").await.text().await.expect("home");
    assert!(oak_home.contains(VOLCANO_TITLE) && oak_home.contains("Life Cycle of a Butterfly") && !oak_home.contains("Purple Mash"), "{oak_home}");
    assert!(!ash_home.contains(VOLCANO_TITLE) && ash_home.contains("Life Cycle of a Butterfly") && ash_home.contains("Purple Mash"), "{ash_home}");
    let volcano = video_links(&oak_home).into_iter().last().expect("the older one: Oak's volcano");
    assert_eq!(oak.get(&volcano).await.status(), 200);
    assert_eq!(ash.get(&volcano).await.status(), 404, "another class's video, even by its number");
}

#[tokio::test]
async fn approved_videos_and_the_schools_sites_survive_kill_9() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let oembed = OEmbedFixture::start().await;
    let mut server = RealServer::with_settings(&upstream, &format!("video_oembed_url = \"{}\"", oembed.url()));
    assert_eq!(add_user(&server.data_dir, "admin", "Ms Ash", PASSWORD).0, 0);
    let app = server.start().await;
    let mut admin = signed_in(&app, "Ms Ash").await;
    approve_video(&mut admin, &format!("https://youtu.be/{VOLCANO}"), &[]).await;
    let csrf = admin.csrf_from("/staff/sites").await;
    let form = [("csrf", csrf.as_str()), ("name", "GoBubble"), ("url", "https://www.gobubble.school/"), ("picture", "🫧"), ("class", "")];
    assert_eq!(admin.post("/staff/sites", &form).await.status(), 303);
    server.kill_9();

    let app = server.start().await;
    let home = app.get("/").await.text().await.expect("home");
    assert!(home.contains(VOLCANO_TITLE) && home.contains("GoBubble") && home.contains("🫧"), "{home}");
    let link = video_links(&home).pop().expect("video");
    assert_eq!(app.get(&link).await.status(), 200);
}

#[tokio::test]
async fn an_admin_keeps_the_schools_sites_and_pupils_open_them_through_the_checked_link() {
    let s = setup(Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z"))), |_| {}).await;
    // Teachers neither see nor change the list.
    let mut teacher = signed_in(&s.app, "Mr Oak").await;
    assert_eq!(teacher.get("/staff/sites").await.status(), 403);
    let csrf = teacher.csrf_from("/staff").await;
    let gobubble = [("csrf", csrf.as_str()), ("name", "GoBubble"), ("url", "https://www.gobubble.school/"), ("picture", "🫧")];
    assert_eq!(teacher.post("/staff/sites", &gobubble).await.status(), 403);
    // A pupil's browser gets the login page.
    assert_eq!(s.app.get("/staff/sites").await.status(), 303);

    let mut admin = signed_in(&s.app, "Ms Ash").await;
    let csrf = admin.csrf_from("/staff/sites").await;
    assert_eq!(admin.post("/staff/sites", &[("name", "GoBubble"), ("url", "https://www.gobubble.school/"), ("picture", "🫧")]).await.status(), 403, "no CSRF");
    for (url, picture, says) in [
        ("www.gobubble.school", "🫧", "not a web address"),
        ("javascript:alert(1)", "🫧", "must start with https://"),
        ("https://kid:pw@www.gobubble.school/", "🫧", "Leave the login out"),
        ("https://www.gobubble.school/", "", "Choose a picture"),
        ("https://www.pornhub.com/", "🫧", "is on the block lists"),
    ] {
        let r = admin.post("/staff/sites", &[("csrf", &csrf), ("name", "GoBubble"), ("url", url), ("picture", picture)]).await;
        assert_eq!(r.status(), 400, "{url}");
        let html = r.text().await.expect("page");
        assert!(html.contains(says), "{url}: {html}");
    }
    assert!(db_rows(&s.app.data_dir, "SELECT id FROM school_sites", vec![]).await.is_empty(), "nothing half-added");
    let name = "<b>GoBubble</b>";
    assert_eq!(admin.post("/staff/sites", &[("csrf", &csrf), ("name", name), ("url", "https://www.gobubble.school/"), ("picture", "🫧")]).await.status(), 303);

    let home = s.app.get("/").await.text().await.expect("home");
    assert!(home.contains("Our sites") && home.contains("&lt;b&gt;GoBubble&lt;/b&gt;") && home.contains("🫧"), "escaped tile: {home}");
    let go = between(&home, "class=\"board-button site-tile\" href=\"", "\"").expect("the tile's link").replace("&amp;", "&");
    assert!(go.starts_with("/go?u=https%3A%2F%2Fwww.gobubble.school%2F&d="), "{go}");
    let opened = s.app.get(&go).await;
    assert_eq!(opened.status(), 303);
    assert_eq!(opened.headers().get("location").and_then(|v| v.to_str().ok()), Some("https://www.gobubble.school/"));
    // Clicks go through the activity buffer (written in the background, not before the
    // redirect), so the row is waited for.
    let mut clicks = Vec::new();
    for _ in 0..50 {
        clicks = db_rows(&s.app.data_dir, "SELECT url FROM activity WHERE kind = 'click'", vec![]).await;
        if !clicks.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(clicks.iter().any(|r| r[0].as_deref() == Some("https://www.gobubble.school/")), "recorded like any click-through: {clicks:?}");

    // Removed: off the home page at once.
    let list = admin.get("/staff/sites").await.text().await.expect("list");
    let remove = between(&list, "action=\"/staff/sites/", "\"").map(|rest| format!("/staff/sites/{rest}")).expect("a remove form");
    assert_eq!(admin.post(&remove, &[("csrf", &csrf)]).await.status(), 303);
    assert!(!s.app.get("/").await.text().await.expect("home").contains("GoBubble"));
    assert_eq!(admin.post(&remove, &[("csrf", &csrf)]).await.status(), 404);
}

#[tokio::test]
async fn a_site_tile_made_before_its_domain_was_blocked_is_refused_when_tapped() {
    // The lists as they are at the tap: an admin's site whose domain a list refuses is not
    // followed (added here straight into the table, as an old row would be).
    let s = setup(Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z"))), |_| {}).await;
    let store = common::open_store(&s.app.data_dir);
    store
        .call(|db| {
            db.execute(
                "INSERT INTO school_sites (school_id, name, url, picture, class, added_by, added_ms) VALUES (1, 'Old', 'https://www.pornhub.com/', '🫧', NULL, 'x', 0)",
                &[],
            )
        })
        .await
        .expect("insert");
    drop(store);
    // Not cached yet in this app: the tile shows, the tap is refused and recorded.
    let home = s.app.get("/").await.text().await.expect("home");
    let go = between(&home, "class=\"board-button site-tile\" href=\"", "\"").expect("tile").replace("&amp;", "&");
    assert_eq!(s.app.get(&go).await.status(), 403);
    let blocked = db_rows(&s.app.data_dir, "SELECT url FROM activity WHERE kind = 'blocked_click'", vec![]).await;
    assert_eq!(blocked.len(), 1, "{blocked:?}");
}

/// Every kind of page and route keeps `frame-src 'none'`; only the video page allows one frame
/// host, the privacy-enhanced one.
#[tokio::test]
async fn only_the_video_page_allows_a_frame_and_only_from_the_privacy_enhanced_host() {
    let s = setup(Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z"))), |_| {}).await;
    let mut admin = signed_in(&s.app, "Ms Ash").await;
    approve_video(&mut admin, &format!("https://youtu.be/{VOLCANO}"), &[]).await;
    let home = s.app.get("/").await.text().await.expect("home");
    let video = video_links(&home).pop().expect("video");
    let go = s.app.get("/search?q=volcanoes").await.text().await.expect("results");
    let go = between(&go, "href=\"/go?", "\"").map(|q| format!("/go?{}", q.replace("&amp;", "&"))).expect("a result link");

    let csp_of = |r: &reqwest::Response| r.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or("none").to_string();
    let mut pupil = Browser::new(&s.app);
    for path in [
        "/",
        "/search?q=volcanoes",
        "/search?q=volcanoes&format=json",
        "/search?q=",
        go.as_str(),
        "/go?u=https://evil.example/&d=1&s=00",
        "/help",
        "/help/status",
        "/no-such-page",
        "/video/999",
        "/static/kidsearch.css",
        "/static/kidsearch.js",
        "/healthz",
        "/enrol/not-a-token",
    ] {
        let r = pupil.get(path).await;
        assert_eq!(csp_of(&r), kidsearch::web::CSP, "{path} ({})", r.status());
    }
    let r = pupil.post("/help", &[]).await;
    assert_eq!(csp_of(&r), kidsearch::web::CSP, "a press");
    for path in [
        "/staff",
        "/staff/login",
        "/staff/videos",
        "/staff/sites",
        "/staff/prerun?q=volcanoes&engine=bing",
        "/staff/approvals",
        "/staff/activity",
        "/staff/devices",
        "/staff/incidents",
    ] {
        let r = admin.get(path).await;
        assert_eq!(csp_of(&r), kidsearch::web::CSP, "{path} ({})", r.status());
    }
    assert!(kidsearch::web::CSP.contains("frame-src 'none'"));
    let r = pupil.get(&video).await;
    assert_eq!(r.status(), 200);
    assert_eq!(csp_of(&r), kidsearch::web::VIDEO_PAGE_CSP);
    assert_eq!(
        kidsearch::web::VIDEO_PAGE_CSP.replace("frame-src https://www.youtube-nocookie.com", "frame-src 'none'"),
        kidsearch::web::CSP,
        "the video page's CSP differs in its one frame host only"
    );
}

/// A tell-an-adult press on the video page names the video and hides it for the school until
/// a teacher looks, as a reported result is.
#[tokio::test]
async fn telling_an_adult_about_a_video_names_it_and_hides_it_for_the_school() {
    let s = setup(Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z"))), |c| c.require_enrolment = true).await;
    let mut teacher = signed_in(&s.app, "Mr Oak").await;
    let mut oak = enrol(&s.app, &mut teacher, "Oak", "iPad 1").await;
    let mut elm = enrol(&s.app, &mut teacher, "Oak", "iPad 2").await;
    approve_video(&mut teacher, &format!("https://youtu.be/{VOLCANO}"), &[]).await;
    let link = video_links(&oak.get("/").await.text().await.expect("home")).pop().expect("video");
    let page = oak.get(&link).await.text().await.expect("video page");
    let go = hidden_field(&page, "go");
    let title = hidden_field(&page, "t");
    assert_eq!(title, VOLCANO_TITLE);
    let press = s
        .app
        .client
        .post(format!("{}/help", s.app.address))
        .header("cookie", oak.cookie.clone().expect("device"))
        .header("origin", &s.app.address)
        .form(&[("go", go.as_str()), ("t", title.as_str())])
        .send()
        .await
        .expect("press");
    assert_eq!(press.status(), 303);
    let incidents = db_rows(&s.app.data_dir, "SELECT result_url, result_title FROM incidents", vec![]).await;
    assert_eq!(incidents, vec![vec![Some(format!("https://www.youtube.com/watch?v={VOLCANO}")), Some(VOLCANO_TITLE.to_string())]]);
    let other = elm.get(&link).await;
    assert_eq!(other.status(), 403, "hidden for the school until a teacher looks");
    assert!(other.text().await.expect("page").contains("hidden for now"));
}

/// A multipart/form-data body as a browser sends the add form: text fields, then the file.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----kidsearchTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    if let Some((filename, bytes)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{filename}\"\r\nContent-Type: image/png\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_multipart(admin: &Browser<'_>, fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> reqwest::Response {
    let (content_type, body) = multipart(fields, file);
    admin
        .app
        .client
        .post(format!("{}/staff/sites", admin.app.address))
        .header("cookie", admin.cookie.clone().expect("signed in"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("post")
}

#[tokio::test]
async fn a_sites_uploaded_picture_is_re_encoded_for_its_tile_and_hostile_files_are_refused_with_the_reason() {
    let s = setup(Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z"))), |_| {}).await;
    let mut admin = signed_in(&s.app, "Ms Ash").await;
    let csrf = admin.csrf_from("/staff/sites").await;
    let page = admin.get("/staff/sites").await.text().await.expect("page");
    assert!(page.contains("enctype=\"multipart/form-data\"") && page.contains("type=\"file\" name=\"photo\""), "{page}");
    let site = [("csrf", csrf.as_str()), ("name", "Purple Mash"), ("url", "https://www.purplemash.com/"), ("picture", "")];

    // Files that are no picture, or one no decoder should open, are refused with the reason.
    let huge = common::pictures::huge_png();
    let oversized = vec![0xFFu8; 5 * 1024 * 1024 + 1];
    for (file, bytes, says) in [
        ("drawing.svg", common::pictures::SVG_WITH_SCRIPT.as_bytes(), "cannot be used"),
        ("page.png", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>".as_slice(), "cannot be used"),
        ("huge.png", huge.as_slice(), "cannot be used"),
        ("big.jpg", oversized.as_slice(), "over 5 MB"),
    ] {
        let r = post_multipart(&admin, &site, Some((file, bytes))).await;
        assert_eq!(r.status(), 400, "{file}");
        let html = r.text().await.expect("page");
        assert!(html.contains(says), "{file}: {html}");
    }
    let none = post_multipart(&admin, &site, None).await;
    assert_eq!(none.status(), 400);
    assert!(none.text().await.expect("page").contains("or a picture file"));
    assert!(db_rows(&s.app.data_dir, "SELECT id FROM school_sites", vec![]).await.is_empty(), "nothing half-added");
    // Without the form's token nothing is added, whatever the file.
    let photo = common::pictures::photo_jpeg();
    let forged = [("csrf", "nope"), ("name", "Purple Mash"), ("url", "https://www.purplemash.com/"), ("picture", "")];
    assert_eq!(post_multipart(&admin, &forged, Some(("photo.jpg", &photo))).await.status(), 403);

    // A real photo: kept as a small JPEG kidsearch made, without the file's metadata.
    let added = post_multipart(&admin, &site, Some(("photo.jpg", &photo))).await;
    assert_eq!(added.status(), 303, "{:?}", added.text().await);
    let home = s.app.get("/").await.text().await.expect("home");
    let tile = between(&home, "class=\"board-button site-tile\"", "</a>").expect("the tile");
    let picture = between(tile, "<img src=\"", "\"").unwrap_or_else(|| panic!("the tile's picture: {tile}")).to_string();
    assert!(picture.starts_with("/site-picture/"), "{tile}");
    let jpeg = s.app.get(&picture).await;
    assert_eq!((jpeg.status().as_u16(), jpeg.headers().get("content-type").and_then(|v| v.to_str().ok())), (200, Some("image/jpeg")));
    let bytes = jpeg.bytes().await.expect("bytes");
    assert!(bytes.starts_with(&[0xFF, 0xD8]) && bytes.len() < photo.len(), "{} bytes from {}", bytes.len(), photo.len());
    assert!(!bytes.windows(common::pictures::SECRET_IN_METADATA.len()).any(|w| w == common::pictures::SECRET_IN_METADATA.as_bytes()), "metadata dropped");
    let decoded = image::load_from_memory(&bytes).expect("decodes");
    assert!(decoded.width() <= 256 && decoded.height() <= 256, "{}×{}", decoded.width(), decoded.height());
    assert!(admin.get("/staff/sites").await.text().await.expect("page").contains(&format!("src=\"{picture}\"")), "shown to the admin too");

    // Removed with its site; a number that is no site's picture is a 404.
    assert_eq!(s.app.get("/site-picture/999").await.status(), 404);
    assert_eq!(s.app.get("/site-picture/x").await.status(), 404);
    let id = picture.trim_start_matches("/site-picture/").to_string();
    let csrf = admin.csrf_from("/staff/sites").await;
    assert_eq!(admin.post(&format!("/staff/sites/{id}/remove"), &[("csrf", &csrf)]).await.status(), 303);
    assert_eq!(s.app.get(&picture).await.status(), 404);
}
