//! `GET /events`: the signed-in session's postings as Server-Sent Events, relayed from
//! the api's subscription; bounded per session; ended when the session ends.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::support::TestWeb;

use super::each_setup;

/// Reads the stream until `wanted` appears in it, within `within`.
async fn until(
    stream: &mut reqwest::Response,
    seen: &mut String,
    wanted: &str,
    within: Duration,
) -> bool {
    let deadline = Instant::now() + within;
    while !seen.contains(wanted) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.chunk()).await {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            _ => return seen.contains(wanted),
        }
    }
    true
}

async fn move_money(app: &TestWeb, from: &str, to_number: &str) {
    let token = app.api_token(from).await;
    let accounts = app
        .gql(Some(&token), "{ accounts { id } }", json!({}))
        .await;
    let from_id = accounts["data"]["accounts"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let sent = app
        .gql(
            Some(&token),
            "mutation($input: TransferInput!) { transfer(input: $input) { id } }",
            json!({ "input": { "fromAccountId": from_id, "toAccountNumber": to_number, "amount": "3.00", "idempotencyKey": uuid::Uuid::new_v4().to_string() } }),
        )
        .await;
    assert!(sent["errors"].is_null(), "{sent}");
}

#[tokio::test]
async fn a_signed_in_session_hears_of_money_arriving_until_it_signs_out() {
    each_setup(|app| async move {
        let alice = app.accounts("alice").await;
        // Not signed in: no stream (the sign-in page instead).
        let anonymous = app
            .client
            .get(app.url("/events"))
            .send()
            .await
            .expect("GET");
        assert_ne!(
            anonymous
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("text/event-stream"),
            "{}",
            app.setup
        );

        app.sign_in("alice").await;
        let mut stream = app
            .client
            .get(app.url("/events"))
            .send()
            .await
            .expect("GET /events");
        assert_eq!(stream.status(), StatusCode::OK, "{}", app.setup);
        assert_eq!(
            stream.headers()["content-type"].to_str().ok(),
            Some("text/event-stream"),
            "{}",
            app.setup
        );
        let mut seen = String::new();
        assert!(
            until(
                &mut stream,
                &mut seen,
                "event: ready",
                Duration::from_secs(5)
            )
            .await,
            "{}: {seen}",
            app.setup
        );

        move_money(&app, "bob", &alice[0].1).await;
        let wanted = format!("event: posting\ndata: {{\"account\":\"{}\"}}", alice[0].1);
        assert!(
            until(&mut stream, &mut seen, &wanted, Duration::from_secs(2)).await,
            "{}: {seen}",
            app.setup
        );

        // Bounded per session: the default allows four at once.
        let mut more = Vec::new();
        for _ in 0..3 {
            let extra = app
                .client
                .get(app.url("/events"))
                .send()
                .await
                .expect("GET");
            assert_eq!(extra.status(), StatusCode::OK, "{}", app.setup);
            more.push(extra);
        }
        let refused = app
            .client
            .get(app.url("/events"))
            .send()
            .await
            .expect("GET");
        assert_eq!(
            refused.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            app.setup
        );
        drop(more);

        // Signing out ends the stream, though no money moves.
        let (_, _, dashboard) = app.get("/").await;
        let csrf = crate::support::hidden(&dashboard, "csrf").expect("csrf");
        let started = Instant::now();
        app.post("/logout", &[("csrf", &csrf)]).await;
        assert!(
            until(
                &mut stream,
                &mut seen,
                "event: ended",
                Duration::from_secs(3)
            )
            .await,
            "{}: {seen}",
            app.setup
        );
        let end = tokio::time::timeout(Duration::from_secs(2), stream.chunk()).await;
        assert!(
            matches!(end, Ok(Ok(None))),
            "{}: the stream goes on: {end:?}",
            app.setup
        );
        assert!(started.elapsed() < Duration::from_secs(3), "{}", app.setup);
    })
    .await;
}
