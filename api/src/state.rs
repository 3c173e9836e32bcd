use std::sync::Arc;

use tracing::Instrument;

use crate::auth::Auth;
use crate::cache::{Cache, CachedReads};
use crate::config::Config;
use crate::error::Error;
use crate::ledger::{
    Account, AccountType, DepositRequest, Ledger, Posted, TransferRequest, UserId,
};
use crate::metrics::Metrics;

/// What resolvers and handlers work with. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub ledger: Ledger,
    pub reads: CachedReads,
    pub auth: Auth,
    pub cache: Arc<dyn Cache>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
}

impl Services {
    /// A transfer as every transport makes it: the ledger, then the caches of both
    /// parties, then the metrics.
    ///
    /// It runs in a task of its own: a client that hangs up mid-request cancels the
    /// request, never a half-done database transaction (and the caches are bumped even
    /// when nobody is left to hear the answer).
    pub async fn transfer(
        &self,
        user_id: UserId,
        request: TransferRequest,
    ) -> Result<Posted, Error> {
        let services = self.clone();
        Self::detached(tokio::spawn(
            async move {
                let result = services.ledger.transfer(user_id, request).await;
                services.after_posting("transfer", result).await
            }
            .in_current_span(),
        ))
        .await
    }

    pub async fn deposit(&self, user_id: UserId, request: DepositRequest) -> Result<Posted, Error> {
        let services = self.clone();
        Self::detached(tokio::spawn(
            async move {
                let result = services.ledger.deposit(user_id, request).await;
                services.after_posting("deposit", result).await
            }
            .in_current_span(),
        ))
        .await
    }

    /// Opens an account; the customer's cached reads (their list of accounts) are
    /// stale from the commit on.
    pub async fn open_account(&self, user_id: UserId, kind: AccountType) -> Result<Account, Error> {
        let account = self.ledger.open_account(user_id, kind).await?;
        self.reads.invalidate(&[user_id]).await;
        Ok(account)
    }

    async fn detached(
        task: tokio::task::JoinHandle<Result<Posted, Error>>,
    ) -> Result<Posted, Error> {
        task.await
            .unwrap_or_else(|e| Err(Error::Internal(anyhow::anyhow!("posting task failed: {e}"))))
    }

    async fn after_posting(
        &self,
        kind: &'static str,
        result: Result<Posted, crate::ledger::Error>,
    ) -> Result<Posted, Error> {
        use crate::ledger::Error as L;
        let outcome = match &result {
            Ok(posted) if posted.replayed => "replayed",
            Ok(_) => "ok",
            Err(L::InsufficientFunds) => "insufficient_funds",
            Err(L::NotFound { .. }) => "not_found",
            Err(L::Conflict { .. }) => "conflict",
            Err(L::InvalidInput { .. }) => "invalid",
            Err(L::Unavailable(_)) => "unavailable",
            Err(_) => "error",
        };
        self.metrics.posting(kind, outcome);
        let posted = result?;
        self.reads.invalidate(&posted.owners).await;
        Ok(posted)
    }
}
