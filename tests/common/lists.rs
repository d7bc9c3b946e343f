//! A stand-in for UT1's distribution on 127.0.0.1: `/ut1/<category>.tar.gz` answers whatever
//! archive the test put there (404 for any other), and the archives tests need — a good one
//! of any size (a million domains is ~20 MB unpacked), one cut short, one with an entry that
//! climbs out of its folder, one whose `domains` is larger than the test's limit.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use actix_web::{web, HttpResponse};

#[derive(Default)]
pub struct ListsState {
    archives: Mutex<HashMap<String, Vec<u8>>>,
    requests: Mutex<Vec<String>>,
}

pub struct ListsFixture {
    pub port: u16,
    state: Arc<ListsState>,
}

impl ListsFixture {
    pub async fn start() -> ListsFixture {
        let state = Arc::new(ListsState::default());
        let port = super::fixture::serve_loopback("lists", state.clone(), |cfg| {
            cfg.route("/ut1/{file}", web::get().to(answer));
        });
        // Serving before it returns: a test may next block this thread on the CLI, and the
        // server's start-up runs on it.
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client.get(format!("http://127.0.0.1:{port}/ut1/ready")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        state.requests.lock().unwrap().clear();
        ListsFixture { port, state }
    }

    /// The `lists_url` pointing here.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/ut1", self.port)
    }

    /// From now on `/ut1/<category>.tar.gz` answers `archive`.
    pub fn serve(&self, category: &str, archive: Vec<u8>) {
        self.state.archives.lock().unwrap().insert(format!("{category}.tar.gz"), archive);
    }

    /// The files asked for, in order.
    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().unwrap().clone()
    }
}

async fn answer(file: web::Path<String>, state: web::Data<ListsState>) -> HttpResponse {
    state.requests.lock().unwrap().push(file.clone());
    match state.archives.lock().unwrap().get(file.as_str()) {
        Some(bytes) => HttpResponse::Ok().content_type("application/x-gzip").body(bytes.clone()),
        None => HttpResponse::NotFound().body("Not Found"),
    }
}

/// `count` distinct domains, one a line, as UT1 writes them (the `extra` first).
pub fn domains_text(category: &str, count: usize, extra: &[&str]) -> String {
    let mut text = String::with_capacity(count * 24);
    for e in extra {
        text.push_str(e);
        text.push('\n');
    }
    for i in 0..count.saturating_sub(extra.len()) {
        text.push_str(&format!("site{i}.{category}-list.example\n"));
    }
    text
}

/// One entry's header for `path` (written into the header as is: no check of `..`, which
/// the `tar` crate's own `set_path` would refuse — the point of the traversal archive).
fn header(path: &str, size: u64, kind: tar::EntryType) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    let name = &mut header.as_ustar_mut().expect("ustar").name;
    name[..path.len()].copy_from_slice(path.as_bytes());
    header.set_size(size);
    header.set_mode(if kind == tar::EntryType::Directory { 0o755 } else { 0o644 });
    header.set_entry_type(kind);
    header.set_mtime(1_764_633_600);
    header.set_cksum();
    header
}

/// A gzip-compressed tar of `entries` (path, body; a path ending in `/` is a folder).
pub fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(gz);
    for (path, body) in entries {
        let kind = if path.ends_with('/') { tar::EntryType::Directory } else { tar::EntryType::Regular };
        builder.append(&header(path, body.len() as u64, kind), *body).expect("append");
    }
    let mut gz = builder.into_inner().expect("tar end");
    gz.flush().expect("flush");
    gz.finish().expect("gzip end")
}

/// A category's archive as UT1 packs it: the folder, its `domains` and `urls`.
pub fn good_archive(category: &str, domains: &str) -> Vec<u8> {
    let urls = format!("{category}-list.example/some/page.html\n");
    archive(&[(&format!("{category}/"), b""), (&format!("{category}/domains"), domains.as_bytes()), (&format!("{category}/urls"), urls.as_bytes())])
}

/// A good archive cut off half-way, as an interrupted download leaves it.
pub fn truncated_archive(category: &str, domains: &str) -> Vec<u8> {
    let mut bytes = good_archive(category, domains);
    bytes.truncate(bytes.len() / 2);
    bytes
}

/// A good archive with one more entry that climbs out of the folder, to `../../escaped`.
pub fn traversal_archive(category: &str, domains: &str) -> Vec<u8> {
    archive(&[
        (&format!("{category}/"), b""),
        (&format!("{category}/domains"), domains.as_bytes()),
        (&format!("{category}/../../escaped"), b"written outside the lists folder\n"),
    ])
}
