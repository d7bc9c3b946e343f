//! Operating kidsearch: request ids, logs without pupil query text, and a graceful stop that
//! commits every queued activity row.

mod common;

use common::{spawn_app, FixtureUpstream, RealServer};

#[tokio::test]
async fn every_answer_has_a_request_id_and_only_plain_ids_are_taken_from_callers() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let app = spawn_app(&upstream).await;
    let id_of = |r: &reqwest::Response| r.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    let a = id_of(&app.get("/healthz").await).expect("an id");
    let b = id_of(&app.get("/healthz").await).expect("an id");
    assert_ne!(a, b);
    let given = app.client.get(format!("{}/healthz", app.address)).header("x-request-id", "proxy-42.a_b").send().await.expect("get");
    assert_eq!(id_of(&given).as_deref(), Some("proxy-42.a_b"), "a proxy's id is kept for correlation");
    let weird = app.client.get(format!("{}/healthz", app.address)).header("x-request-id", "evil id\"with spaces").send().await.expect("get");
    assert_ne!(id_of(&weird).as_deref(), Some("evil id\"with spaces"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_commits_every_activity_row_and_logs_hold_no_query_text() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut server = RealServer::new(&upstream);
    let app = server.start().await;
    for i in 0..40 {
        let (status, _) = app.search_json(&format!("glacier number {i}"), 1).await;
        assert_eq!(status, 200);
    }
    let (_, refused) = app.search_json("free p0rn", 1).await;
    assert_eq!(refused["status"], "blocked");
    assert_eq!(server.terminate(), Some(0), "SIGTERM is a clean stop");

    let rows = common::db_rows(&server.data_dir, "SELECT COUNT(*) FROM activity", vec![]).await;
    assert_eq!(rows[0][0].as_deref(), Some("41"), "every queued row was committed before the process ended");

    let log = std::fs::read_to_string(&server.log_path).expect("log");
    assert!(log.contains("kidsearch stopped"), "{log}");
    assert!(!log.contains("glacier") && !log.contains("p0rn"), "no pupil query text in logs at info level:\n{log}");
}
