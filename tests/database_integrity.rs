//! The database file itself gone wrong: deleted or emptied while the data dir's keys show the
//! install is not new, or damaged in the middle of a page. The real binary must refuse to
//! start (and the CLI to touch it), say which file and how to restore, and `check --database`
//! and `backup` must say what they found. Always the embedded SQLite file: it is the file that
//! is the point.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{FixtureUpstream, RealServer};

/// Does a server on `port` answer `/healthz`?
fn serving(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut conn) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = [0u8; 12];
    conn.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").is_ok() && conn.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && head.ends_with(b" 200")
}

/// Runs `kidsearch ARGS --config …` on `server`'s port until it exits or serves (then it is
/// killed), for at most 30 s. `None` when it started serving.
fn run_briefly(server: &RealServer, args: &[&str]) -> Option<(i32, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kidsearch"))
        .args(args)
        .args(["--config", server.config_path.to_str().expect("path"), "--listen", &format!("127.0.0.1:{}", server.port)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kidsearch");
    let started = Instant::now();
    while !serving(server.port) {
        if child.try_wait().expect("wait").is_some() {
            let out = child.wait_with_output().expect("output");
            return Some((out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))));
        }
        assert!(started.elapsed() < Duration::from_secs(30), "kidsearch {args:?} neither exited nor served in 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A server that has run once and recorded a refused search (so there is an incident row).
async fn used_server(upstream: &FixtureUpstream) -> RealServer {
    let mut server = RealServer::with_sqlite(upstream, "");
    let app = server.start().await;
    for i in 0..5 {
        assert_eq!(app.search_json(&format!("p0rn {i}"), 1).await.1["status"], "blocked");
    }
    assert_eq!(server.terminate(), Some(0));
    server
}

fn remove_database(data_dir: &std::path::Path) {
    for name in ["kidsearch.sqlite3", "kidsearch.sqlite3-wal", "kidsearch.sqlite3-shm"] {
        let _ = std::fs::remove_file(data_dir.join(name));
    }
}

#[tokio::test]
async fn a_deleted_or_emptied_database_beside_old_keys_refuses_to_start_and_says_how_to_restore() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let server = used_server(&upstream).await;
    let backup = server.data_dir.parent().expect("dir").join("nightly.sqlite3");
    let (code, out) = server.run(&["backup", backup.to_str().expect("path")]);
    assert_eq!(code, 0, "{out}");

    for emptied in [false, true] {
        remove_database(&server.data_dir);
        if emptied {
            std::fs::write(server.data_dir.join("kidsearch.sqlite3"), b"").expect("empty file");
        }
        let Some((code, out)) = run_briefly(&server, &[]) else { panic!("the server started on a lost database (emptied: {emptied})") };
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("kidsearch.sqlite3"), "names the file: {out}");
        assert!(out.contains("kidsearch restore"), "says how to restore: {out}");
        assert!(out.contains("--new-database"), "says how to start fresh on purpose: {out}");
        let (code, out) = server.run(&["school", "list"]);
        assert_eq!(code, 1, "the CLI refuses too: {out}");
        assert!(out.contains("kidsearch restore"), "{out}");
        assert!(
            !server.data_dir.join("kidsearch.sqlite3").exists() || std::fs::metadata(server.data_dir.join("kidsearch.sqlite3")).expect("meta").len() == 0,
            "nothing created meanwhile"
        );
    }

    // Restoring puts it back; the server starts with what it had.
    remove_database(&server.data_dir);
    let (code, out) = server.run(&["restore", backup.to_str().expect("path")]);
    assert_eq!(code, 0, "{out}");
    assert!(run_briefly(&server, &[]).is_none(), "starts after a restore");
    let refused: i64 = rusqlite::Connection::open(server.data_dir.join("kidsearch.sqlite3"))
        .expect("open")
        .query_row("SELECT count(*) FROM activity WHERE kind = 'refused'", [], |r| r.get(0))
        .expect("count");
    assert_eq!(refused, 5);

    // Starting fresh on purpose: the flag says what it does.
    remove_database(&server.data_dir);
    assert!(run_briefly(&server, &["--new-database"]).is_none(), "starts with --new-database");
    let incidents: i64 = rusqlite::Connection::open(server.data_dir.join("kidsearch.sqlite3"))
        .expect("open")
        .query_row("SELECT count(*) FROM incidents", [], |r| r.get(0))
        .expect("count");
    assert_eq!(incidents, 0, "a new, empty database");
    assert!(run_briefly(&server, &[]).is_none(), "and from then on without the flag");
}

#[tokio::test]
async fn a_brand_new_data_dir_starts_without_any_flag() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let server = RealServer::with_sqlite(&upstream, "");
    assert!(run_briefly(&server, &[]).is_none(), "a first start is not a lost database");
    assert!(run_briefly(&server, &[]).is_none(), "nor is the second");
}

