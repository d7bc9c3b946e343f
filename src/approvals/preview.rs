//! What a teacher saw in a pre-run, carried to "Approve for today" unchanged. The school rule
//! is that "the teacher performs the same search earlier that day": pupils must get exactly the
//! pages the teacher read, not a fresh answer from the engines minutes later. So the pre-run
//! page carries its pages in the approve form, signed (HMAC-SHA256 with the server's key) for
//! the teacher's account and session, and approving freezes those pages and nothing else.
//!
//! Signed rather than kept in a table: any of a trust's instances can take the approval (they
//! share the key), a GET stores nothing, and nothing is left to clean up. A preview is good for
//! `VALID_MS`.

use ring::hmac;
use serde::{Deserialize, Serialize};

use super::{FrozenCard, FrozenResult};
use crate::schools::SchoolId;

/// How long a pre-run can be approved after it was shown.
pub const VALID_MS: i64 = 12 * 3600 * 1000;

/// One pre-run as the teacher saw it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Preview {
    pub account: i64,
    /// The account's session generation: a password change ends the preview too.
    pub generation: i64,
    pub school: SchoolId,
    pub query: String,
    pub engines: Vec<String>,
    pub made_ms: i64,
    /// A picture search (approved apart from a web search of the same words).
    #[serde(default)]
    pub pictures: bool,
    /// Page by page, the results shown (the policy, the school's hidden results and the page
    /// limit already applied).
    pub pages: Vec<Vec<FrozenResult>>,
    /// Page 1's answer card as shown, if there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<FrozenCard>,
}

/// Why a preview cannot be approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewProblem {
    /// Missing, altered, or someone else's.
    NotYours,
    /// Shown more than `VALID_MS` ago.
    Old,
}

fn signature(key: &[u8], json: &str) -> String {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), format!("prerun-preview:{json}").as_bytes());
    crate::secrets::hex(tag.as_ref())
}

impl Preview {
    /// The form fields that carry it: the preview as JSON, and its signature.
    pub fn sign(&self, key: &[u8]) -> (String, String) {
        let json = serde_json::to_string(self).unwrap_or_default();
        let sig = signature(key, &json);
        (json, sig)
    }

    /// The preview in a form, if it was signed here for `account` at `generation`, less than
    /// `VALID_MS` before `now_ms`.
    pub fn verify(key: &[u8], json: &str, sig: &str, account: i64, generation: i64, now_ms: i64) -> Result<Preview, PreviewProblem> {
        if !crate::secrets::constant_time_eq(&signature(key, json), sig) {
            return Err(PreviewProblem::NotYours);
        }
        let preview: Preview = serde_json::from_str(json).map_err(|_| PreviewProblem::NotYours)?;
        if preview.account != account || preview.generation != generation {
            return Err(PreviewProblem::NotYours);
        }
        if now_ms - preview.made_ms > VALID_MS || preview.made_ms > now_ms + 60_000 {
            return Err(PreviewProblem::Old);
        }
        Ok(preview)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preview() -> Preview {
        let result = FrozenResult {
            title: "Volcanoes".into(),
            url: "https://kids.example/v".into(),
            snippet: "Hot".into(),
            site: "kids.example".into(),
            engines: vec!["bing".into()],
            picture: String::new(),
        };
        Preview {
            account: 7,
            generation: 0,
            school: 1,
            query: "volcanoes".into(),
            engines: vec!["bing".into()],
            made_ms: 1_000_000,
            pictures: false,
            pages: vec![vec![result]],
            card: None,
        }
    }

    #[test]
    fn a_preview_verifies_only_unaltered_for_its_own_account_and_for_a_while() {
        let key = [9u8; 64];
        let (json, sig) = preview().sign(&key);
        assert_eq!(Preview::verify(&key, &json, &sig, 7, 0, 1_000_500), Ok(preview()));
        assert_eq!(Preview::verify(&key, &json.replace("kids.example/v", "evil.example/v"), &sig, 7, 0, 1_000_500), Err(PreviewProblem::NotYours));
        assert_eq!(Preview::verify(&key, &json, &sig, 8, 0, 1_000_500), Err(PreviewProblem::NotYours), "another teacher's");
        assert_eq!(Preview::verify(&key, &json, &sig, 7, 1, 1_000_500), Err(PreviewProblem::NotYours), "from before a password change");
        assert_eq!(Preview::verify(&[1u8; 64], &json, &sig, 7, 0, 1_000_500), Err(PreviewProblem::NotYours), "another server's key");
        assert_eq!(Preview::verify(&key, &json, &sig, 7, 0, 1_000_000 + VALID_MS + 1), Err(PreviewProblem::Old));
    }
}
