//! The image path through the real server (issue 26, item 1): pictures are fetched only at
//! paths the gateway signed, only from an engine's declared picture hosts, and served only as
//! JPEGs the gateway re-encoded; hostile files are refused calmly.

mod common;

use common::pictures::SECRET_IN_METADATA;
use common::{spawn_app_with, test_config, FixtureUpstream};

/// The app with the default three seconds for a picture host to answer (the tests' usual
/// 800 ms is for engines; a loaded CI machine can take longer to stream 20 MB past the cap).
async fn spawn_app(upstream: &FixtureUpstream) -> common::TestApp {
    let config = kidsearch::config::ServerConfig { engine_timeout_ms: 3_000, ..test_config(upstream) };
    spawn_app_with(config).await
}
use kidsearch::images::ImageSigner;

/// The signed gateway path of a picture `simple_wikipedia` gave at `path` on the picture host.
fn signed(app: &common::TestApp, upstream: &FixtureUpstream, path: &str) -> String {
    let signer = ImageSigner::new(&kidsearch::secrets::Keys::per_data_dir(&app.data_dir)).expect("the app's picture key");
    signer.path("simple_wikipedia", &format!("{}{path}", upstream.pictures.base_url()))
}

async fn get(app: &common::TestApp, path: &str) -> (u16, String, Vec<u8>) {
    let response = app.get(path).await;
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, content_type, response.bytes().await.expect("body").to_vec())
}

#[tokio::test]
async fn a_good_picture_is_served_as_a_small_jpeg_without_its_metadata_and_fetched_once() {
    let upstream = FixtureUpstream::start(&["simple_wikipedia"]).await;
    let app = spawn_app(&upstream).await;
    let path = signed(&app, &upstream, "/photo.jpg");
    let (status, content_type, body) = get(&app, &path).await;
    assert_eq!((status, content_type.as_str()), (200, "image/jpeg"), "{}", String::from_utf8_lossy(&body));
    let picture = image::load_from_memory_with_format(&body, image::ImageFormat::Jpeg).expect("a JPEG");
    assert!(picture.width() <= 256 && picture.height() <= 256, "shrunk to a thumbnail: {}x{}", picture.width(), picture.height());
    assert_eq!((picture.width(), picture.height()), (256, 192), "the aspect ratio kept");
    assert!(!body.windows(SECRET_IN_METADATA.len()).any(|w| w == SECRET_IN_METADATA.as_bytes()), "EXIF and comments are gone");
    assert!(!body.windows(4).any(|w| w == b"Exif"), "no EXIF segment at all");
    assert!(body.len() < 20_000, "small: {} bytes", body.len());

    for _ in 0..3 {
        assert_eq!(get(&app, &path).await.0, 200);
    }
    assert_eq!(upstream.pictures.requests("/photo.jpg"), 1, "kept in memory: one upstream request");

    // A PNG with transparency: laid on white, as a JPEG has none.
    let (status, content_type, body) = get(&app, &signed(&app, &upstream, "/drawing.png")).await;
    assert_eq!((status, content_type.as_str()), (200, "image/jpeg"));
    let drawing = image::load_from_memory(&body).expect("decodes").to_rgb8();
    let corner = drawing.get_pixel(2, 2).0;
    assert!(corner.iter().all(|&c| c > 240), "transparent corner is white, not black: {corner:?}");
    let (status, content_type, _) = get(&app, &signed(&app, &upstream, "/small.gif")).await;
    assert_eq!((status, content_type.as_str()), (200, "image/jpeg"), "a GIF comes back as a JPEG");
}

#[tokio::test]
async fn hostile_files_are_refused_calmly_and_the_server_carries_on() {
    let upstream = FixtureUpstream::start(&["simple_wikipedia"]).await;
    let app = spawn_app(&upstream).await;
    let cases = [
        ("/script.svg", "svg"),
        ("/svg-as.jpg", "svg"),
        ("/html.png", "html"),
        ("/huge.png", "too many pixels"),
        ("/truncated.jpg", "cut off"),
        ("/big.jpg", "larger than"),
        ("/big-chunked.jpg", "larger than"),
        ("/redirect.jpg", "localhost"),
        ("/missing.jpg", "HTTP 404"),
    ];
    for (path, why) in cases {
        let started = std::time::Instant::now();
        let (status, content_type, body) = get(&app, &signed(&app, &upstream, path)).await;
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, 502, "{path}: {text}");
        assert!(content_type.starts_with("text/plain"), "{path}: never the upstream bytes or type: {content_type}");
        assert!(text.contains(why), "{path}: says why ({why}): {text}");
        assert!(started.elapsed() < std::time::Duration::from_secs(3), "{path}: answered promptly");
    }
    assert_eq!(upstream.pictures.requests("/photo.jpg"), 0, "the redirect to an undeclared host was not followed");
    assert_eq!(upstream.pictures.requests("/huge.png"), 1);
    // A refusal is remembered for a while: asking again costs the picture host nothing.
    get(&app, &signed(&app, &upstream, "/huge.png")).await;
    assert_eq!(upstream.pictures.requests("/huge.png"), 1);
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);
    assert_eq!(get(&app, &signed(&app, &upstream, "/photo.jpg")).await.0, 200, "good pictures still served");
}

#[tokio::test]
async fn a_path_the_gateway_did_not_sign_fetches_nothing() {
    let upstream = FixtureUpstream::start(&["simple_wikipedia"]).await;
    let app = spawn_app(&upstream).await;
    let good = signed(&app, &upstream, "/photo.jpg");
    let (sig, token) = ImageSigner::split(&good).expect("a picture path");
    use base64::Engine as _;
    let other = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("simple_wikipedia\n{}/drawing.png", upstream.pictures.base_url()));
    let flipped = format!("{}{}", if sig.starts_with('0') { '1' } else { '0' }, &sig[1..]);
    for path in [
        format!("/img/{sig}/{other}"),
        format!("/img/{flipped}/{token}"),
        format!("/img/{sig}/{token}x"),
        format!("/img/nonsense/{token}"),
        format!("/img/{sig}/"),
        format!("/img/{sig}/{token}/more"),
        format!("/img/{sig}"),
        "/img".to_string(),
    ] {
        let (status, _, body) = get(&app, &path).await;
        assert_eq!(status, 404, "{path}: {}", String::from_utf8_lossy(&body));
    }
    // The picture route is found by its prefix and split by the signer (issue 26: a regex
    // route cost half its CPU): only GET and HEAD are answered.
    let posted = app.client.post(format!("{}{good}", app.address)).send().await.expect("post");
    assert_eq!(posted.status(), 405);
    assert_eq!(posted.headers().get("allow").and_then(|v| v.to_str().ok()), Some("GET, HEAD"));
    // A well-signed path for a host no engine declares (the signer signs; the guard refuses).
    let signer = ImageSigner::new(&kidsearch::secrets::Keys::per_data_dir(&app.data_dir)).expect("key");
    let (status, _, body) = get(&app, &signer.path("simple_wikipedia", "http://localhost:9/photo.jpg")).await;
    assert_eq!(status, 502, "{}", String::from_utf8_lossy(&body));
    let (status, _, _) = get(&app, &signer.path("duckduckgo", &format!("{}/photo.jpg", upstream.pictures.base_url()))).await;
    assert_eq!(status, 502, "an engine that declares no picture hosts shows none");
    assert_eq!(upstream.pictures.total_requests(), 0, "nothing was fetched");
    let csp = app.get("/").await.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(csp.contains("img-src 'self'"), "{csp}");
}
