//! Safeguarding records the disk refused (full, read-only, damaged), kept in memory and
//! retried until it takes them.
//!
//! A press must reach an adult whatever the disk does: the alert goes out, the screen stays
//! covered (in memory, `Devices::cover_in_memory`) and the incident waits here under a
//! provisional id (negative, so it can never be a stored one) until `Safeguarding::retry_waiting`
//! stores it. A refused search's activity row and incident wait the same way. The queue is
//! bounded: a record that finds it full is written to the log in full (ERROR) and counted as
//! lost, never silently dropped; a graceful stop tries once more and logs what is still here.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

use super::Incident;
use crate::store::Activity;

/// Records that may wait in memory at once (a press is ~1 KB: a few MB at most).
pub const CAPACITY: usize = 5_000;

/// One record the disk has not taken yet.
#[derive(Debug, Clone)]
pub enum Record {
    /// A tell-an-adult press or a refused search, under its provisional id.
    Incident(Incident),
    /// A refused search's activity-log row.
    Activity(Activity),
}

pub struct Waiting {
    queue: Mutex<VecDeque<Record>>,
    /// The last provisional id handed out (counting down from -1).
    last_provisional: AtomicI64,
    /// Records that found the queue full (written to the log instead).
    lost: AtomicU64,
    /// Provisional id → the id it was stored under, for screens and dashboards that still
    /// name the provisional one (a covered browser's token, a dashboard not yet caught up).
    stored: moka::sync::Cache<i64, i64>,
}

impl Default for Waiting {
    fn default() -> Waiting {
        Waiting {
            queue: Mutex::default(),
            last_provisional: AtomicI64::new(0),
            lost: AtomicU64::new(0),
            stored: moka::sync::Cache::builder().max_capacity(CAPACITY as u64).time_to_live(std::time::Duration::from_secs(24 * 3600)).build(),
        }
    }
}

impl Waiting {
    /// A fresh provisional id: negative, never a database id.
    pub fn provisional_id(&self) -> i64 {
        self.last_provisional.fetch_sub(1, Ordering::Relaxed) - 1
    }

    /// Queues `record`; false (and logged in full) when the queue is full.
    pub fn push(&self, record: Record) -> bool {
        let mut queue = self.lock();
        if queue.len() >= CAPACITY {
            drop(queue);
            let lost = self.lost.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::error!(lost_total = lost, record = ?record, "a safeguarding record could not be stored and the in-memory queue is full: it is only in this log");
            return false;
        }
        queue.push_back(record);
        true
    }

    /// The oldest waiting record, to store next.
    pub fn front(&self) -> Option<Record> {
        self.lock().front().cloned()
    }

    /// The oldest record was stored (under `id`, for an incident).
    pub fn stored_front(&self, id: Option<i64>) {
        if let Some(Record::Incident(i)) = self.lock().pop_front() {
            if let Some(id) = id {
                self.stored.insert(i.id, id);
            }
        }
    }

    /// The id `id` now goes by: a provisional id that was stored since is its stored id.
    pub fn resolve(&self, id: i64) -> i64 {
        if id < 0 {
            self.stored.get(&id).unwrap_or(id)
        } else {
            id
        }
    }

    /// The waiting incident `id` (provisional), if it is still waiting.
    pub fn incident(&self, id: i64) -> Option<Incident> {
        self.lock().iter().find_map(|r| match r {
            Record::Incident(i) if i.id == id => Some(i.clone()),
            _ => None,
        })
    }

    /// Every waiting incident.
    pub fn incidents(&self) -> Vec<Incident> {
        self.lock()
            .iter()
            .filter_map(|r| match r {
                Record::Incident(i) => Some(i.clone()),
                Record::Activity(_) => None,
            })
            .collect()
    }

    /// Changes the waiting incident `id`; false if it is not waiting (any more).
    pub fn update(&self, id: i64, change: impl FnOnce(&mut Incident)) -> bool {
        let mut queue = self.lock();
        let found = queue.iter_mut().find_map(|r| match r {
            Record::Incident(i) if i.id == id => Some(i),
            _ => None,
        });
        match found {
            Some(i) => {
                change(i);
                true
            }
            None => false,
        }
    }

    /// Records waiting now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records that found the queue full since start.
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    /// Everything still waiting, for the log at a stop that could not store it.
    pub fn drain(&self) -> Vec<Record> {
        self.lock().drain(..).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Record>> {
        self.queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
