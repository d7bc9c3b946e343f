//! A small filesystem of its own for a data dir, that a test can fill, free again, and make
//! read-only: the fault-injection tests (tests/storage_faults.rs).
//!
//! The mechanism is a real mount: a 4 MiB tmpfs (`mount -t tmpfs -o size=4m`), which needs
//! root (CI runs as root). Filling is a real `ENOSPC` (a filler file written until the kernel
//! refuses), freeing deletes it. Read-only is `mount -o remount,ro`, which Linux refuses while
//! any file on it is open for writing (SQLite holds its database open): so a test makes the
//! disk read-only between a stop and a start, as a technician finds it after the kernel
//! remounted a failing disk read-only. Where mounting is not possible (not root, no mount
//! permission in a container) `SmallDisk::mount` says so on stderr and returns `None`: the
//! test is then reported as skipped, never passed silently.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct SmallDisk {
    pub dir: PathBuf,
}

impl SmallDisk {
    /// A fresh 4 MiB tmpfs at a new temp folder, or `None` (with the reason printed).
    pub fn mount(label: &str) -> Option<SmallDisk> {
        let dir = super::temp_dir(label).join("disk");
        std::fs::create_dir_all(&dir).expect("mount point");
        let out = Command::new("mount").args(["-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs"]).arg(&dir).output();
        match out {
            Ok(o) if o.status.success() => Some(SmallDisk { dir }),
            Ok(o) => {
                eprintln!(
                    "SKIPPED: cannot mount a small tmpfs for the fault-injection test ({}); run as root (CI does)",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot run mount for the fault-injection test ({e}); run as root (CI does)");
                None
            }
        }
    }

    fn filler(&self) -> PathBuf {
        self.dir.join("filler")
    }

    /// Fills every free byte (a real ENOSPC for the next write that needs a new page).
    pub fn fill(&self) {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(self.filler()).expect("filler");
        for chunk in [64 * 1024, 4096, 1] {
            let bytes = vec![0u8; chunk];
            while file.write_all(&bytes).is_ok() {}
        }
        let _ = file.sync_all();
    }

    /// Frees what `fill` took.
    pub fn free(&self) {
        std::fs::remove_file(self.filler()).expect("remove filler");
    }

    /// Remounts read-only (nothing may have a file open for writing on it: stop the server).
    pub fn read_only(&self) {
        self.remount("ro");
    }

    pub fn read_write(&self) {
        self.remount("rw");
    }

    fn remount(&self, mode: &str) {
        let status = Command::new("mount").args(["-o", &format!("remount,{mode}")]).arg(&self.dir).status().expect("mount");
        assert!(status.success(), "remount {mode} {}", self.dir.display());
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily: a server process of the test may still be going away.
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}
