//! A small W3C WebDriver client for the browser tests: headless Debian Chromium through
//! chromedriver, at an iPad viewport.
//!
//! Hand-written on reqwest (already a dependency) on purpose: the tests need a dozen commands,
//! and the usual crate (fantoccini) pulls in the `webdriver` crate with ICU segmentation data,
//! ~20 more crates to build on every clean CI run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// iPad (10th generation) in portrait, as Safari reports it.
pub const IPAD_PORTRAIT: (u32, u32) = (820, 1180);
/// The same iPad turned on its side.
pub const IPAD_LANDSCAPE: (u32, u32) = (1180, 820);
const IPAD_UA: &str = "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// One chromedriver process; each `Session` is a separate browser with its own cookies.
pub struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
    /// Each session's profile dir, to end its browser even when a test panics mid-way.
    profiles: std::sync::Mutex<Vec<PathBuf>>,
}

impl Driver {
    /// Starts chromedriver on a free loopback port (installed by `scripts/test.sh`).
    pub async fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let child = Command::new("chromedriver")
            .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (Debian's chromium-driver; scripts/test.sh installs it)");
        let driver = Driver { child, base: format!("http://127.0.0.1:{port}"), http: reqwest::Client::new(), profiles: Default::default() };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(r) = driver.http.get(format!("{}/status", driver.base)).send().await {
                let status: Value = serde_json::from_slice(&r.bytes().await.unwrap_or_default()).unwrap_or_default();
                if status["value"]["ready"] == true {
                    return driver;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not become ready");
    }

    /// A new headless Chromium at `viewport`, with an iPad's user agent and touch.
    pub async fn session(&self, viewport: (u32, u32)) -> Session {
        self.session_with(viewport, true).await
    }

    /// As `session`, with JavaScript on or off.
    pub async fn session_with(&self, viewport: (u32, u32), javascript: bool) -> Session {
        let profile = super::temp_dir("chromium-profile");
        self.profiles.lock().unwrap_or_else(|e| e.into_inner()).push(profile.clone());
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                // The flags that keep Chromium off the (closed) network: no background services.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.display()),
                         format!("--window-size={},{}", viewport.0, viewport.1), format!("--user-agent={IPAD_UA}"),
                         "--touch-events=enabled"],
                "prefs": { "profile.managed_default_content_settings.javascript": if javascript { 1 } else { 2 } }
            }
        }}});
        let value = call(&self.http, reqwest::Method::POST, &format!("{}/session", self.base), Some(caps)).await;
        let id = value["sessionId"].as_str().expect("a session id").to_string();
        Session { http: self.http.clone(), base: format!("{}/session/{id}", self.base) }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // chromedriver's browsers outlive it when a session was never closed (a failed test).
        for profile in self.profiles.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = Command::new("pkill").arg("-f").arg(profile).status();
        }
    }
}

/// reqwest is built without its `json` feature here; this is all it would do.
fn with_json(req: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
    req.header("content-type", "application/json").body(body.to_string())
}

async fn call(http: &reqwest::Client, method: reqwest::Method, url: &str, body: Option<Value>) -> Value {
    let mut req = http.request(method.clone(), url);
    if let Some(b) = body {
        req = with_json(req, &b);
    } else if method == reqwest::Method::POST {
        req = with_json(req, &json!({}));
    }
    let r = req.send().await.unwrap_or_else(|e| panic!("webdriver {url}: {e}"));
    let status = r.status();
    let value: Value = serde_json::from_slice(&r.bytes().await.expect("body")).expect("webdriver answers JSON");
    assert!(status.is_success(), "webdriver {method} {url}: {status} {value}");
    value["value"].clone()
}

/// One browser window.
pub struct Session {
    http: reqwest::Client,
    base: String,
}

/// An element found on the page.
pub struct Element(String);

