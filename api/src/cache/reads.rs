//! Cached reads of a user's profile and accounts that never show a balance older than
//! the user's own last committed write.
//!
//! Each user has a generation counter, bumped after every commit that touches one of
//! their accounts, and the generation is part of the cache key. A read that races a
//! write may store the old balance, but only under the old generation, which no read
//! after the write's answer will ask for again. The counter lives in the shared cache,
//! so this holds across api replicas.

use std::sync::Arc;
use std::time::Duration;

use serde::{Serialize, de::DeserializeOwned};

use super::Cache;
use crate::ledger::{Account, Error, Ledger, User};
use crate::metrics::Metrics;

/// How long a cached read may live. Generations make it correct; the ttl only bounds
/// memory and the window in which a bump lost to a Redis outage could matter.
const READ_TTL: Duration = Duration::from_secs(30);
/// Generations outlive any cached read by far.
const GENERATION_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Clone)]
pub struct CachedReads {
    cache: Arc<dyn Cache>,
    ledger: Ledger,
    metrics: Arc<Metrics>,
}

impl CachedReads {
    pub fn new(cache: Arc<dyn Cache>, ledger: Ledger, metrics: Arc<Metrics>) -> CachedReads {
        CachedReads {
            cache,
            ledger,
            metrics,
        }
    }

    pub async fn accounts(&self, user_id: i64) -> Result<Vec<Account>, Error> {
        self.read("accounts", user_id, || self.ledger.accounts(user_id))
            .await
    }

    pub async fn user(&self, user_id: i64) -> Result<User, Error> {
        self.read("user", user_id, || self.ledger.user(user_id))
            .await
    }

    /// Marks every cached read of these users stale. Called after the commit.
    pub async fn invalidate(&self, user_ids: &[i64]) {
        for user_id in user_ids {
            if let Err(e) = self
                .cache
                .incr(&generation_key(*user_id), GENERATION_TTL)
                .await
            {
                // The entries that could now be stale expire within READ_TTL.
                tracing::warn!(user_id, error = %e, "could not bump the cache generation");
            }
        }
    }

    async fn read<T, F, Fut>(&self, what: &str, user_id: i64, load: F) -> Result<T, Error>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let prefix = format!("{what}:{user_id}:");
        let (generation, cached) = match self
            .cache
            .get_versioned(&generation_key(user_id), &prefix)
            .await
        {
            Ok(found) => found,
            Err(e) => {
                tracing::debug!(error = %e, "cache down, reading from the database");
                self.metrics.cache_read("error");
                return load().await;
            }
        };
        let key = format!("{prefix}{generation}");
        if let Some(hit) = cached
            && let Ok(value) = serde_json::from_str(&hit)
        {
            self.metrics.cache_read("hit");
            return Ok(value);
        }
        self.metrics.cache_read("miss");
        let value = load().await?;
        if let Ok(json) = serde_json::to_string(&value)
            && let Err(e) = self.cache.set(&key, &json, READ_TTL).await
        {
            tracing::debug!(error = %e, "could not fill the cache");
        }
        Ok(value)
    }
}

fn generation_key(user_id: i64) -> String {
    format!("gen:{user_id}")
}
