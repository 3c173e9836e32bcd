//! Signing in and up: the balances a customer lands on, a deposit and a read-only token.

use reqwest::StatusCode;

use crate::support::{TestWeb, hidden};

use super::{ALICE_START, each_setup};

#[tokio::test]
async fn signing_in_shows_the_balances() {
    each_setup(|app| async move {
        // Signed out, the dashboard sends you to sign in.
        let (_, at, _) = app.get("/").await;
        assert_eq!(at, "/login", "{}", app.setup);

        let csrf = app.csrf("/login").await;
        let (status, _, body) = app
            .post(
                "/login",
                &[
                    ("csrf", &csrf),
                    ("username", "alice"),
                    ("password", "wrong password"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{}", app.setup);
        assert!(body.contains("There is a problem"), "{}: {body}", app.setup);
        assert!(
            body.contains("href=\"#username\""),
            "{}: summary links to the field",
            app.setup
        );
        assert!(
            body.contains("Enter a correct username and password"),
            "{}",
            app.setup
        );

        let (status, _, body) = app
            .post(
                "/login",
                &[("csrf", &csrf), ("username", ""), ("password", "")],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{}", app.setup);
        assert!(body.contains("Enter your username") && body.contains("Enter your password"));

        app.sign_in("alice").await;
        let (status, at, body) = app.get("/").await;
        assert_eq!(
            (status, at.as_str()),
            (StatusCode::OK, "/"),
            "{}",
            app.setup
        );
        let accounts = app.accounts("alice").await;
        assert_eq!(accounts[0].2, ALICE_START);
        for (_, number, _) in &accounts {
            assert!(
                body.contains(number.as_str()),
                "{}: account {number} shown",
                app.setup
            );
        }
        assert!(
            body.contains("$2,500.00"),
            "{}: balance shown: {body}",
            app.setup
        );
        assert!(body.contains("Total balance"), "{}", app.setup);
        assert!(
            body.contains("Dinner 🍝"),
            "{}: latest transactions shown",
            app.setup
        );
        assert!(
            body.contains("tag--in") && body.contains("tag--out"),
            "{}: direction",
            app.setup
        );

        // The account page lists the full history.
        let (status, _, body) = app.get(&format!("/accounts/{}", accounts[0].0)).await;
        assert_eq!(status, StatusCode::OK, "{}", app.setup);
        assert!(body.contains("Opening deposit"), "{}: {body}", app.setup);
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn signing_up_depositing_and_sharing_a_read_only_token() {
    let app = TestWeb::spawn(testkit::Backend::Sqlite, None).await;
    let csrf = app.csrf("/signup").await;
    let (status, _, body) = app
        .post(
            "/signup",
            &[
                ("csrf", &csrf),
                ("username", "a"),
                ("email", "nope"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in ["Username must be", "correct format", "8 characters or more"] {
        assert!(body.contains(message), "{message}: {body}");
    }
    let (status, _, body) = app
        .post(
            "/signup",
            &[
                ("csrf", &csrf),
                ("username", "alice"),
                ("email", "a@example.com"),
                ("password", "long enough pass"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("That username is taken"), "{body}");
    let (status, at, body) = app
        .post(
            "/signup",
            &[
                ("csrf", &csrf),
                ("username", "dora"),
                ("email", "dora@example.com"),
                ("password", "long enough pass"),
            ],
        )
        .await;
    assert_eq!((status, at.as_str()), (StatusCode::OK, "/"), "{body}");
    assert!(body.contains("dora") && body.contains("$0.00"), "{body}");

    let (_, _, form) = app.get("/deposit").await;
    let key = hidden(&form, "key").expect("key");
    let account = hidden(&form, "account");
    // One account: it is chosen already.
    assert!(form.contains("checked"), "{form}");
    let id = form
        .split("name=\"account\" type=\"radio\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("account id")
        .to_owned();
    assert!(account.is_none());
    let csrf = hidden(&form, "csrf").expect("csrf");
    let deposit = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("account", id.as_str()),
        ("amount", "250"),
        ("description", "Salary"),
    ];
    let (status, _, body) = app.post("/deposit", &deposit).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Deposit received") && body.contains("$250.00"));
    let (_, _, _) = app.post("/deposit", &deposit).await;
    let (_, _, dashboard) = app.get("/").await;
    assert!(
        dashboard.contains("$250.00") && !dashboard.contains("$500.00"),
        "deposited once"
    );

    let (status, _, body) = app
        .post("/settings/token", &[("csrf", &csrf), ("ttl", "42")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Select how long"), "{body}");
    let (status, _, body) = app
        .post("/settings/token", &[("csrf", &csrf), ("ttl", "3600")])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let start = body.find("readonly>").expect("token shown") + "readonly>".len();
    let token = body[start..start + body[start..].find('<').expect("end")]
        .trim()
        .to_owned();
    let read = app
        .gql(Some(&token), "{ me { username } }", serde_json::json!({}))
        .await;
    assert_eq!(read["data"]["me"]["username"], "dora", "{read}");
    let write = app
        .gql(
            Some(&token),
            "mutation { createReadOnlyToken(ttlSeconds: 60) }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(
        write["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{write}"
    );
    app.shutdown().await;
}
