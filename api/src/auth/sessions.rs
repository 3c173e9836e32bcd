//! Sessions live in the cache as `session:{id}` → user id, with a sliding idle timeout.
//! Logging out deletes the key, and every token naming that session stops working at once.
//!
//! When the cache cannot be reached, sessions fail closed for anything that changes
//! money or starts a session. Reads alone may go on for a short grace period, and only
//! for sessions this replica saw alive just before: a bank whose Redis blinks should
//! still show customers their balances, but never let an unverified session move money.

use std::sync::Arc;
use std::time::Duration;

use rand::RngCore;

use super::Operation;
use super::token::SEAL_SESSION_WORD;
use crate::cache::{Cache, CacheError, Followed, Freshness, KeyHasher, keys};
use crate::error::Error;
use crate::ledger::UserId;

/// How long a session seen alive may keep reading while the cache is unreachable.
pub(super) const READ_GRACE: Duration = Duration::from_secs(120);

#[derive(Clone)]
pub struct Sessions {
    cache: Arc<dyn Cache>,
    idle_ttl: Duration,
    /// Sessions this replica saw alive within `READ_GRACE`: session id → user id.
    recently_alive: moka::future::Cache<String, UserId, KeyHasher>,
}

fn key(session_id: &str) -> String {
    keys::session(session_id)
}

impl Sessions {
    /// `remembered`: how many sessions seen alive are kept for the read grace (the
    /// busiest ones; a session not among them simply gets no grace).
    pub fn new(cache: Arc<dyn Cache>, idle_ttl: Duration, remembered: u64) -> Sessions {
        Sessions {
            cache,
            idle_ttl,
            recently_alive: moka::future::Cache::builder()
                .max_capacity(remembered)
                .time_to_live(READ_GRACE.min(idle_ttl))
                .build_with_hasher(KeyHasher::default()),
        }
    }

    /// Starts a session; the id is 128 random bits.
    pub async fn create(&self, user_id: UserId) -> Result<String, Error> {
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let session_id = hex::encode(bytes);
        self.cache
            .set(&key(&session_id), &user_id.to_string(), self.idle_ttl)
            .await?;
        Ok(session_id)
    }

    /// Requires the session to exist and belong to the user; `extend` also restarts its
    /// idle timer (the owner's own token does, a read-only copy does not).
    pub async fn check(
        &self,
        session_id: &str,
        user_id: UserId,
        operation: Operation,
        extend: bool,
    ) -> Result<(), Error> {
        // Reads may use a replica's tracked copy of the session; a write asks Redis, so
        // a session ended anywhere cannot move money even for the instant an
        // invalidation takes to arrive.
        let freshness = match operation {
            Operation::Read => Freshness::Tracked,
            Operation::Write => Freshness::Authoritative,
        };
        let found = if extend {
            self.cache
                .get_and_touch(&key(session_id), self.idle_ttl, freshness)
                .await
        } else {
            // A plain read leaves the expiry where the owner's last request put it. It asks
            // Redis itself: with no touches of its own, a local copy could outlive the
            // session by as long as Redis takes to notice the expiry.
            self.cache.get_authoritative(&key(session_id)).await
        };
        self.judge(session_id, user_id, operation, found).await
    }

    /// A token's seal and the session it names, read together (`Cache::get_and_follow`),
    /// the session's idle timer restarted: only the owner's own tokens are sealed. Which
    /// session that is, and whether it is the token's, is for the caller to judge once the
    /// seal is unsealed.
    pub(super) async fn with_seal(&self, seal_key: &str) -> Result<Followed, CacheError> {
        self.cache
            .get_and_follow(seal_key, SEAL_SESSION_WORD, keys::sessions(), self.idle_ttl)
            .await
    }

    /// Requires the session, as the cache answered for it (`found`: its owner), to exist
    /// and belong to the user; a cache that did not answer allows only a read, and only
    /// for a session seen alive moments ago.
    pub(super) async fn judge(
        &self,
        session_id: &str,
        user_id: UserId,
        operation: Operation,
        found: Result<Option<String>, CacheError>,
    ) -> Result<(), Error> {
        match found {
            Ok(Some(owner)) if owner == user_id.to_string() => {
                // Noted once per grace period, not on every request: an insert is a
                // write with housekeeping behind it, and this runs on every read.
                if !self.recently_alive.contains_key(session_id) {
                    self.recently_alive
                        .insert(session_id.to_owned(), user_id)
                        .await;
                }
                Ok(())
            }
            Ok(_) => {
                self.recently_alive.invalidate(session_id).await;
                Err(Error::Unauthenticated(
                    "the session has ended; sign in again",
                ))
            }
            Err(e) => {
                let seen = self.recently_alive.get(session_id).await == Some(user_id);
                if operation == Operation::Read && seen {
                    tracing::warn!(error = %e, "cache unreachable; allowing a read for a session seen alive moments ago");
                    Ok(())
                } else {
                    Err(e.into())
                }
            }
        }
    }

    /// Whether each session is still alive and its user's, asked of the shared cache in
    /// one round trip and without restarting any idle timer (a live connection watching
    /// its session is not the customer being active).
    pub async fn alive_many(&self, sessions: &[(String, UserId)]) -> Result<Vec<bool>, Error> {
        let keys: Vec<String> = sessions.iter().map(|(id, _)| key(id)).collect();
        let owners = self.cache.get_many_authoritative(&keys).await?;
        Ok(sessions
            .iter()
            .zip(owners)
            .map(|((_, user), owner)| owner.is_some_and(|o| o == user.to_string()))
            .collect())
    }

    pub async fn revoke(&self, session_id: &str) -> Result<(), Error> {
        self.recently_alive.invalidate(session_id).await;
        self.cache.delete(&key(session_id)).await?;
        Ok(())
    }
}
