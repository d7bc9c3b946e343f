//! The policy the running server uses, reloaded from `allowlist/` without a restart (SIGHUP,
//! a change to the files, another instance's notice).
//!
//! Invariants:
//! - a reload builds the whole new policy first and swaps it in one step: a check sees the old
//!   lists or the new ones, never half of each; a reload with any problem changes nothing
//!   (the old policy stays, the problems are kept for the log and the staff Engine health page);
//! - every policy carries its `generation`, and the search caches key their entries by it, so
//!   no answer built under the old lists is served once the new ones are in force;
//! - the local exceptions (`local`) are the same live set before and after a reload.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use super::{load_policy_with, FetchedLists, Policy};
use crate::config::ConfigProblems;

/// Where the policy is read from, as the server was started.
#[derive(Debug, Clone)]
pub struct PolicySource {
    pub allowlist_dir: PathBuf,
    pub walled_garden: bool,
    pub categories_off: Vec<String>,
    /// The settings file, for a problem with `categories_off`.
    pub config_file: String,
    /// The lists `kidsearch lists update` installs in the data dir (read and watched too).
    pub fetched: Option<FetchedLists>,
}

/// What the last reload did, for the staff Engine health page.
#[derive(Debug, Clone, Default)]
pub struct ReloadStatus {
    /// When the policy in force was loaded (ms since the epoch) and why.
    pub loaded_ms: i64,
    pub loaded_because: String,
    /// The last reload that was refused, if it came after the policy in force: when, why it
    /// was tried, and every problem (file, line, fix).
    pub refused: Option<(i64, String, String)>,
}

/// The files' sizes and modification times, to notice a change by polling (see `watch`).
type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>)>;

pub struct LivePolicy {
    current: RwLock<Arc<Policy>>,
    source: PolicySource,
    status: Mutex<ReloadStatus>,
    /// What the files looked like at the last load, and a changed look waiting to settle.
    seen: Mutex<(Fingerprint, Option<Fingerprint>)>,
    /// One reload at a time: two at once could swap in the older of the two last.
    reloading: Mutex<()>,
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

impl LivePolicy {
    pub fn new(policy: Policy, source: PolicySource) -> LivePolicy {
        let seen = (fingerprint(&source), None);
        LivePolicy {
            current: RwLock::new(Arc::new(policy)),
            source,
            status: Mutex::new(ReloadStatus { loaded_ms: now_ms(), loaded_because: "start-up".into(), refused: None }),
            seen: Mutex::new(seen),
            reloading: Mutex::new(()),
        }
    }

    /// A policy that is never reloaded (tests, CLI commands).
    pub fn fixed(policy: Policy) -> LivePolicy {
        LivePolicy::new(
            policy,
            PolicySource { allowlist_dir: PathBuf::new(), walled_garden: false, categories_off: Vec::new(), config_file: String::new(), fetched: None },
        )
    }

