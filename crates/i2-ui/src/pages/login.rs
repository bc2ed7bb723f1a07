//! The sign-in page. A browser cannot send the desktop session token as a header, so it is
//! typed here once; the server (`i2-api`'s `auth::ui_session`) checks it and keeps a signed,
//! HttpOnly cookie instead. This module only draws the page; the form posts to the same path.

use maud::{Markup, html};

use crate::layout;

/// What the server can offer the visitor.
pub enum LoginView<'a> {
    /// The server takes a session token: ask for it (`message` says why we ask again).
    AskToken {
        message: Option<&'a str>,
        next: &'a str,
    },
    /// The visitor's cookie is valid.
    SignedIn,
    /// Just signed out.
    SignedOut,
    /// No credentials needed (development mode on loopback).
    NotNeeded,
    /// Only Entra ID tokens are accepted: the sign-in happens in front of this server.
    EntraOnly,
}

pub fn render(view: LoginView) -> String {
    let body = html! {
        section.login {
            h1 { "Sign in to CCP4i2" }
            @match view {
                LoginView::AskToken { message, next } => {
                    @if let Some(m) = message { p.notice.error role="alert" { (m) } }
                    p { "This server is protected by a session token (the one it was started with, "
                        code { "CCP4I2_LOCAL_SESSION_TOKEN" } "). Enter it once; this browser then stays signed in for 12 hours or until you sign out." }
                    (form(next))
                }
                LoginView::SignedIn => {
                    p { "You are signed in. " a href="/ui/projects/" { "Go to your projects" } "." }
                    (sign_out())
                }
                LoginView::SignedOut => {
                    p.notice role="status" { "You are signed out." }
                    (form("/ui/projects/"))
                }
                LoginView::NotNeeded => {
                    p { "This server needs no sign-in (it runs for this computer only). " a href="/ui/projects/" { "Go to your projects" } "." }
                }
                LoginView::EntraOnly => {
                    p { "This server accepts Microsoft Entra ID sign-in only, which happens before you reach it. "
                        "Ask whoever runs it how to sign in." }
                }
            }
        }
    };
    layout::page("Sign in", &[], body).into_string()
}

fn form(next: &str) -> Markup {
    html! {
        form #login method="post" action="/ui/login/" {
            input type="hidden" name="next" value=(next);
            div.field {
                label for="token" { "Session token" }
                input #token type="password" name="token" required autocomplete="current-password" autofocus;
            }
            button.primary type="submit" { "Sign in" }
        }
    }
}

fn sign_out() -> Markup {
    html! {
        form #logout method="post" action="/ui/login/" {
            input type="hidden" name="logout" value="1";
            button type="submit" { "Sign out" }
        }
    }
}
