//! Writing answers: a GraphQL response in the negotiated media type with the status that
//! type calls for, and refusals of requests that never reached the schema.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use banking_common::error_code::ErrorCode;
use serde::Serialize;

use super::media::Answer;
use crate::graphql::guard;

/// The code every refusal carries, as async-graphql's own errors do: the client's doing.
const CODE: &str = ErrorCode::BadUserInput.as_str();

/// A response with no `data` entry: a request error (the document did not parse or
/// validate, or the variables did not fit).
#[derive(Serialize)]
struct RequestError<'a> {
    errors: &'a [async_graphql::ServerError],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
}

/// Whether the schema refused the request before running any of it. Execution always
/// produces `data` (null only when a non-null field failed, and then its error has a
/// path); a request error has neither.
fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// The schema's response. As `application/json` it is 200, as before the newer type
/// existed. As `application/graphql-response+json` a request error is 400 and has no
/// `data`; an executed request is 200 even with field errors (its `data` says what ran).
/// A document the guards refused (`graphql::guard`) is 400 in either type, like a body
/// over the size limit: the request as a whole was too much.
pub fn graphql(answer: Answer, response: async_graphql::Response) -> Response {
    let refused = response.errors.iter().any(guard::is_refusal);
    let request_error = answer == Answer::GraphQLResponse && is_request_error(&response);
    let written = if request_error {
        serde_json::to_vec(&RequestError {
            errors: &response.errors,
            extensions: &response.extensions,
        })
    } else {
        serde_json::to_vec(&response)
    };
    let body = match written {
        Ok(body) => body,
        // Values built by resolvers always serialize; should one not, say so plainly.
        Err(error) => {
            tracing::error!(%error, "a GraphQL response could not be written as JSON");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(CONTENT_TYPE, Answer::Json.content_type())],
                r#"{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#,
            )
                .into_response();
        }
    };
    let status = if request_error || refused {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut http = (status, body).into_response();
    let headers = http.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(answer.content_type()),
    );
    headers.append(VARY, HeaderValue::from_static("Accept"));
    if response.is_ok()
        && let Some(value) = response.cache_control.value()
        && let Ok(value) = HeaderValue::from_str(&value)
    {
        headers.insert(CACHE_CONTROL, value);
    }
    headers.extend(response.http_headers);
    http
}

/// A request refused before the schema saw it, in the same shape as a GraphQL error.
pub fn refusal(answer: Answer, status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": CODE } }]
    });
    (
        status,
        [(CONTENT_TYPE, answer.content_type()), (VARY, "Accept")],
        body.to_string(),
    )
        .into_response()
}

/// 406: the `Accept` header allows neither answer type. The explanation is JSON all the
/// same, the one type every client can read.
pub fn not_acceptable() -> Response {
    refusal(
        Answer::Json,
        StatusCode::NOT_ACCEPTABLE,
        "the Accept header allows neither application/graphql-response+json nor application/json",
    )
}
