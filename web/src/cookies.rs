//! The web's cookies: their names and how each is written and read. A leaf module, so the
//! error pages can end a session without depending on the session extractors.

use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use cookie::{Cookie, SameSite};

pub const SESSION_COOKIE: &str = "bank_session";
/// The CSRF cookie over plain HTTP (development, a cluster without TLS).
pub const CSRF_COOKIE: &str = "bank_csrf";
/// The CSRF cookie when cookies are `Secure`: the `__Host-` prefix makes the browser refuse
/// one set by another host or with a `Domain`.
pub const SECURE_CSRF_COOKIE: &str = "__Host-bank_csrf";
/// The reader's choice of language (`en`, `es`): not a secret, kept across sign-out.
pub const LANGUAGE_COOKIE: &str = "bank_lang";
/// How long the choice of language is remembered: a year.
pub const LANGUAGE_COOKIE_SECS: i64 = 365 * 24 * 60 * 60;
/// The hidden form field that repeats the CSRF cookie.
pub const CSRF_FIELD: &str = "csrf";

fn base_cookie(name: &'static str, value: String) -> cookie::CookieBuilder<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
}

/// `Set-Cookie` for a new session, living as long as the token does (at most `max_age`).
pub fn session_cookie(token: &str, max_age: Duration) -> String {
    let seconds = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
    base_cookie(SESSION_COOKIE, token.to_owned())
        .max_age(cookie::time::Duration::seconds(seconds))
        .build()
        .to_string()
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_session_cookie() -> String {
    base_cookie(SESSION_COOKIE, String::new())
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

pub fn csrf_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_CSRF_COOKIE
    } else {
        CSRF_COOKIE
    }
}

pub fn csrf_cookie(secure: bool, token: &str) -> String {
    base_cookie(csrf_cookie_name(secure), token.to_owned())
        .build()
        .to_string()
}

/// `Set-Cookie` for the reader's language; `code` is one of `locale::Lang`'s codes.
pub fn language_cookie(code: &str) -> String {
    base_cookie(LANGUAGE_COOKIE, code.to_owned())
        .max_age(cookie::time::Duration::seconds(LANGUAGE_COOKIE_SECS))
        .build()
        .to_string()
}

/// The value of the cookie `name`, if the request carries it.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}
