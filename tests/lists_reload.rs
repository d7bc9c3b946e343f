//! Changing the lists without a restart (issue 28): SIGHUP reloads them (and, with TLS off,
//! no longer stops the server), a file change is picked up by itself, a broken file keeps the
//! old lists whole and names its line, and no answer cached under the old lists is served.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{add_user, copy_of_allowlist, spawn_app_with, test_config, Browser, FixtureUpstream, RealServer, TestApp};

fn hang_up(server: &RealServer) {
    let pid = server.pid().expect("running").to_string();
    assert!(Command::new("kill").args(["-HUP", &pid]).status().expect("kill -HUP").success());
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists() && !std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z ")
}

/// The hosts of the results a pupil's search shows, and the JSON status.
async fn hosts(app: &TestApp, q: &str) -> (String, Vec<String>) {
    let (code, body) = app.search_json(q, 1).await;
    assert!(code == 200 || code == 403, "{code} {body}");
    let hosts = body["results"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| x["url"].as_str().and_then(|u| url::Url::parse(u).ok()?.host_str().map(str::to_string))).collect())
        .unwrap_or_default();
    (body["status"].as_str().unwrap_or_default().to_string(), hosts)
}

#[tokio::test]
async fn a_sighup_does_not_stop_a_server_without_tls() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut server = RealServer::new(&upstream);
    let app = server.start().await;
    let pid = server.pid().expect("pid");
    hang_up(&server);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(alive(pid), "kidsearch ended on SIGHUP");
    assert_eq!(app.get("/healthz").await.status(), 200, "the server still answers after SIGHUP");
    server.log_says("lists reloaded (SIGHUP)", 1).await;
    assert_eq!(server.terminate(), Some(0));
}

/// A server reading its own copy of `allowlist/`, and that copy's folder; a search that its
/// lists will block later is answered first.
async fn serving_a_copy_of_the_lists(upstream: &FixtureUpstream) -> (std::path::PathBuf, RealServer, TestApp) {
    let allowlist = copy_of_allowlist();
    let mut server = RealServer::with_allowlist(upstream, &allowlist, "");
    let app = server.start().await;
    let (status, before) = hosts(&app, "volcano facts").await;
    assert_eq!(status, "ok");
    assert!(before.iter().any(|h| h == "lava.example.com"), "{before:?}");
    (allowlist, server, app)
}

#[tokio::test]
async fn a_sighup_with_a_broken_list_keeps_the_old_lists_whole_and_a_fixed_one_takes_effect_with_no_stale_page() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let (allowlist, mut server, app) = serving_a_copy_of_the_lists(&upstream).await;

    // A new blocked domain and, in another file, a broken line: nothing of it is loaded.
    let domains = allowlist.join("domains/local/domains");
    let local_domains = std::fs::read_to_string(&domains).expect("local domains");
    std::fs::write(&domains, format!("{local_domains}\nlava.example.com\n")).expect("write");
    let terms = allowlist.join("terms/local.txt");
    let local_terms = std::fs::read_to_string(&terms).expect("local terms");
    let broken_line = local_terms.lines().count() + 1;
    std::fs::write(&terms, format!("{local_terms}lav*a\n")).expect("write");
    hang_up(&server);
    let log = server.log_says("lists not reloaded (SIGHUP)", 1).await;
    assert!(log.contains(&format!("local.txt:{broken_line}:")), "the log names the broken line:\n{log}");
    assert!(log.contains("fix:"), "and how to fix it:\n{log}");
    assert!(alive(server.pid().expect("pid")));
    let (status, during) = hosts(&app, "volcano facts").await;
    assert_eq!(status, "ok");
    assert!(during.iter().any(|h| h == "lava.example.com"), "a refused reload changed nothing, not even the good file: {during:?}");

    // Engine health says so too, with the line.
    add_user(&server.data_dir, "admin", "Ms Lists", "plum tree under snow");
    let mut admin = Browser::new(&app);
    admin.sign_in("Ms Lists", "plum tree under snow").await;
    let page = admin.get("/staff/health").await.text().await.expect("health page");
    assert!(page.contains("A change to the lists was not loaded"), "{page}");
    assert!(page.contains(&format!("local.txt:{broken_line}:")), "{page}");

    // Fixed: the new domain is blocked at once, for the same search that was cached before.
    std::fs::write(&terms, format!("{local_terms}lava party\n")).expect("write");
    hang_up(&server);
    server.log_says("lists reloaded (SIGHUP)", 1).await;
    let (status, after) = hosts(&app, "volcano facts").await;
    assert_eq!(status, "ok");
    assert!(!after.iter().any(|h| h == "lava.example.com"), "a page cached under the old lists was served: {after:?}");
    assert_eq!(hosts(&app, "lava party").await.0, "blocked", "the new term is in force");
    let page = admin.get("/staff/health").await.text().await.expect("health page");
    assert!(!page.contains("A change to the lists was not loaded"), "the fixed reload clears the warning");
    assert!(page.contains("(SIGHUP)"), "{page}");
    assert_eq!(server.terminate(), Some(0));
}