    /// The policy in force now. Hold the `Arc` for one whole check or answer, so every step of
    /// it uses the same lists (and its generation names them).
    pub fn current(&self) -> Arc<Policy> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn status(&self) -> ReloadStatus {
        self.status.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn source(&self) -> &PolicySource {
        &self.source
    }

    /// Reads every list again and swaps the new policy in, or keeps the old one and returns
    /// the problems. Blocking (a full UT1 set is a second or two of CPU): call it off the async
    /// workers. `because` says what asked (for the log and the health page).
    pub fn reload(&self, because: &str) -> Result<u64, ConfigProblems> {
        self.reload_with(because, || Ok(())).map(|(generation, ())| generation)
    }

    /// As `reload`, with `also` — the rest of `allowlist/` read in the same step (the engine
    /// definitions, `reload::Reloader`): the new lists are swapped in only if `also` found no
    /// problem either, and then `also`'s value is returned for the caller to put in force. Its
    /// problems and the lists' are reported together.
    pub fn reload_with<T>(&self, because: &str, also: impl FnOnce() -> Result<T, ConfigProblems>) -> Result<(u64, T), ConfigProblems> {
        let _one = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let before = fingerprint(&self.source);
        let s = &self.source;
        let loaded = load_policy_with(&s.allowlist_dir, s.walled_garden, &s.categories_off, &s.config_file, s.fetched.as_ref());
        let loaded = match (also(), loaded) {
            (Ok(value), Ok(policy)) => Ok((value, policy)),
            (also, loaded) => {
                let mut problems = also.err().map(|p| p.0).unwrap_or_default();
                problems.extend(loaded.err().map(|p| p.0).unwrap_or_default());
                Err(ConfigProblems(problems))
            }
        };
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        match loaded {
            Ok((value, (mut policy, warnings))) => {
                for warning in &warnings {
                    tracing::warn!("{warning}");
                }
                let old = self.current();
                policy.local = old.local.clone();
                policy.generation = old.generation + 1;
                let generation = policy.generation;
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(policy);
                *status = ReloadStatus { loaded_ms: now_ms(), loaded_because: because.to_string(), refused: None };
                *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = (before, None);
                Ok((generation, value))
            }
            Err(problems) => {
                status.refused = Some((now_ms(), because.to_string(), problems.to_string()));
                // Not tried again until the files change again.
                *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = (before, None);
                Err(problems)
            }
        }
    }

    /// Polled every few seconds: true when the files changed since the last load and have
    /// then stayed the same for one poll (a copy still being written is not read half-way).
    pub fn changed_and_settled(&self) -> bool {
        let now = fingerprint(&self.source);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if now == seen.0 {
            seen.1 = None;
            return false;
        }
        if seen.1.as_ref() == Some(&now) {
            return true;
        }
        seen.1 = Some(now);
        false
    }
}

/// Every list file's path, size and modification time, `engines.toml`'s (reloaded with the
/// lists, `reload::Reloader`) and the fetched lists' `domains` files included (what
/// `lists update` keeps beside them — the previous copy, its notes — is not read, so not
/// watched). A few hundred `stat` calls for a full UT1 set.
fn fingerprint(source: &PolicySource) -> Fingerprint {
    let mut files = Vec::new();
    for folder in ["terms", "domains", "ranking", "garden"] {
        super::load::collect_files(&source.allowlist_dir.join(folder), &mut files);
    }
    if let Some(fetched) = &source.fetched {
        files.extend(fetched.files().into_iter().map(|(_, path)| path));
    }
    files.push(source.allowlist_dir.join("engines.toml"));
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let meta = std::fs::metadata(&path).ok();
            let (len, modified) = meta.map_or((0, None), |m| (m.len(), m.modified().ok()));
            (path, len, modified)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap().flatten() {
            let target = to.join(entry.file_name());
            if entry.path().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }

    #[test]
    fn a_broken_list_keeps_the_old_policy_and_a_good_one_replaces_it_with_a_new_generation() {
        let dir = std::env::temp_dir().join(format!("kidsearch-live-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("allowlist"), &dir);
        let source = PolicySource { allowlist_dir: dir.clone(), walled_garden: false, categories_off: vec![], config_file: "<settings>".into(), fetched: None };
        let (policy, _) = load_policy_with(&dir, false, &[], "<settings>", None).unwrap();
        let live = LivePolicy::new(policy, source);
        let query = crate::query::Query::parse("zzyzx quux").unwrap();
        assert_eq!(live.current().check_query(&query), None);

        std::fs::write(dir.join("terms/local.txt"), "zzyzx quux\nzz*yzx\n").unwrap();
        let problems = live.reload("test").unwrap_err().to_string();
        assert!(problems.contains("local.txt:2"), "{problems}");
        assert_eq!(live.current().generation, 0);
        assert_eq!(live.current().check_query(&query), None);
        assert!(live.status().refused.is_some());

        std::fs::write(dir.join("terms/local.txt"), "zzyzx quux\n").unwrap();
        assert_eq!(live.reload("test").unwrap(), 1);
        assert_eq!(live.current().check_query(&query), Some("local"));
        assert!(live.status().refused.is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
