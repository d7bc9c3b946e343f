//! A trust's deployment: several kidsearch processes on different loopback ports sharing one
//! PostgreSQL and one secret file. What one instance writes, every other serves within a
//! second; a session made on one works on all; killing one mid-load loses nothing it
//! acknowledged.
//!
//! These need a PostgreSQL server: scripts/test.sh runs them in its PostgreSQL pass (with
//! `--include-ignored`); by hand: `eval "$(bash scripts/test-postgres.sh start)"` then
//! `cargo test --test multi_instance -- --include-ignored`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Browser, FixtureUpstream, RealServer, TestApp};

const PASSWORD: &str = "correct horse battery staple";

/// `n` instances on one fresh database and one shared secret, with a teacher account.
struct Trust {
    servers: Vec<RealServer>,
    apps: Vec<TestApp>,
}

impl Trust {
    async fn start(upstream: &FixtureUpstream, n: usize) -> Trust {
        Trust::start_with(n, |extra| RealServer::with_sqlite(upstream, extra)).await
    }

    /// As `start`, each instance made by `make` from the trust's settings lines.
    async fn start_with(n: usize, make: impl Fn(&str) -> RealServer) -> Trust {
        let dir = common::temp_dir("trust");
        let url = common::test_database(&dir).expect("KIDSEARCH_TEST_DATABASE_URL names the PostgreSQL server these tests need");
        let secret = dir.join("shared.secret");
        std::fs::write(&secret, kidsearch::secrets::random_bytes(64).expect("random")).expect("secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        // 127.0.0.1 is the trust's proxy here: presses name their own LAN address in
        // X-Forwarded-For (a browser without a device may raise 5 alerts per address).
        let extra = format!("database_url = {url:?}\nshared_secret_file = {:?}\ntrusted_proxies = [\"127.0.0.1\"]\n", secret.display().to_string());
        let mut servers: Vec<RealServer> = (0..n).map(|_| make(&extra)).collect();
        for server in &servers {
            common::share_database(&server.data_dir, &url);
        }
        assert_eq!(common::add_user(&servers[0].data_dir, "teacher", "Mr Oak", PASSWORD).0, 0);
        let mut apps = Vec::new();
        for server in &mut servers {
            apps.push(server.start().await);
        }
        Trust { servers, apps }
    }
}

async fn approved(app: &TestApp, q: &str) -> bool {
    let (status, body) = app.search_json(q, 1).await;
    assert_eq!(status, 200, "{body}");
    body["approved"] == true
}

/// Polls `check` until it holds; how long that took.
async fn until<F: std::future::Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) -> Duration {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(30), "{what}: not seen within 30 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    started.elapsed()
}

