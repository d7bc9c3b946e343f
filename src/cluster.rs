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
use crate::devices::Devices;
use crate::overblocks::OverBlocks;
use crate::policy::LivePolicy;
use crate::safeguarding::Safeguarding;
use crate::schools::SchoolId;
use crate::sites::Sites;
use crate::store::{Notice, Store};
use crate::supervision::Supervision;
use crate::videos::Videos;

/// One announced change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An approval for this query key at this school was made or withdrawn.
    Approval { school: SchoolId, key: String },
    /// A result was hidden school-wide (`true`) or released.
    Hidden { school: SchoolId, url: String, hidden: bool },
    /// A device was covered, uncovered or revoked.
    Device(i64),
    /// A class's search window was opened or closed.
    Class { school: SchoolId, class: String },
    /// An alert for teachers' dashboards: an incident's event ("incident", "cleared", "result").
    Alert { event: String, incident: i64 },
    /// The local exceptions changed (one made from an over-block report, or removed).
    Exceptions,
    /// An instance was told to reload its lists (SIGHUP): each reads its own `allowlist/`.
    Lists,
    /// A video was approved or withdrawn at this school.
    Videos { school: SchoolId },
    /// This school's list of sites changed.
    Sites { school: SchoolId },
}

impl Change {
    /// The notification's text: `kind|field|field`, the free-text field last.
    pub fn payload(&self) -> String {
        match self {
            Change::Approval { school, key } => format!("approval|{school}|{key}"),
            Change::Hidden { school, url, hidden } => format!("hidden|{school}|{}|{url}", u8::from(*hidden)),
            Change::Device(id) => format!("device|{id}"),
            Change::Class { school, class } => format!("class|{school}|{class}"),
            Change::Alert { event, incident } => format!("alert|{incident}|{event}"),
            Change::Exceptions => "exceptions|".to_string(),
            Change::Lists => "lists|".to_string(),
            Change::Videos { school } => format!("videos|{school}"),
            Change::Sites { school } => format!("sites|{school}"),
        }
    }

    pub fn parse(payload: &str) -> Option<Change> {
        let (kind, rest) = payload.split_once('|')?;
        // The school, for the kinds that name one first.
        let school = || -> Option<(SchoolId, &str)> {
            let (school, rest) = rest.split_once('|')?;
            Some((school.parse().ok()?, rest))
        };
        Some(match kind {
            "approval" => {
                let (school, key) = school()?;
                Change::Approval { school, key: key.to_string() }
            }
            "hidden" => {
                let (school, rest) = school()?;
                let (flag, url) = rest.split_once('|')?;
                Change::Hidden { school, url: url.to_string(), hidden: flag == "1" }
            }
            "device" => Change::Device(rest.parse().ok()?),
            "class" => {
                let (school, class) = school()?;
                Change::Class { school, class: class.to_string() }
            }
            "alert" => {
                let (id, event) = rest.split_once('|')?;
                Change::Alert { event: event.to_string(), incident: id.parse().ok()? }
            }
            "exceptions" => Change::Exceptions,
            "lists" => Change::Lists,
            "videos" => Change::Videos { school: rest.parse().ok()? },
            "sites" => Change::Sites { school: rest.parse().ok()? },
            _ => return None,
        })
    }
}

/// What `follow` keeps in step.
pub struct Followers {
    pub approvals: Arc<Approvals>,
    pub devices: Arc<Devices>,
    pub supervision: Arc<Supervision>,
    pub safeguarding: Arc<Safeguarding>,
    pub overblocks: Arc<OverBlocks>,
    pub policy: Arc<LivePolicy>,
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
            to.policy.reload_logged("another instance reloaded its lists").await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_reads_back_as_itself_even_with_bars_in_its_text() {
        let changes = [
            Change::Approval { school: 3, key: "volcanoes|lava".into() },
            Change::Hidden { school: 1, url: "https://example.org/a?b=1|2".into(), hidden: true },
            Change::Hidden { school: 2, url: "https://example.org/".into(), hidden: false },
            Change::Device(42),
            Change::Class { school: 1, class: "Oak | Year 1".into() },
            Change::Alert { event: "cleared".into(), incident: 7 },
            Change::Exceptions,
            Change::Lists,
            Change::Videos { school: 4 },
            Change::Sites { school: 2 },
        ];
        for change in changes {
            assert_eq!(Change::parse(&change.payload()), Some(change.clone()), "{}", change.payload());
        }
        assert_eq!(Change::parse("nonsense"), None);
        assert_eq!(Change::parse("device|x"), None);
    }
}
