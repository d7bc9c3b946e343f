//! `kidsearch backup` while the server is busy writing, and `kidsearch restore` back into an
//! empty data dir: nothing a teacher approved or a pupil triggered is lost.

mod common;

use common::{FixtureUpstream, RealServer};

#[tokio::test]
async fn a_backup_taken_under_load_restores_every_row_it_saw() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut server = RealServer::with_sqlite(&upstream, "");
    let app = server.start().await;
    // Refusals are committed before their page is sent: these rows must be in the backup.
    for i in 0..20 {
        let (_, body) = app.search_json(&format!("p0rn {i}"), 1).await;
        assert_eq!(body["status"], "blocked");
    }
    // Keep the server writing while the backup runs.
    let busy = {
        let (client, address) = (app.client.clone(), app.address.clone());
        tokio::spawn(async move {
            for i in 0..200 {
                let _ = client.get(format!("{address}/search?q=s3x+{i}&format=json")).send().await;
            }
        })
    };
    let backup = server.data_dir.parent().expect("dir").join("school-backup.sqlite3");
    let (code, out) = server.run(&["backup", backup.to_str().expect("path")]);
    assert_eq!(code, 0, "{out}");
    busy.await.expect("load finished");
    let (code, out) = server.run(&["backup", backup.to_str().expect("path")]);
    assert_eq!(code, 1, "a backup never overwrites: {out}");

    let rows_in_backup: i64 =
        rusqlite::Connection::open(&backup).expect("open").query_row("SELECT count(*) FROM activity WHERE kind = 'refused'", [], |r| r.get(0)).expect("count");
    assert!(rows_in_backup >= 20, "{rows_in_backup}");

    // Disaster: the server dies and its data dir is lost.
    server.kill_9();
    std::fs::remove_dir_all(&server.data_dir).expect("wipe");
    let (code, out) = server.run(&["restore", backup.to_str().expect("path")]);
    assert_eq!(code, 0, "{out}");
    let app = server.start().await;
    assert_eq!(app.search_json("volcanoes", 1).await.0, 200, "serves again");
    server.kill_9();
    let restored: i64 = rusqlite::Connection::open(server.data_dir.join("kidsearch.sqlite3"))
        .expect("open")
        .query_row("SELECT count(*) FROM activity WHERE kind = 'refused'", [], |r| r.get(0))
        .expect("count");
    assert!(restored >= rows_in_backup, "restored {restored} of {rows_in_backup}");
}

#[tokio::test]
async fn restore_refuses_a_file_that_is_not_a_kidsearch_backup_and_keeps_the_old_database() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut server = RealServer::with_sqlite(&upstream, "");
    let app = server.start().await;
    app.search_json("p0rn", 1).await;
    server.kill_9();

    let junk = server.data_dir.parent().expect("dir").join("junk.sqlite3");
    std::fs::write(&junk, "not a database").expect("write");
    let (code, out) = server.run(&["restore", junk.to_str().expect("path")]);
    assert_eq!(code, 1);
    assert!(out.contains("is not a kidsearch backup"), "{out}");
    assert!(server.data_dir.join("kidsearch.sqlite3").exists(), "the live database was left alone");

    // Restoring a real backup keeps the replaced database beside it.
    let good = server.data_dir.parent().expect("dir").join("good.sqlite3");
    assert_eq!(server.run(&["backup", good.to_str().expect("path")]).0, 0);
    let (code, out) = server.run(&["restore", good.to_str().expect("path")]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("before-restore"), "{out}");
}

#[tokio::test]
async fn backup_on_a_postgresql_deployment_points_at_the_database_s_own_tools() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let server = RealServer::with_sqlite(&upstream, "database_url = \"postgres://kidsearch@db.trust.lan/kidsearch\"");
    let target = server.data_dir.parent().expect("dir").join("trust.backup");
    let (code, out) = server.run(&["backup", target.to_str().expect("path")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("pg_dump"), "{out}");
    assert!(!target.exists(), "nothing written");
}
