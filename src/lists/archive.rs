//! One UT1 category archive (`<category>.tar.gz`) read as hostile input: the `tar` crate reads
//! the format (ustar, GNU long names, PAX), and every entry is judged here before anything is
//! written. Only `<category>/domains` is written, into a folder the caller made; nothing in
//! the archive picks a path on disk.
//!
//! Refused, the whole archive with it:
//! - an entry outside `<category>/`: an absolute path, a `..` anywhere, another top folder;
//! - an entry that is not a plain file or folder: symbolic and hard links, devices, FIFOs;
//! - an entry larger than `lists_max_file_bytes` (as declared, and as read), or more entries
//!   or more bytes in all than a category's folder ever holds;
//! - a damaged or cut-short archive: the gzip stream is read to its end, where its CRC and
//!   length prove every byte before them arrived as sent.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

/// A UT1 category folder holds a handful of files (`domains`, `urls`, `usage`, `expressions`).
const MAX_ENTRIES: usize = 64;
/// All entries together may hold this many times `lists_max_file_bytes` (`urls` beside
/// `domains`), so a small archive cannot make kidsearch inflate gigabytes.
const TOTAL_FILES: u64 = 3;

/// Why an archive was not unpacked. `Display` says what; [`ArchiveProblem::fix`] what to do.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveProblem {
    #[error("the archive is damaged or cut short ({0})")]
    Damaged(String),
    #[error("the archive holds {path:?}, which is outside its {category}/ folder")]
    Outside { path: String, category: String },
    #[error("the archive's entry {path:?} is a {kind}: only plain files and folders are unpacked")]
    NotPlain { path: String, kind: &'static str },
    #[error("{path:?} in the archive is {size} bytes, more than lists_max_file_bytes ({max})")]
    TooLarge { path: String, size: u64, max: u64 },
    #[error("the archive holds more than {0}: more than a UT1 category folder ever does")]
    TooMuch(String),
    #[error("the archive holds no {0}/domains file")]
    NoDomains(String),
    #[error("the archive holds {0}/domains twice")]
    Twice(String),
    #[error("cannot write the unpacked list in {0}")]
    Write(String),
}

impl ArchiveProblem {
    /// What the technician can do about it.
    pub fn fix(&self) -> &'static str {
        match self {
            ArchiveProblem::Damaged(_) => "the download was probably interrupted: run `kidsearch lists update` again (tonight's timer will too)",
            ArchiveProblem::Outside { .. } | ArchiveProblem::NotPlain { .. } | ArchiveProblem::Twice(_) => {
                "this is not how UT1 packs a category: check lists_url points at UT1 (or a faithful mirror) and tell its maintainers"
            }
            ArchiveProblem::TooLarge { .. } | ArchiveProblem::TooMuch(_) => {
                "if UT1's list really grew that much, raise lists_max_file_bytes in kidsearch.toml; otherwise check lists_url"
            }
            ArchiveProblem::NoDomains(_) => "check the category's name against UT1's list of categories, and that lists_url points at UT1",
            ArchiveProblem::Write(_) => "check the data dir has free space and belongs to the kidsearch user",
        }
    }
}

/// What was unpacked: the `domains` file and its size.
#[derive(Debug)]
pub struct Unpacked {
    pub domains: PathBuf,
    pub bytes: u64,
}

