//! The first run in the browser (issue 28): while no staff account exists, `/staff` offers
//! "Create the first admin" to a browser on the server's own machine, or to one holding the
//! setup code from the server's log; refused otherwise, and gone once an admin exists.

mod common;

use std::time::{Duration, Instant};

use common::{add_user, db_rows, hidden_field, spawn_app_with, test_config, Browser, FixtureUpstream, RealServer, TestApp};

const PASSWORD: &str = "plum tree under snow";

/// A request to the app with extra headers (a proxy's, or another Host), keeping the cookie.
struct Visitor<'a> {
    app: &'a TestApp,
    headers: Vec<(&'static str, String)>,
    cookie: Option<String>,
}

impl Visitor<'_> {
    fn new<'a>(app: &'a TestApp, headers: &[(&'static str, &str)]) -> Visitor<'a> {
        Visitor { app, headers: headers.iter().map(|(k, v)| (*k, v.to_string())).collect(), cookie: None }
    }

    async fn send(&mut self, mut req: reqwest::RequestBuilder) -> (u16, String) {
        for (k, v) in &self.headers {
            req = req.header(*k, v);
        }
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let response = req.send().await.expect("request");
        if let Some(set) = response.headers().get("set-cookie") {
            self.cookie = set.to_str().ok().and_then(|s| s.split(';').next()).map(str::to_string);
        }
        let status = response.status().as_u16();
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let text = response.text().await.unwrap_or_default();
        (status, if status == 303 { location } else { text })
    }

    async fn get(&mut self, path: &str) -> (u16, String) {
        let req = self.app.client.get(format!("{}{path}", self.app.address));
        self.send(req).await
    }

    /// Fills in the setup form as shown and sends it.
    async fn create(&mut self, name: &str, code: Option<&str>) -> (u16, String) {
        let (status, form) = self.get("/staff/setup").await;
        if status != 200 {
            return (status, form);
        }
        let csrf = hidden_field(&form, "csrf");
        let mut fields = vec![("csrf", csrf.as_str()), ("name", name), ("password", PASSWORD)];
        if let Some(code) = code {
            fields.push(("code", code));
        }
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let req = self.app.client.post(format!("{}/staff/setup", self.app.address)).header("content-type", "application/x-www-form-urlencoded").body(body);
        self.send(req).await
    }
}

async fn staff_count(app: &TestApp) -> usize {
    db_rows(&app.data_dir, "SELECT name FROM staff", vec![]).await.len()
}

#[tokio::test]
async fn a_browser_on_the_server_itself_creates_the_first_admin_and_then_the_way_is_gone() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let app = spawn_app_with(test_config(&upstream)).await;
    let mut here = Visitor::new(&app, &[]);
    let (status, login) = here.get("/staff/login").await;
    assert_eq!(status, 200);
    assert!(login.contains("Create the first admin") && login.contains("/staff/setup"), "{login}");
    let (status, form) = here.get("/staff/setup").await;
    assert_eq!(status, 200);
    assert!(!form.contains("name=\"code\""), "no code is asked on the server's own machine: {form}");

    assert_eq!(here.create("Mr Tech", None).await, (303, "/staff".to_string()));
    let (status, home) = here.get("/staff").await;
    assert_eq!(status, 200);
    assert!(home.contains("Mr Tech") && home.contains("admin"), "signed in as the new admin: {home}");
    assert_eq!(staff_count(&app).await, 1);

    // Gone for good: the page, the form's target and the login page's offer.
    assert_eq!(Visitor::new(&app, &[]).get("/staff/setup").await.0, 404);
    assert_eq!(Visitor::new(&app, &[]).create("Someone Else", None).await.0, 404);
    let (_, login) = Visitor::new(&app, &[]).get("/staff/login").await;
    assert!(!login.contains("Create the first admin") && login.contains("Staff sign in"), "{login}");
    assert_eq!(staff_count(&app).await, 1);
}

#[tokio::test]
async fn two_browsers_at_once_make_one_admin() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let app = spawn_app_with(test_config(&upstream)).await;
    let (mut a, mut b) = (Visitor::new(&app, &[]), Visitor::new(&app, &[]));
    let (first, second) = tokio::join!(a.create("Ms First", None), b.create("Mr Second", None));
    let mut statuses = [first.0, second.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 404], "{first:?} {second:?}");
    assert_eq!(staff_count(&app).await, 1);
}

#[tokio::test]
async fn not_from_this_machine_and_no_code_is_refused() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let config = kidsearch::config::ServerConfig { trusted_proxies: vec!["127.0.0.1".into()], ..test_config(&upstream) };
    let app = spawn_app_with(config).await;
    // Through the trusted proxy, for a browser elsewhere on the LAN.
    let mut elsewhere = Visitor::new(&app, &[("x-forwarded-for", "192.168.1.40")]);
    let (status, form) = elsewhere.get("/staff/setup").await;
    assert_eq!(status, 200);
    assert!(form.contains("name=\"code\""), "the code is asked: {form}");
    assert_eq!(elsewhere.create("Ms Far", Some("")).await.0, 403);
    assert_eq!(elsewhere.create("Ms Far", Some("abcd-efgh-jkmn")).await.0, 403);
    // A page asked for by a name that is not a loopback name (a rebinding site's own name).
    assert_eq!(Visitor::new(&app, &[("host", "kidsearch.example:8080")]).create("Mr Rebind", None).await.0, 403);
    assert_eq!(staff_count(&app).await, 0, "nothing was created");
    let events = db_rows(&app.data_dir, "SELECT kind, detail FROM security_events WHERE kind = 'first_admin_refused'", vec![]).await;
    assert!(events.iter().any(|e| e[1].as_deref() == Some("192.168.1.40")), "the refusal is recorded with the address: {events:?}");

    // A proxy on this machine that is not trusted forwards someone else's request: not "local".
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let app = spawn_app_with(test_config(&upstream)).await;
    assert_eq!(Visitor::new(&app, &[("x-forwarded-for", "192.168.1.40")]).create("Ms Proxied", None).await.0, 403);
    assert_eq!(staff_count(&app).await, 0);
}

