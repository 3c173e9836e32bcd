//! The web's one error type. Api errors arrive as `extensions.code` and, when a refusal
//! concerns one input, `extensions.field` (the input's name in the schema); both are
//! mapped once (`Error::from_api`), and the api's message text is never read: every word
//! the reader sees comes from the web's own catalogues. Forms catch the refusals they can
//! explain next to a field first; what is left becomes a page once, in the reader's
//! language (`IntoResponse` marks the response, [`error_pages`] renders it).

use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use banking_common::error_code::ErrorCode;

use crate::cookies;
use crate::i18n::{Localizer, key};
use crate::locale::Locale;
use crate::render::{ErrorPage, html};

/// The api input a refusal concerns (`extensions.field`, e.g. `toAccountNumber`), when
/// it names one.
pub type Field = Option<String>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The api no longer accepts the session (expired, revoked, a bad token).
    SessionEnded,
    /// No session cookie at all: sign in first.
    SignInRequired,
    /// A wrong username or password at sign-in (`INVALID_CREDENTIALS`).
    InvalidCredentials,
    /// A read-only token used to write, or another refusal of the api's.
    Forbidden,
    /// The api refused an input (`BAD_USER_INPUT`).
    BadInput(Field),
    /// The api found no such thing (`NOT_FOUND`): the target account, another
    /// customer's account, a payee already gone.
    NotFound(Field),
    /// `INSUFFICIENT_FUNDS`.
    InsufficientFunds(Field),
    /// `CONFLICT`: a username taken, a payee saved twice, an idempotency key reused.
    Conflict(Field),
    /// Too many failed sign-ins.
    RateLimited,
    /// The api (or what it depends on) is down or did not answer in time.
    Unavailable,
    /// A failure of ours; the cause is logged where it happened.
    Internal,
    /// A state-changing request without a valid CSRF token, or from another site.
    CsrfRefused,
    /// A form that could not be read at all (not a form, a broken encoding).
    BadForm,
    /// No page here.
    PageNotFound,
}

/// The longest field name taken from the api; schema names are short identifiers.
const MAX_FIELD: usize = 64;

impl Error {
    /// A short name for metrics: the api's code where there is one.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::SessionEnded | Error::SignInRequired => ErrorCode::Unauthenticated,
            Error::InvalidCredentials => ErrorCode::InvalidCredentials,
            Error::Forbidden | Error::CsrfRefused => ErrorCode::Forbidden,
            Error::BadInput(_) | Error::BadForm => ErrorCode::BadUserInput,
            Error::NotFound(_) | Error::PageNotFound => ErrorCode::NotFound,
            Error::InsufficientFunds(_) => ErrorCode::InsufficientFunds,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::RateLimited => ErrorCode::RateLimited,
            Error::Unavailable => ErrorCode::Unavailable,
            Error::Internal => ErrorCode::Internal,
        }
    }

    /// The api's `extensions.code` and `extensions.field`, as the web's error: each code
    /// in one exhaustive `match`; a code this build does not know is a failure of ours.
    /// A field that is not a plain identifier is ignored.
    pub fn from_api(code: &str, field: Option<&str>) -> Error {
        let Some(code) = ErrorCode::parse(code) else {
            tracing::error!(code, "the api answered with a code the web does not know");
            return Error::Internal;
        };
        let field = field
            .filter(|f| {
                !f.is_empty()
                    && f.len() <= MAX_FIELD
                    && f.bytes().all(|b| b.is_ascii_alphanumeric())
            })
            .map(str::to_owned);
        match code {
            ErrorCode::Unauthenticated => Error::SessionEnded,
            ErrorCode::InvalidCredentials => Error::InvalidCredentials,
            ErrorCode::Forbidden => Error::Forbidden,
            ErrorCode::BadUserInput => Error::BadInput(field),
            ErrorCode::NotFound => Error::NotFound(field),
            ErrorCode::InsufficientFunds => Error::InsufficientFunds(field),
            ErrorCode::Conflict => Error::Conflict(field),
            ErrorCode::RateLimited => Error::RateLimited,
            ErrorCode::Unavailable => Error::Unavailable,
            ErrorCode::Internal => Error::Internal,
        }
    }

    /// The api input this refusal names, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::BadInput(field)
            | Error::NotFound(field)
            | Error::InsufficientFunds(field)
            | Error::Conflict(field) => field.as_deref(),
            _ => None,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::SessionEnded | Error::SignInRequired => StatusCode::SEE_OTHER,
            Error::InvalidCredentials => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Forbidden | Error::CsrfRefused => StatusCode::FORBIDDEN,
            Error::BadInput(_) | Error::BadForm => StatusCode::BAD_REQUEST,
            Error::NotFound(_) | Error::PageNotFound => StatusCode::NOT_FOUND,
            Error::InsufficientFunds(_) | Error::Conflict(_) => StatusCode::CONFLICT,
            Error::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The heading and the message of this error's page, as message keys.
    fn page_keys(&self) -> (&'static str, &'static str) {
        match self {
            Error::SessionEnded | Error::SignInRequired => (key("login-title"), key("login-ended")),
            Error::InvalidCredentials => (key("login-title"), key("login-wrong")),
            Error::Forbidden => (key("error-forbidden-title"), key("error-forbidden")),
            Error::BadInput(_) => (key("error-bad-input-title"), key("error-bad-input")),
            Error::NotFound(_) | Error::PageNotFound => {
                (key("error-not-found-title"), key("error-not-found"))
            }
            Error::InsufficientFunds(_) => (key("error-funds-title"), key("error-funds")),
            Error::Conflict(_) => (key("error-bad-input-title"), key("error-conflict")),
            Error::RateLimited => (key("error-rate-limited-title"), key("error-rate-limited")),
            Error::Unavailable => (key("error-unavailable-title"), key("error-unavailable")),
            Error::Internal => (key("error-internal-title"), key("error-internal")),
            Error::CsrfRefused => (key("error-csrf-title"), key("error-csrf")),
            Error::BadForm => (key("error-bad-input-title"), key("error-bad-form")),
        }
    }

    /// This error's page in the reader's language.
    pub fn page(&self, locale: &Locale) -> ErrorPage {
        let t = Localizer::new(locale.lang);
        let (heading, message) = self.page_keys();
        ErrorPage::new(locale, t.get(heading), t.get(message))
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::SessionEnded => (
                StatusCode::SEE_OTHER,
                [
                    (LOCATION, "/login?ended=1".to_owned()),
                    (SET_COOKIE, cookies::clear_session_cookie()),
                ],
            )
                .into_response(),
            Error::SignInRequired => {
                (StatusCode::SEE_OTHER, [(LOCATION, "/login")]).into_response()
            }
            // The page needs the reader's language, which only the request knows:
            // `error_pages` renders it on the way out.
            other => {
                let mut response = other.status().into_response();
                response.extensions_mut().insert(other);
                response
            }
        }
    }
}

