//! `kidsearch check` and start-up validation: every bad line names file, line and fix, and the
//! server refuses to start half-configured.

mod common;

use std::path::Path;
use std::process::Command;

use common::{repo_dir, temp_dir};

fn kidsearch(args: &[&str], dir: &Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_kidsearch"))
        .args(args)
        .current_dir(dir)
        .env_remove("KIDSEARCH_CONFIG")
        .env_remove("KIDSEARCH_LISTEN")
        .env_remove("KIDSEARCH_DATA_DIR")
        .output()
        .expect("run kidsearch");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), text)
}

/// A folder with an `allowlist/engines.toml` made from the shipped one by `edit`.
fn allowlist_with(edit: impl FnOnce(String) -> String) -> std::path::PathBuf {
    let dir = temp_dir("check");
    std::fs::create_dir_all(dir.join("allowlist")).expect("mkdir");
    let shipped = std::fs::read_to_string(repo_dir().join("allowlist/engines.toml")).expect("shipped engines.toml");
    std::fs::write(dir.join("allowlist/engines.toml"), edit(shipped)).expect("write");
    dir
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect("needle in file") + 1
}

#[test]
fn the_shipped_configuration_passes_check_and_names_every_engine() {
    let (code, out) = kidsearch(&["check"], &repo_dir());
    assert_eq!(code, 0, "{out}");
    for id in [
        "kiddle",
        "kidrex",
        "swiggle",
        "duckduckgo",
        "bing",
        "mojeek",
        "simple_wikipedia",
        "brave_api",
        "google_cse_api",
        "google",
        "yahoo",
        "openverse",
        "google_cse_images",
        "bing_images",
    ] {
        assert!(out.contains(id), "{id} missing from:\n{out}");
    }
    assert!(out.contains("needs the school's API key"), "{out}");
    assert!(!out.contains("gobubble") && !out.contains("viewpure"), "GoBubble and ViewPure are a site tile and the video page, not engines: {out}");
}

#[test]
fn the_built_in_allowlist_is_used_when_there_is_no_allowlist_folder() {
    let dir = temp_dir("noallowlist");
    let (code, out) = kidsearch(&["check"], &dir);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("<built-in allowlist/engines.toml>"), "{out}");
}

#[test]
fn a_bad_selector_is_reported_with_file_line_and_fix() {
    let dir = allowlist_with(|s| s.replace("result = \"ol#b_results > li.b_algo\"", "result = \"ol#b_results >> li[\""));
    let text = std::fs::read_to_string(dir.join("allowlist/engines.toml")).expect("read");
    let line = line_of(&text, "ol#b_results >> li[");
    let (code, out) = kidsearch(&["check"], &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("engines.toml:{line}:")), "line {line} not named:\n{out}");
    assert!(out.contains("not valid CSS") && out.contains("fix:"), "{out}");
}

#[test]
fn valid_css_the_streaming_reader_cannot_use_is_reported_too() {
    let dir = allowlist_with(|s| s.replace("snippet = \"div.b_caption p\"", "snippet = \"h2 + p\""));
    let text = std::fs::read_to_string(dir.join("allowlist/engines.toml")).expect("read");
    let line = line_of(&text, "h2 + p");
    let (code, out) = kidsearch(&["check"], &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("engines.toml:{line}:")), "line {line} not named:\n{out}");
    assert!(out.contains("snippet selector \"h2 + p\"") && out.contains("not +, ~ or :has"), "{out}");
}

#[test]
fn a_pupil_engine_without_a_safe_search_lock_stops_the_server_from_starting() {
    let dir = allowlist_with(|s| s.replace("[engines.mojeek.safe_search]\nparams = { safe = \"1\" }\n", ""));
    let text = std::fs::read_to_string(dir.join("allowlist/engines.toml")).expect("read");
    let line = line_of(&text, "[engines.mojeek]");
    let (code, out) = kidsearch(&["check"], &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("engines.toml:{line}:")) && out.contains("no safe-search lock"), "{out}");

    let (code, out) = kidsearch(&["serve", "--listen", "127.0.0.1:0"], &dir);
    assert_eq!(code, 1, "the server must refuse to start: {out}");
    assert!(out.contains("cannot start") && out.contains("safe-search"), "{out}");
}

#[test]
fn a_request_url_outside_the_engine_hosts_is_refused() {
    let dir = allowlist_with(|s| s.replace("url = \"https://www.mojeek.com/search\"", "url = \"https://evil.example/search\""));
    let (code, out) = kidsearch(&["check"], &dir);
    assert_eq!(code, 1);
    assert!(out.contains("evil.example is not in its hosts list"), "{out}");
}