/// Reads `archive` (gzip-compressed tar) and writes its `<category>/domains` to
/// `into/domains` (a new file, synced to disk). `into` must exist and be empty.
pub fn unpack_domains(archive: &[u8], category: &str, into: &Path, max_file_bytes: u64) -> Result<Unpacked, ArchiveProblem> {
    let damaged = |e: std::io::Error| ArchiveProblem::Damaged(e.to_string());
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let target = into.join("domains");
    let mut written: Option<u64> = None;
    let mut total: u64 = 0;
    for (n, entry) in tar.entries().map_err(damaged)?.enumerate() {
        let mut entry = entry.map_err(damaged)?;
        if n >= MAX_ENTRIES {
            return Err(ArchiveProblem::TooMuch(format!("{MAX_ENTRIES} entries")));
        }
        let raw_path = entry.path().map_err(damaged)?.into_owned();
        let shown = raw_path.display().to_string();
        let inside = inside_folder(&raw_path, category).ok_or_else(|| ArchiveProblem::Outside { path: shown.clone(), category: category.to_string() })?;
        let kind = entry.header().entry_type();
        let size = entry.size();
        match kind {
            tar::EntryType::Directory => continue,
            // PAX global headers carry no file (the crate applies per-file PAX headers itself).
            tar::EntryType::XGlobalHeader => continue,
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            other => return Err(ArchiveProblem::NotPlain { path: shown, kind: kind_name(other) }),
        }
        if size > max_file_bytes {
            return Err(ArchiveProblem::TooLarge { path: shown, size, max: max_file_bytes });
        }
        total += size;
        if total > max_file_bytes.saturating_mul(TOTAL_FILES) {
            return Err(ArchiveProblem::TooMuch(format!("{} bytes in all", max_file_bytes.saturating_mul(TOTAL_FILES))));
        }
        if inside != Path::new("domains") {
            // `urls`, `usage`, `expressions`: kidsearch blocks by domain only. Their bytes are
            // read past (and counted by the gzip check at the end), never written.
            continue;
        }
        if written.is_some() {
            return Err(ArchiveProblem::Twice(category.to_string()));
        }
        let bytes = copy_capped(&mut entry, &target, max_file_bytes).map_err(|e| match e {
            Copy::Read(e) => damaged(e),
            Copy::Write(e) => ArchiveProblem::Write(format!("{}: {e}", into.display())),
            Copy::TooLarge(size) => ArchiveProblem::TooLarge { path: shown.clone(), size, max: max_file_bytes },
        })?;
        if bytes != size {
            return Err(ArchiveProblem::Damaged(format!("{shown} ended after {bytes} of its {size} bytes")));
        }
        written = Some(bytes);
    }
    // The rest of the gzip stream, to its trailer: the CRC and length there fail for an
    // archive cut short anywhere (also just after the last entry) or changed on the way.
    let mut rest = tar.into_inner();
    std::io::copy(&mut rest, &mut std::io::sink()).map_err(damaged)?;
    match written {
        Some(bytes) => Ok(Unpacked { domains: target, bytes }),
        None => Err(ArchiveProblem::NoDomains(category.to_string())),
    }
}

/// The part of `path` under `<category>/` (`domains` for `adult/domains`, `./adult/domains`),
/// `""` for the folder itself; `None` when the path is absolute, climbs with `..`, or lies
/// under any other folder.
fn inside_folder(path: &Path, category: &str) -> Option<PathBuf> {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    let (first, rest) = parts.split_first()?;
    (*first == category).then(|| rest.iter().collect())
}

fn kind_name(kind: tar::EntryType) -> &'static str {
    match kind {
        tar::EntryType::Symlink => "symbolic link",
        tar::EntryType::Link => "hard link",
        tar::EntryType::Char => "character device",
        tar::EntryType::Block => "block device",
        tar::EntryType::Fifo => "FIFO",
        _ => "special entry",
    }
}

enum Copy {
    Read(std::io::Error),
    Write(std::io::Error),
    TooLarge(u64),
}

