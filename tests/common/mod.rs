//! Shared test helpers: the real app on a random port, beside a fixture upstream on 127.0.0.1.
#![allow(dead_code, unused_imports)]

pub mod fixture;
pub mod lists;
pub mod oembed;
pub mod pictures;
pub mod small_disk;
pub mod webdriver;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use kidsearch::config::{EngineOverride, ServerConfig};
use kidsearch::settings::Settings;
use kidsearch::Application;

pub use fixture::{FixtureUpstream, Scenario};

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use kidsearch::clock::Clock;

/// A running kidsearch with a client to talk to it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub data_dir: PathBuf,
}

/// Engines whose fixtures stand in for the real thing in every test.
pub const PUPIL_ENGINES: &[&str] = &["kiddle", "kidrex", "swiggle", "duckduckgo", "bing", "mojeek", "simple_wikipedia", "brave_api", "google_cse_api"];
pub const STAFF_ENGINES: &[&str] = &["google", "yahoo"];
/// Picture search's engines (`purpose = "pictures"`): asked only by picture search.
pub const PICTURE_ENGINES: &[&str] = &["openverse", "google_cse_images", "bing_images"];
/// Shipped engines that are off by definition (no endpoint to search). None now: GoBubble and
/// ViewPure are a site tile and the approved-video page (issue 27), not engines.
pub const OFF_ENGINES: &[&str] = &[];

/// The shipped `allowlist/` compiled with default server settings, loaded once per test binary.
pub fn shipped_settings() -> &'static Settings {
    static SETTINGS: std::sync::OnceLock<Settings> = std::sync::OnceLock::new();
    SETTINGS.get_or_init(|| {
        let config = ServerConfig { allowlist_dir: repo_dir().join("allowlist"), ..ServerConfig::default() };
        Settings::from_server_config(config).expect("the shipped allowlist is valid")
    })
}

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, unique folder under the system temp dir.
pub fn temp_dir(label: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("kidsearch-test-{}-{}-{}", label, std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// The database tests run against: the embedded SQLite file in `data_dir` (the default), or,
/// when `KIDSEARCH_TEST_DATABASE_URL` names a PostgreSQL server (scripts/test.sh's second
/// pass), a fresh database of its own there. Remembered per data dir for `add_user` and
/// `open_store`.
pub fn test_database(data_dir: &std::path::Path) -> Option<String> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let admin = std::env::var("KIDSEARCH_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())?;
    let name = format!("kidsearch_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let (address, query) = admin.split_once('?').map_or((admin.as_str(), String::new()), |(a, q)| (a, format!("?{q}")));
    let (base, _) = address.rsplit_once('/').expect("KIDSEARCH_TEST_DATABASE_URL looks like postgres://user@host:port/db[?…]");
    let url = format!("{base}/{name}{query}");
    // The synchronous driver must not run on the test's async runtime.
    std::thread::spawn(move || {
        let target = kidsearch::store::postgres::parse_url(&admin).expect("KIDSEARCH_TEST_DATABASE_URL parses");
        let mut client = target.connect().expect("KIDSEARCH_TEST_DATABASE_URL: PostgreSQL answers");
        client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the test database");
    })
    .join()
    .expect("create database thread");
    databases().lock().expect("lock").insert(data_dir.to_path_buf(), url.clone());
    Some(url)
}

fn databases() -> &'static std::sync::Mutex<std::collections::HashMap<PathBuf, String>> {
    static DATABASES: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<PathBuf, String>>> = std::sync::OnceLock::new();
    DATABASES.get_or_init(Default::default)
}

/// Records that the app in `data_dir` uses `url` (instances sharing one database).
pub fn share_database(data_dir: &std::path::Path, url: &str) {
    databases().lock().expect("lock").insert(data_dir.to_path_buf(), url.to_string());
}

/// The PostgreSQL database of the app whose data dir is `data_dir`, if it has one.
pub fn database_url_for(data_dir: &std::path::Path) -> Option<String> {
    databases().lock().expect("lock").get(data_dir).cloned()
}

/// The app's store, opened beside it (SQLite allows a second connection; PostgreSQL many), to
/// check what was written.
pub fn open_store(data_dir: &std::path::Path) -> kidsearch::store::Store {
    kidsearch::store::Store::open(data_dir, database_url_for(data_dir).as_deref()).expect("open the app's database")
}

/// Rows of `sql` in the app's database, each column as text (NULL as None).
pub async fn db_rows(data_dir: &std::path::Path, sql: &'static str, args: Vec<kidsearch::store::Value>) -> Vec<Vec<Option<String>>> {
    use kidsearch::store::Value;
    let store = open_store(data_dir);
    let rows = store.call(move |db| db.query(sql, &args)).await.expect("query the app's database");
    rows.into_iter()
        .map(|row| {
            row.0
                .into_iter()
                .map(|v| match v {
                    Value::Null => None,
                    Value::Int(n) => Some(n.to_string()),
                    Value::Real(x) => Some(x.to_string()),
                    Value::Text(t) => Some(t),
                })
                .collect()
        })
        .collect()
}

/// A copy of the shipped `allowlist/` in a temporary folder, for a test that changes the lists.
pub fn copy_of_allowlist() -> PathBuf {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).expect("allowlist copy");
        for entry in std::fs::read_dir(from).expect("allowlist").flatten() {
            let target = to.join(entry.file_name());
            if entry.path().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).expect("copy a list");
            }
        }
    }
    let dir = temp_dir("allowlist");
    copy(&repo_dir().join("allowlist"), &dir);
    dir
}