impl Session {
    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        call(&self.http, method, &format!("{}{path}", self.base), body).await
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url }))).await;
    }

    pub async fn url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None).await.as_str().unwrap_or_default().to_string()
    }

    /// The first element matching `css`, if there is one now.
    pub async fn find_now(&self, css: &str) -> Option<Element> {
        let r = with_json(self.http.post(format!("{}/element", self.base)), &json!({ "using": "css selector", "value": css })).send().await.ok()?;
        if !r.status().is_success() {
            return None;
        }
        let v: Value = serde_json::from_slice(&r.bytes().await.ok()?).ok()?;
        v["value"][ELEMENT].as_str().map(|id| Element(id.to_string()))
    }

    /// Waits (polling) up to `within` for an element matching `css`.
    pub async fn wait_for(&self, css: &str, within: Duration) -> Element {
        let deadline = Instant::now() + within;
        loop {
            if let Some(e) = self.find_now(css).await {
                return e;
            }
            if Instant::now() > deadline {
                panic!("no {css:?} within {within:?} at {}", self.url().await);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn click(&self, e: &Element) {
        self.cmd(reqwest::Method::POST, &format!("/element/{}/click", e.0), None).await;
    }

    pub async fn type_into(&self, e: &Element, text: &str) {
        self.cmd(reqwest::Method::POST, &format!("/element/{}/value", e.0), Some(json!({ "text": text }))).await;
    }

    pub async fn text(&self, e: &Element) -> String {
        self.cmd(reqwest::Method::GET, &format!("/element/{}/text", e.0), None).await.as_str().unwrap_or_default().to_string()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub async fn run(&self, script: &str, args: Vec<Value>) -> Value {
        self.cmd(reqwest::Method::POST, "/execute/sync", Some(json!({ "script": script, "args": args }))).await
    }

    /// Runs `script` asynchronously: it calls `arguments[arguments.length - 1](result)`.
    pub async fn run_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.cmd(reqwest::Method::POST, "/execute/async", Some(json!({ "script": script, "args": args }))).await
    }

    /// A Chrome DevTools Protocol command (through chromedriver).
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.cmd(reqwest::Method::POST, "/goog/cdp/execute", Some(json!({ "cmd": cmd, "params": params }))).await
    }

    /// Changes the screen size (e.g. an iPad turned to landscape); headless, the window is the
    /// viewport.
    pub async fn set_viewport(&self, viewport: (u32, u32)) {
        let (w, h) = (u64::from(viewport.0), u64::from(viewport.1));
        self.cmd(reqwest::Method::POST, "/window/rect", Some(json!({ "width": w, "height": h }))).await;
        // The window's frame takes some of that: grow the window by the difference.
        let (iw, ih) = self.viewport().await;
        if (iw, ih) != (w, h) && iw > 0 && ih > 0 {
            self.cmd(reqwest::Method::POST, "/window/rect", Some(json!({ "width": 2 * w - iw, "height": 2 * h - ih }))).await;
        }
    }

    /// The page's CSS viewport, as the page sees it.
    pub async fn viewport(&self) -> (u64, u64) {
        let v = self.run("return [window.innerWidth, window.innerHeight];", vec![]).await;
        (v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0))
    }

    /// Saves a PNG of the viewport.
    pub async fn screenshot(&self, path: &Path) {
        let b64 = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().expect("base64")).expect("png");
        std::fs::write(path, png).expect("write screenshot");
    }

    /// Prints the page to PDF as the browser's Print would (W3C "Print Page"): A4 portrait,
    /// backgrounds as the print style sheet has them. Returns the PDF's bytes.
    pub async fn print_pdf(&self) -> Vec<u8> {
        let b64 = self.cmd(reqwest::Method::POST, "/print", Some(json!({ "page": { "width": 21.0, "height": 29.7 }, "orientation": "portrait" }))).await;
        base64::engine::general_purpose::STANDARD.decode(b64.as_str().expect("base64")).expect("pdf")
    }

    pub async fn close(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

/// Where browser tests save their screenshots: `target/test-artifacts/<name>/`.
pub fn artifacts(name: &str) -> PathBuf {
    let dir = super::repo_dir().join("target").join("test-artifacts").join(name);
    std::fs::create_dir_all(&dir).expect("artifact dir");
    dir
}

/// axe-core's script (`scripts/test.sh` installs it from npm into target/npm).
pub fn axe_source() -> String {
    let path = super::repo_dir().join("target/npm/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (scripts/test.sh installs axe-core from npm)", path.display()))
}

/// Runs axe on the current page; the WCAG 2.1 A/AA violations, one line each.
pub async fn audit(session: &Session, axe: &str) -> Vec<String> {
    let script = format!(
        "{axe}\n;var done = arguments[arguments.length - 1];\
         axe.run(document, {{ runOnly: {{ type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }} }})\
         .then(function (r) {{ done(r.violations.map(function (v) {{ return v.id + ' (' + v.impact + '): ' + v.help + ' — ' + v.nodes.slice(0, 3).map(function (n) {{ return n.target.join(' '); }}).join(' | '); }})); }})\
         .catch(function (e) {{ done(['axe failed: ' + e]); }});"
    );
    let found = session.run_async(&script, vec![]).await;
    found.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// Staff steps the browser tests share, done through the pages as a teacher would.
pub mod staff_flow {
    use super::Session;
    use std::time::Duration;

    const WAIT: Duration = Duration::from_secs(10);

    /// Signs in at /staff/login; returns on the dashboard.
    pub async fn sign_in(s: &Session, base: &str, name: &str, password: &str) {
        s.goto(&format!("{base}/staff/login")).await;
        s.type_into(&s.wait_for("#name", WAIT).await, name).await;
        s.type_into(&s.wait_for("#password", WAIT).await, password).await;
        s.click(&s.wait_for("form button[type=submit]", WAIT).await).await;
        s.wait_for("#alerts", WAIT).await;
    }

    /// Makes an enrolment link on /staff/devices; returns its address.
    pub async fn enrolment_link(s: &Session, base: &str, class: &str, label: &str) -> String {
        s.goto(&format!("{base}/staff/devices")).await;
        s.type_into(&s.wait_for("#class", WAIT).await, class).await;
        s.type_into(&s.wait_for("#label", WAIT).await, label).await;
        s.click(&s.wait_for(".inline-form button[type=submit]", WAIT).await).await;
        s.wait_for("#enrol-link", WAIT).await;
        s.run("return document.getElementById('enrol-link').href", vec![]).await.as_str().expect("the enrolment link").to_string()
    }

    /// Opens search for `class` on the dashboard (45 minutes); returns on the dashboard.
    pub async fn open_search(s: &Session, base: &str, class: &str) {
        s.goto(&format!("{base}/staff")).await;
        s.type_into(&s.wait_for("#open-class", WAIT).await, class).await;
        s.click(&s.wait_for("#minutes ~ button, form.inline-form button[type=submit]", WAIT).await).await;
        s.wait_for("form[action='/staff/classes/close']", WAIT).await;
    }

    /// The pupil's iPad opens the link and presses "Set up this iPad".
    pub async fn enrol(pupil: &Session, link: &str) {
        pupil.goto(link).await;
        pupil.click(&pupil.wait_for("button.big", WAIT).await).await;
        pupil.wait_for("a.button", WAIT).await;
    }
}
