//! Staff accounts: teachers, the designated safeguarding lead (DSL) and admins (the ICT
//! technician). Passwords are argon2id hashes in SQLite; sessions live server-side in SQLite so
//! logging out really ends them; failed logins are slowed, then locked for a while.

pub mod accounts;
pub mod first_admin;
pub mod security_log;
pub mod sessions;
pub mod throttle;

pub use accounts::{Role, StaffAccount};
