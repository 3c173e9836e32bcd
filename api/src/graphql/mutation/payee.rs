use async_graphql::{Context, ID, Object};

use crate::error::Error;
use crate::graphql::inputs::AddPayeeInput;
use crate::graphql::types::Payee;
use crate::graphql::{request_auth, state};
use crate::ledger::{AccountNumber, Input, PayeeId, PayeeName};

#[derive(Default)]
pub struct PayeeMutation;

#[Object]
impl PayeeMutation {
    /// Saves a payee: a name (1 to 60 characters) and a 10-digit account number, at most
    /// 50 per customer. A number already saved is CONFLICT.
    #[tracing::instrument(skip_all)]
    async fn add_payee(&self, ctx: &Context<'_>, input: AddPayeeInput) -> Result<Payee, Error> {
        let writer = request_auth(ctx).writer().await?;
        let name = PayeeName::parse(&input.name)?;
        let number = AccountNumber::parse(&input.account_number, Input::PayeeAccountNumber)?;
        let payee = state(ctx)
            .ledger
            .add_payee(writer.user_id, &name, &number)
            .await?;
        Ok(Payee(payee))
    }

    /// Removes one of the caller's payees; another customer's is NOT_FOUND, as a missing one.
    #[tracing::instrument(skip_all)]
    async fn remove_payee(&self, ctx: &Context<'_>, id: ID) -> Result<bool, Error> {
        let writer = request_auth(ctx).writer().await?;
        let id = PayeeId::parse(&id, Input::Id)?;
        state(ctx).ledger.remove_payee(writer.user_id, id).await?;
        Ok(true)
    }
}
