//! `kidsearch backup` while the server is busy writing, and `kidsearch restore` back into an
//! empty data dir: nothing a teacher approved or a pupil triggered is lost. SQLite's file copy,
//! and (in the PostgreSQL pass) PostgreSQL's pg_dump / pg_restore behind the same commands.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh's PostgreSQL pass"]
async fn on_postgresql_backup_is_a_pg_dump_and_restore_keeps_what_it_replaces() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut server = RealServer::with_settings(&upstream, "");
    assert!(common::database_url_for(&server.data_dir).is_some(), "KIDSEARCH_TEST_DATABASE_URL names the PostgreSQL server this test needs");
    let app = server.start().await;
    let refused = async |app: &common::TestApp, from: usize, to: usize| {
        for i in from..to {
            assert_eq!(app.search_json(&format!("p0rn {i}"), 1).await.1["status"], "blocked");
        }
    };
    refused(&app, 0, 20).await;
    let backup = server.data_dir.parent().expect("dir").join("trust.dump");
    let (code, out) = server.run(&["backup", backup.to_str().expect("path")]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("pg_dump"), "{out}");
    assert_eq!(server.run(&["backup", backup.to_str().expect("path")]).0, 1, "a backup never overwrites");
    refused(&app, 20, 25).await;
    let data_dir = server.data_dir.clone();
    let count = async || common::db_rows(&data_dir, "SELECT COUNT(*) FROM activity WHERE kind = 'refused'", vec![]).await[0][0].clone();
    assert_eq!(count().await.as_deref(), Some("25"));

    // Not a dump: refused, nothing touched.
    let junk = server.data_dir.parent().expect("dir").join("junk.dump");
    std::fs::write(&junk, "hello").expect("junk");
    assert_eq!(server.terminate(), Some(0));
    let (code, out) = server.run(&["restore", junk.to_str().expect("path")]);
    assert!(code == 1 && out.contains("not a kidsearch backup"), "{out}");
    assert_eq!(count().await.as_deref(), Some("25"));

    // Back to the backup; the 5 later rows are in the dump kept beside the data dir.
    let (code, out) = server.run(&["restore", backup.to_str().expect("path")]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(count().await.as_deref(), Some("20"), "the database is as it was at the backup");
    let kept = std::fs::read_dir(&server.data_dir).expect("data dir").flatten().find(|e| e.file_name().to_string_lossy().contains("before-restore"));
    assert!(kept.is_some(), "the replaced database was dumped first: {out}");
    let app = server.start().await;
    assert_eq!(app.search_json("volcanoes", 1).await.0, 200, "serves again");
}

/// A trust keeps the database password out of kidsearch.toml, where libpq looks for it: a
/// password file (`PGPASSFILE`, `~/.pgpass`) or `PGPASSWORD`. The server finds it, and so does
/// `kidsearch backup`'s pg_dump (given it in its environment, never on its command line).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh's PostgreSQL pass"]
async fn on_postgresql_the_password_can_live_in_a_password_file_or_pgpassword() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let dir = common::temp_dir("pgpass");
    let url = common::test_database(&dir).expect("KIDSEARCH_TEST_DATABASE_URL names the PostgreSQL server this test needs");
    let mut without = url::Url::parse(&url).expect("a URL");
    let password = without.password().expect("the test server asks for a password (scripts/test-postgres.sh)").to_string();
    without.set_password(None).expect("no password");
    let mut server = RealServer::with_sqlite(&upstream, &format!("database_url = {:?}\n", without.as_str()));
    let passfile = dir.join("pgpass");
    let line = format!("{}:{}:{}:{}:{password}\n", without.host_str().expect("host"), without.port().expect("port"), &without.path()[1..], without.username());
    std::fs::write(&passfile, line).expect("password file");
    let private = |mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    private(0o600);
    let passfile_env = ("PGPASSFILE".to_string(), passfile.display().to_string());

    // Neither: refused, saying why.
    server.env = vec![("PGPASSFILE".into(), dir.join("none").display().to_string())];
    let (code, out) = server.run(&["backup", dir.join("0.dump").to_str().expect("path")]);
    assert!(code != 0 && out.contains("password"), "{out}");

    // The password file: the server serves, and a backup is taken.
    server.env = vec![passfile_env.clone()];
    let app = server.start().await;
    assert_eq!(app.search_json("volcanoes", 1).await.0, 200);
    let (code, out) = server.run(&["backup", dir.join("1.dump").to_str().expect("path")]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(server.terminate(), Some(0));

    // A password file others may read is ignored, as libpq ignores it.
    private(0o644);
    let (code, out) = server.run(&["backup", dir.join("2.dump").to_str().expect("path")]);
    assert!(code != 0 && out.contains("chmod 600"), "{out}");

    // PGPASSWORD alone.
    server.env = vec![("PGPASSFILE".into(), dir.join("none").display().to_string()), ("PGPASSWORD".into(), password)];
    let (code, out) = server.run(&["backup", dir.join("3.dump").to_str().expect("path")]);
    assert_eq!(code, 0, "{out}");
}

