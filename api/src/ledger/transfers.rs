//! Moving money: deposits from outside the bank and transfers between accounts.
//!
//! Each is one database transaction that locks the account rows it touches in ascending
//! id order (so two opposite transfers cannot deadlock), checks funds on the locked rows
//! (so no update is lost and nothing is overdrawn), and records one transaction row keyed
//! by the caller's idempotency key (so a retry moves no money twice).

use chrono::{DateTime, Utc};
use entities::{accounts, transactions};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::error::is_unique_violation;
use super::{AccountNumber, Description, Error, IdempotencyKey, Ledger, Money};

/// A posted ledger entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    pub id: i64,
    /// `None` for a deposit.
    pub from_account: Option<i64>,
    pub to_account: i64,
    pub amount: Money,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<transactions::Model> for Transaction {
    fn from(m: transactions::Model) -> Transaction {
        Transaction {
            id: m.id,
            from_account: m.from_account,
            to_account: m.to_account,
            amount: Money::from_cents(m.amount),
            description: m.description,
            created_at: m.created_at,
        }
    }
}

/// What a deposit or transfer did.
#[derive(Clone, Debug)]
pub struct Posted {
    pub transaction: Transaction,
    /// True when the idempotency key had been used for this very operation before:
    /// the original is returned and no money moved now.
    pub replayed: bool,
    /// The owners of the accounts touched, whose cached balances are now stale.
    pub owners: Vec<i64>,
}

/// Where a transfer goes: GraphQL names the target by number, the seed REST API by id.
#[derive(Clone, Debug)]
pub enum Target {
    Number(AccountNumber),
    Id(i64),
}

#[derive(Clone, Debug)]
pub struct TransferRequest {
    pub from_account: i64,
    pub to: Target,
    pub amount: Money,
    pub description: Description,
    pub idempotency_key: IdempotencyKey,
}

#[derive(Clone, Debug)]
pub struct DepositRequest {
    pub account: i64,
    pub amount: Money,
    pub description: Description,
    pub idempotency_key: IdempotencyKey,
}

/// The parameters an idempotency key is bound to: a retry must repeat them exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Intent {
    from_account: Option<i64>,
    to_account: i64,
    amount: Money,
}

