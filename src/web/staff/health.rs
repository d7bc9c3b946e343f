//! `/staff/health`: every engine, whether it is ready, and its last canary result (from the
//! morning's `kidsearch check --canary` or the button here), and whether it is resting now
//! after failing again and again (`search::breaker`). Admins can run the canary now.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use maud::html;

use super::{csrf_token, html_page, require, require_form, see_other, store_failed, ANY_STAFF};
use crate::checks::{CheckRun, FILTER_TEST};
use crate::engines::{Audience, Availability};
use crate::query::Query;
use crate::safeguarding::export::local_time;
use crate::search::breaker::BreakerState;
use crate::staff::accounts::security_event;
use crate::staff::Role;
use crate::web::{paths, AppState};

pub async fn page(session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let canaries = crate::canary::latest(&state.store).await.unwrap_or_default();
    let token = csrf_token(&session);
    let engines = state.search.engines();
    let breakers = state.search.breaker_states();
    let body = html! {
        h1 { "Engine health" }
        (super::flash_notice(&session))
        p { "The canary asks each ready engine for \"" (crate::canary::QUERY) "\" and checks that its page can still be read. "
            "Run it every morning with " code { "kidsearch check --canary" } " (see deploy/README.md)." }
        table {
            thead { tr { th { "Engine" } th { "For" } th { "State" } th { "Now" } th { "Last canary" } } }
            tbody {
                @for e in engines.all() {
                    tr {
                        td { (e.name) }
                        td { @match e.audience { Audience::Pupils => "pupils and pre-runs", Audience::Staff => "pre-runs only (staff)" } }
                        td { @match &e.availability { Availability::Ready => "ready", Availability::Off(why) => { "off — " (why) } } }
                        td {
                            @match breakers.iter().find(|(id, _)| *id == e.id).map(|(_, b)| *b) {
                                Some(BreakerState::Resting { until_ms }) => { strong { "resting" } " after failing again and again; asked again at " (local_time(until_ms, &state.tz)) }
                                Some(BreakerState::Probing) => { strong { "resting" } ": one request is checking whether it is back" }
                                Some(BreakerState::Closed { failures_in_a_row: 0 }) | None => "answering",
                                Some(BreakerState::Closed { failures_in_a_row }) => { "answering (" (failures_in_a_row) " failures in a row)" }
                            }
                        }
                        td {
                            @match canaries.iter().find(|c| c.engine == e.id) {
                                Some(c) if c.ok => { "ok: " (c.results) " results in " (c.millis) " ms, " (local_time(c.at_ms, &state.tz)) }
                                Some(c) => {
                                    strong { "FAILED" } ": " (c.error.clone().unwrap_or_default()) " (" (local_time(c.at_ms, &state.tz)) ")"
                                    @if e.audience == Audience::Staff { br; "This engine is staff-only: " (crate::canary::STAFF_ONLY) "." }
                                }
                                None => "not run yet",
                            }
                        }
                    }
                }
                @for u in engines.unsearchable() {
                    tr { td { (u.id) } td {} td { "off — " (u.reason) } td { "—" } td { "—" } }
                }
            }
        }
        @if account.role == Role::Admin {
            form method="post" action=(paths::STAFF_HEALTH_CANARY) {
                input type="hidden" name="csrf" value=(token);
                button type="submit" { "Run the canary now" }
            }
        }
        (lists_section(&state))
        h2 { "Filter test" }
        p { "Runs the probe set (" code { "allowlist/probes.txt" } ") through the same check as a pupil's search; no engine is asked." }
        form method="post" action=(paths::STAFF_HEALTH_FILTER_TEST) {
            input type="hidden" name="csrf" value=(token);
            button type="submit" { "Test the filter" }
        }
    };
    html_page(&account, "Engine health", body)
}

/// The lists in force, when they were loaded and why, and a change that was refused (every
/// problem with file, line and fix: the old lists stay in force until it is fixed).
fn lists_section(state: &AppState) -> maud::Markup {
    let status = state.policy.status();
    let policy = state.policy.current();
    html! {
        h2 { "Lists" }
        p {
            "In force since " (local_time(status.loaded_ms, &state.tz)) " (" (status.loaded_because) "): "
            (policy.terms.len()) " term entries; block lists "
            (policy.blocked.iter().map(|(c, s)| format!("{c} {}", s.len())).collect::<Vec<_>>().join(", "))
            ". Edit the files in " code { (state.policy.source().allowlist_dir.display()) } ": changes are read within seconds, or at once with "
            code { "systemctl reload kidsearch" } " (SIGHUP)."
        }
        @if let Some(fetched) = &state.policy.source().fetched {
            (fetched_lists(state, fetched, &policy))
        }
        @if let Some((at_ms, because, problems)) = &status.refused {
            div.notice role="alert" {
                p { strong { "A change to the lists was not loaded" } " (" (because) ", " (local_time(*at_ms, &state.tz)) "). "
                    "The lists above stay in force until this is fixed:" }
                pre { (problems) }
            }
        }
    }
}

