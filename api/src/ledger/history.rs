//! An account's history, newest first, in cursor pages.

use entities::transactions;
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{AccountId, Cursor, Error, Input, Ledger, Transaction, UserId};

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

impl Ledger {
    /// A page of the history of one of the caller's accounts: transactions into or out of
    /// it, newest first, strictly after `after`.
    #[tracing::instrument(skip(self))]
    pub async fn history(
        &self,
        user_id: UserId,
        account_id: AccountId,
        first: u64,
        after: Option<Cursor>,
    ) -> Result<HistoryPage, Error> {
        self.account(user_id, account_id).await?;
        let mut query = transactions::Entity::find().filter(
            Condition::any()
                .add(transactions::Column::FromAccount.eq(account_id))
                .add(transactions::Column::ToAccount.eq(account_id)),
        );
        if let Some(Cursor(before_id)) = after {
            query = query.filter(transactions::Column::Id.lt(before_id));
        }
        // One extra row tells whether another page follows.
        let mut items: Vec<Transaction> = query
            .order_by_desc(transactions::Column::Id)
            .limit(first + 1)
            .all(&self.db)
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
