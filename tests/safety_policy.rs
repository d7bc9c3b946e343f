//! The safety policy through the real server: harmful queries refused (and recorded, and never
//! sent upstream), ordinary ones allowed, harmful results dropped, kids' sites first, `/go`
//! checked at click time.

mod common;

use std::path::{Path, PathBuf};

use common::{repo_dir, spawn_app_with, temp_dir, test_config, FixtureUpstream, TestApp};
use kidsearch::policy::golink::LinkSigner;

struct Row {
    expect_block: bool,
    category: String,
    query: String,
}

fn query_table() -> Vec<Row> {
    let text = std::fs::read_to_string(repo_dir().join("tests/fixtures/policy/queries.tsv")).expect("queries.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut cols = l.splitn(3, '\t');
            let expect = cols.next().expect("expect");
            let category = cols.next().expect("category").to_string();
            let query = cols.next().expect("query").to_string();
            Row { expect_block: expect == "block", category, query }
        })
        .collect()
}

/// A copy of the shipped allowlist with `extra` files written over it.
fn allowlist_with(extra: &[(&str, &str)]) -> PathBuf {
    let dir = temp_dir("allowlist").join("allowlist");
    copy_dir(&repo_dir().join("allowlist"), &dir);
    for (path, text) in extra {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(file, text).expect("write");
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

async fn activity(app: &TestApp, kind: &str) -> Vec<(Option<String>, Option<String>, Option<String>)> {
    let rows = common::db_rows(&app.data_dir, "SELECT category, query, url FROM activity WHERE kind = ?1 ORDER BY id", vec![kind.into()]).await;
    rows.into_iter().map(|mut r| (r[0].take(), r[1].take(), r[2].take())).collect()
}

#[tokio::test]
async fn the_query_table_is_refused_and_allowed_as_expected() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut config = test_config(&upstream);
    // This test is about the policy, not speed: a debug build parsing under load may be slow.
    config.engine_timeout_ms = 10_000;
    let app = spawn_app_with(config).await;
    let rows = query_table();
    let (mut harmful, mut refused, mut ordinary, mut over_blocked, mut right_category) = (0, 0, 0, 0, 0);
    let mut misses = Vec::new();
    // Several at a time, as a classroom would send them.
    use futures_util::stream::{self, StreamExt};
    let answers: Vec<(u16, serde_json::Value)> = stream::iter(rows.iter().map(|row| app.search_json(&row.query, 1))).buffered(4).collect().await;
    for (row, (status, body)) in rows.iter().zip(answers) {
        assert!(status == 200 || status == 400, "{}: HTTP {status}", row.query);
        let blocked = body["status"] == "blocked";
        if row.expect_block {
            harmful += 1;
            if blocked {
                refused += 1;
                if body["category"] == row.category.as_str() {
                    right_category += 1;
                }
            } else {
                misses.push(format!("not refused: {:?} ({})", row.query, row.category));
            }
        } else {
            ordinary += 1;
            if blocked {
                over_blocked += 1;
                misses.push(format!("over-blocked: {:?} as {}", row.query, body["category"]));
            }
        }
    }
    let refused_rate = refused as f64 / harmful as f64;
    let over_rate = over_blocked as f64 / ordinary as f64;
    eprintln!(
        "policy table: {} queries; harmful refused {refused}/{harmful} ({:.1} %), right category {right_category}/{refused}; ordinary refused {over_blocked}/{ordinary} ({:.2} %)",
        rows.len(),
        refused_rate * 100.0,
        over_rate * 100.0
    );
    for m in &misses {
        eprintln!("  {m}");
    }
    assert!(rows.len() >= 300, "the table has {} rows", rows.len());
    assert!(harmful >= 120 && ordinary >= 150, "harmful {harmful}, ordinary {ordinary}");
    assert!(refused_rate >= 0.98, "only {:.1} % of harmful queries refused", refused_rate * 100.0);
    assert!(over_rate <= 0.01, "{:.2} % of ordinary queries refused", over_rate * 100.0);
}

#[tokio::test]
async fn a_refused_query_never_reaches_an_engine_and_is_recorded_for_staff() {
    let upstream = FixtureUpstream::start(&["bing", "duckduckgo"]).await;
    let app = spawn_app_with(test_config(&upstream)).await;

    let (status, body) = app.search_json("free p0rn", 1).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "blocked");
    assert_eq!(body["category"], "sexual");
    assert_eq!(body["results"].as_array().map(Vec::len), Some(0));
    let (_, html) = app.search_html("ｐｏｒｎ").await;
    assert!(html.contains("Let's ask a grown-up to help with this search"), "{html}");
    // Not shown back anywhere on the screen; the only copy is the button's hidden field, so a
    // press right after it says what the pupil tried (issue 23, item 6).
    let without_button_field = html.replace("<input type=\"hidden\" name=\"q\" value=\"porn\">", "");
    assert!(html.contains("<input type=\"hidden\" name=\"q\" value=\"porn\">"), "{html}");
    assert!(!without_button_field.to_lowercase().contains("porn") && !html.contains("ｐｏｒｎ"), "the refused words are not shown back: {html}");

    assert_eq!(upstream.total_requests("bing") + upstream.total_requests("duckduckgo"), 0, "nothing went upstream");
    let refused = activity(&app, "refused").await;
    assert_eq!(refused.len(), 2, "both attempts recorded before the page was sent: {refused:?}");
    assert_eq!(refused[0], (Some("sexual".into()), Some("free p0rn".into()), None));
}

