//! Password guessing, slowed and bounded. Every attempt is counted *before* its password is
//! checked, in the database (so a restart neither unlocks an attacker nor is the only way out
//! of a lock, and a trust's instances count together):
//!
//! - per (account, address): five attempts in 15 minutes, then that address is locked out of
//!   that account — and only of that one, so staff behind one school NAT are not locked out
//!   by each other, and someone guessing the DSL's password from a pupil's iPad does not lock
//!   the DSL out at her own desk;
//! - per account, from anywhere: after ten, each attempt must wait for the one before (1 s,
//!   doubling to a minute), so guessing from many addresses stays slow;
//! - argon2 checks at once: at most `MAX_HASHING` (each holds ~19 MiB); an attempt beyond
//!   that is answered "busy" at once instead of queueing memory.
//!
//! A sign-in clears the account's count and its own address's; an admin can clear them all
//! (`unlock`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::args;
use crate::store::{now_ms, transaction, Store, StoreError};

/// Attempts per (account, address) in `WINDOW` before that address is locked out of it.
pub const LOCK_AFTER: i64 = 5;
/// Attempts per account, from anywhere, in `WINDOW` after which each must wait its turn.
pub const SLOW_AFTER: i64 = 10;
/// How long attempts are remembered (and so how long a lock lasts after the last one).
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The longest an account's attempts are spaced.
const MAX_BACKOFF_MS: i64 = 60_000;
/// Password checks running at once.
pub const MAX_HASHING: usize = 4;

/// What may happen with one sign-in attempt.
pub enum Attempt {
    /// Check the password (holding the permit while hashing).
    Check(OwnedSemaphorePermit),
    /// This address has had its five tries at this account.
    Locked,
    /// The account is being guessed at from elsewhere: try again after this long.
    Wait(Duration),
    /// Too many password checks are running right now.
    Busy,
}

pub struct LoginThrottle {
    store: Store,
    hashing: Arc<Semaphore>,
}

fn account_key(name: &str) -> String {
    format!("name:{}", name.trim().to_lowercase())
}

fn pair_key(name: &str, address: &str) -> String {
    format!("pair:{}|{address}", name.trim().to_lowercase())
}

/// How long the attempt after the `failures`-th must wait.
fn backoff_ms(failures: i64) -> i64 {
    if failures < SLOW_AFTER {
        return 0;
    }
    1000_i64.saturating_mul(1 << (failures - SLOW_AFTER).min(6)).min(MAX_BACKOFF_MS)
}

impl LoginThrottle {
    pub fn new(store: Store) -> LoginThrottle {
        LoginThrottle { store, hashing: Arc::new(Semaphore::new(MAX_HASHING)) }
    }

    /// Counts an attempt at `name` from `address` and says whether its password may be checked.
    pub async fn begin(&self, name: &str, address: &str) -> Result<Attempt, StoreError> {
        // A free hashing slot first: a flood is refused before it costs a database write.
        let Ok(permit) = self.hashing.clone().try_acquire_owned() else { return Ok(Attempt::Busy) };
        let (account, pair, now) = (account_key(name), pair_key(name, address), now_ms());
        let forgotten = now - WINDOW.as_millis() as i64;
        let verdict = self
            .store
            .call(move |db| {
                transaction(db, |db| {
                    let row = db.query_opt("SELECT failures, last_ms, next_ms FROM login_attempts WHERE key = ?1", args![&account])?;
                    let (failures, last_ms, next_ms): (i64, i64, i64) = match row {
                        Some(r) => (r.get(0)?, r.get(1)?, r.get(2)?),
                        None => (0, 0, 0),
                    };
                    let failures_now = if last_ms < forgotten { 0 } else { failures };
                    if failures_now >= SLOW_AFTER && next_ms > now {
                        return Ok(Err(Duration::from_millis((next_ms - now) as u64)));
                    }
                    let tries = db
                        .query_one(
                            "INSERT INTO login_attempts (key, failures, last_ms, next_ms) VALUES (?1, 1, ?2, 0)
                             ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN login_attempts.last_ms < ?3 THEN 1 ELSE login_attempts.failures + 1 END, last_ms = ?2
                             RETURNING failures",
                            args![&pair, now, forgotten],
                        )?
                        .get::<i64>(0)?;
                    if tries > LOCK_AFTER {
                        return Ok(Ok(false));
                    }
                    // Compare-and-set: of two attempts racing here (two instances on one
                    // PostgreSQL), one counts and the other is told to wait.
                    let counted = failures_now + 1;
                    db.execute("INSERT INTO login_attempts (key, failures, last_ms, next_ms) VALUES (?1, 0, 0, 0) ON CONFLICT (key) DO NOTHING", args![&account])?;
                    let won = db.execute(
                        "UPDATE login_attempts SET failures = ?2, last_ms = ?3, next_ms = ?4 WHERE key = ?1 AND failures = ?5 AND last_ms = ?6",
                        args![&account, counted, now, now + backoff_ms(counted), failures, last_ms],
                    )?;
                    if won == 0 {
                        return Ok(Err(Duration::from_secs(1)));
                    }
                    Ok(Ok(true))
                })
            })
            .await?;
        Ok(match verdict {
            Ok(true) => Attempt::Check(permit),
            Ok(false) => Attempt::Locked,
            Err(wait) => Attempt::Wait(wait),
        })
    }

