//! GraphQL over HTTP at `/graphql`, as a client sees it: the media type an answer is
//! written in, the status code for each outcome, which bodies and methods are accepted,
//! and plain messages for malformed requests. The same ground `graphql-http`'s audit
//! covers (scripts/graphql-http-audit.mjs), without node.

use std::time::Duration;

use crate::support::{CacheKind, TestApp, error_code};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, ALLOW, CONTENT_TYPE};
use serde_json::{Value, json};
use testkit::Backend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const NEWER: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

async fn app() -> TestApp {
    TestApp::spawn(Backend::Sqlite, CacheKind::Memory).await
}

/// What came back: status, the media type (without parameters) and the body as JSON
/// (`Value::Null` when it is not JSON).
struct Answer {
    status: StatusCode,
    media: String,
    headers: reqwest::header::HeaderMap,
    body: Value,
    text: String,
}

async fn read(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        media,
        headers,
        body,
        text,
    }
}

impl TestApp {
    /// POST /graphql with a JSON body and the given `Accept` (none when `None`).
    async fn post_accepting(&self, accept: Option<&str>, body: Value) -> Answer {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .header(CONTENT_TYPE, JSON)
            .body(body.to_string());
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        read(request.send().await.expect("POST /graphql")).await
    }

    async fn post_raw(&self, content_type: Option<&str>, accept: &str, body: &str) -> Answer {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .header(ACCEPT, accept)
            .body(body.to_owned());
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        read(request.send().await.expect("POST /graphql")).await
    }

    async fn get_graphql(&self, accept: &str, params: &[(&str, &str)]) -> Answer {
        let response = self
            .client
            .get(format!("{}/graphql", self.base))
            .query(params)
            .header(ACCEPT, accept)
            .send()
            .await
            .expect("GET /graphql");
        read(response).await
    }
}

#[tokio::test]
async fn the_answer_is_in_the_type_the_client_accepts() {
    let app = app().await;
    let typename = json!({ "query": "{ __typename }" });
    let cases: &[(Option<&str>, StatusCode, &str)] = &[
        (None, StatusCode::OK, JSON),
        (Some("*/*"), StatusCode::OK, JSON),
        (Some("application/*"), StatusCode::OK, JSON),
        (Some(JSON), StatusCode::OK, JSON),
        (Some(NEWER), StatusCode::OK, NEWER),
        (
            Some("application/graphql-response+json, application/json;q=0.9"),
            StatusCode::OK,
            NEWER,
        ),
        (Some("application/json, */*;q=0.5"), StatusCode::OK, JSON),
        (
            Some("text/html,application/xhtml+xml,*/*;q=0.8"),
            StatusCode::OK,
            JSON,
        ),
        (Some("text/html"), StatusCode::NOT_ACCEPTABLE, JSON),
        (Some("application/xml"), StatusCode::NOT_ACCEPTABLE, JSON),
        (
            Some("application/json;q=0"),
            StatusCode::NOT_ACCEPTABLE,
            JSON,
        ),
    ];
    for (accept, status, media) in cases {
        let answer = app.post_accepting(*accept, typename.clone()).await;
        assert_eq!(answer.status, *status, "Accept {accept:?}: {}", answer.text);
        assert_eq!(answer.media, *media, "Accept {accept:?}: {}", answer.text);
        assert!(
            answer
                .headers
                .get(CONTENT_TYPE)
                .is_some_and(|v| v.to_str().unwrap_or("").contains("charset=utf-8"))
        );
        if answer.status == StatusCode::OK {
            assert_eq!(answer.body, json!({ "data": { "__typename": "Query" } }));
        } else {
            assert_eq!(
                error_code(&answer.body),
                Some("BAD_USER_INPUT"),
                "{}",
                answer.text
            );
        }
    }
}

