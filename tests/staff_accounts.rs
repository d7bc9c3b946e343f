//! Staff accounts through the real server: the CLI creates an account, staff sign in and out,
//! CSRF is required, failures are throttled, pupils never reach staff pages.

mod common;

use common::{spawn_app_with, test_config, Browser, FixtureUpstream, TestApp};

const PASSWORD: &str = "plum tree under snow";

use common::add_user;

async fn app_with_teacher() -> (FixtureUpstream, TestApp) {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let config = test_config(&upstream);
    let (code, out) = add_user(&config.data_dir, "teacher", "Mr Oak", PASSWORD);
    assert_eq!(code, 0, "{out}");
    let app = spawn_app_with(config).await;
    (upstream, app)
}

#[tokio::test]
async fn a_teacher_signs_in_with_a_hardened_cookie_and_signs_out_for_real() {
    let (_upstream, app) = app_with_teacher().await;
    let mut browser = Browser::new(&app);

    let response = browser.sign_in("mr oak", PASSWORD).await;
    assert_eq!(response.status(), 303);
    let set_cookie = response.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"), "{set_cookie}");

    let home = browser.get("/staff").await;
    assert_eq!(home.status(), 200);
    assert!(home.text().await.expect("page").contains("Signed in as <strong>Mr Oak</strong> (teacher)"));

    let stolen = browser.cookie.clone();
    let csrf = browser.csrf_from("/staff").await;
    assert_eq!(browser.post("/staff/logout", &[("csrf", &csrf)]).await.status(), 303);
    // The old cookie, replayed after logout, is worthless: the session is gone server-side.
    let mut thief = Browser { app: &app, cookie: stolen };
    let replay = thief.get("/staff").await;
    assert_eq!(replay.status(), 303);
    assert_eq!(replay.headers().get("location").and_then(|v| v.to_str().ok()), Some("/staff/login"));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_name_get_the_same_answer() {
    let (_upstream, app) = app_with_teacher().await;
    let mut a = Browser::new(&app);
    let wrong = a.sign_in("Mr Oak", "not the password at all").await;
    let mut b = Browser::new(&app);
    let unknown = b.sign_in("Nobody Here", "not the password at all").await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    let (w, u) = (wrong.text().await.expect("page"), unknown.text().await.expect("page"));
    let message = "That name or password is not right.";
    assert!(w.contains(message) && u.contains(message));
    assert_eq!(a.get("/staff").await.status(), 303, "not signed in");
}

#[tokio::test]
async fn repeated_failures_lock_the_account_even_for_the_right_password() {
    let (_upstream, app) = app_with_teacher().await;
    let mut browser = Browser::new(&app);
    for _ in 0..5 {
        browser.sign_in("Mr Oak", "guessing guessing").await;
    }
    let locked = browser.sign_in("Mr Oak", PASSWORD).await;
    assert_eq!(locked.status(), 429);
    assert!(locked.text().await.expect("page").contains("Too many attempts"));
    assert_eq!(browser.get("/staff").await.status(), 303);
}

#[tokio::test]
async fn a_login_without_the_csrf_token_is_refused() {
    let (_upstream, app) = app_with_teacher().await;
    let mut browser = Browser::new(&app);
    browser.get("/staff/login").await;
    let response = browser.post("/staff/login", &[("name", "Mr Oak"), ("password", PASSWORD)]).await;
    assert_eq!(response.status(), 403);
    let forged = browser.post("/staff/login", &[("csrf", "00000000000000000000000000000000"), ("name", "Mr Oak"), ("password", PASSWORD)]).await;
    assert_eq!(forged.status(), 403);
    assert_eq!(browser.get("/staff").await.status(), 303, "not signed in");
}

#[tokio::test]
async fn a_pupil_device_gets_the_login_page_never_staff_data() {
    let (_upstream, app) = app_with_teacher().await;
    let response = app.get("/staff").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers().get("location").and_then(|v| v.to_str().ok()), Some("/staff/login"));
    let login = app.get("/staff/login").await.text().await.expect("page");
    assert!(login.contains("Staff sign in") && !login.contains("Mr Oak"));
    // Pupil pages set no staff cookie at all.
    assert!(app.get("/search?q=volcanoes").await.headers().get("set-cookie").is_none());
}

#[test]
fn the_cli_refuses_weak_passwords_and_duplicate_names() {
    let dir = common::temp_dir("users");
    assert_eq!(add_user(&dir, "admin", "Ms Ada", "short").0, 1);
    assert_eq!(add_user(&dir, "admin", "Ms Ada", "password1234").0, 1);
    assert_eq!(add_user(&dir, "admin", "Ms Ada", PASSWORD).0, 0);
    let (code, out) = add_user(&dir, "teacher", "ms ada", PASSWORD);
    assert_eq!(code, 1);
    assert!(out.contains("already exists"), "{out}");
    assert_eq!(add_user(&dir, "headteacher", "Someone", PASSWORD).0, 2, "unknown role");
}

#[tokio::test]
async fn an_admin_adds_staff_in_the_web_ui_and_teachers_cannot() {
    let (_upstream, app) = app_with_teacher().await;
    assert_eq!(add_user(&app.data_dir, "admin", "Ms Ada", PASSWORD).0, 0);

    let mut teacher = Browser::new(&app);
    teacher.sign_in("Mr Oak", PASSWORD).await;
    assert_eq!(teacher.get("/staff/users").await.status(), 403);
    let csrf = teacher.csrf_from("/staff").await;
    let attempt = teacher.post("/staff/users", &[("csrf", &csrf), ("name", "Sneaky"), ("role", "admin"), ("password", PASSWORD)]).await;
    assert_eq!(attempt.status(), 403);

    let mut admin = Browser::new(&app);
    admin.sign_in("Ms Ada", PASSWORD).await;
    let csrf = admin.csrf_from("/staff/users").await;
    let added = admin
        .post("/staff/users", &[("csrf", &csrf), ("name", "Mrs Birch"), ("role", "dsl"), ("password", "a long safe passphrase")])
        .await
        .text()
        .await
        .expect("page");
    assert!(added.contains("Added Mrs Birch (dsl)."), "{added}");
    let weak = admin.post("/staff/users", &[("csrf", &csrf), ("name", "Mr Elm"), ("role", "teacher"), ("password", "short")]).await.text().await.expect("page");
    assert!(weak.contains("Not added: the password must be at least 12 characters"), "{weak}");

    let mut dsl = Browser::new(&app);
    assert_eq!(dsl.sign_in("Mrs Birch", "a long safe passphrase").await.status(), 303);
    assert!(dsl.get("/staff").await.text().await.expect("page").contains("(dsl)"));
    let list = admin.get("/staff/users").await.text().await.expect("page");
    assert!(!list.contains("Sneaky") && list.contains("Mr Oak"));
}

#[tokio::test]
async fn behind_https_the_staff_cookie_is_secure() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut config = test_config(&upstream);
    config.secure_cookies = true;
    assert_eq!(add_user(&config.data_dir, "teacher", "Mr Oak", PASSWORD).0, 0);
    let app = spawn_app_with(config).await;
    let mut browser = Browser::new(&app);
    let response = browser.sign_in("Mr Oak", PASSWORD).await;
    let set_cookie = response.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(set_cookie.contains("Secure") && set_cookie.contains("HttpOnly"), "{set_cookie}");
}
