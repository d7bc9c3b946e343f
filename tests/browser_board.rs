//! Today's board in headless Chromium at iPad sizes (issue 27): an approved video's tile and
//! a school site's tile on the pupil home page, big enough to tap and axe-clean; the video page
//! holds exactly one frame, from the privacy-enhanced host, and nothing else from any other
//! host; and "Turn off screen and tell an adult" on it covers the frame too. Screenshots are in
//! target/test-artifacts/board/.

mod common;

use std::time::Duration;

use common::oembed::OEmbedFixture;
use common::webdriver::{artifacts, audit, axe_source, Driver, Session, IPAD_LANDSCAPE, IPAD_PORTRAIT};
use common::{add_user, hidden_field, spawn_app_with, test_config, Browser, FixtureUpstream};
use serde_json::{json, Value};

const PASSWORD: &str = "plum tree under snow";
const VOLCANO: &str = "3Hk2fsxCvJY";
const WAIT: Duration = Duration::from_secs(10);

/// The hosts of everything the page itself loaded (the navigation, styles, scripts, pictures).
async fn hosts_loaded(s: &Session) -> Vec<String> {
    let v = s.run("return [location.host].concat(performance.getEntriesByType('resource').map(function (r) { return new URL(r.name).host; }));", vec![]).await;
    let mut hosts: Vec<String> = v.as_array().map(|a| a.iter().filter_map(|h| h.as_str().map(str::to_string)).collect()).unwrap_or_default();
    hosts.sort();
    hosts.dedup();
    hosts
}

