//! Reloading `allowlist/` while the server runs — the lists and `engines.toml` — on SIGHUP
//! (the usual "reload"), when the files change, and (through `cluster`) when another instance
//! of a trust was told to.
//!
//! A reload reads everything first and changes nothing unless all of it is good: a broken
//! list or engine definition is reported (file, line, fix) and the lists and engines loaded
//! before stay in force, whole. The engines are replaced only when `engines.toml`'s text
//! changed, so a list edit does not reset the engines' circuit breakers.
//!
//! Changes are noticed by polling the files' sizes and modification times every
//! `POLL` rather than with inotify (the `notify` crate): a poll is a few hundred `stat` calls
//! (well under a millisecond), it works the same on bind mounts, network shares and in
//! containers where inotify events do not arrive, and it costs no dependency. A change is
//! read once it has stayed the same for one poll, so a list still being copied is not read
//! half-way.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::changes::Change;
use crate::config::{ConfigProblems, ServerConfig};
use crate::engines::EngineSet;
use crate::images::Images;
use crate::policy::LivePolicy;
use crate::search::SearchService;
use crate::store::Store;

/// How often the files are looked at.
pub const POLL: Duration = Duration::from_secs(2);

/// What a reload reads and what it puts in force.
pub struct Reloader {
    pub policy: Arc<LivePolicy>,
    search: Arc<SearchService>,
    images: Arc<Images>,
    /// The settings the engines are compiled with (local engine overrides among them): those of
    /// the start, as the settings file itself is not reloaded.
    server: ServerConfig,
    /// `engines.toml`'s text as it is in force, to tell whether a reload changes the engines.
    engines_toml: Mutex<String>,
}

impl Reloader {
    pub fn new(policy: Arc<LivePolicy>, search: Arc<SearchService>, images: Arc<Images>, server: ServerConfig, engines_toml: String) -> Reloader {
        Reloader { policy, search, images, server, engines_toml: Mutex::new(engines_toml) }
    }

    /// Reads the lists and `engines.toml` again and puts both in force, or neither. Blocking (a
    /// full UT1 set is a second or two of CPU): call it off the async workers. Returns the new
    /// policy generation and, when the engines changed, theirs.
    pub fn reload(&self, because: &str) -> Result<(u64, Option<u64>), ConfigProblems> {
        let read_engines = || -> Result<Option<(EngineSet, String)>, ConfigProblems> {
            let (text, file) = crate::settings::read_engines_file(&self.server.allowlist_dir)?;
            if *self.engines_toml.lock().unwrap_or_else(|e| e.into_inner()) == text {
                return Ok(None);
            }
            Ok(Some((EngineSet::from_toml(&text, &file, &self.server)?, text)))
        };
        let (generation, engines) = self.policy.reload_with(because, read_engines)?;
        let Some((engines, text)) = engines else { return Ok((generation, None)) };
        // Both can only fail on a client that cannot be built (a TLS setting of the machine),
        // not on anything in the file: the lists are in force then, the engines stay as they were.
        let engines_generation = self.search.replace_engines(engines).map_err(|e| problem_with_clients(&self.server, e))?;
        if let Err(e) = self.images.replace_engines(&self.search.engines()) {
            tracing::error!("the engines' picture hosts were not replaced: {e}");
        }
        *self.engines_toml.lock().unwrap_or_else(|e| e.into_inner()) = text;
        Ok((generation, Some(engines_generation)))
    }

    /// `reload` off the async workers, with the outcome logged: the new generations, or every
    /// problem (file, line, fix) and that what was loaded before stays in force.
    pub async fn reload_logged(self: &Arc<Self>, because: &str) -> bool {
        let (this, why) = (self.clone(), because.to_string());
        let started = std::time::Instant::now();
        match tokio::task::spawn_blocking(move || this.reload(&why)).await {
            Ok(Ok((generation, engines))) => {
                let policy = self.policy.current();
                let domains: usize = policy.blocked.iter().chain(&policy.fetched).map(|(_, set)| set.len()).sum();
                tracing::info!(
                    generation,
                    terms = policy.terms.len(),
                    blocked_domains = domains,
                    millis = started.elapsed().as_millis() as u64,
                    "lists reloaded ({because})"
                );
                if let Some(engines_generation) = engines {
                    let ready: Vec<String> = self.search.engines().all().iter().filter(|e| e.is_ready()).map(|e| e.id.clone()).collect();
                    tracing::info!(generation = engines_generation, ready = %ready.join(", "), "engines reloaded from engines.toml ({because})");
                }
                true
            }
            Ok(Err(problems)) => {
                tracing::error!("lists not reloaded ({because}); the lists and engines loaded before stay in force until this is fixed:\n{problems}");
                false
            }
            Err(e) => {
                tracing::error!(error = %e, "lists not reloaded ({because}); the lists and engines loaded before stay in force");
                false
            }
        }
    }
}

fn problem_with_clients(server: &ServerConfig, error: String) -> ConfigProblems {
    crate::config::ConfigProblem::whole_file(
        server.allowlist_dir.join("engines.toml").display().to_string(),
        format!("the reloaded engines could not be put in force: {error}"),
        "the lists were reloaded; restart kidsearch to use the new engine definitions",
    )
    .into()
}

/// SIGHUP and file changes, for the life of the server. The signal handler is installed here,
/// before the server answers anyone: without one, SIGHUP's default action ends the process.
pub fn spawn(reloader: Arc<Reloader>, store: Store) -> std::io::Result<()> {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return Ok(()) };
    #[cfg(unix)]
    {
        let _in_runtime = runtime.enter();
        let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let (reloader, store) = (reloader.clone(), store.clone());
        runtime.spawn(async move {
            while hangups.recv().await.is_some() {
                if reloader.reload_logged("SIGHUP").await {
                    // The other instances of a trust read their own copies of the files too.
                    let announced = store.call(|db| db.notify(&Change::Lists.payload())).await;
                    if let Err(e) = announced {
                        tracing::warn!(error = %e, "could not tell the other instances to reload their lists");
                    }
                }
            }
        });
    }
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let live = reloader.policy.clone();
            let changed = tokio::task::spawn_blocking(move || live.changed_and_settled()).await.unwrap_or(false);
            if changed {
                reloader.reload_logged("files changed").await;
            }
        }
    });
    Ok(())
}
