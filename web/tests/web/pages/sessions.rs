//! Sessions that end, and what the web passes to the api for each request.

use reqwest::StatusCode;

use crate::support::TestWeb;

use super::each_setup;

#[tokio::test]
async fn an_ended_session_lands_on_the_sign_in_page() {
    each_setup(|app| async move {
        app.sign_in("alice").await;
        let token = app.session_token().expect("session cookie");
        // Revoked elsewhere (the api's logout with the same token).
        let body = app
            .gql(Some(&token), "mutation { logout }", serde_json::json!({}))
            .await;
        assert_eq!(body["data"]["logout"], true, "{body}");
        let (status, at, body) = app.get("/").await;
        assert_eq!(status, StatusCode::OK, "{}", app.setup);
        assert_eq!(at, "/login?ended=1", "{}", app.setup);
        assert!(
            body.contains("Your session has ended"),
            "{}: {body}",
            app.setup
        );
        assert!(
            app.session_token().is_none(),
            "{}: the cookie is cleared",
            app.setup
        );

        // A token that was never valid (tampered, expired) ends the same way.
        let url = reqwest::Url::parse(&app.base).expect("url");
        app.jar
            .add_cookie_str("bank_session=not-a-real-token; Path=/", &url);
        let (_, at, _) = app.get("/transfer").await;
        assert_eq!(at, "/login?ended=1", "{}", app.setup);

        // Signing out ends the session at the api too.
        app.sign_in("alice").await;
        let token = app.session_token().expect("session cookie");
        let csrf = app.csrf("/").await;
        let (status, at, body) = app.post("/logout", &[("csrf", &csrf)]).await;
        assert_eq!(
            (status, at.as_str()),
            (StatusCode::OK, "/login"),
            "{}",
            app.setup
        );
        assert!(body.contains("You have signed out"), "{}", app.setup);
        let (_, at, _) = app.get("/").await;
        assert_eq!(at, "/login", "{}: the dashboard is closed", app.setup);
        let body = app
            .gql(Some(&token), "{ me { username } }", serde_json::json!({}))
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{body}"
        );
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn the_token_and_the_trace_context_are_passed_to_the_api() {
    use std::sync::{Arc, Mutex};

    use axum::http::HeaderMap;
    use axum::routing::post;

    // A stand-in api that remembers what it was sent.
    type Seen = Vec<(Option<String>, Option<String>)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let record = seen.clone();
    let fake = axum::Router::new().route(
        "/graphql",
        post(move |headers: HeaderMap| {
            let record = record.clone();
            async move {
                let get = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                record
                    .lock()
                    .expect("lock")
                    .push((get("authorization"), get("traceparent")));
                // Enough for the transfer form's two queries: accounts and payees.
                axum::Json(serde_json::json!({ "data": { "accounts": [], "payees": [] } }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move { axum::serve(listener, fake).await });
    let target = web::config::ApiTarget::Remote(url.parse().expect("url"));
    let app = TestWeb::start(crate::support::web_config(target), None, "fake api".into()).await;
    let base = reqwest::Url::parse(&app.base).expect("url");
    app.jar
        .add_cookie_str("bank_session=the-token; Path=/", &base);
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let response = app
        .client
        .get(app.url("/transfer"))
        .header("traceparent", traceparent)
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.expect("body");
    assert!(body.contains("no account to send money from"), "{body}");
    let seen = seen.lock().expect("lock").clone();
    let passed_on = (
        Some("Bearer the-token".to_owned()),
        Some(traceparent.to_owned()),
    );
    assert_eq!(
        seen,
        vec![passed_on.clone(), passed_on],
        "accounts and payees"
    );
    app.shutdown().await;
    server.abort();
}
