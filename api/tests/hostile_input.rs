//! A fuzz run over the GraphQL and REST endpoints: random and mutated documents, wrong
//! variable types, giant numbers and strings, deep nesting, invalid UTF-8 and truncated
//! JSON. Never a 5xx, never INTERNAL, never a panic, never a change to the ledger.
//!
//! Seeded, so a failure can be replayed: `FUZZ_SEED`, and `FUZZ_ITERATIONS` (default 1500;
//! `just chaos` runs far more).

mod support;

use api::testing::Backend;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use support::{CacheKind, TestApp};

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
    let backend = if api::testing::postgres_admin_url().is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    let cache = api::testing::redis_url().map_or(CacheKind::Memory, CacheKind::Redis);
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
    assert!(
        app.state
            .services
            .ledger
            .verify()
            .await
            .expect("verify")
            .is_empty()
    );
    eprintln!("fuzz: {iterations} requests (seed {seed}), statuses {statuses:?}, ledger unchanged");
}

async fn transactions(app: &TestApp) -> u64 {
    use sea_orm::{EntityTrait, PaginatorTrait};
    entities::transactions::Entity::find()
        .count(app.state.services.ledger.db())
        .await
        .expect("count")
}
