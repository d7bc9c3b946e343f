//! Safeguarding records that cannot be forged, leaked or undone: each test replays one attack
//! from issue 20's findings on the shipped defaults (enrolment and supervised sessions on,
//! two schools, every staff role) through the real server, and checks it now fails.

mod common;

use std::time::{Duration, Instant};

use common::{between, db_rows, enrol, json, kidsearch_cli, spawn_app_with, test_config, Browser, FixtureUpstream, TestApp};

const PASSWORD: &str = "plum tree under snow";

struct Trust {
    _upstream: FixtureUpstream,
    app: TestApp,
}

/// Two schools, Oak Primary (a teacher, the DSL, an admin) and Ash Primary (a teacher), with
/// enrolment on and supervised sessions off (these attacks do not need a window open).
/// `trusted_proxy`: believe 127.0.0.1's X-Forwarded-For, so one test can speak from many
/// addresses of the school LAN.
async fn trust(trusted_proxy: bool) -> Trust {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut config = test_config(&upstream);
    config.require_enrolment = true;
    config.supervised_sessions = false;
    if trusted_proxy {
        config.trusted_proxies = vec!["127.0.0.1".into()];
    }
    let dir = config.data_dir.clone();
    assert_eq!(kidsearch_cli(&dir, &["school", "rename", "Our school", "Oak Primary"], None).0, 0);
    assert_eq!(kidsearch_cli(&dir, &["school", "add", "Ash Primary"], None).0, 0);
    for (role, name, school) in
        [("teacher", "Ms Oak", "Oak Primary"), ("dsl", "Ms Safe", "Oak Primary"), ("admin", "Tech", "Oak Primary"), ("teacher", "Mr Ash", "Ash Primary")]
    {
        let (code, out) = kidsearch_cli(&dir, &["user", "add", "--role", role, "--school", school, name], Some(PASSWORD));
        assert_eq!(code, 0, "{out}");
    }
    let app = spawn_app_with(config).await;
    Trust { _upstream: upstream, app }
}

async fn staff<'a>(app: &'a TestApp, name: &str) -> Browser<'a> {
    let mut b = Browser::new(app);
    assert_eq!(b.sign_in(name, PASSWORD).await.status(), 303, "{name} signs in");
    b
}

/// Everything the stream sends within `within`, and whether it ended by itself.
async fn read_stream(response: &mut reqwest::Response, within: Duration) -> (String, bool) {
    let deadline = Instant::now() + within;
    let mut seen = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, response.chunk()).await {
            Err(_) => return (seen, false),
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(Ok(None)) | Ok(Err(_)) => return (seen, true),
        }
    }
}

/// Reads the stream until `needle` appears.
async fn wait_for(response: &mut reqwest::Response, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut seen = String::new();
    while !seen.contains(needle) {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, response.chunk()).await.unwrap_or_else(|_| panic!("no {needle:?} in {seen}"));
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("stream").expect("open")));
    }
    seen
}

/// The newest alert's incident number on `teacher`'s dashboard.
async fn newest_alert(teacher: &mut Browser<'_>) -> String {
    let dashboard = teacher.get("/staff").await.text().await.expect("page");
    between(&dashboard, "data-incident=\"", "\"").expect("an alert").to_string()
}

/// A POST from a browser with no cookie, as the form on the covered page sends it.
async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> reqwest::Response {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    let mut req = app.client.post(format!("{}{path}", app.address)).header("content-type", "application/x-www-form-urlencoded").body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("post")
}

