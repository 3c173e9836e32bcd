//! How much of a request body the api reads, and how many large ones at once.
//!
//! Ordinary requests are small: a body of up to `SMALL_BODY` is read for anyone. A larger
//! GraphQL document, up to `MAX_BODY`, is read only when it says how large it is (`Content-Length`)
//! and one of `LARGE_AT_ONCE` places is free, so a crowd of clients sending large bodies
//! cannot hold more than `LARGE_AT_ONCE × MAX_BODY` of memory between them. A hostile
//! document (nested 100,000 deep) is therefore read in full and refused with a clear 400
//! by the GraphQL guards rather than cut off half-way.

use banking_common::error_code::ErrorCode;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

/// Read for anyone.
pub const SMALL_BODY: usize = 64 * 1024;
/// The most any request may send; more is 413 before anything parses it.
pub const MAX_BODY: usize = 1024 * 1024;
/// Requests with a body over `SMALL_BODY` being read or handled at once.
const LARGE_AT_ONCE: usize = 4;
/// How long a large request waits for a place before it is told to come back.
const LARGE_WAIT: Duration = Duration::from_secs(2);

/// The places for large bodies, shared by every connection of the process.
#[derive(Clone)]
pub struct LargeBodies(Arc<Semaphore>);

impl Default for LargeBodies {
    fn default() -> Self {
        LargeBodies(Arc::new(Semaphore::new(LARGE_AT_ONCE)))
    }
}

fn declared_length(request: &Request) -> Option<usize> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn refuse(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": ErrorCode::BadUserInput.as_str() } }] });
    (status, axum::Json(body)).into_response()
}

/// Middleware: caps every body, and admits a large one (GraphQL documents only) with a
/// place free.
pub async fn limit(State(large): State<LargeBodies>, request: Request, next: Next) -> Response {
    let max = if request.uri().path() == "/graphql" {
        MAX_BODY
    } else {
        SMALL_BODY
    };
    match declared_length(&request) {
        Some(length) if length > max => refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the request body is over {max} bytes"),
        ),
        Some(length) if length > SMALL_BODY => {
            let Ok(Ok(_place)) =
                tokio::time::timeout(LARGE_WAIT, large.0.clone().acquire_owned()).await
            else {
                let mut response = refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many large requests at once; try again",
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
                return response;
            };
            // `_place` is held until the handler has answered.
            next.run(capped(request, MAX_BODY)).await
        }
        _ => next.run(capped(request, SMALL_BODY)).await,
    }
}

/// The request with its body cut off (an error to whoever reads it) past `limit` bytes,
/// whatever its headers say.
fn capped(request: Request, limit: usize) -> Request {
    let (parts, body) = request.into_parts();
    Request::from_parts(parts, Body::new(http_body_util::Limited::new(body, limit)))
}
