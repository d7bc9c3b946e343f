//! Pictures in headless Chromium at iPad portrait and landscape (issue 26): results with their
//! thumbnails and the answer card, screenshots in target/test-artifacts/pictures/, axe-clean
//! (WCAG 2.1 A and AA), nothing loaded from another host, every picture through /img/ and
//! decoded, touch targets at least 48 px, and the whole cold page with every picture within
//! the 150 KB.

mod common;

use std::time::Duration;

use common::webdriver::{artifacts, audit, axe_source, Driver, Session, IPAD_LANDSCAPE, IPAD_PORTRAIT};
use common::{spawn_app_with, test_config, FixtureUpstream};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(10);
const COLD_PAGE_WITH_PICTURES_LIMIT: u64 = 150 * 1024;

/// Scrolls to the end and back (so lazy pictures load) and waits until every picture is decoded.
async fn load_every_picture(session: &Session) {
    // Step down the page, as a child scrolling would, so each lazy picture comes into view.
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

#[tokio::test]
async fn results_with_pictures_and_the_answer_card_at_ipad_sizes() {
    let upstream = FixtureUpstream::start(&["brave_api", "google_cse_api", "simple_wikipedia"]).await;
    // Picture hosts get the default 3 s (a loaded machine runs this beside Chromium).
    let app = spawn_app_with(kidsearch::config::ServerConfig { engine_timeout_ms: 3_000, ..test_config(&upstream) }).await;
    let base = app.address.clone();
    let axe = axe_source();
    let driver = Driver::start().await;
    let pupil = driver.session(IPAD_PORTRAIT).await;
    let shots = artifacts("pictures");
    let mut problems = Vec::new();

    // Cold cache, everything transferred: the page, its CSS, font, icons and every picture.
    pupil.cdp("Network.clearBrowserCache", json!({})).await;
    pupil.goto(&format!("{base}/search?q=volcanoes")).await;
    pupil.wait_for("section.answer img", WAIT).await;
    load_every_picture(&pupil).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let weight = pupil
        .run(
            "var n = performance.getEntriesByType('navigation')[0]; var total = n ? n.transferSize : 0; \
             performance.getEntriesByType('resource').forEach(function (r) { total += r.transferSize; }); return total;",
            vec![],
        )
        .await
        .as_u64()
        .unwrap_or(0);
    let pictures = pupil.run("return document.querySelectorAll('img[src^=\"/img/\"]').length;", vec![]).await.as_u64().unwrap_or(0);
    eprintln!("cold results page with {pictures} pictures: {weight} bytes transferred");
    assert!(pictures >= 8, "thumbnails and the answer card's picture: {pictures}");
    assert!(weight > 0 && weight <= COLD_PAGE_WITH_PICTURES_LIMIT, "cold page with pictures {weight} bytes > {COLD_PAGE_WITH_PICTURES_LIMIT}");

    for (size, viewport) in [("portrait", IPAD_PORTRAIT), ("landscape", IPAD_LANDSCAPE)] {
        pupil.set_viewport(viewport).await;
        pupil.goto(&format!("{base}/search?q=volcanoes")).await;
        pupil.wait_for("section.answer img", WAIT).await;
        load_every_picture(&pupil).await;
        pupil.screenshot(&shots.join(format!("results-with-pictures-{size}.png"))).await;
        let foreign = pupil
            .run(
                "return performance.getEntriesByType('resource').map(function (r) { return r.name; }).filter(function (n) { return n.indexOf(location.origin + '/') !== 0; });",
                vec![],
            )
            .await;
        assert_eq!(foreign, json!([]), "{size}: nothing from another host");
        let broken = pupil
            .run(
                "return Array.from(document.images).filter(function (i) { return !i.complete || i.naturalWidth === 0; }).map(function (i) { return i.src; });",
                vec![],
            )
            .await;
        if let Some(src) = broken.as_array().into_iter().flatten().find_map(Value::as_str) {
            let answer = app.client.get(src).send().await.expect("picture");
            panic!("{size}: a picture was not shown: {src}: {} {}", answer.status(), answer.text().await.unwrap_or_default());
        }
        let non_gateway = pupil.run("return Array.from(document.images).map(function (i) { return i.getAttribute('src'); }).filter(function (s) { return s.indexOf('/img/') !== 0 && s.indexOf('/static/') !== 0; });", vec![]).await;
        assert_eq!(non_gateway, json!([]), "{size}: pictures only through the gateway");
        // Every link and button a finger can reach is at least 48 px each way.
        let small = pupil
            .run(
                "return Array.from(document.querySelectorAll('main a, main button, main input, header a, header button')).filter(function (e) { \
                   var r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && !e.hidden && (r.width < 48 || r.height < 48); \
                 }).map(function (e) { var r = e.getBoundingClientRect(); return e.tagName + '.' + e.className + ' ' + Math.round(r.width) + 'x' + Math.round(r.height); });",
                vec![],
            )
            .await;
        assert_eq!(small, json!([]), "{size}: touch targets under 48 px");
        let overflow = pupil.run("return document.documentElement.scrollWidth > window.innerWidth + 1;", vec![]).await;
        assert_eq!(overflow, Value::Bool(false), "{size}: no sideways scrolling");
        problems.extend(audit(&pupil, &axe).await.into_iter().map(|v| format!("results ({size}): {v}")));
    }
    assert!(problems.is_empty(), "axe violations:\n{}", problems.join("\n"));
    pupil.close().await;
}