/// Item 5. Attack: a teacher signs out (or is removed by the admin) and leaves the dashboard's
/// stream open, or keeps a stolen stream going: incidents (device, query) went on arriving.
/// Now the stream asks again before each event and ends instead.
#[tokio::test]
async fn the_alert_stream_ends_with_its_session() {
    let t = trust(false).await;
    let mut teacher = staff(&t.app, "Ms Oak").await;
    let mut ipad = enrol(&t.app, &mut teacher, "Oak", "iPad 1").await;
    let mut second = enrol(&t.app, &mut teacher, "Oak", "iPad 2").await;

    let mut stream = common::alert_stream(&teacher).await;
    wait_for(&mut stream, ": connected").await;
    let csrf = teacher.csrf_from("/staff").await;
    assert_eq!(teacher.post("/staff/logout", &[("csrf", &csrf)]).await.status(), 303);
    assert_eq!(ipad.post("/help", &[("q", "hedgehogs")]).await.status(), 303);
    let (seen, ended) = read_stream(&mut stream, Duration::from_secs(2)).await;
    assert!(!seen.contains("hedgehogs") && !seen.contains("tell_adult"), "nothing reaches a signed-out stream: {seen}");
    assert!(ended, "the stream ended: {seen}");

    // The account removed while its dashboard is open.
    let teacher = staff(&t.app, "Ms Oak").await;
    let mut stream = common::alert_stream(&teacher).await;
    wait_for(&mut stream, ": connected").await;
    let mut admin = staff(&t.app, "Tech").await;
    let oak_id = db_rows(&t.app.data_dir, "SELECT id FROM staff WHERE name = 'Ms Oak'", vec![]).await[0][0].clone().expect("id");
    let csrf = admin.csrf_from("/staff/users").await;
    let removed = admin.post(&format!("/staff/users/{oak_id}/remove"), &[("csrf", &csrf), ("left", "yes")]).await.text().await.expect("page");
    assert!(removed.contains("Removed Ms Oak"), "{removed}");
    assert_eq!(second.post("/help", &[("q", "badgers")]).await.status(), 303);
    let (seen, ended) = read_stream(&mut stream, Duration::from_secs(2)).await;
    assert!(!seen.contains("badgers"), "nothing reaches a removed account's stream: {seen}");
    assert!(ended, "{seen}");
    drop(teacher);
}

/// Item 6. Attack: a teacher's dashboard stream received the DSL's review of an incident in
/// its `cleared` event (status, notes naming a social-services referral, who reviewed),
/// although the same teacher gets 403 on that incident's page.
#[tokio::test]
async fn dashboard_events_carry_none_of_the_dsls_review() {
    let t = trust(false).await;
    let mut teacher = staff(&t.app, "Ms Oak").await;
    let mut dsl = staff(&t.app, "Ms Safe").await;
    let mut ipad = enrol(&t.app, &mut teacher, "Oak", "iPad 1").await;
    assert_eq!(ipad.post("/help", &[("q", "owls")]).await.status(), 303);
    let id = newest_alert(&mut teacher).await;
    let csrf = dsl.csrf_from(&format!("/staff/incidents/{id}")).await;
    let review = dsl.post(&format!("/staff/incidents/{id}/review"), &[("csrf", &csrf), ("status", "recorded"), ("notes", "Referred to social services")]).await;
    assert_eq!(review.status(), 303);
    assert_eq!(teacher.get(&format!("/staff/incidents/{id}")).await.status(), 403, "the register is not the teacher's");

    let mut stream = common::alert_stream(&teacher).await;
    wait_for(&mut stream, ": connected").await;
    let csrf = dsl.csrf_from("/staff").await;
    assert_eq!(dsl.post(&format!("/staff/incidents/{id}/clear"), &[("csrf", &csrf)]).await.status(), 303);
    let event = wait_for(&mut stream, "event: cleared").await;
    let event = &event[event.find("event: cleared").expect("cleared")..];
    for secret in ["social services", "Referred", "notes", "reviewed_by", "recorded", "Ms Safe"] {
        assert!(!event.contains(secret), "{secret:?} reached a teacher: {event}");
    }
    assert!(event.contains("Oak — iPad 1") && event.contains("cleared_ms"), "what the dashboard needs is there: {event}");
}