#[tokio::test]
async fn a_changed_list_file_takes_effect_with_no_signal_and_no_restart() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let allowlist = copy_of_allowlist();
    let config = kidsearch::config::ServerConfig { allowlist_dir: allowlist.clone(), ..test_config(&upstream) };
    let app = spawn_app_with(config).await;
    assert!(hosts(&app, "volcano facts").await.1.iter().any(|h| h == "lava.example.com"));
    let domains = allowlist.join("domains/local/domains");
    let text = std::fs::read_to_string(&domains).expect("local domains");
    std::fs::write(&domains, format!("{text}\nlava.example.com\n")).expect("write");
    // Polled every 2 s and read once it has stayed the same for one poll.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, now) = hosts(&app, "volcano facts").await;
        assert_eq!(status, "ok");
        if !now.iter().any(|h| h == "lava.example.com") {
            break;
        }
        assert!(Instant::now() < deadline, "the changed list was not picked up: {now:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `engines.toml` is part of `allowlist/`: a change to it takes effect on SIGHUP and when the
/// file changes, with no restart; a broken definition keeps the old engines and the old lists
/// whole (a good list change made beside it waits too) and names its line; no page fetched with
/// the old definitions is served after the change.
#[tokio::test]
async fn engines_toml_is_reloaded_with_the_lists_and_a_broken_one_changes_nothing() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let (allowlist, mut server, app) = serving_a_copy_of_the_lists(&upstream).await;
    let asked = upstream.searches("bing");
    assert!(asked >= 1);

    // A broken engine definition, and a good list change beside it: neither is loaded.
    let engines_path = allowlist.join("engines.toml");
    let shipped = std::fs::read_to_string(&engines_path).expect("engines.toml");
    let weight = "[engines.bing]\nname = \"Bing\"\naudience = \"pupils\"\nenabled = true\nkind = \"html\"\nweight = 1.0\n";
    assert!(shipped.contains(weight), "the shipped Bing definition starts as this test expects");
    let broken_line = shipped[..shipped.find(weight).expect("bing")].lines().count() + 6;
    std::fs::write(&engines_path, shipped.replace(weight, &weight.replace("weight = 1.0", "weight = \"heavy\""))).expect("write");
    let domains = allowlist.join("domains/local/domains");
    let local_domains = std::fs::read_to_string(&domains).expect("local domains");
    std::fs::write(&domains, format!("{local_domains}\nlava.example.com\n")).expect("write");
    hang_up(&server);
    let log = server.log_says("lists not reloaded (SIGHUP)", 1).await;
    assert!(log.contains(&format!("engines.toml:{broken_line}:")), "the log names the broken line of engines.toml:\n{log}");
    let (status, during) = hosts(&app, "volcano facts").await;
    assert_eq!(status, "ok", "the old engines still search");
    assert!(during.iter().any(|h| h == "lava.example.com"), "the good list change waited for the broken file: {during:?}");

    // Fixed, with a new parameter for Bing: the next search (the same one, cached before) asks
    // Bing again with it, and the list change comes in with it.
    let request = "url = \"https://www.bing.com/search\"\nparams = { q = \"{query}\" }";
    assert!(shipped.contains(request));
    std::fs::write(&engines_path, shipped.replace(request, "url = \"https://www.bing.com/search\"\nparams = { q = \"{query}\", setlang = \"en-GB\" }"))
        .expect("write");
    hang_up(&server);
    server.log_says("engines reloaded from engines.toml (SIGHUP)", 1).await;
    let (status, after) = hosts(&app, "volcano facts").await;
    assert_eq!(status, "ok");
    assert!(!after.iter().any(|h| h == "lava.example.com"), "a page cached under the old lists was served: {after:?}");
    assert_eq!(upstream.searches("bing"), asked + 1, "the page fetched with the old definition was not served again");
    let last = upstream.requests("bing").into_iter().last().expect("a request");
    assert_eq!(last.param("setlang"), Some("en-GB"), "the new definition is the one asked with");
    assert_eq!(last.param("adlt"), Some("strict"), "and the safe-search lock still holds");

    // Turned off in the file, with no signal: picked up by the poll, and the health page says so.
    std::fs::write(&engines_path, shipped.replace(weight, &weight.replace("enabled = true", "enabled = false"))).expect("write");
    server.log_says("engines reloaded from engines.toml (files changed)", 1).await;
    let (code, body) = app.search_json("volcano facts", 1).await;
    assert_eq!((code, body["status"].as_str()), (503, Some("unavailable")), "no pupil engine is left on: {body}");
    add_user(&server.data_dir, "admin", "Mr Engines", "plum tree under snow");
    let mut admin = Browser::new(&app);
    admin.sign_in("Mr Engines", "plum tree under snow").await;
    let page = admin.get("/staff/health").await.text().await.expect("health page");
    assert!(page.contains("enabled = false in engines.toml"), "{page}");
    assert_eq!(server.terminate(), Some(0));
}
