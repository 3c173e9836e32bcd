use async_graphql::{Context, Object};

use crate::error::Error;
use crate::graphql::reader;
use crate::graphql::types::User;

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in customer.
    #[tracing::instrument(skip_all)]
    async fn me(&self, ctx: &Context<'_>) -> Result<User, Error> {
        let reader = reader(ctx).await?;
        User::signed_in(ctx, reader.user_id).await
    }
}
