//! Long-lived connections (GraphQL subscriptions) watch the session their token names, so
//! that signing out anywhere, the session's idle expiry or the token's own expiry ends
//! them within a second, whether or not postings are flowing.
//!
//! One task per process checks every watched connection twice a second: each token
//! locally (signature and expiry; a session token's verdict is remembered until it
//! expires), and every session in one round trip to the cache, without restarting any
//! idle timer. When the cache cannot be reached, a session seen alive within the read
//! grace period keeps its connections (as reads do, `sessions.rs`); after that they end.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::sessions::READ_GRACE;
use super::{Auth, Claims, Operation};
use crate::ledger::UserId;

/// How often every watched session is checked: the bound on how long a connection
/// outlives its session.
pub const CHECK_EVERY: Duration = Duration::from_millis(500);

pub const SESSION_ENDED: &str = "the session has ended; sign in again";
pub const TOKEN_EXPIRED: &str = "the token has expired";
pub const UNCHECKED: &str = "the session could not be checked for too long";

#[derive(Clone)]
pub struct SessionWatch {
    inner: Arc<Inner>,
}

struct Inner {
    auth: Auth,
    entries: Mutex<HashMap<u64, Entry>>,
    next_id: AtomicU64,
}

struct Entry {
    token: String,
    session_id: String,
    user_id: UserId,
    confirmed: Instant,
    end: oneshot::Sender<&'static str>,
}

/// One connection's watch; dropping it stops watching.
pub struct Watching {
    id: u64,
    inner: Weak<Inner>,
    ended: oneshot::Receiver<&'static str>,
}

impl Watching {
    /// Resolves when the session or the token ends, with why.
    pub async fn ended(&mut self) -> &'static str {
        (&mut self.ended).await.unwrap_or(SESSION_ENDED)
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            inner.entries().remove(&self.id);
        }
    }
}

impl SessionWatch {
    /// Starts the checking task, which lives as long as the watch. Must be called within
    /// the Tokio runtime.
    pub fn start(auth: Auth) -> SessionWatch {
        let inner = Arc::new(Inner {
            auth,
            entries: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        });
        tokio::spawn(check_forever(Arc::downgrade(&inner)));
        SessionWatch { inner }
    }

    /// Watches the session of `token`, whose `claims` were just verified.
    pub fn watch(&self, token: &str, claims: &Claims) -> Watching {
        let (end, ended) = oneshot::channel();
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        self.inner.entries().insert(
            id,
            Entry {
                token: token.to_owned(),
                session_id: claims.session_id.clone(),
                user_id: claims.user_id,
                confirmed: Instant::now(),
                end,
            },
        );
        Watching {
            id,
            inner: Arc::downgrade(&self.inner),
            ended,
        }
    }

    /// Connections watched now.
    pub fn watched(&self) -> usize {
        self.inner.entries().len()
    }
}

async fn check_forever(inner: Weak<Inner>) {
    let mut every = tokio::time::interval(CHECK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        inner.check().await;
    }
}

impl Inner {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn check(&self) {
        let mut ended: Vec<(u64, &'static str)> = Vec::new();
        let mut sessions: HashSet<(String, UserId)> = HashSet::new();
        {
            let entries = self.entries();
            if entries.is_empty() {
                return;
            }
            for (id, entry) in entries.iter() {
                if self
                    .auth
                    .tokens
                    .keys()
                    .verify(&entry.token, Operation::Read)
                    .is_err()
                {
                    ended.push((*id, TOKEN_EXPIRED));
                } else {
                    sessions.insert((entry.session_id.clone(), entry.user_id));
                }
            }
        }
        let sessions: Vec<(String, UserId)> = sessions.into_iter().collect();
        let verdict = self.auth.sessions.alive_many(&sessions).await;
        let now = Instant::now();
        let mut entries = self.entries();
        match verdict {
            Ok(alive) => {
                let dead: HashSet<&(String, UserId)> = sessions
                    .iter()
                    .zip(alive)
                    .filter_map(|(session, alive)| (!alive).then_some(session))
                    .collect();
                for (id, entry) in entries.iter_mut() {
                    if dead.contains(&(entry.session_id.clone(), entry.user_id)) {
                        ended.push((*id, SESSION_ENDED));
                    } else {
                        entry.confirmed = now;
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = ?e.code(), "live connections' sessions could not be checked");
                for (id, entry) in entries.iter() {
                    if now.duration_since(entry.confirmed) > READ_GRACE {
                        ended.push((*id, UNCHECKED));
                    }
                }
            }
        }
        for (id, why) in ended {
            if let Some(entry) = entries.remove(&id) {
                let _ = entry.end.send(why);
            }
        }
    }
}
