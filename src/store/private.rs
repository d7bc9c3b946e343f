//! The data dir and the database files in it are the school's safeguarding record (incidents,
//! staff password hashes, sessions, keys): only the account kidsearch runs as may read them.
//! systemd's `UMask=0077` and `StateDirectoryMode=0700` gave that under systemd alone; from a
//! technician's shell (umask 022) the dir came out 0755 and the files 0644. Here the modes are
//! set explicitly after creating, so no umask decides them.

use std::io;
use std::path::Path;

/// Only the owner: nothing for the group or others.
const OTHERS: u32 = 0o077;
const PRIVATE_DIR: u32 = 0o700;
const PRIVATE_FILE: u32 = 0o600;

/// Creates `dir` (and missing parents) 0700; an existing one that others may enter or read is
/// tightened to its owner's bits (logged), one already tighter is left as it is.
pub fn data_dir(dir: &Path) -> io::Result<()> {
    let created = !dir.exists();
    let named = |e: io::Error| io::Error::new(e.kind(), format!("cannot create data dir {}: {e}", dir.display()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(PRIVATE_DIR).create(dir).map_err(named)?;
        let before = mode_of(dir)?;
        if before & OTHERS != 0 {
            set_mode(dir, before & !OTHERS)?;
            if !created {
                tracing::warn!(dir = %dir.display(), "the data dir was open to other users (mode {:o}); it is now {:o}", before & 0o777, before & 0o700);
            }
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).map_err(named)?;
    Ok(())
}

/// Creates `path` (it must not exist) readable and writable by its owner only.
pub fn create_file(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(PRIVATE_FILE);
    }
    let file = options.open(path)?;
    // The umask may have taken bits from the owner too (0277): set exactly.
    #[cfg(unix)]
    set_mode(path, PRIVATE_FILE)?;
    Ok(file)
}

/// Takes the group's and others' bits off `path` if it exists (a database made by an older
/// kidsearch, or a -wal/-shm beside it).
pub fn tighten_file(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let before = match mode_of(path) {
            Ok(mode) => mode,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if before & OTHERS != 0 {
            set_mode(path, before & !OTHERS)?;
            tracing::warn!(file = %path.display(), "the file was readable by other users (mode {:o}); it is now {:o}", before & 0o777, before & 0o700);
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(unix)]
fn mode_of(path: &Path) -> io::Result<u32> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::metadata(path)?.permissions().mode())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn fresh(label: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("kidsearch-private-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_looser_dir_is_tightened_and_a_tighter_one_is_not_loosened() {
        let open = fresh("open");
        std::fs::create_dir_all(&open).expect("dir");
        set_mode(&open, 0o755).expect("chmod");
        data_dir(&open).expect("tighten");
        assert_eq!(mode_of(&open).expect("mode") & 0o777, 0o700);
        set_mode(&open, 0o500).expect("chmod");
        data_dir(&open).expect("leave");
        assert_eq!(mode_of(&open).expect("mode") & 0o777, 0o500, "not loosened");
        set_mode(&open, 0o700).expect("chmod");

        let file = open.join("f");
        std::fs::write(&file, b"x").expect("write");
        set_mode(&file, 0o644).expect("chmod");
        tighten_file(&file).expect("tighten");
        assert_eq!(mode_of(&file).expect("mode") & 0o777, 0o600);
        tighten_file(&open.join("missing")).expect("a missing file is nothing to do");
        assert!(create_file(&file).is_err(), "never overwrites");
        let _ = std::fs::remove_dir_all(&open);
    }
}