#[tokio::test]
async fn request_errors_are_400_without_data_only_in_the_newer_type() {
    let app = app().await;
    let requests = [
        ("a syntax error", json!({ "query": "{" })),
        (
            "an unknown field",
            json!({ "query": "{ 8f31403dfe404bccbb0e835f2629c6a7 }" }),
        ),
        (
            "a variable that does not coerce",
            json!({ "query": "query CoerceFailure($id: ID!) { __typename }", "variables": { "id": null } }),
        ),
        (
            "a variable of the wrong type",
            json!({ "query": "query($n: Int!) { __typename }", "variables": { "n": "many" } }),
        ),
        (
            "an unknown operation name",
            json!({ "query": "query A { __typename }", "operationName": "B" }),
        ),
        (
            "a document over the depth limit",
            json!({ "query": "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } }" }),
        ),
    ];
    for (what, body) in requests {
        let newer = app.post_accepting(Some(NEWER), body.clone()).await;
        assert_eq!(
            newer.status,
            StatusCode::BAD_REQUEST,
            "{what}: {}",
            newer.text
        );
        assert_eq!(newer.media, NEWER, "{what}");
        assert!(
            newer.body.get("data").is_none(),
            "{what}: a request error has no data entry: {}",
            newer.text
        );
        assert_eq!(error_code(&newer.body), Some("BAD_USER_INPUT"), "{what}");

        // application/json keeps the answer older clients know: 200, `data: null`.
        let json = app.post_accepting(Some(JSON), body).await;
        assert_eq!(json.status, StatusCode::OK, "{what}: {}", json.text);
        assert_eq!(json.media, JSON, "{what}");
        assert_eq!(json.body.get("data"), Some(&Value::Null), "{what}");
        assert_eq!(error_code(&json.body), Some("BAD_USER_INPUT"), "{what}");
        assert_eq!(
            json.body["errors"][0]["message"], newer.body["errors"][0]["message"],
            "{what}: the same error either way"
        );
    }
}

#[tokio::test]
async fn an_executed_request_is_200_even_when_a_field_fails() {
    let app = app().await;
    // Without a token `me` fails; the request itself was fine and ran.
    let answer = app
        .post_accepting(Some(NEWER), json!({ "query": "{ me { id } }" }))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.media, NEWER);
    assert_eq!(
        answer.body.get("data"),
        Some(&Value::Null),
        "{}",
        answer.text
    );
    assert_eq!(error_code(&answer.body), Some("UNAUTHENTICATED"));
    assert_eq!(answer.body["errors"][0]["path"], json!(["me"]));
}

#[tokio::test]
async fn the_bearer_token_works_with_either_answer_type() {
    let app = app().await;
    let alice = app.customer("alice").await;
    for accept in [NEWER, JSON] {
        let response = app
            .client
            .post(format!("{}/graphql", app.base))
            .header(ACCEPT, accept)
            .bearer_auth(&alice.token)
            .json(&json!({ "query": "{ me { username } }" }))
            .send()
            .await
            .expect("POST");
        let answer = read(response).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(
            answer.body,
            json!({ "data": { "me": { "username": "alice" } } })
        );
    }
    // And over GET.
    let response = app
        .client
        .get(format!("{}/graphql", app.base))
        .query(&[("query", "{ me { username } }")])
        .bearer_auth(&alice.token)
        .send()
        .await
        .expect("GET");
    let answer = read(response).await;
    assert_eq!(
        answer.body,
        json!({ "data": { "me": { "username": "alice" } } })
    );
}

