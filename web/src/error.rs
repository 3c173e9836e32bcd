//! The web's one error type. Api errors arrive as `extensions.code` and are mapped once
//! (`Error::from_api`); each error becomes a page once (`IntoResponse`). Forms catch the
//! refusals they can explain next to a field before that.

use axum::http::StatusCode;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::response::{IntoResponse, Response};
use banking_common::error_code::ErrorCode;

use crate::cookies;
use crate::render::{ErrorPage, html};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The api no longer accepts the session (expired, revoked, a bad token).
    SessionEnded,
    /// No session cookie at all: sign in first.
    SignInRequired,
    /// A sign-in with a wrong username or password.
    WrongCredentials,
    /// A read-only token used to write, or another refusal of the api's.
    Forbidden(String),
    /// The api refused an input (`BAD_USER_INPUT`); the message is safe to show.
    BadInput(String),
    /// The api found no such thing (`NOT_FOUND`), e.g. "target account not found".
    NotFound(String),
    InsufficientFunds,
    /// `CONFLICT`: a username taken, an idempotency key reused for something else.
    Conflict(String),
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

impl Error {
    /// A short name for metrics: the api's code where there is one.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::SessionEnded | Error::SignInRequired => ErrorCode::Unauthenticated,
            Error::WrongCredentials => ErrorCode::InvalidCredentials,
            Error::Forbidden(_) | Error::CsrfRefused => ErrorCode::Forbidden,
            Error::BadInput(_) | Error::BadForm => ErrorCode::BadUserInput,
            Error::NotFound(_) | Error::PageNotFound => ErrorCode::NotFound,
            Error::InsufficientFunds => ErrorCode::InsufficientFunds,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::RateLimited => ErrorCode::RateLimited,
            Error::Unavailable => ErrorCode::Unavailable,
            Error::Internal => ErrorCode::Internal,
        }
    }

    /// The api's `extensions.code` and message, as the web's error: each code in one
    /// exhaustive `match`; a code this build does not know is a failure of ours.
    pub fn from_api(code: &str, message: &str) -> Error {
        let Some(code) = ErrorCode::parse(code) else {
            tracing::error!(code, "the api answered with a code the web does not know");
            return Error::Internal;
        };
        match code {
            ErrorCode::Unauthenticated => Error::SessionEnded,
            ErrorCode::InvalidCredentials => Error::WrongCredentials,
            ErrorCode::Forbidden => Error::Forbidden(message.to_owned()),
            ErrorCode::BadUserInput => Error::BadInput(message.to_owned()),
            ErrorCode::NotFound => Error::NotFound(message.to_owned()),
            ErrorCode::InsufficientFunds => Error::InsufficientFunds,
            ErrorCode::Conflict => Error::Conflict(message.to_owned()),
            ErrorCode::RateLimited => Error::RateLimited,
            ErrorCode::Unavailable => Error::Unavailable,
            ErrorCode::Internal => Error::Internal,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::SessionEnded | Error::SignInRequired => StatusCode::SEE_OTHER,
            Error::WrongCredentials => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Forbidden(_) | Error::CsrfRefused => StatusCode::FORBIDDEN,
            Error::BadInput(_) | Error::BadForm => StatusCode::BAD_REQUEST,
            Error::NotFound(_) | Error::PageNotFound => StatusCode::NOT_FOUND,
            Error::InsufficientFunds | Error::Conflict(_) => StatusCode::CONFLICT,
            Error::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn page(&self) -> ErrorPage {
        let (title, message) = match self {
            Error::SessionEnded | Error::SignInRequired => ("Sign in", String::new()),
            Error::WrongCredentials => (
                "Sign in",
                "Enter a correct username and password.".to_owned(),
            ),
            Error::Forbidden(_) => (
                "You cannot do that",
                "Your sign-in does not allow this. Sign out, sign in again and retry.".to_owned(),
            ),
            Error::BadInput(message) => ("There is a problem", sentence(message)),
            Error::NotFound(_) | Error::PageNotFound => (
                "Page not found",
                "If you typed the web address, check it is correct. If you followed a link, the page may have moved or the account may not be yours.".to_owned(),
            ),
            Error::InsufficientFunds => (
                "Not enough money",
                "There is not enough money in the account for this.".to_owned(),
            ),
            Error::Conflict(message) => ("There is a problem", sentence(message)),
            Error::RateLimited => (
                "Too many attempts",
                "There have been too many failed attempts. Wait a minute and try again.".to_owned(),
            ),
            Error::Unavailable => (
                "Sorry, the bank is unavailable",
                "We cannot reach our banking service right now. Your money is safe. Try again in a few minutes.".to_owned(),
            ),
            Error::Internal => (
                "Sorry, there is a problem with the service",
                "Something went wrong on our side. Try again later. If you were making a payment, check your accounts before trying again.".to_owned(),
            ),
            Error::CsrfRefused => (
                "This form could not be accepted",
                "The form had expired or did not come from this site, so nothing was changed. Go back, reload the page and try again.".to_owned(),
            ),
            Error::BadForm => (
                "There is a problem",
                "The form could not be read. Go back and try again.".to_owned(),
            ),
        };
        ErrorPage::new(title, message)
    }
}

/// A message from the api as a sentence: capitalised, with a full stop.
pub fn sentence(message: &str) -> String {
    let mut chars = message.trim().chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
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
            other => html(other.status(), &other.page()),
        }
    }
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
            assert_eq!(Error::from_api(code, "x").status(), status, "{code}");
        }
    }

    #[test]
    fn api_messages_read_as_sentences() {
        assert_eq!(sentence("insufficient funds"), "Insufficient funds.");
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence(""), "");
    }
}
