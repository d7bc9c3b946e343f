//! The gateway, end to end: a pupil's live search through the real server against fixture
//! engines on 127.0.0.1 that reproduce each engine's real markup.

mod common;

use std::time::Duration;

use common::{engine_states, spawn_app, spawn_app_with, test_config, FixtureUpstream, Scenario, PUPIL_ENGINES, STAFF_ENGINES};

const SHARED_URL: &str = "kids.nationalgeographic.com/science/article/volcano";

#[tokio::test]
async fn the_server_reports_ready_on_healthz() {
    let upstream = FixtureUpstream::start_all().await;
    let app = spawn_app(&upstream).await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_pupil_search_merges_every_pupil_engine_and_names_them_on_shared_results() {
    let upstream = FixtureUpstream::start_all().await;
    let app = spawn_app(&upstream).await;

    let (status, body) = app.search_json("volcanoes", 1).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["query"], "volcanoes");
    assert_eq!(body["page"], 1);
    assert_eq!(body["max_pages"], 2);
    let (ok, failed) = engine_states(&body);
    assert!(failed.is_empty(), "engines failed: {failed:?}");
    let mut expected: Vec<String> = PUPIL_ENGINES.iter().map(|s| s.to_string()).collect();
    expected.sort();
    let mut got = ok.clone();
    got.sort();
    assert_eq!(got, expected);

    let results = body["results"].as_array().expect("results");
    assert!(results.len() >= 10, "only {} results", results.len());
    let shared: Vec<_> = results.iter().filter(|r| r["url"].as_str().unwrap_or_default().contains(SHARED_URL)).collect();
    assert_eq!(shared.len(), 1, "the shared page appears once after dedupe");
    assert!(shared[0]["engines"].as_array().expect("engines").len() >= 3, "it names every engine that found it: {}", shared[0]);
    for r in results {
        let url = r["url"].as_str().expect("url");
        assert!(url.starts_with("http://") || url.starts_with("https://"), "{url}");
        assert!(!url.contains("duckduckgo.com/l/") && !url.contains("bing.com/ck/") && !url.contains("r.search.yahoo.com"), "wrapped link left: {url}");
        assert!(!r["title"].as_str().unwrap_or_default().to_uppercase().contains("SPONSORED"), "an ad reached a pupil: {r}");
    }
}

#[tokio::test]
async fn staff_only_engines_are_never_asked_for_a_pupil_search() {
    let upstream = FixtureUpstream::start_all().await;
    let app = spawn_app(&upstream).await;
    let (status, _) = app.search_json("volcanoes", 1).await;
    assert_eq!(status, 200);
    for engine in STAFF_ENGINES {
        assert_eq!(upstream.total_requests(engine), 0, "{engine} was contacted for a pupil search");
    }
}

#[tokio::test]
async fn the_forced_safe_search_setting_reaches_every_engine_whatever_the_pupil_types() {
    let upstream = FixtureUpstream::start_all().await;
    let app = spawn_app(&upstream).await;
    // A pupil (or a pupil's older sibling) tries to switch safe search off through the query.
    let (status, _) = app.search_json("volcanoes&kp=-2&safe=off&adlt=off", 1).await;
    assert_eq!(status, 200);

    let expect = |engine: &str, name: &str, value: &str| {
        let requests: Vec<_> = upstream.requests(engine).into_iter().filter(|r| !r.path.ends_with("cse.js")).collect();
        assert!(!requests.is_empty(), "{engine} was not asked");
        for r in requests {
            assert_eq!(r.param(name), Some(value), "{engine} got {name}={:?}", r.param(name));
            let q = r.param("q").or(r.param("srsearch")).unwrap_or_default();
            assert_eq!(q, "volcanoes&kp=-2&safe=off&adlt=off", "{engine}: the query stays one encoded value");
        }
    };
    expect("duckduckgo", "kp", "1");
    expect("bing", "adlt", "strict");
    expect("mojeek", "safe", "1");
    expect("kiddle", "safe", "active");
    expect("kidrex", "safe", "active");
    expect("swiggle", "safe", "active");
    expect("google_cse_api", "safe", "active");
    expect("brave_api", "safesearch", "strict");
    expect("simple_wikipedia", "srnamespace", "0");
    let ddg = &upstream.requests("duckduckgo")[0];
    assert_eq!(ddg.headers.get("cookie").map(String::as_str), Some("p=1"));
    let bing = &upstream.requests("bing")[0];
    assert!(bing.headers.get("cookie").is_some_and(|c| c.contains("ADLT=STRICT")));
}

