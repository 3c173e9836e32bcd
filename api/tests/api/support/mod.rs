//! Starting the real api on a random port, with a database of its own, and talking to
//! it over HTTP as a client would.
#![allow(dead_code)]

pub mod pg_server;
pub mod process;
pub mod redis_sentinel;
pub mod redis_server;
pub mod tcp_proxy;

use std::time::Duration;

use api::{Application, Config};
use secrecy::SecretString;
use serde_json::{Value, json};
use testkit::{Backend, TestDatabase};

pub const KEY_HEX: &str = "5e6f1b8b36b7f4a0b4c1d2e3f405162738495a6b7c8d9eafb0c1d2e3f4051627";

#[derive(Clone, Debug)]
pub enum CacheKind {
    Memory,
    Redis(String),
}

/// The setups each API test runs against: SQLite + in-process cache (the all-in-one),
/// and PostgreSQL + Redis (a deployment) when the services are there (always in CI).
pub fn setups() -> Vec<(Backend, CacheKind)> {
    let mut setups = vec![(Backend::Sqlite, CacheKind::Memory)];
    let pg = testkit::postgres_admin_url();
    let redis = testkit::redis_url();
    if let (Some(_), Some(redis)) = (pg, redis) {
        setups.push((Backend::Postgres, CacheKind::Redis(redis)));
    }
    setups
}

pub struct TestApp {
    pub base: String,
    /// Where `GET /metrics` answers (a port of its own).
    pub metrics_base: String,
    pub client: reqwest::Client,
    pub state: api::app_state::AppState,
    pub database: TestDatabase,
    pub setup: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub fn config_for(database: &TestDatabase, cache: &CacheKind) -> Config {
    let mut config = Config::development(&database.url);
    config.bind = "127.0.0.1:0".parse().expect("address");
    config.process.metrics_bind = "127.0.0.1:0".parse().expect("address");
    config.biscuit_private_key = Some(SecretString::from(KEY_HEX.to_owned()));
    if let CacheKind::Redis(url) = cache {
        config.redis_url = Some(SecretString::from(url.clone()));
        config.redis_key_prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    }
    config
}

impl TestApp {
    pub async fn spawn(backend: Backend, cache: CacheKind) -> TestApp {
        let database = TestDatabase::new(backend).await;
        let config = config_for(&database, &cache);
        TestApp::spawn_with(database, config, format!("{backend:?}+{cache:?}")).await
    }

    pub async fn spawn_with(database: TestDatabase, config: Config, setup: String) -> TestApp {
        let app = Application::build(config).await.expect("build the api");
        let base = format!("http://127.0.0.1:{}", app.listeners().port());
        let metrics_base = format!("http://127.0.0.1:{}", app.listeners().metrics_port());
        let state = app.state().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        TestApp {
            base,
            metrics_base,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            state,
            database,
            setup,
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// Stops the server gracefully and waits for in-flight requests.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("POST /graphql");
        assert!(
            response.status().is_success(),
            "{}: GraphQL answered HTTP {}",
            self.setup,
            response.status()
        );
        response.json().await.expect("GraphQL JSON")
    }

    /// Signs up a customer and returns (token, checking account id, account number).
    pub async fn customer(&self, name: &str) -> Customer {
        let body = self.gql(None, SIGN_UP, sign_up_variables(name)).await;
        assert!(
            body["data"]["signup"].is_object(),
            "{}: signup failed: {body}",
            self.setup
        );
        Customer::from_sign_up(&body)
    }

    pub async fn deposit(&self, customer: &Customer, amount: &str) {
        let body = self
            .gql(
                Some(&customer.token),
                "mutation($input: DepositInput!) { deposit(input: $input) { id } }",
                json!({ "input": { "accountId": customer.account_id, "amount": amount, "idempotencyKey": uuid::Uuid::new_v4().to_string() } }),
            )
            .await;
        assert!(
            body["errors"].is_null(),
            "{}: deposit failed: {body}",
            self.setup
        );
    }

    pub async fn balances(&self, token: &str) -> Vec<String> {
        self.accounts_field(token, "balance").await
    }

    /// One string field (`balance`, `id`, …) of each of the token's accounts.
    pub async fn accounts_field(&self, token: &str, field: &str) -> Vec<String> {
        let query = format!("{{ accounts {{ {field} }} }}");
        let body = self.gql(Some(token), &query, json!({})).await;
        body["data"]["accounts"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: accounts failed: {body}", self.setup))
            .iter()
            .map(|a| a[field].as_str().expect(field).to_owned())
            .collect()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[derive(Clone, Debug)]
pub struct Customer {
    pub token: String,
    pub user_id: String,
    pub account_id: String,
    pub account_number: String,
}

/// Two api replicas on one database and one Redis prefix (a deployment of two pods), or
/// `None` without Redis (never in CI, where `testkit::redis_url` fails first).
pub async fn two_replicas() -> Option<(TestApp, TestApp)> {
    let redis = testkit::redis_url()?;
    let backend = if testkit::postgres_admin_url().is_some() {
        testkit::Backend::Postgres
    } else {
        testkit::Backend::Sqlite
    };
    let database = TestDatabase::new(backend).await;
    let config = config_for(&database, &CacheKind::Redis(redis));
    let url = database.url.clone();
    let first = TestApp::spawn_with(database, config.clone(), "replica 1".into()).await;
    let second = TestApp::spawn_with(
        TestDatabase::existing(&url, backend),
        config,
        "replica 2".into(),
    )
    .await;
    Some((first, second))
}

/// Signs a customer up and asks for what `Customer` holds.
pub const SIGN_UP: &str = "mutation($input: SignupInput!) { signup(input: $input) { token user { id accounts { id accountNumber } } } }";

/// `SIGN_UP`'s variables for a customer called `name`.
pub fn sign_up_variables(name: &str) -> Value {
    json!({ "input": { "username": name, "password": "correct horse battery", "email": format!("{name}@example.com") } })
}

impl Customer {
    /// The customer in the answer to `SIGN_UP`.
    pub fn from_sign_up(body: &Value) -> Customer {
        let payload = &body["data"]["signup"];
        Customer {
            token: payload["token"].as_str().expect("token").to_owned(),
            user_id: payload["user"]["id"].as_str().expect("id").to_owned(),
            account_id: payload["user"]["accounts"][0]["id"]
                .as_str()
                .expect("account")
                .to_owned(),
            account_number: payload["user"]["accounts"][0]["accountNumber"]
                .as_str()
                .expect("number")
                .to_owned(),
        }
    }
}

/// The code of the first GraphQL error, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}
