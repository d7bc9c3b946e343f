//! Staff accounts: creating them, checking and changing passwords, removing them.
//!
//! A password change or a removal ends every session of the account: each adds one to the
//! account's `session_generation`, each session remembers the generation it signed in at, and
//! `session_account` (run on every staff request) refuses any other. A counter, not a time:
//! instances' clocks may differ, and a change in the same millisecond as a login still counts. A removed account
//! stays in the table (approvals, devices and class windows name it) but can never sign in
//! again, and its name stays taken so the records keep meaning one person.

use crate::args;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::schools::{SchoolId, Scope};
use crate::store::{now_ms, DbError, Row, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Teacher,
    /// Designated Safeguarding Lead.
    Dsl,
    /// The ICT technician.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Teacher => "teacher",
            Role::Dsl => "dsl",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "teacher" => Some(Role::Teacher),
            "dsl" => Some(Role::Dsl),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccount {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The account's school; `None`: a trust-wide account that sees every school.
    pub school: Option<SchoolId>,
}

impl StaffAccount {
    /// What this account may read: its school, or every school.
    pub fn scope(&self) -> Scope {
        self.school
    }
}

pub const MIN_PASSWORD_CHARS: usize = 12;

/// Passwords people pick first; refused whatever their length.
const COMMON_PASSWORDS: &[&str] = &[
    "password1234",
    "123456789012",
    "qwertyuiop12",
    "passwordpassword",
    "letmein12345",
    "welcome12345",
    "iloveyou1234",
    "administrator",
    "changeme1234",
    "schoolschool",
    "teacher12345",
    "password123!",
    "qwertyqwerty",
    "abcdefghijkl",
    "111111111111",
    "000000000000",
    "1q2w3e4r5t6y",
];

/// Why a new password is not acceptable.
pub fn check_new_password(password: &str, name: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("the password must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    let lower = password.to_lowercase();
    if COMMON_PASSWORDS.contains(&lower.as_str()) || lower.contains(&name.to_lowercase()) {
        return Err("the password is too easy to guess (a common password, or it contains the name)".into());
    }
    Ok(())
}

/// argon2id with OWASP's recommended minimum (m = 19 MiB, t = 2, p = 1).
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| hasher().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A stored hash to verify against when the name is unknown, so both cases take as long.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not-a-real-password-at-all").unwrap_or_default())
}

#[derive(Debug, thiserror::Error)]
pub enum AddUserError {
    #[error("{0}")]
    Password(String),
    #[error("a staff account named {0:?} already exists")]
    Exists(String),
    #[error("the name must be 1 to 64 letters, digits, spaces, dots or dashes")]
    BadName,
    #[error("only an admin may be trust-wide (without a school)")]
    TrustWideNotAdmin,
    #[error("the account {0:?} has been removed")]
    Removed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// 1 to 64 letters, digits, spaces, dots, dashes, underscores or apostrophes.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().count() <= 64 && name.chars().all(|c| c.is_alphanumeric() || " .-_'".contains(c))
}

/// Adds an account to `school`, or (`None`, admins only) trust-wide.
pub async fn add_account(store: &Store, name: &str, role: Role, password: &str, school: Option<SchoolId>) -> Result<StaffAccount, AddUserError> {
    let name = name.trim().to_string();
    if !valid_name(&name) {
        return Err(AddUserError::BadName);
    }
    if school.is_none() && role != Role::Admin {
        return Err(AddUserError::TrustWideNotAdmin);
    }
    check_new_password(password, &name).map_err(AddUserError::Password)?;
    let hash = hash_password(password).map_err(AddUserError::Password)?;
    let inserted = {
        let name = name.clone();
        store
            .call(move |db| {
                db.query_opt(
                    "INSERT INTO staff (name, role, password_hash, created_ms, school_id) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING RETURNING id",
                    args![name, role.as_str(), hash, now_ms(), school],
                )?
                .map(|r| r.get::<i64>(0))
                .transpose()
            })
            .await?
    };
    // A removed account's name stays taken: the records it left must keep meaning one person.
    let id = inserted.ok_or_else(|| AddUserError::Exists(name.clone()))?;
    security_event(store, "account_created", Some(&name), Some(role.as_str())).await;
    Ok(StaffAccount { id, name, role, school })
}

/// What signing in checks: the account, its password hash and its session generation, read
/// together (a session stamped with this generation was made with this password).
pub struct Credentials {
    pub account: StaffAccount,
    pub hash: String,
    pub generation: i64,
}

/// An account's credentials by name (case-insensitive); removed accounts are unknown here.
pub async fn find_account(store: &Store, name: &str) -> Result<Option<Credentials>, StoreError> {
    let name = name.trim().to_string();
    store
        .call(move |db| {
            db.query_opt(
                "SELECT id, name, role, school_id, password_hash, session_generation FROM staff WHERE lower(name) = lower(?1) AND removed_ms IS NULL",
                args![name],
            )?
            .map(|r| Ok(Credentials { account: row_to_account(&r)?, hash: r.get(4)?, generation: r.get(5)? }))
            .transpose()
        })
        .await
}

/// The staff accounts `scope` may see, by name (trust-wide accounts only in the trust view).
pub async fn list_accounts(store: &Store, scope: Scope) -> Result<Vec<StaffAccount>, StoreError> {
    store
        .call(move |db| {
            db.query(
                "SELECT id, name, role, school_id FROM staff WHERE (CAST(?1 AS BIGINT) IS NULL OR school_id = ?1) AND removed_ms IS NULL ORDER BY name",
                args![scope],
            )?
            .iter()
            .map(row_to_account)
            .collect()
        })
        .await
}

/// The account of a session that signed in at `generation`, unless the account was removed
/// or its password changed since.
pub async fn session_account(store: &Store, id: i64, generation: i64) -> Result<Option<StaffAccount>, StoreError> {
    store
        .call(move |db| {
            db.query_opt("SELECT id, name, role, school_id FROM staff WHERE id = ?1 AND removed_ms IS NULL AND session_generation = ?2", args![id, generation])?
                .as_ref()
                .map(row_to_account)
                .transpose()
        })
        .await
}

/// An account that has not been removed, by id.
pub async fn account_by_id(store: &Store, id: i64) -> Result<Option<StaffAccount>, StoreError> {
    store
        .call(move |db| {
            db.query_opt("SELECT id, name, role, school_id FROM staff WHERE id = ?1 AND removed_ms IS NULL", args![id])?
                .as_ref()
                .map(row_to_account)
                .transpose()
        })
        .await
}

/// A current account by name (case-insensitive), for the command line.
pub async fn account_named(store: &Store, name: &str) -> Result<Option<StaffAccount>, StoreError> {
    Ok(find_account(store, name).await?.map(|c| c.account))
}

/// Sets a new password (checked as a first one is) and ends every session of the account.
/// Returns the account's new session generation, for the one session that should carry on
/// (its owner's, after changing their own password).
pub async fn set_password(store: &Store, account: &StaffAccount, password: &str) -> Result<i64, AddUserError> {
    check_new_password(password, &account.name).map_err(AddUserError::Password)?;
    let hash = hash_password(password).map_err(AddUserError::Password)?;
    let id = account.id;
    let generation = store
        .call(move |db| {
            db.query_opt(
                "UPDATE staff SET password_hash = ?2, session_generation = session_generation + 1 WHERE id = ?1 AND removed_ms IS NULL RETURNING session_generation",
                args![id, hash],
            )?
            .map(|r| r.get::<i64>(0))
            .transpose()
        })
        .await?;
    generation.ok_or_else(|| AddUserError::Removed(account.name.clone()))
}

/// Gives an account another role; it applies from its next request (roles are read afresh
/// on every one). A trust-wide account stays an admin.
pub async fn set_role(store: &Store, account: &StaffAccount, role: Role) -> Result<(), AddUserError> {
    if account.school.is_none() && role != Role::Admin {
        return Err(AddUserError::TrustWideNotAdmin);
    }
    let id = account.id;
    let changed = store.call(move |db| db.execute("UPDATE staff SET role = ?2 WHERE id = ?1 AND removed_ms IS NULL", args![id, role.as_str()])).await?;
    if changed == 0 {
        return Err(AddUserError::Removed(account.name.clone()));
    }
    Ok(())
}

/// Moves an account to another school (`None`: trust-wide, admins only); it sees and acts for
/// that school from its next request. What it did stays with the school it was done for.
pub async fn set_school(store: &Store, account: &StaffAccount, school: Option<SchoolId>) -> Result<(), AddUserError> {
    if school.is_none() && account.role != Role::Admin {
        return Err(AddUserError::TrustWideNotAdmin);
    }
    let id = account.id;
    let changed = store.call(move |db| db.execute("UPDATE staff SET school_id = ?2 WHERE id = ?1 AND removed_ms IS NULL", args![id, school])).await?;
    if changed == 0 {
        return Err(AddUserError::Removed(account.name.clone()));
    }
    Ok(())
}

/// Removes an account: it can never sign in again and its sessions end at once. `false` if it
/// was already removed.
pub async fn remove_account(store: &Store, account: &StaffAccount) -> Result<bool, StoreError> {
    let (id, at) = (account.id, now_ms());
    let changed = store
        .call(move |db| {
            db.execute("UPDATE staff SET removed_ms = ?2, session_generation = session_generation + 1 WHERE id = ?1 AND removed_ms IS NULL", args![id, at])
        })
        .await?;
    Ok(changed == 1)
}

/// An account from the columns `id, name, role, school_id`.
fn row_to_account(r: &Row) -> Result<StaffAccount, DbError> {
    let role: String = r.get(2)?;
    Ok(StaffAccount { id: r.get(0)?, name: r.get(1)?, role: Role::parse(&role).unwrap_or(Role::Teacher), school: r.get(3)? })
}

/// Logins, failures, lockouts and account changes, for admins. Never passwords.
pub async fn security_event(store: &Store, kind: &str, name: Option<&str>, detail: Option<&str>) {
    let (kind, name, detail) = (kind.to_string(), name.map(str::to_string), detail.map(str::to_string));
    // The event belongs to the school of the account it names (`/staff/security` is narrowed
    // by school); a name no account has (a failed sign-in) belongs to none.
    let result = store
        .call(move |db| {
            db.execute(
                "INSERT INTO security_events (at_ms, kind, name, detail, school_id)
                 VALUES (?1, ?2, ?3, ?4, (SELECT school_id FROM staff WHERE lower(name) = lower(?3)))",
                args![now_ms(), kind, name, detail],
            )
        })
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "could not record a security event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(check_new_password("short", "amy").is_err());
        assert!(check_new_password("Password1234", "amy").is_err());
        assert!(check_new_password("amy-amy-amy-amy", "amy").is_err());
        assert!(check_new_password("plum tree under snow", "amy").is_ok());
    }
}
