//! Building the application: one start-up path shared by `main` and the tests.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::Server;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpServer};

use crate::approvals::Approvals;
use crate::clock::{Clock, SystemClock};
use crate::devices::Devices;
use crate::metrics::{Metrics, RouteLabels, RouteOnly};
use crate::overblocks::OverBlocks;
use crate::policy::golink::LinkSigner;
use crate::policy::{LivePolicy, PolicySource};
use crate::safeguarding::retention::{purge, Retention};
use crate::safeguarding::Safeguarding;
use crate::search::SearchService;
use crate::settings::Settings;
use crate::store::Store;
use crate::supervision::Supervision;
use crate::tls::{spawn_reloading, CertReloader};
use crate::web::{routes, security_headers, AppState};

/// Threads of each HTTP worker's blocking pool (actix's default is 512 divided by the cores:
/// 256 on a two-core school server). Issue 21's soak (one request in ten a new search, 300
/// connections) had ~200 of them alive at once, each with an allocator heap of its own, and RSS
/// at ~360 MB; held to 8, ~250 MB, and no fewer requests answered. 32 leaves room beside the
/// engines' readings, which take at most `fetch::READINGS_PER_ENGINE` per engine, for the
/// store's queue, password checks and pictures; what finds the pool busy waits its turn.
pub const BLOCKING_THREADS_PER_WORKER: usize = 32;

/// A bound, ready-to-run server. Binding happens in `build`, so `port()` is known before `run`
/// (tests listen on port 0).
pub struct Application {
    port: u16,
    server: Server,
    store: Store,
    /// For the records kept in memory, stored (or logged) at a graceful stop.
    safeguarding: Arc<Safeguarding>,
    /// While no staff account exists: the one-time code for making the first admin elsewhere.
    setup_code: Option<String>,
}

impl Application {
    pub fn build(settings: Settings) -> std::io::Result<Application> {
        Application::build_with_clock(settings, Arc::new(SystemClock))
    }

