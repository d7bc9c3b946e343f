//! The streaming HTML reader (`engines::html`, lol_html) against a reference reader that builds
//! the whole document tree (scraper, html5ever) and selects in it: the same results, links,
//! snippets, carried values and verdicts on every shipped engine's fixture pages and on
//! generated well-formed pages with selector lists, nested results, ads, stripped elements and
//! entities; and the same text from JSON engines' HTML snippets (`strip_html`).
//!
//! On malformed markup the two may differ where html5ever closes elements that lol_html keeps
//! open; `parser_props.rs` holds the streaming reader to "never panics, plain text out" there.

mod common;

use kidsearch::engines::html::strip_html;
use kidsearch::engines::html::{HtmlParser, HtmlSelectors, THUMBNAIL_ATTRIBUTES};
use kidsearch::engines::text::{safe_link, tidy, MAX_SNIPPET_CHARS, MAX_TITLE_CHARS};
use kidsearch::engines::unwrap::unwrap_link;
use kidsearch::engines::{EngineError, EnginePage, RawResult};
use proptest::prelude::*;
use scraper::{ElementRef, Html, Selector};
use url::Url;

/// The reader as it was before the streaming one: the tree, then selectors in it.
fn tree_read(p: &HtmlParser, body: &str, page_url: &Url) -> Result<EnginePage, EngineError> {
    let s = &p.selectors;
    let sel = |text: &str| Selector::parse(text).expect("the reference reader parses every shipped selector");
    let opt = |text: &Option<String>| text.as_deref().map(sel);
    if p.blocked_text.iter().any(|t| body.contains(t.as_str())) {
        return Err(EngineError::Blocked);
    }
    let doc = Html::parse_document(body);
    if opt(&s.blocked).is_some_and(|b| doc.select(&b).next().is_some()) {
        return Err(EngineError::Blocked);
    }
    let (result, title, link, snippet, skip, strip) = (sel(&s.result), sel(&s.title), sel(&s.link), opt(&s.snippet), opt(&s.skip), opt(&s.strip));
    let thumbnail = opt(&s.thumbnail);
    let text_of = |element: ElementRef<'_>| -> String {
        let mut out = String::new();
        for node in element.descendants() {
            if let Some(text) = node.value().as_text() {
                let stripped = strip
                    .as_ref()
                    .is_some_and(|strip| node.ancestors().take_while(|a| a.id() != element.id()).filter_map(ElementRef::wrap).any(|a| strip.matches(&a)));
                if !stripped {
                    out.push_str(text);
                }
            }
        }
        out
    };
    let (mut matched, mut results, mut seen) = (0, Vec::new(), Vec::new());
    for element in doc.select(&result).take(50) {
        if element.ancestors().any(|a| seen.contains(&a.id())) {
            continue;
        }
        seen.push(element.id());
        matched += 1;
        if skip.as_ref().is_some_and(|skip| skip.matches(&element) || element.select(skip).next().is_some()) {
            continue;
        }
        let read = || -> Option<RawResult> {
            let title = tidy(&text_of(element.select(&title).next()?), MAX_TITLE_CHARS);
            // The link's attribute: `href`, or one holding JSON (Bing images' `m`), read by
            // the same pointers.
            let attr = p.link_json.as_ref().map_or("href", |j| j.attr.as_str());
            let value = element.select(&link).find_map(|a| a.value().attr(attr))?;
            let (href, json_thumbnail) = match &p.link_json {
                Some(json) => json.read(value)?,
                None => (value.to_string(), None),
            };
            let url = unwrap_link(safe_link(&href, page_url)?, &p.unwrap)?;
            let snippet = snippet.as_ref().and_then(|s| element.select(s).next()).map(|el| tidy(&text_of(el), MAX_SNIPPET_CHARS)).unwrap_or_default();
            // Bing images' picture comes with its link; otherwise the first thumbnail element
            // with a web address in one of its attributes.
            let thumbnail = json_thumbnail.or_else(|| {
                thumbnail
                    .as_ref()
                    .and_then(|t| element.select(t).find_map(|img| THUMBNAIL_ATTRIBUTES.iter().find_map(|a| safe_link(img.value().attr(a)?, page_url))))
            });
            (!title.is_empty()).then_some(RawResult { title, url, snippet, thumbnail })
        };
        results.extend(read());
    }
    if matched == 0 && opt(&s.no_results).is_none_or(|n| doc.select(&n).next().is_none()) {
        return Err(EngineError::Unparseable("no results".into()));
    }
    let carried =
        s.carry.iter().filter_map(|(name, selector)| Some((name.clone(), doc.select(&sel(selector)).next()?.value().attr("value")?.to_string()))).collect();
    Ok(EnginePage { results, carried, refused: Vec::new() })
}

