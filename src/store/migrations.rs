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
    // Safeguarding: enrolled devices (no pupil data: a class and a label), one-time enrolment
    // links, supervised class windows, incidents for the DSL, results hidden school-wide.
    M::up(
        "CREATE TABLE devices (
        id INTEGER PRIMARY KEY,
        class TEXT NOT NULL,
        label TEXT NOT NULL,
        secret TEXT NOT NULL,
        enrolled_by INTEGER REFERENCES staff (id),
        enrolled_ms INTEGER NOT NULL,
        last_seen_ms INTEGER,
        covered_incident INTEGER,
        revoked_ms INTEGER
    );
    CREATE TABLE enrol_links (
        token TEXT PRIMARY KEY,
        class TEXT NOT NULL,
        label TEXT NOT NULL,
        created_by INTEGER NOT NULL REFERENCES staff (id),
        expires_ms INTEGER NOT NULL,
        used_ms INTEGER
    );
    CREATE TABLE class_windows (
        id INTEGER PRIMARY KEY,
        class TEXT NOT NULL,
        opened_by INTEGER NOT NULL REFERENCES staff (id),
        opened_ms INTEGER NOT NULL,
        ends_ms INTEGER NOT NULL,
        closed_ms INTEGER
    );
    CREATE INDEX class_windows_open ON class_windows (class, ends_ms);
    CREATE TABLE incidents (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('tell_adult', 'refused_query')),
        device_id INTEGER,
        device TEXT,
        class TEXT,
        query TEXT,
        page INTEGER,
        result_url TEXT,
        result_title TEXT,
        category TEXT,
        status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'reviewed', 'recorded')),
        reviewed_by TEXT,
        reviewed_ms INTEGER,
        notes TEXT NOT NULL DEFAULT '',
        cleared_by TEXT,
        cleared_ms INTEGER
    );
    CREATE INDEX incidents_at ON incidents (at_ms);
    CREATE TABLE hidden_results (
        url TEXT PRIMARY KEY,
        title TEXT,
        incident_id INTEGER,
        state TEXT NOT NULL CHECK (state IN ('hidden', 'blocked', 'released')),
        at_ms INTEGER NOT NULL,
        decided_by TEXT,
        decided_ms INTEGER
    );
    ALTER TABLE activity ADD COLUMN class TEXT;",
    ),
    // The last engine canary result per engine (`kidsearch check --canary`, staff health page).
    M::up(
        "CREATE TABLE engine_canary (
        engine TEXT PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        results INTEGER NOT NULL,
        error TEXT,
        millis INTEGER NOT NULL
    );",
    ),
    // Identical activity rows written in one batch are stored once with their count.
    M::up("ALTER TABLE activity ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1 CHECK (repeats >= 1);"),
];

pub fn run(conn: &mut Connection) -> Result<(), StoreError> {
    Migrations::from_slice(MIGRATIONS).to_latest(conn).map_err(|e| StoreError::Migration(e.to_string()))
}
