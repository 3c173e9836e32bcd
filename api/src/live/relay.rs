//! Postings between replicas, through Redis pub/sub: each replica publishes what it
//! commits on one channel and hears what every other one commits.
//!
//! One RESP3 connection per process does both (a RESP3 connection may publish while it is
//! subscribed), made to the master the locator names then: behind Sentinel, after a
//! failover, the next connection goes to the new master. A heartbeat proves it alive
//! every second (and, behind Sentinel, that its node is still the master); when it fails,
//! the connection is made again after a pause that doubles up to a bound. Postings
//! published elsewhere while it was down are lost to this replica's subscribers, so
//! once it is back they are told ([`Hub::gap`]) and can read the balances again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use bb8_redis::redis::{
    self, AsyncConnectionConfig, ErrorKind, ProtocolVersion, PushInfo, PushKind, Role,
    ServerErrorKind, Value, aio::MultiplexedConnection,
};

use super::event::PostingEvent;
use super::hub::Hub;
use crate::cache::Locator;

const HEARTBEAT: Duration = Duration::from_secs(1);
/// A publish, a heartbeat or a connection attempt gives up after this long.
const CALL_TIMEOUT: Duration = Duration::from_millis(500);
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(5);

pub struct Relay {
    channel: String,
    /// The connection while it is up.
    connection: Arc<RwLock<Option<MultiplexedConnection>>>,
    /// Publishes that failed (Redis down): their postings reached only this replica.
    failed: AtomicU64,
    task: tokio::task::AbortHandle,
}

impl Relay {
    /// Starts keeping the connection up, for as long as the relay lives. Must be called
    /// within the Tokio runtime.
    pub fn start(hub: Weak<Hub>, locator: Locator, channel: String, origin: u64) -> Relay {
        let connection = Arc::new(RwLock::new(None));
        let task = tokio::spawn(keep_up(
            hub,
            locator,
            channel.clone(),
            origin,
            connection.clone(),
        ));
        Relay {
            channel,
            connection,
            failed: AtomicU64::new(0),
            task: task.abort_handle(),
        }
    }

    pub fn is_up(&self) -> bool {
        self.current().is_some()
    }

    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    fn current(&self) -> Option<MultiplexedConnection> {
        self.connection
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Publishes one encoded event, within [`CALL_TIMEOUT`].
    pub async fn publish(&self, message: String) -> Result<(), String> {
        let result = match self.current() {
            None => Err("the link to Redis is down".to_owned()),
            Some(mut conn) => {
                let mut command = redis::cmd("PUBLISH");
                command.arg(&self.channel).arg(message);
                let publish = command.query_async::<i64>(&mut conn);
                match tokio::time::timeout(CALL_TIMEOUT, publish).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("publishing timed out".to_owned()),
                }
            }
        };
        if result.is_err() {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn keep_up(
    hub: Weak<Hub>,
    locator: Locator,
    channel: String,
    origin: u64,
    slot: Arc<RwLock<Option<MultiplexedConnection>>>,
) {
    let mut retry = FIRST_RETRY;
    let mut was_up = false;
    loop {
        if hub.strong_count() == 0 {
            return;
        }
        let result = session(&hub, &locator, &channel, origin, &slot, was_up).await;
        *slot.write().unwrap_or_else(|p| p.into_inner()) = None;
        let Err((e, came_up)) = result;
        if came_up {
            was_up = true;
            retry = FIRST_RETRY;
            tracing::warn!(error = %e, "the live-postings link to Redis dropped; reconnecting");
        } else {
            tracing::debug!(error = %e, "the live-postings link to Redis is still down");
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(LAST_RETRY);
    }
}

/// One connection's life: subscribe, then heartbeat until something fails. The error
/// says whether it had come up.
async fn session(
    hub: &Weak<Hub>,
    locator: &Locator,
    channel: &str,
    origin: u64,
    slot: &RwLock<Option<MultiplexedConnection>>,
    was_up: bool,
) -> Result<std::convert::Infallible, (redis::RedisError, bool)> {
    let down = |e| (e, false);
    let located = tokio::time::timeout(CALL_TIMEOUT * 2, locator.client())
        .await
        .map_err(|_| timed_out())
        .and_then(|r| r)
        .map_err(down)?;
    let info = located.get_connection_info().clone();
    let settings = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    let client = redis::Client::open(info.set_redis_settings(settings)).map_err(down)?;
    let hub_for_pushes = hub.clone();
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CALL_TIMEOUT))
        .set_response_timeout(Some(CALL_TIMEOUT))
        .set_push_sender(move |push: PushInfo| match hub_for_pushes.upgrade() {
            Some(hub) => {
                on_push(&hub, origin, push);
                Ok(())
            }
            None => Err(()),
        });
    let mut conn = client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(down)?;
    conn.subscribe(channel).await.map_err(down)?;
    *slot.write().unwrap_or_else(|p| p.into_inner()) = Some(conn.clone());
    tracing::debug!("the live-postings link to Redis is up");
    if was_up && let Some(hub) = hub.upgrade() {
        hub.gap();
    }
    let up = |e| (e, true);
    loop {
        tokio::time::sleep(HEARTBEAT).await;
        if hub.strong_count() == 0 {
            return Err(up(redis::RedisError::from((
                ErrorKind::Io,
                "the process stopped listening",
            ))));
        }
        if locator.follows_sentinels() {
            let role: Role = redis::cmd("ROLE")
                .query_async(&mut conn)
                .await
                .map_err(up)?;
            if !matches!(role, Role::Primary { .. }) {
                return Err(up(redis::RedisError::from((
                    ErrorKind::Server(ServerErrorKind::ReadOnly),
                    "the node is no longer the master",
                ))));
            }
        } else {
            let _: String = redis::cmd("PING")
                .query_async(&mut conn)
                .await
                .map_err(up)?;
        }
    }
}

fn on_push(hub: &Hub, origin: u64, push: PushInfo) {
    if push.kind != PushKind::Message {
        return;
    }
    // `message`: the channel, then the payload.
    let Some(Value::BulkString(payload)) = push.data.last() else {
        return;
    };
    match PostingEvent::decode(payload) {
        // Our own: delivered here when it was committed.
        Some(event) if event.origin == origin => {}
        Some(event) => hub.deliver(Arc::new(event)),
        None => tracing::warn!(
            bytes = payload.len(),
            "an unreadable message on the live-postings channel"
        ),
    }
}

fn timed_out() -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "no Redis master was found in time",
    ))
}