    /// As `build`, with the clock the server reads (tests move it across a school day's end).
    pub fn build_with_clock(settings: Settings, clock: Arc<dyn Clock>) -> std::io::Result<Application> {
        let config = settings.server;
        crate::store::private::data_dir(&config.data_dir)?;
        for warning in &settings.warnings {
            tracing::warn!("{warning}");
        }
        let policy = Arc::new(LivePolicy::new(
            settings.policy,
            PolicySource {
                allowlist_dir: config.allowlist_dir.clone(),
                walled_garden: config.walled_garden,
                categories_off: config.categories_off.clone(),
                config_file: settings.config_file.clone(),
                fetched: Some(crate::policy::FetchedLists::of(&config)),
            },
        ));
        // The database first, before any key is made: a key file beside a missing database
        // then always means a lost one (`store::lost`), never a first start.
        let new_database = crate::store::NewDatabase::from_flag(config.new_database);
        let store = Store::open_with(&config.data_dir, config.database_url.as_deref(), new_database).map_err(std::io::Error::other)?;
        let (first_run, setup_code) = crate::staff::first_admin::FirstRun::start(&store).map_err(std::io::Error::other)?;
        if let Some(code) = &setup_code {
            tracing::warn!(
                "no staff account exists yet: open /staff in a browser on this computer to create the first admin, or from another computer with the one-time setup code {code}"
            );
        }
        let keys = crate::secrets::Keys::from_config(&config.data_dir, config.shared_secret_file.as_deref())?;
        let links = LinkSigner::new(&keys)?;
        let mut images =
            crate::images::Images::new(&settings.engines, crate::images::ImageSigner::new(&keys)?, store.clone(), &config.user_agent, config.image_cache_bytes)
                .map_err(std::io::Error::other)?;
        // Approved videos' pictures go through the same signed, re-encoding path as results'.
        images
            .add_source(
                crate::videos::THUMBNAILS,
                crate::videos::THUMBNAIL_HOSTS,
                config.video_thumbnail_base_url.as_deref(),
                std::time::Duration::from_millis(config.engine_timeout_ms.max(3_000)),
                &config.user_agent,
            )
            .map_err(std::io::Error::other)?;
        let images = Arc::new(images);
        let metrics = Arc::new(Metrics::default());
        let devices = Arc::new(Devices::new(store.clone(), clock.clone(), &keys)?);
        let safeguarding = Arc::new(Safeguarding::open(store.clone(), clock.clone(), devices.clone()).map_err(std::io::Error::other)?);
        Safeguarding::spawn_retry(&safeguarding);
        let app_safeguarding = safeguarding.clone();
        let search = SearchService::new(settings.engines, policy.clone(), links.clone(), safeguarding.hidden(), metrics.clone(), clock.clone(), &config)
            .map_err(std::io::Error::other)?
            .with_pictures(images.clone());
        let supervision = Arc::new(Supervision::new(store.clone(), clock.clone(), config.supervised_sessions));
        let retention = Retention { activity_days: config.retention_activity_days, incident_days: config.retention_incident_days };
        let tz = jiff::tz::TimeZone::get(&config.time_zone).map_err(std::io::Error::other)?;
        let session_key = crate::web::staff::load_session_key(&keys)?;
        // Served over HTTPS: the staff cookie is Secure whatever the setting says.
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some(Arc::new(CertReloader::new(cert.clone(), key.clone()).map_err(std::io::Error::other)?)),
            _ => None,
        };
        let secure_cookies = config.secure_cookies || tls.is_some();
        let https = tls.is_some();
        let approvals = Arc::new(Approvals::new(store.clone(), clock.clone(), &config.time_zone).map_err(std::io::Error::other)?);
        let search = Arc::new(search);
        let videos = Arc::new(crate::videos::Videos::new(store.clone(), clock.clone(), &config.time_zone).map_err(std::io::Error::other)?);
        let oembed = Arc::new(
            crate::videos::oembed::OEmbed::new(&config.video_oembed_url, &config.user_agent, std::time::Duration::from_millis(config.engine_timeout_ms))
                .map_err(std::io::Error::other)?,
        );
        let sites = Arc::new(crate::sites::Sites::new(store.clone(), clock.clone()));
        let overblocks = Arc::new(OverBlocks::open(store.clone(), clock.clone(), policy.clone(), search.clone()).map_err(std::io::Error::other)?);
        // One reload of `allowlist/` puts the lists and the engines in force together.
        let reloader = Arc::new(crate::reload::Reloader::new(policy.clone(), search.clone(), images.clone(), config.clone(), settings.engines_toml));
        crate::cluster::follow(
            &store,
            crate::cluster::Followers {
                approvals: approvals.clone(),
                devices: devices.clone(),
                supervision: supervision.clone(),
                safeguarding: safeguarding.clone(),
                overblocks: overblocks.clone(),
                reloader: reloader.clone(),
                videos: videos.clone(),
                sites: sites.clone(),
            },
        );
        // SIGHUP reloads the lists (and, with TLS, the certificate): the handler is installed
        // whether or not TLS is on, as without one a SIGHUP ends the server.
        crate::reload::spawn(reloader, store.clone())?;
        spawn_retention_job(store.clone(), clock, retention);
        seed_spelling(search.clone(), approvals.clone());
        let state = web::Data::new(AppState {
            search,
            policy,
            store: store.clone(),
            first_run: Arc::new(first_run),
            links,
            login_throttle: crate::staff::throttle::LoginThrottle::new(store.clone()),
            approvals,
            approved_pages: crate::cache::LoadingCache::new(
                moka::sync::Cache::builder().max_capacity(2_000).time_to_live(std::time::Duration::from_secs(600)).build(),
            ),
            pupil_live_search: config.pupil_live_search,
            pupil_live_picture_search: config.pupil_live_picture_search,
            metrics: metrics.clone(),
            metrics_allow: config.metrics_allow.clone(),
            devices,
            supervision,
            safeguarding,
            require_enrolment: config.require_enrolment,
            secure_cookies,
            retention,
            trusted_proxies: config.trusted_proxies.iter().filter_map(|p| p.parse().ok()).collect(),
            tz,
            storage: crate::store::probe::StorageHealth::start(store.clone()),
            overblocks,
            filter_probes: crate::policy::probes::read(&config.allowlist_dir),
            categories_off: config.categories_off.clone(),
            videos,
            oembed,
            sites,
            images,
        });

        let workers = if config.workers == 0 { std::thread::available_parallelism().map_or(2, |n| n.get()) } else { config.workers };
        let app_store = store.clone();
        let server = HttpServer::new(move || {
            let (store, key, metrics) = (store.clone(), session_key.clone(), metrics.clone());
            App::new()
                .wrap(from_fn(move |req, next| observe(metrics.clone(), req, next)))
                .wrap(security_headers(https))
                .app_data(state.clone())
                .configure(move |cfg| crate::web::staff::routes(cfg, store, key, secure_cookies))
                .configure(routes)
        })
        .workers(workers)
        // Each worker's blocking pool (engine answers being read, the store's queue, password
        // checks, pictures) is held to BLOCKING_THREADS_PER_WORKER rather than actix's 512 per
        // core count: every thread alive keeps an allocator heap of its own (issue 21's soak).
        .worker_max_blocking_threads(BLOCKING_THREADS_PER_WORKER)
        // A whole school's iPads may connect at once (the bench opens 3,000): a short accept
        // queue (std's listener asks for 128) would leave some waiting for a SYN retry.
        .backlog(4096)
        // Open alert streams are not "in flight": stop waiting for them after a few seconds.
        .shutdown_timeout(5);
        let server = match tls {
            Some(reloader) => {
                let rustls_config = reloader.server_config().map_err(std::io::Error::other)?;
                spawn_reloading(reloader);
                server.bind_rustls_0_23(&config.listen, rustls_config)?
            }
            None => server.bind(&config.listen)?,
        };
        let port = server.addrs().first().map(|a| a.port()).ok_or_else(|| std::io::Error::other("no listening address"))?;
        let server = server.run();
        Ok(Application { port, server, store: app_store, safeguarding: app_safeguarding, setup_code })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The first run's setup code (no staff account exists yet), for the start-up message.
    pub fn setup_code(&self) -> Option<&str> {
        self.setup_code.as_deref()
    }

