use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bb8_redis::bb8::{self, ManageConnection, PooledConnection};
use bb8_redis::redis::{
    self, AsyncCommands, ErrorKind, ServerErrorKind, aio::MultiplexedConnection,
};

use super::locator::Locator;
use super::near::{NearCache, TrackerHandle, track};
use super::{Cache, CacheError, CacheSizes, Followed, Freshness, KeyHasher, keys};

/// Every Redis call gives up after this long: a slow or dead Redis must turn into a
/// fallback or a clear UNAVAILABLE quickly, never into a hung request.
const CALL_TIMEOUT: Duration = Duration::from_millis(500);

/// A pooled connection that remembers whether a command on it failed.
pub struct Connection {
    redis: MultiplexedConnection,
    broken: bool,
    /// The pool's era when it was made (see [`Manager`]).
    era: u64,
}

/// Makes the pool's connections, each to the master the locator names at that moment
/// (after a failover, the new one), and throws away on its return to the pool a
/// connection whose command failed. That lets the pool skip the PING on every checkout
/// (a round trip per call) and still recover by itself after Redis restarts or fails over.
///
/// A failure that says the node is gone or no longer the master (a dropped connection,
/// `READONLY` from a demoted master) ends the pool's era: every connection made before
/// it is thrown away as it comes back, not only the one that failed, so the others do
/// not each fail a request first (or read from the demoted node meanwhile).
pub struct Manager {
    locator: Locator,
    era: Arc<AtomicU64>,
    /// Behind Sentinel, the full keys of the node marker and of the cached reads' era
    /// (see [`MARK_NODE`]).
    read_era: Option<(String, String)>,
}

impl ManageConnection for Manager {
    type Connection = Connection;
    type Error = redis::RedisError;

    async fn connect(&self) -> Result<Connection, redis::RedisError> {
        // Read before the look-up: a connection made while an era ends belongs to the old one.
        let era = self.era.load(Ordering::Acquire);
        let client = self.locator.client().await?;
        let mut redis = client.get_multiplexed_async_connection().await?;
        if let Some((node, read_era)) = &self.read_era {
            mark_node(&mut redis, node, read_era).await?;
        }
        Ok(Connection {
            redis,
            broken: false,
            era,
        })
    }

    async fn is_valid(&self, conn: &mut Connection) -> Result<(), redis::RedisError> {
        let _: String = redis::cmd("PING").query_async(&mut conn.redis).await?;
        Ok(())
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.broken || conn.era != self.era.load(Ordering::Acquire)
    }
}

/// Whether a failed command says the node it went to is gone or no longer the master,
/// rather than that this one command failed.
fn master_lost(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || matches!(
            e.kind(),
            ErrorKind::Server(ServerErrorKind::ReadOnly | ServerErrorKind::MasterDown)
        )
}

/// Reads a generation counter and the value stored under `prefix .. generation` in one
/// round trip. Behind Sentinel the generation is prefixed with the cached reads' era
/// (`KEYS[2]`; absent otherwise), which a failover ends (see [`MARK_NODE`]).
const VERSIONED_GET: &str = r"
local generation = redis.call('GET', KEYS[1]) or '0'
local era = redis.call('GET', KEYS[2])
if era then generation = era .. '.' .. generation end
return {generation, redis.call('GET', ARGV[1] .. generation)}
";

/// `get_and_follow`: the value at `KEYS[1]`, the `ARGV[2]`-th (from 0) of its
/// space-separated words (as `super::word_of` reads them), and the value of `ARGV[1]`
/// followed by that word, its ttl restarted to `ARGV[3]` seconds.
const GET_AND_FOLLOW: &str = r"
local value = redis.call('GET', KEYS[1])
if not value then return {false, false, false} end
local wanted, i = tonumber(ARGV[2]), 0
for word in string.gmatch(value, '[^ ]+') do
  if i == wanted then
    return {value, word, redis.call('GETEX', ARGV[1] .. word, 'EX', ARGV[3])}
  end
  i = i + 1
end
return {value, false, false}
";

