//! The security log an admin reads at `/staff/security`: sign-ins, failures, lockouts, role
//! and password changes, narrowed to the admin's school, kept as long as incidents.

mod common;

use std::sync::Arc;

use common::{add_user, between, kidsearch_cli, spawn_app_with_clock, test_config, Browser, FixtureUpstream, TestApp};
use kidsearch::clock::{Clock, ManualClock};

const PASSWORD: &str = "plum tree under snow";
const DAY_MS: i64 = 86_400_000;

/// The id in the users page's action for `name` (`/staff/users/ID/role`).
fn user_id(users_page: &str, name: &str) -> String {
    let label = format!("New password for {name}");
    let at = users_page.find(&label).unwrap_or_else(|| panic!("{name} has a row with actions: {users_page}"));
    let before = &users_page[..at];
    let start = before.rfind("/staff/users/").expect("action") + "/staff/users/".len();
    before[start..].split('/').next().expect("id").to_string()
}

/// The rows of the log page (the filter's choices above them name kinds too).
async fn log_rows(admin: &mut Browser<'_>, path: &str) -> String {
    let page = admin.get(path).await.text().await.expect("page");
    between(&page, "<tbody>", "</tbody>").unwrap_or_else(|| panic!("a table: {page}")).to_string()
}

async fn signed_in<'a>(app: &'a TestApp, name: &str) -> Browser<'a> {
    let mut b = Browser::new(app);
    assert_eq!(b.sign_in(name, PASSWORD).await.status(), 303, "{name} signs in");
    b
}

#[tokio::test]
async fn an_admin_reads_failed_sign_ins_and_role_changes_and_they_outlive_the_activity_retention() {
    // What was missing: sign-ins, failures, lockouts, role and password changes were written
    // only to a table no page showed, and deleted with the 30-day activity. Someone guessing
    // the head's password, or an admin quietly making a friend a DSL, left nothing an admin
    // could read, and nothing at all a month on, when a safeguarding review asks. Now admins
    // read them at /staff/security (their school's only), kept as long as incidents.
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut config = test_config(&upstream);
    config.retention_activity_days = 30;
    config.retention_incident_days = 365;
    for (role, name) in [("admin", "Ms Ada"), ("teacher", "Mr Oak")] {
        assert_eq!(add_user(&config.data_dir, role, name, PASSWORD).0, 0);
    }
    let clock = Arc::new(ManualClock::new(kidsearch::store::now_ms()));
    let app = spawn_app_with_clock(config, clock.clone()).await;
    // Another school's admin, whose events this school's admin must not see.
    assert_eq!(kidsearch_cli(&app.data_dir, &["school", "add", "Ash Primary"], None).0, 0);
    assert_eq!(kidsearch_cli(&app.data_dir, &["user", "add", "--role", "admin", "--school", "Ash Primary", "Mr Ash"], Some(PASSWORD)).0, 0);

    let mut guesser = Browser::new(&app);
    assert_eq!(guesser.sign_in("Mr Oak", "not the password at all").await.status(), 401);
    let mut ash = Browser::new(&app);
    assert_eq!(ash.sign_in("Mr Ash", "wrong for another school").await.status(), 401);
    let mut admin = signed_in(&app, "Ms Ada").await;
    let users = admin.get("/staff/users").await.text().await.expect("page");
    let oak = user_id(&users, "Mr Oak");
    let csrf = admin.csrf_from("/staff/users").await;
    admin.post(&format!("/staff/users/{oak}/role"), &[("csrf", &csrf), ("role", "dsl")]).await;

    let home = admin.get("/staff").await.text().await.expect("page");
    assert!(home.contains("href=\"/staff/security\""), "admins find it in the staff navigation: {home}");
    assert_eq!(admin.get("/staff/security").await.status(), 200);
    let log = log_rows(&mut admin, "/staff/security").await;
    assert!(log.contains("login_failed") && log.contains("Mr Oak") && log.contains("127.0.0.1"), "the failed sign-in, by whom and from where: {log}");
    assert!(log.contains("role_changed") && log.contains("dsl by Ms Ada"), "the role change: {log}");
    assert!(!log.contains("Mr Ash"), "another school's events are not this admin's: {log}");
    let newest_first = log.find("role_changed").expect("role change") < log.find("login_failed").expect("failure");
    assert!(newest_first, "newest first: {log}");
    let only_failures = log_rows(&mut admin, "/staff/security?kind=login_failed").await;
    assert!(only_failures.contains("login_failed") && !only_failures.contains("role_changed"), "filtered by kind: {only_failures}");

    // Teachers and the DSL do not read it.
    let mut oak_now_dsl = signed_in(&app, "Mr Oak").await;
    assert_eq!(oak_now_dsl.get("/staff/security").await.status(), 403);
    assert!(!oak_now_dsl.get("/staff").await.text().await.expect("page").contains("href=\"/staff/security\""));

    // 31 days on, the activity purge leaves the security log alone; a year on it goes.
    clock.set(clock.now_ms() + 31 * DAY_MS);
    let csrf = admin.csrf_from("/staff/activity").await;
    assert_eq!(admin.post("/staff/retention/purge", &[("csrf", &csrf), ("confirm", "yes")]).await.status(), 303);
    let month_on = log_rows(&mut admin, "/staff/security?days=3650").await;
    assert!(month_on.contains("login_failed") && month_on.contains("role_changed"), "kept past the activity retention: {month_on}");
    clock.set(clock.now_ms() + 366 * DAY_MS);
    let csrf = admin.csrf_from("/staff/activity").await;
    admin.post("/staff/retention/purge", &[("csrf", &csrf), ("confirm", "yes")]).await;
    let year_on = log_rows(&mut admin, "/staff/security?days=3650").await;
    assert!(!year_on.contains("login_failed"), "gone with the incident retention: {year_on}");
}
