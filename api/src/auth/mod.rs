//! Authentication and authorization: sign-in with throttling, Biscuit tokens bound to
//! live sessions, and the per-request capability resolvers and handlers ask for.

mod registry;
mod request;
mod sessions;
pub mod throttle;
mod token;
mod watch;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

pub use banking_common::client_address::{ClientAddress, KnowsProxies, TrustedProxies};
pub use request::{Reader, RequestAuth, Writer, bearer_token};
pub use sessions::Sessions;
pub use throttle::{LoginThrottle, ThrottleSettings};
pub use token::{Claims, Operation, Seal, TokenKeys};
pub use watch::{CHECK_EVERY, SessionWatch, Watching};

use registry::CheckedBy;

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

#[derive(Clone)]
pub struct Auth {
    tokens: registry::Registry,
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
            tokens: registry::Registry::new(keys, cache.clone()),
            sessions: Sessions::new(
                cache.clone(),
                config.session_ttl,
                config.cache_sizes.session_entries,
            ),
            throttle: LoginThrottle::new(cache, config.login_throttle.clone()),
            token_ttl: config.token_ttl,
            metrics,
        }
    }

    /// Verifies a password and starts a session. Repeated failures slow down the
    /// address they come from (and, far later, the username everywhere): an attempt
    /// before its wait is over answers RATE_LIMITED, the right password too.
    #[tracing::instrument(skip(self, ledger, password))]
    pub async fn login(
        &self,
        ledger: &Ledger,
        username: &str,
        password: &str,
        client: ClientAddress,
    ) -> Result<SessionToken, Error> {
        let result = self.try_login(ledger, username, password, client).await;
        self.metrics.login(match &result {
            Ok(_) => "ok",
            Err(Error::RateLimited { .. }) => "throttled",
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
        client: ClientAddress,
    ) -> Result<SessionToken, Error> {
        let attempt = throttle::Attempt::new(username, client);
        self.throttle.check(&attempt).await?;
        let verdict = ledger.authenticate(username, password).await;
        // Judged again: a delay that began while this password was being checked (other
        // guesses sent at the same moment) withholds the answer.
        let still_allowed = self.throttle.check(&attempt).await;
        match verdict {
            Ok(user) => {
                still_allowed?;
                self.throttle.succeeded(&attempt).await?;
                self.start_session(user).await
            }
            Err(ledger::Error::InvalidCredentials) => {
                self.throttle.failed(&attempt).await?;
                still_allowed?;
                Err(ledger::Error::InvalidCredentials.into())
            }
            Err(other) => Err(other.into()),
        }
    }

    pub async fn start_session(&self, user: User) -> Result<SessionToken, Error> {
        let session_id = self.sessions.create(user.id).await?;
        let expires_at = SystemTime::now() + self.token_ttl;
        let token = self.tokens.mint(user.id, &session_id, expires_at).await?;
        Ok(SessionToken {
            token,
            expires_at: DateTime::<Utc>::from(expires_at),
            user,
        })
    }

    /// Checks the token for this operation and that its session is still alive. Only the
    /// owner's own token restarts the session's idle timer: a read-only copy polling
    /// (an accountant's dashboard) must not keep an idle owner signed in.
    /// The claims it carries say who, which session, and whether the token is an
    /// attenuated copy (a read-only one); what it may do was decided by its checks for
    /// `operation`.
    pub async fn authorize(&self, token: &str, operation: Operation) -> Result<Claims, Error> {
        let keys = self.tokens.keys();
        if let Some(claims) = keys.remembered(token) {
            return self.alive(claims, CheckedBy::Remembered, operation).await;
        }
        // A token this replica has not seen: its seal and its session in one round trip.
        // A seal missing, not ours or unreadable, or a cache that does not answer, means
        // the full check (and the session asked for on its own).
        if let Some(seal_key) = keys.sealed_at(token)
            && let Ok(found) = self.sessions.with_seal(&seal_key).await
            && let Some(claims) = found.value.as_deref().and_then(|v| keys.unseal(token, v))
        {
            if found.named.as_deref() != Some(claims.session_id.as_str()) {
                // Cannot happen with a seal we wrote; never judge one session by another.
                return self.alive(claims, CheckedBy::Seal, operation).await;
            }
            self.metrics.token_check(CheckedBy::Seal.as_str());
            self.sessions
                .judge(
                    &claims.session_id,
                    claims.user_id,
                    operation,
                    Ok(found.named_value),
                )
                .await?;
            return Ok(claims);
        }
        let claims = keys.verify(token, operation)?;
        self.alive(claims, CheckedBy::FullCheck, operation).await
    }

    /// Counts how the token was found valid, then requires its session to be alive.
    async fn alive(
        &self,
        claims: Claims,
        checked_by: CheckedBy,
        operation: Operation,
    ) -> Result<Claims, Error> {
        self.metrics.token_check(checked_by.as_str());
        self.sessions
            .check(
                &claims.session_id,
                claims.user_id,
                operation,
                !claims.attenuated,
            )
            .await?;
        Ok(claims)
    }

    /// Ends the session; the token that asked (the owner's own) loses its seal too, which
    /// would otherwise stay in the cache, useless, until the token expires.
    pub async fn logout(&self, session_id: &str, token: Option<&str>) -> Result<(), Error> {
        self.sessions.revoke(session_id).await?;
        if let Some(token) = token
            && let Err(e) = self.tokens.forget(token).await
        {
            // Signed out all the same: with its session gone the token is refused whatever
            // its seal says, and the seal expires with the token.
            tracing::warn!(error = %e, "could not delete a signed-out token's seal");
        }
        Ok(())
    }

    /// A read-only copy of `token` that expires after `ttl` (and with the session).
    pub fn read_only_token(&self, token: &str, ttl: Duration) -> Result<String, Error> {
        self.tokens.keys().read_only(token, SystemTime::now() + ttl)
    }
}
