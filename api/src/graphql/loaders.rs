use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader, LruCache};

use crate::error::Error;
use crate::ledger::{self, AccountId, Ledger};

/// Account numbers by account id, batched per request.
pub struct AccountNumbers(pub Ledger);

/// The loader as the schema holds it, with its cache.
pub type AccountNumberLoader = DataLoader<AccountNumbers, LruCache>;

/// Account numbers kept by the schema-wide loader (well under a MiB).
pub const REMEMBERED_NUMBERS: usize = 10_000;

/// The loader's error must be `Clone`; it becomes an api error in the resolver.
#[derive(Clone, Debug)]
pub struct LoadError(Arc<ledger::Error>);

impl LoadError {
    pub fn into_error(self) -> Error {
        match &*self.0 {
            ledger::Error::Unavailable(e) => Error::Unavailable(e.to_string()),
            other => Error::Internal(anyhow::anyhow!("loading account numbers: {other:?}")),
        }
    }
}

impl Loader<AccountId> for AccountNumbers {
    type Value = String;
    type Error = LoadError;

    async fn load(&self, keys: &[AccountId]) -> Result<HashMap<AccountId, String>, LoadError> {
        self.0
            .account_numbers(keys)
            .await
            .map_err(|e| LoadError(Arc::new(e)))
    }
}