/// Item 7. Attack: the DSL keeps a reported result hidden for good; a teacher then presses
/// "Release it" (a form still on an old dashboard) and the result was back for every pupil.
#[tokio::test]
async fn a_teacher_cannot_undo_the_dsls_decision() {
    let t = trust(false).await;
    let mut teacher = staff(&t.app, "Ms Oak").await;
    let mut dsl = staff(&t.app, "Ms Safe").await;
    let mut ipad = enrol(&t.app, &mut teacher, "Oak", "iPad 1").await;
    let mut other = enrol(&t.app, &mut teacher, "Oak", "iPad 2").await;
    let (_, before) = json(&mut ipad, "/search?q=volcanoes&format=json").await;
    let (url, go, title) = (before["results"][0]["url"].as_str().expect("url").to_string(), before["results"][0]["go"].as_str().expect("go").to_string(), "x");
    assert_eq!(ipad.post("/help", &[("go", &go), ("t", title)]).await.status(), 303);
    let id = newest_alert(&mut teacher).await;
    let old_dashboard_csrf = teacher.csrf_from("/staff").await;

    let csrf = dsl.csrf_from("/staff").await;
    assert_eq!(dsl.post(&format!("/staff/incidents/{id}/keep-hidden"), &[("csrf", &csrf)]).await.status(), 303);
    let release = teacher.post(&format!("/staff/incidents/{id}/release"), &[("csrf", &old_dashboard_csrf)]).await;
    assert_eq!(release.status(), 409, "the teacher is told it was decided");
    let (_, after) = json(&mut other, "/search?q=volcanoes&format=json").await;
    assert!(!after["results"].as_array().expect("results").iter().any(|r| r["url"] == url.as_str()), "still hidden for every pupil");
    let state = db_rows(&t.app.data_dir, "SELECT state, decided_by FROM hidden_results", vec![]).await;
    assert_eq!(state, vec![vec![Some("blocked".into()), Some("Ms Safe".into())]]);

    // A pupil reporting the same result again (an old signed link) does not reopen it for a
    // teacher to release either.
    let clear_csrf = dsl.csrf_from("/staff").await;
    dsl.post(&format!("/staff/incidents/{id}/clear"), &[("csrf", &clear_csrf)]).await;
    assert_eq!(ipad.post("/help", &[("go", &go), ("t", title)]).await.status(), 303);
    let again = newest_alert(&mut teacher).await;
    assert_ne!(again, id);
    let csrf = teacher.csrf_from("/staff").await;
    assert_ne!(teacher.post(&format!("/staff/incidents/{again}/release"), &[("csrf", &csrf)]).await.status(), 303);
    let state = db_rows(&t.app.data_dir, "SELECT state FROM hidden_results", vec![]).await;
    assert_eq!(state, vec![vec![Some("blocked".into())]]);

    // The DSL herself may change her mind.
    let csrf = dsl.csrf_from("/staff").await;
    assert_eq!(dsl.post(&format!("/staff/incidents/{id}/release"), &[("csrf", &csrf)]).await.status(), 303);
}

/// Item 8. Attack: 250 presses from browsers that are not enrolled in a few seconds, and a
/// real pupil's alert from before them fell off the dashboard (it listed the newest 200).
/// Now every enrolled iPad's open alert stays; anonymous presses from one address are limited.
#[tokio::test]
async fn anonymous_presses_never_push_an_ipads_alert_off_the_dashboard() {
    let t = trust(true).await;
    let mut teacher = staff(&t.app, "Ms Oak").await;
    let mut ipad = enrol(&t.app, &mut teacher, "Oak", "iPad 7").await;
    assert_eq!(ipad.post("/help", &[("q", "spiders")]).await.status(), 303);
    let real = newest_alert(&mut teacher).await;

    // From 250 addresses: each press is recorded (a press is never refused)...
    for n in 0..250 {
        let address = format!("10.9.{}.{}", n / 200, n % 200 + 1);
        assert_eq!(post_form(&t.app, "/help", &[("q", "x")], &[("x-forwarded-for", &address)]).await.status(), 303);
    }
    let dashboard = teacher.get("/staff").await.text().await.expect("page");
    assert!(dashboard.contains(&format!("data-incident=\"{real}\"")) && dashboard.contains("Oak — iPad 7"), "the iPad's alert is still on the dashboard");

    // ...but one address raises five alerts at most in ten minutes, and still sees the
    // covered screen after that.
    let before = db_rows(&t.app.data_dir, "SELECT COUNT(*) FROM incidents", vec![]).await[0][0].clone();
    let mut answers = Vec::new();
    for _ in 0..8 {
        let r = post_form(&t.app, "/help", &[("q", "x")], &[("x-forwarded-for", "10.8.0.1")]).await;
        answers.push(r.status().as_u16());
        if r.status() == 429 {
            assert!(r.text().await.expect("page").contains("Tell an adult now."), "the child still gets the covered screen");
        }
    }
    assert_eq!(answers, vec![303, 303, 303, 303, 303, 429, 429, 429]);
    let after = db_rows(&t.app.data_dir, "SELECT COUNT(*) FROM incidents", vec![]).await[0][0].clone();
    let (after, before): (i64, i64) = (after.expect("n").parse().expect("n"), before.expect("n").parse().expect("n"));
    assert_eq!(after - before, 5);

    // An enrolled iPad is never limited.
    for _ in 0..8 {
        let id = newest_alert(&mut teacher).await;
        let csrf = teacher.csrf_from("/staff").await;
        teacher.post(&format!("/staff/incidents/{id}/clear"), &[("csrf", &csrf)]).await;
        assert_eq!(ipad.post("/help", &[("q", "spiders")]).await.status(), 303);
        assert_eq!(ipad.get("/").await.status(), 303, "covered again");
    }
}

