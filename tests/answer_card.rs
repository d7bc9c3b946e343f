//! The answer card (issue 26, item 3), through the real server: a search naming a thing opens
//! with the Simple English Wikipedia lead and its picture (through the image path), with "Read
//! it to me"; no card for a disambiguation page, a missing article, a long question, later
//! pages, or a lead the term lists refuse. On a search a teacher approved, the card the
//! teacher saw (and did not hide) is frozen with it, picture and all: pupils get exactly that
//! card with no upstream request, after a restart and from another instance.

mod common;

use common::{add_user, spawn_app_with, test_config, Browser, FixtureUpstream, TestApp};

const PASSWORD: &str = "correct horse battery";

fn card_of(html: &str) -> Option<&str> {
    common::between(html, "<section class=\"answer\"", "</section>")
}

#[tokio::test]
async fn a_search_naming_a_thing_opens_with_its_picture_and_first_sentences() {
    let upstream = FixtureUpstream::start(&["simple_wikipedia", "brave_api"]).await;
    let app = spawn_app_with(test_config(&upstream)).await;
    let (status, html) = app.search_html("volcanoes").await;
    assert_eq!(status, 200);
    let card = card_of(&html).unwrap_or_else(|| panic!("an answer card: {html}"));
    assert!(card.contains("A volcano is a mountain that opens downward") && card.contains("lava, ash and gases come out."), "{card}");
    assert!(!card.contains("When pressure builds up"), "a sentence or two, not the whole extract: {card}");
    assert!(card.contains("data-say-card") && card.contains("Read it to me"), "read aloud: {card}");
    assert!(card.contains("href=\"/go?"), "the article through /go: {card}");
    assert!(card.contains("Tell an adult about this"), "the card can be reported like any result");
    let picture = common::between(card, "<img src=\"", "\"").expect("a picture").to_string();
    assert!(picture.starts_with("/img/"), "{picture}");
    let response = app.get(&picture).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert!(!html.contains("upload.wikimedia.org"), "no upstream picture URL in the page");
    assert!(html.find("<section class=\"answer\"").unwrap() < html.find("<ol class=\"results\"").unwrap(), "at the top");

    let (_, json) = app.search_json("volcanoes", 1).await;
    assert_eq!(json["card"]["title"], "Volcano");
    assert_eq!(json["card"]["url"], "https://simple.wikipedia.org/wiki/Volcano");
    let (_, page2) = app.search_json("volcanoes", 2).await;
    assert!(page2.get("card").is_none(), "page 1 only");
    let before = upstream.summaries("simple_wikipedia");
    app.search_html("Volcanoes").await;
    assert_eq!(upstream.summaries("simple_wikipedia"), before, "the lead is cached");
}

#[tokio::test]
async fn no_card_for_a_disambiguation_a_missing_article_a_question_or_a_refused_lead() {
    let upstream = FixtureUpstream::start(&["simple_wikipedia", "brave_api"]).await;
    let app = spawn_app_with(test_config(&upstream)).await;
    for query in ["mercury", "zebra crossings", "toy monsters"] {
        let (status, html) = app.search_html(query).await;
        assert_eq!(status, 200, "{query}");
        assert!(card_of(&html).is_none(), "{query}: no card: {html}");
    }
    assert_eq!(upstream.summaries("simple_wikipedia"), 3);
    let (_, html) = app.search_html("how do volcanoes erupt so high").await;
    assert!(card_of(&html).is_none());
    assert_eq!(upstream.summaries("simple_wikipedia"), 3, "a long question asks for no summary");
}

#[tokio::test]
async fn a_school_can_turn_answer_cards_off() {
    let upstream = FixtureUpstream::start(&["simple_wikipedia"]).await;
    let app = spawn_app_with(kidsearch::config::ServerConfig { answer_cards: false, ..test_config(&upstream) }).await;
    let (_, html) = app.search_html("volcanoes").await;
    assert!(card_of(&html).is_none());
    assert_eq!(upstream.summaries("simple_wikipedia"), 0);
}

/// The pre-run of "volcanoes" through Brave as a signed-in teacher: the page and its form.
async fn prerun_volcanoes(teacher: &mut Browser<'_>) -> String {
    let page = teacher.get("/staff/prerun?q=volcanoes&engine=brave_api&pages=1").await;
    assert_eq!(page.status(), 200);
    page.text().await.expect("page")
}

/// Approves the pre-run shown in `prerun`, ticking `hide`.
async fn approve_shown(teacher: &mut Browser<'_>, prerun: &str, hide: &[&str]) {
    let fields = [
        ("csrf", common::hidden_field(prerun, "csrf")),
        ("preview", common::hidden_field(prerun, "preview")),
        ("preview_sig", common::hidden_field(prerun, "preview_sig")),
    ];
    let mut form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    form.extend(hide.iter().map(|h| ("hide", *h)));
    assert_eq!(teacher.post("/staff/approvals", &form).await.status(), 303);
}

async fn signed_in_teacher(app: &TestApp) -> Browser<'_> {
    add_user(&app.data_dir, "teacher", "Ms Oak", PASSWORD);
    let mut teacher = Browser::new(app);
    assert_eq!(teacher.sign_in("Ms Oak", PASSWORD).await.status(), 303);
    teacher
}

