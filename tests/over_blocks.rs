//! A way back for over-blocks (issue 22), through the real server: a refused search is
//! reported by a teacher from the activity log, an admin makes it a local exception, and the
//! same search is allowed at once, without a restart; removing the exception refuses it again.
//! (Two instances sharing PostgreSQL: `tests/multi_instance.rs`.) Also the filter self-test's
//! button on the staff Engine health page.

mod common;

use common::{add_user, spawn_app_with, test_config, Browser, FixtureUpstream, TestApp};

const PASSWORD: &str = "plum tree under snow";
/// An ordinary question the gambling rule (`@money + @game`) refuses.
const OVER_BLOCKED: &str = "football players money";

async fn status_of(app: &TestApp, q: &str) -> String {
    let (_, body) = app.search_json(q, 1).await;
    body["status"].as_str().unwrap_or_default().to_string()
}

/// The id in the first `/staff/over-blocks/{id}/exception` form of the admin's page.
fn first_report_id(html: &str) -> Option<i64> {
    let start = html.find("/staff/over-blocks/")? + "/staff/over-blocks/".len();
    let rest = &html[start..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    rest[digits.len()..].starts_with("/exception").then(|| digits.parse().ok())?
}

#[tokio::test]
async fn a_reported_over_block_made_an_exception_is_allowed_at_once_and_refused_again_once_removed() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let config = test_config(&upstream);
    assert_eq!(add_user(&config.data_dir, "teacher", "Mr Oak", PASSWORD).0, 0);
    assert_eq!(add_user(&config.data_dir, "admin", "Ms Ada", PASSWORD).0, 0);
    let app = spawn_app_with(config).await;

    assert_eq!(status_of(&app, OVER_BLOCKED).await, "blocked");

    // The teacher sees the refusal in the activity log, with the button, and presses it.
    let mut teacher = Browser::new(&app);
    assert_eq!(teacher.sign_in("Mr Oak", PASSWORD).await.status(), 303);
    let activity = teacher.get("/staff/activity").await.text().await.expect("page");
    assert!(activity.contains("This should not have been refused"), "{activity}");
    let csrf = teacher.csrf_from("/staff/activity").await;
    assert_eq!(teacher.post("/staff/over-blocks/report", &[("q", OVER_BLOCKED)]).await.status(), 403, "no CSRF token");
    let reported = teacher.post("/staff/over-blocks/report", &[("csrf", &csrf), ("q", OVER_BLOCKED)]).await;
    assert_eq!(reported.status(), 200);
    // A teacher cannot decide.
    assert_eq!(teacher.get("/staff/over-blocks").await.status(), 403);
    assert_eq!(teacher.post("/staff/over-blocks/1/exception", &[("csrf", &csrf), ("phrase", OVER_BLOCKED)]).await.status(), 403);
    assert_eq!(status_of(&app, OVER_BLOCKED).await, "blocked", "a report alone changes nothing");

    // The admin makes it a local exception.
    let mut admin = Browser::new(&app);
    assert_eq!(admin.sign_in("Ms Ada", PASSWORD).await.status(), 303);
    let page = admin.get("/staff/over-blocks").await.text().await.expect("page");
    assert!(page.contains(OVER_BLOCKED) && page.contains("Mr Oak"), "{page}");
    let id = first_report_id(&page).expect("a report form");
    let csrf = admin.csrf_from("/staff/over-blocks").await;
    let made = admin.post(&format!("/staff/over-blocks/{id}/exception"), &[("csrf", &csrf), ("phrase", OVER_BLOCKED)]).await;
    assert_eq!(made.status(), 303);

    // Allowed at once (the cached refusal is forgotten), with no restart.
    assert_eq!(status_of(&app, OVER_BLOCKED).await, "ok");
    assert_eq!(status_of(&app, "Football Players Money").await, "ok", "normalised as the lists are");
    // The exception covers its own words only: the rest of a query is still checked.
    assert_eq!(status_of(&app, "football players money porn").await, "blocked");
    assert_eq!(status_of(&app, "poker money").await, "blocked", "the rule still refuses other pairs");

    // Listed with who made it; the report is decided.
    let page = admin.get("/staff/over-blocks").await.text().await.expect("page");
    assert!(page.contains("No reports waiting"), "{page}");
    let listed = common::between(&page, "Local exceptions", "</table>").expect("the list");
    assert!(listed.contains(OVER_BLOCKED) && listed.contains("Ms Ada"), "{listed}");
    let rows = common::db_rows(&app.data_dir, "SELECT phrase, added_by FROM local_exceptions", vec![]).await;
    assert_eq!(rows, vec![vec![Some(OVER_BLOCKED.to_string()), Some("Ms Ada".to_string())]]);

    // Removed: refused again.
    let start = page.find("/staff/over-blocks/exceptions/").expect("a remove form");
    let action: String = page[start..].chars().take_while(|c| *c != '"').collect();
    assert_eq!(admin.post(&action, &[("csrf", &csrf)]).await.status(), 303);
    assert_eq!(status_of(&app, OVER_BLOCKED).await, "blocked");
}

