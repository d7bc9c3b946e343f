//! Runs the test suite's fixture upstream on its own, for benchmarks and manual trials:
//! one server per engine on 127.0.0.1, each answering with that engine's fixture pages after a
//! fixed delay, and the picture host serving every engine's thumbnails (photos of the sizes the
//! real engines serve, `tests/common/pictures.rs`). Writes a kidsearch config pointing every
//! engine and its pictures at the fixtures.
//!
//!   cargo run --release --example fixture_upstream -- CONFIG_OUT DELAY_MS ENGINE[=DELAY_MS]...
//!
//! An engine named as `bing=2500` answers after its own delay (the mixed-speed benchmark).
//!
//! It never contacts anything; it only listens on loopback. Stop it with Ctrl+C. SIGUSR1 prints
//! the search requests each engine has had so far (`benches/run.sh` counts coalescing with it);
//! SIGUSR2 prints every search's time in each engine, as `timing ENGINE MICROSECONDS VALUE|VALUE…`
//! (the request's parameter values), so the benchmark can subtract the slowest engine's time
//! from the gateway's, query by query.
//!
//! SIGHUP stops keeping a record of each request from then on (the counts go on): the soak
//! sends millions. `FIXTURE_HUGE_BYTES=N` in the environment makes every engine answer with a
//! results page N bytes long, sent as fast as it is read, with no `Content-Length`
//! (`benches/big_answers.sh`).

#[path = "../tests/common/fixture.rs"]
#[allow(dead_code)]
mod fixture;
// The fixture engines serve their thumbnails from a picture host of their own.
#[path = "../tests/common/pictures.rs"]
#[allow(dead_code)]
mod pictures;

use std::path::PathBuf;
use std::time::Duration;

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub const PUPIL_ENGINES: &[&str] = &["kiddle", "kidrex", "swiggle", "duckduckgo", "bing", "mojeek", "simple_wikipedia", "brave_api", "google_cse_api"];
pub const STAFF_ENGINES: &[&str] = &["google", "yahoo"];
/// Picture search's engines (`purpose = "pictures"`).
pub const PICTURE_ENGINES: &[&str] = &["openverse", "google_cse_images", "bing_images"];
const ALL: &[&str] = &[
    "kiddle",
    "kidrex",
    "swiggle",
    "duckduckgo",
    "bing",
    "mojeek",
    "simple_wikipedia",
    "brave_api",
    "google_cse_api",
    "google",
    "yahoo",
    "openverse",
    "google_cse_images",
    "bing_images",
];

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(config_out), Some(delay)) = (args.first(), args.get(1).and_then(|d| d.parse::<u64>().ok())) else {
        eprintln!("usage: fixture_upstream CONFIG_OUT DELAY_MS ENGINE...");
        std::process::exit(2);
    };
    let named: Vec<(&str, u64)> = args[2..]
        .iter()
        .map(|a| match a.split_once('=') {
            Some((id, own)) => (id, own.parse().unwrap_or_else(|_| panic!("{a}: the delay after = must be milliseconds"))),
            None => (a.as_str(), delay),
        })
        .collect();
    let engines: Vec<&str> = named.iter().map(|(id, _)| *id).collect();
    let upstream = fixture::FixtureUpstream::start(&engines).await;
    let mut config = String::from("listen = \"127.0.0.1:8088\"\n");
    for id in ALL {
        if let Some((_, own)) = named.iter().find(|(e, _)| e == id) {
            upstream.set_delay(id, Duration::from_millis(*own));
            // Pictures too: an engine's thumbnails (and the answer card's) come from the
            // fixture picture host, never from the engine's real picture hosts.
            config.push_str(&format!("[engines.{id}]\nbase_url = \"{}\"\nimage_base_url = \"{}\"\n", upstream.base_url(id), upstream.pictures.base_url()));
            if matches!(*id, "kiddle" | "kidrex" | "swiggle" | "google_cse_api" | "google_cse_images") {
                config.push_str(&format!("cx = \"bench-{id}\"\n"));
            }
            if matches!(*id, "brave_api" | "google_cse_api" | "google_cse_images") {
                config.push_str("api_key = \"bench-key\"\n");
            }
        } else {
            config.push_str(&format!("[engines.{id}]\nenabled = false\n"));
        }
    }
    if let Ok(bytes) = std::env::var("FIXTURE_HUGE_BYTES") {
        upstream.set_all(fixture::Scenario::Huge(bytes.parse().expect("FIXTURE_HUGE_BYTES must be a number of bytes")));
    }
    std::fs::write(config_out, config).expect("write config");
    eprintln!("fixture upstream ready ({} engines, {delay} ms); config in {config_out}", engines.len());
    let mut usr1 = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1()).expect("SIGUSR1 handler");
    let mut usr2 = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined2()).expect("SIGUSR2 handler");
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).expect("SIGHUP handler");
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = usr1.recv() => {
                let counts: Vec<String> = engines.iter().map(|id| format!("{id}={}", upstream.searches(id))).collect();
                eprintln!("searches: {}", counts.join(" "));
            }
            _ = usr2.recv() => {
                for id in &engines {
                    for (values, took) in upstream.timings(id) {
                        eprintln!("timing {id} {} {}", took.as_micros(), values.join("|"));
                    }
                }
                eprintln!("timings end");
            }
            _ = hup.recv() => {
                upstream.forget_requests();
                eprintln!("requests no longer recorded");
            }
        }
    }
    for id in &engines {
        eprintln!("{id}: {} search requests", upstream.searches(id));
    }
}
