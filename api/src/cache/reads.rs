//! Cached reads of a user's profile and accounts that never show a balance older than
//! the user's own last committed write.
//!
//! Each user has a generation counter, bumped after every commit that touches one of
//! their accounts, and the generation is part of the cache key. A read that races a
//! write may store the old balance, but only under the old generation, which no read
//! after the write's answer will ask for again. The counter lives in the shared cache,
//! so this holds across api replicas.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use serde::{Serialize, de::DeserializeOwned};

use super::{Cache, CacheSizes, KeyHasher, keys, weight};
use crate::ledger::{
    Account, Cursor, Error, HistoryOf, HistoryPage, Ledger, Overview, User, UserId,
};
use crate::metrics::Metrics;

/// How long a cached read may live. Generations make it correct; the ttl only bounds
/// memory and the window in which a bump lost to a Redis outage could matter.
const READ_TTL: Duration = Duration::from_secs(30);
/// Generations outlive any cached read by far.
const GENERATION_TTL: Duration = Duration::from_secs(24 * 3600);

/// A value decoded from the cache, and the length of the JSON it came from (its weight).
#[derive(Clone)]
struct Decoded {
    json_len: usize,
    value: Arc<dyn Any + Send + Sync>,
}

#[derive(Clone)]
pub struct CachedReads {
    cache: Arc<dyn Cache>,
    ledger: Ledger,
    metrics: Arc<Metrics>,
    /// Values this replica decoded lately, by the exact versioned key (`{what}:{user}:
    /// {generation}`) they were read under. The generation still comes from the cache on
    /// every read, so this changes nothing about freshness: it only saves decoding the same
    /// JSON again (a third of a cached GraphQL read's own work, docs/benchmarks-notes.md).
    /// Any value stored under a generation is one a read may show while that generation
    /// is current.
    decoded: moka::sync::Cache<String, Decoded, KeyHasher>,
    /// The reads (`{what}:{user}:`) this replica was asked for lately. A read is cached
    /// from the second time it is asked within READ_TTL: the first goes to the database
    /// alone. Most customers of a large bank are not back within READ_TTL, and for them
    /// the shared cache only added a versioned read that misses and a fill no one reads
    /// (two round trips of three, docs/benchmarks-notes.md). The database's answer is
    /// always current, so this changes which copy answers, never what it says.
    asked: moka::sync::Cache<String, (), KeyHasher>,
}

impl CachedReads {
    /// Keeps decoded values within a quarter of the near cache's budget.
    pub fn new(
        cache: Arc<dyn Cache>,
        ledger: Ledger,
        metrics: Arc<Metrics>,
        sizes: &CacheSizes,
    ) -> CachedReads {
        CachedReads {
            cache,
            ledger,
            metrics,
            decoded: moka::sync::Cache::builder()
                .max_capacity(sizes.near_bytes / 4)
                .weigher(|key: &String, decoded: &Decoded| {
                    // Decoded values take about twice their JSON's bytes.
                    weight(key.len() + 2 * decoded.json_len)
                })
                .time_to_live(READ_TTL)
                .build_with_hasher(KeyHasher::default()),
            asked: moka::sync::Cache::builder()
                .max_capacity(sizes.near_bytes / 8)
                .weigher(|key: &String, _: &()| weight(key.len()))
                .time_to_live(READ_TTL)
                .build_with_hasher(KeyHasher::default()),
        }
    }

    pub async fn accounts(&self, user_id: UserId) -> Result<Vec<Account>, Error> {
        self.read("accounts", user_id, || self.ledger.accounts(user_id))
            .await
    }

    pub async fn user(&self, user_id: UserId) -> Result<User, Error> {
        self.read("user", user_id, || self.ledger.user(user_id))
            .await
    }

    /// A page of an account's history. The first page (what a dashboard shows) is
    /// cached like the balances it must agree with; later pages are read as asked.
    pub async fn history(
        &self,
        of: HistoryOf<'_>,
        first: u64,
        after: Option<Cursor>,
    ) -> Result<HistoryPage, Error> {
        if after.is_some() {
            return self.ledger.history(of, first, after).await;
        }
        let what = keys::history(of.account_id(), first);
        self.read(&what, of.owner(), || self.ledger.history(of, first, None))
            .await
    }

    /// The accounts with the first page of each one's history (a dashboard): one cached
    /// read and, when cold, one query where the accounts and each page apart would be
    /// several of each.
    pub async fn overview(&self, user_id: UserId, first: u64) -> Result<Overview, Error> {
        self.read(&keys::overview(first), user_id, || {
            self.ledger.overview(user_id, first)
        })
        .await
    }

    /// Marks every cached read of these users stale. Called after the commit; the bumps
    /// go out together, in one round trip.
    pub async fn invalidate(&self, user_ids: &[UserId]) {
        let generations: Vec<String> = user_ids.iter().map(|&u| keys::generation(u)).collect();
        if let Err(e) = self.cache.incr_each(&generations, GENERATION_TTL).await {
            // The entries that could now be stale expire within READ_TTL.
            tracing::warn!(users = ?user_ids, error = %e, "could not bump the cache generations");
        }
    }

    /// Whether this read was asked for within READ_TTL; remembers that it was now. (The
    /// look-up also counts toward moka's admission, so a read asked for again and again
    /// is remembered even when one-time reads fill the map.)
    fn asked_before(&self, prefix: &str) -> bool {
        !self.asked.entry_by_ref(prefix).or_insert(()).is_fresh()
    }

    async fn read<T, F, Fut>(&self, what: &str, user_id: UserId, load: F) -> Result<T, Error>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let prefix = keys::read_prefix(what, user_id);
        if !self.asked_before(&prefix) {
            self.metrics.cache_read("first");
            return load().await;
        }
        let (generation, cached) = match self
            .cache
            .get_versioned(&keys::generation(user_id), &prefix)
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
        if let Some(hit) = cached {
            if let Some(value) = self
                .decoded
                .get(&key)
                .and_then(|d| d.value.downcast_ref::<T>().cloned())
            {
                self.metrics.cache_read("hit");
                return Ok(value);
            }
            if let Ok(value) = serde_json::from_str::<T>(&hit) {
                self.decoded.insert(
                    key,
                    Decoded {
                        json_len: hit.len(),
                        value: Arc::new(value.clone()),
                    },
                );
                self.metrics.cache_read("hit");
                return Ok(value);
            }
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
