//! Sign-in throttling that slows guessing without letting a stranger lock a customer out.
//!
//! Failed sign-ins are counted in the shared cache (so the counts hold across replicas)
//! in three scopes: one username from one client address, one address for all usernames,
//! and one username from everywhere. Past a scope's free failures, each further attempt
//! in that scope must wait 2^(failures − free) seconds, capped: a growing delay, never a
//! lock. The username-wide scope has a far higher threshold, so a hundred guesses from
//! one place slow that place down and leave the customer, signing in from elsewhere,
//! alone. Unknown usernames are counted exactly like known ones, so a delay tells
//! nothing about who has an account.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use banking_common::client_address::ClientAddress;

use crate::cache::{Cache, keys};
use crate::error::Error;

/// How many failures each scope forgives, how long the delay may grow, and how long
/// failures are remembered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Failures of one username from one address before delays start.
    pub pair_free: i64,
    /// Failures from one address, whatever the usernames (password spraying).
    pub address_free: i64,
    /// Failures of one username from all addresses (guessing spread over many).
    pub username_free: i64,
    /// The longest any attempt has to wait.
    pub max_delay: Duration,
    /// How long the per-address counts live from their first failure.
    pub window: Duration,
    /// How long the username-wide count lives from its first failure.
    pub username_window: Duration,
}

impl Default for ThrottleSettings {
    fn default() -> ThrottleSettings {
        ThrottleSettings {
            pair_free: 5,
            address_free: 20,
            username_free: 100,
            max_delay: Duration::from_secs(60),
            window: Duration::from_secs(15 * 60),
            username_window: Duration::from_secs(3600),
        }
    }
}

/// A counting scope; its cache keys are defined here and nowhere else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Pair,
    Address,
    Username,
}

impl Scope {
    const ALL: [Scope; 3] = [Scope::Pair, Scope::Address, Scope::Username];

    fn name(self) -> &'static str {
        match self {
            Scope::Pair => "pair",
            Scope::Address => "address",
            Scope::Username => "username",
        }
    }

    /// What is counted: the address comes first and cannot contain `/`, so a username
    /// with `/` or `:` in it cannot pass for another pair.
    fn subject(self, attempt: &Attempt) -> String {
        match self {
            Scope::Pair => format!("{}/{}", attempt.address, attempt.username),
            Scope::Address => attempt.address.clone(),
            Scope::Username => attempt.username.clone(),
        }
    }

    /// The failure count.
    fn failures_key(self, attempt: &Attempt) -> String {
        keys::login_failures(self.name(), &self.subject(attempt))
    }

    /// Present while the scope must wait; its value is when the wait ends (Unix ms).
    fn wait_key(self, attempt: &Attempt) -> String {
        keys::login_wait(self.name(), &self.subject(attempt))
    }
}

/// One sign-in attempt, normalised for counting.
pub struct Attempt {
    username: String,
    address: String,
}

impl Attempt {
    pub fn new(username: &str, client: ClientAddress) -> Attempt {
        // Case and spaces do not make another account to guess at; the length is bounded
        // so a key cannot be made arbitrarily long.
        let username = username.trim().to_lowercase().chars().take(64).collect();
        Attempt {
            username,
            address: client.bucket(),
        }
    }
}

#[derive(Clone)]
pub struct LoginThrottle {
    cache: Arc<dyn Cache>,
    settings: ThrottleSettings,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The wait after `failures` failures in a scope that forgives `free`.
fn delay(failures: i64, free: i64, max: Duration) -> Option<Duration> {
    let over = failures.checked_sub(free)?;
    if over < 0 {
        return None;
    }
    // 2^over seconds; past 2^20 it is far beyond any sane cap anyway.
    let secs = 1u64 << over.min(20);
    Some(Duration::from_secs(secs).min(max))
}

/// Whole seconds until `until_ms`, at least one.
fn retry_after(until_ms: u64) -> Duration {
    let left = until_ms.saturating_sub(now_ms());
    Duration::from_secs(left.div_ceil(1000).max(1))
}

impl LoginThrottle {
    pub fn new(cache: Arc<dyn Cache>, settings: ThrottleSettings) -> LoginThrottle {
        LoginThrottle { cache, settings }
    }

