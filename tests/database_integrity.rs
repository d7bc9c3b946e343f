//! The database file itself gone wrong: deleted or emptied while the data dir's keys show the
//! install is not new, or damaged in the middle of a page. The real binary must refuse to
//! start (and the CLI to touch it), say which file and how to restore, and `check --database`
//! and `backup` must say what they found. Always the embedded SQLite file: it is the file that
//! is the point.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{FixtureUpstream, RealServer};

/// Runs `kidsearch ARGS --config …` on `server`'s port and waits up to 10 s. `None` when it was
/// still running then (it started serving; it is killed).
fn run_briefly(server: &RealServer, args: &[&str]) -> Option<(i32, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kidsearch"))
        .args(args)
        .args(["--config", server.config_path.to_str().expect("path"), "--listen", &format!("127.0.0.1:{}", server.port)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kidsearch");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if child.try_wait().expect("wait").is_some() {
            let out = child.wait_with_output().expect("output");
            return Some((out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))));
        }
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
