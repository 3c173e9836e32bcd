//! Configuration, read once at start from the environment into a typed struct.
//! A bad value stops the process with one line naming the variable and what it expects.

use std::net::SocketAddr;
use std::time::Duration;

use banking_common::config::{address, bad, environment_variable, flag, number};
use banking_common::process_settings::ProcessSettings;
use secrecy::{ExposeSecret, SecretString};

// From the module itself, not `auth`'s root, which reads this configuration.
use crate::auth::throttle::ThrottleSettings;
use crate::cache::{CacheSizes, MIB};
use crate::ledger::db::PoolSettings;
use crate::live::LiveSettings;

pub use banking_common::config::{ConfigError, Environment, LogFormat};

/// Where `GET /metrics` is served unless `METRICS_BIND` says otherwise.
pub const DEFAULT_METRICS_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9090);

/// The Redis master's name in the sentinels' configuration unless `REDIS_SENTINEL_MASTER`
/// says otherwise.
pub const DEFAULT_SENTINEL_MASTER: &str = "banking";

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: SecretString,
    /// `None`: the in-process cache (all-in-one). With `redis_sentinels`, only its user,
    /// password and database are used (for the data nodes); its host is not.
    pub redis_url: Option<SecretString>,
    /// Sentinels (`host:port`) that name the Redis master; empty: `redis_url` is the master.
    pub redis_sentinels: Vec<String>,
    /// The master's name in the sentinels' configuration (`sentinel monitor <name> …`).
    pub redis_sentinel_master: String,
    /// Hex Ed25519 private key; `None`: a fresh key per start (development only).
    pub biscuit_private_key: Option<SecretString>,
    pub bind: SocketAddr,
    /// What every process reads alike: environment, logs, traces, server limits, the
    /// metrics listener, trusted proxies.
    pub process: ProcessSettings,
    /// Idle lifetime of a session.
    pub session_ttl: Duration,
    /// Hard lifetime of a token, whatever the session does.
    pub token_ttl: Duration,
    pub graphiql: bool,
    pub introspection: bool,
    /// Origins allowed to call the API from a browser; empty: same origin only.
    pub cors_origins: Vec<String>,
    pub db_pool: PoolSettings,
    pub redis_pool_size: u32,
    /// Put before every Redis key, so several deployments can share one Redis.
    pub redis_key_prefix: String,
    /// Apply pending migrations at start (under an advisory lock on PostgreSQL).
    pub migrate_on_start: bool,
    /// Create the demo users on start (the all-in-one).
    pub seed_demo: bool,
    /// Sign-in throttling: free failures per scope and how long the delays grow.
    pub login_throttle: ThrottleSettings,
    /// Live subscriptions: how many, and the bounds on their WebSocket connections.
    pub live: LiveSettings,
    /// Bounds of the in-process caches (near cache, verified tokens, sessions).
    pub cache_sizes: CacheSizes,
}

