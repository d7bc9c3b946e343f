//! Issue 21's soak: a burst of new searches must not make the server start a thread for every
//! engine answer still arriving. Each such thread keeps an allocator heap of its own, and the
//! soak's RSS rose to ~360 MB with ~200 of them alive (BENCHMARKS.md).

mod common;

use std::time::Duration;

use common::{FixtureUpstream, RealServer, Scenario};
use kidsearch::outbound::fetch::READINGS_PER_ENGINE;

/// The server's threads now, from /proc (the server is a process of its own).
fn threads(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status.lines().find_map(|l| l.strip_prefix("Threads:")).expect("Threads line").trim().parse().expect("a count")
}

#[tokio::test]
async fn sixty_new_searches_whose_answers_are_still_arriving_take_a_bounded_number_of_threads() {
    // Every answer arrives in two halves 300 ms apart, as a distant engine's does: its reading
    // waits for the second half. Sixty searches nobody asked before, all at once.
    let upstream = FixtureUpstream::start(&["bing"]).await;
    upstream.set_scenario("bing", Scenario::Trickle(Duration::from_millis(300)));
    let mut server = RealServer::with_sqlite(&upstream, "workers = 2\nengine_timeout_ms = 20000\nanswer_deadline_ms = 0\n");
    let app = server.start().await;
    let pid = server.pid().expect("pid");
    let (status, body) = app.search_json("warming up", 1).await;
    assert_eq!(status, 200, "{body}");
    let before = threads(pid);

    let most = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(before));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (most, done) = (most.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                most.fetch_max(threads(pid), std::sync::atomic::Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let answers = futures_util::future::join_all((0..60).map(|i| {
        let app = &app;
        async move { app.search_json(&format!("lava flow {i}"), 1).await }
    }))
    .await;
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    watcher.await.expect("watcher");

    for (status, body) in &answers {
        assert_eq!(*status, 200, "every search is answered (a reading waits its turn within the engine's time): {body}");
        assert!(!body["results"].as_array().expect("results").is_empty(), "{body}");
    }
    let most = most.load(std::sync::atomic::Ordering::SeqCst);
    eprintln!("server threads: {before} before the burst, at most {most} during it (readings per engine at once: {READINGS_PER_ENGINE})");
    // The engine's readings, and some for the store's queue beside them (17 more in all, in a
    // release build). Unbounded, each of the sixty answers had a thread of its own while it
    // arrived: 9 before, 68 during.
    assert!(most <= before + READINGS_PER_ENGINE + 16, "{most} threads during the burst, {before} before");
    server.terminate();
}
