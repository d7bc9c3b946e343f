//! The real server with its data dir on a small disk of its own that the test fills, frees and
//! makes read-only (tests/common/small_disk.rs: a 4 MiB tmpfs, and an ext4 image on a loop
//! device that the kernel turns read-only under the running server; root only, skipped with a
//! message elsewhere). What must hold when storage fails: a pupil's press still reaches an
//! adult and is stored once space returns, refused searches are not lost, staff can still read,
//! health says what is wrong, every server error is counted, and nothing is called expired or
//! "ok" that is not.

mod common;

use std::time::{Duration, Instant};

use common::small_disk::{LoopDisk, SmallDisk};
use common::{add_user, between, enrol, json, spawn_app_with, test_config, Browser, FixtureUpstream, RealServer, TestApp};

const PASSWORD: &str = "plum tree under snow";

struct School {
    _upstream: FixtureUpstream,
    app: TestApp,
    // Last: unmounted after the app's files are no longer needed.
    disk: SmallDisk,
}

/// A school on its own small disk: enrolment on, supervision off, a teacher and a DSL, the
/// embedded SQLite database (the disk is the point), `/metrics` open to the test.
async fn school(label: &str) -> Option<School> {
    let disk = SmallDisk::mount(label)?;
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut config = test_config(&upstream);
    config.data_dir = disk.path().join("data");
    config.database_url = None;
    config.require_enrolment = true;
    config.supervised_sessions = false;
    config.metrics_allow = vec!["127.0.0.1".into()];
    for (role, name) in [("teacher", "Mr Oak"), ("dsl", "Ms Safe")] {
        assert_eq!(add_user(&config.data_dir, role, name, PASSWORD).0, 0);
    }
    let app = spawn_app_with(config).await;
    Some(School { _upstream: upstream, app, disk })
}

async fn staff<'a>(app: &'a TestApp, name: &str) -> Browser<'a> {
    let mut b = Browser::new(app);
    assert_eq!(b.sign_in(name, PASSWORD).await.status(), 303, "{name} signs in");
    b
}

/// One number from the database file, read by a connection of the test's own.
fn count(data_dir: &std::path::Path, sql: &str) -> i64 {
    let db = rusqlite::Connection::open(data_dir.join("kidsearch.sqlite3")).expect("open the database");
    db.busy_timeout(Duration::from_secs(5)).expect("busy timeout");
    db.query_row(sql, [], |r| r.get(0)).expect("count")
}

/// Waits (up to `within`) until `sql` counts `want`.
async fn until_count(data_dir: &std::path::Path, sql: &str, want: i64, within: Duration) {
    let started = Instant::now();
    loop {
        let n = count(data_dir, sql);
        if n == want {
            return;
        }
        assert!(started.elapsed() < within, "{sql}: {n}, not {want}, after {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn next_event(response: &mut reqwest::Response, needle: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    let mut seen = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, response.chunk()).await.unwrap_or_else(|_| panic!("no event with {needle:?} within {within:?}; got {seen}"));
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("stream").expect("stream open")));
        if let Some(at) = seen.find(needle) {
            let start = seen[..at].rfind("event:").unwrap_or(0);
            return seen[start..].to_string();
        }
    }
}

async fn metrics(app: &TestApp) -> String {
    app.get("/metrics").await.text().await.expect("metrics")
}

/// The value of the metric line starting with `name`.
fn metric(text: &str, name: &str) -> f64 {
    text.lines().find(|l| l.starts_with(name)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok()).unwrap_or(0.0)
}

const PRESSES: &str = "SELECT COUNT(*) FROM incidents WHERE kind = 'tell_adult'";

