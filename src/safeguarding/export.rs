//! The incident register as CSV, for the DSL to copy into CPOMS or My Concern.
//!
//! Cells that a spreadsheet would run as a formula get a leading `'`: a pupil's query or an
//! upstream title must never become a formula. That is `=`, `+`, `-`, `@` at the start, and
//! also anything a spreadsheet may drop or fold before it looks (whitespace, NBSP, a byte
//! order mark, line breaks, tab) or read as one of those (the full-width `＝＋－＠`): a
//! BOM-prefixed `=HYPERLINK` title from an engine got past the first check alone.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::Incident;

pub const COLUMNS: [&str; 17] = [
    "id",
    "reported_at",
    "kind",
    "device",
    "class",
    "query",
    "page",
    "result_title",
    "result_url",
    "category",
    "status",
    "reviewed_by",
    "reviewed_at",
    "notes",
    "screen_cleared_by",
    "screen_cleared_at",
    // Last, so imports that map the earlier columns by position keep working.
    "school",
];

/// Local date and time, as staff read them (`2026-11-22 14:05`).
pub fn local_time(ms: i64, tz: &TimeZone) -> String {
    Timestamp::from_millisecond(ms).map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

/// What a cell may not start with (see the module comment).
const FORMULA_STARTS: [char; 14] = ['=', '+', '-', '@', '\t', '\r', '\n', ' ', '\u{00A0}', '\u{FEFF}', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}'];

fn safe_cell(s: &str) -> String {
    if s.starts_with(FORMULA_STARTS) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// Any table as CSV for a spreadsheet: a UTF-8 byte order mark first (Excel reads the file as
/// UTF-8 only with it: "Oak — iPad 3", accents and other scripts would come out garbled), and
/// every cell defused (`safe_cell`).
pub fn rows_to_csv(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer("\u{FEFF}".as_bytes().to_vec());
    w.write_record(header)?;
    for row in rows {
        w.write_record(row.iter().map(|c| safe_cell(c)))?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The register as CSV; `schools` names each incident's school (a trust's export holds several).
pub fn to_csv(incidents: &[Incident], tz: &TimeZone, schools: &std::collections::HashMap<crate::schools::SchoolId, String>) -> Result<Vec<u8>, csv::Error> {
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    let time = |ms: Option<i64>| ms.map(|m| local_time(m, tz)).unwrap_or_default();
    let rows = incidents.iter().map(|i| {
        vec![
            i.id.to_string(),
            local_time(i.at_ms, tz),
            i.kind.as_str().to_string(),
            opt(&i.device),
            opt(&i.class),
            opt(&i.query),
            i.page.map(|p| p.to_string()).unwrap_or_default(),
            opt(&i.result_title),
            opt(&i.result_url),
            opt(&i.category),
            i.status.as_str().to_string(),
            opt(&i.reviewed_by),
            time(i.reviewed_ms),
            i.notes.clone(),
            opt(&i.cleared_by),
            time(i.cleared_ms),
            schools.get(&i.school).cloned().unwrap_or_default(),
        ]
    });
    rows_to_csv(&COLUMNS, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_cells_are_defused() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("-2+3"), "'-2+3");
        assert_eq!(safe_cell("volcanoes"), "volcanoes");
        for hidden in ["\u{FEFF}=1+1", " =1+1", "\u{00A0}=1", "\n=1", "\r=1", "\t=1", "\u{FF1D}1", "\u{FF0B}1", "\u{FF0D}1", "\u{FF20}A1"] {
            assert_eq!(safe_cell(hidden), format!("'{hidden}"), "{hidden:?}");
        }
        assert_eq!(safe_cell("a = b"), "a = b", "only the start counts");
    }
}
