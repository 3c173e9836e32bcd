//! Rendering: the shared layout, a template turned into a response, and the error page.
//! A leaf module (it knows no handler, session or client), so that errors can render
//! pages without importing the pages.

use askama::Template;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::static_files;

/// What the shared layout (`base.html`) needs on every page.
pub struct Layout {
    pub title: String,
    pub csrf: String,
    pub signed_in: bool,
    /// Which main navigation item is current: "accounts", "transfer", "payees", "deposit",
    /// "settings".
    pub nav: &'static str,
    pub css: &'static str,
}

impl Layout {
    /// `csrf` is the form value of the request's CSRF token (`session::CsrfToken`).
    pub fn new(title: impl Into<String>, csrf: &impl AsRef<str>, signed_in: bool) -> Layout {
        Layout {
            title: title.into(),
            csrf: csrf.as_ref().to_owned(),
            signed_in,
            nav: "",
            css: static_files::css_url(),
        }
    }

    pub fn nav(mut self, nav: &'static str) -> Layout {
        self.nav = nav;
        self
    }
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
                "Sorry, there is a problem with the service. Try again later.",
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
    pub heading: String,
    pub message: String,
}

impl ErrorPage {
    pub fn new(heading: &str, message: String) -> ErrorPage {
        ErrorPage {
            // Error pages carry no forms, so no CSRF token is needed.
            layout: Layout {
                title: heading.to_owned(),
                csrf: String::new(),
                signed_in: false,
                nav: "",
                css: static_files::css_url(),
            },
            heading: heading.to_owned(),
            message,
        }
    }
}