#[tokio::test]
async fn the_element_api_engines_send_the_token_from_their_script() {
    let upstream = FixtureUpstream::start(&["kiddle"]).await;
    let app = spawn_app(&upstream).await;
    let (status, body) = app.search_json("volcanoes", 1).await;
    assert_eq!(status, 200, "{body}");
    let requests = upstream.requests("kiddle");
    assert_eq!(requests[0].path, "/cse.js", "the token script is fetched first");
    assert_eq!(requests[0].param("cx"), Some("test-cx-kiddle"));
    let search = &requests[1];
    assert!(search.param("cse_tok").is_some_and(|t| !t.is_empty() && !t.contains('{')), "token sent: {:?}", search.param("cse_tok"));
    assert_eq!(search.param("cx"), Some("test-cx-kiddle"));
    assert_eq!(search.headers.get("referer").map(String::as_str), Some("https://cse.google.com/"));
}

/// What a pupil gets when one engine misbehaves: the others still answer, and the broken one
/// is named in the JSON with the kind of its failure.
#[tokio::test]
async fn a_broken_engine_is_left_out_and_the_others_still_answer() {
    let cases = [
        (Scenario::Empty, None),
        (Scenario::Blocked, Some("rate_limited")),
        (Scenario::Malformed, Some("unreadable")),
        (Scenario::ServerError, Some("http_status")),
        (Scenario::Stall, Some("timeout")),
    ];
    for (scenario, error) in cases {
        let upstream = FixtureUpstream::start(&["duckduckgo", "bing", "simple_wikipedia", "kiddle"]).await;
        upstream.set_scenario("bing", scenario);
        let app = spawn_app(&upstream).await;

        let started = std::time::Instant::now();
        let (status, body) = app.search_json("volcanoes", 1).await;

        assert_eq!(status, 200, "{scenario:?}: {body}");
        assert_eq!(body["status"], "ok");
        let (ok, failed) = engine_states(&body);
        for other in ["duckduckgo", "simple_wikipedia", "kiddle"] {
            assert!(ok.contains(&other.to_string()), "{scenario:?}: {other} should still answer: {failed:?}");
        }
        match error {
            None => assert!(ok.contains(&"bing".to_string()), "{scenario:?}: an empty page is a good answer"),
            Some(words) => {
                let (_, why) = failed.iter().find(|(id, _)| id == "bing").unwrap_or_else(|| panic!("{scenario:?}: bing not reported"));
                assert_eq!(why, words, "{scenario:?}: bing's reason (its kind: the detail is for staff)");
            }
        }
        assert!(body["results"].as_array().expect("results").len() >= 5);
        assert!(started.elapsed() < Duration::from_secs(3), "{scenario:?}: a stalled engine must not hold the page past its timeout");
    }
}

#[tokio::test]
async fn when_every_engine_is_down_the_pupil_gets_a_calm_rest_page_and_the_server_stays_up() {
    let upstream = FixtureUpstream::start(&["duckduckgo", "bing", "mojeek", "simple_wikipedia"]).await;
    upstream.set_all(Scenario::Blocked);
    let app = spawn_app(&upstream).await;

    let (status, body) = app.search_json("volcanoes", 1).await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["results"].as_array().map(Vec::len), Some(0));

    let (status, html) = app.search_html("rainbows").await;
    assert_eq!(status, 503);
    assert!(html.contains("Search is having a rest"), "{html}");

    assert_eq!(app.get("/healthz").await.status(), 200, "the server is still up");
}

#[tokio::test]
async fn a_failing_engine_rests_instead_of_being_asked_on_every_search() {
    let upstream = FixtureUpstream::start(&["bing", "duckduckgo"]).await;
    upstream.set_scenario("bing", Scenario::ServerError);
    let app = spawn_app(&upstream).await;
    for _ in 0..3 {
        app.search_json("volcanoes", 1).await;
    }
    assert_eq!(upstream.searches("bing"), 1, "the failure is remembered for the error TTL");
}

#[tokio::test]
async fn thirty_identical_concurrent_queries_make_one_upstream_request_per_engine() {
    let upstream = FixtureUpstream::start(PUPIL_ENGINES).await;
    for engine in PUPIL_ENGINES {
        upstream.set_delay(engine, Duration::from_millis(300));
    }
    let app = spawn_app(&upstream).await;

    let searches = (0..30).map(|_| app.search_json("volcanoes", 1));
    let answers = futures_util::future::join_all(searches).await;

    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert!(!body["results"].as_array().expect("results").is_empty());
    }
    for engine in PUPIL_ENGINES {
        assert_eq!(upstream.searches(engine), 1, "{engine} was asked {} times", upstream.searches(engine));
    }
}

