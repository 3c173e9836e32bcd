//! Authentication and authorization: sign-in with throttling, Biscuit tokens bound to
//! live sessions, and the per-request capability resolvers and handlers ask for.

mod request;
mod sessions;
mod throttle;
mod token;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

pub use request::{Reader, RequestAuth, Writer};
pub use sessions::Sessions;
pub use throttle::LoginThrottle;
pub use token::{Claims, Operation, TokenKeys};

use crate::cache::Cache;
use crate::config::Config;
use crate::error::Error;
use crate::ledger::{self, Ledger, User};
use crate::metrics::Metrics;

/// A signed-in session as handed to a client.
#[derive(Clone, Debug)]
pub struct SessionToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// A verified request: who it is, which session, and whether it may write.
#[derive(Clone, Debug)]
pub struct Authorized {
    pub user_id: i64,
    pub session_id: String,
}

#[derive(Clone)]
pub struct Auth {
    keys: Arc<TokenKeys>,
    sessions: Sessions,
    throttle: LoginThrottle,
    token_ttl: Duration,
    metrics: Arc<Metrics>,
}

impl Auth {
    pub fn new(
        keys: TokenKeys,
        cache: Arc<dyn Cache>,
        config: &Config,
        metrics: Arc<Metrics>,
    ) -> Auth {
        Auth {
            keys: Arc::new(keys),
            sessions: Sessions::new(cache.clone(), config.session_ttl),
            throttle: LoginThrottle::new(cache, config.login_max_failures, config.login_lockout),
            token_ttl: config.token_ttl,
            metrics,
        }
    }

    /// Verifies a password and starts a session. Five failures in a row lock the username
    /// for a while: every attempt then answers RATE_LIMITED, the right password too.
    #[tracing::instrument(skip(self, ledger, password))]
    pub async fn login(
        &self,
        ledger: &Ledger,
        username: &str,
        password: &str,
    ) -> Result<SessionToken, Error> {
        let result = self.try_login(ledger, username, password).await;
        self.metrics.login(match &result {
            Ok(_) => "ok",
            Err(Error::RateLimited) => "throttled",
            Err(Error::Ledger(ledger::Error::InvalidCredentials)) => "failed",
            Err(_) => "unavailable",
        });
        result
    }

    async fn try_login(
        &self,
        ledger: &Ledger,
        username: &str,
        password: &str,
    ) -> Result<SessionToken, Error> {
        self.throttle.check(username).await?;
        match ledger.authenticate(username, password).await {
            Ok(user) => {
                self.throttle.clear(username).await?;
                self.start_session(user).await
            }
            Err(ledger::Error::InvalidCredentials) => {
                self.throttle.record_failure(username).await?;
                Err(ledger::Error::InvalidCredentials.into())
            }
            Err(other) => Err(other.into()),
        }
    }

    pub async fn start_session(&self, user: User) -> Result<SessionToken, Error> {
        let session_id = self.sessions.create(user.id).await?;
        let expires_at = SystemTime::now() + self.token_ttl;
        let token = self.keys.mint(user.id, &session_id, expires_at)?;
        Ok(SessionToken {
            token,
            expires_at: DateTime::<Utc>::from(expires_at),
            user,
        })
    }

    /// Checks the token for this operation and that its session is still alive.
    pub async fn authorize(&self, token: &str, operation: Operation) -> Result<Authorized, Error> {
        let claims = self.keys.verify(token, operation)?;
        self.sessions
            .touch(&claims.session_id, claims.user_id, operation)
            .await?;
        Ok(Authorized {
            user_id: claims.user_id,
            session_id: claims.session_id,
        })
    }

    pub async fn logout(&self, session_id: &str) -> Result<(), Error> {
        self.sessions.revoke(session_id).await
    }

    /// A read-only copy of `token` that expires after `ttl` (and with the session).
    pub fn read_only_token(&self, token: &str, ttl: Duration) -> Result<String, Error> {
        self.keys.read_only(token, SystemTime::now() + ttl)
    }
}
