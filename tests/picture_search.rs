//! Picture search (issue 26, item 4) through the real server, with the picture engines' fixtures
//! (Openverse's JSON, Programmable Search's image JSON, Bing's image page) and the fixture
//! picture host: by default pupils get pictures only from a teacher-approved picture search,
//! served with no upstream request (also by a fresh instance on the same database), a picture
//! the teacher hid is gone; live picture search is refused calmly unless the school allows it,
//! and then goes through the engines' strict modes; the words always go through the same
//! refusal policy as a web search; every picture comes through the signed `/img/` path.

mod common;

use common::{add_user, spawn_app_with, test_config, Browser, FixtureUpstream, TestApp, PICTURE_ENGINES};
use kidsearch::config::ServerConfig;

const PASSWORD: &str = "plum tree under snow";

/// Every `<img src="…">` on a page that is not one of the page's own icons.
fn pictures_on(html: &str) -> Vec<String> {
    html.split("<img ")
        .skip(1)
        .filter_map(|tag| tag.split("src=\"").nth(1)?.split('"').next().map(str::to_string))
        .filter(|src| !src.starts_with("/static/"))
        .collect()
}

async fn pictures_json(app: &TestApp, q: &str) -> serde_json::Value {
    let response = app.client.get(format!("{}/pictures", app.address)).query(&[("q", q), ("format", "json")]).send().await.expect("pictures");
    assert_eq!(response.status(), 200);
    serde_json::from_slice(&response.bytes().await.expect("body")).expect("json")
}

async fn pictures_html(app: &TestApp, q: &str) -> (reqwest::header::HeaderMap, String) {
    let response = app.client.get(format!("{}/pictures", app.address)).query(&[("q", q)]).send().await.expect("pictures");
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    (headers, response.text().await.expect("page"))
}

/// Searches the picture engines this fixture serves have had.
fn engine_searches(upstream: &FixtureUpstream) -> usize {
    upstream.engines().iter().filter(|e| PICTURE_ENGINES.contains(&e.as_str())).map(|e| upstream.searches(e)).sum()
}