#[tokio::test]
async fn a_dismissed_report_leaves_the_refusal_and_an_allowed_search_cannot_be_reported() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let config = test_config(&upstream);
    assert_eq!(add_user(&config.data_dir, "admin", "Ms Ada", PASSWORD).0, 0);
    let app = spawn_app_with(config).await;
    let mut admin = Browser::new(&app);
    assert_eq!(admin.sign_in("Ms Ada", PASSWORD).await.status(), 303);
    let csrf = admin.csrf_from("/staff/activity").await;
    let not_refused = admin.post("/staff/over-blocks/report", &[("csrf", &csrf), ("q", "volcanoes")]).await.text().await.expect("page");
    assert!(not_refused.contains("is not refused now"), "{not_refused}");
    assert_eq!(admin.post("/staff/over-blocks/report", &[("csrf", &csrf), ("q", OVER_BLOCKED)]).await.status(), 200);
    let page = admin.get("/staff/over-blocks").await.text().await.expect("page");
    let id = first_report_id(&page).expect("a report form");
    assert_eq!(admin.post(&format!("/staff/over-blocks/{id}/dismiss"), &[("csrf", &csrf)]).await.status(), 303);
    assert!(admin.get("/staff/over-blocks").await.text().await.expect("page").contains("No reports waiting"));
    assert_eq!(status_of(&app, OVER_BLOCKED).await, "blocked");
    assert_eq!(admin.post(&format!("/staff/over-blocks/{id}/exception"), &[("csrf", &csrf), ("phrase", OVER_BLOCKED)]).await.status(), 404, "decided already");
}

#[tokio::test]
async fn the_engine_health_page_runs_the_filter_test_for_any_staff_member_and_needs_csrf() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let config = test_config(&upstream);
    assert_eq!(add_user(&config.data_dir, "teacher", "Mr Oak", PASSWORD).0, 0);
    let app = spawn_app_with(config).await;
    let mut teacher = Browser::new(&app);
    assert_eq!(teacher.sign_in("Mr Oak", PASSWORD).await.status(), 303);
    let health = teacher.get("/staff/health").await.text().await.expect("page");
    assert!(health.contains("Test the filter"), "{health}");
    assert_eq!(teacher.post("/staff/health/filter-test", &[]).await.status(), 403, "no CSRF token");
    let csrf = teacher.csrf_from("/staff/health").await;
    let page = teacher.post("/staff/health/filter-test", &[("csrf", &csrf)]).await.text().await.expect("page");
    assert!(page.contains("Every probe did as expected"), "{page}");
    assert!(page.contains("violence") && page.contains("3 of 3 refused"), "{page}");
    assert!(page.contains("10 of 10 allowed"), "{page}");
}
