//! Lists that stay current (issue 28): `kidsearch lists update` against a stand-in for UT1 on
//! 127.0.0.1 installs a good archive, and refuses one cut short, one with an entry that climbs
//! out of its folder and one too large — each named with what was wrong and the fix, each
//! leaving the list installed before it in force, byte for byte. The running server blocks
//! by the new list with no restart; `check`, the staff Engine health page and `/metrics` say
//! how old each list is.

mod common;

use std::time::{Duration, Instant};

use common::lists::{domains_text, good_archive, traversal_archive, truncated_archive, ListsFixture};
use common::{add_user, Browser, FixtureUpstream, RealServer, TestApp};

/// The test's limit on one unpacked file: a million domains fit, the oversized one does not.
const MAX_FILE: u64 = 32 * 1024 * 1024;

/// The hosts of a pupil's results for `q`.
async fn hosts(app: &TestApp, q: &str) -> Vec<String> {
    let (code, body) = app.search_json(q, 1).await;
    assert_eq!(code, 200, "{body}");
    body["results"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| url::Url::parse(x["url"].as_str()?).ok()?.host_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn settings(fixture: &ListsFixture) -> String {
    format!("lists_url = \"{}\"\nlists_categories = [\"adult\", \"gambling\", \"drogue\", \"agressif\"]\nlists_max_file_bytes = {MAX_FILE}\n", fixture.url())
}

#[tokio::test]
async fn lists_update_installs_only_sound_archives_and_a_refused_one_leaves_the_last_good_list_in_force() {
    let fixture = ListsFixture::start().await;
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut server = RealServer::with_settings(&upstream, &settings(&fixture));
    let app = server.start().await;
    assert!(hosts(&app, "volcano facts").await.iter().any(|h| h == "lava.example.com"), "not blocked before the lists are fetched");

    // Night one: every archive is sound. adult is UT1-sized: a million domains.
    let big = std::env::var("KIDSEARCH_TEST_LIST_DOMAINS").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let started = Instant::now();
    fixture.serve("adult", good_archive("adult", &domains_text("adult", big, &["lava.example.com"])));
    for category in ["gambling", "drogue", "agressif"] {
        fixture.serve(category, good_archive(category, &domains_text(category, 1_000, &[])));
    }
    eprintln!("archives made in {:?}", started.elapsed());
    let started = Instant::now();
    let (code, said) = server.run(&["lists", "update"]);
    eprintln!("lists update took {:?}:\n{said}", started.elapsed());
    assert_eq!(code, 0, "{said}");
    assert!(said.contains(&format!("installed {big} domains")), "{said}");
    assert!(said.contains("installed 1000 domains"), "{said}");
    assert_eq!(fixture.requests(), ["adult.tar.gz", "gambling.tar.gz", "drogue.tar.gz", "agressif.tar.gz"]);

    // The running server reads the new lists by itself (a changed file, polled every 2 s).
    let lists = server.data_dir.join("lists");
    let deadline = Instant::now() + Duration::from_secs(30);
    while hosts(&app, "volcano facts").await.iter().any(|h| h == "lava.example.com") {
        assert!(Instant::now() < deadline, "the fetched list was not picked up without a restart");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let before: Vec<Vec<u8>> =
        ["gambling", "drogue", "agressif"].iter().map(|c| std::fs::read(lists.join(c).join("domains")).expect("installed list")).collect();

    // Night two: adult is sound (one domain more); the other three are not.
    let lots = domains_text("agressif", 0, &[]) + &"x".repeat(MAX_FILE as usize + 1);
    fixture.serve("adult", good_archive("adult", &domains_text("adult", 2_000, &["lava.example.com", "new.adult-list.example"])));
    fixture.serve("gambling", truncated_archive("gambling", &domains_text("gambling", 50_000, &[])));
    fixture.serve("drogue", traversal_archive("drogue", &domains_text("drogue", 1_000, &["new.drogue-list.example"])));
    fixture.serve("agressif", good_archive("agressif", &lots));
    let (code, said) = server.run(&["lists", "update"]);
    assert_eq!(code, 1, "{said}");
    let line =
        |category: &str| said.lines().find(|l| l.trim_start().starts_with(category)).unwrap_or_else(|| panic!("no line for {category}:\n{said}")).to_string();
    assert!(line("adult").contains("installed 2000 domains"), "{said}");
    let gambling = line("gambling");
    assert!(gambling.contains("damaged or cut short") && gambling.contains("Fix: the download was probably interrupted"), "{gambling}");
    let drogue = line("drogue");
    assert!(drogue.contains("drogue/../../escaped") && drogue.contains("outside its drogue/ folder") && drogue.contains("Fix:"), "{drogue}");
    let agressif = line("agressif");
    assert!(agressif.contains("more than lists_max_file_bytes") && agressif.contains("raise lists_max_file_bytes"), "{agressif}");
    for refused in [&gambling, &drogue, &agressif] {
        assert!(refused.contains("Not installed") && refused.contains("ago stays in force"), "{refused}");
    }
    assert!(said.contains("3 list(s) not installed"), "{said}");

    // What was refused changed nothing: the lists before are in force, byte for byte, and
    // nothing was written outside the lists folder or left half-way.
    for (category, old) in ["gambling", "drogue", "agressif"].iter().zip(&before) {
        assert!(std::fs::read(lists.join(category).join("domains")).expect("still installed") == *old, "{category} was changed");
    }
    assert!(!server.data_dir.join("escaped").exists() && !lists.join("escaped").exists() && !server.data_dir.parent().expect("dir").join("escaped").exists());
    let left: Vec<String> = std::fs::read_dir(&lists).expect("lists").flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(!left.iter().any(|n| n.starts_with(".incoming")), "{left:?}");
    // The list adult replaced is kept beside it.
    let kept = std::fs::read_to_string(lists.join(".previous-adult/domains")).expect("the previous copy is kept");
    assert_eq!(kept.lines().count(), big);

    // check says how old each list is, and what the last update refused.
    let (code, check) = server.run(&["check"]);
    assert_eq!(code, 0, "a refused update is no configuration problem:\n{check}");
    assert!(check.contains(&format!("{:<14} 2000 domains, fetched", "ut1/adult")), "{check}");
    assert!(check.contains("ut1/gambling") && check.contains("ut1/drogue") && check.contains("ut1/agressif"), "{check}");
    assert!(check.contains("the last update did not install it: Not installed: the archive is damaged"), "{check}");

    // /metrics exports each list's age, and which the last update did not install.
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    for category in ["adult", "gambling", "drogue", "agressif"] {
        assert!(metrics.contains(&format!("kidsearch_list_age_seconds{{category=\"{category}\"}} ")), "{metrics}");
    }
    assert!(metrics.contains("kidsearch_list_update_failed{category=\"gambling\"} 1"), "{metrics}");
    assert!(metrics.contains("kidsearch_list_update_failed{category=\"adult\"} 0"), "{metrics}");

    // So does the staff Engine health page, once the server has read the new adult list.
    add_user(&server.data_dir, "admin", "Ms Lists", "plum tree under snow");
    let mut admin = Browser::new(&app);
    admin.sign_in("Ms Lists", "plum tree under snow").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = admin.get("/staff/health").await.text().await.expect("health page");
        if page.contains("<td>adult</td><td>2000</td>") {
            assert!(page.contains("Fetched block lists (UT1)") && page.contains(" ago ("), "{page}");
            assert!(page.contains("not installed</strong>: Not installed: the archive is damaged"), "{page}");
            break;
        }
        assert!(Instant::now() < deadline, "the health page never showed the new adult list:\n{page}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // The annual review lists each fetched list with its size and when it was fetched.
    let review = admin.get("/staff/review").await.text().await.expect("review");
    let fetched = common::between(&review, "Block lists fetched from UT1", "</table>").unwrap_or_else(|| panic!("the fetched lists: {review}"));
    let adult = fetched.split("<tr>").find(|r| r.contains("<td>adult</td>")).unwrap_or_else(|| panic!("{fetched}"));
    assert!(adult.contains("<td class=\"num\">2000</td>") && adult.contains("<td>20"), "{adult}");
    assert_eq!(server.terminate(), Some(0));
}

#[tokio::test]
async fn a_category_ut1_does_not_have_is_named_with_ut1s_own_names() {
    let fixture = ListsFixture::start().await;
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let server = RealServer::with_settings(&upstream, &format!("lists_url = \"{}\"\nlists_categories = [\"drugs\"]\n", fixture.url()));
    let (code, said) = server.run(&["lists", "update"]);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("404 Not Found: UT1 has no category \"drugs\"") && said.contains("drugs is \"drogue\""), "{said}");
    assert!(said.contains("No list of this category was fetched before"), "{said}");
}

#[tokio::test]
async fn bad_lists_settings_are_named_with_their_fix() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let server =
        RealServer::with_settings(&upstream, "lists_url = \"ftp://mirror.example/ut1\"\nlists_categories = [\"../adult\"]\nlists_max_file_bytes = 10\n");
    for command in [&["check"][..], &["lists", "update"][..]] {
        let (code, said) = server.run(command);
        assert_eq!(code, 1, "{said}");
        assert!(said.contains("lists_url = \"ftp://mirror.example/ut1\" is not an http(s) URL"), "{said}");
        assert!(said.contains("lists_categories: \"../adult\" is not a UT1 category name") && said.contains("use UT1's folder names"), "{said}");
        assert!(said.contains("lists_max_file_bytes = 10 is too small"), "{said}");
    }
}
