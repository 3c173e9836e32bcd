//! A posting as one PostgreSQL statement: the rules of `judge`, spelled in SQL.

use chrono::Utc;
use entities::{accounts, transactions};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult};

use super::{Posted, Posting, Target, judge, posted, replay};
use crate::ledger::error::is_unique_violation;
use crate::ledger::rows::ACCOUNT_AND_POSTING;
use crate::ledger::{Error, IdempotencyKey, UserId};

/// PostgreSQL: a whole posting in one statement, so one round trip instead of five
/// (BEGIN, lock, move, record, COMMIT): the rows are locked in ascending id order as in
/// `post_in`, the money moves and the posting is recorded only when the rules hold
/// (`judge`, spelled in SQL in `allowed`), and the locked rows come back as they were
/// before, each beside the posting when one was recorded. `{rows}`, `{allowed}`: see
/// `posting_sql`.
///
/// The new balances are the locked rows' balances moved, not `accounts.balance` moved:
/// the whole statement reads with the snapshot it started with, which can predate a
/// posting that committed while `locked` waited for its row. `FOR UPDATE` returns that
/// row's latest version, and the UPDATE would too in the end (it re-reads a row changed
/// since its snapshot), but PostgreSQL checks `balance >= 0` on the row it computed from
/// the snapshot's version first, and so failed transfers the latest balance covers
/// (`concurrent_random_transfers_keep_the_invariant` found it). The rows stay locked
/// until the statement commits, so the locked balances are the latest ones.
const POSTING_SQL: &str = r#"
WITH locked AS (
    SELECT * FROM accounts WHERE {rows} ORDER BY id FOR UPDATE
),
allowed AS ({allowed}),
moved AS (
    UPDATE accounts
    SET balance = CASE WHEN accounts.id = allowed.source_id
                       THEN allowed.source_balance - $2
                       ELSE allowed.target_balance + $2 END
    FROM allowed
    WHERE accounts.id = allowed.target_id OR accounts.id = allowed.source_id
    RETURNING accounts.id
),
posted AS (
    INSERT INTO transactions
        (from_account, to_account, amount, description, idempotency_key, initiated_by,
         created_at)
    SELECT source_id, target_id, $2, $3, $4, $1, $5 FROM allowed
    RETURNING *
)
SELECT {columns}, (SELECT count(*) FROM moved) AS moved
FROM locked a LEFT JOIN posted t ON true
ORDER BY a.id
"#;

/// [`POSTING_SQL`] for a transfer (`$6` the source, `$7` the target) or a deposit (`$6`
/// the target); `$1` the caller, `$2` the amount in cents, `$3` the description, `$4` the
/// key, `$5` the time. Four texts in all, each prepared once per connection.
fn posting_sql(posting: &Posting) -> String {
    let (target, target_param) = match (&posting.to, posting.from_account) {
        (Target::Id(_), Some(_)) => ("id", "$7"),
        (Target::Number(_), Some(_)) => ("account_number", "$7"),
        (Target::Id(_), None) => ("id", "$6"),
        (Target::Number(_), None) => ("account_number", "$6"),
    };
    let (rows, allowed) = match posting.from_account {
        Some(_) => (
            format!("id = $6 OR {target} = {target_param}"),
            format!(
                "SELECT s.id AS source_id, s.balance AS source_balance, \
                 t.id AS target_id, t.balance AS target_balance FROM locked s, locked t \
                 WHERE s.id = $6 AND s.user_id = $1 AND t.{target} = {target_param} \
                 AND s.id <> t.id AND s.balance >= $2 \
                 AND t.balance <= 9223372036854775807 - $2"
            ),
        ),
        None => (
            format!("{target} = {target_param}"),
            format!(
                "SELECT NULL::bigint AS source_id, NULL::bigint AS source_balance, \
                 t.id AS target_id, t.balance AS target_balance FROM locked t \
                 WHERE t.{target} = {target_param} AND t.user_id = $1 \
                 AND t.balance <= 9223372036854775807 - $2"
            ),
        ),
    };
    POSTING_SQL
        .replace("{rows}", &rows)
        .replace("{allowed}", &allowed)
        .replace("{columns}", ACCOUNT_AND_POSTING)
}

/// A posting as one PostgreSQL statement ([`POSTING_SQL`]). `Ok(None)` leaves it to the
/// transactional path, which rolls back and replays: when the key was used before (the
/// statement hit the unique index and changed nothing), or, should the statement and
/// `judge` ever read the rules differently, when it moved nothing that `judge` allows.
pub(super) async fn post_in_one_statement(
    db: &DatabaseConnection,
    user_id: UserId,
    key: &IdempotencyKey,
    posting: &Posting,
) -> Result<Option<Posted>, Error> {
    let mut values: Vec<sea_orm::Value> = vec![
        user_id.0.into(),
        posting.amount.cents().into(),
        posting.description.clone().into(),
        key.as_str().into(),
        Utc::now().into(),
    ];
    if let Some(from) = posting.from_account {
        values.push(from.0.into());
    }
    values.push(match &posting.to {
        Target::Id(id) => id.0.into(),
        Target::Number(number) => number.as_str().into(),
    });
    let statement =
        sea_orm::Statement::from_sql_and_values(DbBackend::Postgres, posting_sql(posting), values);
    let rows = match db.query_all_raw(statement).await {
        Ok(rows) => rows,
        Err(e) if is_unique_violation(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut locked = Vec::with_capacity(2);
    let mut inserted = None;
    let mut moved = 0i64;
    for row in &rows {
        locked.push(accounts::Model::from_query_result(row, "a_")?);
        inserted = Option::<transactions::Model>::from_query_result(row, "t_")?;
        moved = row.try_get("", "moved")?;
    }
    let judged = judge(&locked, user_id, posting);
    match (judged, inserted) {
        (Ok(judged), Some(inserted)) if judged.refusal.is_none() => {
            let expected = 1 + i64::from(judged.source.is_some());
            if moved != expected {
                return Err(Error::internal(anyhow::anyhow!(
                    "a posting moved money on {moved} rows, expected {expected}"
                )));
            }
            Ok(Some(posted(&judged, inserted)?))
        }
        (Ok(judged), None) => match judged.refusal {
            Some(refusal) => match replay(db, user_id, key, judged.intent).await? {
                Some(original) => Ok(Some(original)),
                None => Err(refusal),
            },
            None => Ok(None),
        },
        (Err(refusal), None) => Err(refusal),
        (_, Some(inserted)) => Err(Error::internal(anyhow::anyhow!(
            "posting {} was recorded against the ledger's rules",
            inserted.id
        ))),
    }
}
