//! Static files compiled into the binary: the page needs nothing from any other host.

use actix_web::{web, HttpResponse};

const CSS: &str = include_str!("static/kidsearch.css");
const LOGO: &str = include_str!("static/logo.svg");
const HELP_ICON: &str = include_str!("static/help.svg");
const SCRIPT: &str = include_str!("static/kidsearch.js");

pub async fn serve(file: web::Path<String>) -> HttpResponse {
    let (body, content_type) = match file.as_str() {
        "kidsearch.css" => (CSS, "text/css; charset=utf-8"),
        "logo.svg" => (LOGO, "image/svg+xml"),
        "help.svg" => (HELP_ICON, "image/svg+xml"),
        "kidsearch.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok().content_type(content_type).insert_header(("Cache-Control", "public, max-age=86400")).body(body)
}
