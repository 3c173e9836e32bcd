//! Customers: sign-up with an argon2id hash, password checks, look-ups.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use chrono::{DateTime, Utc};
use entities::users;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::error::is_unique_violation;
use super::{AccountType, Email, Error, Ledger, Password, Username};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
}

impl From<users::Model> for User {
    fn from(m: users::Model) -> User {
        User {
            id: m.id,
            username: m.username,
            email: m.email,
            created_at: m.created_at,
        }
    }
}

/// argon2id at its default cost needs 19 MiB and tens of milliseconds per hash. At most
/// this many run at once, so a flood of sign-ins queues instead of taking the memory of
/// hundreds of blocking threads (and the CPU of every other request).
const MAX_CONCURRENT_HASHES: usize = 4;

fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_CONCURRENT_HASHES);
    &SLOTS
}

/// Hashes with argon2id at the library's recommended cost, off the async runtime.
pub async fn hash_password(password: &Password<'_>) -> Result<String, Error> {
    let password = password.expose().to_owned();
    // The permit moves into the blocking task: it is held until the hash is done, even
    // when the request that asked for it is gone.
    let slot = hashing_slots().acquire().await.map_err(Error::internal)?;
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| Error::internal(anyhow::anyhow!("argon2: {e}")))
    })
    .await
    .map_err(Error::internal)?
}

async fn password_matches(password: &str, hash: &str) -> Result<bool, Error> {
    let password = password.to_owned();
    let hash = hash.to_owned();
    // The permit moves into the blocking task: it is held until the hash is done, even
    // when the request that asked for it is gone.
    let slot = hashing_slots().acquire().await.map_err(Error::internal)?;
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| Error::internal(anyhow::anyhow!("stored hash: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(Error::internal)?
}

/// A real hash of a password nobody has, so that an unknown username costs the same
/// argon2 work as a wrong password and the two cannot be told apart by timing.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(uuid::Uuid::new_v4().as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

impl Ledger {
    /// Creates a customer with a checking account, in one transaction.
    #[tracing::instrument(skip(self, password, email), fields(username = %username.as_str()))]
    pub async fn sign_up(
        &self,
        username: &Username,
        password: &Password<'_>,
        email: &Email,
    ) -> Result<User, Error> {
        let hash = hash_password(password).await?;
        let _gate = self.writes.enter().await;
        let txn = self.begin_write().await?;
        let user = users::ActiveModel {
            username: Set(username.as_str().to_owned()),
            password_hash: Set(hash),
            email: Set(email.as_str().to_owned()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                Error::Conflict("username is taken".into())
            } else {
                e.into()
            }
        })?;
        self.open_account_in(&txn, user.id, AccountType::Checking)
            .await?;
        txn.commit().await?;
        Ok(user.into())
    }

    /// The user whose password this is, or `InvalidCredentials` for an unknown user and a
    /// wrong password alike (same message, same argon2 work).
    #[tracing::instrument(skip(self, password))]
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<User, Error> {
        let found = match Username::parse(username) {
            Ok(name) => {
                users::Entity::find()
                    .filter(users::Column::Username.eq(name.as_str()))
                    .one(&self.db)
                    .await?
            }
            Err(_) => None,
        };
        let hash = found
            .as_ref()
            .map_or_else(|| decoy_hash().to_owned(), |u| u.password_hash.clone());
        let matches = password_matches(password, &hash).await?;
        match found {
            Some(user) if matches => Ok(user.into()),
            _ => Err(Error::InvalidCredentials),
        }
    }

    pub async fn user(&self, user_id: i64) -> Result<User, Error> {
        users::Entity::find_by_id(user_id)
            .one(&self.db)
            .await?
            .map(User::from)
            .ok_or(Error::NotFound("user"))
    }

    pub async fn user_by_name(&self, username: &Username) -> Result<Option<User>, Error> {
        Ok(users::Entity::find()
            .filter(users::Column::Username.eq(username.as_str()))
            .one(&self.db)
            .await?
            .map(User::from))
    }
}
