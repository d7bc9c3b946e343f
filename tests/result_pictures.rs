//! Pictures on result cards (issue 26, item 2), through the real server: each engine's own
//! thumbnail (JSON engines' pointers, HTML engines' `thumbnail` selector), only ever at the
//! gateway's `/img/` path; a hidden result's picture goes with it;
//! an approved search's pictures are frozen in the database and served with no upstream call,
//! by this instance and by a fresh one on the same database.

mod common;

use common::{add_user, spawn_app_with, test_config, Browser, FixtureUpstream};

/// Every `<img src="…">` on a page.
fn picture_sources(html: &str) -> Vec<String> {
    html.split("<img ").skip(1).filter_map(|tag| tag.split("src=\"").nth(1)?.split('"').next().map(str::to_string)).collect()
}

/// The pictures of result cards (not the page's own icons under /static/).
fn card_pictures(html: &str) -> Vec<String> {
    picture_sources(html).into_iter().filter(|src| !src.starts_with("/static/")).collect()
}

async fn jpeg(app: &common::TestApp, path: &str) -> (u16, String) {
    let response = app.get(path).await;
    let status = response.status().as_u16();
    (status, response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string())
}

#[tokio::test]
async fn result_cards_show_each_engine_s_picture_only_through_the_gateway() {
    let upstream = FixtureUpstream::start(&["brave_api", "google_cse_api", "kiddle"]).await;
    let app = spawn_app_with(test_config(&upstream)).await;
    let (status, html) = app.search_html("volcanoes").await;
    assert_eq!(status, 200);
    let sources = picture_sources(&html);
    assert!(sources.iter().all(|s| s.starts_with("/img/") || s.starts_with("/static/")), "nothing from another host: {sources:?}");
    let pictures = card_pictures(&html);
    assert!(pictures.len() >= 5, "the engines' thumbnails are on the cards: {pictures:?}");
    assert!(html.contains("loading=\"lazy\""), "pictures below the first cards wait for the scroll");
    assert!(!html.contains("gstatic.com") && !html.contains("imgs.search.brave.com"), "no upstream picture URL in the page");
    for picture in &pictures {
        assert_eq!(jpeg(&app, picture).await, (200, "image/jpeg".to_string()), "{picture}");
    }
    assert!(upstream.pictures.requests("/images") >= 1, "Programmable Search thumbnails fetched from their host");
    assert_eq!(upstream.pictures.total_requests(), pictures.len(), "one upstream request per picture");

    // The JSON API names the same paths.
    let (_, body) = app.search_json("volcanoes", 1).await;
    let in_json: Vec<String> = body["results"].as_array().expect("results").iter().filter_map(|r| r["picture"].as_str().map(str::to_string)).collect();
    assert_eq!(in_json, pictures);
}

/// Bing (an HTML engine) gives its thumbnails in its markup: read by the `thumbnail`
/// selector, shown only from its `image_hosts` through the gateway.
#[tokio::test]
async fn bing_s_result_pictures_come_from_its_markup_only_through_the_gateway() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let app = spawn_app_with(test_config(&upstream)).await;
    let (status, html) = app.search_html("volcanoes").await;
    assert_eq!(status, 200);
    let pictures = card_pictures(&html);
    // Four results carry a picture; the fourth's is on www.bing.com, not a picture host.
    assert_eq!(pictures.len(), 3, "{pictures:?}");
    assert!(picture_sources(&html).iter().all(|s| s.starts_with("/img/") || s.starts_with("/static/")), "nothing from another host");
    for picture in &pictures {
        assert_eq!(jpeg(&app, picture).await, (200, "image/jpeg".to_string()), "{picture}");
    }
    assert_eq!(upstream.pictures.requests("/th"), 3, "Bing's thumbnail paths, fetched once each from the (fixture) picture host");
    let (_, body) = app.search_json("volcanoes", 1).await;
    let mut with_picture: Vec<&str> =
        body["results"].as_array().expect("results").iter().filter(|r| r["picture"].is_string()).filter_map(|r| r["url"].as_str()).collect();
    with_picture.sort_unstable();
    assert_eq!(
        with_picture,
        [
            "https://kids.nationalgeographic.com/science/article/volcano/",
            "https://spaceplace.nasa.gov/volcanoes/en/",
            "https://www.bbc.co.uk/bitesize/topics/zkgg87h"
        ]
    );
}

