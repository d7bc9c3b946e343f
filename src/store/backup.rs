//! `kidsearch backup PATH` and `kidsearch restore PATH`: a consistent copy of the database taken
//! while the server runs (SQLite `VACUUM INTO` reads one snapshot and does not block writers;
//! on PostgreSQL, `pg_dump`, which reads one snapshot too), and putting such a copy back (with
//! the server — every instance — stopped). Either way, what a restore replaces is kept.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::{integrity, DB_FILE};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists; choose a new file name (a backup never overwrites)")]
    Exists(PathBuf),
    #[error("there is no database at {0} to back up")]
    NoDatabase(PathBuf),
    #[error("the database {0} is damaged ({1}), so no backup was written: a copy of it would not be one to trust. Run `kidsearch check --database`; the last good backup is the way back (`kidsearch restore PATH`)")]
    Damaged(PathBuf, String),
    #[error("{0} is not a kidsearch backup: {1}")]
    NotABackup(PathBuf, String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Tool(String),
}

/// Writes a consistent copy of the live database to `target` (which must not exist) and
/// verifies it: the copy's own `integrity_check`, and each key table's rows in the copy lie
/// between the live database's just before and just after the copy (the server may write
/// meanwhile; a copy of a damaged file that lost rows falls outside). Returns those counts.
pub fn backup(data_dir: &Path, target: &Path) -> Result<Vec<(&'static str, i64)>, BackupError> {
    let source = data_dir.join(DB_FILE);
    if !source.exists() {
        return Err(BackupError::NoDatabase(source));
    }
    // Made 0600 first (VACUUM INTO accepts an empty file and keeps its mode): a copy of the
    // register is as private as the register.
    private_target(target)?;
    let copied = (|| {
        let damaged = |e: rusqlite::Error| BackupError::Damaged(source.clone(), e.to_string());
        // The live file first: a copy of a damaged one would be called "not a backup", when it
        // is the database that needs the technician.
        integrity::full_check(&source).map_err(|found| BackupError::Damaged(source.clone(), found.into_iter().take(3).collect::<Vec<_>>().join("; ")))?;
        let conn = Connection::open_with_flags(&source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let before = integrity::key_counts(&conn).map_err(damaged)?;
        conn.execute("VACUUM INTO ?1", [target.to_string_lossy()]).map_err(damaged)?;
        let after = integrity::key_counts(&conn).map_err(damaged)?;
        check(target)?;
        let copy = Connection::open_with_flags(target, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let copied = integrity::key_counts(&copy)?;
        for (((table, was), (_, is)), (_, rows)) in before.iter().zip(&after).zip(&copied) {
            if rows < was.min(is) || rows > was.max(is) {
                return Err(BackupError::NotABackup(target.to_path_buf(), format!("{table} has {rows} rows in the copy but {was}–{is} in the database")));
            }
        }
        Ok(copied)
    })();
    if copied.is_err() {
        let _ = std::fs::remove_file(target);
    }
    copied
}

/// Creates the empty, owner-only file a backup is written into; one that exists is never
/// overwritten.
fn private_target(target: &Path) -> Result<(), BackupError> {
    match super::private::create_file(target) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(BackupError::Exists(target.to_path_buf())),
        Err(e) => Err(BackupError::Io(e)),
    }
}

/// Checks a file is an intact kidsearch database: integrity, and the tables kidsearch made.
pub fn check(file: &Path) -> Result<i64, BackupError> {
    let bad = |why: String| BackupError::NotABackup(file.to_path_buf(), why);
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| bad(e.to_string()))?;
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| bad(e.to_string()))?;
    if integrity != "ok" {
        return Err(bad(format!("integrity check says {integrity}")));
    }
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| bad(e.to_string()))?;
    let has_activity: bool = conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'activity'", [], |r| r.get::<_, i64>(0))
        .map(|n| n == 1)
        .map_err(|e| bad(e.to_string()))?;
    if version == 0 || !has_activity {
        return Err(bad("it has no kidsearch tables".into()));
    }
    Ok(version)
}

