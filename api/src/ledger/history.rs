//! An account's history, newest first, in cursor pages, and the keyset read of an
//! account's postings that the history and statements share.

use chrono::{DateTime, Utc};
use entities::transactions;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement, Value};

use super::{Account, AccountId, Cursor, Error, Input, Ledger, Transaction, UserId};

pub const DEFAULT_PAGE: u64 = 20;
pub const MAX_PAGE: u64 = 100;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct HistoryPage {
    pub items: Vec<Transaction>,
    pub has_next_page: bool,
}

impl HistoryPage {
    pub fn cursor_of(item: &Transaction) -> Cursor {
        Cursor(item.id)
    }
}

/// Checks a requested page size: 1 to [`MAX_PAGE`], [`DEFAULT_PAGE`] when absent.
pub fn page_size(first: Option<i64>) -> Result<u64, Error> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE as i64).contains(&n) => Ok(n as u64),
        Some(_) => Err(Error::invalid(
            Input::PageSize,
            format!("first must be between 1 and {MAX_PAGE}"),
        )),
    }
}

/// Whose history a page is of, and how the caller's ownership is known.
#[derive(Clone, Copy, Debug)]
pub enum HistoryOf<'a> {
    /// An account the ledger read as its owner's for this very request (an `Account` is
    /// made only from the owner's own rows): nothing to check again.
    Owned(&'a Account),
    /// An account the caller named by id: looked up among the caller's accounts first,
    /// and NOT_FOUND when it is not one of them.
    Named {
        user_id: UserId,
        account_id: AccountId,
    },
}

impl HistoryOf<'_> {
    pub fn owner(&self) -> UserId {
        match self {
            HistoryOf::Owned(account) => account.user_id,
            HistoryOf::Named { user_id, .. } => *user_id,
        }
    }

    pub fn account_id(&self) -> AccountId {
        match self {
            HistoryOf::Owned(account) => account.id,
            HistoryOf::Named { account_id, .. } => *account_id,
        }
    }
}

impl Ledger {
    /// A page of the history of one of the caller's accounts: transactions into or out of
    /// it, newest first, strictly after `after`.
    #[tracing::instrument(skip(self))]
    pub async fn history(
        &self,
        of: HistoryOf<'_>,
        first: u64,
        after: Option<Cursor>,
    ) -> Result<HistoryPage, Error> {
        if let HistoryOf::Named {
            user_id,
            account_id,
        } = of
        {
            self.account(user_id, account_id).await?;
        }
        let account_id = of.account_id();
        let from = match after {
            Some(Cursor(before_id)) => Keyset::Before(before_id),
            None => Keyset::Before(i64::MAX),
        };
        // One extra row tells whether another page follows.
        let mut items: Vec<Transaction> = self
            .read(|db| postings(db, account_id, from, None, first + 1))
            .await?
            .into_iter()
            .map(Transaction::try_from)
            .collect::<Result<_, _>>()?;
        let has_next_page = items.len() as u64 > first;
        items.truncate(first as usize);
        Ok(HistoryPage {
            items,
            has_next_page,
        })
    }
}

/// Where a keyset page starts, exclusive: newest first from below an id, or oldest first
/// from above one.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Keyset {
    Before(i64),
    After(i64),
}

/// Up to `limit` postings into or out of `account` (optionally only those created within
/// `period`, from inclusive to exclusive), in id order from `from`.
///
/// Each direction is read from its own index, `(from_account, id)` and `(to_account, id)`,
/// in id order from the cursor, at most `limit` rows each, and the two short lists are
/// merged. A single `from_account = $1 OR to_account = $1` cannot follow either index in
/// id order: PostgreSQL combines the two (a BitmapOr), fetches every posting the account
/// ever had, sorts them and keeps a page - for an account with 10^5 postings, the whole
/// history for each page, and more for every page deeper. This way any page, first or
/// deep, costs two index descents and at most 2 × `limit` rows (EXPLAIN in
/// docs/benchmarks.md). A posting is never in both lists: a transfer to the same account
/// is refused, and a deposit has no source.
pub(crate) async fn postings(
    db: &impl ConnectionTrait,
    account: AccountId,
    from: Keyset,
    period: Option<(DateTime<Utc>, DateTime<Utc>)>,
    limit: u64,
) -> Result<Vec<transactions::Model>, Error> {
    let backend = db.get_database_backend();
    // $n on PostgreSQL, ?n on SQLite: the same numbered parameters, each bound once.
    let p = |n: usize| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    };
    let (bound, order) = match from {
        Keyset::Before(id) => (format!("id < {}", p(2)), ("DESC", id)),
        Keyset::After(id) => (format!("id > {}", p(2)), ("ASC", id)),
    };
    let (direction, cursor) = order;
    let mut values: Vec<Value> = vec![account.0.into(), cursor.into(), (limit as i64).into()];
    let within = match period {
        Some((start, end)) => {
            values.push(start.into());
            values.push(end.into());
            format!(" AND created_at >= {} AND created_at < {}", p(4), p(5))
        }
        None => String::new(),
    };
    let sql = both_directions(&p(1), &format!(" AND {bound}{within}"), direction, &p(3));
    Ok(transactions::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
        .all(db)
        .await?)
}

/// The SQL of [`postings`]' read, which a dashboard's overview also runs per account:
/// `account` (a parameter, or a column of an outer query) in each direction from its own
/// index, `filter` (` AND …`, or empty) on both, at most `limit` rows each, merged in id
/// order and cut to `limit`.
pub(crate) fn both_directions(account: &str, filter: &str, direction: &str, limit: &str) -> String {
    let leg = |column: &str| {
        format!(
            "SELECT * FROM (SELECT * FROM transactions WHERE {column} = {account}{filter} \
             ORDER BY id {direction} LIMIT {limit})"
        )
    };
    format!(
        "{} AS sent UNION ALL {} AS received ORDER BY id {direction} LIMIT {limit}",
        leg("from_account"),
        leg("to_account"),
    )
}