#[tokio::test]
async fn a_result_hidden_after_tell_an_adult_loses_its_picture_too() {
    // A JSON engine's picture, and an HTML engine's.
    for engine in ["brave_api", "bing"] {
        a_hidden_result_loses_its_picture(engine).await;
    }
}

async fn a_hidden_result_loses_its_picture(engine: &str) {
    let upstream = FixtureUpstream::start(&[engine]).await;
    let app = spawn_app_with(test_config(&upstream)).await;
    let (_, html) = app.search_html("volcanoes").await;
    let first = card_pictures(&html).into_iter().next().unwrap_or_else(|| panic!("{engine}: a card with a picture"));
    // The card that picture is on: its own tell-an-adult form carries its /go link.
    let card = html.split("<article").skip(1).find(|c| c.contains(&first)).expect("the picture's card");
    let go = common::hidden_field(card, "go");
    let title = common::hidden_field(card, "t");
    let mut pupil = Browser::new(&app);
    let press = pupil.post("/help", &[("q", "volcanoes"), ("page", "1"), ("go", &go), ("t", &title)]).await;
    assert_eq!(press.status(), 303);

    let (_, again) = app.search_html("volcanoes").await;
    assert!(!again.contains(&first), "{engine}: the hidden result's picture is gone");
    assert!(!again.contains(&go.replace('&', "&amp;")), "{engine}: and the result");
    assert_eq!(card_pictures(&again).len(), card_pictures(&html).len() - 1, "{engine}: the other cards keep theirs");
}

#[tokio::test]
async fn an_approved_search_keeps_its_pictures_with_no_upstream_call_even_on_a_fresh_instance() {
    let upstream = FixtureUpstream::start(&["brave_api"]).await;
    let config = test_config(&upstream);
    let app = spawn_app_with(config.clone()).await;
    add_user(&app.data_dir, "teacher", "Ms Oak", "correct horse battery");
    let mut teacher = Browser::new(&app);
    assert_eq!(teacher.sign_in("Ms Oak", "correct horse battery").await.status(), 303);

    let prerun = teacher.get("/staff/prerun?q=volcanoes&engine=brave_api&pages=1").await.text().await.expect("page");
    let shown = card_pictures(&prerun);
    assert!(shown.len() >= 3, "the pre-run shows the teacher every picture: {shown:?}");
    // The teacher's browser loads them, as the pre-run page asks it to.
    for picture in &shown {
        assert_eq!(jpeg(&app, picture).await.0, 200);
    }
    // Hide the first result (and so its picture), approve the rest.
    let hide_card = prerun.split("<article").skip(1).find(|c| c.contains(&shown[0])).expect("card");
    let hide = common::hidden_field(hide_card, "hide");
    let form = [
        ("csrf", common::hidden_field(&prerun, "csrf")),
        ("preview", common::hidden_field(&prerun, "preview")),
        ("preview_sig", common::hidden_field(&prerun, "preview_sig")),
        ("hide", hide),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(teacher.post("/staff/approvals", &form).await.status(), 303);
    let frozen = common::db_rows(&app.data_dir, "SELECT COUNT(*) FROM approval_pictures", vec![]).await;
    assert_eq!(frozen[0][0].as_deref(), Some(&*(shown.len() - 1).to_string()), "every shown picture but the hidden one is frozen");

    let fetched_before = upstream.pictures.total_requests();
    let searches_before = upstream.searches("brave_api");
    // A fresh instance on the same database: nothing in its memory.
    let fresh = spawn_app_with(config).await;
    for instance in [&app, &fresh] {
        let (_, page) = instance.search_html("volcanoes").await;
        let pictures = card_pictures(&page);
        assert_eq!(pictures, shown[1..].to_vec(), "exactly the approved pictures, the hidden one left out");
        for picture in &pictures {
            assert_eq!(jpeg(instance, picture).await, (200, "image/jpeg".to_string()));
        }
    }
    assert_eq!(upstream.pictures.total_requests(), fetched_before, "no picture fetched upstream for the approved search");
    assert_eq!(upstream.searches("brave_api"), searches_before, "nor the search itself");
}