#[test]
fn a_picture_host_that_is_not_a_host_name_and_a_thumbnail_without_picture_hosts_are_named() {
    let dir = allowlist_with(|s| {
        s.replace("image_hosts = [\"upload.wikimedia.org\"]", "image_hosts = [\"https://upload.wikimedia.org/wiki\"]")
            .replace("image_hosts = [\"imgs.search.brave.com\"]\n", "")
    });
    let text = std::fs::read_to_string(dir.join("allowlist/engines.toml")).expect("read");
    let bad_host = line_of(&text, "https://upload.wikimedia.org/wiki");
    let brave = text.lines().position(|l| l == "[engines.brave_api]").expect("the table") + 1;
    let (code, out) = kidsearch(&["check"], &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("engines.toml:{bad_host}:")) && out.contains("is not a host name"), "line {bad_host}:\n{out}");
    assert!(out.contains(&format!("engines.toml:{brave}:")) && out.contains("reads a thumbnail but declares no image_hosts"), "{out}");
    assert!(out.contains("fix:"), "{out}");
}

#[test]
fn an_unknown_key_or_a_typo_in_the_server_config_names_its_line() {
    let dir = temp_dir("badconfig");
    std::fs::write(dir.join("kidsearch.toml"), "listen = \"127.0.0.1:8080\"\nmax_page = 3\n").expect("write");
    let (code, out) = kidsearch(&["check", "--config", "kidsearch.toml"], &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("kidsearch.toml:2:") && out.contains("max_page"), "{out}");

    std::fs::write(dir.join("kidsearch.toml"), "[engines.bingg]\nenabled = false\n").expect("write");
    let (code, out) = kidsearch(&["check", "--config", "kidsearch.toml"], &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("bingg") && out.contains("use one of"), "{out}");
}

/// Issue 23, item 15. Found: a top-level setting written after an `[engines.…]` table (where
/// TOML makes it that engine's key) got "unknown field `walled_garden`, expected one of
/// `base_url`, …" and a pointer to the README. The fix now says to move it up.
#[test]
fn a_top_level_setting_after_an_engine_table_is_told_to_move_up() {
    let dir = temp_dir("misplaced");
    std::fs::write(dir.join("kidsearch.toml"), "max_pages = 2\n[engines.bing]\nenabled = false\nwalled_garden = true\nlisten = \"0.0.0.0:80\"\n")
        .expect("write");
    let (code, out) = kidsearch(&["check", "--config", "kidsearch.toml"], &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("kidsearch.toml:4:") && out.contains("`walled_garden` is a top-level setting: move it above the first [engines.…] table"), "{out}");
    // A key that is nobody's gets the general pointer.
    std::fs::write(dir.join("kidsearch.toml"), "[engines.bing]\nnonsense = true\n").expect("write");
    let (_, out) = kidsearch(&["check", "--config", "kidsearch.toml"], &dir);
    assert!(out.contains("see the commented example") && !out.contains("top-level setting"), "{out}");
}

#[test]
fn a_broken_toml_line_is_named() {
    let dir = allowlist_with(|s| s.replacen("name = \"Bing\"", "name = \"Bing", 1));
    let text = std::fs::read_to_string(dir.join("allowlist/engines.toml")).expect("read");
    let line = line_of(&text, "name = \"Bing");
    let (code, out) = kidsearch(&["check"], &dir);
    assert_eq!(code, 1);
    assert!(out.contains(&format!("engines.toml:{line}:")), "line {line}: {out}");
}

/// A copy of the shipped allowlist folder with one list file replaced.
fn allowlist_with_list(path: &str, text: &str) -> std::path::PathBuf {
    let dir = temp_dir("lists");
    let status = Command::new("cp").arg("-r").arg(repo_dir().join("allowlist")).arg(dir.join("allowlist")).status().expect("cp");
    assert!(status.success());
    std::fs::write(dir.join("allowlist").join(path), text).expect("write");
    dir
}

#[test]
fn term_list_mistakes_are_reported_with_file_and_line() {
    let dir = allowlist_with_list("terms/local.txt", "# our list\nfortnite\nfortnite\ngrass\npo*rn\n!!!\n");
    let (code, out) = kidsearch(&["check"], &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("local.txt:3:") && out.contains("duplicates"), "duplicate: {out}");
    assert!(out.contains("local.txt:4:") && out.contains("collides with the exception"), "collision: {out}");
    assert!(out.contains("local.txt:5:") && out.contains("* may only stand"), "bad wildcard: {out}");
    assert!(out.contains("local.txt:6:") && out.contains("never match"), "never matches: {out}");
}

