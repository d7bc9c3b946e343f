//! A set of exception phrases, matched word by word: what `terms/exceptions.txt` holds and
//! what an admin's local exceptions (`local`) hold. Both the term lists (`terms`), which skip
//! the words a phrase covers, and the live local set use it, so it sits below both.

use std::collections::HashMap;

/// Normalised exception phrases, by first word (so covering a text costs a lookup per word).
#[derive(Debug, Default)]
pub struct ExceptionSet {
    phrases: Vec<Vec<String>>,
    by_first: HashMap<String, Vec<usize>>,
}

impl ExceptionSet {
    pub fn new(phrases: Vec<Vec<String>>) -> ExceptionSet {
        let mut by_first: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in phrases.iter().enumerate() {
            if let Some(first) = p.first() {
                by_first.entry(first.clone()).or_default().push(i);
            }
        }
        ExceptionSet { phrases, by_first }
    }

    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    pub fn len(&self) -> usize {
        self.phrases.len()
    }

    /// Adds to `spans` each (start, end) of `words` an exception phrase covers; `forms` gives
    /// a word's exact form and the singulars it may be the plural of.
    pub(super) fn cover<'w>(&self, words: &'w [String], spans: &mut Vec<(usize, usize)>, forms: impl Fn(&'w str) -> Vec<&'w str>) {
        for start in 0..words.len() {
            for first in forms(&words[start]) {
                let Some(candidates) = self.by_first.get(first) else { continue };
                for &x in candidates {
                    let phrase = &self.phrases[x];
                    let end = start + phrase.len();
                    if end <= words.len() && phrase.iter().zip(&words[start..end]).all(|(e, w)| forms(w).contains(&e.as_str())) {
                        spans.push((start, end));
                    }
                }
            }
        }
    }
}
