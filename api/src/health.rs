//! `/ping` (the process is up: liveness), `/ready` (migrated and pools built) and
//! `/health` (the database and the cache answer; 503 when one does not: readiness).

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::app_state::AppState;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ping", get(ping))
        .route("/ready", get(ready))
        .route("/health", get(health))
}

async fn ping() -> &'static str {
    "pong"
}

async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    if state.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting")
    }
}

async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let services = &state.services;
    let database = tokio::time::timeout(
        CHECK_TIMEOUT,
        services.ledger.db().execute_unprepared("SELECT 1"),
    )
    .await
    .map_err(|_| "timed out".to_owned())
    .and_then(|r| r.map(|_| ()).map_err(|e| e.to_string()));
    let cache = tokio::time::timeout(CHECK_TIMEOUT, services.cache.ping())
        .await
        .map_err(|_| "timed out".to_owned())
        .and_then(|r| r.map_err(|e| e.to_string()));
    let up = database.is_ok() && cache.is_ok();
    let component = |result: &Result<(), String>| match result {
        Ok(()) => json!({ "status": "up" }),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            json!({ "status": "down" })
        }
    };
    let mut cache_json = component(&cache);
    cache_json["kind"] = json!(services.cache.kind());
    let body = json!({
        "status": if up { "up" } else { "down" },
        "database": component(&database),
        "cache": cache_json,
    });
    let status = if up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}