fn summary(label: &str, times: &mut [Duration]) -> Duration {
    times.sort();
    let worst = *times.last().expect("some");
    eprintln!("{label}: n={} median {:?} worst {:?}", times.len(), times[times.len() / 2], worst);
    worst
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh's PostgreSQL pass"]
async fn what_one_instance_writes_every_other_serves_within_a_second() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let trust = Trust::start(&upstream, 2).await;
    let (a, b) = (&trust.apps[0], &trust.apps[1]);

    // Signed in on A, the same cookie is a session on B (shared key, sessions in the database).
    let mut on_a = Browser::new(a);
    assert_eq!(on_a.sign_in("Mr Oak", PASSWORD).await.status(), 303);
    let mut on_b = Browser::new(b);
    on_b.cookie = on_a.cookie.clone();
    let dashboard = on_b.get("/staff").await;
    assert_eq!(dashboard.status(), 200, "the session made on A is good on B");

    // An iPad enrolled on A is known on B (device cookies signed with the shared key), and
    // the screen a press on A covers is covered on B too.
    let ipad_on_a = common::enrol(a, &mut on_a, "Oak", "iPad 1").await;
    let mut ipad_on_b = Browser::new(b);
    ipad_on_b.cookie = ipad_on_a.cookie.clone();
    assert_eq!(common::json(&mut ipad_on_b, "/help/status").await.1["covered"], false);
    assert_eq!(Browser { app: a, cookie: ipad_on_a.cookie.clone() }.post("/help", &[("q", "owls"), ("page", "1")]).await.status(), 303);
    let covered = until("covered on B", || {
        let mut ipad = Browser { app: b, cookie: ipad_on_a.cookie.clone() };
        async move { common::json(&mut ipad, "/help/status").await.1["covered"] == true }
    })
    .await;
    eprintln!("device covered A→B: {covered:?}");

    // Approvals made on A reach B, whose cache had just learned there was none.
    let mut approvals = Vec::new();
    for i in 0..10 {
        let q = format!("volcano facts {i}");
        assert!(!approved(b, &q).await, "not approved yet");
        common::approve(&mut on_a, &q, 1, &[], &[]).await;
        approvals.push(until("approval on B", || approved(b, &q)).await);
    }
    // A withdrawal likewise.
    common::approval_action(&mut on_a, "withdraw").await;
    let mut withdrawals = Vec::new();
    let mut still_approved = Vec::new();
    for i in 0..10 {
        let q = format!("volcano facts {i}");
        if !approved(a, &q).await {
            withdrawals.push(until("withdrawal on B", || async { !approved(b, &q).await }).await);
        } else {
            still_approved.push(q);
        }
    }
    assert_eq!(withdrawals.len(), 1, "exactly the withdrawn one");

    // A press on A reaches a dashboard connected to B.
    let mut alerts = Vec::new();
    let mut stream =
        b.client.get(format!("{}/staff/alerts/stream", b.address)).header("cookie", on_b.cookie.clone().expect("signed in")).send().await.expect("stream");
    assert_eq!(stream.status(), 200);
    let mut seen = String::new();
    for i in 0..10 {
        let q = format!("scary thing {i}");
        let press = a
            .client
            .post(format!("{}/help", a.address))
            .header("x-forwarded-for", format!("10.1.0.{i}"))
            .form(&[("q", q.as_str()), ("page", "1")])
            .send()
            .await
            .expect("press");
        assert_eq!(press.status(), 303);
        let started = Instant::now();
        while !seen.contains(&q) {
            let left = Duration::from_secs(5).saturating_sub(started.elapsed());
            let chunk = tokio::time::timeout(left, stream.chunk()).await.unwrap_or_else(|_| panic!("no alert for {q} on B within 5 s; got {seen}"));
            seen.push_str(&String::from_utf8_lossy(&chunk.expect("stream").expect("open")));
        }
        alerts.push(started.elapsed());
    }

    // A result reported on A is hidden on B.
    let (_, before) = b.search_json("volcanoes", 1).await;
    let first = &before["results"][0];
    let (url, go, title) = (first["url"].as_str().expect("url"), first["go"].as_str().expect("go"), first["title"].as_str().expect("title"));
    assert_eq!(Browser::new(a).post("/help", &[("q", "volcanoes"), ("page", "1"), ("go", go), ("t", title)]).await.status(), 303);
    let hidden = until("hidden on B", || async {
        let (_, after) = b.search_json("volcanoes", 1).await;
        !after["results"].as_array().expect("results").iter().any(|r| r["url"] == url)
    })
    .await;

    let worst =
        [summary("approval A→B", &mut approvals), summary("withdrawal A→B", &mut withdrawals), summary("alert A→B dashboard", &mut alerts), hidden, covered]
            .into_iter()
            .max()
            .expect("some");
    eprintln!("hidden result A→B: {hidden:?}");
    assert!(worst < Duration::from_secs(1), "every change reached the other instance within a second (worst {worst:?})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh's PostgreSQL pass"]
async fn killing_one_instance_mid_load_loses_no_approval_or_incident() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut trust = Trust::start(&upstream, 2).await;
    let apps: Vec<TestApp> = trust.apps.drain(..).collect();

    // Teachers approve and pupils press on both instances at once; A is killed once it has
    // acknowledged a few (counted, not timed: a slow machine signs in slowly).
    let mut cookies = Vec::new();
    for app in &apps {
        let mut teacher = Browser::new(app);
        assert_eq!(teacher.sign_in("Mr Oak", PASSWORD).await.status(), 303);
        cookies.push(teacher.cookie.clone().expect("signed in"));
    }
    let acknowledged_by_a = Arc::new(AtomicUsize::new(0));
    let load = |app: &TestApp, cookie: String, label: &'static str, counter: Arc<AtomicUsize>| {
        let app = TestApp { address: app.address.clone(), client: app.client.clone(), data_dir: app.data_dir.clone() };
        async move {
            let (mut approved, mut pressed) = (Vec::new(), Vec::new());
            for i in 0..400 {
                let press_q = format!("press {label} {i}");
                let lan_address = format!("10.{}.{}.{}", if label == "a" { 2 } else { 4 }, i / 200, i % 200 + 1);
                let press = app
                    .client
                    .post(format!("{}/help", app.address))
                    .header("x-forwarded-for", lan_address)
                    .form(&[("q", press_q.as_str()), ("page", "1")])
                    .send()
                    .await;
                match press {
                    Ok(r) if r.status() == 303 => pressed.push(press_q),
                    _ => break,
                }
                counter.fetch_add(1, Ordering::SeqCst);
                if i % 4 == 0 {
                    let q = format!("topic {label} {i}");
                    let prerun =
                        app.client.get(format!("{}/staff/prerun?q={}&engine=bing&pages=1", app.address, q.replace(' ', "+"))).header("cookie", cookie.clone());
                    // The instance may die at any moment: a failed request ends this load.
                    let html = match prerun.send().await {
                        Ok(r) => r.text().await.ok(),
                        Err(_) => None,
                    };
                    let (csrf, preview, preview_sig) = match html {
                        Some(html) if html.contains("name=\"preview\" value=\"") => {
                            (common::hidden_field(&html, "csrf"), common::hidden_field(&html, "preview"), common::hidden_field(&html, "preview_sig"))
                        }
                        _ => break,
                    };
                    let form = [("csrf", csrf.as_str()), ("preview", preview.as_str()), ("preview_sig", preview_sig.as_str())];
                    match app.client.post(format!("{}/staff/approvals", app.address)).header("cookie", cookie.clone()).form(&form).send().await {
                        Ok(r) if r.status() == 303 => approved.push(q),
                        _ => break,
                    }
                }
            }
            (approved, pressed)
        }
    };
    let on_a = tokio::spawn(load(&apps[0], cookies[0].clone(), "a", acknowledged_by_a.clone()));
    let on_b = tokio::spawn(load(&apps[1], cookies[1].clone(), "b", Arc::new(AtomicUsize::new(0))));
    until("A acknowledges 20 presses", || async { acknowledged_by_a.load(Ordering::SeqCst) >= 20 }).await;
    trust.servers[0].kill_9();
    let (approved_a, pressed_a) = on_a.await.expect("load a");
    let (approved_b, pressed_b) = on_b.await.expect("load b");
    eprintln!(
        "acknowledged before/while A died: A {} approvals {} presses; B {} approvals {} presses",
        approved_a.len(),
        pressed_a.len(),
        approved_b.len(),
        pressed_b.len()
    );
    assert!(!pressed_a.is_empty() && pressed_a.len() < 400, "A was killed mid-load ({} presses)", pressed_a.len());

    // Everything acknowledged by either instance is in the database and served by B.
    let incidents: Vec<String> = common::db_rows(&apps[1].data_dir, "SELECT query FROM incidents WHERE kind = 'tell_adult'", vec![])
        .await
        .into_iter()
        .filter_map(|mut r| r[0].take())
        .collect();
    for q in pressed_a.iter().chain(&pressed_b) {
        assert!(incidents.contains(q), "the acknowledged press {q:?} is in the register");
    }
    for q in approved_a.iter().chain(&approved_b) {
        assert!(approved(&apps[1], q).await, "the acknowledged approval {q:?} is served by B");
    }
}

