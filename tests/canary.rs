//! The engine canary against the fixture upstream: one engine answers, one's page changed
//! (nothing parses), one is down — `kidsearch check --canary` and the staff Engine health page
//! say exactly that.

mod common;

use std::process::Command;

use common::{
    add_user, repo_dir, spawn_app_with, temp_dir, test_config, Browser, FixtureUpstream, Scenario, OFF_ENGINES, PICTURE_ENGINES, PUPIL_ENGINES, STAFF_ENGINES,
};

const PASSWORD: &str = "plum tree under snow";

// Multi-threaded: the fixture upstream must answer while this thread waits for the CLI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_canary_reports_one_broken_engine_on_the_command_line_and_the_staff_page() {
    let upstream = FixtureUpstream::start(&["bing", "duckduckgo", "mojeek"]).await;
    upstream.set_scenario("duckduckgo", Scenario::Malformed);
    upstream.set_scenario("mojeek", Scenario::ServerError);
    let mut config = test_config(&upstream);
    let dir = temp_dir("canary");
    config.data_dir = dir.join("data");
    config.database_url = common::test_database(&config.data_dir);
    // The same settings as a file, for the command line.
    let mut toml = format!(
        "data_dir = {:?}\nallowlist_dir = {:?}\nengine_timeout_ms = 2000\n",
        config.data_dir.display().to_string(),
        repo_dir().join("allowlist").display().to_string()
    );
    if let Some(url) = &config.database_url {
        toml.push_str(&format!("database_url = {url:?}\n"));
    }
    for id in PUPIL_ENGINES.iter().chain(PICTURE_ENGINES).chain(STAFF_ENGINES).chain(OFF_ENGINES) {
        if upstream.engines().iter().any(|e| e == id) {
            toml.push_str(&format!("[engines.{id}]\nbase_url = {:?}\n", upstream.base_url(id)));
        } else {
            toml.push_str(&format!("[engines.{id}]\nenabled = false\n"));
        }
    }
    let config_path = dir.join("kidsearch.toml");
    std::fs::write(&config_path, toml).expect("config");

    // The nightly command: the canary with the filter self-test, both kept for the review.
    let out = Command::new(env!("CARGO_BIN_EXE_kidsearch"))
        .args(["check", "--canary", "--filter-test", "--config"])
        .arg(&config_path)
        .output()
        .expect("check --canary");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "a failing engine fails the check:\n{text}");
    let canary_part = &text[text.find("engine canary").expect("the canary section")..];
    let line = |id: &str| canary_part.lines().find(|l| l.trim_start().starts_with(id)).unwrap_or_else(|| panic!("no line for {id}:\n{text}")).to_string();
    assert!(line("bing").contains(" ok ") && line("bing").contains("results"), "{text}");
    assert!(line("duckduckgo").contains("FAILED") && line("duckduckgo").contains("could not be read"), "{text}");
    assert!(line("mojeek").contains("FAILED"), "{text}");
    assert!(text.contains("2 engine(s) failed"), "{text}");

    // The server shows the same, from the database, and an admin can run it again.
    assert_eq!(add_user(&config.data_dir, "admin", "Tech", PASSWORD).0, 0);
    let app = spawn_app_with(config).await;
    let mut admin = Browser::new(&app);
    assert_eq!(admin.sign_in("Tech", PASSWORD).await.status(), 303);
    let page = admin.get("/staff/health").await.text().await.expect("page");
    let row = |html: &str, name: &str| {
        html[html.find(&format!("<td>{name}</td>")).unwrap_or_else(|| panic!("{name} row: {html}"))..].split("</tr>").next().expect("row").to_string()
    };
    assert!(row(&page, "Bing").contains("ok: "), "{}", row(&page, "Bing"));
    assert!(row(&page, "DuckDuckGo").contains("FAILED"), "{}", row(&page, "DuckDuckGo"));

    upstream.set_scenario("duckduckgo", Scenario::Results);
    let csrf = admin.csrf_from("/staff/health").await;
    assert_eq!(admin.post("/staff/health/canary", &[("csrf", &csrf)]).await.status(), 303);
    let page = admin.get("/staff/health").await.text().await.expect("page");
    assert!(row(&page, "DuckDuckGo").contains("ok: "), "repaired: {}", row(&page, "DuckDuckGo"));
    assert!(row(&page, "Mojeek").contains("FAILED"), "{}", row(&page, "Mojeek"));

    // The annual review lists every check made, oldest first: the nightly command's two (the
    // canary's failure named), then the one run from the page, with who ran it.
    let review = admin.get("/staff/review").await.text().await.expect("page");
    let checks = common::between(&review, "<h2>Checks made</h2>", "</table>").unwrap_or_else(|| panic!("the checks section: {review}"));
    let rows: Vec<&str> = checks.split("<tr>").skip(2).collect();
    assert_eq!(rows.len(), 3, "{checks}");
    assert!(rows[0].contains("Filter self-test") && rows[0].contains("passed: ") && rows[0].contains("nightly command"), "{}", rows[0]);
    assert!(
        rows[1].contains("Engine canary") && rows[1].contains("problem: ") && rows[1].contains("DuckDuckGo") && rows[1].contains("nightly command"),
        "{}",
        rows[1]
    );
    assert!(rows[2].contains("Engine canary") && rows[2].contains("Mojeek") && rows[2].contains("Tech"), "{}", rows[2]);
}