#[tokio::test]
async fn an_approved_search_keeps_the_card_the_teacher_saw_with_no_upstream_call_even_on_a_fresh_instance() {
    let upstream = FixtureUpstream::start(&["simple_wikipedia", "brave_api"]).await;
    let config = test_config(&upstream);
    let app = spawn_app_with(config.clone()).await;
    let mut teacher = signed_in_teacher(&app).await;

    let prerun = prerun_volcanoes(&mut teacher).await;
    let card = card_of(&prerun).unwrap_or_else(|| panic!("the teacher sees the card pupils would get: {prerun}"));
    assert!(card.contains("A volcano is a mountain that opens downward"), "{card}");
    assert!(card.contains("name=\"hide\" value=\"https://simple.wikipedia.org/wiki/Volcano\""), "the card can be hidden like a result: {card}");
    let picture = common::between(card, "<img src=\"", "\"").expect("the card's picture").to_string();
    assert!(picture.starts_with("/img/"), "{picture}");
    // The teacher's browser loads it, as the pre-run page asks it to.
    assert_eq!(app.get(&picture).await.status(), 200);
    approve_shown(&mut teacher, &prerun, &[]).await;
    let stored = common::db_rows(&app.data_dir, "SELECT card FROM approvals", vec![]).await;
    assert!(stored[0][0].as_deref().is_some_and(|c| c.contains("A volcano is a mountain")), "the card is stored with the approval: {stored:?}");

    let (summaries, pictures, searches) = (upstream.summaries("simple_wikipedia"), upstream.pictures.total_requests(), upstream.searches("brave_api"));
    // A fresh instance on the same database: nothing in its memory (as after a restart).
    let fresh = spawn_app_with(config).await;
    for instance in [&app, &fresh] {
        let (status, html) = instance.search_html("volcanoes").await;
        assert_eq!(status, 200);
        let shown = card_of(&html).unwrap_or_else(|| panic!("the frozen card: {html}"));
        assert!(shown.contains("A volcano is a mountain that opens downward") && shown.contains("Read it to me"), "{shown}");
        assert!(shown.contains("href=\"/go?") && shown.contains("Tell an adult about this"), "{shown}");
        assert_eq!(common::between(shown, "<img src=\"", "\""), Some(picture.as_str()), "exactly the picture the teacher saw");
        let response = instance.get(&picture).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "image/jpeg");
        let (_, json) = instance.search_json("volcanoes", 1).await;
        assert_eq!((json["approved"].as_bool(), json["card"]["title"].as_str()), (Some(true), Some("Volcano")), "{json}");
        assert_eq!(json["card"]["picture"].as_str(), Some(picture.as_str()));
    }
    assert_eq!(upstream.summaries("simple_wikipedia"), summaries, "no summary asked for at pupil time");
    assert_eq!(upstream.pictures.total_requests(), pictures, "no picture fetched upstream");
    assert_eq!(upstream.searches("brave_api"), searches, "nor the search");
}

#[tokio::test]
async fn a_card_the_teacher_hid_is_not_frozen_and_pupils_get_none() {
    let upstream = FixtureUpstream::start(&["simple_wikipedia", "brave_api"]).await;
    let app = spawn_app_with(test_config(&upstream)).await;
    let mut teacher = signed_in_teacher(&app).await;
    let prerun = prerun_volcanoes(&mut teacher).await;
    let card = card_of(&prerun).expect("a card");
    let picture = common::between(card, "<img src=\"", "\"").expect("picture").to_string();
    // Every result's tick, and the card's.
    let results = prerun.matches("name=\"hide\"").count() - 1;
    approve_shown(&mut teacher, &prerun, &["https://simple.wikipedia.org/wiki/Volcano"]).await;
    let stored = common::db_rows(&app.data_dir, "SELECT card FROM approvals", vec![]).await;
    assert_eq!(stored[0][0], None, "a hidden card is not stored");
    let token = picture.rsplit('/').next().expect("token").to_string();
    let frozen = common::db_rows(&app.data_dir, "SELECT COUNT(*) FROM approval_pictures WHERE token = ?1", vec![token.into()]).await;
    assert_eq!(frozen[0][0].as_deref(), Some("0"), "nor its picture");

    let summaries = upstream.summaries("simple_wikipedia");
    let (_, html) = app.search_html("volcanoes").await;
    assert!(card_of(&html).is_none(), "pupils get no card: {html}");
    assert!(!html.contains(&picture));
    let (_, json) = app.search_json("volcanoes", 1).await;
    assert_eq!(json["approved"], true);
    // Hiding names the page: Brave's result for the same article goes with the card, and
    // every other result is there.
    let urls: Vec<&str> = json["results"].as_array().expect("results").iter().filter_map(|r| r["url"].as_str()).collect();
    assert!(!urls.contains(&"https://simple.wikipedia.org/wiki/Volcano"), "{urls:?}");
    assert_eq!(urls.len(), results - 1, "{urls:?}");
    assert!(json.get("card").is_none(), "{json}");
    assert_eq!(upstream.summaries("simple_wikipedia"), summaries, "and no summary is fetched instead");
}
