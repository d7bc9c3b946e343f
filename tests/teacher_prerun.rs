//! Teacher pre-run through the real server: a teacher runs a search, hides results, approves it
//! for today; pupils get that frozen copy with no upstream request, within its page limit, until
//! midnight in the school's time zone (across the clock changes) or until it is withdrawn; the
//! approval survives a kill -9.

mod common;

use std::sync::Arc;

use common::{add_user, spawn_app_with_clock, test_config, Browser, FixtureUpstream, RealServer, TestApp};
use kidsearch::clock::ManualClock;

const PASSWORD: &str = "plum tree under snow";

fn ms(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().expect("timestamp").as_millisecond()
}

async fn setup(clock: Arc<ManualClock>, tweak: impl FnOnce(&mut kidsearch::config::ServerConfig)) -> (FixtureUpstream, TestApp) {
    let upstream = FixtureUpstream::start(&["bing", "duckduckgo"]).await;
    let mut config = test_config(&upstream);
    tweak(&mut config);
    assert_eq!(add_user(&config.data_dir, "teacher", "Mr Oak", PASSWORD).0, 0);
    let app = spawn_app_with_clock(config, clock).await;
    (upstream, app)
}

/// Signs in, pre-runs `q` through Bing for `pages` pages, hides `hide`, approves; returns the
/// browser (still signed in).
async fn approve<'a>(app: &'a TestApp, q: &str, pages: u32, hide: &[&str], extra: &[(&str, &str)]) -> Browser<'a> {
    let mut teacher = Browser::new(app);
    assert_eq!(teacher.sign_in("Mr Oak", PASSWORD).await.status(), 303);
    common::approve(&mut teacher, q, pages, hide, extra).await;
    teacher
}

fn urls(body: &serde_json::Value) -> Vec<String> {
    body["results"].as_array().expect("results").iter().map(|r| r["url"].as_str().unwrap_or_default().to_string()).collect()
}

const HIDDEN: &str = "https://www.dkfindout.com/uk/earth/volcanoes/";

#[tokio::test]
async fn pupils_get_the_frozen_copy_with_no_upstream_request_and_never_a_hidden_result() {
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z")));
    let (upstream, app) = setup(clock, |_| {}).await;
    approve(&app, "volcanoes", 1, &[HIDDEN], &[("picture", "🌋")]).await;
    let before = upstream.total_requests("bing") + upstream.total_requests("duckduckgo");

    let (status, body) = app.search_json("Volcanoes", 1).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["approved"], true);
    assert_eq!(body["approved_by_class"], serde_json::Value::Null, "whole school");
    let got = urls(&body);
    assert!(!got.is_empty());
    assert!(!got.iter().any(|u| u == HIDDEN), "hidden result served: {got:?}");
    assert!(got.iter().all(|u| !u.contains("dkfindout")), "{got:?}");
    let (_, html) = app.search_html("volcanoes").await;
    assert!(!html.contains("dkfindout"), "hidden in HTML too");

    // The page limit (1) is enforced by the server, for HTML and JSON.
    let (_, page2) = app.search_json("volcanoes", 2).await;
    assert_eq!(page2["page_limit_reached"], true);
    assert_eq!(page2["results"].as_array().map(Vec::len), Some(0));
    let html = app.get("/search?q=volcanoes&page=2").await.text().await.expect("page");
    assert!(html.contains("That's all for this search") && !html.contains("kids.nationalgeographic"));

    assert_eq!(upstream.total_requests("bing") + upstream.total_requests("duckduckgo"), before, "no upstream request at pupil time");

    // The board on the pupil home page shows it as a picture button.
    let home = app.get("/").await.text().await.expect("home");
    assert!(home.contains("Today's board") && home.contains("🌋") && home.contains("href=\"/search?q=volcanoes\""), "{home}");
}

#[tokio::test]
async fn a_withdrawn_approval_disappears_on_the_next_request() {
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z")));
    let (_upstream, app) = setup(clock, |_| {}).await;
    // For the whole school: this browser is not enrolled, so it is in no class (a class's
    // approval reaches that class's iPads only: tests/safeguarding_attacks.rs).
    let mut teacher = approve(&app, "volcanoes", 2, &[], &[]).await;
    let (_, body) = app.search_json("volcanoes", 1).await;
    assert_eq!(body["approved"], true);
    assert!(body["approved_by_class"].is_null(), "{body}");

    common::approval_action(&mut teacher, "withdraw").await;

    let (_, body) = app.search_json("volcanoes", 1).await;
    assert_eq!(body["approved"], false, "live search again after withdrawal");
}

