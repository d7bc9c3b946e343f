//! Schema migrations, run at start-up (rusqlite_migration keeps the version in `user_version`).
//! Never edit a released migration: add a new one.

use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

use super::StoreError;

const MIGRATIONS: &[M<'static>] = &[
    M::up(
        "CREATE TABLE activity (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        device TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('query', 'refused', 'click', 'blocked_click')),
        category TEXT,
        query TEXT,
        url TEXT
    );
    CREATE INDEX activity_at ON activity (at_ms);
    CREATE INDEX activity_kind ON activity (kind, at_ms);",
    ),
    M::up(
        "CREATE TABLE staff (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        role TEXT NOT NULL CHECK (role IN ('teacher', 'dsl', 'admin')),
        password_hash TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE staff_sessions (
        key TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        expires_ms INTEGER NOT NULL
    );
    CREATE TABLE security_events (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        name TEXT,
        detail TEXT
    );",
    ),
    M::up(
        "CREATE TABLE approvals (
        id INTEGER PRIMARY KEY,
        query_key TEXT NOT NULL,
        query TEXT NOT NULL,
        picture TEXT,
        class TEXT,
        max_pages INTEGER NOT NULL,
        engines TEXT NOT NULL,
        hidden TEXT NOT NULL,
        approved_by INTEGER NOT NULL REFERENCES staff (id),
        school_day TEXT NOT NULL,
        expires_ms INTEGER NOT NULL,
        withdrawn_ms INTEGER,
        created_ms INTEGER NOT NULL,
        frozen TEXT NOT NULL
    );
    CREATE INDEX approvals_live ON approvals (query_key, expires_ms);",
    ),
];

pub fn run(conn: &mut Connection) -> Result<(), StoreError> {
    Migrations::from_slice(MIGRATIONS).to_latest(conn).map_err(|e| StoreError::Migration(e.to_string()))
}