/// Run on every new connection behind Sentinel: when the node is not the one the cached
/// reads were last used on (`KEYS[1]` holds its run id and replication id, `ARGV[1]`), a
/// new era of cached reads begins (`KEYS[2]`).
///
/// Redis replicates asynchronously: a generation bump the old master acknowledged an
/// instant before it died may never reach the replica that replaces it. The new master
/// would then hold the generation from before the write and, under it, the cached read
/// from before the write: a balance older than a committed transfer, for up to the read
/// ttl. A promoted replica gets a new replication id, so the first connection any api
/// replica makes to it starts a new era, before any read through it, and no cached read
/// written before the failover is read again. One era per failover (the script is atomic).
const MARK_NODE: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('INCR', KEYS[2])
end
return 1
";

/// See [`MARK_NODE`]. Fails on a node that is not a master (the write is refused), which
/// is right too: such a connection must not be used.
async fn mark_node(
    conn: &mut MultiplexedConnection,
    node_key: &str,
    era_key: &str,
) -> redis::RedisResult<()> {
    let server: String = redis::cmd("INFO").arg("server").query_async(conn).await?;
    let replication: String = redis::cmd("INFO")
        .arg("replication")
        .query_async(conn)
        .await?;
    let field = |info: &str, name: &str| {
        info.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(|value| value.trim().to_owned())
            .unwrap_or_default()
    };
    // The run id changes when the node restarts, the replication id when it is promoted.
    let node = format!(
        "{}:{}",
        field(&server, "run_id"),
        field(&replication, "master_replid")
    );
    let _: i64 = redis::cmd("EVAL")
        .arg(MARK_NODE)
        .arg(2)
        .arg(node_key)
        .arg(era_key)
        .arg(node)
        .query_async(conn)
        .await?;
    Ok(())
}

/// A session's idle timer is restarted at most this often by one replica (and never
/// less often than a quarter of the idle timeout): touching it is a write, which makes
/// Redis invalidate every replica's local copy.
const MAX_TOUCH_INTERVAL: Duration = Duration::from_secs(30);

/// Keys read by one MGET at most.
const MGET_SLICE: usize = 1000;

/// Redis through a bb8 pool of multiplexed connections, with a local copy of the hot
/// keys that Redis keeps honest (see `near`).
pub struct RedisCache {
    pool: bb8::Pool<Manager>,
    /// The pool's era: ended (bumped) when a failure says the master is gone.
    era: Arc<AtomicU64>,
    /// Put before every key, so deployments (and tests) can share one Redis.
    prefix: String,
    near: Arc<NearCache>,
    /// Sessions this replica restarted the idle timer of, and when.
    touched: moka::sync::Cache<String, Instant, KeyHasher>,
    _tracker: TrackerHandle,
}

impl RedisCache {
    /// Redis at `url`, which is the master, with the default local sizes. See
    /// [`RedisCache::with_locator`].
    pub fn new(url: &str, prefix: &str, max_connections: u32) -> Result<RedisCache, CacheError> {
        let locator = Locator::new(url, &[], "").map_err(|e| CacheError(e.to_string()))?;
        Ok(RedisCache::with_locator(
            locator,
            prefix,
            max_connections,
            CacheSizes::default(),
        ))
    }

    /// Builds the pool without waiting for Redis: the api starts (and reports the cache
    /// as down in `/health`) even when Redis is not there yet. Every connection, pooled or
    /// the invalidation tracker's, goes to the master `locator` names when it is made.
    /// Must be called within the Tokio runtime, which runs the invalidation tracker.
    pub fn with_locator(
        locator: Locator,
        prefix: &str,
        max_connections: u32,
        sizes: CacheSizes,
    ) -> RedisCache {
        let era = Arc::new(AtomicU64::new(0));
        let read_era = locator.follows_sentinels().then(|| {
            (
                format!("{prefix}{}", keys::node()),
                format!("{prefix}{}", keys::read_era()),
            )
        });
        let manager = Manager {
            locator: locator.clone(),
            era: era.clone(),
            read_era,
        };
        let pool = bb8::Pool::builder()
            .max_size(max_connections)
            .min_idle(Some(1))
            .test_on_check_out(false)
            .connection_timeout(CALL_TIMEOUT)
            .retry_connection(false)
            .build_unchecked(manager);
        let near = Arc::new(NearCache::new(sizes.near_bytes));
        let tracker = tokio::spawn(track(Arc::downgrade(&near), locator, prefix.to_owned()));
        RedisCache {
            pool,
            era,
            prefix: prefix.to_owned(),
            near,
            touched: moka::sync::Cache::builder()
                .max_capacity(sizes.session_entries)
                .time_to_live(MAX_TOUCH_INTERVAL)
                .build_with_hasher(KeyHasher::default()),
            _tracker: TrackerHandle(tracker.abort_handle()),
        }
    }

