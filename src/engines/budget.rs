//! How long reading one engine page may take, and whether its answer is still wanted.
//!
//! Why: the streaming reader (lol_html) pays for each element with the number of open elements
//! above it that a descendant selector (`result *`) is watching. A hostile page of `<div>`s
//! opened 380,000 deep inside a result cost minutes of a core (a real results page: under a
//! millisecond). The page is read on the blocking pool, where the engine's timeout cannot
//! reach: the timeout only drops the future waiting for the answer. So the page is fed to the
//! reader in chunks, and between chunks the reader asks its budget: is the time up, or has the
//! waiting side given up (`Abandon`, dropped with that future)?

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The most one engine page may take to read. A real page takes 0.2–0.6 ms (BENCHMARKS.md);
/// this is hundreds of times that, and small enough that a hostile page costs little.
pub const PAGE_READ_LIMIT: Duration = Duration::from_millis(250);

/// The time left for one reading, and the flag its waiter sets when it no longer wants it.
#[derive(Debug, Clone)]
pub struct ReadBudget {
    deadline: Instant,
    limit: Duration,
    abandoned: Arc<AtomicBool>,
}

/// Held by whoever waits for a reading; dropping it (the wait timed out or was cancelled)
/// tells the reading to stop.
#[derive(Debug)]
pub struct Abandon(Arc<AtomicBool>);

impl ReadBudget {
    /// A budget of `limit` from now, and the handle that abandons it.
    pub fn new(limit: Duration) -> (ReadBudget, Abandon) {
        let abandoned = Arc::new(AtomicBool::new(false));
        (ReadBudget { deadline: Instant::now() + limit, limit, abandoned: abandoned.clone() }, Abandon(abandoned))
    }

    /// A budget of `PAGE_READ_LIMIT` that nobody abandons (tests, the canary's own reads).
    pub fn page() -> ReadBudget {
        // Not `new(…).0`: its `Abandon`, dropped at once, would abandon it.
        ReadBudget { deadline: Instant::now() + PAGE_READ_LIMIT, limit: PAGE_READ_LIMIT, abandoned: Arc::new(AtomicBool::new(false)) }
    }

    /// The same budget with its time counted from now (the reading may have waited for a
    /// thread of the blocking pool: that wait is not the page's cost).
    pub fn starting_now(self) -> ReadBudget {
        ReadBudget { deadline: Instant::now() + self.limit, ..self }
    }

    /// Moves the deadline on by `waited`: time spent waiting for the next piece of an answer
    /// that is still arriving is the network's, not the page's cost (the engine's own timeout
    /// bounds it).
    pub fn pause(&mut self, waited: Duration) {
        self.deadline += waited;
    }

    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Should the reading stop now?
    pub fn is_spent(&self) -> bool {
        self.abandoned.load(Ordering::Relaxed) || Instant::now() >= self.deadline
    }
}

impl Drop for Abandon {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_is_spent_when_its_time_is_up_or_its_waiter_leaves() {
        let (budget, waiter) = ReadBudget::new(Duration::from_secs(60));
        assert!(!budget.is_spent());
        drop(waiter);
        assert!(budget.is_spent(), "abandoned");
        let (quick, _waiter) = ReadBudget::new(Duration::ZERO);
        assert!(quick.is_spent(), "out of time");
        assert!(!ReadBudget::page().is_spent(), "nobody abandons a budget made without a waiter");
    }
}