#[test]
fn domain_list_lines_that_are_not_domains_or_are_public_suffixes_are_named() {
    let dir = allowlist_with_list("domains/local/domains", "# ours\nco.uk\nhttp://bad.example/path\ngood.example\n");
    let (code, out) = kidsearch(&["check"], &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("local/domains:2:") && out.contains("public suffix"), "{out}");
    assert!(out.contains("local/domains:3:") && out.contains("not a domain"), "{out}");
}

#[test]
fn the_config_path_can_come_from_the_environment() {
    let dir = temp_dir("envconfig");
    std::fs::write(dir.join("school.toml"), "max_pages = 0\n").expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_kidsearch")).arg("check").current_dir(&dir).env("KIDSEARCH_CONFIG", "school.toml").output().expect("run");
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("max_pages = 0 is out of range"), "{text}");
}

#[test]
fn the_filter_test_refuses_every_shipped_harmful_probe_and_allows_every_ordinary_one() {
    let (code, out) = kidsearch(&["check", "--filter-test"], &repo_dir());
    assert_eq!(code, 0, "{out}");
    for category in ["sexual", "violence", "self-harm", "drugs", "gambling", "extremism", "hate", "circumvention", "malware", "swearing", "scary"] {
        let line = out.lines().find(|l| l.trim_start().starts_with(&format!("{category} "))).unwrap_or_else(|| panic!("no line for {category}:\n{out}"));
        let (done, total) = line.split_whitespace().nth(1).and_then(|f| f.split_once('/')).expect("n/m");
        assert_eq!(done, total, "{line}");
        assert!(line.ends_with("refused"), "{line}");
    }
    assert!(out.lines().any(|l| l.trim_start().starts_with("ordinary ") && l.ends_with("allowed")), "{out}");
    assert!(out.contains("ok: every probe did as expected"), "{out}");
}

#[test]
fn the_filter_test_names_an_unexpected_pass_and_an_unexpected_refusal_with_file_and_line_and_exits_1() {
    // The shipped allowlist, but for its probe file.
    let dir = temp_dir("filtertest");
    std::fs::create_dir_all(dir.join("allowlist")).expect("mkdir");
    for entry in std::fs::read_dir(repo_dir().join("allowlist")).expect("allowlist") {
        let entry = entry.expect("entry");
        if entry.file_name() != "probes.txt" {
            std::os::unix::fs::symlink(entry.path(), dir.join("allowlist").join(entry.file_name())).expect("symlink");
        }
    }
    std::fs::write(dir.join("allowlist/probes.txt"), "# mine\nviolence: gore pictures\nviolence: fluffy kittens\nordinary: free porn\nsexual: x\n")
        .expect("write");
    let (code, out) = kidsearch(&["check", "--filter-test"], &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("probes.txt:3: the violence search \"fluffy kittens\" was allowed"), "{out}");
    assert!(out.contains("probes.txt:4: the ordinary search \"free porn\" was refused as sexual"), "{out}");
    assert!(out.lines().any(|l| l.trim_start().starts_with("violence ") && l.contains("1/2 refused")), "{out}");
    // With categories_off, that category's probes are reported as off, not as problems.
    std::fs::write(dir.join("kidsearch.toml"), "categories_off = [\"violence\"]\n").expect("config");
    std::fs::write(dir.join("allowlist/probes.txt"), "violence: fluffy kittens\nordinary: volcanoes\n").expect("write");
    let (code, out) = kidsearch(&["check", "--filter-test", "--config", "kidsearch.toml"], &dir);
    assert!(out.contains("violence") && out.contains("off (categories_off)"), "{out}");
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_picture_engine_that_reads_no_picture_or_half_a_json_link_is_reported_with_file_line_and_fix() {
    let dir = allowlist_with(|s| s.replace("thumbnail = \"/thumbnail\"\n", ""));
    let text = std::fs::read_to_string(dir.join("allowlist/engines.toml")).expect("read");
    let line = line_of(&text, "[engines.openverse]");
    let (code, out) = kidsearch(&["check"], &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("engines.toml:{line}:")) && out.contains("openverse is a picture engine"), "{out}");
    assert!(out.contains("reads no picture") && out.contains("fix:"), "{out}");

    // Bing images' link is JSON in its `m` attribute: the attribute without its pointer is no link.
    let dir = allowlist_with(|s| s.replace("link_json = \"/purl\"\n", ""));
    let (code, out) = kidsearch(&["check"], &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("bing_images: link_attr, link_json and thumbnail_json go together") && out.contains("fix:"), "{out}");
}