/// Item 9. Attack: `POST /help/clear` took the incident number from the form and checked the
/// code of the requester's school: a browser with no cookie cleared Ash Primary's iPad with
/// Oak Primary's code, and one iPad cleared another's screen.
#[tokio::test]
async fn an_adult_code_clears_only_its_own_screen_with_its_own_schools_code() {
    let t = trust(false).await;
    let mut oak_teacher = staff(&t.app, "Ms Oak").await;
    let mut ash_teacher = staff(&t.app, "Mr Ash").await;
    let mut oak_ipad = enrol(&t.app, &mut oak_teacher, "Oak", "iPad 1").await;
    let mut ash_ipad = enrol(&t.app, &mut ash_teacher, "Ash", "iPad 1").await;
    let code = |html: &str| between(html, "<span class=\"adult-code\">", "<").expect("today's code").to_string();
    let oak_code = code(&oak_teacher.get("/staff").await.text().await.expect("page"));
    let ash_code = code(&ash_teacher.get("/staff").await.text().await.expect("page"));
    assert_ne!(oak_code, ash_code);

    assert_eq!(ash_ipad.post("/help", &[("q", "frogs")]).await.status(), 303);
    let ash_incident = newest_alert(&mut ash_teacher).await;
    // A browser with no cookie, naming the incident, with the other school's code.
    let r = post_form(&t.app, "/help/clear", &[("i", &ash_incident), ("code", &oak_code)], &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(ash_ipad.get("/").await.status(), 303, "Ash's iPad is still covered");
    // ...and even with the right school's code: the incident is not that browser's.
    post_form(&t.app, "/help/clear", &[("i", &ash_incident), ("code", &ash_code)], &[]).await;
    assert_eq!(ash_ipad.get("/").await.status(), 303, "still covered");
    // Another iPad, uncovered, naming the incident with its own code.
    oak_ipad.post("/help/clear", &[("i", &ash_incident), ("code", &oak_code)]).await;
    assert_eq!(ash_ipad.get("/").await.status(), 303, "still covered");
    // Its own school's code on the iPad itself clears it.
    assert_eq!(ash_ipad.post("/help/clear", &[("code", &oak_code)]).await.status(), 200, "another school's code is wrong here");
    assert_eq!(ash_ipad.get("/").await.status(), 303);
    assert_eq!(ash_ipad.post("/help/clear", &[("code", &ash_code)]).await.status(), 303);
    assert_eq!(ash_ipad.get("/").await.status(), 200, "cleared by its own school's code");
}

/// Item 10. Attack: "5 wrong codes per device" was counted per cookie or address, so posting
/// without the cookie or from other addresses tried as many codes as wanted. Now tries are
/// counted per covered screen, and per school over every screen.
#[tokio::test]
async fn wrong_codes_are_counted_per_screen_and_per_school_whoever_sends_them() {
    let t = trust(true).await;
    let mut teacher = staff(&t.app, "Ms Oak").await;
    let code = between(&teacher.get("/staff").await.text().await.expect("page"), "<span class=\"adult-code\">", "<").expect("code").to_string();
    let press = |address: String| {
        let app = &t.app;
        async move {
            let r = post_form(app, "/help", &[("q", "x")], &[("x-forwarded-for", &address)]).await;
            let at = r.headers().get("location").and_then(|v| v.to_str().ok()).expect("to the covered screen").to_string();
            at.strip_prefix("/help?i=").expect("the screen's token").to_string()
        }
    };
    // One covered screen, five wrong codes each from another address: then even the right
    // code is refused there, and only a dashboard clears it.
    let token = press("10.1.0.1".into()).await;
    for n in 0..5 {
        post_form(&t.app, "/help/clear", &[("i", &token), ("code", "111111")], &[("x-forwarded-for", &format!("10.2.0.{n}"))]).await;
    }
    let page = post_form(&t.app, "/help/clear", &[("i", &token), ("code", &code)], &[("x-forwarded-for", "10.3.0.1")]).await.text().await.expect("page");
    assert!(page.contains("Too many wrong codes"), "{page}");
    assert_eq!(json(&mut Browser::new(&t.app), &format!("/help/status?i={token}")).await.1["covered"], true);

    // Across screens: thirty wrong codes at one school (six screens, five each) and the
    // school's codes rest; a fresh screen's right code is refused too.
    for n in 0..6 {
        let token = press(format!("10.4.0.{n}")).await;
        for _ in 0..5 {
            post_form(&t.app, "/help/clear", &[("i", &token), ("code", "222222")], &[("x-forwarded-for", &format!("10.5.0.{n}"))]).await;
        }
    }
    let fresh = press("10.6.0.1".into()).await;
    let page = post_form(&t.app, "/help/clear", &[("i", &fresh), ("code", &code)], &[("x-forwarded-for", "10.6.0.1")]).await.text().await.expect("page");
    assert!(page.contains("Too many wrong codes"), "{page}");
}

/// Item 11. Attack: a page on another site navigated the iPad to `/search?q=<harmful words>`
/// (the device cookie is SameSite=Lax, so it went along) and filed a refused-search incident,
/// an activity row and a live alert under that iPad; another site's auto-submitted form
/// enrolled a browser; `Origin: null` (a sandboxed frame) was taken as our own page.
#[tokio::test]
async fn another_sites_requests_write_nothing_to_a_pupils_record() {
    let t = trust(false).await;
    let mut teacher = staff(&t.app, "Ms Oak").await;
    let ipad = enrol(&t.app, &mut teacher, "Oak", "iPad 1").await;
    let mut stream = common::alert_stream(&teacher).await;
    wait_for(&mut stream, ": connected").await;
    let navigate = |site: &'static str| {
        let (app, cookie) = (&t.app, ipad.cookie.clone().expect("device"));
        async move {
            let r = app
                .client
                .get(format!("{}/search?q=free+p0rn&format=json", app.address))
                .header("cookie", cookie)
                .header("sec-fetch-site", site)
                .header("sec-fetch-mode", "navigate")
                .send()
                .await
                .expect("search");
            serde_json::from_slice::<serde_json::Value>(&r.bytes().await.expect("body")).expect("json")["status"].clone()
        }
    };
    for site in ["cross-site", "same-site"] {
        assert_eq!(navigate(site).await, "blocked", "still refused");
    }
    let count = |sql: &'static str| db_rows(&t.app.data_dir, sql, vec![]);
    assert_eq!(count("SELECT COUNT(*) FROM incidents").await[0][0].as_deref(), Some("0"), "no incident from another site's navigation");
    assert_eq!(count("SELECT COUNT(*) FROM activity").await[0][0].as_deref(), Some("0"), "no activity row either");
    let (seen, _) = read_stream(&mut stream, Duration::from_millis(500)).await;
    assert!(!seen.contains("refused_query"), "no alert: {seen}");
    // The pupil's own typing (address bar: `none`) and our own pages are recorded.
    for site in ["none", "same-origin"] {
        assert_eq!(navigate(site).await, "blocked");
    }
    assert_eq!(count("SELECT COUNT(*) FROM incidents").await[0][0].as_deref(), Some("2"));
    wait_for(&mut stream, "refused_query").await;

    // Enrolment: another site's auto-submitted form does not use the link up.
    let csrf = teacher.csrf_from("/staff/devices").await;
    let html = teacher.post("/staff/devices", &[("csrf", &csrf), ("class", "Oak"), ("label", "iPad 9")]).await.text().await.expect("page");
    let link = between(&html, "id=\"enrol-link\" href=\"", "\"").expect("link").to_string();
    let path = &link[link.find("/enrol/").expect("path")..];
    for (header, value) in [("origin", "https://evil.example"), ("origin", "null"), ("sec-fetch-site", "cross-site")] {
        let r = post_form(&t.app, path, &[], &[(header, value)]).await;
        assert_eq!(r.status(), 403, "{header}: {value}");
        assert!(r.headers().get("set-cookie").is_none());
    }
    assert_eq!(post_form(&t.app, path, &[], &[("origin", &t.app.address)]).await.status(), 200, "the link still works from its own page");

    // The button and the adult code refuse `Origin: null`.
    let before = count("SELECT COUNT(*) FROM incidents").await;
    let r = post_form(&t.app, "/help", &[("q", "x")], &[("cookie", &ipad.cookie.clone().expect("device")), ("origin", "null")]).await;
    assert_eq!(r.status(), 403);
    assert_eq!(count("SELECT COUNT(*) FROM incidents").await, before);
    assert_eq!(post_form(&t.app, "/help/clear", &[("code", "1")], &[("origin", "null")]).await.status(), 403);
}

