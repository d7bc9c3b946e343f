//! Schema migrations, run at start-up, in two dialects kept step for step: `SQLITE` (the
//! default; rusqlite_migration keeps the version in `user_version`) and `POSTGRES` (a trust's
//! shared database; the version is the row count of `kidsearch_migrations`). Step N of one is
//! step N of the other; a unit test holds them to the same length.
//! Never edit a released migration: add a new one, to both lists.

use rusqlite::Connection;
use rusqlite_migration::{Migrations, M};

use super::db::{transaction, Db, DbError};
use super::StoreError;
use crate::args;

const SQLITE: &[M<'static>] = &[
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
    // Schools as tenants (a trust's instances share one database). Every existing row belongs
    // to school 1, the one school an install had; a staff account without a school is
    // trust-wide. Results are hidden per school, so hidden_results is keyed by both.
    M::up(
        "CREATE TABLE schools (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        created_ms INTEGER NOT NULL
    );
    INSERT INTO schools (id, name, created_ms) VALUES (1, 'Our school', 0);
    ALTER TABLE staff ADD COLUMN school_id INTEGER REFERENCES schools (id);
    UPDATE staff SET school_id = 1;
    ALTER TABLE devices ADD COLUMN school_id INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE enrol_links ADD COLUMN school_id INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE class_windows ADD COLUMN school_id INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE approvals ADD COLUMN school_id INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE incidents ADD COLUMN school_id INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE activity ADD COLUMN school_id INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE hidden_results_by_school (
        school_id INTEGER NOT NULL,
        url TEXT NOT NULL,
        title TEXT,
        incident_id INTEGER,
        state TEXT NOT NULL CHECK (state IN ('hidden', 'blocked', 'released')),
        at_ms INTEGER NOT NULL,
        decided_by TEXT,
        decided_ms INTEGER,
        PRIMARY KEY (school_id, url)
    );
    INSERT INTO hidden_results_by_school (school_id, url, title, incident_id, state, at_ms, decided_by, decided_ms)
        SELECT 1, url, title, incident_id, state, at_ms, decided_by, decided_ms FROM hidden_results;
    DROP TABLE hidden_results;
    ALTER TABLE hidden_results_by_school RENAME TO hidden_results;
    CREATE INDEX approvals_school_live ON approvals (school_id, query_key, expires_ms);
    CREATE INDEX class_windows_school ON class_windows (school_id, class, ends_ms);
    CREATE INDEX incidents_school ON incidents (school_id, at_ms);
    CREATE INDEX activity_school ON activity (school_id, at_ms);",
    ),
    // A password change or an account's removal ends its sessions (each session remembers the
    // account's generation when it signed in); a removed account is kept, as approvals and
    // devices name it.
    M::up(
        "ALTER TABLE staff ADD COLUMN session_generation INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE staff ADD COLUMN removed_ms INTEGER;",
    ),
    // The security log admins read (`/staff/security`) is narrowed by school like every other
    // staff read: an event belongs to the school of the account it names (none: no account).
    M::up(
        "ALTER TABLE security_events ADD COLUMN school_id INTEGER;
    UPDATE security_events SET school_id = (SELECT staff.school_id FROM staff WHERE lower(staff.name) = lower(security_events.name));
    CREATE INDEX security_events_school ON security_events (school_id, at_ms);
    CREATE INDEX security_events_at ON security_events (at_ms);",
    ),
    // Whose decision a reported result's is (a teacher's cannot undo a lead's); sign-in
    // attempts counted in the database, so a restart neither unlocks an attacker nor is the
    // only cure for a lock.
    M::up(
        "ALTER TABLE hidden_results ADD COLUMN decided_authority TEXT;
    CREATE TABLE login_attempts (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        last_ms INTEGER NOT NULL,
        next_ms INTEGER NOT NULL DEFAULT 0
    );",
    ),
    // The storage health probe's one row: rewritten every few seconds to learn whether the
    // disk still takes a commit (store::probe).
    M::up("CREATE TABLE storage_probe (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL);"),
    // Over-block reports and the local exceptions an admin makes of them (issue 22): applied
    // without a restart (`overblocks`).
    M::up(
        "CREATE TABLE over_block_reports (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        school_id INTEGER NOT NULL,
        query TEXT NOT NULL,
        category TEXT,
        reported_by TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'exception', 'dismissed')),
        decided_by TEXT,
        decided_ms INTEGER
    );
    CREATE INDEX over_block_reports_open ON over_block_reports (status, school_id);
    CREATE TABLE local_exceptions (
        id INTEGER PRIMARY KEY,
        phrase TEXT NOT NULL UNIQUE,
        added_by TEXT NOT NULL,
        added_ms INTEGER NOT NULL,
        report_id INTEGER
    );",
    ),
    // The first admin made in the browser (issue 28): one row at most, claimed in the same
    // transaction that makes the account, so two browsers at once cannot both make one.
    M::up("CREATE TABLE first_admin (id INTEGER PRIMARY KEY CHECK (id = 1), at_ms INTEGER NOT NULL);"),
    // Today's board beyond searches (issue 27): videos a teacher approved for the day, and the
    // sites an admin lists for pupils to open from the home page.
    M::up(
        "CREATE TABLE approved_videos (
        id INTEGER PRIMARY KEY,
        school_id INTEGER NOT NULL,
        video_id TEXT NOT NULL,
        title TEXT NOT NULL,
        channel TEXT NOT NULL,
        class TEXT,
        approved_by INTEGER NOT NULL REFERENCES staff (id),
        school_day TEXT NOT NULL,
        expires_ms INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        withdrawn_ms INTEGER
    );
    CREATE INDEX approved_videos_live ON approved_videos (school_id, expires_ms);
    CREATE TABLE school_sites (
        id INTEGER PRIMARY KEY,
        school_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        url TEXT NOT NULL,
        picture TEXT NOT NULL,
        class TEXT,
        added_by TEXT NOT NULL,
        added_ms INTEGER NOT NULL
    );
    CREATE INDEX school_sites_school ON school_sites (school_id);",
    ),
    // The re-encoded pictures an approved search showed the teacher (issue 26): pupils get
    // exactly these, with no upstream call, after a restart and on every instance. The JPEG
    // is kept as base64 text: the store's value seam has no blob type in either dialect.
    M::up(
        "CREATE TABLE approval_pictures (
        approval_id INTEGER NOT NULL,
        token TEXT NOT NULL,
        jpeg TEXT NOT NULL,
        PRIMARY KEY (approval_id, token)
    );
    CREATE INDEX approval_pictures_token ON approval_pictures (token);",
    ),
    // The checks made (issue 28, the annual review): each canary run and filter self-test.
    M::up(
        "CREATE TABLE check_runs (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        ok INTEGER NOT NULL,
        summary TEXT NOT NULL,
        by_name TEXT
    );
    CREATE INDEX check_runs_at ON check_runs (at_ms);",
    ),
    // A school site's uploaded tile picture (issue 27), re-encoded; base64 text as pictures are.
    M::up("CREATE TABLE site_pictures (site_id INTEGER PRIMARY KEY, jpeg TEXT NOT NULL);"),
    // The answer card an approved search showed the teacher (issue 26), as JSON; NULL: none.
    // Its picture's JPEG is in approval_pictures with the results' pictures.
    M::up("ALTER TABLE approvals ADD COLUMN card TEXT;"),
];

