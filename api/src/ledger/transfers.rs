//! Moving money: deposits from outside the bank and transfers between accounts.
//!
//! Each is one database transaction (on PostgreSQL a single statement) that locks the
//! account rows it touches in ascending id order (so two opposite transfers cannot
//! deadlock), checks funds on the locked rows (so no update is lost and nothing is
//! overdrawn), and records one transaction row keyed by the caller's idempotency key (so
//! a retry moves no money twice).

use chrono::{DateTime, Utc};
use entities::{accounts, transactions};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::error::is_unique_violation;
use super::{
    Account, AccountId, AccountNumber, Description, Error, IdempotencyKey, Input, Ledger, Money,
    UserId,
};

mod one_statement;
use one_statement::post_in_one_statement;

/// A posted ledger entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Transaction {
    pub id: i64,
    /// `None` for a deposit.
    pub from_account: Option<AccountId>,
    pub to_account: AccountId,
    pub amount: Money,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<transactions::Model> for Transaction {
    type Error = Error;

    fn try_from(m: transactions::Model) -> Result<Transaction, Error> {
        Ok(Transaction {
            id: m.id,
            from_account: m.from_account.map(AccountId),
            to_account: AccountId(m.to_account),
            amount: Money::from_stored(m.amount)?,
            description: m.description,
            created_at: m.created_at,
        })
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
    pub owners: Vec<UserId>,
    /// The accounts this posting touched, as it left them (source first for a transfer);
    /// empty for a replay, which touched nothing.
    pub accounts: Vec<Account>,
}

/// Where a transfer goes: GraphQL names the target by number, the seed REST API by id.
#[derive(Clone, Debug)]
pub enum Target {
    Number(AccountNumber),
    Id(AccountId),
}

#[derive(Clone, Debug)]
pub struct TransferRequest {
    pub from_account: AccountId,
    pub to: Target,
    pub amount: Money,
    pub description: Description,
    pub idempotency_key: IdempotencyKey,
}

#[derive(Clone, Debug)]
pub struct DepositRequest {
    pub account: AccountId,
    pub amount: Money,
    pub description: Description,
    pub idempotency_key: IdempotencyKey,
}

/// The parameters an idempotency key is bound to: a retry must repeat them exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Intent {
    from_account: Option<AccountId>,
    to_account: AccountId,
    amount: Money,
}

impl Ledger {
    #[tracing::instrument(skip(self, request), fields(from = %request.from_account, amount = %request.amount))]
    pub async fn transfer(
        &self,
        user_id: UserId,
        request: TransferRequest,
    ) -> Result<Posted, Error> {
        let posting = Posting {
            from_account: Some(request.from_account),
            to: request.to,
            amount: request.amount,
            description: request.description.into_inner(),
        };
        self.post(user_id, &request.idempotency_key, posting).await
    }

    #[tracing::instrument(skip(self, request), fields(account = %request.account, amount = %request.amount))]
    pub async fn deposit(&self, user_id: UserId, request: DepositRequest) -> Result<Posted, Error> {
        let posting = Posting {
            from_account: None,
            to: Target::Id(request.account),
            amount: request.amount,
            description: request.description.into_inner(),
        };
        self.post(user_id, &request.idempotency_key, posting).await
    }

    /// Runs one posting. On PostgreSQL that is one statement (`one_statement.rs`), its own
    /// transaction; anything it leaves open (a key already used, or rules it read
    /// differently) goes on to the transactional path that SQLite always takes.
    async fn post(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
        posting: Posting,
    ) -> Result<Posted, Error> {
        if self.db.get_database_backend() == DbBackend::Postgres
            && let Some(posted) = post_in_one_statement(&self.db, user_id, key, &posting).await?
        {
            return Ok(posted);
        }
        self.post_in_transaction(user_id, key, &posting).await
    }

