//! The annual filtering review (issue 28): the figures a senior leader and a governor sign off,
//! read from the database for a chosen period, and what the lists on disk are and how old.
//! The page is `web/staff/review.rs`; this gathers, it draws nothing.
//!
//! Months are the school's (its time zone): rows are counted per UTC hour in SQL (at most
//! ~8,800 groups a year, whatever the traffic) and each hour is put under the local month it
//! began in, so a search at 00:30 BST on the 1st counts in the new month.

use std::collections::BTreeMap;
use std::path::Path;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use crate::args;
use crate::checks::CheckRun;
use crate::schools::Scope;
use crate::store::{Store, StoreError};

const HOUR_MS: i64 = 3_600_000;
/// A longer period is cut to this: the register keeps a year by default, and a page of
/// a hundred months helps no governor.
const MAX_MONTHS: i32 = 60;

/// The days the review covers, both included, in the school's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    /// The twelve calendar months up to today: from the first of the month eleven months ago.
    pub fn last_twelve_months(today: Date) -> Period {
        let from = today.first_of_month().checked_sub(11.months()).unwrap_or(today);
        Period { from, to: today }
    }

    /// The period the reader typed (`YYYY-MM-DD` each), or why not. Reversed dates are put in
    /// order; a period over `MAX_MONTHS` is cut to its last `MAX_MONTHS` months.
    pub fn parse(from: &str, to: &str) -> Result<Period, String> {
        let read = |text: &str, which: &str| {
            text.trim().parse::<Date>().map_err(|_| format!("the {which} date {:?} is not a date written as YYYY-MM-DD", text.trim()))
        };
        let (mut from, mut to) = (read(from, "first")?, read(to, "last")?);
        if from > to {
            std::mem::swap(&mut from, &mut to);
        }
        let earliest = to.first_of_month().checked_sub((MAX_MONTHS - 1).months()).unwrap_or(from);
        Ok(Period { from: from.max(earliest), to })
    }

    /// The period's first and last-plus-one instants, in milliseconds.
    pub fn bounds_ms(&self, tz: &TimeZone) -> (i64, i64) {
        let start = |d: Date| d.to_zoned(tz.clone()).map(|z| z.timestamp().as_millisecond()).unwrap_or(0);
        (start(self.from), start(self.to.tomorrow().unwrap_or(self.to)))
    }

    /// Each month the period touches, as `YYYY-MM`, in order.
    pub fn months(&self) -> Vec<String> {
        let mut months = Vec::new();
        let mut month = self.from.first_of_month();
        while month <= self.to {
            months.push(month.strftime("%Y-%m").to_string());
            let Ok(next) = month.checked_add(1.month()) else { break };
            month = next;
        }
        months
    }
}

/// One month's row of the review.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Month {
    /// `YYYY-MM`.
    pub month: String,
    /// Searches pupils asked, answered or refused (from the activity log, which keeps fewer
    /// days than the register).
    pub searches: u64,
    /// Searches refused, by category (from the register).
    pub refused: BTreeMap<String, u64>,
    /// "Tell an adult" presses.
    pub presses: u64,
}

/// How fast incidents were reviewed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReviewSpeed {
    pub reviewed: u64,
    pub within_a_day: u64,
    pub median_hours: Option<f64>,
    pub longest_hours: Option<f64>,
}

/// Everything the review counts for a period, for one school or (scope `None`) a trust.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub months: Vec<Month>,
    /// Incidents of the period by status (`new`, `reviewed`, `recorded`).
    pub incidents_by_status: BTreeMap<String, u64>,
    pub review_speed: ReviewSpeed,
    /// Over-block reports of the period by outcome (`new`, `exception`, `dismissed`).
    pub overblocks_by_status: BTreeMap<String, u64>,
    /// The checks made in the period, oldest first.
    pub checks: Vec<CheckRun>,
    /// The oldest activity row kept: searches before it are no longer counted.
    pub activity_since_ms: Option<i64>,
}

impl Figures {
    pub fn total_refused(&self) -> BTreeMap<String, u64> {
        let mut total = BTreeMap::new();
        for m in &self.months {
            for (c, n) in &m.refused {
                *total.entry(c.clone()).or_default() += n;
            }
        }
        total
    }
}

