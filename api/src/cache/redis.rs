use std::time::Duration;

use bb8_redis::RedisConnectionManager;
use bb8_redis::bb8::{self, ManageConnection, PooledConnection};
use bb8_redis::redis::{self, AsyncCommands, aio::MultiplexedConnection};

use super::{Cache, CacheError};

/// Every Redis call gives up after this long: a slow or dead Redis must turn into a
/// fallback or a clear UNAVAILABLE quickly, never into a hung request.
const CALL_TIMEOUT: Duration = Duration::from_millis(500);

/// A pooled connection that remembers whether a command on it failed.
pub struct Connection {
    redis: MultiplexedConnection,
    broken: bool,
}

/// bb8-redis's manager, plus: a connection whose command failed is thrown away when it
/// goes back to the pool. That lets the pool skip the PING on every checkout (a round
/// trip per call) and still recover by itself after Redis restarts.
pub struct Manager(RedisConnectionManager);

impl ManageConnection for Manager {
    type Connection = Connection;
    type Error = redis::RedisError;

    async fn connect(&self) -> Result<Connection, redis::RedisError> {
        Ok(Connection {
            redis: self.0.connect().await?,
            broken: false,
        })
    }

    async fn is_valid(&self, conn: &mut Connection) -> Result<(), redis::RedisError> {
        self.0.is_valid(&mut conn.redis).await
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.broken
    }
}

/// Reads a generation counter and the value stored under `prefix .. generation` in one
/// round trip.
const VERSIONED_GET: &str = r"
local generation = redis.call('GET', KEYS[1]) or '0'
return {generation, redis.call('GET', ARGV[1] .. generation)}
";

/// Redis through a bb8 pool of multiplexed connections.
pub struct RedisCache {
    pool: bb8::Pool<Manager>,
    /// Put before every key, so deployments (and tests) can share one Redis.
    prefix: String,
}

impl RedisCache {
    /// Builds the pool without waiting for Redis: the api starts (and reports the cache
    /// as down in `/health`) even when Redis is not there yet.
    pub fn new(url: &str, prefix: &str, max_connections: u32) -> Result<RedisCache, CacheError> {
        let manager =
            Manager(RedisConnectionManager::new(url).map_err(|e| CacheError(e.to_string()))?);
        let pool = bb8::Pool::builder()
            .max_size(max_connections)
            .min_idle(Some(1))
            .test_on_check_out(false)
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

    /// Runs one command on a pooled connection, within the time limit; a failure marks
    /// the connection broken so the pool replaces it.
    async fn call<T, F>(&self, command: F) -> Result<T, CacheError>
    where
        F: for<'c> FnOnce(
            &'c mut MultiplexedConnection,
        ) -> std::pin::Pin<
            Box<dyn Future<Output = redis::RedisResult<T>> + Send + 'c>,
        >,
    {
        let mut conn: PooledConnection<'_, Manager> = self
            .pool
            .get()
            .await
            .map_err(|e| CacheError(e.to_string()))?;
        match tokio::time::timeout(CALL_TIMEOUT, command(&mut conn.redis)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                conn.broken = true;
                Err(CacheError(e.to_string()))
            }
            Err(_) => {
                conn.broken = true;
                Err(CacheError("redis call timed out".into()))
            }
        }
    }
}

fn secs(ttl: Duration) -> u64 {
    ttl.as_secs().max(1)
}

#[async_trait::async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<String>, CacheError> {
        let key = self.key(key);
        self.call(|c| Box::pin(async move { c.get(key).await }))
            .await
    }

    async fn get_and_touch(&self, key: &str, ttl: Duration) -> Result<Option<String>, CacheError> {
        let key = self.key(key);
        self.call(|c| {
            Box::pin(async move {
                redis::cmd("GETEX")
                    .arg(key)
                    .arg("EX")
                    .arg(secs(ttl))
                    .query_async(c)
                    .await
            })
        })
        .await
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        let key = self.key(key);
        let value = value.to_owned();
        self.call(|c| Box::pin(async move { c.set_ex(key, value, secs(ttl)).await }))
            .await
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let key = self.key(key);
        self.call(|c| Box::pin(async move { c.del(key).await }))
            .await
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, CacheError> {
        let key = self.key(key);
        // INCR and EXPIRE NX in one round trip: the ttl is set when the counter is born
        // and not pushed back by later increments.
        let (value, _): (i64, i64) = self
            .call(|c| {
                Box::pin(async move {
                    redis::pipe()
                        .atomic()
                        .incr(&key, 1)
                        .cmd("EXPIRE")
                        .arg(&key)
                        .arg(secs(ttl))
                        .arg("NX")
                        .query_async(c)
                        .await
                })
            })
            .await?;
        Ok(value)
    }

    async fn get_versioned(
        &self,
        generation_key: &str,
        value_prefix: &str,
    ) -> Result<(String, Option<String>), CacheError> {
        let generation_key = self.key(generation_key);
        let value_prefix = self.key(value_prefix);
        // EVAL with the script text: Redis keeps it compiled after the first call.
        self.call(|c| {
            Box::pin(async move {
                redis::cmd("EVAL")
                    .arg(VERSIONED_GET)
                    .arg(1)
                    .arg(generation_key)
                    .arg(value_prefix)
                    .query_async(c)
                    .await
            })
        })
        .await
    }

    async fn ping(&self) -> Result<(), CacheError> {
        let _: String = self
            .call(|c| Box::pin(async move { redis::cmd("PING").query_async(c).await }))
            .await?;
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}
