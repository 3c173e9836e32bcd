//! `/graphql` over HTTP, as the GraphQL-over-HTTP specification describes, in front of
//! the schema: which media type the answer is in (`Accept`), which bodies are read
//! (`Content-Type`), the request's parameters, and the status code for each outcome.
//! `docs/graphql-over-http.md` has the whole table and the choices made where the
//! specification leaves one.
//!
//! - `POST` with an `application/json` body runs any operation.
//! - `GET` with a `query` parameter runs queries only; a mutation is refused with 405.
//! - `GET` without `query` is the GraphiQL page, when it is enabled.

mod media;
mod params;
mod reply;
mod trusted;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::header::{ALLOW, AUTHORIZATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use banking_common::error_code::ErrorCode;
use tracing::Instrument;

use crate::app_state::AppState;
use crate::auth::{ClientAddress, RequestAuth};
use crate::body_limits::{MAX_BODY, SMALL_BODY};
use crate::graphql::guard;
use media::Answer;
use params::Malformed;
pub use trusted::Trusted;

/// `POST /graphql`: one operation in a JSON body.
pub async fn post(
    State(state): State<AppState>,
    client: ClientAddress,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(answer) = media::negotiate(&headers) else {
        return reply::not_acceptable();
    };
    if let Err(refusal) = media::check_body_type(&headers) {
        return reply::refusal(
            answer,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            refusal.message(),
        );
    }
    let body = match body {
        Ok(body) => body,
        // The body limits (`crate::body_limits`) cut a body that was longer than it said
        // or, without a length, longer than a small one may be.
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let message = format!(
                "the request body is too large: over {} KiB it must declare its Content-Length, and it may not exceed {} KiB",
                SMALL_BODY / 1024,
                MAX_BODY / 1024
            );
            return reply::refusal(answer, StatusCode::PAYLOAD_TOO_LARGE, &message);
        }
        Err(rejection) => {
            tracing::debug!(error = %rejection.body_text(), "unreadable GraphQL request body");
            return reply::refusal(
                answer,
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            );
        }
    };
    match params::from_json(&body) {
        Ok(request) => execute(&state, client, &headers, answer, request).await,
        Err(Malformed(message)) => reply::refusal(answer, StatusCode::BAD_REQUEST, &message),
    }
}

const TOO_LONG: &str = "the query string is longer than 64 KiB; send large requests with POST";

/// `GET /graphql`: a query in the URL, or the GraphiQL page.
pub async fn get(
    State(state): State<AppState>,
    client: ClientAddress,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let too_long = raw.as_deref().is_some_and(|raw| raw.len() > SMALL_BODY);
    let parsed = if too_long {
        Err(Malformed(TOO_LONG.to_owned()))
    } else {
        params::from_query_string(raw.as_deref())
    };
    if matches!(parsed, Ok(None)) && state.services.config.graphiql {
        return crate::graphiql::page();
    }
    let Some(answer) = media::negotiate(&headers) else {
        return reply::not_acceptable();
    };
    let mut request = match parsed {
        Ok(Some(request)) => request,
        Ok(None) => {
            return reply::refusal(
                answer,
                StatusCode::BAD_REQUEST,
                "the request has no `query` parameter",
            );
        }
        Err(Malformed(message)) if too_long => {
            return reply::refusal(answer, StatusCode::URI_TOO_LONG, &message);
        }
        Err(Malformed(message)) => {
            return reply::refusal(answer, StatusCode::BAD_REQUEST, &message);
        }
    };
    // A GET must not change anything: it may be prefetched, cached or replayed, and a
    // link can make a browser send one. A document that does not parse, or that the
    // guard's text scan would refuse before parsing, goes on unparsed here, so the schema
    // refuses it as it does in a POST (and runs nothing).
    let operation_name = request.operation_name.clone();
    if guard::check_nesting(&request.query).is_ok()
        && let Ok(document) = request.parsed_query()
        && !runs_only_a_query(document, operation_name.as_deref())
    {
        let mut response = reply::refusal(
            answer,
            StatusCode::METHOD_NOT_ALLOWED,
            "only queries can be sent with GET; send mutations with POST",
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(&state, client, &headers, answer, request).await
}

/// Whether the operation the request selects is a query. When the selection is unclear
/// (an unknown name, several operations and none named) every operation must be one.
fn runs_only_a_query(document: &ExecutableDocument, name: Option<&str>) -> bool {
    let selected = match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(operation),
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name),
        (DocumentOperations::Multiple(_), None) => None,
    };
    match selected {
        Some(operation) => operation.node.ty == OperationType::Query,
        None => document
            .operations
            .iter()
            .all(|(_, operation)| operation.node.ty == OperationType::Query),
    }
}

/// Runs a request with the caller's credentials, labels async-graphql's own errors, counts
/// the outcome and writes the answer.
async fn execute(
    state: &AppState,
    client: ClientAddress,
    headers: &HeaderMap,
    answer: Answer,
    request: async_graphql::Request,
) -> Response {
    let bearer = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let auth = RequestAuth::from_header(state.services.auth.clone(), bearer);
    let operation = request.operation_name.clone();
    if let Some(name) = &operation {
        tracing::Span::current().record("graphql.operation", name.as_str());
    }
    // Sign-ins are throttled by where they come from.
    let mut request = request.data(auth).data(client);
    let mut response = match &state.trusted {
        None => state.schema.execute(request).await,
        Some(trusted) => match Trusted::key(&request) {
            None => state.schema.execute(request).await,
            Some(key) if trusted.prepare(&key, &mut request) => {
                let span = tracing::info_span!(target: "banking", "graphql.execute", graphql.trusted = true);
                trusted.schema().execute(request).instrument(span).await
            }
            Some(key) => {
                let query = request.query.clone();
                let response = state.schema.execute(request).await;
                trusted.admit(key, &query, operation.as_deref(), &response);
                response
            }
        },
    };
    // Errors raised by async-graphql itself (syntax, validation, limits, variable types)
    // carry no code; they are all the client's doing.
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", ErrorCode::BadUserInput.as_str());
        }
    }
    let outcome = response
        .errors
        .first()
        .and_then(|e| e.extensions.as_ref())
        .and_then(|ext| match ext.get("code") {
            Some(async_graphql::Value::String(code)) => Some(code.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "ok".to_owned());
    state
        .services
        .metrics
        .graphql_operation(operation.as_deref(), &outcome);
    reply::graphql(answer, response)
}
