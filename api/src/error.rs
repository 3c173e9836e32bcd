//! The api's one error type, mapped once to a GraphQL `extensions.code` and once to an
//! HTTP status. Clients get a clear message; causes are logged, never sent.
//!
//! It deliberately does not implement `Display`: async-graphql converts any `Display`
//! type into an error without a code, and that must not happen by accident.

use async_graphql::ErrorExtensions;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use banking_common::error_code::ErrorCode;

use crate::cache::CacheError;
use crate::ledger;
use crate::live::{LiveError, Refusal};

#[derive(Debug)]
pub enum Error {
    Ledger(ledger::Error),
    /// No token, a bad one, an expired one, a revoked session.
    Unauthenticated(&'static str),
    /// A valid token that may not do this (a read-only token used to write).
    Forbidden(&'static str),
    /// Too many attempts from here; the next one may come after `retry_after`.
    RateLimited {
        retry_after: std::time::Duration,
    },
    /// A dependency (database, cache) is down; try again later.
    Unavailable(String),
    /// A subscription refused (a limit) or interrupted.
    Live(LiveError),
    Internal(anyhow::Error),
}

impl Error {
    /// Each error's code, in one exhaustive `match`: a new variant does not compile until
    /// it has one.
    pub fn code(&self) -> ErrorCode {
        use ledger::Error as L;
        match self {
            Error::Ledger(L::InvalidInput(_)) => ErrorCode::BadUserInput,
            Error::Ledger(L::NotFound(_)) => ErrorCode::NotFound,
            Error::Ledger(L::InsufficientFunds) => ErrorCode::InsufficientFunds,
            Error::Ledger(L::Conflict(_)) => ErrorCode::Conflict,
            Error::Ledger(L::InvalidCredentials) | Error::Unauthenticated(_) => {
                ErrorCode::Unauthenticated
            }
            Error::Ledger(L::Unavailable(_)) | Error::Unavailable(_) => ErrorCode::Unavailable,
            Error::Ledger(L::Internal(_)) | Error::Internal(_) => ErrorCode::Internal,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::RateLimited { .. } => ErrorCode::RateLimited,
            Error::Live(LiveError::Refused(Refusal::ConnectionFull(_) | Refusal::UserFull(_))) => {
                ErrorCode::RateLimited
            }
            Error::Live(
                LiveError::Refused(Refusal::ProcessFull(_)) | LiveError::Gap | LiveError::Lagged,
            ) => ErrorCode::Unavailable,
        }
    }

    /// The REST status: the code's (one table, in `banking_common::error_code`).
    pub fn status(&self) -> StatusCode {
        self.code().http_status()
    }

    /// What the client reads. For failures of ours it says only what happened, and the
    /// cause goes to the log.
    pub fn message(&self) -> String {
        match self {
            Error::Ledger(e) => e.to_string(),
            Error::Unauthenticated(why) | Error::Forbidden(why) => (*why).to_owned(),
            Error::RateLimited { retry_after } => format!(
                "too many failed sign-ins from here; try again in {} seconds",
                retry_after.as_secs().max(1)
            ),
            Error::Unavailable(_) => {
                "a service the bank depends on is unavailable; try again shortly".to_owned()
            }
            Error::Internal(_) => "internal error".to_owned(),
            Error::Live(e) => e.message(),
        }
    }

    /// Logs the cause of a failure of ours (not of a refusal, which is the client's).
    fn log(&self) {
        match self {
            Error::Ledger(ledger::Error::Internal(cause)) | Error::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
            }
            Error::Ledger(ledger::Error::Unavailable(cause)) => {
                tracing::warn!(error = %cause, "database unavailable");
            }
            Error::Unavailable(cause) => tracing::warn!(error = %cause, "dependency unavailable"),
            _ => {}
        }
    }
}

impl From<ledger::Error> for Error {
    fn from(e: ledger::Error) -> Error {
        Error::Ledger(e)
    }
}

impl From<CacheError> for Error {
    fn from(e: CacheError) -> Error {
        Error::Unavailable(e.to_string())
    }
}

impl From<Error> for async_graphql::Error {
    fn from(e: Error) -> async_graphql::Error {
        e.log();
        let code = e.code();
        let retry_after = match &e {
            Error::RateLimited { retry_after } => Some(retry_after.as_secs().max(1)),
            _ => None,
        };
        async_graphql::Error::new(e.message()).extend_with(|_, ext| {
            ext.set("code", code.as_str());
            if let Some(secs) = retry_after {
                ext.set("retryAfter", secs);
            }
        })
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log();
        let body = serde_json::json!({ "detail": self.message(), "code": self.code().as_str() });
        let mut response = (self.status(), Json(body)).into_response();
        if let Error::RateLimited { retry_after } = &self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after.as_secs().max(1)),
            );
        }
        if self.status() == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
