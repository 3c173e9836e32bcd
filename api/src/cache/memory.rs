use std::time::{Duration, Instant};

use moka::Expiry;
use moka::future::Cache as Moka;
use moka::ops::compute::{CompResult, Op};

use super::{Cache, CacheError, CacheSizes, Freshness, weight};

#[derive(Clone)]
struct Entry {
    value: String,
    expires_at: Instant,
}

struct PerEntryExpiry;

impl Expiry<String, Entry> for PerEntryExpiry {
    fn expire_after_create(&self, _: &String, entry: &Entry, now: Instant) -> Option<Duration> {
        Some(entry.expires_at.saturating_duration_since(now))
    }

    fn expire_after_update(
        &self,
        _: &String,
        entry: &Entry,
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.expires_at.saturating_duration_since(now))
    }
}

/// The in-process cache of the all-in-one mode (moka): bounded in bytes, with per-key expiry.
pub struct MemoryCache {
    entries: Moka<String, Entry>,
}

impl MemoryCache {
    /// Holds at most `max_bytes` of keys and values (as [`weight`] counts them); past
    /// that the least useful entries go, sessions among them (a customer then signs in
    /// again): size it for the sessions the all-in-one serves at once.
    pub fn new(max_bytes: u64) -> MemoryCache {
        MemoryCache {
            entries: Moka::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &String, entry: &Entry| weight(key.len() + entry.value.len()))
                .expire_after(PerEntryExpiry)
                .build(),
        }
    }

    fn live(entry: Option<Entry>) -> Option<Entry> {
        // moka evicts lazily; an entry past its time is already gone as far as we care.
        entry.filter(|e| e.expires_at > Instant::now())
    }
}

impl Default for MemoryCache {
    fn default() -> Self {
        MemoryCache::new(CacheSizes::default().memory_bytes)
    }
}

#[async_trait::async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Result<Option<String>, CacheError> {
        Ok(Self::live(self.entries.get(key).await).map(|e| e.value))
    }

    async fn get_and_touch(
        &self,
        key: &str,
        ttl: Duration,
        _: Freshness,
    ) -> Result<Option<String>, CacheError> {
        let result = self
            .entries
            .entry(key.to_owned())
            .and_compute_with(|current| {
                let op = match Self::live(current.map(|e| e.into_value())) {
                    Some(entry) => Op::Put(Entry {
                        value: entry.value,
                        expires_at: Instant::now() + ttl,
                    }),
                    None => Op::Remove,
                };
                std::future::ready(op)
            })
            .await;
        Ok(match result {
            CompResult::ReplacedWith(entry) | CompResult::Inserted(entry) => {
                Some(entry.into_value().value)
            }
            _ => None,
        })
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        self.entries
            .insert(
                key.to_owned(),
                Entry {
                    value: value.to_owned(),
                    expires_at: Instant::now() + ttl,
                },
            )
            .await;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.entries.invalidate(key).await;
        Ok(())
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, CacheError> {
        let result = self
            .entries
            .entry(key.to_owned())
            .and_compute_with(|current| {
                let next = match Self::live(current.map(|e| e.into_value())) {
                    Some(entry) => Entry {
                        value: (entry.value.parse::<i64>().unwrap_or(0) + 1).to_string(),
                        expires_at: entry.expires_at,
                    },
                    None => Entry {
                        value: "1".to_owned(),
                        expires_at: Instant::now() + ttl,
                    },
                };
                std::future::ready(Op::Put(next))
            })
            .await;
        result
            .into_entry()
            .and_then(|e| e.into_value().value.parse().ok())
            .ok_or_else(|| CacheError("counter vanished".into()))
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn values_expire_slide_and_count() {
        let cache = MemoryCache::default();
        cache
            .set("a", "1", Duration::from_millis(200))
            .await
            .expect("set");
        assert_eq!(cache.get("a").await.expect("get").as_deref(), Some("1"));
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(
            cache
                .get_and_touch("a", Duration::from_millis(200), Freshness::Tracked)
                .await
                .expect("touch")
                .is_some()
        );
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(
            cache.get("a").await.expect("get").is_some(),
            "touch restarted the ttl"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(cache.get("a").await.expect("get").is_none());
        assert!(
            cache
                .get_and_touch("a", Duration::from_secs(1), Freshness::Tracked)
                .await
                .expect("touch")
                .is_none()
        );

        assert_eq!(
            cache.incr("n", Duration::from_secs(5)).await.expect("incr"),
            1
        );
        assert_eq!(
            cache.incr("n", Duration::from_secs(5)).await.expect("incr"),
            2
        );
        cache.delete("n").await.expect("delete");
        assert_eq!(
            cache.incr("n", Duration::from_secs(5)).await.expect("incr"),
            1
        );
    }
}
