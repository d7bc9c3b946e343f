//! Spelling help for children who cannot spell yet: "Did you mean *dinosaur*?".
//!
//! Suggestions come only from a child-vocabulary word list shipped in
//! `allowlist/vocabulary/words.txt` (earlier words win ties) plus the words of today's
//! approved searches, and the caller passes every suggestion through the safety policy before
//! showing it — a misspelling is never "corrected" into something a child should not see. The
//! vocabulary is small, so a word missing from it may still be right: the caller puts back
//! every word the results use (`keep_real_words`).

use std::collections::HashSet;

/// A word list, with the words that are already right.
#[derive(Debug, Default)]
pub struct Vocabulary {
    /// In file order: earlier words are more common and win ties.
    words: Vec<String>,
    known: HashSet<String>,
}

/// How far a word may be from a suggestion: one edit for short words, two for longer ones.
fn allowed_distance(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=5 => 1,
        _ => 2,
    }
}

impl Vocabulary {
    /// Reads the list: one lower-case word per line; `#` comments and blank lines ignored.
    pub fn parse(text: &str) -> Vocabulary {
        let mut v = Vocabulary::default();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            v.add(line);
        }
        v
    }

    pub fn add(&mut self, word: &str) {
        let word = word.to_lowercase();
        if !word.is_empty() && word.chars().all(char::is_alphabetic) && self.known.insert(word.clone()) {
            self.words.push(word);
        }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn contains(&self, word: &str) -> bool {
        self.known.contains(word)
    }

    /// The closest word for `word` (lower case), if one is near enough and `word` is unknown.
    fn closest(&self, word: &str, extra: &Vocabulary) -> Option<String> {
        if self.contains(word) || extra.contains(word) || !word.chars().all(char::is_alphabetic) {
            return None;
        }
        let limit = allowed_distance(word.chars().count());
        if limit == 0 {
            return None;
        }
        let mut best: Option<(usize, &str)> = None;
        // Today's approved words first: they are what the class is searching for.
        for candidate in extra.words.iter().chain(&self.words) {
            let len_gap = candidate.chars().count().abs_diff(word.chars().count());
            if len_gap > limit {
                continue;
            }
            let d = strsim::damerau_levenshtein(word, candidate);
            if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, candidate));
                if d == 1 {
                    break;
                }
            }
        }
        best.map(|(_, w)| w.to_string())
    }

    /// The query with each misspelt word replaced, if any was; `None` when nothing changed.
    pub fn suggest(&self, query: &str, extra: &Vocabulary) -> Option<String> {
        let mut changed = false;
        let words: Vec<String> = query
            .split_whitespace()
            .map(|w| {
                let lower = w.to_lowercase();
                match self.closest(&lower, extra) {
                    Some(better) => {
                        changed = true;
                        better
                    }
                    None => w.to_string(),
                }
            })
            .collect();
        changed.then(|| words.join(" "))
    }
}

/// The suggestion with every word it changed put back where the pupil's word is a real word
/// after all: one `in_results` says the engines' results use (the child vocabulary is small, so
/// "volcanic ground" would otherwise become "volcano proud"). `None` when nothing is left to
/// suggest.
pub fn keep_real_words(query: &str, suggestion: &str, in_results: impl Fn(&str) -> bool) -> Option<String> {
    let mut changed = false;
    let words: Vec<&str> = query
        .split_whitespace()
        .zip(suggestion.split_whitespace())
        .map(|(typed, suggested)| {
            if typed.eq_ignore_ascii_case(suggested) || in_results(&typed.to_lowercase()) {
                typed
            } else {
                changed = true;
                suggested
            }
        })
        .collect();
    changed.then(|| words.join(" "))
}

/// The lower-case words of some texts (results' titles and snippets), for `keep_real_words`.
pub fn words_of<'a>(texts: impl IntoIterator<Item = &'a str>) -> HashSet<String> {
    texts.into_iter().flat_map(|t| t.split(|c: char| !c.is_alphabetic())).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// The list compiled into the binary, used when `allowlist/vocabulary/words.txt` is missing.
pub const BUILT_IN: &str = include_str!("../allowlist/vocabulary/words.txt");

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        Vocabulary::parse("# comment\ndinosaurs\ndinosaur\nvolcanoes\nbutterfly\nrainbows\nsharks\nsun\n")
    }

    #[test]
    fn misspellings_become_the_nearest_common_word() {
        let v = vocab();
        let none = Vocabulary::default();
        assert_eq!(v.suggest("dinasour", &none).as_deref(), Some("dinosaur"));
        assert_eq!(v.suggest("volcanos", &none).as_deref(), Some("volcanoes"));
        assert_eq!(v.suggest("butterfyl", &none).as_deref(), Some("butterfly"));
        assert_eq!(v.suggest("big sharcs", &none).as_deref(), Some("big sharks"));
    }

    #[test]
    fn words_the_results_use_are_not_corrected() {
        let results = words_of(["Volcanic ground: where lava flows", "The ground shakes"]);
        let real = |w: &str| results.contains(w);
        assert_eq!(keep_real_words("volcanic ground", "volcano proud", real), None, "both are real words");
        assert_eq!(keep_real_words("dinosors ground", "dinosaurs proud", real).as_deref(), Some("dinosaurs ground"));
        assert_eq!(keep_real_words("Dinosors", "dinosaurs", real).as_deref(), Some("dinosaurs"));
    }

    #[test]
    fn right_words_short_words_and_far_words_are_left_alone() {
        let v = vocab();
        let none = Vocabulary::default();
        assert_eq!(v.suggest("dinosaurs", &none), None);
        assert_eq!(v.suggest("snu", &none), None, "three-letter words are not guessed at");
        assert_eq!(v.suggest("sunn", &none).as_deref(), Some("sun"));
        assert_eq!(v.suggest("xylophone", &none), None, "nothing near enough");
    }

    #[test]
    fn todays_approved_words_are_suggested_too() {
        let v = vocab();
        let mut today = Vocabulary::default();
        today.add("hedgehogs");
        assert_eq!(v.suggest("hedgehoggs", &today).as_deref(), Some("hedgehogs"));
    }

    #[test]
    fn the_shipped_list_loads() {
        let v = Vocabulary::parse(BUILT_IN);
        assert!(v.len() > 500, "{} words", v.len());
        assert!(v.contains("dinosaurs") && v.contains("volcanoes"));
    }
}
