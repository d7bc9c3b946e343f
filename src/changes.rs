//! The change notices an instance announces when it writes something other instances keep a
//! copy of (what `Db::notify` carries). The announcing modules (approvals, devices,
//! safeguarding, supervision, overblocks, reload, videos, sites) and `cluster`, which applies
//! them, share this vocabulary, so none of them imports another to speak it.

use crate::schools::SchoolId;

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
