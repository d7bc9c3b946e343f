//! The school's local exceptions (made by an admin from an over-block report, kept in the
//! database; see `overblocks`): phrases never refused, like `terms/exceptions.txt`, but
//! changed while the server runs. Readers take a snapshot (`Arc`) under a read lock held
//! only for the clone; a change swaps the whole set, so a check never sees half of one.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

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

/// The live set, shared by every clone of the policy's handle.
#[derive(Debug, Default, Clone)]
pub struct LocalExceptions(Arc<RwLock<Arc<ExceptionSet>>>);

impl LocalExceptions {
    pub fn snapshot(&self) -> Arc<ExceptionSet> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the set with these phrases (as an admin typed them), normalised as
    /// `terms/exceptions.txt` entries are.
    pub fn replace(&self, phrases: &[String]) {
        let set = Arc::new(ExceptionSet::new(phrases.iter().flat_map(|p| super::terms::exception_phrases(p)).collect()));
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = set;
    }

    pub fn len(&self) -> usize {
        self.snapshot().phrases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.snapshot().is_empty()
    }
}
