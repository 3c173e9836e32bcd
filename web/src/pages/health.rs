//! `/healthz`: the process is up. `/readyz`: the api answers its readiness check.

use axum::extract::State;
use axum::http::StatusCode;

use super::state::WebState;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<WebState>) -> (StatusCode, &'static str) {
    if state.api.ready().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "the api is not ready")
    }
}