/// PostgreSQL's spelling of the same steps: `BIGINT` for every integer (rows hold i64 times
/// in milliseconds), identity columns for ids, and staff names unique whatever their case
/// through an index on `lower(name)` (SQLite's `COLLATE NOCASE`; lookups say `lower(name) =
/// lower(?1)` in both).
const POSTGRES: &[&str] = &[
    "CREATE TABLE activity (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        at_ms BIGINT NOT NULL,
        device TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('query', 'refused', 'click', 'blocked_click')),
        category TEXT,
        query TEXT,
        url TEXT
    );
    CREATE INDEX activity_at ON activity (at_ms);
    CREATE INDEX activity_kind ON activity (kind, at_ms);",
    "CREATE TABLE staff (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('teacher', 'dsl', 'admin')),
        password_hash TEXT NOT NULL,
        created_ms BIGINT NOT NULL
    );
    CREATE UNIQUE INDEX staff_name ON staff (lower(name));
    CREATE TABLE staff_sessions (
        key TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        expires_ms BIGINT NOT NULL
    );
    CREATE TABLE security_events (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        at_ms BIGINT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT,
        detail TEXT
    );",
    "CREATE TABLE approvals (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        query_key TEXT NOT NULL,
        query TEXT NOT NULL,
        picture TEXT,
        class TEXT,
        max_pages BIGINT NOT NULL,
        engines TEXT NOT NULL,
        hidden TEXT NOT NULL,
        approved_by BIGINT NOT NULL REFERENCES staff (id),
        school_day TEXT NOT NULL,
        expires_ms BIGINT NOT NULL,
        withdrawn_ms BIGINT,
        created_ms BIGINT NOT NULL,
        frozen TEXT NOT NULL
    );
    CREATE INDEX approvals_live ON approvals (query_key, expires_ms);",
    "CREATE TABLE devices (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        class TEXT NOT NULL,
        label TEXT NOT NULL,
        secret TEXT NOT NULL,
        enrolled_by BIGINT REFERENCES staff (id),
        enrolled_ms BIGINT NOT NULL,
        last_seen_ms BIGINT,
        covered_incident BIGINT,
        revoked_ms BIGINT
    );
    CREATE TABLE enrol_links (
        token TEXT PRIMARY KEY,
        class TEXT NOT NULL,
        label TEXT NOT NULL,
        created_by BIGINT NOT NULL REFERENCES staff (id),
        expires_ms BIGINT NOT NULL,
        used_ms BIGINT
    );
    CREATE TABLE class_windows (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        class TEXT NOT NULL,
        opened_by BIGINT NOT NULL REFERENCES staff (id),
        opened_ms BIGINT NOT NULL,
        ends_ms BIGINT NOT NULL,
        closed_ms BIGINT
    );
    CREATE INDEX class_windows_open ON class_windows (class, ends_ms);
    CREATE TABLE incidents (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        at_ms BIGINT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('tell_adult', 'refused_query')),
        device_id BIGINT,
        device TEXT,
        class TEXT,
        query TEXT,
        page BIGINT,
        result_url TEXT,
        result_title TEXT,
        category TEXT,
        status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'reviewed', 'recorded')),
        reviewed_by TEXT,
        reviewed_ms BIGINT,
        notes TEXT NOT NULL DEFAULT '',
        cleared_by TEXT,
        cleared_ms BIGINT
    );
    CREATE INDEX incidents_at ON incidents (at_ms);
    CREATE TABLE hidden_results (
        url TEXT PRIMARY KEY,
        title TEXT,
        incident_id BIGINT,
        state TEXT NOT NULL CHECK (state IN ('hidden', 'blocked', 'released')),
        at_ms BIGINT NOT NULL,
        decided_by TEXT,
        decided_ms BIGINT
    );
    ALTER TABLE activity ADD COLUMN class TEXT;",
    "CREATE TABLE engine_canary (
        engine TEXT PRIMARY KEY,
        at_ms BIGINT NOT NULL,
        ok BIGINT NOT NULL,
        results BIGINT NOT NULL,
        error TEXT,
        millis BIGINT NOT NULL
    );",
    "ALTER TABLE activity ADD COLUMN repeats BIGINT NOT NULL DEFAULT 1 CHECK (repeats >= 1);",
    "CREATE TABLE schools (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY (START WITH 2) PRIMARY KEY,
        name TEXT NOT NULL,
        created_ms BIGINT NOT NULL
    );
    CREATE UNIQUE INDEX schools_name ON schools (lower(name));
    INSERT INTO schools (id, name, created_ms) VALUES (1, 'Our school', 0);
    ALTER TABLE staff ADD COLUMN school_id BIGINT REFERENCES schools (id);
    UPDATE staff SET school_id = 1;
    ALTER TABLE devices ADD COLUMN school_id BIGINT NOT NULL DEFAULT 1;
    ALTER TABLE enrol_links ADD COLUMN school_id BIGINT NOT NULL DEFAULT 1;
    ALTER TABLE class_windows ADD COLUMN school_id BIGINT NOT NULL DEFAULT 1;
    ALTER TABLE approvals ADD COLUMN school_id BIGINT NOT NULL DEFAULT 1;
    ALTER TABLE incidents ADD COLUMN school_id BIGINT NOT NULL DEFAULT 1;
    ALTER TABLE activity ADD COLUMN school_id BIGINT NOT NULL DEFAULT 1;
    ALTER TABLE hidden_results ADD COLUMN school_id BIGINT NOT NULL DEFAULT 1;
    ALTER TABLE hidden_results DROP CONSTRAINT hidden_results_pkey;
    ALTER TABLE hidden_results ADD PRIMARY KEY (school_id, url);
    CREATE INDEX approvals_school_live ON approvals (school_id, query_key, expires_ms);
    CREATE INDEX class_windows_school ON class_windows (school_id, class, ends_ms);
    CREATE INDEX incidents_school ON incidents (school_id, at_ms);
    CREATE INDEX activity_school ON activity (school_id, at_ms);",
    "ALTER TABLE staff ADD COLUMN session_generation BIGINT NOT NULL DEFAULT 0;
    ALTER TABLE staff ADD COLUMN removed_ms BIGINT;",
    "ALTER TABLE security_events ADD COLUMN school_id BIGINT;
    UPDATE security_events SET school_id = (SELECT staff.school_id FROM staff WHERE lower(staff.name) = lower(security_events.name));
    CREATE INDEX security_events_school ON security_events (school_id, at_ms);
    CREATE INDEX security_events_at ON security_events (at_ms);",
    "ALTER TABLE hidden_results ADD COLUMN decided_authority TEXT;
    CREATE TABLE login_attempts (
        key TEXT PRIMARY KEY,
        failures BIGINT NOT NULL,
        last_ms BIGINT NOT NULL,
        next_ms BIGINT NOT NULL DEFAULT 0
    );",
    "CREATE TABLE storage_probe (id BIGINT PRIMARY KEY, at_ms BIGINT NOT NULL);",
    "CREATE TABLE over_block_reports (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        at_ms BIGINT NOT NULL,
        school_id BIGINT NOT NULL,
        query TEXT NOT NULL,
        category TEXT,
        reported_by TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'exception', 'dismissed')),
        decided_by TEXT,
        decided_ms BIGINT
    );
    CREATE INDEX over_block_reports_open ON over_block_reports (status, school_id);
    CREATE TABLE local_exceptions (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        phrase TEXT NOT NULL UNIQUE,
        added_by TEXT NOT NULL,
        added_ms BIGINT NOT NULL,
        report_id BIGINT
    );",
    "CREATE TABLE first_admin (id BIGINT PRIMARY KEY CHECK (id = 1), at_ms BIGINT NOT NULL);",
    "CREATE TABLE approved_videos (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        school_id BIGINT NOT NULL,
        video_id TEXT NOT NULL,
        title TEXT NOT NULL,
        channel TEXT NOT NULL,
        class TEXT,
        approved_by BIGINT NOT NULL REFERENCES staff (id),
        school_day TEXT NOT NULL,
        expires_ms BIGINT NOT NULL,
        created_ms BIGINT NOT NULL,
        withdrawn_ms BIGINT
    );
    CREATE INDEX approved_videos_live ON approved_videos (school_id, expires_ms);
    CREATE TABLE school_sites (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        school_id BIGINT NOT NULL,
        name TEXT NOT NULL,
        url TEXT NOT NULL,
        picture TEXT NOT NULL,
        class TEXT,
        added_by TEXT NOT NULL,
        added_ms BIGINT NOT NULL
    );
    CREATE INDEX school_sites_school ON school_sites (school_id);",
    "CREATE TABLE approval_pictures (
        approval_id BIGINT NOT NULL,
        token TEXT NOT NULL,
        jpeg TEXT NOT NULL,
        PRIMARY KEY (approval_id, token)
    );
    CREATE INDEX approval_pictures_token ON approval_pictures (token);",
    "CREATE TABLE check_runs (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        at_ms BIGINT NOT NULL,
        kind TEXT NOT NULL,
        ok BIGINT NOT NULL,
        summary TEXT NOT NULL,
        by_name TEXT
    );
    CREATE INDEX check_runs_at ON check_runs (at_ms);",
    "CREATE TABLE site_pictures (site_id BIGINT PRIMARY KEY, jpeg TEXT NOT NULL);",
    "ALTER TABLE approvals ADD COLUMN card TEXT;",
];

