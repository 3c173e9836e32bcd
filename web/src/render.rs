//! Rendering: the shared layout, a template turned into a response, and the error page.
//! A leaf module (it knows no handler, session or client), so that errors can render
//! pages without importing the pages.

use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::i18n::Localizer;
use crate::locale::{Lang, Locale};
use crate::static_files;

/// One entry of the language link: the language in its own name, and for the languages
/// not being shown, the link that switches to it and comes back to this page.
pub struct LanguageLink {
    pub code: &'static str,
    pub name: &'static str,
    pub href: String,
    pub current: bool,
}

/// What the shared layout (`base.html`) needs on every page.
pub struct Layout {
    pub title: String,
    pub csrf: String,
    pub signed_in: bool,
    /// Which main navigation item is current: "accounts", "transfer", "payees", "deposit",
    /// "settings".
    pub nav: &'static str,
    pub css: &'static str,
    /// `<html lang>`.
    pub lang: &'static str,
    pub languages: Vec<LanguageLink>,
}

impl Layout {
    /// `title` is already in the reader's language; `csrf` is the form value of the
    /// request's CSRF token (`session::CsrfToken`).
    pub fn new(
        locale: &Locale,
        title: impl Into<String>,
        csrf: &impl AsRef<str>,
        signed_in: bool,
    ) -> Layout {
        Layout {
            title: title.into(),
            csrf: csrf.as_ref().to_owned(),
            signed_in,
            nav: "",
            css: static_files::css_url(),
            lang: locale.lang.code(),
            languages: language_links(locale),
        }
    }

    pub fn nav(mut self, nav: &'static str) -> Layout {
        self.nav = nav;
        self
    }
}

/// `/language?lang=es&return=/transfer`: a plain link, so switching needs no script.
fn language_links(locale: &Locale) -> Vec<LanguageLink> {
    Lang::ALL
        .into_iter()
        .map(|lang| LanguageLink {
            code: lang.code(),
            name: lang.own_name(),
            href: format!(
                "/language?{}",
                serde_urlencoded::to_string([("lang", lang.code()), ("return", &locale.here)])
                    .unwrap_or_default()
            ),
            current: lang == locale.lang,
        })
        .collect()
}

/// A rendered page. Pages are personal: no cache may keep them.
pub fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [
                (
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(CONTENT_TYPE, "text/plain; charset=utf-8")],
                "Sorry, there is a problem with the service. Try again later.\nLo sentimos, hay un problema con el servicio. Inténtelo de nuevo más tarde.",
            )
                .into_response()
        }
    }
}

pub fn ok(page: &impl Template) -> Response {
    html(StatusCode::OK, page)
}

/// The page for an error that is not a form's: 404, 403, 503 and the like.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub t: Localizer,
    pub heading: String,
    pub message: String,
}

impl ErrorPage {
    /// `heading` and `message` are in the reader's language already.
    pub fn new(locale: &Locale, heading: String, message: String) -> ErrorPage {
        // Error pages carry no forms, so no CSRF token is needed.
        ErrorPage {
            layout: Layout::new(locale, heading.clone(), &"", false),
            t: Localizer::new(locale.lang),
            heading,
            message,
        }
    }
}
