//! Signed picture paths: `/img/<sig>/<token>`. The token carries the engine and the upstream
//! URL (base64url); the signature is an HMAC of the token with the server's picture key, so
//! only URLs the gateway itself put on a page are ever fetched: `/img` is no open proxy.
//!
//! Unlike `/go` links, picture paths do not expire: a teacher's approved page keeps showing
//! the same pictures all day, and a picture path leads nowhere but to the re-encoded JPEG.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;

use crate::secrets;

const KEY_FILE: &str = "image-signing.key";
const KEY_BYTES: usize = 32;
/// Hex of the first 16 bytes of HMAC-SHA256 (128 bits), as `/go` links keep.
const SIG_BYTES: usize = 16;
/// The path prefix every picture is served under.
pub const PREFIX: &str = "/img";

#[derive(Clone)]
pub struct ImageSigner {
    key: hmac::Key,
}

/// What a verified picture path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub engine: String,
    pub url: String,
}

impl ImageSigner {
    /// The picture key from `keys` (a trust's shared secret, or this data dir's own file):
    /// every instance of a trust serves every other's picture paths.
    pub fn new(keys: &secrets::Keys) -> std::io::Result<ImageSigner> {
        let bytes = keys.key(KEY_FILE, KEY_BYTES, "pictures on pages already open stop loading until the page is reloaded")?;
        Ok(ImageSigner { key: hmac::Key::new(hmac::HMAC_SHA256, &bytes) })
    }

    fn signature(&self, token: &str) -> String {
        secrets::hex(&hmac::sign(&self.key, token.as_bytes()).as_ref()[..SIG_BYTES])
    }

    /// The gateway path of `url`, a picture `engine` gave (its host is checked when it is
    /// fetched, against that engine's `image_hosts`).
    pub fn path(&self, engine: &str, url: &str) -> String {
        let token = URL_SAFE_NO_PAD.encode(format!("{engine}\n{url}"));
        format!("{PREFIX}/{}/{token}", self.signature(&token))
    }

    /// The engine and URL of a picture path's `sig` and `token`, if this gateway signed it.
    pub fn verify(&self, sig: &str, token: &str) -> Option<Signed> {
        if !secrets::constant_time_eq(&self.signature(token), sig) {
            return None;
        }
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
        let (engine, url) = text.split_once('\n')?;
        Some(Signed { engine: engine.to_string(), url: url.to_string() })
    }

    /// The `(sig, token)` of a path `path` made (for the store's keys and for tests).
    pub fn split(path: &str) -> Option<(&str, &str)> {
        path.strip_prefix(PREFIX)?.strip_prefix('/')?.split_once('/')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_this_gateway_signed_verify() {
        let dir = std::env::temp_dir().join(format!("kidsearch-imgsign-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let signer = ImageSigner::new(&secrets::Keys::per_data_dir(&dir)).unwrap();
        let path = signer.path("simple_wikipedia", "https://upload.wikimedia.org/a.jpg");
        let (sig, token) = ImageSigner::split(&path).unwrap();
        assert_eq!(signer.verify(sig, token), Some(Signed { engine: "simple_wikipedia".into(), url: "https://upload.wikimedia.org/a.jpg".into() }));
        let other = URL_SAFE_NO_PAD.encode("simple_wikipedia\nhttps://evil.example/a.jpg");
        assert_eq!(signer.verify(sig, &other), None, "a token swapped under a good signature");
        assert_eq!(signer.verify("00", token), None);
        let again = ImageSigner::new(&secrets::Keys::per_data_dir(&dir)).unwrap();
        assert!(again.verify(sig, token).is_some(), "the key survives a restart");
    }
}
