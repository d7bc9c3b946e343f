//! `/staff/review`: the annual filtering review, for admins and the DSL to print (A4, the
//! print style sheet; "Save as PDF" in the browser) for the senior leader and the governor who
//! sign it off. What is filtered (engines and their safe-search locks, categories, lists and
//! their dates, the school's own additions and exceptions), what happened over the period
//! (searches, refusals by category by month, presses, incidents and how fast they were
//! reviewed, over-block reports), the checks made and the data kept. Every figure is read from
//! the database (`review::gather`) or from the lists on disk, never from logs.

use actix_session::Session;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

use super::{html_page, require, store_failed, SAFEGUARDING_LEADS};
use crate::engines::{Audience, Availability, EngineSet};
use crate::review::{gather, list_files, Figures, Period};
use crate::safeguarding::export::local_time;
use crate::web::{form, paths, AppState};

pub async fn page(req: HttpRequest, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, SAFEGUARDING_LEADS).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let now = state.safeguarding.now_ms();
    let today = jiff::Timestamp::from_millisecond(now).map(|t| t.to_zoned(state.tz.clone()).date()).unwrap_or_default();
    let (from, to) = (form::query(&req, "from").unwrap_or_default(), form::query(&req, "to").unwrap_or_default());
    let (period, unread) = if from.is_empty() && to.is_empty() {
        (Period::last_twelve_months(today), None)
    } else {
        match Period::parse(&from, &to) {
            Ok(p) => (p, None),
            Err(why) => (Period::last_twelve_months(today), Some(why)),
        }
    };
    let figures = match gather(&state.store, account.scope(), &state.tz, period).await {
        Ok(f) => f,
        Err(e) => return store_failed("reading the figures for the review", &e),
    };
    let exceptions = match state.overblocks.exceptions().await {
        Ok(e) => e,
        Err(e) => return store_failed("reading the local exceptions", &e),
    };
    let school = match account.school {
        Some(id) => crate::store::schools::list(&state.store).await.unwrap_or_default().into_iter().find(|s| s.id == id).map(|s| s.name),
        None => Some("every school of the trust".to_string()),
    };
    let body = html! {
        div.no-print {
            form.inline-form method="get" action=(paths::STAFF_REVIEW) {
                div { label for="from" { "From" } input #from type="date" name="from" value=(period.from); }
                div { label for="to" { "To" } input #to type="date" name="to" value=(period.to); }
                button type="submit" { "Show" }
            }
            @if let Some(why) = &unread { p.notice role="alert" { "The dates were not read (" (why) "): showing the last twelve months." } }
            p { "To print or keep it: your browser's Print (Ctrl+P, or ⌘P on a Mac), then \u{201c}Save as PDF\u{201d} for a file. It is laid out for A4." }
        }
        h1 { "Annual filtering review" }
        p.review-lead {
            strong { (school.unwrap_or_default()) } ", " (period.from) " to " (period.to) ". Prepared " (local_time(now, &state.tz)) " by " (account.name) "."
        }
        p { "For the senior leader and the governor who review the school's filtering and monitoring (the DfE's standards ask for it at least once a year). "
            "Every figure comes from kidsearch's own records." }
        (what_is_filtered(&state, &exceptions))
        (what_happened(&state, &figures))
        (checks_made(&state, &figures))
        h2 { "Data kept" }
        p { "Pupils' activity (searches, clicks) is kept " (state.retention.activity_days) " days; the incident register and the security log "
            (state.retention.incident_days) " days. Devices are recorded, not children: no pupil's name is stored." }
        p.review-signoff { "Reviewed by: ______________________  Role: ______________  Date: ____________" }
    };
    html_page(&account, "Annual filtering review", body)
}

fn what_is_filtered(state: &AppState, exceptions: &[crate::overblocks::LocalException]) -> Markup {
    let policy = state.policy.current();
    let source = state.policy.source();
    let files = list_files(&source.allowlist_dir);
    let built_in = !source.allowlist_dir.is_dir();
    let categories = policy.terms.categories();
    html! {
        h2 { "What is filtered" }
        h3 { "Search engines" }
        (engines_table(&state.search.engines()))
        h3 { "Categories refused" }
        p {
            "A pupil's search is refused, and a result taken out, when it matches a word list; a result is also taken out when its site is on a block list. "
            @if categories.is_empty() { "No word list is loaded." } @else { "Word lists in force: " (categories.join(", ")) "." }
            @if !state.categories_off.is_empty() { " Switched off by the school (" code { "categories_off" } "): " (state.categories_off.join(", ")) "." }
            @match &policy.garden { Some(g) => { " Walled garden on: only " (g.len()) " listed sites are shown." } None => { " Walled garden off." } }
        }
        @if built_in {
            p { "The lists are the copies built into this kidsearch (" code { (source.allowlist_dir.display()) } " is not there), as old as the program." }
        } @else {
            table {
                thead { tr { th { "Category" } th { "List" } th.num { "Entries" } th { "Last changed" } } }
                tbody {
                    @for f in &files {
                        tr {
                            td { (f.category) }
                            td { @if f.kind == "terms" { "words (" (f.files) @if f.files == 1 { " file)" } @else { " files)" } } @else { "sites" } }
                            td.num { (f.entries) }
                            td { (f.modified_ms.map(|ms| local_time(ms, &state.tz)).unwrap_or_else(|| "—".into())) }
                        }
                    }
                }
            }
        }
        @if let Some(fetched) = &source.fetched {
            @let lists = crate::lists::states(fetched);
            @if !lists.is_empty() {
                p { "Block lists fetched from UT1 (Université Toulouse Capitole) by the nightly " code { "kidsearch lists update" } ":" }
                table {
                    thead { tr { th { "Category (UT1's name)" } th.num { "Sites in force" } th { "Fetched" } } }
                    tbody {
                        @for list in &lists {
                            tr {
                                td { (list.category) }
                                td.num {
                                    @match policy.fetched.iter().find(|(c, _)| *c == list.category) { Some((_, set)) => (set.len()), None => "none" }
                                }
                                td { @match &list.fetched { Some(f) => (local_time(f.at_ms, &state.tz)), None => strong { "never" } } }
                            }
                        }
                    }
                }
            }
        }
        p { "Block lists in force: " (policy.blocked.iter().map(|(c, s)| format!("{c} {} sites", s.len())).collect::<Vec<_>>().join(", ")) ". "
            "Children's sites ranked first: " (policy.kids.len()) "; trusted sites: " (policy.trusted.len()) "." }
        h3 { "The school's own exceptions" }
        @if exceptions.is_empty() {
            p { "None: nothing the lists refuse has been let through by an admin." }
        } @else {
            p { "Words an admin let through after a search was refused that should not have been (each applies to every school of this kidsearch):" }
            table {
                thead { tr { th { "Words" } th { "Added by" } th { "When" } } }
                tbody { @for e in exceptions { tr { td { (e.phrase) } td { (e.added_by) } td { (local_time(e.added_ms, &state.tz)) } } } }
            }
        }
    }
}

/// Each engine, whom it serves, whether it is on, and the safe-search lock kidsearch sets on
/// every request to it (last, over anything else).
fn engines_table(engines: &EngineSet) -> Markup {
    html! {
        table {
            thead { tr { th { "Engine" } th { "For" } th { "State" } th { "Safe search locked by" } } }
            tbody {
                @for e in engines.all() {
                    tr {
                        td { (e.name) }
                        td { @match e.audience { Audience::Pupils => "pupils and pre-runs", Audience::Staff => "teachers' pre-runs only" } }
                        td { @match &e.availability { Availability::Ready => "on", Availability::Off(why) => { "off — " (why) } } }
                        td { (safe_search_lock(e)) }
                    }
                }
                @for u in engines.unsearchable() { tr { td { (u.id) } td {} td { "off — " (u.reason) } td { "—" } } }
            }
        }
    }
}

fn safe_search_lock(e: &crate::engines::Engine) -> String {
    let r = &e.request;
    let mut parts: Vec<String> = r.safe_params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.extend(r.safe_cookies.iter().map(|(k, v)| format!("cookie {k}={v}")));
    parts.extend(r.safe_headers.iter().map(|(k, v)| format!("header {k}: {v}")));
    if parts.is_empty() {
        "none needed (a children's engine, or an API that is safe by itself)".to_string()
    } else {
        parts.join(", ")
    }
}

fn what_happened(state: &AppState, f: &Figures) -> Markup {
    let totals = f.total_refused();
    let categories: Vec<&String> = totals.keys().collect();
    let searches: u64 = f.months.iter().map(|m| m.searches).sum();
    let presses: u64 = f.months.iter().map(|m| m.presses).sum();
    let refused: u64 = totals.values().sum();
    let speed = &f.review_speed;
    let hours = |h: f64| if h < 1.0 { format!("{} minutes", (h * 60.0).round()) } else { format!("{:.1} hours", h) };
    html! {
        h2 { "What happened" }
        p { (searches) " searches, " (refused) " refused, " (presses) " \u{201c}tell an adult\u{201d} presses." }
        @if let Some(since) = f.activity_since_ms {
            p.review-note { "Searches are counted from the activity log, which keeps " (state.retention.activity_days) " days: none before "
                (local_time(since, &state.tz)) " is counted. Refusals and presses come from the incident register." }
        }
        table.review-months {
            thead { tr { th { "Month" } th.num { "Searches" } @for c in &categories { th.num { "Refused: " (c) } } th.num { "Presses" } } }
            tbody {
                @for m in &f.months {
                    tr {
                        td { (m.month) }
                        td.num { (m.searches) }
                        @for c in &categories { td.num { (m.refused.get(*c).copied().unwrap_or(0)) } }
                        td.num { (m.presses) }
                    }
                }
            }
        }
        h3 { "Incidents" }
        @let count = |s: &str| f.incidents_by_status.get(s).copied().unwrap_or(0);
        p { (count("new")) " not yet reviewed, " (count("reviewed")) " reviewed, " (count("recorded")) " recorded in the safeguarding record. "
            @match (speed.median_hours, speed.longest_hours) {
                (Some(median), Some(longest)) => {
                    "Of the " (speed.reviewed) " reviewed, " (speed.within_a_day) " were reviewed within a day; half within "
                    (hours(median)) ", the longest after " (hours(longest)) "."
                }
                _ => { "None was reviewed in the period." }
            }
        }
        h3 { "Searches staff said should not have been refused" }
        @let over = |s: &str| f.overblocks_by_status.get(s).copied().unwrap_or(0);
        p { (over("new") + over("exception") + over("dismissed")) " reported: " (over("exception")) " made an exception, " (over("dismissed")) " dismissed, "
            (over("new")) " still to decide." }
    }
}

fn checks_made(state: &AppState, f: &Figures) -> Markup {
    html! {
        h2 { "Checks made" }
        p { "The engine canary (does each engine still answer, and can its page be read?) and the filter self-test (are the probe searches of every category refused?), "
            "from the staff Engine health page or the nightly " code { "kidsearch check --canary --filter-test" } "." }
        @if f.checks.is_empty() {
            p.notice { "No check was run in the period." }
        } @else {
            table {
                thead { tr { th { "When" } th { "Check" } th { "Result" } th { "Run by" } } }
                tbody {
                    @for c in &f.checks {
                        tr {
                            td { (local_time(c.at_ms, &state.tz)) }
                            td { (c.what()) }
                            td { @if c.ok { "passed: " } @else { strong { "problem: " } } (c.summary) }
                            td { (c.by.clone().unwrap_or_else(|| "nightly command".into())) }
                        }
                    }
                }
            }
        }
    }
}
