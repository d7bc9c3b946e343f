//! Lists that stay current: `kidsearch lists update` fetches the UT1 categories the settings
//! name (`lists_categories`) from `lists_url` (UT1's own distribution), checks each, and
//! installs the good ones in `<data_dir>/lists/<category>/domains`, where the policy reads
//! them beside `allowlist/domains/` (`policy::FetchedLists`); the running server notices the
//! changed files by itself (`reload`).
//!
//! Invariants:
//! - the download goes through a `GuardedClient` for `lists_url`'s host alone (a private
//!   address only for a local override: a mirror, a test fixture), capped at
//!   `lists_max_download_bytes`;
//! - nothing is installed that was not read whole and found sound: the archive by
//!   `archive::unpack_domains` (paths, kinds, sizes, the gzip trailer), then its `domains` by
//!   the policy's own parser (`DomainSet::parse_counting`), which must find mostly domains;
//! - a category's `domains` file is replaced by one `rename` of a file written and synced
//!   beside it: the server reads the old list or the new one, never part of one, and a
//!   refused download leaves the list in force untouched; the one it replaces is kept as
//!   `lists/.previous-<category>/` (hidden folders are never read as lists);
//! - each installed list carries `fetched.json` (when, from where, how many domains), which
//!   `kidsearch check`, the staff Engine health page and `/metrics` read its age from; the
//!   last run's outcome per category is `lists/last-update.json`.

pub mod archive;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{ServerConfig, UT1_LISTS_URL};
use crate::outbound::GuardedClient;
use crate::policy::{DomainSet, FetchedLists};

/// A category's archive is tens of MB: time enough for a slow school line.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(600);
/// More skipped lines than this share (and than `SKIPPED_ANYWAY`) and the file is no list.
const MAX_SKIPPED_SHARE: f64 = 0.01;
const SKIPPED_ANYWAY: usize = 100;
/// The lists folder's record of the last run.
const LAST_UPDATE: &str = "last-update.json";
/// Beside each installed `domains`: what it is.
const FETCHED: &str = "fetched.json";

/// What is known of an installed list (`<category>/fetched.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Fetched {
    /// When it was installed (ms since the epoch).
    pub at_ms: i64,
    pub url: String,
    pub archive_bytes: u64,
    pub domains: usize,
    /// Lines the policy's parser skipped (not domains, or public suffixes).
    pub skipped: usize,
}

/// One category's outcome in a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Outcome {
    pub category: String,
    pub installed: bool,
    /// What happened, for the technician: the counts, or what was wrong and the fix.
    pub message: String,
}

/// The last run (`lists/last-update.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LastUpdate {
    pub at_ms: i64,
    pub outcomes: Vec<Outcome>,
}

/// A category as `check`, the health page and `/metrics` show it.
#[derive(Debug, Clone)]
pub struct ListState {
    pub category: String,
    /// The list in force, if one was ever fetched.
    pub fetched: Option<Fetched>,
    /// The last run's word on it, if it was in the last run.
    pub last: Option<Outcome>,
}

impl ListState {
    /// Seconds since the list in force was fetched.
    pub fn age_secs(&self, now_ms: i64) -> Option<u64> {
        self.fetched.as_ref().map(|f| (now_ms.saturating_sub(f.at_ms).max(0) / 1000) as u64)
    }

    /// "3 hours", "2 days": how old it is, for people.
    pub fn age_words(&self, now_ms: i64) -> Option<String> {
        self.age_secs(now_ms).map(age_words)
    }
}