/// Reads the period's figures. Every count is a SQL aggregate; nothing is read row by row but
/// the review times of the incidents reviewed.
pub async fn gather(store: &Store, scope: Scope, tz: &TimeZone, period: Period) -> Result<Figures, StoreError> {
    let (from_ms, to_ms) = period.bounds_ms(tz);
    let raw = store
        .call(move |db| {
            let school = scope;
            let searches = db.query(
                "SELECT at_ms / 3600000, CAST(SUM(repeats) AS BIGINT) FROM activity
                 WHERE kind IN ('query', 'refused') AND at_ms >= ?1 AND at_ms < ?2 AND (CAST(?3 AS BIGINT) IS NULL OR school_id = ?3)
                 GROUP BY at_ms / 3600000",
                args![from_ms, to_ms, school],
            )?;
            let searches: Vec<(i64, i64)> = searches.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect::<Result<_, crate::store::DbError>>()?;
            let incidents = db.query(
                "SELECT at_ms / 3600000, kind, COALESCE(category, ''), COUNT(*) FROM incidents
                 WHERE at_ms >= ?1 AND at_ms < ?2 AND (CAST(?3 AS BIGINT) IS NULL OR school_id = ?3)
                 GROUP BY at_ms / 3600000, kind, COALESCE(category, '')",
                args![from_ms, to_ms, school],
            )?;
            let incidents: Vec<(i64, String, String, i64)> =
                incidents.iter().map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).collect::<Result<_, crate::store::DbError>>()?;
            let counts = |db: &mut dyn crate::store::Db, sql: &str| -> Result<BTreeMap<String, u64>, crate::store::DbError> {
                db.query(sql, args![from_ms, to_ms, school])?.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect()
            };
            let statuses = counts(
                db,
                "SELECT status, COUNT(*) FROM incidents WHERE at_ms >= ?1 AND at_ms < ?2 AND (CAST(?3 AS BIGINT) IS NULL OR school_id = ?3) GROUP BY status",
            )?;
            let overblocks = counts(
                db,
                "SELECT status, COUNT(*) FROM over_block_reports WHERE at_ms >= ?1 AND at_ms < ?2 AND (CAST(?3 AS BIGINT) IS NULL OR school_id = ?3) GROUP BY status",
            )?;
            let waits: Vec<i64> = db
                .query(
                    "SELECT reviewed_ms - at_ms FROM incidents
                     WHERE reviewed_ms IS NOT NULL AND at_ms >= ?1 AND at_ms < ?2 AND (CAST(?3 AS BIGINT) IS NULL OR school_id = ?3)",
                    args![from_ms, to_ms, school],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect::<Result<_, _>>()?;
            let since: Option<i64> = db.query_one("SELECT MIN(at_ms) FROM activity WHERE (CAST(?1 AS BIGINT) IS NULL OR school_id = ?1)", args![school])?.get(0)?;
            Ok((searches, incidents, statuses, overblocks, waits, since))
        })
        .await?;
    let (searches, incidents, incidents_by_status, overblocks_by_status, waits, activity_since_ms) = raw;
    let checks = crate::checks::between(store, from_ms, to_ms).await?;

    let mut months: Vec<Month> = period.months().into_iter().map(|month| Month { month, ..Month::default() }).collect();
    let month_of = |hour: i64| Timestamp::from_millisecond(hour * HOUR_MS).map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m").to_string()).unwrap_or_default();
    let index_of = |months: &[Month], hour: i64| {
        let name = month_of(hour);
        months.iter().position(|m| m.month == name)
    };
    for (hour, n) in searches {
        if let Some(i) = index_of(&months, hour) {
            months[i].searches += u64::try_from(n).unwrap_or(0);
        }
    }
    for (hour, kind, category, n) in incidents {
        let Some(i) = index_of(&months, hour) else { continue };
        let n = u64::try_from(n).unwrap_or(0);
        match kind.as_str() {
            "tell_adult" => months[i].presses += n,
            _ => *months[i].refused.entry(if category.is_empty() { "unnamed".to_string() } else { category }).or_default() += n,
        }
    }
    Ok(Figures { months, incidents_by_status, review_speed: review_speed(waits), overblocks_by_status, checks, activity_since_ms })
}