    /// Runs one posting in its own transaction. When a concurrent request with the same
    /// key commits first, our insert hits the unique index, everything rolls back, and the
    /// caller gets that request's transaction instead.
    async fn post_in_transaction(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
        posting: &Posting,
    ) -> Result<Posted, Error> {
        let _gate = self.writes.enter().await;
        let txn = self.begin_write().await?;
        match post_in(&txn, user_id, key, posting).await {
            Ok(Outcome::Posted(posted)) => {
                txn.commit().await?;
                Ok(posted)
            }
            Ok(Outcome::Replayed(original)) => {
                txn.rollback().await?;
                Ok(original)
            }
            Ok(Outcome::Raced(intent)) => {
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

/// What a caller asked to move, before the accounts are looked at.
struct Posting {
    /// `None` for a deposit.
    from_account: Option<AccountId>,
    to: Target,
    amount: Money,
    description: Option<String>,
}

enum Outcome {
    Posted(Posted),
    /// The key had been used for this very operation: nothing moved now.
    Replayed(Posted),
    /// Another request with the same key committed first; look it up after rolling back.
    Raced(Intent),
}

/// The locked rows a posting touches, judged by the ledger's rules.
struct Judged<'a> {
    source: Option<&'a accounts::Model>,
    target: &'a accounts::Model,
    intent: Intent,
    /// Why the money cannot move now (funds, or a balance that would overflow). Unlike a
    /// missing account, such a refusal still answers a retry of an earlier posting with
    /// that posting (see `replay`).
    refusal: Option<Error>,
}

/// The rules of a posting, on the rows it locked (before any moved): the source is the
/// caller's, the target exists (and is the caller's too for a deposit), the two differ,
/// the source covers the amount and the target's balance stays representable.
/// `one_statement::POSTING_SQL` spells the same rules for PostgreSQL's one statement,
/// and `post_in_one_statement` checks it read them alike.
fn judge<'a>(
    locked: &'a [accounts::Model],
    user_id: UserId,
    posting: &Posting,
) -> Result<Judged<'a>, Error> {
    let owned_by_caller = |id: AccountId| {
        locked
            .iter()
            .find(|a| a.id == id.0 && a.user_id == user_id.0)
    };
    let source = match posting.from_account {
        Some(from) => Some(
            owned_by_caller(from)
                .ok_or_else(|| Error::not_found("account", Input::SourceAccount))?,
        ),
        None => None,
    };
    let target = locked.iter().find(|a| match &posting.to {
        Target::Id(id) => a.id == id.0,
        Target::Number(number) => a.account_number == number.as_str(),
    });
    let target = match source {
        // Deposits go only into the caller's own accounts. The source is checked first,
        // so a missing target never tells a caller anything about someone else's account.
        None => target
            .filter(|a| a.user_id == user_id.0)
            .ok_or_else(|| Error::not_found("account", Input::Account))?,
        Some(_) => {
            target.ok_or_else(|| Error::not_found("target account", Input::TargetAccount))?
        }
    };
    if source.is_some_and(|s| s.id == target.id) {
        return Err(Error::invalid(
            Input::TargetAccount,
            "cannot transfer to the same account",
        ));
    }
    let cents = posting.amount.cents();
    let refusal = if source.is_some_and(|s| s.balance < cents) {
        Some(Error::InsufficientFunds)
    } else if target.balance.checked_add(cents).is_none() {
        Some(Error::invalid(
            Input::Amount,
            "amount would overflow the target balance",
        ))
    } else {
        None
    };
    Ok(Judged {
        source,
        target,
        intent: Intent {
            from_account: source.map(|s| AccountId(s.id)),
            to_account: AccountId(target.id),
            amount: posting.amount,
        },
        refusal,
    })
}

/// The body of a posting: four statements after BEGIN, the fewest that keep every rule
/// (lock both rows, check on the locked rows, move the money, record it by key).
async fn post_in(
    txn: &DatabaseTransaction,
    user_id: UserId,
    key: &IdempotencyKey,
    posting: &Posting,
) -> Result<Outcome, Error> {
    // One statement finds the target (by number, when given one) and locks both rows.
    // PostgreSQL locks them in the ORDER BY order, which is ascending id for every
    // transfer, so two transfers in opposite directions queue instead of deadlocking.
    // (SQLite has no row locks; the write gate serialises instead.)
    let mut rows = Condition::any();
    if let Some(from) = posting.from_account {
        rows = rows.add(accounts::Column::Id.eq(from));
    }
    rows = rows.add(match &posting.to {
        Target::Id(id) => accounts::Column::Id.eq(*id),
        Target::Number(number) => accounts::Column::AccountNumber.eq(number.as_str()),
    });
    let locked = accounts::Entity::find()
        .filter(rows)
        .order_by_asc(accounts::Column::Id)
        .lock_exclusive()
        .all(txn)
        .await?;
    let judged = judge(&locked, user_id, posting)?;
    // The common case (a new key) needs no look-up for a retry: the unique index refuses
    // the insert below and the caller replays. Only a refusal looks first.
    if let Some(refusal) = judged.refusal {
        return refused(txn, user_id, key, judged.intent, refusal)
            .await
            .map(Outcome::Replayed);
    }
    let intent = judged.intent;
    move_money(txn, intent.from_account, intent.to_account, posting.amount).await?;
    let row = transactions::ActiveModel {
        from_account: Set(intent.from_account.map(|id| id.0)),
        to_account: Set(intent.to_account.0),
        amount: Set(posting.amount.cents()),
        description: Set(posting.description.clone()),
        idempotency_key: Set(key.as_str().to_owned()),
        initiated_by: Set(user_id.0),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    match row.insert(txn).await {
        Ok(inserted) => Ok(Outcome::Posted(posted(&judged, inserted)?)),
        Err(e) if is_unique_violation(&e) => Ok(Outcome::Raced(intent)),
        Err(e) => Err(e.into()),
    }
}

/// What a recorded posting did: the owners whose cached reads are now stale, and the
/// locked rows as the move left them.
fn posted(judged: &Judged<'_>, inserted: transactions::Model) -> Result<Posted, Error> {
    let cents = judged.intent.amount.cents();
    let mut owners = vec![UserId(judged.target.user_id)];
    if let Some(source) = judged.source
        && source.user_id != judged.target.user_id
    {
        owners.push(UserId(source.user_id));
    }
    // The rows were locked and moved by exactly `cents`: their balances now.
    let mut accounts = Vec::with_capacity(2);
    if let Some(source) = judged.source {
        accounts.push(after_move(source, -cents)?);
    }
    accounts.push(after_move(judged.target, cents)?);
    Ok(Posted {
        transaction: inserted.try_into()?,
        replayed: false,
        owners,
        accounts,
    })
}

/// A locked account row as `move_money` left it.
fn after_move(row: &accounts::Model, delta: i64) -> Result<Account, Error> {
    let mut moved = row.clone();
    moved.balance = row
        .balance
        .checked_add(delta)
        .ok_or_else(|| Error::internal(anyhow::anyhow!("balance overflow after a posting")))?;
    moved.try_into()
}

/// Takes `cents` from the source (when there is one) and gives them to the target, in one
/// statement on rows this transaction has already locked.
async fn move_money(
    txn: &DatabaseTransaction,
    source: Option<AccountId>,
    target: AccountId,
    amount: Money,
) -> Result<(), Error> {
    let cents = amount.cents();
    let balance = Expr::col(accounts::Column::Balance);
    let update = match source {
        None => accounts::Entity::update_many()
            .col_expr(accounts::Column::Balance, balance.add(cents))
            .filter(accounts::Column::Id.eq(target)),
        Some(source) => {
            let delta: Expr = Expr::case(accounts::Column::Id.eq(source), -cents)
                .finally(cents)
                .into();
            accounts::Entity::update_many()
                .col_expr(accounts::Column::Balance, balance.add(delta))
                .filter(accounts::Column::Id.is_in([source, target]))
        }
    };
    let result = update.exec(txn).await?;
    let expected = 1 + u64::from(source.is_some());
    if result.rows_affected != expected {
        return Err(Error::internal(anyhow::anyhow!(
            "moved money on {} rows, expected {expected}",
            result.rows_affected
        )));
    }
    Ok(())
}

/// A posting the rules refuse now (funds, overflow): still the earlier posting when this
/// is a retry of it, since a retry must get that posting back whatever the balances are
/// now; else the refusal.
async fn refused(
    conn: &impl ConnectionTrait,
    user_id: UserId,
    key: &IdempotencyKey,
    intent: Intent,
    refusal: Error,
) -> Result<Posted, Error> {
    replay(conn, user_id, key, intent).await?.ok_or(refusal)
}

/// The earlier posting made with this key, if any: returned when it had the same
/// parameters, a conflict when the key is being reused for something else.
async fn replay(
    conn: &impl ConnectionTrait,
    user_id: UserId,
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
        from_account: existing.from_account.map(AccountId),
        to_account: AccountId(existing.to_account),
        amount: Money::from_stored(existing.amount)?,
    } == intent;
    if !same {
        return Err(Error::Conflict {
            input: Some(Input::IdempotencyKey),
            message: "this idempotency key was already used for a different operation".into(),
        });
    }
    Ok(Some(Posted {
        transaction: existing.try_into()?,
        replayed: true,
        owners: vec![user_id],
        accounts: Vec::new(),
    }))
}
