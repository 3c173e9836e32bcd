use async_graphql::{Context, Object};

use crate::error::Error;
use crate::graphql::types::User;
use crate::graphql::{reader, state};

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in customer.
    #[tracing::instrument(skip_all)]
    async fn me(&self, ctx: &Context<'_>) -> Result<User, Error> {
        let reader = reader(ctx).await?;
        Ok(User(state(ctx).reads.user(reader.user_id).await?))
    }
}
