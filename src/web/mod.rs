//! HTTP surface: routes, shared state, security headers. One file per page under `pupil/`.
//!
//! Invariant: every response carries the security headers below; no page loads anything from
//! another host (CSP `default-src 'self'`), and pupil queries never leak via `Referer`.

mod assets;
pub mod client;
pub mod compress;
pub mod form;
mod layout;
pub mod origin;
pub mod paths;
mod pupil;
pub mod staff;

use std::sync::Arc;

use actix_web::middleware::DefaultHeaders;
use actix_web::{web, HttpResponse};

use crate::approvals::Approvals;
use crate::policy::golink::LinkSigner;
use crate::policy::LivePolicy;
use crate::search::SearchService;
use crate::staff::throttle::LoginThrottle;
use crate::store::Store;

/// Shared state for every handler.
pub struct AppState {
    pub search: Arc<SearchService>,
    /// The policy in force (reloaded in place: take `current()` once per answer).
    pub policy: Arc<LivePolicy>,
    pub store: Store,
    /// While no staff account exists: the first admin may be made in the browser.
    pub first_run: Arc<crate::staff::first_admin::FirstRun>,
    pub links: LinkSigner,
    pub login_throttle: LoginThrottle,
    pub approvals: Arc<Approvals>,
    /// Pupil pages of approvals, built once per (approval, page, hidden-results generation).
    pub approved_pages: crate::cache::LoadingCache<(i64, u32, u64), Arc<crate::search::SearchOutcome>>,
    /// false: pupils may only use approved searches.
    pub pupil_live_search: bool,
    /// true: pupils may search pictures live; false: only approved picture searches.
    pub pupil_live_picture_search: bool,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub metrics_allow: Vec<String>,
    pub devices: Arc<crate::devices::Devices>,
    pub supervision: Arc<crate::supervision::Supervision>,
    pub safeguarding: Arc<crate::safeguarding::Safeguarding>,
    pub require_enrolment: bool,
    pub secure_cookies: bool,
    pub retention: crate::safeguarding::retention::Retention,
    /// Reverse proxies whose X-Forwarded-* headers are believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The school's time zone, for times staff read.
    pub tz: jiff::tz::TimeZone,
    /// Whether the database still takes writes (the periodic probe).
    pub storage: Arc<crate::store::probe::StorageHealth>,
    /// Over-block reports and the local exceptions made of them.
    pub overblocks: Arc<crate::overblocks::OverBlocks>,
    /// The filter self-test's probes (text, file name), read at start-up.
    pub filter_probes: (String, String),
    /// The categories the school switched off (their probes are reported as off).
    pub categories_off: Vec<String>,
    /// Videos approved for today's board, and the oEmbed endpoint their details come from.
    pub videos: Arc<crate::videos::Videos>,
    pub oembed: Arc<crate::videos::oembed::OEmbed>,
    /// The school's own sites (home page tiles).
    pub sites: Arc<crate::sites::Sites>,
    /// The image path: signed picture paths, fetched, checked, re-encoded and cached.
    pub images: Arc<crate::images::Images>,
}

