use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// Everything the ledger can refuse or fail with. The transport layers map it once each
/// (`crate::error`); the messages of the refusal variants are safe to show to a client.
/// A refusal that concerns one input says which (`input`), so a client can put the
/// refusal next to that field without reading the message, which is for humans only.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    InvalidInput {
        input: Option<Input>,
        message: String,
    },
    /// A missing account and another user's account are the same thing to a caller.
    #[error("{what} not found")]
    NotFound {
        what: &'static str,
        input: Option<Input>,
    },
    /// Always about the amount.
    #[error("insufficient funds")]
    InsufficientFunds,
    #[error("{message}")]
    Conflict {
        input: Option<Input>,
        message: String,
    },
    #[error("invalid username or password")]
    InvalidCredentials,
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The inputs a refusal can concern, in the ledger's words. Each transport names them as
/// its own schema does (`crate::error`): the ledger knows nothing of GraphQL or JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Username,
    Password,
    Email,
    /// The id of a thing named directly (`account(id:)`, `removePayee(id:)`, a REST path).
    Id,
    /// The account a deposit goes to, or whose history or statement is read.
    Account,
    /// The caller's account money leaves.
    SourceAccount,
    /// The account money goes to.
    TargetAccount,
    /// A payee's account number.
    PayeeAccountNumber,
    PayeeName,
    AccountType,
    Amount,
    Description,
    IdempotencyKey,
    /// How many entries a page holds.
    PageSize,
    /// Where a page starts.
    Cursor,
    /// The first day of a statement.
    PeriodFrom,
    /// The last day of a statement.
    PeriodTo,
    /// How long a shared read-only token lives.
    TokenLifetime,
}

impl Error {
    /// A refusal of one input.
    pub fn invalid(input: Input, message: impl Into<String>) -> Error {
        Error::InvalidInput {
            input: Some(input),
            message: message.into(),
        }
    }

    /// A refusal of the request as a whole (a limit reached, inputs that disagree).
    pub fn invalid_request(message: impl Into<String>) -> Error {
        Error::InvalidInput {
            input: None,
            message: message.into(),
        }
    }

    /// Nothing `what` named by `input` that is the caller's.
    pub fn not_found(what: &'static str, input: Input) -> Error {
        Error::NotFound {
            what,
            input: Some(input),
        }
    }

    /// The input this refusal concerns, when it concerns one.
    pub fn input(&self) -> Option<Input> {
        match self {
            Error::InvalidInput { input, .. }
            | Error::NotFound { input, .. }
            | Error::Conflict { input, .. } => *input,
            Error::InsufficientFunds => Some(Input::Amount),
            Error::InvalidCredentials | Error::Unavailable(_) | Error::Internal(_) => None,
        }
    }

    pub(crate) fn internal(cause: impl Into<anyhow::Error>) -> Error {
        Error::Internal(cause.into())
    }
}

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Error {
        if is_unavailable(&err) {
            Error::Unavailable(err)
        } else {
            Error::Internal(err.into())
        }
    }
}

/// Whether a database error means "could not reach the database" (retry later) rather
/// than a bug: the pool timed out, the connection dropped, the server is shutting down,
/// or the server is a standby that has not been promoted yet (during a failover the
/// address the api uses may reach the replica a moment before it becomes the primary).
fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    if err.connection_lost() {
        return true;
    }
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match e.as_ref() {
                Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
                Sqlx::Database(db) => {
                    // Besides a connection lost: 57P03 cannot_connect_now (any 57P, the
                    // server going away), 25006 read_only_sql_transaction (a write sent to
                    // a standby); SQLite 5/6 busy/locked after the timeout.
                    let code = db.code().unwrap_or_default();
                    code.starts_with("57P") || code == "25006" || code == "5" || code == "6"
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// An error that can say the connection it came from was cut under it: the database
/// ended that backend (a restart, `pg_terminate_backend`, a failover) or something in
/// between dropped the TCP connection (a proxy's idle timeout). Another connection may
/// well work, so a statement that is safe to send twice can be sent again
/// (`db::on_a_live_connection`).
pub(crate) trait ConnectionLost {
    fn connection_lost(&self) -> bool;
}

impl ConnectionLost for DbErr {
    fn connection_lost(&self) -> bool {
        use sea_orm::sqlx::Error as Sqlx;
        match self {
            DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
                match e.as_ref() {
                    Sqlx::Io(_) => true,
                    // 57P01 admin_shutdown, 57P02 crash_shutdown, 08xxx connection exceptions.
                    Sqlx::Database(db) => {
                        let code = db.code().unwrap_or_default();
                        code == "57P01" || code == "57P02" || code.starts_with("08")
                    }
                    _ => false,
                }
            }
            _ => false,
        }
    }
}

impl ConnectionLost for Error {
    fn connection_lost(&self) -> bool {
        matches!(self, Error::Unavailable(e) if e.connection_lost())
    }
}

/// A unique-constraint violation, the one database error that is a client's doing.
/// For an insert a unique index may refuse: that refusal becomes `Conflict(message)`, any
/// other error what it always is.
pub(crate) fn conflict_when_unique(
    input: Input,
    message: &'static str,
) -> impl FnOnce(DbErr) -> Error {
    move |err| {
        if is_unique_violation(&err) {
            Error::Conflict {
                input: Some(input),
                message: message.into(),
            }
        } else {
            err.into()
        }
    }
}

pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
