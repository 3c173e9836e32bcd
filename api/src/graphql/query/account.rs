use async_graphql::{Context, ID, Object};

use crate::error::Error;
use crate::graphql::types::{Account, TransactionConnection, accounts_of, history};
use crate::graphql::{reader, state};
use crate::ledger::{AccountId, HistoryOf, Input};

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in customer's accounts, oldest first.
    #[tracing::instrument(skip_all)]
    async fn accounts(&self, ctx: &Context<'_>) -> Result<Vec<Account>, Error> {
        let reader = reader(ctx).await?;
        accounts_of(ctx, reader.user_id).await
    }

    /// One of the caller's accounts; null for a missing account and for another
    /// customer's alike.
    #[tracing::instrument(skip_all)]
    async fn account(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Account>, Error> {
        let reader = reader(ctx).await?;
        let id = AccountId::parse(&id, Input::Id)?;
        let accounts = state(ctx).reads.accounts(reader.user_id).await?;
        Ok(accounts.into_iter().find(|a| a.id == id).map(Account::from))
    }

    /// A page of an account's history, newest first.
    #[tracing::instrument(skip_all)]
    #[graphql(complexity = "5 + first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn transactions(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<TransactionConnection, Error> {
        let reader = reader(ctx).await?;
        let account_id = AccountId::parse(&account_id, Input::Account)?;
        let of = HistoryOf::Named {
            user_id: reader.user_id,
            account_id,
        };
        history(ctx, of, first, after).await
    }
}
