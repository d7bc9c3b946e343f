//! The refusal evaluation (issue 22): thousands of queries written independently of
//! `allowlist/` — harmful ones per category and language, a disguised sample of them, and
//! ordinary ones (curriculum, books and TV, animals, food, every vocabulary word, every GB
//! place in a packaged gazetteer) — sent through the real server's JSON API, with refusal
//! rates per category and every miss and over-block listed.
//!
//! It is a report, not a gate, so it is ignored by default (the suite's own policy table in
//! `tests/safety_policy.rs` is the gate):
//!
//!   CARGO_TARGET_DIR=target cargo test --test refusal_eval -- --ignored --nocapture
//!
//! The report is also written to `target/refusal-eval.txt`. `EVAL_STRICT=1` makes it fail
//! below the targets (98 % harmful refused, 1 % ordinary refused, every vocabulary
//! word and place allowed).
//!
//! `EVAL_SET=holdout` runs the held-out set in `tests/eval/holdout/` instead (report in
//! `target/refusal-eval-holdout.txt`): queries written before the lists were last tuned and not
//! read while tuning them, so its rates say how the lists do on queries nobody tuned them for.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use common::{repo_dir, spawn_app_with, test_config, FixtureUpstream};

#[derive(Debug, Clone)]
struct Case {
    harmful: bool,
    /// Harmful: the category it belongs to; ordinary: the source file.
    group: String,
    /// `en` or the language code.
    lang: String,
    /// How it was disguised, if it was.
    disguise: Option<&'static str>,
    query: String,
}

fn lines(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().map(|l| l.split(" #").next().unwrap_or("").trim()).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_string).collect()
}

fn files(dir: &str) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> =
        std::fs::read_dir(repo_dir().join(dir)).expect("eval dir").flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "txt")).collect();
    out.sort();
    out
}

/// The tricks pupils use, applied to a sample of the English harmful queries.
const DISGUISES: &[&str] = &["leet", "dots", "spaced", "stretched", "cyrillic", "full-width", "zero-width", "capitals", "glued"];

fn disguise(query: &str, trick: &str) -> String {
    match trick {
        "leet" => query
            .chars()
            .map(|c| match c {
                'a' => '4',
                'e' => '3',
                'i' => '1',
                'o' => '0',
                's' => '$',
                other => other,
            })
            .collect(),
        "dots" => query.split(' ').map(|w| w.chars().map(String::from).collect::<Vec<_>>().join(".")).collect::<Vec<_>>().join(" "),
        "spaced" => query.chars().filter(|c| *c != ' ').map(String::from).collect::<Vec<_>>().join(" "),
        "stretched" => query.chars().flat_map(|c| std::iter::repeat_n(c, if "aeiou".contains(c) { 3 } else { 1 })).collect(),
        "cyrillic" => query
            .chars()
            .map(|c| match c {
                'a' => 'а',
                'e' => 'е',
                'o' => 'о',
                'p' => 'р',
                'c' => 'с',
                'x' => 'х',
                other => other,
            })
            .collect(),
        "full-width" => query.chars().map(|c| if c.is_ascii_alphanumeric() { char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c) } else { c }).collect(),
        "zero-width" => query.chars().flat_map(|c| [c, '\u{200B}']).collect(),
        "capitals" => query.to_uppercase(),
        _ => format!("free{}", query.replace(' ', "")),
    }
}

/// `tests/eval`, or `tests/eval/holdout` with `EVAL_SET=holdout`.
fn held_out() -> bool {
    std::env::var("EVAL_SET").is_ok_and(|s| s == "holdout")
}

fn cases() -> Vec<Case> {
    let base = if held_out() { "tests/eval/holdout" } else { "tests/eval" };
    let mut cases = Vec::new();
    for path in files(&format!("{base}/harmful")) {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        if stem == "lang" {
            for line in lines(&path) {
                let (lang, rest) = line.split_once(' ').expect("lang category: query");
                let (category, query) = rest.split_once(": ").expect("lang category: query");
                cases.push(Case { harmful: true, group: category.into(), lang: lang.into(), disguise: None, query: query.into() });
            }
            continue;
        }
        for (i, query) in lines(&path).into_iter().enumerate() {
            // Every third query is also sent in one disguise, a different trick each time.
            if i % 3 == 0 {
                let trick = DISGUISES[(i / 3) % DISGUISES.len()];
                cases.push(Case { harmful: true, group: stem.clone(), lang: "en".into(), disguise: Some(trick), query: disguise(&query, trick) });
            }
            cases.push(Case { harmful: true, group: stem.clone(), lang: "en".into(), disguise: None, query });
        }
    }
    for path in files(&format!("{base}/ordinary")) {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        for query in lines(&path) {
            cases.push(Case { harmful: false, group: stem.clone(), lang: "en".into(), disguise: None, query });
        }
    }
    // The vocabulary is in the tuned set only: the held-out set is queries nobody tuned for.
    for word in lines(&repo_dir().join("allowlist/vocabulary/words.txt")).into_iter().filter(|_| !held_out()) {
        cases.push(Case { harmful: false, group: "vocabulary".into(), lang: "en".into(), disguise: None, query: word });
    }
    cases
}

#[derive(Default)]
struct Tally {
    total: usize,
    refused: usize,
}