impl Config {
    /// The embedded default: SQLite in the working directory, in-process cache.
    pub fn development(database_url: &str) -> Config {
        Config {
            database_url: SecretString::from(database_url.to_owned()),
            redis_url: None,
            redis_sentinels: Vec::new(),
            redis_sentinel_master: DEFAULT_SENTINEL_MASTER.into(),
            biscuit_private_key: None,
            bind: SocketAddr::from(([127, 0, 0, 1], 8000)),
            process: ProcessSettings::development(DEFAULT_METRICS_BIND),
            session_ttl: Duration::from_secs(1800),
            token_ttl: Duration::from_secs(12 * 3600),
            graphiql: true,
            introspection: true,
            cors_origins: Vec::new(),
            db_pool: PoolSettings::default(),
            redis_pool_size: 16,
            redis_key_prefix: "banking:".into(),
            migrate_on_start: true,
            seed_demo: false,
            login_throttle: ThrottleSettings::default(),
            live: LiveSettings::default(),
            cache_sizes: CacheSizes::default(),
        }
    }

    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(environment_variable)
    }

    /// Reads the configuration through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut config = Config::development("sqlite://banking.db?mode=rwc");
        config.process = ProcessSettings::from_lookup(&lookup, DEFAULT_METRICS_BIND)?;
        let production = config.is_production();

        if let Some(url) = lookup("DATABASE_URL") {
            config.database_url =
                SecretString::from(database_url(&url, lookup("DATABASE_PASSWORD"))?);
        } else if production {
            return Err(bad(
                "DATABASE_URL",
                "is required when ENVIRONMENT=production",
            ));
        }
        if let Some(url) = lookup("REDIS_URL") {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(bad("REDIS_URL", "must be a redis:// or rediss:// URL"));
            }
            config.redis_url = Some(SecretString::from(url));
        }
        match lookup("BISCUIT_PRIVATE_KEY") {
            Some(key) => {
                if key.len() != 64 || hex::decode(&key).is_err() {
                    return Err(bad(
                        "BISCUIT_PRIVATE_KEY",
                        "must be 64 hex characters (an Ed25519 private key)",
                    ));
                }
                config.biscuit_private_key = Some(SecretString::from(key));
            }
            None if production => {
                return Err(bad(
                    "BISCUIT_PRIVATE_KEY",
                    "is required when ENVIRONMENT=production",
                ));
            }
            None => {}
        }
        config.bind = address(&lookup, "API_BIND", config.bind)?;
        if let Some(secs) = lookup("SESSION_TTL_SECS") {
            config.session_ttl =
                Duration::from_secs(number("SESSION_TTL_SECS", &secs, 60, 7 * 24 * 3600)?);
        }
        config.graphiql = flag(&lookup, "GRAPHIQL", !production)?;
        config.introspection = flag(&lookup, "INTROSPECTION", !production)?;
        config.cors_origins = lookup("CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().to_owned())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        for origin in &config.cors_origins {
            if origin.parse::<axum::http::HeaderValue>().is_err() || !origin.starts_with("http") {
                return Err(bad(
                    "CORS_ORIGINS",
                    "must be a comma-separated list of origins such as https://bank.example",
                ));
            }
        }
        if let Some(n) = lookup("DATABASE_POOL_SIZE") {
            config.db_pool.max_connections = number("DATABASE_POOL_SIZE", &n, 1, 1000)? as u32;
        }
        // The read pool is part of DATABASE_POOL_SIZE and leaves the writes one at least;
        // 0 reads on the one pool.
        let room = config.db_pool.max_connections - 1;
        config.db_pool.read_connections = match lookup("DATABASE_READ_POOL_SIZE") {
            Some(n) => number("DATABASE_READ_POOL_SIZE", &n, 0, u64::from(room))? as u32,
            None => config.db_pool.read_connections.min(room),
        };
        if let Some(prefix) = lookup("REDIS_KEY_PREFIX") {
            config.redis_key_prefix = prefix;
        }
        if let Some(n) = lookup("REDIS_POOL_SIZE") {
            config.redis_pool_size = number("REDIS_POOL_SIZE", &n, 1, 1000)? as u32;
        }
        config.cache_sizes = cache_sizes(&lookup)?;
        config.migrate_on_start = flag(&lookup, "MIGRATE_ON_START", true)?;
        config.live = LiveSettings::from_lookup(&lookup)?;
        config.seed_demo = flag(&lookup, "SEED_DEMO", false)?;
        if production && config.seed_demo {
            return Err(bad(
                "SEED_DEMO",
                "must not be true when ENVIRONMENT=production",
            ));
        }
        if let Some(password) = lookup("REDIS_PASSWORD") {
            let Some(url) = &config.redis_url else {
                return Err(bad("REDIS_PASSWORD", "needs REDIS_URL"));
            };
            let url = redis_url(url.expose_secret(), &password)?;
            config.redis_url = Some(SecretString::from(url));
        }
        if let Some(list) = lookup("REDIS_SENTINELS") {
            if config.redis_url.is_none() {
                return Err(bad(
                    "REDIS_SENTINELS",
                    "needs REDIS_URL (its user, password and database are used with the nodes the sentinels name)",
                ));
            }
            config.redis_sentinels = sentinels(&list)?;
        }
        if let Some(name) = lookup("REDIS_SENTINEL_MASTER") {
            if config.redis_sentinels.is_empty() {
                return Err(bad("REDIS_SENTINEL_MASTER", "needs REDIS_SENTINELS"));
            }
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if !valid {
                return Err(bad(
                    "REDIS_SENTINEL_MASTER",
                    "must be the master's name in the sentinels' configuration (letters, digits, - _ .)",
                ));
            }
            config.redis_sentinel_master = name;
        }
        Ok(config)
    }

    pub fn is_production(&self) -> bool {
        self.process.is_production()
    }
}

