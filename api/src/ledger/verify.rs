//! The bank's invariant, checkable at any moment on a consistent snapshot:
//! total money = total deposits, each balance = credits − debits, nothing negative, and
//! no customer holding more accounts or payees than allowed.

use sea_orm::{
    AccessMode, DbBackend, FromQueryResult, IsolationLevel, Statement, TransactionTrait,
};

use super::{AccountId, Error, Ledger, MAX_ACCOUNTS, MAX_PAYEES, UserId};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Discrepancy {
    /// The sum of all balances differs from the sum of all deposits.
    Total { balances: i64, deposits: i64 },
    /// An account's balance differs from what its transactions add up to.
    Account {
        account_id: AccountId,
        balance: i64,
        from_transactions: i64,
    },
    /// A balance below zero.
    Negative { account_id: AccountId, balance: i64 },
    /// A customer with more than `MAX_ACCOUNTS` accounts.
    TooManyAccounts { user_id: UserId, count: i64 },
    /// A customer with more than `MAX_PAYEES` payees.
    TooManyPayees { user_id: UserId, count: i64 },
}

#[derive(Debug, FromQueryResult)]
struct Holding {
    user_id: i64,
    count: i64,
}

#[derive(Debug, FromQueryResult)]
struct Totals {
    balances: i64,
    deposits: i64,
}

#[derive(Debug, FromQueryResult)]
struct AccountCheck {
    id: i64,
    balance: i64,
    from_transactions: i64,
}

impl Ledger {
    /// Every discrepancy in the ledger; empty when it is sound.
    #[tracing::instrument(skip(self))]
    pub async fn verify(&self) -> Result<Vec<Discrepancy>, Error> {
        let backend = self.db.get_database_backend();
        // One snapshot for both queries, so a transfer committing between them cannot
        // show up as a discrepancy. A SQLite transaction is always a snapshot.
        let txn = if backend == DbBackend::Postgres {
            self.db
                .begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .await?
        } else {
            self.db.begin().await?
        };
        let totals = Totals::find_by_statement(Statement::from_string(
            backend,
            "SELECT CAST(COALESCE((SELECT SUM(balance) FROM accounts), 0) AS BIGINT) AS balances, \
             CAST(COALESCE((SELECT SUM(amount) FROM transactions WHERE from_account IS NULL), 0) AS BIGINT) AS deposits",
        ))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::internal(anyhow::anyhow!("no totals row")))?;
        let accounts = AccountCheck::find_by_statement(Statement::from_string(
            backend,
            "SELECT a.id AS id, a.balance AS balance, CAST( \
               COALESCE((SELECT SUM(t.amount) FROM transactions t WHERE t.to_account = a.id), 0) \
             - COALESCE((SELECT SUM(t.amount) FROM transactions t WHERE t.from_account = a.id), 0) \
             AS BIGINT) AS from_transactions \
             FROM accounts a ORDER BY a.id",
        ))
        .all(&txn)
        .await?;
        let holdings = |table: &str, max: u64| {
            Holding::find_by_statement(Statement::from_string(
                backend,
                format!(
                    "SELECT user_id, CAST(COUNT(*) AS BIGINT) AS count FROM {table} \
                     GROUP BY user_id HAVING COUNT(*) > {max} ORDER BY user_id"
                ),
            ))
        };
        let many_accounts = holdings("accounts", MAX_ACCOUNTS).all(&txn).await?;
        let many_payees = holdings("payees", MAX_PAYEES).all(&txn).await?;
        txn.commit().await?;

        let mut found = Vec::new();
        if totals.balances != totals.deposits {
            found.push(Discrepancy::Total {
                balances: totals.balances,
                deposits: totals.deposits,
            });
        }
        for a in accounts {
            if a.balance < 0 {
                found.push(Discrepancy::Negative {
                    account_id: AccountId(a.id),
                    balance: a.balance,
                });
            }
            if a.balance != a.from_transactions {
                found.push(Discrepancy::Account {
                    account_id: AccountId(a.id),
                    balance: a.balance,
                    from_transactions: a.from_transactions,
                });
            }
        }
        found.extend(
            many_accounts
                .into_iter()
                .map(|h| Discrepancy::TooManyAccounts {
                    user_id: UserId(h.user_id),
                    count: h.count,
                }),
        );
        found.extend(many_payees.into_iter().map(|h| Discrepancy::TooManyPayees {
            user_id: UserId(h.user_id),
            count: h.count,
        }));
        Ok(found)
    }
}
