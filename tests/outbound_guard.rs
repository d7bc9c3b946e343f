//! The SSRF guard: the gateway contacts only the hosts an engine declares, never follows a
//! redirect off them, and refuses names that resolve to private or loopback addresses unless a
//! local override named them.

mod common;

use common::{engine_states, repo_dir, spawn_app, spawn_app_with, temp_dir, test_config, FixtureUpstream, Scenario};

#[tokio::test]
async fn a_redirect_to_another_host_is_refused_and_that_host_is_never_contacted() {
    let upstream = FixtureUpstream::start(&["bing", "mojeek", "duckduckgo"]).await;
    // mojeek's fixture plays an innocent bystander on another host name and port.
    let bystander = upstream.port("mojeek");
    upstream.set_scenario("bing", Scenario::RedirectAway);
    upstream.set_redirect_target("bing", &format!("http://localhost:{bystander}/search?q=x"));
    let mut config = test_config(&upstream);
    config.engines.get_mut("mojeek").expect("mojeek").enabled = Some(false);
    let app = spawn_app_with(config).await;

    let (status, body) = app.search_json("volcanoes", 1).await;

    assert_eq!(status, 200, "duckduckgo still answers: {body}");
    let (_, failed) = engine_states(&body);
    let (_, why) = failed.iter().find(|(id, _)| id == "bing").expect("bing reported");
    assert_eq!(why, "host_not_allowed");
    assert_eq!(upstream.total_requests("mojeek"), 0, "the redirect target was never contacted");
}

#[tokio::test]
async fn a_redirect_to_another_port_of_the_same_address_is_refused_too() {
    let upstream = FixtureUpstream::start(&["bing", "mojeek"]).await;
    let bystander = upstream.port("mojeek");
    upstream.set_scenario("bing", Scenario::RedirectAway);
    upstream.set_redirect_target("bing", &format!("http://127.0.0.1:{bystander}/search?q=x"));
    let mut config = test_config(&upstream);
    config.engines.get_mut("mojeek").expect("mojeek").enabled = Some(false);
    let app = spawn_app_with(config).await;

    let (status, body) = app.search_json("volcanoes", 1).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(upstream.total_requests("mojeek"), 0);
}

#[tokio::test]
async fn a_redirect_within_the_engine_host_is_followed() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let own = upstream.base_url("bing");
    upstream.set_scenario("bing", Scenario::RedirectAway);
    upstream.set_redirect_target("bing", &format!("{own}/search?q=volcanoes&first=11"));
    let app = spawn_app(&upstream).await;
    let (_, body) = app.search_json("volcanoes", 1).await;
    let (_, failed) = engine_states(&body);
    // The fixture keeps redirecting to itself: followed a few hops, then refused as a loop.
    let (_, why) = failed.iter().find(|(id, _)| id == "bing").expect("bing reported");
    assert_eq!(why, "host_not_allowed", "a redirect loop is refused like a redirect elsewhere");
    assert!(upstream.total_requests("bing") >= 2, "same-host redirects are followed");
}

#[tokio::test]
async fn a_host_name_that_resolves_to_loopback_is_refused_unless_overridden_locally() {
    let upstream = FixtureUpstream::start(&["mojeek"]).await;
    let port = upstream.port("mojeek");
    // An engines.toml (not a local override) that names a host resolving to 127.0.0.1.
    let dir = temp_dir("loopback-engine");
    std::fs::create_dir_all(dir.join("allowlist")).expect("mkdir");
    let shipped = std::fs::read_to_string(repo_dir().join("allowlist/engines.toml")).expect("read");
    let edited = shipped
        .replace("hosts = [\"www.mojeek.com\"]", &format!("hosts = [\"localhost:{port}\"]"))
        .replace("url = \"https://www.mojeek.com/search\"", &format!("url = \"http://localhost:{port}/search\""));
    std::fs::write(dir.join("allowlist/engines.toml"), edited).expect("write");
    let mut config = test_config(&upstream);
    config.allowlist_dir = dir.join("allowlist");
    config.engines.get_mut("mojeek").expect("mojeek").base_url = None;
    let app = spawn_app_with(config).await;

    let (status, body) = app.search_json("volcanoes", 1).await;
    assert_eq!(status, 503, "{body}");
    let (_, failed) = engine_states(&body);
    assert_eq!(failed[0].1, "private_address", "{failed:?}");
    assert_eq!(upstream.total_requests("mojeek"), 0, "nothing reached the loopback server");
}
