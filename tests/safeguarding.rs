//! Safeguarding through the real server: enrolling iPads, supervised windows, the
//! tell-an-adult button (with and without JavaScript), incidents, school-wide hiding, live
//! alerts over SSE, clearing, the register's CSV, and the retention purge.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{add_user, between, enrol, json, open_search, spawn_app_with_clock, test_config, Browser, FixtureUpstream, TestApp};
use kidsearch::clock::ManualClock;

const PASSWORD: &str = "plum tree under snow";

struct School {
    _upstream: FixtureUpstream,
    app: TestApp,
    clock: Arc<ManualClock>,
}

/// A school with enrolment and supervised sessions on (the shipped defaults), a teacher, a
/// DSL and an admin.
async fn school(tweak: impl FnOnce(&mut kidsearch::config::ServerConfig)) -> School {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut config = test_config(&upstream);
    config.require_enrolment = true;
    config.supervised_sessions = true;
    tweak(&mut config);
    for (role, name) in [("teacher", "Mr Oak"), ("dsl", "Ms Safe"), ("admin", "Tech")] {
        assert_eq!(add_user(&config.data_dir, role, name, PASSWORD).0, 0);
    }
    let clock = Arc::new(ManualClock::new(kidsearch::store::now_ms()));
    let app = spawn_app_with_clock(config, clock.clone()).await;
    School { _upstream: upstream, app, clock }
}

async fn staff<'a>(app: &'a TestApp, name: &str) -> Browser<'a> {
    let mut b = Browser::new(app);
    assert_eq!(b.sign_in(name, PASSWORD).await.status(), 303, "{name} signs in");
    b
}

#[tokio::test]
async fn only_enrolled_ipads_search_and_only_while_their_class_is_open() {
    let s = school(|_| {}).await;
    let mut stranger = Browser::new(&s.app);
    let r = stranger.get("/").await;
    assert_eq!(r.status(), 403);
    let html = r.text().await.expect("page");
    assert!(html.contains("This device is not set up yet"), "{html}");
    assert!(html.contains("Turn off screen and tell an adult"), "the button is on this page too");
    assert_eq!(json(&mut stranger, "/search?q=volcanoes&format=json").await, (403, serde_json::json!({ "status": "not_enrolled" })));

    let mut teacher = staff(&s.app, "Mr Oak").await;
    let mut oak = enrol(&s.app, &mut teacher, "Oak", "iPad 3").await;
    let mut ash = enrol(&s.app, &mut teacher, "Ash", "iPad 1").await;

    // Enrolled, but no window open: calm resting page, JSON "closed".
    let r = oak.get("/").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.expect("page").contains("Search is resting"));
    assert_eq!(json(&mut oak, "/search?q=volcanoes&format=json").await.1["status"], "closed");

    open_search(&mut teacher, "Oak", "45").await;
    assert_eq!(json(&mut oak, "/search?q=volcanoes&format=json").await.1["status"], "ok");
    assert_eq!(json(&mut ash, "/search?q=volcanoes&format=json").await.1["status"], "closed", "another class stays closed");
    assert!(teacher.get("/staff").await.text().await.expect("page").contains("can search until"));

    // The window ends by itself...
    s.clock.set(s.clock_now() + 46 * 60_000);
    assert_eq!(json(&mut oak, "/search?q=volcanoes&format=json").await.1["status"], "closed");
    // ...or at once when the teacher closes it.
    open_search(&mut teacher, "Oak", "30").await;
    assert_eq!(json(&mut oak, "/search?q=volcanoes&format=json").await.1["status"], "ok");
    let csrf = teacher.csrf_from("/staff").await;
    assert_eq!(teacher.post("/staff/classes/close", &[("csrf", &csrf), ("class", "Oak")]).await.status(), 303);
    assert_eq!(json(&mut oak, "/search?q=volcanoes&format=json").await.1["status"], "closed");

    // A removed iPad is a stranger again; a forged cookie is no device.
    let devices = teacher.get("/staff/devices").await.text().await.expect("page");
    let oak_row = &devices[devices.find("<td>Oak</td>").expect("Oak's row")..];
    let revoke = between(oak_row, "action=\"/staff/devices/", "/revoke").expect("a remove button").to_string();
    let csrf = teacher.csrf_from("/staff/devices").await;
    assert_eq!(teacher.post(&format!("/staff/devices/{revoke}/revoke"), &[("csrf", &csrf), ("confirm", "yes")]).await.status(), 303);
    assert_eq!(oak.get("/").await.status(), 403);
    let mut forged = Browser { app: &s.app, cookie: Some("kidsearch_device=2.00000000000000000000000000000000".into()) };
    assert_eq!(forged.get("/").await.status(), 403);
}

