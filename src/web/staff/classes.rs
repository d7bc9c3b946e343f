//! Opening and closing supervised search for a class (forms on the dashboard).

use actix_session::Session;
use actix_web::{web, HttpResponse};

use super::{own_school, require_form, see_other, store_failed, ANY_STAFF};
use crate::devices::clean_name;
use crate::safeguarding::export::local_time;
use crate::staff::accounts::security_event;
use crate::supervision::MAX_MINUTES;

/// What "+10 min" gives.
pub const EXTRA_MINUTES: i64 = 10;
use crate::web::{form, paths, AppState};

pub async fn open(body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let Some(class) = form::field(&body, "class").and_then(|c| clean_name(&c)) else {
        return HttpResponse::BadRequest().body("Give the class name (1 to 40 characters), as its iPads were enrolled.");
    };
    let Some(minutes) = form::field(&body, "minutes").and_then(|m| m.trim().parse::<i64>().ok()).filter(|m| (1..=MAX_MINUTES).contains(m)) else {
        return HttpResponse::BadRequest().body(format!("Give the minutes, from 1 to {MAX_MINUTES}."));
    };
    let school = match own_school(&account) {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    // Opening again for fewer minutes than are left would cut the lesson short: asked first.
    let now = state.supervision.now_ms();
    let open_now = state.supervision.open_windows(Some(school)).await.unwrap_or_default();
    if let Some(w) = open_now.iter().find(|w| w.class.to_lowercase() == class.to_lowercase()) {
        let ends = now + minutes * 60_000;
        if ends < w.ends_ms && !super::confirmed(&body) {
            let left = (w.ends_ms - now + 59_999) / 60_000;
            return super::confirm_page(
                &session,
                &account,
                super::Confirm {
                    title: "Shorten the search time?",
                    question: format!("{} can already search until {} ({left} minutes left).", w.class, local_time(w.ends_ms, &state.tz)),
                    consequence: format!(
                        "Opening it for {minutes} minutes ends search at {} instead, {} minutes sooner. To give more time, use \"+10 min\" on the dashboard.",
                        local_time(ends, &state.tz),
                        (w.ends_ms - ends + 30_000) / 60_000
                    ),
                    action: paths::STAFF_CLASSES_OPEN,
                    yes: "Yes, end it sooner",
                    fields: vec![("class", class.clone()), ("minutes", minutes.to_string())],
                    back: paths::STAFF,
                },
            );
        }
    }
    match state.supervision.open(school, class.clone(), minutes, account.id).await {
        Ok(_) => {
            security_event(&state.store, "search_opened", Some(&account.name), Some(&format!("{class} for {minutes} min"))).await;
            see_other(paths::STAFF)
        }
        Err(e) => store_failed("opening search", &e),
    }
}

/// "+10 min" on an open window.
pub async fn extend(body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let Some(class) = form::field(&body, "class").and_then(|c| clean_name(&c)) else {
        return HttpResponse::BadRequest().body("Which class?");
    };
    let school = match own_school(&account) {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    match state.supervision.extend(school, class.clone(), EXTRA_MINUTES).await {
        Ok(Some(ends)) => {
            security_event(&state.store, "search_extended", Some(&account.name), Some(&format!("{class} by {EXTRA_MINUTES} min"))).await;
            super::flash(&session, format!("{class} can search until {} now.", local_time(ends, &state.tz)));
            see_other(paths::STAFF)
        }
        Ok(None) => {
            super::flash(&session, format!("Search for {class} had already ended: open it again below."));
            see_other(paths::STAFF)
        }
        Err(e) => store_failed("giving more time", &e),
    }
}

pub async fn close(body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, ANY_STAFF).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let Some(class) = form::field(&body, "class").and_then(|c| clean_name(&c)) else {
        return HttpResponse::BadRequest().body("Which class?");
    };
    let school = match own_school(&account) {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    match state.supervision.close(school, class.clone()).await {
        Ok(()) => {
            security_event(&state.store, "search_closed", Some(&account.name), Some(&class)).await;
            see_other(paths::STAFF)
        }
        Err(e) => store_failed("closing search", &e),
    }
}