    /// Runs until the server is stopped. SIGINT/SIGTERM stop it gracefully: no new
    /// connections, requests in flight finish (alert streams are given 5 s), then every queued
    /// activity row is committed before this returns — nothing is lost or half-written. Any
    /// safeguarding record the disk refused is offered to it once more, and what it still
    /// refuses is written to the log in full.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.safeguarding.flush_waiting().await;
        if let Err(e) = self.store.flush().await {
            tracing::error!(error = %e, "could not commit the last activity rows at shutdown");
        }
        tracing::info!("kidsearch stopped");
        served
    }
}

/// Counts every request and its latency by route pattern (never by raw path: no pupil query
/// text in metrics).
///
/// Each request also gets a request id (the caller's `X-Request-Id` if it is a plain token,
/// else a fresh one), on a tracing span around everything logged while answering it and in the
/// response's `X-Request-Id`. Logs carry the route pattern, never the query string: pupil
/// query text appears in logs only at debug level (the activity log is the record).
async fn observe(metrics: Arc<Metrics>, req: ServiceRequest, next: Next<impl MessageBody>) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    use tracing::Instrument;
    let started = std::time::Instant::now();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_string());
    let id = request_id(req.headers().get("x-request-id").and_then(|v| v.to_str().ok()));
    let span = tracing::info_span!("request", id = %id, method = %req.method(), route = %route);
    tracing::debug!(parent: &span, query = %req.query_string(), "request");
    // A middleware's error (the session store's failed write) is counted and logged here like
    // any answer, and answered with a page that says what is wrong (it was an empty,
    // unrecorded 500). The request is gone with the error, so the worded page goes back as
    // the error's own response.
    let mut response = match next.call(req).instrument(span.clone()).await {
        Ok(response) => response,
        Err(e) => {
            let status = e.as_response_error().status_code();
            tracing::error!(parent: &span, status = status.as_u16(), error = %e, "a request failed before its page was answered");
            metrics.requests.get_or_create(&RouteLabels { route: route.clone(), status: crate::metrics::status_class(status.as_u16()) }).inc();
            metrics.latency.get_or_create(&RouteOnly { route }).observe(started.elapsed().as_secs_f64());
            return Err(actix_web::error::InternalError::from_response(e.to_string(), failure_page(status, &id)).into());
        }
    };
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&id) {
        response.headers_mut().insert(actix_web::http::header::HeaderName::from_static("x-request-id"), value);
    }
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if response.status().is_server_error() {
        tracing::warn!(parent: &span, status = response.status().as_u16(), elapsed_ms, "answered with a server error");
    } else {
        tracing::debug!(parent: &span, status = response.status().as_u16(), elapsed_ms, "answered");
    }
    let status = crate::metrics::status_class(response.status().as_u16());
    metrics.requests.get_or_create(&RouteLabels { route: route.clone(), status }).inc();
    metrics.latency.get_or_create(&RouteOnly { route }).observe(started.elapsed().as_secs_f64());
    Ok(response)
}

/// The page for a request that failed inside the server before a handler answered it: what is
/// wrong in words, and the request id to find it in the log (never the raw cause).
fn failure_page(status: actix_web::http::StatusCode, id: &str) -> actix_web::HttpResponse {
    let text = if status.is_server_error() {
        format!("kidsearch could not answer this page: it could not save or read what the page needs. The server's data disk may be full, read-only or damaged. Please tell the ICT technician (request id {id}).\n")
    } else {
        format!("kidsearch could not answer this request (request id {id}).\n")
    };
    actix_web::HttpResponse::build(status).content_type("text/plain; charset=utf-8").insert_header(("Cache-Control", "no-store")).body(text)
}

/// The hourly data-protection purge (first run a minute after start, off the start-up path).
fn spawn_retention_job(store: Store, clock: Arc<dyn Clock>, retention: Retention) {
    // Build runs inside the server's runtime (main, tests); without one there is nothing to do.
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    runtime.spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + std::time::Duration::from_secs(60), std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match purge(&store, clock.now_ms(), retention).await {
                Ok(p) => tracing::info!(activity = p.activity, incidents = p.incidents, "retention purge"),
                Err(e) => tracing::error!(error = %e, "retention purge failed"),
            }
        }
    });
}

/// The caller's request id if it is a plain token (letters, digits, `-`, `_`, `.`; at most 64),
/// so nobody can write arbitrary text into the logs through it; otherwise a new one.
fn request_id(given: Option<&str>) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(id) = given.filter(|g| !g.is_empty() && g.len() <= 64 && g.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))) {
        return id.to_string();
    }
    let prefix = PREFIX.get_or_init(|| crate::secrets::random_hex(3).unwrap_or_else(|_| "000000".into()));
    format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Spelling help suggests the words of today's approved searches: after a restart, learn the
/// ones already approved today (new approvals are learned as they are made).
fn seed_spelling(search: Arc<SearchService>, approvals: Arc<Approvals>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    runtime.spawn(async move {
        for approval in approvals.today(None).await {
            search.learn_words(&approval.query);
        }
    });
}