/// Same results and carried values, or the same kind of refusal.
fn assert_agree(p: &HtmlParser, body: &str, page_url: &Url, what: &str) {
    let (stream, tree) = (p.parse(body, page_url), tree_read(p, body, page_url));
    match (&stream, &tree) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.results, b.results, "{what}: results differ\n{body}");
            assert_eq!(a.carried, b.carried, "{what}: carried values differ");
        }
        (Err(EngineError::Blocked), Err(EngineError::Blocked)) | (Err(EngineError::Unparseable(_)), Err(EngineError::Unparseable(_))) => {}
        _ => panic!("{what}: the streaming reader gave {stream:?}, the tree {tree:?}\n{body}"),
    }
}

#[test]
fn the_streaming_reader_reads_every_shipped_fixture_page_as_the_tree_does() {
    let mut pages = 0;
    for engine in common::shipped_settings().engines.all() {
        let kidsearch::engines::Parser::Html(parser) = &engine.parser else { continue };
        let dir = common::repo_dir().join("tests/fixtures").join(&engine.id);
        for file in ["results.html", "page2.html", "empty.html", "blocked.html"] {
            let Ok(body) = std::fs::read_to_string(dir.join(file)) else { continue };
            assert_agree(parser, &body, &engine.request.url, &format!("{} {file}", engine.id));
            pages += 1;
        }
    }
    assert!(pages >= 20, "only {pages} fixture pages were compared");
}

/// A synthetic engine using every selector feature the shipped ones use, and selector lists.
fn synthetic() -> HtmlParser {
    let selectors = HtmlSelectors {
        result: "div#main div.g, div#main div.r".into(),
        skip: Some(".ad, span[data-ad]".into()),
        title: "h3 > a".into(),
        link: "h3 > a, a.alt".into(),
        snippet: Some("p.s, div.s".into()),
        no_results: Some("div.none".into()),
        blocked: Some("form#captcha".into()),
        carry: vec![("vqd".into(), "input[name=vqd]".into())],
        strip: Some("span.icon".into()),
        thumbnail: Some("img.t, div.pic span[data-src]".into()),
    };
    HtmlParser::new(selectors, vec!["unusual traffic".into()], Vec::new()).expect("synthetic selectors compile")
}

/// Text with entities, markup inside, stripped icons and odd spacing.
fn words() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("Volcanoes".to_string()),
        Just("&amp;".to_string()),
        Just("&lt;b&gt;".to_string()),
        Just("&eacute;t&eacute;".to_string()),
        Just("&#x1F30B;".to_string()),
        Just("&nbsp;".to_string()),
        Just(" \n ".to_string()),
        Just("<b>lava</b>".to_string()),
        Just("<span class=\"icon\">WEB</span>".to_string()),
        Just("<span class=\"icon\">A<b>B</b></span>".to_string()),
        "[a-z]{1,8}",
    ];
    prop::collection::vec(piece, 0..6).prop_map(|v| v.concat())
}

fn href() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("https://kids.example/a?b=1&amp;c=2".to_string()),
        Just("/relative/page".to_string()),
        Just("javascript:alert(1)".to_string()),
        Just("https://kids.example/caf&eacute;".to_string()),
        "https://[a-z]{1,6}\\.example/[a-z]{0,5}",
    ]
}