    /// Whether the local copy is in use (the invalidation tracker is connected).
    pub fn is_tracking(&self) -> bool {
        self.near.is_live()
    }

    fn tracked(&self, key: &str) -> bool {
        NearCache::is_tracked(&self.prefix, key)
    }

    /// After a write through this replica: its next read must not see the old value.
    fn forget(&self, key: &str) {
        if self.tracked(key) {
            self.near.invalidate(key);
        }
    }

    async fn get_remote(&self, key: String) -> Result<Option<String>, CacheError> {
        self.call(|c| Box::pin(async move { c.get(key).await }))
            .await
    }

    /// A plain read of a key that already carries the prefix: the local copy when there
    /// is one, else Redis, kept locally when the key is tracked and no invalidation raced.
    async fn get_prefixed(&self, key: String) -> Result<Option<String>, CacheError> {
        if !self.tracked(&key) {
            return self.get_remote(key).await;
        }
        if let Some(value) = self.near.get(&key) {
            return Ok(Some(value));
        }
        let ticket = self.near.ticket(&key);
        let value = self.get_remote(key.clone()).await?;
        if let Some(value) = &value {
            self.near.put(ticket, &key, value.clone());
        }
        Ok(value)
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// After a GETEX of `full` (a key with the prefix): when it existed, its idle timer was
    /// restarted now, so reads in the next while may use the local copy; when it did not,
    /// forget that it ever was. Not copied locally: the touch is a write, and Redis is
    /// about to invalidate it.
    fn note_touch(&self, full: String, existed: bool) {
        if existed {
            self.touched.insert(full, Instant::now());
        } else {
            self.touched.invalidate(&full);
        }
    }

    /// Adds one to each counter, in one `MULTI` (one round trip), and returns the new
    /// values: `INCR` and `EXPIRE NX` each, so a counter's ttl is set when it is born and
    /// not pushed back by later increments.
    async fn bump(&self, keys: &[String], ttl: Duration) -> Result<Vec<i64>, CacheError> {
        let keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in &keys {
            pipe.incr(key, 1)
                .cmd("EXPIRE")
                .arg(key)
                .arg(secs(ttl))
                .arg("NX")
                .ignore();
        }
        let result = self
            .call(|c| Box::pin(async move { pipe.query_async::<Vec<i64>>(c).await }))
            .await;
        for key in &keys {
            self.forget(key);
        }
        result
    }

    /// Runs one command on a pooled connection, within the time limit; a failure marks
    /// the connection broken so the pool replaces it, and one that says the master is gone
    /// ends the era of every connection made before.
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
                if master_lost(&e) {
                    self.era.fetch_max(conn.era + 1, Ordering::AcqRel);
                }
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
        self.get_prefixed(self.key(key)).await
    }

    async fn get_authoritative(&self, key: &str) -> Result<Option<String>, CacheError> {
        self.get_remote(self.key(key)).await
    }

    async fn get_many_authoritative(
        &self,
        keys: &[String],
    ) -> Result<Vec<Option<String>>, CacheError> {
        let mut values = Vec::with_capacity(keys.len());
        // In slices, so one call's answer stays small and quick.
        for slice in keys.chunks(MGET_SLICE) {
            let full: Vec<String> = slice.iter().map(|k| self.key(k)).collect();
            let found: Vec<Option<String>> = self
                .call(|c| {
                    Box::pin(async move { redis::cmd("MGET").arg(full).query_async(c).await })
                })
                .await?;
            if found.len() != slice.len() {
                return Err(CacheError(
                    "MGET answered the wrong number of values".into(),
                ));
            }
            values.extend(found);
        }
        Ok(values)
    }

