//! The first admin, made in the browser (issue 28): while no staff account has ever existed,
//! `/staff/setup` makes one — for a browser on the server's own machine, or for whoever holds
//! the one-time setup code the server printed in its log at start (as Jupyter and Home
//! Assistant do). Once any account exists the way is gone for good.
//!
//! Race-safe: the account is made in one transaction that first claims the single row of
//! `first_admin` (its key can only be 1) and checks `staff` is empty; a second browser at the
//! same moment waits for that row's lock and then finds it taken, on SQLite and PostgreSQL
//! alike.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::accounts::{check_new_password, hash_password, security_event, AddUserError, Role, StaffAccount};
use crate::args;
use crate::schools::SchoolId;
use crate::store::{now_ms, transaction, Store, StoreError};

/// Whether the first admin may still be made, and the code that lets a browser elsewhere do it.
pub struct FirstRun {
    /// Known to be over (an account exists): no more database reads.
    over: AtomicBool,
    code: Mutex<Option<String>>,
}

impl FirstRun {
    /// At start-up: when no account exists yet, a fresh setup code, returned to be printed.
    pub fn start(store: &Store) -> Result<(FirstRun, Option<String>), StoreError> {
        let first = FirstRun { over: AtomicBool::new(false), code: Mutex::new(None) };
        let accounts: i64 = store.call_blocking(|db| db.query_one("SELECT COUNT(*) FROM staff", &[])?.get(0))?;
        if accounts > 0 {
            first.close();
            return Ok((first, None));
        }
        // Twelve letters from an alphabet without look-alikes (0/O, 1/l/I): typed from a
        // screen, about 60 bits, and one-time.
        const LETTERS: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
        let random = crate::secrets::random_bytes(12).map_err(|e| StoreError::Query(format!("no system randomness for the setup code: {e}")))?;
        let code: String = random.iter().map(|b| LETTERS[*b as usize % LETTERS.len()] as char).collect();
        let shown = format!("{}-{}-{}", &code[..4], &code[4..8], &code[8..]);
        *first.code.lock().unwrap_or_else(|e| e.into_inner()) = Some(shown.clone());
        Ok((first, Some(shown)))
    }

    /// True while no staff account has ever existed (removed ones count: they once did).
    pub async fn open(&self, store: &Store) -> Result<bool, StoreError> {
        if self.over.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let accounts: i64 = store.call(|db| db.query_one("SELECT COUNT(*) FROM staff", &[])?.get(0)).await?;
        if accounts > 0 {
            self.close();
        }
        Ok(accounts == 0)
    }

    fn close(&self) {
        self.over.store(true, Ordering::Relaxed);
        *self.code.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Does `typed` match the code (spaces, dashes and case ignored)? Compared in constant time.
    pub fn code_matches(&self, typed: &str) -> bool {
        let tidy = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
        let code = self.code.lock().unwrap_or_else(|e| e.into_inner()).clone();
        code.is_some_and(|code| !typed.is_empty() && crate::secrets::constant_time_eq(&tidy(&code), &tidy(typed)))
    }

    /// Makes the first admin, only if no account exists (`Ok(None)` otherwise), and ends the
    /// first run. The admin belongs to the install's one school, or is trust-wide when there
    /// are several.
    pub async fn create(&self, store: &Store, name: &str, password: &str) -> Result<Option<StaffAccount>, AddUserError> {
        let name = name.trim().to_string();
        if !super::accounts::valid_name(&name) {
            return Err(AddUserError::BadName);
        }
        check_new_password(password, &name).map_err(AddUserError::Password)?;
        let hash = tokio::task::spawn_blocking({
            let password = password.to_string();
            move || hash_password(&password)
        })
        .await
        .map_err(|e| AddUserError::Password(e.to_string()))?
        .map_err(AddUserError::Password)?;
        let made = {
            let name = name.clone();
            store
                .call(move |db| {
                    transaction(db, |db| {
                        let claimed =
                            db.query_opt("INSERT INTO first_admin (id, at_ms) VALUES (1, ?1) ON CONFLICT DO NOTHING RETURNING id", args![now_ms()])?;
                        let accounts: i64 = db.query_one("SELECT COUNT(*) FROM staff", &[])?.get(0)?;
                        if claimed.is_none() || accounts > 0 {
                            return Ok(None);
                        }
                        let schools: Vec<SchoolId> = db.query("SELECT id FROM schools ORDER BY id", &[])?.iter().map(|r| r.get(0)).collect::<Result<_, _>>()?;
                        let school = if schools.len() == 1 { schools.first().copied() } else { None };
                        let id: i64 = db
                            .query_one(
                                "INSERT INTO staff (name, role, password_hash, created_ms, school_id) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                                args![&name, Role::Admin.as_str(), hash, now_ms(), school],
                            )?
                            .get(0)?;
                        Ok(Some((id, school)))
                    })
                })
                .await?
        };
        self.close();
        let Some((id, school)) = made else { return Ok(None) };
        security_event(store, "first_admin_created", Some(&name), Some(Role::Admin.as_str())).await;
        Ok(Some(StaffAccount { id, name, role: Role::Admin, school }))
    }
}
