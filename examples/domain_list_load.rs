//! Measures loading a large UT1-style `domains` list (issue 3: a 1-million-line list must load in
//! under 2 s with little memory).
//!
//!   cargo run --release --example domain_list_load -- [LINES=1000000]
//!
//! Generates a synthetic list in a temp file (realistic lengths, a few comments and subdomains),
//! then times reading + parsing it into a `DomainSet` and reports the set's heap size and the
//! process's peak RSS growth.

use std::io::Write;
use std::time::Instant;

use kidsearch::policy::DomainSet;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn main() {
    let lines: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let path = std::env::temp_dir().join(format!("kidsearch-domains-{}.txt", std::process::id()));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        writeln!(f, "# synthetic UT1-style list").expect("write");
        let tlds = ["com", "net", "org", "co.uk", "de", "fr", "info", "xyz"];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..lines {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let sub = if i % 5 == 0 { "www." } else { "" };
            writeln!(f, "{sub}site{:x}{}.{}", x % 0xFFFF_FFFF, i, tlds[i % tlds.len()]).expect("write");
        }
    }
    let before = rss_kib();
    let started = Instant::now();
    let text = std::fs::read_to_string(&path).expect("read");
    let mut problems = Vec::new();
    let set = DomainSet::parse(&text, "synthetic", &mut problems);
    drop(text);
    let elapsed = started.elapsed();
    let after = rss_kib();
    let probe = Instant::now();
    let hits = (0..100_000).filter(|i| set.covers(&format!("www.site{i}.com"))).count();
    let per_lookup = probe.elapsed() / 100_000;
    let _ = std::fs::remove_file(&path);
    println!("lines: {lines}, domains kept: {}, problems: {}", set.len(), problems.len());
    println!("load (read + parse + sort): {:.3} s", elapsed.as_secs_f64());
    println!(
        "set heap: {:.1} MiB; peak RSS growth during load: {:.1} MiB",
        set.heap_bytes() as f64 / 1048576.0,
        (after.saturating_sub(before)) as f64 / 1024.0
    );
    println!("lookup (host with parents, 100k probes, {hits} hits): {per_lookup:?} each");
}
