//! Throughput of the query policy: normalise + check per query, over the test set's 797 queries.
//!
//!   cargo run --release --example policy_check_bench -- [ROUNDS=200]

use std::time::Instant;

use kidsearch::config::ServerConfig;
use kidsearch::settings::Settings;

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let repo = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let load_started = Instant::now();
    let settings = Settings::from_server_config(ServerConfig { allowlist_dir: repo.join("allowlist"), ..ServerConfig::default() }).expect("shipped lists");
    let load = load_started.elapsed();
    let table = std::fs::read_to_string(repo.join("tests/fixtures/policy/queries.tsv")).expect("queries.tsv");
    let queries: Vec<&str> = table.lines().skip(1).filter_map(|l| l.splitn(3, '\t').nth(2)).collect();
    let terms = &settings.policy.terms;
    let started = Instant::now();
    let mut refused = 0usize;
    for _ in 0..rounds {
        refused += queries.iter().filter(|q| terms.check(q).is_some()).count();
    }
    let elapsed = started.elapsed();
    let checks = rounds * queries.len();
    println!("loaded {} term entries (and every list) in {:.1} ms", terms.len(), load.as_secs_f64() * 1000.0);
    println!(
        "{checks} checks ({} queries x {rounds}), {refused} refusals: {:.2} µs per query, {:.0} queries/s on one core",
        queries.len(),
        elapsed.as_secs_f64() * 1e6 / checks as f64,
        checks as f64 / elapsed.as_secs_f64()
    );
}
