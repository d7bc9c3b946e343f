//! Reading a glued query as words: "howtomakeabomb" → how to make a bomb, "buydrugsonline" →
//! buy drugs online. Pupils glue words together (or space out every letter, which
//! `normalise` collapses into the same glued run), and whole-word entries and intent rules
//! never see a word inside a run. This is a small word-break over known words only — the
//! child vocabulary, the lists' own words and the exceptions — so a run is read as words
//! only when every letter of it belongs to one; "scunthorpe" (no "horpe") is never split.
//!
//! Of the readings, the one with the fewest words wins: a known long word beats two short
//! ones ("therapist" is one word, not "the rapist"), and a place or name the dictionary knows
//! is never split at all. What the words may then trip is decided in `terms`.

use std::collections::HashSet;

use super::normalise::{has_held_letter, runs};

/// Runs shorter than this are left alone: short glued runs are mostly real words the
/// dictionary lacks ("essex", "hobbit"), and two-word harmful runs are caught by the lists'
/// own `*word*` entries.
const SHORTEST_RUN: usize = 6;
/// Longer runs are not a query a pupil typed (a pasted URL or a key mashed): not read.
const LONGEST_RUN: usize = 64;

#[derive(Debug, Default)]
pub struct Segmenter {
    words: HashSet<String>,
    /// The longest known word, in letters (bounds the work per position).
    longest: usize,
    /// Known words that are one half of a known compound word ("cock" of "cocktail",
    /// "pussy" of "pussycat"): read as one of two pieces, such a word may be the other
    /// half of a compound the dictionary lacks ("shuttlecock"), so it never decides alone.
    halves: HashSet<String>,
}

impl Segmenter {
    /// From normalised words (lower-case ASCII letters; anything else is not a glue word).
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Segmenter {
        let mut segmenter = Segmenter::default();
        for word in words {
            if word.len() >= 2 && word.bytes().all(|b| b.is_ascii_lowercase()) {
                segmenter.longest = segmenter.longest.max(word.len());
                segmenter.words.insert(word.to_string());
            }
        }
        // The two one-letter words English glues most ("howtomakeabomb", "iwanttodie").
        for word in ["a", "i"] {
            segmenter.words.insert(word.to_string());
        }
        segmenter
    }

    /// Notes the halves of each of these words that is two known words glued (`halves`).
    pub fn learn_compounds<'a>(&mut self, compounds: impl IntoIterator<Item = &'a str>) {
        for word in compounds {
            for at in 2..word.len().saturating_sub(1) {
                let (left, right) = word.split_at(at);
                if word.is_char_boundary(at) && self.knows(left) && self.knows(right) {
                    self.halves.insert(left.to_string());
                    self.halves.insert(right.to_string());
                }
            }
        }
    }

    /// Whether `piece` (or the singular it is the plural of) is half of a known compound.
    pub fn is_compound_half(&self, piece: &str) -> bool {
        self.halves.contains(piece) || piece.strip_suffix('s').is_some_and(|w| self.halves.contains(w))
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// A known word, or the plural of one, or one of them with a letter held down
    /// ("bommmb", "snuffff": a letter three or more times is read as once or twice).
    fn knows(&self, word: &str) -> bool {
        self.knows_exactly(word) || (has_held_letter(word) && squeezed(word).iter().any(|w| self.knows_exactly(w)))
    }

    fn knows_exactly(&self, word: &str) -> bool {
        self.words.contains(word)
            || word.strip_suffix('s').is_some_and(|w| w.len() >= 2 && self.words.contains(w))
            || word.strip_suffix("es").is_some_and(|w| w.len() >= 2 && self.words.contains(w))
    }

    /// The fewest known words `run` is made of, if it is made of two or more and is not a
    /// known word itself; `None` for a run that is not all known words.
    pub fn split(&self, run: &str) -> Option<Vec<String>> {
        let n = run.len();
        if !(SHORTEST_RUN..=LONGEST_RUN).contains(&n) || !run.bytes().all(|b| b.is_ascii_lowercase()) || self.knows(run) {
            return None;
        }
        // fewest[i]: the fewest words covering run[..i], and where the last one starts.
        let mut fewest: Vec<Option<(usize, usize)>> = vec![None; n + 1];
        fewest[0] = Some((0, 0));
        for end in 1..=n {
            // A plural adds up to two letters to the longest known word.
            for start in end.saturating_sub(self.longest + 2)..end {
                let Some((count, _)) = fewest[start] else { continue };
                if !self.knows(&run[start..end]) {
                    continue;
                }
                // Ties go to the longer last word ("grapefruit" read from the end stays whole).
                if fewest[end].is_none_or(|(best, _)| count + 1 < best) {
                    fewest[end] = Some((count + 1, start));
                }
            }
        }
        let (count, _) = fewest[n]?;
        if count < 2 {
            return None;
        }
        let mut words = Vec::with_capacity(count);
        let mut end = n;
        while end > 0 {
            let (_, start) = fewest[end]?;
            words.push(run[start..end].to_string());
            end = start;
        }
        words.reverse();
        Some(words)
    }
}

