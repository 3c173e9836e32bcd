//! The pages over HTTP, against the real all-in-one (SQLite + in-process cache, and
//! PostgreSQL + Redis when they are there): sign-in, balances, transfers, CSRF, escaping,
//! headers, error pages and sessions that end.
#![cfg(feature = "embedded")]

mod support;

use reqwest::StatusCode;
use support::{TestWeb, hidden, setups};

/// Alice starts with 2500.00 in checking, Bob with 1200.50 (the demo seed).
const ALICE_START: &str = "2500.00";
const BOB_START: &str = "1200.50";

async fn each_setup<F, Fut>(test: F)
where
    F: Fn(TestWeb) -> Fut,
    Fut: Future<Output = ()>,
{
    for (backend, redis) in setups() {
        let app = TestWeb::spawn(backend, redis).await;
        test(app).await;
    }
}

/// A transfer form's fields, with the key the form was given.
async fn transfer_form(app: &TestWeb) -> (String, String) {
    let (status, _, body) = app.get("/transfer").await;
    assert_eq!(status, StatusCode::OK, "{}: {body}", app.setup);
    let csrf = hidden(&body, "csrf").expect("csrf");
    let key = hidden(&body, "key").expect("idempotency key");
    (csrf, key)
}

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
async fn a_transfer_is_reviewed_then_confirmed_and_moves_money_once() {
    each_setup(|app| async move {
        let alice = app.accounts("alice").await;
        let bob = app.accounts("bob").await;
        app.sign_in("alice").await;
        let (csrf, key) = transfer_form(&app).await;
        let fields = [
            ("csrf", csrf.as_str()),
            ("key", key.as_str()),
            ("from", alice[0].0.as_str()),
            ("to", bob[0].1.as_str()),
            ("amount", "12.34"),
            ("description", "Rent share"),
        ];
        let (status, at, body) = app.post("/transfer", &fields).await;
        assert_eq!(status, StatusCode::OK, "{}: review: {body}", app.setup);
        assert_eq!(at, "/transfer");
        assert!(body.contains("Check your transfer"), "{}", app.setup);
        assert!(body.contains("$12.34") && body.contains("Rent share"));
        assert_eq!(
            hidden(&body, "key").as_deref(),
            Some(key.as_str()),
            "the key travels on"
        );
        // Nothing has moved at review.
        assert_eq!(app.balances("alice").await[0], ALICE_START);

        let (status, _, body) = app.post("/transfer/confirm", &fields).await;
        assert_eq!(status, StatusCode::OK, "{}: confirm: {body}", app.setup);
        assert!(body.contains("Transfer complete"), "{}: {body}", app.setup);
        assert_eq!(app.balances("alice").await[0], "2487.66", "{}", app.setup);
        assert_eq!(app.balances("bob").await[0], "1212.84", "{}", app.setup);

        // The same confirm again (a double click, a browser retry), twice at once even:
        // the money moves once.
        let (first, second) = tokio::join!(
            app.post("/transfer/confirm", &fields),
            app.post("/transfer/confirm", &fields)
        );
        for (status, _, body) in [first, second] {
            assert_eq!(status, StatusCode::OK, "{}: retry: {body}", app.setup);
            assert!(body.contains("Transfer complete"), "{}", app.setup);
        }
        assert_eq!(app.balances("alice").await[0], "2487.66", "{}", app.setup);
        assert_eq!(app.balances("bob").await[0], "1212.84", "{}", app.setup);

        // Both dashboards show it, with its direction and counterparty.
        let (_, _, body) = app.get("/").await;
        assert!(
            body.contains("$2,487.66") && body.contains("Rent share"),
            "{}",
            app.setup
        );
        let bob_pretty = format!("{} {} {}", &bob[0].1[..4], &bob[0].1[4..7], &bob[0].1[7..]);
        assert!(
            body.contains(&bob_pretty),
            "{}: counterparty shown",
            app.setup
        );

        // A new form gets a new key: the same transfer made again is a second transfer.
        let (csrf, key2) = transfer_form(&app).await;
        assert_ne!(key, key2);
        let again = [
            ("csrf", csrf.as_str()),
            ("key", key2.as_str()),
            ("from", alice[0].0.as_str()),
            ("to", bob[0].1.as_str()),
            ("amount", "12.34"),
            ("description", "Rent share"),
        ];
        let (status, _, _) = app.post("/transfer/confirm", &again).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(app.balances("alice").await[0], "2475.32", "{}", app.setup);
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn each_refused_transfer_says_why_beside_the_field() {
    each_setup(|app| async move {
        let alice = app.accounts("alice").await;
        app.sign_in("alice").await;
        let (csrf, key) = transfer_form(&app).await;
        let attempt = |to: String, amount: &'static str, step: &'static str| {
            let (csrf, key, from) = (csrf.clone(), key.clone(), alice[0].0.clone());
            let app = &app;
            async move {
                app.post(
                    step,
                    &[
                        ("csrf", &csrf),
                        ("key", &key),
                        ("from", &from),
                        ("to", &to),
                        ("amount", amount),
                        ("description", ""),
                    ],
                )
                .await
            }
        };
        let cases = [
            (
                "5555555555",
                "9999.00",
                "/transfer",
                "more than the money in this account",
            ),
            (
                "5555555555",
                "12.345",
                "/transfer",
                "no more than 2 decimal places",
            ),
            (
                "5555555555",
                "abc",
                "/transfer",
                "Enter an amount in numbers",
            ),
            ("5555555555", "0", "/transfer", "greater than 0"),
            ("5555555555", "", "/transfer", "Enter an amount"),
            ("12345", "1.00", "/transfer", "10 digits"),
            (
                alice[0].1.as_str(),
                "1.00",
                "/transfer",
                "money cannot go to the account it comes from",
            ),
            // Past the review, the api's own refusals.
            (
                "0000000001",
                "1.00",
                "/transfer/confirm",
                "There is no account with this number",
            ),
            (
                alice[0].1.as_str(),
                "1.00",
                "/transfer/confirm",
                "money cannot go to the account it comes from",
            ),
        ];
        for (to, amount, step, message) in cases {
            let (status, _, body) = attempt(to.to_string(), amount, step).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}: {to} {amount} {step}: {body}",
                app.setup
            );
            assert!(
                body.contains(message),
                "{}: {step} {amount} → {message}: {body}",
                app.setup
            );
            assert!(
                body.contains("There is a problem"),
                "{}: error summary",
                app.setup
            );
            assert!(
                body.contains("class=\"error-message\""),
                "{}: message beside the field",
                app.setup
            );
        }
        // The api's insufficient-funds refusal, with a target that exists.
        let bob = app.accounts("bob").await;
        let (status, _, body) = attempt(bob[0].1.clone(), "9999.00", "/transfer/confirm").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body.contains("more than the money in this account"),
            "{body}"
        );
        assert_eq!(
            app.balances("alice").await[0],
            ALICE_START,
            "{}: nothing moved",
            app.setup
        );
        assert_eq!(
            app.balances("bob").await[0],
            BOB_START,
            "{}: nothing moved",
            app.setup
        );
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn the_csrf_value_changes_at_sign_in_and_is_bound_to_the_session() {
    let app = TestWeb::spawn(api::testing::Backend::Sqlite, None).await;
    let before = app.csrf("/login").await;
    app.sign_in("alice").await;
    let after = app.csrf("/").await;
    assert_ne!(
        before, after,
        "a value seen before sign-in must not serve after it"
    );
    // The value from before sign-in (what a page cached by an attacker would hold) is refused.
    let (status, _, _) = app.post("/logout", &[("csrf", &before)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(app.session_token().is_some(), "still signed in");
    // The cookie alone is not the form value: a client that copies it is refused.
    let url = reqwest::Url::parse(&app.url("/")).expect("url");
    let cookies = app.jar.cookies(&url).expect("cookies");
    let cookie = cookies
        .to_str()
        .expect("ascii")
        .split("; ")
        .find_map(|c| c.strip_prefix("bank_csrf="))
        .expect("csrf cookie")
        .to_owned();
    let (status, _, _) = app.post("/logout", &[("csrf", &cookie)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, at, _) = app.post("/logout", &[("csrf", &after)]).await;
    assert_eq!((status, at.as_str()), (StatusCode::OK, "/login"));
    app.shutdown().await;
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing() {
    each_setup(|app| async move {
        let alice = app.accounts("alice").await;
        let bob = app.accounts("bob").await;
        app.sign_in("alice").await;
        let (csrf, key) = transfer_form(&app).await;
        let without = [
            ("key", key.as_str()),
            ("from", alice[0].0.as_str()),
            ("to", bob[0].1.as_str()),
            ("amount", "10.00"),
        ];
        let (status, _, body) = app.post("/transfer/confirm", &without).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}: {body}", app.setup);
        assert!(body.contains("nothing was changed"), "{}", app.setup);
        let wrong = [
            ("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            ("key", key.as_str()),
            ("from", alice[0].0.as_str()),
            ("to", bob[0].1.as_str()),
            ("amount", "10.00"),
        ];
        let (status, _, _) = app.post("/transfer/confirm", &wrong).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}", app.setup);
        for path in [
            "/deposit",
            "/settings/token",
            "/logout",
            "/login",
            "/signup",
            "/transfer",
        ] {
            let (status, _, _) = app.post(path, &[("amount", "10.00")]).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{}: {path}", app.setup);
        }
        // Still signed in (logout was refused), and nothing moved.
        let (_, at, _) = app.get("/").await;
        assert_eq!(at, "/", "{}", app.setup);
        assert_eq!(app.balances("alice").await[0], ALICE_START, "{}", app.setup);
        assert_eq!(app.balances("bob").await[0], BOB_START, "{}", app.setup);
        // The token alone is what was missing.
        let with = [
            ("csrf", csrf.as_str()),
            ("key", key.as_str()),
            ("from", alice[0].0.as_str()),
            ("to", bob[0].1.as_str()),
            ("amount", "10.00"),
        ];
        let (status, _, _) = app.post("/transfer/confirm", &with).await;
        assert_eq!(status, StatusCode::OK, "{}", app.setup);
        assert_eq!(app.balances("alice").await[0], "2490.00", "{}", app.setup);
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn a_cross_site_form_post_cannot_move_money() {
    each_setup(|app| async move {
        let alice = app.accounts("alice").await;
        let bob = app.accounts("bob").await;
        app.sign_in("alice").await;
        let (csrf, key) = transfer_form(&app).await;
        let forged = [
            ("key", "forged-key-0123456789"),
            ("from", alice[0].0.as_str()),
            ("to", bob[0].1.as_str()),
            ("amount", "100.00"),
        ];
        // What a hostile page's auto-submitting form sends (the browser adds the cookies
        // the SameSite rules allow; here the client sends them all, to be sure).
        let response = app
            .client
            .post(app.url("/transfer/confirm"))
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .form(&forged)
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{}", app.setup);
        // Even with a valid token, a post that says it is cross-site is refused.
        let with_token = [
            ("csrf", csrf.as_str()),
            ("key", key.as_str()),
            ("from", alice[0].0.as_str()),
            ("to", bob[0].1.as_str()),
            ("amount", "100.00"),
        ];
        for (header, value) in [
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ] {
            let response = app
                .client
                .post(app.url("/transfer/confirm"))
                .header(header, value)
                .form(&with_token)
                .send()
                .await
                .expect("post");
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{}: {header}",
                app.setup
            );
        }
        assert_eq!(app.balances("alice").await[0], ALICE_START, "{}", app.setup);
        assert_eq!(app.balances("bob").await[0], BOB_START, "{}", app.setup);
        // A same-origin post with the token goes through.
        let response = app
            .client
            .post(app.url("/transfer/confirm"))
            .header("origin", app.base.as_str())
            .header("sec-fetch-site", "same-origin")
            .form(&with_token)
            .send()
            .await
            .expect("post");
        assert_eq!(response.status(), StatusCode::OK, "{}", app.setup);
        assert_eq!(app.balances("alice").await[0], "2400.00", "{}", app.setup);
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn text_from_users_is_shown_escaped() {
    each_setup(|app| async move {
        let alice = app.accounts("alice").await;
        let bob = app.accounts("bob").await;
        app.sign_in("alice").await;
        let (csrf, key) = transfer_form(&app).await;
        let description = r#"<script>alert(1)</script> "quoted" it's ünïcödé 🍝 & <b>bold</b>"#;
        let fields = [
            ("csrf", csrf.as_str()),
            ("key", key.as_str()),
            ("from", alice[0].0.as_str()),
            ("to", bob[0].1.as_str()),
            ("amount", "1.00"),
            ("description", description),
        ];
        let (_, _, review) = app.post("/transfer", &fields).await;
        let (status, _, done) = app.post("/transfer/confirm", &fields).await;
        assert_eq!(status, StatusCode::OK, "{}: {done}", app.setup);
        let (_, _, dashboard) = app.get("/").await;
        let (_, _, history) = app.get(&format!("/accounts/{}", alice[0].0)).await;
        for (page, body) in [
            ("review", &review),
            ("done", &done),
            ("dashboard", &dashboard),
            ("history", &history),
        ] {
            assert!(
                !body.contains("<script>"),
                "{}: {page} has a raw script tag",
                app.setup
            );
            assert!(
                !body.contains("<b>bold"),
                "{}: {page} has raw markup",
                app.setup
            );
            assert!(
                body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
                "{}: {page}: {body}",
                app.setup
            );
            assert!(
                body.contains("&#34;quoted&#34;"),
                "{}: {page} quotes escaped",
                app.setup
            );
            assert!(
                body.contains("ünïcödé 🍝"),
                "{}: {page} keeps unicode",
                app.setup
            );
        }
        // The same text in a form field comes back escaped too.
        let (_, _, form) = app
            .get(&format!(
                "/transfer?to=%22%3E%3Cscript%3Ealert(1)%3C/script%3E&key={key}"
            ))
            .await;
        assert!(!form.contains("<script>"), "{}: {form}", app.setup);
        app.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn pages_carry_security_headers_and_the_api_keeps_its_own() {
    let app = TestWeb::spawn(api::testing::Backend::Sqlite, None).await;
    app.sign_in("alice").await;
    for path in ["/login", "/", "/transfer", "/no-such-page"] {
        let response = app.client.get(app.url(path)).send().await.expect("get");
        let headers = response.headers();
        let csp = headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{path} has no CSP"));
        assert!(csp.contains("script-src 'none'") && csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
    }
    // Cookies: HttpOnly, SameSite=Lax, Path=/.
    let csrf = {
        let (client, _) = support::browser_client();
        let response = client.get(app.url("/login")).send().await.expect("get");
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        assert!(
            !cookie.contains("Secure"),
            "not Secure unless COOKIE_SECURE: {cookie}"
        );
        support::hidden(&response.text().await.expect("body"), "csrf").expect("csrf")
    };
    assert!(!csrf.is_empty());
    // GraphiQL needs its scripts: no web CSP on the api's routes.
    let response = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("content-security-policy").is_none());
    let response = app.client.get(app.url("/ping")).send().await.expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    // The stylesheet is cacheable.
    let (_, _, login) = app.get("/login").await;
    let start = login.find("/static/app.css?v=").expect("stylesheet link");
    let href = &login[start..start + login[start..].find('"').expect("end")];
    let response = app.client.get(app.url(href)).send().await.expect("css");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/css")
    );
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .expect("cc")
            .contains("max-age=31536000")
    );
    app.shutdown().await;
}

#[tokio::test]
async fn unknown_pages_and_other_peoples_accounts_are_a_friendly_404() {
    let app = TestWeb::spawn(api::testing::Backend::Sqlite, None).await;
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
async fn signing_up_depositing_and_sharing_a_read_only_token() {
    let app = TestWeb::spawn(api::testing::Backend::Sqlite, None).await;
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

#[tokio::test]
async fn the_split_mode_talks_to_a_separate_api_and_says_when_it_is_down() {
    let database = api::testing::TestDatabase::new(api::testing::Backend::Sqlite).await;
    let api_app = api::Application::build(support::api_config(&database, None))
        .await
        .expect("api");
    let api_url = format!("http://127.0.0.1:{}/graphql", api_app.port());
    let (stop_api, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let api_server = tokio::spawn(api_app.run_until(async move {
        let _ = api_stopped.await;
    }));
    let target = web::config::ApiTarget::Remote(api_url.parse().expect("url"));
    let app = TestWeb::start(support::web_config(target), None, "split".into()).await;
    app.sign_in("bob").await;
    let (_, _, body) = app.get("/").await;
    assert!(body.contains("$1,200.50"), "{body}");
    let (status, _, _) = app.get("/readyz").await;
    assert_eq!(status, StatusCode::OK);
    // The web serves pages only: the api's routes are not here.
    let (status, _, _) = app.get("/graphql").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The api goes away: a clear 503 page, never a stack trace.
    let _ = stop_api.send(());
    let _ = api_server.await;
    let (status, _, body) = app.get("/").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(body.contains("the bank is unavailable"), "{body}");
    assert!(body.contains("Your money is safe"));
    let (status, _, _) = app.get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _, _) = app.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    app.shutdown().await;
    drop(database);
}

#[tokio::test]
async fn the_history_pages_back_with_older_links() {
    let app = TestWeb::spawn(api::testing::Backend::Sqlite, None).await;
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

#[tokio::test]
async fn cookies_are_secure_when_configured() {
    let database = api::testing::TestDatabase::new(api::testing::Backend::Sqlite).await;
    let api_config = support::api_config(&database, None);
    let mut config = support::web_config(web::config::ApiTarget::Embedded(Box::new(api_config)));
    config.cookie_secure = true;
    let app = TestWeb::start(config, Some(database), "secure".into()).await;
    let response = app.client.get(app.url("/login")).send().await.expect("get");
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect();
    assert!(!cookies.is_empty());
    for cookie in &cookies {
        assert!(
            cookie.contains("Secure") && cookie.contains("HttpOnly"),
            "{cookie}"
        );
    }
    // Over HTTPS the CSRF cookie carries the `__Host-` prefix.
    let csrf_cookie = cookies
        .iter()
        .find_map(|c| c.strip_prefix("__Host-bank_csrf="))
        .and_then(|rest| rest.split(';').next())
        .expect("a __Host-bank_csrf cookie")
        .to_owned();
    let body = response.text().await.expect("body");
    let csrf = hidden(&body, "csrf").expect("csrf");
    assert_ne!(
        csrf, csrf_cookie,
        "the form value is bound to the session, not a copy"
    );
    // A plain-HTTP client does not send Secure cookies back, so sign in by hand.
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(app.url("/login"))
        .header("cookie", format!("__Host-bank_csrf={csrf_cookie}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "alice"),
            ("password", support::PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let session = response.headers()["set-cookie"].to_str().expect("ascii");
    assert!(
        session.starts_with("bank_session=") && session.contains("Secure"),
        "{session}"
    );
    app.shutdown().await;
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
                axum::Json(serde_json::json!({ "data": { "accounts": [] } }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move { axum::serve(listener, fake).await });
    let target = web::config::ApiTarget::Remote(url.parse().expect("url"));
    let app = TestWeb::start(support::web_config(target), None, "fake api".into()).await;
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
    assert_eq!(
        seen,
        vec![(
            Some("Bearer the-token".to_owned()),
            Some(traceparent.to_owned())
        )]
    );
    app.shutdown().await;
    server.abort();
}
