//! Property tests for the query policy: normalisation is stable, nothing panics, and the tricks
//! pupils use (zero-width characters, case, look-alike letters, a held key, the whole query
//! glued or spaced out) never turn a refused query into an allowed one.

mod common;

use common::repo_dir;
use kidsearch::policy::normalise::{fold, fold_native, normalise};
use kidsearch::settings::Settings;
use proptest::prelude::*;

fn settings() -> &'static Settings {
    common::shipped_settings()
}

/// Harmful queries from the table, in their plainest (ASCII) form.
fn harmful() -> Vec<String> {
    let text = std::fs::read_to_string(repo_dir().join("tests/fixtures/policy/queries.tsv")).expect("queries.tsv");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.splitn(3, '\t').collect();
            (cols.len() == 3 && cols[0] == "block" && cols[2].chars().all(|c| c.is_ascii_alphabetic() || c == ' ')).then(|| cols[2].to_string())
        })
        .collect()
}

/// Look-alike letters from Cyrillic and Greek for Latin ones: each is a confusable of its Latin
/// letter under Unicode UTS #39 (checked in `the_look_alikes_are_unicode_confusables`).
const LOOK_ALIKES: &[(char, char)] = &[
    ('a', 'а'),
    ('e', 'е'),
    ('o', 'о'),
    ('p', 'р'),
    ('c', 'с'),
    ('x', 'х'),
    ('y', 'у'),
    ('i', 'і'),
    ('s', 'ѕ'),
    ('o', 'ο'),
    ('v', 'ν'),
    ('h', 'һ'),
    ('j', 'ј'),
];

fn confusable(c: char) -> Option<char> {
    LOOK_ALIKES.iter().find(|(latin, _)| *latin == c).map(|(_, other)| *other)
}

#[test]
fn the_look_alikes_are_unicode_confusables() {
    for (latin, other) in LOOK_ALIKES {
        let skeleton: String = unicode_security::confusable_detection::skeleton(&other.to_string()).collect();
        assert_eq!(skeleton, latin.to_string(), "{other:?}");
    }
}

#[derive(Debug, Clone)]
enum Trick {
    ZeroWidth(usize),
    Upper(usize),
    Confusable(usize),
    FullWidth(usize),
}

