//! A teacher's pasted video link → the video's id, or a clear "no". Every YouTube form a
//! teacher copies from a browser, the share sheet or an embed code is read (watch, youtu.be,
//! shorts, embed, live, the m. and music. hosts, the nocookie host, extra parameters), and
//! nothing else: another host, a port, a login part, a script: URL or an id that is not
//! exactly 11 of YouTube's id characters is refused with what to do instead.
//!
//! Invariant: a `VideoId` only exists through `VideoId::parse`, so an id that reaches a page
//! or a URL (the embed, the oEmbed request) is always 11 characters of `A–Z a–z 0–9 - _`.

use std::fmt;

use url::Url;

/// A YouTube video id, checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VideoId(String);

/// Hosts a YouTube link may have (lowercased; `www.` and the rest as YouTube writes them).
const WATCH_HOSTS: &[&str] = &["youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com"];
const SHORT_HOST: &str = "youtu.be";
const NOCOOKIE_HOSTS: &[&str] = &["youtube-nocookie.com", "www.youtube-nocookie.com"];
/// Path forms `/<kind>/<id>` on the watch hosts.
const PATH_KINDS: &[&str] = &["shorts", "embed", "live", "v", "e"];

/// The longest link read: a real one is under 200 characters.
const MAX_LINK_CHARS: usize = 2_000;

impl VideoId {
    /// Exactly 11 characters from YouTube's id alphabet, or nothing.
    pub fn parse(text: &str) -> Option<VideoId> {
        (text.len() == 11 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')).then(|| VideoId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The video's ordinary address (for the oEmbed request and the activity log).
    pub fn watch_url(&self) -> String {
        format!("https://www.youtube.com/watch?v={}", self.0)
    }

    /// The video's picture as YouTube serves it (480 × 360; the oEmbed answer names the same),
    /// fetched and re-encoded through the gateway's image path (`videos::THUMBNAILS`).
    pub fn thumbnail_url(&self) -> Option<url::Url> {
        url::Url::parse(&format!("https://i.ytimg.com/vi/{}/hqdefault.jpg", self.0)).ok()
    }

    /// The privacy-enhanced embed, as pupils get it: no related videos from other channels, no
    /// annotations, inline on an iPad.
    pub fn embed_url(&self) -> String {
        format!("https://www.youtube-nocookie.com/embed/{}?rel=0&modestbranding=1&playsinline=1&iv_load_policy=3", self.0)
    }
}

impl fmt::Display for VideoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a pasted link was not taken; `Display` is the sentence the teacher reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    Empty,
    NotALink,
    NotYouTube,
    NoVideo,
    BadId,
}

impl fmt::Display for LinkProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinkProblem::Empty => "Paste a YouTube link first.",
            LinkProblem::NotALink => "That is not a web link. Copy the video's link from YouTube's Share button and paste it here.",
            LinkProblem::NotYouTube => {
                "Only YouTube links can be shown (youtube.com or youtu.be). Copy the link from YouTube's Share button, not from another site."
            }
            LinkProblem::NoVideo => "That YouTube link does not name one video (a channel, playlist or search page?). Open the video itself and copy its link.",
            LinkProblem::BadId => {
                "That link's video code is not a YouTube video code (11 letters, digits, - or _). Copy the link again from YouTube's Share button."
            }
        })
    }
}