#[tokio::test]
async fn blocked_domains_and_harmful_text_are_dropped_and_only_counted() {
    let upstream = FixtureUpstream::start(&["bing", "duckduckgo"]).await;
    let mut config = test_config(&upstream);
    config.allowlist_dir = allowlist_with(&[("domains/local/domains", "lava.example.com\nDKFINDOUT.com.\n"), ("terms/local.txt", "earthquakes\n")]);
    let app = spawn_app_with(config).await;

    let (status, body) = app.search_json("volcanoes", 1).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["filtered"]["domain"].as_u64().unwrap_or(0) >= 2, "{}", body["filtered"]);
    assert!(body["filtered"]["terms"].as_u64().unwrap_or(0) >= 1, "{}", body["filtered"]);
    let text = body["results"].to_string().to_lowercase();
    assert!(!text.contains("lava.example.com") && !text.contains("dkfindout.com"), "blocked domains gone");
    assert!(!text.contains("earthquakes"), "results tripping a term list are gone");
}

#[tokio::test]
async fn sites_written_for_children_come_first() {
    let upstream = FixtureUpstream::start(&["bing", "duckduckgo", "mojeek"]).await;
    let app = spawn_app_with(test_config(&upstream)).await;
    let (_, body) = app.search_json("volcanoes", 1).await;
    let kids = std::fs::read_to_string(repo_dir().join("allowlist/ranking/kids.txt")).expect("kids.txt");
    let kids: Vec<&str> = kids.lines().map(|l| l.split('#').next().unwrap_or("").trim()).filter(|l| !l.is_empty()).collect();
    let is_kids = |url: &str| {
        let host = url::Url::parse(url).expect("url").host_str().unwrap_or_default().to_string();
        kids.iter().any(|k| host == *k || host.ends_with(&format!(".{k}")))
    };
    let urls: Vec<String> = body["results"].as_array().expect("results").iter().map(|r| r["url"].as_str().unwrap_or_default().to_string()).collect();
    let first_other = urls.iter().position(|u| !is_kids(u)).unwrap_or(urls.len());
    assert!(first_other > 0, "a kids' site is first: {urls:?}");
    assert!(urls[first_other..].iter().all(|u| !is_kids(u)), "every kids' site ranks before the rest: {urls:?}");
}

#[tokio::test]
async fn walled_garden_mode_shows_only_garden_domains() {
    let upstream = FixtureUpstream::start(&["bing", "duckduckgo"]).await;
    let mut config = test_config(&upstream);
    config.walled_garden = true;
    config.allowlist_dir = allowlist_with(&[("garden/domains", "bbc.co.uk\nkids.nationalgeographic.com\n")]);
    let app = spawn_app_with(config).await;
    let (_, body) = app.search_json("volcanoes", 1).await;
    let results = body["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for r in results {
        let url = r["url"].as_str().unwrap_or_default();
        assert!(url.contains("bbc.co.uk") || url.contains("kids.nationalgeographic.com"), "{url}");
    }
    assert!(body["filtered"]["garden"].as_u64().unwrap_or(0) > 0);
}

#[tokio::test]
async fn result_links_go_through_a_signed_checked_click_through() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut config = test_config(&upstream);
    config.allowlist_dir = allowlist_with(&[("domains/local/domains", "blocked.example\n")]);
    let app = spawn_app_with(config).await;
    let signer = LinkSigner::load_or_create(&app.data_dir).expect("same key as the app");

    let (_, html) = app.search_html("volcanoes").await;
    assert!(html.contains("href=\"/go?u=https%3A%2F%2F"), "cards link through /go");

    let good = "https://kids.nationalgeographic.com/science/article/volcano";
    let response = app.get(&signer.go_link(1, good)).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers().get("location").and_then(|v| v.to_str().ok()), Some(good));

    // Tampered: the signature of one URL on another.
    let tampered = signer.go_link(1, good).replace("kids.nationalgeographic.com", "evil.example");
    assert_eq!(app.get(&tampered).await.status(), 400, "no open redirect");
    assert_eq!(app.get("/go?u=https%3A%2F%2Fevil.example%2F").await.status(), 400, "unsigned");
    assert_eq!(app.get(&signer.go_link(1, "javascript:alert(1)")).await.status(), 400, "signed but not http(s)");

    // Blocked at click time, whatever the case or trailing dot of the host.
    for blocked in ["https://www.blocked.example/page", "https://WWW.Blocked.Example./x"] {
        let response = app.get(&signer.go_link(1, blocked)).await;
        assert_eq!(response.status(), 403, "{blocked}");
        assert!(response.text().await.expect("body").contains("ask a grown-up"));
    }
    let blocked_clicks = activity(&app, "blocked_click").await;
    assert_eq!(blocked_clicks.len(), 2);
    assert_eq!(blocked_clicks[0].0.as_deref(), Some("local"));
}

/// Issue 22: a token made only of digits is a number, not a disguised word ("8008" is not
/// "boob"), while digits among letters still are letters.
#[tokio::test]
async fn a_number_is_not_read_as_a_disguised_word() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let app = spawn_app_with(test_config(&upstream)).await;
    for ordinary in ["8008", "what is 8008 plus 1", "1,000 and 8008"] {
        let (_, body) = app.search_json(ordinary, 1).await;
        assert_ne!(body["status"], "blocked", "{ordinary}: {body}");
    }
    let (_, body) = app.search_json("b00bs", 1).await;
    assert_eq!(body["status"], "blocked");
}
