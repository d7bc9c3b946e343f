//! Secrets kept in the data dir (the /go link key, the staff session key) and the small pieces
//! of care they need: system randomness, 0600 files, constant-time comparison.

use std::io::Write;
use std::path::Path;

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
