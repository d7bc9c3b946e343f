//! A fixture upstream: one small HTTP server on 127.0.0.1 per engine, serving pages that
//! reproduce that engine's real markup (`tests/fixtures/<engine>/`), and recording every
//! request it receives so tests can check what kidsearch sent.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

/// What a fixture answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// The realistic results page (page 2 when a paging parameter is present).
    Results,
    /// The engine's real "no results" answer.
    Empty,
    /// The engine's CAPTCHA / bot-check / rate-limit answer.
    Blocked,
    /// Truncated, malformed markup that is not a results page.
    Malformed,
    /// HTTP 500.
    ServerError,
    /// No answer for 10 s (past every test timeout).
    Stall,
    /// A redirect to another host (the `redirect_target`).
    RedirectAway,
    /// A hostile ~1.9 MB Bing-shaped page: one result whose snippet holds `<div>`s opened
    /// 380,000 deep and never closed. A streaming reader pays for every element it reads
    /// with the depth it is at: minutes of CPU.
    DeeplyNested,
    /// One named page of the engine's fixtures (`tests/fixtures/<engine>/<name>.<ext>`), e.g.
    /// a second layout of the same answer.
    Page(&'static str),
    /// A results page that goes on for this many bytes (50 MB in issue 21's trial), sent as
    /// fast as the connection takes it, chunked and with no `Content-Length`: the reader only
    /// learns it is too big by reading. Each answer repeats one 64 KB chunk, so the fixture
    /// itself stays small however many are sent at once.
    Huge(usize),
    /// The realistic results page in two halves, the second after this pause: an answer
    /// still arriving, as a distant engine's does (its reading waits between the pieces).
    Trickle(Duration),
}

/// The body `Scenario::DeeplyNested` serves (under the default `max_upstream_bytes`).
pub fn deeply_nested_page() -> String {
    let result = "<html><body><ol id=\"b_results\"><li class=\"b_algo\"><h2><a href=\"https://kids.example/\">Volcanoes</a></h2><div class=\"b_caption\"><p>";
    format!("{result}{}", "<div>".repeat(380_000))
}

/// One request as the fixture saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub query: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
    pub headers: BTreeMap<String, String>,
}

impl Recorded {
    /// A parameter from the query string or the form body.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().chain(self.form.iter()).find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

pub struct FixtureState {
    engine: String,
    dir: PathBuf,
    scenario: Mutex<Scenario>,
    delay_ms: AtomicU64,
    searches: AtomicUsize,
    recorded: Mutex<Vec<Recorded>>,
    /// Each search's parameter values and how long this engine took to answer it (the
    /// benchmark subtracts the slowest engine's time from the gateway's, query by query).
    timings: Mutex<Vec<(Vec<String>, Duration)>>,
    redirect_target: Mutex<Option<String>>,
    /// Off for long benchmark runs (`benches/run.sh --soak`): millions of requests would
    /// otherwise all be kept here.
    keep_records: AtomicBool,
    /// Bytes of `Scenario::Huge` answers handed to the connection so far.
    huge_sent: Arc<AtomicU64>,
    /// Wikipedia REST summaries asked for (answer cards).
    summaries: AtomicUsize,
}

/// Every engine's fixture server.
pub struct FixtureUpstream {
    servers: BTreeMap<String, (u16, Arc<FixtureState>)>,
    /// Where every engine's pictures come from in tests (`image_base_url`).
    pub pictures: super::pictures::PictureHost,
}

/// Paging parameters across the shipped engines: their presence means "page 2 or later".
const PAGING_PARAMS: &[&str] = &["s", "first", "start", "sroffset", "offset", "b", "page"];

fn extension(engine: &str) -> &'static str {
    match engine {
        "kiddle" | "kidrex" | "swiggle" => "js",
        "simple_wikipedia" | "brave_api" | "google_cse_api" | "openverse" | "google_cse_images" => "json",
        _ => "html",
    }
}

/// Starts a stand-in server on a free 127.0.0.1 port, one worker, sharing `state` with its
/// handlers, with the routes `routes` adds; returns the port. Every fixture (engines, pictures,
/// oEmbed, UT1 lists) starts this way.
pub fn serve_loopback<T: Send + Sync + 'static>(what: &str, state: Arc<T>, routes: fn(&mut web::ServiceConfig)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind the {what} fixture: {e}"));
    let port = listener.local_addr().expect("addr").port();
    let data = web::Data::from(state);
    let server =
        HttpServer::new(move || App::new().app_data(data.clone()).configure(routes)).workers(1).disable_signals().listen(listener).expect("listen").run();
    tokio::spawn(server);
    port
}