#[tokio::test]
async fn a_press_on_a_full_disk_still_alerts_and_covers_and_is_stored_once_space_returns() {
    let Some(s) = school("press-full").await else { return };
    let mut teacher = staff(&s.app, "Mr Oak").await;
    let mut oak = enrol(&s.app, &mut teacher, "Oak", "iPad 1").await;
    let mut stream = common::alert_stream(&teacher).await;
    next_event(&mut stream, ": connected", Duration::from_secs(2)).await;

    s.disk.fill();
    let press = oak.post("/help", &[("q", "volcanoes"), ("page", "1")]).await;
    assert_eq!((press.status().as_u16(), press.headers().get("location").and_then(|v| v.to_str().ok())), (303, Some("/help")));
    // The dashboard that is already open is told at once: it needs no disk.
    let event = next_event(&mut stream, "\"tell_adult\"", Duration::from_secs(3)).await;
    assert!(event.contains("Oak — iPad 1") && event.contains("volcanoes"), "{event}");
    // The child is not sent home: the screen stays covered, every page leads back to it.
    assert_eq!(json(&mut oak, "/help/status").await.1, serde_json::json!({ "covered": true }));
    let search = oak.get("/search?q=rainbows").await;
    assert_eq!((search.status().as_u16(), search.headers().get("location").and_then(|v| v.to_str().ok())), (303, Some("/help")));
    assert!(oak.get("/help").await.text().await.expect("page").contains("Tell an adult now."));
    assert_eq!(count(&s.app.data_dir, PRESSES), 0, "the disk really refused it");
    // Staff are told the record is not yet safe, and the metric says so.
    let dashboard = teacher.get("/staff").await.text().await.expect("dashboard");
    assert!(dashboard.contains("<p class=\"not-saved\"><strong>Not yet saved.") && dashboard.contains("Oak — iPad 1"), "{dashboard}");
    assert!(dashboard.contains("safeguarding records are not yet saved"), "{dashboard}");
    assert_eq!(metric(&metrics(&s.app).await, "kidsearch_records_waiting"), 1.0);

    // Space again: the press is stored (once), the screen is covered on disk too.
    s.disk.free();
    until_count(&s.app.data_dir, PRESSES, 1, Duration::from_secs(10)).await;
    let id = count(&s.app.data_dir, "SELECT id FROM incidents WHERE kind = 'tell_adult'");
    assert_eq!(count(&s.app.data_dir, "SELECT covered_incident FROM devices"), id);
    assert_eq!(json(&mut oak, "/help/status").await.1, serde_json::json!({ "covered": true }));
    assert_eq!(metric(&metrics(&s.app).await, "kidsearch_records_waiting"), 0.0);
    // The dashboard now lists the stored one, and clearing it uncovers the iPad.
    let dashboard = teacher.get("/staff").await.text().await.expect("dashboard");
    assert!(!dashboard.contains("<p class=\"not-saved\">"), "{dashboard}");
    assert_eq!(between(&dashboard, "data-incident=\"", "\""), Some(id.to_string().as_str()));
    let csrf = teacher.csrf_from("/staff").await;
    assert_eq!(teacher.post(&format!("/staff/incidents/{id}/clear"), &[("csrf", &csrf)]).await.status(), 303);
    assert_eq!(json(&mut oak, "/help/status").await.1, serde_json::json!({ "covered": false }));
    assert_eq!(count(&s.app.data_dir, PRESSES), 1, "stored once");
}

#[tokio::test]
async fn a_press_cleared_while_the_disk_is_full_is_stored_cleared_and_uncovers_the_ipad() {
    let Some(s) = school("press-cleared").await else { return };
    let mut teacher = staff(&s.app, "Mr Oak").await;
    let mut oak = enrol(&s.app, &mut teacher, "Oak", "iPad 2").await;
    let csrf = teacher.csrf_from("/staff").await;
    s.disk.fill();
    assert_eq!(oak.post("/help", &[("q", "volcanoes")]).await.status(), 303);
    let dashboard = teacher.get("/staff").await.text().await.expect("dashboard");
    let id = between(&dashboard, "data-incident=\"", "\"").expect("the alert is listed").to_string();
    assert!(id.starts_with('-'), "a provisional id until stored: {id}");
    assert_eq!(teacher.post(&format!("/staff/incidents/{id}/clear"), &[("csrf", &csrf)]).await.status(), 303);
    assert_eq!(json(&mut oak, "/help/status").await.1, serde_json::json!({ "covered": false }));
    s.disk.free();
    until_count(&s.app.data_dir, "SELECT COUNT(*) FROM incidents WHERE kind = 'tell_adult' AND cleared_by = 'Mr Oak'", 1, Duration::from_secs(10)).await;
    assert_eq!(count(&s.app.data_dir, "SELECT COUNT(*) FROM devices WHERE covered_incident IS NOT NULL"), 0, "stored cleared: the iPad stays usable");
    assert_eq!(oak.get("/").await.status(), 200);
}

