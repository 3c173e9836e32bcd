//! The domain: money, customers, accounts, transfers, history and the invariant.
//! Nothing here knows about GraphQL or HTTP; every transport calls these functions.

mod accounts;
pub mod db;
mod error;
mod history;
mod ids;
mod money;
mod names;
mod overview;
mod passwords;
mod payees;
mod rows;
mod seed;
mod statement;
mod transfers;
mod users;
mod verify;

pub use accounts::{Account, AccountType, MAX_ACCOUNTS};
pub use error::{Error, Input};
pub use history::{DEFAULT_PAGE, HistoryOf, HistoryPage, MAX_PAGE, page_size};
pub use ids::{AccountId, PayeeId, UserId};
pub use money::{MAX_AMOUNT_CENTS, Money};
pub use names::{AccountNumber, Cursor, Description, Email, IdempotencyKey, Password, Username};
pub use overview::Overview;
pub use passwords::Passwords;
pub use payees::{MAX_PAYEES, Payee, PayeeName};
pub use seed::{DEMO_PASSWORD, DEMO_USERS, SeedReport};
pub use statement::{Statement, StatementLine, StatementPeriod};
pub use transfers::{DepositRequest, Posted, Target, Transaction, TransferRequest};
pub use users::User;
pub use verify::Discrepancy;

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

use db::WriteGate;

/// The ledger over one database. Cheap to clone: the pools are shared.
#[derive(Clone, Debug)]
pub struct Ledger {
    /// Writes, statements and everything else.
    db: DatabaseConnection,
    /// The short reads a request makes, when they have a pool of their own: a customer,
    /// their accounts, a page of history (`db::Pools` says why).
    reads: Option<DatabaseConnection>,
    writes: WriteGate,
    passwords: Passwords,
}

impl Ledger {
    /// The ledger over one pool, for reads and writes alike.
    pub fn new(db: DatabaseConnection) -> Ledger {
        Ledger::over(db::Pools {
            main: db,
            reads: None,
        })
    }

    pub fn over(pools: db::Pools) -> Ledger {
        let writes = WriteGate::for_backend(pools.main.get_database_backend());
        Ledger {
            db: pools.main,
            reads: pools.reads,
            writes,
            passwords: Passwords::for_this_machine(),
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Every pool, the main one first.
    pub fn pools(&self) -> impl Iterator<Item = &DatabaseConnection> {
        std::iter::once(&self.db).chain(self.reads.as_ref())
    }

    /// Where a request's short reads go.
    fn reads(&self) -> &DatabaseConnection {
        self.reads.as_ref().unwrap_or(&self.db)
    }

    /// A short read, on the reads' pool, run again on another connection when the one
    /// it was lent had been cut (`db::on_a_live_connection`).
    async fn read<'a, T, E, F, Fut>(&'a self, query: F) -> Result<T, E>
    where
        F: Fn(&'a DatabaseConnection) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: error::ConnectionLost + std::fmt::Display,
    {
        db::on_a_live_connection(self.reads(), query).await
    }

    /// A write transaction. On SQLite it takes the write lock at BEGIN, so it can never
    /// fail half-way with "database is locked" when another process writes too.
    async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        if self.db.get_database_backend() == DbBackend::Sqlite {
            self.db
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await
        } else {
            // Nothing has run before BEGIN, so a cut connection can be traded for another.
            db::on_a_live_connection(&self.db, |db| db.begin()).await
        }
    }
}