impl FixtureUpstream {
    pub async fn start(engines: &[&str]) -> FixtureUpstream {
        let mut servers = BTreeMap::new();
        for engine in engines {
            let state = Arc::new(FixtureState {
                engine: engine.to_string(),
                dir: super::repo_dir().join("tests/fixtures").join(engine),
                scenario: Mutex::new(Scenario::Results),
                delay_ms: AtomicU64::new(0),
                searches: AtomicUsize::new(0),
                recorded: Mutex::new(Vec::new()),
                timings: Mutex::new(Vec::new()),
                redirect_target: Mutex::new(None),
                keep_records: AtomicBool::new(true),
                huge_sent: Arc::new(AtomicU64::new(0)),
                summaries: AtomicUsize::new(0),
            });
            let port = serve_loopback("engine", state.clone(), |cfg| {
                cfg.default_service(web::to(answer));
            });
            servers.insert(engine.to_string(), (port, state));
        }
        FixtureUpstream { servers, pictures: super::pictures::PictureHost::start() }
    }

    /// Every pupil, picture and staff engine the product ships.
    pub async fn start_all() -> FixtureUpstream {
        let all: Vec<&str> = super::PUPIL_ENGINES.iter().chain(super::PICTURE_ENGINES).chain(super::STAFF_ENGINES).copied().collect();
        FixtureUpstream::start(&all).await
    }

    pub fn engines(&self) -> Vec<String> {
        self.servers.keys().cloned().collect()
    }

    pub fn port(&self, engine: &str) -> u16 {
        self.state_port(engine).0
    }

    pub fn base_url(&self, engine: &str) -> String {
        format!("http://127.0.0.1:{}", self.port(engine))
    }

    fn state_port(&self, engine: &str) -> (u16, &Arc<FixtureState>) {
        let (port, state) = self.servers.get(engine).unwrap_or_else(|| panic!("no fixture for {engine}"));
        (*port, state)
    }

    pub fn set_scenario(&self, engine: &str, scenario: Scenario) {
        *self.state_port(engine).1.scenario.lock().expect("lock") = scenario;
    }

    pub fn set_all(&self, scenario: Scenario) {
        for engine in self.servers.keys() {
            self.set_scenario(engine, scenario);
        }
    }