/// Puts a backup in place of the database. The server must be stopped. The current database,
/// if any, is kept beside it as `kidsearch.sqlite3.before-restore-<ms>`, so nothing is lost.
pub fn restore(data_dir: &Path, backup_file: &Path) -> Result<Option<PathBuf>, BackupError> {
    check(backup_file)?;
    super::private::data_dir(data_dir)?;
    let live = data_dir.join(DB_FILE);
    let kept = if live.exists() {
        let aside = data_dir.join(format!("{DB_FILE}.before-restore-{}", super::now_ms()));
        std::fs::rename(&live, &aside)?;
        for ext in ["-wal", "-shm"] {
            let side = data_dir.join(format!("{DB_FILE}{ext}"));
            if side.exists() {
                std::fs::rename(&side, data_dir.join(format!("{}{ext}", aside.display())))?;
            }
        }
        Some(aside)
    } else {
        None
    };
    let staging = data_dir.join(format!("{DB_FILE}.restoring"));
    let _ = std::fs::remove_file(&staging);
    // Not fs::copy: it would give the live database the backup file's mode (0644 if someone
    // left it so); the staging file is made 0600 and the bytes copied in.
    let mut into = super::private::create_file(&staging)?;
    std::io::copy(&mut std::fs::File::open(backup_file)?, &mut into)?;
    into.sync_all()?;
    std::fs::rename(&staging, &live)?;
    Ok(kept)
}

/// PostgreSQL: `pg_dump` of the whole database to `target` (custom format, must not exist).
pub fn backup_postgres(url: &str, target: &Path) -> Result<(), BackupError> {
    // pg_dump writes into the owner-only file made here and keeps its mode.
    private_target(target)?;
    let dumped = (|| {
        let mut dump = pg_tool("pg_dump", url)?;
        dump.args(["--format=custom", "--no-owner", "--file"]).arg(target);
        run_tool(dump)?;
        check_postgres_dump(target)
    })();
    if dumped.is_err() {
        let _ = std::fs::remove_file(target);
    }
    dumped
}

/// PostgreSQL: puts a `pg_dump` file back in one transaction. The database as it was is first
/// dumped to `data_dir/kidsearch-postgres.before-restore-<ms>.dump`, so nothing is lost.
pub fn restore_postgres(url: &str, data_dir: &Path, backup_file: &Path) -> Result<PathBuf, BackupError> {
    check_postgres_dump(backup_file)?;
    super::private::data_dir(data_dir)?;
    let kept = data_dir.join(format!("kidsearch-postgres.before-restore-{}.dump", super::now_ms()));
    backup_postgres(url, &kept)?;
    let mut restore = pg_tool("pg_restore", url)?;
    restore.args(["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"]).arg(backup_file);
    run_tool(restore)?;
    Ok(kept)
}

/// A `pg_dump` file of a kidsearch database: `pg_restore --list` reads it and it has our tables.
fn check_postgres_dump(file: &Path) -> Result<(), BackupError> {
    let mut list = std::process::Command::new("pg_restore");
    list.arg("--list").arg(file);
    let listing = run_tool(list).map_err(|e| BackupError::NotABackup(file.to_path_buf(), e.to_string()))?;
    if !listing.contains("kidsearch_migrations") || !listing.contains("activity") {
        return Err(BackupError::NotABackup(file.to_path_buf(), "it has no kidsearch tables".into()));
    }
    Ok(())
}

