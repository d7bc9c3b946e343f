//! An engine's page is hostile input: whatever it holds, reading it costs the server a bounded
//! amount of CPU, and the pupil gets a calm answer.

mod common;

use std::time::{Duration, Instant};

use common::{engine_states, spawn_app, spawn_app_with, test_config, FixtureUpstream, Scenario};

/// CPU time this process (the app runs in it) has used, user and system, from /proc/self/stat.
fn cpu_used() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("comm") + 2..].split(' ').collect();
    let ticks = |i: usize| fields[i].parse::<u64>().expect("ticks");
    // utime and stime are fields 14 and 15 of the line (11 and 12 after the name and state),
    // in clock ticks: USER_HZ, which is 100 on every Linux kidsearch runs on.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// One test at a time in this file: the first measures the CPU of the whole test process, which
/// the other's sixty 50 MB answers would add to when both run at once (`--test-threads=2`; it
/// failed that way on a clean clone).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn a_deeply_nested_engine_page_is_answered_calmly_and_stops_costing_cpu() {
    let _alone = ONE_AT_A_TIME.lock().await;
    // The attack: an engine (or whoever sits between it and the school) answers with ~2 MB of
    // `<div>`s nested 380,000 deep inside a result. The pupil got a calm 503 when the engine's
    // time ran out, but the page went on being read on the blocking pool: every element costs
    // the reader as much as its depth, ~116 s of a core for one page (hours for this one), and
    // a few such searches kept the school server's two cores busy. Now reading stops when
    // its time budget is spent or its answer is no longer wanted, whichever comes first.
    let upstream = FixtureUpstream::start(&["bing"]).await;
    upstream.set_scenario("bing", Scenario::DeeplyNested);
    let app = spawn_app(&upstream).await;

    let before = cpu_used();
    let asked = Instant::now();
    let (status, body) = app.search_json("volcanoes", 1).await;
    let answered = asked.elapsed();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert!(answered < Duration::from_secs(3), "a calm answer within the engine's time: {answered:?}");
    // The page is no longer being read a few seconds later.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let spent = cpu_used() - before;
    eprintln!("hostile page: answered in {answered:?}; CPU used by the whole test process over the next ~3 s: {spent:?}");
    assert!(spent < Duration::from_millis(1500), "the server kept reading the hostile page: {spent:?} of CPU");

    // The same engine's ordinary page is still read.
    upstream.set_scenario("bing", Scenario::Results);
    let (status, body) = app.search_json("rainbows", 1).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body["results"].as_array().expect("results").is_empty(), "{body}");
}

#[tokio::test]
async fn sixty_searches_at_once_whose_engine_answers_50_mb_each_are_answered_calmly() {
    let _alone = ONE_AT_A_TIME.lock().await;
    // Issue 21 (8c): the engine answers every search with a 50 MB results page as fast as it
    // is read, chunked, with no Content-Length. Each answer is read as it arrives and its
    // connection is closed at the cap: the engine is reported `too_large` (what was read of it
    // is not shown: a page cut off is not the engine's answer), or `unreadable` when its
    // reading's time budget ran out first, or `timeout` when the engine's time did: 60 pages
    // read at once by a debug build on a loaded machine (which reads ~1.5 MB/s: the cap is
    // 64 KB here, not the shipped 2 MiB). Whichever, the pupil gets the calm "no engine could
    // answer" page, the connections are closed early and the server goes on. The memory this
    // costs at the shipped cap is measured by `benches/big_answers.sh` (BENCHMARKS.md).
    const FIFTY_MB: usize = 50 * 1024 * 1024;
    const CAP: usize = 64 * 1024;
    let upstream = FixtureUpstream::start(&["bing"]).await;
    upstream.set_all(Scenario::Huge(FIFTY_MB));
    let mut config = test_config(&upstream);
    config.max_upstream_bytes = CAP;
    config.engine_timeout_ms = 3_000;
    let app = spawn_app_with(config).await;
    let answers = futures_util::future::join_all((0..60).map(|i| {
        let app = &app;
        async move { app.search_json(&format!("lava flow {i}"), 1).await }
    }))
    .await;
    let kinds: Vec<String> = answers.iter().map(|(_, b)| engine_states(b).1.first().map(|f| f.1.clone()).unwrap_or_default()).collect();
    eprintln!("60 searches, each engine answer 50 MB: engine reported as {kinds:?}");
    for (status, body) in &answers {
        assert_eq!(*status, 503, "{body}");
        assert_eq!(body["status"], "unavailable", "{body}");
        let (ok, failed) = engine_states(body);
        assert!(ok.is_empty() && failed.len() == 1, "{body}");
        let why = &failed[0].1;
        assert!(["too_large", "unreadable", "timeout"].contains(&why.as_str()), "{why}: {body}");
    }
    // The connections were closed early, not read to the end (60 × 50 MB would be 3 GB): the
    // cap and the sockets' buffers allow a few MB per answer.
    let sent = upstream.huge_bytes_sent("bing");
    assert!(sent < 60 * 8 * 1024 * 1024, "{sent} bytes sent");
    // An ordinary page afterwards is read as before.
    upstream.set_all(Scenario::Results);
    let (status, body) = app.search_json("rainbows", 1).await;
    assert_eq!(status, 200, "{body}");
}
