//! Charts for the staff dashboard, drawn on the server as SVG (no chart script from anywhere):
//! pupil searches per hour today, refused searches by category this week, incidents per week.
//! Each chart carries its numbers as text too (its `<title>` and a visually hidden list), so
//! a screen reader gets what the picture shows.

use crate::args;
use maud::{html, Markup};

use crate::schools::Scope;
use crate::store::{Store, StoreError};

/// One bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub label: String,
    pub value: u64,
}

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
const WEEK_MS: i64 = 7 * DAY_MS;

/// Quarter hours: every time zone's offset from UTC, and every clock change, is a whole number
/// of them, so each one lies within one hour of the school's clock.
const SLOT_MS: i64 = 15 * 60_000;

/// Pupil searches (answered or refused) per hour of the school's clock on the day that began
/// at `day_start` (its midnight, in the school's time zone), 07:00 to 18:00. Rows are counted
/// per quarter hour since midnight and each quarter put under the hour the clock showed then:
/// hours since midnight are not the clock's on the two clock-change Sundays (09:30 BST is 8½
/// hours after a spring-forward midnight, 09:30 GMT 10½ after a fall-back one).
pub async fn searches_per_hour(store: &Store, scope: Scope, day_start: &jiff::Zoned) -> Result<Vec<Bar>, StoreError> {
    let start_ms = day_start.timestamp().as_millisecond();
    let counts: Vec<(i64, u64)> = store
        .call(move |db| {
            // SUM is cast so both backends answer a plain integer (PostgreSQL sums to numeric).
            db.query(
                "SELECT (at_ms - ?1) / ?2 AS q, CAST(SUM(repeats) AS BIGINT) FROM activity
                 WHERE at_ms >= ?1 AND kind IN ('query', 'refused') AND (CAST(?3 AS BIGINT) IS NULL OR school_id = ?3) GROUP BY q",
                args![start_ms, SLOT_MS, scope],
            )?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?)))
            .collect()
        })
        .await?;
    let mut per_hour = [0u64; 24];
    for (slot, n) in counts {
        let Ok(at) = jiff::Timestamp::from_millisecond(start_ms + slot * SLOT_MS) else { continue };
        let local = at.to_zoned(day_start.time_zone().clone());
        if local.date() == day_start.date() {
            per_hour[local.hour() as usize] += n;
        }
    }
    Ok((7..=18).map(|h| Bar { label: format!("{h}"), value: per_hour[h] }).collect())
}

/// Refused searches by policy category in the last 7 days.
pub async fn refusals_by_category(store: &Store, scope: Scope, now_ms: i64) -> Result<Vec<Bar>, StoreError> {
    store
        .call(move |db| {
            db.query(
                "SELECT COALESCE(category, '?'), CAST(SUM(repeats) AS BIGINT) FROM activity
                 WHERE kind = 'refused' AND at_ms >= ?1 AND (CAST(?2 AS BIGINT) IS NULL OR school_id = ?2) GROUP BY 1 ORDER BY 2 DESC, 1",
                args![now_ms - WEEK_MS, scope],
            )?
            .iter()
            .map(|r| Ok(Bar { label: r.get(0)?, value: r.get(1)? }))
            .collect()
        })
        .await
}

/// Incidents per week, the last 8 weeks (oldest first; "0" is this week).
pub async fn incidents_per_week(store: &Store, scope: Scope, now_ms: i64) -> Result<Vec<Bar>, StoreError> {
    let counts: Vec<(i64, u64)> = store
        .call(move |db| {
            db.query(
                "SELECT (?1 - at_ms) / ?2 AS w, COUNT(*) FROM incidents WHERE at_ms > ?1 - 8 * ?2 AND (CAST(?3 AS BIGINT) IS NULL OR school_id = ?3) GROUP BY w",
                args![now_ms, WEEK_MS, scope],
            )?
                .iter()
                .map(|r| Ok((r.get(0)?, r.get(1)?)))
                .collect()
        })
        .await?;
    Ok((0..8)
        .rev()
        .map(|w| Bar { label: if w == 0 { "this".into() } else { format!("-{w}") }, value: counts.iter().find(|(week, _)| *week == w).map_or(0, |(_, n)| *n) })
        .collect())
}

/// A bar chart: bars scaled to the largest value, labels under them, values over them.
pub fn bar_chart(id: &str, title: &str, bars: &[Bar]) -> Markup {
    let (width, height, top, bottom) = (600.0_f64, 220.0_f64, 24.0_f64, 28.0_f64);
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1) as f64;
    let slot = width / bars.len().max(1) as f64;
    let summary = bars.iter().map(|b| format!("{} {}", b.label, b.value)).collect::<Vec<_>>().join(", ");
    html! {
        figure.chart {
            figcaption #(id) { (title) }
            @if bars.is_empty() {
                p { "Nothing yet." }
            } @else {
                svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {width} {height}")) role="img" aria-labelledby=(id) {
                    title { (title) ": " (summary) }
                    @for (i, b) in bars.iter().enumerate() {
                        @let h = (height - top - bottom) * b.value as f64 / max;
                        @let x = i as f64 * slot + slot * 0.15;
                        rect x=(format!("{x:.1}")) y=(format!("{:.1}", height - bottom - h)) width=(format!("{:.1}", slot * 0.7)) height=(format!("{h:.1}")) fill="#2b4a6f" {}
                        text x=(format!("{:.1}", x + slot * 0.35)) y=(format!("{:.1}", height - bottom - h - 6.0)) text-anchor="middle" font-size="14" fill="#1d2b3a" { (b.value) }
                        text x=(format!("{:.1}", x + slot * 0.35)) y=(format!("{:.1}", height - 8.0)) text-anchor="middle" font-size="14" fill="#1d2b3a" { (b.label) }
                    }
                }
                ul.visually-hidden { @for b in bars { li { (b.label) ": " (b.value) } } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_scales_to_its_largest_bar_and_says_its_numbers_in_text() {
        let bars = vec![Bar { label: "9".into(), value: 10 }, Bar { label: "10".into(), value: 5 }];
        let svg = bar_chart("c", "Searches per hour", &bars).into_string();
        assert!(svg.contains("<title>Searches per hour: 9 10, 10 5</title>"), "{svg}");
        assert!(svg.contains("height=\"168.0\"") && svg.contains("height=\"84.0\""), "full and half height: {svg}");
        assert!(svg.contains("role=\"img\""));
        let empty = bar_chart("e", "Incidents", &[]).into_string();
        assert!(empty.contains("Nothing yet."));
    }
}