#[tokio::test]
async fn the_cache_answers_a_repeated_search_without_asking_again() {
    let upstream = FixtureUpstream::start(&["mojeek"]).await;
    let app = spawn_app(&upstream).await;
    app.search_json("volcanoes", 1).await;
    app.search_json("  VOLCANOES ", 1).await;
    assert_eq!(upstream.searches("mojeek"), 1);
}

#[tokio::test]
async fn pupils_can_page_up_to_the_limit_and_page_three_is_never_fetched() {
    let upstream = FixtureUpstream::start(&["duckduckgo", "bing"]).await;
    let app = spawn_app(&upstream).await;

    let (_, page1) = app.search_json("volcanoes", 1).await;
    let (status, page2) = app.search_json("volcanoes", 2).await;
    assert_eq!(status, 200);
    assert_eq!(page2["page_limit_reached"], false);
    let urls =
        |b: &serde_json::Value| b["results"].as_array().expect("results").iter().map(|r| r["url"].as_str().unwrap_or_default().to_string()).collect::<Vec<_>>();
    assert!(!urls(&page2).is_empty());
    assert!(urls(&page2).iter().all(|u| !urls(&page1).contains(u)), "page 2 shows new results");

    let ddg_page2 = upstream.requests("duckduckgo").into_iter().find(|r| r.param("s").is_some()).expect("ddg page 2 request");
    assert_eq!(ddg_page2.param("s"), Some("10"));
    assert!(ddg_page2.param("vqd").is_some_and(|v| v.starts_with("4-")), "DuckDuckGo's vqd is carried from page 1");
    let bing_page2 = upstream.requests("bing").into_iter().find(|r| r.param("first").is_some()).expect("bing page 2 request");
    assert_eq!(bing_page2.param("first"), Some("11"));

    let before = upstream.searches("bing");
    let (status, page3) = app.search_json("volcanoes", 3).await;
    assert_eq!(status, 200);
    assert_eq!(page3["page_limit_reached"], true);
    assert_eq!(page3["results"].as_array().map(Vec::len), Some(0));
    assert_eq!(upstream.searches("bing"), before, "page 3 is never fetched");

    let html = app.get("/search?q=volcanoes&page=3").await.text().await.expect("body");
    assert!(html.contains("That's all for this search"), "{html}");
}

#[tokio::test]
async fn the_page_limit_comes_from_config() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut config = test_config(&upstream);
    config.max_pages = 1;
    let app = spawn_app_with(config).await;
    let (_, body) = app.search_json("volcanoes", 2).await;
    assert_eq!(body["max_pages"], 1);
    assert_eq!(body["page_limit_reached"], true);
    let html = app.get("/search?q=volcanoes").await.text().await.expect("body");
    assert!(!html.contains("More results"), "no link past the limit");
}

#[tokio::test]
async fn empty_and_overlong_queries_get_a_friendly_answer_never_a_500() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let app = spawn_app(&upstream).await;
    for q in ["", "   ", "\u{200B}", &"dinosaur ".repeat(40)] {
        let (status, body) = app.search_json(q, 1).await;
        assert_eq!(status, 400, "{q:?}");
        assert_eq!(body["status"], "invalid");
        let (status, html) = app.search_html(q).await;
        assert_eq!(status, 400);
        assert!(html.contains("Type a word to search") || html.contains("That's a lot of words"), "{html}");
    }
    for path in ["/search", "/search?q=%ZZ&page=banana", "/search?q=lava&page=-1&format=json"] {
        let status = app.get(path).await.status().as_u16();
        assert!(status == 200 || status == 400, "{path} gave {status}");
    }
    // "%ZZ" is a (strange but valid) search and "lava" is valid; the invalid ones never left.
    assert_eq!(upstream.searches("bing"), 2, "only the two valid searches went upstream");
}

/// The one script a page may load: kidsearch's own, from this host.
const OUR_SCRIPT: &str = "<script src=\"/static/kidsearch.js\" defer></script>";

