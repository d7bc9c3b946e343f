//! CPU cost of one new live query's work after the engines have answered, stage by stage:
//! reading each engine's fixture page (the same pages `benches/run.sh` serves) with the word
//! lists' pass over its results (both on the blocking pool in the server), merging, and the
//! policy's domain check and ranking. Issue 8's live-overhead target is mostly this.
//!
//!   cargo run --release --example live_path_cost -- [ROUNDS=300]
//!   GAP_MS=100 cargo run --release --example live_path_cost -- 40
//!
//! Back to back, the rounds run warm. With `GAP_MS` the example sleeps that long before each
//! round, as the server does between new searches while the engines answer: on this VM a
//! round after 100 ms idle costs about twice the CPU of a warm one (caches refilled).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use kidsearch::config::ServerConfig;
use kidsearch::same_page::dedupe_key;
use kidsearch::search::merge::{merge, EngineAnswer};
use kidsearch::settings::Settings;

/// The engines `benches/run.sh` asks, with the fixture page each one answers with.
const PAGES: &[(&str, &str)] = &[("duckduckgo", "results.html"), ("bing", "results.html"), ("simple_wikipedia", "results.json")];

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(300);
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let settings = Settings::from_server_config(ServerConfig { allowlist_dir: repo.join("allowlist"), ..ServerConfig::default() }).expect("shipped lists");
    let pages: Vec<(&kidsearch::engines::Engine, String)> = PAGES
        .iter()
        .map(|(id, file)| {
            let engine = settings.engines.get(id).unwrap_or_else(|| panic!("engine {id} in the shipped engines.toml"));
            (engine, std::fs::read_to_string(repo.join("tests/fixtures").join(id).join(file)).expect("fixture page"))
        })
        .collect();
    let page_url = url::Url::parse("https://example.org/search").expect("url");

    let mut parse = vec![Duration::ZERO; pages.len()];
    let mut words = vec![Duration::ZERO; pages.len()];
    let (mut merging, mut policy) = (Duration::ZERO, Duration::ZERO);
    let mut shown = 0;
    let gap = Duration::from_millis(std::env::var("GAP_MS").ok().and_then(|s| s.parse().ok()).unwrap_or(0));
    for _ in 0..rounds {
        std::thread::sleep(gap);
        let mut answers = Vec::new();
        for (i, (engine, body)) in pages.iter().enumerate() {
            let started = Instant::now();
            let mut page = engine.parse(body, &page_url).expect("fixture page parses");
            parse[i] += started.elapsed();
            let started = Instant::now();
            settings.policy.screen_words(&mut page);
            words[i] += started.elapsed();
            answers.push((engine, page));
        }
        let started = Instant::now();
        let good: Vec<EngineAnswer<'_>> = answers.iter().map(|(e, p)| EngineAnswer { engine: &e.id, weight: e.weight, results: &p.results }).collect();
        let refused: HashSet<String> = answers.iter().flat_map(|(_, p)| &p.refused).map(dedupe_key).collect();
        let merged = merge(&good, &refused);
        merging += started.elapsed();
        let checked = merged.len();
        let started = Instant::now();
        let (kept, _) = settings.policy.filter_and_rank(merged);
        policy += started.elapsed();
        shown = kept.len();
        assert!(checked >= shown);
    }
    let per = |d: Duration| d.as_secs_f64() * 1e6 / rounds as f64;
    for (((id, file), took), screened) in PAGES.iter().zip(&parse).zip(&words) {
        let size = pages.iter().find(|(e, _)| e.id == *id).map_or(0, |(_, b)| b.len());
        println!("parse {id}/{file} ({size} bytes): {:.0} µs, then the word lists over its results: {:.0} µs", per(*took), per(*screened));
    }
    println!("merge: {:.0} µs", per(merging));
    println!("policy (domains, ranking) over the merged results: {:.0} µs ({shown} shown)", per(policy));
    let total: Duration = parse.iter().chain(&words).sum::<Duration>() + merging + policy;
    println!("total per query: {:.0} µs ({rounds} rounds, one core)", per(total));
}
