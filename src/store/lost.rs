//! A lost database is not a new install. SQLite makes a missing file (and takes an empty one)
//! as a brand-new database without a word, so a deleted or truncated `kidsearch.sqlite3` used
//! to come back as a fresh install: staff accounts gone, incident numbers from 1. The data
//! dir's key files tell the two apart: the store is opened before any key is made (server,
//! `check --canary`), so a key file beside a missing or empty database means one was made here
//! and has been lost. That is refused, naming the file and the way back (`kidsearch restore`),
//! unless the technician asks for a new one on purpose (`--new-database`).
//!
//! PostgreSQL is not judged here: a trust's new instance joining a database that already has
//! the schema is normal, and one whose data dir holds keys meeting an empty database is the
//! suspicious case; with a shared secret no key files are written at all, so the key files
//! cannot tell. Left to the trust's own database backups for now.

use std::path::{Path, PathBuf};

use super::StoreError;

/// Whether a missing or empty database beside an earlier install's keys may be made new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NewDatabase {
    /// Refuse to start (the default): the file should be restored.
    #[default]
    Refused,
    /// `--new-database`: start again with an empty database, on purpose.
    OnPurpose,
}

impl NewDatabase {
    pub fn from_flag(on_purpose: bool) -> NewDatabase {
        if on_purpose {
            NewDatabase::OnPurpose
        } else {
            NewDatabase::Refused
        }
    }
}

/// Refuses `database` when it is missing or empty and `data_dir` holds key files.
pub(super) fn refuse_if_lost(data_dir: &Path, database: &Path, new_database: NewDatabase) -> Result<(), StoreError> {
    let state = match std::fs::metadata(database) {
        Ok(meta) if meta.len() > 0 => return Ok(()),
        Ok(_) => "is empty",
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "is missing",
        // Unreadable for another reason: opening it will say why.
        Err(_) => return Ok(()),
    };
    let keys = key_files(data_dir);
    if keys.is_empty() {
        return Ok(());
    }
    let names = keys.iter().filter_map(|k| k.file_name()).map(|n| n.to_string_lossy().into_owned()).collect::<Vec<_>>().join(", ");
    match new_database {
        NewDatabase::OnPurpose => {
            tracing::warn!(
                database = %database.display(),
                "--new-database: the database {state}; starting again with a new, empty one on purpose (no staff accounts, iPads or approvals; incident numbers from 1). Add the first admin with kidsearch user add --role admin"
            );
            Ok(())
        }
        NewDatabase::Refused => Err(StoreError::Lost(format!(
            "the database {} {state}, but this data dir was used before (its key files are there: {names}), so it has been deleted or lost, not never made. \
             Starting would silently make a new install: no staff accounts, iPads or approvals, incident numbers from 1. \
             Put last night's backup back with `kidsearch restore PATH` (server stopped), then start again; \
             or, to start with a new, empty database on purpose, run once with --new-database.",
            database.display()
        ))),
    }
}

/// The `*.key` files `secrets.rs` keeps in the data dir.
fn key_files(data_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(data_dir) else { return Vec::new() };
    let mut keys: Vec<PathBuf> =
        entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.extension().is_some_and(|ext| ext == "key") && p.is_file()).collect();
    keys.sort();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_missing_or_empty_database_beside_keys_is_lost() {
        let dir = std::env::temp_dir().join(format!("kidsearch-test-lost-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let db = dir.join("kidsearch.sqlite3");
        assert!(refuse_if_lost(&dir, &db, NewDatabase::Refused).is_ok(), "a first start");
        std::fs::write(dir.join("link-signing.key"), [0u8; 32]).expect("key");
        assert!(refuse_if_lost(&dir, &db, NewDatabase::Refused).is_err(), "missing beside a key");
        std::fs::write(&db, b"").expect("empty");
        let said = refuse_if_lost(&dir, &db, NewDatabase::Refused).expect_err("empty beside a key").to_string();
        assert!(said.contains("is empty") && said.contains("link-signing.key") && said.contains("kidsearch restore"), "{said}");
        assert!(refuse_if_lost(&dir, &db, NewDatabase::OnPurpose).is_ok(), "on purpose");
        std::fs::write(&db, b"SQLite format 3\0").expect("some bytes");
        assert!(refuse_if_lost(&dir, &db, NewDatabase::Refused).is_ok(), "a file with content is opened (and checked) as it is");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