impl School {
    fn clock_now(&self) -> i64 {
        use kidsearch::clock::Clock;
        self.clock.now_ms()
    }
}

#[tokio::test]
async fn supervision_can_be_turned_off_school_wide() {
    let s = school(|c| c.supervised_sessions = false).await;
    let mut teacher = staff(&s.app, "Mr Oak").await;
    let mut oak = enrol(&s.app, &mut teacher, "Oak", "iPad 3").await;
    assert_eq!(json(&mut oak, "/search?q=volcanoes&format=json").await.1["status"], "ok");
    assert!(teacher.get("/staff").await.text().await.expect("page").contains("Supervised sessions are off"));
}

/// Reads Server-Sent Events from `response` until one whose text contains `needle`.
async fn next_event(response: &mut reqwest::Response, needle: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    let mut seen = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, response.chunk()).await.unwrap_or_else(|_| panic!("no event with {needle:?} within {within:?}; got {seen}"));
        let chunk = chunk.expect("stream").expect("stream open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(at) = seen.find(needle) {
            let start = seen[..at].rfind("event:").unwrap_or(0);
            return seen[start..].to_string();
        }
    }
}

#[tokio::test]
async fn the_button_covers_the_screen_records_the_incident_and_alerts_teachers_live() {
    let s = school(|_| {}).await;
    let mut teacher = staff(&s.app, "Mr Oak").await;
    let mut oak = enrol(&s.app, &mut teacher, "Oak", "iPad 3").await;
    open_search(&mut teacher, "Oak", "45").await;
    let mut stream = common::alert_stream(&teacher).await;
    next_event(&mut stream, ": connected", Duration::from_secs(2)).await;

    // Every pupil page carries the button as a plain form (works without JavaScript).
    let results = oak.get("/search?q=volcanoes&page=2").await.text().await.expect("page");
    assert!(results.contains("<form class=\"help\" method=\"post\" action=\"/help\">"), "{results}");
    assert!(results.contains("Turn off screen and tell an adult"));
    assert!(results.contains("name=\"q\" value=\"volcanoes\"") && results.contains("name=\"page\" value=\"2\""), "what is on screen goes with the press");

    // The press, as the no-JavaScript form sends it.
    let press = oak.post("/help", &[("q", "volcanoes"), ("page", "2")]).await;
    assert_eq!(press.status(), 303);
    assert_eq!(press.headers().get("location").and_then(|v| v.to_str().ok()), Some("/help"));
    let sent = Instant::now();
    let event = next_event(&mut stream, "\"tell_adult\"", Duration::from_secs(1)).await;
    eprintln!("alert delivered {:?} after the press was answered", sent.elapsed());
    assert!(event.starts_with("event: incident"), "{event}");
    assert!(event.contains("Oak — iPad 3") && event.contains("\"query\":\"volcanoes\"") && event.contains("\"page\":2"), "{event}");

    // The dark page, and every other pupil page leads back to it until an adult clears it.
    let covered = oak.get("/help").await.text().await.expect("page");
    assert!(covered.contains("Well done.") && covered.contains("Tell an adult now."), "{covered}");
    assert!(!covered.contains("volcanoes"), "nothing from before shows through");
    for path in ["/", "/search?q=volcanoes"] {
        let r = oak.get(path).await;
        assert_eq!((r.status().as_u16(), r.headers().get("location").and_then(|v| v.to_str().ok())), (303, Some("/help")), "{path}");
    }
    assert_eq!(json(&mut oak, "/help/status").await.1, serde_json::json!({ "covered": true }));
    assert_eq!(json(&mut oak, "/search?q=volcanoes&format=json").await.1["status"], "covered");

    // The dashboard shows it; the register has what was on screen.
    let dashboard = teacher.get("/staff").await.text().await.expect("page");
    assert!(
        dashboard.contains("Oak — iPad 3") && dashboard.contains("Clear the pupil&#39;s screen") || dashboard.contains("Clear the pupil's screen"),
        "{dashboard}"
    );
    let mut dsl = staff(&s.app, "Ms Safe").await;
    let register = dsl.get("/staff/incidents").await.text().await.expect("page");
    assert!(register.contains("Tell-an-adult button") && register.contains("Oak — iPad 3") && register.contains("volcanoes"), "{register}");

    // The teacher clears it from the dashboard: the pupil's screen is usable again.
    let id = between(&dashboard, "data-incident=\"", "\"").expect("alert id").to_string();
    let csrf = teacher.csrf_from("/staff").await;
    assert_eq!(teacher.post(&format!("/staff/incidents/{id}/clear"), &[("csrf", &csrf)]).await.status(), 303);
    next_event(&mut stream, "event: cleared", Duration::from_secs(1)).await;
    assert_eq!(json(&mut oak, "/help/status").await.1, serde_json::json!({ "covered": false }));
    assert_eq!(oak.get("/").await.status(), 200);
    let detail = dsl.get(&format!("/staff/incidents/{id}")).await.text().await.expect("page");
    assert!(detail.contains("Screen cleared") && detail.contains("Mr Oak"), "{detail}");
}

