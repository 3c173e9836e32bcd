//! The seed-compatible REST routes under `/api`: the same ledger and the same tokens
//! as GraphQL, in the shapes the original clients expect.

mod extract;
mod statement;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use crate::app_state::AppState;
use crate::auth::ClientAddress;
use crate::error::{Error, Result};
use crate::ledger::{self, Description, IdempotencyKey, Input, Money, Target, TransferRequest};
use extract::{ApiJson, bearer};

/// The REST history is one page of this size, newest first.
const HISTORY_LIMIT: u64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/users/me", get(me))
        .route("/api/accounts", get(accounts))
        .route("/api/transactions", get(transactions).post(transfer))
        .route(
            "/api/accounts/{id}/statement.csv",
            get(statement::statement_csv),
        )
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct TokenBody {
    access_token: String,
    token_type: &'static str,
}

async fn login(
    State(state): State<AppState>,
    client: ClientAddress,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<impl IntoResponse> {
    let services = &state.services;
    let session = services
        .auth
        .login(&services.ledger, &body.username, &body.password, client)
        .await?;
    Ok(axum::Json(TokenBody {
        access_token: session.token,
        token_type: "bearer",
    }))
}

#[derive(Serialize)]
struct UserBody {
    id: ledger::UserId,
    username: String,
    email: String,
    created_at: chrono::DateTime<chrono::Utc>,
}

async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<impl IntoResponse> {
    let reader = bearer(&state, &headers).reader().await?;
    let user = state.services.reads.user(reader.user_id).await?;
    Ok(axum::Json(UserBody {
        id: user.id,
        username: user.username,
        email: user.email,
        created_at: user.created_at,
    }))
}

#[derive(Serialize)]
struct AccountBody {
    id: ledger::AccountId,
    account_number: String,
    balance: String,
    #[serde(rename = "type")]
    account_type: &'static str,
    currency: String,
}

async fn accounts(State(state): State<AppState>, headers: HeaderMap) -> Result<impl IntoResponse> {
    let reader = bearer(&state, &headers).reader().await?;
    let accounts = state.services.reads.accounts(reader.user_id).await?;
    Ok(axum::Json(
        accounts
            .into_iter()
            .map(|a| AccountBody {
                id: a.id,
                account_number: a.number,
                balance: a.balance.to_string(),
                account_type: a.account_type.as_str(),
                currency: a.currency,
            })
            .collect::<Vec<_>>(),
    ))
}

#[derive(Serialize)]
struct TransactionBody {
    id: i64,
    from_account: Option<ledger::AccountId>,
    to_account: ledger::AccountId,
    amount: String,
    description: Option<String>,
    timestamp: chrono::DateTime<chrono::Utc>,
}

impl From<ledger::Transaction> for TransactionBody {
    fn from(t: ledger::Transaction) -> TransactionBody {
        TransactionBody {
            id: t.id,
            from_account: t.from_account,
            to_account: t.to_account,
            amount: t.amount.to_string(),
            description: t.description,
            timestamp: t.created_at,
        }
    }
}

#[derive(Deserialize)]
struct HistoryQuery {
    account_id: String,
}

async fn transactions(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: std::result::Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<impl IntoResponse> {
    let reader = bearer(&state, &headers).reader().await?;
    let Query(query) =
        query.map_err(|_| ledger::Error::invalid(Input::Account, "account_id is required"))?;
    let account_id = ledger::AccountId::parse(&query.account_id, Input::Account)?;
    let page = state
        .services
        .reads
        .history(
            ledger::HistoryOf::Named {
                user_id: reader.user_id,
                account_id,
            },
            HISTORY_LIMIT,
            None,
        )
        .await?;
    Ok(axum::Json(
        page.items
            .into_iter()
            .map(TransactionBody::from)
            .collect::<Vec<_>>(),
    ))
}

#[derive(Deserialize)]
struct TransferBody {
    from_account: ledger::AccountId,
    to_account: ledger::AccountId,
    amount: serde_json::Value,
    #[serde(default)]
    description: Option<String>,
}

async fn transfer(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<TransferBody>,
) -> Result<impl IntoResponse> {
    let writer = bearer(&state, &headers).writer().await?;
    let amount = match &body.amount {
        serde_json::Value::String(text) => Money::parse_amount(text)?,
        _ => {
            return Err(Error::Ledger(ledger::Error::invalid(
                Input::Amount,
                "amount must be a decimal string such as \"12.34\"",
            )));
        }
    };
    let idempotency_key = match headers.get("idempotency-key") {
        Some(value) => IdempotencyKey::parse(value.to_str().map_err(|_| {
            ledger::Error::invalid(Input::IdempotencyKey, "Idempotency-Key must be ASCII")
        })?)?,
        None => IdempotencyKey::generate(),
    };
    let request = TransferRequest {
        from_account: body.from_account,
        to: Target::Id(body.to_account),
        amount,
        description: Description::parse(body.description.as_deref())?,
        idempotency_key,
    };
    let posted = state.services.transfer(writer.user_id, request).await?;
    let status = if posted.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        axum::Json(TransactionBody::from(posted.transaction)),
    ))
}
