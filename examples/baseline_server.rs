//! The benchmark's baseline: a minimal actix-web server answering every GET with the same bytes
//! (a saved kidsearch results page), so kidsearch's figures read as a fraction of what the
//! framework itself does on this machine.
//!
//!   baseline_server PORT PAGE_FILE [WORKERS=0 (one per core)]
//!
//! A PAGE_FILE ending in `.gz` holds gzipped bytes and is sent with `Content-Encoding: gzip`
//! (the baseline for the rows measured as iPads ask: with `Accept-Encoding: gzip`).

use actix_web::{web, App, HttpResponse, HttpServer};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(port), Some(file)) = (args.first().and_then(|p| p.parse::<u16>().ok()), args.get(1)) else {
        eprintln!("usage: baseline_server PORT PAGE_FILE [WORKERS]");
        std::process::exit(2);
    };
    let workers =
        args.get(2).and_then(|w| w.parse::<usize>().ok()).filter(|w| *w > 0).unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let page = web::Bytes::from(std::fs::read(file)?);
    let gzipped = file.ends_with(".gz");
    HttpServer::new(move || {
        let page = page.clone();
        App::new().default_service(web::to(move || {
            let page = page.clone();
            async move {
                let mut response = HttpResponse::Ok();
                response.content_type("text/html; charset=utf-8");
                if gzipped {
                    response.insert_header(("Content-Encoding", "gzip"));
                }
                response.body(page)
            }
        }))
    })
    .workers(workers)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
