//! `/go?u=…&d=…&s=…`: the checked click-through. Only links the gateway signed for the
//! pupil's school in the last day are followed; the destination is checked against the block
//! lists and the walled garden again at click time, and the click recorded.

use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use url::Url;

use crate::policy::domains::host_of;
use crate::policy::golink::LinkProblem;
use crate::store::{Activity, ActivityKind};
use crate::web::layout::{message_card, pupil_page, search_box};
use crate::web::AppState;

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let device = match super::gate::check(&req, &state, false).await {
        Ok(device) => device,
        Err(stop) => return stop,
    };
    let (device_name, class) = (device.as_ref().map(|d| d.name()), device.as_ref().map(|d| d.class.clone()));
    let school = super::gate::school_of(device.as_deref());
    let target = match state.links.verify(school, req.query_string()) {
        Ok(target) => target,
        Err(LinkProblem::Forged) => return broken_link(),
        Err(LinkProblem::Expired) => return old_link(),
    };
    let Some(url) = Url::parse(&target).ok().filter(|u| matches!(u.scheme(), "http" | "https")) else {
        return broken_link();
    };
    let host = host_of(&url).unwrap_or_default();
    // The lists as they are now, not as they were when the link was made: a link from before
    // a block or before the walled garden was turned on is not followed.
    let policy = state.policy.current();
    let refusal = policy.domain_category(&host).or_else(|| policy.garden.as_ref().is_some_and(|g| !g.covers(&host)).then_some("garden"));
    if let Some(category) = refusal {
        let row = Activity {
            category: Some(category.to_string()),
            url: Some(target.clone()),
            device: device_name,
            class,
            school,
            ..Activity::now(ActivityKind::BlockedClick)
        };
        if let Err(e) = state.store.record_durable(row).await {
            tracing::error!(error = %e, "a blocked click could not be recorded");
        }
        let body = html! {
            (message_card("🤝", "Let's ask a grown-up about this page", "This page is not for our school. A grown-up can help you find a better one."))
            (search_box(""))
        };
        return HttpResponse::Forbidden().content_type("text/html; charset=utf-8").body(pupil_page("Ask a grown-up", body).into_string());
    }
    // A result hidden school-wide after a report is not followed, even from an old page.
    if state.search.hidden().is_hidden(school, &target) {
        let body = html! {
            (message_card("🙈", "This page is hidden for now", "A grown-up is checking it. Let's search for something else."))
            (search_box(""))
        };
        return HttpResponse::Forbidden().content_type("text/html; charset=utf-8").body(pupil_page("Hidden for now", body).into_string());
    }
    state.store.record(Activity { url: Some(target.clone()), device: device_name, class, school, ..Activity::now(ActivityKind::Click) });
    HttpResponse::SeeOther().insert_header(("Location", url.as_str())).finish()
}

/// A link from a page kept too long (a screenshot, an old tab): search again.
fn old_link() -> HttpResponse {
    let body = html! {
        (message_card("⏰", "This link is from another day", "Let's search again to find it."))
        (search_box(""))
    };
    HttpResponse::Gone().content_type("text/html; charset=utf-8").body(pupil_page("Old link", body).into_string())
}

fn broken_link() -> HttpResponse {
    let body = html! {
        (message_card("🔗", "This link doesn't work", "Let's go back and search again."))
        (search_box(""))
    };
    HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(pupil_page("Link not working", body).into_string())
}
