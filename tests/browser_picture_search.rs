//! The picture grid (issue 26, item 4) in headless Chromium at iPad portrait and landscape:
//! a teacher-approved picture search as pupils get it, and the "ask your teacher" page live
//! picture search gives by default, at 768 × 1024 and 1024 × 768. Screenshots in target/test-artifacts/picture-search/;
//! axe-clean (WCAG 2.1 A and AA), nothing loaded from another host, every picture through
//! /img/ and decoded, touch targets at least 48 px, no sideways scrolling.

mod common;

use std::time::Duration;

use common::webdriver::{artifacts, audit, axe_source, Driver, Session};
use common::{add_user, spawn_app_with, test_config, Browser, FixtureUpstream};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(10);
/// The classroom iPads (9.7" and 10.2"): 768 × 1024 CSS pixels, both ways round.
const IPAD_PORTRAIT: (u32, u32) = (768, 1024);
const IPAD_LANDSCAPE: (u32, u32) = (1024, 768);
const PASSWORD: &str = "plum tree under snow";

/// Scrolls down the page and back (so lazy pictures load) and waits until every picture is decoded.
async fn load_every_picture(session: &Session) {
    for step in 1..=10 {
        session.run(&format!("window.scrollTo(0, document.body.scrollHeight * {step} / 10);"), vec![]).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..100 {
        let done = session.run("return Array.from(document.images).every(function (i) { return i.complete; });", vec![]).await;
        if done == Value::Bool(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session.run("window.scrollTo(0, 0);", vec![]).await;
}

/// What every pupil page must be at every size: nothing from another host, pictures only from
/// the gateway and all shown, touch targets ≥ 48 px, no sideways scrolling; axe's findings.
async fn check_page(pupil: &Session, app: &common::TestApp, what: &str, axe: &str) -> Vec<String> {
    let foreign = pupil
        .run(
            "return performance.getEntriesByType('resource').map(function (r) { return r.name; }).filter(function (n) { return n.indexOf(location.origin + '/') !== 0; });",
            vec![],
        )
        .await;
    assert_eq!(foreign, json!([]), "{what}: nothing from another host");
    let broken = pupil
        .run(
            "return Array.from(document.images).filter(function (i) { return !i.complete || i.naturalWidth === 0; }).map(function (i) { return i.src; });",
            vec![],
        )
        .await;
    // The first broken picture, with what the server answered for it.
    if let Some(src) = broken.as_array().into_iter().flatten().find_map(Value::as_str) {
        let answer = app.client.get(src).send().await.expect("picture");
        panic!("{what}: a picture was not shown: {src}: {} {}", answer.status(), answer.text().await.unwrap_or_default());
    }
    let non_gateway = pupil
        .run("return Array.from(document.images).map(function (i) { return i.getAttribute('src'); }).filter(function (s) { return s.indexOf('/img/') !== 0 && s.indexOf('/static/') !== 0; });", vec![])
        .await;
    assert_eq!(non_gateway, json!([]), "{what}: pictures only through the gateway");
    let small = pupil
        .run(
            "return Array.from(document.querySelectorAll('main a, main button, main input, header a, header button')).filter(function (e) { \
               var r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && !e.hidden && (r.width < 48 || r.height < 48); \
             }).map(function (e) { var r = e.getBoundingClientRect(); return e.tagName + '.' + e.className + ' ' + Math.round(r.width) + 'x' + Math.round(r.height); });",
            vec![],
        )
        .await;
    assert_eq!(small, json!([]), "{what}: touch targets under 48 px");
    let overflow = pupil.run("return document.documentElement.scrollWidth > window.innerWidth + 1;", vec![]).await;
    assert_eq!(overflow, Value::Bool(false), "{what}: no sideways scrolling");
    audit(pupil, axe).await.into_iter().map(|v| format!("{what}: {v}")).collect()
}

#[tokio::test]
async fn the_approved_picture_grid_and_the_ask_your_teacher_page_at_ipad_sizes() {
    let upstream = FixtureUpstream::start(&["openverse", "bing_images", "google_cse_images"]).await;
    // Picture hosts get the default 3 s (a loaded machine runs this beside Chromium).
    let config = kidsearch::config::ServerConfig { engine_timeout_ms: 3_000, ..test_config(&upstream) };
    assert_eq!(add_user(&config.data_dir, "teacher", "Mr Oak", PASSWORD).0, 0);
    let app = spawn_app_with(config).await;

    // The teacher pre-runs and approves the picture search (loading every picture, as a
    // browser showing the pre-run does).
    let mut teacher = Browser::new(&app);
    assert_eq!(teacher.sign_in("Mr Oak", PASSWORD).await.status(), 303);
    let prerun = teacher.get("/staff/prerun?q=volcanoes&find=pictures&pages=1").await.text().await.expect("pre-run");
    for tag in prerun.split("<img ").skip(1) {
        let src = tag.split("src=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default();
        if src.starts_with("/img/") {
            assert_eq!(teacher.get(src).await.status(), 200, "{src}");
        }
    }
    let form = [
        ("csrf", common::hidden_field(&prerun, "csrf")),
        ("preview", common::hidden_field(&prerun, "preview")),
        ("preview_sig", common::hidden_field(&prerun, "preview_sig")),
        ("picture", "🌋".to_string()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(teacher.post("/staff/approvals", &form).await.status(), 303);

    let base = app.address.clone();
    let axe = axe_source();
    let driver = Driver::start().await;
    let pupil = driver.session(IPAD_PORTRAIT).await;
    let shots = artifacts("picture-search");
    let mut problems = Vec::new();
    for (size, viewport) in [("portrait", IPAD_PORTRAIT), ("landscape", IPAD_LANDSCAPE)] {
        pupil.set_viewport(viewport).await;
        pupil.cdp("Network.clearBrowserCache", json!({})).await;
        pupil.goto(&format!("{base}/pictures?q=volcanoes")).await;
        pupil.wait_for("ul.picture-grid img", WAIT).await;
        load_every_picture(&pupil).await;
        let pictures = pupil.run("return document.querySelectorAll('ul.picture-grid img[src^=\"/img/\"]').length;", vec![]).await.as_u64().unwrap_or(0);
        assert!(pictures >= 10, "{size}: the approved pictures: {pictures}");
        pupil.screenshot(&shots.join(format!("picture-grid-{size}.png"))).await;
        problems.extend(check_page(&pupil, &app, &format!("picture grid ({size})"), &axe).await);

        // Live picture search is off by default: a calm page, no picture, no engine.
        pupil.goto(&format!("{base}/pictures?q=rainbows")).await;
        pupil.wait_for("section.message", WAIT).await;
        pupil.screenshot(&shots.join(format!("ask-your-teacher-{size}.png"))).await;
        problems.extend(check_page(&pupil, &app, &format!("ask your teacher ({size})"), &axe).await);
    }
    assert!(problems.is_empty(), "axe violations:\n{}", problems.join("\n"));
    assert!(upstream.requests("openverse").iter().all(|r| r.param("q") != Some("rainbows")), "no engine asked for the refused live search");
    pupil.close().await;
}
