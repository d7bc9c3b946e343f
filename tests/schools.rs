//! Schools as tenants, through the real server and CLI: two schools on one install (as on a
//! trust's shared database) see nothing of each other's devices, class windows, approvals,
//! hidden results, alerts and incidents; a trust-wide admin sees both and acts for neither.
//! Runs on SQLite and, in scripts/test.sh's second pass, on PostgreSQL.

mod common;

use std::time::Duration;

use common::{between, enrol, json, kidsearch_cli, open_search, spawn_app_with, test_config, Browser, FixtureUpstream};

const PASSWORD: &str = "plum tree under snow";

#[tokio::test]
async fn two_schools_on_one_install_see_nothing_of_each_other() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut config = test_config(&upstream);
    config.require_enrolment = true;
    config.supervised_sessions = true;
    let dir = config.data_dir.clone();

    // The install's one school is renamed, a second is added; a new account must then say which.
    assert_eq!(kidsearch_cli(&dir, &["school", "rename", "Our school", "Oak Primary"], None).0, 0);
    assert_eq!(kidsearch_cli(&dir, &["school", "add", "Ash Primary"], None).0, 0);
    let (code, out) = kidsearch_cli(&dir, &["school", "add", "ash primary"], None);
    assert_eq!(code, 1, "names are unique whatever their case: {out}");
    let (code, out) = kidsearch_cli(&dir, &["user", "add", "--role", "teacher", "Nobody"], Some(PASSWORD));
    assert!(code == 1 && out.contains("several schools") && out.contains("Ash Primary"), "{out}");
    let (code, out) = kidsearch_cli(&dir, &["user", "add", "--role", "teacher", "--trust", "Nobody"], Some(PASSWORD));
    assert!(code == 1 && out.contains("only an admin"), "{out}");
    for (role, name, school) in [("teacher", "Ms Oak", "Oak Primary"), ("dsl", "Ms Safe", "Oak Primary"), ("teacher", "Mr Ash", "Ash Primary")] {
        let (code, out) = kidsearch_cli(&dir, &["user", "add", "--role", role, "--school", school, name], Some(PASSWORD));
        assert_eq!(code, 0, "{out}");
    }
    assert_eq!(kidsearch_cli(&dir, &["user", "add", "--role", "admin", "--trust", "Trust IT"], Some(PASSWORD)).0, 0);
    let (_, listed) = kidsearch_cli(&dir, &["school", "list"], None);
    assert!(listed.contains("Oak Primary") && listed.contains("Ash Primary"), "{listed}");

    let app = spawn_app_with(config).await;
    let staff = async |name: &str| {
        let mut b = Browser::new(&app);
        assert_eq!(b.sign_in(name, PASSWORD).await.status(), 303, "{name} signs in");
        b
    };
    let mut oak_teacher = staff("Ms Oak").await;
    let mut ash_teacher = staff("Mr Ash").await;
    let mut trust = staff("Trust IT").await;

    // Both schools have a "Year 1"; each iPad belongs to the school whose teacher enrolled it.
    let mut oak_ipad = enrol(&app, &mut oak_teacher, "Year 1", "iPad 1").await;
    let mut ash_ipad = enrol(&app, &mut ash_teacher, "Year 1", "iPad 1").await;
    let devices = ash_teacher.get("/staff/devices").await.text().await.expect("page");
    assert_eq!(devices.matches("iPad 1").count(), 1, "Ash's list has only Ash's iPad: {devices}");

    // Opening Year 1 at Oak opens it at Oak only.
    open_search(&mut oak_teacher, "Year 1", "45").await;
    assert_eq!(json(&mut oak_ipad, "/search?q=volcanoes&format=json").await.1["status"], "ok");
    assert_eq!(json(&mut ash_ipad, "/search?q=volcanoes&format=json").await.1["status"], "closed", "Ash's Year 1 is still resting");
    open_search(&mut ash_teacher, "Year 1", "45").await;

    // An approval at Oak is Oak's.
    common::approve(&mut oak_teacher, "volcanoes", 1, &[], &[]).await;
    assert_eq!(json(&mut oak_ipad, "/search?q=volcanoes&format=json").await.1["approved"], true);
    assert_eq!(json(&mut ash_ipad, "/search?q=volcanoes&format=json").await.1["approved"], false, "not approved at Ash");
    let ash_list = ash_teacher.get("/staff/approvals").await.text().await.expect("page");
    assert!(!ash_list.contains("volcanoes"), "{ash_list}");

    // A result reported at Oak is hidden at Oak, not at Ash; the alert reaches Oak's staff only.
    let mut ash_stream = app
        .client
        .get(format!("{}/staff/alerts/stream", app.address))
        .header("cookie", ash_teacher.cookie.clone().expect("signed in"))
        .send()
        .await
        .expect("stream");
    let (_, before) = json(&mut oak_ipad, "/search?q=dinosaurs&format=json").await;
    let first = &before["results"][0];
    let (url, go, title) = (first["url"].as_str().expect("url"), first["go"].as_str().expect("go"), first["title"].as_str().expect("title"));
    assert_eq!(oak_ipad.post("/help", &[("q", "dinosaurs"), ("page", "1"), ("go", go), ("t", title)]).await.status(), 303);
    let shown = |body: &serde_json::Value| body["results"].as_array().expect("results").iter().any(|r| r["url"] == url);
    let (_, at_ash) = json(&mut ash_ipad, "/search?q=dinosaurs&format=json").await;
    assert!(shown(&at_ash), "still shown at Ash");
    let mut other_oak_ipad = enrol(&app, &mut oak_teacher, "Year 1", "iPad 2").await;
    let (_, at_oak) = json(&mut other_oak_ipad, "/search?q=dinosaurs&format=json").await;
    assert!(!shown(&at_oak), "hidden for every pupil at Oak");

    let oak_dashboard = oak_teacher.get("/staff").await.text().await.expect("page");
    assert!(oak_dashboard.contains("Year 1 — iPad 1") && oak_dashboard.contains(title), "Oak's dashboard has the alert");
    let incident = between(&oak_dashboard, "data-incident=\"", "\"").expect("alert id").to_string();
    let ash_dashboard = ash_teacher.get("/staff").await.text().await.expect("page");
    assert!(!ash_dashboard.contains("data-incident=\""), "no alert on Ash's dashboard: {ash_dashboard}");
    let mut seen = String::new();
    while let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_millis(500), ash_stream.chunk()).await.unwrap_or(Ok(None)) {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(!seen.contains("tell_adult"), "Ash's alert stream stays quiet: {seen}");

    // Ash's staff cannot act on Oak's incident or device by number.
    let csrf = ash_teacher.csrf_from("/staff").await;
    assert_eq!(ash_teacher.post(&format!("/staff/incidents/{incident}/clear"), &[("csrf", &csrf)]).await.status(), 404);
    assert_eq!(json(&mut oak_ipad, "/help/status").await.1["covered"], true, "still covered");
    let oak_devices = oak_teacher.get("/staff/devices").await.text().await.expect("page");
    let device_form = between(&oak_devices, "action=\"/staff/devices/", "/revoke\"").expect("a revoke form").to_string();
    let csrf = ash_teacher.csrf_from("/staff/devices").await;
    assert_eq!(ash_teacher.post(&format!("/staff/devices/{device_form}/revoke"), &[("csrf", &csrf), ("confirm", "yes")]).await.status(), 404);

    // The trust-wide admin sees every school's register, and acts for none.
    let register = trust.get("/staff/incidents").await.text().await.expect("page");
    assert!(register.contains("Oak Primary") && register.contains("dinosaurs"), "{register}");
    let export = trust.get("/staff/incidents.csv").await.text().await.expect("csv");
    assert!(export.lines().any(|l| l.contains("dinosaurs") && l.ends_with("Oak Primary")), "the trust's export names the school: {export}");
    let mut dsl = staff("Ms Safe").await;
    assert!(dsl.get("/staff/incidents").await.text().await.expect("page").contains("dinosaurs"), "Oak's DSL sees Oak's incident");
    let csrf = trust.csrf_from("/staff").await;
    let refused = trust.post("/staff/classes/open", &[("csrf", &csrf), ("class", "Year 1"), ("minutes", "10")]).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.expect("page").contains("school's own staff"));
    let users = trust.get("/staff/users").await.text().await.expect("page");
    assert!(users.contains("Mr Ash") && users.contains("Ms Oak") && users.contains("Ash Primary"), "{users}");
}
