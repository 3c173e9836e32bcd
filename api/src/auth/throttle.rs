//! Failed sign-ins counted per username in the shared cache, so the lock holds across
//! replicas. Unknown usernames are counted too, so the lock tells nothing about existence.

use std::sync::Arc;
use std::time::Duration;

use crate::cache::Cache;
use crate::error::Error;

#[derive(Clone)]
pub struct LoginThrottle {
    cache: Arc<dyn Cache>,
    max_failures: i64,
    lockout: Duration,
}

fn key(username: &str) -> String {
    let normalised: String = username.trim().to_lowercase().chars().take(64).collect();
    format!("login_failures:{normalised}")
}

impl LoginThrottle {
    pub fn new(cache: Arc<dyn Cache>, max_failures: i64, lockout: Duration) -> LoginThrottle {
        LoginThrottle {
            cache,
            max_failures,
            lockout,
        }
    }

    /// Refuses with RATE_LIMITED once the username has too many failures in a row.
    pub async fn check(&self, username: &str) -> Result<(), Error> {
        let failures = self
            .cache
            .get(&key(username))
            .await?
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(0);
        if failures >= self.max_failures {
            return Err(Error::RateLimited);
        }
        Ok(())
    }

    pub async fn record_failure(&self, username: &str) -> Result<i64, Error> {
        Ok(self.cache.incr(&key(username), self.lockout).await?)
    }

    pub async fn clear(&self, username: &str) -> Result<(), Error> {
        Ok(self.cache.delete(&key(username)).await?)
    }
}
