use async_graphql::{Context, Object};

use crate::error::Error;
use crate::graphql::inputs::{DepositInput, TransferInput};
use crate::graphql::types::Transaction;
use crate::graphql::{request_auth, state};
use crate::ledger::{
    AccountId, AccountNumber, DepositRequest, Description, IdempotencyKey, Input, Target,
    TransferRequest,
};

#[derive(Default)]
pub struct LedgerMutation;

#[Object]
impl LedgerMutation {
    /// Moves money from one of the caller's accounts to any account, by number.
    #[tracing::instrument(skip_all)]
    async fn transfer(
        &self,
        ctx: &Context<'_>,
        input: TransferInput,
    ) -> Result<Transaction, Error> {
        let writer = request_auth(ctx).writer().await?;
        let request = TransferRequest {
            from_account: AccountId::parse(&input.from_account_id, Input::SourceAccount)?,
            to: Target::Number(AccountNumber::parse(
                &input.to_account_number,
                Input::TargetAccount,
            )?),
            amount: input.amount.0,
            description: Description::parse(input.description.as_deref())?,
            idempotency_key: IdempotencyKey::parse(&input.idempotency_key)?,
        };
        let posted = state(ctx).transfer(writer.user_id, request).await?;
        Ok(Transaction(posted.transaction))
    }

    /// Adds money from outside the bank to one of the caller's accounts.
    #[tracing::instrument(skip_all)]
    async fn deposit(&self, ctx: &Context<'_>, input: DepositInput) -> Result<Transaction, Error> {
        let writer = request_auth(ctx).writer().await?;
        let request = DepositRequest {
            account: AccountId::parse(&input.account_id, Input::Account)?,
            amount: input.amount.0,
            description: Description::parse(input.description.as_deref())?,
            idempotency_key: IdempotencyKey::parse(&input.idempotency_key)?,
        };
        let posted = state(ctx).deposit(writer.user_id, request).await?;
        Ok(Transaction(posted.transaction))
    }
}