#[tokio::test]
async fn refused_searches_on_a_full_disk_wait_in_memory_with_a_count_and_are_stored_later() {
    let Some(s) = school("refused-full").await else { return };
    let mut teacher = staff(&s.app, "Mr Oak").await;
    let mut oak = enrol(&s.app, &mut teacher, "Oak", "iPad 3").await;
    s.disk.fill();
    for q in ["free p0rn", "s3x videos"] {
        assert_eq!(json(&mut oak, &format!("/search?q={q}&format=json")).await.1["status"], "blocked");
    }
    // Two activity rows and two incidents wait.
    assert_eq!(metric(&metrics(&s.app).await, "kidsearch_records_waiting"), 4.0);
    s.disk.free();
    until_count(&s.app.data_dir, "SELECT COUNT(*) FROM activity WHERE kind = 'refused'", 2, Duration::from_secs(10)).await;
    until_count(&s.app.data_dir, "SELECT COUNT(*) FROM incidents WHERE kind = 'refused_query'", 2, Duration::from_secs(10)).await;
    assert_eq!(metric(&metrics(&s.app).await, "kidsearch_records_waiting"), 0.0);
}

#[tokio::test]
async fn staff_read_their_pages_on_a_full_disk_and_every_server_error_is_counted_logged_and_worded() {
    let Some(s) = school("staff-full").await else { return };
    let mut teacher = staff(&s.app, "Mr Oak").await;
    let mut dsl = staff(&s.app, "Ms Safe").await;
    for path in ["/staff", "/staff/incidents"] {
        assert_eq!(dsl.get(path).await.status(), 200, "{path} before");
    }
    s.disk.fill();
    // Reading does not depend on writing: a session whose touch fails still reads.
    for path in ["/staff", "/staff/incidents"] {
        assert_eq!(dsl.get(path).await.status(), 200, "{path} on a full disk");
    }
    assert_eq!(teacher.get("/staff/devices").await.status(), 200, "the devices page on a full disk");
    // Signing in needs a new session stored: it fails, but in words, and it is counted.
    let mut newcomer = Browser::new(&s.app);
    let answer = newcomer.sign_in("Mr Oak", PASSWORD).await;
    assert!(answer.status().is_server_error(), "{}", answer.status());
    let words = answer.text().await.expect("body");
    assert!(words.contains("could not") && words.contains("disk"), "the page says what is wrong: {words:?}");
    let text = metrics(&s.app).await;
    let errors: f64 =
        text.lines().filter(|l| l.starts_with("kidsearch_requests_total") && l.contains("5xx")).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum();
    assert!(errors >= 1.0, "every 5xx is counted: {text}");
    s.disk.free();
}

