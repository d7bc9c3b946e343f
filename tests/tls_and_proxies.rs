//! HTTPS served by kidsearch itself (with reload on SIGHUP), and reverse proxies: their
//! X-Forwarded-* headers are believed only from `trusted_proxies`.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{add_user, repo_dir, spawn_app_with, temp_dir, test_config, Browser, FixtureUpstream, RealServer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

fn fixture(name: &str) -> std::path::PathBuf {
    repo_dir().join("tests/fixtures/tls").join(name)
}

fn der(name: &str) -> Vec<u8> {
    CertificateDer::from_pem_file(fixture(name)).expect("pem").as_ref().to_vec()
}

/// A fresh client (no pooled connection: each request is a new handshake) trusting the test CA.
fn https_client() -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(fixture("ca.pem")).expect("ca")).expect("ca pem");
    reqwest::Client::builder().add_root_certificate(ca).tls_info(true).pool_max_idle_per_host(0).build().expect("client")
}

async fn served_certificate(url: &str) -> Vec<u8> {
    let r = https_client().get(url).send().await.expect("https request");
    assert_eq!(r.status(), 200);
    r.extensions().get::<reqwest::tls::TlsInfo>().and_then(|i| i.peer_certificate()).expect("peer certificate").to_vec()
}

#[tokio::test]
async fn kidsearch_serves_https_and_swaps_its_certificate_on_sighup() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let dir = temp_dir("tls");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::copy(fixture("server-a.pem"), &cert).expect("copy");
    std::fs::copy(fixture("server-a.key"), &key).expect("copy");
    let mut server = RealServer::with_settings(&upstream, &format!("tls_cert = {:?}\ntls_key = {:?}", cert.display().to_string(), key.display().to_string()));
    server.start().await;
    let base = format!("https://127.0.0.1:{}", server.port);

    assert_eq!(served_certificate(&format!("{base}/healthz")).await, der("server-a.pem"));
    // Plain HTTP on the HTTPS port gets nothing.
    assert!(reqwest::get(format!("http://127.0.0.1:{}/healthz", server.port)).await.map_or(true, |r| !r.status().is_success()));
    // Over HTTPS the staff cookie is Secure without being told (it is set at sign-in: the login
    // form itself stores nothing).
    let login = https_client().get(format!("{base}/staff/login")).send().await.expect("login page");
    assert_eq!(login.headers().get("strict-transport-security").and_then(|v| v.to_str().ok()), Some("max-age=31536000"), "HSTS under TLS");
    let form = login.text().await.expect("page");
    assert_eq!(common::kidsearch_cli(&server.data_dir, &["user", "add", "--role", "teacher", "Mr Tls"], Some("plum tree under snow")).0, 0);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("csrf", common::hidden_field(&form, "csrf").as_str()), ("name", "Mr Tls"), ("password", "plum tree under snow")])
        .finish();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(fixture("ca.pem")).expect("ca")).expect("ca pem"))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let signed_in =
        client.post(format!("{base}/staff/login")).header("content-type", "application/x-www-form-urlencoded").body(body).send().await.expect("sign in");
    assert_eq!(signed_in.status(), 303);
    let cookie = signed_in.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(cookie.contains("Secure"), "{cookie}");
    // `kidsearch health` finds it on the configured port and scheme.
    let health = Command::new(env!("CARGO_BIN_EXE_kidsearch"))
        .args(["health", "--listen", &format!("127.0.0.1:{}", server.port), "--config"])
        .arg(&server.config_path)
        .output()
        .expect("health");
    assert!(health.status.success(), "{}", String::from_utf8_lossy(&health.stderr));

    // New files + SIGHUP: new handshakes get the new certificate, no restart.
    std::fs::copy(fixture("server-b.pem"), &cert).expect("copy");
    std::fs::copy(fixture("server-b.key"), &key).expect("copy");
    let hup = |pid: u32| assert!(Command::new("kill").args(["-HUP", &pid.to_string()]).status().expect("kill").success());
    hup(server.pid().expect("running"));
    let deadline = Instant::now() + Duration::from_secs(5);
    while served_certificate(&format!("{base}/healthz")).await != der("server-b.pem") {
        assert!(Instant::now() < deadline, "the certificate was not reloaded after SIGHUP");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A broken file on reload: the working certificate stays.
    std::fs::write(&cert, "not a certificate").expect("write");
    hup(server.pid().expect("running"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(served_certificate(&format!("{base}/healthz")).await, der("server-b.pem"));

    // And `kidsearch check` names the broken file.
    let check = Command::new(env!("CARGO_BIN_EXE_kidsearch")).args(["check", "--config"]).arg(&server.config_path).output().expect("check");
    let text = String::from_utf8_lossy(&check.stdout).to_string();
    assert!(!check.status.success() && text.contains("cert.pem"), "{text}");
}

#[tokio::test]
async fn health_reports_a_server_that_is_not_there() {
    let out = Command::new(env!("CARGO_BIN_EXE_kidsearch")).args(["health", "--url", "http://127.0.0.1:9/healthz"]).output().expect("health");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unhealthy"));
}

/// Makes an enrolment link with these extra request headers; returns the link shown.
async fn enrol_link(app: &common::TestApp, staff: &mut Browser<'_>, headers: &[(&str, &str)]) -> String {
    let csrf = staff.csrf_from("/staff/devices").await;
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs([("csrf", csrf.as_str()), ("class", "Oak"), ("label", "iPad 1")]).finish();
    let mut req = app
        .client
        .post(format!("{}/staff/devices", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", staff.cookie.clone().expect("signed in"))
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let html = req.send().await.expect("post").text().await.expect("page");
    let start = html.find("id=\"enrol-link\" href=\"").expect("link") + "id=\"enrol-link\" href=\"".len();
    html[start..].split('"').next().expect("href").to_string()
}

const FORWARDED: &[(&str, &str)] = &[("x-forwarded-host", "kidsearch.school.lan"), ("x-forwarded-proto", "https"), ("x-forwarded-for", "10.1.2.3")];

#[tokio::test]
async fn forwarded_headers_are_ignored_unless_they_come_from_a_trusted_proxy() {
    for trusted in [false, true] {
        let upstream = FixtureUpstream::start(&["bing"]).await;
        let mut config = test_config(&upstream);
        if trusted {
            config.trusted_proxies = vec!["127.0.0.1".into()];
        }
        assert_eq!(add_user(&config.data_dir, "teacher", "Mr Oak", "plum tree under snow").0, 0);
        let app = spawn_app_with(config).await;
        let mut staff = Browser::new(&app);
        assert_eq!(staff.sign_in("Mr Oak", "plum tree under snow").await.status(), 303);
        let link = enrol_link(&app, &mut staff, FORWARDED).await;
        if trusted {
            assert!(link.starts_with("https://kidsearch.school.lan/enrol/"), "the proxy's view is used: {link}");
        } else {
            assert!(link.starts_with(&format!("{}/enrol/", app.address)), "a client cannot choose the host: {link}");
        }
        // The same-origin check of the pupil's button follows the same rule.
        let press = app
            .client
            .post(format!("{}/help", app.address))
            .header("origin", "https://kidsearch.school.lan")
            .header("content-type", "application/x-www-form-urlencoded")
            .headers(FORWARDED.iter().map(|(k, v)| (k.parse().expect("name"), v.parse().expect("value"))).collect())
            .body("q=x")
            .send()
            .await
            .expect("press");
        assert_eq!(press.status().as_u16(), if trusted { 303 } else { 403 }, "trusted = {trusted}");
    }
}
