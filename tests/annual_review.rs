//! The annual filtering review (issue 28), through the real server: the figures on
//! `/staff/review` are what the database holds — searches, refusals by category, presses,
//! incidents and how fast they were reviewed, over-block reports and their outcome, the
//! school's exceptions, the checks made — for the DSL and admins only, for the period asked.
//! (The checks made by the nightly command: `tests/canary.rs`. On paper: `tests/browser_review.rs`.)

mod common;

use std::time::Duration;

use common::{add_user, between, spawn_app_with, test_config, Browser, FixtureUpstream, TestApp};

const PASSWORD: &str = "plum tree under snow";
/// An ordinary question the gambling rule (`@money + @game`) refuses (tests/over_blocks.rs).
const OVER_BLOCKED: &str = "football players money";

async fn search(app: &TestApp, q: &str) -> String {
    let (_, body) = app.search_json(q, 1).await;
    body["status"].as_str().unwrap_or_default().to_string()
}

/// The month's row of the review's table, as its cells' text.
fn month_row(html: &str, month: &str) -> Vec<String> {
    let table = between(html, "<table class=\"review-months\">", "</table>").unwrap_or_else(|| panic!("the months table: {html}"));
    let row = table.split("<tr>").find(|r| r.contains(&format!("<td>{month}</td>"))).unwrap_or_else(|| panic!("no row for {month}: {table}"));
    row.split("<td").skip(1).map(|c| c[c.find('>').unwrap_or(0) + 1..].split("</td>").next().unwrap_or_default().to_string()).collect()
}