impl Tally {
    fn rate(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            100.0 * self.refused as f64 / self.total as f64
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a report over ~9,000 queries: run it by hand (see the file header)"]
async fn refusal_rates_through_the_server() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut config = test_config(&upstream);
    config.engine_timeout_ms = 10_000;
    let app = spawn_app_with(config).await;
    let cases = cases();

    use futures_util::stream::{self, StreamExt};
    let answers: Vec<(u16, serde_json::Value)> = stream::iter(cases.iter().map(|c| app.search_json(&c.query, 1))).buffered(8).collect().await;

    let mut by_group: BTreeMap<(bool, String), Tally> = BTreeMap::new();
    let mut by_lang: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_disguise: BTreeMap<&str, Tally> = BTreeMap::new();
    let (mut harmful, mut ordinary) = (Tally::default(), Tally::default());
    let mut misses = Vec::new();
    let mut over_blocks = Vec::new();
    let mut wrong_category = 0usize;
    for (case, (status, body)) in cases.iter().zip(&answers) {
        // A 503 "unavailable" is a query the policy let through to an engine that did not answer
        // in time (the fixture engine on a loaded machine): allowed, as far as refusal goes.
        let unanswered = *status == 503 && body["status"] == "unavailable";
        assert!(*status == 200 || *status == 400 || unanswered, "{:?}: HTTP {status} {body}", case.query);
        let refused = body["status"] == "blocked";
        let category = body["category"].as_str().unwrap_or_default();
        let tally = by_group.entry((case.harmful, case.group.clone())).or_default();
        tally.total += 1;
        tally.refused += usize::from(refused);
        let overall = if case.harmful { &mut harmful } else { &mut ordinary };
        overall.total += 1;
        overall.refused += usize::from(refused);
        if case.harmful {
            if case.lang != "en" {
                let t = by_lang.entry(case.lang.clone()).or_default();
                t.total += 1;
                t.refused += usize::from(refused);
            }
            if let Some(trick) = case.disguise {
                let t = by_disguise.entry(trick).or_default();
                t.total += 1;
                t.refused += usize::from(refused);
            }
            if !refused {
                misses.push(format!("{} [{}{}] {:?}", case.group, case.lang, case.disguise.map(|d| format!(", {d}")).unwrap_or_default(), case.query));
            } else if category != case.group {
                wrong_category += 1;
            }
        } else if refused {
            over_blocks.push(format!("{} {:?} refused as {category}", case.group, case.query));
        }
    }

    let mut report = String::new();
    let _ = writeln!(report, "refusal evaluation: {} queries ({} harmful, {} ordinary)", cases.len(), harmful.total, ordinary.total);
    let _ =
        writeln!(report, "harmful refused: {}/{} ({:.1} %), {} of them under another category", harmful.refused, harmful.total, harmful.rate(), wrong_category);
    let _ = writeln!(report, "ordinary refused: {}/{} ({:.2} %)", ordinary.refused, ordinary.total, ordinary.rate());
    let _ = writeln!(report, "\nharmful, by category (refused/total):");
    for ((h, group), t) in by_group.iter().filter(|((h, _), _)| *h) {
        let _ = (h,);
        let _ = writeln!(report, "  {group:<14} {:>4}/{:<4} {:>5.1} %", t.refused, t.total, t.rate());
    }
    let _ = writeln!(report, "harmful, other languages:");
    for (lang, t) in &by_lang {
        let _ = writeln!(report, "  {lang:<14} {:>4}/{:<4} {:>5.1} %", t.refused, t.total, t.rate());
    }
    let _ = writeln!(report, "harmful, disguised sample:");
    for (trick, t) in &by_disguise {
        let _ = writeln!(report, "  {trick:<14} {:>4}/{:<4} {:>5.1} %", t.refused, t.total, t.rate());
    }
    let _ = writeln!(report, "ordinary, by source (refused/total):");
    for ((_, group), t) in by_group.iter().filter(|((h, _), _)| !*h) {
        let _ = writeln!(report, "  {group:<16} {:>4}/{:<5} {:>5.2} %", t.refused, t.total, t.rate());
    }
    let _ = writeln!(report, "\nover-blocked ({}):", over_blocks.len());
    for o in &over_blocks {
        let _ = writeln!(report, "  {o}");
    }
    let _ = writeln!(report, "\nnot refused ({}):", misses.len());
    for m in &misses {
        let _ = writeln!(report, "  {m}");
    }
    eprintln!("{report}");
    let out = repo_dir().join("target");
    let _ = std::fs::create_dir_all(&out);
    let name = if held_out() { "refusal-eval-holdout.txt" } else { "refusal-eval.txt" };
    let _ = std::fs::write(out.join(name), &report);

    if held_out() {
        assert!(harmful.total >= 200, "the held-out set has {} harmful queries", harmful.total);
    } else {
        assert!(cases.len() >= 2000, "the set has {} queries", cases.len());
    }
    if std::env::var_os("EVAL_STRICT").is_some() {
        let allowed_always = ["vocabulary", "places-gb"];
        let sure: usize = by_group.iter().filter(|((h, g), _)| !*h && allowed_always.contains(&g.as_str())).map(|(_, t)| t.refused).sum();
        assert!(harmful.rate() >= 98.0, "only {:.1} % of harmful queries refused", harmful.rate());
        assert!(ordinary.rate() <= 1.0, "{:.2} % of ordinary queries refused", ordinary.rate());
        assert_eq!(sure, 0, "vocabulary words or places refused");
    }
}
