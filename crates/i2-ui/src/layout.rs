//! The page shell shared by every page: head, breadcrumbs, the live-status region, scripts.

use maud::{DOCTYPE, Markup, html};

/// A whole page: `crumbs` lead to it (label, link), `body` is its main content.
pub fn page(title: &str, crumbs: &[(&str, String)], body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — CCP4i2" }
                // No favicon request (the UI has none).
                link rel="icon" href="data:,";
                link rel="stylesheet" href="/ui/static/ui.css";
                script src="/ui/static/ui.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/ui/projects/" { "CCP4i2" }
                    nav aria-label="Breadcrumbs" {
                        ol.crumbs {
                            @for (label, href) in crumbs {
                                li { a href=(href) { (label) } }
                            }
                            li aria-current="page" { (title) }
                        }
                    }
                    a.account href="/ui/login/" { "Sign in / out" }
                }
                main #main tabindex="-1" { (body) }
                div #toast role="status" aria-live="polite" {}
            }
        }
    }
}

/// A status label with a colour class (`status-finished`…), for tables and headings.
pub fn status_badge(status: i64) -> Markup {
    let label = status_label(status);
    let class = format!("badge status-{}", label.to_lowercase().replace(' ', "-"));
    html! { span class=(class) data-status=(status) { (label) } }
}

pub fn status_label(status: i64) -> &'static str {
    i2_core::JobStatus::from_i32(status as i32)
        .map(i2_core::JobStatus::label)
        .unwrap_or("Unknown")
}

pub fn evaluation_label(e: i64) -> &'static str {
    match e {
        1 => "Best",
        2 => "Good",
        3 => "Rejected",
        _ => "",
    }
}

/// Previous / next links for a paginated list.
pub fn pager(base: &str, page: i64, has_more: bool, extra: &str) -> Markup {
    html! {
        nav.pager aria-label="Pages" {
            @if page > 1 { a href={(base) "?page=" (page - 1) (extra)} rel="prev" { "← Previous" } }
            span { "Page " (page) }
            @if has_more { a href={(base) "?page=" (page + 1) (extra)} rel="next" { "Next →" } }
        }
    }
}

/// A time as a short UTC string.
pub fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}
