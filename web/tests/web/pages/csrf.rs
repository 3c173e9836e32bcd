//! CSRF: the form value bound to the session, refused without it or from another site.

use reqwest::StatusCode;

use crate::support::TestWeb;

use super::{ALICE_START, BOB_START, each_setup, transfer_form};

#[tokio::test]
async fn the_csrf_value_changes_at_sign_in_and_is_bound_to_the_session() {
    let app = TestWeb::spawn(testkit::Backend::Sqlite, None).await;
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
    use reqwest::cookie::CookieStore;
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
