//! `GET /img/<sig>/<token>`: a picture on a pupil's or a teacher's page, always a JPEG the
//! gateway re-encoded (`images`). Not behind the pupil gate: staff pre-run pages show the same
//! pictures, and a path leads only to a picture some page of this gateway already showed.

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::images::sign::ImageSigner;
use crate::images::ImageRefusal;
use crate::web::AppState;

pub async fn serve(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return HttpResponse::MethodNotAllowed().insert_header(("Allow", "GET, HEAD")).finish();
    }
    let Some((sig, token)) = ImageSigner::split(req.path()) else { return refused(ImageRefusal::Forged) };
    match state.images.serve(sig, token).await {
        // The bytes behind a signed path never change: a browser may keep them for the day.
        Ok(jpeg) => HttpResponse::Ok().content_type("image/jpeg").insert_header(("Cache-Control", "private, max-age=86400")).body(jpeg),
        Err(refusal) => refused(refusal),
    }
}

fn refused(refusal: ImageRefusal) -> HttpResponse {
    let status = match refusal {
        ImageRefusal::Forged => actix_web::http::StatusCode::NOT_FOUND,
        _ => actix_web::http::StatusCode::BAD_GATEWAY,
    };
    tracing::info!(reason = %refusal, "picture refused");
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(format!("This picture is not shown: {refusal}.\n"))
}

/// `GET /site-picture/N`: a school site's uploaded tile picture, re-encoded when it was added.
/// A site's picture never changes (a new picture is a new site), so a browser keeps it a day.
pub async fn site(path: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    let not_found = || HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("No such picture.\n");
    let Ok(id) = path.into_inner().parse::<i64>() else { return not_found() };
    match state.sites.photo(id).await {
        Ok(Some(jpeg)) => HttpResponse::Ok().content_type("image/jpeg").insert_header(("Cache-Control", "private, max-age=86400")).body(jpeg),
        Ok(None) => not_found(),
        Err(e) => {
            tracing::error!(error = %e, "could not read a site's picture");
            HttpResponse::ServiceUnavailable().content_type("text/plain; charset=utf-8").body("The picture cannot be read just now.\n")
        }
    }
}