/// An instance that lost its link to the others (the PostgreSQL connection it listens on was
/// cut) may have missed alerts raised elsewhere meanwhile: once it listens again it tells its
/// dashboards to catch up, and they re-read the list from the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh's PostgreSQL pass"]
async fn an_instance_that_lost_its_link_tells_its_dashboards_to_catch_up() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let trust = Trust::start(&upstream, 2).await;
    let b = &trust.apps[1];
    let mut on_b = Browser::new(b);
    assert_eq!(on_b.sign_in("Mr Oak", PASSWORD).await.status(), 303);
    let mut stream =
        b.client.get(format!("{}/staff/alerts/stream", b.address)).header("cookie", on_b.cookie.clone().expect("signed in")).send().await.expect("stream");
    assert_eq!(stream.status(), 200);

    // Cut every listening connection of this trust's database (this test's only).
    let store = common::open_store(&b.data_dir);
    let cut: i64 = store
        .call(|db| {
            db.query_one("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'", &[])?
                .get(0)
        })
        .await
        .expect("terminate the listeners");
    assert!(cut >= 2, "both instances were listening ({cut} cut)");

    let started = Instant::now();
    let mut seen = String::new();
    while !seen.contains("event: catch-up") {
        let left = Duration::from_secs(10).saturating_sub(started.elapsed());
        let chunk = tokio::time::timeout(left, stream.chunk()).await.unwrap_or_else(|_| panic!("no catch-up on B within 10 s; got {seen}"));
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("stream").expect("open")));
    }
    eprintln!("catch-up on B's dashboard {:?} after its listener was cut", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh's PostgreSQL pass"]
async fn a_local_exception_made_on_one_instance_is_applied_on_the_other_without_a_restart() {
    const OVER_BLOCKED: &str = "football players money";
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let trust = Trust::start(&upstream, 2).await;
    assert_eq!(common::add_user(&trust.servers[0].data_dir, "admin", "Ms Ada", PASSWORD).0, 0);
    let (a, b) = (&trust.apps[0], &trust.apps[1]);
    let status = async |app: &TestApp| app.search_json(OVER_BLOCKED, 1).await.1["status"].as_str().unwrap_or_default().to_string();
    assert_eq!(status(a).await, "blocked");
    assert_eq!(status(b).await, "blocked", "and cached as refused on the second instance");

    let mut teacher = Browser::new(a);
    assert_eq!(teacher.sign_in("Mr Oak", PASSWORD).await.status(), 303);
    let csrf = teacher.csrf_from("/staff/activity").await;
    assert_eq!(teacher.post("/staff/over-blocks/report", &[("csrf", &csrf), ("q", OVER_BLOCKED)]).await.status(), 200);

    let mut admin = Browser::new(a);
    assert_eq!(admin.sign_in("Ms Ada", PASSWORD).await.status(), 303);
    let page = admin.get("/staff/over-blocks").await.text().await.expect("page");
    let start = page.find("/staff/over-blocks/").expect("a report") + "/staff/over-blocks/".len();
    let id: String = page[start..].chars().take_while(char::is_ascii_digit).collect();
    let csrf = admin.csrf_from("/staff/over-blocks").await;
    assert_eq!(admin.post(&format!("/staff/over-blocks/{id}/exception"), &[("csrf", &csrf), ("phrase", OVER_BLOCKED)]).await.status(), 303);

    assert_eq!(status(a).await, "ok");
    let took = until("the exception on the second instance", || async { status(b).await == "ok" }).await;
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh's PostgreSQL pass"]
async fn a_sighup_to_one_instance_makes_every_instance_read_its_own_lists_and_engines_again() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let allowlists = [common::copy_of_allowlist(), common::copy_of_allowlist()];
    let next = AtomicUsize::new(0);
    let trust = Trust::start_with(2, |extra| RealServer::with_allowlist_only(&upstream, &allowlists[next.fetch_add(1, Ordering::Relaxed)], extra)).await;
    let (a, b) = (&trust.apps[0], &trust.apps[1]);
    assert_eq!(b.search_json("volcano facts", 2).await.0, 200);
    assert_eq!(upstream.requests("bing").into_iter().last().and_then(|r| r.param("first").map(str::to_string)).as_deref(), Some("11"));

    // Bing's page 2 now starts at 12, in both instances' copies. Same size and the same
    // modification time as before, so that only the notice — not B's own file poll — can make
    // B read it.
    let paging = "paging = { param = \"first\", page2 = 11, step = 10 }";
    for allowlist in &allowlists {
        let path = allowlist.join("engines.toml");
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).expect("mtime");
        let text = std::fs::read_to_string(&path).expect("engines.toml");
        assert!(text.contains(paging), "the shipped Bing paging is as this test expects");
        std::fs::write(&path, text.replace(paging, &paging.replace("11", "12"))).expect("write");
        std::fs::File::options().write(true).open(&path).and_then(|f| f.set_modified(modified)).expect("keep the mtime");
    }
    let pid = trust.servers[0].pid().expect("A runs").to_string();
    assert!(std::process::Command::new("kill").args(["-HUP", &pid]).status().expect("kill").success());
    trust.servers[0].log_says("engines reloaded from engines.toml (SIGHUP)", 1).await;
    trust.servers[1].log_says("engines reloaded from engines.toml (another instance reloaded its lists)", 1).await;

    // B asks with its new definition, for the same search it had cached before.
    assert_eq!(b.search_json("volcano facts", 2).await.0, 200);
    assert_eq!(upstream.requests("bing").into_iter().last().and_then(|r| r.param("first").map(str::to_string)).as_deref(), Some("12"));
    assert_eq!(a.search_json("volcano facts", 2).await.0, 200);
}
