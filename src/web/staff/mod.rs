//! Staff pages under `/staff`: login, logout and (for now) a signed-in home. Every route here
//! needs a staff session, except the login form itself; a pupil device that wanders here gets
//! the login page and never any data. Every state-changing form carries a CSRF token.

mod activity;
mod alerts;
mod approvals;
mod charts;
mod checklist;
mod classes;
mod devices;
mod health;
mod hidden;
mod home;
mod incidents;
mod login;
mod overblocks;
mod password;
mod review;
mod security;
mod setup;
mod sites;
mod users;
mod videos;

use actix_session::config::{BrowserSession, CookieContentSecurity, TtlExtensionPolicy};
use actix_session::{Session, SessionMiddleware};
use actix_web::cookie::{Key, SameSite};
use actix_web::{web, HttpResponse};

use crate::staff::sessions::SqliteSessionStore;
use crate::staff::{Role, StaffAccount};
use crate::store::Store;
use crate::web::{paths, AppState};

const SESSION_COOKIE: &str = "kidsearch_staff";
/// A staff session ends after this long without a request.
const IDLE_MINUTES: i64 = 60;
const CSRF_KEY: &str = "csrf";
const STAFF_ID_KEY: &str = "staff_id";
/// The account's session generation when the session signed in: a password change or a
/// removal moves the account's on, ending the session.
const GENERATION_KEY: &str = "generation";
const NO_RANDOMNESS: &str = "unavailable";

pub fn routes(cfg: &mut web::ServiceConfig, store: Store, key: Key, secure_cookies: bool) {
    let cookie_key = web::Data::new(SessionCookieKey(key.clone()));
    let sessions = SessionMiddleware::builder(SqliteSessionStore::new(store), key)
        .cookie_name(SESSION_COOKIE.into())
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Strict)
        // Secure whenever staff reach the server over HTTPS (config `secure_cookies`).
        .cookie_secure(secure_cookies)
        .cookie_content_security(CookieContentSecurity::Private)
        // A browser session (no "remember me" on shared school machines) whose server-side state
        // expires after an idle hour.
        .session_lifecycle(
            BrowserSession::default()
                .state_ttl(actix_web::cookie::time::Duration::minutes(IDLE_MINUTES))
                .state_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
        )
        .build();
    cfg.service(
        web::scope(paths::STAFF)
            .app_data(cookie_key)
            .wrap(sessions)
            // Staff pages are gzipped for browsers that ask (the alert stream says identity).
            .wrap(actix_web::middleware::Compress::default())
            .route("", web::get().to(home::page))
            .route("/login", web::get().to(login::form))
            .route("/login", web::post().to(login::submit))
            .route("/setup", web::get().to(setup::show))
            .route("/setup", web::post().to(setup::create))
            .route("/logout", web::post().to(home::logout))
            .route("/prerun", web::get().to(approvals::prerun))
            .route("/approvals", web::get().to(approvals::list))
            .route("/approvals", web::post().to(approvals::approve))
            .route("/approvals/{id}/withdraw", web::post().to(approvals::withdraw))
            .route("/approvals/{id}/renew", web::post().to(approvals::renew))
            .route("/videos", web::get().to(videos::page))
            .route("/videos", web::post().to(videos::approve))
            .route("/videos/{id}/withdraw", web::post().to(videos::withdraw))
            .route("/sites", web::get().to(sites::page))
            .route("/sites", web::post().to(sites::add))
            .route("/sites/{id}/remove", web::post().to(sites::remove))
            .route("/users", web::get().to(users::page))
            .route("/users", web::post().to(users::add))
            .route("/users/{id}/role", web::post().to(users::change_role))
            .route("/users/{id}/school", web::post().to(users::move_school))
            .route("/users/{id}/password", web::post().to(users::reset_password))
            .route("/users/{id}/unlock", web::post().to(users::unlock))
            .route("/users/{id}/remove", web::post().to(users::remove))
            .route("/password", web::get().to(password::page))
            .route("/password", web::post().to(password::change))
            .route("/alerts/stream", web::get().to(alerts::stream))
            .route("/alerts/open", web::get().to(alerts::open_now))
            .route("/incidents", web::get().to(incidents::register))
            .route("/incidents.csv", web::get().to(incidents::csv))
            .route("/incidents/{id}", web::get().to(incidents::detail))
            .route("/incidents/{id}/review", web::post().to(incidents::review))
            .route("/incidents/{id}/clear", web::post().to(alerts::clear))
            .route("/incidents/{id}/keep-hidden", web::post().to(alerts::keep_hidden))
            .route("/incidents/{id}/release", web::post().to(alerts::release))
            .route("/hidden", web::get().to(hidden::page))
            .route("/hidden/release", web::post().to(hidden::release))
            .route("/devices", web::get().to(devices::page))
            .route("/devices", web::post().to(devices::create_link))
            .route("/devices/try-out", web::post().to(checklist::try_out))
            .route("/devices/qr/{token}", web::get().to(devices::qr))
            .route("/devices/{id}/revoke", web::post().to(devices::revoke))
            .route("/classes/open", web::post().to(classes::open))
            .route("/classes/close", web::post().to(classes::close))
            .route("/classes/extend", web::post().to(classes::extend))
            .route("/activity", web::get().to(activity::page))
            .route("/activity.csv", web::get().to(activity::csv))
            .route("/security", web::get().to(security::page))
            .route("/review", web::get().to(review::page))
            .route("/health", web::get().to(health::page))
            .route("/health/canary", web::post().to(health::run_now))
            .route("/health/filter-test", web::post().to(health::filter_test))
            .route("/retention/purge", web::post().to(activity::purge_now))
            .route("/over-blocks", web::get().to(overblocks::page))
            .route("/over-blocks/report", web::post().to(overblocks::report))
            .route("/over-blocks/{id}/exception", web::post().to(overblocks::make_exception))
            .route("/over-blocks/{id}/dismiss", web::post().to(overblocks::dismiss))
            .route("/over-blocks/exceptions/{id}/remove", web::post().to(overblocks::remove_exception)),
    );
}

