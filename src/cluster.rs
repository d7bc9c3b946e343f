//! Several instances sharing one PostgreSQL stay in step: every change that an instance also
//! keeps in memory (a cached approval, a device's covered screen, a class's open window, the
//! school-wide hidden results, today's videos, the school's sites) or pushes to dashboards (alerts) is announced with
//! `Db::notify` when it is written, and every other instance applies it to its own copies
//! (`follow`). On SQLite there is one instance and nothing is sent.
//!
//! Invariant: whatever a module invalidates locally after a write, it also announces, in the
//! same `Store::call` as the write; `follow` invalidates the same thing on receipt.

use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;

use crate::approvals::Approvals;
use crate::changes::Change;
use crate::devices::Devices;
use crate::overblocks::OverBlocks;
use crate::reload::Reloader;
use crate::safeguarding::Safeguarding;
use crate::sites::Sites;
use crate::store::{Notice, Store};
use crate::supervision::Supervision;
use crate::videos::Videos;

/// What `follow` keeps in step.
pub struct Followers {
    pub approvals: Arc<Approvals>,
    pub devices: Arc<Devices>,
    pub supervision: Arc<Supervision>,
    pub safeguarding: Arc<Safeguarding>,
    pub overblocks: Arc<OverBlocks>,
    pub reloader: Arc<Reloader>,
    pub videos: Arc<Videos>,
    pub sites: Arc<Sites>,
}

/// Applies other instances' changes to this instance's caches and dashboards, until the
/// store is dropped. Nothing to do on SQLite.
pub fn follow(store: &Store, to: Followers) {
    if !matches!(store.location(), crate::store::Location::Postgres) {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    let mut notices = store.changes();
    runtime.spawn(async move {
        loop {
            match notices.recv().await {
                Ok(Notice::Changed(payload)) => match Change::parse(&payload) {
                    Some(change) => apply(&to, change).await,
                    None => tracing::warn!(payload = %payload, "ignored an unknown change notice from another instance"),
                },
                // Missed notices (reconnected, or fell behind): forget every cached copy.
                Ok(Notice::Resync) | Err(RecvError::Lagged(_)) => resync(&to).await,
                Err(RecvError::Closed) => return,
            }
        }
    });
}

async fn apply(to: &Followers, change: Change) {
    match change {
        Change::Approval { school, key } => to.approvals.forget(school, key).await,
        Change::Hidden { school, url, hidden } => to.safeguarding.hidden_elsewhere(school, &url, hidden),
        Change::Device(id) => to.devices.forget(id).await,
        Change::Class { school, class } => to.supervision.forget(school, class).await,
        Change::Alert { event, incident } => to.safeguarding.relay(&event, incident).await,
        Change::Exceptions => {
            if let Err(e) = to.overblocks.reload().await {
                tracing::error!(error = %e, "could not re-read the local exceptions");
            }
        }
        Change::Lists => {
            to.reloader.reload_logged("another instance reloaded its lists").await;
        }
        Change::Videos { school } => to.videos.forget(school),
        Change::Sites { school } => to.sites.forget(school),
    }
}

async fn resync(to: &Followers) {
    tracing::info!("re-reading shared state after missing other instances' changes");
    if let Err(e) = to.approvals.forget_all().await {
        tracing::error!(error = %e, "could not re-read today's approvals");
    }
    to.devices.forget_all();
    to.supervision.forget_all();
    to.videos.forget_all();
    to.sites.forget_all();
    if let Err(e) = to.safeguarding.reload_hidden().await {
        tracing::error!(error = %e, "could not re-read the hidden results");
    }
    if let Err(e) = to.overblocks.reload().await {
        tracing::error!(error = %e, "could not re-read the local exceptions");
    }
    // Alerts raised elsewhere meanwhile never reached this instance's dashboards.
    to.safeguarding.dashboards_catch_up();
}
