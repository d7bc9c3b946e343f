//! The school day: approvals last until midnight in the school's time zone, correct across
//! the clock changes (jiff does the calendar arithmetic in the zone, not in UTC).

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// The school day that `now_ms` falls in (`YYYY-MM-DD`) and the instant it ends (the next
/// local midnight), in ms since the epoch.
pub fn school_day(now_ms: i64, tz: &TimeZone) -> (String, i64) {
    let now = Timestamp::from_millisecond(now_ms).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(tz.clone());
    let date = now.date();
    let end = date.tomorrow().ok().and_then(|d| d.to_zoned(tz.clone()).ok()).map_or(now_ms + 86_400_000, |z| z.timestamp().as_millisecond());
    (date.to_string(), end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn a_day_ends_at_local_midnight_in_winter_and_summer() {
        let london = TimeZone::get("Europe/London").unwrap();
        // Winter (GMT): local midnight is 00:00 UTC.
        assert_eq!(school_day(ms("2026-01-15T09:00:00Z"), &london), ("2026-01-15".into(), ms("2026-01-16T00:00:00Z")));
        // Summer (BST): local midnight is 23:00 UTC the evening before.
        assert_eq!(school_day(ms("2026-06-15T08:00:00Z"), &london), ("2026-06-15".into(), ms("2026-06-15T23:00:00Z")));
        // 23:30 UTC in June is already tomorrow in London.
        assert_eq!(school_day(ms("2026-06-15T23:30:00Z"), &london).0, "2026-06-16");
    }

    #[test]
    fn the_days_of_the_clock_changes_are_23_and_25_hours_long() {
        let london = TimeZone::get("Europe/London").unwrap();
        // Clocks go forward on Sunday 29 March 2026 at 01:00 GMT.
        let (day, end) = school_day(ms("2026-03-29T00:30:00Z"), &london);
        assert_eq!(day, "2026-03-29");
        assert_eq!(end, ms("2026-03-29T23:00:00Z"), "ends at local midnight, 23 hours after it began");
        // Clocks go back on Sunday 25 October 2026 at 01:00 GMT (02:00 BST).
        let (day, end) = school_day(ms("2026-10-25T12:00:00Z"), &london);
        assert_eq!(day, "2026-10-25");
        assert_eq!(end, ms("2026-10-26T00:00:00Z"));
    }
}
