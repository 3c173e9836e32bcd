//! The codes the api puts in `extensions.code` (GraphQL) and `code` (REST): the contract
//! clients program against. Messages are for people and may change; codes do not. The
//! api maps each of its errors to one of these in one `match`; the web reads them back
//! with [`ErrorCode::parse`] and maps each to its own error in one `match`.

use axum::http::StatusCode;

/// One code per kind of refusal or failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// An input breaks a rule (and `extensions.field` may name it).
    BadUserInput,
    /// No such thing, or not the caller's.
    NotFound,
    /// A transfer larger than the source account's balance.
    InsufficientFunds,
    /// A username taken, an idempotency key reused for something else.
    Conflict,
    /// No token, a bad or expired one, an ended session.
    Unauthenticated,
    /// A sign-in with a wrong username or password (distinct from an ended session, so a
    /// client can tell "try again" from "sign in again").
    InvalidCredentials,
    /// A valid token that may not do this (read-only).
    Forbidden,
    /// Too many failed sign-ins; `retryAfter` says when to try again.
    RateLimited,
    /// A dependency is down; nothing was changed that the client cannot retry.
    Unavailable,
    /// A failure of ours; the cause is in the api's log.
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 10] = [
        ErrorCode::BadUserInput,
        ErrorCode::NotFound,
        ErrorCode::InsufficientFunds,
        ErrorCode::Conflict,
        ErrorCode::Unauthenticated,
        ErrorCode::InvalidCredentials,
        ErrorCode::Forbidden,
        ErrorCode::RateLimited,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    /// The code as it travels: `BAD_USER_INPUT`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::InsufficientFunds => "INSUFFICIENT_FUNDS",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::InvalidCredentials => "INVALID_CREDENTIALS",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
        }
    }

    /// The HTTP status a REST answer with this code carries.
    pub const fn http_status(self) -> StatusCode {
        match self {
            ErrorCode::BadUserInput => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::InsufficientFunds | ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A code as a client receives it; `None` for one this build does not know.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::parse("bad_user_input"), None);
    }
}