/// A picture element: the thumbnail selector's or a look-alike, its address in data-src, src,
/// both, or neither (a placeholder, a relative or a script address).
fn thumbnail() -> impl Strategy<Value = String> {
    let address = prop_oneof![
        Just("https://th.example/th?id=1&amp;w=192".to_string()),
        Just("data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP".to_string()),
        Just("/th?id=2".to_string()),
        Just("javascript:alert(1)".to_string()),
        "https://[a-z]{1,6}\\.example/[a-z]{0,5}\\.jpg",
    ];
    (
        prop_oneof![Just("img class=\"t\""), Just("img class=\"u\""), Just("span")],
        proptest::option::of(address.clone()),
        proptest::option::of(address),
        any::<bool>(),
    )
        .prop_map(|(tag, data_src, src, in_pic)| {
            let mut el = format!("<{tag}");
            if let Some(a) = data_src {
                el.push_str(&format!(" data-src=\"{a}\""));
            }
            if let Some(a) = src {
                el.push_str(&format!(" src=\"{a}\""));
            }
            el.push_str(if tag == "span" { "></span>" } else { ">" });
            if in_pic {
                format!("<div class=\"pic\">{el}</div>")
            } else {
                el
            }
        })
}

/// One result block (maybe an ad, maybe with a result nested inside it).
fn result_block() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("g"), Just("r"), Just("g ad"), Just("x")],
        proptest::option::of((words(), href())),
        proptest::option::of(href()),
        proptest::option::of(words()),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(words()),
        prop::collection::vec(thumbnail(), 0..3),
    )
        .prop_map(|(class, title, alt, snippet, ad_label, nested, second_title, thumbnails)| {
            let mut out = format!("<div class=\"{class}\">");
            if nested {
                out.push_str("<div class=\"r\"><h3><a href=\"https://inner.example/\">Inner</a></h3></div>");
            }
            if let Some((text, href)) = title {
                out.push_str(&format!("<h3><a href=\"{href}\">{text}</a></h3>"));
            }
            if let Some(alt) = alt {
                out.push_str(&format!("<a class=\"alt\" href=\"{alt}\">more</a>"));
            }
            if let Some(text) = second_title {
                out.push_str(&format!("<h3><a href=\"https://second.example/\">{text}</a></h3>"));
            }
            if let Some(text) = snippet {
                out.push_str(&format!("<p class=\"s\">{text}</p><div class=\"s\">second snippet</div>"));
            }
            if ad_label {
                out.push_str("<span data-ad=\"1\">Sponsored</span>");
            }
            out.push_str(&thumbnails.concat());
            out.push_str("</div>");
            out
        })
}

fn page() -> impl Strategy<Value = String> {
    (prop::collection::vec(result_block(), 0..8), any::<bool>(), any::<bool>(), any::<bool>(), proptest::option::of("[a-z0-9-]{1,10}")).prop_map(
        |(blocks, outside_first, none_marker, captcha, vqd)| {
            let mut out = String::from("<!DOCTYPE html><html><head><title>r</title><script>var x = '<div class=\"g\">';</script></head><body>");
            if outside_first {
                // Results only count inside div#main.
                out.push_str("<div class=\"g\"><h3><a href=\"https://outside.example/\">Outside</a></h3></div>");
            }
            out.push_str("<div id=\"main\">");
            out.push_str(&blocks.concat());
            out.push_str("</div>");
            if none_marker {
                out.push_str("<div class=\"none\">No results</div>");
            }
            if captcha {
                out.push_str("<form id=\"captcha\"></form>");
            }
            if let Some(vqd) = vqd {
                out.push_str(&format!("<form><input type=\"hidden\" name=\"vqd\" value=\"{vqd}&amp;x\"></form>"));
            }
            out.push_str("</body></html>");
            out
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn the_streaming_reader_reads_generated_pages_as_the_tree_does(body in page()) {
        let parser = synthetic();
        assert_agree(&parser, &body, &Url::parse("https://engine.example/search").expect("a URL"), "generated page");
    }

    #[test]
    fn snippet_fragments_read_as_the_tree_reads_them(fragment in words()) {
        let tree = Html::parse_fragment(&fragment).root_element().text().collect::<String>();
        prop_assert_eq!(strip_html(&fragment, 400), tidy(&tree, 400));
    }
}
