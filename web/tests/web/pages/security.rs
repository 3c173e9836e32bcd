//! What a page must never do: show text unescaped, lack its security headers, send cookies in clear.

use reqwest::StatusCode;

use crate::support::{TestWeb, hidden};

use super::{each_setup, transfer_form};

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
    let app = TestWeb::spawn(testkit::Backend::Sqlite, None).await;
    app.sign_in("alice").await;
    for path in ["/login", "/", "/transfer", "/no-such-page"] {
        let response = app.client.get(app.url(path)).send().await.expect("get");
        let headers = response.headers();
        let csp = headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{path} has no CSP"));
        // Scripts only from this site (the dashboard's live updates), none inline.
        assert!(csp.contains("script-src 'self';") && csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
    }
    // Cookies: HttpOnly, SameSite=Lax, Path=/.
    let csrf = {
        let (client, _) = crate::support::browser_client();
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
        crate::support::hidden(&response.text().await.expect("body"), "csrf").expect("csrf")
    };
    assert!(!csrf.is_empty());
    // GraphiQL keeps the api's own policy (its scripts, from this origin only), not the web's.
    let response = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-security-policy"],
        api::graphiql::PAGE_POLICY
    );
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
    // So is the dashboard's script, named on the dashboard and served as JavaScript.
    let (_, _, dashboard) = app.get("/").await;
    let start = dashboard.find("/static/live.js?v=").expect("the script");
    let src = &dashboard[start..start + dashboard[start..].find('"').expect("end")];
    let response = app.client.get(app.url(src)).send().await.expect("js");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/javascript")
    );
    app.shutdown().await;
}

#[tokio::test]
async fn cookies_are_secure_when_configured() {
    let database = testkit::TestDatabase::new(testkit::Backend::Sqlite).await;
    let api_config = crate::support::api_config(&database, None);
    let mut config =
        crate::support::web_config(web::config::ApiTarget::Embedded(Box::new(api_config)));
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
            ("password", crate::support::PASSWORD),
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