/// The activity log's answered searches (query, category), one per search, once there are `n`
/// (the log is written after the page is sent, and identical rows written together are one row
/// with a `repeats` count).
async fn logged_queries(app: &TestApp, n: usize) -> Vec<Vec<Option<String>>> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let rows = common::db_rows(&app.data_dir, "SELECT query, category, repeats FROM activity WHERE kind = 'query' ORDER BY id", vec![]).await;
        let searches: Vec<Vec<Option<String>>> = rows
            .into_iter()
            .flat_map(|r| {
                let repeats: usize = r[2].as_deref().and_then(|n| n.parse().ok()).unwrap_or(1);
                std::iter::repeat_n(r[..2].to_vec(), repeats)
            })
            .collect();
        if searches.len() >= n || std::time::Instant::now() > deadline {
            return searches;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn live_app(upstream: &FixtureUpstream) -> TestApp {
    spawn_app_with(ServerConfig { pupil_live_picture_search: true, ..test_config(upstream) }).await
}

async fn picture_is_a_jpeg(app: &TestApp, path: &str) {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(response.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("image/jpeg"), "{path}");
}

#[tokio::test]
async fn live_picture_search_is_refused_by_default_with_a_calm_ask_your_teacher_page() {
    let upstream = FixtureUpstream::start(PICTURE_ENGINES).await;
    let app = spawn_app_with(test_config(&upstream)).await;
    let (_, html) = pictures_html(&app, "volcanoes").await;
    assert!(html.contains("Let's ask your teacher"), "{html}");
    assert!(pictures_on(&html).is_empty(), "no picture without a teacher's approval");
    let body = pictures_json(&app, "volcanoes").await;
    assert_eq!(body["status"], "approved_only", "{body}");
    assert_eq!(body["pictures"], true, "{body}");
    assert_eq!(engine_searches(&upstream), 0, "no picture engine asked");
    assert_eq!(upstream.pictures.total_requests(), 0, "no picture fetched");
    // The search box offers pictures beside the search, on every pupil page.
    let home = app.get("/").await.text().await.expect("home");
    assert!(home.contains("formaction=\"/pictures\""), "{home}");
}

#[tokio::test]
async fn picture_search_words_go_through_the_same_refusal_policy_as_web_search() {
    let upstream = FixtureUpstream::start(PICTURE_ENGINES).await;
    for live in [false, true] {
        let app = spawn_app_with(ServerConfig { pupil_live_picture_search: live, ..test_config(&upstream) }).await;
        let body = pictures_json(&app, "free porn").await;
        assert_eq!(body["status"], "blocked", "live {live}: {body}");
        assert_eq!(body["category"], "sexual", "live {live}: {body}");
        let (_, html) = pictures_html(&app, "free porn").await;
        assert!(html.contains("Let's ask a grown-up to help with this search"), "{html}");
        assert!(html.contains("type=\"search\" name=\"q\" value=\"\""), "the refused words are not shown back in the box");
        let incidents = common::db_rows(&app.data_dir, "SELECT query, category FROM incidents WHERE kind = 'refused_query'", vec![]).await;
        assert!(!incidents.is_empty() && incidents.iter().all(|r| r == &vec![Some("free porn".to_string()), Some("sexual".to_string())]), "{incidents:?}");
    }
    assert_eq!(engine_searches(&upstream), 0, "a refused search reaches no picture engine");
}

#[tokio::test]
async fn with_live_picture_search_on_pupils_get_a_grid_from_every_picture_engine_with_its_strict_mode_forced() {
    let upstream = FixtureUpstream::start(&["openverse", "google_cse_images", "bing_images", "bing"]).await;
    let app = live_app(&upstream).await;
    let (headers, html) = pictures_html(&app, "volcanoes&mature=true&safe=off&adlt=off").await;
    let csp = headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(csp.contains("img-src 'self'"), "{csp}");
    assert!(html.contains("class=\"picture-grid\""), "{html}");
    let shown = pictures_on(&html);
    assert!(shown.len() >= 10, "pictures from the three engines: {shown:?}");
    assert!(shown.iter().all(|s| s.starts_with("/img/")), "only the gateway's picture path: {shown:?}");
    let logged = logged_queries(&app, 1).await;
    assert_eq!(logged[0][1].as_deref(), Some("pictures"), "the activity log marks a picture search: {logged:?}");
    for host in ["gstatic.com", "bing.net", "api.openverse.org", "staticflickr", "wikimedia.org/wikipedia"] {
        assert!(!html.contains(host), "no upstream picture address ({host}) in the page");
    }
    // Each picture opens its page through the checked click-through, and can be reported.
    assert_eq!(html.matches("class=\"picture-link\" href=\"/go?").count(), shown.len());
    assert_eq!(html.matches("Tell an adult about this").count(), shown.len());
    for picture in &shown {
        picture_is_a_jpeg(&app, picture).await;
    }

    let expect = |engine: &str, name: &str, value: &str| {
        let requests = upstream.requests(engine);
        assert!(!requests.is_empty(), "{engine} was not asked");
        for r in requests {
            assert_eq!(r.param(name), Some(value), "{engine} got {name}={:?}", r.param(name));
            assert_eq!(r.param("q"), Some("volcanoes&mature=true&safe=off&adlt=off"), "{engine}: the query stays one encoded value");
        }
    };
    expect("openverse", "mature", "false");
    expect("google_cse_images", "safe", "active");
    expect("google_cse_images", "searchType", "image");
    expect("bing_images", "adlt", "strict");
    assert!(upstream.requests("bing_images")[0].headers.get("cookie").is_some_and(|c| c.contains("ADLT=STRICT")));

    let body = pictures_json(&app, "volcanoes").await;
    assert_eq!(body["status"], "ok", "{body}");
    let results = body["results"].as_array().expect("results");
    assert!(results.iter().all(|r| r["picture"].as_str().is_some_and(|p| p.starts_with("/img/"))), "every result is a picture: {body}");
    assert!(!results.iter().any(|r| r["url"].as_str().unwrap_or_default().starts_with("javascript:")), "{body}");

    // A web search never asks the picture engines, and picture search never the web ones.
    let before = engine_searches(&upstream);
    let (status, web) = app.search_json("rainbows", 1).await;
    assert_eq!(status, 200, "{web}");
    assert_eq!(engine_searches(&upstream), before, "picture engines asked for a web search");
    assert_eq!(web["engines"].as_array().map(Vec::len), Some(1), "{web}");
    let bing_before = upstream.searches("bing");
    pictures_json(&app, "rainbows").await;
    assert_eq!(upstream.searches("bing"), bing_before, "the web engine asked for a picture search");
}

#[tokio::test]
async fn a_picture_reported_with_tell_an_adult_is_gone_from_the_grid() {
    let upstream = FixtureUpstream::start(&["openverse"]).await;
    let app = live_app(&upstream).await;
    let (_, html) = pictures_html(&app, "volcanoes").await;
    let first = pictures_on(&html).into_iter().next().expect("a picture");
    let card = html.split("<article").skip(1).find(|c| c.contains(&first)).expect("its card");
    let (go, title) = (common::hidden_field(card, "go"), common::hidden_field(card, "t"));
    let mut pupil = Browser::new(&app);
    let press = pupil.post("/help", &[("q", "volcanoes"), ("page", "1"), ("go", &go), ("t", &title)]).await;
    assert_eq!(press.status(), 303);
    let (_, again) = pictures_html(&app, "volcanoes").await;
    assert!(!again.contains(&first), "the reported picture is gone");
    assert!(!pictures_on(&again).is_empty(), "the others stay");
}

#[tokio::test]
async fn an_approved_picture_search_is_served_with_no_upstream_request_also_by_a_fresh_instance() {
    let upstream = FixtureUpstream::start(&["openverse", "bing_images"]).await;
    // The school default: no live picture search for pupils.
    let config = test_config(&upstream);
    assert!(!config.pupil_live_picture_search, "off by default");
    assert_eq!(add_user(&config.data_dir, "teacher", "Mr Oak", PASSWORD).0, 0);
    let app = spawn_app_with(config.clone()).await;
    let mut teacher = Browser::new(&app);
    assert_eq!(teacher.sign_in("Mr Oak", PASSWORD).await.status(), 303);

    let prerun = teacher.get("/staff/prerun?q=volcanoes&find=pictures&pages=1").await.text().await.expect("pre-run");
    assert!(prerun.contains("picture-grid preview"), "the teacher sees the picture grid: {prerun}");
    let shown = pictures_on(&prerun);
    assert!(shown.len() >= 8, "every picture of both picture engines: {shown:?}");
    assert!(shown.iter().all(|s| s.starts_with("/img/")));
    // The teacher's browser loads every picture, as the page asks it to.
    for picture in &shown {
        picture_is_a_jpeg(&app, picture).await;
    }
    let hidden_card = prerun.split("<article").skip(1).find(|c| c.contains(&shown[0])).expect("the first picture's card");
    let hide = common::hidden_field(hidden_card, "hide");
    let form = [
        ("csrf", common::hidden_field(&prerun, "csrf")),
        ("preview", common::hidden_field(&prerun, "preview")),
        ("preview_sig", common::hidden_field(&prerun, "preview_sig")),
        ("hide", hide.clone()),
        ("picture", "🌋".to_string()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(teacher.post("/staff/approvals", &form).await.status(), 303);
    let list = teacher.get("/staff/approvals").await.text().await.expect("list");
    assert!(list.contains("volcanoes (pictures)"), "{list}");

    let searched = engine_searches(&upstream);
    let fetched = upstream.pictures.total_requests();
    // A fresh instance on the same database: nothing of the pre-run in its memory.
    let fresh = spawn_app_with(config).await;
    for instance in [&app, &fresh] {
        let (_, html) = pictures_html(instance, "Volcano").await;
        assert_eq!(pictures_on(&html), shown[1..].to_vec(), "exactly the approved pictures, the hidden one gone");
        assert!(!html.contains(&hide), "nor its page");
        for picture in &shown[1..] {
            picture_is_a_jpeg(instance, picture).await;
        }
        let body = pictures_json(instance, "volcanoes").await;
        assert_eq!(body["approved"], true, "{body}");
        assert_eq!(body["pictures"], true, "{body}");
        // Today's board opens the picture grid.
        let home = instance.get("/").await.text().await.expect("home");
        assert!(home.contains("href=\"/pictures?q=volcanoes\""), "{home}");
        // The approval is for pictures: the web search of the same words is not answered from it.
        let (_, web) = instance.search_json("volcanoes", 1).await;
        assert_eq!(web["approved"], false, "{web}");
    }
    // The activity log says these were picture searches, answered from the approval.
    let logged = logged_queries(&app, 6).await;
    assert_eq!(logged.iter().filter(|r| r[1].as_deref() == Some("approved pictures")).count(), 4, "{logged:?}");
    assert_eq!(logged.iter().filter(|r| r[1].is_none()).count(), 2, "the live web searches are not marked: {logged:?}");
    assert_eq!(engine_searches(&upstream), searched, "no picture engine asked for the approved search");
    assert_eq!(upstream.pictures.total_requests(), fetched, "no picture fetched upstream: they are frozen in the database");
}
