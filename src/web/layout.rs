//! Page frame and small components shared by pupil pages. Everything interpolated here is
//! escaped by maud; nothing from a pupil or an engine is ever `PreEscaped`.

use maud::{html, Markup, DOCTYPE};

use super::paths;
use crate::staff::Role;

/// The `<head>` every page shares: our own stylesheet and icon only.
fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="referrer" content="same-origin";
            title { (title) }
            link rel="stylesheet" href=(paths::STYLESHEET);
            link rel="icon" href=(paths::LOGO) type="image/svg+xml";
            // Only makes things quicker (the tell-an-adult cover, live alerts): every page
            // works the same without it.
            script src=(paths::SCRIPT) defer {}
        }
    }
}

/// What was on the pupil's screen, sent with a tell-an-adult press.
#[derive(Debug, Clone, Copy, Default)]
pub struct OnScreen<'a> {
    pub query: &'a str,
    pub page: u32,
}

/// The frame of every pupil page: calm, big, nothing loaded from elsewhere, and the
/// tell-an-adult button at the top.
pub fn pupil_page(title: &str, body: Markup) -> Markup {
    pupil_page_showing(title, body, OnScreen::default())
}

/// As `pupil_page`, saying what the page shows (sent with a press of the button).
pub fn pupil_page_showing(title: &str, body: Markup, on_screen: OnScreen<'_>) -> Markup {
    pupil_frame(title, body, help_button(on_screen, None))
}

/// The frame of a page about one thing a pupil may want to tell an adult about (an approved
/// video): as `pupil_page`, but the big button also sends `about` — the thing's signed `/go`
/// link and its title — so the press names it (and hides it for the school until a teacher
/// looks, as a reported result is).
pub fn pupil_page_about(title: &str, body: Markup, about: (&str, &str)) -> Markup {
    let button = html! {
        form.help method="post" action=(paths::HELP) {
            input type="hidden" name="go" value=(about.0);
            input type="hidden" name="t" value=(about.1);
            (big_help_button())
        }
    };
    pupil_frame(title, body, button)
}

/// Every pupil page: the brand, the tell-an-adult button given, the page's own content.
fn pupil_frame(title: &str, body: Markup, help: Markup) -> Markup {
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
                    (help)
                }
                main { (body) }
            }
        }
    }
}

/// The big "Turn off screen and tell an adult" button at the top of every pupil page.
fn big_help_button() -> Markup {
    html! {
        button.help-button type="submit" {
            img src=(paths::HELP_ICON) alt="" width="40" height="40";
            span { "Turn off screen and tell an adult" }
        }
    }
}

/// "Turn off screen and tell an adult": a real form, so it works without JavaScript; with
/// JavaScript the screen is covered before the request is even sent. `card` is the signed link
/// and title of the result it was pressed on, if any.
pub fn help_button(on_screen: OnScreen<'_>, card: Option<(&str, &str)>) -> Markup {
    html! {
        form.help method="post" action=(paths::HELP) {
            @if !on_screen.query.is_empty() {
                input type="hidden" name="q" value=(on_screen.query);
                input type="hidden" name="page" value=(on_screen.page.max(1));
            }
            @if let Some((go, title)) = card {
                input type="hidden" name="go" value=(go);
                input type="hidden" name="t" value=(title);
                button.help-card type="submit" {
                    img src=(paths::HELP_ICON) alt="" width="28" height="28";
                    span { "Tell an adult about this" }
                }
            } @else {
                (big_help_button())
            }
        }
    }
}

/// The one big search box. `value` is the pupil's own text, shown back escaped.
pub fn search_box(value: &str) -> Markup {
    html! {
        form.search role="search" method="get" action=(paths::SEARCH) {
            div.label-row {
                label for="q" { "What do you want to find out about?" }
                (speak_button("What do you want to find out about?", Some("q")))
            }
            div.search-row {
                input #q type="search" name="q" value=(value) maxlength=(crate::query::MAX_QUERY_CHARS) autocomplete="off" autocapitalize="off" spellcheck="true" enterkeyhint="search" required;
                button type="submit" { "Search" }
                // The same words as a picture search (a second submit: works without script).
                button.pictures type="submit" formaction=(paths::PICTURES) { "Pictures" }
            }
        }
    }
}

/// "Read it to me": reads `text` (and, with `input`, what is typed in that box) aloud with the
/// browser's own speech synthesis — nothing leaves the iPad. Hidden until the script finds
/// speech synthesis, so it never shows where it cannot work.
pub fn speak_button(text: &str, input: Option<&str>) -> Markup {
    html! {
        button.speak type="button" hidden data-say=(text) data-say-input=[input] {
            img src=(paths::SPEAKER_ICON) alt="" width="32" height="32";
            span.visually-hidden { "Read it to me" }
        }
    }
}

/// "Read it to me" on a result card: reads the card's own title and snippet (the script finds
/// them), so the text is not sent twice in every page.
pub fn speak_card_button() -> Markup {
    html! {
        button.speak type="button" hidden data-say-card="" {
            img src=(paths::SPEAKER_ICON) alt="" width="32" height="32";
            span.visually-hidden { "Read it to me" }
        }
    }
}