fn apply(query: &str, tricks: &[Trick]) -> String {
    let mut chars: Vec<char> = query.chars().collect();
    for t in tricks {
        let n = chars.len().max(1);
        match *t {
            Trick::ZeroWidth(i) => chars.insert(i % (n + 1).min(chars.len() + 1), '\u{200B}'),
            Trick::Upper(i) => chars[i % n] = chars[i % n].to_ascii_uppercase(),
            Trick::Confusable(i) => {
                if let Some(c) = confusable(chars[i % n].to_ascii_lowercase()) {
                    chars[i % n] = c;
                }
            }
            Trick::FullWidth(i) => {
                let c = chars[i % n];
                if c.is_ascii_alphabetic() {
                    chars[i % n] = char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c);
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// Whole-query disguises: every letter spaced out (with the word gaps kept or not), or the
/// words glued together, as "h o w  t o  m a k e  a  b o m b" and "howtomakeabomb".
fn whole_query(query: &str, how: u8) -> String {
    match how % 3 {
        0 => query.split_whitespace().collect(),
        1 => query.chars().filter(|c| !c.is_whitespace()).map(String::from).collect::<Vec<_>>().join(" "),
        _ => query.split_whitespace().map(|w| w.chars().map(String::from).collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("  "),
    }
}

/// Every refused query of the table stays refused glued or spaced out, in all three ways.
#[test]
fn gluing_or_spacing_out_a_refused_query_never_allows_it() {
    let terms = &settings().policy.terms;
    let mut allowed = Vec::new();
    for base in harmful().iter().filter(|q| terms.check_query(q).is_some()) {
        for how in 0..3 {
            let disguised = whole_query(base, how);
            if terms.check_query(&disguised).is_none() {
                allowed.push(format!("{disguised:?} (from {base:?})"));
            }
        }
    }
    assert!(allowed.is_empty(), "allowed: {allowed:#?}");
}

fn trick() -> impl Strategy<Value = Trick> {
    prop_oneof![
        any::<usize>().prop_map(Trick::ZeroWidth),
        any::<usize>().prop_map(Trick::Upper),
        any::<usize>().prop_map(Trick::Confusable),
        any::<usize>().prop_map(Trick::FullWidth)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// The block lists' fast path for plain domains (`is_plain_domain`) only ever accepts what
    /// the full WHATWG host parse would give back unchanged; everything else takes the full parse.
    #[test]
    fn the_plain_domain_fast_path_agrees_with_the_full_host_parse(s in "([a-z0-9-]{0,6}|xn--[a-z0-9]{1,6}|0x[0-9a-f]{1,3}|[0-9]{1,3})(\\.([a-z0-9-]{0,6}|xn--[a-z0-9]{1,6}|0x[0-9a-f]{1,3}|[0-9]{1,3}|[A-Za-z\u{e9}\u{df}]{1,3})){0,4}") {
        use kidsearch::policy::domains::is_plain_domain;
        if is_plain_domain(&s) {
            match url::Host::parse(&s) {
                Ok(url::Host::Domain(d)) => prop_assert_eq!(d, s),
                other => prop_assert!(false, "{s:?} was taken as plain but parses as {other:?}"),
            }
        }
    }

    #[test]
    fn folding_is_idempotent(s in "\\PC{0,60}") {
        let once = fold(&s);
        prop_assert_eq!(fold(&once), once);
    }

    #[test]
    fn folding_in_native_scripts_is_idempotent(s in "\\PC{0,60}") {
        let once = fold_native(&s);
        prop_assert_eq!(fold_native(&once), once);
    }

    #[test]
    fn no_input_panics_the_matcher(s in "\\PC{0,200}") {
        let _ = normalise(&s);
        let _ = settings().policy.terms.check(&s);
        let _ = settings().policy.terms.check_query(&s);
    }

    #[test]
    fn tricks_never_turn_a_refused_query_into_an_allowed_one(index in any::<usize>(), tricks in prop::collection::vec(trick(), 1..6)) {
        let queries = harmful();
        prop_assume!(!queries.is_empty());
        let base = &queries[index % queries.len()];
        let terms = &settings().policy.terms;
        prop_assert!(terms.check(base).is_some(), "base {:?} must be refused", base);
        let tricked = apply(base, &tricks);
        prop_assert!(terms.check(&tricked).is_some(), "{:?} (from {:?}) was allowed", tricked, base);
    }

    /// The whole-query disguises with letter tricks on top (`Ｈ o w t o…`, `howtоmakeabomb`).
    #[test]
    fn tricks_on_a_glued_or_spaced_query_never_allow_it(index in any::<usize>(), how in 0u8..3, tricks in prop::collection::vec(trick(), 0..4)) {
        let queries = harmful();
        prop_assume!(!queries.is_empty());
        let base = &queries[index % queries.len()];
        let terms = &settings().policy.terms;
        prop_assume!(terms.check_query(base).is_some());
        let disguised = apply(&whole_query(base, how), &tricks);
        prop_assert!(terms.check_query(&disguised).is_some(), "{:?} (from {:?}) was allowed", disguised, base);
    }

    /// Holding a key down (`pooorn`) is the stretch the matcher looks for; the matcher only
    /// looks closer at words with a letter three times in a row, so this guards that shortcut.
    #[test]
    fn holding_a_letter_never_turns_a_refused_query_into_an_allowed_one(index in any::<usize>(), at in any::<usize>(), extra in 2usize..5) {
        let queries = harmful();
        prop_assume!(!queries.is_empty());
        let base = &queries[index % queries.len()];
        let letters: Vec<(usize, char)> = base.char_indices().filter(|(_, c)| c.is_ascii_alphabetic()).collect();
        prop_assume!(!letters.is_empty());
        let (i, c) = letters[at % letters.len()];
        let held = format!("{}{}{}", &base[..i], c.to_string().repeat(extra), &base[i..]);
        prop_assert!(settings().policy.terms.check(&held).is_some(), "{:?} (from {:?}) was allowed", held, base);
    }
}
