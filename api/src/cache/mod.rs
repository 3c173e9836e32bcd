//! One `Cache` trait for sessions, login throttling and cached reads, with a Redis
//! implementation for a deployment (the master found directly or through Sentinel,
//! `locator.rs`) and an in-process one for the all-in-one.

pub mod keys;
mod locator;
mod memory;
mod near;
mod reads;
mod redis;

use std::time::Duration;

pub use locator::Locator;
pub use memory::MemoryCache;
pub use reads::CachedReads;
pub use redis::RedisCache;

/// The cache could not be reached or answered nonsense. Callers decide whether that
/// fails closed (sessions, throttling) or falls back to the database (reads).
#[derive(Debug, thiserror::Error)]
#[error("cache unavailable: {0}")]
pub struct CacheError(pub String);

/// How current a read must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// A local copy that the shared cache's invalidations keep in step will do: reads.
    Tracked,
    /// From the shared cache itself: anything that moves money.
    Authoritative,
}

#[async_trait::async_trait]
pub trait Cache: Send + Sync + 'static {
    async fn get(&self, key: &str) -> Result<Option<String>, CacheError>;
    /// Reads a value and, when it exists, restarts its time to live (sliding expiry).
    async fn get_and_touch(
        &self,
        key: &str,
        ttl: Duration,
        freshness: Freshness,
    ) -> Result<Option<String>, CacheError>;
    /// Reads a value from the shared cache itself, never from a local copy: for a check
    /// that must see an expiry when it happens, not when the invalidation arrives (Redis
    /// announces expired keys only once its background expiry finds them, seconds later).
    async fn get_authoritative(&self, key: &str) -> Result<Option<String>, CacheError> {
        self.get(key).await
    }
    /// Several keys at once from the shared cache itself (as `get_authoritative`), in the
    /// order asked: Redis answers them in one round trip.
    async fn get_many_authoritative(
        &self,
        keys: &[String],
    ) -> Result<Vec<Option<String>>, CacheError> {
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            values.push(self.get_authoritative(key).await?);
        }
        Ok(values)
    }
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError>;
    async fn delete(&self, key: &str) -> Result<(), CacheError>;
    /// Atomically adds one and returns the new value; a new counter lives for `ttl`.
    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, CacheError>;
    /// Reads a generation counter ("0" when absent) and the value stored under
    /// `value_prefix` followed by that generation. Redis does it in one round trip.
    async fn get_versioned(
        &self,
        generation_key: &str,
        value_prefix: &str,
    ) -> Result<(String, Option<String>), CacheError> {
        let generation = self
            .get(generation_key)
            .await?
            .unwrap_or_else(|| "0".to_owned());
        let value = self.get(&format!("{value_prefix}{generation}")).await?;
        Ok((generation, value))
    }
    async fn ping(&self) -> Result<(), CacheError>;
    /// "redis" or "memory", for `/health`.
    fn kind(&self) -> &'static str;
}