/// A calm message card with a picture word, used for every "something is different" state.
pub fn message_card(emoji: &str, heading: &str, text: &str) -> Markup {
    html! {
        section.message role="status" {
            p.picture aria-hidden="true" { (emoji) }
            h2 { (heading) " " (speak_button(&format!("{heading}. {text}"), None)) }
            p { (text) }
        }
    }
}

/// How long before a class's search window closes its pupils are told.
pub const CLOSING_SOON_MINUTES: i64 = 5;

/// "Search will rest in 4 minutes" — a gentle warning, read aloud on a tap, before a class's
/// window closes, so a child is not cut off mid-page without a word. It is in the page in
/// words when the page is drawn that close to the end; the script (which reads the end from
/// `data-ends`, against the server's clock in `data-now`) shows and counts it down on a page
/// drawn earlier, and reloads the page when search rests.
pub fn closing_soon(ends_ms: i64, now_ms: i64) -> Markup {
    let minutes = (ends_ms - now_ms + 59_999) / 60_000;
    let text = closing_words(minutes);
    html! {
        section.closing-soon #closing-soon role="status" data-ends=(ends_ms) data-now=(now_ms) hidden[minutes > CLOSING_SOON_MINUTES] {
            span.picture aria-hidden="true" { "⏳" }
            span.closing-text { (text) }
            (speak_button(&text, None))
        }
    }
}

/// kidsearch.js words it the same as it counts down.
fn closing_words(minutes: i64) -> String {
    match minutes {
        ..=1 => "Nearly time to stop. Search will rest in 1 minute.".into(),
        n => format!("Nearly time to stop. Search will rest in {n} minutes."),
    }
}

/// The frame of staff pages: plain and quick, same stylesheet. `signed_in` is the reader's
/// role: every page a signed-in member of staff reads has the one navigation bar
/// (`staff_nav`); the sign-in page has none.
pub fn staff_page(title: &str, signed_in: Option<Role>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            (head(&format!("{title} – kidsearch staff")))
            body.staff {
                // An open alert, wherever a member of staff is (filled and shown by
                // kidsearch.js from the alert stream; a page without script still has the
                // dashboard's list).
                div.staff-bar {
                    div #alert-banner .alert-banner role="alert" hidden {
                        a href=(paths::STAFF) { span.alert-banner-text {} " Open the dashboard." }
                    }
                    // Shown by the script, which plays it: off until a teacher turns it on.
                    button #alert-sound type="button" aria-pressed="false" hidden { "Sound for alerts" }
                }
                @if let Some(role) = signed_in { (staff_nav(role)) }
                main { (body) }
            }
        }
    }
}

/// The one navigation bar of the staff pages: the pages this role may open, and no others
/// (a teacher is not offered the register, only to be told it is not for them).
pub fn staff_nav(role: Role) -> Markup {
    let leads = matches!(role, Role::Dsl | Role::Admin);
    html! {
        nav.staff-nav aria-label="Staff pages" {
            ul {
                li { a href=(paths::STAFF) { "Dashboard" } }
                li { a href=(paths::STAFF_PRERUN) { "Pre-run and approve" } }
                li { a href=(paths::STAFF_APPROVALS) { "Approved searches" } }
                li { a href=(paths::STAFF_VIDEOS) { "Videos" } }
                li { a href=(paths::STAFF_DEVICES) { "Devices" } }
                li { a href=(paths::STAFF_ACTIVITY) { "Activity" } }
                @if leads {
                    li { a href=(paths::STAFF_INCIDENTS) { "Incident register" } }
                    li { a href=(paths::STAFF_HIDDEN) { "Results kept hidden" } }
                    li { a href=(paths::STAFF_REVIEW) { "Annual review" } }
                }
                li { a href=(paths::STAFF_HEALTH) { "Engine health" } }
                @if role == Role::Admin {
                    li { a href=(paths::STAFF_OVER_BLOCKS) { "Over-blocks" } }
                    li { a href=(paths::STAFF_SITES) { "Our sites" } }
                    li { a href=(paths::STAFF_USERS) { "Staff accounts" } }
                    li { a href=(paths::STAFF_SECURITY) { "Security log" } }
                }
                li { a href=(paths::STAFF_PASSWORD) { "My password" } }
            }
        }
    }
}

/// A class chosen from the enrolled ones ("Oak (6 iPads)"), not typed: a typo opened a window
/// no iPad was in. `whole_school` adds a first choice of none ("" = the whole school). With no
/// iPad enrolled yet there is nothing to choose from, and the name is typed.
pub fn class_choice(id: &str, classes: &[(String, usize)], whole_school: Option<&str>) -> Markup {
    html! {
        @if classes.is_empty() && whole_school.is_none() {
            input id=(id) type="text" name="class" required maxlength="40";
        } @else {
            select id=(id) name="class" required[whole_school.is_none()] {
                @if let Some(label) = whole_school { option value="" { (label) } }
                @for (class, ipads) in classes {
                    option value=(class) { (class) " (" (ipads) @if *ipads == 1 { " iPad)" } @else { " iPads)" } }
                }
            }
        }
    }
}
