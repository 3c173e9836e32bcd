//! An in-process copy of the Redis keys every request reads (sessions and cache
//! generations), kept honest by Redis itself.
//!
//! One extra connection per replica asks Redis for broadcast tracking of those key
//! prefixes (`CLIENT TRACKING ON BCAST`, RESP3): whenever any client changes, expires or
//! deletes such a key, Redis pushes an `invalidate` message and the local copy goes. The
//! copy is used only while that connection is up; when it drops, everything local is
//! forgotten at once and reads go to Redis again until tracking is back, so a missed
//! invalidation can never leave a stale entry behind.
//!
//! Writes made through this replica also evict the local copy before they return, so a
//! customer's own write is always visible to their next read here. Another replica learns
//! of it when Redis's push arrives (on the same network as Redis, well under a millisecond).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::keys::NEAR_CACHED;
use super::locator::Locator;
use super::{KeyHasher, weight};

use bb8_redis::redis::{
    self, AsyncConnectionConfig, ErrorKind, ProtocolVersion, PushInfo, PushKind, Role,
    ServerErrorKind, Value,
};

/// Local copies are also dropped after this long, whatever Redis says: a bound on memory
/// and on the harm of a bug, not a correctness mechanism.
const LOCAL_TTL: Duration = Duration::from_secs(60);
/// How often the tracking connection proves it is alive, and how long it may take.
const HEARTBEAT: Duration = Duration::from_secs(1);
const HEARTBEAT_TIMEOUT: Duration = Duration::from_millis(500);
const RECONNECT_DELAY: Duration = Duration::from_millis(250);
/// Invalidations are counted in this many buckets, by key, to detect a read that raced one.
const BUCKETS: usize = 64;

/// A generation and the values cached under it, by value prefix.
#[derive(Clone, Debug)]
struct Versioned {
    generation: String,
    values: Vec<(String, String)>,
}

/// Proof that a Redis read started while nothing could invalidate its result unseen.
#[derive(Clone, Copy)]
pub struct Ticket {
    resets: u64,
    bucket: u64,
}

pub struct NearCache {
    /// Full Redis key → value, for plain keys (sessions).
    plain: moka::sync::Cache<String, String, KeyHasher>,
    /// Full generation key → the generation and the values read under it.
    versioned: moka::sync::Cache<String, Arc<Versioned>, KeyHasher>,
    /// True only while the tracking connection is subscribed.
    live: AtomicBool,
    /// Bumped whenever tracking (re)starts or stops: every earlier read is suspect.
    resets: AtomicU64,
    invalidations: [AtomicU64; BUCKETS],
}

impl Versioned {
    fn bytes(&self) -> usize {
        self.generation.len()
            + self
                .values
                .iter()
                .map(|(prefix, value)| prefix.len() + value.len() + 48)
                .sum::<usize>()
    }
}

