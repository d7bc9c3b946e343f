//! Static files compiled into the binary: the page needs nothing from any other host.

use actix_web::{web, HttpResponse};

const CSS: &str = include_str!("static/kidsearch.css");
const LOGO: &str = include_str!("static/logo.svg");
const HELP_ICON: &str = include_str!("static/help.svg");
const SPEAKER_ICON: &str = include_str!("static/speaker.svg");
const SCRIPT: &str = include_str!("static/kidsearch.js");

/// Andika (SIL International, SIL Open Font License 1.1: `static/fonts/OFL.txt`), made for
/// children learning to read: a single-storey "a", distinct I/l/1. Latin subset, regular and bold.
const ANDIKA_400: &[u8] = include_bytes!("static/fonts/andika-latin-400-normal.woff2");
const ANDIKA_700: &[u8] = include_bytes!("static/fonts/andika-latin-700-normal.woff2");

pub async fn font(file: web::Path<String>) -> HttpResponse {
    let body = match file.as_str() {
        "andika-400.woff2" => ANDIKA_400,
        "andika-700.woff2" => ANDIKA_700,
        _ => return HttpResponse::NotFound().finish(),
    };
    // woff2 is compressed already: identity keeps the gzip middleware off it.
    HttpResponse::Ok()
        .content_type("font/woff2")
        .insert_header(("Content-Encoding", "identity"))
        .insert_header(("Cache-Control", "public, max-age=604800, immutable"))
        .body(body)
}

pub async fn serve(file: web::Path<String>) -> HttpResponse {
    let (body, content_type) = match file.as_str() {
        "kidsearch.css" => (CSS, "text/css; charset=utf-8"),
        "logo.svg" => (LOGO, "image/svg+xml"),
        "help.svg" => (HELP_ICON, "image/svg+xml"),
        "speaker.svg" => (SPEAKER_ICON, "image/svg+xml"),
        "kidsearch.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok().content_type(content_type).insert_header(("Cache-Control", "public, max-age=86400")).body(body)
}