/// The server config tests start from: every shipped engine pointed at its fixture, with the
/// ids and keys the real ones would need, short timeouts, and the shipped `allowlist/`.
pub fn test_config(upstream: &FixtureUpstream) -> ServerConfig {
    let data_dir = temp_dir("data");
    let mut config = ServerConfig {
        listen: "127.0.0.1:0".into(),
        database_url: test_database(&data_dir),
        data_dir,
        allowlist_dir: repo_dir().join("allowlist"),
        engine_timeout_ms: 800,
        // Every engine waited for, as its timeout is this short: tests of one engine's failure
        // want its reason, not "late" (tests/answer_deadline.rs sets its own deadline).
        answer_deadline_ms: 0,
        workers: 2,
        // Most tests are about searching; the safeguarding tests turn these back on.
        require_enrolment: false,
        supervised_sessions: false,
        // Never YouTube: a closed port, unless a test starts the oEmbed fixture (common::oembed).
        video_oembed_url: "http://127.0.0.1:9/oembed".into(),
        // Approved videos' pictures from the fixture picture host, never i.ytimg.com.
        video_thumbnail_base_url: Some(upstream.pictures.base_url()),
        ..ServerConfig::default()
    };
    // Tests never reach the internet: every shipped engine without a fixture here is off.
    for engine in PUPIL_ENGINES.iter().chain(PICTURE_ENGINES).chain(STAFF_ENGINES).chain(OFF_ENGINES) {
        config.engines.insert(engine.to_string(), EngineOverride { enabled: Some(false), ..EngineOverride::default() });
    }
    for engine in upstream.engines() {
        let needs_cx = matches!(engine.as_str(), "kiddle" | "kidrex" | "swiggle" | "google_cse_api" | "google_cse_images");
        let needs_key = matches!(engine.as_str(), "brave_api" | "google_cse_api" | "google_cse_images");
        config.engines.insert(
            engine.clone(),
            EngineOverride {
                base_url: Some(upstream.base_url(&engine)),
                image_base_url: Some(upstream.pictures.base_url()),
                cx: needs_cx.then(|| format!("test-cx-{engine}")),
                api_key: needs_key.then(|| "test-key".to_string()),
                ..EngineOverride::default()
            },
        );
    }
    config
}

