//! A fuzz run over the GraphQL and REST endpoints: random and mutated documents, wrong
//! variable types, giant numbers and strings, deep nesting, invalid UTF-8 and truncated
//! JSON. Never a 5xx, never INTERNAL, never a panic, never a change to the ledger.
//!
//! Seeded, so a failure can be replayed: `FUZZ_SEED`, and `FUZZ_ITERATIONS` (default 1500;
//! `just chaos` runs far more).
//!
//! Then documents built to take the process down: values nested thousands deep in every
//! place a value can stand, and fragment bombs, each refused with 400 at once, costing no
//! lasting memory and leaving the process serving; and documents generated from the
//! GraphQL grammar (`GRAMMAR_ITERATIONS`, default 2,000; `just chaos` sends 100,000).
//! These run against the binary users run when `BANKING_API_BIN` names the release build
//! (scripts/test does); the 100 ms limit applies to that build only.

use std::time::{Duration, Instant};

use crate::support::process::{ApiProcess, is_release, rss_bytes};
use crate::support::{CacheKind, KEY_HEX, TestApp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use testkit::{Backend, TestDatabase};

const CORPUS: &[&str] = &[
    "{ me { id username email createdAt accounts { id accountNumber type balance currency } } }",
    "query($id: ID!) { account(id: $id) { id balance transactions(first: 5) { edges { cursor node { id amount fromAccountNumber toAccountNumber description createdAt } } pageInfo { hasNextPage endCursor } } } }",
    "query($id: ID!, $first: Int, $after: String) { transactions(accountId: $id, first: $first, after: $after) { edges { node { id } } pageInfo { endCursor } } }",
    "mutation($input: TransferInput!) { transfer(input: $input) { id amount } }",
    "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
    "mutation($ttl: Int) { createReadOnlyToken(ttlSeconds: $ttl) }",
    "{ accounts { id balance } }",
    "{ __schema { types { name } } }",
];

fn giant_values(rng: &mut StdRng) -> Value {
    match rng.gen_range(0..12) {
        0 => json!("9".repeat(rng.gen_range(1..400))),
        1 => json!(i64::MAX),
        2 => json!(-1),
        3 => json!(1e308),
        4 => json!("x".repeat(rng.gen_range(1..20_000))),
        5 => json!(null),
        6 => json!([1, 2, 3]),
        7 => json!({ "nested": { "deeper": [] } }),
        8 => json!("-0.01"),
        9 => json!("１２.００"),
        10 => json!("<script>alert(1)</script>"),
        _ => json!(rng.gen_range(-1_000_000i64..1_000_000)),
    }
}

fn variables(rng: &mut StdRng, own: &str, foreign: &str, number: &str) -> Value {
    let mut pick = |good: Value| {
        if rng.gen_bool(0.6) {
            good
        } else {
            giant_values(rng)
        }
    };
    json!({
        "id": pick(json!(if rand::random::<bool>() { own } else { foreign })),
        "first": pick(json!(10)),
        "after": pick(json!("dHg6MTA")),
        "u": pick(json!("victim")),
        "p": pick(json!("wrong password")),
        "ttl": pick(json!(600)),
        "input": pick(json!({
            "fromAccountId": if rand::random::<bool>() { own } else { foreign },
            "toAccountNumber": number,
            "amount": "10.00",
            "description": "fuzz",
            "idempotencyKey": format!("fuzz-{}", rand::random::<u32>()),
        })),
    })
}

fn mutate(rng: &mut StdRng, text: &str) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..rng.gen_range(0..4) {
        if bytes.is_empty() {
            break;
        }
        let i = rng.gen_range(0..bytes.len());
        match rng.gen_range(0..6) {
            0 => bytes[i] = rng.r#gen(),
            1 => {
                bytes.truncate(i);
            }
            2 => {
                let chunk = bytes[i..].to_vec();
                bytes.splice(i..i, chunk);
            }
            3 => bytes.insert(i, b"{}[]()\"\\$!@:,.\xff\xfe"[rng.gen_range(0..16)]),
            4 => {
                let nest = "{ a: __typename ".repeat(rng.gen_range(1..300));
                bytes.splice(i..i, nest.into_bytes());
            }
            _ => {
                bytes.remove(i);
            }
        }
    }
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzed_requests_never_fail_the_server_or_touch_the_ledger() {
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261127);
    let iterations: usize = std::env::var("FUZZ_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500);
    let backend = if testkit::postgres_admin_url().is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let cache = testkit::redis_url().map_or(CacheKind::Memory, CacheKind::Redis);
    let app = TestApp::spawn(backend, cache).await;
    // The fuzzer's own account is empty, so no transfer it sends can succeed; the victim's
    // money is what must never move.
    let fuzzer = app.customer("fuzzer").await;
    let victim = app.customer("victim").await;
    app.deposit(&victim, "777.77").await;
    let before = app.state.services.ledger.verify().await.expect("verify");
    assert!(before.is_empty());
    let count_before = transactions(&app).await;

    let mut rng = StdRng::seed_from_u64(seed);
    let url = |path: &str| format!("{}{path}", app.base);
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..iterations {
        let query = CORPUS[rng.gen_range(0..CORPUS.len())];
        let vars = variables(
            &mut rng,
            &fuzzer.account_id,
            &victim.account_id,
            &victim.account_number,
        );
        let token = match rng.gen_range(0..4) {
            0 => None,
            1 => Some(String::from_utf8_lossy(&mutate(&mut rng, &fuzzer.token)).into_owned()),
            _ => Some(fuzzer.token.clone()),
        };
        let (path, body, content_type): (&str, Vec<u8>, &str) = match rng.gen_range(0..10) {
            0..=3 => ("/graphql", serde_json::to_vec(&json!({ "query": query, "variables": vars })).unwrap_or_default(), "application/json"),
            4..=6 => {
                let document = mutate(&mut rng, query);
                let mut body = b"{\"query\":\"".to_vec();
                body.extend(document.iter().flat_map(|b| if *b == b'"' { vec![b'\\', b'"'] } else { vec![*b] }));
                body.extend(b"\"}");
                ("/graphql", body, "application/json")
            }
            7 => ("/graphql", mutate(&mut rng, &json!({ "query": query, "variables": vars }).to_string()), "application/json"),
            8 => (
                "/api/transactions",
                mutate(&mut rng, &json!({ "from_account": victim.account_id.parse::<i64>().unwrap_or(1), "to_account": fuzzer.account_id.parse::<i64>().unwrap_or(1), "amount": "5.00" }).to_string()),
                if rng.gen_bool(0.8) { "application/json" } else { "text/plain" },
            ),
            _ => ("/api/auth/login", mutate(&mut rng, "{\"username\":\"victim\",\"password\":\"not it at all\"}"), "application/json"),
        };
        let mut request = app
            .client
            .post(url(path))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) =
            token.filter(|t| reqwest::header::HeaderValue::from_str(&format!("Bearer {t}")).is_ok())
        {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("iteration {i} (seed {seed}): no answer: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        *statuses.entry(status.as_u16()).or_insert(0usize) += 1;
        assert!(
            !status.is_server_error(),
            "iteration {i} (seed {seed}): {status} {text}"
        );
        assert!(
            !text.contains("\"INTERNAL\""),
            "iteration {i} (seed {seed}): {text}"
        );
    }
    // Still alive, nothing moved, nothing recorded.
    let ping = app.client.get(url("/ping")).send().await.expect("ping");
    assert_eq!(ping.status(), 200);
    assert_eq!(app.balances(&victim.token).await, vec!["777.77"]);
    assert_eq!(app.balances(&fuzzer.token).await, vec!["0.00"]);
    assert_eq!(transactions(&app).await, count_before);
    testkit::assert_ledger_sound(&app.state.services.ledger).await;
    eprintln!("fuzz: {iterations} requests (seed {seed}), statuses {statuses:?}, ledger unchanged");
}

async fn transactions(app: &TestApp) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    entities::transactions::Entity::find()
        .count(app.state.services.ledger.db())
        .await
        .expect("count")
}

/// One attack: a name for the failure message and the raw JSON body.
struct Attack {
    name: String,
    body: String,
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a JSON string")
}

fn with_query(name: String, query: &str) -> Attack {
    Attack {
        name,
        body: format!("{{\"query\":{}}}", json_string(query)),
    }
}

/// Every place a nested value can stand, at `depth`. Bodies are built as text: a
/// `serde_json::Value` this deep would overflow the test's own stack when dropped.
fn nested(depth: usize) -> Vec<Attack> {
    let list = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    let object = format!("{}1{}", "{a:".repeat(depth), "}".repeat(depth));
    let json_list = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    let json_object = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let list_type = format!("{}Int{}", "[".repeat(depth), "]".repeat(depth));
    vec![
        with_query(
            format!("list argument, depth {depth}"),
            &format!("{{__typename(a:{list})}}"),
        ),
        with_query(
            format!("object argument, depth {depth}"),
            &format!("{{__typename(a:{object})}}"),
        ),
        with_query(
            format!("list in a directive argument, depth {depth}"),
            &format!("{{__typename @include(if:{list})}}"),
        ),
        with_query(
            format!("variable default (list), depth {depth}"),
            &format!("query($v: Int = {list}) {{ __typename }}"),
        ),
        with_query(
            format!("variable default (object), depth {depth}"),
            &format!("query($v: Int = {object}) {{ __typename }}"),
        ),
        with_query(
            format!("variable type, depth {depth}"),
            &format!("query($v: {list_type}) {{ __typename }}"),
        ),
        Attack {
            name: format!("variables JSON (list), depth {depth}"),
            body: format!(
                "{{\"query\":\"query($v: Int) {{ __typename }}\",\"variables\":{{\"v\":{json_list}}}}}"
            ),
        },
        Attack {
            name: format!("variables JSON (object), depth {depth}"),
            body: format!(
                "{{\"query\":\"query($v: Int) {{ __typename }}\",\"variables\":{{\"v\":{json_object}}}}}"
            ),
        },
        with_query(
            format!("selection sets, depth {depth}"),
            &format!("{}__typename{}", "{a".repeat(depth), "}".repeat(depth)),
        ),
    ]
}

/// `query{...F0} fragment F0 on Query{...F1 ...F1} … fragment Fn on Query{leaf}`.
fn fragment_bomb(n: usize, leaf: &str) -> Attack {
    let mut query = String::from("query{...F0}");
    for i in 0..n {
        query.push_str(&format!(
            " fragment F{i} on Query{{...F{} ...F{}}}",
            i + 1,
            i + 1
        ));
    }
    query.push_str(&format!(" fragment F{n} on Query{{{leaf}}}"));
    with_query(format!("fragment bomb n={n}, leaf {leaf}"), &query)
}

/// The api binary under test on a SQLite database of its own, with `extra` settings. The
/// database is returned so that it outlives the process.
async fn start_api(extra: &[(&str, String)]) -> (TestDatabase, ApiProcess) {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let mut env = vec![
        ("DATABASE_URL", database.url.clone()),
        ("BISCUIT_PRIVATE_KEY", KEY_HEX.to_owned()),
    ];
    env.extend(extra.iter().cloned());
    let api = ApiProcess::start(&env).await;
    (database, api)
}

/// A client that waits long enough for any refusal: the test measures time itself.
fn patient_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

async fn send(http: &reqwest::Client, base: &str, body: &str) -> (u16, Value, Duration) {
    let started = Instant::now();
    let response = http
        .post(format!("{base}/graphql"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        started.elapsed(),
    )
}

#[tokio::test]
async fn nested_values_and_fragment_bombs_are_refused_at_once() {
    let (_database, mut api) = start_api(&[]).await;
    let pid = api.pid().expect("running");
    let http = patient_client();
    let base = api.base();

    let mut attacks = Vec::new();
    for depth in [2_000, 100_000] {
        attacks.extend(nested(depth));
    }
    for n in [30, 64] {
        attacks.push(fragment_bomb(n, "__typename"));
        attacks.push(fragment_bomb(n, "me { id }"));
    }
    // A round of everything first, so that what the allocator keeps for request buffers
    // is in the baseline: the figure that matters is growth that stays.
    for attack in &attacks {
        send(&http, &base, &attack.body).await;
    }
    let baseline = rss_bytes(pid);
    let limit = if is_release() {
        Duration::from_millis(100)
    } else {
        Duration::from_secs(2)
    };
    for attack in &attacks {
        // The quickest of three, so that a busy CI machine's scheduling is not counted.
        let mut quickest = Duration::MAX;
        for _ in 0..3 {
            let (status, body, took) = send(&http, &base, &attack.body).await;
            assert_eq!(status, 400, "{}: {body}", attack.name);
            assert!(
                body.get("data").is_none_or(Value::is_null),
                "{}: no data for a refused document: {body}",
                attack.name
            );
            let code = &body["errors"][0]["extensions"]["code"];
            assert_eq!(code, "BAD_USER_INPUT", "{}: {body}", attack.name);
            quickest = quickest.min(took);
        }
        assert!(
            quickest < limit,
            "{}: answered in {quickest:?}, limit {limit:?}",
            attack.name
        );
        assert!(api.is_running(), "{}: the process died", attack.name);
    }
    let grown = rss_bytes(pid).saturating_sub(baseline);
    assert!(
        grown < 10 * 1024 * 1024,
        "resident memory grew by {} KiB",
        grown / 1024
    );

    // Still serving: an ordinary query and a sign-up work.
    let (status, body, _) = send(&http, &base, r#"{"query":"{ __typename }"}"#).await;
    assert_eq!(
        (status, &body["data"]["__typename"]),
        (200, &json!("Query"))
    );
    let signup = json!({
        "query": "mutation($i: SignupInput!) { signup(input: $i) { user { username } } }",
        "variables": { "i": { "username": "survivor", "password": "long enough pass", "email": "s@example.com" } },
    });
    let (status, body, _) = send(&http, &base, &signup.to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["signup"]["user"]["username"], "survivor");
    assert!(api.is_running());
}

#[tokio::test]
async fn a_request_signs_in_or_up_once_at_most() {
    let (_database, api) = start_api(&[]).await;
    let http = reqwest::Client::new();
    let base = api.base();
    let aliases: String = (0..10)
        .map(|i| format!("a{i}: login(username: \"victim\", password: \"guess{i}\") {{ token }} "))
        .collect();
    let (status, body, _) = send(
        &http,
        &base,
        &json!({ "query": format!("mutation {{ {aliases} }}") }).to_string(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.get("data").is_none_or(Value::is_null), "{body}");
    let signups: String = (0..20)
        .map(|i| {
            format!(
                "s{i}: signup(input: {{username: \"batch{i}\", password: \"long enough pass\", email: \"b{i}@example.com\"}}) {{ token }} "
            )
        })
        .collect();
    let (status, body, _) = send(
        &http,
        &base,
        &json!({ "query": format!("mutation {{ {signups} }}") }).to_string(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    // Nothing was created: one of the names signs up normally afterwards.
    let one = json!({
        "query": "mutation { signup(input: {username: \"batch0\", password: \"long enough pass\", email: \"b0@example.com\"}) { user { username } } }"
    });
    let (status, body, _) = send(&http, &base, &one.to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["signup"]["user"]["username"], "batch0");
}

#[tokio::test]
async fn suggestions_do_not_name_the_schema_in_production() {
    let (_database, api) = start_api(&[
        ("ENVIRONMENT", "production".to_owned()),
        ("SEED_DEMO", "false".to_owned()),
    ])
    .await;
    let http = reqwest::Client::new();
    let (_, body, _) = send(
        &http,
        &api.base(),
        r#"{"query":"{ acount(id: 1) { id } }"}"#,
    )
    .await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "{body}");
    assert!(!message.contains("Did you mean"), "{message}");
}

/// Random GraphQL documents from the language's grammar: operations of every kind with
/// variables (types, defaults), selection sets of real and made-up fields, aliases,
/// arguments with values of every kind nested at random depths (sometimes far past the
/// limits), directives, inline fragments, fragment definitions and spreads (chains,
/// cycles, bombs, unknown names).
struct Grammar<'a> {
    rng: &'a mut StdRng,
    fragments: usize,
}

const FIELDS: &[&str] = &[
    "me",
    "accounts",
    "account",
    "transactions",
    "id",
    "username",
    "email",
    "balance",
    "accountNumber",
    "type",
    "currency",
    "edges",
    "node",
    "cursor",
    "pageInfo",
    "amount",
    "description",
    "createdAt",
    "__typename",
    "__schema",
    "__type",
    "types",
    "name",
    "login",
    "signup",
    "logout",
    "transfer",
    "deposit",
    "createReadOnlyToken",
    "token",
    "user",
    "x",
];
const ARGUMENTS: &[&str] = &[
    "id",
    "first",
    "after",
    "accountId",
    "input",
    "username",
    "password",
    "ttlSeconds",
    "if",
    "name",
    "a",
];
const DIRECTIVES: &[&str] = &[
    "include",
    "skip",
    "deprecated",
    "specifiedBy",
    "defer",
    "nope",
];
const TYPES: &[&str] = &[
    "Int",
    "String",
    "ID",
    "Boolean",
    "Float",
    "Money",
    "TransferInput",
    "DepositInput",
    "SignupInput",
    "AccountType",
    "Nope",
];

impl Grammar<'_> {
    fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
        from[self.rng.gen_range(0..from.len())]
    }

    /// A nesting depth: mostly shallow, sometimes at the limit, sometimes far past it.
    fn depth(&mut self) -> usize {
        match self.rng.gen_range(0..20) {
            0 => self.rng.gen_range(60..70),
            1 => self.rng.gen_range(100..3_000),
            _ => self.rng.gen_range(0..4),
        }
    }

    /// A value nested `depth` deep, built front and back in one pass (a `format!` per level
    /// would copy the whole value at every level).
    fn value(&mut self, depth: usize, variables: &[String]) -> String {
        let mut out = String::new();
        let mut closers = Vec::with_capacity(depth);
        for _ in 0..depth {
            if self.rng.gen_bool(0.5) {
                out.push('[');
                closers.push(']');
            } else {
                let name = self.pick(ARGUMENTS);
                out.push('{');
                out.push_str(name);
                out.push_str(": ");
                closers.push('}');
            }
        }
        let leaf = match self.rng.gen_range(0..9) {
            0 => self
                .rng
                .gen_range(-1_000_000_000i64..1_000_000_000)
                .to_string(),
            1 => format!(
                "{}.{}",
                self.rng.gen_range(0..1000),
                self.rng.gen_range(0..100)
            ),
            2 => "\"12.50\"".into(),
            3 => "\"\\u202e\\\\\\\"[{(\"".into(),
            4 => "true".into(),
            5 => "null".into(),
            6 => "CHECKING".into(),
            7 if !variables.is_empty() => {
                format!("${}", variables[self.rng.gen_range(0..variables.len())])
            }
            _ => "\"\"\"block [ { ( \"\"\"".into(),
        };
        out.push_str(&leaf);
        out.extend(closers.iter().rev());
        out
    }

    fn arguments(&mut self, variables: &[String]) -> String {
        let count = self.rng.gen_range(0..3);
        if count == 0 {
            return String::new();
        }
        let parts: Vec<String> = (0..count)
            .map(|_| {
                let name = self.pick(ARGUMENTS);
                let depth = self.depth();
                format!("{name}: {}", self.value(depth, variables))
            })
            .collect();
        format!("({})", parts.join(", "))
    }

    fn directives(&mut self, variables: &[String]) -> String {
        let count = if self.rng.gen_bool(0.05) {
            self.rng.gen_range(5..20)
        } else {
            self.rng.gen_range(0..3)
        };
        (0..count)
            .map(|_| {
                let name = self.pick(DIRECTIVES);
                format!(" @{name}{}", self.arguments(variables))
            })
            .collect()
    }

    fn selection_set(&mut self, depth: usize, variables: &[String]) -> String {
        // Now and then a wide set (an alias flood), whose fields then select nothing, so a
        // document stays linear in what is drawn.
        let wide = self.rng.gen_bool(0.02);
        let width = if wide {
            self.rng.gen_range(100..600)
        } else {
            self.rng.gen_range(1..5)
        };
        let depth = if wide { 0 } else { depth };
        let mut out = String::from("{");
        for _ in 0..width {
            out.push(' ');
            match self.rng.gen_range(0..10) {
                0 if self.fragments > 0 => {
                    let n = self.rng.gen_range(0..self.fragments + 1);
                    out.push_str(&format!("...F{n}{}", self.directives(variables)));
                }
                1 if depth > 0 => {
                    let on = if self.rng.gen_bool(0.5) {
                        " on Query"
                    } else {
                        ""
                    };
                    let inner = self.selection_set(depth - 1, variables);
                    out.push_str(&format!("...{on}{} {inner}", self.directives(variables)));
                }
                _ => {
                    if self.rng.gen_bool(0.3) {
                        out.push_str(&format!("a{}: ", self.rng.gen_range(0..50)));
                    }
                    let name = self.pick(FIELDS);
                    out.push_str(name);
                    out.push_str(&self.arguments(variables));
                    out.push_str(&self.directives(variables));
                    if depth > 0 && self.rng.gen_bool(0.5) {
                        let inner = self.selection_set(depth - 1, variables);
                        out.push(' ');
                        out.push_str(&inner);
                    }
                }
            }
        }
        out.push_str(" }");
        out
    }

    fn variable_type(&mut self) -> String {
        let wraps = if self.rng.gen_bool(0.05) {
            self.rng.gen_range(60..2_000)
        } else {
            self.rng.gen_range(0..3)
        };
        // Wrappers chosen inside out, written in one pass.
        let lists: Vec<bool> = (0..wraps).map(|_| self.rng.gen_bool(0.7)).collect();
        let mut ty: String = lists
            .iter()
            .rev()
            .filter(|list| **list)
            .map(|_| '[')
            .collect();
        ty.push_str(self.pick(TYPES));
        for list in lists {
            ty.push_str(if list { "]" } else { "!" });
        }
        ty
    }

    fn document(&mut self) -> (String, Value) {
        self.fragments = match self.rng.gen_range(0..10) {
            0 => self.rng.gen_range(20..120),
            1..=3 => self.rng.gen_range(1..6),
            _ => 0,
        };
        let variables: Vec<String> = (0..self.rng.gen_range(0..4))
            .map(|i| format!("v{i}"))
            .collect();
        let definitions: Vec<String> = variables
            .iter()
            .map(|v| {
                let ty = self.variable_type();
                let default = if self.rng.gen_bool(0.3) {
                    let depth = self.depth();
                    format!(" = {}", self.value(depth, &[]))
                } else {
                    String::new()
                };
                format!("${v}: {ty}{default}")
            })
            .collect();
        let kind = ["query", "mutation", "subscription", ""][self.rng.gen_range(0..4)];
        let header = if kind.is_empty() || definitions.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind} Op({})", definitions.join(", "))
        };
        let depth = self.rng.gen_range(0..6);
        let selection = self.selection_set(depth, &variables);
        let mut document = format!("{header} {selection}");
        let bomb = self.rng.gen_bool(0.3);
        for i in 0..self.fragments {
            let body = if bomb && i + 1 < self.fragments {
                format!("{{ ...F{} ...F{} __typename }}", i + 1, i + 1)
            } else if self.rng.gen_bool(0.1) {
                // A cycle, or a spread of a fragment that does not exist.
                format!("{{ ...F{} }}", self.rng.gen_range(0..self.fragments + 2))
            } else {
                self.selection_set(2, &variables)
            };
            document.push_str(&format!(" fragment F{i} on Query {body}"));
        }
        let mut values = serde_json::Map::new();
        for v in &variables {
            if self.rng.gen_bool(0.5) {
                values.insert(v.clone(), json!(self.rng.gen_range(-5..5)));
            }
        }
        (document, Value::Object(values))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grammar_fuzzed_documents_never_take_the_process_down() {
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261129);
    let iterations: usize = std::env::var("GRAMMAR_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000);
    let (_database, mut api) = start_api(&[]).await;
    let pid = api.pid().expect("running");
    let http = patient_client();
    let base = api.base();
    let baseline = rss_bytes(pid);
    let mut peak = baseline;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut statuses = std::collections::BTreeMap::new();
    let started = Instant::now();
    for i in 0..iterations {
        // Documents the body limit would cut off teach nothing about the grammar: drawn again.
        let (document, variables) = loop {
            let drawn = Grammar {
                rng: &mut rng,
                fragments: 0,
            }
            .document();
            if drawn.0.len() < 200_000 {
                break drawn;
            }
        };
        let body = json!({ "query": document, "variables": variables }).to_string();
        let response = http
            .post(format!("{base}/graphql"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("document {i} (seed {seed}): no answer: {e}\n{document}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        *statuses.entry(status.as_u16()).or_insert(0usize) += 1;
        assert!(
            !status.is_server_error() && !text.contains("\"INTERNAL\""),
            "document {i} (seed {seed}): {status} {text}\n{document}"
        );
        if i % 500 == 0 {
            assert!(
                api.is_running(),
                "document {i} (seed {seed}): the process died"
            );
            peak = peak.max(rss_bytes(pid));
        }
    }
    peak = peak.max(rss_bytes(pid));
    assert!(api.is_running(), "the process died");
    let grown = peak.saturating_sub(baseline);
    assert!(
        grown < 64 * 1024 * 1024,
        "resident memory grew by {} MiB over {iterations} documents",
        grown / 1024 / 1024
    );
    let (status, body, _) = send(&http, &base, r#"{"query":"{ __typename }"}"#).await;
    assert_eq!(
        (status, &body["data"]["__typename"]),
        (200, &json!("Query"))
    );
    eprintln!(
        "grammar fuzz: {iterations} documents (seed {seed}) in {:.1} s, statuses {statuses:?}, RSS {} MiB → peak {} MiB",
        started.elapsed().as_secs_f64(),
        baseline / 1024 / 1024,
        peak / 1024 / 1024
    );
}
