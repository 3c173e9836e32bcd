//! `Subscription.accountUpdated`: every committed posting on one of the caller's
//! accounts, as `crate::live` delivers it; served over WebSocket by `crate::graphql_ws`.

use async_graphql::{Context, SimpleObject, Subscription};
use futures::{Stream, StreamExt, stream};

use super::types::{Account, Transaction};
use super::{reader, state};
use crate::error::Error;
use crate::ledger;
use crate::live::{ConnectionSlots, Delivery, LiveError};

/// One posting on one of the caller's accounts: the account as the posting left it, and
/// the transaction. A transfer between two of the caller's own accounts is two updates.
#[derive(SimpleObject)]
pub struct AccountUpdate {
    pub account: Account,
    pub transaction: Transaction,
}

#[derive(Default)]
pub struct LiveSubscription;

#[Subscription]
impl LiveSubscription {
    /// Every committed posting on one of the caller's accounts, whichever replica
    /// committed it; a read-only token may subscribe. Over WebSocket only
    /// (`graphql-transport-ws` on `/graphql/ws`). Updates for one account committed at
    /// the same moment may arrive in either order: `transaction.createdAt` orders them.
    /// An error item with code UNAVAILABLE means postings may have been missed (read the
    /// balances again); the subscription goes on, unless it fell behind, which ends it.
    async fn account_updated(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = async_graphql::Result<AccountUpdate>> + use<>, Error> {
        let reader = reader(ctx).await?;
        let slots = ctx.data::<ConnectionSlots>().map_err(|_| {
            Error::Ledger(ledger::Error::invalid_request(
                "subscriptions are served over WebSocket, at /graphql/ws",
            ))
        })?;
        let user = reader.user_id;
        let deliveries = state(ctx)
            .live
            .subscribe(user, slots)
            .map_err(|refusal| Error::Live(LiveError::Refused(refusal)))?;
        Ok(deliveries.flat_map(move |delivery| {
            let items: Vec<async_graphql::Result<AccountUpdate>> = match delivery {
                Delivery::Posting(event) => event
                    .accounts_of(user)
                    .map(|account| {
                        Ok(AccountUpdate {
                            account: Account::from(account.clone()),
                            transaction: Transaction(event.transaction.clone()),
                        })
                    })
                    .collect(),
                Delivery::Gap => vec![Err(Error::Live(LiveError::Gap).into())],
                Delivery::Lagged => vec![Err(Error::Live(LiveError::Lagged).into())],
            };
            stream::iter(items)
        }))
    }
}
