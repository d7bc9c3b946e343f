//! `kidsearch ipad-profile --url https://kidsearch.school.lan --class Oak`: an Apple
//! configuration profile (`.mobileconfig`, an XML property list) for Apple Configurator or the
//! school's MDM. It puts a full-screen kidsearch web clip on the home screen and, with
//! `--filter`, a web content filter that allows only kidsearch and the walled garden's sites
//! (`allowlist/garden/domains`: where a result's link may take a pupil; with the filter on, a
//! school sets `walled_garden = true` so results show only those sites).
//!
//! Payload identifiers and UUIDs are derived from the URL and class, so generating the profile
//! again gives the same identifiers and installing it replaces the old one instead of adding a
//! second web clip.

use plist::{Dictionary, Value};
use ring::digest::{digest, SHA256};
use url::Url;

pub struct ProfileRequest {
    pub url: String,
    pub class: String,
    pub filter: bool,
    /// The sites a result's `/go` link may send a pupil to, besides kidsearch (with `filter`:
    /// the walled garden's domains). A filter that allowed only kidsearch would block every
    /// result a pupil taps.
    pub also_allowed: Vec<String>,
}

/// A UUID (version 4 layout) derived from `parts`.
fn stable_uuid(parts: &[&str]) -> String {
    let hash = digest(&SHA256, parts.join("\u{1f}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02X}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

fn slug(s: &str) -> String {
    let mut out: String = s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    out.trim_matches('-').to_string()
}

fn payload(kind: &str, identifier: &str, uuid: String, name: &str, mut fields: Dictionary) -> Value {
    fields.insert("PayloadType".into(), kind.into());
    fields.insert("PayloadVersion".into(), 1.into());
    fields.insert("PayloadIdentifier".into(), identifier.into());
    fields.insert("PayloadUUID".into(), uuid.into());
    fields.insert("PayloadDisplayName".into(), name.into());
    Value::Dictionary(fields)
}

/// Builds the profile; the URL must be an absolute http(s) URL.
pub fn build(req: &ProfileRequest) -> Result<Value, String> {
    // "kidsearch.school.lan" alone is the usual slip: say what to type instead.
    if !req.url.contains("://") {
        return Err(format!("--url {:?} has no scheme: did you mean --url https://{}?", req.url, req.url.trim_start_matches('/')));
    }
    let url = Url::parse(&req.url).map_err(|e| format!("--url {:?}: {e}", req.url))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("--url must be an http(s) address such as https://kidsearch.school.lan".into());
    }
    let class = req.class.trim();
    if class.is_empty() {
        return Err("--class must name the class, e.g. Oak".into());
    }
    let base = format!("lan.kidsearch.{}", slug(class));
    let url_text = url.as_str().to_string();

    let mut clip = Dictionary::new();
    clip.insert("URL".into(), url_text.clone().into());
    clip.insert("Label".into(), "kidsearch".into());
    clip.insert("FullScreen".into(), true.into());
    clip.insert("IsRemovable".into(), false.into());
    clip.insert("Precomposed".into(), true.into());
    let mut content = vec![payload(
        "com.apple.webClip.managed",
        &format!("{base}.webclip"),
        stable_uuid(&["webclip", &url_text, class]),
        &format!("kidsearch for {class} class"),
        clip,
    )];

    if req.filter {
        let mut bookmark = Dictionary::new();
        bookmark.insert("URL".into(), url_text.clone().into());
        bookmark.insert("Title".into(), "kidsearch".into());
        let mut filter = Dictionary::new();
        filter.insert("FilterType".into(), "BuiltIn".into());
        filter.insert("AutoFilterEnabled".into(), false.into());
        // "Specific websites only": kidsearch first, then each garden site (the filter allows a
        // bookmark's address and everything under it).
        let mut allowed = vec![Value::Dictionary(bookmark)];
        for domain in &req.also_allowed {
            // The garden's "dkfindout.com" covers www.dkfindout.com too; a bookmark's address
            // may not, so a registrable domain is listed with its www. as well.
            let www = (!domain.starts_with("www.") && psl::domain_str(domain) == Some(domain.as_str())).then(|| format!("www.{domain}"));
            for host in std::iter::once(domain.clone()).chain(www) {
                let mut site = Dictionary::new();
                site.insert("URL".into(), format!("https://{host}/").into());
                site.insert("Title".into(), host.into());
                allowed.push(Value::Dictionary(site));
            }
        }
        filter.insert("AllowListBookmarks".into(), Value::Array(allowed));
        content.push(payload("com.apple.webcontent-filter", &format!("{base}.filter"), stable_uuid(&["filter", &url_text, class]), "Only kidsearch", filter));
    }

    let mut top = Dictionary::new();
    top.insert("PayloadContent".into(), Value::Array(content));
    top.insert("PayloadDescription".into(), format!("Puts kidsearch ({url_text}) on the home screen of {class} class iPads.").into());
    top.insert("PayloadOrganization".into(), "kidsearch".into());
    top.insert("PayloadRemovalDisallowed".into(), false.into());
    Ok(payload("Configuration", &base, stable_uuid(&["profile", &url_text, class]), &format!("kidsearch — {class} class"), top))
}

/// The profile as XML plist bytes.
pub fn to_xml(profile: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    profile.to_writer_xml(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_stable_and_distinct() {
        assert_eq!(stable_uuid(&["a", "b"]), stable_uuid(&["a", "b"]));
        assert_ne!(stable_uuid(&["a", "b"]), stable_uuid(&["ab", ""]));
        assert_eq!(stable_uuid(&["x"]).len(), 36);
        assert_eq!(slug("Oak Class (Y1)"), "oak-class-y1");
    }
}
