//! The capability a request carries: resolvers and handlers ask for a `Reader` or a
//! `Writer` and cannot reach a user's data without one. Verified at most once per
//! request and operation.

use tokio::sync::OnceCell;

use super::{Auth, Claims, Operation};
use crate::error::Error;
use crate::ledger::UserId;

/// May read the user's own data.
#[derive(Clone, Debug)]
pub struct Reader {
    pub user_id: UserId,
}

/// May change the user's own data (and read it).
#[derive(Clone, Debug)]
pub struct Writer {
    pub user_id: UserId,
    pub session_id: String,
}

/// The token in an `Authorization` value (`Bearer <token>`), if there is one.
pub fn bearer_token(value: Option<&str>) -> Option<String> {
    value
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

pub struct RequestAuth {
    auth: Auth,
    bearer: Option<String>,
    /// Whether a verdict holds for the rest of this value's life: for one request, yes;
    /// for a WebSocket connection, which lives for hours, every operation asks again.
    remember: bool,
    read: OnceCell<Claims>,
    write: OnceCell<Claims>,
}

impl RequestAuth {
    pub fn new(auth: Auth, bearer: Option<String>) -> RequestAuth {
        RequestAuth {
            auth,
            bearer,
            remember: true,
            read: OnceCell::new(),
            write: OnceCell::new(),
        }
    }

    /// For a long-lived connection: the token is checked again for each operation.
    pub fn for_connection(auth: Auth, bearer: Option<String>) -> RequestAuth {
        RequestAuth {
            remember: false,
            ..RequestAuth::new(auth, bearer)
        }
    }

    /// From an `Authorization: Bearer …` header value, if any.
    pub fn from_header(auth: Auth, header: Option<&str>) -> RequestAuth {
        RequestAuth::new(auth, bearer_token(header))
    }

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    pub fn bearer(&self) -> Option<&str> {
        self.bearer.as_deref()
    }

    pub async fn reader(&self) -> Result<Reader, Error> {
        let authorized = self.check(&self.read, Operation::Read).await?;
        Ok(Reader {
            user_id: authorized.user_id,
        })
    }

    pub async fn writer(&self) -> Result<Writer, Error> {
        let authorized = self.check(&self.write, Operation::Write).await?;
        Ok(Writer {
            user_id: authorized.user_id,
            session_id: authorized.session_id,
        })
    }

    /// The verified claims for reading: who, which session.
    pub async fn claims(&self) -> Result<Claims, Error> {
        self.check(&self.read, Operation::Read).await
    }

    async fn check(&self, cell: &OnceCell<Claims>, op: Operation) -> Result<Claims, Error> {
        let token = self.bearer.as_deref().ok_or(Error::Unauthenticated(
            "sign in first: no bearer token was sent",
        ))?;
        if !self.remember {
            return self.auth.authorize(token, op).await;
        }
        cell.get_or_try_init(|| self.auth.authorize(token, op))
            .await
            .cloned()
    }
}
