//! Reloading `allowlist/` while the server runs: on SIGHUP (the usual "reload"), when the
//! files change, and (through `cluster`) when another instance of a trust was told to.
//!
//! Changes are noticed by polling the files' sizes and modification times every
//! `POLL` rather than with inotify (the `notify` crate): a poll is a few hundred `stat` calls
//! (well under a millisecond), it works the same on bind mounts, network shares and in
//! containers where inotify events do not arrive, and it costs no dependency. A change is
//! read once it has stayed the same for one poll, so a list still being copied is not read
//! half-way.

use std::sync::Arc;
use std::time::Duration;

use crate::changes::Change;
use crate::policy::LivePolicy;
use crate::store::Store;

/// How often the files are looked at.
pub const POLL: Duration = Duration::from_secs(2);

/// SIGHUP and file changes, for the life of the server. The signal handler is installed here,
/// before the server answers anyone: without one, SIGHUP's default action ends the process.
pub fn spawn(policy: Arc<LivePolicy>, store: Store) -> std::io::Result<()> {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return Ok(()) };
    #[cfg(unix)]
    {
        let _in_runtime = runtime.enter();
        let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let (policy, store) = (policy.clone(), store.clone());
        runtime.spawn(async move {
            while hangups.recv().await.is_some() {
                if policy.reload_logged("SIGHUP").await {
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
            let live = policy.clone();
            let changed = tokio::task::spawn_blocking(move || live.changed_and_settled()).await.unwrap_or(false);
            if changed {
                policy.reload_logged("files changed").await;
            }
        }
    });
    Ok(())
}