/// A trust's database over TLS (`sslmode=require`, the test server accepts nothing else): the
/// server's connections are encrypted, and a server certificate from another CA is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: run by scripts/test.sh's PostgreSQL pass"]
async fn on_postgresql_the_connection_is_tls_and_a_certificate_from_another_ca_is_refused() {
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let mut server = RealServer::with_settings(&upstream, "");
    let url = common::database_url_for(&server.data_dir).expect("KIDSEARCH_TEST_DATABASE_URL names the PostgreSQL server this test needs");
    assert!(url.contains("sslmode=require"), "the test server is reached over TLS: {url}");
    let app = server.start().await;
    assert_eq!(app.search_json("volcanoes", 1).await.0, 200);
    let encrypted = common::db_rows(&server.data_dir, "SELECT CASE WHEN ssl THEN 1 ELSE 0 END FROM pg_stat_ssl WHERE pid = pg_backend_pid()", vec![]).await;
    assert_eq!(encrypted[0][0].as_deref(), Some("1"), "this connection is TLS");
    let backup = server.data_dir.parent().expect("dir").join("tls.dump");
    let (code, out) = server.run(&["backup", backup.to_str().expect("path")]);
    assert_eq!(code, 0, "pg_dump over TLS, verifying the server: {out}");

    // Another CA (a certificate of its own making) does not vouch for this server.
    let other_ca = server.data_dir.parent().expect("dir").join("other-ca.pem");
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout"])
        .arg(other_ca.with_extension("key"))
        .arg("-out")
        .arg(&other_ca)
        .args(["-days", "1", "-subj", "/CN=someone else"])
        .output()
        .expect("openssl");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let (address, query) = url.split_once('?').expect("a query");
    let kept: Vec<&str> = query.split('&').filter(|p| !p.starts_with("sslrootcert=")).collect();
    let wrong = format!("{address}?{}&sslrootcert={}", kept.join("&"), other_ca.display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kidsearch"))
        .args(["--database-url", &wrong, "--data-dir", server.data_dir.to_str().expect("path"), "user", "list"])
        .output()
        .expect("kidsearch");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success() && said.to_lowercase().contains("certificate"), "{said}");
}

/// `kidsearch ARGS` with the process umask at 022, as a shell started outside systemd has it.
fn under_umask_022(args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new("sh");
    command.args(["-c", "umask 022 && exec \"$@\"", "sh", env!("CARGO_BIN_EXE_kidsearch")]).args(args);
    command
}

/// The file's permission bits in octal, as `ls -l` readers think of them ("0600").
fn mode_of(path: &std::path::Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    format!("{:04o}", std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777)
}

#[tokio::test]
async fn the_data_dir_its_database_and_backups_are_private_whatever_the_umask() {
    // The attack: outside systemd (a technician's `cargo run`, a container without UMask=0077),
    // the data dir came out 0755 and the database, its -wal/-shm and every backup 0644: any
    // local account could copy the incident register, staff password hashes and sessions. Now
    // the dir is made 0700 and each database file 0600 whatever the umask.
    let upstream = FixtureUpstream::start(&["bing"]).await;
    let server = RealServer::with_sqlite(&upstream, "");
    let data_dir = server.data_dir.clone();
    assert!(!data_dir.exists(), "a fresh data dir");
    let config = server.config_path.to_str().expect("path").to_string();

    // The first admin, made before the server ever ran.
    let mut add = under_umask_022(&["user", "add", "--role", "admin", "Ms Ada", "--config", &config]);
    let mut child = add.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::null()).spawn().expect("user add");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), b"a long password here\n").expect("password");
    assert!(child.wait().expect("user add").success());
    assert_eq!(mode_of(&data_dir), "0700", "the data dir");
    assert_eq!(mode_of(&data_dir.join("kidsearch.sqlite3")), "0600", "the database made by user add");

    // The server, with its write-ahead log open.
    let listen = format!("127.0.0.1:{}", server.port);
    let mut running = under_umask_022(&["--config", &config, "--listen", &listen])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let app = common::TestApp { address: format!("http://{listen}"), client: reqwest::Client::new(), data_dir: data_dir.clone() };
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(&listen).await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(app.search_json("p0rn", 1).await.1["status"], "blocked", "a durable write: the WAL is in use");
    for file in ["kidsearch.sqlite3", "kidsearch.sqlite3-wal", "kidsearch.sqlite3-shm"] {
        assert_eq!(mode_of(&data_dir.join(file)), "0600", "{file}");
    }
    let backup = data_dir.parent().expect("dir").join("nightly.sqlite3");
    let status = under_umask_022(&["backup", backup.to_str().expect("path"), "--config", &config]).status().expect("backup");
    assert!(status.success());
    assert_eq!(mode_of(&backup), "0600", "the backup");
    running.kill().expect("stop the server");
    running.wait().expect("reaped");

    // A restore from a copy someone left world-readable does not make the live database so.
    std::fs::remove_dir_all(&data_dir).expect("wipe");
    std::fs::set_permissions(&backup, std::os::unix::fs::PermissionsExt::from_mode(0o644)).expect("chmod");
    let status = under_umask_022(&["restore", backup.to_str().expect("path"), "--config", &config]).status().expect("restore");
    assert!(status.success());
    assert_eq!(mode_of(&data_dir), "0700", "the data dir the restore made");
    assert_eq!(mode_of(&data_dir.join("kidsearch.sqlite3")), "0600", "the restored database");

    // An existing data dir left open to others is tightened; one already tight is left as it is.
    std::fs::set_permissions(&data_dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let (code, out) = server.run(&["user", "list"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(mode_of(&data_dir), "0700", "tightened: {out}");
}
