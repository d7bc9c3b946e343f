//! Compressed answers for browsers that ask for them (every iPad does): pages a pupil loads
//! are small on the school's Wi-Fi. The cached results pages are gzipped once, when their
//! answer is first rendered, and the bytes reused; the other pupil pages, static files and
//! staff pages go through actix's `Compress` middleware, wrapped per resource in `web::routes`
//! (it leaves alone an answer that already says its `Content-Encoding`).

use std::io::Write;

use actix_web::HttpRequest;
use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;

/// Does the browser take gzip? (`Accept-Encoding: gzip`, not refused with `q=0`.)
pub fn accepts_gzip(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get("accept-encoding").and_then(|v| v.to_str().ok()) else { return false };
    value.split(',').any(|part| {
        let mut pieces = part.split(';').map(str::trim);
        pieces.next().is_some_and(|coding| coding.eq_ignore_ascii_case("gzip") || coding == "*")
            && !pieces.any(|p| p.replace(' ', "").eq_ignore_ascii_case("q=0") || p.replace(' ', "").eq_ignore_ascii_case("q=0.0"))
    })
}

/// `bytes`, gzipped at the highest level (done once per cached page, so the level is free).
pub fn gzip(bytes: &[u8]) -> Bytes {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 3), Compression::best());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().map(Bytes::from).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn gzip_is_taken_only_when_offered_and_not_refused() {
        let req = |v: &str| TestRequest::default().insert_header(("accept-encoding", v)).to_http_request();
        assert!(accepts_gzip(&req("gzip, deflate, br")));
        assert!(accepts_gzip(&req("br;q=1.0, gzip;q=0.8")));
        assert!(!accepts_gzip(&req("br")));
        assert!(!accepts_gzip(&req("gzip;q=0")));
        assert!(!accepts_gzip(&TestRequest::default().to_http_request()));
    }

    #[test]
    fn gzipped_bytes_come_back_the_same() {
        use std::io::Read;
        let page = "<p>volcanoes</p>".repeat(200);
        let packed = gzip(page.as_bytes());
        assert!(packed.len() < page.len() / 10);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&packed[..]).read_to_string(&mut out).unwrap();
        assert_eq!(out, page);
    }
}
