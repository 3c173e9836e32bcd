//! Customers: sign-up with an argon2id hash, password checks, look-ups.

use chrono::{DateTime, Utc};
use entities::users;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::error::conflict_when_unique;
use super::{AccountType, Email, Error, Input, Ledger, Password, UserId, Username};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub created_at: DateTime<Utc>,
}

impl From<users::Model> for User {
    fn from(m: users::Model) -> User {
        User {
            id: UserId(m.id),
            username: m.username,
            email: m.email,
            created_at: m.created_at,
        }
    }
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
        let hash = self.passwords.hash(password).await?;
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
        .map_err(conflict_when_unique(Input::Username, "username is taken"))?;
        self.open_account_in(&txn, UserId(user.id), AccountType::Checking)
            .await?;
        txn.commit().await?;
        Ok(user.into())
    }

    /// The user whose password this is, or `InvalidCredentials` for an unknown user and a
    /// wrong password alike (same message, same argon2 work).
    #[tracing::instrument(skip(self, password))]
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<User, Error> {
        let found = match Username::parse(username) {
            Ok(name) => self.row_by_name(&name).await?,
            Err(_) => None,
        };
        let matches = self
            .passwords
            .matches(password, found.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        match found {
            Some(user) if matches => Ok(user.into()),
            _ => Err(Error::InvalidCredentials),
        }
    }

    pub async fn user(&self, user_id: UserId) -> Result<User, Error> {
        self.read(|db| users::Entity::find_by_id(user_id.0).one(db))
            .await?
            .map(User::from)
            .ok_or(Error::NotFound {
                what: "user",
                input: None,
            })
    }

    pub async fn user_by_name(&self, username: &Username) -> Result<Option<User>, Error> {
        Ok(self.row_by_name(username).await?.map(User::from))
    }

    /// The customer's row, password hash included, by name.
    async fn row_by_name(&self, username: &Username) -> Result<Option<users::Model>, Error> {
        Ok(self
            .read(|db| {
                users::Entity::find()
                    .filter(users::Column::Username.eq(username.as_str()))
                    .one(db)
            })
            .await?)
    }
}
