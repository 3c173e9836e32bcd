//! Where the Redis master is now: one fixed address (`REDIS_URL`), or whichever node the
//! sentinels (`REDIS_SENTINELS`) name as the master of `REDIS_SENTINEL_MASTER`.
//!
//! Every new connection asks here first, the pooled ones (`redis.rs`) and the near
//! cache's invalidation tracker (`near.rs`), so after a failover each new connection goes
//! to the new master by itself. With sentinels the answer is the master a sentinel names
//! *and* that says so itself (`ROLE`, checked by `redis::sentinel`): a sentinel that has
//! not noticed the failover yet names the old master, which is dead or now a replica, and
//! is passed over. While no master is known the look-up fails, the connection is not
//! made, and the cache's callers fail closed exactly as when Redis is down.

use std::sync::Arc;
use std::time::Duration;

use redis::sentinel::{Sentinel, SentinelNodeConnectionInfo};
use redis::{Client, ConnectionAddr, IntoConnectionInfo, RedisError, RedisResult, TlsMode};
use tokio::sync::Mutex;

/// A look-up gives up after this long: a dead or unreachable sentinel (a packet sent into
/// the void waits far longer than a refused connection) must cost a request a bounded
/// wait, then UNAVAILABLE, never a hang.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_millis(500);

/// How the api finds the Redis master. Cheap to clone: the sentinel client is shared.
#[derive(Clone)]
pub enum Locator {
    /// `REDIS_URL` is the master.
    Direct(Client),
    /// The sentinels say which node is the master.
    Sentinel(Arc<Sentinels>),
}

pub struct Sentinels {
    /// `redis://host:port` of each sentinel, in the order they are asked.
    addresses: Vec<String>,
    master_name: String,
    /// How to talk to the data nodes: user, password, database and TLS from `REDIS_URL`.
    node: SentinelNodeConnectionInfo,
    /// The sentinel client (it keeps one connection to each sentinel it has reached) and
    /// how far its list is rotated.
    state: Mutex<SentinelState>,
}

struct SentinelState {
    client: Sentinel,
    rotation: usize,
}

impl Locator {
    /// `url` alone: it is the master. With `sentinels` (`host:port` each): they name the
    /// master called `master_name`, and `url` gives only the user, password and database
    /// (and TLS) to use with the data nodes; its host is not used.
    pub fn new(url: &str, sentinels: &[String], master_name: &str) -> RedisResult<Locator> {
        if sentinels.is_empty() {
            return Ok(Locator::Direct(Client::open(url)?));
        }
        let info = url.into_connection_info()?;
        let mut node = SentinelNodeConnectionInfo::default()
            .set_redis_connection_info(info.redis_settings().clone());
        if let ConnectionAddr::TcpTls { insecure, .. } = info.addr() {
            node = node.set_tls_mode(if *insecure {
                TlsMode::Insecure
            } else {
                TlsMode::Secure
            });
        }
        let addresses: Vec<String> = sentinels
            .iter()
            .map(|address| format!("redis://{address}"))
            .collect();
        let client = Sentinel::build(addresses.clone())?;
        Ok(Locator::Sentinel(Arc::new(Sentinels {
            addresses,
            master_name: master_name.to_owned(),
            node,
            state: Mutex::new(SentinelState {
                client,
                rotation: 0,
            }),
        })))
    }

    /// A client for the master as it is now. With sentinels: a round of questions, within
    /// [`LOOKUP_TIMEOUT`]; an error while no sentinel names a master that confirms it is one.
    pub async fn client(&self) -> RedisResult<Client> {
        match self {
            Locator::Direct(client) => Ok(client.clone()),
            Locator::Sentinel(sentinels) => sentinels.master().await,
        }
    }

    /// Whether the master can change under a connection (a failover), so that a
    /// long-lived connection must check from time to time that it still talks to it.
    pub fn follows_sentinels(&self) -> bool {
        matches!(self, Locator::Sentinel(_))
    }
}

impl Sentinels {
    async fn master(&self) -> RedisResult<Client> {
        let deadline = tokio::time::Instant::now() + LOOKUP_TIMEOUT;
        // Waiting for another look-up counts against the same bound.
        let Ok(mut state) = tokio::time::timeout_at(deadline, self.state.lock()).await else {
            return Err(timed_out());
        };
        let lookup = state
            .client
            .async_master_for(&self.master_name, Some(&self.node));
        match tokio::time::timeout_at(deadline, lookup).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => {
                self.rotate(&mut state)?;
                Err(e)
            }
            Err(_) => {
                self.rotate(&mut state)?;
                Err(timed_out())
            }
        }
    }

    /// After a failed look-up the next one starts from the next sentinel. The client reads
    /// the sentinels' answers in list order, so a sentinel that never answers at the head
    /// of the list would otherwise hold every look-up until it times out.
    fn rotate(&self, state: &mut SentinelState) -> RedisResult<()> {
        if self.addresses.len() < 2 {
            return Ok(());
        }
        state.rotation = (state.rotation + 1) % self.addresses.len();
        let mut addresses = self.addresses.clone();
        addresses.rotate_left(state.rotation);
        state.client = Sentinel::build(addresses)?;
        Ok(())
    }
}

fn timed_out() -> RedisError {
    RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "no sentinel named a reachable Redis master in time",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_sentinels_the_url_is_the_master() {
        let locator = Locator::new("redis://cache:6379/2", &[], "banking").expect("direct");
        assert!(!locator.follows_sentinels());
    }

    #[tokio::test]
    async fn a_sentinel_that_never_answers_costs_a_bounded_wait_and_an_error() {
        // One that accepts connections and never answers (a hung process, a black-holed
        // address), and one nothing listens on (bound, then released).
        let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        let refused = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port");
        let sentinels = [
            silent.local_addr().expect("address").to_string(),
            refused.to_string(),
        ];
        let locator = Locator::new("redis://:secret@ignored:6379/3", &sentinels, "banking")
            .expect("sentinel");
        assert!(locator.follows_sentinels());
        for _ in 0..3 {
            let started = std::time::Instant::now();
            assert!(locator.client().await.is_err());
            assert!(
                started.elapsed() < LOOKUP_TIMEOUT + Duration::from_millis(250),
                "{:?}",
                started.elapsed()
            );
        }
    }
}