#[tokio::test]
async fn approvals_end_at_local_midnight_across_both_clock_changes() {
    // 29 March 2026: clocks go forward; local midnight is 23:00 UTC.
    let clock = Arc::new(ManualClock::new(ms("2026-03-29T10:00:00Z")));
    let (_upstream, app) = setup(clock.clone(), |_| {}).await;
    approve(&app, "volcanoes", 1, &[], &[]).await;
    clock.set(ms("2026-03-29T22:59:00Z"));
    assert_eq!(app.search_json("volcanoes", 1).await.1["approved"], true);
    clock.set(ms("2026-03-29T23:00:01Z"));
    assert_eq!(app.search_json("volcanoes", 1).await.1["approved"], false, "ended at midnight BST");

    // 25 October 2026: clocks go back; local midnight is 00:00 UTC the next day.
    clock.set(ms("2026-10-25T15:00:00Z"));
    approve(&app, "rainbows", 1, &[], &[]).await;
    clock.set(ms("2026-10-25T23:30:00Z"));
    assert_eq!(app.search_json("rainbows", 1).await.1["approved"], true, "still the 25th in London (GMT)");
    clock.set(ms("2026-10-26T00:00:01Z"));
    assert_eq!(app.search_json("rainbows", 1).await.1["approved"], false);

    // Yesterday's search, approved again in one click.
    let mut teacher = Browser::new(&app);
    teacher.sign_in("Mr Oak", PASSWORD).await;
    common::approval_action(&mut teacher, "renew").await;
    assert_eq!(app.search_json("rainbows", 1).await.1["approved"], true, "renewed for today");
}

#[tokio::test]
async fn with_live_search_off_pupils_may_only_use_approved_searches() {
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z")));
    let (upstream, app) = setup(clock, |c| c.pupil_live_search = false).await;
    let (status, body) = app.search_json("dinosaurs", 1).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "approved_only");
    assert_eq!(upstream.total_requests("bing"), 0);
    let (_, html) = app.search_html("dinosaurs").await;
    assert!(html.contains("Let's ask your teacher"));

    approve(&app, "dinosaurs", 1, &[], &[]).await;
    assert_eq!(app.search_json("dinosaurs", 1).await.1["approved"], true);
}

#[tokio::test]
async fn with_live_search_off_a_harmful_search_is_still_refused_and_recorded_as_an_incident() {
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z")));
    let (upstream, app) = setup(clock, |c| c.pupil_live_search = false).await;
    let (status, body) = app.search_json("free porn", 1).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "blocked", "{body}");
    assert_eq!(body["category"], "sexual", "{body}");
    assert_eq!(upstream.total_requests("bing") + upstream.total_requests("duckduckgo"), 0);
    let refused = common::db_rows(&app.data_dir, "SELECT category FROM activity WHERE kind = 'refused'", vec![]).await;
    assert_eq!(refused, vec![vec![Some("sexual".to_string())]], "the activity log has the refusal");
    let incidents = common::db_rows(&app.data_dir, "SELECT query, category FROM incidents WHERE kind = 'refused_query'", vec![]).await;
    assert_eq!(incidents, vec![vec![Some("free porn".to_string()), Some("sexual".to_string())]], "the register has it");
    // An ordinary search still asks for the teacher, and is no incident.
    assert_eq!(app.search_json("dinosaurs", 1).await.1["status"], "approved_only");
    assert_eq!(common::db_rows(&app.data_dir, "SELECT COUNT(*) FROM incidents", vec![]).await[0][0].as_deref(), Some("1"));
}

#[tokio::test]
async fn a_refused_search_cannot_be_approved() {
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z")));
    let (upstream, app) = setup(clock, |_| {}).await;
    let mut teacher = Browser::new(&app);
    teacher.sign_in("Mr Oak", PASSWORD).await;
    let html = teacher.get("/staff/prerun?q=free+porn&engine=bing").await.text().await.expect("page");
    assert!(html.contains("cannot be approved") && !html.contains("Approve for today"));
    let csrf = teacher.csrf_from("/staff").await;
    let response = teacher.post("/staff/approvals", &[("csrf", &csrf), ("q", "free porn"), ("engine", "bing")]).await;
    assert_eq!(response.status(), 400);
    assert_eq!(upstream.total_requests("bing"), 0);
}

#[tokio::test]
async fn staff_pages_and_approving_need_a_signed_in_teacher_and_csrf() {
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z")));
    let (_upstream, app) = setup(clock, |_| {}).await;
    for path in ["/staff/prerun?q=volcanoes", "/staff/approvals"] {
        assert_eq!(app.get(path).await.status(), 303, "{path}");
    }
    let mut teacher = Browser::new(&app);
    teacher.sign_in("Mr Oak", PASSWORD).await;
    let response = teacher.post("/staff/approvals", &[("q", "volcanoes"), ("engine", "bing")]).await;
    assert_eq!(response.status(), 403, "no CSRF token");
    assert_eq!(app.search_json("volcanoes", 1).await.1["approved"], false);
}

