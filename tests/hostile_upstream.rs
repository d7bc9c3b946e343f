//! An engine's page is hostile input: whatever it holds, reading it costs the server a bounded
//! amount of CPU, and the pupil gets a calm answer.

mod common;

use std::time::{Duration, Instant};

use common::{spawn_app, FixtureUpstream, Scenario};

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

#[tokio::test]
async fn a_deeply_nested_engine_page_is_answered_calmly_and_stops_costing_cpu() {
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