/// The UT1 lists `kidsearch lists update` fetches: each one's size and age, and what the last
/// run said of it (a refused download names what was wrong and the fix).
fn fetched_lists(state: &AppState, fetched: &crate::policy::FetchedLists, policy: &crate::policy::Policy) -> maud::Markup {
    let now = jiff::Timestamp::now().as_millisecond();
    let lists = crate::lists::states(fetched);
    html! {
        h3 { "Fetched block lists (UT1)" }
        @if lists.is_empty() {
            p { "None: " code { "lists_categories" } " is empty in the settings." }
        } @else {
            p { "Fetched nightly by " code { "kidsearch lists update" } " (deploy/kidsearch-lists.timer) into " code { (fetched.dir.display()) } "." }
            table {
                thead { tr { th { "Category" } th { "Domains in force" } th { "Fetched" } th { "Last update" } } }
                tbody {
                    @for list in &lists {
                        tr {
                            td { (list.category) }
                            td {
                                @match policy.fetched.iter().find(|(c, _)| *c == list.category) {
                                    Some((_, set)) => (set.len()),
                                    None => "none",
                                }
                            }
                            td {
                                @match (&list.fetched, list.age_words(now)) {
                                    (Some(f), Some(age)) => { (age) " ago (" (local_time(f.at_ms, &state.tz)) ")" }
                                    _ => { strong { "never" } ": run " code { "kidsearch lists update" } }
                                }
                            }
                            td {
                                @match &list.last {
                                    Some(o) if o.installed => "installed",
                                    Some(o) => { strong { "not installed" } ": " (o.message) }
                                    None => "—",
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// "Test the filter": the filter self-test (`policy::probes`), as `kidsearch check --filter-test`.
pub async fn filter_test(body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let (text, file) = &state.filter_probes;
    let test = crate::policy::probes::run(&state.policy.current(), text, file, &state.categories_off);
    let run = CheckRun { at_ms: state.safeguarding.now_ms(), kind: FILTER_TEST.into(), ok: test.ok(), summary: test.summary(), by: Some(account.name.clone()) };
    // The result is shown whether or not it could be kept; a failure to keep it says so.
    let kept = crate::checks::record(&state.store, run).await;
    let body = html! {
        p { a href=(paths::STAFF_HEALTH) { "← Engine health" } }
        h1 { "Filter test" }
        @if let Err(e) = &kept { p.notice role="alert" { "This run could not be kept for the annual review: " (e.to_string()) "." } }
        @if test.ok() { p.notice role="status" { "Every probe did as expected." } }
        @else { p.notice role="alert" { (test.problems.len()) " problem(s): the filter does not do what the probes expect." } }
        table {
            thead { tr { th { "Category" } th { "Result" } } }
            tbody {
                @for c in &test.categories {
                    tr {
                        td { (c.category) }
                        td {
                            @if c.off { "off (categories_off)" }
                            @else if c.category == crate::policy::probes::ORDINARY { (c.as_expected) " of " (c.probes) " allowed" }
                            @else { (c.as_expected) " of " (c.probes) " refused" }
                        }
                    }
                }
            }
        }
        @if !test.problems.is_empty() { h2 { "Problems" } ul { @for p in &test.problems { li { (p) } } } }
        @if !test.notes.is_empty() { h2 { "Notes" } ul { @for n in &test.notes { li { (n) } } } }
    };
    html_page(&account, "Filter test", body)
}

pub async fn run_now(body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, &[Role::Admin]).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let Ok(query) = Query::parse(crate::canary::QUERY) else { return see_other(paths::STAFF_HEALTH) };
    let results = state.search.canary(&query).await;
    let failed = results.iter().filter(|r| !r.ok).count();
    let summary = crate::canary::summary(&results, &state.search.engines());
    if let Err(e) = crate::canary::record(&state.store, results, summary.clone(), Some(account.name.clone())).await {
        return store_failed("keeping the canary result", &e);
    }
    security_event(&state.store, "canary_run", Some(&account.name), Some(&format!("{failed} failed"))).await;
    super::flash(&session, format!("The canary ran: {summary}."));
    see_other(paths::STAFF_HEALTH)
}