/// One of PostgreSQL's client tools, aimed at the database `url` names. Where to connect goes
/// in libpq's environment variables, never on the command line: a password there would be
/// readable by every user of the machine (`ps`, /proc/PID/cmdline), where a process's
/// environment is its owner's alone. `--dbname` carries only the database's name.
fn pg_tool(tool: &str, url: &str) -> Result<std::process::Command, BackupError> {
    use postgres::config::Host;
    let target = super::postgres::parse_url(url).map_err(|e| BackupError::Tool(format!("database_url: {e}")))?;
    let config = &target.config;
    let mut command = std::process::Command::new(tool);
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    if !hosts.is_empty() {
        command.env("PGHOST", hosts.join(","));
    }
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    if !ports.is_empty() {
        command.env("PGPORT", ports.join(","));
    }
    if let Some(user) = config.get_user() {
        command.env("PGUSER", user);
    }
    if let Some(password) = config.get_password() {
        let password = std::str::from_utf8(password).map_err(|_| BackupError::Tool("database_url: the password is not UTF-8 text".into()))?;
        command.env("PGPASSWORD", password);
    }
    // TLS as the server uses it: verified against the CA file (libpq's `require` alone would
    // check nothing), or encrypted only when the public web's roots are meant, which
    // libpq 15 cannot name.
    if target.tls() {
        match &target.root_cert {
            Some(file) => {
                command.env("PGSSLMODE", "verify-full").env("PGSSLROOTCERT", file);
            }
            None => {
                command.env("PGSSLMODE", "require");
            }
        }
    }
    // libpq's default database is the user's name, as the server's own connection assumes.
    if let Some(name) = config.get_dbname().or(config.get_user()) {
        // A conninfo string, so that no name is ever read as a URL or an option.
        command.arg("--dbname").arg(format!("dbname='{}'", name.replace('\\', "\\\\").replace('\'', "\\'")));
    }
    Ok(command)
}

/// Runs one of PostgreSQL's client tools; its output, or what it said went wrong.
fn run_tool(mut command: std::process::Command) -> Result<String, BackupError> {
    let tool = command.get_program().to_string_lossy().into_owned();
    let output = command.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            BackupError::Tool(format!("{tool} is not installed: install PostgreSQL's client tools (Debian: apt install postgresql-client)"))
        }
        _ => BackupError::Tool(format!("cannot run {tool}: {e}")),
    })?;
    if !output.status.success() {
        return Err(BackupError::Tool(format!("{tool} failed: {}", String::from_utf8_lossy(&output.stderr).trim())));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(command: &std::process::Command) -> (Vec<String>, std::collections::HashMap<String, String>) {
        let args = command.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        let env = command.get_envs().filter_map(|(k, v)| Some((k.to_string_lossy().into_owned(), v?.to_string_lossy().into_owned()))).collect();
        (args, env)
    }

    #[test]
    fn the_database_password_never_goes_on_a_tools_command_line() {
        let (args, env) = parts(&pg_tool("pg_dump", "postgres://kidsearch:s3cret%20pw@db.trust.lan:5433/kid's").expect("a good url"));
        assert_eq!(args, ["--dbname", r"dbname='kid\'s'"], "only the database's name, quoted");
        assert_eq!(env["PGPASSWORD"], "s3cret pw");
        assert_eq!((env["PGHOST"].as_str(), env["PGPORT"].as_str(), env["PGUSER"].as_str()), ("db.trust.lan", "5433", "kidsearch"));

        // The key=value spelling, a socket folder, and no database named: the user's.
        let (args, env) = parts(&pg_tool("pg_restore", "host=/run/postgresql user=ks password=hunter2").expect("a good conninfo"));
        assert_eq!(args, ["--dbname", "dbname='ks'"]);
        assert_eq!((env["PGHOST"].as_str(), env["PGPASSWORD"].as_str()), ("/run/postgresql", "hunter2"));
        assert!(!args.iter().any(|a| a.contains("hunter2")));

        // TLS as the server uses it (verify-full with a CA file: tests/backup_restore.rs).
        let (_, env) = parts(&pg_tool("pg_dump", "postgres://x@db/kidsearch?sslmode=require").expect("TLS"));
        assert_eq!(env["PGSSLMODE"], "require");
        assert!(pg_tool("pg_dump", "postgres://x@db/kidsearch?sslmode=require&sslrootcert=/nonexistent.pem").is_err(), "refused as the server refuses it");
    }
}