/// Starts the real application with `config` on a random port.
pub async fn spawn_app_with(config: ServerConfig) -> TestApp {
    let data_dir = config.data_dir.clone();
    let settings = Settings::from_server_config(config).expect("test config is valid");
    let app = Application::build(settings).expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = test_client();
    TestApp { address, client, data_dir }
}

/// Starts the app against every shipped engine's fixture.
pub async fn spawn_app(upstream: &FixtureUpstream) -> TestApp {
    spawn_app_with(test_config(upstream)).await
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{}", self.address, path)).send().await.expect("request to app")
    }

    /// `GET /search?q=…&page=N&format=json`, returning status and parsed body.
    pub async fn search_json(&self, q: &str, page: u32) -> (u16, serde_json::Value) {
        let response = self
            .client
            .get(format!("{}/search", self.address))
            .query(&[("q", q), ("page", &page.to_string()), ("format", "json")])
            .send()
            .await
            .expect("search");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("body");
        (status, serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes))))
    }

    pub async fn search_html(&self, q: &str) -> (u16, String) {
        let response = self.client.get(format!("{}/search", self.address)).query(&[("q", q)]).send().await.expect("search");
        (response.status().as_u16(), response.text().await.expect("body"))
    }
}

/// The ids of engines reported ok / not ok in a JSON outcome.
pub fn engine_states(body: &serde_json::Value) -> (Vec<String>, Vec<(String, String)>) {
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for e in body["engines"].as_array().expect("engines array") {
        let id = e["id"].as_str().unwrap_or_default().to_string();
        if e["ok"].as_bool() == Some(true) {
            ok.push(id);
        } else {
            failed.push((id, e["error"].as_str().unwrap_or_default().to_string()));
        }
    }
    (ok, failed)
}

/// Starts the app with a clock the test controls.
pub async fn spawn_app_with_clock(config: ServerConfig, clock: Arc<dyn Clock>) -> TestApp {
    let data_dir = config.data_dir.clone();
    let settings = Settings::from_server_config(config).expect("test config is valid");
    let app = Application::build_with_clock(settings, clock).expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = test_client();
    TestApp { address, client, data_dir }
}

/// `kidsearch user add` through the real CLI, the password on stdin.
pub fn add_user(data_dir: &std::path::Path, role: &str, name: &str, password: &str) -> (i32, String) {
    kidsearch_cli(data_dir, &["user", "add", "--role", role, name], Some(password))
}

/// The real `kidsearch` command on the app's data dir (and database), with `stdin` typed in.
pub fn kidsearch_cli(data_dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kidsearch"));
    if let Some(url) = database_url_for(data_dir) {
        command.args(["--database-url", &url]);
    }
    let mut child = command
        .args(["--data-dir", data_dir.to_str().expect("path")])
        .args(args)
        .current_dir(repo_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kidsearch");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        writeln!(input, "{text}").expect("write stdin");
    }
    drop(input);
    let out = child.wait_with_output().expect("wait");
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// As a signed-in teacher: pre-runs `q` through Bing for `pages` pages, hides `hide`, approves
/// for today (with `extra` form fields, e.g. a class).
pub async fn approve(teacher: &mut Browser<'_>, q: &str, pages: u32, hide: &[&str], extra: &[(&str, &str)]) {
    let prerun = teacher.get(&format!("/staff/prerun?q={}&engine=bing&pages={pages}", q.replace(' ', "+"))).await;
    assert_eq!(prerun.status(), 200);
    let html = prerun.text().await.expect("page");
    assert!(html.contains("Approve for today"), "{html}");
    let (csrf, preview, preview_sig) = (hidden_field(&html, "csrf"), hidden_field(&html, "preview"), hidden_field(&html, "preview_sig"));
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf), ("preview", &preview), ("preview_sig", &preview_sig)];
    form.extend(hide.iter().map(|h| ("hide", *h)));
    form.extend_from_slice(extra);
    let response = teacher.post("/staff/approvals", &form).await;
    assert_eq!(response.status(), 303, "{:?}", response.text().await);
}

