//! The web reads no api message: with every error message (GraphQL `message`, REST
//! `detail`) replaced by nonsense on the way, every form still puts each refusal beside
//! its field, in its own words. The real api, in split mode, behind a small proxy here
//! that rewrites the messages and passes everything else through.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Response};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{TestWeb, hidden};

const NONSENSE: &str = "zq-7 wibble: target amount description username to from";

/// Replaces the message of every GraphQL error and the `detail` of a REST refusal.
fn scramble(value: &mut Value) {
    if let Some(errors) = value.get_mut("errors").and_then(Value::as_array_mut) {
        for error in errors {
            error["message"] = Value::String(NONSENSE.to_owned());
        }
    }
    if value.get("detail").is_some() {
        value["detail"] = Value::String(NONSENSE.to_owned());
    }
}

#[derive(Clone)]
struct Upstream {
    base: String,
    http: reqwest::Client,
}

async fn forward(State(up): State<Upstream>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(body) => body,
        Err(_) => return AxumStatus::PAYLOAD_TOO_LARGE.into_response(),
    };
    let url = format!(
        "{}{}",
        up.base,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            headers.append(name.clone(), value.clone());
        }
    }
    let answer = match up
        .http
        .request(parts.method, url)
        .headers(headers)
        .body(body)
        .send()
        .await
    {
        Ok(answer) => answer,
        Err(_) => return AxumStatus::BAD_GATEWAY.into_response(),
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let bytes = answer.bytes().await.unwrap_or_default();
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(mut value) if json => {
            scramble(&mut value);
            Bytes::from(serde_json::to_vec(&value).unwrap_or_default())
        }
        _ => bytes,
    };
    let mut response = (status, body).into_response();
    for (name, value) in &headers {
        if name != "content-length" && name != "transfer-encoding" {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }
    response
}