/// The in-process caches' bounds; each variable unset keeps its default.
fn cache_sizes(lookup: &impl Fn(&str) -> Option<String>) -> Result<CacheSizes, ConfigError> {
    let mut sizes = CacheSizes::default();
    if let Some(n) = lookup("NEAR_CACHE_MIB") {
        sizes.near_bytes = number("NEAR_CACHE_MIB", &n, 1, 4096)? * MIB;
    }
    if let Some(n) = lookup("MEMORY_CACHE_MIB") {
        sizes.memory_bytes = number("MEMORY_CACHE_MIB", &n, 1, 4096)? * MIB;
    }
    if let Some(n) = lookup("TOKEN_CACHE_ENTRIES") {
        sizes.token_entries = number("TOKEN_CACHE_ENTRIES", &n, 0, 10_000_000)?;
    }
    if let Some(n) = lookup("SESSION_CACHE_ENTRIES") {
        sizes.session_entries = number("SESSION_CACHE_ENTRIES", &n, 0, 10_000_000)?;
    }
    Ok(sizes)
}

/// `REDIS_SENTINELS`: a comma-separated list of `host:port`, at least one.
fn sentinels(list: &str) -> Result<Vec<String>, ConfigError> {
    let invalid = || {
        bad(
            "REDIS_SENTINELS",
            "must be a comma-separated list of host:port (e.g. redis-sentinel-0:26379,redis-sentinel-1:26379)",
        )
    };
    let mut sentinels = Vec::new();
    for entry in list.split(',').map(str::trim) {
        let (host, port) = entry.rsplit_once(':').ok_or_else(invalid)?;
        let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
            None => {
                !host.is_empty()
                    && host
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            }
        };
        let port_ok = port.parse::<u16>().is_ok_and(|p| p != 0);
        if !host_ok || !port_ok {
            return Err(invalid());
        }
        sentinels.push(entry.to_owned());
    }
    Ok(sentinels)
}

/// The database URL with `DATABASE_PASSWORD` put in, so the URL itself can live in a
/// ConfigMap and only the password in a Secret.
fn database_url(url: &str, password: Option<String>) -> Result<String, ConfigError> {
    let scheme_ok = ["postgres://", "postgresql://", "sqlite:"]
        .iter()
        .any(|s| url.starts_with(s));
    if !scheme_ok {
        return Err(bad("DATABASE_URL", "must be a postgres:// or sqlite: URL"));
    }
    let Some(password) = password else {
        return Ok(url.to_owned());
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(bad("DATABASE_PASSWORD", "needs a postgres:// DATABASE_URL"));
    };
    let Some((user, host)) = rest.split_once('@') else {
        return Err(bad(
            "DATABASE_URL",
            "must name a user (postgres://user@host/db) when DATABASE_PASSWORD is set",
        ));
    };
    if user.contains(':') {
        return Err(bad(
            "DATABASE_URL",
            "must not contain a password when DATABASE_PASSWORD is set",
        ));
    }
    let encoded = percent_encoded(&password);
    Ok(format!("{scheme}://{user}:{encoded}@{host}"))
}

/// A password as it may stand in a URL's user information.
fn percent_encoded(password: &str) -> String {
    password
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `REDIS_URL` with `REDIS_PASSWORD` put in (`redis://[user]:password@host…`), so the URL can
/// live in a ConfigMap and only the password in a Secret.
fn redis_url(url: &str, password: &str) -> Result<String, ConfigError> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(bad("REDIS_URL", "must be a redis:// or rediss:// URL"));
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, _)) if user.contains(':') => {
            return Err(bad(
                "REDIS_URL",
                "must not contain a password when REDIS_PASSWORD is set",
            ));
        }
        Some((user, host)) => (user, host),
        None => ("", authority),
    };
    let encoded = percent_encoded(password);
    Ok(format!("{scheme}://{user}:{encoded}@{host}{path}"))
}