/// Item 12. Attack: a teacher approved "the gruffalo" for class Oak; a Willow iPad got Oak's
/// frozen copy and its tile on the board.
#[tokio::test]
async fn an_approval_for_one_class_reaches_that_class_only() {
    let t = trust(false).await;
    let mut teacher = staff(&t.app, "Ms Oak").await;
    let mut oak = enrol(&t.app, &mut teacher, "oak", "iPad 1").await;
    let mut willow = enrol(&t.app, &mut teacher, "Willow", "iPad 1").await;
    common::approve(&mut teacher, "volcanoes", 1, &[], &[("class", "Oak"), ("picture", "🌋")]).await;

    let (_, oak_answer) = json(&mut oak, "/search?q=volcanoes&format=json").await;
    assert_eq!(oak_answer["approved"], true, "class names match whatever their case");
    let (_, willow_answer) = json(&mut willow, "/search?q=volcanoes&format=json").await;
    assert_eq!(willow_answer["approved"], false, "Willow gets a live search, not Oak's copy");
    assert!(oak.get("/").await.text().await.expect("page").contains("🌋"), "Oak's board has it");
    assert!(!willow.get("/").await.text().await.expect("page").contains("🌋"), "Willow's board does not");

    // A whole-school approval of the same words reaches Willow; Oak keeps its own.
    common::approve(&mut teacher, "volcanoes", 2, &[], &[]).await;
    let (_, willow_answer) = json(&mut willow, "/search?q=volcanoes&format=json").await;
    assert_eq!((willow_answer["approved"].clone(), willow_answer["max_pages"].clone()), (true.into(), 2.into()));
}