/// "40 seconds", "3 hours", "2 days".
pub fn age_words(secs: u64) -> String {
    let (n, unit) = match secs {
        s if s < 120 => (s, "second"),
        s if s < 2 * 3600 => (s / 60, "minute"),
        s if s < 2 * 86_400 => (s / 3600, "hour"),
        s => (s / 86_400, "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// The state of every category the settings name, read from the lists folder.
pub fn states(lists: &FetchedLists) -> Vec<ListState> {
    let dir = &lists.dir;
    let last: Option<LastUpdate> = read_json(&dir.join(LAST_UPDATE));
    lists
        .categories
        .iter()
        .map(|category| ListState {
            category: category.clone(),
            fetched: read_json(&dir.join(category).join(FETCHED)),
            last: last.as_ref().and_then(|l| l.outcomes.iter().find(|o| &o.category == category).cloned()),
        })
        .collect()
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Fetches, checks and installs every category in `lists_categories`, one after another;
/// a failed one leaves its list in force and does not stop the others.
pub async fn update(config: &ServerConfig) -> Result<Vec<Outcome>, String> {
    let dir = config.fetched_lists_dir();
    crate::store::private::data_dir(&config.data_dir).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    // One run at a time (the nightly timer and a technician at once): an advisory lock the
    // kernel lets go of when the process ends, however it ends.
    let lock_path = dir.join(".update.lock");
    let lock =
        std::fs::File::options().create(true).truncate(false).write(true).open(&lock_path).map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        return Err(format!("another `kidsearch lists update` is running (it holds {}); let it finish", lock_path.display()));
    }
    let base = Url::parse(&config.lists_url).map_err(|e| format!("lists_url {:?}: {e}", config.lists_url))?;
    let client = client_for(&base, config)?;
    let mut outcomes = Vec::new();
    for category in &config.lists_categories {
        let outcome = match update_one(&client, &base, category, &dir, config).await {
            Ok(message) => Outcome { category: category.clone(), installed: true, message },
            Err(why) => {
                let in_force = read_json::<Fetched>(&dir.join(category).join(FETCHED)).map_or_else(
                    || "No list of this category was fetched before: only allowlist/domains/ applies to it.".to_string(),
                    |f| format!("The list fetched {} ago stays in force.", age_words(((now_ms() - f.at_ms).max(0) / 1000) as u64)),
                );
                Outcome { category: category.clone(), installed: false, message: format!("{why} {in_force}") }
            }
        };
        outcomes.push(outcome);
    }
    let record = LastUpdate { at_ms: now_ms(), outcomes: outcomes.clone() };
    if let Err(e) = write_json_atomically(&dir, LAST_UPDATE, &record) {
        tracing::warn!(error = %e, "could not record this run in {}", dir.join(LAST_UPDATE).display());
    }
    drop(lock);
    Ok(outcomes)
}

/// The guarded client for `lists_url`'s host (and port) alone.
fn client_for(base: &Url, config: &ServerConfig) -> Result<GuardedClient, String> {
    let host = base.host_str().ok_or("lists_url has no host")?.to_ascii_lowercase();
    let host = match base.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    };
    // Only a local override (a mirror, a fixture) may live on a private address.
    let private_ok = config.lists_url.trim_end_matches('/') != UT1_LISTS_URL;
    let max = usize::try_from(config.lists_max_download_bytes).unwrap_or(usize::MAX);
    GuardedClient::for_hosts(vec![host], private_ok, DOWNLOAD_TIMEOUT, &config.user_agent, max)
}

/// `<lists_url>/<category>.tar.gz`.
fn archive_url(base: &Url, category: &str) -> Result<Url, String> {
    let mut url = base.clone();
    url.path_segments_mut().map_err(|()| format!("lists_url {base} cannot have a path added"))?.pop_if_empty().push(&format!("{category}.tar.gz"));
    Ok(url)
}

/// One category: download, check, install. `Err` is the whole sentence for the technician:
/// what was wrong, then the fix.
async fn update_one(client: &GuardedClient, base: &Url, category: &str, dir: &Path, config: &ServerConfig) -> Result<String, String> {
    use crate::engines::EngineError;
    let url = archive_url(base, category)?;
    let (status, body) = client.get_bytes(&url).await.map_err(|e| match e {
        EngineError::TooLarge(max) => format!(
            "Not installed: {url} is larger than lists_max_download_bytes ({max} bytes). Fix: if UT1's archive really grew that much, raise lists_max_download_bytes in kidsearch.toml."
        ),
        EngineError::Timeout(ms) => format!("Not installed: {url} did not arrive within {} s. Fix: check this server's connection to {}; the next run tries again.", ms / 1000, url.host_str().unwrap_or("?")),
        other => format!(
            "Not installed: could not fetch {url} ({other}). Fix: check this server can reach {} over HTTPS (a firewall or proxy in the way?), and lists_url in kidsearch.toml.",
            url.host_str().unwrap_or("?")
        ),
    })?;
    match status {
        200 => {}
        404 => {
            return Err(format!(
                "Not installed: {url} answered 404 Not Found: UT1 has no category {category:?}. Fix: use UT1's own folder names in lists_categories (drugs is \"drogue\", violence \"agressif\"; the list is at https://dsi.ut-capitole.fr/blacklists/)."
            ))
        }
        s => return Err(format!("Not installed: {url} answered HTTP {s}. Fix: UT1 may be down for a while; the next run tries again.")),
    }
    let archive_bytes = body.len() as u64;
    let (dir_owned, category_owned, max_file) = (dir.to_path_buf(), category.to_string(), config.lists_max_file_bytes);
    // Unpacking and parsing a million domains is seconds of CPU: off the async workers.
    let checked = tokio::task::spawn_blocking(move || unpack_and_check(&body, &category_owned, &dir_owned, max_file))
        .await
        .map_err(|e| format!("Not installed: the check stopped ({e})."))??;
    let fetched = Fetched { at_ms: now_ms(), url: url.to_string(), archive_bytes, domains: checked.domains, skipped: checked.skipped };
    install(dir, category, &checked.incoming, &fetched).map_err(|e| {
        let _ = std::fs::remove_dir_all(&checked.incoming);
        format!("Not installed: could not put the new list in place ({e}). Fix: check the data dir has free space and belongs to the kidsearch user.")
    })?;
    let skipped = if fetched.skipped > 0 { format!(", {} lines that are not domains skipped", fetched.skipped) } else { String::new() };
    Ok(format!("installed {} domains{skipped} ({} bytes from {url}).", fetched.domains, archive_bytes))
}

/// A new list unpacked and found sound, waiting in its hidden folder.
struct Checked {
    incoming: PathBuf,
    domains: usize,
    skipped: usize,
}

/// Unpacks into `lists/.incoming-<category>/` and reads the list with the policy's parser.
fn unpack_and_check(body: &[u8], category: &str, dir: &Path, max_file_bytes: u64) -> Result<Checked, String> {
    let incoming = dir.join(format!(".incoming-{category}"));
    let _ = std::fs::remove_dir_all(&incoming);
    std::fs::create_dir_all(&incoming).map_err(|e| format!("Not installed: cannot make {} ({e}).", incoming.display()))?;
    let refuse = |what: String| {
        let _ = std::fs::remove_dir_all(&incoming);
        what
    };
    let unpacked = archive::unpack_domains(body, category, &incoming, max_file_bytes).map_err(|p| refuse(format!("Not installed: {p}. Fix: {}.", p.fix())))?;
    let bytes = std::fs::read(&unpacked.domains).map_err(|e| refuse(format!("Not installed: cannot read the unpacked list back ({e}).")))?;
    // The policy reads lists as UTF-8 text: a stray byte in another encoding would make the
    // whole file unreadable to it, so such lines are made unreadable instead (and skipped).
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            std::fs::write(&unpacked.domains, &text)
                .and_then(|()| std::fs::File::open(&unpacked.domains)?.sync_all())
                .map_err(|e| refuse(format!("Not installed: cannot write the list ({e}).")))?;
            text
        }
    };
    let mut problems = Vec::new();
    let shown = format!("{category}/domains");
    let (set, counts) = DomainSet::parse_counting(&text, &shown, &mut problems);
    let too_many_skipped = counts.skipped > SKIPPED_ANYWAY && counts.skipped as f64 > counts.entries as f64 * MAX_SKIPPED_SHARE;
    if set.is_empty() || too_many_skipped {
        let first = problems.first().map(|p| format!(" (the first: {p})")).unwrap_or_default();
        return Err(refuse(format!(
            "Not installed: {shown} is not a domains list: {} of its {} lines are not domain names{first}. Fix: check lists_url points at UT1's archives (an error page saved as the archive looks like this).",
            counts.skipped, counts.entries
        )));
    }
    Ok(Checked { incoming, domains: set.len(), skipped: counts.skipped })
}

