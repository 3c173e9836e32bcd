use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use serde::de::DeserializeOwned;

use crate::app_state::AppState;
use crate::auth::RequestAuth;
use crate::error::Error;
use crate::ledger;

/// JSON whose rejections (bad syntax, wrong types, wrong content type) are our 422s
/// with a clear message, not axum's plain-text ones.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(Error::Ledger(ledger::Error::invalid_request(describe(
                &rejection,
            )))),
        }
    }
}

fn describe(rejection: &JsonRejection) -> String {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "expected a JSON body (Content-Type: application/json)".into()
        }
        JsonRejection::JsonSyntaxError(_) => "the body is not valid JSON".into(),
        JsonRejection::JsonDataError(e) => format!("the JSON body does not fit: {}", e.body_text()),
        _ => "the body could not be read".into(),
    }
}

pub fn bearer(state: &AppState, headers: &HeaderMap) -> RequestAuth {
    let header = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    RequestAuth::from_header(state.services.auth.clone(), header)
}