/// The value of the form field `name` in `html`, as a browser would send it (maud escapes
/// attribute values; the pre-run's signed preview is JSON with quotes in it).
pub fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} field in {html}")) + marker.len();
    let raw = html[start..].split('"').next().expect("value");
    raw.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// As a signed-in teacher: presses the first `withdraw` (or `renew`) button on the approvals
/// page, newest first.
pub async fn approval_action(teacher: &mut Browser<'_>, action: &str) {
    let list = teacher.get("/staff/approvals").await.text().await.expect("list");
    let at = list.find(&format!("/{action}\"")).unwrap_or_else(|| panic!("a {action} form: {list}"));
    let action_start = list[..at].rfind("action=\"").expect("action") + 8;
    let path = format!("{}/{action}", &list[action_start..at]);
    let csrf = teacher.csrf_from("/staff/approvals").await;
    assert_eq!(teacher.post(&path, &[("csrf", &csrf)]).await.status(), 303);
}

/// A browser's view: the session cookie it holds.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookie: Option<String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browser { app, cookie: None }
    }

    fn keep_cookie(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default().to_string();
            self.cookie = if pair.ends_with('=') { None } else { Some(pair) };
        }
    }

    pub async fn get(&mut self, path: &str) -> reqwest::Response {
        let mut req = self.app.client.get(format!("{}{}", self.app.address, path));
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let response = req.send().await.expect("get");
        self.keep_cookie(&response);
        response
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let mut req = self.app.client.post(format!("{}{}", self.app.address, path)).header("content-type", "application/x-www-form-urlencoded").body(body);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let response = req.send().await.expect("post");
        self.keep_cookie(&response);
        response
    }

    /// The CSRF token in the page's form.
    pub async fn csrf_from(&mut self, path: &str) -> String {
        let html = self.get(path).await.text().await.expect("page");
        let start = html.find("name=\"csrf\" value=\"").expect("csrf field") + "name=\"csrf\" value=\"".len();
        html[start..].split('"').next().expect("token").to_string()
    }

    pub async fn sign_in(&mut self, name: &str, password: &str) -> reqwest::Response {
        let csrf = self.csrf_from("/staff/login").await;
        self.post("/staff/login", &[("csrf", &csrf), ("name", name), ("password", password)]).await
    }
}

/// The real `kidsearch` binary as a separate process (for kill -9, backup and restore tests),
/// with Bing pointed at its fixture and every other engine off.
pub struct RealServer {
    pub config_path: PathBuf,
    pub port: u16,
    pub data_dir: PathBuf,
    /// The server's stderr (its logs, at RUST_LOG=info).
    pub log_path: PathBuf,
    /// Environment variables for the server and for `run` (e.g. where a password lives).
    pub env: Vec<(String, String)>,
    child: Option<std::process::Child>,
}

impl RealServer {
    pub fn new(upstream: &FixtureUpstream) -> RealServer {
        RealServer::with_settings(upstream, "")
    }

    /// As `new`, with `extra` top-level settings (TOML lines) in the config file.
    pub fn with_settings(upstream: &FixtureUpstream, extra: &str) -> RealServer {
        let dir = temp_dir("real");
        let database = test_database(&dir.join("data")).map(|url| format!("database_url = \"{url}\"\n")).unwrap_or_default();
        RealServer::in_dir(upstream, dir.join("data"), dir, &format!("{database}{extra}"))
    }

    /// As `with_settings`, without the test pass's PostgreSQL database: the embedded SQLite
    /// file (backup and restore), unless `extra` names a database itself.
    pub fn with_sqlite(upstream: &FixtureUpstream, extra: &str) -> RealServer {
        let dir = temp_dir("real");
        RealServer::in_dir(upstream, dir.join("data"), dir, extra)
    }

