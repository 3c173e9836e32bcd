//! Hostile documents are refused before a resolver (or the database) sees them: the
//! requests below carry no token, so reaching a resolver would answer UNAUTHENTICATED.

use crate::support::{CacheKind, TestApp, error_code};
use serde_json::json;
use testkit::Backend;

#[tokio::test]
async fn deep_queries_alias_bombs_and_huge_bodies_are_refused_early() {
    let app = TestApp::spawn(Backend::Sqlite, CacheKind::Memory).await;

    // Depth: introspection types nest as deep as one likes; 19 levels is over the limit of
    // 16 (which the standard introspection query, 15 deep, stays under).
    let chain = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(14),
        "} ".repeat(14)
    );
    let deep_body = app.gql(None, &chain, json!({})).await;
    assert_eq!(
        error_code(&deep_body),
        Some("BAD_USER_INPUT"),
        "{deep_body}"
    );
    assert!(
        deep_body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
            .contains("nested too deep"),
        "{deep_body}"
    );

    // Alias bomb: a thousand copies of a list field, 3,000 selections: refused by the guard
    // before validation (400, as for any document over the guards' limits).
    let bomb = format!(
        "{{ {} }}",
        (0..1000)
            .map(|i| format!("a{i}: accounts {{ id balance }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": bomb }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 400);
    let bomb_body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(
        error_code(&bomb_body),
        Some("BAD_USER_INPUT"),
        "{bomb_body}"
    );
    assert_eq!(bomb_body["errors"][0]["extensions"]["limit"], "selections");

    // Within the guards' limits, the complexity limit still counts: 150 aliases of a page
    // of history each (750 selections).
    let costly = format!(
        "{{ {} }}",
        (0..150)
            .map(|i| format!(
                "a{i}: accounts {{ transactions(first: 50) {{ edges {{ node {{ id }} }} }} }}"
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let costly_body = app.gql(None, &costly, json!({})).await;
    assert_eq!(
        error_code(&costly_body),
        Some("BAD_USER_INPUT"),
        "{costly_body}"
    );
    assert!(
        costly_body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
            .contains("complex"),
        "{costly_body}"
    );

    // A page size that would make the query too expensive is refused the same way.
    let wide = app.gql(None, "{ accounts { transactions(first: 100000) { edges { node { id amount description } } } } }", json!({})).await;
    assert_eq!(error_code(&wide), Some("BAD_USER_INPUT"), "{wide}");

    // A body over the limit (1 MiB for GraphQL documents): 413 before parsing.
    let huge = format!("{{ me {{ id }} }} #{}", "x".repeat(1100 * 1024));
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": huge }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 413);
    let response = app
        .client
        .post(format!("{}/api/auth/login", app.base))
        .header("content-type", "application/json")
        .body(format!(
            "{{\"username\":\"{}\",\"password\":\"x\"}}",
            "a".repeat(100 * 1024)
        ))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 413);

    // Malformed JSON bodies: a clear 4xx, never a 5xx.
    for body in ["{", "null", "[]", "\u{0}", "{\"query\": 5}"] {
        let response = app
            .client
            .post(format!("{}/graphql", app.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("POST");
        assert!(
            response.status().is_client_error() || response.status() == 200,
            "{body:?}: {}",
            response.status()
        );
        assert!(!response.status().is_server_error());
    }
}

#[tokio::test]
async fn a_document_validated_once_is_still_refused_when_its_variables_make_it_too_costly() {
    // Parsed documents and validations are remembered; the variables are part of what a
    // validation is remembered under, so a cheap run cannot vouch for an expensive one.
    let app = TestApp::spawn(Backend::Sqlite, CacheKind::Memory).await;
    let query = "query($n: Int) { accounts { transactions(first: $n) { edges { node { id amount description } } } } }";
    for _ in 0..2 {
        let cheap = app.gql(None, query, json!({ "n": 5 })).await;
        assert_eq!(
            error_code(&cheap),
            Some("UNAUTHENTICATED"),
            "validated, then refused for want of a token: {cheap}"
        );
        let costly = app.gql(None, query, json!({ "n": 100000 })).await;
        assert_eq!(error_code(&costly), Some("BAD_USER_INPUT"), "{costly}");
    }
    // A syntax error is never remembered as a document.
    for _ in 0..2 {
        let broken = app.gql(None, "{ accounts { id ", json!({})).await;
        assert_eq!(error_code(&broken), Some("BAD_USER_INPUT"), "{broken}");
    }
}

/// The trusted path (`graphql_http/trusted.rs`): a query identical to one the full schema
/// let through runs without extensions. It answers exactly as the full path did, each
/// caller still gets only their own data (the token is no part of what is trusted), a
/// caller without a token is still refused, and other variables are checked afresh.
#[tokio::test]
async fn a_query_run_on_the_trusted_path_answers_as_the_full_schema_did() {
    let app = TestApp::spawn(Backend::Sqlite, CacheKind::Memory).await;
    let alice = app.customer("alice").await;
    let bob = app.customer("bob").await;
    app.deposit(&alice, "12.34").await;
    let query = "query($n: Int) { accounts { id accountNumber balance transactions(first: $n) { edges { node { amount } } } } }";
    let first = app.gql(Some(&alice.token), query, json!({ "n": 5 })).await;
    assert_eq!(first["data"]["accounts"][0]["balance"], "12.34", "{first}");
    for _ in 0..3 {
        let again = app.gql(Some(&alice.token), query, json!({ "n": 5 })).await;
        assert_eq!(again, first, "the same answer on the trusted path");
    }
    let bobs = app.gql(Some(&bob.token), query, json!({ "n": 5 })).await;
    assert_eq!(
        bobs["data"]["accounts"][0]["id"],
        bob.account_id.as_str(),
        "{bobs}"
    );
    assert_eq!(bobs["data"]["accounts"][0]["balance"], "0.00", "{bobs}");
    let anonymous = app.gql(None, query, json!({ "n": 5 })).await;
    assert_eq!(
        error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );
    let costly = app
        .gql(Some(&alice.token), query, json!({ "n": 100000 }))
        .await;
    assert_eq!(error_code(&costly), Some("BAD_USER_INPUT"), "{costly}");
    // A write is seen at once: the trusted path reads through the same cached reads.
    app.deposit(&alice, "1.00").await;
    let after = app.gql(Some(&alice.token), query, json!({ "n": 5 })).await;
    assert_eq!(after["data"]["accounts"][0]["balance"], "13.34", "{after}");
}
