//! Account pages: someone else's account is a friendly 404; history pages back.

use reqwest::StatusCode;

use crate::support::TestWeb;

#[tokio::test]
async fn unknown_pages_and_other_peoples_accounts_are_a_friendly_404() {
    let app = TestWeb::spawn(testkit::Backend::Sqlite, None).await;
    let (status, _, body) = app.get("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body.contains("Page not found") && body.contains("<html"),
        "{body}"
    );
    app.sign_in("alice").await;
    let bob = app.accounts("bob").await;
    for path in [
        format!("/accounts/{}", bob[0].0),
        "/accounts/999999".to_owned(),
        "/accounts/abc".to_owned(),
        "/accounts/-1".to_owned(),
        "/accounts/1?after=%3Cscript%3E".to_owned(),
        "/accounts/1?after=bm90LWEtY3Vyc29y".to_owned(),
    ] {
        let (status, _, body) = app.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(body.contains("Page not found"), "{path}");
        assert!(
            !body.contains(&bob[0].1),
            "{path}: nothing of Bob's is revealed"
        );
    }
    let (status, _, _) = app.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = app.get("/readyz").await;
    assert_eq!(status, StatusCode::OK);
    app.shutdown().await;
}

#[tokio::test]
async fn the_history_pages_back_with_older_links() {
    let app = TestWeb::spawn(testkit::Backend::Sqlite, None).await;
    let token = app.api_token("carol").await;
    let carol = app.accounts("carol").await;
    for i in 0..23 {
        let body = app
            .gql(
                Some(&token),
                "mutation($input: DepositInput!) { deposit(input: $input) { id } }",
                serde_json::json!({ "input": {
                    "accountId": carol[0].0,
                    "amount": "1.00",
                    "description": format!("Pocket money {i}"),
                    "idempotencyKey": format!("history-{i}"),
                } }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    app.sign_in("carol").await;
    // 3 seeded + 23 deposits = 26: a page of 20, then one of 6.
    let (status, _, first) = app.get(&format!("/accounts/{}", carol[0].0)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first.matches("class=\"tx\"").count(), 20);
    assert!(first.contains("Pocket money 22") && !first.contains("Opening deposit"));
    let older = first.find("id=\"older\"").expect("an Older link");
    let href = first[older..]
        .split("href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("its address")
        .to_owned();
    let (status, _, second) = app.get(&href).await;
    assert_eq!(status, StatusCode::OK, "{href}");
    assert_eq!(second.matches("class=\"tx\"").count(), 6, "{second}");
    assert!(second.contains("Opening deposit") && second.contains("Pocket money 0"));
    assert!(
        !second.contains("id=\"older\""),
        "the oldest page has no Older link"
    );
    assert!(second.contains(">Newest<"));
    app.shutdown().await;
}