/// The video a pasted link names.
pub fn parse_link(pasted: &str) -> Result<VideoId, LinkProblem> {
    let text = pasted.trim();
    if text.is_empty() {
        return Err(LinkProblem::Empty);
    }
    if text.chars().count() > MAX_LINK_CHARS || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(LinkProblem::NotALink);
    }
    // "youtu.be/…" pasted without its scheme, as phones often share it.
    let lower = text.to_ascii_lowercase();
    let with_scheme = if lower.starts_with("http://") || lower.starts_with("https://") {
        text.to_string()
    } else if lower.contains("://") || lower.starts_with("//") {
        return Err(LinkProblem::NotALink);
    } else if text.contains(':') {
        // javascript:, data:, mailto: … are no links to a video.
        return Err(LinkProblem::NotALink);
    } else {
        format!("https://{text}")
    };
    let url = Url::parse(&with_scheme).map_err(|_| LinkProblem::NotALink)?;
    if !url.username().is_empty() || url.password().is_some() || url.port().is_some() {
        return Err(LinkProblem::NotYouTube);
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let mut segments = url.path_segments().map(|s| s.filter(|p| !p.is_empty()).collect::<Vec<_>>()).unwrap_or_default();
    let candidate: String = if host == SHORT_HOST {
        match segments.as_slice() {
            [id] => id.to_string(),
            _ => return Err(LinkProblem::NoVideo),
        }
    } else if NOCOOKIE_HOSTS.contains(&host.as_str()) || WATCH_HOSTS.contains(&host.as_str()) {
        match segments.as_mut_slice() {
            ["watch"] if WATCH_HOSTS.contains(&host.as_str()) => {
                // The first `v` only: `?v=good&v=other` is not two videos.
                url.query_pairs().find(|(k, _)| k == "v").map(|(_, v)| v.into_owned()).ok_or(LinkProblem::NoVideo)?
            }
            [kind, id] if PATH_KINDS.contains(kind) => id.to_string(),
            _ => return Err(LinkProblem::NoVideo),
        }
    } else {
        return Err(LinkProblem::NotYouTube);
    };
    VideoId::parse(&candidate).ok_or(LinkProblem::BadId)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "dQw4w9WgXcQ";

    #[test]
    fn every_form_a_teacher_copies_names_the_video() {
        for link in [
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://youtube.com/watch?v=dQw4w9WgXcQ&t=42s&list=PL123&index=3",
            "http://www.youtube.com/watch?feature=share&v=dQw4w9WgXcQ",
            "https://m.youtube.com/watch?v=dQw4w9WgXcQ&pp=ygU",
            "https://music.youtube.com/watch?v=dQw4w9WgXcQ&si=abc",
            "https://youtu.be/dQw4w9WgXcQ",
            "https://youtu.be/dQw4w9WgXcQ?si=Xy12_ab&t=5",
            "youtu.be/dQw4w9WgXcQ",
            "www.youtube.com/watch?v=dQw4w9WgXcQ",
            "  https://www.youtube.com/shorts/dQw4w9WgXcQ?feature=share  ",
            "https://www.youtube.com/embed/dQw4w9WgXcQ?start=30",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
            "https://www.youtube.com/live/dQw4w9WgXcQ?si=1",
            "HTTPS://WWW.YOUTUBE.COM/watch?v=dQw4w9WgXcQ",
        ] {
            assert_eq!(parse_link(link), Ok(VideoId(ID.into())), "{link}");
        }
    }

    #[test]
    fn anything_else_is_refused_with_its_reason() {
        for (link, why) in [
            ("", LinkProblem::Empty),
            ("javascript:alert(1)//youtube.com/watch?v=dQw4w9WgXcQ", LinkProblem::NotALink),
            ("data:text/html,<script>", LinkProblem::NotALink),
            ("ftp://youtube.com/watch?v=dQw4w9WgXcQ", LinkProblem::NotALink),
            ("//youtube.com/watch?v=dQw4w9WgXcQ", LinkProblem::NotALink),
            ("https://www.youtube.com/watch?v=dQw4w9WgXcQ\n<script>", LinkProblem::NotALink),
            ("https://evil.example/watch?v=dQw4w9WgXcQ", LinkProblem::NotYouTube),
            ("https://youtube.com.evil.example/watch?v=dQw4w9WgXcQ", LinkProblem::NotYouTube),
            ("https://www.youtube.com@evil.example/watch?v=dQw4w9WgXcQ", LinkProblem::NotYouTube),
            ("https://user:pw@www.youtube.com/watch?v=dQw4w9WgXcQ", LinkProblem::NotYouTube),
            ("https://www.youtube.com:8443/watch?v=dQw4w9WgXcQ", LinkProblem::NotYouTube),
            ("https://www.yоutube.com/watch?v=dQw4w9WgXcQ", LinkProblem::NotYouTube),
            ("https://www.viewpure.com/dQw4w9WgXcQ", LinkProblem::NotYouTube),
            ("https://www.youtube.com/", LinkProblem::NoVideo),
            ("https://www.youtube.com/@FreeSchool", LinkProblem::NoVideo),
            ("https://www.youtube.com/playlist?list=PL123", LinkProblem::NoVideo),
            ("https://www.youtube.com/results?search_query=volcano", LinkProblem::NoVideo),
            ("https://www.youtube-nocookie.com/watch?v=dQw4w9WgXcQ", LinkProblem::NoVideo),
            ("https://youtu.be/", LinkProblem::NoVideo),
            ("https://www.youtube.com/watch?v=dQw4w9WgXc", LinkProblem::BadId),
            ("https://www.youtube.com/watch?v=dQw4w9WgXcQQ", LinkProblem::BadId),
            ("https://www.youtube.com/watch?v=dQw4w9WgX%22Q", LinkProblem::BadId),
            ("https://www.youtube.com/watch?v=%3Cscript%3E1", LinkProblem::BadId),
            ("https://youtu.be/dQw4w9WgX.Q", LinkProblem::BadId),
            ("https://www.youtube.com/embed/dQw4w9WgXcQ%2F..", LinkProblem::BadId),
        ] {
            assert_eq!(parse_link(link), Err(why), "{link:?}");
        }
    }

    #[test]
    fn an_id_is_exactly_eleven_id_characters() {
        assert!(VideoId::parse(ID).is_some());
        assert!(VideoId::parse("abc-DEF_123").is_some());
        for bad in ["", "dQw4w9WgXc", "dQw4w9WgXcQ1", "dQw4w9WgXc\"", "dQw4w9WgXc<", "dQw4w9WgXcé", "dQw4w9 gXcQ"] {
            assert!(VideoId::parse(bad).is_none(), "{bad:?}");
        }
        assert_eq!(
            VideoId::parse(ID).unwrap().embed_url(),
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?rel=0&modestbranding=1&playsinline=1&iv_load_policy=3"
        );
    }
}
