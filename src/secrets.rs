//! Secrets kept in the data dir (the /go link key, the staff session key, the device key) or
//! derived from a secret file a trust's instances share, and the small pieces of care they
//! need: system randomness, 0600 files, constant-time comparison.

use std::io::Write;
use std::path::{Path, PathBuf};

use ring::rand::{SecureRandom, SystemRandom};

/// `len` bytes from the operating system's random source.
pub fn random_bytes(len: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    SystemRandom::new().fill(&mut buf).map_err(|_| std::io::Error::other("no system randomness"))?;
    Ok(buf)
}

/// Reads the secret at `path`, or creates it (random, `len` bytes, 0600) on first start.
/// `damaged` says what deleting a wrong-length file would cost, for the error message.
pub fn load_or_create(path: &Path, len: usize, damaged: &str) -> std::io::Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) if bytes.len() == len => Ok(bytes),
        Ok(_) => Err(std::io::Error::other(format!("{} is damaged (wrong length); delete it to make a new one ({damaged})", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let fresh = random_bytes(len)?;
            write_private(path, &fresh)?;
            Ok(fresh)
        }
        Err(e) => Err(e),
    }
}

/// Where the signing keys come from.
#[derive(Clone)]
pub struct Keys {
    data_dir: PathBuf,
    /// The trust's shared secret (`shared_secret_file`), if set: every key is derived from it.
    shared: Option<Vec<u8>>,
}

/// The shortest shared secret accepted: 256 bits.
const SHARED_MIN_BYTES: usize = 32;

impl Keys {
    /// Keys made at first start and kept in `data_dir` (one instance).
    pub fn per_data_dir(data_dir: &Path) -> Keys {
        Keys { data_dir: data_dir.to_path_buf(), shared: None }
    }

    /// Keys derived from `shared_secret_file` if set (every instance signs alike), otherwise
    /// kept in `data_dir`.
    pub fn from_config(data_dir: &Path, shared_secret_file: Option<&Path>) -> std::io::Result<Keys> {
        let shared = shared_secret_file.map(read_shared).transpose()?;
        Ok(Keys { data_dir: data_dir.to_path_buf(), shared })
    }

    /// The `len`-byte key named `file`: derived from the shared secret (HKDF-SHA256, the file
    /// name as its label, so each key differs), or read from / created in the data dir.
    /// `damaged` says what replacing a per-dir key costs, for the error message.
    pub fn key(&self, file: &str, len: usize, damaged: &str) -> std::io::Result<Vec<u8>> {
        match &self.shared {
            Some(secret) => Ok(derive(secret, file, len)),
            None => load_or_create(&self.data_dir.join(file), len, damaged),
        }
    }
}

/// Reads a shared secret file: at least 32 bytes, and not readable by other users.
pub fn read_shared(path: &Path) -> std::io::Result<Vec<u8>> {
    let named = |e: std::io::Error| std::io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(named)?.permissions().mode();
        if mode & 0o007 != 0 {
            return Err(std::io::Error::other(format!("{} can be read by every user on this machine (mode {:o}); chmod 600 it", path.display(), mode & 0o777)));
        }
    }
    let bytes = std::fs::read(path).map_err(named)?;
    if bytes.len() < SHARED_MIN_BYTES {
        return Err(std::io::Error::other(format!(
            "{} holds {} bytes; a shared secret needs at least {SHARED_MIN_BYTES} random bytes",
            path.display(),
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// HKDF-SHA256 of `secret` for the purpose `label`.
fn derive(secret: &[u8], label: &str, len: usize) -> Vec<u8> {
    use ring::hkdf;
    struct Len(usize);
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"kidsearch shared secret").extract(secret);
    let info = [label.as_bytes()];
    let mut out = vec![0u8; len];
    // Only fails for len > 255 × 32 bytes; kidsearch's keys are 32 or 64.
    prk.expand(&info, Len(len)).and_then(|okm| okm.fill(&mut out)).expect("HKDF output length is small");
    out
}

/// Lower-case hex, in one allocation (signatures are made on hot paths).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// `len` random bytes as hex (tokens, secrets).
pub fn random_hex(len: usize) -> std::io::Result<String> {
    random_bytes(len).map(|b| hex(&b))
}

/// Equal, compared in constant time: every byte is looked at whatever the first difference.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Creates a file only its owner can read (0600) holding `bytes`; fails if it exists.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_secret_gives_every_instance_the_same_keys_and_each_purpose_its_own() {
        let dir = std::env::temp_dir().join(format!("kidsearch-test-secrets-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let secret = dir.join("shared.secret");
        write_private(&secret, &[7u8; 48]).expect("write");
        let one = Keys::from_config(&dir.join("a"), Some(&secret)).expect("keys");
        let two = Keys::from_config(&dir.join("b"), Some(&secret)).expect("keys");
        let key = |k: &Keys, f: &str| k.key(f, 32, "").expect("key");
        assert_eq!(key(&one, "session.key"), key(&two, "session.key"), "two data dirs, one secret: same key");
        assert_ne!(key(&one, "session.key"), key(&one, "device-signing.key"), "each purpose its own key");
        assert!(!dir.join("a").exists(), "nothing written per data dir");

        std::fs::write(dir.join("short"), [1u8; 8]).expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.join("short"), std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        assert!(read_shared(&dir.join("short")).unwrap_err().to_string().contains("at least 32"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            assert!(read_shared(&secret).unwrap_err().to_string().contains("chmod 600"));
        }
    }
}
