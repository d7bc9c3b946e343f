//! Login throttling per account name and per address: after a few failures each attempt is
//! slowed, after more the account (or address) is locked for a while. Kept in memory: a
//! restart forgets it, which only ever makes an attacker start over.

use std::time::Duration;

use moka::sync::Cache;

/// Failures after which each further attempt waits.
pub const SLOW_AFTER: u32 = 3;
/// Failures after which the name or address is locked.
pub const LOCK_AFTER: u32 = 5;
/// How long failures are remembered (and so how long a lock lasts).
pub const LOCK_FOR: Duration = Duration::from_secs(15 * 60);

pub struct LoginThrottle {
    failures: Cache<String, u32>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle { failures: Cache::builder().max_capacity(100_000).time_to_live(LOCK_FOR).build() }
    }
}

fn keys(name: &str, address: &str) -> [String; 2] {
    [format!("name:{}", name.trim().to_lowercase()), format!("addr:{address}")]
}

impl LoginThrottle {
    /// Is this name or address locked?
    pub fn locked(&self, name: &str, address: &str) -> bool {
        keys(name, address).iter().any(|k| self.failures.get(k).unwrap_or(0) >= LOCK_AFTER)
    }

    /// How long to wait before answering, given earlier failures.
    pub fn delay(&self, name: &str, address: &str) -> Duration {
        let worst = keys(name, address).iter().map(|k| self.failures.get(k).unwrap_or(0)).max().unwrap_or(0);
        if worst >= SLOW_AFTER {
            Duration::from_secs(1)
        } else {
            Duration::ZERO
        }
    }

    pub fn failed(&self, name: &str, address: &str) {
        for k in keys(name, address) {
            let n = self.failures.get(&k).unwrap_or(0) + 1;
            self.failures.insert(k, n);
        }
    }

    pub fn succeeded(&self, name: &str) {
        self.failures.invalidate(&keys(name, "")[0]);
    }
}
