//! The school's sites (admins): the short list of sites pupils open from picture tiles on the
//! home page (`crate::sites`). Adding one checks it as `/go` will at every tap: a site the
//! block lists refuse, or outside the walled garden when it is on, is not added.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use maud::html;

use super::{csrf_token, html_page, own_school, require, require_form, see_other, store_failed};
use crate::policy::domains::host_of;
use crate::sites::{SiteForm, MAX_SITES};
use crate::staff::accounts::security_event;
use crate::staff::Role;
use crate::web::form::field;
use crate::web::{paths, AppState};

const ADMINS: &[Role] = &[Role::Admin];

pub async fn page(session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, ADMINS).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    sites_page(&session, &state, &account, None).await
}

async fn sites_page(session: &Session, state: &AppState, account: &crate::staff::StaffAccount, problem: Option<String>) -> HttpResponse {
    let scope = account.scope();
    let token = csrf_token(session);
    let sites = state.sites.list(scope).await.unwrap_or_default();
    let classes = state.devices.classes(scope).await.unwrap_or_default();
    let body = html! {
        h1 { "Our sites" }
        p { "Sites pupils open from big picture tiles on the home page (at most " (MAX_SITES) "). Each tap goes through kidsearch's checked link, so the block lists still apply and the visit is in the activity log." }
        @if let Some(problem) = &problem { p.notice role="alert" { (problem) } }
        @if sites.is_empty() { p { "No sites yet." } }
        @else {
            table {
                thead { tr { th { "Tile" } th { "Address" } th { "For" } th {} } }
                tbody {
                    @for s in &sites {
                        tr {
                            td { span aria-hidden="true" { (s.picture) " " } (s.name) }
                            td { (s.url) }
                            td { (s.class.clone().unwrap_or_else(|| "whole school".into())) }
                            td {
                                form method="post" action=(paths::staff_site_remove(s.id)) {
                                    input type="hidden" name="csrf" value=(token);
                                    button type="submit" { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Add a site" }
        form method="post" action=(paths::STAFF_SITES) {
            input type="hidden" name="csrf" value=(token);
            label for="site-name" { "Name pupils see" }
            input #site-name type="text" name="name" maxlength="40" required placeholder="GoBubble";
            label for="site-url" { "Address" }
            input #site-url type="text" name="url" maxlength="500" required placeholder="https://www.gobubble.school/";
            label for="site-picture" { "Picture (one emoji)" }
            input #site-picture type="text" name="picture" maxlength="8" required placeholder="🫧";
            label for="site-class" { "For" }
            (crate::web::layout::class_choice("site-class", &classes, Some("The whole school")))
            button type="submit" { "Add the site" }
        }
    };
    let mut answer = html_page(account, "Our sites", body);
    if problem.is_some() {
        *answer.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    }
    answer
}

pub async fn add(body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, ADMINS).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let school = match own_school(&account) {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let (name, url, picture, class) =
        (field(&body, "name").unwrap_or_default(), field(&body, "url").unwrap_or_default(), field(&body, "picture").unwrap_or_default(), field(&body, "class"));
    let checked = SiteForm { name: &name, url: &url, picture: &picture, class: class.as_deref() }.check().and_then(|site| {
        let host = url::Url::parse(&site.url).ok().and_then(|u| host_of(&u)).unwrap_or_default();
        let policy = state.policy.current();
        if let Some(category) = policy.domain_category(&host) {
            return Err(format!("{host} is on the block lists ({category}): pupils would be refused at every tap, so it is not added."));
        }
        if policy.garden.as_ref().is_some_and(|g| !g.covers(&host)) {
            return Err(format!(
                "The walled garden is on and {host} is not in it: add it to allowlist/garden/domains first, or pupils would be refused at every tap."
            ));
        }
        Ok(site)
    });
    let site = match checked {
        Ok(site) => site,
        Err(problem) => return sites_page(&session, &state, &account, Some(problem)).await,
    };
    let detail = format!("{} ({})", site.name, site.url);
    match state.sites.add(school, site, &account.name).await {
        Ok(Some(_)) => {
            security_event(&state.store, "site_added", Some(&account.name), Some(&detail)).await;
            see_other(paths::STAFF_SITES)
        }
        Ok(None) => sites_page(&session, &state, &account, Some(format!("The school already has {MAX_SITES} sites: remove one first."))).await,
        Err(e) => store_failed("Adding the site", &e),
    }
}

pub async fn remove(path: web::Path<i64>, body: web::Bytes, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require_form(&session, &state, &body, ADMINS).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let id = path.into_inner();
    match state.sites.remove(id, account.scope()).await {
        Ok(true) => {
            security_event(&state.store, "site_removed", Some(&account.name), Some(&format!("site {id}"))).await;
            see_other(paths::STAFF_SITES)
        }
        Ok(false) => HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("There is no site with that number at your school."),
        Err(e) => store_failed("Removing the site", &e),
    }
}