impl Config {
    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use banking_common::config::lookup_in;
    use banking_common::server::ServerLimits;

    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_lookup(lookup_in(vars))
    }

    #[test]
    fn defaults_are_the_embedded_mode() {
        let config = from(&[]).expect("defaults");
        assert!(config.database_url().starts_with("sqlite:"));
        assert!(config.redis_url.is_none());
        assert_eq!(config.session_ttl, Duration::from_secs(1800));
        assert!(!config.is_production());
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (var, value) in [
            ("ENVIRONMENT", "staging"),
            ("DATABASE_URL", "mysql://x"),
            ("REDIS_URL", "localhost:6379"),
            ("BISCUIT_PRIVATE_KEY", "abc"),
            ("API_BIND", "everywhere"),
            ("LOG_FORMAT", "xml"),
            ("SESSION_TTL_SECS", "-5"),
            ("GRAPHIQL", "maybe"),
            ("CORS_ORIGINS", "not an origin"),
            ("TRUSTED_PROXIES", "10.0.0.0/8,everyone"),
            ("REDIS_SENTINELS", "sentinel:26379"),
            ("REDIS_SENTINEL_MASTER", "banking"),
            ("NEAR_CACHE_MIB", "0"),
            ("MEMORY_CACHE_MIB", "lots"),
            ("TOKEN_CACHE_ENTRIES", "-1"),
            ("SESSION_CACHE_ENTRIES", "1e6"),
            ("DATABASE_READ_POOL_SIZE", "-1"),
            ("DATABASE_READ_POOL_SIZE", "16"),
        ] {
            let err = from(&[(var, value)]).expect_err(var);
            assert_eq!(err.var, var);
            assert!(err.to_string().contains(var));
        }
    }

    #[test]
    fn the_read_pool_is_four_of_the_sixteen_and_leaves_the_writes_one() {
        let config = from(&[]).expect("defaults");
        assert_eq!(
            (
                config.db_pool.max_connections,
                config.db_pool.read_connections
            ),
            (16, 4)
        );
        let config = from(&[("DATABASE_POOL_SIZE", "3")]).expect("a small pool");
        assert_eq!(config.db_pool.read_connections, 2);
        let config = from(&[("DATABASE_POOL_SIZE", "1")]).expect("one connection");
        assert_eq!(config.db_pool.read_connections, 0, "reads share it");
        let config = from(&[("DATABASE_READ_POOL_SIZE", "0")]).expect("no read pool");
        assert_eq!(config.db_pool.read_connections, 0);
        let config = from(&[
            ("DATABASE_POOL_SIZE", "40"),
            ("DATABASE_READ_POOL_SIZE", "39"),
        ])
        .expect("all but one");
        assert_eq!(config.db_pool.read_connections, 39);
        for (size, reads) in [("8", "8"), ("8", "9"), ("1", "1")] {
            let err = from(&[
                ("DATABASE_POOL_SIZE", size),
                ("DATABASE_READ_POOL_SIZE", reads),
            ])
            .expect_err("no room for writes");
            assert_eq!(err.var, "DATABASE_READ_POOL_SIZE");
        }
    }

    #[test]
    fn cache_sizes_default_and_are_read() {
        let config = from(&[]).expect("defaults");
        assert_eq!(config.cache_sizes, CacheSizes::default());
        assert_eq!(config.cache_sizes.near_bytes, 16 * MIB);
        let config = from(&[
            ("NEAR_CACHE_MIB", "64"),
            ("MEMORY_CACHE_MIB", "8"),
            ("TOKEN_CACHE_ENTRIES", "500"),
            ("SESSION_CACHE_ENTRIES", "0"),
        ])
        .expect("sizes");
        assert_eq!(
            config.cache_sizes,
            CacheSizes {
                near_bytes: 64 * MIB,
                memory_bytes: 8 * MIB,
                token_entries: 500,
                session_entries: 0,
            }
        );
    }

    #[test]
    fn production_refuses_a_generated_key_and_puts_the_password_in() {
        let err = from(&[
            ("ENVIRONMENT", "production"),
            ("DATABASE_URL", "postgres://u@db/x"),
        ])
        .expect_err("no key");
        assert_eq!(err.var, "BISCUIT_PRIVATE_KEY");
        let config = from(&[
            ("ENVIRONMENT", "production"),
            (
                "DATABASE_URL",
                "postgres://banking@postgres:5432/banking_db",
            ),
            ("DATABASE_PASSWORD", "p@ss word"),
            ("BISCUIT_PRIVATE_KEY", &"ab".repeat(32)),
        ])
        .expect("production");
        assert_eq!(
            config.database_url(),
            "postgres://banking:p%40ss%20word@postgres:5432/banking_db"
        );
        assert_eq!(config.process.log_format, LogFormat::Json);
        assert!(!config.introspection && !config.graphiql);
    }

    #[test]
    fn server_limits_and_metrics_bind_are_read() {
        let config = from(&[]).expect("defaults");
        assert_eq!(config.process.server, ServerLimits::default());
        assert_eq!(config.process.metrics_bind.to_string(), "127.0.0.1:9090");
        let config = from(&[
            ("HEADER_TIMEOUT_SECS", "2"),
            ("IDLE_TIMEOUT_SECS", "7"),
            ("METRICS_BIND", "0.0.0.0:9100"),
        ])
        .expect("valid");
        assert_eq!(config.process.server.header_timeout, Duration::from_secs(2));
        assert_eq!(config.process.server.idle_timeout, Duration::from_secs(7));
        assert_eq!(config.process.metrics_bind.port(), 9100);
        for (var, value) in [
            ("HEADER_TIMEOUT_SECS", "0"),
            ("BODY_TIMEOUT_SECS", "x"),
            ("REQUEST_TIMEOUT_SECS", "1.5"),
            ("IDLE_TIMEOUT_SECS", ""),
            ("MAX_CONNECTIONS", "-3"),
            ("METRICS_BIND", "9090"),
        ] {
            let err = from(&[(var, value)]).expect_err(var);
            assert_eq!(err.var, var);
        }
    }

    #[test]
    fn redis_password_is_merged_percent_encoded() {
        let with = |url: &str, password: &str| {
            from(&[("REDIS_URL", url), ("REDIS_PASSWORD", password)]).map(|c| {
                c.redis_url
                    .map(|u| u.expose_secret().to_owned())
                    .unwrap_or_default()
            })
        };
        assert_eq!(
            with("redis://redis:6379", "p@ss/w:rd").expect("merged"),
            "redis://:p%40ss%2Fw%3Ard@redis:6379"
        );
        assert_eq!(
            with("rediss://banking@redis:6380/2?protocol=resp3", "s3cret").expect("merged"),
            "rediss://banking:s3cret@redis:6380/2?protocol=resp3"
        );
        for url in ["redis://:old@redis:6379", "redis://user:old@redis:6379/0"] {
            let err = with(url, "new").expect_err(url);
            assert_eq!(err.var, "REDIS_URL");
        }
        let err = from(&[("REDIS_PASSWORD", "orphan")]).expect_err("no REDIS_URL");
        assert_eq!(err.var, "REDIS_PASSWORD");
        // Without a password the URL is kept as given.
        let config = from(&[("REDIS_URL", "redis://redis:6379/0")]).expect("plain");
        assert_eq!(
            config.redis_url.map(|u| u.expose_secret().to_owned()),
            Some("redis://redis:6379/0".to_owned())
        );
    }

    #[test]
    fn sentinels_are_read_and_bad_ones_name_their_variable() {
        let with = |vars: &[(&str, &str)]| {
            let mut all = vec![("REDIS_URL", "redis://banking@unused:6379/2")];
            all.extend_from_slice(vars);
            from(&all)
        };
        let config = with(&[]).expect("no sentinels");
        assert!(config.redis_sentinels.is_empty());
        assert_eq!(config.redis_sentinel_master, "banking");
        let config = with(&[
            (
                "REDIS_SENTINELS",
                "redis-sentinel-0:26379, 10.0.0.7:26380,[::1]:26381",
            ),
            ("REDIS_SENTINEL_MASTER", "bank-cache"),
            ("REDIS_PASSWORD", "s3cret"),
        ])
        .expect("sentinels");
        assert_eq!(
            config.redis_sentinels,
            ["redis-sentinel-0:26379", "10.0.0.7:26380", "[::1]:26381"]
        );
        assert_eq!(config.redis_sentinel_master, "bank-cache");
        // The password still goes into REDIS_URL, whose user, password and database the
        // data nodes get.
        assert_eq!(
            config.redis_url.map(|u| u.expose_secret().to_owned()),
            Some("redis://banking:s3cret@unused:6379/2".to_owned())
        );
        for bad_list in [
            "",
            "sentinel",
            "sentinel:",
            "sentinel:0",
            "sentinel:99999",
            "a:26379,,b:26379",
            "redis://sentinel:26379",
            "user@sentinel:26379",
            "[not-v6]:26379",
        ] {
            let err = with(&[("REDIS_SENTINELS", bad_list)]).expect_err(bad_list);
            assert_eq!(err.var, "REDIS_SENTINELS", "{bad_list:?}");
        }
        for bad_name in ["", "two words", "bank$"] {
            let err = with(&[
                ("REDIS_SENTINELS", "sentinel:26379"),
                ("REDIS_SENTINEL_MASTER", bad_name),
            ])
            .expect_err(bad_name);
            assert_eq!(err.var, "REDIS_SENTINEL_MASTER", "{bad_name:?}");
        }
        let err = with(&[("REDIS_SENTINEL_MASTER", "banking")]).expect_err("no sentinels");
        assert_eq!(err.var, "REDIS_SENTINEL_MASTER");
    }
}
