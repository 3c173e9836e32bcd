//! Starting the real all-in-one (web + api on one random port, a database of its own)
//! and talking to it as a browser would: forms, cookies, redirects.
#![allow(dead_code)]

pub mod browser;

use std::sync::Arc;
use std::time::Duration;

use banking_common::process_settings::ProcessSettings;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::{StatusCode, Url};
use secrecy::SecretString;
use serde_json::{Value, json};
use testkit::{Backend, TestDatabase};
use web::config::{ApiTarget, Config};

pub const PASSWORD: &str = "demo-password";

/// The setups each page test runs against: SQLite + in-process cache (the all-in-one),
/// and PostgreSQL + Redis when the services are there (always in CI).
pub fn setups() -> Vec<(Backend, Option<String>)> {
    let mut setups = vec![(Backend::Sqlite, None)];
    let pg = testkit::postgres_admin_url();
    let redis = testkit::redis_url();
    if let (Some(_), Some(redis)) = (pg, redis) {
        setups.push((Backend::Postgres, Some(redis)));
    }
    setups
}

pub fn api_config(database: &TestDatabase, redis: Option<&str>) -> api::Config {
    let mut config = api::Config::development(&database.url);
    config.bind = "127.0.0.1:0".parse().expect("address");
    config.process.metrics_bind = "127.0.0.1:0".parse().expect("address");
    config.seed_demo = true;
    if let Some(url) = redis {
        config.redis_url = Some(SecretString::from(url.to_owned()));
        config.redis_key_prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    }
    config
}

pub fn web_config(api: ApiTarget) -> Config {
    Config {
        api,
        bind: "127.0.0.1:0".parse().expect("address"),
        cookie_secure: false,
        live: Default::default(),
        process: ProcessSettings {
            log_level: "warn".into(),
            ..ProcessSettings::development("127.0.0.1:0".parse().expect("address"))
        },
    }
}

pub struct TestWeb {
    pub base: String,
    /// Where `GET /metrics` answers (a port of its own).
    pub metrics_base: String,
    /// Where the api answers: the same listener in the all-in-one.
    pub api_base: String,
    pub setup: String,
    /// A browser-like client: a cookie store, redirects followed.
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    /// Plain client for the api.
    pub api: reqwest::Client,
    database: Option<TestDatabase>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub fn browser_client() -> (reqwest::Client, Arc<Jar>) {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    (client, jar)
}

impl TestWeb {
    /// The all-in-one on a database of its own, seeded with the demo users.
    pub async fn spawn(backend: Backend, redis: Option<String>) -> TestWeb {
        let database = TestDatabase::new(backend).await;
        let api = api_config(&database, redis.as_deref());
        let setup = format!(
            "{backend:?}+{}",
            if redis.is_some() { "Redis" } else { "memory" }
        );
        TestWeb::start(
            web_config(ApiTarget::Embedded(Box::new(api))),
            Some(database),
            setup,
        )
        .await
    }

    pub async fn start(config: Config, database: Option<TestDatabase>, setup: String) -> TestWeb {
        let app = web::Application::build(config)
            .await
            .expect("build the web app");
        let base = format!("http://127.0.0.1:{}", app.listeners().port());
        let metrics_base = format!("http://127.0.0.1:{}", app.listeners().metrics_port());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        let (client, jar) = browser_client();
        TestWeb {
            api_base: base.clone(),
            base,
            metrics_base,
            setup,
            client,
            jar,
            api: reqwest::Client::new(),
            database,
            stop: Some(stop),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET with the browser client: (status, final URL path, body).
    pub async fn get(&self, path: &str) -> (StatusCode, String, String) {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: GET {path}: {e}", self.setup));
        let status = response.status();
        let at = response.url().path().to_owned()
            + &response
                .url()
                .query()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
        (status, at, response.text().await.expect("body"))
    }

    /// POST a form with the browser client: (status, final URL path, body).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
        let response = self
            .client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: POST {path}: {e}", self.setup));
        let status = response.status();
        let at = response.url().path().to_owned();
        (status, at, response.text().await.expect("body"))
    }

    /// The CSRF token in the forms of the page at `path`.
    pub async fn csrf(&self, path: &str) -> String {
        let (_, _, body) = self.get(path).await;
        hidden(&body, "csrf").unwrap_or_else(|| panic!("{}: no CSRF token on {path}", self.setup))
    }

    pub async fn sign_in(&self, username: &str) {
        let csrf = self.csrf("/login").await;
        let (status, at, body) = self
            .post(
                "/login",
                &[
                    ("csrf", &csrf),
                    ("username", username),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: sign in: {body}", self.setup);
        assert_eq!(at, "/", "{}: signed in lands on the dashboard", self.setup);
    }

    /// The session token in the browser client's cookie jar.
    pub fn session_token(&self) -> Option<String> {
        let url = Url::parse(&self.base).expect("url");
        let cookies = self.jar.cookies(&url)?;
        cookies
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|c| c.strip_prefix("bank_session="))
            .map(str::to_owned)
    }

    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .api
            .post(format!("{}/graphql", self.api_base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
            .send()
            .await
            .expect("POST /graphql")
            .json()
            .await
            .expect("GraphQL JSON")
    }

    /// Signs in over the api and returns the token.
    pub async fn api_token(&self, username: &str) -> String {
        let body = self
            .gql(
                None,
                "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
                json!({ "u": username, "p": PASSWORD }),
            )
            .await;
        body["data"]["login"]["token"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: api login failed: {body}", self.setup))
            .to_owned()
    }

    /// (id, number, balance) of each of the user's accounts, oldest first.
    pub async fn accounts(&self, username: &str) -> Vec<(String, String, String)> {
        let token = self.api_token(username).await;
        let body = self
            .gql(
                Some(&token),
                "{ accounts { id accountNumber balance } }",
                json!({}),
            )
            .await;
        body["data"]["accounts"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: accounts failed: {body}", self.setup))
            .iter()
            .map(|a| {
                (
                    a["id"].as_str().expect("id").to_owned(),
                    a["accountNumber"].as_str().expect("number").to_owned(),
                    a["balance"].as_str().expect("balance").to_owned(),
                )
            })
            .collect()
    }

    /// The balance of each of the user's accounts, oldest first.
    pub async fn balances(&self, username: &str) -> Vec<String> {
        self.accounts(username)
            .await
            .into_iter()
            .map(|(_, _, b)| b)
            .collect()
    }

    /// Stops the server gracefully.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        drop(self.database.take());
    }
}

impl Drop for TestWeb {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The value of the first hidden input `name` in a page.
pub fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    let end = body[start..].find('"')?;
    Some(body[start..start + end].to_owned())
}