/// The session's CSRF token, created on first use (random, 128 bits).
pub fn csrf_token(session: &Session) -> String {
    if let Ok(Some(token)) = session.get::<String>(CSRF_KEY) {
        return token;
    }
    let token = random_hex(16);
    let _ = session.insert(CSRF_KEY, &token);
    token
}

/// Does the form's token match the session's? Compared in constant time.
pub fn csrf_ok(session: &Session, form_token: Option<&str>) -> bool {
    let (Ok(Some(expected)), Some(given)) = (session.get::<String>(CSRF_KEY), form_token) else {
        return false;
    };
    if expected == NO_RANDOMNESS {
        return false;
    }
    crate::secrets::constant_time_eq(&expected, given)
}

pub fn random_hex(bytes: usize) -> String {
    // No randomness: a marker that `csrf_ok` never accepts.
    crate::secrets::random_hex(bytes).unwrap_or_else(|_| String::from(NO_RANDOMNESS))
}

/// The signed-in staff member, if the session has one that still exists.
pub async fn signed_in(session: &Session, state: &AppState) -> Option<StaffAccount> {
    let id = session.get::<i64>(STAFF_ID_KEY).ok().flatten()?;
    crate::staff::accounts::session_account(&state.store, id, session_generation(session)).await.ok().flatten()
}

/// The account's session generation when this session signed in.
pub fn session_generation(session: &Session) -> i64 {
    // A session from before sessions remembered this is of generation 0 (every account's
    // before its first password change).
    session.get::<i64>(GENERATION_KEY).ok().flatten().unwrap_or(0)
}

/// The server-side key of the request's staff session, read from its (encrypted) cookie as
/// the session middleware reads it.
pub fn session_key_of(req: &actix_web::HttpRequest) -> Option<String> {
    let key = req.app_data::<web::Data<SessionCookieKey>>()?;
    let mut jar = actix_web::cookie::CookieJar::new();
    jar.add_original(req.cookie(SESSION_COOKIE)?.into_owned());
    Some(jar.private(&key.0).get(SESSION_COOKIE)?.value().to_string())
}

/// The session cookie's key, for `session_key_of` (and, its signing half, the login form's
/// stateless token).
pub struct SessionCookieKey(Key);

impl SessionCookieKey {
    pub fn signing(&self) -> &[u8] {
        self.0.signing()
    }
}

/// Makes `session` a fresh one (new id: no fixation) signed in as `account_id` at the
/// account's session `generation`.
pub fn sign_session_in(session: &Session, account_id: i64, generation: i64) {
    session.renew();
    let _ = session.insert(STAFF_ID_KEY, account_id);
    let _ = session.insert(GENERATION_KEY, generation);
}

/// The answer to a staff form whose CSRF token is missing or wrong: nothing was changed.
pub fn expired_form() -> HttpResponse {
    HttpResponse::Forbidden().body("This form has expired; go back and try again.")
}

pub fn to_login() -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("Location", paths::STAFF_LOGIN)).finish()
}

/// The session cookie's encryption key, 64 random bytes kept in the data dir (0600), so
/// sessions survive a restart, or derived from a trust's shared secret (every instance).
pub fn load_session_key(keys: &crate::secrets::Keys) -> std::io::Result<Key> {
    let bytes = keys.key("session.key", 64, "staff will need to sign in again")?;
    Ok(Key::from(&bytes))
}

/// Every staff role.
pub const ANY_STAFF: &[Role] = &[Role::Teacher, Role::Dsl, Role::Admin];
/// The incident register: the DSL, and the admin who may stand in.
pub const SAFEGUARDING_LEADS: &[Role] = &[Role::Dsl, Role::Admin];