/// The api (its own database, seeded), the proxy in front of it, and the web pointed at
/// the proxy.
async fn start() -> (
    TestWeb,
    String,
    testkit::TestDatabase,
    tokio::task::JoinHandle<()>,
) {
    let database = testkit::TestDatabase::new(testkit::Backend::Sqlite).await;
    let api_app = api::Application::build(crate::support::api_config(&database, None))
        .await
        .expect("api");
    let api_base = format!("http://127.0.0.1:{}", api_app.listeners().port());
    let api = tokio::spawn(async move {
        let _ = api_app.run_until(std::future::pending()).await;
    });
    let proxy = axum::Router::new().fallback(forward).with_state(Upstream {
        base: api_base.clone(),
        http: reqwest::Client::new(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the proxy");
    let proxy_addr: SocketAddr = listener.local_addr().expect("address");
    let proxy_task = tokio::spawn(async move {
        let _ = axum::serve(listener, proxy).await;
    });
    let target = web::config::ApiTarget::Remote(
        format!("http://{proxy_addr}/graphql").parse().expect("url"),
    );
    let mut app =
        TestWeb::start(crate::support::web_config(target), None, "scrambled".into()).await;
    app.api_base = api_base;
    let both = tokio::spawn(async move {
        let _ = tokio::join!(api, proxy_task);
    });
    (app, format!("http://{proxy_addr}"), database, both)
}

/// The message beside `field` on a refused form page.
fn beside(body: &str, field: &str) -> String {
    let marker = format!("id=\"{field}-error\" class=\"error-message\">");
    body.split(&marker)
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn every_form_puts_each_refusal_on_its_field_whatever_the_api_says() {
    let (app, proxy, database, servers) = start().await;
    // The api names the refusal in words; through the proxy, the words are nonsense.
    let query = serde_json::json!({
        "query": "mutation { login(username: \"alice\", password: \"wrong-password\") { token } }"
    });
    let direct = app
        .gql(
            None,
            query["query"].as_str().unwrap_or_default(),
            serde_json::json!({}),
        )
        .await;
    let message = direct["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty() && message != NONSENSE, "{direct}");
    let scrambled: Value = reqwest::Client::new()
        .post(format!("{proxy}/graphql"))
        .json(&query)
        .send()
        .await
        .expect("POST through the proxy")
        .json()
        .await
        .expect("JSON");
    assert_eq!(scrambled["errors"][0]["message"], NONSENSE, "{scrambled}");
    assert_eq!(
        scrambled["errors"][0]["extensions"]["code"],
        "INVALID_CREDENTIALS"
    );

    let mut pages = Vec::new();
    // Sign in: wrong password (INVALID_CREDENTIALS).
    let csrf = app.csrf("/login").await;
    let (status, _, body) = app
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", "not-the-password"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        beside(&body, "username").contains("Enter a correct username and password"),
        "{body}"
    );
    pages.push(body);

    // Sign up: a username taken (CONFLICT username).
    let csrf = app.csrf("/signup").await;
    let (status, _, body) = app
        .post(
            "/signup",
            &[
                ("csrf", &csrf),
                ("username", "alice"),
                ("email", "alice2@example.com"),
                ("password", "a-long-password"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        beside(&body, "username").contains("That username is taken"),
        "{body}"
    );
    pages.push(body);

    app.sign_in("alice").await;
    let alice = app.accounts("alice").await;
    let bob = app.accounts("bob").await;

    // Transfer, refused by the api at confirm: no such account (NOT_FOUND
    // toAccountNumber), more than the balance (INSUFFICIENT_FUNDS amount).
    for (to, amount, field, expected) in [
        (
            "0000000001",
            "5",
            "to",
            "There is no account with this number",
        ),
        (
            bob[0].1.as_str(),
            "9999",
            "amount",
            "more than the money in this account",
        ),
    ] {
        let (_, _, form) = app.get("/transfer").await;
        let csrf = hidden(&form, "csrf").expect("csrf");
        let key = hidden(&form, "key").expect("key");
        let fields = [
            ("csrf", csrf.as_str()),
            ("key", key.as_str()),
            ("from", alice[0].0.as_str()),
            ("to", to),
            ("amount", amount),
        ];
        let (status, _, body) = app.post("/transfer/confirm", &fields).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(beside(&body, field).contains(expected), "{field}: {body}");
        pages.push(body);
    }

    // Deposit: the form's key reused for another amount (CONFLICT idempotencyKey).
    let (_, _, form) = app.get("/deposit").await;
    let csrf = hidden(&form, "csrf").expect("csrf");
    let key = hidden(&form, "key").expect("key");
    for (amount, refused) in [("10", false), ("11", true)] {
        let (status, _, body) = app
            .post(
                "/deposit",
                &[
                    ("csrf", &csrf),
                    ("key", &key),
                    ("account", &alice[0].0),
                    ("amount", amount),
                ],
            )
            .await;
        if refused {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert!(
                beside(&body, "account").contains("already used for a different deposit"),
                "{body}"
            );
            pages.push(body);
        } else {
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }

    // Payees: the same number twice (CONFLICT accountNumber).
    for refused in [false, true] {
        let csrf = app.csrf("/payees").await;
        let (status, _, body) = app
            .post(
                "/payees",
                &[
                    ("csrf", &csrf),
                    ("name", "Bob"),
                    ("account_number", &bob[0].1),
                ],
            )
            .await;
        if refused {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert!(
                beside(&body, "account_number").contains("already saved a payee"),
                "{body}"
            );
            pages.push(body);
        } else {
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }

    // Open an account beyond the most one can hold (BAD_USER_INPUT, no field).
    let mut refused = None;
    for _ in 0..6 {
        let csrf = app.csrf("/accounts/open").await;
        let (status, _, body) = app
            .post("/accounts/open", &[("csrf", &csrf), ("type", "savings")])
            .await;
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            refused = Some(body);
            break;
        }
    }
    let body = refused.expect("the sixth account is refused");
    assert!(
        beside(&body, "type").contains("the most you can have"),
        "{body}"
    );
    pages.push(body);

    for body in &pages {
        assert!(!body.contains("zq-7") && !body.contains("wibble"), "{body}");
    }
    app.shutdown().await;
    servers.abort();
    drop(database);
}
