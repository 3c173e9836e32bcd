//! Saved payees: the people a customer pays, by name and account number. A payee belongs
//! to its customer only: another customer's payee id is `NotFound`, as a missing one.

use banking_common::rules::text::{self, NameError};
use chrono::{DateTime, Utc};
use entities::payees;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::accounts::lock_customer;
use super::error::conflict_when_unique;
use super::{AccountNumber, Error, Input, Ledger, PayeeId, UserId};

pub use banking_common::rules::holdings::MAX_PAYEES;

const ALREADY_SAVED: &str = "a payee with this account number is already saved";

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Payee {
    pub id: PayeeId,
    pub name: String,
    pub account_number: String,
    pub created_at: DateTime<Utc>,
}

impl From<payees::Model> for Payee {
    fn from(m: payees::Model) -> Payee {
        Payee {
            id: PayeeId(m.id),
            name: m.name,
            account_number: m.account_number,
            created_at: m.created_at,
        }
    }
}

/// A payee's name as the shared rule allows it (`banking_common::rules::text`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayeeName(String);

impl PayeeName {
    pub fn parse(input: &str) -> Result<PayeeName, Error> {
        let why = match text::payee_name(input) {
            Ok(name) => return Ok(PayeeName(name.to_owned())),
            Err(NameError::Empty) => "must not be empty",
            Err(NameError::TooLong) => "must be at most 60 characters",
            Err(NameError::Forbidden) => "must not contain control or text-direction characters",
        };
        Err(Error::invalid(Input::PayeeName, format!("name {why}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Ledger {
    /// The customer's payees, newest first.
    #[tracing::instrument(skip(self))]
    pub async fn payees(&self, user_id: UserId) -> Result<Vec<Payee>, Error> {
        Ok(self
            .read(|db| {
                payees::Entity::find()
                    .filter(payees::Column::UserId.eq(user_id))
                    .order_by_desc(payees::Column::Id)
                    .all(db)
            })
            .await?
            .into_iter()
            .map(Payee::from)
            .collect())
    }

    /// Saves a payee. A number the customer already saved is `Conflict`; more than
    /// [`MAX_PAYEES`] is refused, counted under a lock on the customer's row.
    #[tracing::instrument(skip(self, name))]
    pub async fn add_payee(
        &self,
        user_id: UserId,
        name: &PayeeName,
        number: &AccountNumber,
    ) -> Result<Payee, Error> {
        let _gate = self.writes.enter().await;
        let txn = self.begin_write().await?;
        lock_customer(&txn, user_id).await?;
        let saved = payees::Entity::find()
            .filter(payees::Column::UserId.eq(user_id))
            .count(&txn)
            .await?;
        let already = payees::Entity::find()
            .filter(payees::Column::UserId.eq(user_id))
            .filter(payees::Column::AccountNumber.eq(number.as_str()))
            .one(&txn)
            .await?;
        if already.is_some() {
            return Err(Error::Conflict {
                input: Some(Input::PayeeAccountNumber),
                message: ALREADY_SAVED.into(),
            });
        }
        if saved >= MAX_PAYEES {
            return Err(Error::invalid_request(format!(
                "a customer may save at most {MAX_PAYEES} payees"
            )));
        }
        let inserted = payees::ActiveModel {
            user_id: Set(user_id.0),
            name: Set(name.as_str().to_owned()),
            account_number: Set(number.as_str().to_owned()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(conflict_when_unique(
            Input::PayeeAccountNumber,
            ALREADY_SAVED,
        ))?;
        txn.commit().await?;
        Ok(inserted.into())
    }

    /// Removes one of the customer's payees; another customer's is `NotFound`.
    #[tracing::instrument(skip(self))]
    pub async fn remove_payee(&self, user_id: UserId, payee_id: PayeeId) -> Result<(), Error> {
        let _gate = self.writes.enter().await;
        let removed = payees::Entity::delete_many()
            .filter(payees::Column::Id.eq(payee_id))
            .filter(payees::Column::UserId.eq(user_id))
            .exec(&self.db)
            .await?;
        if removed.rows_affected == 0 {
            return Err(Error::not_found("payee", Input::Id));
        }
        Ok(())
    }
}