/// Copies at most `max` bytes of `from` into the new file `to` and syncs it; one byte more is
/// `TooLarge` (the declared size was checked already: this holds if it lied).
fn copy_capped(from: &mut impl Read, to: &Path, max: u64) -> Result<u64, Copy> {
    let mut file = File::options().write(true).create_new(true).open(to).map_err(Copy::Write)?;
    let mut buffer = vec![0u8; 256 * 1024];
    let mut copied: u64 = 0;
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Copy::Read(e)),
        };
        copied += n as u64;
        if copied > max {
            return Err(Copy::TooLarge(copied));
        }
        file.write_all(&buffer[..n]).map_err(Copy::Write)?;
    }
    file.sync_all().map_err(Copy::Write)?;
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gzip tar of (path, kind, body, link target) entries, the path written as is.
    fn archive(entries: &[(&str, tar::EntryType, &[u8], &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
        for (path, kind, body, link) in entries {
            let mut header = tar::Header::new_ustar();
            let ustar = header.as_ustar_mut().unwrap();
            ustar.name[..path.len()].copy_from_slice(path.as_bytes());
            ustar.linkname[..link.len()].copy_from_slice(link.as_bytes());
            header.set_size(body.len() as u64);
            header.set_entry_type(*kind);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append(&header, *body).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    /// A folder of its own under the temp dir, removed when the test is done with it.
    struct Scratch(PathBuf);

    impl std::ops::Deref for Scratch {
        type Target = std::path::Path;
        fn deref(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl AsRef<std::path::Path> for Scratch {
        fn as_ref(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn unpack(bytes: &[u8]) -> (Result<Unpacked, ArchiveProblem>, Scratch) {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = Scratch(std::env::temp_dir().join(format!("kidsearch-archive-{}-{n}", std::process::id())));
        let _ = std::fs::remove_dir_all(&dir.0);
        std::fs::create_dir_all(&dir.0).unwrap();
        (unpack_domains(bytes, "adult", &dir.0, 1024 * 1024), dir)
    }

    const REGULAR: tar::EntryType = tar::EntryType::Regular;

    #[test]
    fn a_sound_archive_gives_its_domains_file_and_nothing_else() {
        let (done, dir) = unpack(&archive(&[
            ("adult/", tar::EntryType::Directory, b"", ""),
            ("adult/domains", REGULAR, b"bad.example\n", ""),
            ("./adult/urls", REGULAR, b"bad.example/x\n", ""),
        ]));
        assert_eq!(done.unwrap().bytes, 12);
        assert_eq!(std::fs::read_to_string(dir.join("domains")).unwrap(), "bad.example\n");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "urls is not written");
    }

    #[test]
    fn links_devices_absolute_paths_and_other_folders_refuse_the_whole_archive() {
        let domains = ("adult/domains", REGULAR, &b"bad.example\n"[..], "");
        for (entry, says) in [
            (("adult/urls", tar::EntryType::Symlink, &b""[..], "/etc/passwd"), "is a symbolic link"),
            (("adult/urls", tar::EntryType::Link, &b""[..], "adult/domains"), "is a hard link"),
            (("adult/dev", tar::EntryType::Char, &b""[..], ""), "is a character device"),
            (("adult/fifo", tar::EntryType::Fifo, &b""[..], ""), "is a FIFO"),
            (("/etc/cron.d/x", REGULAR, &b"* * * * * root x\n"[..], ""), "outside its adult/ folder"),
            (("gambling/domains", REGULAR, &b"x.example\n"[..], ""), "outside its adult/ folder"),
            (("adult/domains", REGULAR, &b"again.example\n"[..], ""), "holds adult/domains twice"),
        ] {
            let (done, _) = unpack(&archive(&[domains, entry]));
            let problem = done.expect_err(says).to_string();
            assert!(problem.contains(says), "{problem}");
        }
    }

    #[test]
    fn an_archive_that_is_not_gzip_or_has_no_domains_or_is_too_large_is_refused() {
        let (done, _) = unpack(b"<html>Service unavailable</html>");
        assert!(matches!(done, Err(ArchiveProblem::Damaged(_))));
        let (done, _) = unpack(&archive(&[("adult/urls", REGULAR, b"x.example/y\n", "")]));
        assert!(matches!(done, Err(ArchiveProblem::NoDomains(_))));
        let big = vec![b'a'; 1024 * 1024 + 1];
        let (done, dir) = unpack(&archive(&[("adult/domains", REGULAR, &big, "")]));
        assert!(matches!(done, Err(ArchiveProblem::TooLarge { .. })));
        assert!(!dir.join("domains").exists());
    }

    #[test]
    fn only_paths_under_the_category_folder_are_inside() {
        assert_eq!(inside_folder(Path::new("adult/domains"), "adult"), Some(PathBuf::from("domains")));
        assert_eq!(inside_folder(Path::new("./adult/domains"), "adult"), Some(PathBuf::from("domains")));
        assert_eq!(inside_folder(Path::new("adult/"), "adult"), Some(PathBuf::new()));
        assert_eq!(inside_folder(Path::new("adult/../../etc/passwd"), "adult"), None);
        assert_eq!(inside_folder(Path::new("/etc/passwd"), "adult"), None);
        assert_eq!(inside_folder(Path::new("gambling/domains"), "adult"), None);
        assert_eq!(inside_folder(Path::new("domains"), "adult"), None);
    }
}
