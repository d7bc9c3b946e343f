//! The first steps, on the dashboard of an admin (issue 28): enrol an iPad (or use this
//! computer for a try-out), open search for a class, run the canary. Each is ticked from the
//! database, and the block goes once all three are done. A block of its own: the dashboard
//! only places it.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use maud::{html, Markup};

use super::{own_school, require_form, store_failed, ANY_STAFF};
use crate::args;
use crate::schools::Scope;
use crate::staff::accounts::security_event;
use crate::staff::{Role, StaffAccount};
use crate::web::{paths, AppState};

/// The class a try-out browser is enrolled in.
pub const TRY_OUT_CLASS: &str = "Try-out";

struct Done {
    device: bool,
    window: bool,
    canary: bool,
}

async fn done(state: &AppState, scope: Scope) -> Option<Done> {
    let counts = state
        .store
        .call(move |db| {
            let count = |db: &mut dyn crate::store::Db, sql: &str| -> Result<i64, crate::store::DbError> { db.query_one(sql, args![scope])?.get(0) };
            Ok((
                count(db, "SELECT COUNT(*) FROM devices WHERE (CAST(?1 AS BIGINT) IS NULL OR school_id = ?1)")?,
                count(db, "SELECT COUNT(*) FROM class_windows WHERE (CAST(?1 AS BIGINT) IS NULL OR school_id = ?1)")?,
            ))
        })
        .await
        .ok()?;
    let canary = !crate::canary::latest(&state.store).await.unwrap_or_default().is_empty();
    Some(Done { device: counts.0 > 0, window: counts.1 > 0, canary })
}

/// The checklist for an admin while a step is left, else nothing.
pub async fn block(state: &AppState, account: &StaffAccount, csrf: &str) -> Option<Markup> {
    if account.role != Role::Admin {
        return None;
    }
    let done = done(state, account.scope()).await?;
    if done.device && done.window && done.canary {
        return None;
    }
    let tick = |d: bool| if d { "✅ done: " } else { "⬜ " };
    Some(html! {
        section.checklist aria-labelledby="first-steps" {
            h2 #first-steps { "First steps" }
            ol {
                li {
                    (tick(done.device)) a href=(paths::STAFF_DEVICES) { "Enrol an iPad" } " (a one-time link or QR code for each), or "
                    @if account.school.is_some() {
                        form.try-out method="post" action=(paths::STAFF_TRY_OUT) {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { "use this computer for a try-out" }
                        }
                    } @else { "enrol one from a school's account" }
                    "."
                }
                li { (tick(done.window)) "Open search for a class, below (for the try-out: class “" (TRY_OUT_CLASS) "”)." }
                li { (tick(done.canary)) "Run the canary on " a href=(paths::STAFF_HEALTH) { "Engine health" } ": it asks each engine once and checks its page can still be read." }
            }
        }
    })
}

/// "Use this computer for a try-out": a one-time enrolment link for this browser, in class
/// Try-out, opened at once (the browser enrols itself on the page it lands on, as an iPad does).
pub async fn try_out(body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let school = match own_school(&account) {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    match state.devices.create_link(school, TRY_OUT_CLASS.to_string(), "This computer".to_string(), account.id).await {
        Ok(token) => {
            security_event(&state.store, "enrol_link_made", Some(&account.name), Some(&format!("{TRY_OUT_CLASS} — this computer"))).await;
            HttpResponse::SeeOther().insert_header(("Location", paths::enrol(&token))).finish()
        }
        Err(e) => store_failed("making the enrolment link", &e),
    }
}