    fn free(&self, scope: Scope) -> i64 {
        match scope {
            Scope::Pair => self.settings.pair_free,
            Scope::Address => self.settings.address_free,
            Scope::Username => self.settings.username_free,
        }
    }

    fn window(&self, scope: Scope) -> Duration {
        match scope {
            Scope::Username => self.settings.username_window,
            Scope::Pair | Scope::Address => self.settings.window,
        }
    }

    /// Lets an attempt go ahead, or answers RATE_LIMITED with how long to wait.
    ///
    /// Called again once the password has been judged: guesses sent all at once pass the
    /// first check together, before any of their failures is counted, so whatever
    /// started waiting meanwhile withholds their answers (right or wrong alike), and a
    /// burst learns no more than guesses sent one by one.
    pub async fn check(&self, attempt: &Attempt) -> Result<(), Error> {
        let mut wait: Option<Duration> = None;
        for scope in Scope::ALL {
            if let Some(until) = self.cache.get(&scope.wait_key(attempt)).await?
                && let Ok(until) = until.parse::<u64>()
                && until > now_ms()
            {
                wait = wait.max(Some(retry_after(until)));
            }
        }
        match wait {
            Some(retry_after) => Err(Error::RateLimited { retry_after }),
            None => Ok(()),
        }
    }

    /// A wrong password (or an unknown username): every scope counts it, and a scope past
    /// its free failures starts to wait.
    pub async fn failed(&self, attempt: &Attempt) -> Result<(), Error> {
        for scope in Scope::ALL {
            let failures = self
                .cache
                .incr(&scope.failures_key(attempt), self.window(scope))
                .await?;
            if let Some(wait) = delay(failures, self.free(scope), self.settings.max_delay) {
                let until = now_ms() + wait.as_millis() as u64;
                self.cache
                    .set(&scope.wait_key(attempt), &until.to_string(), wait)
                    .await?;
            }
        }
        Ok(())
    }

    /// The right password: this address's failures for this username are forgotten.
    pub async fn succeeded(&self, attempt: &Attempt) -> Result<(), Error> {
        self.cache
            .delete(&Scope::Pair.failures_key(attempt))
            .await?;
        Ok(self.cache.delete(&Scope::Pair.wait_key(attempt)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_from_the_free_failures_up_to_the_cap() {
        let max = Duration::from_secs(60);
        assert_eq!(delay(4, 5, max), None);
        assert_eq!(delay(5, 5, max), Some(Duration::from_secs(1)));
        assert_eq!(delay(6, 5, max), Some(Duration::from_secs(2)));
        assert_eq!(delay(10, 5, max), Some(Duration::from_secs(32)));
        assert_eq!(delay(11, 5, max), Some(max));
        assert_eq!(delay(i64::MAX, 5, max), Some(max));
        assert_eq!(delay(i64::MIN, 5, max), None);
    }

    #[test]
    fn keys_keep_usernames_and_addresses_apart() {
        let address = ClientAddress("192.0.2.1".parse().expect("ip"));
        let a = Attempt::new("  Alice ", address);
        let b = Attempt::new("alice", address);
        assert_eq!(Scope::Pair.failures_key(&a), Scope::Pair.failures_key(&b));
        assert_eq!(
            Scope::Pair.failures_key(&a),
            "login_failures:pair:192.0.2.1/alice"
        );
        assert_eq!(Scope::Username.wait_key(&a), "login_wait:username:alice");
        let long = Attempt::new(&"x".repeat(10_000), address);
        assert!(Scope::Pair.failures_key(&long).len() < 120);
    }
}