impl Ledger {
    #[tracing::instrument(skip(self, request), fields(from = request.from_account, amount = %request.amount))]
    pub async fn transfer(&self, user_id: i64, request: TransferRequest) -> Result<Posted, Error> {
        let target_id = match &request.to {
            Target::Id(id) => Some(*id),
            Target::Number(number) => {
                accounts::Entity::find()
                    .select_only()
                    .column(accounts::Column::Id)
                    .filter(accounts::Column::AccountNumber.eq(number.as_str()))
                    .into_tuple::<i64>()
                    .one(&self.db)
                    .await?
            }
        };
        let Some(target_id) = target_id else {
            // The source is checked first, so a missing target never tells a caller
            // anything about an account that is not theirs.
            self.account(user_id, request.from_account).await?;
            return Err(Error::NotFound("target account"));
        };
        let intent = Intent {
            from_account: Some(request.from_account),
            to_account: target_id,
            amount: request.amount,
        };
        let row = transactions::ActiveModel {
            from_account: Set(Some(request.from_account)),
            to_account: Set(target_id),
            amount: Set(request.amount.cents()),
            description: Set(request.description.clone().into_inner()),
            idempotency_key: Set(request.idempotency_key.as_str().to_owned()),
            initiated_by: Set(user_id),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        self.post(user_id, &request.idempotency_key, intent, row)
            .await
    }

    #[tracing::instrument(skip(self, request), fields(account = request.account, amount = %request.amount))]
    pub async fn deposit(&self, user_id: i64, request: DepositRequest) -> Result<Posted, Error> {
        let intent = Intent {
            from_account: None,
            to_account: request.account,
            amount: request.amount,
        };
        let row = transactions::ActiveModel {
            from_account: Set(None),
            to_account: Set(request.account),
            amount: Set(request.amount.cents()),
            description: Set(request.description.clone().into_inner()),
            idempotency_key: Set(request.idempotency_key.as_str().to_owned()),
            initiated_by: Set(user_id),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        self.post(user_id, &request.idempotency_key, intent, row)
            .await
    }

    /// Runs one posting in its own transaction. When a concurrent request with the same
    /// key commits first, our insert hits the unique index, everything rolls back, and the
    /// caller gets that request's transaction instead.
    async fn post(
        &self,
        user_id: i64,
        key: &IdempotencyKey,
        intent: Intent,
        row: transactions::ActiveModel,
    ) -> Result<Posted, Error> {
        let _gate = self.writes.enter().await;
        let txn = self.begin_write().await?;
        match post_in(&txn, user_id, key, intent, row).await {
            Ok(Some(posted)) if !posted.replayed => {
                txn.commit().await?;
                Ok(posted)
            }
            Ok(Some(original)) => {
                txn.rollback().await?;
                Ok(original)
            }
            Ok(None) => {
                txn.rollback().await?;
                replay(&self.db, user_id, key, intent)
                    .await?
                    .ok_or_else(|| Error::internal(anyhow::anyhow!("idempotency key vanished")))
            }
            Err(refusal) => {
                // Best effort: a connection that failed is discarded by the pool anyway.
                let _ = txn.rollback().await;
                Err(refusal)
            }
        }
    }
}

/// The body of a posting. `Ok(None)` means another request with the same key won the race.
async fn post_in(
    txn: &DatabaseTransaction,
    user_id: i64,
    key: &IdempotencyKey,
    intent: Intent,
    row: transactions::ActiveModel,
) -> Result<Option<Posted>, Error> {
    let ids: Vec<i64> = intent
        .from_account
        .into_iter()
        .chain([intent.to_account])
        .collect();
    // One statement locks both rows; PostgreSQL locks them in the ORDER BY order, which is
    // ascending id for every transfer, so two transfers in opposite directions queue
    // instead of deadlocking. (SQLite has no row locks; the write gate serialises instead.)
    let locked = accounts::Entity::find()
        .filter(accounts::Column::Id.is_in(ids))
        .order_by_asc(accounts::Column::Id)
        .lock_exclusive()
        .all(txn)
        .await?;
    let owned_by_caller = |id: i64| locked.iter().find(|a| a.id == id && a.user_id == user_id);
    let source = match intent.from_account {
        Some(from) => Some(owned_by_caller(from).ok_or(Error::NotFound("account"))?),
        None => None,
    };
    let target = match source {
        // Deposits go only into the caller's own accounts.
        None => owned_by_caller(intent.to_account).ok_or(Error::NotFound("account"))?,
        Some(_) => locked
            .iter()
            .find(|a| a.id == intent.to_account)
            .ok_or(Error::NotFound("target account"))?,
    };
    if source.is_some_and(|s| s.id == target.id) {
        return Err(Error::InvalidInput(
            "cannot transfer to the same account".into(),
        ));
    }
    // A retry of an earlier posting must get that posting back, whatever the balances
    // are now. The common case (a new key) needs no look-up for that: the unique index
    // refuses the insert below and the caller replays. Only a refusal looks first.
    let refusal = if source.is_some_and(|s| s.balance < intent.amount.cents()) {
        Some(Error::InsufficientFunds)
    } else if target.balance.checked_add(intent.amount.cents()).is_none() {
        Some(Error::InvalidInput(
            "amount would overflow the target balance".into(),
        ))
    } else {
        None
    };
    if let Some(refusal) = refusal {
        return match replay(txn, user_id, key, intent).await? {
            Some(original) => Ok(Some(original)),
            None => Err(refusal),
        };
    }
    if let Some(source) = source {
        add_to_balance(txn, source.id, -intent.amount.cents()).await?;
    }
    add_to_balance(txn, target.id, intent.amount.cents()).await?;
    let inserted = match row.insert(txn).await {
        Ok(model) => model,
        Err(e) if is_unique_violation(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut owners = vec![target.user_id];
    if let Some(source) = source
        && source.user_id != target.user_id
    {
        owners.push(source.user_id);
    }
    Ok(Some(Posted {
        transaction: inserted.into(),
        replayed: false,
        owners,
    }))
}

async fn add_to_balance(txn: &DatabaseTransaction, account: i64, delta: i64) -> Result<(), Error> {
    accounts::Entity::update_many()
        .col_expr(
            accounts::Column::Balance,
            Expr::col(accounts::Column::Balance).add(delta),
        )
        .filter(accounts::Column::Id.eq(account))
        .exec(txn)
        .await?;
    Ok(())
}

/// The earlier posting made with this key, if any: returned when it had the same
/// parameters, a conflict when the key is being reused for something else.
async fn replay(
    conn: &impl ConnectionTrait,
    user_id: i64,
    key: &IdempotencyKey,
    intent: Intent,
) -> Result<Option<Posted>, Error> {
    let Some(existing) = transactions::Entity::find()
        .filter(transactions::Column::InitiatedBy.eq(user_id))
        .filter(transactions::Column::IdempotencyKey.eq(key.as_str()))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let same = Intent {
        from_account: existing.from_account,
        to_account: existing.to_account,
        amount: Money::from_cents(existing.amount),
    } == intent;
    if !same {
        return Err(Error::Conflict(
            "this idempotency key was already used for a different operation".into(),
        ));
    }
    Ok(Some(Posted {
        transaction: existing.into(),
        replayed: true,
        owners: vec![user_id],
    }))
}
