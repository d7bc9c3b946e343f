//! A video's title, channel and picture address from the provider's oEmbed endpoint
//! (`https://www.youtube.com/oembed?url=…&format=json`), asked through a guarded client that
//! reaches that endpoint's host and nothing else. The base URL is a setting
//! (`video_oembed_url`), so tests and a school's mirror point it elsewhere; only such a local
//! override may be a private address, as for an engine's `base_url`.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::link::VideoId;
use crate::config::YOUTUBE_OEMBED;
use crate::engines::definition::Method;
use crate::engines::request::UpstreamRequest;
use crate::engines::EngineError;
use crate::outbound::GuardedClient;

/// An oEmbed answer is about 1 KB; anything much larger is not one.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
const MAX_TITLE_CHARS: usize = 200;
const MAX_CHANNEL_CHARS: usize = 100;

/// What the provider says about a video, tidied to plain bounded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoInfo {
    pub title: String,
    pub channel: String,
    /// The provider's picture address (https only), if it gave one.
    pub thumbnail_url: Option<String>,
}

/// The fields of an oEmbed answer kidsearch reads (the rest — the provider's own `html`
/// iframe among them — is ignored: pupils get kidsearch's own embed).
#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    title: String,
    #[serde(default)]
    author_name: String,
    #[serde(default)]
    thumbnail_url: Option<String>,
    #[serde(rename = "type", default)]
    kind: String,
}

/// Why a video's details could not be had; `Display` is for the teacher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupProblem {
    /// The provider knows no such video (404), or it is private.
    NoSuchVideo,
    /// Its owner does not let it be shown on other sites (401/403).
    NotEmbeddable,
    /// Unreachable, slow, refused by the guard, or an answer that is no oEmbed answer.
    Failed(String),
}

impl std::fmt::Display for LookupProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LookupProblem::NoSuchVideo => f.write_str("YouTube knows no public video with that link: it may be private or removed. Check the link in YouTube."),
            LookupProblem::NotEmbeddable => {
                f.write_str("This video's owner does not allow it to be shown outside YouTube, so kidsearch cannot show it. Choose another video.")
            }
            LookupProblem::Failed(why) => write!(f, "kidsearch could not ask YouTube about this video ({why}). Try again in a minute."),
        }
    }
}

/// The oEmbed endpoint and its guarded client.
pub struct OEmbed {
    endpoint: Url,
    client: GuardedClient,
}

impl OEmbed {
    /// For `endpoint` (checked by the config: an http(s) URL with a host).
    pub fn new(endpoint: &str, user_agent: &str, timeout: Duration) -> Result<OEmbed, String> {
        let endpoint = Url::parse(endpoint).map_err(|e| format!("video_oembed_url {endpoint:?}: {e}"))?;
        let host = endpoint.host_str().ok_or("video_oembed_url has no host")?.to_ascii_lowercase();
        let host = match endpoint.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        };
        // Only a local override (a fixture, a mirror) may live on a private address.
        let private_ok = endpoint.as_str() != YOUTUBE_OEMBED;
        let client = GuardedClient::for_hosts(vec![host], private_ok, timeout, user_agent, MAX_ANSWER_BYTES)?;
        Ok(OEmbed { endpoint, client })
    }

    /// The details of `id`.
    pub async fn lookup(&self, id: &VideoId) -> Result<VideoInfo, LookupProblem> {
        let mut url = self.endpoint.clone();
        url.query_pairs_mut().append_pair("url", &id.watch_url()).append_pair("format", "json");
        let request = UpstreamRequest { method: Method::Get, url, form: None, headers: Vec::new() };
        let response = self.client.send(&request).await.map_err(|e| match e {
            EngineError::Timeout(ms) => LookupProblem::Failed(format!("no answer within {ms} ms")),
            other => LookupProblem::Failed(other.to_string()),
        })?;
        match response.status {
            200 => {}
            404 | 400 => return Err(LookupProblem::NoSuchVideo),
            401 | 403 => return Err(LookupProblem::NotEmbeddable),
            s => return Err(LookupProblem::Failed(format!("it answered HTTP {s}"))),
        }
        read_answer(&response.body)
    }
}

/// The details in an oEmbed answer's JSON.
pub fn read_answer(body: &str) -> Result<VideoInfo, LookupProblem> {
    let answer: Answer = serde_json::from_str(body).map_err(|_| LookupProblem::Failed("its answer was not oEmbed JSON".into()))?;
    if answer.kind != "video" {
        return Err(LookupProblem::Failed("its answer was not about a video".into()));
    }
    let title = crate::engines::text::tidy(&answer.title, MAX_TITLE_CHARS);
    if title.is_empty() {
        return Err(LookupProblem::Failed("its answer had no title".into()));
    }
    let thumbnail_url = answer.thumbnail_url.and_then(|u| Url::parse(&u).ok()).filter(|u| u.scheme() == "https").map(String::from);
    Ok(VideoInfo { title, channel: crate::engines::text::tidy(&answer.author_name, MAX_CHANNEL_CHARS), thumbnail_url })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// YouTube's answer for a real video, as it serves it (2026), `html` and all.
    const REAL: &str = r#"{"title":"Volcanoes for Kids | Learn all about volcanoes","author_name":"Free School","author_url":"https://www.youtube.com/@FreeSchool","type":"video","height":113,"width":200,"version":"1.0","provider_name":"YouTube","provider_url":"https://www.youtube.com/","thumbnail_height":360,"thumbnail_width":480,"thumbnail_url":"https://i.ytimg.com/vi/3Hk2fsxCvJY/hqdefault.jpg","html":"\u003ciframe width=\"200\" height=\"113\" src=\"https://www.youtube.com/embed/3Hk2fsxCvJY?feature=oembed\" frameborder=\"0\" allowfullscreen\u003e\u003c/iframe\u003e"}"#;

    #[test]
    fn a_real_answer_gives_title_channel_and_picture() {
        let info = read_answer(REAL).unwrap();
        assert_eq!(info.title, "Volcanoes for Kids | Learn all about volcanoes");
        assert_eq!(info.channel, "Free School");
        assert_eq!(info.thumbnail_url.as_deref(), Some("https://i.ytimg.com/vi/3Hk2fsxCvJY/hqdefault.jpg"));
    }

    #[test]
    fn hostile_answers_are_plain_text_or_refused() {
        let tagged = REAL.replace("Volcanoes for Kids", "<b>Volcanoes</b>\u{202e}");
        assert!(!read_answer(&tagged).unwrap().title.contains('\u{202e}'));
        assert!(read_answer("<html>").is_err());
        assert!(read_answer(&REAL.replace("\"type\":\"video\"", "\"type\":\"rich\"")).is_err());
        let no_pic = read_answer(&REAL.replace("https://i.ytimg.com", "javascript://i.ytimg.com")).unwrap();
        assert_eq!(no_pic.thumbnail_url, None);
    }
}
