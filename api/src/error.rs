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
use crate::ledger::{self, Input};

/// An input as the GraphQL schema names it (`extensions.field`). An input named by a
/// single word is the same in both schemas.
pub fn graphql_field(input: Input) -> &'static str {
    match input {
        Input::Id => "id",
        Input::Account => "accountId",
        Input::SourceAccount => "fromAccountId",
        Input::TargetAccount => "toAccountNumber",
        Input::PayeeAccountNumber => "accountNumber",
        Input::PayeeName => "name",
        Input::AccountType => "type",
        Input::PageSize => "first",
        Input::Cursor => "after",
        Input::TokenLifetime => "ttlSeconds",
        Input::IdempotencyKey => "idempotencyKey",
        Input::Username
        | Input::Password
        | Input::Email
        | Input::Amount
        | Input::Description
        | Input::PeriodFrom
        | Input::PeriodTo => rest_field(input),
    }
}

/// An input as the REST routes name it (`field` of an error body): the JSON member, query
/// parameter or header.
pub fn rest_field(input: Input) -> &'static str {
    match input {
        Input::Username => "username",
        Input::Password => "password",
        Input::Email => "email",
        Input::Id => "id",
        Input::Account => "account_id",
        Input::SourceAccount => "from_account",
        Input::TargetAccount => "to_account",
        Input::PayeeAccountNumber => "account_number",
        Input::PayeeName => "name",
        Input::AccountType => "type",
        Input::Amount => "amount",
        Input::Description => "description",
        Input::IdempotencyKey => "Idempotency-Key",
        Input::PageSize => "first",
        Input::Cursor => "after",
        Input::PeriodFrom => "from",
        Input::PeriodTo => "to",
        Input::TokenLifetime => "ttl_seconds",
    }
}

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
    Internal(anyhow::Error),
}

impl Error {
    /// Each error's code, in one exhaustive `match`: a new variant does not compile until
    /// it has one.
    pub fn code(&self) -> ErrorCode {
        use ledger::Error as L;
        match self {
            Error::Ledger(L::InvalidInput { .. }) => ErrorCode::BadUserInput,
            Error::Ledger(L::NotFound { .. }) => ErrorCode::NotFound,
            Error::Ledger(L::InsufficientFunds) => ErrorCode::InsufficientFunds,
            Error::Ledger(L::Conflict { .. }) => ErrorCode::Conflict,
            Error::Ledger(L::InvalidCredentials) => ErrorCode::InvalidCredentials,
            Error::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Error::Ledger(L::Unavailable(_)) | Error::Unavailable(_) => ErrorCode::Unavailable,
            Error::Ledger(L::Internal(_)) | Error::Internal(_) => ErrorCode::Internal,
            Error::Forbidden(_) => ErrorCode::Forbidden,
            Error::RateLimited { .. } => ErrorCode::RateLimited,
        }
    }

    /// The input the refusal concerns, when it concerns one.
    pub fn input(&self) -> Option<Input> {
        match self {
            Error::Ledger(e) => e.input(),
            Error::Unauthenticated(_)
            | Error::Forbidden(_)
            | Error::RateLimited { .. }
            | Error::Unavailable(_)
            | Error::Internal(_) => None,
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
        let field = e.input().map(graphql_field);
        let retry_after = match &e {
            Error::RateLimited { retry_after } => Some(retry_after.as_secs().max(1)),
            _ => None,
        };
        async_graphql::Error::new(e.message()).extend_with(|_, ext| {
            ext.set("code", code.as_str());
            if let Some(field) = field {
                ext.set("field", field);
            }
            if let Some(secs) = retry_after {
                ext.set("retryAfter", secs);
            }
        })
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log();
        let mut body =
            serde_json::json!({ "detail": self.message(), "code": self.code().as_str() });
        if let Some(input) = self.input() {
            body["field"] = rest_field(input).into();
        }
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
