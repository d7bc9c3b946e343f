//! `kidsearch ipad-profile`: the .mobileconfig is a valid property list with the payloads an
//! MDM or Apple Configurator expects.

mod common;

use std::process::Command;

use plist::Value;

fn run(args: &[&str], dir: &std::path::Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kidsearch")).args(args).current_dir(dir).output().expect("run");
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn dict<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.as_dictionary().and_then(|d| d.get(key)).unwrap_or_else(|| panic!("no {key}"))
}

#[test]
fn the_profile_puts_a_full_screen_web_clip_and_optionally_a_filter_on_the_ipad() {
    let dir = common::temp_dir("ipad");
    let (code, out) = run(&["ipad-profile", "--url", "https://kidsearch.school.lan", "--class", "Oak", "--filter"], &dir);
    assert_eq!(code, 0, "{out}");
    let profile = Value::from_file(dir.join("kidsearch-Oak.mobileconfig")).expect("a valid plist");
    assert_eq!(dict(&profile, "PayloadType").as_string(), Some("Configuration"));
    assert_eq!(dict(&profile, "PayloadVersion").as_unsigned_integer(), Some(1));
    let content = dict(&profile, "PayloadContent").as_array().expect("payloads");
    assert_eq!(content.len(), 2);

    let clip = &content[0];
    assert_eq!(dict(clip, "PayloadType").as_string(), Some("com.apple.webClip.managed"));
    assert_eq!(dict(clip, "URL").as_string(), Some("https://kidsearch.school.lan/"));
    assert_eq!(dict(clip, "FullScreen").as_boolean(), Some(true));
    assert_eq!(dict(clip, "IsRemovable").as_boolean(), Some(false));

    let filter = &content[1];
    assert_eq!(dict(filter, "PayloadType").as_string(), Some("com.apple.webcontent-filter"));
    let allowed = dict(filter, "AllowListBookmarks").as_array().expect("allow list");
    assert_eq!(dict(&allowed[0], "URL").as_string(), Some("https://kidsearch.school.lan/"));
    // Issue 23, item 10: a filter allowing only kidsearch blocked every result a pupil tapped
    // (/go sends them to the result's site). The walled garden's sites are allowed too.
    let urls: Vec<&str> = allowed.iter().filter_map(|b| dict(b, "URL").as_string()).collect();
    let garden = kidsearch::policy::garden_domains(&common::repo_dir().join("allowlist"));
    assert!(garden.len() > 10 && urls.len() > garden.len(), "{urls:?}");
    for site in
        ["https://kids.nationalgeographic.com/", "https://dkfindout.com/", "https://www.dkfindout.com/", "https://simple.wikipedia.org/", "https://www.gov.uk/"]
    {
        assert!(urls.contains(&site), "{site} in {urls:?}");
    }
    assert!(!urls.contains(&"https://www.simple.wikipedia.org/") && !urls.contains(&"https://www.www.gov.uk/"), "www. only before a registrable domain");

    let mut uuids: Vec<&str> = [&profile, clip, filter].iter().map(|p| dict(p, "PayloadUUID").as_string().expect("uuid")).collect();
    uuids.dedup();
    assert_eq!(uuids.len(), 3, "distinct UUIDs");

    // Generating it again gives the same identifiers, so installing replaces the old profile.
    let (code, _) = run(&["ipad-profile", "--url", "https://kidsearch.school.lan", "--class", "Oak", "--filter", "--out", "again.mobileconfig"], &dir);
    assert_eq!(code, 0);
    let again = Value::from_file(dir.join("again.mobileconfig")).expect("plist");
    assert_eq!(dict(&again, "PayloadUUID"), dict(&profile, "PayloadUUID"));

    // Without --filter, only the web clip.
    run(&["ipad-profile", "--url", "https://kidsearch.school.lan", "--class", "Ash", "--out", "ash.mobileconfig"], &dir);
    let ash = Value::from_file(dir.join("ash.mobileconfig")).expect("plist");
    assert_eq!(dict(&ash, "PayloadContent").as_array().map(Vec::len), Some(1));
    assert_ne!(dict(&ash, "PayloadUUID"), dict(&profile, "PayloadUUID"), "another class, another profile");
}

#[test]
fn a_bad_url_or_class_is_a_clear_error() {
    let dir = common::temp_dir("ipad-bad");
    let (code, out) = run(&["ipad-profile", "--url", "kidsearch.school.lan", "--class", "Oak"], &dir);
    assert_eq!(code, 2);
    assert!(out.contains("--url"), "{out}");
    let (code, out) = run(&["ipad-profile", "--url", "https://kidsearch.school.lan", "--class", "  "], &dir);
    assert_eq!(code, 2);
    assert!(out.contains("--class"), "{out}");
}
