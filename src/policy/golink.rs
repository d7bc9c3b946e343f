//! Signed click-through links: `/go?u=<url>&s=<signature>`. Only links the gateway itself made
//! can be followed, so `/go` is no open redirect. The HMAC key is generated at first start and
//! kept in the data dir with 0600 permissions, or derived from a trust's shared secret.

use std::path::Path;

use ring::hmac;

use crate::secrets;
use crate::web::paths;

const KEY_FILE: &str = "link-signing.key";
const KEY_BYTES: usize = 32;
/// Signature length kept in links (hex of the first 16 bytes of HMAC-SHA256: 128 bits).
const SIG_BYTES: usize = 16;

#[derive(Clone)]
pub struct LinkSigner {
    key: hmac::Key,
}

impl LinkSigner {
    /// Loads the key from `data_dir`, creating it (0600) on first start.
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<LinkSigner> {
        LinkSigner::new(&secrets::Keys::per_data_dir(data_dir))
    }

    /// The link key from `keys` (shared by a trust's instances, or this data dir's own).
    pub fn new(keys: &secrets::Keys) -> std::io::Result<LinkSigner> {
        let bytes = keys.key(KEY_FILE, KEY_BYTES, "links already on pupils' screens stop working")?;
        Ok(LinkSigner { key: hmac::Key::new(hmac::HMAC_SHA256, &bytes) })
    }

    pub fn sign(&self, url: &str) -> String {
        let tag = hmac::sign(&self.key, url.as_bytes());
        secrets::hex(&tag.as_ref()[..SIG_BYTES])
    }

    /// Constant-time comparison of the given signature with the right one.
    pub fn verify(&self, url: &str, signature: &str) -> bool {
        secrets::constant_time_eq(&self.sign(url), signature)
    }

    /// The gateway link a pupil clicks for `url`.
    pub fn go_link(&self, url: &str) -> String {
        paths::go(url, &self.sign(url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_own_url_and_survives_restart() {
        let dir = std::env::temp_dir().join(format!("kidsearch-golink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let signer = LinkSigner::load_or_create(&dir).unwrap();
        let sig = signer.sign("https://kids.example/a");
        assert!(signer.verify("https://kids.example/a", &sig));
        assert!(!signer.verify("https://evil.example/a", &sig));
        assert!(!signer.verify("https://kids.example/a", "00"));
        let again = LinkSigner::load_or_create(&dir).unwrap();
        assert!(again.verify("https://kids.example/a", &sig));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
