//! The password for a `database_url` that carries none, from where libpq (psql, pg_dump) would
//! find it: `PGPASSWORD`, else the password file (`PGPASSFILE`, or `~/.pgpass`). The Rust
//! driver reads neither (rust-postgres issue #729), yet a trust's technician keeps the
//! password out of kidsearch.toml exactly this way, as the README says.
//!
//! The file is libpq's: lines of `host:port:database:user:password`, `*` matching anything,
//! `\:` and `\\` escaped, `#` comments; the first line that matches wins. A socket folder or
//! no host matches the name `localhost`. Like libpq, a file that its group or others may
//! read is ignored (with a warning), since anyone could have planted it.

use std::path::{Path, PathBuf};

use postgres::config::Host;

/// Where a password may come from, besides the URL.
pub struct Sources {
    pub env_password: Option<String>,
    pub passfile: Option<PathBuf>,
}

impl Sources {
    /// libpq's: `PGPASSWORD`, and `PGPASSFILE` or `$HOME/.pgpass`.
    pub fn from_env() -> Sources {
        let env_password = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty());
        let passfile = std::env::var_os("PGPASSFILE")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".pgpass")));
        Sources { env_password, passfile }
    }
}

/// Gives `config` a password from `sources` when its URL had none.
pub fn fill_in(config: &mut postgres::Config, sources: &Sources) {
    if config.get_password().is_some() {
        return;
    }
    if let Some(password) = &sources.env_password {
        config.password(password.as_str());
        return;
    }
    let Some(file) = &sources.passfile else { return };
    let Some(text) = read_private(file) else { return };
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        // libpq's name for a connection through a socket folder, or with no host at all.
        Some(Host::Unix(_)) | None => "localhost".to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432).to_string();
    let user = config.get_user().unwrap_or_default().to_string();
    let database = config.get_dbname().map(str::to_string).unwrap_or_else(|| user.clone());
    if let Some(password) = lookup(&text, [&host, &port, &database, &user]) {
        config.password(password);
    }
}

/// The file's text, unless it is missing or others may read it.
fn read_private(file: &Path) -> Option<String> {
    let metadata = std::fs::metadata(file).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o077 != 0 {
            tracing::warn!(file = %file.display(), "the PostgreSQL password file is ignored: others may read it (chmod 600 it)");
            return None;
        }
    }
    if !metadata.is_file() {
        return None;
    }
    std::fs::read_to_string(file).ok()
}

/// The password of the first line whose four fields match `wanted` (host, port, database, user).
fn lookup(text: &str, wanted: [&str; 4]) -> Option<String> {
    text.lines().filter(|line| !line.trim_start().starts_with('#')).find_map(|line| {
        let fields = split_fields(line);
        let [host, port, database, user, password] = <[String; 5]>::try_from(fields).ok()?;
        let matches = |field: &str, want: &str| field == "*" || field == want;
        [host, port, database, user].iter().zip(wanted).all(|(field, want)| matches(field, want)).then_some(password)
    })
}

/// A line's fields, split at unescaped colons, escapes removed. The password is the rest of
/// the line after the fourth colon, colons and all, as libpq reads it.
fn split_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.trim_end_matches('\r').chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().expect("never empty").push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("never empty").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> postgres::Config {
        url.parse().expect("a url")
    }

    fn private_file(text: &str, mode: u32) -> PathBuf {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("kidsearch-pgpass-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("pgpass");
        std::fs::write(&file, text).expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
        file
    }

    #[test]
    fn the_first_matching_line_of_a_private_file_gives_the_password() {
        let file = private_file(
            "# the trust's database\n\
             db.trust.lan:5432:other:kidsearch:wrong\n\
             db.trust.lan:*:kidsearch:kidsearch:pa\\:ss\\\\word:x\n\
             *:*:*:*:fallback\n",
            0o600,
        );
        let sources = Sources { env_password: None, passfile: Some(file.clone()) };
        let mut c = config("postgres://kidsearch@db.trust.lan:6543/kidsearch");
        fill_in(&mut c, &sources);
        assert_eq!(c.get_password(), Some(&b"pa:ss\\word:x"[..]), "escapes removed, a colon after the fourth kept; any port");
        let mut c = config("postgres://someone@db.trust.lan/else");
        fill_in(&mut c, &sources);
        assert_eq!(c.get_password(), Some(&b"fallback"[..]));
        // No database named: the user's name, as libpq and the driver assume.
        let mut c = config("host=/run/postgresql user=kidsearch");
        fill_in(&mut c, &Sources { env_password: None, passfile: Some(private_file("localhost:5432:kidsearch:kidsearch:sock\n", 0o600)) });
        assert_eq!(c.get_password(), Some(&b"sock"[..]), "a socket folder is localhost");
    }

    #[test]
    fn the_url_wins_then_pgpassword_then_the_file() {
        let file = private_file("*:*:*:*:from-file\n", 0o600);
        let mut c = config("postgres://k:from-url@db/x");
        fill_in(&mut c, &Sources { env_password: Some("from-env".into()), passfile: Some(file.clone()) });
        assert_eq!(c.get_password(), Some(&b"from-url"[..]));
        let mut c = config("postgres://k@db/x");
        fill_in(&mut c, &Sources { env_password: Some("from-env".into()), passfile: Some(file.clone()) });
        assert_eq!(c.get_password(), Some(&b"from-env"[..]));
        let mut c = config("postgres://k@db/x");
        fill_in(&mut c, &Sources { env_password: None, passfile: Some(file) });
        assert_eq!(c.get_password(), Some(&b"from-file"[..]));
    }

    #[test]
    fn a_file_others_may_read_a_missing_file_and_no_match_give_nothing() {
        for sources in [
            Sources { env_password: None, passfile: Some(private_file("*:*:*:*:planted\n", 0o644)) },
            Sources { env_password: None, passfile: Some(PathBuf::from("/nonexistent/kidsearch/.pgpass")) },
            Sources { env_password: None, passfile: Some(private_file("other:*:*:*:no\nbroken line\n", 0o600)) },
            Sources { env_password: None, passfile: None },
        ] {
            let mut c = config("postgres://k@db/x");
            fill_in(&mut c, &sources);
            assert_eq!(c.get_password(), None);
        }
    }
}
