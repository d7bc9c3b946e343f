//! A stand-in for YouTube's oEmbed endpoint on 127.0.0.1 (`/oembed?url=…&format=json`),
//! answering as the real one does: its JSON for a known public video, `404 Not Found` for an
//! unknown or private one, `401 Unauthorized` for one whose owner turned embedding off,
//! `400 Bad Request` for a URL that names no video. Every request is recorded.

use std::sync::{Arc, Mutex};

use actix_web::{web, HttpRequest, HttpResponse};

/// Videos the fixture knows: (id, title, channel).
pub const VIDEOS: &[(&str, &str, &str)] = &[
    ("3Hk2fsxCvJY", "Volcanoes for Kids | Learn all about volcanoes", "Free School"),
    ("Yk9a7TUdAgE", "Life Cycle of a Butterfly", "Learn Bright"),
    ("tr1ppedLst1", "How to buy heroin", "Someone"),
    ("RudeChannel", "Counting to ten", "heroin dealers"),
];
/// A video whose owner does not allow embedding (YouTube answers 401).
pub const NOT_EMBEDDABLE: &str = "NoEmbed0001";

#[derive(Default)]
pub struct OEmbedState {
    requests: Mutex<Vec<String>>,
}

pub struct OEmbedFixture {
    pub port: u16,
    state: Arc<OEmbedState>,
}

impl OEmbedFixture {
    pub async fn start() -> OEmbedFixture {
        let state = Arc::new(OEmbedState::default());
        let port = super::fixture::serve_loopback("oembed", state.clone(), |cfg| {
            cfg.route("/oembed", web::get().to(answer));
        });
        OEmbedFixture { port, state }
    }

    /// The `video_oembed_url` pointing here.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/oembed", self.port)
    }

    /// The query strings received, in order.
    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().unwrap().clone()
    }
}

async fn answer(req: HttpRequest, state: web::Data<OEmbedState>) -> HttpResponse {
    state.requests.lock().unwrap().push(req.query_string().to_string());
    let param = |name: &str| url::form_urlencoded::parse(req.query_string().as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let Some(id) = param("url").and_then(|u| u.strip_prefix("https://www.youtube.com/watch?v=").map(str::to_string)) else {
        return HttpResponse::BadRequest().content_type("text/html; charset=UTF-8").body("Bad Request");
    };
    if id == NOT_EMBEDDABLE {
        return HttpResponse::Unauthorized().content_type("text/html; charset=UTF-8").body("Unauthorized");
    }
    let Some((_, title, channel)) = VIDEOS.iter().find(|(known, _, _)| *known == id) else {
        return HttpResponse::NotFound().content_type("text/html; charset=UTF-8").body("Not Found");
    };
    let body = serde_json::json!({
        "title": title,
        "author_name": channel,
        "author_url": format!("https://www.youtube.com/@{}", channel.replace(' ', "")),
        "type": "video",
        "height": 113,
        "width": 200,
        "version": "1.0",
        "provider_name": "YouTube",
        "provider_url": "https://www.youtube.com/",
        "thumbnail_height": 360,
        "thumbnail_width": 480,
        "thumbnail_url": format!("https://i.ytimg.com/vi/{id}/hqdefault.jpg"),
        "html": format!("<iframe width=\"200\" height=\"113\" src=\"https://www.youtube.com/embed/{id}?feature=oembed\" frameborder=\"0\" allow=\"accelerometer; autoplay; clipboard-write; encrypted-media; gyroscope; picture-in-picture; web-share\" referrerpolicy=\"strict-origin-when-cross-origin\" allowfullscreen title=\"{title}\"></iframe>"),
    });
    HttpResponse::Ok().content_type("application/json").body(body.to_string())
}
