//! The cookie session and CSRF protection.
//!
//! The session cookie holds the api's Biscuit token (HttpOnly, SameSite=Lax, Path=/,
//! `Secure` when `COOKIE_SECURE=true`). CSRF is a double-submit cookie bound to the
//! session: a random value in a cookie of its own (`__Host-bank_csrf` over HTTPS, so no
//! sibling domain can plant one), and in every state-changing form a digest of that value
//! and the session cookie, compared in constant time. Someone who manages to set the CSRF
//! cookie still cannot forge the field without the HttpOnly session cookie. The CSRF
//! cookie is replaced whenever the session cookie is set or cleared (sign-in, sign-out).
//! On top of that a POST that says it comes from another site (`Sec-Fetch-Site:
//! cross-site`, or an `Origin` other than this host) is refused.

use std::net::SocketAddr;

use axum::body::Bytes;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request, State};
use axum::http::header::{CONTENT_TYPE, HOST, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::client::Caller;
use crate::client_address::Origin;
pub use crate::cookies::{
    CSRF_COOKIE, CSRF_FIELD, SECURE_CSRF_COOKIE, SESSION_COOKIE, clear_session_cookie,
    cookie_value, session_cookie,
};
use crate::cookies::{csrf_cookie, csrf_cookie_name};
use crate::error::Error;

/// Marks every cookie the web sets `Secure` (only sent over HTTPS) when
/// `COOKIE_SECURE=true`, so no handler can forget it.
pub async fn secure_cookies(State(secure): State<bool>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if secure {
        let marked: Vec<HeaderValue> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| HeaderValue::from_str(&format!("{v}; Secure")).ok())
            .collect();
        response.headers_mut().remove(SET_COOKIE);
        for value in marked {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// The signed-in customer's token. Pages that need one take this extractor; without a
/// session cookie they send the visitor to the sign-in page.
#[derive(Clone, Debug)]
pub struct Session {
    pub token: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Session, Error> {
        cookie_value(&parts.headers, SESSION_COOKIE)
            .map(|token| Session { token })
            .ok_or(Error::SignInRequired)
    }
}

/// The W3C trace context of the incoming request, and where it came from, passed on to
/// the api.
#[derive(Clone, Debug, Default)]
pub struct Trace(pub Option<HeaderValue>, pub Option<Origin>);

impl<S: Send + Sync> FromRequestParts<S> for Trace {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Trace, Self::Rejection> {
        let traceparent = parts
            .headers
            .get("traceparent")
            .filter(|v| v.len() <= 128)
            .cloned();
        // Without connection info (a router served without it) the api sees this server.
        let origin = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| Origin {
                peer: *peer,
                // The right-most few: those are the ones our proxies wrote.
                forwarded_for: {
                    let mut last: Vec<HeaderValue> = parts
                        .headers
                        .get_all("x-forwarded-for")
                        .iter()
                        .rev()
                        .take(8)
                        .cloned()
                        .collect();
                    last.reverse();
                    last
                },
            });
        Ok(Trace(traceparent, origin))
    }
}

impl Trace {
    pub fn anonymous(&self) -> Caller {
        Caller {
            token: None,
            traceparent: self.0.clone(),
            origin: self.1.clone(),
        }
    }

    pub fn with(&self, session: &Session) -> Caller {
        Caller {
            token: Some(session.token.clone()),
            traceparent: self.0.clone(),
            origin: self.1.clone(),
        }
    }
}

/// The CSRF value to put in this page's forms: a digest of the CSRF cookie and the session
/// cookie. `checkable` is false when the request brought no CSRF cookie (a fresh one is
/// being set), so no submission can match.
#[derive(Clone, Debug)]
pub struct CsrfToken {
    pub form: String,
    checkable: bool,
}

impl AsRef<str> for CsrfToken {
    fn as_ref(&self) -> &str {
        &self.form
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<CsrfToken, Error> {
        parts.extensions.get::<CsrfToken>().cloned().ok_or_else(|| {
            tracing::error!("the CSRF middleware is not installed on this route");
            Error::Internal
        })
    }
}

fn new_csrf_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn looks_like_csrf_token(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The form value for a CSRF cookie and the session cookie beside it (empty when signed out).
fn form_token(cookie: &str, session: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(b"bank-csrf-v1\0");
    digest.update(cookie.as_bytes());
    digest.update(b"\0");
    digest.update(session.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.finalize())
}

/// Whether a response starts or ends a session.
fn sets_session(response: &Response) -> bool {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with(SESSION_COOKIE) && v[SESSION_COOKIE.len()..].starts_with('='))
}

/// Gives every request its CSRF form value (from the request's cookies, or a fresh cookie
/// that is set on the HTML response), and a new cookie whenever the session changes.
pub async fn csrf_middleware(
    State(secure): State<bool>,
    mut request: Request,
    next: Next,
) -> Response {
    let name = csrf_cookie_name(secure);
    let existing = cookie_value(request.headers(), name).filter(|v| looks_like_csrf_token(v));
    let session = cookie_value(request.headers(), SESSION_COOKIE).unwrap_or_default();
    let (cookie, fresh) = match existing {
        Some(cookie) => (cookie, false),
        None => (new_csrf_token(), true),
    };
    request.extensions_mut().insert(CsrfToken {
        form: form_token(&cookie, &session),
        checkable: !fresh,
    });
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let replacement = if sets_session(&response) {
        Some(new_csrf_token())
    } else if fresh && is_html {
        Some(cookie)
    } else {
        None
    };
    if let Some(token) = replacement
        && let Ok(value) = HeaderValue::from_str(&csrf_cookie(secure, &token))
    {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// A submitted form whose CSRF field matched the cookies, from a page of this site.
/// Anything else is refused with 403 before the handler runs, so nothing changes.
pub struct CsrfForm<T>(pub T);

#[derive(Deserialize)]
struct TokenField {
    #[serde(default)]
    csrf: String,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CsrfForm<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<CsrfForm<T>, Error> {
        let headers = request.headers();
        if !same_site(headers) {
            tracing::warn!("refused a cross-site form post");
            return Err(Error::CsrfRefused);
        }
        let is_form = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(Error::CsrfRefused);
        }
        let expected = request.extensions().get::<CsrfToken>().cloned();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|_| Error::BadForm)?;
        let sent: TokenField = serde_urlencoded::from_bytes(&body).map_err(|_| Error::BadForm)?;
        let matches = match expected {
            Some(expected) if expected.checkable && !sent.csrf.is_empty() => {
                bool::from(expected.form.as_bytes().ct_eq(sent.csrf.as_bytes()))
            }
            _ => false,
        };
        if !matches {
            tracing::warn!("refused a form post without a valid CSRF token");
            return Err(Error::CsrfRefused);
        }
        serde_urlencoded::from_bytes(&body)
            .map(CsrfForm)
            .map_err(|_| Error::BadForm)
    }
}

/// False when the browser says the request comes from another site.
fn same_site(headers: &HeaderMap) -> bool {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if header("sec-fetch-site") == Some("cross-site") {
        return false;
    }
    match header("origin") {
        // Privacy-sensitive contexts send "null"; the token decides then.
        None | Some("null") => true,
        Some(origin) => {
            let origin_host = origin
                .split_once("://")
                .map(|(_, rest)| rest.trim_end_matches('/'));
            let hosts = [header("x-forwarded-host"), header(HOST.as_str())];
            match origin_host {
                Some(origin_host) => hosts
                    .into_iter()
                    .flatten()
                    .any(|host| same_host(origin_host, host)),
                None => false,
            }
        }
    }
}

/// `origin` (host[:port] of the `Origin` header) names `host` (the `Host` header). A proxy
/// may drop the port from `Host`; then the names alone must match.
fn same_host(origin: &str, host: &str) -> bool {
    fn split(h: &str) -> (&str, Option<&str>) {
        match h.rsplit_once(':') {
            Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
                (name, Some(port))
            }
            _ => (h, None),
        }
    }
    let (origin_name, origin_port) = split(origin);
    let (host_name, host_port) = split(host);
    origin_name.eq_ignore_ascii_case(host_name) && (host_port.is_none() || host_port == origin_port)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn cross_site_posts_are_recognised() {
        assert!(same_site(&headers(&[("host", "bank.test")])));
        assert!(same_site(&headers(&[
            ("host", "bank.test"),
            ("origin", "https://bank.test"),
            ("sec-fetch-site", "same-origin"),
        ])));
        assert!(!same_site(&headers(&[
            ("host", "bank.test"),
            ("sec-fetch-site", "cross-site"),
        ])));
        assert!(!same_site(&headers(&[
            ("host", "bank.test"),
            ("origin", "https://evil.test"),
        ])));
        assert!(!same_site(&headers(&[
            ("host", "bank.test:8080"),
            ("origin", "http://bank.test"),
        ])));
        // A proxy that drops the port from Host.
        assert!(same_site(&headers(&[
            ("host", "bank.test"),
            ("origin", "http://bank.test:30080"),
        ])));
        assert!(!same_site(&headers(&[
            ("host", "bank.test"),
            ("origin", "http://evil.test:30080"),
        ])));
        assert!(same_site(&headers(&[
            ("host", "internal:8080"),
            ("x-forwarded-host", "bank.test"),
            ("origin", "https://bank.test"),
        ])));
    }

    #[test]
    fn cookies_are_read_and_written() {
        let map = headers(&[("cookie", "a=1; bank_session=tok.en=; bank_csrf=x")]);
        assert_eq!(
            cookie_value(&map, SESSION_COOKIE).as_deref(),
            Some("tok.en=")
        );
        assert_eq!(cookie_value(&map, "missing"), None);
        let set = session_cookie("abc", Duration::from_secs(60));
        for part in [
            "bank_session=abc",
            "HttpOnly",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=60",
        ] {
            assert!(set.contains(part), "{set} lacks {part}");
        }
        assert!(clear_session_cookie().contains("Max-Age=0"));
        let token = new_csrf_token();
        assert!(looks_like_csrf_token(&token), "{token}");
        assert_ne!(token, new_csrf_token());
        assert!(csrf_cookie(true, &token).starts_with("__Host-bank_csrf="));
        assert!(csrf_cookie(false, &token).starts_with("bank_csrf="));
    }

    #[test]
    fn the_form_value_is_bound_to_the_session() {
        let cookie = new_csrf_token();
        let signed_out = form_token(&cookie, "");
        assert_ne!(signed_out, cookie, "the cookie alone is not the form value");
        assert_ne!(signed_out, form_token(&cookie, "token-a"));
        assert_ne!(
            form_token(&cookie, "token-a"),
            form_token(&cookie, "token-b")
        );
        assert_eq!(
            form_token(&cookie, "token-a"),
            form_token(&cookie, "token-a")
        );
    }
}
