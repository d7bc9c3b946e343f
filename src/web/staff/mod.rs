//! Staff pages under `/staff`: login, logout and (for now) a signed-in home. Every route here
//! needs a staff session, except the login form itself; a pupil device that wanders here gets
//! the login page and never any data. Every state-changing form carries a CSRF token.

mod approvals;
mod home;
mod login;
mod users;

use actix_session::config::{BrowserSession, CookieContentSecurity, TtlExtensionPolicy};
use actix_session::{Session, SessionMiddleware};
use actix_web::cookie::{Key, SameSite};
use actix_web::{web, HttpResponse};

use crate::staff::sessions::SqliteSessionStore;
use crate::staff::StaffAccount;
use crate::store::Store;
use crate::web::{paths, AppState};

const SESSION_COOKIE: &str = "kidsearch_staff";
/// A staff session ends after this long without a request.
const IDLE_MINUTES: i64 = 60;
const CSRF_KEY: &str = "csrf";
const STAFF_ID_KEY: &str = "staff_id";
const NO_RANDOMNESS: &str = "unavailable";

pub fn routes(cfg: &mut web::ServiceConfig, store: Store, key: Key, secure_cookies: bool) {
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
            .wrap(sessions)
            .route("", web::get().to(home::page))
            .route("/login", web::get().to(login::form))
            .route("/login", web::post().to(login::submit))
            .route("/logout", web::post().to(home::logout))
            .route("/prerun", web::get().to(approvals::prerun))
            .route("/approvals", web::get().to(approvals::list))
            .route("/approvals", web::post().to(approvals::approve))
            .route("/approvals/{id}/withdraw", web::post().to(approvals::withdraw))
            .route("/approvals/{id}/renew", web::post().to(approvals::renew))
            .route("/users", web::get().to(users::page))
            .route("/users", web::post().to(users::add)),
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
    match crate::secrets::random_bytes(bytes) {
        Ok(buf) => buf.iter().map(|b| format!("{b:02x}")).collect(),
        // No randomness: a marker that `csrf_ok` never accepts.
        Err(_) => String::from(NO_RANDOMNESS),
    }
}

/// The signed-in staff member, if the session has one that still exists.
pub async fn signed_in(session: &Session, state: &AppState) -> Option<StaffAccount> {
    let id = session.get::<i64>(STAFF_ID_KEY).ok().flatten()?;
    crate::staff::accounts::account_by_id(&state.store, id).await.ok().flatten()
}

/// The answer to a staff form whose CSRF token is missing or wrong: nothing was changed.
pub fn expired_form() -> HttpResponse {
    HttpResponse::Forbidden().body("This form has expired; go back and try again.")
}

pub fn to_login() -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("Location", paths::STAFF_LOGIN)).finish()
}

/// The session cookie's encryption key, 64 random bytes kept in the data dir (0600), so
/// sessions survive a restart.
pub fn load_session_key(data_dir: &std::path::Path) -> std::io::Result<Key> {
    let bytes = crate::secrets::load_or_create(&data_dir.join("session.key"), 64, "staff will need to sign in again")?;
    Ok(Key::from(&bytes))
}
