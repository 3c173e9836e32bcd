//! The seals of the session tokens this api minted, kept in the shared cache beside the
//! sessions (`TokenKeys::seal` says what a seal is and why it is safe). Any replica can
//! then accept a token another one minted without checking its signature.

use std::sync::Arc;
use std::time::SystemTime;

use super::TokenKeys;
use crate::cache::{Cache, CacheError};
use crate::error::Error;
use crate::ledger::UserId;

/// How a token was found valid (the `auth_token_checks_total` metric's `path`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckedBy {
    /// Verified or unsealed by this replica lately: a map lookup.
    Remembered,
    /// Its seal in the cache: one cache look-up and a MAC.
    Seal,
    /// Signature, checks and Datalog: an attenuated copy, or a token without a seal.
    FullCheck,
}

impl CheckedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckedBy::Remembered => "remembered",
            CheckedBy::Seal => "seal",
            CheckedBy::FullCheck => "full_check",
        }
    }
}

#[derive(Clone)]
pub struct Registry {
    keys: Arc<TokenKeys>,
    cache: Arc<dyn Cache>,
}

impl Registry {
    pub fn new(keys: TokenKeys, cache: Arc<dyn Cache>) -> Registry {
        Registry {
            keys: Arc::new(keys),
            cache,
        }
    }

    pub fn keys(&self) -> &TokenKeys {
        &self.keys
    }

    /// Mints a session token and seals it. A seal that cannot be stored costs only
    /// speed: the token is then checked in full, as any unsealed one.
    pub async fn mint(
        &self,
        user_id: UserId,
        session_id: &str,
        expires_at: SystemTime,
    ) -> Result<String, Error> {
        let (token, seal) = self.keys.mint_sealed(user_id, session_id, expires_at)?;
        if let Err(e) = self.cache.set(&seal.key, &seal.value, seal.ttl).await {
            tracing::warn!(error = %e, "could not store a session token's seal; it will be checked in full");
        }
        Ok(token)
    }

    /// Drops the token's seal and this replica's memory of it (at sign-out: its session
    /// is gone, so the seal is useless).
    pub async fn forget(&self, token: &str) -> Result<(), CacheError> {
        self.keys.forget(token);
        match self.keys.sealed_at(token) {
            Some(key) => self.cache.delete(&key).await,
            None => Ok(()),
        }
    }
}
