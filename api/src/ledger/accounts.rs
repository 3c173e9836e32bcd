//! Accounts: opening them with a unique number, and finding them for their owner only.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entities::accounts;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::error::is_unique_violation;
use super::{AccountId, AccountNumber, Error, Input, Ledger, Money, UserId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum AccountType {
    Checking,
    Savings,
}

impl AccountType {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Checking => "checking",
            AccountType::Savings => "savings",
        }
    }

    /// A stored type; anything else means the database was changed behind the ledger's
    /// back, and reading it fails loudly rather than guessing.
    fn from_db(value: &str) -> Result<AccountType, Error> {
        match value {
            "checking" => Ok(AccountType::Checking),
            "savings" => Ok(AccountType::Savings),
            other => Err(Error::internal(anyhow::anyhow!(
                "a stored account type is unknown: {other:?}"
            ))),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub user_id: UserId,
    pub number: String,
    pub account_type: AccountType,
    pub balance: Money,
    pub currency: String,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<accounts::Model> for Account {
    type Error = Error;

    fn try_from(m: accounts::Model) -> Result<Account, Error> {
        Ok(Account {
            id: AccountId(m.id),
            user_id: UserId(m.user_id),
            number: m.account_number,
            account_type: AccountType::from_db(&m.account_type)?,
            balance: Money::from_stored(m.balance)?,
            currency: m.currency,
            created_at: m.created_at,
        })
    }
}

pub use banking_common::rules::holdings::MAX_ACCOUNTS;

impl Ledger {
    /// Opens another account for the customer, empty, with a fresh number. At most
    /// [`MAX_ACCOUNTS`] each: counted under a lock on the customer's row, so two requests
    /// at once cannot both open the fifth.
    #[tracing::instrument(skip(self))]
    pub async fn open_account(&self, user_id: UserId, kind: AccountType) -> Result<Account, Error> {
        let _gate = self.writes.enter().await;
        let txn = self.begin_write().await?;
        lock_customer(&txn, user_id).await?;
        let held = accounts::Entity::find()
            .filter(accounts::Column::UserId.eq(user_id))
            .count(&txn)
            .await?;
        if held >= MAX_ACCOUNTS {
            return Err(Error::invalid_request(format!(
                "a customer may hold at most {MAX_ACCOUNTS} accounts"
            )));
        }
        let account = self.open_account_in(&txn, user_id, kind).await?;
        txn.commit().await?;
        Ok(account)
    }

    pub(crate) async fn open_account_in(
        &self,
        conn: &impl ConnectionTrait,
        user_id: UserId,
        kind: AccountType,
    ) -> Result<Account, Error> {
        // Numbers are random; on the rare collision the unique index refuses and we draw again.
        for _ in 0..5 {
            let inserted = accounts::ActiveModel {
                user_id: Set(user_id.0),
                account_number: Set(AccountNumber::generate().as_str().to_owned()),
                account_type: Set(kind.as_str().to_owned()),
                balance: Set(0),
                currency: Set("USD".to_owned()),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(conn)
            .await;
            match inserted {
                Ok(model) => return Account::try_from(model),
                Err(e) if is_unique_violation(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::internal(anyhow::anyhow!(
            "could not draw a free account number"
        )))
    }

    /// The user's accounts, oldest first.
    #[tracing::instrument(skip(self))]
    pub async fn accounts(&self, user_id: UserId) -> Result<Vec<Account>, Error> {
        self.read(|db| {
            accounts::Entity::find()
                .filter(accounts::Column::UserId.eq(user_id))
                .order_by_asc(accounts::Column::Id)
                .all(db)
        })
        .await?
        .into_iter()
        .map(Account::try_from)
        .collect()
    }

    /// One of the user's accounts. Another user's account is `NotFound`, exactly as a missing one.
    #[tracing::instrument(skip(self))]
    pub async fn account(&self, user_id: UserId, account_id: AccountId) -> Result<Account, Error> {
        self.read(|db| {
            accounts::Entity::find_by_id(account_id.0)
                .filter(accounts::Column::UserId.eq(user_id))
                .one(db)
        })
        .await?
        .map(Account::try_from)
        .ok_or_else(|| Error::not_found("account", Input::Account))?
    }

    /// Account numbers by id, for showing counterparties in a history.
    pub async fn account_numbers(
        &self,
        ids: &[AccountId],
    ) -> Result<HashMap<AccountId, String>, Error> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(self
            .read(|db| {
                accounts::Entity::find()
                    .filter(accounts::Column::Id.is_in(ids.iter().copied()))
                    .all(db)
            })
            .await?
            .into_iter()
            .map(|a| (AccountId(a.id), a.account_number))
            .collect())
    }
}

/// Locks the customer's row until the transaction ends: the writes that count what a
/// customer holds (accounts, payees) queue behind each other. On SQLite, where rows have
/// no locks, the write gate already serialises every write.
pub(crate) async fn lock_customer(
    conn: &impl ConnectionTrait,
    user_id: UserId,
) -> Result<(), Error> {
    entities::users::Entity::find_by_id(user_id.0)
        .lock_exclusive()
        .one(conn)
        .await?
        .map(|_| ())
        .ok_or(Error::NotFound {
            what: "user",
            input: None,
        })
}