/// Every page's Content-Security-Policy: nothing from another host, and no frames at all.
pub const CSP: &str = "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; font-src 'self'; connect-src 'self'; frame-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
/// The video page's (`pupil::video`), the one exception: the same, but its one frame may come
/// from YouTube's privacy-enhanced host.
pub const VIDEO_PAGE_CSP: &str = "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; font-src 'self'; connect-src 'self'; frame-src https://www.youtube-nocookie.com; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The strict security headers of `../shared/design/security.md`, on every response (a page
/// that sets its own CSP keeps it: `DefaultHeaders` adds only what is missing); with
/// `https` (kidsearch serving TLS itself) also HSTS, so browsers never fall back to plain HTTP.
pub fn security_headers(https: bool) -> DefaultHeaders {
    let headers = if https { DefaultHeaders::new().add(("Strict-Transport-Security", "max-age=31536000")) } else { DefaultHeaders::new() };
    headers
        .add(("Content-Security-Policy", CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        // same-origin, not no-referrer: no other site ever gets a Referer (pupil queries
        // never leak), and our own POSTs carry their real Origin (under no-referrer a browser
        // sends `Origin: null`, which `origin::same_origin_post` must refuse).
        .add(("Referrer-Policy", "same-origin"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
}

/// Routes. Gzip (`Compress`) is added per resource, not app-wide: the results page — the hot
/// path — gzips its cached bytes once itself, and an app-wide encoder layer cost ~12 % of its
/// throughput even for clients that take no gzip (benches/run.sh).
pub fn routes(cfg: &mut web::ServiceConfig) {
    use actix_web::middleware::Compress;
    cfg.service(web::resource(paths::HOME).wrap(Compress::default()).route(web::get().to(pupil::home::page)))
        .route(paths::SEARCH, web::get().to(pupil::results::page))
        .route(paths::PICTURES, web::get().to(pupil::pictures::page))
        .route(paths::GO, web::get().to(pupil::go::page))
        .route("/video/{id}", web::get().to(pupil::video::page))
        .service(web::scope(paths::PICTURES_PREFIX).default_service(web::to(pupil::picture::serve)))
        .route(paths::SITE_PICTURE, web::get().to(pupil::picture::site))
        .service(web::resource(paths::HELP).wrap(Compress::default()).route(web::post().to(pupil::help::press)).route(web::get().to(pupil::help::covered)))
        .route(paths::HELP_STATUS, web::get().to(pupil::help::status))
        .route(paths::WINDOW, web::get().to(pupil::gate::window))
        .route(paths::HELP_CLEAR, web::post().to(pupil::help::clear))
        .route(paths::ENROL_CODE, web::post().to(pupil::enrol::by_code))
        .service(
            web::resource("/enrol/{token}").wrap(Compress::default()).route(web::get().to(pupil::enrol::confirm)).route(web::post().to(pupil::enrol::enrol)),
        )
        .route(paths::HEALTHZ, web::get().to(healthz))
        .route(paths::METRICS, web::get().to(metrics))
        .service(web::resource("/static/{file}").wrap(Compress::default()).route(web::get().to(assets::serve)))
        .route("/static/fonts/{file}", web::get().to(assets::font))
        .default_service(web::to(pupil::not_found::page));
}

/// `/healthz`: "ok", or "degraded: …" while the database does not take writes (the probe) or
/// safeguarding records wait in memory for the disk. The plain form answers 200 either way
/// (the server still serves pupils); `?strict`, for container checks, answers 503 when degraded.
async fn healthz(req: actix_web::HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let strict = url::form_urlencoded::parse(req.query_string().as_bytes()).any(|(k, _)| k == "strict");
    let (waiting, lost) = state.safeguarding.waiting_counts();
    let mut problems = Vec::new();
    if !state.storage.writable() {
        problems.push(format!("the database does not take writes ({})", state.storage.problem().unwrap_or_default()));
    }
    if waiting > 0 {
        problems.push(format!("{waiting} safeguarding records wait in memory for the disk"));
    }
    if lost > 0 {
        problems.push(format!("{lost} safeguarding records are only in the log"));
    }
    if problems.is_empty() {
        return HttpResponse::Ok().content_type("text/plain; charset=utf-8").insert_header(("Cache-Control", "no-store")).body("ok\n");
    }
    let mut answer = if strict { HttpResponse::ServiceUnavailable() } else { HttpResponse::Ok() };
    answer.content_type("text/plain; charset=utf-8").insert_header(("Cache-Control", "no-store")).body(format!("degraded: {}\n", problems.join("; ")))
}

/// `/metrics`, for the monitoring host only.
async fn metrics(req: actix_web::HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if !crate::metrics::allowed(client::client(&req, &state.trusted_proxies).ip, &state.metrics_allow) {
        return HttpResponse::Forbidden().content_type("text/plain; charset=utf-8").body("metrics are served to the configured monitoring hosts only\n");
    }
    state.metrics.activity_dropped.set(state.store.dropped_rows());
    for (engine, breaker) in state.search.breaker_states() {
        let resting = !matches!(breaker, crate::search::breaker::BreakerState::Closed { .. });
        state.metrics.engine_resting.get_or_create(&crate::metrics::EngineOnly { engine: engine.to_string() }).set(u64::from(resting));
    }
    let (waiting, lost) = state.safeguarding.waiting_counts();
    state.metrics.records_waiting.set(waiting as u64);
    state.metrics.records_lost.set(lost);
    state.metrics.storage_writable.set(u64::from(state.storage.writable()));
    if let Some(fetched) = &state.policy.source().fetched {
        let now = jiff::Timestamp::now().as_millisecond();
        for list in crate::lists::states(fetched) {
            let label = crate::metrics::CategoryLabels { category: list.category.clone() };
            if let Some(age) = list.age_secs(now) {
                state.metrics.list_age.get_or_create(&label).set(age);
            }
            if let Some(last) = &list.last {
                state.metrics.list_update_failed.get_or_create(&label).set(u64::from(!last.installed));
            }
        }
    }
    if let Ok((new, covered)) = state.safeguarding.open_counts().await {
        state.metrics.incidents_new.set(new);
        state.metrics.screens_covered.set(covered);
    }
    HttpResponse::Ok().content_type("application/openmetrics-text; version=1.0.0; charset=utf-8").body(state.metrics.encode())
}

impl AppState {
    /// The client of `req` as far as we trust what proxies say (see `client.rs`).
    pub fn client(&self, req: &actix_web::HttpRequest) -> client::Client {
        client::client(req, &self.trusted_proxies)
    }
}
