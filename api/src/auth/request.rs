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

pub struct RequestAuth {
    auth: Auth,
    bearer: Option<String>,
    read: OnceCell<Claims>,
    write: OnceCell<Claims>,
}

impl RequestAuth {
    pub fn new(auth: Auth, bearer: Option<String>) -> RequestAuth {
        RequestAuth {
            auth,
            bearer,
            read: OnceCell::new(),
            write: OnceCell::new(),
        }
    }

    /// From an `Authorization: Bearer …` header value, if any.
    pub fn from_header(auth: Auth, header: Option<&str>) -> RequestAuth {
        let bearer = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        RequestAuth::new(auth, bearer)
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
            session_id: authorized.session_id.clone(),
        })
    }

    async fn check<'a>(
        &'a self,
        cell: &'a OnceCell<Claims>,
        op: Operation,
    ) -> Result<&'a Claims, Error> {
        let token = self.bearer.as_deref().ok_or(Error::Unauthenticated(
            "sign in first: no bearer token was sent",
        ))?;
        cell.get_or_try_init(|| self.auth.authorize(token, op))
            .await
    }
}
