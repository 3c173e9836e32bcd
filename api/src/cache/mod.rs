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

/// How much each in-process cache may hold. Every one is bounded by these, never by the
/// number of customers: a replica that has served a million customers holds no more
/// than one that has served a thousand (docs/benchmarks.md measures it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheSizes {
    /// The near cache's local copies of sessions, generations and cached reads, in bytes
    /// (`NEAR_CACHE_MIB`): a quarter for sessions, the rest for cached reads; besides,
    /// decoded reads may take a quarter of it and the reads asked for lately an eighth.
    pub near_bytes: u64,
    /// Verified session tokens remembered, so a repeat skips the signature check
    /// (`TOKEN_CACHE_ENTRIES`; each ~0.25 KiB: found by digest).
    pub token_entries: u64,
    /// Sessions seen alive (the read grace while Redis is unreachable) and sessions whose
    /// idle timer this replica restarted lately, each (`SESSION_CACHE_ENTRIES`).
    pub session_entries: u64,
    /// The all-in-one's in-process cache (no Redis), in bytes (`MEMORY_CACHE_MIB`).
    pub memory_bytes: u64,
}

pub const MIB: u64 = 1024 * 1024;

/// The hasher of the in-process caches whose keys the api makes itself: session ids,
/// token digests, cache keys built from ids. At a uniform spread over many customers
/// these caches insert and evict on nearly every request, and moka rehashes a table as
/// evictions leave it full of tombstones, hashing every key again; with std's SipHash
/// that hashing was 5% of the api's samples during cold reads at 10^6 customers
/// (docs/benchmarks-notes.md). foldhash is several times faster on short keys and,
/// seeded at random per process, still leaves no one able to aim keys at one bucket.
/// Caches keyed by text a client writes (GraphQL documents) keep std's default.
pub type KeyHasher = foldhash::quality::RandomState;

impl Default for CacheSizes {
    fn default() -> Self {
        CacheSizes {
            near_bytes: 16 * MIB,
            token_entries: 10_000,
            session_entries: 20_000,
            memory_bytes: 32 * MIB,
        }
    }
}

/// The weight of one cached entry: its bytes plus what the map spends on it besides
/// (moka's node, the key's and value's heap headers), so a budget in bytes holds for
/// many small entries too.
pub(crate) fn weight(bytes: usize) -> u32 {
    const PER_ENTRY: usize = 160;
    u32::try_from(bytes.saturating_add(PER_ENTRY)).unwrap_or(u32::MAX)
}

/// The cache could not be reached or answered nonsense. Callers decide whether that
/// fails closed (sessions, throttling) or falls back to the database (reads).
#[derive(Debug, thiserror::Error)]
#[error("cache unavailable: {0}")]
pub struct CacheError(pub String);

/// What [`Cache::get_and_follow`] found: a value, the key its word named (without the
/// prefix it was given), and that key's value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Followed {
    pub value: Option<String>,
    pub named: Option<String>,
    pub named_value: Option<String>,
}

/// The `word`-th (from 0) of a value's space-separated words: how
/// [`Cache::get_and_follow`] finds the key a value names (Redis's script reads it the
/// same way).
pub fn word_of(value: &str, word: usize) -> Option<&str> {
    value.split(' ').filter(|w| !w.is_empty()).nth(word)
}

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
    /// Reads `key` and the key its value names (`then_prefix` followed by the value's
    /// `word`-th word), restarting that one's time to live as `get_and_touch` does with
    /// authority: a token's seal and the session it names, which would otherwise be two
    /// round trips one after the other. Redis does it in one.
    async fn get_and_follow(
        &self,
        key: &str,
        word: usize,
        then_prefix: &str,
        ttl: Duration,
    ) -> Result<Followed, CacheError> {
        let Some(value) = self.get(key).await? else {
            return Ok(Followed::default());
        };
        let Some(named) = word_of(&value, word).map(str::to_owned) else {
            return Ok(Followed {
                value: Some(value),
                ..Followed::default()
            });
        };
        let named_value = self
            .get_and_touch(
                &format!("{then_prefix}{named}"),
                ttl,
                Freshness::Authoritative,
            )
            .await?;
        Ok(Followed {
            value: Some(value),
            named: Some(named),
            named_value,
        })
    }
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError>;
    async fn delete(&self, key: &str) -> Result<(), CacheError>;
    /// Atomically adds one and returns the new value; a new counter lives for `ttl`.
    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, CacheError>;
    /// Adds one to each counter (as `incr`): the generations of both parties to a
    /// posting. Redis does them in one round trip, where one call each was one each.
    async fn incr_each(&self, keys: &[String], ttl: Duration) -> Result<(), CacheError> {
        for key in keys {
            self.incr(key, ttl).await?;
        }
        Ok(())
    }
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