#[tokio::test]
async fn a_post_body_is_read_only_as_utf8_json() {
    let app = app().await;
    let body = r#"{"query":"{ __typename }"}"#;
    let cases: &[(Option<&str>, StatusCode)] = &[
        (None, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (Some("text/plain"), StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (
            Some("application/graphql"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            Some("application/x-www-form-urlencoded"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            Some("multipart/form-data; boundary=x"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            Some("application/json; charset=iso-8859-1"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (Some("application/json"), StatusCode::OK),
        (Some("application/json; charset=utf-8"), StatusCode::OK),
        (Some("Application/JSON; Charset=\"UTF-8\""), StatusCode::OK),
    ];
    for (content_type, status) in cases {
        for accept in [NEWER, JSON] {
            let answer = app.post_raw(*content_type, accept, body).await;
            assert_eq!(answer.status, *status, "{content_type:?}: {}", answer.text);
            assert_eq!(answer.media, accept, "{content_type:?}");
            if *status != StatusCode::OK {
                assert_eq!(error_code(&answer.body), Some("BAD_USER_INPUT"));
                assert!(answer.body.get("data").is_none());
            }
        }
    }
    // Non-ASCII text arrives intact.
    let answer = app
        .post_raw(
            Some("application/json; charset=utf-8"),
            JSON,
            r#"{"query":"{ __type(name: \"Run🏃Swim🏊\") { name } }"}"#,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.body, json!({ "data": { "__type": null } }));
}

#[tokio::test]
async fn malformed_bodies_get_a_plain_400() {
    let app = app().await;
    let cases = [
        (
            "",
            "the request body is empty; send a JSON object with a `query` string",
        ),
        ("{ \"not a JSON", "the request body is not valid JSON"),
        ("\u{0}", "the request body is not valid JSON"),
        (
            "{\"query\": \"{ a }\"",
            "the request body is not valid JSON",
        ),
        (
            "null",
            "the request body must be a JSON object with a `query` string",
        ),
        (
            "[]",
            "batched requests are not supported; send one JSON object with a `query` string",
        ),
        (
            "{\"notquery\":\"{ __typename }\"}",
            "the request has no `query`",
        ),
        ("{\"query\":5}", "`query` must be a string"),
        ("{\"query\":[\"array\"]}", "`query` must be a string"),
        (
            "{\"query\":\"{ __typename }\",\"operationName\":{\"obj\":\"ect\"}}",
            "`operationName` must be a string or null",
        ),
        (
            "{\"query\":\"{ __typename }\",\"variables\":\"string\"}",
            "`variables` must be a JSON object or null",
        ),
        (
            "{\"query\":\"{ __typename }\",\"variables\":false}",
            "`variables` must be a JSON object or null",
        ),
        (
            "{\"query\":\"{ __typename }\",\"extensions\":[\"array\"]}",
            "`extensions` must be a JSON object or null",
        ),
    ];
    for (body, message) in cases {
        for accept in [NEWER, JSON, "*/*"] {
            let answer = app.post_raw(Some(JSON), accept, body).await;
            assert_eq!(
                answer.status,
                StatusCode::BAD_REQUEST,
                "{body:?}: {}",
                answer.text
            );
            assert_eq!(
                answer.body,
                json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_USER_INPUT" } }] }),
                "{body:?} ({accept})"
            );
        }
    }
}

#[tokio::test]
async fn null_and_map_parameters_are_allowed() {
    let app = app().await;
    for parameter in ["variables", "operationName", "extensions"] {
        let mut body = json!({ "query": "{ __typename }" });
        body[parameter] = Value::Null;
        let answer = app.post_accepting(Some(NEWER), body).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{parameter}: {}",
            answer.text
        );
        assert_eq!(answer.body, json!({ "data": { "__typename": "Query" } }));
    }
    let answer = app
        .post_accepting(
            Some(JSON),
            json!({
                "query": "query Type($name: String!) { __type(name: $name) { name } }",
                "operationName": "Type",
                "variables": { "name": "Account" },
                "extensions": { "some": "value" },
            }),
        )
        .await;
    assert_eq!(
        answer.body,
        json!({ "data": { "__type": { "name": "Account" } } })
    );
}

#[tokio::test]
async fn too_large_bodies_are_413_with_or_without_a_length() {
    let app = app().await;
    // Over the 1 MiB any request may declare.
    let oversized =
        json!({ "query": format!("{{ __typename }} #{}", "x".repeat(1100 * 1024)) }).to_string();
    let answer = app.post_raw(Some(JSON), NEWER, &oversized).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    // 70 KiB with its length declared is read (and runs).
    let huge =
        json!({ "query": format!("{{ __typename }} #{}", "x".repeat(70 * 1024)) }).to_string();
    let answer = app.post_raw(Some(JSON), NEWER, &huge).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);

    // The same 70 KiB chunked, without a length: over what a body of unknown length may
    // be, and only found out while reading.
    let mut request = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: {NEWER}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for chunk in huge.as_bytes().chunks(8 * 1024) {
        request.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend(chunk);
        request.extend(b"\r\n");
    }
    request.extend(b"0\r\n\r\n");
    let reply = raw_http(&app, &request).await;
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(
        reply.contains("over 64 KiB it must declare its Content-Length"),
        "{reply}"
    );
}

#[tokio::test]
async fn documents_the_guards_refuse_are_400_in_either_type_and_over_get() {
    let app = app().await;
    let deep = format!(
        "{{ __typename(a: {}1{}) }}",
        "[".repeat(100),
        "]".repeat(100)
    );
    for accept in [NEWER, JSON] {
        let answer = app
            .post_accepting(Some(accept), json!({ "query": deep }))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
        assert_eq!(error_code(&answer.body), Some("BAD_USER_INPUT"));
        assert_eq!(answer.body["errors"][0]["extensions"]["limit"], "nesting");
        // A GET is refused by the same guard, before anything parses it.
        let answer = app.get_graphql(accept, &[("query", &deep)]).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
        assert_eq!(answer.body["errors"][0]["extensions"]["limit"], "nesting");
    }
    let mutation = format!(
        "mutation {{ logout(a: {}1{}) }}",
        "[".repeat(100),
        "]".repeat(100)
    );
    let answer = app.get_graphql(NEWER, &[("query", &mutation)]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
}

/// Sends bytes as they are (for requests reqwest will not make) and reads the reply.
async fn raw_http(app: &TestApp, request: &[u8]) -> String {
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    // The server may answer and close before it has read everything; that is fine.
    let _ = stream.write_all(request).await;
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply)).await;
    String::from_utf8_lossy(&reply).into_owned()
}

#[tokio::test]
async fn get_runs_queries_and_refuses_mutations() {
    let app = app().await;
    for accept in [NEWER, JSON] {
        let answer = app
            .get_graphql(
                accept,
                &[
                    (
                        "query",
                        "query Type($name: String!) { __type(name: $name) { name } }",
                    ),
                    ("variables", r#"{"name":"Account"}"#),
                ],
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.media, accept);
        assert_eq!(
            answer.body,
            json!({ "data": { "__type": { "name": "Account" } } })
        );
    }

    // A mutation over GET is refused before it runs: the user is never created.
    let signup = r#"mutation { signup(input: { username: "mallory", password: "correct horse battery", email: "m@example.com" }) { token } }"#;
    for accept in [NEWER, JSON] {
        let answer = app.get_graphql(accept, &[("query", signup)]).await;
        assert_eq!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{}",
            answer.text
        );
        assert_eq!(
            answer.headers.get(ALLOW).and_then(|v| v.to_str().ok()),
            Some("POST")
        );
        assert_eq!(error_code(&answer.body), Some("BAD_USER_INPUT"));
    }
    let login = app
        .gql(
            None,
            "mutation { login(username: \"mallory\", password: \"correct horse battery\") { token } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&login), Some("INVALID_CREDENTIALS"), "{login}");

    // With several operations, the selected one decides; an unclear selection is refused.
    let both = "query Q { __typename } mutation M { logout }";
    let selected = app
        .get_graphql(NEWER, &[("query", both), ("operationName", "Q")])
        .await;
    assert_eq!(selected.status, StatusCode::OK, "{}", selected.text);
    for params in [
        vec![("query", both), ("operationName", "M")],
        vec![("query", both)],
    ] {
        let answer = app.get_graphql(NEWER, &params).await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{params:?}");
    }

    // Request errors over GET follow the same rules as over POST.
    let broken = app.get_graphql(NEWER, &[("query", "{")]).await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert!(broken.body.get("data").is_none());
    let broken = app.get_graphql(JSON, &[("query", "{")]).await;
    assert_eq!(broken.status, StatusCode::OK);
    for params in [
        vec![("query", "{ __typename }"), ("variables", "not json")],
        vec![("query", "{ __typename }"), ("variables", "[1]")],
        vec![("query", "{ __typename }"), ("extensions", "\"s\"")],
        vec![("query", "{ __typename }"), ("query", "{ __typename }")],
    ] {
        let answer = app.get_graphql(NEWER, &params).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{params:?}: {}",
            answer.text
        );
        assert_eq!(error_code(&answer.body), Some("BAD_USER_INPUT"));
    }
    // A query string over 64 KiB (more than reqwest will even build a URL for).
    let long = format!(
        "GET /graphql?query=%7B__typename%7D%23{} HTTP/1.1\r\nHost: x\r\nAccept: {NEWER}\r\nConnection: close\r\n\r\n",
        "x".repeat(70 * 1024)
    );
    let reply = raw_http(&app, long.as_bytes()).await;
    assert!(
        reply.starts_with("HTTP/1.1 414"),
        "{}",
        &reply[..reply.len().min(200)]
    );
    let answer = app
        .get_graphql("text/html", &[("query", "{ __typename }")])
        .await;
    assert_eq!(answer.status, StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn get_without_a_query_is_graphiql_or_a_400() {
    let app = app().await;
    let page = app
        .client
        .get(format!("{}/graphql", app.base))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("GET");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .expect("page")
            .to_lowercase()
            .contains("graphiql")
    );

    let database = testkit::TestDatabase::new(Backend::Sqlite).await;
    let mut config = crate::support::config_for(&database, &CacheKind::Memory);
    config.graphiql = false;
    let closed = TestApp::spawn_with(database, config, "no GraphiQL".into()).await;
    let answer = closed.get_graphql(JSON, &[]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    assert_eq!(
        answer.body["errors"][0]["message"],
        "the request has no `query` parameter"
    );
    let answer = closed
        .get_graphql(JSON, &[("query", "{ __typename }")])
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}