/// Item 14 (first half). Attack: `/help/status?i=N` told any browser whether incident N's
/// screen was covered. Now only the device (or the browser) that pressed is answered.
#[tokio::test]
async fn only_the_pressing_browser_learns_whether_its_screen_is_covered() {
    let t = trust(false).await;
    let mut teacher = staff(&t.app, "Ms Oak").await;
    let mut ipad = enrol(&t.app, &mut teacher, "Oak", "iPad 1").await;
    assert_eq!(ipad.post("/help", &[("q", "x")]).await.status(), 303);
    let id = newest_alert(&mut teacher).await;
    let mut stranger = Browser::new(&t.app);
    assert_eq!(json(&mut stranger, &format!("/help/status?i={id}")).await.1["covered"], false);
    assert_eq!(json(&mut ipad, "/help/status").await.1["covered"], true);
    // A browser that is not enrolled learns it for its own press, by the token it was given.
    let r = post_form(&t.app, "/help", &[("q", "x")], &[]).await;
    let at = r.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_string();
    let token = at.strip_prefix("/help?i=").expect("token");
    assert_eq!(json(&mut stranger, &format!("/help/status?i={token}")).await.1["covered"], true);
    let number = token.split('.').next().expect("number");
    assert_eq!(json(&mut stranger, &format!("/help/status?i={number}")).await.1["covered"], false, "the number alone names nothing");
    assert_eq!(stranger.get(&format!("/help?i={number}")).await.status(), 303, "nor shows the covered page");
}