/// Copies `server`'s database into one file of the test's own (WAL folded in) and returns it.
fn settled_database(server: &RealServer) -> std::path::PathBuf {
    let live = server.data_dir.join("kidsearch.sqlite3");
    let conn = rusqlite::Connection::open(&live).expect("open");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).expect("checkpoint");
    drop(conn);
    live
}

/// Overwrites the cell pointers of the `incidents` table's first page with garbage: the
/// damage a failing disk leaves in the middle of a file, found by SQLite's checks but not by
/// opening the file or reading its schema.
fn damage_incidents_page(file: &std::path::Path) {
    let conn = rusqlite::Connection::open(file).expect("open");
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).expect("page size");
    let root: i64 = conn.query_row("SELECT rootpage FROM sqlite_master WHERE name = 'incidents'", [], |r| r.get(0)).expect("root page");
    drop(conn);
    let mut bytes = std::fs::read(file).expect("read");
    let start = ((root - 1) * page_size + 8) as usize;
    for b in &mut bytes[start..start + 64] {
        *b = 0xEE;
    }
    std::fs::write(file, bytes).expect("write");
}

#[tokio::test]
async fn a_damaged_database_is_named_by_check_refused_at_start_and_never_backed_up() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let server = used_server(&upstream).await;
    let live = settled_database(&server);

    let (code, out) = server.run(&["check", "--database"]);
    assert_eq!(code, 0, "an intact database: {out}");
    assert!(out.contains("integrity check: ok"), "{out}");
    let good = server.data_dir.parent().expect("dir").join("good.sqlite3");
    let (code, out) = server.run(&["backup", good.to_str().expect("path")]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("verified") && out.contains("incidents"), "the backup says what it checked: {out}");

    damage_incidents_page(&live);
    let (code, out) = server.run(&["check", "--database"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("kidsearch.sqlite3") && out.contains("damaged"), "names the file and says it is damaged: {out}");
    assert!(out.contains("kidsearch restore"), "says how to recover: {out}");

    let Some((code, out)) = run_briefly(&server, &[]) else { panic!("the server started on a damaged database") };
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("damaged") && out.contains("kidsearch check --database") && out.contains("kidsearch restore"), "{out}");

    let copy = server.data_dir.parent().expect("dir").join("bad.sqlite3");
    let (code, out) = server.run(&["backup", copy.to_str().expect("path")]);
    assert_eq!(code, 1, "a damaged database makes no backup that looks good: {out}");
    assert!(out.contains("is damaged"), "says it is the database that is damaged: {out}");
    assert!(!copy.exists(), "nothing left behind that could be mistaken for a backup");

    // The way back: restore the good copy.
    let (code, out) = server.run(&["restore", good.to_str().expect("path")]);
    assert_eq!(code, 0, "{out}");
    assert!(run_briefly(&server, &[]).is_none(), "starts again after the restore");
}
