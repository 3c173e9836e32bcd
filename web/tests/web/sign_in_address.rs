//! The web passes the browser's address on to the api, so sign-in throttling slows the
//! address the guesses come from, not every customer of this web server at once.
//!
//! The test's browser reaches the all-in-one over loopback, which both the web and the
//! api trust as a proxy by default, so `X-Forwarded-For` stands for browsers elsewhere.

use crate::support::{PASSWORD, TestWeb, setups};
use reqwest::StatusCode;

/// Posts the sign-in form as a browser at `from`: (status, final path, body).
async fn sign_in_from(
    app: &TestWeb,
    from: &str,
    username: &str,
    password: &str,
) -> (StatusCode, String, String) {
    let csrf = app.csrf("/login").await;
    let response = app
        .client
        .post(app.url("/login"))
        .header("x-forwarded-for", from)
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .expect("POST /login");
    let status = response.status();
    let at = response.url().path().to_owned();
    (status, at, response.text().await.expect("body"))
}

#[tokio::test]
async fn guesses_through_the_web_slow_their_own_address_only() {
    for (backend, redis) in setups() {
        let app = TestWeb::spawn(backend, redis).await;
        for _ in 0..5 {
            let (status, _, body) = sign_in_from(&app, "198.51.100.66", "alice", "wrong one").await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{}", app.setup);
            assert!(
                body.contains("Enter a correct username and password"),
                "{body}"
            );
        }
        let (_, _, body) = sign_in_from(&app, "198.51.100.66", "alice", PASSWORD).await;
        assert!(
            body.contains("too many failed attempts"),
            "{}: the guessing browser waits: {body}",
            app.setup
        );
        // Alice's own browser, elsewhere, signs in at once: the api was told who is who.
        let (status, at, body) = sign_in_from(&app, "203.0.113.7", "alice", PASSWORD).await;
        assert_eq!(
            (status, at.as_str()),
            (StatusCode::OK, "/"),
            "{}: {body}",
            app.setup
        );
    }
}