#[tokio::test]
async fn the_script_path_and_the_adult_code_clear_a_screen_and_strangers_cannot_press_for_a_device() {
    let s = school(|_| {}).await;
    let mut teacher = staff(&s.app, "Mr Oak").await;
    let mut oak = enrol(&s.app, &mut teacher, "Oak", "iPad 3").await;
    open_search(&mut teacher, "Oak", "45").await;

    // Another site's form cannot press the button for this iPad.
    let cross = s
        .app
        .client
        .post(format!("{}/help", s.app.address))
        .header("cookie", oak.cookie.clone().expect("device"))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("q=x")
        .send()
        .await
        .expect("post");
    assert_eq!(cross.status(), 403);
    assert_eq!(oak.get("/").await.status(), 200, "not covered by someone else's page");

    // The script's fetch: same endpoint, same-origin Origin header.
    let address = s.app.address.clone();
    let press = s
        .app
        .client
        .post(format!("{address}/help"))
        .header("cookie", oak.cookie.clone().expect("device"))
        .header("origin", address.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("q=rainbows&page=1")
        .send()
        .await
        .expect("post");
    assert_eq!(press.status(), 303);
    assert_eq!(oak.get("/").await.status(), 303, "covered");

    // A wrong adult code does nothing; today's code from the dashboard clears it.
    let wrong = oak.post("/help/clear", &[("code", "000000x")]).await.text().await.expect("page");
    assert!(
        wrong.contains("That code is not right") && wrong.contains("<details class=\"grown-ups\" open>") && wrong.contains("value=\"000000\""),
        "the message is on screen, not folded away: {wrong}"
    );
    assert_eq!(oak.get("/").await.status(), 303);
    let dashboard = teacher.get("/staff").await.text().await.expect("page");
    let code = between(&dashboard, "<span class=\"adult-code\">", "<").expect("today's code").to_string();
    assert_eq!(code.len(), 6);
    let right = oak.post("/help/clear", &[("code", &code)]).await;
    assert_eq!(right.status(), 303);
    assert_eq!(oak.get("/").await.status(), 200, "usable again");

    // Five wrong codes and only a dashboard can clear it.
    assert_eq!(oak.post("/help", &[]).await.status(), 303);
    for _ in 0..5 {
        oak.post("/help/clear", &[("code", "123")]).await;
    }
    let locked = oak.post("/help/clear", &[("code", &code)]).await.text().await.expect("page");
    assert!(locked.contains("Too many wrong codes"), "{locked}");
    assert_eq!(oak.get("/").await.status(), 303);
}

#[tokio::test]
async fn a_reported_result_is_hidden_for_every_pupil_until_a_teacher_decides() {
    let s = school(|_| {}).await;
    let mut teacher = staff(&s.app, "Mr Oak").await;
    let mut oak = enrol(&s.app, &mut teacher, "Oak", "iPad 3").await;
    let mut ash = enrol(&s.app, &mut teacher, "Ash", "iPad 1").await;
    open_search(&mut teacher, "Oak", "45").await;
    open_search(&mut teacher, "Ash", "45").await;

    let (_, before) = json(&mut ash, "/search?q=volcanoes&format=json").await;
    let results = before["results"].as_array().expect("results").clone();
    assert!(results.len() >= 2);
    let (title, url, go) = (results[0]["title"].as_str().expect("t"), results[0]["url"].as_str().expect("u"), results[0]["go"].as_str().expect("go"));

    // The card's own button reports that result.
    let html = oak.get("/search?q=volcanoes").await.text().await.expect("page");
    assert!(html.contains("Tell an adult about this"), "each card has its button");
    assert_eq!(oak.post("/help", &[("q", "volcanoes"), ("page", "1"), ("go", go), ("t", title)]).await.status(), 303);

    // Gone for the other class at once (the cached answer is not served), and its old link too.
    let (_, after) = json(&mut ash, "/search?q=volcanoes&format=json").await;
    let urls: Vec<&str> = after["results"].as_array().expect("results").iter().filter_map(|r| r["url"].as_str()).collect();
    assert!(!urls.contains(&url), "{url} is hidden for everyone: {urls:?}");
    assert_eq!(after["filtered"]["hidden"], 1);
    assert_eq!(ash.get(go).await.status(), 403, "the old link is refused too");

    let mut dsl = staff(&s.app, "Ms Safe").await;
    let dashboard = teacher.get("/staff").await.text().await.expect("page");
    assert!(dashboard.contains(title), "the teacher sees which result: {dashboard}");
    let id = between(&dashboard, "data-incident=\"", "\"").expect("alert id").to_string();

    // Released: back for everyone.
    let csrf = teacher.csrf_from("/staff").await;
    assert_eq!(teacher.post(&format!("/staff/incidents/{id}/release"), &[("csrf", &csrf)]).await.status(), 303);
    let (_, released) = json(&mut ash, "/search?q=volcanoes&format=json").await;
    assert!(released["results"].as_array().expect("r").iter().any(|r| r["url"] == url), "released");

    // Reported again and kept hidden: stays hidden, also after a restart (it is in SQLite).
    let clear_csrf = teacher.csrf_from("/staff").await;
    teacher.post(&format!("/staff/incidents/{id}/clear"), &[("csrf", &clear_csrf)]).await;
    assert_eq!(oak.post("/help", &[("go", go), ("t", title)]).await.status(), 303);
    let dashboard = teacher.get("/staff").await.text().await.expect("page");
    let id2 = between(&dashboard, "data-incident=\"", "\"").expect("alert id").to_string();
    assert_ne!(id, id2);
    let csrf = teacher.csrf_from("/staff").await;
    assert_eq!(teacher.post(&format!("/staff/incidents/{id2}/keep-hidden"), &[("csrf", &csrf)]).await.status(), 303);
    let (_, kept) = json(&mut ash, "/search?q=volcanoes&format=json").await;
    assert!(!kept["results"].as_array().expect("r").iter().any(|r| r["url"] == url), "kept hidden");
    let detail = dsl.get(&format!("/staff/incidents/{id2}")).await.text().await.expect("page");
    assert!(detail.contains("Now: blocked"), "{detail}");
}

#[tokio::test]
async fn a_forged_result_link_hides_nothing() {
    let s = school(|c| c.supervised_sessions = false).await;
    let mut teacher = staff(&s.app, "Mr Oak").await;
    let mut oak = enrol(&s.app, &mut teacher, "Oak", "iPad 3").await;
    let mut ash = enrol(&s.app, &mut teacher, "Ash", "iPad 1").await;
    let (_, before) = json(&mut ash, "/search?q=volcanoes&format=json").await;
    let url = before["results"][0]["url"].as_str().expect("url").to_string();
    let forged = format!("/go?u={}&s=00000000000000000000000000000000", url::form_urlencoded::byte_serialize(url.as_bytes()).collect::<String>());
    assert_eq!(oak.post("/help", &[("go", &forged), ("t", "x")]).await.status(), 303);
    let (_, after) = json(&mut ash, "/search?q=volcanoes&format=json").await;
    assert_eq!(after["results"][0]["url"], url.as_str(), "nothing hidden by an unsigned link");
    let dashboard = teacher.get("/staff").await.text().await.expect("page");
    let alert = between(&dashboard, "data-incident=\"", "</li>").expect("the alert");
    assert!(alert.contains("Oak — iPad 3") && !alert.contains("Reported result"), "the press is recorded without a result: {alert}");
}

#[tokio::test]
async fn the_register_exports_csv_for_the_dsl_and_refused_searches_are_incidents() {
    let s = school(|_| {}).await;
    let mut teacher = staff(&s.app, "Mr Oak").await;
    let mut oak = enrol(&s.app, &mut teacher, "Oak", "iPad 3").await;
    open_search(&mut teacher, "Oak", "45").await;
    let mut stream = common::alert_stream(&teacher).await;

    assert_eq!(json(&mut oak, "/search?q=free+p0rn&format=json").await.1["status"], "blocked");
    let event = next_event(&mut stream, "refused_query", Duration::from_secs(1)).await;
    assert!(event.contains("\"category\":\"sexual\""), "{event}");
    // A query that a spreadsheet would run as a formula.
    assert_eq!(oak.post("/help", &[("q", "=HYPERLINK(\"http://x\")"), ("page", "1")]).await.status(), 303);

    assert_eq!(teacher.get("/staff/incidents").await.status(), 403, "the register is for the DSL and admin");
    assert_eq!(teacher.get("/staff/incidents.csv").await.status(), 403);
    let mut dsl = staff(&s.app, "Ms Safe").await;
    let csv = dsl.get("/staff/incidents.csv").await;
    assert_eq!(csv.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("text/csv; charset=utf-8"));
    let text = csv.text().await.expect("csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader.headers().expect("headers").iter().map(str::to_string).collect();
    assert_eq!(headers, kidsearch::safeguarding::export::COLUMNS.to_vec());
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows parse");
    assert_eq!(rows.len(), 2, "{text}");
    let col = |name: &str| headers.iter().position(|h| h == name).expect("column");
    let press = &rows[0];
    assert_eq!(&press[col("kind")], "tell_adult");
    assert_eq!(&press[col("device")], "Oak — iPad 3");
    assert_eq!(&press[col("class")], "Oak");
    assert_eq!(&press[col("school")], "Our school", "the install's one school, by name");
    assert_eq!(&press[col("query")], "'=HYPERLINK(\"http://x\")", "a formula is defused");
    assert_eq!(&press[col("status")], "new");
    let refused = &rows[1];
    assert_eq!((&refused[col("kind")], &refused[col("category")], &refused[col("query")]), ("refused_query", "sexual", "free p0rn"));

    // The DSL reviews: status, notes, who.
    let id = &refused[col("id")];
    let csrf = dsl.csrf_from(&format!("/staff/incidents/{id}")).await;
    let saved = dsl.post(&format!("/staff/incidents/{id}/review"), &[("csrf", &csrf), ("status", "recorded"), ("notes", "Logged on CPOMS")]).await;
    assert_eq!(saved.status(), 303);
    let text = dsl.get("/staff/incidents.csv").await.text().await.expect("csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let row = reader.records().nth(1).expect("row").expect("parses");
    assert_eq!((&row[col("status")], &row[col("reviewed_by")], &row[col("notes")]), ("recorded", "Ms Safe", "Logged on CPOMS"));

    // The activity log has the refused query against the device and class.
    let log = teacher.get("/staff/activity?kind=refused&class=Oak").await.text().await.expect("page");
    assert!(log.contains("free p0rn") && log.contains("Oak — iPad 3"), "{log}");
    let none = teacher.get("/staff/activity?kind=refused&class=Ash").await.text().await.expect("page");
    assert!(!none.contains("free p0rn"));
}

#[tokio::test]
async fn the_retention_purge_deletes_old_activity_and_incidents_only() {
    let s = school(|c| {
        c.retention_activity_days = 30;
        c.retention_incident_days = 365;
    })
    .await;
    let mut teacher = staff(&s.app, "Mr Oak").await;
    let mut oak = enrol(&s.app, &mut teacher, "Oak", "iPad 3").await;
    open_search(&mut teacher, "Oak", "45").await;
    assert_eq!(json(&mut oak, "/search?q=free+p0rn&format=json").await.1["status"], "blocked");
    let mut admin = staff(&s.app, "Tech").await;
    assert!(admin.get("/staff/activity").await.text().await.expect("page").contains("Activity is kept for 30 days"));

    async fn purge_now(admin: &mut Browser<'_>) -> String {
        // (Purge asks first; "Yes" does it and says how much went on the activity page.)
        let csrf = admin.csrf_from("/staff/activity").await;
        assert_eq!(admin.post("/staff/retention/purge", &[("csrf", &csrf), ("confirm", "yes")]).await.status(), 303);
        admin.get("/staff/activity").await.text().await.expect("page")
    }
    assert!(purge_now(&mut admin).await.contains("Deleted 0 activity rows and 0 incidents"));

    // 31 days on: the activity row goes, the incident stays.
    s.clock.set(s.clock_now() + 31 * 86_400_000);
    assert!(purge_now(&mut admin).await.contains("Deleted 1 activity rows and 0 incidents"));
    let mut dsl = staff(&s.app, "Ms Safe").await;
    assert!(dsl.get("/staff/incidents").await.text().await.expect("page").contains("free p0rn"));
    // A year on: the incident goes too.
    s.clock.set(s.clock_now() + 366 * 86_400_000);
    let gone = purge_now(&mut admin).await;
    assert!(gone.contains("and 1 incidents"), "{gone}");
    assert!(!dsl.get("/staff/incidents").await.text().await.expect("page").contains("free p0rn"));
    // Only an admin may purge.
    let csrf = teacher.csrf_from("/staff").await;
    assert_eq!(teacher.post("/staff/retention/purge", &[("csrf", &csrf), ("confirm", "yes")]).await.status(), 403);
}

#[tokio::test]
async fn a_press_survives_kill_9_and_the_screen_stays_covered() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut server = common::RealServer::new(&upstream);
    let app = server.start().await;
    let press = app
        .client
        .post(format!("{}/help", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("q=volcanoes&page=1")
        .send()
        .await
        .expect("press");
    assert_eq!(press.status(), 303);
    let covered_at = press.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_string();
    assert!(covered_at.starts_with("/help?i="), "{covered_at}");
    server.kill_9();
    let app = server.start().await;
    let page = app.get(&covered_at).await;
    assert_eq!(page.status(), 200, "the incident was committed before the answer");
    assert!(page.text().await.expect("page").contains("Tell an adult now."), "still covered after the restart");
}

#[tokio::test]
async fn a_staff_form_whose_back_has_a_line_break_still_lands_on_a_staff_page() {
    // The attack: a dashboard form posted with `back=/staff\r\nX-Evil: 1` (a header-injection
    // attempt, or a page that copied a pasted URL). The screen was cleared first, then the
    // redirect could not be built from that value and the teacher got a 500 for an action that
    // had happened. Now a target that is not a plain staff path is replaced by the dashboard
    // before anything is done, and no header is injected.
    let s = school(|c| c.supervised_sessions = false).await;
    let mut teacher = staff(&s.app, "Mr Oak").await;
    let mut oak = enrol(&s.app, &mut teacher, "Oak", "iPad 3").await;
    let (_, answer) = json(&mut oak, "/search?q=volcanoes&format=json").await;
    let (title, go) = (answer["results"][0]["title"].as_str().expect("title"), answer["results"][0]["go"].as_str().expect("go"));
    assert_eq!(oak.post("/help", &[("q", "volcanoes"), ("go", go), ("t", title)]).await.status(), 303);
    let dashboard = teacher.get("/staff").await.text().await.expect("page");
    let id = between(&dashboard, "data-incident=\"", "\"").expect("alert id").to_string();

    for (action, back) in [("clear", "/staff\r\nX-Evil: 1"), ("release", "/staff/incidents\n\t/x")] {
        let csrf = teacher.csrf_from("/staff").await;
        let answer = teacher.post(&format!("/staff/incidents/{id}/{action}"), &[("csrf", &csrf), ("back", back)]).await;
        assert_eq!(answer.status(), 303, "{action} with a broken back: {:?}", answer.text().await);
        assert_eq!(answer.headers().get("location").and_then(|v| v.to_str().ok()), Some("/staff"), "{action}");
        assert!(answer.headers().get("x-evil").is_none());
    }
    assert_eq!(json(&mut oak, "/help/status").await.1, serde_json::json!({ "covered": false }), "the clear happened once");
    // A plain staff target is still followed.
    assert_eq!(oak.post("/help", &[("q", "volcanoes")]).await.status(), 303);
    let dashboard = teacher.get("/staff").await.text().await.expect("page");
    let second = between(&dashboard, "data-incident=\"", "\"").expect("alert id").to_string();
    let csrf = teacher.csrf_from("/staff").await;
    let back = format!("/staff/incidents/{second}");
    let cleared = teacher.post(&format!("/staff/incidents/{second}/clear"), &[("csrf", &csrf), ("back", &back)]).await;
    assert_eq!((cleared.status().as_u16(), cleared.headers().get("location").and_then(|v| v.to_str().ok())), (303, Some(back.as_str())));
}

#[tokio::test]
async fn a_result_title_that_hides_a_formula_behind_a_byte_order_mark_is_defused_in_the_csv() {
    // The attack: a hostile engine titles a result "\u{FEFF}=HYPERLINK(…)"; a pupil reports it
    // and the DSL opens the register export in a spreadsheet. The BOM at the start got past
    // the `=`/`+`/`-`/`@` check, and spreadsheets that drop a leading BOM (or space, NBSP,
    // full-width `＝`) ran the formula. Such cells now get the leading `'` too.
    let s = school(|c| c.supervised_sessions = false).await;
    let mut teacher = staff(&s.app, "Mr Oak").await;
    let mut oak = enrol(&s.app, &mut teacher, "Oak", "iPad 3").await;
    let (_, answer) = json(&mut oak, "/search?q=volcanoes&format=json").await;
    let go = answer["results"][0]["go"].as_str().expect("go").to_string();
    let hostile = "\u{FEFF}=HYPERLINK(\"http://evil.example/\",\"Click\")";
    assert_eq!(oak.post("/help", &[("q", "volcanoes"), ("go", &go), ("t", hostile)]).await.status(), 303);
    let csrf = teacher.csrf_from("/staff").await;
    let dashboard = teacher.get("/staff").await.text().await.expect("page");
    let id = between(&dashboard, "data-incident=\"", "\"").expect("alert id").to_string();
    assert_eq!(teacher.post(&format!("/staff/incidents/{id}/clear"), &[("csrf", &csrf)]).await.status(), 303);
    // Notes starting with a full-width equals sign, which some spreadsheets read as `=`.
    let mut dsl = staff(&s.app, "Ms Safe").await;
    let csrf = dsl.csrf_from(&format!("/staff/incidents/{id}")).await;
    let notes = "\u{FF1D}1+1";
    assert_eq!(dsl.post(&format!("/staff/incidents/{id}/review"), &[("csrf", &csrf), ("status", "reviewed"), ("notes", notes)]).await.status(), 303);

    let text = dsl.get("/staff/incidents.csv").await.text().await.expect("csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader.headers().expect("headers").iter().map(str::to_string).collect();
    let col = |name: &str| headers.iter().position(|h| h == name).expect("column");
    let row = reader.records().next().expect("a row").expect("parses");
    assert_eq!(&row[col("result_title")], format!("'{hostile}"), "{text}");
    assert_eq!(&row[col("notes")], format!("'{notes}"), "{text}");
}
