//! A new search answers in under a second whatever the slowest engine does (issue 24),
//! through the real server: the answer deadline, late engines finishing into the cache, and
//! the circuit breaker that rests an engine which keeps failing.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{spawn_app_with, spawn_app_with_clock, test_config, FixtureUpstream, Scenario, TestApp};
use kidsearch::clock::{Clock, ManualClock};

fn engine<'a>(body: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    body["engines"].as_array().expect("engines").iter().find(|e| e["id"] == id).unwrap_or_else(|| panic!("{id} in {body}"))
}

/// Bing answering in 1.5 s, DuckDuckGo at once; engines may take 3 s, the page waits 300 ms.
async fn one_slow_engine() -> (FixtureUpstream, TestApp) {
    let upstream = FixtureUpstream::start(&["bing", "duckduckgo"]).await;
    upstream.set_delay("bing", Duration::from_millis(1500));
    let mut config = test_config(&upstream);
    config.engine_timeout_ms = 3000;
    config.answer_deadline_ms = 300;
    let app = spawn_app_with(config).await;
    (upstream, app)
}

#[tokio::test]
async fn a_slow_engine_does_not_hold_up_a_new_search_and_its_results_come_with_the_next_one() {
    let (upstream, app) = one_slow_engine().await;
    let started = Instant::now();
    let (status, first) = app.search_json("volcanoes", 1).await;
    let waited = started.elapsed();
    assert_eq!(status, 200, "{first}");
    assert!(waited < Duration::from_millis(1200), "answered after {waited:?}, not after the slow engine's 1.5 s");
    assert_eq!(engine(&first, "duckduckgo")["ok"], true);
    assert_eq!(engine(&first, "bing")["late"], true, "{first}");
    assert!(!first["results"].as_array().expect("results").is_empty());
    assert!(first["results"].as_array().expect("r").iter().all(|r| r["engines"].as_array().expect("e").iter().all(|e| e != "bing")));

    // The late engine was not cancelled: once it has answered, the same search is built again
    // from both engines' cached pages (the partial answer is gone), with no new request.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (_, second) = app.search_json("volcanoes", 1).await;
    assert_eq!(engine(&second, "bing")["ok"], true, "{second}");
    assert!(engine(&second, "bing").get("late").is_none());
    assert!(second["results"].as_array().expect("r").iter().any(|r| r["engines"].as_array().expect("e").iter().any(|e| e == "bing")), "bing's results are in");
    assert_eq!(upstream.searches("bing"), 1, "one upstream request for bing in all");
    assert_eq!(upstream.searches("duckduckgo"), 1);
}

#[tokio::test]
async fn identical_new_searches_at_once_ask_each_engine_once_even_past_the_deadline() {
    let (upstream, app) = one_slow_engine().await;
    let searches = (0..60).map(|_| app.search_json("rainbows", 1));
    let answers = futures_util::future::join_all(searches).await;
    assert!(answers.iter().all(|(status, _)| *status == 200));
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (_, after) = app.search_json("rainbows", 1).await;
    assert_eq!(engine(&after, "bing")["ok"], true);
    assert_eq!((upstream.searches("bing"), upstream.searches("duckduckgo")), (1, 1), "coalescing stays exact");
}

#[tokio::test]
async fn with_no_good_answer_by_the_deadline_the_first_good_one_is_waited_for() {
    let upstream = FixtureUpstream::start(&["bing", "duckduckgo"]).await;
    upstream.set_delay("duckduckgo", Duration::from_millis(600));
    upstream.set_delay("bing", Duration::from_millis(2000));
    let mut config = test_config(&upstream);
    config.engine_timeout_ms = 3000;
    config.answer_deadline_ms = 200;
    let app = spawn_app_with(config).await;
    let started = Instant::now();
    let (status, body) = app.search_json("owls", 1).await;
    let waited = started.elapsed();
    assert_eq!(status, 200, "{body}");
    assert!(waited >= Duration::from_millis(550) && waited < Duration::from_millis(1500), "waited {waited:?}: for the first good engine, not the slowest");
    assert_eq!(engine(&body, "duckduckgo")["ok"], true);
    assert_eq!(engine(&body, "bing")["late"], true);
}

#[tokio::test]
async fn an_engine_that_keeps_failing_rests_then_one_probe_brings_it_back() {
    let upstream = FixtureUpstream::start(&["bing", "duckduckgo"]).await;
    upstream.set_scenario("bing", Scenario::ServerError);
    let clock = Arc::new(ManualClock::new(kidsearch::store::now_ms()));
    let app = spawn_app_with_clock(test_config(&upstream), clock.clone()).await;

    // Three new searches, three failures in a row: then Bing rests.
    for q in ["ants", "bees", "cats"] {
        let (_, body) = app.search_json(q, 1).await;
        assert_eq!(engine(&body, "bing")["error"], "http_status");
    }
    assert_eq!(upstream.searches("bing"), 3);
    let (status, body) = app.search_json("dogs", 1).await;
    assert_eq!(status, 200, "the others still answer");
    assert_eq!(engine(&body, "bing")["error"], "resting", "{body}");
    assert_eq!(upstream.searches("bing"), 3, "a resting engine is not asked");
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(metrics.contains("kidsearch_engine_resting{engine=\"bing\"} 1"), "{metrics}");

    // Still down when the rest is over: one probe, and a longer rest.
    clock.set(clock.now_ms() + 31_000);
    app.search_json("eels", 1).await;
    app.search_json("frogs", 1).await;
    assert_eq!(upstream.searches("bing"), 4, "one probe only");

    // Back up: after the (doubled) rest one probe finds it answering, and it is asked again.
    upstream.set_scenario("bing", Scenario::Results);
    clock.set(clock.now_ms() + 61_000);
    let (_, body) = app.search_json("goats", 1).await;
    assert_eq!(engine(&body, "bing")["ok"], true, "{body}");
    let (_, body) = app.search_json("hens", 1).await;
    assert_eq!(engine(&body, "bing")["ok"], true);
    assert_eq!(upstream.searches("bing"), 6);
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(metrics.contains("kidsearch_engine_resting{engine=\"bing\"} 0"), "{metrics}");
}
