//! Pupil-page features a browser test does not need: spelling help, compressed pages, the
//! self-hosted font and the read-aloud buttons' markup.

mod common;

use std::io::Read;

use common::{spawn_app, FixtureUpstream};

#[tokio::test]
async fn misspelt_searches_get_a_did_you_mean_from_the_child_vocabulary() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let app = spawn_app(&upstream).await;
    let (_, body) = app.search_json("dinosuars", 1).await;
    assert_eq!(body["did_you_mean"], "dinosaurs", "{body}");
    let (_, html) = app.search_html("volcanos").await;
    assert!(html.contains("Did you mean <a href=\"/search?q=volcano\"><strong>volcano</strong></a>?"), "the nearest, most common word, as a link");
    let (_, right) = app.search_json("volcanoes", 1).await;
    assert!(right.get("did_you_mean").is_none(), "a right spelling gets no suggestion: {right}");
    // "ground" and "eruptions" are not in the child vocabulary (it would offer "proud" and
    // "eruption"), but the results use them: real words are not "corrected".
    let (_, real) = app.search_json("famous eruptions ground", 1).await;
    assert!(real.get("did_you_mean").is_none(), "words the results use are left alone: {real}");
    let (_, mixed) = app.search_json("dinosuars ground", 1).await;
    assert_eq!(mixed["did_you_mean"], "dinosaurs ground", "{mixed}");
    // A refused query gets no suggestion at all (nothing about it is shown back).
    let (_, refused) = app.search_json("free p0rn", 1).await;
    assert!(refused.get("did_you_mean").is_none());
}

#[tokio::test]
async fn pages_are_gzipped_for_browsers_that_ask_and_fonts_are_served_from_here() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let app = spawn_app(&upstream).await;
    let plain = app.get("/search?q=volcanoes").await.text().await.expect("page");
    for _ in 0..2 {
        // The second answer comes from the cached, already-gzipped bytes.
        let packed = app.client.get(format!("{}/search?q=volcanoes", app.address)).header("accept-encoding", "gzip, deflate, br").send().await.expect("get");
        assert_eq!(packed.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some("gzip"));
        assert!(packed.headers().get("vary").and_then(|v| v.to_str().ok()).unwrap_or_default().contains("Accept-Encoding"));
        let bytes = packed.bytes().await.expect("body");
        assert!(bytes.len() < plain.len() / 3, "{} gzipped vs {} plain", bytes.len(), plain.len());
        let mut unpacked = String::new();
        flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut unpacked).expect("gzip");
        assert_eq!(unpacked, plain);
    }
    let home = app.client.get(format!("{}/", app.address)).header("accept-encoding", "gzip").send().await.expect("home");
    assert_eq!(home.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some("gzip"), "other pages by the middleware");
    let font = app.get("/static/fonts/andika-400.woff2").await;
    assert_eq!(font.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("font/woff2"));
    assert!(font.bytes().await.expect("font").starts_with(b"wOF2"));
    let css = app.get("/static/kidsearch.css").await.text().await.expect("css");
    assert!(css.contains("/static/fonts/andika-400.woff2") && !css.contains("url(http"));
}

#[tokio::test]
async fn read_aloud_buttons_are_in_the_page_hidden_until_the_script_finds_speech() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let app = spawn_app(&upstream).await;
    let (_, html) = app.search_html("volcanoes").await;
    let speak = html.matches("<button class=\"speak\" type=\"button\" hidden").count();
    assert!(speak >= 5, "one on the search box and one per result card: {speak}");
    assert!(html.contains("data-say-input=\"q\""), "the search box's button reads what is typed too");
    assert!(html.matches("data-say-card").count() >= 4, "each card's button reads that card");
    assert!(html.contains("Read it to me"), "an accessible name for each");
}
