//! A small filesystem of its own for a data dir, that a test can fill, free again, and make
//! read-only: the fault-injection tests (tests/storage_faults.rs). `SmallDisk` is a tmpfs;
//! `LoopDisk` (below) an ext4 image that turns read-only under a running server.
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

/// A 32 MiB ext4 image on a loop device, which the kernel turns read-only under a running
/// server as it does a failing disk: `fail_writes` makes the image file immutable, so every
/// write the loop device passes on fails with an I/O error; ext4 aborts its journal and, at
/// the next write, remounts itself read-only (`errors=remount-ro`; the kernel logs "Remounting
/// filesystem read-only"). Why not `mount -o remount,ro` or `blockdev --setro`: the first is
/// refused ("mount point is busy") while SQLite holds its files open for writing, and the
/// second only warns ("Trying to write to read-only block-device") and lets writes through.
/// Such a read-only ext4 stays read-only until it is unmounted (a `remount,rw` is accepted but
/// changes nothing): `repair` is what a technician does with the server stopped. Root only;
/// `mount` returns `None` with the reason on stderr where loop devices cannot be used.
pub struct LoopDisk {
    pub dir: PathBuf,
    image: PathBuf,
    device: String,
}

impl LoopDisk {
    pub fn mount(label: &str) -> Option<LoopDisk> {
        let base = super::temp_dir(label);
        let (dir, image) = (base.join("disk"), base.join("disk.img"));
        std::fs::create_dir_all(&dir).expect("mount point");
        std::fs::File::create(&image).and_then(|f| f.set_len(32 * 1024 * 1024)).expect("image");
        let skip = |what: &str, out: &std::process::Output| {
            eprintln!(
                "SKIPPED: cannot {what} for the read-only disk test ({}); run as root where loop devices work (CI does)",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        };
        let run = |program: &str, args: &[&std::ffi::OsStr]| Command::new(program).args(args).output();
        match run("mkfs.ext4", &["-q".as_ref(), "-F".as_ref(), image.as_os_str()]) {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                skip("make an ext4 image", &o);
                return None;
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot run mkfs.ext4 for the read-only disk test ({e})");
                return None;
            }
        }
        let device = match run("losetup", &["-f".as_ref(), "--show".as_ref(), image.as_os_str()]) {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
            Ok(o) => {
                skip("attach a loop device", &o);
                return None;
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot run losetup for the read-only disk test ({e})");
                return None;
            }
        };
        let disk = LoopDisk { dir, image, device };
        match disk.attach() {
            Ok(()) => Some(disk),
            Err(o) => {
                skip("mount the loop device", &o);
                None
            }
        }
    }

    fn attach(&self) -> Result<(), std::process::Output> {
        let out = Command::new("mount").args(["-t", "ext4", "-o", "errors=remount-ro", &self.device]).arg(&self.dir).output().expect("mount");
        if out.status.success() {
            Ok(())
        } else {
            Err(out)
        }
    }

    /// From now on every write to the disk fails (see the type's comment).
    pub fn fail_writes(&self) {
        let status = Command::new("chattr").arg("+i").arg(&self.image).status().expect("chattr");
        assert!(status.success(), "chattr +i {}", self.image.display());
    }

    /// Has the kernel made the disk read-only? Asked by writing to it: an ext4 remounted
    /// read-only after errors still shows `rw` in /proc/mounts, with `emergency_ro` after it.
    pub fn is_read_only(&self) -> bool {
        let probe = self.dir.join("write-probe");
        match std::fs::write(&probe, b"x") {
            Ok(()) => {
                let _ = std::fs::remove_file(probe);
                false
            }
            Err(e) => e.raw_os_error() == Some(30), // EROFS
        }
    }

    /// The disk's line in /proc/mounts, for messages.
    pub fn mount_line(&self) -> Option<String> {
        let dir = self.dir.to_str()?.to_string();
        std::fs::read_to_string("/proc/mounts").ok()?.lines().find(|l| l.split(' ').nth(1) == Some(dir.as_str())).map(str::to_string)
    }

    /// The technician's mend, with nothing using the disk: unmount, let it take writes again,
    /// check it (`e2fsck -fy`: the aborted journal is replayed), mount it again.
    pub fn repair(&self) {
        let status = Command::new("umount").arg(&self.dir).status().expect("umount");
        assert!(status.success(), "umount {}", self.dir.display());
        assert!(Command::new("chattr").arg("-i").arg(&self.image).status().expect("chattr").success());
        // Through the loop device, not the image file: the device's cache must see the mend.
        let fsck = Command::new("e2fsck").args(["-f", "-y", &self.device]).output().expect("e2fsck");
        // 0: clean, 1: errors corrected.
        assert!(matches!(fsck.status.code(), Some(0 | 1)), "e2fsck: {}", String::from_utf8_lossy(&fsck.stdout));
        self.attach().unwrap_or_else(|o| panic!("mount again: {}", String::from_utf8_lossy(&o.stderr)));
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for LoopDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = Command::new("chattr").arg("-i").arg(&self.image).status();
        let _ = Command::new("losetup").args(["-d", &self.device]).status();
        let _ = std::fs::remove_file(&self.image);
    }
}