fn review_speed(mut waits: Vec<i64>) -> ReviewSpeed {
    waits.retain(|w| *w >= 0);
    waits.sort_unstable();
    let hours = |ms: i64| ms as f64 / HOUR_MS as f64;
    let median = match waits.len() {
        0 => None,
        n if n % 2 == 1 => Some(hours(waits[n / 2])),
        n => Some((hours(waits[n / 2 - 1]) + hours(waits[n / 2])) / 2.0),
    };
    ReviewSpeed {
        reviewed: waits.len() as u64,
        within_a_day: waits.iter().filter(|w| **w <= 24 * HOUR_MS).count() as u64,
        median_hours: median,
        longest_hours: waits.last().map(|w| hours(*w)),
    }
}

/// One category's files on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFiles {
    pub category: String,
    /// `terms` (word lists) or `domains` (block lists).
    pub kind: &'static str,
    pub files: usize,
    /// Entry lines (not blank, not comments).
    pub entries: usize,
    /// The newest file's modification time.
    pub modified_ms: Option<i64>,
}

/// The term and domain list files under `allowlist_dir`, by category; empty when the folder
/// is missing (the built-in copies are in force, as old as the binary).
pub fn list_files(allowlist_dir: &Path) -> Vec<ListFiles> {
    let mut out: BTreeMap<(&'static str, String), ListFiles> = BTreeMap::new();
    let mut add = |kind: &'static str, category: String, path: &Path| {
        let Ok(text) = std::fs::read_to_string(path) else { return };
        let entries = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).count();
        let modified_ms = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let entry = out.entry((kind, category.clone())).or_insert(ListFiles { category, kind, files: 0, entries: 0, modified_ms: None });
        entry.files += 1;
        entry.entries += entries;
        entry.modified_ms = entry.modified_ms.max(modified_ms);
    };
    if let Ok(dir) = std::fs::read_dir(allowlist_dir.join("terms")) {
        for path in dir.flatten().map(|e| e.path()) {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if name.ends_with(".txt") {
                add("terms", crate::policy::category_of(&name).to_string(), &path);
            }
        }
    }
    if let Ok(dir) = std::fs::read_dir(allowlist_dir.join("domains")) {
        for path in dir.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
            let category = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            add("domains", category, &path.join("domains"));
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn the_default_period_is_twelve_calendar_months_to_today() {
        let p = Period::last_twelve_months(date("2026-12-02"));
        assert_eq!((p.from, p.to), (date("2026-01-01"), date("2026-12-02")));
        assert_eq!(p.months().len(), 12);
        assert_eq!(p.months().first().map(String::as_str), Some("2026-01"));
    }

    #[test]
    fn a_typed_period_is_read_put_in_order_and_cut_to_five_years() {
        assert_eq!(Period::parse("2026-03-31", "2025-09-01").unwrap(), Period { from: date("2025-09-01"), to: date("2026-03-31") });
        assert!(Period::parse("last year", "2026-01-01").unwrap_err().contains("YYYY-MM-DD"));
        let long = Period::parse("2000-01-01", "2026-12-31").unwrap();
        assert_eq!(long.months().len(), MAX_MONTHS as usize);
    }

    #[test]
    fn a_months_hours_are_the_schools_clock() {
        let tz = TimeZone::get("Europe/London").unwrap();
        let p = Period { from: date("2026-06-01"), to: date("2026-06-30") };
        let (from, to) = p.bounds_ms(&tz);
        // Midnight BST is 23:00 UTC the day before.
        assert_eq!(Timestamp::from_millisecond(from).unwrap().to_string(), "2026-05-31T23:00:00Z");
        assert_eq!(Timestamp::from_millisecond(to).unwrap().to_string(), "2026-06-30T23:00:00Z");
    }

    #[test]
    fn review_speed_takes_the_middle_and_the_longest() {
        let s = review_speed(vec![2 * HOUR_MS, 30 * HOUR_MS, HOUR_MS]);
        assert_eq!((s.reviewed, s.within_a_day), (3, 2));
        assert_eq!((s.median_hours, s.longest_hours), (Some(2.0), Some(30.0)));
        assert_eq!(review_speed(vec![]).median_hours, None);
    }
}
