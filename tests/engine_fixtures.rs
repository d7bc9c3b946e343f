//! Every shipped engine's parser against fixtures that reproduce the engine's real markup:
//! results (with ads and wrapped links), page 2, "no results", bot checks and garbage.

mod common;

use common::{repo_dir, FixtureUpstream, OFF_ENGINES, PICTURE_ENGINES, PUPIL_ENGINES, STAFF_ENGINES};
use kidsearch::engines::{Engine, EngineError, RawResult};
use kidsearch::settings::Settings;

/// Every engine that searches: pupils', pictures' and staff's.
fn searchable() -> Vec<&'static str> {
    PUPIL_ENGINES.iter().chain(PICTURE_ENGINES).chain(STAFF_ENGINES).copied().collect()
}

fn shipped() -> &'static Settings {
    common::shipped_settings()
}

fn parse(engine: &Engine, body: &str) -> Result<Vec<RawResult>, EngineError> {
    engine.parse(body, &engine.request.url).map(|p| p.results)
}

fn expected(engine: &str, page: &str) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(repo_dir().join("tests/fixtures").join(engine).join("expected.json")).expect("expected.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("expected.json is JSON");
    json[page]
        .as_array()
        .expect("page list")
        .iter()
        .map(|r| {
            // Compare URLs as the url crate writes them (non-ASCII paths percent-encoded).
            let url = url::Url::parse(r["url"].as_str().expect("url")).expect("expected url parses");
            (r["title"].as_str().expect("title").to_string(), url.to_string(), r["snippet"].as_str().expect("snippet").to_string())
        })
        .collect()
}

fn as_tuples(results: &[RawResult]) -> Vec<(String, String, String)> {
    results.iter().map(|r| (r.title.clone(), r.url.to_string(), r.snippet.clone())).collect()
}

#[test]
fn the_test_lists_cover_every_shipped_engine_so_no_test_reaches_the_internet() {
    let settings = shipped();
    let mut listed: Vec<&str> = PUPIL_ENGINES.iter().chain(PICTURE_ENGINES).chain(STAFF_ENGINES).chain(OFF_ENGINES).copied().collect();
    listed.sort();
    let mut shipped: Vec<&str> =
        settings.engines.all().iter().map(|e| e.id.as_str()).chain(settings.engines.unsearchable().iter().map(|u| u.id.as_str())).collect();
    shipped.sort();
    assert_eq!(listed, shipped);
}

#[test]
fn every_engine_reads_its_results_pages_exactly() {
    let settings = shipped();
    for id in searchable() {
        let engine = settings.engines.get(id).expect("engine");
        for (file, page) in [("results", "page1"), ("page2", "page2")] {
            let got = parse(engine, &FixtureUpstream::file(id, file)).unwrap_or_else(|e| panic!("{id} {file}: {e}"));
            let want = expected(id, page);
            assert_eq!(as_tuples(&got), want, "{id} {file}");
        }
    }
}

/// An HTML engine's result pictures (`thumbnail` selector) are read from its markup exactly:
/// `expected.json` names each result's picture (none where it has no `thumbnail`), and a site
/// icon or a placeholder is never taken for one.
#[test]
fn html_engines_read_each_result_s_picture_exactly() {
    let settings = shipped();
    let mut pictures = 0;
    for id in searchable() {
        let engine = settings.engines.get(id).expect("engine");
        if !matches!(engine.parser, kidsearch::engines::Parser::Html(_)) {
            continue;
        }
        let text = std::fs::read_to_string(repo_dir().join("tests/fixtures").join(id).join("expected.json")).expect("expected.json");
        let json: serde_json::Value = serde_json::from_str(&text).expect("expected.json is JSON");
        for (file, page) in [("results", "page1"), ("page2", "page2")] {
            let got = parse(engine, &FixtureUpstream::file(id, file)).unwrap_or_else(|e| panic!("{id} {file}: {e}"));
            let want: Vec<Option<String>> = json[page].as_array().expect("page").iter().map(|r| r["thumbnail"].as_str().map(str::to_string)).collect();
            let read: Vec<Option<String>> = got.iter().map(|r| r.thumbnail.as_ref().map(|u| u.to_string())).collect();
            assert_eq!(read, want, "{id} {file}");
            pictures += read.iter().flatten().count();
        }
    }
    assert!(pictures >= 5, "the Bing fixtures carry thumbnails: {pictures}");
}

#[test]
fn ads_and_javascript_links_never_come_through() {
    let settings = shipped();
    for id in searchable() {
        let engine = settings.engines.get(id).expect("engine");
        let got = parse(engine, &FixtureUpstream::file(id, "results")).expect("results");
        assert!(!got.is_empty(), "{id}");
        for r in &got {
            assert!(!r.title.to_uppercase().contains("SPONSORED"), "{id}: ad {r:?}");
            assert!(matches!(r.url.scheme(), "http" | "https"), "{id}: {r:?}");
        }
    }
}

#[test]
fn a_no_results_page_is_an_empty_answer_not_an_error() {
    let settings = shipped();
    for id in searchable() {
        let engine = settings.engines.get(id).expect("engine");
        let got = parse(engine, &FixtureUpstream::file(id, "empty")).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert!(got.is_empty(), "{id}: {got:?}");
    }
}

#[test]
fn a_bot_check_page_is_recognised_as_resting() {
    let settings = shipped();
    for id in searchable() {
        let engine = settings.engines.get(id).expect("engine");
        let got = parse(engine, &FixtureUpstream::file(id, "blocked"));
        assert_eq!(got, Err(EngineError::Blocked), "{id}");
    }
}

#[test]
fn garbage_is_unparseable_not_an_empty_answer() {
    let settings = shipped();
    for id in searchable() {
        let engine = settings.engines.get(id).expect("engine");
        for garbage in ["", "<html><body><p>Welcome to our new look!</p></body></html>", "{\"what\": 1}", "\u{0}\u{1}binary"] {
            let got = parse(engine, garbage);
            assert!(matches!(got, Err(EngineError::Unparseable(_))), "{id} read {garbage:?} as {got:?}");
        }
    }
}

/// Mojeek's "no results" answer was reported in a second layout (`div.result-col >
/// div.no-results`, no `div.results`) that the shipped selector did not know: pupils were told
/// the engine's answer was unreadable and the engine counted as failing. Through the real
/// server, both layouts are an answer with no results.
#[tokio::test]
async fn mojeeks_no_results_page_in_either_layout_is_an_answer_with_no_results_through_the_server() {
    let upstream = FixtureUpstream::start(&["mojeek"]).await;
    let app = common::spawn_app_with(common::test_config(&upstream)).await;
    for (layout, scenario) in [
        ("div.results > p.no-results", common::fixture::Scenario::Empty),
        ("div.result-col > div.no-results", common::fixture::Scenario::Page("empty-result-col")),
    ] {
        upstream.set_scenario("mojeek", scenario);
        let (status, body) = app.search_json(&format!("xqzvolcanoesqqzx {}", layout.len()), 1).await;
        assert_eq!(status, 200, "{layout}: {body}");
        let (ok, failed) = common::engine_states(&body);
        assert_eq!((ok, failed), (vec!["mojeek".to_string()], vec![]), "{layout}: {body}");
        assert_eq!(body["results"].as_array().map(Vec::len), Some(0), "{layout}: {body}");
    }
}
