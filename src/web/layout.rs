//! Page frame and small components shared by pupil pages. Everything interpolated here is
//! escaped by maud; nothing from a pupil or an engine is ever `PreEscaped`.

use maud::{html, Markup, DOCTYPE};

use super::paths;

/// The `<head>` every page shares: our own stylesheet and icon only.
fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="referrer" content="no-referrer";
            title { (title) }
            link rel="stylesheet" href=(paths::STYLESHEET);
            link rel="icon" href=(paths::LOGO) type="image/svg+xml";
        }
    }
}

/// The frame of every pupil page: calm, big, nothing loaded from elsewhere.
pub fn pupil_page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            (head(&format!("{title} – kidsearch")))
            body {
                header.top {
                    a.brand href=(paths::HOME) {
                        img src=(paths::LOGO) alt="" width="56" height="56";
                        span { "kidsearch" }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The one big search box. `value` is the pupil's own text, shown back escaped.
pub fn search_box(value: &str) -> Markup {
    html! {
        form.search role="search" method="get" action=(paths::SEARCH) {
            label for="q" { "What do you want to find out about?" }
            div.search-row {
                input #q type="search" name="q" value=(value) maxlength=(crate::search::query::MAX_QUERY_CHARS) autocomplete="off" autocapitalize="off" spellcheck="true" enterkeyhint="search" required;
                button type="submit" { "Search" }
            }
        }
    }
}

/// A calm message card with a picture word, used for every "something is different" state.
pub fn message_card(emoji: &str, heading: &str, text: &str) -> Markup {
    html! {
        section.message role="status" {
            p.picture aria-hidden="true" { (emoji) }
            h2 { (heading) }
            p { (text) }
        }
    }
}

/// The frame of staff pages: plain and quick, same stylesheet.
pub fn staff_page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            (head(&format!("{title} – kidsearch staff")))
            body.staff {
                main { (body) }
            }
        }
    }
}