    pub fn set_delay(&self, engine: &str, delay: Duration) {
        self.state_port(engine).1.delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Bytes of `Scenario::Huge` answers this engine's server has handed to its connections:
    /// a reader that closes the connection at its cap stops it far short of the whole.
    pub fn huge_bytes_sent(&self, engine: &str) -> u64 {
        self.state_port(engine).1.huge_sent.load(Ordering::SeqCst)
    }

    /// Stops keeping each request and its timing (the search counts go on).
    pub fn forget_requests(&self) {
        for (_, state) in self.servers.values() {
            state.keep_records.store(false, Ordering::SeqCst);
        }
    }

    pub fn set_redirect_target(&self, engine: &str, target: &str) {
        *self.state_port(engine).1.redirect_target.lock().expect("lock") = Some(target.to_string());
    }

    /// Search requests received (token script fetches are not searches).
    pub fn searches(&self, engine: &str) -> usize {
        self.state_port(engine).1.searches.load(Ordering::SeqCst)
    }

    /// Wikipedia REST page summaries asked of this engine's fixture (answer cards).
    pub fn summaries(&self, engine: &str) -> usize {
        self.state_port(engine).1.summaries.load(Ordering::SeqCst)
    }

    pub fn total_requests(&self, engine: &str) -> usize {
        self.state_port(engine).1.recorded.lock().expect("lock").len()
    }

    pub fn requests(&self, engine: &str) -> Vec<Recorded> {
        self.state_port(engine).1.recorded.lock().expect("lock").clone()
    }

    /// Every search so far: its parameter values and this engine's time to answer it.
    pub fn timings(&self, engine: &str) -> Vec<(Vec<String>, Duration)> {
        self.state_port(engine).1.timings.lock().expect("lock").clone()
    }

    /// The fixture file's text, for tests that parse it directly.
    pub fn file(engine: &str, name: &str) -> String {
        let path = super::repo_dir().join("tests/fixtures").join(engine).join(format!("{name}.{}", extension(engine)));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

async fn answer(req: HttpRequest, body: web::Bytes, state: web::Data<FixtureState>) -> HttpResponse {
    let received = Instant::now();
    // Wikipedia's REST page summary (the answer card): not a search, not recorded as one.
    if let Some(title) = req.path().strip_prefix("/api/rest_v1/page/summary/") {
        state.summaries.fetch_add(1, Ordering::SeqCst);
        return match title {
            // A redirect page answers with a redirect to its target, as the real API does.
            "Volcanoes" => HttpResponse::Found().insert_header(("Location", "Volcano")).finish(),
            "Volcano" => file_response(&state, "summary", 200, "application/json; charset=utf-8"),
            "Mercury" => file_response(&state, "summary-disambiguation", 200, "application/json; charset=utf-8"),
            // An ordinary title whose lead names something the term lists refuse.
            "Toy_monsters" => file_response(&state, "summary-screened", 200, "application/json; charset=utf-8"),
            other => HttpResponse::NotFound().content_type("application/problem+json").body(format!(
                "{{\"type\":\"https://mediawiki.org/wiki/HyperSwitch/errors/not_found\",\"title\":\"Not found.\",\"method\":\"get\",\"detail\":\"Page or revision not found.\",\"uri\":\"/simple.wikipedia.org/v1/page/summary/{other}\"}}"
            )),
        };
    }
    let query: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let headers = req.headers().iter().map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or("").to_string())).collect();
    let recorded = Recorded { path: req.path().to_string(), query, form, headers };
    let keep = state.keep_records.load(Ordering::SeqCst);
    if keep {
        state.recorded.lock().expect("lock").push(recorded.clone());
    }

    if req.path().ends_with("cse.js") {
        return file_response(&state, "cse", 200, "application/javascript");
    }
    state.searches.fetch_add(1, Ordering::SeqCst);
    let response = search_answer(&state, &recorded).await;
    if keep {
        let values = recorded.query.into_iter().chain(recorded.form).map(|(_, v)| v).collect();
        state.timings.lock().expect("lock").push((values, received.elapsed()));
    }
    response
}

async fn search_answer(state: &FixtureState, recorded: &Recorded) -> HttpResponse {
    let delay = state.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let scenario = *state.scenario.lock().expect("lock");
    let ext = extension(&state.engine);
    let content_type = match ext {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        _ => "application/json",
    };
    match scenario {
        Scenario::Results => {
            let later_page = PAGING_PARAMS.iter().any(|p| recorded.param(p).is_some());
            file_response(state, if later_page { "page2" } else { "results" }, 200, content_type)
        }
        Scenario::Empty => file_response(state, "empty", 200, content_type),
        Scenario::Blocked => {
            let status = if state.engine == "mojeek" { 403 } else { 200 };
            file_response(state, "blocked", status, content_type)
        }
        Scenario::Malformed => {
            let body = match ext {
                "html" => "<html><body><div class=\"x\"><p>Lorem <b>ipsum</p><ul><li><a href=\"/x\">half a",
                "js" => "/*O_o*/\n_({\"cursor\": {\"currentPageIndex\": 0, \"esti",
                _ => "{\"unexpected\": [1, 2, {\"tr",
            };
            HttpResponse::Ok().content_type(content_type).body(body)
        }
        Scenario::ServerError => HttpResponse::InternalServerError().body("upstream exploded"),
        Scenario::Stall => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            file_response(state, "results", 200, content_type)
        }
        Scenario::RedirectAway => {
            let target = state.redirect_target.lock().expect("lock").clone().unwrap_or_else(|| "http://localhost:9/".into());
            HttpResponse::Found().insert_header(("Location", target)).finish()
        }
        Scenario::DeeplyNested => HttpResponse::Ok().content_type(content_type).body(deeply_nested_page()),
        Scenario::Page(name) => file_response(state, name, 200, content_type),
        Scenario::Huge(bytes) => HttpResponse::Ok().content_type(content_type).streaming(huge_body(bytes, state.huge_sent.clone())),
        Scenario::Trickle(pause) => {
            use futures_util::StreamExt as _;
            let path = state.dir.join(format!("results.{}", extension(&state.engine)));
            let page = web::Bytes::from(std::fs::read(&path).unwrap_or_default());
            let half = page.len() / 2;
            let (first, second) = (page.slice(..half), page.slice(half..));
            let later = futures_util::stream::once(async move {
                tokio::time::sleep(pause).await;
                second
            });
            HttpResponse::Ok()
                .content_type(content_type)
                .streaming(futures_util::stream::once(async move { first }).chain(later).map(Ok::<_, std::convert::Infallible>))
        }
    }
}

/// `Scenario::Huge`'s body: a Bing-shaped page opening, then one result after another.
fn huge_body(total: usize, counted: Arc<AtomicU64>) -> impl futures_util::Stream<Item = Result<web::Bytes, std::convert::Infallible>> {
    let result = "<li class=\"b_algo\"><h2><a href=\"https://kids.example/lava\">Lava</a></h2><div class=\"b_caption\"><p>Hot rock.</p></div></li>\n";
    let chunk = web::Bytes::from(result.repeat(64 * 1024 / result.len()));
    let opening = web::Bytes::from_static(b"<html><body><ol id=\"b_results\">");
    let mut sent = 0;
    futures_util::stream::iter(
        std::iter::once(opening)
            .chain(std::iter::from_fn(move || {
                (sent < total).then(|| {
                    let part = chunk.slice(..chunk.len().min(total - sent));
                    sent += part.len();
                    counted.fetch_add(part.len() as u64, Ordering::SeqCst);
                    part
                })
            }))
            .map(Ok),
    )
}

fn file_response(state: &FixtureState, name: &str, status: u16, content_type: &str) -> HttpResponse {
    let path = state.dir.join(format!("{name}.{}", if name == "cse" { "js" } else { extension(&state.engine) }));
    match std::fs::read(&path) {
        Ok(bytes) => HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status")).content_type(content_type).body(bytes),
        Err(e) => HttpResponse::NotFound().body(format!("fixture {} missing: {e}", path.display())),
    }
}