#[tokio::test]
async fn the_setup_code_in_the_log_lets_a_browser_elsewhere_create_the_first_admin_once() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut server = RealServer::with_settings(&upstream, "trusted_proxies = [\"127.0.0.1\"]");
    let app = server.start().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        let log = std::fs::read_to_string(&server.log_path).unwrap_or_default();
        if let Some(code) = log.split("one-time setup code ").nth(1).and_then(|rest| rest.split_whitespace().next()) {
            break code.to_string();
        }
        assert!(Instant::now() < deadline, "no setup code in the log:\n{log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut elsewhere = Visitor::new(&app, &[("x-forwarded-for", "192.168.1.40")]);
    assert_eq!(elsewhere.create("Ms Far", Some("wrong-code-here")).await.0, 403);
    // Typed as shown, or in capitals without the dashes.
    let typed = code.replace('-', " ").to_uppercase();
    assert_eq!(elsewhere.create("Ms Far", Some(&typed)).await, (303, "/staff".to_string()));
    assert_eq!(staff_count(&app).await, 1);
    // One-time: the code does nothing more, and nor does this machine.
    assert_eq!(Visitor::new(&app, &[("x-forwarded-for", "192.168.1.41")]).create("Mr Again", Some(&code)).await.0, 404);
    assert_eq!(Visitor::new(&app, &[]).create("Mr Local", None).await.0, 404);
    assert_eq!(staff_count(&app).await, 1);
    // The new admin signs in like anyone.
    let mut admin = Browser::new(&app);
    assert_eq!(admin.sign_in("Ms Far", PASSWORD).await.status(), 303);
    assert_eq!(server.terminate(), Some(0));
}

#[tokio::test]
async fn an_install_with_an_account_made_on_the_command_line_offers_no_setup() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut server = RealServer::new(&upstream);
    assert_eq!(add_user(&server.data_dir, "admin", "Mr Cli", PASSWORD).0, 0);
    let app = server.start().await;
    assert_eq!(Visitor::new(&app, &[]).get("/staff/setup").await.0, 404);
    assert_eq!(Visitor::new(&app, &[]).create("Mr Web", None).await.0, 404);
    let log = std::fs::read_to_string(&server.log_path).unwrap_or_default();
    assert!(!log.contains("setup code"), "no code is printed once an account exists:\n{log}");
    assert_eq!(server.terminate(), Some(0));
}

#[tokio::test]
async fn the_new_admin_s_first_steps_lead_to_a_search_on_this_computer_and_then_leave_the_dashboard() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let config = kidsearch::config::ServerConfig { require_enrolment: true, supervised_sessions: true, ..test_config(&upstream) };
    let app = spawn_app_with(config).await;
    assert_eq!(Visitor::new(&app, &[]).create("Mr Tech", None).await.0, 303);
    let mut admin = Browser::new(&app);
    assert_eq!(admin.sign_in("Mr Tech", PASSWORD).await.status(), 303);
    let home = admin.get("/staff").await.text().await.expect("dashboard");
    assert!(home.contains("First steps") && !home.contains("✅"), "nothing done yet: {home}");

    // "Use this computer for a try-out": this browser is sent to a one-time enrolment link.
    let csrf = admin.csrf_from("/staff").await;
    let response = admin.post("/staff/devices/try-out", &[("csrf", &csrf)]).await;
    assert_eq!(response.status(), 303);
    let link = response.headers().get("location").and_then(|v| v.to_str().ok()).expect("to the link").to_string();
    assert!(link.starts_with("/enrol/"), "{link}");
    let mut this_computer = Browser::new(&app);
    assert!(this_computer.get(&link).await.text().await.expect("page").contains("Try-out — This computer"));
    assert_eq!(this_computer.post(&link, &[]).await.status(), 200);
    assert_eq!(this_computer.get("/search?q=volcano&format=json").await.status(), 200);
    let (_, resting) = common::json(&mut this_computer, "/search?q=volcano&format=json").await;
    assert_eq!(resting["status"], "closed", "search is resting until a class is opened");

    common::open_search(&mut admin, "Try-out", "30").await;
    let (_, answer) = common::json(&mut this_computer, "/search?q=volcano&format=json").await;
    assert_eq!(answer["status"], "ok", "{answer}");
    let home = admin.get("/staff").await.text().await.expect("dashboard");
    assert_eq!(home.matches("✅ done").count(), 2, "device and class ticked: {home}");

    let csrf = admin.csrf_from("/staff/health").await;
    assert!(admin.post("/staff/health/canary", &[("csrf", &csrf)]).await.status().is_redirection());
    let home = admin.get("/staff").await.text().await.expect("dashboard");
    assert!(!home.contains("First steps"), "all done: the checklist is gone");
}