    /// A right password from `address`: the account's count starts again, and so does this
    /// address's (another address locked out of the account stays locked out).
    pub async fn succeeded(&self, name: &str, address: &str) -> Result<(), StoreError> {
        let (account, pair) = (account_key(name), pair_key(name, address));
        self.store.call(move |db| db.execute("DELETE FROM login_attempts WHERE key = ?1 OR key = ?2", args![account, pair])).await?;
        Ok(())
    }

    /// Clears every count for `name` (an admin's "Unlock sign-in"); true if it had any.
    pub async fn unlock(&self, name: &str) -> Result<bool, StoreError> {
        let (account, pairs) = (account_key(name), pair_key(name, ""));
        // Every "pair:<name>|<address>" key sorts between "pair:<name>|" and "pair:<name>}".
        let pairs_end = format!("{}}}", &pairs[..pairs.len() - 1]);
        let n = self
            .store
            .call(move |db| db.execute("DELETE FROM login_attempts WHERE key = ?1 OR (key >= ?2 AND key < ?3)", args![account, pairs, pairs_end]))
            .await?;
        Ok(n > 0)
    }

    /// Names (lower case) that some address is locked out of, or that must wait, now.
    pub async fn locked_names(&self) -> Result<Vec<String>, StoreError> {
        let (now, forgotten) = (now_ms(), now_ms() - WINDOW.as_millis() as i64);
        let keys: Vec<String> = self
            .store
            .call(move |db| {
                db.query(
                    "SELECT key FROM login_attempts WHERE last_ms >= ?1 AND ((key LIKE 'pair:%' AND failures >= ?2) OR (key LIKE 'name:%' AND failures >= ?3 AND next_ms > ?4))",
                    args![forgotten, LOCK_AFTER, SLOW_AFTER, now],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect()
            })
            .await?;
        let mut names: Vec<String> = keys
            .iter()
            .filter_map(|k| k.strip_prefix("name:").or_else(|| k.strip_prefix("pair:").and_then(|p| p.rsplit_once('|').map(|(n, _)| n))))
            .map(str::to_string)
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
}

/// Forgets attempts older than the window (the hourly retention job).
pub fn purge_stale(db: &mut dyn crate::store::Db, now: i64) -> Result<usize, crate::store::DbError> {
    db.execute("DELETE FROM login_attempts WHERE last_ms < ?1", args![now - WINDOW.as_millis() as i64])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accounts_attempts_are_spaced_more_the_more_it_is_guessed_at() {
        assert_eq!(backoff_ms(SLOW_AFTER - 1), 0);
        assert_eq!(backoff_ms(SLOW_AFTER), 1000);
        assert_eq!(backoff_ms(SLOW_AFTER + 1), 2000);
        assert_eq!(backoff_ms(SLOW_AFTER + 100), MAX_BACKOFF_MS);
    }

    #[test]
    fn an_accounts_pair_keys_sort_inside_its_unlock_range() {
        let (start, key) = (pair_key("Ms Safe", ""), pair_key("ms safe ", "10.0.0.1"));
        let end = format!("{}}}", &start[..start.len() - 1]);
        assert!(key >= start && key < end);
        assert!(pair_key("Ms Safer", "10.0.0.1") >= end || pair_key("Ms Safer", "10.0.0.1") < start);
    }
}