fn headers(html: &str) -> Vec<String> {
    let table = between(html, "<table class=\"review-months\">", "</tbody>").expect("the months table");
    table
        .split("<th")
        .skip(1)
        .filter(|c| c.starts_with('>') || c.starts_with(' '))
        .map(|c| c[c.find('>').unwrap_or(0) + 1..].split("</th>").next().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn the_review_counts_what_the_database_holds_for_the_period_and_only_leads_read_it() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let config = test_config(&upstream);
    assert_eq!(add_user(&config.data_dir, "teacher", "Mr Oak", PASSWORD).0, 0);
    assert_eq!(add_user(&config.data_dir, "dsl", "Ms Safe", PASSWORD).0, 0);
    assert_eq!(add_user(&config.data_dir, "admin", "Ms Ada", PASSWORD).0, 0);
    let app = spawn_app_with(config).await;

    // Three searches answered, two refused as sexual, one by the gambling rule.
    for q in ["volcanoes", "rainbows", "tadpoles"] {
        assert_eq!(search(&app, q).await, "ok", "{q}");
    }
    for q in ["free p0rn", "porn videos", OVER_BLOCKED] {
        assert_eq!(search(&app, q).await, "blocked", "{q}");
    }
    // A pupil presses "tell an adult" (an iPad's script: same-origin POST).
    let press = app
        .client
        .post(format!("{}/help", app.address))
        .header("origin", app.address.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("q=volcanoes&page=1")
        .send()
        .await
        .expect("press");
    assert!(press.status().is_success() || press.status().is_redirection(), "{}", press.status());

    let mut teacher = Browser::new(&app);
    assert_eq!(teacher.sign_in("Mr Oak", PASSWORD).await.status(), 303);
    assert_eq!(teacher.get("/staff/review").await.status(), 403, "not a teacher's page");
    assert!(!teacher.get("/staff").await.text().await.expect("page").contains("/staff/review"), "nor offered to one");
    // The teacher reports the gambling refusal; the admin makes it an exception.
    let csrf = teacher.csrf_from("/staff/activity").await;
    assert_eq!(teacher.post("/staff/over-blocks/report", &[("csrf", &csrf), ("q", OVER_BLOCKED)]).await.status(), 200);
    let mut admin = Browser::new(&app);
    assert_eq!(admin.sign_in("Ms Ada", PASSWORD).await.status(), 303);
    let page = admin.get("/staff/over-blocks").await.text().await.expect("page");
    let start = page.find("/staff/over-blocks/").expect("a report") + "/staff/over-blocks/".len();
    let id: String = page[start..].chars().take_while(char::is_ascii_digit).collect();
    let csrf = admin.csrf_from("/staff/over-blocks").await;
    assert_eq!(admin.post(&format!("/staff/over-blocks/{id}/exception"), &[("csrf", &csrf), ("phrase", OVER_BLOCKED)]).await.status(), 303);
    // The admin runs the filter self-test from the health page.
    let csrf = admin.csrf_from("/staff/health").await;
    let test = admin.post("/staff/health/filter-test", &[("csrf", &csrf)]).await.text().await.expect("page");
    assert!(test.contains("Every probe did as expected"), "{test}");

    // The DSL reviews one of the refusals.
    let mut dsl = Browser::new(&app);
    assert_eq!(dsl.sign_in("Ms Safe", PASSWORD).await.status(), 303);
    let register = dsl.get("/staff/incidents").await.text().await.expect("page");
    let start = register.find("href=\"/staff/incidents/").expect("an incident") + "href=\"/staff/incidents/".len();
    let incident: String = register[start..].chars().take_while(char::is_ascii_digit).collect();
    let csrf = dsl.csrf_from(&format!("/staff/incidents/{incident}")).await;
    assert_eq!(dsl.post(&format!("/staff/incidents/{incident}/review"), &[("csrf", &csrf), ("status", "reviewed"), ("notes", "")]).await.status(), 303);

    // Activity rows are written in batches a few milliseconds later.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let now = jiff::Zoned::now().with_time_zone(jiff::tz::TimeZone::get("Europe/London").expect("tz"));
    let this_month = now.strftime("%Y-%m").to_string();
    let review = dsl.get("/staff/review").await;
    let status = review.status();
    let html = review.text().await.expect("page");
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Annual filtering review") && html.contains("Prepared ") && html.contains("Ms Safe"), "{html}");
    // What is filtered: the engine with its lock, the lists, the exception with who made it.
    let engines = between(&html, "<h3>Search engines</h3>", "</table>").expect("engines");
    assert!(engines.contains("Bing") && engines.contains("adlt=strict") && engines.contains("cookie SRCHHPGUSR=ADLT=STRICT"), "{engines}");
    let lists = between(&html, "<h3>Categories refused</h3>", "<h3>").expect("lists");
    assert!(lists.contains("<td>sexual</td>") && lists.contains("<td>gambling</td>"), "{lists}");
    let exceptions = between(&html, "<h3>The school's own exceptions</h3>", "</table>").expect("exceptions");
    assert!(exceptions.contains(OVER_BLOCKED) && exceptions.contains("Ms Ada"), "{exceptions}");
    // What happened, this month: 6 searches asked (3 answered, 3 refused) by the activity log.
    let heads = headers(&html);
    let row = month_row(&html, &this_month);
    let cell = |name: &str| row[heads.iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name} column: {heads:?}"))].clone();
    assert_eq!(cell("Searches"), "6", "{heads:?} {row:?}");
    assert_eq!(cell("Refused: sexual"), "2", "{heads:?} {row:?}");
    assert_eq!(cell("Refused: gambling"), "1", "{heads:?} {row:?}");
    assert_eq!(cell("Presses"), "1", "{heads:?} {row:?}");
    let first_month = now.date().first_of_month().checked_sub(jiff::Span::new().months(11)).expect("a date").strftime("%Y-%m").to_string();
    assert_eq!(month_row(&html, &first_month).len(), heads.len(), "every month of the twelve has a row, from {first_month}");
    let incidents = between(&html, "<h3>Incidents</h3>", "</p>").expect("incidents");
    assert!(incidents.contains("3 not yet reviewed, 1 reviewed, 0 recorded"), "{incidents}");
    assert!(incidents.contains("Of the 1 reviewed, 1 were reviewed within a day"), "{incidents}");
    let over = between(&html, "should not have been refused</h3>", "</p>").expect("over-blocks");
    assert!(over.contains("1 reported: 1 made an exception, 0 dismissed, 0 still to decide"), "{over}");
    let checks = between(&html, "<h2>Checks made</h2>", "</table>").expect("checks");
    assert!(checks.contains("Filter self-test") && checks.contains("passed: ") && checks.contains("Ms Ada"), "{checks}");
    assert!(html.contains("kept 30 days") && html.contains("365 days"), "retention in force");

    // Another period counts only its own rows.
    let past = dsl.get("/staff/review?from=2020-01-01&to=2020-12-31").await.text().await.expect("page");
    assert!(past.contains("0 searches, 0 refused, 0 \u{201c}tell an adult\u{201d} presses"), "{past}");
    assert!(past.contains("No check was run in the period"), "{past}");
    assert_eq!(month_row(&past, "2020-12")[1], "0");
    // Dates that do not read say so and show the default twelve months.
    let bad = dsl.get("/staff/review?from=last%20year&to=2026-13-01").await.text().await.expect("page");
    assert!(bad.contains("The dates were not read") && bad.contains("YYYY-MM-DD"), "{bad}");
    assert_eq!(month_row(&bad, &this_month)[1], "6");
    // Admins read it too; signed out, nobody.
    assert_eq!(admin.get("/staff/review").await.status(), 200);
    let anonymous = Browser::new(&app).get("/staff/review").await;
    assert_eq!(anonymous.status(), 303, "to the sign-in page");
}
