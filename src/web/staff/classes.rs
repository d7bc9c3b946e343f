//! Opening and closing supervised search for a class (forms on the dashboard).

use actix_session::Session;
use actix_web::{web, HttpResponse};

use super::{own_school, require_form, see_other, store_failed, ANY_STAFF};
use crate::devices::clean_name;
use crate::staff::accounts::security_event;
use crate::supervision::MAX_MINUTES;
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
    match state.supervision.open(school, class.clone(), minutes, account.id).await {
        Ok(_) => {
            security_event(&state.store, "search_opened", Some(&account.name), Some(&format!("{class} for {minutes} min"))).await;
            see_other(paths::STAFF)
        }
        Err(e) => store_failed("opening search", &e),
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
