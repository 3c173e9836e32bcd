//! A posting as one PostgreSQL statement: the rules of `judge`, spelled in SQL.

use std::sync::LazyLock;

use chrono::Utc;
use entities::{accounts, transactions};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult};

use super::{Posted, Posting, Target, judge, posted, refused};
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
/// key, `$5` the time. Four texts in all, made once, each prepared once per connection.
fn posting_sql(posting: &Posting) -> &'static str {
    static TEXTS: LazyLock<[String; 4]> = LazyLock::new(|| {
        [
            ("id", true),
            ("account_number", true),
            ("id", false),
            ("account_number", false),
        ]
        .map(|(target, transfer)| posting_text(target, transfer))
    });
    let by_number = matches!(posting.to, Target::Number(_));
    let deposit = posting.from_account.is_none();
    &TEXTS[usize::from(by_number) + 2 * usize::from(deposit)]
}

/// One of [`posting_sql`]'s texts: the target found by `target` (`id` or
/// `account_number`), from a source account when `transfer`.
fn posting_text(target: &str, transfer: bool) -> String {
    // The target's balance must stay representable, as `checked_add` in `judge`.
    let max = i64::MAX;
    let (rows, allowed) = if transfer {
        (
            format!("id = $6 OR {target} = $7"),
            format!(
                "SELECT s.id AS source_id, s.balance AS source_balance, \
                 t.id AS target_id, t.balance AS target_balance FROM locked s, locked t \
                 WHERE s.id = $6 AND s.user_id = $1 AND t.{target} = $7 \
                 AND s.id <> t.id AND s.balance >= $2 AND t.balance <= {max} - $2"
            ),
        )
    } else {
        (
            format!("{target} = $6"),
            format!(
                "SELECT NULL::bigint AS source_id, NULL::bigint AS source_balance, \
                 t.id AS target_id, t.balance AS target_balance FROM locked t \
                 WHERE t.{target} = $6 AND t.user_id = $1 AND t.balance <= {max} - $2"
            ),
        )
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
            Some(refusal) => refused(db, user_id, key, judged.intent, refusal)
                .await
                .map(Some),
            None => Ok(None),
        },
        (Err(refusal), None) => Err(refusal),
        (_, Some(inserted)) => Err(Error::internal(anyhow::anyhow!(
            "posting {} was recorded against the ledger's rules",
            inserted.id
        ))),
    }
}
