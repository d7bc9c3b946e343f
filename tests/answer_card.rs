//! The answer card (issue 26, item 3), through the real server: a search naming a thing opens
//! with the Simple English Wikipedia lead and its picture (through the image path), with "Read
//! it to me"; no card for a disambiguation page, a missing article, a long question, later
//! pages, or a lead the term lists refuse.

mod common;

use common::{spawn_app_with, test_config, FixtureUpstream};

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