/// The signed-in account, if its role may use this page; otherwise the answer to send.
pub async fn require(session: &Session, state: &AppState, roles: &[Role]) -> Result<StaffAccount, HttpResponse> {
    let Some(account) = signed_in(session, state).await else { return Err(to_login()) };
    if !roles.contains(&account.role) {
        let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let body = maud::html! { p.notice { "This page is for: " (allowed.join(", ")) ". Ask your admin if you need it." } };
        return Err(HttpResponse::Forbidden()
            .content_type("text/html; charset=utf-8")
            .body(crate::web::layout::staff_page("Not for your role", Some(account.role), body).into_string()));
    }
    Ok(account)
}

/// The school a staff action is for: the account's own. A trust-wide account sees every
/// school but acts for none (approving, enrolling, opening a class belong to a school's staff).
#[allow(clippy::result_large_err)] // the Err is the page to send, as `require`'s is
pub fn own_school(account: &StaffAccount) -> Result<crate::schools::SchoolId, HttpResponse> {
    account.school.ok_or_else(|| {
        let body = maud::html! { p.notice { "This is done by a school's own staff. A trust-wide account sees every school but acts for none: sign in with an account of the school." } };
        HttpResponse::Forbidden().content_type("text/html; charset=utf-8").body(crate::web::layout::staff_page("For a school's staff", Some(account.role), body).into_string())
    })
}

/// As `require`, for a form: the CSRF token must match too.
pub async fn require_form(session: &Session, state: &AppState, body: &[u8], roles: &[Role]) -> Result<StaffAccount, HttpResponse> {
    let account = require(session, state, roles).await?;
    if !csrf_ok(session, crate::web::form::field(body, "csrf").as_deref()) {
        return Err(expired_form());
    }
    Ok(account)
}

/// A page for the signed-in `account` (with the navigation bar its role may use): never
/// cached (it shows who is signed in and live data).
pub fn html_page(account: &StaffAccount, title: &str, body: maud::Markup) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(crate::web::layout::staff_page(title, Some(account.role), body).into_string())
}

/// 303 to `location`. One that is no header value (a CR or LF: the callers build their
/// targets, but a 500 after an action was done misleads staff) goes to the dashboard instead.
pub fn see_other(location: &str) -> HttpResponse {
    let location = actix_web::http::header::HeaderValue::from_str(location).unwrap_or_else(|_| {
        tracing::warn!("a staff redirect target was no header value; sent to the dashboard");
        actix_web::http::header::HeaderValue::from_static(paths::STAFF)
    });
    HttpResponse::SeeOther().insert_header((actix_web::http::header::LOCATION, location)).finish()
}

/// The answer when the database failed under a staff action: nothing half-done is claimed.
pub fn store_failed(what: &str, e: &crate::store::StoreError) -> HttpResponse {
    tracing::error!(error = %e, "{what} failed");
    HttpResponse::InternalServerError().content_type("text/plain; charset=utf-8").body(format!("{what} failed: {e}. Nothing was changed; try again."))
}

const FLASH_KEY: &str = "flash";

/// Keeps `message` for the next page this session reads ("Removed Oak — iPad 3."): an action
/// answers with a redirect (so a reload does not do it twice) and the page it lands on says
/// what was done.
pub fn flash(session: &Session, message: impl Into<String>) {
    let _ = session.insert(FLASH_KEY, message.into());
}

/// The message `flash` kept, shown once (then forgotten), as a status notice.
pub fn flash_notice(session: &Session) -> maud::Markup {
    let message = session.remove_as::<String>(FLASH_KEY).and_then(Result::ok);
    maud::html! { @if let Some(m) = message { p.notice #done role="status" { (m) } } }
}

/// Did the form come from the "yes, do it" button of `confirm_page`?
pub fn confirmed(body: &[u8]) -> bool {
    crate::web::form::field(body, "confirm").as_deref() == Some("yes")
}

/// What asks first before something that cannot be undone (a tap on an iPad slips): the
/// question, what will follow, and the same form again with `confirm=yes`; "No" goes `back`.
pub struct Confirm<'a> {
    pub title: &'a str,
    pub question: String,
    pub consequence: String,
    pub action: &'a str,
    pub yes: &'a str,
    /// The form's other fields, sent again.
    pub fields: Vec<(&'a str, String)>,
    pub back: &'a str,
}

pub fn confirm_page(session: &Session, account: &StaffAccount, c: Confirm<'_>) -> HttpResponse {
    let token = csrf_token(session);
    let body = maud::html! {
        h1 { (c.title) }
        section.notice role="alert" {
            p { strong { (c.question) } }
            p { (c.consequence) }
        }
        form.inline-form method="post" action=(c.action) {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="confirm" value="yes";
            @for (name, value) in &c.fields { input type="hidden" name=(name) value=(value); }
            button.danger type="submit" { (c.yes) }
            a.button href=(c.back) { "No, go back" }
        }
    };
    html_page(account, c.title, body)
}
