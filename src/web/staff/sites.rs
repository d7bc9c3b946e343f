//! The school's sites (admins): the short list of sites pupils open from picture tiles on the
//! home page (`crate::sites`). Adding one checks it as `/go` will at every tap: a site the
//! block lists refuse, or outside the walled garden when it is on, is not added.

use actix_session::Session;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt as _;
use maud::html;

use super::{csrf_token, html_page, own_school, require, require_form, see_other, store_failed};
use crate::policy::domains::host_of;
use crate::sites::{SiteForm, MAX_PHOTO_BYTES, MAX_SITES};
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
                            td {
                                @if s.photo { img src=(paths::site_picture(s.id)) alt="" width="64" height="48"; " " }
                                @else { span aria-hidden="true" { (s.picture) " " } }
                                (s.name)
                            }
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
        form method="post" action=(paths::STAFF_SITES) enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(token);
            label for="site-name" { "Name pupils see" }
            input #site-name type="text" name="name" maxlength="40" required placeholder="GoBubble";
            label for="site-url" { "Address" }
            input #site-url type="text" name="url" maxlength="500" required placeholder="https://www.gobubble.school/";
            label for="site-picture" { "Picture: one emoji" }
            input #site-picture type="text" name="picture" maxlength="8" placeholder="🫧";
            label for="site-photo" { "… or a picture file (JPEG, PNG, GIF or WebP; kidsearch makes a small copy of it)" }
            input #site-photo type="file" name="photo" accept="image/jpeg,image/png,image/gif,image/webp";
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

/// The add form's fields: from a multipart form (the page's, which may carry a picture file)
/// or a urlencoded one (no file). Text fields are capped, the file at `MAX_PHOTO_BYTES`.
#[derive(Default)]
struct AddForm {
    fields: std::collections::HashMap<String, String>,
    photo: Vec<u8>,
}

impl AddForm {
    fn get(&self, name: &str) -> Option<String> {
        self.fields.get(name).cloned()
    }
}

const MAX_TEXT_FIELD_BYTES: usize = 4 * 1024;

async fn read_add_form(req: &HttpRequest, payload: web::Payload) -> Result<AddForm, String> {
    let multipart = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("multipart/form-data"));
    if !multipart {
        let body = read_capped(payload, MAX_TEXT_FIELD_BYTES * 4).await?;
        let fields = ["csrf", "name", "url", "picture", "class"].iter().filter_map(|n| field(&body, n).map(|v| (n.to_string(), v))).collect();
        return Ok(AddForm { fields, photo: Vec::new() });
    }
    let mut form = AddForm::default();
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(|e| format!("the form did not arrive whole ({e}): try again"))?;
        let name = part.name().unwrap_or_default().to_string();
        let is_photo = name == "photo";
        let cap = if is_photo { MAX_PHOTO_BYTES } else { MAX_TEXT_FIELD_BYTES };
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|e| format!("the form did not arrive whole ({e}): try again"))?;
            if bytes.len() + chunk.len() > cap {
                return Err(if is_photo {
                    format!("That picture file is over {} MB: choose a smaller one.", MAX_PHOTO_BYTES / (1024 * 1024))
                } else {
                    format!("The {name} field is too long.")
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if is_photo {
            form.photo = bytes;
        } else if !name.is_empty() {
            form.fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Ok(form)
}

async fn read_capped(mut payload: web::Payload, cap: usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| format!("the form did not arrive whole ({e}): try again"))?;
        if body.len() + chunk.len() > cap {
            return Err("The form is too long.".into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub async fn add(req: HttpRequest, payload: web::Payload, session: Session, state: web::Data<AppState>) -> HttpResponse {
    let account = match require(&session, &state, ADMINS).await {
        Ok(a) => a,
        Err(answer) => return answer,
    };
    let form = match read_add_form(&req, payload).await {
        Ok(form) => form,
        // Whoever sent a form this broken is signed in as an admin: the page says why.
        Err(problem) => return sites_page(&session, &state, &account, Some(problem)).await,
    };
    if !super::csrf_ok(&session, form.get("csrf").as_deref()) {
        return super::expired_form();
    }
    let school = match own_school(&account) {
        Ok(s) => s,
        Err(answer) => return answer,
    };
    let (name, url, picture, class) =
        (form.get("name").unwrap_or_default(), form.get("url").unwrap_or_default(), form.get("picture").unwrap_or_default(), form.get("class"));
    let class = class.filter(|c| !c.trim().is_empty());
    let photo = form.photo.clone();
    // Decoding and re-encoding a picture is CPU work: off the async workers.
    let checked = web::block(move || SiteForm { name: &name, url: &url, picture: &picture, class: class.as_deref(), photo: &photo }.check())
        .await
        .unwrap_or_else(|_| Err("The picture could not be read just now: try again.".into()));
    let checked = checked.and_then(|site| {
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