/// The real binary, killed with SIGKILL after approving: the approval is still served.
#[tokio::test]
async fn an_approval_survives_kill_9() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut server = RealServer::new(&upstream);
    assert_eq!(add_user(&server.data_dir, "teacher", "Mr Oak", PASSWORD).0, 0);
    let app = server.start().await;
    approve(&app, "volcanoes", 1, &[HIDDEN], &[]).await;
    server.kill_9();

    let app = server.start().await;
    let (_, body) = app.search_json("volcanoes", 1).await;
    assert_eq!(body["approved"], true, "the approval survived: {body}");
    assert!(!urls(&body).iter().any(|u| u == HIDDEN));
}

/// Issue 23, item 1. Found: "Approve" asked the engines again, so after an interruption (the
/// engines' cached pages expired, the engine's answer changed) pupils got results the teacher
/// never saw. Now the pre-run's own pages are frozen, and the engines are not asked again.
#[tokio::test]
async fn pupils_get_exactly_the_pages_the_teacher_saw_even_after_the_engines_changed_their_answer() {
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z")));
    let (upstream, app) = setup(clock, |c| c.cache_ttl_secs = 1).await;
    let mut teacher = Browser::new(&app);
    teacher.sign_in("Mr Oak", PASSWORD).await;
    let prerun = teacher.get("/staff/prerun?q=volcanoes&engine=bing&pages=1").await.text().await.expect("page");
    // The preview is the pupils' cards, each with a hide tick and a way to open the page.
    assert!(
        prerun.contains("<article class=\"card\">") && prerun.contains("Open this page to check it") && prerun.contains("Hide this from pupils"),
        "{prerun}"
    );
    assert!(prerun.contains("the engines are not asked again"), "the page says so");
    let shown = common::between(&prerun, "<h3>", "</h3>").expect("a result title").to_string();

    // An interruption: the cached pages expire, and Bing now answers differently.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    upstream.set_scenario("bing", common::Scenario::Empty);
    let before = upstream.total_requests("bing");
    let form: Vec<(&str, String)> = vec![
        ("csrf", common::hidden_field(&prerun, "csrf")),
        ("preview", common::hidden_field(&prerun, "preview")),
        ("preview_sig", common::hidden_field(&prerun, "preview_sig")),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(teacher.post("/staff/approvals", &form).await.status(), 303);
    assert_eq!(upstream.total_requests("bing"), before, "approving asked no engine");
    let (_, body) = app.search_json("volcanoes", 1).await;
    assert_eq!(body["approved"], true);
    let titles: Vec<&str> = body["results"].as_array().expect("results").iter().filter_map(|r| r["title"].as_str()).collect();
    assert!(titles.iter().any(|t| shown.contains(t) || t.contains(&shown)), "pupils get what the teacher read: {titles:?} (shown: {shown})");
}

/// The approve form carries what was shown, signed for the teacher: altered, another
/// teacher's, or missing, nothing is approved.
#[tokio::test]
async fn an_altered_or_borrowed_preview_approves_nothing() {
    let clock = Arc::new(ManualClock::new(ms("2026-11-23T09:00:00Z")));
    let (_upstream, app) = setup(clock.clone(), |c| {
        assert_eq!(add_user(&c.data_dir, "teacher", "Ms Ash", PASSWORD).0, 0);
    })
    .await;
    let mut teacher = Browser::new(&app);
    teacher.sign_in("Mr Oak", PASSWORD).await;
    let prerun = teacher.get("/staff/prerun?q=volcanoes&engine=bing&pages=1").await.text().await.expect("page");
    let (preview, sig) = (common::hidden_field(&prerun, "preview"), common::hidden_field(&prerun, "preview_sig"));
    let post = async |b: &mut Browser<'_>, preview: &str| {
        let csrf = b.csrf_from("/staff").await;
        b.post("/staff/approvals", &[("csrf", &csrf), ("preview", preview), ("preview_sig", &sig)]).await
    };
    let altered = preview.replacen("\"url\":\"https://", "\"url\":\"https://evil.example/?", 1);
    let r = post(&mut teacher, &altered).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.expect("page").contains("does not come from a pre-run of yours"));
    let mut other = Browser::new(&app);
    other.sign_in("Ms Ash", PASSWORD).await;
    assert_eq!(post(&mut other, &preview).await.status(), 400, "another teacher's preview");
    clock.set(ms("2026-11-23T22:00:00Z"));
    let r = post(&mut teacher, &preview).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.expect("page").contains("too long ago"));
    assert_eq!(app.search_json("volcanoes", 1).await.1["approved"], false);
}