    async fn get_and_touch(
        &self,
        key: &str,
        ttl: Duration,
        freshness: Freshness,
    ) -> Result<Option<String>, CacheError> {
        let full = self.key(key);
        let interval = (ttl / 4).min(MAX_TOUCH_INTERVAL);
        let recently_touched = self
            .touched
            .get(&full)
            .is_some_and(|at| at.elapsed() < interval);
        if recently_touched && freshness == Freshness::Tracked && self.tracked(&full) {
            let value = self.get_prefixed(full.clone()).await?;
            if value.is_none() {
                self.touched.invalidate(&full);
            }
            return Ok(value);
        }
        let key = full.clone();
        let value: Option<String> = self
            .call(|c| {
                Box::pin(async move {
                    redis::cmd("GETEX")
                        .arg(key)
                        .arg("EX")
                        .arg(secs(ttl))
                        .query_async(c)
                        .await
                })
            })
            .await?;
        self.note_touch(full, value.is_some());
        Ok(value)
    }

    async fn get_and_follow(
        &self,
        key: &str,
        word: usize,
        then_prefix: &str,
        ttl: Duration,
    ) -> Result<Followed, CacheError> {
        let (key, then_prefix) = (self.key(key), self.key(then_prefix));
        let prefix = then_prefix.clone();
        let (value, named, named_value): (Option<String>, Option<String>, Option<String>) = self
            .call(|c| {
                Box::pin(async move {
                    redis::cmd("EVAL")
                        .arg(GET_AND_FOLLOW)
                        .arg(1)
                        .arg(key)
                        .arg(prefix)
                        .arg(word)
                        .arg(secs(ttl))
                        .query_async(c)
                        .await
                })
            })
            .await?;
        if let Some(named) = &named {
            self.note_touch(format!("{then_prefix}{named}"), named_value.is_some());
        }
        Ok(Followed {
            value,
            named,
            named_value,
        })
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        let key = self.key(key);
        let value = value.to_owned();
        let written = key.clone();
        self.call(|c| {
            Box::pin(async move { c.set_ex::<_, _, ()>(written, value, secs(ttl)).await })
        })
        .await?;
        self.forget(&key);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let key = self.key(key);
        let deleted = key.clone();
        // Forgotten even when the call fails: it may have reached Redis.
        let result = self
            .call(|c| Box::pin(async move { c.del(deleted).await }))
            .await;
        self.forget(&key);
        self.touched.invalidate(&key);
        result
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<i64, CacheError> {
        self.bump(&[key.to_owned()], ttl)
            .await?
            .pop()
            .ok_or_else(|| CacheError("INCR answered nothing".into()))
    }

    async fn incr_each(&self, keys: &[String], ttl: Duration) -> Result<(), CacheError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.bump(keys, ttl).await.map(drop)
    }

    async fn get_versioned(
        &self,
        generation_key: &str,
        value_prefix: &str,
    ) -> Result<(String, Option<String>), CacheError> {
        let generation_key = self.key(generation_key);
        let value_prefix = self.key(value_prefix);
        if let Some((generation, value)) = self.near.get_versioned(&generation_key, &value_prefix) {
            return Ok((generation, Some(value)));
        }
        let ticket = self.near.ticket(&generation_key);
        let (generation_keys, prefix) = (
            [generation_key.clone(), self.key(&keys::read_era())],
            value_prefix.clone(),
        );
        // EVAL with the script text: Redis keeps it compiled after the first call.
        let (generation, value): (String, Option<String>) = self
            .call(|c| {
                Box::pin(async move {
                    redis::cmd("EVAL")
                        .arg(VERSIONED_GET)
                        .arg(2)
                        .arg(&generation_keys)
                        .arg(prefix)
                        .query_async(c)
                        .await
                })
            })
            .await?;
        if let Some(value) = &value {
            self.near.put_versioned(
                ticket,
                &generation_key,
                &value_prefix,
                generation.clone(),
                value.clone(),
            );
        }
        Ok((generation, value))
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
