use async_graphql::{Context, Object};

use crate::error::Error;
use crate::graphql::types::{Account, AccountType};
use crate::graphql::{request_auth, state};

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Opens another account for the caller, empty, with a fresh number; at most 5 each
    /// (beyond that, BAD_USER_INPUT). Money moves between one's own accounts by `transfer`.
    #[tracing::instrument(skip_all)]
    async fn open_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "type")] account_type: AccountType,
    ) -> Result<Account, Error> {
        let writer = request_auth(ctx).writer().await?;
        let account = state(ctx)
            .open_account(writer.user_id, account_type.into())
            .await?;
        Ok(Account::from(account))
    }
}
