//! `/metrics`: Prometheus/OpenMetrics text a monitoring host can scrape, restricted to the
//! configured addresses, with no pupil query text in it.

mod common;

use common::{spawn_app, spawn_app_with, test_config, FixtureUpstream, Scenario};

/// The value of the first sample line starting with `prefix`.
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_engines_cache_and_refusals() {
    let upstream = FixtureUpstream::start(&["bing", "duckduckgo"]).await;
    upstream.set_scenario("duckduckgo", Scenario::Blocked);
    let app = spawn_app(&upstream).await;
    app.search_json("volcanoes", 1).await;
    app.search_json("volcanoes", 1).await;
    app.search_json("free p0rn", 1).await;
    // A tell-an-adult press: one more unreviewed incident, one covered screen.
    let press =
        app.client.post(format!("{}/help", app.address)).header("content-type", "application/x-www-form-urlencoded").body("q=x").send().await.expect("press");
    assert_eq!(press.status(), 303);

    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().contains("openmetrics-text"));
    let text = response.text().await.expect("body");
    assert!(text.trim_end().ends_with("# EOF"), "a complete exposition");
    assert_eq!(sample(&text, "kidsearch_requests_total{route=\"/search\",status=\"2xx\"}"), Some(3.0), "{text}");
    assert_eq!(sample(&text, "kidsearch_engine_fetches_total{engine=\"bing\",outcome=\"ok\"}"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "kidsearch_engine_fetches_total{engine=\"duckduckgo\",outcome=\"resting\"}"), Some(1.0), "{text}");
    // volcanoes: built once, then a hit; the refusal is built (and cached) once.
    assert_eq!(sample(&text, "kidsearch_answer_cache_total{result=\"hit\"}"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "kidsearch_answer_cache_total{result=\"miss\"}"), Some(2.0), "{text}");
    assert_eq!(sample(&text, "kidsearch_refused_queries_total{category=\"sexual\"}"), Some(1.0), "{text}");
    assert!(sample(&text, "kidsearch_request_duration_seconds_count{route=\"/search\"}").is_some_and(|n| n >= 3.0), "{text}");
    assert_eq!(sample(&text, "kidsearch_incidents_new "), Some(2.0), "the refusal and the press: {text}");
    assert_eq!(sample(&text, "kidsearch_screens_covered "), Some(1.0), "{text}");
    assert!(!text.contains("volcanoes") && !text.contains("p0rn"), "no query text in metrics");
}

#[tokio::test]
async fn metrics_are_refused_to_hosts_not_in_the_list() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut config = test_config(&upstream);
    config.metrics_allow = vec!["192.0.2.10".into()];
    let app = spawn_app_with(config).await;
    assert_eq!(app.get("/metrics").await.status(), 403);
}