/// Puts `incoming/domains` in place of `<category>/domains` with one rename, after keeping
/// the one in force as `.previous-<category>/domains` (a hard link: the live name never goes
/// missing), then its `fetched.json`. Every step is synced, files and folders.
fn install(dir: &Path, category: &str, incoming: &Path, fetched: &Fetched) -> std::io::Result<()> {
    let live = dir.join(category);
    let previous = dir.join(format!(".previous-{category}"));
    std::fs::create_dir_all(&live)?;
    std::fs::create_dir_all(&previous)?;
    for name in ["domains", FETCHED] {
        let current = live.join(name);
        if current.exists() {
            let kept = previous.join(format!(".{name}.new"));
            let _ = std::fs::remove_file(&kept);
            if std::fs::hard_link(&current, &kept).is_err() {
                std::fs::copy(&current, &kept)?;
                std::fs::File::open(&kept)?.sync_all()?;
            }
            std::fs::rename(&kept, previous.join(name))?;
        }
    }
    sync_dir(&previous)?;
    write_json_atomically(incoming, FETCHED, fetched)?;
    std::fs::rename(incoming.join("domains"), live.join("domains"))?;
    std::fs::rename(incoming.join(FETCHED), live.join(FETCHED))?;
    sync_dir(&live)?;
    std::fs::remove_dir_all(incoming)?;
    sync_dir(dir)
}

/// Writes `dir/name` through a synced temporary file and a rename.
fn write_json_atomically<T: Serialize>(dir: &Path, name: &str, value: &T) -> std::io::Result<()> {
    let temporary = dir.join(format!(".{name}.new"));
    let text = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    std::fs::write(&temporary, text)?;
    std::fs::File::open(&temporary)?.sync_all()?;
    std::fs::rename(&temporary, dir.join(name))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_people_say_them() {
        assert_eq!(age_words(1), "1 second");
        assert_eq!(age_words(90), "90 seconds");
        assert_eq!(age_words(3 * 3600 + 5), "3 hours");
        assert_eq!(age_words(86_400 + 3600), "25 hours");
        assert_eq!(age_words(9 * 86_400), "9 days");
    }

    #[test]
    fn the_archive_url_is_the_category_under_lists_url() {
        let base = Url::parse("https://dsi.ut-capitole.fr/blacklists/download").unwrap();
        assert_eq!(archive_url(&base, "adult").unwrap().as_str(), "https://dsi.ut-capitole.fr/blacklists/download/adult.tar.gz");
        let slash = Url::parse("http://127.0.0.1:9000/ut1/").unwrap();
        assert_eq!(archive_url(&slash, "drogue").unwrap().as_str(), "http://127.0.0.1:9000/ut1/drogue.tar.gz");
    }
}
