//! Signed click-through links: `/go?u=<url>&d=<day>&s=<signature>`. Only links the gateway
//! itself made can be followed, so `/go` is no open redirect; each is signed for one school's
//! pupils and a day, so a link does not work at another school nor for ever. The HMAC key is generated at first start and
//! kept in the data dir with 0600 permissions, or derived from a trust's shared secret.

use std::path::Path;

use ring::hmac;

use crate::schools::SchoolId;
use crate::secrets;

/// The path of a click-through link (routed by `web`; its fields are this module's format).
pub const GO: &str = "/go";

const KEY_FILE: &str = "link-signing.key";
const KEY_BYTES: usize = 32;
/// Signature length kept in links (hex of the first 16 bytes of HMAC-SHA256: 128 bits).
const SIG_BYTES: usize = 16;

#[derive(Clone)]
pub struct LinkSigner {
    key: hmac::Key,
}

/// How many days a link is good for after the day it was made on: pages cached over midnight
/// still work the next morning; a link kept for longer (a screenshot, a bookmark, a leaked
/// list) does not.
const DAYS_VALID: i64 = 1;
const DAY_MS: i64 = 86_400_000;

/// Why a `/go` link is not followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// Not signed by this gateway, signed for another school, or tampered with.
    Forged,
    /// Signed here, but too long ago.
    Expired,
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

    /// The signature of `url` for pupils of `school` on `day` (days since 1970, UTC).
    fn sign(&self, school: SchoolId, day: i64, url: &str) -> String {
        let tag = hmac::sign(&self.key, format!("{school}:{day}:{url}").as_bytes());
        secrets::hex(&tag.as_ref()[..SIG_BYTES])
    }

    /// The gateway link a pupil of `school` clicks for `url`, signed today.
    pub fn go_link(&self, school: SchoolId, url: &str) -> String {
        self.go_link_at(school, crate::store::now_ms(), url)
    }

    /// As `go_link`, signed on the day of `at_ms`.
    pub fn go_link_at(&self, school: SchoolId, at_ms: i64, url: &str) -> String {
        let day = at_ms.div_euclid(DAY_MS);
        go(url, day, &self.sign(school, day, url))
    }

    /// The destination of a `/go` link (its query string: `u`, `d`, `s`), if this gateway
    /// signed it for `school` within the last `DAYS_VALID` days.
    pub fn verify(&self, school: SchoolId, query: &str) -> Result<String, LinkProblem> {
        let field = |name: &str| url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
        let (Some(url), Some(day), Some(signature)) = (field("u"), field("d").and_then(|d| d.parse::<i64>().ok()), field("s")) else {
            return Err(LinkProblem::Forged);
        };
        if !secrets::constant_time_eq(&self.sign(school, day, &url), &signature) {
            return Err(LinkProblem::Forged);
        }
        if !(today() - DAYS_VALID..=today()).contains(&day) {
            return Err(LinkProblem::Expired);
        }
        Ok(url)
    }
}

fn today() -> i64 {
    crate::store::now_ms().div_euclid(DAY_MS)
}

/// `/go?u=…&d=…&s=…`: the link for `url`, signed on `day` with `signature`.
fn go(url: &str, day: i64, signature: &str) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("u", url);
    s.append_pair("d", &day.to_string());
    s.append_pair("s", signature);
    format!("{GO}?{}", s.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_own_url_school_and_days_and_survives_restart() {
        let dir = std::env::temp_dir().join(format!("kidsearch-golink-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let signer = LinkSigner::load_or_create(&dir).unwrap();
        let query = |link: &str| link.split_once('?').unwrap().1.to_string();
        let link = query(&signer.go_link(1, "https://kids.example/a"));
        assert_eq!(signer.verify(1, &link), Ok("https://kids.example/a".to_string()));
        assert_eq!(signer.verify(2, &link), Err(LinkProblem::Forged), "another school's pupils");
        assert_eq!(signer.verify(1, &link.replace("kids.example", "evil.example")), Err(LinkProblem::Forged));
        assert_eq!(signer.verify(1, "u=https%3A%2F%2Fkids.example%2Fa&d=1&s=00"), Err(LinkProblem::Forged));
        let old_day = today() - 2;
        let old = query(&go("https://kids.example/a", old_day, &signer.sign(1, old_day, "https://kids.example/a")));
        assert_eq!(signer.verify(1, &old), Err(LinkProblem::Expired));
        let yesterday = today() - 1;
        let recent = query(&go("https://kids.example/a", yesterday, &signer.sign(1, yesterday, "https://kids.example/a")));
        assert!(signer.verify(1, &recent).is_ok(), "a page cached over midnight still works");
        let again = LinkSigner::load_or_create(&dir).unwrap();
        assert!(again.verify(1, &link).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