#[tokio::test]
async fn upstream_text_is_shown_as_text_never_as_html() {
    let upstream = FixtureUpstream::start(&["duckduckgo", "brave_api"]).await;
    let app = spawn_app(&upstream).await;
    let (status, html) = app.search_html("volcanoes").await;
    assert_eq!(status, 200);
    assert!(html.contains("Lava facts"), "the hostile result is still listed as text");
    assert_eq!(html.matches("<script").count(), 1, "no upstream markup reaches the page");
    assert!(html.contains(OUR_SCRIPT), "the one script is our own");
    assert!(!html.contains("javascript:"), "no javascript: link reaches the page");
    assert!(!html.contains("<strong>") && !html.contains("<b>"), "upstream formatting tags are stripped");
}

#[tokio::test]
async fn every_page_sends_the_security_headers_and_loads_nothing_from_elsewhere() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let app = spawn_app(&upstream).await;
    for path in ["/", "/search?q=volcanoes", "/search?q=", "/no-such-page"] {
        let response = app.get(path).await;
        let headers = response.headers().clone();
        let csp = headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(headers.get("referrer-policy").and_then(|v| v.to_str().ok()), Some("same-origin"), "{path}");
        assert_eq!(headers.get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"), "{path}");
        let html = response.text().await.expect("body");
        for attr in ["src=\"http", "href=\"//", "src=\"//", "@import"] {
            assert!(!html.contains(attr), "{path} loads something from elsewhere: {attr}");
        }
        assert_eq!(html.matches("<script").count(), 1, "{path}: only our own script");
        assert!(html.contains(OUR_SCRIPT), "{path}: only our own script");
    }
    let css = app.get("/static/kidsearch.css").await;
    assert_eq!(css.status(), 200);
    assert!(!css.text().await.expect("css").contains("url(http"), "no external fonts");
}

#[tokio::test]
async fn the_home_page_is_one_big_search_box() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let app = spawn_app(&upstream).await;
    let html = app.get("/").await.text().await.expect("body");
    assert!(html.contains("type=\"search\"") && html.contains("action=\"/search\""));
    assert!(html.contains("kidsearch"));
    assert_eq!(html.matches("<input").count(), 1, "nothing else to get lost in");
    let unknown = app.get("/admin").await;
    assert_eq!(unknown.status(), 404);
}

/// Every pupil engine in every failure mode at once: each is reported with the right reason,
/// the pupil gets the matching calm page, and nothing is a 500.
#[tokio::test]
async fn every_engine_in_every_failure_mode_is_reported_with_its_reason() {
    let cases = [
        (Scenario::Empty, None, 200, "Nothing found"),
        (Scenario::Blocked, Some("rate_limited"), 503, "Search is having a rest"),
        (Scenario::Malformed, Some("unreadable"), 503, "Search is having a rest"),
        (Scenario::ServerError, Some("http_status"), 503, "Search is having a rest"),
        (Scenario::Stall, Some("timeout"), 503, "Search is having a rest"),
    ];
    for (scenario, reason, want_status, page_text) in cases {
        let upstream = FixtureUpstream::start(PUPIL_ENGINES).await;
        upstream.set_all(scenario);
        let app = spawn_app(&upstream).await;

        let (status, body) = app.search_json("volcanoes", 1).await;
        assert_eq!(status, want_status, "{scenario:?}: {body}");
        let (ok, failed) = engine_states(&body);
        match reason {
            None => assert_eq!(ok.len(), PUPIL_ENGINES.len(), "{scenario:?}: {failed:?}"),
            Some(words) => {
                assert_eq!(failed.len(), PUPIL_ENGINES.len(), "{scenario:?}: {ok:?}");
                for (id, why) in &failed {
                    assert_eq!(why, words, "{scenario:?}: {id}'s reason");
                }
            }
        }
        let (status, html) = app.search_html("volcanoes").await;
        assert_eq!(status, want_status);
        assert!(html.contains(page_text), "{scenario:?}");
    }
}

#[tokio::test]
async fn an_answer_larger_than_the_cap_is_refused_not_read() {
    let upstream = FixtureUpstream::start(&["bing", "simple_wikipedia"]).await;
    let mut config = test_config(&upstream);
    // Bing's fixture page is ~27 KB; Simple Wikipedia's JSON is far smaller.
    config.max_upstream_bytes = 8 * 1024;
    let app = spawn_app_with(config).await;
    let (status, body) = app.search_json("volcanoes", 1).await;
    assert_eq!(status, 200, "{body}");
    let (ok, failed) = engine_states(&body);
    assert_eq!(ok, vec!["simple_wikipedia".to_string()]);
    assert!(failed.iter().any(|(id, why)| id == "bing" && why == "too_large"), "{failed:?}");
}
