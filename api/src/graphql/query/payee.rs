use async_graphql::{Context, Object};

use crate::error::Error;
use crate::graphql::types::Payee;
use crate::graphql::{reader, state};

#[derive(Default)]
pub struct PayeeQuery;

#[Object]
impl PayeeQuery {
    /// The signed-in customer's saved payees, newest first.
    #[tracing::instrument(skip_all)]
    async fn payees(&self, ctx: &Context<'_>) -> Result<Vec<Payee>, Error> {
        let reader = reader(ctx).await?;
        let payees = state(ctx).ledger.payees(reader.user_id).await?;
        Ok(payees.into_iter().map(Payee).collect())
    }
}