    /// As `with_sqlite`, with the data dir at `data_dir` (on a disk of the test's own).
    pub fn with_data_dir(upstream: &FixtureUpstream, data_dir: PathBuf, extra: &str) -> RealServer {
        RealServer::in_dir(upstream, data_dir, temp_dir("real"), extra)
    }

    /// As `with_settings`, reading its lists from `allowlist` (a copy the test may change).
    pub fn with_allowlist(upstream: &FixtureUpstream, allowlist: &std::path::Path, extra: &str) -> RealServer {
        let dir = temp_dir("real");
        let database = test_database(&dir.join("data")).map(|url| format!("database_url = \"{url}\"\n")).unwrap_or_default();
        RealServer::in_dir_with(upstream, dir.join("data"), dir, allowlist, &format!("{database}{extra}"))
    }

    /// As `with_allowlist`, without a database of the test pass's own: `extra` names one (a
    /// trust's instances, each with its own copy of the lists).
    pub fn with_allowlist_only(upstream: &FixtureUpstream, allowlist: &std::path::Path, extra: &str) -> RealServer {
        let dir = temp_dir("real");
        RealServer::in_dir_with(upstream, dir.join("data"), dir, allowlist, extra)
    }

    fn in_dir(upstream: &FixtureUpstream, data_dir: PathBuf, dir: PathBuf, extra: &str) -> RealServer {
        RealServer::in_dir_with(upstream, data_dir, dir, &repo_dir().join("allowlist"), extra)
    }

    fn in_dir_with(upstream: &FixtureUpstream, data_dir: PathBuf, dir: PathBuf, allowlist: &std::path::Path, extra: &str) -> RealServer {
        let config_path = dir.join("kidsearch.toml");
        let off: String = PUPIL_ENGINES
            .iter()
            .chain(PICTURE_ENGINES)
            .chain(STAFF_ENGINES)
            .filter(|e| **e != "bing")
            .map(|e| format!("[engines.{e}]\nenabled = false\n"))
            .collect();
        let config = format!(
            "data_dir = \"{}\"\nallowlist_dir = \"{}\"\nrequire_enrolment = false\nsupervised_sessions = false\n{extra}\n{off}[engines.bing]\nbase_url = \"{}\"\n",
            data_dir.display(),
            allowlist.display(),
            upstream.base_url("bing")
        );
        std::fs::write(&config_path, config).expect("config");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        RealServer { config_path, port, data_dir, log_path: dir.join("server.log"), env: Vec::new(), child: None }
    }

    /// Waits (up to 10 s) until the server's log holds `text` `times` times; the log so far.
    pub async fn log_says(&self, text: &str, times: usize) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
            if log.matches(text).count() >= times {
                return log;
            }
            assert!(std::time::Instant::now() < deadline, "the log never said {text:?} {times} time(s):\n{log}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Runs `kidsearch ARGS --config …` to completion.
    pub fn run(&self, args: &[&str]) -> (i32, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_kidsearch"))
            .args(args)
            .args(["--config", self.config_path.to_str().expect("path")])
            .envs(self.env.iter().cloned())
            .output()
            .expect("run kidsearch");
        (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }

    /// The process id while it runs (to send it signals).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    pub async fn start(&mut self) -> TestApp {
        let child = Command::new(env!("CARGO_BIN_EXE_kidsearch"))
            .args(["--config", self.config_path.to_str().expect("path"), "--listen", &format!("127.0.0.1:{}", self.port)])
            .env("RUST_LOG", "info")
            .envs(self.env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(std::fs::OpenOptions::new().create(true).append(true).open(&self.log_path).expect("log file"))
            .spawn()
            .expect("start kidsearch");
        self.child = Some(child);
        let app = TestApp { address: format!("http://127.0.0.1:{}", self.port), client: test_client(), data_dir: self.data_dir.clone() };
        // Ready when it accepts connections (HTTP or HTTPS alike).
        for _ in 0..400 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return app;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("kidsearch did not start");
    }

    /// SIGTERM, then waits (up to 15 s) for a clean exit; returns the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill -TERM");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status.code();
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("kidsearch did not stop within 15 s of SIGTERM");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill -9");
            child.wait().expect("reaped");
        }
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        self.kill_9();
    }
}

