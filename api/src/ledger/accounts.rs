//! Accounts: opening them with a unique number, and finding them for their owner only.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entities::accounts;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::error::is_unique_violation;
use super::{AccountNumber, Error, Ledger, Money};

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

    fn from_db(value: &str) -> AccountType {
        if value == "savings" {
            AccountType::Savings
        } else {
            AccountType::Checking
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Account {
    pub id: i64,
    pub user_id: i64,
    pub number: String,
    pub account_type: AccountType,
    pub balance: Money,
    pub currency: String,
    pub created_at: DateTime<Utc>,
}

impl From<accounts::Model> for Account {
    fn from(m: accounts::Model) -> Account {
        Account {
            id: m.id,
            user_id: m.user_id,
            number: m.account_number,
            account_type: AccountType::from_db(&m.account_type),
            balance: Money::from_cents(m.balance),
            currency: m.currency,
            created_at: m.created_at,
        }
    }
}

impl Ledger {
    #[tracing::instrument(skip(self))]
    pub async fn open_account(&self, user_id: i64, kind: AccountType) -> Result<Account, Error> {
        let _gate = self.writes.enter().await;
        self.open_account_in(&self.db, user_id, kind).await
    }

    pub(crate) async fn open_account_in(
        &self,
        conn: &impl ConnectionTrait,
        user_id: i64,
        kind: AccountType,
    ) -> Result<Account, Error> {
        // Numbers are random; on the rare collision the unique index refuses and we draw again.
        for _ in 0..5 {
            let inserted = accounts::ActiveModel {
                user_id: Set(user_id),
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
                Ok(model) => return Ok(model.into()),
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
    pub async fn accounts(&self, user_id: i64) -> Result<Vec<Account>, Error> {
        Ok(accounts::Entity::find()
            .filter(accounts::Column::UserId.eq(user_id))
            .order_by_asc(accounts::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(Account::from)
            .collect())
    }

    /// One of the user's accounts. Another user's account is `NotFound`, exactly as a missing one.
    #[tracing::instrument(skip(self))]
    pub async fn account(&self, user_id: i64, account_id: i64) -> Result<Account, Error> {
        accounts::Entity::find_by_id(account_id)
            .filter(accounts::Column::UserId.eq(user_id))
            .one(&self.db)
            .await?
            .map(Account::from)
            .ok_or(Error::NotFound("account"))
    }

    /// Account numbers by id, for showing counterparties in a history.
    pub async fn account_numbers(&self, ids: &[i64]) -> Result<HashMap<i64, String>, Error> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(accounts::Entity::find()
            .filter(accounts::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| (a.id, a.account_number))
            .collect())
    }
}
