//! A customer's accounts with the first page of each one's history: what a dashboard
//! shows, read as one snapshot.

use std::collections::HashMap;
use std::sync::LazyLock;

use entities::{accounts, transactions};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement};

use super::history::both_directions;
use super::rows::ACCOUNT_AND_POSTING;
use super::{Account, AccountId, Error, HistoryOf, HistoryPage, Ledger, Transaction, User, UserId};

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Overview {
    /// The customer whose accounts these are (a dashboard greets them by name).
    pub user: User,
    /// Oldest account first, as [`Ledger::accounts`]; each with the page
    /// [`Ledger::history`] gives for its first `first` postings.
    pub accounts: Vec<(Account, HistoryPage)>,
    /// Account numbers this read learned for the accounts on those pages: the
    /// customer's own always, every counterparty's on PostgreSQL.
    pub numbers: HashMap<AccountId, String>,
}

/// PostgreSQL: the accounts, each one's page by the keyset union of `history::postings`
/// (`both_directions` as a LATERAL subquery, so two index descents per account as
/// there), the numbers of both sides of each posting, and the customer, in one
/// statement. A cold dashboard made five queries before (the customer, the accounts, a
/// page per account, the counterparties' numbers); it is one. The customer comes on every
/// row (a few short columns); a customer without accounts is one row of the customer alone.
static OVERVIEW_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"
SELECT u.id AS u_id, u.username AS u_username, u.email AS u_email,
       u.created_at AS u_created_at, {},
       sender.account_number AS sender_number, receiver.account_number AS receiver_number
FROM users u
LEFT JOIN accounts a ON a.user_id = u.id
LEFT JOIN LATERAL ({}) t ON true
LEFT JOIN accounts sender ON sender.id = t.from_account
LEFT JOIN accounts receiver ON receiver.id = t.to_account
WHERE u.id = $1
ORDER BY a.id, t.id DESC
"#,
        ACCOUNT_AND_POSTING,
        both_directions("a.id", "", "DESC", "$2")
    )
});

impl Ledger {
    /// The user and their accounts, each with the first page of its history (`first`
    /// postings, newest first). On PostgreSQL one statement, so the balances and the
    /// pages are of the same moment; on SQLite (no LATERAL, and a laptop's load) the reads
    /// [`Ledger::user`], [`Ledger::accounts`] and [`Ledger::history`] make, one after
    /// another.
    #[tracing::instrument(skip(self))]
    pub async fn overview(&self, user_id: UserId, first: u64) -> Result<Overview, Error> {
        match self.db.get_database_backend() {
            DbBackend::Postgres => self.overview_in_one_statement(user_id, first).await,
            _ => self.overview_read_by_read(user_id, first).await,
        }
    }

    async fn overview_in_one_statement(
        &self,
        user_id: UserId,
        first: u64,
    ) -> Result<Overview, Error> {
        // One extra row per account tells whether another page follows.
        let rows = self
            .read(|db| {
                db.query_all_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    OVERVIEW_SQL.as_str(),
                    [user_id.0.into(), (first as i64 + 1).into()],
                ))
            })
            .await?;
        let Some(first_row) = rows.first() else {
            return Err(Error::NotFound {
                what: "user",
                input: None,
            });
        };
        let mut overview = Overview {
            user: User {
                id: UserId(first_row.try_get("", "u_id")?),
                username: first_row.try_get("", "u_username")?,
                email: first_row.try_get("", "u_email")?,
                created_at: first_row.try_get("", "u_created_at")?,
            },
            accounts: Vec::new(),
            numbers: HashMap::new(),
        };
        for row in &rows {
            let Some(account) = Option::<accounts::Model>::from_query_result(row, "a_")? else {
                continue; // a customer without accounts: their one row has none
            };
            // Rows come grouped by account (ORDER BY a.id): a new id starts the next one.
            if overview.accounts.last().map(|(a, _)| a.id.0) != Some(account.id) {
                let account = Account::try_from(account)?;
                overview.numbers.insert(account.id, account.number.clone());
                overview.accounts.push((
                    account,
                    HistoryPage {
                        items: Vec::new(),
                        has_next_page: false,
                    },
                ));
            }
            let Some(posting) = Option::<transactions::Model>::from_query_result(row, "t_")? else {
                continue; // an account without postings: its one row has none
            };
            let numbers: [(Option<i64>, Option<String>); 2] = [
                (posting.from_account, row.try_get("", "sender_number")?),
                (
                    Some(posting.to_account),
                    row.try_get("", "receiver_number")?,
                ),
            ];
            for (id, number) in numbers {
                if let (Some(id), Some(number)) = (id, number) {
                    overview.numbers.insert(AccountId(id), number);
                }
            }
            let Some((_, page)) = overview.accounts.last_mut() else {
                return Err(Error::internal(anyhow::anyhow!(
                    "an overview row came without its account"
                )));
            };
            if page.items.len() as u64 == first {
                page.has_next_page = true;
            } else {
                page.items.push(Transaction::try_from(posting)?);
            }
        }
        Ok(overview)
    }

    async fn overview_read_by_read(&self, user_id: UserId, first: u64) -> Result<Overview, Error> {
        let mut overview = Overview {
            user: self.user(user_id).await?,
            accounts: Vec::new(),
            numbers: HashMap::new(),
        };
        for account in self.accounts(user_id).await? {
            let page = self
                .history(HistoryOf::Owned(&account), first, None)
                .await?;
            overview.numbers.insert(account.id, account.number.clone());
            overview.accounts.push((account, page));
        }
        Ok(overview)
    }
}
