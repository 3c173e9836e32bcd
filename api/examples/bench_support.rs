//! What `just bench` needs from the api crate's own code, and nothing a customer reaches.
//! Not part of the product (an example, built only for the benchmarks).
//!
//!   bench_support password-hash
//!       prints the argon2id PHC string of `bench-password`, which the SQL seeding
//!       (scripts/bench/seed.py) gives every seeded customer: one hash, not a million.
//!
//!   bench_support tokens OUT
//!       signs every customer in without their password: for each customer in
//!       DATABASE_URL (with their checking account) it starts a session in Redis the way
//!       the api does (`{REDIS_KEY_PREFIX}{database identity}:session:{id}` → user id,
//!       with SESSION_TTL_SECS) and mints its Biscuit token with BISCUIT_PRIVATE_KEY
//!       and its seal (`TokenKeys::mint_sealed`, the api's own code), storing the seal as
//!       sign-in does. Writes `token account_id account_number`
//!       per line to OUT, each padded to 512 bytes (fixed-width records). A login costs
//!       ~16 ms of argon2; this costs ~0.1 ms a customer, so a million customers get
//!       tokens in about a minute.
//!
//!   bench_support verify-cost [N]
//!       what checking a token costs when it is not among the remembered ones (the
//!       common case when requests are spread over a million customers): mints N (10,000)
//!       tokens and verifies each once, on one thread, printing microseconds per token
//!       for the whole check and for its signature part alone.

use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use api::auth::TokenKeys;
use api::cache::keys;
use api::ledger::{UserId, db};
use bb8_redis::redis;
use rand::RngCore;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// Bytes per line of the tokens file, padded with spaces: wrk's script reads the line of
/// customer i at i × RECORD when it needs it, instead of loading a million tokens (400 MB)
/// into each thread's Lua state first, which took wrk ~9 s per thread while the other
/// threads were already measuring.
const RECORD: usize = 512;

/// Customers read, minted and registered per round.
const BATCH: i64 = 50_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("password-hash") => {
            let password = api::ledger::Password::parse("bench-password")?;
            let hash = api::ledger::Passwords::with_threads(1)
                .hash(&password)
                .await?;
            println!("{hash}");
            Ok(())
        }
        Some("tokens") => {
            let out = args.get(2).context("usage: bench_support tokens OUT")?;
            tokens(out).await
        }
        Some("verify-cost") => {
            let n = args.get(2).map_or(Ok(10_000), |n| n.parse())?;
            verify_cost(n)
        }
        _ => anyhow::bail!("usage: bench_support password-hash | tokens OUT | verify-cost [N]"),
    }
}

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).with_context(|| format!("{name} is required"))
}

async fn tokens(out: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let conn = db::connect(&env("DATABASE_URL")?, &db::PoolSettings::default()).await?;
    let identity = db::identity(&conn).await?;
    let prefix = format!("{}{identity}:", env("REDIS_KEY_PREFIX")?);
    let ttl: u64 = env("SESSION_TTL_SECS")?.parse()?;
    let keys =
        TokenKeys::from_hex(&env("BISCUIT_PRIVATE_KEY")?).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let expires_at = SystemTime::now() + Duration::from_secs(12 * 3600);
    let redis = redis::Client::open(env("REDIS_URL")?)?;
    let mut redis = redis.get_multiplexed_async_connection().await?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);

    let mut after = 0i64;
    let mut written = 0usize;
    loop {
        // The customer's first (checking) account: what the scenarios pay from and read.
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT DISTINCT ON (user_id) user_id, id, account_number FROM accounts \
                 WHERE user_id > $1 ORDER BY user_id, id LIMIT $2",
                [after.into(), BATCH.into()],
            ))
            .await?;
        if rows.is_empty() {
            break;
        }
        let mut customers = Vec::with_capacity(rows.len());
        for row in &rows {
            let user: i64 = row.try_get("", "user_id")?;
            let account: i64 = row.try_get("", "id")?;
            let number: String = row.try_get("", "account_number")?;
            customers.push((user, account, number));
        }
        after = customers.last().map_or(after, |c| c.0);
        // Minting signs with Ed25519: spread over the cores.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = customers.len().div_ceil(threads);
        let minted: Vec<(String, String, api::auth::Seal)> = std::thread::scope(|scope| {
            let handles: Vec<_> = customers
                .chunks(chunk)
                .map(|part| {
                    let keys = &keys;
                    scope.spawn(move || {
                        part.iter()
                            .map(|(user, _, _)| {
                                let mut bytes = [0u8; 16];
                                rand::rngs::OsRng.fill_bytes(&mut bytes);
                                let session = hex::encode(bytes);
                                let (token, seal) = keys
                                    .mint_sealed(UserId(*user), &session, expires_at)
                                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                                Ok((session, token, seal))
                            })
                            .collect::<anyhow::Result<Vec<_>>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .map_err(|_| anyhow::anyhow!("a minting thread panicked"))?
                })
                .collect::<anyhow::Result<Vec<Vec<_>>>>()
                .map(|parts| parts.into_iter().flatten().collect())
        })?;
        // Pipelined in slices: one answer for 50,000 commands can outlast the client's
        // response timeout on a busy machine.
        let pairs: Vec<_> = customers.iter().zip(&minted).collect();
        for slice in pairs.chunks(2_000) {
            let mut pipe = redis::pipe();
            for ((user, _, _), (session, _, seal)) in slice {
                pipe.cmd("SET")
                    .arg(format!("{prefix}{}", keys::session(session)))
                    .arg(user.to_string())
                    .arg("EX")
                    .arg(ttl)
                    .ignore();
                pipe.cmd("SET")
                    .arg(format!("{prefix}{}", seal.key))
                    .arg(&seal.value)
                    .arg("EX")
                    .arg(seal.ttl.as_secs().max(1))
                    .ignore();
            }
            let () = pipe.query_async(&mut redis).await?;
        }
        for ((_, account, number), (_, token, _)) in customers.iter().zip(&minted) {
            let line = format!("{token} {account} {number}");
            anyhow::ensure!(
                line.len() < RECORD,
                "a token line is longer than {RECORD} bytes"
            );
            writeln!(file, "{line:<width$}", width = RECORD - 1)?;
        }
        written += customers.len();
        eprintln!(
            "tokens: {written} customers signed in ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
    }
    file.flush()?;
    println!("{written}");
    Ok(())
}

fn verify_cost(n: usize) -> anyhow::Result<()> {
    let keys = TokenKeys::generate().remembering(0);
    let expires_at = SystemTime::now() + Duration::from_secs(3600);
    let tokens = (0..n)
        .map(|i| keys.mint(UserId(i as i64 + 1), &format!("{i:032x}"), expires_at))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let started = Instant::now();
    for token in &tokens {
        keys.verify(token, api::auth::Operation::Read)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let whole = started.elapsed().as_secs_f64() * 1e6 / n as f64;
    let root = keys.public_key();
    let started = Instant::now();
    for token in &tokens {
        biscuit_auth::Biscuit::from_base64(token, root)?;
    }
    let signature = started.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!(
        "{n} tokens: {whole:.1} µs per check, of which parsing and signatures {signature:.1} µs"
    );
    Ok(())
}
