//! Property tests: no upstream answer and no pupil input can make the gateway panic, and
//! whatever comes out of a parser is plain text with a web link.

mod common;

use common::FixtureUpstream;
use kidsearch::engines::budget::ReadBudget;
use kidsearch::engines::html::strip_html;
use kidsearch::engines::text::tidy;
use kidsearch::query::Query;
use kidsearch::settings::Settings;
use proptest::prelude::*;

fn settings() -> &'static Settings {
    common::shipped_settings()
}

/// HTML-ish text: tags, attributes, entities and the engines' own class names, mixed at random.
fn htmlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<div class=\"web-result\">".to_string()),
        Just("<li class=\"b_algo\"><h2><a href=\"".to_string()),
        Just("<a class=\"result__a\" href=\"//duckduckgo.com/l/?uddg=".to_string()),
        Just("\">".to_string()),
        Just("</a></h2>".to_string()),
        Just("<ol id=\"b_results\">".to_string()),
        Just("<div id=\"links\">".to_string()),
        Just("&amp;&lt;&#x0;&#99999999;".to_string()),
        Just("javascript:alert(1)".to_string()),
        Just("https://kids.example/a?b=c".to_string()),
        Just("{\"results\":[{\"unescapedUrl\":".to_string()),
        Just("\"titleNoFormatting\":\"x\"}".to_string()),
        ".{0,20}".prop_map(|s| s),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn no_engine_parser_panics_on_arbitrary_html(body in htmlish()) {
        for engine in settings().engines.all() {
            if let Ok(page) = engine.parse(&body, &engine.request.url) {
                for r in page.results {
                    prop_assert!(matches!(r.url.scheme(), "http" | "https"));
                    prop_assert!(!r.title.is_empty());
                }
            }
        }
    }

    #[test]
    fn no_engine_parser_panics_on_arbitrary_bytes(body in ".{0,400}") {
        for engine in settings().engines.all() {
            let _ = engine.parse(&body, &engine.request.url);
        }
    }

    #[test]
    fn mangled_real_pages_never_panic(cut in 0usize..30_000, engine_index in 0usize..14) {
        let ids = ["kiddle", "kidrex", "swiggle", "duckduckgo", "bing", "mojeek", "simple_wikipedia", "brave_api", "google_cse_api", "google", "yahoo", "openverse", "google_cse_images", "bing_images"];
        let id = ids[engine_index];
        let page = FixtureUpstream::file(id, "results");
        let cut = page.char_indices().map(|(i, _)| i).take_while(|i| *i <= cut).last().unwrap_or(0);
        let engine = settings().engines.get(id).expect("engine");
        let _ = engine.parse(&page[..cut], &engine.request.url);
    }

    /// Issue 21 (8c): an answer is read as it arrives, in whatever pieces the connection gives,
    /// cut anywhere (inside a tag, an entity, a UTF-8 sequence or a bot check's words). It must
    /// read as the whole page does: the same results, the same carried values, the same failure.
    #[test]
    fn a_page_read_in_pieces_cut_anywhere_reads_as_the_whole_page(
        engine_index in 0usize..5,
        name_index in 0usize..4,
        cuts in prop::collection::vec(0usize..40_000, 0..12),
    ) {
        let id = ["duckduckgo", "bing", "mojeek", "google", "yahoo"][engine_index];
        let page = FixtureUpstream::file(id, ["results", "empty", "blocked", "page2"][name_index]);
        let engine = settings().engines.get(id).expect("engine");
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (page.len() + 1)).collect();
        cuts.sort_unstable();
        let bytes = page.as_bytes();
        let pieces: Vec<&[u8]> = std::iter::once(0).chain(cuts.iter().copied()).zip(cuts.iter().copied().chain(std::iter::once(bytes.len()))).map(|(a, b)| &bytes[a..b]).collect();
        let whole = engine.parse(&page, &engine.request.url).map(|p| (p.results, p.carried));
        let in_pieces = engine.parse_stream(pieces.into_iter().map(Ok), &engine.request.url, ReadBudget::page()).map(|p| (p.results, p.carried));
        prop_assert_eq!(in_pieces, whole);
    }

    #[test]
    fn query_parsing_never_panics_and_is_idempotent(raw in "\\PC{0,150}") {
        if let Ok(q) = Query::parse(&raw) {
            let again = Query::parse(q.as_str()).expect("reparse");
            prop_assert_eq!(again.as_str(), q.as_str());
        }
    }

    #[test]
    fn tidy_and_strip_html_are_idempotent(raw in ".{0,200}") {
        let once = tidy(&raw, 100);
        prop_assert_eq!(tidy(&once, 101), once.clone());
        let stripped = strip_html(&raw, 100);
        prop_assert!(!stripped.contains('\n'));
    }
}
