//! Can the database still take a write? A cheap periodic probe (one row rewritten and
//! committed every `EVERY`, not one per request) that `/healthz`, the dashboard banner and
//! `/metrics` read. Without it health said "ok" while a full or read-only disk refused every
//! press and refused search.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Store;
use crate::args;

/// How often the probe writes.
pub const EVERY: Duration = Duration::from_secs(3);
/// The longest a probe may take before the disk counts as not taking writes.
const DEADLINE: Duration = Duration::from_secs(5);

/// The last probe's verdict.
#[derive(Default)]
pub struct StorageHealth {
    failing: AtomicBool,
    /// Why the last probe failed, for the technician.
    problem: Mutex<Option<String>>,
}

impl StorageHealth {
    /// Starts probing `store` (first at once) for as long as the returned handle lives.
    pub fn start(store: Store) -> Arc<StorageHealth> {
        let health = Arc::new(StorageHealth::default());
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return health };
        let weak = Arc::downgrade(&health);
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(EVERY);
            loop {
                tick.tick().await;
                let Some(health) = weak.upgrade() else { return };
                let write = store.call(|db| {
                    db.execute("INSERT INTO storage_probe (id, at_ms) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET at_ms = ?1", args![super::now_ms()])
                });
                let verdict = match tokio::time::timeout(DEADLINE, write).await {
                    Ok(Ok(_)) => None,
                    Ok(Err(e)) => Some(e.to_string()),
                    Err(_) => Some(format!("a write took longer than {DEADLINE:?}")),
                };
                health.record(verdict);
            }
        });
        health
    }

    fn record(&self, problem: Option<String>) {
        let was_failing = self.failing.swap(problem.is_some(), Ordering::AcqRel);
        match (&problem, was_failing) {
            (Some(p), false) => tracing::error!(problem = %p, "the database does not take writes: the data disk may be full, read-only or damaged"),
            (None, true) => tracing::info!("the database takes writes again"),
            _ => {}
        }
        *self.problem.lock().unwrap_or_else(|p| p.into_inner()) = problem;
    }

    /// Did the last probe's write fail?
    pub fn writable(&self) -> bool {
        !self.failing.load(Ordering::Acquire)
    }

    /// Why not, if it did.
    pub fn problem(&self) -> Option<String> {
        self.problem.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
