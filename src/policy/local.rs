//! The school's local exceptions (made by an admin from an over-block report, kept in the
//! database; see `overblocks`): phrases never refused, like `terms/exceptions.txt`, but
//! changed while the server runs. Readers take a snapshot (`Arc`) under a read lock held
//! only for the clone; a change swaps the whole set, so a check never sees half of one.

use std::sync::{Arc, RwLock};

use super::exceptions::ExceptionSet;

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
        self.snapshot().len()
    }

    pub fn is_empty(&self) -> bool {
        self.snapshot().is_empty()
    }
}
