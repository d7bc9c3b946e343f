//! A quick "could any entry match this text?" in front of the term matcher. Most titles and
//! snippets trip nothing, and finding that out by splitting each one into words three ways
//! (`normalise`) and looking every word up was the larger part of the word lists' pass over a
//! results page. Here a text costs one pass over its letters.
//!
//! Why it is safe: every way an entry matches — exactly, as a plural, stretched, as a prefix,
//! suffix or inside a word, as a phrase, in any of `normalise`'s three spellings — leaves each
//! of the entry's words' letters, repeats removed, in order and side by side in the text's
//! letters once everything that is not a letter or digit is taken out and repeats are removed
//! (a phrase's words of one or two letters are not looked for: they are in nearly every text).
//! Words are runs of those letters, a singular is a prefix of its plural, a stretch only holds
//! letters longer, and spaced-out or punctuated letters become neighbours once the spaces and
//! punctuation are gone. An entry of one letter held down (`kkk`) would pass every text with
//! that letter in it, so it is looked for as that letter held as long. The filter only says
//! "maybe"; the matcher decides. `terms::tests::the_letter_filter_agrees_on_every_shipped_entry_in_every_disguise`
//! and the proptest `the_letter_filter_never_hides_a_match` check it against the matcher alone
//! over the shipped lists.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

#[derive(Debug, Default)]
pub struct LetterFilter {
    /// Every entry word's letters without repeats, each once.
    finder: Option<AhoCorasick>,
    /// For each pattern of `finder`, the entries using it (indexes into `needs`).
    users: Vec<Vec<usize>>,
    /// For each entry, the patterns all of which a text must contain.
    needs: Vec<Vec<usize>>,
    /// Entries of one letter held down: the letter and how many times.
    held: Vec<(char, usize)>,
    /// The fewest times a `held` entry holds its letter (runs that long are rare in text).
    shortest_held: usize,
}

impl LetterFilter {
    /// From every entry's normalised words (as the matcher holds them).
    pub fn new<'a>(entries: impl IntoIterator<Item = &'a [String]>) -> LetterFilter {
        let mut filter = LetterFilter::default();
        let mut patterns: HashMap<String, usize> = HashMap::new();
        for words in entries {
            if let [word] = words {
                if let Some(c) = word.chars().next().filter(|c| word.chars().all(|d| d == *c)) {
                    filter.held.push((c, word.chars().count()));
                    continue;
                }
            }
            let entry = filter.needs.len();
            // A phrase's short words ("a", "to", "my") are in nearly every text: looking for
            // them would only slow the pass. Its longer words are enough to tell most texts.
            let mut letters: Vec<String> = words.iter().map(|w| without_repeats(w)).collect();
            if letters.iter().any(|l| l.chars().count() >= 3) {
                letters.retain(|l| l.chars().count() >= 3);
            }
            let mut needs: Vec<usize> = letters
                .into_iter()
                .map(|l| {
                    let next = patterns.len();
                    *patterns.entry(l).or_insert(next)
                })
                .collect();
            needs.sort_unstable();
            needs.dedup();
            filter.users.resize(patterns.len(), Vec::new());
            for &p in &needs {
                filter.users[p].push(entry);
            }
            filter.needs.push(needs);
        }
        filter.held.sort_unstable();
        filter.held.dedup();
        filter.shortest_held = filter.held.iter().map(|&(_, n)| n).min().unwrap_or(usize::MAX);
        let mut by_index: Vec<(&String, &usize)> = patterns.iter().collect();
        by_index.sort_by_key(|(_, &i)| i);
        // A DFA: more memory than the default NFA (the shipped lists' ~750 short words make a
        // small one) for the fastest pass over every title and snippet.
        filter.finder = AhoCorasick::builder().kind(Some(AhoCorasickKind::DFA)).build(by_index.into_iter().map(|(p, _)| p)).ok();
        filter
    }

    /// Whether some entry could match `folded` (a text through `normalise::fold`).
    pub fn may_match(&self, folded: &str) -> bool {
        // One pass: the letters and digits without repeats, watching runs for the held entries.
        let mut letters = String::with_capacity(folded.len());
        let (mut last, mut run) = ('\0', 0usize);
        for c in folded.chars().filter(|c| c.is_alphanumeric()) {
            if c == last {
                run += 1;
            } else {
                (last, run) = (c, 1);
                letters.push(c);
            }
            if run >= self.shortest_held && self.held.contains(&(c, run)) {
                return true;
            }
        }
        let Some(finder) = &self.finder else {
            // No finder (it could not be built): never skip the matcher.
            return !self.needs.is_empty();
        };
        let mut found: Vec<usize> = Vec::new();
        for m in finder.find_overlapping_iter(&letters) {
            let pattern = m.pattern().as_usize();
            if self.users[pattern].iter().any(|&e| self.needs[e].len() == 1) {
                return true;
            }
            if !found.contains(&pattern) {
                found.push(pattern);
            }
        }
        // Only phrases are left: each needs all of its words.
        found.iter().any(|&p| self.users[p].iter().any(|&e| self.needs[e].iter().all(|q| found.contains(q))))
    }
}

/// Text with repeated letters removed (`pooorn` → `porn`).
pub fn without_repeats(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_without_repeats(text, &mut out);
    out
}

/// `without_repeats` onto the end of a (reused) buffer.
pub fn push_without_repeats(text: &str, out: &mut String) {
    for c in text.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(entries: &[&[&str]]) -> LetterFilter {
        let owned: Vec<Vec<String>> = entries.iter().map(|e| e.iter().map(|w| w.to_string()).collect()).collect();
        LetterFilter::new(owned.iter().map(Vec::as_slice))
    }

    #[test]
    fn a_phrase_needs_all_its_words_and_a_held_letter_its_length() {
        let f = filter(&[&["national", "front"], &["kkk"], &["porn"]]);
        assert!(!f.may_match("national geographic kids"));
        assert!(f.may_match("the national front"));
        assert!(f.may_match("front page of the national"), "a filter, not the matcher: order is the matcher's job");
        assert!(!f.may_match("kids like kites"));
        assert!(f.may_match("k.k.k"));
        assert!(f.may_match("pooo-rn"));
        assert!(f.may_match("p o r n"));
    }
}