// Safeguarding set-up shared by the safeguarding and schools tests.

/// The text between `start` and the next `end` in `html`.
pub fn between<'h>(html: &'h str, start: &str, end: &str) -> Option<&'h str> {
    let from = html.find(start)? + start.len();
    html[from..].split(end).next()
}

/// Makes an enrolment link as `teacher` and opens it on a fresh "iPad".
pub async fn enrol<'a>(app: &'a TestApp, teacher: &mut Browser<'_>, class: &str, label: &str) -> Browser<'a> {
    let csrf = teacher.csrf_from("/staff/devices").await;
    let page = teacher.post("/staff/devices", &[("csrf", &csrf), ("class", class), ("label", label)]).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("page");
    let link = between(&html, "id=\"enrol-link\" href=\"", "\"").expect("the enrolment link is shown").to_string();
    let path = &link[link.find("/enrol/").expect("enrol path")..];
    assert!(html.contains(&format!("src=\"/staff/devices/qr/{}\"", &path["/enrol/".len()..])), "with its QR code");
    let qr = teacher.get(&format!("/staff/devices/qr/{}", &path["/enrol/".len()..])).await;
    assert_eq!(qr.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("image/svg+xml"));
    assert!(qr.text().await.expect("svg").contains("<svg"));

    let mut ipad = Browser::new(app);
    let confirm = ipad.get(path).await;
    assert_eq!(confirm.status(), 200);
    assert!(confirm.text().await.expect("page").contains(&format!("{class} — {label}")));
    assert!(ipad.cookie.is_none(), "opening the link (or a link preview) does not enrol");
    let done = ipad.post(path, &[]).await;
    assert_eq!(done.status(), 200);
    let cookie = ipad.cookie.clone().expect("the device cookie is set");
    assert!(cookie.starts_with("kidsearch_device="), "{cookie}");
    // The link works once.
    assert_eq!(Browser::new(app).post(path, &[]).await.status(), 410);
    ipad
}

pub async fn open_search(teacher: &mut Browser<'_>, class: &str, minutes: &str) {
    let csrf = teacher.csrf_from("/staff").await;
    assert_eq!(teacher.post("/staff/classes/open", &[("csrf", &csrf), ("class", class), ("minutes", minutes)]).await.status(), 303);
}

pub async fn json(b: &mut Browser<'_>, path: &str) -> (u16, serde_json::Value) {
    let r = b.get(path).await;
    let status = r.status().as_u16();
    (status, serde_json::from_slice(&r.bytes().await.expect("body")).expect("json"))
}

/// `teacher`'s live alert stream (`/staff/alerts/stream`), open and answering as a stream.
pub async fn alert_stream(teacher: &Browser<'_>) -> reqwest::Response {
    let r = teacher
        .app
        .client
        .get(format!("{}/staff/alerts/stream", teacher.app.address))
        .header("cookie", teacher.cookie.clone().expect("signed in"))
        .send()
        .await
        .expect("stream");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("text/event-stream"));
    r
}

/// The tests' HTTP client: no redirects followed (tests read them), and idle connections let go
/// after 2 s, before the server's 5 s keep-alive closes them. Otherwise a request sent just as
/// the server closes a connection idle for 5 s (a slow CLI step between two requests) fails
/// with "IncompleteMessage", as one did on PostgreSQL.
pub fn test_client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).pool_idle_timeout(std::time::Duration::from_secs(2)).build().expect("client")
}