impl NearCache {
    /// Holds at most `max_bytes` (as [`weight`] counts them): a quarter for sessions, the
    /// rest for generations and the reads cached under them. Past that, the least useful
    /// entries go (moka's TinyLFU), and a read asks Redis again.
    pub fn new(max_bytes: u64) -> NearCache {
        NearCache {
            plain: moka::sync::Cache::builder()
                .max_capacity(max_bytes / 4)
                .weigher(|key: &String, value: &String| weight(key.len() + value.len()))
                .time_to_live(LOCAL_TTL)
                .build_with_hasher(KeyHasher::default()),
            versioned: moka::sync::Cache::builder()
                .max_capacity(max_bytes - max_bytes / 4)
                .weigher(|key: &String, value: &Arc<Versioned>| weight(key.len() + value.bytes()))
                .time_to_live(LOCAL_TTL)
                .build_with_hasher(KeyHasher::default()),
            live: AtomicBool::new(false),
            resets: AtomicU64::new(0),
            invalidations: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    pub fn is_tracked(prefix: &str, key: &str) -> bool {
        key.strip_prefix(prefix)
            .is_some_and(|rest| NEAR_CACHED.iter().any(|t| rest.starts_with(t)))
    }

    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.is_live().then(|| self.plain.get(key)).flatten()
    }

    pub fn get_versioned(
        &self,
        generation_key: &str,
        value_prefix: &str,
    ) -> Option<(String, String)> {
        if !self.is_live() {
            return None;
        }
        let entry = self.versioned.get(generation_key)?;
        let value = entry
            .values
            .iter()
            .find(|(prefix, _)| prefix == value_prefix)?;
        Some((entry.generation.clone(), value.1.clone()))
    }

    /// Taken before a Redis read whose answer may be kept; `None` when nothing may be kept.
    pub fn ticket(&self, key: &str) -> Option<Ticket> {
        if !self.is_live() {
            return None;
        }
        Some(Ticket {
            resets: self.resets.load(Ordering::Acquire),
            bucket: self.bucket(key).load(Ordering::Acquire),
        })
    }

    pub fn put(&self, ticket: Option<Ticket>, key: &str, value: String) {
        let Some(ticket) = ticket else { return };
        self.plain.insert(key.to_owned(), value);
        // Inserting first and checking after closes the window in which an invalidation
        // lands between the check and the insert.
        if !self.still_valid(ticket, key) {
            self.plain.invalidate(key);
        }
    }

    pub fn put_versioned(
        &self,
        ticket: Option<Ticket>,
        generation_key: &str,
        value_prefix: &str,
        generation: String,
        value: String,
    ) {
        let Some(ticket) = ticket else { return };
        let mut values = match self.versioned.get(generation_key) {
            Some(entry) if entry.generation == generation => entry.values.clone(),
            _ => Vec::new(),
        };
        values.retain(|(prefix, _)| prefix != value_prefix);
        values.push((value_prefix.to_owned(), value));
        self.versioned.insert(
            generation_key.to_owned(),
            Arc::new(Versioned { generation, values }),
        );
        if !self.still_valid(ticket, generation_key) {
            self.versioned.invalidate(generation_key);
        }
    }

    /// Forgets one key; called for Redis's pushes and for this replica's own writes.
    pub fn invalidate(&self, key: &str) {
        self.bucket(key).fetch_add(1, Ordering::AcqRel);
        self.plain.invalidate(key);
        self.versioned.invalidate(key);
    }

    fn still_valid(&self, ticket: Ticket, key: &str) -> bool {
        self.is_live()
            && self.resets.load(Ordering::Acquire) == ticket.resets
            && self.bucket(key).load(Ordering::Acquire) == ticket.bucket
    }

    fn bucket(&self, key: &str) -> &AtomicU64 {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        &self.invalidations[(hash % BUCKETS as u64) as usize]
    }

    fn set_live(&self, live: bool) {
        self.live.store(live, Ordering::Release);
        self.forget_all();
    }

    /// Forgets every local copy, and every read still in flight.
    fn forget_all(&self) {
        self.resets.fetch_add(1, Ordering::AcqRel);
        self.plain.invalidate_all();
        self.versioned.invalidate_all();
    }

    fn on_push(&self, push: PushInfo) {
        match push.kind {
            PushKind::Invalidate => match push.data.first() {
                Some(Value::Array(keys)) => {
                    for key in keys {
                        if let Value::BulkString(bytes) = key {
                            self.invalidate(&String::from_utf8_lossy(bytes));
                        }
                    }
                }
                // A null key list means Redis flushed everything.
                _ => self.forget_all(),
            },
            PushKind::Disconnection => self.set_live(false),
            _ => {}
        }
    }
}

/// Keeps the tracking connection up for as long as `near` is alive elsewhere, each time
/// to the master `locator` names then.
pub async fn track(near: std::sync::Weak<NearCache>, locator: Locator, prefix: String) {
    loop {
        let Some(cache) = near.upgrade() else { return };
        let Err(e) = tracking_session(&cache, &locator, &prefix).await;
        tracing::debug!(error = %e, "redis invalidation tracking is down");
        cache.set_live(false);
        drop(cache);
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
}

/// One connection's life: subscribe, then heartbeat until it fails. Behind sentinels the
/// heartbeat also asks the node its role: a master demoted by a failover keeps its
/// connections, but the writes, and so the invalidations, now happen on the new master,
/// and the local copy must not outlive that by more than a heartbeat.
async fn tracking_session(
    cache: &Arc<NearCache>,
    locator: &Locator,
    prefix: &str,
) -> redis::RedisResult<std::convert::Infallible> {
    let info = locator.client().await?.get_connection_info().clone();
    let settings = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    let client = redis::Client::open(info.set_redis_settings(settings))?;
    let weak = Arc::downgrade(cache);
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(HEARTBEAT_TIMEOUT))
        .set_response_timeout(Some(HEARTBEAT_TIMEOUT))
        .set_push_sender(move |push: PushInfo| match weak.upgrade() {
            Some(cache) => {
                cache.on_push(push);
                Ok(())
            }
            None => Err(()),
        });
    let mut conn = client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    let mut tracking = redis::cmd("CLIENT");
    tracking.arg("TRACKING").arg("ON").arg("BCAST");
    for tracked in NEAR_CACHED {
        tracking.arg("PREFIX").arg(format!("{prefix}{tracked}"));
    }
    let () = tracking.query_async(&mut conn).await?;
    cache.set_live(true);
    tracing::debug!("redis invalidation tracking is up");
    loop {
        tokio::time::sleep(HEARTBEAT).await;
        if locator.follows_sentinels() {
            let role: Role = redis::cmd("ROLE").query_async(&mut conn).await?;
            if !matches!(role, Role::Primary { .. }) {
                return Err(redis::RedisError::from((
                    ErrorKind::Server(ServerErrorKind::ReadOnly),
                    "the tracked node is no longer the master",
                )));
            }
        } else {
            let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        }
    }
}

/// Aborts the tracking task when the cache that started it goes away.
pub struct TrackerHandle(pub tokio::task::AbortHandle);

impl Drop for TrackerHandle {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// However many distinct customers pass through, the local copies stay within the
    /// byte budget (sessions and cached reads alike), and what is kept is still served.
    #[test]
    fn a_million_distinct_keys_stay_within_the_byte_budget() {
        let budget = 2 * super::super::MIB;
        let near = NearCache::new(budget);
        near.set_live(true);
        let account_json = "x".repeat(300);
        for user in 0..1_000_000u64 {
            let session = format!("banking:abc:session:{user:032x}");
            near.put(near.ticket(&session), &session, user.to_string());
            if user % 4 == 0 {
                let generation = format!("banking:abc:gen:{user}");
                near.put_versioned(
                    near.ticket(&generation),
                    &generation,
                    &format!("banking:abc:accounts:{user}:"),
                    "7".into(),
                    account_json.clone(),
                );
            }
        }
        near.plain.run_pending_tasks();
        near.versioned.run_pending_tasks();
        let used = near.plain.weighted_size() + near.versioned.weighted_size();
        assert!(used <= budget, "{used} bytes held, budget {budget}");
        assert!(
            near.plain.entry_count() > 1_000,
            "the budget is used, not starved: {} sessions",
            near.plain.entry_count()
        );
        let last = format!("banking:abc:session:{:032x}", 999_999u64);
        near.put(near.ticket(&last), &last, "999999".into());
        assert_eq!(near.get(&last).as_deref(), Some("999999"));
    }
}
