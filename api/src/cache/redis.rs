use std::time::Duration;

use bb8_redis::RedisConnectionManager;
use bb8_redis::bb8::{self, PooledConnection};
use bb8_redis::redis::{self, AsyncCommands};

use super::{Cache, CacheError};

/// Every Redis call gives up after this long: a slow or dead Redis must turn into a
/// fallback or a clear UNAVAILABLE quickly, never into a hung request.
const CALL_TIMEOUT: Duration = Duration::from_millis(500);

/// Redis through a bb8 pool of multiplexed connections.
pub struct RedisCache {
    pool: bb8::Pool<RedisConnectionManager>,
    /// Put before every key, so deployments (and tests) can share one Redis.
    prefix: String,
}

impl RedisCache {
    /// Builds the pool without waiting for Redis: the api starts (and reports the cache
    /// as down in `/health`) even when Redis is not there yet.
    pub fn new(url: &str, prefix: &str, max_connections: u32) -> Result<RedisCache, CacheError> {
        let manager = RedisConnectionManager::new(url).map_err(|e| CacheError(e.to_string()))?;
        let pool = bb8::Pool::builder()
            .max_size(max_connections)
            .min_idle(Some(1))
            .connection_timeout(CALL_TIMEOUT)
            .retry_connection(false)
            .build_unchecked(manager);
        Ok(RedisCache {
            pool,
            prefix: prefix.to_owned(),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn conn(&self) -> Result<PooledConnection<'_, RedisConnectionManager>, CacheError> {
        self.pool.get().await.map_err(|e| CacheError(e.to_string()))
    }
}

async fn timed<T>(
    call: impl Future<Output = Result<T, redis::RedisError>>,
) -> Result<T, CacheError> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(CacheError(e.to_string())),
        Err(_) => Err(CacheError("redis call timed out".into())),
    }
}

fn secs(ttl: Duration) -> u64 {
    ttl.as_secs().max(1)
}

#[async_trait::async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<String>, CacheError> {
        let mut conn = self.conn().await?;
        timed(conn.get(self.key(key))).await
    }

    async fn get_and_touch(&self, key: &str, ttl: Duration) -> Result<Option<String>, CacheError> {
        let mut conn = self.conn().await?;
        timed(
            redis::cmd("GETEX")
                .arg(self.key(key))
                .arg("EX")
                .arg(secs(ttl))
                .query_async(&mut *conn),
        )
        .await
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        let mut conn = self.conn().await?;
        timed(conn.set_ex(self.key(key), value, secs(ttl))).await
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let mut conn = self.conn().await?;
        timed(conn.del(self.key(key))).await
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, CacheError> {
        let key = self.key(key);
        let mut conn = self.conn().await?;
        // INCR and EXPIRE NX in one round trip: the ttl is set when the counter is born
        // and not pushed back by later increments.
        let (value, _): (i64, i64) = timed(
            redis::pipe()
                .atomic()
                .incr(&key, 1)
                .cmd("EXPIRE")
                .arg(&key)
                .arg(secs(ttl))
                .arg("NX")
                .query_async(&mut *conn),
        )
        .await?;
        Ok(value)
    }

    async fn ping(&self) -> Result<(), CacheError> {
        let mut conn = self.conn().await?;
        let _: String = timed(redis::cmd("PING").query_async(&mut *conn)).await?;
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}