#[tokio::test]
async fn health_says_degraded_while_nothing_can_be_stored_and_ok_again_after() {
    let Some(s) = school("health-full").await else { return };
    let mut dsl = staff(&s.app, "Ms Safe").await;
    assert_eq!(s.app.get("/healthz?strict").await.status(), 200);
    s.disk.fill();
    let started = Instant::now();
    loop {
        let body = s.app.get("/healthz").await.text().await.expect("health");
        if body.starts_with("degraded") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "health never said degraded: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(s.app.get("/healthz").await.status(), 200, "the plain form answers (the server serves)");
    assert_eq!(s.app.get("/healthz?strict").await.status(), 503, "the strict form is for container checks");
    assert_eq!(metric(&metrics(&s.app).await, "kidsearch_storage_writable"), 0.0);
    let dashboard = dsl.get("/staff").await.text().await.expect("dashboard");
    assert!(dashboard.contains("cannot save anything"), "{dashboard}");
    s.disk.free();
    let started = Instant::now();
    while s.app.get("/healthz?strict").await.status() != 200 {
        assert!(started.elapsed() < Duration::from_secs(15), "health never recovered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(metric(&metrics(&s.app).await, "kidsearch_storage_writable"), 1.0);
}

#[tokio::test]
async fn an_enrolment_link_on_a_full_disk_says_the_disk_is_the_problem_not_that_it_expired() {
    let Some(s) = school("enrol-full").await else { return };
    let mut teacher = staff(&s.app, "Mr Oak").await;
    let csrf = teacher.csrf_from("/staff/devices").await;
    let html = teacher.post("/staff/devices", &[("csrf", &csrf), ("class", "Oak"), ("label", "iPad 9")]).await.text().await.expect("page");
    let link = between(&html, "id=\"enrol-link\" href=\"", "\"").expect("link").to_string();
    let path = link[link.find("/enrol/").expect("path")..].to_string();
    s.disk.fill();
    let answer = Browser::new(&s.app).post(&path, &[]).await;
    assert_eq!(answer.status(), 503);
    let page = answer.text().await.expect("page");
    assert!(!page.contains("expired") && page.contains("could not be saved"), "{page}");
    s.disk.free();
    assert_eq!(Browser::new(&s.app).post(&path, &[]).await.status(), 200, "the link still works once the disk takes it");
}

#[tokio::test]
async fn a_press_kept_in_memory_is_stored_at_a_graceful_stop_or_else_logged_in_full() {
    let Some(disk) = SmallDisk::mount("press-stop") else { return };
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut server = RealServer::with_data_dir(&upstream, disk.path().join("data"), "");
    let app = server.start().await;
    let press =
        |app: &TestApp| app.client.post(format!("{}/help", app.address)).header("content-type", "application/x-www-form-urlencoded").body("q=volcanoes").send();
    assert_eq!(press(&app).await.expect("press").status(), 303, "the disk works: stored at once");
    disk.fill();
    let answer = press(&app).await.expect("press");
    assert_eq!(answer.status(), 303);
    let covered_at = answer.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_string();
    let token = covered_at.split("i=").nth(1).expect("token");
    let status: serde_json::Value = serde_json::from_slice(&app.get(&format!("/help/status?i={token}")).await.bytes().await.expect("body")).expect("json");
    assert_eq!(status, serde_json::json!({ "covered": true }), "a browser's own covered screen, kept in memory");
    // Space returns just as the technician stops the server: the stop stores it.
    disk.free();
    assert_eq!(server.terminate(), Some(0));
    assert_eq!(count(&server.data_dir, PRESSES), 2, "nothing acknowledged is lost");

    // A disk that never takes it: the stop writes the record to the log, the last place it is.
    let app = server.start().await;
    disk.fill();
    assert_eq!(press(&app).await.expect("press").status(), 303);
    assert_eq!(server.terminate(), Some(0));
    let log = std::fs::read_to_string(&server.log_path).expect("log");
    assert!(log.contains("only in this log") && log.contains("TellAdult"), "{log}");
    disk.free();
    assert_eq!(count(&server.data_dir, PRESSES), 2);
}

/// Waits (up to `within`) until `done` holds, saying `what` if it never does.
async fn until(what: &str, within: Duration, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < within, "{what}, after {within:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_data_disk_the_kernel_turns_read_only_under_the_running_server_still_alerts_reads_and_loses_nothing() {
    // The disk starts failing writes while the server runs; ext4 aborts its journal and the
    // kernel remounts it read-only, with SQLite's files open (small_disk.rs says why this and
    // not `remount,ro`). The same must hold as on a full disk, with one difference: such a
    // disk is writable again only after it is unmounted, so the waiting press is not stored
    // "once writable again" while this server runs; the stop writes it to the log in full.
    let Some(disk) = LoopDisk::mount("ro-running") else { return };
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let data_dir = disk.path().join("data");
    let mut server = RealServer::with_data_dir(&upstream, data_dir.clone(), "");
    assert_eq!(add_user(&data_dir, "dsl", "Ms Safe", PASSWORD).0, 0);
    let app = server.start().await;
    let press =
        |app: &TestApp| app.client.post(format!("{}/help", app.address)).header("content-type", "application/x-www-form-urlencoded").body("q=volcanoes").send();
    let mut dsl = staff(&app, "Ms Safe").await;
    let mut stream = common::alert_stream(&dsl).await;
    next_event(&mut stream, ": connected", Duration::from_secs(2)).await;
    assert_eq!(press(&app).await.expect("press").status(), 303, "the disk works: stored at once");
    until_count(&data_dir, PRESSES, 1, Duration::from_secs(5)).await;
    next_event(&mut stream, "\"tell_adult\"", Duration::from_secs(3)).await;

    disk.fail_writes();
    // The write probe (every 3 s) meets the failing disk, and health says so.
    until("health never said degraded", Duration::from_secs(20), async || app.get("/healthz").await.text().await.expect("health").starts_with("degraded"))
        .await;
    until("the kernel did not remount the disk read-only", Duration::from_secs(10), async || disk.is_read_only()).await;
    eprintln!("the data disk now: {}", disk.mount_line().unwrap_or_default());
    assert_eq!(app.get("/healthz?strict").await.status(), 503);

    // A press still reaches the adult at once and keeps the screen covered.
    let answer = press(&app).await.expect("press");
    assert_eq!(answer.status(), 303);
    let covered_at = answer.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_string();
    let event = next_event(&mut stream, "\"tell_adult\"", Duration::from_secs(3)).await;
    assert!(event.contains("volcanoes"), "{event}");
    let token = covered_at.split("i=").nth(1).expect("token");
    let status: serde_json::Value = serde_json::from_slice(&app.get(&format!("/help/status?i={token}")).await.bytes().await.expect("body")).expect("json");
    assert_eq!(status, serde_json::json!({ "covered": true }));
    // Staff read their pages; the dashboard says the record is not yet safe, and why.
    for path in ["/staff", "/staff/incidents"] {
        assert_eq!(dsl.get(path).await.status(), 200, "{path} on a read-only disk");
    }
    let dashboard = dsl.get("/staff").await.text().await.expect("dashboard");
    assert!(dashboard.contains("Not yet saved.") && dashboard.contains("cannot save anything"), "{dashboard}");
    let text = metrics(&app).await;
    assert_eq!((metric(&text, "kidsearch_storage_writable"), metric(&text, "kidsearch_records_waiting")), (0.0, 1.0), "{text}");

    // The technician stops the server to mend the disk. The stop cannot store the waiting
    // press: it writes it to the log in full, the one place it then is.
    assert_eq!(server.terminate(), Some(0));
    let log = std::fs::read_to_string(&server.log_path).expect("log");
    assert!(log.contains("only in this log") && log.contains("TellAdult"), "{log}");
    disk.repair();
    assert_eq!(count(&data_dir, PRESSES), 1, "what was stored before the disk failed is all there");
    // On the mended disk the server starts (its integrity check passes) and stores again.
    let app = server.start().await;
    assert_eq!(app.get("/healthz?strict").await.status(), 200);
    assert_eq!(press(&app).await.expect("press").status(), 303);
    until_count(&data_dir, PRESSES, 2, Duration::from_secs(5)).await;
    assert_eq!(server.terminate(), Some(0));
}