/// Renders the page of an error a handler, an extractor or the fallback returned, in
/// the language of the request.
pub async fn error_pages(request: Request, next: Next) -> Response {
    let locale = Locale::of(request.method(), request.uri(), request.headers());
    let mut response = next.run(request).await;
    let Some(error) = response.extensions_mut().remove::<Error>() else {
        return response;
    };
    let mut page = html(response.status(), &error.page(&locale));
    for (name, value) in response.headers() {
        if !page.headers().contains_key(name) {
            page.headers_mut().append(name.clone(), value.clone());
        }
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_code_has_a_web_error() {
        for (code, status) in [
            ("UNAUTHENTICATED", StatusCode::SEE_OTHER),
            ("INVALID_CREDENTIALS", StatusCode::UNPROCESSABLE_ENTITY),
            ("FORBIDDEN", StatusCode::FORBIDDEN),
            ("BAD_USER_INPUT", StatusCode::BAD_REQUEST),
            ("NOT_FOUND", StatusCode::NOT_FOUND),
            ("INSUFFICIENT_FUNDS", StatusCode::CONFLICT),
            ("CONFLICT", StatusCode::CONFLICT),
            ("RATE_LIMITED", StatusCode::TOO_MANY_REQUESTS),
            ("UNAVAILABLE", StatusCode::SERVICE_UNAVAILABLE),
            ("INTERNAL", StatusCode::INTERNAL_SERVER_ERROR),
            ("SOMETHING_NEW", StatusCode::INTERNAL_SERVER_ERROR),
        ] {
            assert_eq!(Error::from_api(code, None).status(), status, "{code}");
        }
    }

    #[test]
    fn the_field_is_kept_only_when_it_is_an_identifier() {
        assert_eq!(
            Error::from_api("NOT_FOUND", Some("toAccountNumber")),
            Error::NotFound(Some("toAccountNumber".into()))
        );
        assert_eq!(Error::from_api("CONFLICT", Some("")).field(), None);
        assert_eq!(Error::from_api("CONFLICT", Some("a b")).field(), None);
        assert_eq!(
            Error::from_api("CONFLICT", Some(&"a".repeat(65))).field(),
            None
        );
        assert_eq!(Error::from_api("UNAUTHENTICATED", Some("x")).field(), None);
    }
}