/// A word with every run of three or more of one letter read as once, and as twice (the two
/// spellings a held key may stand for: "bommmb" → "bomb", "snuffff" → "snuff").
fn squeezed(word: &str) -> [String; 2] {
    let squeeze = |keep: usize| {
        let mut out = String::with_capacity(word.len());
        for (c, n) in runs(word) {
            out.extend(std::iter::repeat_n(c, if n >= 3 { keep } else { n }));
        }
        out
    };
    [squeeze(1), squeeze(2)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segmenter() -> Segmenter {
        Segmenter::new(
            [
                "how",
                "to",
                "make",
                "bomb",
                "buy",
                "drug",
                "online",
                "the",
                "rapist",
                "therapist",
                "cock",
                "tail",
                "grape",
                "fruit",
                "free",
                "video",
                "of",
                "people",
                "fight",
                "fighting",
            ]
            .into_iter(),
        )
    }

    #[test]
    fn a_glued_run_of_known_words_is_read_as_those_words() {
        let s = segmenter();
        assert_eq!(s.split("howtomakeabomb").unwrap(), ["how", "to", "make", "a", "bomb"]);
        assert_eq!(s.split("buydrugsonline").unwrap(), ["buy", "drugs", "online"], "a plural of a known word");
        assert_eq!(s.split("freevideosofpeoplefighting").unwrap(), ["free", "videos", "of", "people", "fighting"]);
    }

    #[test]
    fn a_known_word_and_a_run_with_unknown_letters_are_left_whole() {
        let s = segmenter();
        assert_eq!(s.split("therapist"), None, "a known word is not split");
        assert_eq!(s.split("therapists"), None, "nor its plural");
        assert_eq!(s.split("scunthorpe"), None, "letters no known word covers");
        assert_eq!(s.split("bomb"), None, "too short to be a glued query");
        assert_eq!(s.split("how-to"), None, "only letters");
    }

    #[test]
    fn a_held_letter_is_read_as_once_or_twice() {
        let s = Segmenter::new(["make", "bomb", "snuff", "film"].into_iter());
        assert_eq!(s.split("makeabommmb").unwrap(), ["make", "a", "bommmb"]);
        assert_eq!(s.split("snuffffilm").unwrap(), ["snufff", "film"], "the held run is shared by two words");
    }

    #[test]
    fn halves_of_a_known_compound_are_noted() {
        let mut s = Segmenter::new(["cock", "tail", "send", "nude"].into_iter());
        s.learn_compounds(["cocktail", "thorny"].into_iter());
        assert!(s.is_compound_half("cock") && s.is_compound_half("tail"));
        assert!(!s.is_compound_half("nudes") && !s.is_compound_half("send"));
    }

    #[test]
    fn the_fewest_words_win() {
        let s = segmenter();
        assert_eq!(s.split("thetherapist").unwrap(), ["the", "therapist"]);
        assert_eq!(s.split("grapefruit").unwrap(), ["grape", "fruit"]);
    }
}