pub fn run_sqlite(conn: &mut Connection) -> Result<(), StoreError> {
    Migrations::from_slice(SQLITE).to_latest(conn).map_err(|e| StoreError::Migration(e.to_string()))
}

/// Brings a PostgreSQL database up to date. Several instances may start at once: each takes the
/// same advisory lock inside its transaction, so one migrates and the others then find nothing
/// left to do. A failed step rolls back whole (PostgreSQL's DDL is transactional).
pub fn run_postgres(db: &mut dyn Db) -> Result<(), StoreError> {
    /// Any fixed number: the lock's name among the database's advisory locks.
    const LOCK: i64 = 0x6b69_6473_6561_7263; // "kidsearc"
    let migrate = |db: &mut dyn Db| -> Result<(), DbError> {
        db.query("SELECT pg_advisory_xact_lock(?1)", args![LOCK])?;
        db.execute("CREATE TABLE IF NOT EXISTS kidsearch_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)", &[])?;
        let done: i64 = db.query_one("SELECT COUNT(*) FROM kidsearch_migrations", &[])?.get(0)?;
        let done = usize::try_from(done).unwrap_or(0);
        if done > POSTGRES.len() {
            return Err(DbError(format!(
                "the database is at schema version {done}, newer than this kidsearch knows ({}): upgrade kidsearch, do not run an older one against it",
                POSTGRES.len()
            )));
        }
        for (version, step) in POSTGRES.iter().enumerate().skip(done) {
            for statement in step.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                db.execute(statement, &[]).map_err(|e| DbError(format!("migration {}: {e}", version + 1)))?;
            }
            db.execute("INSERT INTO kidsearch_migrations (version, applied_ms) VALUES (?1, ?2)", args![version + 1, super::now_ms()])?;
        }
        Ok(())
    };
    transaction(db, migrate).map_err(|e| StoreError::Migration(e.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_have_every_step() {
        assert_eq!(SQLITE.len(), POSTGRES.len(), "a migration was added to one dialect only");
    }

    #[test]
    fn a_single_school_install_s_rows_all_belong_to_its_one_school_after_the_tenancy_step() {
        let mut conn = Connection::open_in_memory().unwrap();
        let migrations = Migrations::from_slice(SQLITE);
        migrations.to_version(&mut conn, 6).unwrap();
        conn.execute_batch(
            "INSERT INTO staff (name, role, password_hash, created_ms) VALUES ('Ms Oak', 'teacher', 'x', 1);
             INSERT INTO incidents (at_ms, kind) VALUES (1, 'tell_adult');
             INSERT INTO hidden_results (url, incident_id, state, at_ms) VALUES ('https://example.org/', 1, 'hidden', 1);
             INSERT INTO activity (at_ms, kind) VALUES (1, 'query');",
        )
        .unwrap();
        migrations.to_latest(&mut conn).unwrap();
        let one = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(one("SELECT school_id FROM staff"), 1);
        assert_eq!(one("SELECT school_id FROM incidents"), 1);
        assert_eq!(one("SELECT school_id FROM activity"), 1);
        assert_eq!(one("SELECT school_id FROM hidden_results WHERE url = 'https://example.org/' AND state = 'hidden'"), 1, "kept, keyed by school");
        assert_eq!(conn.query_row("SELECT name FROM schools WHERE id = 1", [], |r| r.get::<_, String>(0)).unwrap(), "Our school");
    }
}
