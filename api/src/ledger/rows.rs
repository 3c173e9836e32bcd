//! Raw statements that read an account and a posting in one row.

/// The columns of an account `a` and a posting `t`, each prefixed by its table (`a_`,
/// `t_`) so each model reads its own with `FromQueryResult::from_query_result(row,
/// prefix)`. A posting joined in from the right reads as `None` when its row is absent.
pub(super) const ACCOUNT_AND_POSTING: &str = r#"
       a.id AS a_id, a.user_id AS a_user_id, a.account_number AS a_account_number,
       a."type" AS a_type, a.balance AS a_balance, a.currency AS a_currency,
       a.created_at AS a_created_at,
       t.id AS t_id, t.from_account AS t_from_account, t.to_account AS t_to_account,
       t.amount AS t_amount, t.description AS t_description,
       t.idempotency_key AS t_idempotency_key, t.initiated_by AS t_initiated_by,
       t.created_at AS t_created_at"#;