/// Item 13. Attack: `/go` links never expired and were not tied to a school: a link kept from
/// one school's results page redirected on another school's iPad, a month-old link still
/// worked, and a link made before `walled_garden = true` still redirected outside the garden.
#[tokio::test]
async fn go_links_work_for_their_own_school_for_a_day_and_are_checked_when_clicked() {
    let t = trust(false).await;
    let mut oak_teacher = staff(&t.app, "Ms Oak").await;
    let mut ash_teacher = staff(&t.app, "Mr Ash").await;
    let mut oak = enrol(&t.app, &mut oak_teacher, "Oak", "iPad 1").await;
    let mut ash = enrol(&t.app, &mut ash_teacher, "Ash", "iPad 1").await;
    let (_, answer) = json(&mut oak, "/search?q=volcanoes&format=json").await;
    let go = answer["results"][0]["go"].as_str().expect("go").to_string();
    assert_eq!(oak.get(&go).await.status(), 303, "its own school's pupils follow it");
    assert_eq!(ash.get(&go).await.status(), 400, "another school's do not");

    let signer = kidsearch::policy::golink::LinkSigner::load_or_create(&t.app.data_dir).expect("the app's key");
    let url = answer["results"][0]["url"].as_str().expect("url");
    let three_days_ago = kidsearch::store::now_ms() - 3 * 86_400_000;
    let old = oak.get(&signer.go_link_at(1, three_days_ago, url)).await;
    assert_eq!(old.status(), 410);
    assert!(old.text().await.expect("page").contains("This link is from another day"));
    let yesterday = signer.go_link_at(1, kidsearch::store::now_ms() - 86_400_000, url);
    assert_eq!(oak.get(&yesterday).await.status(), 303, "a page kept open since yesterday still works");
}

#[tokio::test]
async fn a_link_made_before_the_walled_garden_was_turned_on_is_refused_when_clicked() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut config = test_config(&upstream);
    config.walled_garden = true;
    let app = spawn_app_with(config).await;
    let signer = kidsearch::policy::golink::LinkSigner::load_or_create(&app.data_dir).expect("the app's key");
    // Signed as it was on a page from before the garden: the link verifies, its host is outside.
    let response = app.get(&signer.go_link(1, "https://outside-the-garden.example/page")).await;
    assert_eq!(response.status(), 403);
    assert!(response.text().await.expect("page").contains("ask a grown-up"));
    let inside = app.get(&signer.go_link(1, "https://www.dkfindout.com/uk/earth/volcanoes/")).await;
    assert_eq!(inside.status(), 303, "a garden site is followed");
}

/// Item 14 (second half). Attack: a pupil's JSON named why an engine failed in full: the
/// internal address it could not reach, the parser's message. Now a pupil gets the kind of
/// failure; a teacher's pre-run page gets the detail.
#[tokio::test]
async fn pupils_get_an_engines_kind_of_failure_and_staff_the_detail() {
    let upstream = FixtureUpstream::start(&["bing", "mojeek"]).await;
    upstream.set_scenario("mojeek", common::Scenario::ServerError);
    let config = test_config(&upstream);
    assert_eq!(common::add_user(&config.data_dir, "teacher", "Ms Oak", PASSWORD).0, 0);
    let app = spawn_app_with(config).await;
    let (_, body) = app.search_json("volcanoes", 1).await;
    let mojeek = body["engines"].as_array().expect("engines").iter().find(|e| e["id"] == "mojeek").expect("mojeek").clone();
    assert_eq!(mojeek, serde_json::json!({ "id": "mojeek", "ok": false, "error": "http_status" }));
    assert!(!body.to_string().contains("127.0.0.1") && !body.to_string().contains("HTTP 500"), "{body}");
    let mut teacher = staff(&app, "Ms Oak").await;
    let prerun = teacher.get("/staff/prerun?q=volcanoes&engine=mojeek&pages=1").await.text().await.expect("page");
    assert!(prerun.contains("mojeek: answered HTTP 500"), "{prerun}");
}