#[tokio::test]
async fn the_board_shows_a_video_and_a_site_and_the_video_page_has_one_private_frame_that_a_press_covers() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let oembed = OEmbedFixture::start().await;
    let mut config = test_config(&upstream);
    config.video_oembed_url = oembed.url();
    assert_eq!(add_user(&config.data_dir, "teacher", "Mr Oak", PASSWORD).0, 0);
    assert_eq!(add_user(&config.data_dir, "admin", "Ms Ash", PASSWORD).0, 0);
    let app = spawn_app_with(config).await;
    let base = app.address.clone();
    let own_host = base.trim_start_matches("http://").to_string();

    // The morning's set-up, as staff do it: a video approved, a site added.
    let mut teacher = Browser::new(&app);
    assert_eq!(teacher.sign_in("Mr Oak", PASSWORD).await.status(), 303);
    let looked = teacher.get(&format!("/staff/videos?link=https%3A%2F%2Fyoutu.be%2F{VOLCANO}")).await.text().await.expect("page");
    let form = [("csrf", hidden_field(&looked, "csrf")), ("preview", hidden_field(&looked, "preview")), ("preview_sig", hidden_field(&looked, "preview_sig"))];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(teacher.post("/staff/videos", &form).await.status(), 303);
    let mut admin = Browser::new(&app);
    assert_eq!(admin.sign_in("Ms Ash", PASSWORD).await.status(), 303);
    let csrf = admin.csrf_from("/staff/sites").await;
    let site = [("csrf", csrf.as_str()), ("name", "GoBubble"), ("url", "https://www.gobubble.school/"), ("picture", "🫧")];
    assert_eq!(admin.post("/staff/sites", &site).await.status(), 303);

    let axe = axe_source();
    let driver = Driver::start().await;
    let shots = artifacts("board");
    let mut problems = Vec::new();
    for (size, name) in [(IPAD_PORTRAIT, "portrait"), (IPAD_LANDSCAPE, "landscape")] {
        let pupil = driver.session(size).await;
        pupil.goto(&format!("{base}/")).await;
        pupil.wait_for("a.video-tile", WAIT).await;
        pupil.wait_for("a.site-tile", WAIT).await;
        pupil.screenshot(&shots.join(format!("home-{name}.png"))).await;
        // Both tiles are big, labelled buttons a five-year-old can hit.
        let tiles = pupil
            .run(
                "return ['a.video-tile', 'a.site-tile'].map(function (s) { var e = document.querySelector(s); var r = e.getBoundingClientRect(); \
                   return [Math.round(r.width), Math.round(r.height), e.textContent.trim()]; });",
                vec![],
            )
            .await;
        for tile in tiles.as_array().expect("tiles") {
            let (w, h) = (tile[0].as_u64().unwrap_or(0), tile[1].as_u64().unwrap_or(0));
            if w < 48 || h < 48 {
                problems.push(format!("{name}: a tile is {w}×{h} px: {tile}"));
            }
        }
        assert!(tiles[0][2].as_str().unwrap_or_default().contains("Volcanoes for Kids"), "{tiles}");
        // The video's picture is on its tile, decoded (from the gateway's /img/ path).
        let mut picture = json!(null);
        for _ in 0..100 {
            picture = pupil
                .run("var i = document.querySelector('a.video-tile img'); return i ? [i.complete, i.naturalWidth, i.getAttribute('src')] : null;", vec![])
                .await;
            if picture[0] == json!(true) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(picture[1].as_u64().unwrap_or(0) > 0 && picture[2].as_str().unwrap_or_default().starts_with("/img/"), "{picture}");
        assert!(tiles[1][2].as_str().unwrap_or_default().contains("GoBubble"), "{tiles}");
        problems.extend(audit(&pupil, &axe).await.into_iter().map(|v| format!("{name} home: {v}")));
        let site_href = pupil.run("return document.querySelector('a.site-tile').getAttribute('href');", vec![]).await;
        assert!(site_href.as_str().unwrap_or_default().starts_with("/go?"), "a site opens through the checked link: {site_href}");
        assert_eq!(hosts_loaded(&pupil).await, vec![own_host.clone()], "the home page loads nothing from another host");

        // The video page: one frame, from the privacy-enhanced host; nothing else from elsewhere.
        pupil.click(&pupil.wait_for("a.video-tile", WAIT).await).await;
        for _ in 0..200 {
            if pupil.url().await.contains("/video/") && pupil.run("return document.querySelectorAll('iframe').length;", vec![]).await != json!(0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        pupil.screenshot(&shots.join(format!("video-{name}.png"))).await;
        let frames = pupil.run("return Array.from(document.querySelectorAll('iframe')).map(function (f) { return f.src; });", vec![]).await;
        let frames: Vec<String> = frames.as_array().expect("frames").iter().filter_map(|f| f.as_str().map(str::to_string)).collect();
        let html = pupil.run("return document.documentElement.outerHTML;", vec![]).await;
        assert_eq!(frames.len(), 1, "{frames:?} at {}: {html}", pupil.url().await);
        let frame = url::Url::parse(&frames[0]).expect("frame src");
        assert_eq!((frame.scheme(), frame.host_str()), ("https", Some("www.youtube-nocookie.com")), "{frame}");
        assert_eq!(frame.path(), format!("/embed/{VOLCANO}"), "{frame}");
        let loaded = hosts_loaded(&pupil).await;
        assert!(loaded.iter().all(|h| *h == own_host || h == "www.youtube-nocookie.com"), "{loaded:?}");
        let elsewhere = pupil
            .run(
                "return Array.from(document.querySelectorAll('img[src], script[src], link[href], source[src], video, audio, object, embed'))\
                   .map(function (e) { return e.src || e.href || e.tagName; }).filter(function (u) { return !String(u).startsWith(location.origin); });",
                vec![],
            )
            .await;
        assert_eq!(elsewhere, json!([]), "nothing else on the video page comes from another host");
        let button = pupil.run("var r = document.querySelector('button.help-button').getBoundingClientRect(); return [r.width, r.height];", vec![]).await;
        assert!(button[0].as_f64().unwrap_or(0.0) >= 48.0 && button[1].as_f64().unwrap_or(0.0) >= 48.0, "{button}");
        // axe reads this page, not YouTube's (the frame's page is another site's, and offline here).
        let script = format!(
            "{axe}\n;var done = arguments[arguments.length - 1];\
             axe.run({{ exclude: [['iframe']] }}, {{ iframes: false, runOnly: {{ type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }} }})\
             .then(function (r) {{ done(r.violations.map(function (v) {{ return v.id + ': ' + v.help; }})); }})\
             .catch(function (e) {{ done(['axe failed: ' + e]); }});"
        );
        let found = pupil.run_async(&script, vec![]).await;
        problems.extend(found.as_array().into_iter().flatten().filter_map(Value::as_str).map(|v| format!("{name} video page: {v}")));

        // The press covers the screen, frame and all, before anything else happens.
        let middle =
            pupil.run("var r = document.querySelector('iframe').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2];", vec![]).await;
        pupil.click(&pupil.wait_for("button.help-button", WAIT).await).await;
        let mut covered = false;
        for _ in 0..100 {
            let on_top = pupil
                .run(
                    "var e = document.elementFromPoint(arguments[0], arguments[1]); \
                     return document.querySelectorAll('iframe').length === 0 ? 'no frame' : (e && e.closest('iframe') ? 'frame' : 'cover');",
                    vec![middle[0].clone(), middle[1].clone()],
                )
                .await;
            if on_top != json!("frame") {
                covered = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(covered, "{name}: the frame is still on top after the press");
        pupil.wait_for("body.covered, #ks-cover", WAIT).await;
        pupil.screenshot(&shots.join(format!("video-covered-{name}.png"))).await;
        pupil.close().await;
        // A press about a video hides it for the school until a teacher looks: the teacher
        // clears the screen and releases the video before the next size's turn.
        let csrf = teacher.csrf_from("/staff").await;
        let dashboard = teacher.get("/staff").await.text().await.expect("dashboard");
        if let Some(at) = dashboard.find("/staff/incidents/") {
            let id: String = dashboard[at + "/staff/incidents/".len()..].chars().take_while(char::is_ascii_digit).collect();
            assert_eq!(teacher.post(&format!("/staff/incidents/{id}/clear"), &[("csrf", &csrf)]).await.status(), 303);
            assert_eq!(teacher.post(&format!("/staff/incidents/{id}/release"), &[("csrf", &csrf)]).await.status(), 303);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
